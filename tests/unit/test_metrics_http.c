/*
 * The metrics endpoint's request head parser, table-driven: what is taken
 * (HTTP/1.0 and 1.1, keep-alive rules, absolute targets, pipelined heads)
 * and what is refused with which answer (400, 413, 431, 501); and the
 * connection cap derived from the descriptor limit.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/metrics_http.h"

struct parse_case {
	const char *text;
	int err;
	const char *method, *path;
	bool close;
	size_t consumed; /* 0: the whole text */
};

static const struct parse_case cases[] = {
	{"GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n", 0, "GET", "/metrics", false, 0},
	{"HEAD /healthz HTTP/1.1\r\n\r\n", 0, "HEAD", "/healthz", false, 0},
	{"GET /readyz?x=1 HTTP/1.1\r\n\r\n", 0, "GET", "/readyz", false, 0},
	{"GET http://127.0.0.1:9464/metrics HTTP/1.1\r\n\r\n", 0, "GET", "/metrics", false, 0},
	{"GET /metrics HTTP/1.0\r\n\r\n", 0, "GET", "/metrics", true, 0},
	{"GET /metrics HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n", 0, "GET", "/metrics", false, 0},
	{"GET /metrics HTTP/1.1\r\nConnection: te, close\r\n\r\n", 0, "GET", "/metrics", true, 0},
	{"GET /metrics HTTP/1.1\n\n", 0, "GET", "/metrics", false, 0},
	{"\r\n\r\nGET /metrics HTTP/1.1\r\n\r\n", 0, "GET", "/metrics", false, 0},
	{"GET /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n", 0, "GET", "/metrics", false, 0},
	{"POST /metrics HTTP/1.1\r\n\r\n", 0, "POST", "/metrics", false, 0},
	/* Two heads: only the first is consumed. */
	{"GET /a HTTP/1.1\r\n\r\nGET /b HTTP/1.1\r\n\r\n", 0, "GET", "/a", false, 19},
	/* Not whole yet. */
	{"GET /metrics HTTP/1.1\r\nHost: x\r\n", -EAGAIN, NULL, NULL, false, 0},
	{"", -EAGAIN, NULL, NULL, false, 0},
	{"\r\n", -EAGAIN, NULL, NULL, false, 0},
	/* Refused. */
	{"GET /metrics HTTP/1.1\r\nContent-Length: 5\r\n\r\nhello", -EMSGSIZE, NULL, NULL, false,
		0},
	{"GET /metrics HTTP/1.1\r\nContent-Length: x\r\n\r\n", -EINVAL, NULL, NULL, false, 0},
	{"GET /metrics HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", -ENOSYS, NULL, NULL, false,
		0},
	{"GET /metrics HTTP/2.0\r\n\r\n", -EINVAL, NULL, NULL, false, 0},
	{"GET /metrics\r\n\r\n", -EINVAL, NULL, NULL, false, 0},
	{"GET  /metrics HTTP/1.1\r\n\r\n", -EINVAL, NULL, NULL, false, 0},
	{"G(T /metrics HTTP/1.1\r\n\r\n", -EINVAL, NULL, NULL, false, 0},
	{"GET /me\x1btrics HTTP/1.1\r\n\r\n", -EINVAL, NULL, NULL, false, 0},
	{"GET /metrics HTTP/1.1\r\nNo colon here\r\n\r\n", -EINVAL, NULL, NULL, false, 0},
	{"GET /metrics HTTP/1.1\r\nA: b\r\n folded\r\n\r\n", -EINVAL, NULL, NULL, false, 0},
	{"GET /metrics HTTP/1.1\r\nBad Name: b\r\n\r\n", -EINVAL, NULL, NULL, false, 0},
	{"VERYLONGMETHODNAME /metrics HTTP/1.1\r\n\r\n", -EINVAL, NULL, NULL, false, 0},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const struct parse_case *c = &cases[i];
		struct metrics_http_request req;
		int r = metrics_http_parse(c->text, strlen(c->text), &req);

		if (r != c->err)
			fail_msg("case %zu (%s): got %d, want %d", i, c->text, r, c->err);
		if (r != 0)
			continue;
		assert_string_equal(req.method, c->method);
		assert_string_equal(req.path, c->path);
		if (req.close != c->close)
			fail_msg("case %zu: close %d", i, req.close);
		assert_int_equal(req.consumed, c->consumed ? c->consumed : strlen(c->text));
	}
}

/* A head that never ends is refused once it fills the cap; a long path too. */
static void test_parse_caps(void **state)
{
	static char big[METRICS_HTTP_HEAD_MAX + 64];
	struct metrics_http_request req;

	(void)state;
	memset(big, 'a', sizeof(big));
	memcpy(big, "GET / HTTP/1.1\r\nX: ", 19);
	assert_int_equal(metrics_http_parse(big, METRICS_HTTP_HEAD_MAX - 1, &req), -EAGAIN);
	assert_int_equal(metrics_http_parse(big, METRICS_HTTP_HEAD_MAX, &req), -E2BIG);
	memcpy(big + sizeof(big) - 4, "\r\n\r\n", 4);
	assert_int_equal(metrics_http_parse(big, sizeof(big), &req), -E2BIG);

	memset(big, 'a', sizeof(big));
	memcpy(big, "GET /", 5);
	memcpy(big + 400, " HTTP/1.1\r\n\r\n", 13);
	assert_int_equal(metrics_http_parse(big, 413, &req), -EINVAL);
}

/* The cap keeps most descriptors for the control loop. */
static void test_max_connections(void **state)
{
	(void)state;
	assert_int_equal(metrics_http_max_connections(0), 2);
	assert_int_equal(metrics_http_max_connections(8), 2);
	assert_int_equal(metrics_http_max_connections(64), 8);
	assert_int_equal(metrics_http_max_connections(256), 32);
	assert_int_equal(metrics_http_max_connections(1024), METRICS_HTTP_CONNECTIONS_MAX);
	assert_int_equal(metrics_http_max_connections(1u << 20), METRICS_HTTP_CONNECTIONS_MAX);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_caps),
		cmocka_unit_test(test_max_connections),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
