/*
 * SQS over AWS JSON 1.0 as the emulator serves it: GetQueueAttributes,
 * answered from the world's queues. Errors carry the namespaced __type and
 * the x-amzn-query-error code that query-compatible SDKs report.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "emulate_priv.h"
#include "qscale/world.h"

/* Every attribute name the API knows, in the order the model lists them. */
static const char *const attribute_names[] = {
	"Policy",
	"VisibilityTimeout",
	"MaximumMessageSize",
	"MessageRetentionPeriod",
	"ApproximateNumberOfMessages",
	"ApproximateNumberOfMessagesNotVisible",
	"CreatedTimestamp",
	"LastModifiedTimestamp",
	"QueueArn",
	"ApproximateNumberOfMessagesDelayed",
	"DelaySeconds",
	"ReceiveMessageWaitTimeSeconds",
	"RedrivePolicy",
	"FifoQueue",
	"ContentBasedDeduplication",
	"KmsMasterKeyId",
	"KmsDataKeyReusePeriodSeconds",
	"DeduplicationScope",
	"FifoThroughputLimit",
	"RedriveAllowPolicy",
	"SqsManagedSseEnabled",
};

#define N_ATTRIBUTES (sizeof(attribute_names) / sizeof(attribute_names[0]))

/* Index of name in attribute_names, or -1. */
static int attribute_index(const char *name)
{
	for (size_t i = 0; i < N_ATTRIBUTES; i++) {
		if (strcmp(attribute_names[i], name) == 0)
			return (int)i;
	}
	return -1;
}

/*
 * The value of attribute i for q into out; false when this queue has no such
 * attribute (no policy, not FIFO, no KMS key...), which AWS leaves out.
 */
static bool attribute_value(size_t i, const struct world_queue_info *q, const struct scenario *sc,
	char *out, size_t size)
{
	const char *name = attribute_names[i];
	uint64_t created_s = q->created_at_wall_ms / 1000;

	if (strcmp(name, "ApproximateNumberOfMessages") == 0)
		snprintf(out, size, "%" PRIu64, q->reported.visible);
	else if (strcmp(name, "ApproximateNumberOfMessagesNotVisible") == 0)
		snprintf(out, size, "%" PRIu64, q->reported.in_flight);
	else if (strcmp(name, "ApproximateNumberOfMessagesDelayed") == 0)
		snprintf(out, size, "%" PRIu64, q->reported.delayed);
	else if (strcmp(name, "CreatedTimestamp") == 0 ||
		strcmp(name, "LastModifiedTimestamp") == 0)
		snprintf(out, size, "%" PRIu64, created_s);
	else if (strcmp(name, "QueueArn") == 0)
		snprintf(out, size, "%s", q->arn);
	else if (strcmp(name, "VisibilityTimeout") == 0)
		snprintf(out, size, "30");
	else if (strcmp(name, "MaximumMessageSize") == 0)
		snprintf(out, size, "262144");
	else if (strcmp(name, "MessageRetentionPeriod") == 0)
		snprintf(out, size, "345600");
	else if (strcmp(name, "DelaySeconds") == 0)
		snprintf(out, size, "%" PRIu64, sc->queues[q->index].delay_ms / 1000);
	else if (strcmp(name, "ReceiveMessageWaitTimeSeconds") == 0)
		snprintf(out, size, "0");
	else if (strcmp(name, "SqsManagedSseEnabled") == 0)
		snprintf(out, size, "true");
	else
		return false;
	return true;
}

/* Fill call->err with an SQS-modelled error. */
static int sqs_fail(struct emulate_call *call, int status, const char *name, const char *query_code,
	const char *message)
{
	char type[96], query[96];

	snprintf(type, sizeof(type), "com.amazonaws.sqs#%s", name);
	snprintf(query, sizeof(query), "%s;Sender", query_code);
	emulate_error_set(&call->err, status, type, query, "%s", message);
	return -1;
}

/* GetQueueAttributes: the queue's attributes named in AttributeNames ("All" for every one). */
static int get_queue_attributes(struct emulate_call *call, yajl_gen gen)
{
	const char *url = NULL;
	yajl_val names = NULL;
	bool want[N_ATTRIBUTES] = {false};
	struct world_queue_info q;
	char message[256];
	int r;

	r = emulate_json_string(call->body, "QueueUrl", &url);
	if (r < 0)
		return emulate_fail_serialization(call, "QueueUrl");
	if (r > 0)
		return sqs_fail(call, 400, "MissingParameter", "MissingParameter",
			"The request must contain the parameter QueueUrl.");
	r = emulate_json_array(call->body, "AttributeNames", &names);
	if (r < 0)
		return emulate_fail_serialization(call, "AttributeNames");
	for (size_t i = 0; names != NULL && i < names->u.array.len; i++) {
		yajl_val v = names->u.array.values[i];
		int k;

		if (!YAJL_IS_STRING(v))
			return emulate_fail_serialization(call, "AttributeNames");
		if (strcmp(v->u.string, "All") == 0) {
			for (size_t j = 0; j < N_ATTRIBUTES; j++)
				want[j] = true;
			continue;
		}
		k = attribute_index(v->u.string);
		if (k < 0) {
			snprintf(
				message, sizeof(message), "Unknown Attribute %.200s.", v->u.string);
			return sqs_fail(
				call, 400, "InvalidAttributeName", "InvalidAttributeName", message);
		}
		want[k] = true;
	}
	if (world_queue_get(call->world, url, &q) < 0)
		return sqs_fail(call, 400, "QueueDoesNotExist",
			"AWS.SimpleQueueService.NonExistentQueue",
			"The specified queue does not exist.");

	bool any = false;
	char value[512];

	yajl_gen_map_open(gen);
	for (size_t i = 0; i < N_ATTRIBUTES; i++) {
		if (!want[i] ||
			!attribute_value(i, &q, world_scenario(call->world), value, sizeof(value)))
			continue;
		if (!any) {
			emulate_gen_key(gen, "Attributes");
			yajl_gen_map_open(gen);
			any = true;
		}
		emulate_gen_key(gen, attribute_names[i]);
		emulate_gen_string(gen, value);
	}
	if (any)
		yajl_gen_map_close(gen);
	yajl_gen_map_close(gen);
	return 0;
}

emulate_op_cb emulate_sqs_operation(const char *operation)
{
	if (strcmp(operation, "GetQueueAttributes") == 0)
		return get_queue_attributes;
	return NULL;
}
