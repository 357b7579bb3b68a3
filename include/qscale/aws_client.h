/*
 * The AWS request pipeline: one client per process, on the caller's libevent
 * base. A call takes a service, an operation and a JSON body; the client signs
 * it (SigV4), sends it over libcurl multi, retries as the SDKs' standard mode
 * does, rate-limits ECS per API category, and hands back the response body or
 * one classified error. The typed SQS and ECS calls (sqs.h, ecs.h) sit on top.
 */
#ifndef QSCALE_AWS_CLIENT_H
#define QSCALE_AWS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/clock.h"

struct event_base;

enum aws_service {
	AWS_SERVICE_SQS, /* AWS JSON 1.0, target prefix AmazonSQS, signing name sqs */
	AWS_SERVICE_ECS, /* AWS JSON 1.1, AmazonEC2ContainerServiceV20141113, ecs */
};

/* One classification per failure, set by aws_error_classify() alone. */
enum aws_error_class {
	AWS_ERROR_NONE = 0,
	AWS_ERROR_TRANSIENT, /* 5xx, timeouts, connection errors: retryable */
	AWS_ERROR_THROTTLING, /* 429, ThrottlingException, RequestThrottled...: retryable */
	AWS_ERROR_CLOCK_SKEW, /* signature time out of range: retryable after correction */
	AWS_ERROR_AUTH, /* credentials rejected or expired: refresh, then retry once */
	AWS_ERROR_FATAL, /* everything else: not retried */
};

#define AWS_ERROR_CODE_MAX 128
#define AWS_ERROR_MESSAGE_MAX 512

struct aws_error {
	int err; /* 0, or a negative errno: -EIO, -ETIMEDOUT, -EPROTO, -EACCES, -E2BIG... */
	long http_status; /* 0 when no response arrived */
	char code[AWS_ERROR_CODE_MAX]; /* AWS error code, "" when none */
	char message[AWS_ERROR_MESSAGE_MAX];
	enum aws_error_class error_class;
	bool retryable;
};

struct aws_client_config {
	const char *region; /* NULL: AWS_REGION, then AWS_DEFAULT_REGION */
	const char *endpoint_sqs; /* NULL: AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL, default */
	const char *endpoint_ecs; /* NULL: AWS_ENDPOINT_URL_ECS, AWS_ENDPOINT_URL, default */
	const char *profile; /* NULL: AWS_PROFILE, then "default" */
	uint64_t timeout_ms; /* per attempt, whole request */
	uint64_t connect_timeout_ms;
	int max_attempts; /* 0: AWS_MAX_ATTEMPTS, else 3 */
	int max_connections; /* requests in flight per endpoint; 0: HTTP_MAX_CONNECTIONS_DEFAULT */
};

struct aws_response {
	long http_status;
	const char *body; /* valid only during the callback */
	size_t body_len;
	struct aws_error error; /* error.err == 0 on success */
	int attempts;
	uint64_t latency_ms; /* first send to final answer */
	const char
		*request_id; /* x-amzn-RequestId of the last answer, "" when none; callback only */
};

typedef void (*aws_client_cb)(const struct aws_response *resp, void *arg);

struct aws_client;
struct aws_call;

/* Per-call overrides, all optional. */
struct aws_call_opts {
	const char *endpoint; /* e.g. a queue URL's origin */
	const char *signing_region; /* e.g. the region named by a queue URL's host */
};

/* A client on base; returns -EINVAL for bad configuration, -ENOTSUP without an async resolver. */
int aws_client_create(struct event_base *base, const struct aws_client_config *config,
	const struct clock *clock, struct aws_client **out);

/* Cancel every call (no callbacks run) and free the client; accepts NULL. */
void aws_client_destroy(struct aws_client *client);

/*
 * Start a call of operation ("GetQueueAttributes", "DescribeServices") with a
 * JSON body. cb runs exactly once, never before this returns. *out (may be
 * NULL) lets the caller cancel; it is invalid once cb has run.
 */
int aws_client_call(struct aws_client *client, enum aws_service service, const char *operation,
	const char *body, size_t body_len, const struct aws_call_opts *opts, aws_client_cb cb,
	void *arg, struct aws_call **out);

/* Cancel a call in flight; its callback never runs. */
void aws_call_cancel(struct aws_call *call);

/* The region the client signs with. */
const char *aws_client_region(const struct aws_client *client);

/*
 * Fill out from an HTTP error response: the AWS error code (from __type, cut at
 * ':' and after '#', overridden by x-amzn-query-error), the message, and the
 * class. Pure; header values may be NULL.
 */
void aws_error_parse(long http_status, const char *query_error_header,
	const char *error_type_header, const char *body, size_t body_len, struct aws_error *out);

/* The single classifier: from status, code and transport errno to a class. */
enum aws_error_class aws_error_classify(long http_status, const char *code, int transport_err);

/* Added for the client core and its users (daemon metrics, doctor). */

/* A short lowercase name of a class: "transient", "throttling", ... */
const char *aws_error_class_name(enum aws_error_class c);

/* Fill out for a transfer that got no HTTP response (err: -ETIMEDOUT, -EIO, -E2BIG). */
void aws_error_from_transport(int err, const char *what, struct aws_error *out);

/*
 * Whether a server may answer code when the request's time is off (e.g.
 * InvalidSignatureException, AccessDeniedException): such an error is retried
 * once the Date header shows a skew of 4 min or more.
 */
bool aws_error_is_skew_capable(const char *code);

/* Per-operation counters for metrics, kept by the client. */
struct aws_op_stats {
	enum aws_service service;
	char operation[64];
	uint64_t calls_ok; /* calls that ended in success */
	uint64_t calls_failed[AWS_ERROR_FATAL + 1]; /* calls that failed, by final class */
	uint64_t attempts; /* HTTP attempts sent */
	uint64_t retries; /* attempts after the first */
	uint64_t throttles; /* attempts answered with a throttling error */
	uint64_t latency_ms_sum; /* over finished calls */
	uint64_t latency_ms_max;
};

/* The stats table; *n gets its length. Valid until the next call starts. */
const struct aws_op_stats *aws_client_stats(const struct aws_client *client, size_t *n);

/* What happened to one attempt; for metrics and tests. */
struct aws_attempt_event {
	enum aws_service service;
	const char *operation;
	int attempt; /* 1-based */
	long http_status;
	const struct aws_error *error; /* error->err == 0 for success */
	bool will_retry;
	uint64_t delay_ms; /* before the next attempt, when will_retry */
};

typedef void (*aws_attempt_cb)(const struct aws_attempt_event *ev, void *arg);

/* Called after every attempt (NULL to stop). */
void aws_client_set_attempt_cb(struct aws_client *client, aws_attempt_cb cb, void *arg);

/* Replace the random source of the backoff jitter (tests); NULL restores the default. */
void aws_client_set_random(struct aws_client *client, double (*rand01)(void *ctx), void *ctx);

/* The current clock offset (server - local, ms) applied to signatures. */
int64_t aws_client_clock_offset_ms(const struct aws_client *client);

struct credentials;

/* The credential provider chain the client signs with (for doctor and metrics). */
struct credentials *aws_client_credentials(struct aws_client *client);

struct http_client_stats;

/* The HTTP client's counters: connections opened, TLS handshakes, waits. */
void aws_client_http_stats(const struct aws_client *client, struct http_client_stats *out);

/* The endpoint (scheme://host[:port]) the client uses for service. */
const char *aws_client_endpoint(const struct aws_client *client, enum aws_service service);

#endif
