/*
 * The asynchronous DynamoDB calls of the HA lease over the AWS client: build
 * the body, send it signed for dynamodb, parse the answer before the caller
 * sees it. A conditional write refused with ConditionalCheckFailedException
 * is handed on as DYNAMODB_CONDITION_FAILED, an answer and not an error.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/dynamodb.h"
#include "qscale/xalloc.h"

enum call_kind { CALL_GET, CALL_WRITE, CALL_TABLE };

struct dynamodb_call {
	struct aws_call *inner;
	enum call_kind kind;
	union {
		dynamodb_get_cb get;
		dynamodb_write_cb write;
		dynamodb_table_cb table;
	} cb;
	void *arg;
	char *body; /* kept while the client may retry */
};

/* The client's answer: parse it and hand it on by kind. */
static void call_done(const struct aws_response *resp, void *arg)
{
	struct dynamodb_call *call = arg;
	struct aws_error diag = {0};
	int r = resp->error.err;

	call->inner = NULL;
	if (call->kind == CALL_WRITE) {
		if (r != 0 && strcmp(resp->error.code, "ConditionalCheckFailedException") == 0)
			call->cb.write(DYNAMODB_CONDITION_FAILED, NULL, call->arg);
		else
			call->cb.write(r, r != 0 ? &resp->error : NULL, call->arg);
	} else if (call->kind == CALL_GET) {
		struct dynamodb_lease_item item;
		bool found = false;

		if (r == 0 &&
			(r = dynamodb_get_lease_parse(
				 resp->body, resp->body_len, &found, &item, &diag)) < 0)
			diag.http_status = resp->http_status;
		if (r == 0)
			call->cb.get(0, NULL, found, &item, call->arg);
		else
			call->cb.get(r, resp->error.err != 0 ? &resp->error : &diag, false, NULL,
				call->arg);
	} else {
		struct dynamodb_table_info info;

		if (r == 0 &&
			(r = dynamodb_describe_table_parse(
				 resp->body, resp->body_len, &info, &diag)) < 0)
			diag.http_status = resp->http_status;
		if (r == 0)
			call->cb.table(0, NULL, &info, call->arg);
		else
			call->cb.table(
				r, resp->error.err != 0 ? &resp->error : &diag, NULL, call->arg);
	}
	free(call->body);
	free(call);
}

/* Start operation with body (taken over); 0 or a negative errno (nothing kept). */
static int start(struct aws_client *client, const char *operation, char *body, size_t len,
	struct dynamodb_call *call, struct dynamodb_call **out)
{
	/*
	 * One attempt each: the lease paces its own retries (within a renewal
	 * period), so a throttled or lost call never holds up the next renewal
	 * behind the client's backoff.
	 */
	struct aws_call_opts opts = {.max_attempts = 1};

	call->body = body;
	int r = aws_client_call(client, AWS_SERVICE_DYNAMODB, operation, body, len, &opts,
		call_done, call, &call->inner);

	if (r < 0) {
		free(body);
		free(call);
		return r;
	}
	if (out != NULL)
		*out = call;
	return 0;
}

/* See dynamodb.h. */
int dynamodb_get_lease(struct aws_client *client, const char *table, const char *name,
	dynamodb_get_cb cb, void *arg, struct dynamodb_call **out)
{
	char *body;
	size_t len;

	if (client == NULL || cb == NULL)
		return -EINVAL;
	int r = dynamodb_get_lease_request(table, name, &body, &len);
	if (r < 0)
		return r;
	struct dynamodb_call *call = xcalloc(1, sizeof(*call));
	call->kind = CALL_GET;
	call->cb.get = cb;
	call->arg = arg;
	return start(client, "GetItem", body, len, call, out);
}

/* See dynamodb.h. */
int dynamodb_write_lease(struct aws_client *client, const struct dynamodb_lease_write *w,
	dynamodb_write_cb cb, void *arg, struct dynamodb_call **out)
{
	const char *operation;
	char *body;
	size_t len;

	if (client == NULL || cb == NULL)
		return -EINVAL;
	int r = dynamodb_lease_write_request(w, &operation, &body, &len);
	if (r < 0)
		return r;
	struct dynamodb_call *call = xcalloc(1, sizeof(*call));
	call->kind = CALL_WRITE;
	call->cb.write = cb;
	call->arg = arg;
	return start(client, operation, body, len, call, out);
}

/* See dynamodb.h. */
int dynamodb_describe_table(struct aws_client *client, const char *table, dynamodb_table_cb cb,
	void *arg, struct dynamodb_call **out)
{
	char *body;
	size_t len;

	if (client == NULL || cb == NULL)
		return -EINVAL;
	int r = dynamodb_describe_table_request(table, &body, &len);
	if (r < 0)
		return r;
	struct dynamodb_call *call = xcalloc(1, sizeof(*call));
	call->kind = CALL_TABLE;
	call->cb.table = cb;
	call->arg = arg;
	return start(client, "DescribeTable", body, len, call, out);
}

/* See dynamodb.h. */
void dynamodb_call_cancel(struct dynamodb_call *call)
{
	if (call == NULL)
		return;
	if (call->inner != NULL)
		aws_call_cancel(call->inner);
	free(call->body);
	free(call);
}
