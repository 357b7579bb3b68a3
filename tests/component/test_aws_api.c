/*
 * The typed SQS and ECS calls over the real AWS client, against a small
 * scripted JSON server on 127.0.0.1 (port 0): that the requests reach the
 * wire with the right target and body, that batches and pages chain through
 * the client's callbacks, and that AWS errors arrive classified.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "qscale/aws_client.h"
#include "qscale/buf.h"
#include "qscale/clock.h"
#include "qscale/ecs.h"
#include "qscale/sqs.h"
#include "qscale/xalloc.h"

static struct {
	struct event_base *base;
	struct evhttp *http;
	int port;
	int requests;
	char targets[512]; /* the X-Amz-Target operations seen, space-separated */
	bool cluster_missing;
} srv;

/* Reply with status and body. */
static void reply(struct evhttp_request *req, int status, const char *body)
{
	struct evbuffer *out = evbuffer_new();

	evbuffer_add(out, body, strlen(body));
	evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Type",
		"application/x-amz-json-1.1");
	evhttp_send_reply(req, status, status == 200 ? "OK" : "Bad Request", out);
	evbuffer_free(out);
}

/* Answer DescribeServices for every name in the request body. */
static void describe_services(struct evhttp_request *req, const char *body)
{
	struct buf b;
	const char *p = strstr(body, "\"services\":[");
	int k = 0;

	assert_non_null(p);
	p += strlen("\"services\":[");
	buf_init(&b, 1 << 20);
	buf_puts(&b, "{\"services\":[");
	while (*p == '"') {
		const char *end = strchr(p + 1, '"');
		int n = (int)(end - p - 1);

		buf_printf(&b,
			"%s{\"serviceName\":\"%.*s\",\"serviceArn\":\"arn:aws:ecs:us-east-1:1:"
			"service/"
			"edge/%.*s\",\"status\":\"ACTIVE\",\"desiredCount\":%d,\"runningCount\":1,"
			"\"pendingCount\":0,\"launchType\":\"EXTERNAL\"}",
			k ? "," : "", n, p + 1, n, p + 1, k);
		k++;
		p = end + 1;
		if (*p == ',')
			p++;
	}
	buf_puts(&b, "],\"failures\":[]}");
	reply(req, 200, buf_cstr(&b));
	buf_finish(&b);
}

/* The scripted AWS: answers by X-Amz-Target. */
static void server_cb(struct evhttp_request *req, void *arg)
{
	const char *target =
		evhttp_find_header(evhttp_request_get_input_headers(req), "X-Amz-Target");
	struct evbuffer *in = evhttp_request_get_input_buffer(req);
	size_t len = evbuffer_get_length(in);
	char *body = xcalloc(len + 1, 1);

	(void)arg;
	evbuffer_remove(in, body, len);
	srv.requests++;
	const char *op = target != NULL && strchr(target, '.') ? strchr(target, '.') + 1 : "?";

	if (strlen(srv.targets) + strlen(op) + 2 < sizeof(srv.targets)) {
		strcat(srv.targets, op);
		strcat(srv.targets, " ");
	}
	if (srv.cluster_missing)
		reply(req, 400,
			"{\"__type\":\"ClusterNotFoundException\",\"message\":\"Cluster not "
			"found.\"}");
	else if (strcmp(op, "GetQueueAttributes") == 0)
		reply(req, 200,
			"{\"Attributes\":{\"ApproximateNumberOfMessages\":\"1240\","
			"\"ApproximateNumberOfMessagesNotVisible\":\"37\","
			"\"ApproximateNumberOfMessagesDelayed\":\"2\"}}");
	else if (strcmp(op, "DescribeServices") == 0)
		describe_services(req, body);
	else if (strcmp(op, "ListContainerInstances") == 0 && strstr(body, "nextToken") == NULL)
		reply(req, 200,
			"{\"containerInstanceArns\":[\"ci/1\",\"ci/2\"],\"nextToken\":\"p2\"}");
	else if (strcmp(op, "ListContainerInstances") == 0)
		reply(req, 200, "{\"containerInstanceArns\":[\"ci/3\"],\"nextToken\":null}");
	else if (strcmp(op, "DescribeContainerInstances") == 0)
		reply(req, 200,
			"{\"containerInstances\":[{\"containerInstanceArn\":\"ci/"
			"1\",\"status\":\"ACTIVE\","
			"\"agentConnected\":true,\"remainingResources\":[{\"name\":\"CPU\","
			"\"type\":"
			"\"INTEGER\",\"integerValue\":2048}]},{\"containerInstanceArn\":\"ci/2\","
			"\"status\":\"ACTIVE\",\"agentConnected\":true}],\"failures\":[{\"arn\":"
			"\"ci/3\","
			"\"reason\":\"MISSING\"}]}");
	else
		reply(req, 400, "{\"__type\":\"InvalidParameterException\",\"message\":\"?\"}");
	free(body);
}

static int setup(void **state)
{
	struct sockaddr_in sin = {0};
	socklen_t len = sizeof(sin);
	char url[64];

	(void)state;
	memset(&srv, 0, sizeof(srv));
	srv.base = event_base_new();
	srv.http = evhttp_new(srv.base);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(srv.http, "127.0.0.1", 0);

	assert_non_null(bs);
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &len);
	srv.port = ntohs(sin.sin_port);
	evhttp_set_allowed_methods(srv.http, EVHTTP_REQ_POST);
	evhttp_set_gencb(srv.http, server_cb, NULL);
	static const char *const unset[] = {"AWS_SESSION_TOKEN", "AWS_PROFILE",
		"AWS_DEFAULT_REGION", "AWS_ENDPOINT_URL_SQS", "AWS_ENDPOINT_URL_ECS",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI",
		"AWS_MAX_ATTEMPTS", "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "http_proxy",
		"HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy"};
	for (size_t i = 0; i < sizeof(unset) / sizeof(unset[0]); i++)
		unsetenv(unset[i]);
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", 1);
	setenv("AWS_SHARED_CREDENTIALS_FILE", "/nonexistent/qscale/credentials", 1);
	setenv("AWS_CONFIG_FILE", "/nonexistent/qscale/config", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	setenv("AWS_REGION", "us-east-1", 1);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", srv.port);
	setenv("AWS_ENDPOINT_URL", url, 1);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	evhttp_free(srv.http);
	event_base_free(srv.base);
	return 0;
}

/* A client on the server's base. */
static struct aws_client *make_client(void)
{
	struct aws_client_config cfg = {
		.timeout_ms = 5000, .connect_timeout_ms = 1000, .max_attempts = 1};
	struct aws_client *c = NULL;

	assert_int_equal(aws_client_create(srv.base, &cfg, &clock_system, &c), 0);
	return c;
}

/* Run the loop until *done or 10 s have passed. */
static void run_until(const int *done)
{
	for (int i = 0; i < 1000 && !*done; i++) {
		struct timeval tick = {0, 10000};

		event_base_loopexit(srv.base, &tick);
		event_base_dispatch(srv.base);
	}
	assert_true(*done);
}

struct result {
	int calls;
	int err;
	char code[AWS_ERROR_CODE_MAX];
	enum aws_error_class error_class;
	int64_t a, b, c;
};

static void counts_cb(
	int err, const struct aws_error *error, const struct sqs_queue_counts *counts, void *arg)
{
	struct result *r = arg;

	r->calls++;
	r->err = err;
	if (err == 0) {
		r->a = counts->visible;
		r->b = counts->in_flight;
		r->c = counts->delayed;
	} else {
		snprintf(r->code, sizeof(r->code), "%s", error->code);
	}
}

static void test_sqs_counts(void **state)
{
	struct aws_client *client = make_client();
	struct result r = {0};
	char url[96];

	(void)state;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/000000000000/orders", srv.port);
	assert_int_equal(sqs_get_queue_attributes(client, url, counts_cb, &r, NULL), 0);
	run_until(&r.calls);
	assert_int_equal(r.calls, 1);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.a, 1240);
	assert_int_equal(r.b, 37);
	assert_int_equal(r.c, 2);
	assert_string_equal(srv.targets, "GetQueueAttributes ");
	aws_client_destroy(client);
}

static void services_cb(
	int err, const struct aws_error *error, const struct ecs_service_list *l, void *arg)
{
	struct result *r = arg;

	r->calls++;
	r->err = err;
	if (err == 0) {
		r->a = (int64_t)l->n_services;
		r->b = l->services[11].desired; /* the second in its batch */
	} else {
		snprintf(r->code, sizeof(r->code), "%s", error->code);
		r->error_class = error->error_class;
	}
}

static void test_describe_services(void **state)
{
	struct aws_client *client = make_client();
	struct result r = {0};
	const char *names[12] = {
		"s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7", "s8", "s9", "s10", "s11"};

	(void)state;
	srv.targets[0] = '\0';
	assert_int_equal(
		ecs_describe_services(client, "edge", names, 12, services_cb, &r, NULL), 0);
	run_until(&r.calls);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.a, 12);
	assert_int_equal(r.b, 1);
	assert_string_equal(srv.targets, "DescribeServices DescribeServices ");

	/* An AWS error arrives with its code and class. */
	memset(&r, 0, sizeof(r));
	srv.cluster_missing = true;
	assert_int_equal(ecs_describe_services(client, "nope", names, 2, services_cb, &r, NULL), 0);
	run_until(&r.calls);
	srv.cluster_missing = false;
	assert_int_equal(r.calls, 1);
	assert_true(r.err < 0);
	assert_string_equal(r.code, "ClusterNotFoundException");
	assert_int_equal(r.error_class, AWS_ERROR_FATAL);
	aws_client_destroy(client);
}

static void instances_cb(
	int err, const struct aws_error *error, const struct ecs_instance_set *set, void *arg)
{
	struct result *r = arg;

	(void)error;
	r->calls++;
	r->err = err;
	if (err == 0) {
		r->a = (int64_t)set->n_instances;
		r->b = (int64_t)set->n_failures;
		r->c = set->instances[0].remaining_cpu_units;
	}
}

static void test_list_describe_instances(void **state)
{
	struct aws_client *client = make_client();
	struct result r = {0};

	(void)state;
	srv.targets[0] = '\0';
	assert_int_equal(ecs_list_describe_container_instances(
				 client, "edge", NULL, "ACTIVE", instances_cb, &r, NULL),
		0);
	run_until(&r.calls);
	assert_int_equal(r.err, 0);
	assert_int_equal(r.a, 2);
	assert_int_equal(r.b, 1);
	assert_int_equal(r.c, 2048);
	assert_string_equal(srv.targets,
		"ListContainerInstances ListContainerInstances DescribeContainerInstances ");
	aws_client_destroy(client);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sqs_counts),
		cmocka_unit_test(test_describe_services),
		cmocka_unit_test(test_list_describe_instances),
	};

	return cmocka_run_group_tests_name("aws_api", tests, setup, teardown);
}
