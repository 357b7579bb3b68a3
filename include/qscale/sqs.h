/*
 * Typed SQS calls over the AWS client: GetQueueAttributes for the three
 * approximate message counts. The request builder, the response parser and
 * the queue-URL helpers are pure; sqs_get_queue_attributes is the
 * asynchronous call on top of aws_client_call.
 */
#ifndef QSCALE_SQS_H
#define QSCALE_SQS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/aws_client.h"

/* Longest region name the queue-URL helpers return, without the NUL. */
#define SQS_REGION_MAX 63

/* The approximate counts of one queue; a count SQS left out has its have_ flag false. */
struct sqs_queue_counts {
	int64_t visible; /* ApproximateNumberOfMessages */
	int64_t in_flight; /* ApproximateNumberOfMessagesNotVisible */
	int64_t delayed; /* ApproximateNumberOfMessagesDelayed */
	bool have_visible;
	bool have_in_flight;
	bool have_delayed;
};

/*
 * The GetQueueAttributes body asking for the three counts of queue_url, in
 * fresh memory the caller frees. -EINVAL for a NULL or non-UTF-8 URL.
 */
int sqs_queue_counts_request(const char *queue_url, char **out_body, size_t *out_len);

/*
 * Parse a GetQueueAttributes response: {"Attributes":{name: "decimal", ...}}.
 * Values must be non-negative decimal strings; unknown names are ignored.
 * -EPROTO with diag (may be NULL) filled on anything else.
 */
int sqs_queue_counts_parse(
	const char *body, size_t len, struct sqs_queue_counts *out, struct aws_error *diag);

/*
 * The signing region named by an SQS queue URL's host: sqs.<r>.amazonaws.com,
 * sqs-fips.<r>.amazonaws.com, sqs.<r>.api.aws, the .com.cn forms,
 * <r>.queue.amazonaws.com, queue.amazonaws.com (us-east-1) and
 * vpce-<id>.sqs.<r>.vpce.amazonaws.com. -ENOENT for any other host (a custom
 * endpoint: sign with the client's region), -EINVAL if url is no http(s) URL.
 */
int sqs_queue_url_region(const char *url, char out[SQS_REGION_MAX + 1]);

/*
 * The origin ("https://host[:port]") a request about url must go to when it
 * cannot go to the regional endpoint: set for FIPS, VPC-endpoint and legacy
 * queue.amazonaws.com hosts, -ENOENT for every other host. The caller frees *out.
 */
int sqs_queue_url_endpoint(const char *url, char **out);

/* A typed call in flight. */
struct sqs_call;

/*
 * Runs exactly once: err 0 with counts, or err < 0 with error (the client's
 * classified error, or -EPROTO from the parser). Both are borrowed for the
 * duration of the callback.
 */
typedef void (*sqs_counts_cb)(
	int err, const struct aws_error *error, const struct sqs_queue_counts *counts, void *arg);

/*
 * Ask SQS for queue_url's counts, signed for the queue's region. 0 and cb
 * later, or a negative errno and no callback. *out (may be NULL) allows
 * cancelling until cb runs.
 */
int sqs_get_queue_attributes(struct aws_client *client, const char *queue_url, sqs_counts_cb cb,
	void *arg, struct sqs_call **out);

/* Cancel a call in flight; its callback never runs. Cancel before destroying the client. */
void sqs_call_cancel(struct sqs_call *call);

#endif
