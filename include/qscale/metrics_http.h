/*
 * The metrics and health endpoint (`metrics.listen`), a small HTTP/1.1
 * server of its own on the daemon's loop:
 *   /metrics  the registry in Prometheus text format 0.0.4
 *   /healthz  200 "ok" whenever the loop answers
 *   /readyz   200 "ready" when the readiness callback agrees, else 503 with
 *             its reason
 * GET and HEAD only (405 otherwise); 404 for any other path. HEAD answers
 * carry the Content-Length of the body they leave out.
 *
 * The port is open to whoever can reach it, so it must never cost the
 * control loop anything: connections are capped (see
 * metrics_http_max_connections), a request head must arrive whole within
 * METRICS_HTTP_HEAD_DEADLINE_MS of the connection (or of the previous answer
 * on a kept connection) however its bytes trickle in, an answer must be
 * taken within METRICS_HTTP_WRITE_DEADLINE_MS, and accept() failing for
 * want of descriptors pauses the listener instead of spinning on it, with
 * one log line per minute at most.
 */
#ifndef QSCALE_METRICS_HTTP_H
#define QSCALE_METRICS_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/buf.h"
#include "qscale/listen_addr.h"
#include "qscale/metrics.h"

struct event_base;
struct metrics_http;

/* Largest /metrics body served; past it the answer is 500. */
#define METRICS_HTTP_BODY_MAX (4u << 20)

/* Largest request head (request line and headers) read; past it 431. */
#define METRICS_HTTP_HEAD_MAX 8192
/* From accept (or the previous answer) to a whole request head. */
#define METRICS_HTTP_HEAD_DEADLINE_MS 5000
/* From the first byte of an answer to its last. */
#define METRICS_HTTP_WRITE_DEADLINE_MS 10000
/* Requests served on one connection before it is closed. */
#define METRICS_HTTP_KEEPALIVE_MAX 100
/* Most connections at once, whatever the descriptor limit allows. */
#define METRICS_HTTP_CONNECTIONS_MAX 64
/* How long the listener rests after accept() failed for want of resources. */
#define METRICS_HTTP_ACCEPT_PAUSE_MS 1000

/* One parsed request head. */
struct metrics_http_request {
	char method[16];
	char path[256]; /* the target without query, "" for "*" */
	bool http11;
	bool close; /* the connection ends after the answer */
	bool keep_alive; /* an HTTP/1.0 client asked to keep it */
	size_t consumed; /* bytes of the head, blank line included */
};

/*
 * Parse the request head at the start of data. 0 with *out set; -EAGAIN
 * when incomplete; -E2BIG past METRICS_HTTP_HEAD_MAX (431); -EMSGSIZE for a
 * body (413); -ENOSYS for Transfer-Encoding (501); -EINVAL for anything
 * malformed (400). Pure.
 */
int metrics_http_parse(const char *data, size_t len, struct metrics_http_request *out);

/*
 * The connection cap for a descriptor limit (RLIMIT_NOFILE's soft value):
 * an eighth of it, at least 2, at most METRICS_HTTP_CONNECTIONS_MAX, so that
 * the control loop (AWS connections, files, sd_notify) keeps the rest.
 */
unsigned metrics_http_max_connections(unsigned long long nofile);

/* What the server did, for tests and metrics. */
struct metrics_http_stats {
	uint64_t requests; /* answered */
	uint64_t accepted; /* connections */
	uint64_t evicted; /* closed to make room for a newer one, or a descriptor */
	uint64_t refused; /* closed at once: the cap was reached by busy connections */
	uint64_t timed_out; /* closed at a deadline */
	uint64_t accept_errors; /* accept() failures that paused the listener */
	unsigned open; /* connections now */
	unsigned max_open; /* the cap */
};

/* The counts so far. */
void metrics_http_get_stats(const struct metrics_http *h, struct metrics_http_stats *out);

/* Whether the daemon is ready; when not, write a short reason into reason. */
typedef bool (*metrics_http_ready_cb)(void *arg, struct buf *reason);

/* Refresh gauges just before /metrics renders (may be NULL). */
typedef void (*metrics_http_collect_cb)(void *arg);

struct metrics_http_config {
	const struct listen_addr *addr; /* enabled; port 0 picks a free port */
	struct metrics *metrics; /* kept by the caller, outlives the server */
	metrics_http_ready_cb ready; /* NULL: always ready */
	metrics_http_collect_cb collect;
	void *arg;
};

/*
 * Bind, listen and serve on base. 0, -EINVAL (address disabled) or the
 * negative errno of socket/bind/listen (e.g. -EADDRINUSE). Caller destroys.
 */
int metrics_http_create(
	struct event_base *base, const struct metrics_http_config *cfg, struct metrics_http **out);

/* Close the listener and open connections; accepts NULL. */
void metrics_http_destroy(struct metrics_http *h);

/* The port actually bound (the kernel's pick when asked for 0). */
uint16_t metrics_http_port(const struct metrics_http *h);

/* Requests answered so far. */
uint64_t metrics_http_requests(const struct metrics_http *h);

#endif
