/*
 * Unit tests of region and endpoint resolution (configuration, environment,
 * config-file profile, defaults, partitions, FIPS and dual-stack names, the
 * ignore switch in the environment and the profile), endpoint
 * URL checks, and the HTTP-date parser the clock-skew logic uses.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/aws_endpoint.h"
#include "qscale/http.h"

/* A fake environment: a NULL-terminated list of name, value pairs. */
static const char *fake_env(const char *name, void *ctx)
{
	const char *const *kv = ctx;

	for (size_t i = 0; kv[i] != NULL; i += 2)
		if (strcmp(kv[i], name) == 0)
			return kv[i + 1];
	return NULL;
}

static void test_region(void **state)
{
	char region[AWS_REGION_MAX];
	const char *both[] = {"AWS_REGION", "eu-west-1", "AWS_DEFAULT_REGION", "us-west-2", NULL};
	const char *dflt[] = {"AWS_DEFAULT_REGION", "us-west-2", NULL};
	const char *empty_region[] = {"AWS_REGION", "", "AWS_DEFAULT_REGION", "ap-south-1", NULL};
	const char *bad[] = {"AWS_REGION", "EU West", NULL};
	const char *none[] = {NULL};

	(void)state;
	assert_int_equal(aws_region_resolve("us-east-1", fake_env, both, "x-1", region), 0);
	assert_string_equal(region, "us-east-1");
	assert_int_equal(aws_region_resolve(NULL, fake_env, both, "x-1", region), 0);
	assert_string_equal(region, "eu-west-1");
	assert_int_equal(aws_region_resolve("", fake_env, dflt, "x-1", region), 0);
	assert_string_equal(region, "us-west-2");
	assert_int_equal(aws_region_resolve(NULL, fake_env, empty_region, NULL, region), 0);
	assert_string_equal(region, "ap-south-1");
	assert_int_equal(aws_region_resolve(NULL, fake_env, none, "eu-central-1", region), 0);
	assert_string_equal(region, "eu-central-1");
	assert_int_equal(aws_region_resolve(NULL, fake_env, none, NULL, region), -ENOENT);
	assert_int_equal(aws_region_resolve(NULL, fake_env, bad, NULL, region), -EINVAL);
	assert_int_equal(aws_region_resolve("-us", fake_env, none, NULL, region), -EINVAL);
}

static const char *env_all[] = {"AWS_ENDPOINT_URL_SQS", "http://127.0.0.1:4566/",
	"AWS_ENDPOINT_URL_ECS", "http://127.0.0.1:4567", "AWS_ENDPOINT_URL", "https://global.test",
	NULL};
static const char *env_global[] = {"AWS_ENDPOINT_URL", "https://global.test", NULL};
static const char *env_ignore[] = {"AWS_ENDPOINT_URL", "https://global.test",
	"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "TRUE", NULL};
static const char *env_none[] = {NULL};
static const struct aws_profile_endpoints profile_svc = {
	.service_url = "http://svc.test:1", .global_url = "http://glob.test:2"};
static const struct aws_profile_endpoints profile_glob = {.global_url = "http://glob.test:2"};
static const struct aws_profile_endpoints fips = {.use_fips = true};
static const struct aws_profile_endpoints dualstack = {.use_dualstack = true};
static const struct aws_profile_endpoints both_variants = {.use_fips = true, .use_dualstack = true};
static const struct aws_profile_endpoints profile_ignore = {
	.service_url = "http://svc.test:1", .ignore_configured_urls = true};

static const struct {
	enum aws_service service;
	const char *configured;
	const char *region;
	const char *const *env;
	const struct aws_profile_endpoints *profile;
	int r;
	const char *url;
} endpoint_cases[] = {
	{AWS_SERVICE_SQS, "https://sqs.us-east-1.amazonaws.com", "eu-west-1", env_all, NULL, 0,
		"https://sqs.us-east-1.amazonaws.com"},
	{AWS_SERVICE_SQS, NULL, "eu-west-1", env_all, NULL, 0, "http://127.0.0.1:4566"},
	{AWS_SERVICE_ECS, NULL, "eu-west-1", env_all, NULL, 0, "http://127.0.0.1:4567"},
	{AWS_SERVICE_ECS, NULL, "eu-west-1", env_global, &profile_svc, 0, "https://global.test"},
	{AWS_SERVICE_SQS, NULL, "eu-west-1", env_none, &profile_svc, 0, "http://svc.test:1"},
	{AWS_SERVICE_SQS, NULL, "eu-west-1", env_none, &profile_glob, 0, "http://glob.test:2"},
	{AWS_SERVICE_SQS, NULL, "eu-west-1", env_ignore, &profile_svc, 0,
		"https://sqs.eu-west-1.amazonaws.com"},
	{AWS_SERVICE_ECS, "http://cfg.test:9", "eu-west-1", env_ignore, NULL, 0,
		"http://cfg.test:9"},
	{AWS_SERVICE_SQS, NULL, "eu-west-1", env_none, NULL, 0,
		"https://sqs.eu-west-1.amazonaws.com"},
	{AWS_SERVICE_ECS, NULL, "us-east-1", env_none, NULL, 0,
		"https://ecs.us-east-1.amazonaws.com"},
	{AWS_SERVICE_SQS, NULL, "cn-north-1", env_none, NULL, 0,
		"https://sqs.cn-north-1.amazonaws.com.cn"},
	{AWS_SERVICE_ECS, NULL, "cn-northwest-1", env_none, NULL, 0,
		"https://ecs.cn-northwest-1.amazonaws.com.cn"},
	/* FIPS and dual-stack names, as the SQS and ECS rule sets give them. */
	{AWS_SERVICE_SQS, NULL, "us-east-1", env_none, &fips, 0,
		"https://sqs-fips.us-east-1.amazonaws.com"},
	{AWS_SERVICE_ECS, NULL, "us-east-1", env_none, &fips, 0,
		"https://ecs-fips.us-east-1.amazonaws.com"},
	{AWS_SERVICE_SQS, NULL, "eu-west-1", env_none, &dualstack, 0,
		"https://sqs.eu-west-1.api.aws"},
	{AWS_SERVICE_ECS, NULL, "eu-west-1", env_none, &dualstack, 0,
		"https://ecs.eu-west-1.api.aws"},
	{AWS_SERVICE_SQS, NULL, "us-west-2", env_none, &both_variants, 0,
		"https://sqs-fips.us-west-2.api.aws"},
	{AWS_SERVICE_ECS, NULL, "cn-north-1", env_none, &dualstack, 0,
		"https://ecs.cn-north-1.api.amazonwebservices.com.cn"},
	{AWS_SERVICE_SQS, NULL, "us-gov-west-1", env_none, &fips, 0,
		"https://sqs.us-gov-west-1.amazonaws.com"},
	{AWS_SERVICE_ECS, NULL, "us-gov-west-1", env_none, &fips, 0,
		"https://ecs-fips.us-gov-west-1.amazonaws.com"},
	{AWS_SERVICE_SQS, NULL, "us-gov-east-1", env_none, &both_variants, 0,
		"https://sqs-fips.us-gov-east-1.api.aws"},
	{AWS_SERVICE_SQS, NULL, "us-iso-east-1", env_none, NULL, 0,
		"https://sqs.us-iso-east-1.c2s.ic.gov"},
	{AWS_SERVICE_ECS, NULL, "us-isob-east-1", env_none, &fips, 0,
		"https://ecs-fips.us-isob-east-1.sc2s.sgov.gov"},
	{AWS_SERVICE_SQS, NULL, "us-iso-east-1", env_none, &dualstack, -ENOTSUP, NULL},
	/* DynamoDB (the HA lease) follows its own rule set: GovCloud's FIPS is plain too. */
	{AWS_SERVICE_DYNAMODB, NULL, "eu-west-1", env_none, &fips, 0,
		"https://dynamodb-fips.eu-west-1.amazonaws.com"},
	{AWS_SERVICE_DYNAMODB, NULL, "us-gov-west-1", env_none, &fips, 0,
		"https://dynamodb.us-gov-west-1.amazonaws.com"},
	{AWS_SERVICE_DYNAMODB, NULL, "ap-south-1", env_none, &dualstack, 0,
		"https://dynamodb.ap-south-1.api.aws"},
	/* A configured endpoint wins over the variants, as botocore decides. */
	{AWS_SERVICE_SQS, "http://127.0.0.1:1", "us-east-1", env_none, &fips, 0,
		"http://127.0.0.1:1"},
	{AWS_SERVICE_ECS, NULL, "us-east-1", env_all, &dualstack, 0, "http://127.0.0.1:4567"},
	/* The profile's ignore_configured_endpoint_urls works like the variable. */
	{AWS_SERVICE_SQS, NULL, "eu-west-1", env_global, &profile_ignore, 0,
		"https://sqs.eu-west-1.amazonaws.com"},
	{AWS_SERVICE_SQS, NULL, NULL, env_none, NULL, -EINVAL, NULL},
	{AWS_SERVICE_SQS, "ftp://x", "eu-west-1", env_none, NULL, -EINVAL, NULL},
	{AWS_SERVICE_SQS, "http://x/path", "eu-west-1", env_none, NULL, -EINVAL, NULL},
};

static void test_endpoint_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(endpoint_cases) / sizeof(endpoint_cases[0]); i++) {
		char *url = NULL;
		int r = aws_endpoint_resolve(endpoint_cases[i].service,
			endpoint_cases[i].configured, endpoint_cases[i].region, fake_env,
			(void *)(uintptr_t)endpoint_cases[i].env, endpoint_cases[i].profile, &url);
		if (r != endpoint_cases[i].r || (r == 0 && strcmp(url, endpoint_cases[i].url) != 0))
			fail_msg("case %zu: r=%d url=%s", i, r, url ? url : "(null)");
		free(url);
	}
}

static const struct {
	const char *url;
	int r;
	const char *origin;
	const char *host;
} parse_cases[] = {
	{"https://SQS.us-east-1.amazonaws.com", 0, "https://sqs.us-east-1.amazonaws.com",
		"sqs.us-east-1.amazonaws.com"},
	{"http://127.0.0.1:8080/", 0, "http://127.0.0.1:8080", "127.0.0.1:8080"},
	{"HTTP://[::1]:9000", 0, "http://[::1]:9000", "[::1]:9000"},
	{"http://host:0", -EINVAL, NULL, NULL},
	{"http://host:65536", -EINVAL, NULL, NULL},
	{"http://host:", -EINVAL, NULL, NULL},
	{"http://:80", -EINVAL, NULL, NULL},
	{"http://", -EINVAL, NULL, NULL},
	{"http://a b", -EINVAL, NULL, NULL},
	{"http://user@host", -EINVAL, NULL, NULL},
	{"http://host/?q", -EINVAL, NULL, NULL},
	{"http://[::1", -EINVAL, NULL, NULL},
	{"sqs.us-east-1.amazonaws.com", -EINVAL, NULL, NULL},
};

static void test_endpoint_parse(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		char *origin = NULL, *host = NULL;
		int r = aws_endpoint_parse(parse_cases[i].url, &origin, &host);
		if (r != parse_cases[i].r ||
			(r == 0 &&
				(strcmp(origin, parse_cases[i].origin) != 0 ||
					strcmp(host, parse_cases[i].host) != 0)))
			fail_msg("case %zu (%s): r=%d origin=%s host=%s", i, parse_cases[i].url, r,
				origin ? origin : "-", host ? host : "-");
		free(origin);
		free(host);
	}
}

static void test_http_date(void **state)
{
	uint64_t ms = 0;

	(void)state;
	assert_int_equal(http_parse_date("Thu, 26 Nov 2026 09:00:00 GMT", &ms), 0);
	assert_true(ms == 1795683600000ull);
	assert_int_equal(http_parse_date("Sun, 06 Nov 1994 08:49:37 GMT", &ms), 0);
	assert_true(ms == 784111777000ull);
	assert_int_equal(http_parse_date("Sun, 06 Nov 1994 08:49:37 UTC", &ms), -EINVAL);
	assert_int_equal(http_parse_date("Sunday, 06-Nov-94 08:49:37 GMT", &ms), -EINVAL);
	assert_int_equal(http_parse_date("Sun, 06 Foo 1994 08:49:37 GMT", &ms), -EINVAL);
	assert_int_equal(http_parse_date("Sun, 06 Nov 1994 25:49:37 GMT", &ms), -EINVAL);
	assert_int_equal(http_parse_date("Sun, 06 Nov 1994 08:49:37 GMT x", &ms), -EINVAL);
	assert_int_equal(http_parse_date("", &ms), -EINVAL);
	assert_int_equal(http_parse_date(NULL, &ms), -EINVAL);
	/* Leap days, the turn of a century and a leap second, as timegm counts them. */
	assert_int_equal(http_parse_date("Thu, 29 Feb 2024 23:59:59 GMT", &ms), 0);
	assert_true(ms == 1709251199000ull);
	assert_int_equal(http_parse_date("Tue, 29 Feb 2000 00:00:00 GMT", &ms), 0);
	assert_true(ms == 951782400000ull);
	assert_int_equal(http_parse_date("Mon, 01 Mar 2100 00:00:00 GMT", &ms), 0);
	assert_true(ms == 4107542400000ull);
	assert_int_equal(http_parse_date("Thu, 01 Jan 1970 00:00:00 GMT", &ms), 0);
	assert_true(ms == 0);
	assert_int_equal(http_parse_date("Wed, 31 Dec 2025 23:59:60 GMT", &ms), 0);
	assert_true(ms == 1767225600000ull);
	/* A day past its month runs into the next, as timegm lets it. */
	assert_int_equal(http_parse_date("Sat, 31 Feb 2026 00:00:00 GMT", &ms), 0);
	assert_true(ms == 1772496000000ull);
	/* Looser spellings sscanf took read the same as the exact one. */
	assert_int_equal(http_parse_date("Sun, 6 Nov 1994 08:49:37 GMT", &ms), 0);
	assert_true(ms == 784111777000ull);
	assert_int_equal(http_parse_date("Sun,06 Nov 1994 8:49:37 GMT", &ms), 0);
	assert_true(ms == 784111777000ull);
	assert_int_equal(http_parse_date("Sun, 06 Nov 1994 08:49:37 GMTX", &ms), -EINVAL);
	assert_int_equal(http_parse_date("Sun, 06 Nov 1969 08:49:37 GMT", &ms), -EINVAL);
}

static void test_header_secret(void **state)
{
	(void)state;
	assert_true(http_header_is_secret("Authorization"));
	assert_true(http_header_is_secret("x-amz-security-token"));
	assert_true(http_header_is_secret("X-Aws-Ec2-Metadata-Token"));
	assert_false(http_header_is_secret("X-Amz-Date"));
	assert_false(http_header_is_secret("Host"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_region),
		cmocka_unit_test(test_endpoint_table),
		cmocka_unit_test(test_endpoint_parse),
		cmocka_unit_test(test_http_date),
		cmocka_unit_test(test_header_secret),
	};

	return cmocka_run_group_tests_name("aws_endpoint", tests, NULL, NULL);
}
