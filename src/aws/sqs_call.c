/*
 * The asynchronous SQS GetQueueAttributes call: body from sqs.c, sent to the
 * queue URL's origin where the URL demands it (else to the client's
 * endpoint) and signed for that endpoint's region, answer parsed before the
 * caller sees it.
 */
#include <errno.h>
#include <stdlib.h>

#include "qscale/sqs.h"
#include "qscale/xalloc.h"

struct sqs_call {
	struct aws_call *inner;
	sqs_counts_cb cb;
	void *arg;
	/* Kept until the answer: the client may refer to them while it retries. */
	char *body;
	char *endpoint;
	char region[SQS_REGION_MAX + 1];
};

/* Free a call and what it holds. */
static void call_free(struct sqs_call *call)
{
	free(call->body);
	free(call->endpoint);
	free(call);
}

/* The client's answer: parse it and hand the counts or the error on. */
static void counts_done(const struct aws_response *resp, void *arg)
{
	struct sqs_call *call = arg;
	struct sqs_queue_counts counts;
	struct aws_error diag;

	call->inner = NULL;
	if (resp->error.err != 0) {
		call->cb(resp->error.err, &resp->error, NULL, call->arg);
	} else {
		int r = sqs_queue_counts_parse(resp->body, resp->body_len, &counts, &diag);

		if (r < 0) {
			diag.http_status = resp->http_status;
			call->cb(r, &diag, NULL, call->arg);
		} else {
			call->cb(0, NULL, &counts, call->arg);
		}
	}
	call_free(call);
}

/* See sqs.h. */
int sqs_get_queue_attributes(struct aws_client *client, const char *queue_url, sqs_counts_cb cb,
	void *arg, struct sqs_call **out)
{
	char *body;
	size_t len;
	struct aws_call_opts opts = {0};

	if (client == NULL || cb == NULL)
		return -EINVAL;
	int r = sqs_queue_counts_request(queue_url, &body, &len);

	if (r < 0)
		return r;
	struct sqs_call *call = xcalloc(1, sizeof(*call));

	call->cb = cb;
	call->arg = arg;
	call->body = body;
	/*
	 * Signed for the region of the endpoint the request goes to, as botocore
	 * and the JS SDK do: the queue URL's only when its origin is the
	 * endpoint (FIPS, VPC endpoint, legacy names), else the client's.
	 */
	if (sqs_queue_url_endpoint(queue_url, &call->endpoint) == 0 &&
		sqs_queue_url_region(queue_url, call->region) == 0) {
		opts.endpoint = call->endpoint;
		opts.signing_region = call->region;
	}
	r = aws_client_call(client, AWS_SERVICE_SQS, "GetQueueAttributes", body, len, &opts,
		counts_done, call, &call->inner);
	if (r < 0) {
		call_free(call);
		return r;
	}
	if (out != NULL)
		*out = call;
	return 0;
}

/* See sqs.h. */
void sqs_call_cancel(struct sqs_call *call)
{
	if (call == NULL)
		return;
	if (call->inner != NULL)
		aws_call_cancel(call->inner);
	call_free(call);
}
