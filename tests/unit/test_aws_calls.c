/*
 * Unit tests of the asynchronous typed SQS and ECS calls over a scripted
 * stand-in for aws_client_call: which requests they send (batches, pages,
 * signing region), that the callback runs exactly once with the merged
 * result or the error, and that cancelling frees everything silently.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/buf.h"
#include "qscale/ecs.h"
#include "qscale/sqs.h"
#include "qscale/xalloc.h"

/* The stand-in client: it records one call at a time and answers on demand. */
struct aws_client {
	int start_err; /* returned by the next aws_client_call when < 0 */
	bool pending;
	enum aws_service service;
	char operation[64];
	char *body;
	char *endpoint;
	char *signing_region;
	aws_client_cb cb;
	void *arg;
	int calls;
	int cancels;
};

struct aws_call {
	int unused;
};

static struct aws_call the_call;

int aws_client_call(struct aws_client *client, enum aws_service service, const char *operation,
	const char *body, size_t body_len, const struct aws_call_opts *opts, aws_client_cb cb,
	void *arg, struct aws_call **out)
{
	if (client->start_err < 0)
		return client->start_err;
	assert_false(client->pending);
	assert_int_equal(strlen(body), body_len);
	client->pending = true;
	client->service = service;
	snprintf(client->operation, sizeof(client->operation), "%s", operation);
	free(client->body);
	free(client->endpoint);
	free(client->signing_region);
	client->body = xstrdup(body);
	client->endpoint = opts && opts->endpoint ? xstrdup(opts->endpoint) : NULL;
	client->signing_region =
		opts && opts->signing_region ? xstrdup(opts->signing_region) : NULL;
	client->cb = cb;
	client->arg = arg;
	client->calls++;
	if (out != NULL)
		*out = &the_call;
	return 0;
}

void aws_call_cancel(struct aws_call *call)
{
	assert_ptr_equal(call, &the_call);
}

/* Answer the pending call with a 200 and body. */
static void answer(struct aws_client *c, const char *body)
{
	struct aws_response resp = {.http_status = 200, .body = body, .body_len = strlen(body)};

	assert_true(c->pending);
	c->pending = false;
	c->cb(&resp, c->arg);
}

/* Answer the pending call with a classified error. */
static void answer_error(struct aws_client *c, long status, const char *code)
{
	struct aws_response resp = {.http_status = status};

	resp.error.err = -EIO;
	resp.error.http_status = status;
	snprintf(resp.error.code, sizeof(resp.error.code), "%s", code);
	resp.error.error_class = AWS_ERROR_THROTTLING;
	resp.error.retryable = true;
	assert_true(c->pending);
	c->pending = false;
	c->cb(&resp, c->arg);
}

static void client_finish(struct aws_client *c)
{
	free(c->body);
	free(c->endpoint);
	free(c->signing_region);
}

/* What a callback saw. */
struct seen {
	int calls;
	int err;
	char code[AWS_ERROR_CODE_MAX];
	size_t n;
	char first[128];
	char last[128];
	int64_t number;
};

/* Note an error (or success) in s. */
static void note(struct seen *s, int err, const struct aws_error *error)
{
	s->calls++;
	s->err = err;
	if (err != 0) {
		assert_non_null(error);
		assert_int_equal(error->err, err);
		snprintf(s->code, sizeof(s->code), "%s", error->code);
	}
}

static void services_cb(
	int err, const struct aws_error *error, const struct ecs_service_list *l, void *arg)
{
	struct seen *s = arg;

	note(s, err, error);
	if (err == 0) {
		s->n = l->n_services;
		snprintf(s->first, sizeof(s->first), "%s", l->services[0].name);
		snprintf(s->last, sizeof(s->last), "%s", l->services[l->n_services - 1].name);
		s->number = l->services[l->n_services - 1].desired;
	} else {
		assert_null(l);
	}
}

/* A DescribeServices answer for the names in the request body: each with desiredCount = index. */
static char *services_answer(const char *request)
{
	struct buf b;
	const char *p = strstr(request, "\"services\":[");
	int k = 0;

	assert_non_null(p);
	p += strlen("\"services\":[");
	buf_init(&b, 1 << 20);
	buf_puts(&b, "{\"services\":[");
	while (*p == '"') {
		const char *end = strchr(p + 1, '"');
		int n = (int)(end - p - 1);

		buf_printf(&b,
			"%s{\"serviceName\":\"%.*s\",\"serviceArn\":\"arn:svc/%.*s\","
			"\"status\":\"ACTIVE\",\"desiredCount\":%d,\"runningCount\":0,"
			"\"pendingCount\":0}",
			k ? "," : "", n, p + 1, n, p + 1, atoi(p + 2));
		k++;
		p = end + 1;
		if (*p == ',')
			p++;
	}
	buf_puts(&b, "],\"failures\":[]}");
	return buf_steal(&b);
}

static void test_describe_services_batches(void **state)
{
	struct aws_client c = {0};
	struct seen s = {0};
	char *names[23];

	(void)state;
	for (int i = 0; i < 23; i++)
		names[i] = xasprintf("s%d", i);
	assert_int_equal(ecs_describe_services(
				 &c, "edge", (const char *const *)names, 23, services_cb, &s, NULL),
		0);
	/* Never called back from inside the call. */
	assert_int_equal(s.calls, 0);
	for (int batch = 0; batch < 3; batch++) {
		assert_true(c.pending);
		assert_int_equal(c.service, AWS_SERVICE_ECS);
		assert_string_equal(c.operation, "DescribeServices");
		assert_non_null(
			strstr(c.body, batch == 2 ? "[\"s20\",\"s21\",\"s22\"]" : "\"s9\"") ||
			batch == 1);
		char *reply = services_answer(c.body);

		answer(&c, reply);
		free(reply);
	}
	assert_false(c.pending);
	assert_int_equal(c.calls, 3);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.n, 23);
	assert_string_equal(s.first, "s0");
	assert_string_equal(s.last, "s22");
	assert_int_equal(s.number, 22);
	for (int i = 0; i < 23; i++)
		free(names[i]);
	client_finish(&c);
}

static void test_describe_services_partial_failure(void **state)
{
	struct aws_client c = {0};
	struct seen s = {0};
	const char *names[12] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k", "l"};

	(void)state;
	assert_int_equal(ecs_describe_services(&c, NULL, names, 12, services_cb, &s, NULL), 0);
	char *reply = services_answer(c.body);

	answer(&c, reply);
	free(reply);
	assert_int_equal(s.calls, 0);
	answer_error(&c, 400, "ThrottlingException");
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, -EIO);
	assert_string_equal(s.code, "ThrottlingException");

	/* A malformed second answer fails the whole call too. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(ecs_describe_services(&c, NULL, names, 12, services_cb, &s, NULL), 0);
	reply = services_answer(c.body);
	answer(&c, reply);
	free(reply);
	answer(&c, "{\"services\":[],\"failures\":[]}");
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, -EPROTO);

	/* The next batch cannot start: the error reaches the callback. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(ecs_describe_services(&c, NULL, names, 12, services_cb, &s, NULL), 0);
	reply = services_answer(c.body);
	c.start_err = -ENOMEM;
	answer(&c, reply);
	free(reply);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, -ENOMEM);

	/* The first request cannot start: an error return and no callback. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(
		ecs_describe_services(&c, NULL, names, 12, services_cb, &s, NULL), -ENOMEM);
	assert_int_equal(s.calls, 0);
	c.start_err = 0;
	assert_int_equal(ecs_describe_services(&c, NULL, names, 0, services_cb, &s, NULL), -EINVAL);
	client_finish(&c);
}

static void arns_cb(int err, const struct aws_error *error, const struct ecs_arn_list *l, void *arg)
{
	struct seen *s = arg;

	note(s, err, error);
	if (err == 0) {
		s->n = l->n_arns;
		if (l->n_arns > 0) {
			snprintf(s->first, sizeof(s->first), "%s", l->arns[0]);
			snprintf(s->last, sizeof(s->last), "%s", l->arns[l->n_arns - 1]);
		}
	}
}

static void test_list_pages(void **state)
{
	struct aws_client c = {0};
	struct seen s = {0};

	(void)state;
	assert_int_equal(ecs_list_container_instances(
				 &c, "edge", "agentConnected == true", "ACTIVE", arns_cb, &s, NULL),
		0);
	assert_string_equal(c.operation, "ListContainerInstances");
	assert_string_equal(c.body,
		"{\"cluster\":\"edge\",\"filter\":\"agentConnected == true\","
		"\"status\":\"ACTIVE\",\"maxResults\":100}");
	answer(&c, "{\"containerInstanceArns\":[\"ci/1\",\"ci/2\"],\"nextToken\":\"t1\"}");
	assert_non_null(strstr(c.body, "\"nextToken\":\"t1\""));
	answer(&c, "{\"containerInstanceArns\":[],\"nextToken\":\"t2\"}");
	assert_non_null(strstr(c.body, "\"nextToken\":\"t2\""));
	answer(&c, "{\"containerInstanceArns\":[\"ci/3\"]}");
	assert_int_equal(c.calls, 3);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.n, 3);
	assert_string_equal(s.last, "ci/3");

	/* A token that repeats would loop forever. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(ecs_list_container_instances(&c, NULL, NULL, NULL, arns_cb, &s, NULL), 0);
	answer(&c, "{\"containerInstanceArns\":[\"ci/1\"],\"nextToken\":\"same\"}");
	answer(&c, "{\"containerInstanceArns\":[\"ci/2\"],\"nextToken\":\"same\"}");
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, -EPROTO);

	/* Endless distinct tokens stop at the page bound. */
	memset(&s, 0, sizeof(s));
	c.calls = 0;
	assert_int_equal(ecs_list_container_instances(&c, NULL, NULL, NULL, arns_cb, &s, NULL), 0);
	for (int i = 0; s.calls == 0; i++) {
		char reply[128];

		assert_true(i < ECS_LIST_PAGES_MAX);
		snprintf(reply, sizeof(reply),
			"{\"containerInstanceArns\":[\"ci/%d\"],\"nextToken\":\"t%d\"}", i, i);
		answer(&c, reply);
	}
	assert_int_equal(c.calls, ECS_LIST_PAGES_MAX);
	assert_int_equal(s.err, -E2BIG);
	client_finish(&c);
}

static void instances_cb(
	int err, const struct aws_error *error, const struct ecs_instance_set *set, void *arg)
{
	struct seen *s = arg;

	note(s, err, error);
	if (err == 0) {
		s->n = set->n_instances;
		s->number = (int64_t)set->n_failures;
		if (set->n_instances > 0)
			snprintf(s->last, sizeof(s->last), "%s",
				set->instances[set->n_instances - 1].arn);
	}
}

static void test_describe_instances_batches(void **state)
{
	struct aws_client c = {0};
	struct seen s = {0};
	char *arns[150];

	(void)state;
	for (int i = 0; i < 150; i++)
		arns[i] = xasprintf("ci/%d", i);
	assert_int_equal(ecs_describe_container_instances(&c, "edge", (const char *const *)arns,
				 150, instances_cb, &s, NULL),
		0);
	assert_string_equal(c.operation, "DescribeContainerInstances");
	assert_non_null(strstr(c.body, "\"ci/99\"]"));
	answer(&c,
		"{\"containerInstances\":[{\"containerInstanceArn\":\"ci/0\",\"status\":"
		"\"ACTIVE\"}],\"failures\":[{\"arn\":\"ci/1\",\"reason\":\"MISSING\"}]}");
	assert_non_null(strstr(c.body, "[\"ci/100\","));
	assert_non_null(strstr(c.body, "\"ci/149\"]"));
	answer(&c,
		"{\"containerInstances\":[{\"containerInstanceArn\":\"ci/149\",\"status\":"
		"\"DRAINING\"}],\"failures\":[]}");
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.n, 2);
	assert_int_equal(s.number, 1);
	assert_string_equal(s.last, "ci/149");
	for (int i = 0; i < 150; i++)
		free(arns[i]);
	client_finish(&c);
}

static void test_list_then_describe(void **state)
{
	struct aws_client c = {0};
	struct seen s = {0};

	(void)state;
	assert_int_equal(ecs_list_describe_container_instances(
				 &c, "edge", NULL, "ACTIVE", instances_cb, &s, NULL),
		0);
	assert_string_equal(c.operation, "ListContainerInstances");
	answer(&c, "{\"containerInstanceArns\":[\"ci/1\",\"ci/2\"],\"nextToken\":\"t1\"}");
	assert_string_equal(c.operation, "ListContainerInstances");
	answer(&c, "{\"containerInstanceArns\":[\"ci/3\"]}");
	assert_string_equal(c.operation, "DescribeContainerInstances");
	assert_string_equal(c.body,
		"{\"cluster\":\"edge\",\"containerInstances\":[\"ci/1\",\"ci/2\",\"ci/3\"]}");
	answer(&c,
		"{\"containerInstances\":[{\"containerInstanceArn\":\"ci/3\",\"status\":"
		"\"ACTIVE\"}],\"failures\":[]}");
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.last, "ci/3");

	/* An empty cluster: one request, an empty set. */
	memset(&s, 0, sizeof(s));
	c.calls = 0;
	assert_int_equal(ecs_list_describe_container_instances(
				 &c, "edge", NULL, NULL, instances_cb, &s, NULL),
		0);
	answer(&c, "{\"containerInstanceArns\":[]}");
	assert_int_equal(c.calls, 1);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, 0);
	assert_int_equal(s.n, 0);

	/* A failure while describing fails the whole call. */
	memset(&s, 0, sizeof(s));
	assert_int_equal(ecs_list_describe_container_instances(
				 &c, "edge", NULL, NULL, instances_cb, &s, NULL),
		0);
	answer(&c, "{\"containerInstanceArns\":[\"ci/1\"]}");
	answer_error(&c, 400, "ThrottlingException");
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.err, -EIO);
	client_finish(&c);
}

static void service_cb(
	int err, const struct aws_error *error, const struct ecs_service *svc, void *arg)
{
	struct seen *s = arg;

	note(s, err, error);
	if (err == 0)
		s->number = svc->desired;
}

static void td_cb(
	int err, const struct aws_error *error, const struct ecs_task_definition *td, void *arg)
{
	struct seen *s = arg;

	note(s, err, error);
	if (err == 0)
		s->number = td->memory_mib;
}

static void test_single_calls(void **state)
{
	struct aws_client c = {0};
	struct seen s = {0};

	(void)state;
	assert_int_equal(ecs_update_service(&c, "edge", "orders", 12, service_cb, &s, NULL), 0);
	assert_string_equal(c.operation, "UpdateService");
	assert_string_equal(
		c.body, "{\"cluster\":\"edge\",\"service\":\"orders\",\"desiredCount\":12}");
	answer(&c,
		"{\"service\":{\"serviceName\":\"orders\",\"serviceArn\":\"arn:svc/orders\","
		"\"status\":\"ACTIVE\",\"desiredCount\":12,\"runningCount\":8,\"pendingCount\":0}"
		"}");
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.number, 12);

	memset(&s, 0, sizeof(s));
	assert_int_equal(ecs_describe_task_definition(&c, "orders:14", td_cb, &s, NULL), 0);
	assert_string_equal(c.operation, "DescribeTaskDefinition");
	answer(&c,
		"{\"taskDefinition\":{\"taskDefinitionArn\":\"arn:td/orders:14\",\"memory\":"
		"\"2048\",\"containerDefinitions\":[]}}");
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.number, 2048);
	client_finish(&c);
}

static void counts_cb(
	int err, const struct aws_error *error, const struct sqs_queue_counts *counts, void *arg)
{
	struct seen *s = arg;

	note(s, err, error);
	if (err == 0)
		s->number = counts->visible;
}

static void test_sqs_call(void **state)
{
	struct aws_client c = {0};
	struct seen s = {0};

	(void)state;
	assert_int_equal(sqs_get_queue_attributes(&c,
				 "https://sqs.eu-west-1.amazonaws.com/123456789012/orders",
				 counts_cb, &s, NULL),
		0);
	assert_int_equal(c.service, AWS_SERVICE_SQS);
	assert_string_equal(c.operation, "GetQueueAttributes");
	/*
	 * Sent to the client's endpoint, so signed for the client's region (as
	 * botocore and the JS SDK do), not for the region the URL names.
	 */
	assert_null(c.signing_region);
	assert_null(c.endpoint);
	answer(&c, "{\"Attributes\":{\"ApproximateNumberOfMessages\":\"42\"}}");
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.number, 42);

	memset(&s, 0, sizeof(s));
	assert_int_equal(sqs_get_queue_attributes(&c,
				 "https://sqs-fips.us-east-1.amazonaws.com/123456789012/orders",
				 counts_cb, &s, NULL),
		0);
	assert_string_equal(c.endpoint, "https://sqs-fips.us-east-1.amazonaws.com");
	/* Sent to the URL's origin: signed for that endpoint's region. */
	assert_string_equal(c.signing_region, "us-east-1");
	answer(&c, "{\"Attributes\":{\"ApproximateNumberOfMessages\":42}}");
	assert_int_equal(s.err, -EPROTO);

	memset(&s, 0, sizeof(s));
	assert_int_equal(
		sqs_get_queue_attributes(&c, "http://127.0.0.1:9/1/q", counts_cb, &s, NULL), 0);
	assert_null(c.signing_region);
	assert_null(c.endpoint);
	answer_error(&c, 400, "AWS.SimpleQueueService.NonExistentQueue");
	assert_int_equal(s.calls, 1);
	assert_string_equal(s.code, "AWS.SimpleQueueService.NonExistentQueue");
	client_finish(&c);
}

static void test_cancel(void **state)
{
	struct aws_client c = {0};
	struct seen s = {0};
	struct sqs_call *sc = NULL;
	struct ecs_call *ec = NULL;
	const char *names[] = {"a"};

	(void)state;
	assert_int_equal(sqs_get_queue_attributes(
				 &c, "https://sqs.eu-west-1.amazonaws.com/1/q", counts_cb, &s, &sc),
		0);
	assert_non_null(sc);
	sqs_call_cancel(sc);
	c.pending = false;
	assert_int_equal(ecs_describe_services(&c, "edge", names, 1, services_cb, &s, &ec), 0);
	ecs_call_cancel(ec);
	c.pending = false;
	/* Cancelling mid-way through the pages frees what was gathered. */
	assert_int_equal(ecs_list_container_instances(&c, NULL, NULL, NULL, arns_cb, &s, &ec), 0);
	answer(&c, "{\"containerInstanceArns\":[\"ci/1\"],\"nextToken\":\"t1\"}");
	ecs_call_cancel(ec);
	assert_int_equal(s.calls, 0);
	sqs_call_cancel(NULL);
	ecs_call_cancel(NULL);
	client_finish(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe_services_batches),
		cmocka_unit_test(test_describe_services_partial_failure),
		cmocka_unit_test(test_list_pages),
		cmocka_unit_test(test_describe_instances_batches),
		cmocka_unit_test(test_list_then_describe),
		cmocka_unit_test(test_single_calls),
		cmocka_unit_test(test_sqs_call),
		cmocka_unit_test(test_cancel),
	};

	return cmocka_run_group_tests_name("aws_calls", tests, NULL, NULL);
}
