/*
 * The metrics and health endpoint (`metrics.listen`), served by libevent's
 * evhttp on the daemon's loop:
 *   /metrics  the registry in Prometheus text format 0.0.4
 *   /healthz  200 "ok" whenever the loop answers
 *   /readyz   200 "ready" when the readiness callback agrees, else 503 with
 *             its reason
 * GET and HEAD only (405 otherwise); 404 for any other path.
 */
#ifndef QSCALE_METRICS_HTTP_H
#define QSCALE_METRICS_HTTP_H

#include <stdbool.h>
#include <stdint.h>

#include "qscale/buf.h"
#include "qscale/listen_addr.h"
#include "qscale/metrics.h"

struct event_base;
struct metrics_http;

/* Largest /metrics body served; past it the answer is 500. */
#define METRICS_HTTP_BODY_MAX (4u << 20)

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
