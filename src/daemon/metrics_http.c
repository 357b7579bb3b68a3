/*
 * The HTTP side of metrics and health: a small HTTP/1.1 server of its own on
 * the daemon's loop (libevent's evhttp lets every byte extend its timeout and
 * spins on accept() when descriptors run out). One listener, a capped list
 * of connections in accept order, each with one deadline for the phase it is
 * in (reading a head, writing an answer) that no byte moves. When the cap is
 * reached the oldest connection still reading is closed for the new one; a
 * slow client is the first to go. accept() failing for want of descriptors
 * pauses the listener and frees one, so the control loop keeps its own.
 */
#include <errno.h>
#include <event2/event.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include "qscale/clock.h"
#include "qscale/log.h"
#include "qscale/metrics_http.h"
#include "qscale/xalloc.h"

#define REASON_MAX 512
/* Connections taken per wake-up, so a flood cannot starve the other events. */
#define ACCEPT_BATCH 16
/* One log line per this much time about accept() failures. */
#define ACCEPT_LOG_INTERVAL_MS 60000
/* Listen backlog. */
#define BACKLOG 64
/*
 * After the last answer, how long and how much of what the peer still sends
 * is read and dropped before closing: closing on unread bytes would reset the
 * connection and could destroy the answer (a 431 to a head too large) before
 * the peer reads it.
 */
#define LINGER_MS 2000
#define LINGER_BYTES (64u * 1024u)

struct conn {
	struct metrics_http *h;
	struct conn *prev, *next; /* accept order, oldest first */
	int fd;
	struct event *rd, *wr, *deadline;
	char in[METRICS_HTTP_HEAD_MAX + 1];
	size_t in_len;
	struct buf out;
	size_t out_off;
	bool writing;
	bool close_after;
	bool lingering; /* answered for the last time: dropping what still comes */
	size_t drained;
	unsigned served;
};

struct metrics_http {
	struct event_base *base;
	int fd;
	struct event *listen_ev, *pause_ev;
	struct metrics *metrics;
	metrics_http_ready_cb ready;
	metrics_http_collect_cb collect;
	void *arg;
	uint16_t port;
	struct conn *head, *tail;
	struct metrics_http_stats stats;
	struct log_ratelimit accept_log;
};

static void conn_try_requests(struct conn *c);

unsigned metrics_http_max_connections(unsigned long long nofile)
{
	unsigned long long n = nofile / 8;

	if (n < 2)
		n = 2;
	return n > METRICS_HTTP_CONNECTIONS_MAX ? METRICS_HTTP_CONNECTIONS_MAX : (unsigned)n;
}

/* Arm the connection's one deadline ms from now. */
static void arm_deadline(struct conn *c, uint64_t ms)
{
	struct timeval tv = {
		.tv_sec = (time_t)(ms / 1000), .tv_usec = (suseconds_t)(ms % 1000) * 1000};

	evtimer_add(c->deadline, &tv);
}

/* Close and free a connection. */
static void conn_close(struct conn *c)
{
	struct metrics_http *h = c->h;

	if (c->prev != NULL)
		c->prev->next = c->next;
	else
		h->head = c->next;
	if (c->next != NULL)
		c->next->prev = c->prev;
	else
		h->tail = c->prev;
	event_free(c->rd);
	event_free(c->wr);
	event_free(c->deadline);
	close(c->fd);
	buf_finish(&c->out);
	free(c);
	h->stats.open--;
}

/* Close the oldest connection still reading a head; false when none is. */
static bool evict_oldest_reader(struct metrics_http *h)
{
	for (struct conn *c = h->head; c != NULL; c = c->next) {
		if (!c->writing) {
			h->stats.evicted++;
			conn_close(c);
			return true;
		}
	}
	return false;
}

/* Queue an answer; HEAD leaves the body out but keeps its length. */
static void respond(struct conn *c, const struct metrics_http_request *req, int code,
	const char *reason, const char *type, const char *body, size_t len, const char *extra)
{
	bool head = req != NULL && strcmp(req->method, "HEAD") == 0;

	c->close_after = c->close_after || req == NULL || req->close ||
		c->served + 1 >= METRICS_HTTP_KEEPALIVE_MAX;
	buf_reset(&c->out);
	buf_printf(&c->out,
		"HTTP/1.1 %d %s\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
		"Cache-Control: no-store\r\n%sConnection: %s\r\n\r\n",
		code, reason, type, len, extra != NULL ? extra : "",
		c->close_after ? "close" : "keep-alive");
	if (!head && buf_append(&c->out, body, len) < 0) {
		/* Cannot happen under the caps; answer without a body rather than a short one. */
		buf_reset(&c->out);
		buf_printf(&c->out,
			"HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n"
			"Connection: close\r\n\r\n");
		c->close_after = true;
	}
	c->out_off = 0;
	c->writing = true;
	c->served++;
	c->h->stats.requests++;
	event_del(c->rd);
	event_add(c->wr, NULL);
	arm_deadline(c, METRICS_HTTP_WRITE_DEADLINE_MS);
}

/* A short plain-text answer. */
static void respond_text(struct conn *c, const struct metrics_http_request *req, int code,
	const char *reason, const char *body, const char *extra)
{
	respond(c, req, code, reason, "text/plain; charset=utf-8", body, strlen(body), extra);
}

/* GET /metrics: render the registry. */
static void serve_metrics(struct conn *c, const struct metrics_http_request *req)
{
	struct metrics_http *h = c->h;
	struct buf text;

	if (h->collect != NULL)
		h->collect(h->arg);
	buf_init(&text, METRICS_HTTP_BODY_MAX);
	if (metrics_render(h->metrics, &text) < 0) {
		buf_finish(&text);
		log_warn("metrics_http: metrics exceed %u bytes", METRICS_HTTP_BODY_MAX);
		respond_text(c, req, 500, "Internal Server Error", "metrics too large\n", NULL);
		return;
	}
	respond(c, req, 200, "OK", METRICS_CONTENT_TYPE, buf_cstr(&text), text.len, NULL);
	buf_finish(&text);
}

/* GET /readyz: ask the callback. */
static void serve_ready(struct conn *c, const struct metrics_http_request *req)
{
	struct metrics_http *h = c->h;
	struct buf reason, body;

	buf_init(&reason, REASON_MAX);
	if (h->ready == NULL || h->ready(h->arg, &reason)) {
		respond_text(c, req, 200, "OK", "ready\n", NULL);
	} else {
		buf_init(&body, REASON_MAX + 32);
		if (buf_printf(&body, "not ready: %s\n",
			    reason.len ? buf_cstr(&reason) : "unknown") < 0)
			buf_puts(&body, "not ready\n");
		respond_text(c, req, 503, "Service Unavailable", buf_cstr(&body), NULL);
		buf_finish(&body);
	}
	buf_finish(&reason);
}

/* Route one parsed request. */
static void route(struct conn *c, const struct metrics_http_request *req)
{
	const char *path = req->path;

	if (strcmp(path, "/metrics") != 0 && strcmp(path, "/healthz") != 0 &&
		strcmp(path, "/readyz") != 0) {
		respond_text(c, req, 404, "Not Found", "not found\n", NULL);
		return;
	}
	if (strcmp(req->method, "GET") != 0 && strcmp(req->method, "HEAD") != 0) {
		respond_text(c, req, 405, "Method Not Allowed", "method not allowed\n",
			"Allow: GET, HEAD\r\n");
		return;
	}
	if (strcmp(path, "/metrics") == 0)
		serve_metrics(c, req);
	else if (strcmp(path, "/healthz") == 0)
		respond_text(c, req, 200, "OK", "ok\n", NULL);
	else
		serve_ready(c, req);
}

/* Answer a head that cannot be served, then close. */
static void refuse(struct conn *c, int err)
{
	c->close_after = true;
	if (err == -E2BIG)
		respond_text(
			c, NULL, 431, "Request Header Fields Too Large", "head too large\n", NULL);
	else if (err == -EMSGSIZE)
		respond_text(c, NULL, 413, "Content Too Large", "no request bodies\n", NULL);
	else if (err == -ENOSYS)
		respond_text(c, NULL, 501, "Not Implemented", "no transfer codings\n", NULL);
	else
		respond_text(c, NULL, 400, "Bad Request", "bad request\n", NULL);
}

/* Serve the request at the start of the input, if it is whole. */
static void conn_try_requests(struct conn *c)
{
	struct metrics_http_request req;
	int r;

	c->in[c->in_len] = '\0';
	r = metrics_http_parse(c->in, c->in_len, &req);
	if (r == -EAGAIN)
		return;
	if (r < 0) {
		refuse(c, r);
		return;
	}
	memmove(c->in, c->in + req.consumed, c->in_len - req.consumed);
	c->in_len -= req.consumed;
	route(c, &req);
}

/* Readable: take what arrived, up to the head cap. */
static void on_read(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	(void)what;
	if (c->lingering) {
		char sink[4096];

		n = recv(fd, sink, sizeof(sink), 0);
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
			return;
		c->drained += n > 0 ? (size_t)n : 0;
		if (n <= 0 || c->drained > LINGER_BYTES)
			conn_close(c);
		return;
	}
	n = recv(fd, c->in + c->in_len, METRICS_HTTP_HEAD_MAX - c->in_len, 0);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n <= 0) {
		conn_close(c);
		return;
	}
	c->in_len += (size_t)n;
	conn_try_requests(c);
}

/* Writable: send what is left; then close, or wait for the next request. */
static void on_write(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	(void)what;
	n = send(fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return;
	if (n < 0) {
		conn_close(c);
		return;
	}
	c->out_off += (size_t)n;
	if (c->out_off < c->out.len)
		return;
	c->writing = false;
	buf_reset(&c->out);
	event_del(c->wr);
	event_add(c->rd, NULL);
	if (c->close_after) {
		/* Done: say so, then drop what still comes for a moment (LINGER_MS). */
		shutdown(fd, SHUT_WR);
		c->lingering = true;
		arm_deadline(c, LINGER_MS);
		return;
	}
	arm_deadline(c, METRICS_HTTP_HEAD_DEADLINE_MS);
	/* A pipelined request may already be here. */
	conn_try_requests(c);
}

/* The phase's deadline passed: whatever the peer sent meanwhile, it is over. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	(void)fd;
	(void)what;
	if (!c->lingering)
		c->h->stats.timed_out++;
	conn_close(c);
}

/* Take a new connection into the list. */
static void conn_add(struct metrics_http *h, int fd)
{
	struct conn *c = xcalloc(1, sizeof(*c));

	c->h = h;
	c->fd = fd;
	buf_init(&c->out, METRICS_HTTP_BODY_MAX + 1024);
	c->rd = event_new(h->base, fd, EV_READ | EV_PERSIST, on_read, c);
	c->wr = event_new(h->base, fd, EV_WRITE | EV_PERSIST, on_write, c);
	c->deadline = evtimer_new(h->base, on_deadline, c);
	if (c->rd == NULL || c->wr == NULL || c->deadline == NULL)
		fatal("metrics_http: out of memory");
	c->prev = h->tail;
	if (h->tail != NULL)
		h->tail->next = c;
	else
		h->head = c;
	h->tail = c;
	h->stats.open++;
	h->stats.accepted++;
	event_add(c->rd, NULL);
	arm_deadline(c, METRICS_HTTP_HEAD_DEADLINE_MS);
}

/* The pause after an accept() failure is over. */
static void on_pause_end(evutil_socket_t fd, short what, void *arg)
{
	struct metrics_http *h = arg;

	(void)fd;
	(void)what;
	event_add(h->listen_ev, NULL);
}

/*
 * accept() failed for want of resources (EMFILE, ENFILE, ENOBUFS, ENOMEM):
 * the pending connection stays queued and the socket readable, so retrying
 * now would spin. Pause the listener, give a descriptor back by closing the
 * oldest reader, and say so at most once a minute.
 */
static void accept_failed(struct metrics_http *h, int err)
{
	struct timeval tv = {.tv_sec = METRICS_HTTP_ACCEPT_PAUSE_MS / 1000,
		.tv_usec = (METRICS_HTTP_ACCEPT_PAUSE_MS % 1000) * 1000};
	unsigned long suppressed;

	h->stats.accept_errors++;
	event_del(h->listen_ev);
	evtimer_add(h->pause_ev, &tv);
	if (err == EMFILE || err == ENFILE)
		evict_oldest_reader(h);
	if (log_ratelimit_allow(&h->accept_log, clock_mono_ms(&clock_system), &suppressed))
		log_warn("metrics_http=accept error=%s action=pause pause_ms=%d open=%u "
			 "suppressed=%lu",
			LOG_Q(strerror(err)), METRICS_HTTP_ACCEPT_PAUSE_MS, h->stats.open,
			suppressed);
}

/* The listener is readable: accept a batch. */
static void on_accept(evutil_socket_t fd, short what, void *arg)
{
	struct metrics_http *h = arg;

	(void)what;
	for (int i = 0; i < ACCEPT_BATCH; i++) {
		int cfd = accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);

		if (cfd < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return;
			/* The peer gave up before we took it: nothing to do. */
			if (errno == EINTR || errno == ECONNABORTED || errno == EPROTO ||
				errno == EPERM)
				continue;
			accept_failed(h, errno);
			return;
		}
		if (h->stats.open >= h->stats.max_open && !evict_oldest_reader(h)) {
			h->stats.refused++;
			close(cfd);
			continue;
		}
		conn_add(h, cfd);
	}
}

/* Start serving. */
int metrics_http_create(
	struct event_base *base, const struct metrics_http_config *cfg, struct metrics_http **out)
{
	struct metrics_http *h;
	struct rlimit rl;
	uint16_t port = 0;
	int fd = -1, r;

	if (cfg->addr == NULL || !cfg->addr->enabled || cfg->metrics == NULL)
		return -EINVAL;
	r = listen_addr_open(cfg->addr, BACKLOG, &fd, &port);
	if (r < 0)
		return r;
	h = xcalloc(1, sizeof(*h));
	h->base = base;
	h->fd = fd;
	h->metrics = cfg->metrics;
	h->ready = cfg->ready;
	h->collect = cfg->collect;
	h->arg = cfg->arg;
	h->port = port;
	h->accept_log.interval_ms = ACCEPT_LOG_INTERVAL_MS;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY)
		rl.rlim_cur = 1024;
	h->stats.max_open = metrics_http_max_connections((unsigned long long)rl.rlim_cur);
	h->listen_ev = event_new(base, fd, EV_READ | EV_PERSIST, on_accept, h);
	h->pause_ev = evtimer_new(base, on_pause_end, h);
	if (h->listen_ev == NULL || h->pause_ev == NULL)
		fatal("metrics_http: out of memory");
	event_add(h->listen_ev, NULL);
	*out = h;
	return 0;
}

/* Stop serving. */
void metrics_http_destroy(struct metrics_http *h)
{
	if (h == NULL)
		return;
	while (h->head != NULL)
		conn_close(h->head);
	event_free(h->listen_ev);
	event_free(h->pause_ev);
	close(h->fd);
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
	return h->stats.requests;
}

/* The counts so far. */
void metrics_http_get_stats(const struct metrics_http *h, struct metrics_http_stats *out)
{
	*out = h->stats;
}
