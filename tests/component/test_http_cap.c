/*
 * The HTTP client's per-origin cap against a server on 127.0.0.1 (libevent's
 * evhttp on the same loop) that holds every request for a short while: at
 * most max_connections requests reach the server at once, the rest arrive in
 * the order they were started, a second burst reuses the same connections
 * (no new connection, so over TLS no new handshake), a request cancelled
 * while it waits never reaches the server nor calls back, and the time a
 * request waits counts against its timeout. A connection the server closes
 * while it sits idle in the cache is replaced, and the CA bundle is checked
 * again before every https request, whatever an earlier check found.
 */
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "qscale/http.h"

#define MAX_SEEN 64
#define HOLD_MS 30

/* A request the server holds before answering; req is NULL once its client left. */
struct held {
	struct evhttp_request *req;
	struct evhttp_connection *evcon;
	struct event *timer;
	struct held *next;
};

static struct held *held_list;

static struct {
	struct event_base *base;
	struct evhttp *http;
	int port;
	int holding; /* requests received and not yet answered */
	int holding_max;
	int order[MAX_SEEN]; /* the number in each request's path, as they arrived */
	int n_seen;
	struct evhttp_connection *evcons[MAX_SEEN]; /* every connection a request came on */
	int n_evcons;
} srv;

/* Answer a held request. */
static void answer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct held *h = arg;
	struct evbuffer *out = evbuffer_new();

	(void)fd;
	(void)what;
	evbuffer_add(out, "{}", 2);
	if (h->req != NULL)
		evhttp_send_reply(h->req, 200, "OK", out);
	evbuffer_free(out);
	for (struct held **pp = &held_list; *pp != NULL; pp = &(*pp)->next) {
		if (*pp == h) {
			*pp = h->next;
			break;
		}
	}
	event_free(h->timer);
	free(h);
	srv.holding--;
}

/* A client hung up: its held requests die with the connection. */
static void close_cb(struct evhttp_connection *evcon, void *arg)
{
	(void)arg;
	for (struct held *h = held_list; h != NULL; h = h->next)
		if (h->evcon == evcon)
			h->req = NULL;
}

/* Record the request's number and hold it for HOLD_MS. */
static void server_cb(struct evhttp_request *req, void *arg)
{
	struct held *h = calloc(1, sizeof(*h));
	struct timeval tv = {.tv_sec = 0, .tv_usec = HOLD_MS * 1000};
	const char *uri = evhttp_request_get_uri(req);

	(void)arg;
	if (srv.n_seen < MAX_SEEN)
		srv.order[srv.n_seen++] = atoi(uri + 1);
	srv.holding++;
	if (srv.holding > srv.holding_max)
		srv.holding_max = srv.holding;
	h->req = req;
	h->evcon = evhttp_request_get_connection(req);
	bool known = false;
	for (int i = 0; i < srv.n_evcons; i++)
		known = known || srv.evcons[i] == h->evcon;
	if (!known && srv.n_evcons < MAX_SEEN)
		srv.evcons[srv.n_evcons++] = h->evcon;
	evhttp_connection_set_closecb(h->evcon, close_cb, NULL);
	h->next = held_list;
	held_list = h;
	h->timer = evtimer_new(srv.base, answer_cb, h);
	evtimer_add(h->timer, &tv);
}

static int group_setup(void **state)
{
	struct sockaddr_in sin = {0};
	socklen_t len = sizeof(sin);

	(void)state;
	unsetenv("AWS_CA_BUNDLE");
	srv.base = event_base_new();
	srv.http = evhttp_new(srv.base);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(srv.http, "127.0.0.1", 0);
	assert_non_null(bs);
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &len);
	srv.port = ntohs(sin.sin_port);
	evhttp_set_gencb(srv.http, server_cb, NULL);
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	evhttp_free(srv.http);
	event_base_free(srv.base);
	return 0;
}

static int done[MAX_SEEN];
static int n_done;

/* Record which request finished. */
static void done_cb(const struct http_response *resp, void *arg)
{
	assert_int_equal(resp->err, 0);
	assert_int_equal(resp->status, 200);
	if (n_done < MAX_SEEN)
		done[n_done++] = (int)(intptr_t)arg;
}

/* Start request number n. */
static struct http_request *start(struct http_client *c, int n)
{
	char url[96];
	struct http_request *req = NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/%d", srv.port, n);
	struct http_request_opts opts = {.method = "GET", .url = url, .timeout_ms = 20000};

	assert_int_equal(http_request_start(c, &opts, done_cb, (void *)(intptr_t)n, &req), 0);
	return req;
}

/* Run the loop until want requests finished (bounded). */
static void run_until(int want)
{
	for (int i = 0; i < 2000 && n_done < want; i++)
		event_base_loop(srv.base, EVLOOP_ONCE);
	assert_int_equal(n_done, want);
}

/* Forget what the server and the callbacks saw. */
static void reset(void)
{
	srv.n_seen = 0;
	srv.holding_max = 0;
	n_done = 0;
}

static void test_cap_and_order(void **state)
{
	struct http_client_config cfg = {.max_connections = 2};
	struct http_client *c = NULL;
	struct http_client_stats st;

	(void)state;
	assert_int_equal(http_client_create(srv.base, &cfg, &c), 0);
	reset();
	for (int i = 1; i <= 8; i++)
		start(c, i);
	assert_int_equal(http_client_active(c), 8);
	run_until(8);
	assert_true(srv.holding_max <= 2);
	assert_int_equal(srv.holding_max, 2);
	assert_int_equal(srv.n_seen, 8);
	for (int i = 0; i < 8; i++)
		assert_int_equal(srv.order[i], i + 1);
	http_client_get_stats(c, &st);
	assert_int_equal(st.requests, 8);
	assert_int_equal(st.connections, 2);
	assert_int_equal(st.tls_handshakes, 0);
	assert_int_equal(st.waited, 6);
	assert_int_equal(st.waiting_max, 6);
	assert_int_equal(st.in_flight_max, 2);
	assert_int_equal(st.in_flight, 0);
	assert_int_equal(st.waiting, 0);

	/* The next cycle: the same two connections, none new. */
	reset();
	for (int i = 1; i <= 8; i++)
		start(c, i);
	run_until(8);
	http_client_get_stats(c, &st);
	assert_int_equal(st.requests, 16);
	assert_int_equal(st.connections, 2);
	assert_int_equal(srv.holding_max, 2);
	http_client_destroy(c);
}

static void test_cancel_while_waiting(void **state)
{
	struct http_client_config cfg = {.max_connections = 1};
	struct http_client *c = NULL;

	(void)state;
	assert_int_equal(http_client_create(srv.base, &cfg, &c), 0);
	reset();
	start(c, 1);
	struct http_request *second = start(c, 2);
	start(c, 3);
	http_request_cancel(second);
	assert_int_equal(http_client_active(c), 2);
	run_until(2);
	assert_int_equal(done[0], 1);
	assert_int_equal(done[1], 3);
	assert_int_equal(srv.n_seen, 2);
	assert_int_equal(srv.order[1], 3);
	/* Destroying with requests waiting cancels them all, no callback. */
	reset();
	for (int i = 1; i <= 4; i++)
		start(c, i);
	http_client_destroy(c);
	for (int i = 0; i < 2000 && srv.holding > 0; i++)
		event_base_loop(srv.base, EVLOOP_ONCE);
	assert_int_equal(srv.holding, 0);
	assert_int_equal(n_done, 0);
}

static int timed_out;

/* Count a request that timed out while it waited for a slot. */
static void timeout_cb(const struct http_response *resp, void *arg)
{
	(void)arg;
	if (resp->err == -ETIMEDOUT)
		timed_out++;
	n_done++;
}

/* Time spent waiting for a slot counts against the request's timeout. */
static void test_wait_counts_against_timeout(void **state)
{
	struct http_client_config cfg = {.max_connections = 1};
	struct http_client *c = NULL;
	char url[96];

	(void)state;
	assert_int_equal(http_client_create(srv.base, &cfg, &c), 0);
	reset();
	timed_out = 0;
	start(c, 1); /* held HOLD_MS by the server */
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/2", srv.port);
	struct http_request_opts opts = {.method = "GET", .url = url, .timeout_ms = HOLD_MS / 3};

	assert_int_equal(http_request_start(c, &opts, timeout_cb, NULL, NULL), 0);
	run_until(2);
	assert_int_equal(done[0], 1);
	assert_int_equal(timed_out, 1);
	http_client_destroy(c);
	for (int i = 0; i < 2000 && srv.holding > 0; i++)
		event_base_loop(srv.base, EVLOOP_ONCE);
}

/* The server hangs up every idle connection; none holds a request. */
static void server_close_all(void)
{
	for (int i = 0; i < srv.n_evcons; i++)
		evhttp_connection_free(srv.evcons[i]);
	srv.n_evcons = 0;
}

/*
 * Connections the server closed while they sat idle in the cache: their
 * sockets' events stay no longer than the sockets, and the next burst opens
 * new connections and finishes as the first did.
 */
static void test_idle_closed_by_server(void **state)
{
	struct http_client_config cfg = {.max_connections = 2};
	struct http_client *c = NULL;
	struct http_client_stats st;

	(void)state;
	assert_int_equal(http_client_create(srv.base, &cfg, &c), 0);
	reset();
	srv.n_evcons = 0;
	for (int i = 1; i <= 4; i++)
		start(c, i);
	run_until(4);
	http_client_get_stats(c, &st);
	assert_int_equal(st.connections, 2);
	server_close_all();
	/* Let the client see the hang-ups while nothing runs. */
	for (int i = 0; i < 20; i++)
		event_base_loop(srv.base, EVLOOP_NONBLOCK);
	reset();
	for (int i = 1; i <= 4; i++)
		start(c, i);
	run_until(4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(srv.order[i], i + 1);
	http_client_get_stats(c, &st);
	assert_int_equal(st.requests, 8);
	assert_int_equal(st.connections, 4);
	/* And once more over the new connections, kept this time. */
	reset();
	for (int i = 1; i <= 4; i++)
		start(c, i);
	run_until(4);
	http_client_get_stats(c, &st);
	assert_int_equal(st.connections, 4);
	http_client_destroy(c);
	srv.n_evcons = 0;
}

/* Never called: the https requests of the CA test are cancelled before they connect. */
static void never_cb(const struct http_response *resp, void *arg)
{
	(void)resp;
	(void)arg;
	fail();
}

/* Start an https request to the test server (which speaks no TLS) and cancel it. */
static int start_https(struct http_client *c)
{
	char url[96];
	struct http_request *req = NULL;

	snprintf(url, sizeof(url), "https://127.0.0.1:%d/1", srv.port);
	struct http_request_opts opts = {.method = "GET", .url = url, .timeout_ms = 20000};
	int r = http_request_start(c, &opts, never_cb, NULL, &req);

	if (r == 0)
		http_request_cancel(req);
	return r;
}

/* Write a small regular file at path. */
static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

/*
 * The CA bundle is checked before every https request: a FIFO put where a
 * good bundle was is refused at once (libcurl would block the loop opening
 * it), and a regular file put back is accepted again.
 */
static void test_ca_bundle_each_request(void **state)
{
	const char *tmp = getenv("TMPDIR");
	char dir[256];
	char path[300];
	struct http_client *c = NULL;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/qscale-http-ca-XXXXXX",
		tmp != NULL && tmp[0] != '\0' ? tmp : P_tmpdir);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/ca.pem", dir);
	write_file(path, "not a certificate\n");
	struct http_client_config cfg = {.max_connections = 2, .ca_bundle = path};

	assert_int_equal(http_client_create(srv.base, &cfg, &c), 0);
	assert_int_equal(start_https(c), 0);
	assert_int_equal(start_https(c), 0);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(mkfifo(path, 0600), 0);
	assert_true(start_https(c) < 0);
	assert_true(start_https(c) < 0);
	assert_int_equal(unlink(path), 0);
	assert_true(start_https(c) < 0);
	write_file(path, "still not a certificate\n");
	assert_int_equal(start_https(c), 0);
	assert_int_equal(start_https(c), 0);
	http_client_destroy(c);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cap_and_order),
		cmocka_unit_test(test_cancel_while_waiting),
		cmocka_unit_test(test_wait_counts_against_timeout),
		cmocka_unit_test(test_idle_closed_by_server),
		cmocka_unit_test(test_ca_bundle_each_request),
	};

	return cmocka_run_group_tests_name("http_cap", tests, group_setup, group_teardown);
}
