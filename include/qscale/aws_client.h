/*
 * The AWS request pipeline: one client per process, on the caller's libevent
 * base. A call takes a service, an operation and a JSON body; the client signs
 * it (SigV4), sends it over libcurl multi, retries as the SDKs' standard mode
 * does, rate-limits ECS per API category, and hands back the response body or
 * one classified error. The typed SQS, ECS and DynamoDB calls (sqs.h, ecs.h,
 * dynamodb.h) sit on top.
 */
#ifndef QSCALE_AWS_CLIENT_H
#define QSCALE_AWS_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/aws_error.h"
#include "qscale/clock.h"

struct event_base;
struct aws_settings;
struct diag;

struct aws_client_config {
	const char *region; /* NULL: AWS_REGION, then AWS_DEFAULT_REGION */
	const char *endpoint_sqs; /* NULL: AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL, default */
	const char *endpoint_ecs; /* NULL: AWS_ENDPOINT_URL_ECS, AWS_ENDPOINT_URL, default */
	const char
		*endpoint_dynamodb; /* NULL: AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL, default */
	const char *profile; /* NULL: AWS_PROFILE, then "default" */
	/*
	 * The whole call, from its first attempt's send to its final answer:
	 * every attempt and retry backoff included (each attempt gets what is
	 * left; no retry starts that could not finish in time). Waiting for
	 * credentials and for the client's own rate-limit share is not counted.
	 */
	uint64_t timeout_ms;
	uint64_t connect_timeout_ms;
	int max_attempts; /* 0: AWS_MAX_ATTEMPTS, the profile's max_attempts, the mode's default */
	uint64_t credential_process_timeout_ms; /* 0: 60 s */
	int max_connections; /* requests in flight per endpoint; 0: HTTP_MAX_CONNECTIONS_DEFAULT */
	struct diag *diag; /* optional: which setting made creation fail, and why */
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
	int max_attempts; /* 1..the client's; 0: the client's (the HA lease paces its own retries)
			   */
	/*
	 * 0: none. Else no attempt is sent, and none is still running, later
	 * than this long after the call starts (or aws.timeout after its first
	 * attempt, whichever comes first): each attempt's timeout is cut to
	 * what is left, and a retry that could not start in time is not made.
	 * The HA lease bounds UpdateService so.
	 */
	uint64_t budget_ms;
};

/*
 * A client on base, with the settings aws_settings_load() resolves from
 * config and the environment; returns -EINVAL for bad settings (config->diag
 * says which), -ENOTSUP without an async resolver.
 */
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

/* The settings the client resolved (for doctor); valid while the client lives. */
const struct aws_settings *aws_client_settings(const struct aws_client *client);

struct http_client_stats;

/* The HTTP client's counters: connections opened, TLS handshakes, waits. */
void aws_client_http_stats(const struct aws_client *client, struct http_client_stats *out);

/* The endpoint (scheme://host[:port]) the client uses for service. */
const char *aws_client_endpoint(const struct aws_client *client, enum aws_service service);

#endif
