/*
 * AWS errors: the one struct every failed call reports, the parser of an
 * error response (JSON __type or x-amzn-query-error), and the single
 * classifier that decides what is retried (error.c). Pure; the client,
 * the typed calls, the cloud seam and doctor share it.
 */
#ifndef QSCALE_AWS_ERROR_H
#define QSCALE_AWS_ERROR_H

#include <stdbool.h>
#include <stddef.h>

enum aws_service {
	AWS_SERVICE_SQS, /* AWS JSON 1.0, target prefix AmazonSQS, signing name sqs */
	AWS_SERVICE_ECS, /* AWS JSON 1.1, AmazonEC2ContainerServiceV20141113, ecs */
	AWS_SERVICE_DYNAMODB, /* AWS JSON 1.0, DynamoDB_20120810, dynamodb (the HA lease) */
};

/* How many services the client knows. */
#define AWS_SERVICE_COUNT 3

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

/*
 * Fill out from an HTTP error response: the AWS error code (from __type, cut at
 * ':' and after '#', overridden by x-amzn-query-error), the message, and the
 * class. Pure; header values may be NULL.
 */
void aws_error_parse(long http_status, const char *query_error_header,
	const char *error_type_header, const char *body, size_t body_len, struct aws_error *out);

/* The single classifier: from status, code and transport errno to a class. */
enum aws_error_class aws_error_classify(long http_status, const char *code, int transport_err);

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

#endif
