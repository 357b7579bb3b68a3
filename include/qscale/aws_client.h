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
};

struct aws_response {
	long http_status;
	const char *body; /* valid only during the callback */
	size_t body_len;
	struct aws_error error; /* error.err == 0 on success */
	int attempts;
	uint64_t latency_ms; /* first send to final answer */
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

#endif
