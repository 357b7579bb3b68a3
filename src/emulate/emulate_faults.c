/*
 * What injected faults look like on the wire: the throttling and server
 * errors each service really sends (ECS ThrottlingException 400 "Rate
 * exceeded"; SQS RequestThrottled 403 with its query error code; 500 and 503
 * in each dialect) and the malformed body. The server applies latency, dropped
 * connections and partitions; this file only shapes replies.
 */
#include <string.h>

#include "emulate_priv.h"
#include "qscale/scenario.h"
#include "qscale/xalloc.h"

/* One error a fault produces, per service. */
struct fault_error {
	int kind;
	enum emulate_service service;
	int http_status;
	const char *type;
	const char *query_error;
	const char *message;
};

static const struct fault_error fault_errors[] = {
	{SCENARIO_FAULT_THROTTLING, EMULATE_SERVICE_ECS, 400, "ThrottlingException", NULL,
		"Rate exceeded"},
	{SCENARIO_FAULT_THROTTLING, EMULATE_SERVICE_SQS, 403, "com.amazonaws.sqs#RequestThrottled",
		"RequestThrottled;Sender", "Rate exceeded"},
	{SCENARIO_FAULT_ERROR500, EMULATE_SERVICE_ECS, 500, "ServerException", NULL,
		"Service encountered an internal error."},
	{SCENARIO_FAULT_ERROR500, EMULATE_SERVICE_SQS, 500,
		"com.amazon.coral.service#InternalFailure", "InternalFailure;Receiver",
		"We encountered an internal error. Please try again."},
	{SCENARIO_FAULT_ERROR503, EMULATE_SERVICE_ECS, 503, "ServiceUnavailableException", NULL,
		"Service Unavailable"},
	{SCENARIO_FAULT_ERROR503, EMULATE_SERVICE_SQS, 503,
		"com.amazon.coral.service#ServiceUnavailableException",
		"ServiceUnavailable;Receiver", "Service is unable to handle request."},
};

bool emulate_fault_reply(enum emulate_service service, int kind, struct emulate_reply *reply)
{
	for (size_t i = 0; i < sizeof(fault_errors) / sizeof(fault_errors[0]); i++) {
		const struct fault_error *f = &fault_errors[i];
		struct emulate_error err;

		if (f->kind != kind || f->service != service)
			continue;
		emulate_error_set(&err, f->http_status, f->type, f->query_error, "%s", f->message);
		emulate_reply_error(service, &err, reply);
		return true;
	}
	return false;
}
