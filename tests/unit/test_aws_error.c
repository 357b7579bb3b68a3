/*
 * Unit tests of AWS error parsing (every error form AWS.md lists) and of the
 * single classifier.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/aws_client.h"

static const struct {
	const char *name;
	long status;
	const char *query_error;
	const char *error_type;
	const char *body;
	const char *code;
	const char *message;
	enum aws_error_class error_class;
	bool retryable;
	int err;
} parse_cases[] = {
	{"namespaced __type", 400, NULL, NULL,
		"{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\",\"message\":\"The specified "
		"queue does not exist.\"}",
		"QueueDoesNotExist", "The specified queue does not exist.", AWS_ERROR_FATAL, false,
		-EIO},
	{"bare __type", 400, NULL, NULL,
		"{\"__type\":\"ClusterNotFoundException\",\"message\":\"Cluster not found.\"}",
		"ClusterNotFoundException", "Cluster not found.", AWS_ERROR_FATAL, false, -EIO},
	{"__type with ':' suffix", 400, NULL, NULL,
		"{\"__type\":\"com.amazon.coral.validate#ValidationException:http://"
		"internal.amazon."
		"com/coral/com.amazon.coral.validate/\",\"message\":\"bad\"}",
		"ValidationException", "bad", AWS_ERROR_FATAL, false, -EIO},
	{"query-error header wins", 400, "AWS.SimpleQueueService.NonExistentQueue;Sender", NULL,
		"{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\",\"message\":\"gone\"}",
		"AWS.SimpleQueueService.NonExistentQueue", "gone", AWS_ERROR_FATAL, false, -EIO},
	{"query-error without sender ignored", 400, "Nope", NULL,
		"{\"__type\":\"com.amazonaws.sqs#QueueDoesNotExist\"}", "QueueDoesNotExist",
		"http status 400", AWS_ERROR_FATAL, false, -EIO},
	{"query-error empty code ignored", 400, ";Sender", NULL, "{\"__type\":\"X\"}", "X",
		"http status 400", AWS_ERROR_FATAL, false, -EIO},
	{"Message capitalised", 403, NULL, NULL,
		"{\"__type\":\"com.amazon.coral.service#AccessDeniedException\",\"Message\":\"User "
		"is "
		"not authorized\"}",
		"AccessDeniedException", "User is not authorized", AWS_ERROR_FATAL, false, -EACCES},
	{"sqs throttled 403 by code", 403, "RequestThrottled;Sender", NULL,
		"{\"__type\":\"com.amazonaws.sqs#RequestThrottled\",\"message\":\"slow down\"}",
		"RequestThrottled", "slow down", AWS_ERROR_THROTTLING, true, -EIO},
	{"ecs throttling 400", 400, NULL, NULL,
		"{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}",
		"ThrottlingException", "Rate exceeded", AWS_ERROR_THROTTLING, true, -EIO},
	{"server exception 500", 500, NULL, NULL,
		"{\"__type\":\"ServerException\",\"message\":\"oops\"}", "ServerException", "oops",
		AWS_ERROR_TRANSIENT, true, -EIO},
	{"expired token", 400, NULL, NULL,
		"{\"__type\":\"com.amazon.coral.service#ExpiredTokenException\",\"message\":\"The "
		"security token included in the request is expired\"}",
		"ExpiredTokenException", "The security token included in the request is expired",
		AWS_ERROR_AUTH, false, -EACCES},
	{"error type header only", 400, NULL, "UnrecognizedClientException:http://x/", "{}",
		"UnrecognizedClientException", "http status 400", AWS_ERROR_AUTH, false, -EACCES},
	{"code key", 400, NULL, NULL, "{\"code\":\"InvalidParameterException\",\"message\":\"m\"}",
		"InvalidParameterException", "m", AWS_ERROR_FATAL, false, -EIO},
	{"non-JSON body 502", 502, NULL, NULL, "<html>Bad Gateway</html>", "",
		"<html>Bad Gateway</html>", AWS_ERROR_TRANSIENT, true, -EIO},
	{"truncated JSON", 400, NULL, NULL, "{\"__type\":\"Thrott", "", "{\"__type\":\"Thrott",
		AWS_ERROR_FATAL, false, -EIO},
	{"JSON array", 400, NULL, NULL, "[1,2]", "", "[1,2]", AWS_ERROR_FATAL, false, -EIO},
	{"__type not a string", 400, NULL, NULL, "{\"__type\":5}", "", "http status 400",
		AWS_ERROR_FATAL, false, -EIO},
	{"empty body 503", 503, NULL, NULL, "", "", "http status 503", AWS_ERROR_TRANSIENT, true,
		-EIO},
	{"empty body 429", 429, NULL, NULL, "", "", "http status 429", AWS_ERROR_THROTTLING, true,
		-EIO},
	{"control bytes cleaned", 400, NULL, NULL,
		"{\"__type\":\"A\\u0001B\",\"message\":\"x\\ny\"}", "AB", "x y", AWS_ERROR_FATAL,
		false, -EIO},
};

static void test_parse_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(parse_cases) / sizeof(parse_cases[0]); i++) {
		struct aws_error e;
		const char *body = parse_cases[i].body;

		aws_error_parse(parse_cases[i].status, parse_cases[i].query_error,
			parse_cases[i].error_type, body, strlen(body), &e);
		if (strcmp(e.code, parse_cases[i].code) != 0 ||
			strcmp(e.message, parse_cases[i].message) != 0 ||
			e.error_class != parse_cases[i].error_class ||
			e.retryable != parse_cases[i].retryable || e.err != parse_cases[i].err ||
			e.http_status != parse_cases[i].status)
			fail_msg("case '%s': code='%s' message='%s' class=%d retryable=%d err=%d",
				parse_cases[i].name, e.code, e.message, (int)e.error_class,
				e.retryable, e.err);
	}
}

static void test_parse_null_and_long(void **state)
{
	struct aws_error e;
	char big[2048];

	(void)state;
	aws_error_parse(500, NULL, NULL, NULL, 10, &e);
	assert_string_equal(e.code, "");
	assert_int_equal(e.error_class, AWS_ERROR_TRANSIENT);
	/* A message longer than the field is cut, never overflows. */
	memset(big, 'm', sizeof(big));
	int n = snprintf(big, sizeof(big), "{\"__type\":\"X\",\"message\":\"");
	memset(big + n, 'm', sizeof(big) - (size_t)n - 3);
	memcpy(big + sizeof(big) - 3, "\"}", 3);
	aws_error_parse(400, NULL, NULL, big, strlen(big), &e);
	assert_string_equal(e.code, "X");
	assert_int_equal(strlen(e.message), AWS_ERROR_MESSAGE_MAX - 1);
	/* An embedded NUL makes the body junk, not a crash. */
	aws_error_parse(400, NULL, NULL, "{\"__type\":\"A\"}\0zz", 17, &e);
	assert_string_equal(e.code, "");
	/* Nesting past the bounded reader's 32 levels is junk too, however short the body. */
	char deep[256];
	size_t k = (size_t)snprintf(deep, sizeof(deep), "{\"__type\":\"B\",\"x\":");

	for (int i = 0; i < 40; i++) {
		deep[k + (size_t)i] = '[';
		deep[k + 40 + 40 - 1 - (size_t)i] = ']';
	}
	memcpy(deep + k + 80, "}", 2);
	aws_error_parse(400, NULL, NULL, deep, strlen(deep), &e);
	assert_string_equal(e.code, "");
	/* The same body 30 levels deep is read. */
	memmove(deep + k + 30, deep + k + 50, strlen(deep + k + 50) + 1);
	aws_error_parse(400, NULL, NULL, deep, strlen(deep), &e);
	assert_string_equal(e.code, "B");
}

static const struct {
	long status;
	const char *code;
	int transport_err;
	enum aws_error_class expected;
} classify_cases[] = {
	{200, "", 0, AWS_ERROR_NONE},
	{0, "", -ETIMEDOUT, AWS_ERROR_TRANSIENT},
	{0, "", -EIO, AWS_ERROR_TRANSIENT},
	{0, "", -E2BIG, AWS_ERROR_FATAL},
	{500, "", 0, AWS_ERROR_TRANSIENT},
	{502, "", 0, AWS_ERROR_TRANSIENT},
	{503, "", 0, AWS_ERROR_TRANSIENT},
	{504, "", 0, AWS_ERROR_TRANSIENT},
	{429, "", 0, AWS_ERROR_THROTTLING},
	{400, "ThrottlingException", 0, AWS_ERROR_THROTTLING},
	{403, "RequestThrottled", 0, AWS_ERROR_THROTTLING},
	{400, "Throttling", 0, AWS_ERROR_THROTTLING},
	{400, "TooManyRequestsException", 0, AWS_ERROR_THROTTLING},
	{400, "RequestLimitExceeded", 0, AWS_ERROR_THROTTLING},
	{400, "LimitExceededException", 0, AWS_ERROR_THROTTLING},
	{503, "SlowDown", 0, AWS_ERROR_THROTTLING},
	{400, "PriorRequestNotComplete", 0, AWS_ERROR_THROTTLING},
	{400, "RequestTimeout", 0, AWS_ERROR_TRANSIENT},
	{400, "RequestTimeoutException", 0, AWS_ERROR_TRANSIENT},
	{500, "ServerException", 0, AWS_ERROR_TRANSIENT},
	{400, "ExpiredToken", 0, AWS_ERROR_AUTH},
	{400, "ExpiredTokenException", 0, AWS_ERROR_AUTH},
	{400, "UnrecognizedClientException", 0, AWS_ERROR_AUTH},
	{403, "InvalidClientTokenId", 0, AWS_ERROR_AUTH},
	{403, "InvalidSignatureException", 0, AWS_ERROR_AUTH},
	{403, "SignatureDoesNotMatch", 0, AWS_ERROR_AUTH},
	{401, "", 0, AWS_ERROR_AUTH},
	{400, "RequestExpired", 0, AWS_ERROR_CLOCK_SKEW},
	{403, "RequestTimeTooSkewed", 0, AWS_ERROR_CLOCK_SKEW},
	{400, "RequestInTheFuture", 0, AWS_ERROR_CLOCK_SKEW},
	{400, "AuthFailure", 0, AWS_ERROR_CLOCK_SKEW},
	{400, "AccessDeniedException", 0, AWS_ERROR_FATAL},
	{403, "AccessDenied", 0, AWS_ERROR_FATAL},
	{400, "ClientException", 0, AWS_ERROR_FATAL},
	{400, "ClusterNotFoundException", 0, AWS_ERROR_FATAL},
	{400, "AWS.SimpleQueueService.NonExistentQueue", 0, AWS_ERROR_FATAL},
	{404, "InvalidAddress", 0, AWS_ERROR_FATAL},
	{400, NULL, 0, AWS_ERROR_FATAL},
};

static void test_classify_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(classify_cases) / sizeof(classify_cases[0]); i++) {
		enum aws_error_class got = aws_error_classify(classify_cases[i].status,
			classify_cases[i].code, classify_cases[i].transport_err);
		if (got != classify_cases[i].expected)
			fail_msg("status=%ld code=%s err=%d: class %d, expected %d",
				classify_cases[i].status,
				classify_cases[i].code ? classify_cases[i].code : "(null)",
				classify_cases[i].transport_err, (int)got,
				(int)classify_cases[i].expected);
	}
}

static void test_skew_capable_and_names(void **state)
{
	(void)state;
	assert_true(aws_error_is_skew_capable("InvalidSignatureException"));
	assert_true(aws_error_is_skew_capable("AccessDeniedException"));
	assert_true(aws_error_is_skew_capable("RequestTimeTooSkewed"));
	assert_false(aws_error_is_skew_capable("ClientException"));
	assert_false(aws_error_is_skew_capable(NULL));
	assert_string_equal(aws_error_class_name(AWS_ERROR_THROTTLING), "throttling");
	assert_string_equal(aws_error_class_name(AWS_ERROR_FATAL), "fatal");
}

static void test_from_transport(void **state)
{
	struct aws_error e;

	(void)state;
	aws_error_from_transport(-ETIMEDOUT, "Operation timed out", &e);
	assert_int_equal(e.err, -ETIMEDOUT);
	assert_int_equal(e.error_class, AWS_ERROR_TRANSIENT);
	assert_true(e.retryable);
	assert_int_equal(e.http_status, 0);
	aws_error_from_transport(-E2BIG, "too big", &e);
	assert_int_equal(e.error_class, AWS_ERROR_FATAL);
	assert_false(e.retryable);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_table),
		cmocka_unit_test(test_parse_null_and_long),
		cmocka_unit_test(test_classify_table),
		cmocka_unit_test(test_skew_capable_and_names),
		cmocka_unit_test(test_from_transport),
	};

	return cmocka_run_group_tests_name("aws_error", tests, NULL, NULL);
}
