/*
 * The emulator's protocol layer: route an X-Amz-Target to its service and
 * operation, check the content type, parse the JSON body with bounded depth,
 * run the operation and shape its reply or error the way AWS JSON 1.0 (SQS,
 * query-compatible) and 1.1 (ECS) do. Pure apart from the world it is given.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qscale/json_tree.h"
#include "emulate_priv.h"
#include "qscale/xalloc.h"

#define SQS_PREFIX "AmazonSQS."
#define ECS_PREFIX "AmazonEC2ContainerServiceV20141113."
#define SQS_CONTENT_TYPE "application/x-amz-json-1.0"
#define ECS_CONTENT_TYPE "application/x-amz-json-1.1"

enum emulate_service emulate_target_service(const char *target, const char **operation)
{
	static const struct {
		const char *prefix;
		enum emulate_service service;
	} prefixes[] = {
		{SQS_PREFIX, EMULATE_SERVICE_SQS},
		{ECS_PREFIX, EMULATE_SERVICE_ECS},
	};

	if (target == NULL)
		return EMULATE_SERVICE_NONE;
	for (size_t i = 0; i < sizeof(prefixes) / sizeof(prefixes[0]); i++) {
		size_t len = strlen(prefixes[i].prefix);

		if (strncmp(target, prefixes[i].prefix, len) == 0 && target[len] != '\0') {
			if (operation != NULL)
				*operation = target + len;
			return prefixes[i].service;
		}
	}
	return EMULATE_SERVICE_NONE;
}

const char *emulate_service_signing_name(enum emulate_service service)
{
	switch (service) {
	case EMULATE_SERVICE_SQS:
		return "sqs";
	case EMULATE_SERVICE_ECS:
		return "ecs";
	case EMULATE_SERVICE_STS:
		return "sts";
	case EMULATE_SERVICE_SSO:
		return "awsssoportal";
	case EMULATE_SERVICE_NONE:
		break;
	}
	return "";
}

/* The reply content type of a service. */
static const char *service_content_type(enum emulate_service service)
{
	return service == EMULATE_SERVICE_SQS ? SQS_CONTENT_TYPE : ECS_CONTENT_TYPE;
}

void emulate_error_set(struct emulate_error *err, int http_status, const char *type,
	const char *query_error, const char *fmt, ...)
{
	const char *hash = strrchr(type, '#');
	va_list ap;

	err->http_status = http_status;
	snprintf(err->type, sizeof(err->type), "%s", type);
	snprintf(err->code, sizeof(err->code), "%s", hash != NULL ? hash + 1 : type);
	snprintf(err->query_error, sizeof(err->query_error), "%s",
		query_error != NULL ? query_error : "");
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
}

/* Move a finished generator's text into reply. */
static void reply_take_gen(yajl_gen gen, struct emulate_reply *reply)
{
	const unsigned char *text = NULL;
	size_t len = 0;

	yajl_gen_get_buf(gen, &text, &len);
	reply->body = xstrndup((const char *)text, len);
	reply->body_len = len;
}

void emulate_reply_error(
	enum emulate_service service, const struct emulate_error *err, struct emulate_reply *reply)
{
	if (service == EMULATE_SERVICE_STS) {
		emulate_sts_error(err, reply);
		return;
	}
	yajl_gen gen = yajl_gen_alloc(NULL);

	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "__type");
	emulate_gen_string(gen, err->type);
	emulate_gen_key(gen, "message");
	emulate_gen_string(gen, err->message);
	yajl_gen_map_close(gen);
	free(reply->body);
	reply_take_gen(gen, reply);
	yajl_gen_free(gen);
	reply->http_status = err->http_status;
	reply->content_type = service_content_type(service);
	snprintf(reply->error_code, sizeof(reply->error_code), "%s", err->code);
	snprintf(reply->query_error, sizeof(reply->query_error), "%s", err->query_error);
}

void emulate_reply_finish(struct emulate_reply *reply)
{
	free(reply->body);
	reply->body = NULL;
	reply->body_len = 0;
}

/* Whether the content type names the service's JSON dialect (parameters allowed). */
static bool content_type_ok(enum emulate_service service, const char *value)
{
	const char *want = service_content_type(service);
	size_t len = strlen(want);

	if (value == NULL || strncasecmp(value, want, len) != 0)
		return false;
	return value[len] == '\0' || value[len] == ';' || value[len] == ' ';
}

/* Fill err for an operation the service does not have. */
static void unknown_operation(enum emulate_service service, struct emulate_error *err)
{
	if (service == EMULATE_SERVICE_SQS)
		emulate_error_set(err, 400, "com.amazon.coral.service#UnknownOperationException",
			"InvalidAction;Sender", "%s", "");
	else
		emulate_error_set(err, 400, "UnknownOperationException", NULL, "%s", "");
}

void emulate_dispatch(struct world *world, const struct emulate_auth *auth,
	const struct emulate_http_request *req, struct emulate_reply *reply)
{
	emulate_dispatch_fault(world, auth, req, NULL, reply);
}

void emulate_dispatch_fault(struct world *world, const struct emulate_auth *auth,
	const struct emulate_http_request *req, const struct scenario_fault *fault,
	struct emulate_reply *reply)
{
	struct emulate_call call = {.world = world, .auth = auth, .fault = fault, .reply = reply};
	const char *target = emulate_request_header(req, "x-amz-target");
	emulate_op_cb op = NULL;

	memset(reply, 0, sizeof(*reply));
	call.service = emulate_target_service(target, &call.operation);
	if (call.service == EMULATE_SERVICE_NONE) {
		/* No recognisable target: answer in the ECS dialect, as coral does. */
		unknown_operation(EMULATE_SERVICE_ECS, &call.err);
		emulate_reply_error(EMULATE_SERVICE_ECS, &call.err, reply);
		return;
	}
	op = call.service == EMULATE_SERVICE_SQS ? emulate_sqs_operation(call.operation)
						 : emulate_ecs_operation(call.operation);
	if (op == NULL || strcmp(req->method, "POST") != 0 ||
		!content_type_ok(call.service, emulate_request_header(req, "content-type"))) {
		unknown_operation(call.service, &call.err);
		emulate_reply_error(call.service, &call.err, reply);
		return;
	}
	if (emulate_json_parse(req->body, req->body_len, &call.body) < 0) {
		if (call.service == EMULATE_SERVICE_SQS)
			emulate_error_set(&call.err, 400,
				"com.amazon.coral.service#SerializationException", NULL,
				"Start of structure or map found where not expected.");
		else
			emulate_error_set(&call.err, 400, "SerializationException", NULL,
				"Start of structure or map found where not expected.");
		emulate_reply_error(call.service, &call.err, reply);
		return;
	}

	yajl_gen gen = yajl_gen_alloc(NULL);
	if (op(&call, gen) == 0) {
		reply_take_gen(gen, reply);
		reply->http_status = 200;
		reply->content_type = service_content_type(call.service);
	} else {
		emulate_reply_error(call.service, &call.err, reply);
	}
	yajl_gen_free(gen);
	json_tree_free(call.body);
}

int emulate_json_parse(const char *body, size_t len, yajl_val *out)
{
	static const struct json_limits limits = {
		.max_bytes = EMULATE_MAX_BODY,
		.max_depth = EMULATE_JSON_MAX_DEPTH,
		.max_items = EMULATE_JSON_MAX_ITEMS,
	};
	char error[JSON_TREE_ERROR_MAX];

	if (len == 0) {
		body = "{}";
		len = 2;
	}
	return json_tree_parse(body, len, &limits, out, error) < 0 ? -EINVAL : 0;
}

int emulate_json_string(yajl_val obj, const char *key, const char **out)
{
	yajl_val v = json_tree_get(obj, key);

	if (v == NULL)
		return 1;
	if (!YAJL_IS_STRING(v))
		return -EINVAL;
	*out = v->u.string;
	return 0;
}

int emulate_json_int(yajl_val obj, const char *key, long long *out)
{
	yajl_val v = json_tree_get(obj, key);

	if (v == NULL)
		return 1;
	if (!YAJL_IS_INTEGER(v))
		return -EINVAL;
	*out = v->u.number.i;
	return 0;
}

int emulate_json_array(yajl_val obj, const char *key, yajl_val *out)
{
	yajl_val v = json_tree_get(obj, key);

	if (v == NULL)
		return 1;
	if (!YAJL_IS_ARRAY(v))
		return -EINVAL;
	*out = v;
	return 0;
}

int emulate_fail_serialization(struct emulate_call *call, const char *key)
{
	const char *type = call->service == EMULATE_SERVICE_SQS
		? "com.amazon.coral.service#SerializationException"
		: "SerializationException";

	emulate_error_set(&call->err, 400, type, NULL, "Unexpected value type for '%s'.", key);
	return -1;
}

void emulate_gen_string(yajl_gen gen, const char *s)
{
	yajl_gen_string(gen, (const unsigned char *)s, strlen(s));
}

void emulate_gen_key(yajl_gen gen, const char *key)
{
	emulate_gen_string(gen, key);
}

void emulate_gen_int(yajl_gen gen, long long v)
{
	yajl_gen_integer(gen, v);
}

void emulate_gen_epoch_seconds(yajl_gen gen, uint64_t ms)
{
	char text[32];
	int len;

	if (ms % 1000 == 0)
		len = snprintf(text, sizeof(text), "%llu", (unsigned long long)(ms / 1000));
	else
		len = snprintf(text, sizeof(text), "%llu.%03llu", (unsigned long long)(ms / 1000),
			(unsigned long long)(ms % 1000));
	yajl_gen_number(gen, text, (size_t)len);
}
