/*
 * HTTP requests on the caller's libevent base: one libcurl multi handle driven
 * as in curl's hiperfifo example, connections kept alive and reused, at most
 * max_connections requests in flight per origin (the rest wait in order). Every
 * response body is capped; the headers AWS answers with (Date, error type,
 * request id, retry hints) are captured. A request's callback runs exactly
 * once and never inside the call that started it; cancelling never calls it.
 */
#ifndef QSCALE_HTTP_H
#define QSCALE_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct event_base;

#define HTTP_BODY_MAX_DEFAULT (8u * 1024u * 1024u)
#define HTTP_HEADER_VALUE_MAX 256

struct http_header {
	const char *name;
	const char *value;
};

struct http_request_opts {
	const char *method; /* "GET", "PUT", "POST" */
	const char *url;
	const struct http_header *headers; /* sent as given; may include Host */
	size_t n_headers;
	const void *body; /* copied before http_request_start returns */
	size_t body_len;
	uint64_t timeout_ms; /* whole transfer, waiting for a slot included; 0: no limit */
	uint64_t connect_timeout_ms; /* 0: libcurl's default */
	size_t max_body; /* response body cap; 0: HTTP_BODY_MAX_DEFAULT */
	bool no_proxy; /* link-local credential endpoints: never through a proxy */
};

struct http_response {
	int err; /* 0, -ETIMEDOUT, -E2BIG (body over the cap), -EIO (any other transport failure) */
	long status; /* 0 when no response arrived */
	const char *body; /* NUL-terminated; valid only during the callback */
	size_t body_len;
	/* Captured response headers, "" when absent. */
	char date[HTTP_HEADER_VALUE_MAX];
	char query_error[HTTP_HEADER_VALUE_MAX]; /* x-amzn-query-error */
	char error_type[HTTP_HEADER_VALUE_MAX]; /* X-Amzn-ErrorType */
	char request_id[HTTP_HEADER_VALUE_MAX]; /* x-amzn-RequestId */
	char amz_retry_after[HTTP_HEADER_VALUE_MAX]; /* x-amz-retry-after (ms) */
	char retry_after[HTTP_HEADER_VALUE_MAX]; /* Retry-After (s or HTTP-date) */
	char age[HTTP_HEADER_VALUE_MAX]; /* Age */
	char transport_error[HTTP_HEADER_VALUE_MAX]; /* libcurl's text when err != 0 */
};

typedef void (*http_cb)(const struct http_response *resp, void *arg);

struct http_client;
struct http_request;

/* Requests in flight (and so connections) per origin when the config says 0. */
#define HTTP_MAX_CONNECTIONS_DEFAULT 16
/* The connection cache holds this many origins' worth of max_connections. */
#define HTTP_ORIGINS_CACHED 4

struct http_client_config {
	/*
	 * Most requests in flight, and so connections open, per origin
	 * (scheme://host:port); later requests wait in FIFO order. 0: the default.
	 */
	long max_connections;
	long max_connects; /* connections kept in libcurl's cache; 0: 4 x max_connections */
	const char *ca_bundle; /* PEM file of trusted CAs; NULL: AWS_CA_BUNDLE, else the system's */
};

/* What the client did since it was created. */
struct http_client_stats {
	uint64_t requests; /* transfers finished (answered or failed) */
	uint64_t connections; /* new connections opened */
	uint64_t tls_handshakes; /* of those, over https: each a TLS handshake */
	uint64_t waited; /* requests that waited for a free slot of their origin */
	uint64_t in_flight; /* now handed to libcurl */
	uint64_t in_flight_max;
	uint64_t waiting; /* now waiting their turn */
	uint64_t waiting_max;
};

/*
 * A client on base (config may be NULL). -ENOTSUP when libcurl has no
 * asynchronous resolver, -EIO when libcurl cannot start.
 */
int http_client_create(
	struct event_base *base, const struct http_client_config *config, struct http_client **out);

/* Cancel every request (no callbacks run) and free the client; accepts NULL. */
void http_client_destroy(struct http_client *client);

/*
 * Start a request. On 0, cb runs exactly once, later, from the event loop;
 * *out (may be NULL) is valid until then. On failure nothing is called.
 */
int http_request_start(struct http_client *client, const struct http_request_opts *opts, http_cb cb,
	void *arg, struct http_request **out);

/* Abort a request in flight; its callback never runs. */
void http_request_cancel(struct http_request *req);

/* Requests started and not yet finished or cancelled (waiting ones included). */
size_t http_client_active(const struct http_client *client);

/* The client's counters. */
void http_client_get_stats(const struct http_client *client, struct http_client_stats *out);

/* Whether a header's value is a secret that must never be logged. */
bool http_header_is_secret(const char *name);

/*
 * Parse an HTTP-date (RFC 7231 IMF-fixdate, "Sun, 06 Nov 1994 08:49:37 GMT")
 * into ms since the epoch; -EINVAL for anything else.
 */
int http_parse_date(const char *text, uint64_t *out_ms);

#endif
