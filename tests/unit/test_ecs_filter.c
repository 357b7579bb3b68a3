/*
 * Unit tests of the ECS cluster query language subset: which filters compile,
 * which instances they match, and where and why bad filters are rejected.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/ecs_filter.h"
#include "qscale/xalloc.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The instances the match table refers to by index. */
static const struct ecs_filter_attribute dc1_linux_attrs[] = {
	{"site", "dc1"},
	{"ecs.os-type", "linux"},
	{"ecs.capability.external", NULL},
};
static const struct ecs_filter_attribute dc2_attrs[] = {
	{"site", "dc2"},
	{"ecs.os-type", "linux"},
};
static const struct ecs_filter_attribute windows_attrs[] = {
	{"ecs.os-type", "windows"},
	{"site", NULL},
};

static const struct ecs_filter_instance instances[] = {
	/* 0: on-prem dc1 linux, connected */
	{dc1_linux_attrs, N(dc1_linux_attrs), true, "mi-0123"},
	/* 1: dc2, disconnected */
	{dc2_attrs, N(dc2_attrs), false, "mi-0456"},
	/* 2: windows, flag attribute 'site' without value, no instance id */
	{windows_attrs, N(windows_attrs), true, NULL},
	/* 3: no attributes at all */
	{NULL, 0, true, "i-0abc"},
};

#define N_INSTANCES N(instances)

/* A filter and, per instance above, whether it matches ('1') or not ('0'). */
static const struct {
	const char *text;
	const char *matches;
} good[] = {
	{"attribute:site == dc1", "1000"},
	{"attribute:site==dc1", "1000"},
	{"attribute:site equals dc1", "1000"},
	{"attribute:site == \"dc1\"", "1000"},
	{"attribute:site == 'dc1'", "1000"},
	{"attribute:site != dc1", "0111"},
	{"attribute:site exists", "1110"},
	{"attribute:site !exists", "0001"},
	{"attribute:ecs.capability.external exists", "1000"},
	{"attribute:ecs.os-type == linux", "1100"},
	{"attribute:site in [dc1, dc2]", "1100"},
	{"attribute:site in [\"dc2\",'dc9']", "0100"},
	{"attribute:site in [dc1]", "1000"},
	{"agentConnected == true", "1011"},
	{"agentConnected == false", "0100"},
	{"agentConnected == \"true\"", "1011"},
	{"ec2InstanceId == mi-0456", "0100"},
	{"ec2InstanceId in [mi-0123, i-0abc]", "1001"},
	{"attribute:ecs.os-type == linux and agentConnected == true", "1000"},
	{"attribute:ecs.os-type == linux && attribute:site != dc1", "0100"},
	{"attribute:ecs.os-type==linux&&agentConnected==true", "1000"},
	{"  attribute:site exists\tand agentConnected == true  ", "1010"},
	{"attribute:a/b\\c_d-e.f !exists", "1111"},
	{"attribute:site == \"d c 1\"", "0000"},
	{"attribute:site == dc1 and attribute:site == dc2", "0000"},
};

/* Each good filter compiles and matches exactly the instances its row says. */
static void test_good_filters(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(good); i++) {
		struct ecs_filter *f = NULL;
		struct ecs_filter_error err = {0};
		int r = ecs_filter_parse(good[i].text, &f, &err);

		if (r != 0)
			fail_msg("'%s' rejected: %u: %s", good[i].text, err.column, err.message);
		assert_non_null(f);
		assert_string_equal(ecs_filter_text(f), good[i].text);
		assert_int_equal(strlen(good[i].matches), N_INSTANCES);
		for (size_t k = 0; k < N_INSTANCES; k++) {
			bool want = good[i].matches[k] == '1';

			if (ecs_filter_match(f, &instances[k]) != want)
				fail_msg("'%s' on instance %zu: want %d", good[i].text, k, want);
		}
		ecs_filter_destroy(f);
	}
}

/* A rejected filter, the 1-based column and a fragment of the message. */
static const struct {
	const char *text;
	unsigned column;
	const char *fragment;
} bad[] = {
	{"", 1, "empty filter"},
	{"   ", 4, "empty filter"},
	{"attribute:site", 15, "expected an operator"},
	{"attribute:site ==", 18, "expected a value, found the end"},
	{"attribute:site == dc1 or attribute:site == dc2", 23, "'or' is not supported"},
	{"attribute:site == dc1 || agentConnected == true", 23, "'||' (or) is not supported"},
	{"(attribute:site == dc1)", 1, "parentheses"},
	{"attribute:site == dc1 and", 26, "expected a term after 'and'"},
	{"attribute:site == dc1 &&", 25, "expected a term after 'and'"},
	{"attribute:site == dc1 agentConnected == true", 23, "expected 'and', '&&'"},
	{"attribute:site = dc1", 16, "did you mean '=='"},
	{"attribute:site =~ dc.*", 16, "'=~' is not supported"},
	{"attribute:site !~ dc.*", 16, "'!~' is not supported"},
	{"attribute:site !in [dc1]", 16, "'!in' is not supported"},
	{"attribute:site in dc1", 19, "expected '[' starting a list"},
	{"attribute:site in []", 20, "empty list"},
	{"attribute:site in [dc1", 23, "expected ',' or ']'"},
	{"attribute:site in [dc1,]", 24, "expected a value, found ']'"},
	{"attribute:site in [dc1 dc2]", 24, "expected ',' or ']'"},
	{"attribute: == dc1", 11, "empty attribute name"},
	{"attribute:si*te exists", 13, "'*' is not allowed"},
	{"attribute:site == \"dc1", 19, "unterminated quoted value"},
	{"attribute:site == ''", 19, "empty value"},
	{"attribute:site > 3", 16, "comparison operators"},
	{"runningTasksCount > 3", 1, "subject 'runningTasksCount' is not supported"},
	{"agentVersion == 1.0", 1, "subject 'agentVersion' is not supported"},
	{"task:group == service:x", 1, "subject 'task:group' is not supported"},
	{"not attribute:site exists", 1, "negation"},
	{"!agentConnected == true", 1, "negation"},
	{"hostname == x", 1, "unknown subject 'hostname'"},
	{"== dc1", 1, "expected a subject"},
	{"agentConnected == yes", 19, "only with true or false"},
	{"agentConnected != true", 16, "only '== true' or '== false'"},
	{"agentConnected exists", 16, "only '== true' or '== false'"},
	{"ec2InstanceId != i-1", 15, "supports only '==' and 'in'"},
	{"ec2InstanceId exists", 15, "supports only '==' and 'in'"},
	{"attribute:site exists dc1", 23, "expected 'and'"},
	{"attribute:site == dc1 & agentConnected == true", 23, "did you mean '&&'"},
	{"attribute:site == d\x01", 20, "unexpected byte 0x01"},
	{"attribute:site == \"d\xc3\xa9\"", 21, "unexpected byte 0xc3"},
	{"attribute:site == dc1 ; x", 23, "expected 'and'"},
	{"attribute:site == dc1 and or", 27, "unknown subject 'or'"},
};

/* Each bad filter is refused at its column with its message; nothing written. */
static void test_bad_filters(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(bad); i++) {
		struct ecs_filter *f = (struct ecs_filter *)0x1;
		struct ecs_filter_error err = {0};
		int r = ecs_filter_parse(bad[i].text, &f, &err);

		if (r != -EINVAL)
			fail_msg("'%s' accepted or wrong error %d", bad[i].text, r);
		/* The output is written only on success. */
		assert_ptr_equal(f, (struct ecs_filter *)0x1);
		if (err.column != bad[i].column || strstr(err.message, bad[i].fragment) == NULL)
			fail_msg("'%s': got %u: %s; want %u: ...%s...", bad[i].text, err.column,
				err.message, bad[i].column, bad[i].fragment);
	}
}

/* Text past ECS_FILTER_MAX_TEXT is refused; text at the limit is not. */
static void test_too_long(void **state)
{
	(void)state;
	char *text = xmalloc(ECS_FILTER_MAX_TEXT + 2);
	struct ecs_filter *f = NULL;
	struct ecs_filter_error err = {0};

	memset(text, 'a', ECS_FILTER_MAX_TEXT + 1);
	text[ECS_FILTER_MAX_TEXT + 1] = '\0';
	assert_int_equal(ecs_filter_parse(text, &f, &err), -E2BIG);
	assert_null(f);
	assert_non_null(strstr(err.message, "longer than"));

	/* Exactly at the limit, a long attribute list still parses. */
	static const char head[] = "attribute:x in [";
	size_t pos = 0;

	memcpy(text, head, sizeof(head) - 1);
	pos = sizeof(head) - 1;
	while (pos + 3 < ECS_FILTER_MAX_TEXT) {
		text[pos++] = 'v';
		text[pos++] = ',';
	}
	text[pos++] = 'v';
	text[pos++] = ']';
	text[pos] = '\0';
	assert_int_equal(ecs_filter_parse(text, &f, &err), 0);
	ecs_filter_destroy(f);
	free(text);
}

/* The error report is optional; destroy accepts NULL. */
static void test_error_may_be_null(void **state)
{
	(void)state;
	struct ecs_filter *f = NULL;

	assert_int_equal(ecs_filter_parse("bogus", &f, NULL), -EINVAL);
	assert_null(f);
	ecs_filter_destroy(NULL);
}

/* Attribute names up to ECS's 128 characters. */
static void test_attribute_name_limit(void **state)
{
	(void)state;
	char text[200];
	struct ecs_filter *f = NULL;
	struct ecs_filter_error err = {0};

	snprintf(text, sizeof(text), "attribute:%0128d exists", 0);
	assert_int_equal(ecs_filter_parse(text, &f, &err), 0);
	ecs_filter_destroy(f);
	snprintf(text, sizeof(text), "attribute:%0129d exists", 0);
	assert_int_equal(ecs_filter_parse(text, &f, &err), -EINVAL);
	assert_int_equal(err.column, 11);
	assert_non_null(strstr(err.message, "longer than 128"));
}

/* The cases, run as TAP. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_filters),
		cmocka_unit_test(test_bad_filters),
		cmocka_unit_test(test_too_long),
		cmocka_unit_test(test_error_may_be_null),
		cmocka_unit_test(test_attribute_name_limit),
	};

	return cmocka_run_group_tests_name("ecs_filter", tests, NULL, NULL);
}
