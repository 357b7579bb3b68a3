/*
 * Unit tests of the emulator's pure parts: X-Amz-Target routing, request
 * body parsing, the SigV4 verifier (against requests signed by sigv4_sign and
 * then altered), error and fault reply shapes, operation dispatch against a
 * world built from tests/data/emulate/base.yaml, and the bounded logs.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "emulate_priv.h"
#include "qscale/emulate.h"
#include "qscale/json_tree.h"
#include "qscale/scenario.h"
#include "qscale/sigv4.h"
#include "qscale/world.h"
#include "qscale/xalloc.h"

#define ECS "AmazonEC2ContainerServiceV20141113."
#define NOW_MS 1764145200000ULL /* 2025-11-26T08:20:00Z */

static const struct emulate_auth test_auth = {
	.access_key_id = "AKIDQSCALETEST",
	.secret_access_key = "qscale-test-secret/K7MDENG+bPxRfiCY",
	.region = "us-east-1",
};

static void test_target_routing(void **state)
{
	static const struct {
		const char *target;
		enum emulate_service service;
		const char *operation;
	} cases[] = {
		{"AmazonSQS.GetQueueAttributes", EMULATE_SERVICE_SQS, "GetQueueAttributes"},
		{ECS "DescribeServices", EMULATE_SERVICE_ECS, "DescribeServices"},
		{ECS "Bogus", EMULATE_SERVICE_ECS, "Bogus"},
		{"AmazonSQS.", EMULATE_SERVICE_NONE, NULL},
		{"AmazonSQS", EMULATE_SERVICE_NONE, NULL},
		{"DynamoDB_20120810.GetItem", EMULATE_SERVICE_NONE, NULL},
		{"", EMULATE_SERVICE_NONE, NULL},
		{NULL, EMULATE_SERVICE_NONE, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *op = NULL;

		assert_int_equal(emulate_target_service(cases[i].target, &op), cases[i].service);
		if (cases[i].operation != NULL)
			assert_string_equal(op, cases[i].operation);
	}
	assert_string_equal(emulate_service_signing_name(EMULATE_SERVICE_SQS), "sqs");
	assert_string_equal(emulate_service_signing_name(EMULATE_SERVICE_ECS), "ecs");
}

static void test_json_parse(void **state)
{
	static const char *const junk[] = {
		"[]",
		"\"x\"",
		"42",
		"{",
		"{\"a\":}",
		"{\"a\":1}x",
		"{\"a\":\"\xff\"}",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]"
		"]]]]]}",
	};
	yajl_val v = NULL;
	char with_nul[] = "{\"a\":1}";

	(void)state;
	for (size_t i = 0; i < sizeof(junk) / sizeof(junk[0]); i++)
		assert_int_equal(emulate_json_parse(junk[i], strlen(junk[i]), &v), -EINVAL);
	with_nul[2] = '\0';
	assert_int_equal(emulate_json_parse(with_nul, sizeof(with_nul) - 1, &v), -EINVAL);

	assert_int_equal(emulate_json_parse("", 0, &v), 0);
	assert_true(YAJL_IS_OBJECT(v));
	json_tree_free(v);

	const char *text = "{\"s\":\"x\",\"n\":5,\"l\":[1],\"z\":null,\"f\":1.5}";
	const char *s = NULL;
	long long n = 0;
	yajl_val l = NULL;

	assert_int_equal(emulate_json_parse(text, strlen(text), &v), 0);
	assert_int_equal(emulate_json_string(v, "s", &s), 0);
	assert_string_equal(s, "x");
	assert_int_equal(emulate_json_int(v, "n", &n), 0);
	assert_int_equal(n, 5);
	assert_int_equal(emulate_json_array(v, "l", &l), 0);
	assert_int_equal(emulate_json_string(v, "z", &s), 1);
	assert_int_equal(emulate_json_string(v, "missing", &s), 1);
	assert_int_equal(emulate_json_string(v, "n", &s), -EINVAL);
	assert_int_equal(emulate_json_int(v, "f", &n), -EINVAL);
	assert_int_equal(emulate_json_array(v, "s", &l), -EINVAL);
	json_tree_free(v);
}

/* A request signed by qscale's signer, that tests then alter. */
struct signed_req {
	struct emulate_header headers[8];
	size_t n;
	struct sigv4_signed sig;
	struct emulate_http_request req;
	char body[256];
};

/* Sign a POST / for service at time_ms with secret and key id. */
static void make_signed(struct signed_req *s, const char *service, const char *target,
	const char *body, uint64_t time_ms, const char *key_id, const char *secret,
	const char *region)
{
	struct sigv4_header h[3] = {
		{"Host", "127.0.0.1:4566"},
		{"Content-Type", "application/x-amz-json-1.1"},
		{"X-Amz-Target", target},
	};
	struct sigv4_request sreq = {
		.method = "POST",
		.path = "/",
		.query = "",
		.headers = h,
		.n_headers = 3,
		.body = body,
		.body_len = strlen(body),
	};
	struct sigv4_credentials creds = {.access_key_id = key_id, .secret_access_key = secret};
	struct sigv4_params params = {
		.region = region,
		.service = service,
		.time_ms = time_ms,
		.normalize_path = true,
	};

	memset(s, 0, sizeof(*s));
	assert_int_equal(sigv4_sign(&sreq, &creds, &params, NULL, &s->sig), 0);
	snprintf(s->body, sizeof(s->body), "%s", body);
	for (size_t i = 0; i < 3; i++) {
		s->headers[i].name = h[i].name;
		s->headers[i].value = h[i].value;
	}
	s->headers[3] = (struct emulate_header){"X-Amz-Date", s->sig.amz_date};
	s->headers[4] = (struct emulate_header){"Authorization", s->sig.authorization};
	s->headers[5] = (struct emulate_header){"User-Agent", "test/1.0"};
	s->n = 6;
	s->req = (struct emulate_http_request){
		.method = "POST",
		.uri = "/",
		.headers = s->headers,
		.n_headers = s->n,
		.body = s->body,
		.body_len = strlen(s->body),
	};
}

static void test_auth_accepts_good_signature(void **state)
{
	struct signed_req s;
	struct emulate_error err;

	(void)state;
	make_signed(&s, "ecs", ECS "DescribeServices", "{}", NOW_MS, test_auth.access_key_id,
		test_auth.secret_access_key, "us-east-1");
	assert_int_equal(
		emulate_auth_verify(&test_auth, EMULATE_SERVICE_ECS, &s.req, NOW_MS, &err), 0);
	/* Ten minutes of skew either way is still fine. */
	assert_int_equal(emulate_auth_verify(&test_auth, EMULATE_SERVICE_ECS, &s.req,
				 NOW_MS + 10 * 60000, &err),
		0);
	/* Unsigned headers may change on the way. */
	s.headers[5].value = "another-agent/2.0";
	assert_int_equal(
		emulate_auth_verify(&test_auth, EMULATE_SERVICE_ECS, &s.req, NOW_MS, &err), 0);
	sigv4_signed_finish(&s.sig);
}

/* Sub-keys (the key id and up to 16 capitals or digits, same secret) tell clients apart. */
static void test_auth_sub_keys(void **state)
{
	static const struct {
		const char *suffix;
		int want;
	} cases[] = {
		{"A", 0},
		{"B7", 0},
		{"0123456789ABCDEF", 0},
		{"0123456789ABCDEFG", -EACCES},
		{"a", -EACCES},
		{"x9", -EACCES},
	};
	struct signed_req s;
	struct emulate_error err;
	char key[128], seen[64];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(key, sizeof(key), "%s%s", test_auth.access_key_id, cases[i].suffix);
		make_signed(&s, "ecs", ECS "DescribeServices", "{}", NOW_MS, key,
			test_auth.secret_access_key, "us-east-1");
		assert_int_equal(
			emulate_auth_verify(&test_auth, EMULATE_SERVICE_ECS, &s.req, NOW_MS, &err),
			cases[i].want);
		emulate_auth_key_id(&s.req, seen, sizeof(seen));
		assert_string_equal(seen, key);
		sigv4_signed_finish(&s.sig);
	}
	/* Another id that merely shares a prefix with the configured one is no sub-key. */
	snprintf(key, sizeof(key), "%.8s", test_auth.access_key_id);
	make_signed(&s, "ecs", ECS "DescribeServices", "{}", NOW_MS, key,
		test_auth.secret_access_key, "us-east-1");
	assert_int_equal(emulate_auth_verify(&test_auth, EMULATE_SERVICE_ECS, &s.req, NOW_MS, &err),
		-EACCES);
	sigv4_signed_finish(&s.sig);
}

/* How a test breaks a signed request, and what the verifier must answer. */
enum mutation {
	MUT_BODY,
	MUT_SECRET,
	MUT_KEY,
	MUT_EXPIRED,
	MUT_FUTURE,
	MUT_REGION,
	MUT_SERVICE,
	MUT_NO_AUTH,
	MUT_JUNK_AUTH,
	MUT_TARGET,
	MUT_NO_DATE,
};

static void test_auth_rejects(void **state)
{
	static const struct {
		enum mutation m;
		enum emulate_service service;
		int status;
		const char *type;
		const char *query;
		const char *message_start;
	} cases[] = {
		{MUT_BODY, EMULATE_SERVICE_ECS, 403, "InvalidSignatureException", "",
			"The request signature we calculated does not match"},
		{MUT_SECRET, EMULATE_SERVICE_ECS, 403, "InvalidSignatureException", "",
			"The request signature we calculated does not match"},
		{MUT_SECRET, EMULATE_SERVICE_SQS, 403,
			"com.amazon.coral.service#InvalidSignatureException",
			"SignatureDoesNotMatch;Sender", "The request signature"},
		{MUT_KEY, EMULATE_SERVICE_ECS, 400, "UnrecognizedClientException", "",
			"The security token included in the request is invalid."},
		{MUT_KEY, EMULATE_SERVICE_SQS, 403,
			"com.amazon.coral.service#UnrecognizedClientException",
			"InvalidClientTokenId;Sender", "The security token"},
		{MUT_EXPIRED, EMULATE_SERVICE_ECS, 403, "InvalidSignatureException", "",
			"Signature expired:"},
		{MUT_FUTURE, EMULATE_SERVICE_ECS, 403, "InvalidSignatureException", "",
			"Signature not yet current:"},
		{MUT_REGION, EMULATE_SERVICE_ECS, 403, "InvalidSignatureException", "",
			"Credential should be scoped to a valid region."},
		{MUT_SERVICE, EMULATE_SERVICE_ECS, 403, "InvalidSignatureException", "",
			"Credential should be scoped to correct service: 'ecs'."},
		{MUT_NO_AUTH, EMULATE_SERVICE_ECS, 400, "MissingAuthenticationTokenException", "",
			"Missing Authentication Token"},
		{MUT_JUNK_AUTH, EMULATE_SERVICE_ECS, 400, "IncompleteSignatureException", "",
			"Authorization header requires"},
		{MUT_TARGET, EMULATE_SERVICE_ECS, 403, "InvalidSignatureException", "",
			"The request signature we calculated does not match"},
		{MUT_NO_DATE, EMULATE_SERVICE_ECS, 400, "IncompleteSignatureException", "",
			"Authorization header requires existence"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		const char *service = cases[i].service == EMULATE_SERVICE_SQS ? "sqs" : "ecs";
		const char *key = test_auth.access_key_id;
		const char *secret = test_auth.secret_access_key;
		const char *region = "us-east-1";
		uint64_t signed_at = NOW_MS;
		struct signed_req s;
		struct emulate_error err;

		switch (cases[i].m) {
		case MUT_SECRET:
			secret = "wrong";
			break;
		case MUT_KEY:
			key = "AKIDSOMEONEELSE";
			break;
		case MUT_EXPIRED:
			signed_at = NOW_MS - 16 * 60000;
			break;
		case MUT_FUTURE:
			signed_at = NOW_MS + 16 * 60000;
			break;
		case MUT_REGION:
			region = "eu-west-1";
			break;
		case MUT_SERVICE:
			service = "sqs";
			break;
		default:
			break;
		}
		make_signed(&s, service, ECS "DescribeServices", "{\"services\":[\"a\"]}",
			signed_at, key, secret, region);
		if (cases[i].m == MUT_BODY)
			s.body[14] = 'b';
		if (cases[i].m == MUT_NO_AUTH)
			s.headers[4].name = "X-Not-Authorization";
		if (cases[i].m == MUT_JUNK_AUTH)
			s.headers[4].value = "AWS4-HMAC-SHA256 Credential=junk";
		if (cases[i].m == MUT_TARGET)
			s.headers[2].value = ECS "UpdateService";
		if (cases[i].m == MUT_NO_DATE)
			s.headers[3].name = "X-Not-Date";
		assert_int_equal(
			emulate_auth_verify(&test_auth, cases[i].service, &s.req, NOW_MS, &err),
			-EACCES);
		assert_int_equal(err.http_status, cases[i].status);
		assert_string_equal(err.type, cases[i].type);
		assert_string_equal(err.query_error, cases[i].query);
		assert_memory_equal(
			err.message, cases[i].message_start, strlen(cases[i].message_start));
		sigv4_signed_finish(&s.sig);
	}
}

static void test_error_and_fault_shapes(void **state)
{
	static const struct {
		enum emulate_service service;
		int kind;
		int status;
		const char *body;
		const char *query;
	} faults[] = {
		{EMULATE_SERVICE_ECS, SCENARIO_FAULT_THROTTLING, 400,
			"{\"__type\":\"ThrottlingException\",\"message\":\"Rate exceeded\"}", ""},
		{EMULATE_SERVICE_SQS, SCENARIO_FAULT_THROTTLING, 403,
			"{\"__type\":\"com.amazonaws.sqs#RequestThrottled\",\"message\":\"Rate "
			"exceeded\"}",
			"RequestThrottled;Sender"},
		{EMULATE_SERVICE_ECS, SCENARIO_FAULT_ERROR500, 500, NULL, ""},
		{EMULATE_SERVICE_SQS, SCENARIO_FAULT_ERROR500, 500, NULL,
			"InternalFailure;Receiver"},
		{EMULATE_SERVICE_ECS, SCENARIO_FAULT_ERROR503, 503, NULL, ""},
		{EMULATE_SERVICE_SQS, SCENARIO_FAULT_ERROR503, 503, NULL,
			"ServiceUnavailable;Receiver"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(faults) / sizeof(faults[0]); i++) {
		struct emulate_reply r = {0};

		assert_true(emulate_fault_reply(faults[i].service, faults[i].kind, &r));
		assert_int_equal(r.http_status, faults[i].status);
		assert_string_equal(r.query_error, faults[i].query);
		assert_string_equal(r.content_type,
			faults[i].service == EMULATE_SERVICE_SQS ? "application/x-amz-json-1.0"
								 : "application/x-amz-json-1.1");
		if (faults[i].body != NULL)
			assert_string_equal(r.body, faults[i].body);
		emulate_reply_finish(&r);
	}
	struct emulate_reply r = {0};

	assert_false(emulate_fault_reply(EMULATE_SERVICE_ECS, SCENARIO_FAULT_LATENCY, &r));
	assert_false(emulate_fault_reply(EMULATE_SERVICE_SQS, SCENARIO_FAULT_PARTITION, &r));

	/* Messages are JSON-escaped. */
	struct emulate_error err;

	emulate_error_set(&err, 400, "com.amazonaws.sqs#X", NULL, "quote \" and \\ here");
	assert_string_equal(err.code, "X");
	emulate_reply_error(EMULATE_SERVICE_SQS, &err, &r);
	assert_string_equal(r.body,
		"{\"__type\":\"com.amazonaws.sqs#X\",\"message\":\"quote \\\" and \\\\ here\"}");
	emulate_reply_finish(&r);
}

/* A world from the integration tests' base scenario. */
struct fixture {
	struct scenario *sc;
	struct world *world;
};

static int setup_world(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	const char *dir = getenv("QSCALE_TEST_DATA");
	char *path = xasprintf("%s/emulate/base.yaml", dir != NULL ? dir : "tests/data");
	struct diag diag = {0};

	assert_int_equal(scenario_load(path, &f->sc, &diag), 0);
	assert_int_equal(world_create(f->sc, NOW_MS, &f->world), 0);
	free(path);
	*state = f;
	return 0;
}

static int teardown_world(void **state)
{
	struct fixture *f = *state;

	world_destroy(f->world);
	scenario_destroy(f->sc);
	free(f);
	return 0;
}

/* Dispatch one unsigned request; returns the parsed body (caller frees). */
static yajl_val call(struct fixture *f, const char *target, const char *ctype, const char *body,
	struct emulate_reply *r)
{
	struct emulate_header h[2] = {{"X-Amz-Target", target}, {"Content-Type", ctype}};
	struct emulate_http_request req = {
		.method = "POST",
		.uri = "/",
		.headers = h,
		.n_headers = 2,
		.body = body,
		.body_len = strlen(body),
	};
	char errbuf[128];

	emulate_dispatch(f->world, &test_auth, &req, r);
	yajl_val v = yajl_tree_parse(r->body, errbuf, sizeof(errbuf));

	assert_non_null(v);
	return v;
}

/* Dispatch an ECS call and expect an error code with status. */
static void expect_ecs_error(
	struct fixture *f, const char *op, const char *body, int status, const char *type)
{
	struct emulate_reply r;
	char *target = xasprintf(ECS "%s", op);
	yajl_val v = call(f, target, "application/x-amz-json-1.1", body, &r);
	const char *path[] = {"__type", NULL};

	assert_int_equal(r.http_status, status);
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(v, path, yajl_t_string)), type);
	yajl_tree_free(v);
	emulate_reply_finish(&r);
	free(target);
}

static void test_dispatch_errors(void **state)
{
	static const struct {
		const char *op;
		const char *body;
		int status;
		const char *type;
	} cases[] = {
		{"Nope", "{}", 400, "UnknownOperationException"},
		{"DescribeServices", "{\"cluster\":\"onprem\",\"services\":[", 400,
			"SerializationException"},
		{"DescribeServices", "{\"cluster\":5,\"services\":[\"a\"]}", 400,
			"SerializationException"},
		{"DescribeServices", "{\"cluster\":\"onprem\",\"services\":[]}", 400,
			"InvalidParameterException"},
		{"DescribeServices", "{\"cluster\":\"onprem\"}", 400, "InvalidParameterException"},
		{"DescribeServices",
			"{\"cluster\":\"onprem\",\"services\":[\"1\",\"2\",\"3\",\"4\",\"5\",\"6\","
			"\"7\",\"8\",\"9\",\"10\",\"11\"]}",
			400, "InvalidParameterException"},
		{"DescribeServices", "{\"cluster\":\"x\",\"services\":[\"a\"]}", 400,
			"ClusterNotFoundException"},
		{"UpdateService", "{\"cluster\":\"onprem\"}", 400, "InvalidParameterException"},
		{"UpdateService", "{\"cluster\":\"onprem\",\"service\":\"x\",\"desiredCount\":1}",
			400, "ServiceNotFoundException"},
		{"UpdateService",
			"{\"cluster\":\"onprem\",\"service\":\"order-processor\",\"desiredCount\":-"
			"1}",
			400, "InvalidParameterException"},
		{"UpdateService",
			"{\"cluster\":\"onprem\",\"service\":\"order-processor\",\"desiredCount\":"
			"\"1\"}",
			400, "SerializationException"},
		{"ListContainerInstances", "{\"cluster\":\"onprem\",\"maxResults\":0}", 400,
			"InvalidParameterException"},
		{"ListContainerInstances", "{\"cluster\":\"onprem\",\"maxResults\":101}", 400,
			"InvalidParameterException"},
		{"ListContainerInstances", "{\"cluster\":\"onprem\",\"status\":\"RUNNING\"}", 400,
			"InvalidParameterException"},
		{"ListContainerInstances", "{\"cluster\":\"onprem\",\"nextToken\":\"abc\"}", 400,
			"InvalidParameterException"},
		{"ListContainerInstances", "{\"cluster\":\"onprem\",\"filter\":\"bogus ~~ x\"}",
			400, "InvalidParameterException"},
		{"DescribeContainerInstances", "{\"cluster\":\"onprem\",\"containerInstances\":[]}",
			400, "InvalidParameterException"},
		{"DescribeContainerInstances",
			"{\"cluster\":\"onprem\",\"containerInstances\":[1]}", 400,
			"SerializationException"},
		{"DescribeTaskDefinition", "{}", 400, "InvalidParameterException"},
		{"DescribeTaskDefinition", "{\"taskDefinition\":\"nope\"}", 400, "ClientException"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_ecs_error(
			*state, cases[i].op, cases[i].body, cases[i].status, cases[i].type);
}

static void test_dispatch_routing_guards(void **state)
{
	struct fixture *f = *state;
	struct emulate_reply r;
	yajl_val v;

	/* The right target with the other dialect's content type is not an operation. */
	v = call(f, ECS "DescribeServices", "application/x-amz-json-1.0", "{\"services\":[\"a\"]}",
		&r);
	assert_int_equal(r.http_status, 400);
	assert_string_equal(r.error_code, "UnknownOperationException");
	yajl_tree_free(v);
	emulate_reply_finish(&r);

	v = call(f, "AmazonSQS.GetQueueAttributes", "application/x-amz-json-1.0", "{}", &r);
	assert_int_equal(r.http_status, 400);
	assert_string_equal(r.error_code, "MissingParameter");
	assert_string_equal(r.query_error, "MissingParameter;Sender");
	yajl_tree_free(v);
	emulate_reply_finish(&r);

	v = call(f, "AmazonSQS.DeleteQueue", "application/x-amz-json-1.0", "{}", &r);
	assert_string_equal(r.error_code, "UnknownOperationException");
	assert_string_equal(r.query_error, "InvalidAction;Sender");
	yajl_tree_free(v);
	emulate_reply_finish(&r);
}

static void test_list_pagination(void **state)
{
	struct fixture *f = *state;
	char seen[10][200];
	size_t n_seen = 0;
	char token[64] = "";
	int pages = 0;

	do {
		char *body = token[0] != '\0'
			? xasprintf(
				  "{\"cluster\":\"onprem\",\"maxResults\":3,\"nextToken\":\"%s\"}",
				  token)
			: xstrdup("{\"cluster\":\"onprem\",\"maxResults\":3}");
		struct emulate_reply r;
		yajl_val v = call(
			f, ECS "ListContainerInstances", "application/x-amz-json-1.1", body, &r);
		const char *arns_path[] = {"containerInstanceArns", NULL};
		const char *token_path[] = {"nextToken", NULL};
		yajl_val arns = yajl_tree_get(v, arns_path, yajl_t_array);
		yajl_val next = yajl_tree_get(v, token_path, yajl_t_string);

		assert_int_equal(r.http_status, 200);
		assert_non_null(arns);
		assert_true(arns->u.array.len <= 3);
		for (size_t i = 0; i < arns->u.array.len; i++) {
			assert_true(n_seen < 10);
			for (size_t k = 0; k < n_seen; k++)
				assert_string_not_equal(
					seen[k], YAJL_GET_STRING(arns->u.array.values[i]));
			snprintf(seen[n_seen++], sizeof(seen[0]), "%s",
				YAJL_GET_STRING(arns->u.array.values[i]));
		}
		snprintf(token, sizeof(token), "%s", next != NULL ? YAJL_GET_STRING(next) : "");
		pages++;
		yajl_tree_free(v);
		emulate_reply_finish(&r);
		free(body);
	} while (token[0] != '\0' && pages < 10);
	assert_int_equal(n_seen, 10);
	assert_int_equal(pages, 4);

	/* A token is tied to its query: reusing it with another filter is refused. */
	struct emulate_reply r;
	yajl_val v = call(f, ECS "ListContainerInstances", "application/x-amz-json-1.1",
		"{\"cluster\":\"onprem\",\"maxResults\":3}", &r);
	const char *token_path[] = {"nextToken", NULL};
	char *body = xasprintf("{\"cluster\":\"onprem\",\"filter\":\"attribute:site == "
			       "dc1\",\"nextToken\":\"%s\"}",
		YAJL_GET_STRING(yajl_tree_get(v, token_path, yajl_t_string)));

	yajl_tree_free(v);
	emulate_reply_finish(&r);
	expect_ecs_error(f, "ListContainerInstances", body, 400, "InvalidParameterException");
	free(body);
}

static void test_update_service_reports_change(void **state)
{
	struct fixture *f = *state;
	struct emulate_reply r;
	yajl_val v = call(f, ECS "UpdateService", "application/x-amz-json-1.1",
		"{\"cluster\":\"onprem\",\"service\":\"order-processor\",\"desiredCount\":4}", &r);
	const char *path[] = {"service", "desiredCount", NULL};

	assert_int_equal(r.http_status, 200);
	assert_true(r.scaled);
	assert_string_equal(r.scaled_cluster, "onprem");
	assert_string_equal(r.scaled_service, "order-processor");
	assert_int_equal(r.scaled_from, 2);
	assert_int_equal(r.scaled_to, 4);
	assert_int_equal(YAJL_GET_INTEGER(yajl_tree_get(v, path, yajl_t_number)), 4);
	yajl_tree_free(v);
	emulate_reply_finish(&r);

	/* Without desiredCount nothing changes and nothing is logged. */
	v = call(f, ECS "UpdateService", "application/x-amz-json-1.1",
		"{\"cluster\":\"onprem\",\"service\":\"order-processor\"}", &r);
	assert_int_equal(r.http_status, 200);
	assert_false(r.scaled);
	yajl_tree_free(v);
	emulate_reply_finish(&r);
}

static void test_log_ring(void **state)
{
	struct emulate_log log;

	(void)state;
	emulate_log_init(&log, sizeof(uint64_t));
	for (uint64_t i = 0; i < EMULATE_LOG_ENTRIES + 5; i++)
		*(uint64_t *)emulate_log_add(&log) = i;
	assert_int_equal(log.count, EMULATE_LOG_ENTRIES);
	assert_true(log.total == EMULATE_LOG_ENTRIES + 5);
	assert_true(*(const uint64_t *)emulate_log_at(&log, 0) == 5);
	assert_true(*(const uint64_t *)emulate_log_at(&log, EMULATE_LOG_ENTRIES - 1) ==
		EMULATE_LOG_ENTRIES + 4);
	emulate_log_finish(&log);
}

/* Describe the first instance of onprem under a fault; returns the parsed body. */
static yajl_val describe_first(struct fixture *f, const struct scenario_fault *fault)
{
	struct emulate_reply r;
	yajl_val list = call(f, ECS "ListContainerInstances", "application/x-amz-json-1.1",
		"{\"cluster\":\"onprem\",\"maxResults\":1}", &r);
	const char *arns_path[] = {"containerInstanceArns", NULL};
	yajl_val arns = yajl_tree_get(list, arns_path, yajl_t_array);
	char *body = xasprintf("{\"cluster\":\"onprem\",\"containerInstances\":[\"%s\"]}",
		YAJL_GET_STRING(arns->u.array.values[0]));
	struct emulate_header h[2] = {{"X-Amz-Target", ECS "DescribeContainerInstances"},
		{"Content-Type", "application/x-amz-json-1.1"}};
	struct emulate_http_request req = {.method = "POST",
		.uri = "/",
		.headers = h,
		.n_headers = 2,
		.body = body,
		.body_len = strlen(body)};
	char errbuf[128];
	yajl_val v;

	yajl_tree_free(list);
	emulate_reply_finish(&r);
	emulate_dispatch_fault(f->world, &test_auth, &req, fault, &r);
	assert_int_equal(r.http_status, 200);
	v = yajl_tree_parse(r.body, errbuf, sizeof(errbuf));
	assert_non_null(v);
	emulate_reply_finish(&r);
	free(body);
	return v;
}

/* The instance faults shape DescribeContainerInstances: failures[], a resource left out. */
static void test_instance_faults(void **state)
{
	struct fixture *f = *state;
	struct scenario_fault failure = {
		.kind = SCENARIO_FAULT_INSTANCE_FAILURE, .reason = (char *)(uintptr_t) "AGENT"};
	struct scenario_fault missing = {
		.kind = SCENARIO_FAULT_MISSING_RESOURCE, .resource = SCENARIO_RESOURCE_MEMORY};
	const char *instances_path[] = {"containerInstances", NULL};
	const char *failures_path[] = {"failures", NULL};
	const char *reason_path[] = {"reason", NULL};
	const char *resources_path[] = {"remainingResources", NULL};
	const char *name_path[] = {"name", NULL};
	yajl_val v = describe_first(f, &failure);
	yajl_val list = yajl_tree_get(v, instances_path, yajl_t_array);
	yajl_val failures = yajl_tree_get(v, failures_path, yajl_t_array);

	assert_int_equal(list->u.array.len, 0);
	assert_int_equal(failures->u.array.len, 1);
	assert_string_equal(YAJL_GET_STRING(yajl_tree_get(
				    failures->u.array.values[0], reason_path, yajl_t_string)),
		"AGENT");
	yajl_tree_free(v);

	v = describe_first(f, &missing);
	list = yajl_tree_get(v, instances_path, yajl_t_array);
	assert_int_equal(list->u.array.len, 1);
	yajl_val res = yajl_tree_get(list->u.array.values[0], resources_path, yajl_t_array);
	bool cpu = false, memory = false;

	for (size_t i = 0; i < res->u.array.len; i++) {
		const char *name = YAJL_GET_STRING(
			yajl_tree_get(res->u.array.values[i], name_path, yajl_t_string));

		cpu = cpu || strcmp(name, "CPU") == 0;
		memory = memory || strcmp(name, "MEMORY") == 0;
	}
	assert_true(cpu);
	assert_false(memory);
	yajl_tree_free(v);

	/* A fault naming another instance leaves this one whole. */
	failure.instance = (char *)(uintptr_t) "mi-none";
	v = describe_first(f, &failure);
	list = yajl_tree_get(v, instances_path, yajl_t_array);
	assert_int_equal(list->u.array.len, 1);
	yajl_tree_free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_target_routing),
		cmocka_unit_test(test_json_parse),
		cmocka_unit_test(test_auth_accepts_good_signature),
		cmocka_unit_test(test_auth_sub_keys),
		cmocka_unit_test(test_auth_rejects),
		cmocka_unit_test(test_error_and_fault_shapes),
		cmocka_unit_test_setup_teardown(test_dispatch_errors, setup_world, teardown_world),
		cmocka_unit_test_setup_teardown(
			test_dispatch_routing_guards, setup_world, teardown_world),
		cmocka_unit_test_setup_teardown(test_list_pagination, setup_world, teardown_world),
		cmocka_unit_test_setup_teardown(test_instance_faults, setup_world, teardown_world),
		cmocka_unit_test_setup_teardown(
			test_update_service_reports_change, setup_world, teardown_world),
		cmocka_unit_test(test_log_ring),
	};

	return cmocka_run_group_tests_name("emulate", tests, NULL, NULL);
}
