/*
 * doctor's judgements: the IAM action named from an error, what each AWS
 * error means to the operator and its level, clock skew and credential age.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/doctor.h"

/* An HTTP error as the client would classify it. */
static struct aws_error http_error(long status, const char *code, const char *message)
{
	struct aws_error e;

	memset(&e, 0, sizeof(e));
	e.err = status >= 500 ? -EIO : -EACCES;
	e.http_status = status;
	snprintf(e.code, sizeof(e.code), "%s", code);
	snprintf(e.message, sizeof(e.message), "%s", message);
	e.error_class = aws_error_classify(status, code, 0);
	return e;
}

/* The action denied: named by the message when it names one, else by the operation. */
static void test_denied_action(void **state)
{
	static const struct {
		enum aws_service service;
		const char *operation;
		const char *code;
		const char *message;
		bool denied;
		const char *action;
	} cases[] = {
		{AWS_SERVICE_ECS, "DescribeServices", "AccessDeniedException",
			"User: arn:aws:sts::123456789012:assumed-role/ECSAnywhereRole/mi-0 is not "
			"authorized to perform: ecs:DescribeServices on resource: "
			"arn:aws:ecs:us-east-1:123456789012:service/onprem/order-processor",
			true, "ecs:DescribeServices"},
		{AWS_SERVICE_SQS, "GetQueueAttributes", "AccessDenied",
			"Access to the resource "
			"is denied.",
			true, "sqs:GetQueueAttributes"},
		{AWS_SERVICE_ECS, "ListContainerInstances", "AccessDeniedException", "", true,
			"ecs:ListContainerInstances"},
		/* ECS sometimes answers a denial as ClientException: the message decides. */
		{AWS_SERVICE_ECS, "DescribeContainerInstances", "ClientException",
			"User: x is not authorized to perform: ecs:DescribeContainerInstances on "
			"resource: y",
			true, "ecs:DescribeContainerInstances"},
		/* A message naming no service:Action falls back to the operation. */
		{AWS_SERVICE_ECS, "DescribeTaskDefinition", "AccessDeniedException",
			"not authorized to perform: this", true, "ecs:DescribeTaskDefinition"},
		{AWS_SERVICE_ECS, "DescribeServices", "ClusterNotFoundException",
			"Cluster not found.", false, NULL},
		{AWS_SERVICE_SQS, "GetQueueAttributes", "InvalidClientTokenId", "", false, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aws_error e = http_error(400, cases[i].code, cases[i].message);
		char action[DOCTOR_ACTION_MAX] = "";
		bool denied =
			doctor_denied_action(cases[i].service, cases[i].operation, &e, action);
		assert_int_equal(denied, cases[i].denied);
		if (denied)
			assert_string_equal(action, cases[i].action);
	}
	assert_false(
		doctor_denied_action(AWS_SERVICE_ECS, "X", NULL, (char[DOCTOR_ACTION_MAX]){0}));
}

/* Every explanation: level and the words the operator needs. */
static void test_explain(void **state)
{
	static const struct {
		enum aws_service service;
		const char *operation;
		long status;
		const char *code;
		const char *message;
		enum doctor_level level;
		const char *says;
	} cases[] = {
		{AWS_SERVICE_ECS, "DescribeServices", 400, "AccessDeniedException",
			"is not authorized to perform: ecs:DescribeServices on resource: z",
			DOCTOR_FAIL, "missing IAM permission ecs:DescribeServices"},
		{AWS_SERVICE_SQS, "GetQueueAttributes", 403, "AccessDenied", "", DOCTOR_FAIL,
			"missing IAM permission sqs:GetQueueAttributes"},
		{AWS_SERVICE_ECS, "DescribeServices", 400, "UnrecognizedClientException", "",
			DOCTOR_FAIL, "access key not recognised"},
		{AWS_SERVICE_SQS, "GetQueueAttributes", 403, "InvalidClientTokenId", "",
			DOCTOR_FAIL, "access key not recognised"},
		{AWS_SERVICE_ECS, "DescribeServices", 403, "InvalidSignatureException",
			"The request signature we calculated does not match", DOCTOR_FAIL,
			"wrong secret access key"},
		{AWS_SERVICE_SQS, "GetQueueAttributes", 403, "SignatureDoesNotMatch", "",
			DOCTOR_FAIL, "wrong secret access key"},
		{AWS_SERVICE_ECS, "DescribeServices", 403, "InvalidSignatureException",
			"Signature expired: 20260101T000000Z is now earlier than ...", DOCTOR_FAIL,
			"more than 15 min off"},
		{AWS_SERVICE_SQS, "GetQueueAttributes", 403, "RequestExpired", "", DOCTOR_FAIL,
			"more than 15 min off"},
		{AWS_SERVICE_ECS, "DescribeServices", 400, "ExpiredTokenException", "", DOCTOR_FAIL,
			"credentials expired"},
		{AWS_SERVICE_ECS, "DescribeServices", 400, "MissingAuthenticationTokenException",
			"", DOCTOR_FAIL, "unsigned"},
		{AWS_SERVICE_SQS, "GetQueueAttributes", 400,
			"AWS.SimpleQueueService.NonExistentQueue", "", DOCTOR_FAIL,
			"queue does not exist"},
		{AWS_SERVICE_ECS, "ListContainerInstances", 400, "ClusterNotFoundException", "",
			DOCTOR_FAIL, "cluster not found"},
		{AWS_SERVICE_ECS, "DescribeServices", 400, "ServiceNotActiveException", "",
			DOCTOR_FAIL, "service not found or not active (ServiceNotActiveException)"},
		{AWS_SERVICE_ECS, "DescribeServices", 400, "ExpiredToken", "", DOCTOR_FAIL,
			"credentials expired (ExpiredToken): refresh them"},
		{AWS_SERVICE_ECS, "DescribeServices", 400, "ThrottlingException", "Rate exceeded",
			DOCTOR_WARN, "throttled"},
		{AWS_SERVICE_SQS, "GetQueueAttributes", 403, "RequestThrottled", "", DOCTOR_WARN,
			"throttled"},
		{AWS_SERVICE_ECS, "DescribeServices", 503, "ServiceUnavailableException", "",
			DOCTOR_WARN, "server error HTTP 503"},
		{AWS_SERVICE_ECS, "DescribeServices", 400, "InvalidParameterException", "bad thing",
			DOCTOR_FAIL, "InvalidParameterException: bad thing"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct aws_error e = http_error(cases[i].status, cases[i].code, cases[i].message);
		char out[512];
		enum doctor_level level =
			doctor_explain(cases[i].service, cases[i].operation, &e, out, sizeof(out));
		if (level != cases[i].level || strstr(out, cases[i].says) == NULL)
			fail_msg("case %zu (%s): level %s, '%s'", i, cases[i].code,
				doctor_level_name(level), out);
	}
}

/* No HTTP answer: unreachable; a body not understood: unexpected answer. */
static void test_explain_transport(void **state)
{
	struct aws_error e;
	char out[512];

	(void)state;
	aws_error_from_transport(-EIO, "Failed to connect to 127.0.0.1 port 1", &e);
	assert_int_equal(
		doctor_explain(AWS_SERVICE_SQS, "GetQueueAttributes", &e, out, sizeof(out)),
		DOCTOR_FAIL);
	assert_string_equal(out, "unreachable: Failed to connect to 127.0.0.1 port 1");
	aws_error_from_transport(-ETIMEDOUT, "", &e);
	assert_int_equal(doctor_explain(AWS_SERVICE_ECS, "DescribeServices", &e, out, sizeof(out)),
		DOCTOR_FAIL);
	assert_string_equal(out, "unreachable: no answer");
	memset(&e, 0, sizeof(e));
	e.err = -EPROTO;
	e.http_status = 200;
	snprintf(e.message, sizeof(e.message), "services is not an array");
	assert_int_equal(doctor_explain(AWS_SERVICE_ECS, "DescribeServices", &e, out, sizeof(out)),
		DOCTOR_FAIL);
	assert_string_equal(out, "unexpected answer: services is not an array");
	assert_int_equal(doctor_explain(AWS_SERVICE_ECS, "X", NULL, out, sizeof(out)), DOCTOR_FAIL);
}

/* Actions are the service prefix and the operation's name. */
static void test_iam_action(void **state)
{
	char a[DOCTOR_ACTION_MAX];

	(void)state;
	doctor_iam_action(AWS_SERVICE_SQS, "GetQueueAttributes", a);
	assert_string_equal(a, "sqs:GetQueueAttributes");
	doctor_iam_action(AWS_SERVICE_ECS, "UpdateService", a);
	assert_string_equal(a, "ecs:UpdateService");
	assert_string_equal(doctor_level_name(DOCTOR_OK), "ok");
	assert_string_equal(doctor_level_name(DOCTOR_WARN), "warn");
	assert_string_equal(doctor_level_name(DOCTOR_FAIL), "FAIL");
}

/* Skew under 5 s either way is ok. */
static void test_skew(void **state)
{
	static const struct {
		int64_t offset_ms;
		enum doctor_level level;
	} cases[] = {
		{0, DOCTOR_OK},
		{4999, DOCTOR_OK},
		{-4999, DOCTOR_OK},
		{5000, DOCTOR_WARN},
		{-300000, DOCTOR_WARN},
		{16 * 60000, DOCTOR_WARN},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_int_equal(doctor_judge_skew(cases[i].offset_ms), cases[i].level);
}

/* Expiry and the age of a rotated credentials file. */
static void test_credentials_age(void **state)
{
	static const uint64_t now = 1800000000000ull;
	static const uint64_t min = 60000;
	static const struct {
		uint64_t expiry, mtime;
		bool temporary;
		enum doctor_level level;
		const char *says;
	} cases[] = {
		{0, 0, false, DOCTOR_OK, "no expiry"},
		{now + 60 * min, 0, true, DOCTOR_OK, "expires in 60 min"},
		{now + 10 * min, 0, true, DOCTOR_WARN, "a refresh is due"},
		{now - 2 * min, 0, true, DOCTOR_FAIL, "expired 2 min ago"},
		{0, now - 20 * min, true, DOCTOR_OK, "file written 20 min ago"},
		{0, now - 90 * min, true, DOCTOR_WARN, "SSM agent"},
		/* Long-term keys in an old file are fine: nothing rotates them. */
		{0, now - 900 * min, false, DOCTOR_OK, "file written 15 h ago"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char out[300];
		enum doctor_level level = doctor_judge_credentials(
			now, cases[i].expiry, cases[i].temporary, cases[i].mtime, out, sizeof(out));
		if (level != cases[i].level || strstr(out, cases[i].says) == NULL)
			fail_msg("case %zu: level %s, '%s'", i, doctor_level_name(level), out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_denied_action),
		cmocka_unit_test(test_explain),
		cmocka_unit_test(test_explain_transport),
		cmocka_unit_test(test_iam_action),
		cmocka_unit_test(test_skew),
		cmocka_unit_test(test_credentials_age),
	};

	return cmocka_run_group_tests_name("doctor", tests, NULL, NULL);
}
