/*
 * Unit tests of the AWS settings resolver: botocore's order (qscale's
 * configuration, the variable, the profile, the default) for region, retry
 * mode, max attempts, FIPS, dual-stack, ignore_configured_endpoint_urls, CA
 * bundle and IMDSv1; "~" in AWS_CONFIG_FILE; and every invalid value
 * refused with a diagnostic that names the variable, or file:line and
 * profile.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "qscale/aws_settings.h"
#include "qscale/diag.h"

/* A fake environment: a NULL-terminated list of name, value pairs. */
static const char *fake_env(const char *name, void *ctx)
{
	const char *const *kv = ctx;

	for (size_t i = 0; kv[i] != NULL; i += 2)
		if (strcmp(kv[i], name) == 0)
			return kv[i + 1];
	return NULL;
}

/* Resolve against env and a config file text (NULL: none). */
static int resolve(const char *const *env, const char *config_text,
	const struct aws_settings_input *given, struct aws_settings *out, struct diag *diag)
{
	struct aws_settings_input in = {0};
	struct aws_ini ini = {0};
	struct aws_ini_diag idiag;
	int r;

	if (given != NULL)
		in = *given;
	in.env = fake_env;
	in.env_ctx = (void *)(uintptr_t)env;
	if (config_text != NULL)
		assert_int_equal(
			aws_ini_parse(config_text, strlen(config_text), true, &ini, &idiag), 0);
	r = aws_settings_resolve(&in, config_text != NULL ? &ini : NULL, out, diag);
	aws_ini_finish(&ini);
	return r;
}

static void test_defaults_and_paths(void **state)
{
	const char *env[] = {"HOME", "/home/op", "AWS_REGION", "eu-west-1", NULL};
	const char *tilde[] = {"HOME", "/home/op", "AWS_CONFIG_FILE", "~/etc/aws",
		"AWS_SHARED_CREDENTIALS_FILE", "~", "AWS_DEFAULT_REGION", "us-east-2", NULL};
	struct aws_settings s;

	(void)state;
	assert_int_equal(resolve(env, NULL, NULL, &s, NULL), 0);
	assert_string_equal(s.profile, "default");
	assert_false(s.profile_named);
	assert_string_equal(s.config_path, "/home/op/.aws/config");
	assert_string_equal(s.credentials_path, "/home/op/.aws/credentials");
	assert_string_equal(s.region, "eu-west-1");
	assert_string_equal(s.region_from, "AWS_REGION");
	assert_string_equal(s.endpoint[AWS_SERVICE_SQS], "https://sqs.eu-west-1.amazonaws.com");
	assert_string_equal(s.host[AWS_SERVICE_ECS], "ecs.eu-west-1.amazonaws.com");
	assert_int_equal(s.endpoint_from[AWS_SERVICE_SQS], AWS_ENDPOINT_FROM_DEFAULT);
	assert_int_equal(s.retry_mode, AWS_RETRY_MODE_STANDARD);
	assert_int_equal(s.max_attempts, 3);
	assert_null(s.ca_bundle);
	assert_false(s.use_fips || s.use_dualstack || s.imds_v1_disabled);
	aws_settings_finish(&s);
	/* A literal ~ (as a systemd Environment= line leaves it) is HOME. */
	assert_int_equal(resolve(tilde, NULL, NULL, &s, NULL), 0);
	assert_string_equal(s.config_path, "/home/op/etc/aws");
	assert_string_equal(s.credentials_path, "/home/op");
	aws_settings_finish(&s);
}

static const char profile_text[] = "[default]\n"
				   "region = ap-south-1\n"
				   "retry_mode = legacy\n"
				   "[profile dev]\n"
				   "region = us-west-2\n"
				   "retry_mode = adaptive\n"
				   "max_attempts = 25\n"
				   "use_fips_endpoint = true\n"
				   "ca_bundle = /etc/dev-ca.pem\n"
				   "ec2_metadata_v1_disabled = TRUE\n"
				   "[profile ds]\n"
				   "region: eu-central-1\n"
				   "use_dualstack_endpoint = true\n"
				   "endpoint_url = http://127.0.0.1:7\n"
				   "ignore_configured_endpoint_urls = true\n";

static void test_profile_and_precedence(void **state)
{
	const char *dev[] = {"HOME", "/h", "AWS_PROFILE", "dev", NULL};
	const char *over[] = {"HOME", "/h", "AWS_PROFILE", "dev", "AWS_RETRY_MODE", "standard",
		"AWS_MAX_ATTEMPTS", "2", "AWS_USE_FIPS_ENDPOINT", "false", "AWS_CA_BUNDLE",
		"/env.pem", "AWS_DEFAULT_REGION", "eu-north-1", "AWS_EC2_METADATA_V1_DISABLED",
		"false", NULL};
	const char *ds[] = {"HOME", "/h", "AWS_PROFILE", "ds", NULL};
	const char *dflt[] = {"HOME", "/h", NULL};
	struct aws_settings_input given = {.region = "sa-east-1", .max_attempts = 9};
	struct aws_settings s;

	(void)state;
	assert_int_equal(resolve(dflt, profile_text, NULL, &s, NULL), 0);
	assert_string_equal(s.region, "ap-south-1");
	assert_int_equal(s.retry_mode, AWS_RETRY_MODE_LEGACY);
	assert_int_equal(s.max_attempts, 5);
	aws_settings_finish(&s);

	assert_int_equal(resolve(dev, profile_text, NULL, &s, NULL), 0);
	assert_true(s.profile_named);
	assert_string_equal(s.region, "us-west-2");
	assert_non_null(strstr(s.region_from, "profile dev"));
	assert_int_equal(s.retry_mode, AWS_RETRY_MODE_ADAPTIVE);
	assert_int_equal(s.max_attempts, 25);
	assert_non_null(strstr(s.max_attempts_from, "/h/.aws/config:7"));
	assert_true(s.use_fips);
	assert_string_equal(
		s.endpoint[AWS_SERVICE_SQS], "https://sqs-fips.us-west-2.amazonaws.com");
	assert_string_equal(s.ca_bundle, "/etc/dev-ca.pem");
	assert_true(s.imds_v1_disabled);
	aws_settings_finish(&s);

	/* Every variable beats its profile key. */
	assert_int_equal(resolve(over, profile_text, NULL, &s, NULL), 0);
	assert_string_equal(s.region, "eu-north-1");
	assert_int_equal(s.retry_mode, AWS_RETRY_MODE_STANDARD);
	assert_int_equal(s.max_attempts, 2);
	assert_false(s.use_fips);
	assert_string_equal(s.endpoint[AWS_SERVICE_ECS], "https://ecs.eu-north-1.amazonaws.com");
	assert_string_equal(s.ca_bundle, "/env.pem");
	assert_string_equal(s.ca_bundle_from, "AWS_CA_BUNDLE");
	assert_false(s.imds_v1_disabled);
	aws_settings_finish(&s);

	/* qscale's own configuration beats both. */
	assert_int_equal(resolve(over, profile_text, &given, &s, NULL), 0);
	assert_string_equal(s.region, "sa-east-1");
	assert_int_equal(s.max_attempts, 9);
	aws_settings_finish(&s);

	/* ignore_configured_endpoint_urls in the profile drops its endpoint_url. */
	assert_int_equal(resolve(ds, profile_text, NULL, &s, NULL), 0);
	assert_true(s.ignore_configured_urls);
	assert_string_equal(s.endpoint[AWS_SERVICE_SQS], "https://sqs.eu-central-1.api.aws");
	aws_settings_finish(&s);
}

static const struct {
	const char *const env[8];
	const char *config;
	const char *file; /* what diag names: the variable or the file */
	unsigned line;
	const char *words; /* in the message */
	int r;
} bad_cases[] = {
	{{"AWS_RETRY_MODE", "fast", NULL}, NULL, "AWS_RETRY_MODE", 0,
		"\"fast\" is not a retry mode", -EINVAL},
	{{"AWS_RETRY_MODE", "Standard", NULL}, NULL, "AWS_RETRY_MODE", 0, "not a retry mode",
		-EINVAL},
	{{NULL}, "[default]\nregion = x-1\n\nretry_mode = quick\n", "/h/.aws/config", 4,
		"retry_mode in profile default: \"quick\"", -EINVAL},
	{{"AWS_MAX_ATTEMPTS", "0", NULL}, NULL, "AWS_MAX_ATTEMPTS", 0, "from 1 to 1000", -EINVAL},
	{{"AWS_MAX_ATTEMPTS", "1001", NULL}, NULL, "AWS_MAX_ATTEMPTS", 0, "from 1 to 1000",
		-EINVAL},
	{{"AWS_MAX_ATTEMPTS", "3 ", NULL}, NULL, "AWS_MAX_ATTEMPTS", 0, "\"3 \"", -EINVAL},
	{{"AWS_MAX_ATTEMPTS", "-2", NULL}, NULL, "AWS_MAX_ATTEMPTS", 0, "\"-2\"", -EINVAL},
	{{"AWS_MAX_ATTEMPTS", "9999999999999999999", NULL}, NULL, "AWS_MAX_ATTEMPTS", 0,
		"number of attempts", -EINVAL},
	{{NULL}, "[default]\nregion = x-1\nmax_attempts = many\n", "/h/.aws/config", 3,
		"max_attempts in profile default", -EINVAL},
	{{"AWS_USE_FIPS_ENDPOINT", "yes", NULL}, NULL, "AWS_USE_FIPS_ENDPOINT", 0,
		"is not true or false", -EINVAL},
	{{"AWS_USE_DUALSTACK_ENDPOINT", "1", NULL}, NULL, "AWS_USE_DUALSTACK_ENDPOINT", 0,
		"is not true or false", -EINVAL},
	{{"AWS_EC2_METADATA_V1_DISABLED", "on", NULL}, NULL, "AWS_EC2_METADATA_V1_DISABLED", 0,
		"is not true or false", -EINVAL},
	{{NULL}, "[default]\nregion = x-1\nignore_configured_endpoint_urls = sure\n",
		"/h/.aws/config", 3, "ignore_configured_endpoint_urls in profile default", -EINVAL},
	{{"AWS_USE_DUALSTACK_ENDPOINT", "true", "AWS_REGION", "us-iso-east-1", NULL}, NULL,
		"use_dualstack_endpoint", 0, "not offered in us-iso-east-1", -ENOTSUP},
	{{"AWS_REGION", "EU West", NULL}, NULL, "AWS_REGION", 0, "not a region name", -EINVAL},
	{{NULL}, "[default]\nregion = Nowhere\n", "/h/.aws/config", 2, "not a region name",
		-EINVAL},
	{{NULL}, NULL, "region", 0, "none set", -ENOENT},
	{{"AWS_ENDPOINT_URL_SQS", "ftp://x", NULL}, NULL, "AWS_ENDPOINT_URL_SQS", 0,
		"not an endpoint URL", -EINVAL},
	{{"AWS_ENDPOINT_URL", "http://h/path", NULL}, NULL, "AWS_ENDPOINT_URL", 0,
		"not an endpoint URL", -EINVAL},
};

static void test_bad_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(bad_cases) / sizeof(bad_cases[0]); i++) {
		const char *env[12] = {"HOME", "/h"};
		size_t n = 2;
		bool has_region = bad_cases[i].config != NULL || bad_cases[i].r == -ENOENT;
		for (size_t k = 0; bad_cases[i].env[k] != NULL; k++) {
			env[n++] = bad_cases[i].env[k];
			if (strcmp(bad_cases[i].env[k], "AWS_REGION") == 0 && k % 2 == 0)
				has_region = true;
		}
		if (!has_region) {
			env[n++] = "AWS_REGION";
			env[n++] = "eu-west-1";
		}
		env[n] = NULL;
		struct aws_settings s = {.max_attempts = 12345};
		struct diag d = {0};
		int r = resolve(env, bad_cases[i].config, NULL, &s, &d);
		if (r != bad_cases[i].r || strcmp(d.file, bad_cases[i].file) != 0 ||
			d.line != bad_cases[i].line ||
			strstr(d.message, bad_cases[i].words) == NULL)
			fail_msg("case %zu: r=%d diag=%s:%u \"%s\"", i, r, d.file, d.line,
				d.message);
		/* Written only on success. */
		assert_int_equal(s.max_attempts, 12345);
	}
}

static void test_load_files(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char dir[96], path[160], bundle[160];
	struct aws_settings s;
	struct diag d = {0};

	(void)state;
	snprintf(dir, sizeof(dir), "%s/qscale-settings-XXXXXX",
		tmp != NULL && tmp[0] != '\0' ? tmp : P_tmpdir);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/config", dir);
	snprintf(bundle, sizeof(bundle), "%s/ca.pem", dir);
	const char *env[] = {"HOME", dir, "AWS_CONFIG_FILE", path, NULL};
	struct aws_settings_input in = {.env = fake_env, .env_ctx = (void *)(uintptr_t)env};
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "[default]\nregion = eu-west-3\nca_bundle = %s\n", bundle);
	fclose(f);
	/* A bundle the profile names but nobody can read: refused at start. */
	assert_int_equal(aws_settings_load(&in, &s, &d), -EINVAL);
	assert_string_equal(d.file, "ca_bundle");
	assert_non_null(strstr(d.message, "cannot be read"));
	assert_non_null(strstr(d.message, "config:3"));
	f = fopen(bundle, "w");
	assert_non_null(f);
	fputs("-----BEGIN CERTIFICATE-----\n", f);
	fclose(f);
	assert_int_equal(aws_settings_load(&in, &s, &d), 0);
	assert_string_equal(s.region, "eu-west-3");
	assert_string_equal(s.ca_bundle, bundle);
	aws_settings_finish(&s);
	/* A config file botocore refuses is refused with its line. */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[default]\nregion = eu-west-3\n[default]\n", f);
	fclose(f);
	memset(&d, 0, sizeof(d));
	assert_int_equal(aws_settings_load(&in, &s, &d), -EINVAL);
	assert_string_equal(d.file, path);
	assert_int_equal(d.line, 3);
	assert_non_null(strstr(d.message, "given twice"));
	/* What is no regular file is skipped, as botocore skips it. */
	const char *env_null[] = {
		"HOME", dir, "AWS_CONFIG_FILE", "/dev/null", "AWS_REGION", "eu-west-1", NULL};
	in.env_ctx = (void *)(uintptr_t)env_null;
	assert_int_equal(aws_settings_load(&in, &s, &d), 0);
	assert_string_equal(s.region, "eu-west-1");
	aws_settings_finish(&s);
	in.env_ctx = (void *)(uintptr_t)env;
	/* A missing config file is no error. */
	unlink(path);
	const char *env2[] = {
		"HOME", dir, "AWS_CONFIG_FILE", path, "AWS_REGION", "eu-west-1", NULL};
	in.env_ctx = (void *)(uintptr_t)env2;
	assert_int_equal(aws_settings_load(&in, &s, &d), 0);
	aws_settings_finish(&s);
	unlink(bundle);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_and_paths),
		cmocka_unit_test(test_profile_and_precedence),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_load_files),
	};

	return cmocka_run_group_tests_name("aws_settings", tests, NULL, NULL);
}
