/*
 * The HTTP side of metrics and health: one evhttp server on a socket bound
 * here (so errors carry errno and port 0 can be read back), three read-only
 * paths, no request bodies.
 */
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qscale/log.h"
#include "qscale/metrics_http.h"
#include "qscale/xalloc.h"

/* Limits for clients: small headers, no bodies, idle connections closed. */
#define HEADERS_MAX 8192
#define REQUEST_BODY_MAX 1024
#define TIMEOUT_S 10
#define REASON_MAX 512

struct metrics_http {
	struct evhttp *http;
	struct metrics *metrics;
	metrics_http_ready_cb ready;
	metrics_http_collect_cb collect;
	void *arg;
	uint16_t port;
	uint64_t requests;
};

/* Send a short plain-text answer. */
static void reply_text(struct evhttp_request *req, int code, const char *reason, const char *body)
{
	struct evbuffer *out = evbuffer_new();
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);

	if (out == NULL)
		fatal("metrics_http: out of memory");
	evhttp_add_header(headers, "Content-Type", "text/plain; charset=utf-8");
	evhttp_add_header(headers, "Cache-Control", "no-store");
	evbuffer_add(out, body, strlen(body));
	evhttp_send_reply(req, code, reason, out);
	evbuffer_free(out);
}

/* GET /metrics: render the registry. */
static void serve_metrics(struct metrics_http *h, struct evhttp_request *req)
{
	struct evkeyvalq *headers = evhttp_request_get_output_headers(req);
	struct evbuffer *out;
	struct buf text;

	if (h->collect != NULL)
		h->collect(h->arg);
	buf_init(&text, METRICS_HTTP_BODY_MAX);
	if (metrics_render(h->metrics, &text) < 0) {
		buf_finish(&text);
		log_warn("metrics_http: metrics exceed %u bytes", METRICS_HTTP_BODY_MAX);
		reply_text(req, HTTP_INTERNAL, "Internal Server Error", "metrics too large\n");
		return;
	}
	out = evbuffer_new();
	if (out == NULL)
		fatal("metrics_http: out of memory");
	evbuffer_add(out, text.data ? text.data : "", text.len);
	buf_finish(&text);
	evhttp_add_header(headers, "Content-Type", METRICS_CONTENT_TYPE);
	evhttp_add_header(headers, "Cache-Control", "no-store");
	evhttp_send_reply(req, HTTP_OK, "OK", out);
	evbuffer_free(out);
}

/* GET /readyz: ask the callback. */
static void serve_ready(struct metrics_http *h, struct evhttp_request *req)
{
	struct buf reason, body;

	buf_init(&reason, REASON_MAX);
	if (h->ready == NULL || h->ready(h->arg, &reason)) {
		reply_text(req, HTTP_OK, "OK", "ready\n");
	} else {
		buf_init(&body, REASON_MAX + 32);
		if (buf_printf(&body, "not ready: %s\n",
			    reason.len ? buf_cstr(&reason) : "unknown") < 0)
			buf_puts(&body, "not ready\n");
		reply_text(req, 503, "Service Unavailable", buf_cstr(&body));
		buf_finish(&body);
	}
	buf_finish(&reason);
}

/* Route one request. */
static void handle(struct evhttp_request *req, void *arg)
{
	struct metrics_http *h = arg;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri ? evhttp_uri_get_path(uri) : NULL;

	h->requests++;
	if (path == NULL)
		path = "";
	if (strcmp(path, "/metrics") != 0 && strcmp(path, "/healthz") != 0 &&
		strcmp(path, "/readyz") != 0) {
		reply_text(req, HTTP_NOTFOUND, "Not Found", "not found\n");
		return;
	}
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		reply_text(req, 405, "Method Not Allowed", "method not allowed\n");
		return;
	}
	if (strcmp(path, "/metrics") == 0)
		serve_metrics(h, req);
	else if (strcmp(path, "/healthz") == 0)
		reply_text(req, HTTP_OK, "OK", "ok\n");
	else
		serve_ready(h, req);
}

/* Start serving. */
int metrics_http_create(
	struct event_base *base, const struct metrics_http_config *cfg, struct metrics_http **out)
{
	struct metrics_http *h;
	uint16_t port = 0;
	int fd = -1, r;

	if (cfg->addr == NULL || !cfg->addr->enabled || cfg->metrics == NULL)
		return -EINVAL;
	r = listen_addr_open(cfg->addr, 16, &fd, &port);
	if (r < 0)
		return r;
	h = xcalloc(1, sizeof(*h));
	h->metrics = cfg->metrics;
	h->ready = cfg->ready;
	h->collect = cfg->collect;
	h->arg = cfg->arg;
	h->port = port;
	h->http = evhttp_new(base);
	if (h->http == NULL)
		fatal("metrics_http: cannot create the HTTP server");
	/* every method reaches handle(), which answers 405 itself */
	evhttp_set_allowed_methods(h->http,
		EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_HEAD | EVHTTP_REQ_PUT |
			EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_TRACE |
			EVHTTP_REQ_CONNECT | EVHTTP_REQ_PATCH);
	evhttp_set_max_headers_size(h->http, HEADERS_MAX);
	evhttp_set_max_body_size(h->http, REQUEST_BODY_MAX);
	evhttp_set_timeout(h->http, TIMEOUT_S);
	evhttp_set_gencb(h->http, handle, h);
	if (evhttp_accept_socket_with_handle(h->http, fd) == NULL) {
		close(fd);
		evhttp_free(h->http);
		free(h);
		return -EIO;
	}
	*out = h;
	return 0;
}

/* Stop serving. */
void metrics_http_destroy(struct metrics_http *h)
{
	if (h == NULL)
		return;
	evhttp_free(h->http);
	free(h);
}

/* The bound port. */
uint16_t metrics_http_port(const struct metrics_http *h)
{
	return h->port;
}

/* Requests served. */
uint64_t metrics_http_requests(const struct metrics_http *h)
{
	return h->requests;
}
