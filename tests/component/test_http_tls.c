/*
 * The HTTP client's trust store over real TLS, against an in-process
 * `qscale emulate --tls` on 127.0.0.1 (port 0) with a generated private CA:
 * a CA bundle changed on disk is what the next new connection trusts
 * (another CA's bundle fails verification there, a bundle with no
 * certificate fails as a bad bundle), while a connection verified before the
 * change stays in use. Two emulators make two CAs.
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
#include <unistd.h>

#include <cmocka.h>
#include <event2/event.h>

#include "qscale/clock.h"
#include "qscale/diag.h"
#include "qscale/emulate.h"
#include "qscale/http.h"
#include "qscale/scenario.h"
#include "qscale/world.h"
#include "qscale/xalloc.h"

#define KEY "AKIDEXAMPLE"
#define SECRET "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"

static struct {
	char dir[256];
	char *ca_a, *ca_b, *bundle;
	struct event_base *base;
	struct scenario *sc;
	struct world *world;
	struct emulate *em_a, *em_b; /* em_b only makes the other CA */
} t;

/* What a batch of requests came back with. */
struct batch {
	int pending;
	int ok; /* 200 answers */
	int failed; /* transport failures */
	char error[HTTP_HEADER_VALUE_MAX]; /* the last failure's text */
};

static void done_cb(const struct http_response *resp, void *arg)
{
	struct batch *b = arg;

	if (resp->err == 0 && resp->status == 200) {
		b->ok++;
	} else if (resp->err != 0) {
		b->failed++;
		snprintf(b->error, sizeof(b->error), "%s", resp->transport_error);
	}
	if (--b->pending == 0)
		event_base_loopbreak(t.base);
}

/*
 * One request to em at host ("127.0.0.1" or "localhost": two origins, so
 * that the second makes a connection of its own and resumes no TLS session
 * of the first's, which would skip verification); wait for it.
 */
static struct batch get(struct http_client *c, const struct emulate *em, const char *host)
{
	struct batch b = {.pending = 1};
	const char *port = strrchr(emulate_url(em), ':');
	char *url = xasprintf("https://%s%s/_qscale/connections", host, port);
	struct http_request_opts opts = {.method = "GET", .url = url, .timeout_ms = 60000};

	assert_int_equal(http_request_start(c, &opts, done_cb, &b, NULL), 0);
	free(url);
	event_base_dispatch(t.base);
	assert_int_equal(b.pending, 0);
	return b;
}

/*
 * Put a copy of the file from (or text, when from is NULL) at the bundle's
 * path, as a new file. The old one is kept under another name until the
 * end: its inode cannot come back for the new file, whose times may be
 * those of the old one when both are written within a clock tick.
 */
static void put_bundle(const char *from, const char *text)
{
	static int kept;
	char *tmp = xasprintf("%s.new", t.bundle);
	char *old = xasprintf("%s.%d", t.bundle, kept);
	FILE *out = fopen(tmp, "w");

	if (link(t.bundle, old) == 0)
		kept++;
	free(old);

	assert_non_null(out);
	if (from != NULL) {
		FILE *in = fopen(from, "r");
		char buf[4096];
		size_t n;

		assert_non_null(in);
		while ((n = fread(buf, 1, sizeof(buf), in)) > 0)
			assert_int_equal(fwrite(buf, 1, n, out), n);
		fclose(in);
	} else {
		fputs(text, out);
	}
	assert_int_equal(fclose(out), 0);
	assert_int_equal(rename(tmp, t.bundle), 0);
	free(tmp);
}

static void test_bundle_changes_reach_new_connections(void **state)
{
	struct http_client_config cfg = {.max_connections = 4, .ca_bundle = t.bundle};
	struct http_client *c = NULL;
	struct batch b;

	(void)state;
	put_bundle(t.ca_a, NULL);
	assert_int_equal(http_client_create(t.base, &cfg, &c), 0);
	assert_int_equal(get(c, t.em_a, "127.0.0.1").ok, 1);

	/* The other CA's bundle: its server verifies, A's does on no new connection. */
	put_bundle(t.ca_b, NULL);
	assert_int_equal(get(c, t.em_b, "127.0.0.1").ok, 1);
	b = get(c, t.em_a, "localhost");
	assert_int_equal(b.failed, 1);
	assert_non_null(strstr(b.error, "CA bundle"));
	/* The connection verified before the change still serves. */
	assert_int_equal(get(c, t.em_a, "127.0.0.1").ok, 1);

	/* A regular file without a certificate: a new connection fails as a bad bundle. */
	put_bundle(NULL, "not a certificate\n");
	b = get(c, t.em_b, "localhost");
	assert_int_equal(b.failed, 1);
	assert_non_null(strstr(b.error, "CA bundle"));

	/* The right CA back: a new connection to A verifies again. */
	put_bundle(t.ca_a, NULL);
	assert_int_equal(get(c, t.em_a, "localhost").ok, 1);
	http_client_destroy(c);
}

static int group_setup(void **state)
{
	const char *data = getenv("QSCALE_TEST_DATA");
	const char *tmp = getenv("TMPDIR");
	char *path = xasprintf("%s/emulate/base.yaml", data != NULL ? data : "tests/data");
	struct diag diag = {0};
	static struct emulate_auth auth = {KEY, SECRET, "us-east-1"};

	(void)state;
	signal(SIGPIPE, SIG_IGN);
	/* No proxy: the connections go straight to the emulator. */
	unsetenv("https_proxy");
	unsetenv("HTTPS_PROXY");
	unsetenv("all_proxy");
	unsetenv("ALL_PROXY");
	snprintf(t.dir, sizeof(t.dir), "%s/qscale-http-tls-XXXXXX",
		tmp != NULL && tmp[0] != '\0' ? tmp : P_tmpdir);
	assert_non_null(mkdtemp(t.dir));
	t.ca_a = xasprintf("%s/a.pem", t.dir);
	t.ca_b = xasprintf("%s/b.pem", t.dir);
	t.bundle = xasprintf("%s/bundle.pem", t.dir);
	t.base = event_base_new();
	assert_int_equal(scenario_load(path, &t.sc, &diag), 0);
	free(path);
	assert_int_equal(world_create(t.sc, clock_wall_ms(&clock_system), &t.world), 0);
	struct emulate_config a = {
		.listen = "127.0.0.1:0", .speed = 1.0, .tls = {.enabled = true, .ca_out = t.ca_a}};
	struct emulate_config b = {
		.listen = "127.0.0.1:0", .speed = 1.0, .tls = {.enabled = true, .ca_out = t.ca_b}};
	assert_int_equal(emulate_create(t.base, t.world, &auth, &a, &t.em_a), 0);
	assert_int_equal(emulate_create(t.base, t.world, &auth, &b, &t.em_b), 0);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	emulate_destroy(t.em_a);
	emulate_destroy(t.em_b);
	world_destroy(t.world);
	scenario_destroy(t.sc);
	event_base_free(t.base);
	unlink(t.ca_a);
	unlink(t.ca_b);
	unlink(t.bundle);
	for (int i = 0;; i++) {
		char *old = xasprintf("%s.%d", t.bundle, i);
		int r = unlink(old);

		free(old);
		if (r != 0)
			break;
	}
	rmdir(t.dir);
	free(t.ca_a);
	free(t.ca_b);
	free(t.bundle);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bundle_changes_reach_new_connections),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
