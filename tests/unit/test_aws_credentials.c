/*
 * Unit tests of the pure parts of the credential chain: the shared
 * credentials/config file parser (profiles, comments, sub-keys, empty and
 * half-written files), the environment provider, the credentials JSON
 * document, RFC 3339 times, and the container endpoint's URL and token checks.
 * And the shared-file provider on a manual clock: the permission rule (as
 * ssh's) and its warning, said once; an unreadable file said once; the age of
 * the credentials across re-reads, a rotation that stops, a clock jump.
 */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "qscale/aws_ini.h"
#include "qscale/clock.h"
#include "qscale/credentials.h"
#include "qscale/log.h"

static const char credentials_text[] = "# written by hand\n"
				       "; and this too\n"
				       "[default]\n"
				       "aws_access_key_id = AKIDDEFAULT\n"
				       "  aws_secret_access_key=secret/default+key   \n"
				       "aws_session_token = tok\r\n"
				       "extra: 1\n"
				       "\n"
				       "[ prod ]   # inline after header\n"
				       "AWS_ACCESS_KEY_ID : AKIDPROD\n"
				       "aws_secret_access_key = s=with=equals:and:colons\n";

static void test_ini_credentials_file(void **state)
{
	struct aws_ini ini;
	struct aws_ini_diag diag;

	(void)state;
	assert_int_equal(
		aws_ini_parse(credentials_text, strlen(credentials_text), false, &ini, &diag), 0);
	assert_string_equal(aws_ini_get(&ini, "default", "aws_access_key_id"), "AKIDDEFAULT");
	assert_string_equal(
		aws_ini_get(&ini, "default", "aws_secret_access_key"), "secret/default+key");
	assert_string_equal(aws_ini_get(&ini, "default", "aws_session_token"), "tok");
	assert_string_equal(aws_ini_get(&ini, "default", "extra"), "1");
	assert_string_equal(aws_ini_get(&ini, "prod", "aws_access_key_id"), "AKIDPROD");
	assert_string_equal(
		aws_ini_get(&ini, "prod", "aws_secret_access_key"), "s=with=equals:and:colons");
	assert_null(aws_ini_get(&ini, "prod", "aws_session_token"));
	assert_null(aws_ini_get(&ini, "nope", "aws_access_key_id"));
	assert_true(aws_ini_has_section(&ini, "prod"));
	assert_false(aws_ini_has_section(&ini, "staging"));

	struct credentials_set set = {0};
	assert_int_equal(credentials_from_ini(&ini, NULL, "prod", &set), 0);
	assert_string_equal(set.access_key_id, "AKIDPROD");
	assert_null(set.session_token);
	credentials_set_finish(&set);
	assert_null(set.access_key_id);
	assert_int_equal(credentials_from_ini(&ini, NULL, "missing", &set), -ENOENT);
	aws_ini_finish(&ini);
}

static const char config_text[] = "[default]\n"
				  "region = eu-west-1\n"
				  "[profile dev]\n"
				  "region = us-east-2\n"
				  "aws_access_key_id = AKIDCONFIG\n"
				  "aws_secret_access_key = configsecret\n"
				  "services = local\n"
				  "[dev]\n"
				  "region = ignored-1\n"
				  "[services local]\n"
				  "sqs =\n"
				  "  endpoint_url = http://127.0.0.1:4566\n"
				  "ecs =\n"
				  "  endpoint_url = http://127.0.0.1:4567\n"
				  "[profile   ]\n"
				  "region = nowhere-1\n";

static void test_ini_config_file(void **state)
{
	struct aws_ini ini;
	struct aws_ini_diag diag;

	(void)state;
	assert_int_equal(aws_ini_parse(config_text, strlen(config_text), true, &ini, &diag), 0);
	assert_string_equal(aws_ini_get(&ini, "default", "region"), "eu-west-1");
	/* "[dev]" without "profile" is not profile dev in the config file. */
	assert_string_equal(aws_ini_get(&ini, "dev", "region"), "us-east-2");
	assert_string_equal(aws_ini_get(&ini, "dev", "services"), "local");
	assert_string_equal(
		aws_ini_get(&ini, "services local", "sqs.endpoint_url"), "http://127.0.0.1:4566");
	assert_string_equal(
		aws_ini_get(&ini, "services local", "ecs.endpoint_url"), "http://127.0.0.1:4567");
	assert_null(aws_ini_get(&ini, "", "region"));

	/* Credentials from the config file when the credentials file lacks the profile. */
	struct aws_ini empty;
	assert_int_equal(aws_ini_parse("", 0, false, &empty, &diag), 0);
	struct credentials_set set = {0};
	assert_int_equal(credentials_from_ini(&empty, &ini, "dev", &set), 0);
	assert_string_equal(set.access_key_id, "AKIDCONFIG");
	credentials_set_finish(&set);
	aws_ini_finish(&empty);
	aws_ini_finish(&ini);
}

static const struct {
	const char *text;
	int line;
} junk_files[] = {
	{"[default\naws_access_key_id = A\n", 1},
	{"[default]\naws_access_key_id = A\naws_secret_acc", 3},
	{"aws_access_key_id = A\n", 1},
	{"[default]\n= value\n", 2},
	{"[]\n", 1},
	{"[default] junk\n", 1},
	{"[default]\nkey = v\n[prof", 3},
	/* Given twice in one file: botocore (configparser, strict) refuses the file. */
	{"[default]\na = 1\n[prod]\nb = 2\n[default]\nc = 3\n", 5},
	{"[default]\naws_access_key_id = A\nAWS_ACCESS_KEY_ID: B\n", 3},
	{"[prod]\nregion = x\n\n[ prod ]\n", 4},
};

static void test_ini_junk(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(junk_files) / sizeof(junk_files[0]); i++) {
		struct aws_ini ini = {.n = 12345};
		struct aws_ini_diag diag = {0};
		int r = aws_ini_parse(
			junk_files[i].text, strlen(junk_files[i].text), false, &ini, &diag);
		if (r != -EINVAL || diag.line != junk_files[i].line || diag.message[0] == '\0')
			fail_msg("junk %zu: r=%d line=%d", i, r, diag.line);
		if (i >= 7 && strstr(diag.message, "twice") == NULL)
			fail_msg("junk %zu: message \"%s\" does not say what is repeated", i,
				diag.message);
		/* Untouched on failure. */
		assert_int_equal(ini.n, 12345);
	}
	struct aws_ini ini;
	assert_int_equal(aws_ini_parse("[default]\0x", 11, false, &ini, NULL), -EINVAL);
	/*
	 * [default] and [profile default] are two sections to configparser, and
	 * the same key in two sections is no repeat; sub-keys split at '=' only.
	 */
	static const char fine[] = "[default]\nregion = a-1\n[profile default]\nregion: b-1\n"
				   "[profile x]\nregion = a-1\nservices = s\n"
				   "[services s]\nsqs =\n  endpoint_url = http://h:1\n"
				   "ecs =\n  endpoint_url = http://h:2\n";
	struct aws_ini_diag diag = {0};
	assert_int_equal(aws_ini_parse(fine, strlen(fine), true, &ini, &diag), 0);
	assert_string_equal(aws_ini_get(&ini, "default", "region"), "b-1");
	assert_string_equal(aws_ini_get(&ini, "services s", "sqs.endpoint_url"), "http://h:1");
	assert_int_equal(aws_ini_find(&ini, "x", "services")->line, 7);
	aws_ini_finish(&ini);
}

static void test_ini_empty_and_partial(void **state)
{
	struct aws_ini ini;
	struct credentials_set set = {0};

	(void)state;
	/* An empty file parses but has no credentials. */
	assert_int_equal(aws_ini_parse("", 0, false, &ini, NULL), 0);
	assert_int_equal(credentials_from_ini(&ini, NULL, "default", &set), -ENOENT);
	aws_ini_finish(&ini);
	/* A file cut after the key id has no complete pair. */
	const char *cut = "[default]\naws_access_key_id = AKID\n";
	assert_int_equal(aws_ini_parse(cut, strlen(cut), false, &ini, NULL), 0);
	assert_int_equal(credentials_from_ini(&ini, NULL, "default", &set), -ENOENT);
	aws_ini_finish(&ini);
	/* An empty secret is no secret. */
	const char *blank = "[default]\naws_access_key_id = AKID\naws_secret_access_key =\n";
	assert_int_equal(aws_ini_parse(blank, strlen(blank), false, &ini, NULL), 0);
	assert_int_equal(credentials_from_ini(&ini, NULL, "default", &set), -ENOENT);
	aws_ini_finish(&ini);
	assert_null(set.access_key_id);
}

static void test_ini_load(void **state)
{
	char path[] = "/tmp/qscale-ini-XXXXXX";
	struct aws_ini ini;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, credentials_text, strlen(credentials_text)),
		(ssize_t)strlen(credentials_text));
	close(fd);
	assert_int_equal(aws_ini_load(path, false, &ini, NULL), 0);
	assert_string_equal(aws_ini_get(&ini, "prod", "aws_access_key_id"), "AKIDPROD");
	aws_ini_finish(&ini);
	unlink(path);
	assert_int_equal(aws_ini_load(path, false, &ini, NULL), -ENOENT);
}

/* A fake environment: a NULL-terminated list of name, value pairs. */
static const char *fake_env(const char *name, void *ctx)
{
	const char *const *kv = ctx;

	for (size_t i = 0; kv[i] != NULL; i += 2)
		if (strcmp(kv[i], name) == 0)
			return kv[i + 1];
	return NULL;
}

static void test_env_provider(void **state)
{
	struct credentials_set set = {0};
	const char *full[] = {"AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY", "envsecret",
		"AWS_SESSION_TOKEN", "envtoken", NULL};
	const char *long_term[] = {
		"AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY", "envsecret", NULL};
	const char *no_secret[] = {"AWS_ACCESS_KEY_ID", "AKIDENV", NULL};
	const char *empty_secret[] = {
		"AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY", "", NULL};
	const char *none[] = {NULL};
	const char *legacy_token[] = {"AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY",
		"envsecret", "AWS_SECURITY_TOKEN", "oldtoken", NULL};
	const char *both_tokens[] = {"AWS_ACCESS_KEY_ID", "AKIDENV", "AWS_SECRET_ACCESS_KEY",
		"envsecret", "AWS_SECURITY_TOKEN", "oldtoken", "AWS_SESSION_TOKEN", "newtoken",
		NULL};

	(void)state;
	assert_int_equal(credentials_from_env(fake_env, full, &set), 0);
	assert_string_equal(set.access_key_id, "AKIDENV");
	assert_string_equal(set.secret_access_key, "envsecret");
	assert_string_equal(set.session_token, "envtoken");
	assert_true(set.expiry_wall_ms == 0);
	credentials_set_finish(&set);
	assert_int_equal(credentials_from_env(fake_env, long_term, &set), 0);
	assert_null(set.session_token);
	credentials_set_finish(&set);
	/* The legacy AWS_SECURITY_TOKEN, which botocore reads before AWS_SESSION_TOKEN. */
	assert_int_equal(credentials_from_env(fake_env, legacy_token, &set), 0);
	assert_string_equal(set.session_token, "oldtoken");
	credentials_set_finish(&set);
	assert_int_equal(credentials_from_env(fake_env, both_tokens, &set), 0);
	assert_string_equal(set.session_token, "oldtoken");
	credentials_set_finish(&set);
	assert_int_equal(credentials_from_env(fake_env, no_secret, &set), -ENOENT);
	assert_int_equal(credentials_from_env(fake_env, empty_secret, &set), -ENOENT);
	assert_int_equal(credentials_from_env(fake_env, none, &set), -ENOENT);
	assert_null(set.access_key_id);
}

static void test_credentials_json(void **state)
{
	struct credentials_set set = {0};
	const char *good = "{\"Code\":\"Success\",\"Type\":\"AWS-HMAC\",\"AccessKeyId\":\"ASIAX\","
			   "\"SecretAccessKey\":\"sec\",\"Token\":\"tok\","
			   "\"Expiration\":\"2026-11-26T09:00:00Z\"}";
	const char *container = "{\"AccessKeyId\":\"ASIAC\",\"SecretAccessKey\":\"s\","
				"\"Token\":\"t\",\"Expiration\":\"2026-11-26T09:00:00.500Z\","
				"\"RoleArn\":\"arn\"}";
	const char *bad[] = {
		"",
		"not json",
		"[]",
		"{\"Code\":\"Failure\",\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"}",
		"{\"AccessKeyId\":\"A\"}",
		"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"Expiration\":\"tomorrow\"}",
		"{\"AccessKeyId\":5,\"SecretAccessKey\":\"s\"}",
		"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\"",
		/* nested deeper than the bounded reader's 32 levels */
		"{\"AccessKeyId\":\"A\",\"SecretAccessKey\":\"s\",\"x\":"
		"[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}",
	};

	(void)state;
	assert_int_equal(credentials_parse_json(good, strlen(good), &set), 0);
	assert_string_equal(set.access_key_id, "ASIAX");
	assert_string_equal(set.session_token, "tok");
	assert_true(set.expiry_wall_ms == 1795683600000ull);
	credentials_set_finish(&set);
	assert_int_equal(credentials_parse_json(container, strlen(container), &set), 0);
	assert_true(set.expiry_wall_ms == 1795683600500ull);
	credentials_set_finish(&set);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (credentials_parse_json(bad[i], strlen(bad[i]), &set) != -EPROTO)
			fail_msg("bad document %zu accepted", i);
	assert_null(set.access_key_id);
}

static void test_rfc3339(void **state)
{
	uint64_t ms = 0;

	(void)state;
	assert_int_equal(credentials_parse_rfc3339("2026-11-26T09:00:00Z", &ms), 0);
	assert_true(ms == 1795683600000ull);
	assert_int_equal(credentials_parse_rfc3339("2026-11-26T10:00:00+01:00", &ms), 0);
	assert_true(ms == 1795683600000ull);
	assert_int_equal(credentials_parse_rfc3339("2026-11-26T09:00:00.123456Z", &ms), 0);
	assert_true(ms == 1795683600123ull);
	assert_int_equal(credentials_parse_rfc3339("2026-11-26 09:00:00Z", &ms), -EINVAL);
	assert_int_equal(credentials_parse_rfc3339("2026-11-26T09:00:00", &ms), -EINVAL);
	assert_int_equal(credentials_parse_rfc3339("2026-13-26T09:00:00Z", &ms), -EINVAL);
	assert_int_equal(credentials_parse_rfc3339("2026-11-26T09:00:00.Z", &ms), -EINVAL);
	assert_int_equal(credentials_parse_rfc3339("2026-11-26T09:00:00Zjunk", &ms), -EINVAL);
	assert_int_equal(credentials_parse_rfc3339(NULL, &ms), -EINVAL);
}

static const struct {
	const char *relative;
	const char *full;
	int r;
	const char *url;
} container_cases[] = {
	{"/v2/credentials/abc", NULL, 0, "http://169.254.170.2/v2/credentials/abc"},
	{"/v2/credentials/abc", "http://127.0.0.1:9/x", 0,
		"http://169.254.170.2/v2/credentials/abc"},
	{"v2/no-slash", NULL, -EINVAL, NULL},
	{NULL, NULL, -ENOENT, NULL},
	{"", "", -ENOENT, NULL},
	{NULL, "http://127.0.0.1:8080/creds", 0, "http://127.0.0.1:8080/creds"},
	{NULL, "http://127.1.2.3/creds", 0, "http://127.1.2.3/creds"},
	{NULL, "http://localhost:80/creds", 0, "http://localhost:80/creds"},
	{NULL, "http://[::1]:80/creds", 0, "http://[::1]:80/creds"},
	{NULL, "http://169.254.170.2/creds", 0, "http://169.254.170.2/creds"},
	{NULL, "http://169.254.170.23/v1/credentials", 0, "http://169.254.170.23/v1/credentials"},
	{NULL, "http://[fd00:ec2::23]/v1/credentials", 0, "http://[fd00:ec2::23]/v1/credentials"},
	{NULL, "https://creds.example.com/x", 0, "https://creds.example.com/x"},
	{NULL, "http://creds.example.com/x", -EACCES, NULL},
	{NULL, "http://10.0.0.1/x", -EACCES, NULL},
	{NULL, "http://169.254.169.254/x", -EACCES, NULL},
	{NULL, "http://127.0.0.1@evil.example/x", -EINVAL, NULL},
	{NULL, "ftp://127.0.0.1/x", -EINVAL, NULL},
	{NULL, "http://127.0.0.1/a b", -EINVAL, NULL},
};

static void test_container_url(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(container_cases) / sizeof(container_cases[0]); i++) {
		char *url = NULL;
		int r = credentials_container_url(
			container_cases[i].relative, container_cases[i].full, &url);
		if (r != container_cases[i].r ||
			(r == 0 && strcmp(url, container_cases[i].url) != 0))
			fail_msg("case %zu: r=%d url=%s", i, r, url ? url : "(null)");
		free(url);
	}
}

static void test_container_token(void **state)
{
	char path[] = "/tmp/qscale-token-XXXXXX";
	char *token = NULL;
	int fd = mkstemp(path);

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "file-token\n", 11), 11);
	close(fd);
	assert_int_equal(credentials_container_token(path, "env-token", &token), 0);
	assert_string_equal(token, "file-token");
	free(token);
	assert_int_equal(credentials_container_token(NULL, "env-token", &token), 0);
	assert_string_equal(token, "env-token");
	free(token);
	assert_int_equal(credentials_container_token(NULL, NULL, &token), 0);
	assert_null(token);
	assert_int_equal(credentials_container_token(NULL, "a\r\nX-Evil: 1", &token), -EINVAL);
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_int_equal(write(fd, "a\nb\n", 4), 4);
	close(fd);
	assert_int_equal(credentials_container_token(path, NULL, &token), -EINVAL);
	unlink(path);
	assert_int_equal(credentials_container_token(path, NULL, &token), -ENOENT);
}

/* The permission rule, table-driven. */
static void test_file_check(void **state)
{
	static const struct {
		unsigned mode, uid, euid;
		int want;
		const char *why;
	} cases[] = {
		{0100600, 1000, 1000, 0, ""},
		{0100640, 0, 1000, 0, ""}, /* the root-owned copy a unit keeps */
		{0100644, 0, 0, 0, ""},
		{0100666, 1000, 1000, -EPERM, "world-writable (mode 0666)"},
		{0100620, 1000, 1000, -EPERM, "group-writable (mode 0620)"},
		{0100600, 1001, 1000, -EPERM, "owned by uid 1001"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char why[192] = "";
		int r = credentials_file_check(
			cases[i].mode, cases[i].uid, cases[i].euid, why, sizeof(why));

		assert_int_equal(r, cases[i].want);
		assert_non_null(strstr(why, cases[i].why));
	}
}

/* Warnings the chain logs about its files. */
static int warnings;
static char last_warning[512];

static void count_warnings(enum log_level level, const char *line, void *arg)
{
	(void)arg;
	if (level == LOG_LEVEL_WARN && strstr(line, "credentials=file") != NULL) {
		warnings++;
		snprintf(last_warning, sizeof(last_warning), "%s", line);
	}
}

struct files_fixture {
	struct event_base *base;
	struct clock_manual clock;
	struct credentials *creds;
	char dir[64];
	char path[128];
	const char *env[8];
	int got;
};

static void got_cb(int err, const struct sigv4_credentials *creds, void *arg)
{
	struct files_fixture *f = arg;

	(void)creds;
	f->got = err == 0 ? 1 : -1;
}

/* Ask the chain for credentials and run the loop until it answers. */
static int get(struct files_fixture *f)
{
	f->got = 0;
	assert_int_equal(credentials_get(f->creds, got_cb, f, NULL), 0);
	while (f->got == 0)
		event_base_loop(f->base, EVLOOP_ONCE);
	return f->got;
}

/* Write the credentials file with a given mode and modification time (wall ms). */
static void put_file(struct files_fixture *f, const char *akid, unsigned mode, uint64_t mtime_ms)
{
	char *tmp = malloc(strlen(f->path) + 5);
	struct timeval tv[2];
	FILE *out;

	sprintf(tmp, "%s.tmp", f->path);
	out = fopen(tmp, "w");
	assert_non_null(out);
	fprintf(out, "[default]\naws_access_key_id = %s\naws_secret_access_key = s\n", akid);
	fclose(out);
	assert_int_equal(chmod(tmp, mode), 0);
	tv[0].tv_sec = tv[1].tv_sec = (time_t)(mtime_ms / 1000);
	tv[0].tv_usec = tv[1].tv_usec = (suseconds_t)(mtime_ms % 1000) * 1000;
	assert_int_equal(utimes(tmp, tv), 0);
	assert_int_equal(rename(tmp, f->path), 0);
	free(tmp);
}

static int files_setup(void **state)
{
	struct files_fixture *f = calloc(1, sizeof(*f));
	struct timeval now;
	struct credentials_config cfg = {.env = fake_env};

	gettimeofday(&now, NULL);
	f->base = event_base_new();
	clock_manual_init(
		&f->clock, 1000000, (uint64_t)now.tv_sec * 1000 + (uint64_t)now.tv_usec / 1000);
	snprintf(f->dir, sizeof(f->dir), "/tmp/qscale-creds-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/credentials", f->dir);
	f->env[0] = "AWS_SHARED_CREDENTIALS_FILE";
	f->env[1] = f->path;
	f->env[2] = "AWS_CONFIG_FILE";
	f->env[3] = "/nonexistent/qscale/config";
	f->env[4] = "AWS_EC2_METADATA_DISABLED";
	f->env[5] = "true";
	f->env[6] = NULL;
	cfg.env_ctx = f->env;
	assert_int_equal(credentials_create(f->base, NULL, &f->clock.clock, &cfg, &f->creds), 0);
	warnings = 0;
	log_set_sink(count_warnings, NULL);
	*state = f;
	return 0;
}

static int files_teardown(void **state)
{
	struct files_fixture *f = *state;

	log_set_sink(NULL, NULL);
	credentials_destroy(f->creds);
	event_base_free(f->base);
	unlink(f->path);
	rmdir(f->dir);
	free(f);
	return 0;
}

/* Age in whole seconds as the metrics see it. */
static int64_t age_s(struct files_fixture *f)
{
	struct credentials_info info;

	credentials_get_info(f->creds, &info);
	return info.age_ms < 0 ? -1 : info.age_ms / 1000;
}

/* The age is the file's, not the last read's; a rotation that stops shows. */
static void test_file_age(void **state)
{
	struct files_fixture *f = *state;
	uint64_t written = f->clock.wall_ms - 600000; /* ten minutes ago */

	assert_int_equal(age_s(f), -1);
	put_file(f, "AKIDOLD", 0600, written);
	assert_int_equal(get(f), 1);
	assert_int_equal(age_s(f), 600);

	/* Re-read (the file is checked at least once a minute): the age goes on. */
	clock_manual_advance(&f->clock, 53000);
	credentials_invalidate(f->creds);
	assert_int_equal(get(f), 1);
	assert_int_equal(age_s(f), 653);

	/* The wall clock jumps back an hour: the age neither freezes nor drops. */
	f->clock.wall_ms -= 3600000;
	f->clock.mono_ms += 2000;
	credentials_invalidate(f->creds);
	assert_int_equal(get(f), 1);
	assert_int_equal(age_s(f), 655);
	f->clock.wall_ms += 3600000;

	/* Rotated now: young again; then rotation stops and the age grows. */
	put_file(f, "AKIDNEW", 0600, f->clock.wall_ms + 2000);
	credentials_invalidate(f->creds);
	assert_int_equal(get(f), 1);
	assert_int_equal(age_s(f), 0);
	clock_manual_advance(&f->clock, 120000);
	assert_int_equal(age_s(f), 120);
	struct credentials_info info;
	credentials_get_info(f->creds, &info);
	assert_string_equal(info.access_key_id, "AKIDNEW");
	assert_string_equal(info.file_warning, "");
	assert_int_equal(warnings, 0);
}

/* A file others may write is used, with a warning said once; unreadable is said once too. */
static void test_file_permissions(void **state)
{
	struct files_fixture *f = *state;
	struct credentials_info info;

	put_file(f, "AKIDLOOSE", 0666, f->clock.wall_ms);
	assert_int_equal(get(f), 1);
	credentials_get_info(f->creds, &info);
	assert_string_equal(info.access_key_id, "AKIDLOOSE");
	assert_non_null(strstr(info.file_warning, "world-writable (mode 0666)"));
	assert_int_equal(warnings, 1);
	assert_non_null(strstr(last_warning, "problem=\"world-writable"));
	for (int i = 0; i < 3; i++) {
		clock_manual_advance(&f->clock, 61000);
		credentials_invalidate(f->creds);
		assert_int_equal(get(f), 1);
	}
	assert_int_equal(warnings, 1);

	/* Fixed: the warning goes. Then a FIFO in its place: said once, keys kept. */
	put_file(f, "AKIDTIGHT", 0600, f->clock.wall_ms);
	credentials_invalidate(f->creds);
	assert_int_equal(get(f), 1);
	credentials_get_info(f->creds, &info);
	assert_string_equal(info.file_warning, "");
	assert_int_equal(unlink(f->path), 0);
	assert_int_equal(mkfifo(f->path, 0600), 0);
	for (int i = 0; i < 3; i++) {
		clock_manual_advance(&f->clock, 61000);
		credentials_invalidate(f->creds);
		assert_int_equal(get(f), 1);
	}
	assert_int_equal(warnings, 2);
	assert_non_null(strstr(last_warning, "not a regular file (a FIFO)"));
	credentials_get_info(f->creds, &info);
	assert_string_equal(info.access_key_id, "AKIDTIGHT");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ini_credentials_file),
		cmocka_unit_test(test_ini_config_file),
		cmocka_unit_test(test_ini_junk),
		cmocka_unit_test(test_ini_empty_and_partial),
		cmocka_unit_test(test_ini_load),
		cmocka_unit_test(test_env_provider),
		cmocka_unit_test(test_credentials_json),
		cmocka_unit_test(test_rfc3339),
		cmocka_unit_test(test_container_url),
		cmocka_unit_test(test_container_token),
		cmocka_unit_test(test_file_check),
		cmocka_unit_test_setup_teardown(test_file_age, files_setup, files_teardown),
		cmocka_unit_test_setup_teardown(test_file_permissions, files_setup, files_teardown),
	};

	return cmocka_run_group_tests_name("aws_credentials", tests, NULL, NULL);
}
