/*
 * The metrics and health endpoint over real loopback TCP: a server bound to
 * port 0 and an evhttp client on the same loop. Checks /metrics (status,
 * Content-Type, body parsed line by line), /healthz, /readyz both ways, 404,
 * 405, HEAD, and that a taken port is reported.
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

#include <cmocka.h>

#include "qscale/listen_addr.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_health_and_ready, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_port_taken, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ipv6, setup, teardown),
	};

	return cmocka_run_group_tests_name("metrics_http", tests, NULL, NULL);
}
