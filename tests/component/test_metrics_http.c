/*
 * The metrics and health endpoint over real loopback TCP: a server bound to
 * port 0 and an evhttp client on the same loop. Checks /metrics (status,
 * Content-Type, body parsed line by line), /healthz, /readyz both ways, 404,
 * 405, HEAD, and that a taken port is reported; and that accept() failing
 * for want of descriptors pauses the listener (no spin, one log line) and
 * resumes once descriptors are back.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>
#include <netinet/in.h>

#include "qscale/listen_addr.h"
#include "qscale/log.h"
#include "qscale/metrics.h"
#include "qscale/metrics_http.h"

struct fixture {
	struct event_base *base;
	struct metrics *metrics;
	struct metrics_family *cycles;
	struct metrics_http *http;
	bool ready;
	int collects;
};

struct response {
	struct event_base *base;
	int code;
	char content_type[128];
	char allow[64];
	char body[8192];
	bool done;
};

/* Readiness as the fixture says. */
static bool is_ready(void *arg, struct buf *reason)
{
	struct fixture *f = arg;

	if (!f->ready)
		buf_puts(reason, "policy orders: no successful cycle yet");
	return f->ready;
}

/* Count renders; update a gauge like the daemon would. */
static void collect(void *arg)
{
	struct fixture *f = arg;

	f->collects++;
}

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct listen_addr addr;
	struct metrics_http_config cfg;

	f->base = event_base_new();
	f->metrics = metrics_create(0);
	assert_int_equal(metrics_register(f->metrics, METRICS_COUNTER, "qscale_cycles_total",
				 "Control cycles run.", (const char *const[]){"policy", NULL}, NULL,
				 0, &f->cycles),
		0);
	assert_int_equal(metrics_counter_add(f->cycles, (const char *const[]){"orders"}, 3), 0);
	assert_int_equal(listen_addr_parse("127.0.0.1:0", &addr), 0);
	cfg = (struct metrics_http_config){
		.addr = &addr,
		.metrics = f->metrics,
		.ready = is_ready,
		.collect = collect,
		.arg = f,
	};
	assert_int_equal(metrics_http_create(f->base, &cfg, &f->http), 0);
	assert_true(metrics_http_port(f->http) != 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	metrics_http_destroy(f->http);
	metrics_destroy(f->metrics);
	event_base_free(f->base);
	free(f);
	return 0;
}

/* Client side: copy what the response carried and leave the loop. */
static void on_response(struct evhttp_request *req, void *arg)
{
	struct response *r = arg;
	const char *v;

	r->done = true;
	event_base_loopbreak(r->base);
	if (req == NULL)
		return;
	r->code = evhttp_request_get_response_code(req);
	v = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
	snprintf(r->content_type, sizeof(r->content_type), "%s", v ? v : "");
	v = evhttp_find_header(evhttp_request_get_input_headers(req), "Allow");
	snprintf(r->allow, sizeof(r->allow), "%s", v ? v : "");
	ev_ssize_t n = evbuffer_copyout(
		evhttp_request_get_input_buffer(req), r->body, sizeof(r->body) - 1);
	r->body[n > 0 ? n : 0] = '\0';
}

/* Guard: a hung request fails instead of waiting for ever. */
static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* One request over a fresh connection; the answer in *r. */
static void request(
	struct fixture *f, enum evhttp_cmd_type method, const char *path, struct response *r)
{
	struct evhttp_connection *conn =
		evhttp_connection_base_new(f->base, NULL, "127.0.0.1", metrics_http_port(f->http));
	struct evhttp_request *req;
	struct event *guard = evtimer_new(f->base, on_guard, f->base);
	struct timeval tv = {.tv_sec = 20};

	memset(r, 0, sizeof(*r));
	r->base = f->base;
	assert_non_null(conn);
	req = evhttp_request_new(on_response, r);
	evhttp_add_header(evhttp_request_get_output_headers(req), "Host", "127.0.0.1");
	assert_int_equal(evhttp_make_request(conn, req, method, path), 0);
	evtimer_add(guard, &tv);
	event_base_dispatch(f->base);
	assert_true(r->done);
	event_free(guard);
	evhttp_connection_free(conn);
}

static void test_metrics(void **state)
{
	struct fixture *f = *state;
	struct response r;
	bool help = false, type = false, sample = false;
	char *save = NULL;

	request(f, EVHTTP_REQ_GET, "/metrics", &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.content_type, "text/plain; version=0.0.4; charset=utf-8");
	assert_int_equal(f->collects, 1);
	for (char *line = strtok_r(r.body, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		double v = 0;

		if (strcmp(line, "# HELP qscale_cycles_total Control cycles run.") == 0)
			help = true;
		else if (strcmp(line, "# TYPE qscale_cycles_total counter") == 0)
			type = true;
		else if (sscanf(line, "qscale_cycles_total{policy=\"orders\"} %lf", &v) == 1)
			sample = v == 3;
		else
			fail_msg("unexpected line: %s", line);
	}
	assert_true(help && type && sample);

	/* a query string does not change the path */
	request(f, EVHTTP_REQ_GET, "/metrics?name[]=x", &r);
	assert_int_equal(r.code, 200);
	assert_non_null(strstr(r.body, "qscale_cycles_total{policy=\"orders\"} 3\n"));

	request(f, EVHTTP_REQ_HEAD, "/metrics", &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "");
}

static void test_health_and_ready(void **state)
{
	struct fixture *f = *state;
	struct response r;

	request(f, EVHTTP_REQ_GET, "/healthz", &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "ok\n");

	f->ready = false;
	request(f, EVHTTP_REQ_GET, "/readyz", &r);
	assert_int_equal(r.code, 503);
	assert_string_equal(r.body, "not ready: policy orders: no successful cycle yet\n");

	f->ready = true;
	request(f, EVHTTP_REQ_GET, "/readyz", &r);
	assert_int_equal(r.code, 200);
	assert_string_equal(r.body, "ready\n");
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	struct response r;
	static const char *const missing[] = {"/", "/metricsx", "/metrics/", "/health", "/../etc"};

	for (size_t i = 0; i < sizeof(missing) / sizeof(missing[0]); i++) {
		request(f, EVHTTP_REQ_GET, missing[i], &r);
		assert_int_equal(r.code, 404);
	}
	request(f, EVHTTP_REQ_POST, "/metrics", &r);
	assert_int_equal(r.code, 405);
	assert_string_equal(r.allow, "GET, HEAD");
	request(f, EVHTTP_REQ_DELETE, "/healthz", &r);
	assert_int_equal(r.code, 405);
	request(f, EVHTTP_REQ_PUT, "/readyz", &r);
	assert_int_equal(r.code, 405);
	assert_true(metrics_http_requests(f->http) >= 8);
}

static void test_port_taken(void **state)
{
	struct fixture *f = *state;
	struct listen_addr addr, off;
	struct metrics_http *second = NULL;
	struct metrics_http_config cfg = {.addr = &addr, .metrics = f->metrics};
	char text[64];

	snprintf(text, sizeof(text), "127.0.0.1:%u", (unsigned)metrics_http_port(f->http));
	assert_int_equal(listen_addr_parse(text, &addr), 0);
	assert_int_equal(metrics_http_create(f->base, &cfg, &second), -EADDRINUSE);
	assert_null(second);
	assert_int_equal(listen_addr_parse("", &off), 0);
	cfg.addr = &off;
	assert_int_equal(metrics_http_create(f->base, &cfg, &second), -EINVAL);
	metrics_http_destroy(NULL);
}

static void test_ipv6(void **state)
{
	struct fixture *f = *state;
	struct listen_addr addr;
	struct metrics_http *h = NULL;
	struct metrics_http_config cfg = {.addr = &addr, .metrics = f->metrics};
	int r;

	assert_int_equal(listen_addr_parse("[::1]:0", &addr), 0);
	r = metrics_http_create(f->base, &cfg, &h);
	if (r == -EADDRNOTAVAIL || r == -EAFNOSUPPORT)
		skip(); /* no IPv6 loopback on this machine */
	assert_int_equal(r, 0);
	assert_true(metrics_http_port(h) != 0);
	metrics_http_destroy(h);
}

static int accept_lines;

/* Count the accept() failure lines. */
static void count_lines(enum log_level level, const char *line, void *arg)
{
	(void)level;
	(void)arg;
	if (strstr(line, "metrics_http=accept") != NULL)
		accept_lines++;
}

/* Turns of the loop over about ms milliseconds. */
static int loop_turns(struct event_base *base, int ms)
{
	struct timeval end, now;
	int turns = 0;

	gettimeofday(&end, NULL);
	end.tv_usec += (ms % 1000) * 1000;
	end.tv_sec += ms / 1000 + end.tv_usec / 1000000;
	end.tv_usec %= 1000000;
	do {
		struct timeval tick = {0, 20000};

		event_base_loopexit(base, &tick);
		event_base_loop(base, EVLOOP_ONCE);
		turns++;
		gettimeofday(&now, NULL);
	} while (timercmp(&now, &end, <));
	return turns;
}

/* No descriptor left for accept(): pause, say so once, resume later. */
static void test_accept_without_descriptors(void **state)
{
	struct fixture *f = *state;
	struct sockaddr_in sin = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	struct metrics_http_stats st;
	struct rlimit saved, low;
	int clients[4], spare;

	sin.sin_port = htons(metrics_http_port(f->http));
	for (int i = 0; i < 4; i++) {
		clients[i] = socket(AF_INET, SOCK_STREAM, 0);
		assert_true(clients[i] >= 0);
		/* Completes from the listen backlog before any accept(). */
		assert_int_equal(connect(clients[i], (struct sockaddr *)&sin, sizeof(sin)), 0);
	}
	/* Every descriptor below the limit is taken: accept() must fail with EMFILE. */
	spare = dup(clients[0]);
	assert_true(spare >= 0);
	close(spare);
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &saved), 0);
	low = saved;
	low.rlim_cur = (rlim_t)spare;
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &low), 0);
	log_set_sink(count_lines, NULL);
	accept_lines = 0;
	int turns = loop_turns(f->base, 1500);
	metrics_http_get_stats(f->http, &st);
	assert_int_equal(setrlimit(RLIMIT_NOFILE, &saved), 0);
	/* A spin would turn the loop as fast as it can; a pause turns it at the tick. */
	assert_true(turns < 200);
	assert_true(st.accept_errors >= 1 && st.accept_errors <= 3);
	assert_int_equal(accept_lines, 1);
	assert_int_equal(st.accepted, 0);

	/*
	 * Descriptors are back: the queued connections are taken (bounded wait).
	 * All four on a kernel; under valgrind, whose accept() closes a descriptor
	 * above its own limit and reports EMFILE, those taken meanwhile are lost.
	 */
	for (int i = 0; i < 20 && st.accepted < 4; i++) {
		loop_turns(f->base, 250);
		metrics_http_get_stats(f->http, &st);
	}
	log_set_sink(NULL, NULL);
	assert_true(st.accepted >= 1 && st.accepted <= 4);
	assert_int_equal(accept_lines, 1);
	for (int i = 0; i < 4; i++)
		close(clients[i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_and_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
		cmocka_unit_test_setup_teardown(test_accept_without_descriptors, setup, teardown),
	};

	return cmocka_run_group_tests_name("metrics_http", tests, NULL, NULL);
}
