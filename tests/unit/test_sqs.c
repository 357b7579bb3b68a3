/*
 * Unit tests of the SQS GetQueueAttributes builder and parser (fixtures from
 * tests/data/aws, hostile bodies built here) and of the queue-URL helpers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/sqs.h"
#include "qscale/xalloc.h"
#include "aws_fixture.h"

#define ABSENT (-1)

static const struct {
	const char *fixture;
	int err;
	int64_t visible, in_flight, delayed; /* ABSENT: the flag must be false */
	const char *message; /* a part of the diagnostic when err < 0 */
} count_cases[] = {
	{"sqs-counts.json", 0, 1240, 37, 0, NULL},
	{"sqs-counts-partial.json", 0, 5, ABSENT, ABSENT, NULL},
	{"sqs-counts-empty.json", 0, ABSENT, ABSENT, ABSENT, NULL},
	{"sqs-counts-numbers.json", -EPROTO, 0, 0, 0, "not a string"},
	{"sqs-counts-negative.json", -EPROTO, 0, 0, 0, "non-negative"},
	{"sqs-counts-junk.json", -EPROTO, 0, 0, 0, "12abc"},
	{"sqs-counts-overflow.json", -EPROTO, 0, 0, 0, "NotVisible"},
	{"sqs-counts-attributes-array.json", -EPROTO, 0, 0, 0, "not an object"},
	{"sqs-counts-truncated.json", -EPROTO, 0, 0, 0, "malformed JSON"},
	{"sqs-error-queue-missing.json", -EPROTO, 0, 0, 0, "QueueDoesNotExist"},
	{"sqs-error-throttled.json", -EPROTO, 0, 0, 0, "RequestThrottled"},
	{"sqs-error-access-denied.json", -EPROTO, 0, 0, 0, "AccessDeniedException"},
	{"sqs-error-signature.json", -EPROTO, 0, 0, 0, "InvalidSignatureException"},
	{"sqs-error-expired-token.json", -EPROTO, 0, 0, 0, "ExpiredTokenException"},
	{"sqs-error-query-xml.json", -EPROTO, 0, 0, 0, "malformed JSON"},
	{"ecs-error-server.json", -EPROTO, 0, 0, 0, "ServerException"},
	/* __type null counts as absent; the body has no Attributes. */
	{"ecs-error-no-type-field.json", 0, ABSENT, ABSENT, ABSENT, NULL},
	{"ecs-describe-services.json", 0, ABSENT, ABSENT, ABSENT, NULL},
};

/* Check one count against its expectation. */
static void check_count(int64_t want, int64_t got, bool have)
{
	if (want == ABSENT) {
		assert_false(have);
	} else {
		assert_true(have);
		assert_int_equal(got, want);
	}
}

static void test_counts_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(count_cases) / sizeof(count_cases[0]); i++) {
		size_t len;
		char *body = fixture_load(count_cases[i].fixture, &len);
		struct sqs_queue_counts c;
		struct aws_error diag = {0};

		memset(&c, 0x5a, sizeof(c));
		int r = sqs_queue_counts_parse(body, len, &c, &diag);

		print_message("# %s -> %d %s\n", count_cases[i].fixture, r, diag.message);
		assert_int_equal(r, count_cases[i].err);
		if (r == 0) {
			check_count(count_cases[i].visible, c.visible, c.have_visible);
			check_count(count_cases[i].in_flight, c.in_flight, c.have_in_flight);
			check_count(count_cases[i].delayed, c.delayed, c.have_delayed);
		} else {
			assert_int_equal(diag.err, -EPROTO);
			assert_false(diag.retryable);
			assert_non_null(strstr(diag.message, count_cases[i].message));
			/* Outputs are written only on success. */
			assert_int_equal(c.visible, 0x5a5a5a5a5a5a5a5a);
		}
		free(body);
	}
}

static void test_counts_hostile(void **state)
{
	size_t len;
	char *body;
	struct sqs_queue_counts c;
	struct aws_error diag;

	(void)state;
	/* Deep nesting stops before yajl sees it. */
	body = fixture_deep(100000, &len);
	assert_int_equal(sqs_queue_counts_parse(body, len, &c, &diag), -EPROTO);
	assert_non_null(strstr(diag.message, "nests deeper"));
	free(body);
	/* Nesting within the cap parses (the extra key is ignored). */
	body = fixture_deep(20, &len);
	assert_int_equal(sqs_queue_counts_parse(body, len, &c, &diag), 0);
	free(body);
	/* Past the size cap (4 bytes per item). */
	body = fixture_huge_array("Attributes", 9u << 18, &len);
	assert_int_equal(sqs_queue_counts_parse(body, len, &c, &diag), -EPROTO);
	assert_non_null(strstr(diag.message, "exceeds the cap"));
	free(body);
	/* Within the size cap but too wide: stopped before the tree is built. */
	body = fixture_huge_array("Attributes", 5001, &len);
	assert_int_equal(sqs_queue_counts_parse(body, len, &c, &diag), -EPROTO);
	assert_non_null(strstr(diag.message, "more than 5000 items"));
	free(body);
	body = fixture_huge_array("Attributes", 5000, &len);
	assert_int_equal(sqs_queue_counts_parse(body, len, &c, &diag), -EPROTO);
	assert_non_null(strstr(diag.message, "not an object"));
	free(body);
	/* Empty, NUL inside, non-object top level, trailing junk, bad UTF-8. */
	assert_int_equal(sqs_queue_counts_parse("", 0, &c, &diag), -EPROTO);
	assert_int_equal(sqs_queue_counts_parse(NULL, 0, &c, NULL), -EPROTO);
	assert_int_equal(sqs_queue_counts_parse("{}\0{}", 5, &c, &diag), -EPROTO);
	assert_non_null(strstr(diag.message, "NUL"));
	assert_int_equal(sqs_queue_counts_parse("[]", 2, &c, &diag), -EPROTO);
	assert_int_equal(sqs_queue_counts_parse("\"x\"", 3, &c, &diag), -EPROTO);
	assert_int_equal(sqs_queue_counts_parse("{} {}", 5, &c, &diag), -EPROTO);
	assert_int_equal(sqs_queue_counts_parse("{\"a\":\"\xff\"}", 8, &c, &diag), -EPROTO);
	/* A brace inside a string does not count as nesting. */
	const char *quoted = "{\"Attributes\":{\"ApproximateNumberOfMessages\":\"7\","
			     "\"Policy\":\"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[\\\"\"}}";
	assert_int_equal(sqs_queue_counts_parse(quoted, strlen(quoted), &c, &diag), 0);
	assert_int_equal(c.visible, 7);
	/* Decimal strings: no blanks, signs, exponents or empties. */
	static const char *const bad_values[] = {" 7", "+7", "7 ", "7e2", "", "0x10", "7.0"};

	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++) {
		char *b = xasprintf(
			"{\"Attributes\":{\"ApproximateNumberOfMessagesDelayed\":\"%s\"}}",
			bad_values[i]);

		assert_int_equal(sqs_queue_counts_parse(b, strlen(b), &c, &diag), -EPROTO);
		free(b);
	}
}

static void test_counts_request(void **state)
{
	char *body;
	size_t len;

	(void)state;
	assert_int_equal(
		sqs_queue_counts_request(
			"https://sqs.eu-west-1.amazonaws.com/123456789012/orders", &body, &len),
		0);
	assert_string_equal(body,
		"{\"QueueUrl\":\"https://sqs.eu-west-1.amazonaws.com/123456789012/orders\","
		"\"AttributeNames\":[\"ApproximateNumberOfMessages\","
		"\"ApproximateNumberOfMessagesNotVisible\",\"ApproximateNumberOfMessagesDelayed\"]"
		"}");
	assert_int_equal(len, strlen(body));
	free(body);
	/* Quotes are escaped. */
	assert_int_equal(sqs_queue_counts_request("q\"u", &body, &len), 0);
	assert_string_equal(body,
		"{\"QueueUrl\":\"q\\\"u\",\"AttributeNames\":["
		"\"ApproximateNumberOfMessages\",\"ApproximateNumberOfMessagesNotVisible\","
		"\"ApproximateNumberOfMessagesDelayed\"]}");
	free(body);
	/* Every other printable byte is written as it is, as yajl writes it. */
	assert_int_equal(
		sqs_queue_counts_request(" !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~", &body, &len), 0);
	assert_string_equal(body,
		"{\"QueueUrl\":\" !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~\",\"AttributeNames\":["
		"\"ApproximateNumberOfMessages\",\"ApproximateNumberOfMessagesNotVisible\","
		"\"ApproximateNumberOfMessagesDelayed\"]}");
	assert_int_equal(len, strlen(body));
	free(body);
	/* A backslash, a control byte and UTF-8 take yajl's escapes. */
	assert_int_equal(sqs_queue_counts_request("a\\b\tc\xc3\xa9", &body, &len), 0);
	assert_string_equal(body,
		"{\"QueueUrl\":\"a\\\\b\\tc\xc3\xa9\",\"AttributeNames\":["
		"\"ApproximateNumberOfMessages\",\"ApproximateNumberOfMessagesNotVisible\","
		"\"ApproximateNumberOfMessagesDelayed\"]}");
	free(body);
	assert_int_equal(sqs_queue_counts_request(NULL, &body, &len), -EINVAL);
	assert_int_equal(sqs_queue_counts_request("", &body, &len), -EINVAL);
	assert_int_equal(sqs_queue_counts_request("bad\xc3", &body, &len), -EINVAL);
}

static const struct {
	const char *url;
	int err;
	const char *region;
	const char *endpoint; /* NULL: sqs_queue_url_endpoint gives -ENOENT (or -EINVAL) */
} url_cases[] = {
	{"https://sqs.eu-west-1.amazonaws.com/123456789012/orders", 0, "eu-west-1", NULL},
	{"https://SQS.US-EAST-2.AMAZONAWS.COM/123456789012/orders", 0, "us-east-2", NULL},
	{"https://sqs.us-east-1.amazonaws.com", 0, "us-east-1", NULL},
	{"https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", 0, "cn-north-1", NULL},
	{"https://sqs.us-west-2.api.aws/123456789012/q", 0, "us-west-2", NULL},
	{"https://sqs-fips.us-east-1.amazonaws.com/123456789012/q", 0, "us-east-1",
		"https://sqs-fips.us-east-1.amazonaws.com"},
	{"https://sqs.us-gov-west-1.amazonaws.com/123456789012/q", 0, "us-gov-west-1", NULL},
	{"https://eu-west-1.queue.amazonaws.com/123456789012/q", 0, "eu-west-1",
		"https://eu-west-1.queue.amazonaws.com"},
	{"https://queue.amazonaws.com/123456789012/q", 0, "us-east-1",
		"https://queue.amazonaws.com"},
	{"https://vpce-0a1b2c3d4e5f-abcdefgh.sqs.eu-central-1.vpce.amazonaws.com/123456789012/q", 0,
		"eu-central-1",
		"https://vpce-0a1b2c3d4e5f-abcdefgh.sqs.eu-central-1.vpce.amazonaws.com"},
	{"https://sqs.eu-west-1.amazonaws.com:443/123456789012/q", 0, "eu-west-1", NULL},
	{"https://sqs-fips.us-east-1.amazonaws.com:8443?x", 0, "us-east-1",
		"https://sqs-fips.us-east-1.amazonaws.com:8443"},
	{"http://127.0.0.1:4566/000000000000/orders", -ENOENT, NULL, NULL},
	{"http://localhost:9324/queue/orders", -ENOENT, NULL, NULL},
	{"http://[::1]:9324/queue/orders", -ENOENT, NULL, NULL},
	{"https://sqs.amazonaws.com/1/q", -ENOENT, NULL, NULL},
	{"https://sqs.eu-west-1.example.com/1/q", -ENOENT, NULL, NULL},
	{"https://sqs.eu_west-1.amazonaws.com/1/q", -ENOENT, NULL, NULL},
	{"https://sqs.euwest.amazonaws.com/1/q", -ENOENT, NULL, NULL},
	{"https://sqs.eu-west-1.amazonaws.com.evil.example/1/q", -ENOENT, NULL, NULL},
	{"https://evil.sqs.eu-west-1.amazonaws.com/1/q", -ENOENT, NULL, NULL},
	{"https://vpce-1.sqs.eu-west-1.amazonaws.com/1/q", -ENOENT, NULL, NULL},
	{"https://vpce-1.sqs.eu-west-1.vpce.example.com/1/q", -ENOENT, NULL, NULL},
	{"https://queue.amazonaws.com.evil/1/q", -ENOENT, NULL, NULL},
	{"https://a.b.queue.amazonaws.com/1/q", -ENOENT, NULL, NULL},
	{"ftp://sqs.eu-west-1.amazonaws.com/1/q", -EINVAL, NULL, NULL},
	{"sqs.eu-west-1.amazonaws.com/1/q", -EINVAL, NULL, NULL},
	{"https:///1/q", -EINVAL, NULL, NULL},
	{"https://user@sqs.eu-west-1.amazonaws.com/1/q", -EINVAL, NULL, NULL},
	{"https://sqs.eu-west-1.amaz onaws.com/1/q", -EINVAL, NULL, NULL},
	{"", -EINVAL, NULL, NULL},
	{NULL, -EINVAL, NULL, NULL},
};

static void test_queue_url(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(url_cases) / sizeof(url_cases[0]); i++) {
		char region[SQS_REGION_MAX + 1] = "unchanged";
		char *endpoint = NULL;
		int r = sqs_queue_url_region(url_cases[i].url, region);

		print_message("# %s -> %d %s\n", url_cases[i].url ? url_cases[i].url : "(null)", r,
			region);
		assert_int_equal(r, url_cases[i].err);
		if (r == 0)
			assert_string_equal(region, url_cases[i].region);
		else
			assert_string_equal(region, "unchanged");
		r = sqs_queue_url_endpoint(url_cases[i].url, &endpoint);
		if (url_cases[i].endpoint != NULL) {
			assert_int_equal(r, 0);
			assert_string_equal(endpoint, url_cases[i].endpoint);
			free(endpoint);
		} else {
			assert_int_equal(r, url_cases[i].err == -EINVAL ? -EINVAL : -ENOENT);
			assert_null(endpoint);
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counts_fixtures),
		cmocka_unit_test(test_counts_hostile),
		cmocka_unit_test(test_counts_request),
		cmocka_unit_test(test_queue_url),
	};

	return cmocka_run_group_tests_name("sqs", tests, NULL, NULL);
}
