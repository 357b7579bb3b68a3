/*
 * The credential chain's asynchronous providers on a real event loop,
 * against an in-process `qscale emulate` (STS) on 127.0.0.1 port 0, with a
 * hand-driven clock: a role profile is assumed, then assumed again before
 * its expiry while the old set keeps being handed out (nothing waits on the
 * refresh); credential_process output is re-read once it is due; a process
 * that hangs is killed at its bound; the callback never runs inside the
 * call; and destroying the chain mid-refresh kills the child.
 */
#include <errno.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "qscale/clock.h"
#include "qscale/credentials.h"
#include "qscale/diag.h"
#include "qscale/emulate.h"
#include "qscale/http.h"
#include "qscale/scenario.h"
#include "qscale/world.h"
#include "qscale/xalloc.h"

#define KEY "AKIDQSCALETEST"
#define SECRET "qscale-test-secret/K7MDENG+bPxRfiCY"

static struct {
	struct event_base *base;
	struct http_client *http;
	struct scenario *sc;
	struct world *world;
	struct emulate *em;
	char dir[256];
	char config[300];
	const char *env[16];
	struct clock_manual clock; /* wall follows the real clock, moved ahead by tests */
} t;

/* The test's environment: name, value pairs. */
static const char *test_env(const char *name, void *ctx)
{
	(void)ctx;
	for (size_t i = 0; t.env[i] != NULL; i += 2)
		if (strcmp(t.env[i], name) == 0)
			return t.env[i + 1];
	return NULL;
}

/* What one get delivered. */
struct got {
	bool done;
	int err;
	char key[64];
	bool inside; /* the callback ran inside credentials_get */
};

static bool in_get;

static void got_cb(int err, const struct sigv4_credentials *creds, void *arg)
{
	struct got *g = arg;

	g->done = true;
	g->err = err;
	g->inside = in_get;
	if (err == 0)
		snprintf(g->key, sizeof(g->key), "%s", creds->access_key_id);
}

/* Run the loop until g is done (bounded: 60 s of wall time). */
static void wait_for(struct got *g)
{
	for (int i = 0; i < 6000 && !g->done; i++) {
		struct timeval tv = {0, 10000};
		event_base_loopexit(t.base, &tv);
		event_base_dispatch(t.base);
	}
	assert_true(g->done);
}

/* One get from start to end. */
static struct got get_once(struct credentials *c)
{
	struct got g = {0};

	in_get = true;
	assert_int_equal(credentials_get(c, got_cb, &g, NULL), 0);
	in_get = false;
	wait_for(&g);
	assert_false(g.inside);
	return g;
}

/* Write a file under the test folder. */
static char *write_file(const char *name, const char *text, mode_t mode)
{
	char *path = xasprintf("%s/%s", t.dir, name);
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
	return path;
}

static int group_setup(void **state)
{
	const char *data = getenv("QSCALE_TEST_DATA");
	char *path = xasprintf("%s/emulate/base.yaml", data != NULL ? data : "tests/data");
	struct diag diag = {0};
	static struct emulate_auth auth = {KEY, SECRET, "us-east-1"};
	struct emulate_config ec = {.listen = "127.0.0.1:0", .speed = 1.0};

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	const char *tmp = getenv("TMPDIR");
	snprintf(t.dir, sizeof(t.dir), "%s/qscale-creds-XXXXXX",
		tmp != NULL && tmp[0] != '\0' ? tmp : P_tmpdir);
	assert_non_null(mkdtemp(t.dir));
	t.base = event_base_new();
	assert_int_equal(http_client_create(t.base, NULL, &t.http), 0);
	assert_int_equal(scenario_load(path, &t.sc, &diag), 0);
	free(path);
	assert_int_equal(world_create(t.sc, clock_wall_ms(&clock_system), &t.world), 0);
	assert_int_equal(emulate_create(t.base, t.world, &auth, &ec, &t.em), 0);
	snprintf(t.config, sizeof(t.config), "%s/config", t.dir);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	emulate_destroy(t.em);
	world_destroy(t.world);
	scenario_destroy(t.sc);
	http_client_destroy(t.http);
	event_base_free(t.base);
	char *cmd = xasprintf("rm -rf '%s'", t.dir);
	if (system(cmd) != 0)
		fprintf(stderr, "# could not remove %s\n", t.dir);
	free(cmd);
	return 0;
}

/* A chain over the test's environment and clock. */
static struct credentials *make_chain(const char *profile, uint64_t process_timeout_ms)
{
	struct credentials_config cc = {
		.region = "us-east-1",
		.sts_timeout_ms = 10000,
		.process_timeout_ms = process_timeout_ms,
		.env = test_env,
	};
	struct credentials *c = NULL;
	static const char *names[] = {"HOME", "AWS_CONFIG_FILE", "AWS_SHARED_CREDENTIALS_FILE",
		"AWS_ENDPOINT_URL", "AWS_EC2_METADATA_DISABLED", "AWS_PROFILE"};
	static char creds_path[300];

	snprintf(creds_path, sizeof(creds_path), "%s/credentials", t.dir);
	const char *values[] = {t.dir, t.config, creds_path, emulate_url(t.em), "true", profile};
	size_t n = 0;
	for (size_t i = 0; i < 6; i++) {
		t.env[n++] = names[i];
		t.env[n++] = values[i];
	}
	t.env[n] = NULL;
	clock_manual_init(&t.clock, clock_mono_ms(&clock_system), clock_wall_ms(&clock_system));
	assert_int_equal(credentials_create(t.base, t.http, &t.clock.clock, &cc, &c), 0);
	return c;
}

/* A role profile is assumed, and assumed again before it expires without anyone waiting. */
static void test_assume_role_refresh(void **state)
{
	struct credentials_info info;

	(void)state;
	free(write_file("credentials",
		"[base]\naws_access_key_id = " KEY "\naws_secret_access_key = " SECRET "\n", 0600));
	free(write_file("config",
		"[profile app]\nrole_arn = arn:aws:iam::123456789012:role/app\n"
		"source_profile = base\nduration_seconds = 900\n",
		0600));
	struct credentials *c = make_chain("app", 0);
	struct got g1 = get_once(c);
	assert_int_equal(g1.err, 0);
	assert_memory_equal(g1.key, "ASIA", 4);
	credentials_get_info(c, &info);
	assert_int_equal(info.source, CREDENTIALS_SOURCE_ASSUME_ROLE);
	assert_string_equal(info.base, "profile");
	assert_true(info.expiry_wall_ms > clock_wall_ms(&t.clock.clock));
	assert_int_equal(info.refreshes, 0);

	/* 11 of 15 minutes later the set is due: the old one is still handed out at once. */
	clock_manual_advance(&t.clock, 11u * 60u * 1000u);
	struct got g2 = {0};
	in_get = true;
	assert_int_equal(credentials_get(c, got_cb, &g2, NULL), 0);
	in_get = false;
	wait_for(&g2);
	assert_int_equal(g2.err, 0);
	/* The refresh ran beside it; wait for the new set. */
	for (int i = 0; i < 200; i++) {
		credentials_get_info(c, &info);
		if (info.refreshes > 0)
			break;
		struct got g = get_once(c);
		assert_int_equal(g.err, 0);
	}
	credentials_get_info(c, &info);
	assert_int_equal(info.refreshes, 1);
	assert_true(strcmp(info.access_key_id, g1.key) != 0);
	credentials_destroy(c);
}

/* A refused role stops the chain with STS's words. */
static void test_refused_role(void **state)
{
	struct credentials_info info;

	(void)state;
	free(write_file("config",
		"[profile d]\nrole_arn = arn:aws:iam::123456789012:role/denied-x\n"
		"source_profile = base\n",
		0600));
	struct credentials *c = make_chain("d", 0);
	struct got g = get_once(c);
	assert_int_equal(g.err, -EACCES);
	credentials_get_info(c, &info);
	assert_non_null(strstr(info.error_text, "AccessDenied"));
	assert_non_null(strstr(info.error_text, "profile d"));
	credentials_destroy(c);
}

/* credential_process with an Expiration is run again once due; without blocking. */
static void test_process_refresh(void **state)
{
	struct credentials_info info;

	(void)state;
	/* Each run prints a new key id (a counter in a file), valid for 10 minutes. */
	char *counter = xasprintf("%s/count", t.dir);
	char *script_text = xasprintf(
		"#!/bin/sh\nn=$(cat %s 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > %s\n"
		"exp=$(date -u -d @$(( $(date +%%s) + %s )) +%%Y-%%m-%%dT%%H:%%M:%%SZ)\n"
		"printf '{\"Version\": 1, \"AccessKeyId\": \"AKIDRUN%%s\", \"SecretAccessKey\": "
		"\"s\", \"Expiration\": \"%%s\"}' $n $exp\n",
		counter, counter, "$1");
	char *script = write_file("proc.sh", script_text, 0700);
	char *config = xasprintf("[profile p]\ncredential_process = %s 600\n", script);
	free(write_file("config", config, 0600));
	struct credentials *c = make_chain("p", 10000);
	struct got g = get_once(c);
	assert_int_equal(g.err, 0);
	assert_string_equal(g.key, "AKIDRUN1");
	g = get_once(c);
	assert_string_equal(g.key, "AKIDRUN1"); /* not due: not run again */
	clock_manual_advance(&t.clock, 6u * 60u * 1000u);
	g = get_once(c);
	assert_string_equal(g.key, "AKIDRUN1"); /* due: old set now, the run beside it */
	for (int i = 0; i < 500 && strcmp(g.key, "AKIDRUN2") != 0; i++)
		g = get_once(c);
	assert_string_equal(g.key, "AKIDRUN2");
	credentials_get_info(c, &info);
	assert_int_equal(info.source, CREDENTIALS_SOURCE_PROCESS);
	credentials_destroy(c);
	free(config);
	free(script);
	free(script_text);
	free(counter);
}

/* A hanging process is killed at its bound; destroying the chain mid-run kills it too. */
static void test_process_hang(void **state)
{
	struct credentials_info info;

	(void)state;
	char *pidfile = xasprintf("%s/pid", t.dir);
	char *text = xasprintf("#!/bin/sh\necho $$ > %s\nexec sleep 600\n", pidfile);
	char *script = write_file("hang.sh", text, 0700);
	char *config = xasprintf("[profile h]\ncredential_process = %s\n", script);
	free(write_file("config", config, 0600));
	struct credentials *c = make_chain("h", 300);
	struct got g = get_once(c);
	assert_int_equal(g.err, -ETIMEDOUT);
	credentials_get_info(c, &info);
	assert_non_null(strstr(info.error_text, "did not finish within 300 ms"));
	credentials_destroy(c);

	/* Destroyed while the child runs: the child is gone afterwards. */
	unlink(pidfile);
	c = make_chain("h", 60000);
	struct got g2 = {0};
	assert_int_equal(credentials_get(c, got_cb, &g2, NULL), 0);
	for (int i = 0; i < 500 && access(pidfile, R_OK) != 0; i++) {
		struct timeval tv = {0, 10000};
		event_base_loopexit(t.base, &tv);
		event_base_dispatch(t.base);
	}
	FILE *f = fopen(pidfile, "r");
	assert_non_null(f);
	int pid = 0;
	assert_int_equal(fscanf(f, "%d", &pid), 1);
	fclose(f);
	credentials_destroy(c);
	assert_false(g2.done);
	assert_int_equal(kill(pid, 0), -1);
	assert_int_equal(errno, ESRCH);
	free(config);
	free(script);
	free(text);
	free(pidfile);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_assume_role_refresh),
		cmocka_unit_test(test_refused_role),
		cmocka_unit_test(test_process_refresh),
		cmocka_unit_test(test_process_hang),
	};

	return cmocka_run_group_tests_name("creds_chain", tests, group_setup, group_teardown);
}
