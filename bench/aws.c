/*
 * Benchmark of qscale's AWS request path on one core, without the network:
 * building a DescribeServices body, signing it with SigV4 (key cache warm, as
 * in the daemon), and parsing realistic responses (a DescribeContainerInstances
 * answer of 100 ECS Anywhere instances, a DescribeServices answer of 10
 * services, a GetQueueAttributes answer). Prints key=value lines.
 *
 * Usage: bench-aws [seconds per measurement, default 2]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "qscale/buf.h"
#include "qscale/ecs.h"
#include "qscale/sigv4.h"
#include "qscale/sqs.h"

#define ARN "arn:aws:ecs:eu-west-1:123456789012:"

/* Keep the optimiser from dropping a result. */
static volatile size_t sink;

static const char *const services[10] = {"orders-local", "orders-burst", "billing-local",
	"billing-burst", "mail-local", "mail-burst", "search-local", "search-burst", "thumbs-local",
	"thumbs-burst"};

/* A DescribeContainerInstances answer of n ECS Anywhere instances, as ECS writes it. */
static char *instances_response(int n)
{
	struct buf b;

	buf_init(&b, 1 << 24);
	buf_puts(&b, "{\"containerInstances\":[");
	for (int i = 0; i < n; i++) {
		buf_printf(&b,
			"%s{\"containerInstanceArn\":\"" ARN "container-instance/edge/%032x\","
			"\"ec2InstanceId\":\"mi-%017x\",\"version\":%d,"
			"\"versionInfo\":{\"agentVersion\":\"1.89.1\",\"agentHash\":\"4a4e5b7c\","
			"\"dockerVersion\":\"DockerVersion: 25.0.5\"},"
			"\"remainingResources\":["
			"{\"name\":\"CPU\",\"type\":\"INTEGER\",\"doubleValue\":0.0,\"longValue\":"
			"0,"
			"\"integerValue\":%d},"
			"{\"name\":\"MEMORY\",\"type\":\"INTEGER\",\"doubleValue\":0.0,"
			"\"longValue\":0,"
			"\"integerValue\":%d},"
			"{\"name\":\"PORTS\",\"type\":\"STRINGSET\",\"doubleValue\":0.0,"
			"\"longValue\":0,"
			"\"integerValue\":0,\"stringSetValue\":[\"22\",\"2375\",\"2376\",\"51678\","
			"\"51679\",\"8080\",\"9100\"]},"
			"{\"name\":\"PORTS_UDP\",\"type\":\"STRINGSET\",\"doubleValue\":0.0,"
			"\"longValue\":0,\"integerValue\":0,\"stringSetValue\":[]}],"
			"\"registeredResources\":["
			"{\"name\":\"CPU\",\"type\":\"INTEGER\",\"doubleValue\":0.0,\"longValue\":"
			"0,"
			"\"integerValue\":8192},"
			"{\"name\":\"MEMORY\",\"type\":\"INTEGER\",\"doubleValue\":0.0,"
			"\"longValue\":0,"
			"\"integerValue\":31800},"
			"{\"name\":\"PORTS\",\"type\":\"STRINGSET\",\"doubleValue\":0.0,"
			"\"longValue\":0,"
			"\"integerValue\":0,\"stringSetValue\":[\"22\",\"2375\",\"2376\",\"51678\","
			"\"51679\"]},"
			"{\"name\":\"PORTS_UDP\",\"type\":\"STRINGSET\",\"doubleValue\":0.0,"
			"\"longValue\":0,\"integerValue\":0,\"stringSetValue\":[]}],"
			"\"status\":\"ACTIVE\",\"agentConnected\":true,\"runningTasksCount\":%d,"
			"\"pendingTasksCount\":0,\"agentUpdateStatus\":\"UPDATED\","
			"\"attributes\":[{\"name\":\"ecs.capability.external\"},"
			"{\"name\":\"ecs.os-type\",\"value\":\"linux\"},"
			"{\"name\":\"ecs.os-family\",\"value\":\"LINUX\"},"
			"{\"name\":\"ecs.cpu-architecture\",\"value\":\"x86_64\"},"
			"{\"name\":\"com.amazonaws.ecs.capability.docker-remote-api.1.40\"},"
			"{\"name\":\"com.amazonaws.ecs.capability.logging-driver.json-file\"},"
			"{\"name\":\"com.amazonaws.ecs.capability.logging-driver.awslogs\"},"
			"{\"name\":\"ecs.capability.task-cpu-mem-limit\"},"
			"{\"name\":\"ecs.capability.container-health-check\"},"
			"{\"name\":\"ecs.capability.execution-role-awslogs\"},"
			"{\"name\":\"com.amazonaws.ecs.capability.task-iam-role\"},"
			"{\"name\":\"site\",\"value\":\"rack-%d\"}],"
			"\"registeredAt\":1764000000.25,\"attachments\":[],\"tags\":[]}",
			i ? "," : "", (unsigned)i * 2654435761u, (unsigned)i, 40 + i,
			8192 - 512 * (i % 8), 31800 - 1024 * (i % 16), i % 8, i % 4);
	}
	buf_puts(&b, "],\"failures\":[]}");
	return buf_steal(&b);
}

/* A DescribeServices answer for the ten services above. */
static char *services_response(void)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	buf_puts(&b, "{\"services\":[");
	for (int i = 0; i < 10; i++) {
		buf_printf(&b,
			"%s{\"serviceArn\":\"" ARN "service/edge/%s\",\"serviceName\":\"%s\","
			"\"clusterArn\":\"" ARN "cluster/edge\",\"loadBalancers\":[],"
			"\"status\":\"ACTIVE\",\"desiredCount\":%d,\"runningCount\":%d,"
			"\"pendingCount\":0,\"launchType\":\"EXTERNAL\","
			"\"taskDefinition\":\"" ARN "task-definition/%s:14\","
			"\"deploymentConfiguration\":{\"maximumPercent\":200,"
			"\"minimumHealthyPercent\":100},"
			"\"deployments\":[{\"id\":\"ecs-svc/"
			"123456789012345678%d\",\"status\":\"PRIMARY\","
			"\"taskDefinition\":\"" ARN "task-definition/%s:14\",\"desiredCount\":%d,"
			"\"pendingCount\":0,\"runningCount\":%d,\"failedTasks\":0,"
			"\"createdAt\":1764140000.123,\"updatedAt\":1764141000.5,"
			"\"launchType\":\"EXTERNAL\",\"rolloutState\":\"COMPLETED\"}],"
			"\"events\":[{\"id\":\"e%d\",\"createdAt\":1764141000.5,\"message\":"
			"\"(service %s) has reached a steady state.\"}],"
			"\"createdAt\":1764000000.0,\"schedulingStrategy\":\"REPLICA\","
			"\"deploymentController\":{\"type\":\"ECS\"}}",
			i ? "," : "", services[i], services[i], i, i, services[i], i, services[i],
			i, i, i, services[i]);
	}
	buf_puts(&b, "],\"failures\":[]}");
	return buf_steal(&b);
}

/* Build one DescribeServices body. */
static void op_build(void *arg)
{
	char *body;
	size_t len;

	(void)arg;
	if (ecs_describe_services_request("edge", services, 10, &body, &len) < 0)
		abort();
	sink += len;
	free(body);
}

static struct sigv4_key_cache *cache;
static uint64_t clock_ms = 1764150000000ULL;

/* Sign one body as the client would. */
static void sign(const char *body, size_t len)
{
	static const struct sigv4_header headers[] = {
		{"Host", "ecs.eu-west-1.amazonaws.com"},
		{"Content-Type", "application/x-amz-json-1.1"},
		{"X-Amz-Target", "AmazonEC2ContainerServiceV20141113.DescribeServices"},
	};
	struct sigv4_request req = {"POST", "/", NULL, headers, 3, body, len};
	struct sigv4_credentials creds = {"AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
		"IQoJb3JpZ2luX2VjEXAMPLESESSIONTOKEN"};
	struct sigv4_params params = {"eu-west-1", "ecs", clock_ms++, true, false, false};
	struct sigv4_signed out = {0};

	if (sigv4_sign(&req, &creds, &params, cache, &out) < 0)
		abort();
	sink += strlen(out.authorization);
	sigv4_signed_finish(&out);
}

/* Sign a prepared body. */
static void op_sign(void *arg)
{
	const char *body = arg;

	sign(body, strlen(body));
}

/* Build and sign, as each DescribeServices request does. */
static void op_build_sign(void *arg)
{
	char *body;
	size_t len;

	(void)arg;
	if (ecs_describe_services_request("edge", services, 10, &body, &len) < 0)
		abort();
	sign(body, len);
	free(body);
}

/* Parse the 100-instance answer. */
static void op_parse_instances(void *arg)
{
	const char *body = arg;
	struct ecs_instance_set set = {0};

	if (ecs_describe_container_instances_parse(body, strlen(body), &set, NULL) < 0)
		abort();
	sink += set.n_instances;
	ecs_instance_set_finish(&set);
}

/* Parse the ten-service answer. */
static void op_parse_services(void *arg)
{
	const char *body = arg;
	struct ecs_service_list l = {0};

	if (ecs_describe_services_parse(body, strlen(body), services, 10, &l, NULL) < 0)
		abort();
	sink += l.n_services;
	ecs_service_list_finish(&l);
}

/* Build, sign, and parse the answer: one whole DescribeServices round minus the network. */
static void op_round(void *arg)
{
	op_build_sign(NULL);
	op_parse_services(arg);
}

/* Parse a GetQueueAttributes answer. */
static void op_parse_counts(void *arg)
{
	const char *body = arg;
	struct sqs_queue_counts c;

	if (sqs_queue_counts_parse(body, strlen(body), &c, NULL) < 0)
		abort();
	sink += (size_t)c.visible;
}

/* Run op for about secs seconds; print its rate. */
static void measure(const char *name, void (*op)(void *), void *arg, double secs, size_t bytes)
{
	size_t n = 0;
	double start = bench_seconds(CLOCK_MONOTONIC);
	double elapsed;

	do {
		for (int i = 0; i < 64; i++)
			op(arg);
		n += 64;
		elapsed = bench_seconds(CLOCK_MONOTONIC) - start;
	} while (elapsed < secs);
	printf("case=%s per_second=%.0f us_each=%.2f", name, (double)n / elapsed,
		elapsed * 1e6 / (double)n);
	if (bytes > 0)
		printf(" body_bytes=%zu mib_per_second=%.1f", bytes,
			(double)bytes * (double)n / elapsed / (1024.0 * 1024.0));
	printf("\n");
}

int main(int argc, char **argv)
{
	double secs = argc > 1 ? atof(argv[1]) : 2.0;
	char *instances = instances_response(100);
	char *svcs = services_response();
	const char *counts = "{\"Attributes\":{\"ApproximateNumberOfMessages\":\"1240\","
			     "\"ApproximateNumberOfMessagesNotVisible\":\"37\","
			     "\"ApproximateNumberOfMessagesDelayed\":\"0\"}}";
	char *body;
	size_t len;

	if (secs <= 0)
		secs = 2.0;
	cache = sigv4_key_cache_create();
	if (ecs_describe_services_request("edge", services, 10, &body, &len) < 0)
		return 1;
	measure("build_describe_services", op_build, NULL, secs, len);
	measure("sign_describe_services", op_sign, body, secs, len);
	measure("build_and_sign_describe_services", op_build_sign, NULL, secs, len);
	measure("parse_describe_services_10", op_parse_services, svcs, secs, strlen(svcs));
	measure("round_describe_services_10", op_round, svcs, secs, 0);
	measure("parse_describe_container_instances_100", op_parse_instances, instances, secs,
		strlen(instances));
	measure("parse_get_queue_attributes", op_parse_counts, (void *)(uintptr_t)counts, secs,
		strlen(counts));
	free(body);
	free(instances);
	free(svcs);
	sigv4_key_cache_destroy(cache);
	return sink == 0;
}
