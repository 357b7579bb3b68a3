/*
 * Unit tests of the ECS request builders, response parsers (fixtures from
 * tests/data/aws, hostile bodies built here) and the reservation of each
 * parsed task definition.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/buf.h"
#include "qscale/ecs.h"
#include "qscale/xalloc.h"
#include "aws_fixture.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))
#define ARN_SVC "arn:aws:ecs:eu-west-1:123456789012:service/edge/"
#define ARN_CI "arn:aws:ecs:eu-west-1:123456789012:container-instance/edge/"

/* Assert a diagnostic for a clean parse failure that mentions part. */
static void check_failure(int r, const struct aws_error *diag, const char *part)
{
	assert_int_equal(r, -EPROTO);
	assert_int_equal(diag->err, -EPROTO);
	assert_false(diag->retryable);
	if (strstr(diag->message, part) == NULL)
		fail_msg("diagnostic \"%s\" lacks \"%s\"", diag->message, part);
}

static const char *const asked[] = {"orders-local", "gone", ARN_SVC "orders-burst"};

static void test_describe_services_good(void **state)
{
	size_t len;
	char *body = fixture_load("ecs-describe-services.json", &len);
	struct ecs_service_list l = {0};
	struct aws_error diag;

	(void)state;
	assert_int_equal(ecs_describe_services_parse(body, len, asked, N(asked), &l, &diag), 0);
	assert_int_equal(l.n_services, 3);

	const struct ecs_service *s = &l.services[0];

	assert_string_equal(s->name, "orders-local");
	assert_true(s->found);
	assert_string_equal(s->arn, ARN_SVC "orders-local");
	assert_string_equal(s->status, "ACTIVE");
	assert_string_equal(s->launch_type, "EXTERNAL");
	assert_string_equal(
		s->task_definition, "arn:aws:ecs:eu-west-1:123456789012:task-definition/orders:14");
	assert_int_equal(s->desired, 8);
	assert_int_equal(s->running, 7);
	assert_int_equal(s->pending, 1);

	s = &l.services[1];
	assert_string_equal(s->name, "gone");
	assert_false(s->found);
	assert_string_equal(s->failure.reason, "MISSING");
	assert_string_equal(s->failure.arn, ARN_SVC "gone");
	assert_null(s->failure.detail);
	assert_null(s->arn);

	s = &l.services[2];
	assert_string_equal(s->name, ARN_SVC "orders-burst");
	assert_true(s->found);
	assert_string_equal(s->service_name, "orders-burst");
	assert_null(s->launch_type); /* capacity-provider strategy */
	assert_int_equal(s->desired, 0);

	/* A second batch appends in order. */
	const char *const again[] = {"orders-burst"};

	assert_int_equal(ecs_describe_services_parse(body, len, again, 1, &l, &diag), 0);
	assert_int_equal(l.n_services, 4);
	assert_string_equal(l.services[3].name, "orders-burst");
	ecs_service_list_finish(&l);
	ecs_service_list_finish(&l); /* finish leaves a zeroed list */
	ecs_service_list_finish(NULL);
	free(body);
}

static const struct {
	const char *fixture;
	const char *name;
	const char *message;
} bad_services[] = {
	{"ecs-describe-services-wrong-type.json", "orders-local", "desiredCount"},
	{"ecs-describe-services-missing-field.json", "orders-local", "\"desiredCount\" is missing"},
	{"ecs-describe-services-fractional.json", "orders-local", "not an integer"},
	{"ecs-describe-services-services-object.json", "orders-local", "not an array"},
	{"ecs-describe-services.json", "never-asked-about", "neither services nor failures"},
	{"ecs-describe-services.json", "ne", "neither"}, /* "gone" ends in "ne", not "/ne" */
	{"ecs-error-cluster-not-found.json", "orders-local", "ClusterNotFoundException"},
	{"ecs-error-throttling.json", "orders-local", "ThrottlingException"},
	{"ecs-error-server.json", "orders-local", "ServerException"},
	{"ecs-error-no-type-field.json", "orders-local", "neither services nor failures"},
	{"sqs-error-query-xml.json", "orders-local", "malformed JSON"},
	{"sqs-counts-truncated.json", "orders-local", "malformed"},
};

static void test_describe_services_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(bad_services); i++) {
		size_t len;
		char *body = fixture_load(bad_services[i].fixture, &len);
		struct ecs_service_list l = {0};
		struct aws_error diag = {0};
		int r = ecs_describe_services_parse(body, len, &bad_services[i].name, 1, &l, &diag);

		print_message("# %s -> %d %s\n", bad_services[i].fixture, r, diag.message);
		check_failure(r, &diag, bad_services[i].message);
		assert_int_equal(l.n_services, 0);
		assert_null(l.services);
		free(body);
	}
}

/* One DescribeServices answer with a service whose fields are fields, and a tail. */
static char *services_body(const char *fields, const char *tail)
{
	return xasprintf(
		"{\"services\":[{\"serviceName\":\"orders-local\",\"serviceArn\":\"" ARN_SVC
		"orders-local\",\"status\":\"ACTIVE\",%s}]%s}",
		fields, tail);
}

/*
 * Hostile and surprising answers read as the whole tree read them: unknown
 * fields skipped whatever they hold, the first of duplicate keys taken, wrong
 * types named, and the caps enforced in the fields that are not read.
 */
static void test_describe_services_hostile(void **state)
{
	static const char counts[] = "\"desiredCount\":3,\"runningCount\":2,\"pendingCount\":1";
	const char *const name[] = {"orders-local"};
	struct ecs_service_list l = {0};
	struct aws_error diag = {0};
	struct buf b;
	char *body;

	(void)state;
	/* Deployments, 100 events and a future field, none read. */
	buf_init(&b, 1 << 24);
	buf_printf(
		&b, "%s,\"deployments\":[{\"desiredCount\":\"x\",\"id\":[]}],\"events\":[", counts);
	for (int i = 0; i < 100; i++)
		buf_printf(&b, "%s{\"id\":\"e%d\",\"message\":\"steady\",\"createdAt\":1.5}",
			i > 0 ? "," : "", i);
	buf_puts(&b, "],\"future\":{\"serviceName\":7,\"a\":[[[true]]]}");
	body = services_body(b.data, ",\"nextToken\":{}");
	assert_int_equal(ecs_describe_services_parse(body, strlen(body), name, 1, &l, &diag), 0);
	assert_int_equal(l.services[0].desired, 3);
	assert_string_equal(l.services[0].status, "ACTIVE");
	ecs_service_list_finish(&l);
	free(body);

	/* Duplicate keys: the first one counts, as in the whole tree. */
	body = services_body("\"desiredCount\":4,\"desiredCount\":\"x\",\"runningCount\":2,"
			     "\"pendingCount\":1",
		",\"services\":[]");
	assert_int_equal(ecs_describe_services_parse(body, strlen(body), name, 1, &l, &diag), 0);
	assert_int_equal(l.services[0].desired, 4);
	ecs_service_list_finish(&l);
	free(body);
	body = xasprintf("{\"services\":[],\"services\":[{\"serviceName\":\"orders-local\"}]}");
	check_failure(ecs_describe_services_parse(body, strlen(body), name, 1, &l, &diag), &diag,
		"neither services nor failures");
	free(body);

	/* Wrong types of the fields read. */
	body = services_body(
		"\"desiredCount\":{\"n\":3},\"runningCount\":2,\"pendingCount\":1", "");
	check_failure(ecs_describe_services_parse(body, strlen(body), name, 1, &l, &diag), &diag,
		"\"desiredCount\" is not a number");
	free(body);
	body = services_body(counts, ",\"failures\":{}");
	check_failure(ecs_describe_services_parse(body, strlen(body), name, 1, &l, &diag), &diag,
		"\"failures\" is not an array");
	free(body);
	body = xasprintf("{\"services\":[[\"orders-local\"]]}");
	check_failure(ecs_describe_services_parse(body, strlen(body), name, 1, &l, &diag), &diag,
		"a service is not an object");
	free(body);

	/* Truncated, and bad bytes in a field that is not read. */
	body = services_body(counts, "");
	check_failure(ecs_describe_services_parse(body, strlen(body) - 3, name, 1, &l, &diag),
		&diag, "malformed JSON");
	free(body);
	body = services_body(counts, ",\"junk\":\"\xff\"");
	check_failure(ecs_describe_services_parse(body, strlen(body), name, 1, &l, &diag), &diag,
		"malformed JSON");
	free(body);

	/* Too many items and too deep, in fields that are not read. */
	buf_reset(&b);
	buf_printf(&b, "%s,\"events\":[", counts);
	for (int i = 0; i < 5001; i++)
		buf_printf(&b, "%s0", i > 0 ? "," : "");
	buf_putc(&b, ']');
	body = services_body(b.data, "");
	check_failure(ecs_describe_services_parse(body, strlen(body), name, 1, &l, &diag), &diag,
		"more than 5000 items");
	free(body);
	buf_reset(&b);
	buf_printf(&b, "%s,\"events\":", counts);
	for (int i = 0; i < 40; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < 40; i++)
		buf_putc(&b, ']');
	body = services_body(b.data, "");
	check_failure(ecs_describe_services_parse(body, strlen(body), name, 1, &l, &diag), &diag,
		"nests deeper than 32 levels");
	free(body);

	/* A 4 MiB string in a field not read passes; past the 8 MiB body cap nothing does. */
	for (size_t n = 4u << 20; n <= (9u << 20); n += 5u << 20) {
		char *filler = xmalloc(n + 1);

		memset(filler, 'x', n);
		filler[n] = '\0';
		buf_reset(&b);
		buf_finish(&b);
		buf_init(&b, 1 << 24);
		buf_printf(&b, "%s,\"message\":\"%s\"", counts, filler);
		body = services_body(b.data, "");
		if (n < (8u << 20)) {
			assert_int_equal(
				ecs_describe_services_parse(body, strlen(body), name, 1, &l, &diag),
				0);
			ecs_service_list_finish(&l);
		} else {
			check_failure(
				ecs_describe_services_parse(body, strlen(body), name, 1, &l, &diag),
				&diag, "exceeds the cap");
		}
		free(body);
		free(filler);
	}
	buf_finish(&b);
	assert_int_equal(l.n_services, 0);
}

static void test_update_service(void **state)
{
	size_t len;
	char *body = fixture_load("ecs-update-service.json", &len);
	struct ecs_service s;
	struct aws_error diag;

	(void)state;
	assert_int_equal(ecs_update_service_parse(body, len, &s, &diag), 0);
	assert_string_equal(s.name, "orders-local");
	assert_true(s.found);
	assert_int_equal(s.desired, 12);
	assert_int_equal(s.running, 8);
	assert_string_equal(s.cluster_arn, "arn:aws:ecs:eu-west-1:123456789012:cluster/edge");
	ecs_service_finish(&s);
	free(body);

	body = fixture_load("ecs-update-service-no-service.json", &len);
	check_failure(
		ecs_update_service_parse(body, len, &s, &diag), &diag, "\"service\" is missing");
	free(body);
	body = fixture_load("ecs-error-cluster-not-found.json", &len);
	check_failure(ecs_update_service_parse(body, len, &s, &diag), &diag, "ClusterNotFound");
	free(body);
}

static void test_list_instances(void **state)
{
	size_t len;
	char *body;
	struct ecs_arn_list l = {0};
	char *token = NULL;
	struct aws_error diag;
	char untouched[] = "untouched";

	(void)state;
	body = fixture_load("ecs-list-instances-page1.json", &len);
	assert_int_equal(ecs_list_container_instances_parse(body, len, &l, &token, &diag), 0);
	assert_string_equal(token, "eyJlbmNyeXB0ZWREYXRhIjpbXX0=");
	assert_int_equal(l.n_arns, 2);
	free(token);
	free(body);
	body = fixture_load("ecs-list-instances-page2.json", &len);
	assert_int_equal(ecs_list_container_instances_parse(body, len, &l, &token, &diag), 0);
	assert_null(token);
	assert_int_equal(l.n_arns, 3);
	assert_string_equal(l.arns[0], ARN_CI "0a1b2c3d4e5f");
	assert_string_equal(l.arns[2], ARN_CI "2c3d4e5f6a7b");
	free(body);
	body = fixture_load("ecs-list-instances-empty.json", &len);
	assert_int_equal(ecs_list_container_instances_parse(body, len, &l, &token, &diag), 0);
	assert_null(token);
	assert_int_equal(l.n_arns, 3);
	free(body);

	static const struct {
		const char *fixture;
		const char *message;
	} bad[] = {
		{"ecs-list-instances-bad-arn.json", "containerInstanceArns[1]"},
		{"ecs-list-instances-token-number.json", "\"nextToken\" is not a string"},
		{"ecs-error-throttling.json", "ThrottlingException"},
	};

	for (size_t i = 0; i < N(bad); i++) {
		body = fixture_load(bad[i].fixture, &len);
		token = untouched;
		check_failure(ecs_list_container_instances_parse(body, len, &l, &token, &diag),
			&diag, bad[i].message);
		assert_string_equal(token, "untouched");
		assert_int_equal(l.n_arns, 3);
		free(body);
	}
	/* A listing wider than any response may be: stopped before the tree is built. */
	body = fixture_huge_array("containerInstanceArns", 1000000, &len);
	check_failure(ecs_list_container_instances_parse(body, len, &l, &token, &diag), &diag,
		"more than 5000 items");
	free(body);
	ecs_arn_list_finish(&l);
}

/* Whether ports[0..n) equals want[0..n_want). */
static bool ports_equal(const uint16_t *ports, size_t n, const uint16_t *want, size_t n_want)
{
	return n == n_want && (n == 0 || memcmp(ports, want, n * sizeof(*ports)) == 0);
}

static void test_describe_instances_good(void **state)
{
	size_t len;
	char *body = fixture_load("ecs-describe-instances.json", &len);
	struct ecs_instance_set set = {0};
	struct aws_error diag;
	bool present;

	(void)state;
	assert_int_equal(ecs_describe_container_instances_parse(body, len, &set, &diag), 0);
	assert_int_equal(set.n_instances, 2);
	assert_int_equal(set.n_failures, 1);

	const struct ecs_container_instance *ci = &set.instances[0];
	static const uint16_t reserved[] = {22, 2375, 2376, 51678, 51679};
	static const uint16_t taken[] = {22, 2375, 2376, 51678, 51679, 8080};
	static const uint16_t taken_udp[] = {5353};

	assert_string_equal(ci->arn, ARN_CI "0a1b2c3d4e5f");
	assert_string_equal(ci->ec2_instance_id, "mi-0123456789abcdef0");
	assert_string_equal(ci->status, "ACTIVE");
	assert_true(ci->agent_connected);
	assert_int_equal(ci->running_tasks, 3);
	assert_int_equal(ci->pending_tasks, 1);
	assert_int_equal(ci->registered_cpu_units, 4096);
	assert_int_equal(ci->registered_memory_mib, 15800);
	assert_int_equal(ci->remaining_cpu_units, 2048);
	assert_int_equal(ci->remaining_memory_mib, 6144);
	assert_true(ports_equal(ci->reserved_tcp_ports, ci->n_reserved_tcp_ports, reserved, 5));
	assert_int_equal(ci->n_reserved_udp_ports, 0);
	assert_true(ports_equal(ci->taken_tcp_ports, ci->n_taken_tcp_ports, taken, 6));
	assert_true(ports_equal(ci->taken_udp_ports, ci->n_taken_udp_ports, taken_udp, 1));
	assert_int_equal(ci->n_attributes, 4);
	assert_null(ecs_container_instance_attribute(ci, "ecs.capability.external", &present));
	assert_true(present);
	assert_string_equal(ecs_container_instance_attribute(ci, "ecs.os-type", &present), "linux");
	assert_null(ecs_container_instance_attribute(ci, "ecs.outpost-arn", &present));
	assert_false(present);

	/* LONG and DOUBLE resources; absent ports and attributes. */
	ci = &set.instances[1];
	assert_string_equal(ci->status, "DRAINING");
	assert_false(ci->agent_connected);
	assert_int_equal(ci->registered_cpu_units, 2048);
	assert_int_equal(ci->registered_memory_mib, 7800);
	assert_int_equal(ci->remaining_cpu_units, 1024);
	assert_int_equal(ci->remaining_memory_mib, 3000);
	assert_int_equal(ci->n_taken_tcp_ports, 0);
	assert_int_equal(ci->n_attributes, 0);

	assert_string_equal(set.failures[0].arn, ARN_CI "2c3d4e5f6a7b");
	assert_string_equal(set.failures[0].reason, "MISSING");
	assert_string_equal(set.failures[0].detail, "gone");
	free(body);

	/* Optional fields absent: defaults, resources -1 (not reported). */
	body = fixture_load("ecs-describe-instances-minimal.json", &len);
	assert_int_equal(ecs_describe_container_instances_parse(body, len, &set, &diag), 0);
	assert_int_equal(set.n_instances, 3);
	ci = &set.instances[2];
	assert_string_equal(ci->status, "REGISTERING");
	assert_false(ci->agent_connected);
	assert_null(ci->ec2_instance_id);
	assert_int_equal(ci->registered_cpu_units, -1);
	assert_int_equal(ci->remaining_memory_mib, -1);
	assert_int_equal(ci->running_tasks, 0);
	ecs_instance_set_finish(&set);
	free(body);
}

static const struct {
	const char *fixture;
	const char *message;
} bad_instances[] = {
	{"ecs-describe-instances-bad-type.json", "not a number type"},
	{"ecs-describe-instances-bad-port.json", "no port"},
	{"ecs-describe-instances-bool-string.json", "not a boolean"},
	{"ecs-error-client.json", "ClientException"},
};

static void test_describe_instances_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(bad_instances); i++) {
		size_t len;
		char *body = fixture_load(bad_instances[i].fixture, &len);
		struct ecs_instance_set set = {0};
		struct aws_error diag = {0};
		int r = ecs_describe_container_instances_parse(body, len, &set, &diag);

		print_message("# %s -> %d %s\n", bad_instances[i].fixture, r, diag.message);
		check_failure(r, &diag, bad_instances[i].message);
		assert_int_equal(set.n_instances, 0);
		free(body);
	}
	/* Hand-written hostile shapes. */
	static const char *const junk[] = {
		"{\"containerInstances\":[{\"containerInstanceArn\":\"a\",\"status\":\"ACTIVE\","
		"\"registeredResources\":[{\"name\":\"CPU\",\"type\":\"INTEGER\","
		"\"integerValue\":-1}]}]}",
		"{\"containerInstances\":[{\"containerInstanceArn\":\"a\",\"status\":\"ACTIVE\","
		"\"registeredResources\":[{\"name\":\"CPU\",\"type\":\"INTEGER\","
		"\"integerValue\":1},{\"name\":\"CPU\",\"type\":\"INTEGER\",\"integerValue\":2}]}]"
		"}",
		"{\"containerInstances\":[{\"containerInstanceArn\":\"a\",\"status\":\"ACTIVE\","
		"\"remainingResources\":[{\"name\":\"MEMORY\",\"type\":\"DOUBLE\","
		"\"doubleValue\":1e999}]}]}",
		"{\"containerInstances\":[{\"containerInstanceArn\":\"a\",\"status\":\"ACTIVE\","
		"\"remainingResources\":[{\"name\":\"MEMORY\",\"type\":\"LONG\","
		"\"integerValue\":5}]}]}",
		"{\"containerInstances\":[{\"containerInstanceArn\":\"a\",\"status\":\"ACTIVE\","
		"\"remainingResources\":[{\"name\":\"PORTS\",\"type\":\"STRINGSET\","
		"\"stringSetValue\":[22]}]}]}",
		"{\"containerInstances\":[{\"containerInstanceArn\":\"a\",\"status\":\"ACTIVE\","
		"\"attributes\":[{\"value\":\"x\"}]}]}",
		"{\"containerInstances\":[{\"containerInstanceArn\":\"a\",\"status\":\"ACTIVE\","
		"\"attributes\":[\"ecs.os-type\"]}]}",
		"{\"containerInstances\":[{\"containerInstanceArn\":\"a\",\"status\":\"ACTIVE\","
		"\"runningTasksCount\":\"3\"}]}",
		"{\"containerInstances\":[{\"containerInstanceArn\":\"a\",\"status\":\"ACTIVE\"}],"
		"\"failures\":[{\"reason\":\"MISSING\"}]}",
		"{\"containerInstances\":[7]}",
		"{\"containerInstances\":{}}",
	};

	for (size_t i = 0; i < N(junk); i++) {
		struct ecs_instance_set set = {0};
		struct aws_error diag = {0};

		assert_int_equal(ecs_describe_container_instances_parse(
					 junk[i], strlen(junk[i]), &set, &diag),
			-EPROTO);
		assert_int_equal(set.n_instances, 0);
	}
}

static const struct {
	const char *fixture;
	int err;
	int64_t cpu_units, memory_mib;
	uint16_t tcp[4];
	size_t n_tcp;
	uint16_t udp[4];
	size_t n_udp;
	const char *network_mode;
	size_t n_containers;
} task_cases[] = {
	/* Container sums; memoryReservation beats memory; hostPort 0 is dynamic. */
	{"ecs-task-definition-bridge.json", 0, 640, 768 + 256 + 64, {8080, 9100}, 2, {5353}, 1,
		"bridge", 3},
	/* Task level wins; awsvpc reserves no host port. */
	{"ecs-task-definition-task-level.json", 0, 1024, 2048, {0}, 0, {0}, 0, "awsvpc", 1},
	/* Task memory set, task cpu absent; duplicate host ports counted once. */
	{"ecs-task-definition-host-mode.json", 0, 512, 512, {80}, 1, {0}, 0, "host", 2},
	{"ecs-task-definition-cpu-number.json", -EPROTO, 0, 0, {0}, 0, {0}, 0, NULL, 0},
	{"ecs-task-definition-cpu-vcpu.json", -EPROTO, 0, 0, {0}, 0, {0}, 0, NULL, 0},
	{"ecs-task-definition-bad-protocol.json", -EPROTO, 0, 0, {0}, 0, {0}, 0, NULL, 0},
	{"ecs-task-definition-memory-string.json", -EPROTO, 0, 0, {0}, 0, {0}, 0, NULL, 0},
	{"ecs-error-client.json", -EPROTO, 0, 0, {0}, 0, {0}, 0, NULL, 0},
	{"ecs-update-service.json", -EPROTO, 0, 0, {0}, 0, {0}, 0, NULL, 0},
};

static void test_task_definitions(void **state)
{
	(void)state;
	for (size_t i = 0; i < N(task_cases); i++) {
		size_t len;
		char *body = fixture_load(task_cases[i].fixture, &len);
		struct ecs_task_definition td = {0};
		struct ecs_task_reservation res;
		struct aws_error diag = {0};
		int r = ecs_describe_task_definition_parse(body, len, &td, &diag);

		print_message("# %s -> %d %s\n", task_cases[i].fixture, r, diag.message);
		assert_int_equal(r, task_cases[i].err);
		free(body);
		if (r < 0) {
			assert_null(td.arn);
			continue;
		}
		assert_string_equal(td.network_mode, task_cases[i].network_mode);
		assert_int_equal(td.n_containers, task_cases[i].n_containers);
		assert_int_equal(ecs_task_reservation_compute(&td, &res), 0);
		assert_int_equal(res.cpu_units, task_cases[i].cpu_units);
		assert_int_equal(res.memory_mib, task_cases[i].memory_mib);
		assert_true(ports_equal(
			res.tcp_ports, res.n_tcp_ports, task_cases[i].tcp, task_cases[i].n_tcp));
		assert_true(ports_equal(
			res.udp_ports, res.n_udp_ports, task_cases[i].udp, task_cases[i].n_udp));
		ecs_task_reservation_finish(&res);
		ecs_task_definition_finish(&td);
	}
}

static void test_task_definition_fields(void **state)
{
	size_t len;
	char *body = fixture_load("ecs-task-definition-bridge.json", &len);
	struct ecs_task_definition td;
	struct aws_error diag;

	(void)state;
	assert_int_equal(ecs_describe_task_definition_parse(body, len, &td, &diag), 0);
	assert_string_equal(td.arn, "arn:aws:ecs:eu-west-1:123456789012:task-definition/orders:14");
	assert_string_equal(td.family, "orders");
	assert_int_equal(td.revision, 14);
	assert_int_equal(td.cpu_units, 0);
	assert_int_equal(td.memory_mib, 0);
	assert_string_equal(td.containers[0].name, "worker");
	assert_int_equal(td.containers[0].memory_mib, 1024);
	assert_int_equal(td.containers[0].memory_reservation_mib, 768);
	assert_int_equal(td.containers[0].n_port_mappings, 3);
	assert_int_equal(td.containers[0].port_mappings[2].host_port, 5353);
	assert_true(td.containers[0].port_mappings[2].udp);
	assert_int_equal(td.containers[1].port_mappings[0].host_port, 9100);
	assert_false(td.containers[1].port_mappings[0].udp); /* protocol absent: tcp */
	assert_int_equal(td.containers[2].cpu_units, 0);
	ecs_task_definition_finish(&td);
	ecs_task_definition_finish(NULL);
	free(body);

	/* More containers than a task definition may have. */
	struct buf b;

	buf_init(&b, 1 << 16);
	buf_puts(&b,
		"{\"taskDefinition\":{\"taskDefinitionArn\":\"a\",\"containerDefinitions\":[{}");
	for (int i = 0; i < 100; i++)
		buf_puts(&b, ",{\"cpu\":1}");
	buf_puts(&b, "]}}");
	check_failure(ecs_describe_task_definition_parse(b.data, b.len, &td, &diag), &diag,
		"holds 101 items, more than 100");
	buf_finish(&b);
}

static void test_requests(void **state)
{
	char *body;
	size_t len;
	const char *const svcs[] = {"orders-local", "orders-burst"};
	const char *const many[11] = {"a", "b", "c", "d", "e", "f", "g", "h", "i", "j", "k"};

	(void)state;
	assert_int_equal(ecs_describe_services_request("edge", svcs, 2, &body, &len), 0);
	assert_string_equal(
		body, "{\"cluster\":\"edge\",\"services\":[\"orders-local\",\"orders-burst\"]}");
	free(body);
	assert_int_equal(ecs_describe_services_request(NULL, svcs, 1, &body, &len), 0);
	assert_string_equal(body, "{\"services\":[\"orders-local\"]}");
	free(body);
	assert_int_equal(ecs_describe_services_request("edge", many, 11, &body, &len), -EINVAL);
	assert_int_equal(ecs_describe_services_request("edge", many, 0, &body, &len), -EINVAL);

	assert_int_equal(ecs_update_service_request("edge", "orders-local", 12, &body, &len), 0);
	assert_string_equal(
		body, "{\"cluster\":\"edge\",\"service\":\"orders-local\",\"desiredCount\":12}");
	assert_int_equal(len, strlen(body));
	free(body);
	assert_int_equal(ecs_update_service_request("edge", "x", -1, &body, &len), -EINVAL);
	assert_int_equal(ecs_update_service_request("edge", NULL, 1, &body, &len), -EINVAL);

	assert_int_equal(
		ecs_list_container_instances_request("edge",
			"attribute:ecs.capability.external exists", "ACTIVE", NULL, &body, &len),
		0);
	assert_string_equal(body,
		"{\"cluster\":\"edge\",\"filter\":\"attribute:ecs.capability.external "
		"exists\",\"status\":\"ACTIVE\",\"maxResults\":100}");
	free(body);
	assert_int_equal(
		ecs_list_container_instances_request(NULL, NULL, NULL, "tok", &body, &len), 0);
	assert_string_equal(body, "{\"maxResults\":100,\"nextToken\":\"tok\"}");
	free(body);

	const char *const cis[] = {ARN_CI "0a"};

	assert_int_equal(ecs_describe_container_instances_request("edge", cis, 1, &body, &len), 0);
	assert_string_equal(
		body, "{\"cluster\":\"edge\",\"containerInstances\":[\"" ARN_CI "0a\"]}");
	free(body);
	assert_int_equal(
		ecs_describe_container_instances_request("edge", cis, 101, &body, &len), -EINVAL);

	assert_int_equal(ecs_describe_task_definition_request("orders:14", &body, &len), 0);
	assert_string_equal(body, "{\"taskDefinition\":\"orders:14\"}");
	free(body);
	assert_int_equal(ecs_describe_task_definition_request("", &body, &len), -EINVAL);
	/* Invalid UTF-8 never reaches the wire. */
	assert_int_equal(ecs_describe_task_definition_request("or\xff"
							      "ders",
				 &body, &len),
		-EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_describe_services_good),
		cmocka_unit_test(test_describe_services_bad),
		cmocka_unit_test(test_describe_services_hostile),
		cmocka_unit_test(test_update_service),
		cmocka_unit_test(test_list_instances),
		cmocka_unit_test(test_describe_instances_good),
		cmocka_unit_test(test_describe_instances_bad),
		cmocka_unit_test(test_task_definitions),
		cmocka_unit_test(test_task_definition_fields),
		cmocka_unit_test(test_requests),
	};

	return cmocka_run_group_tests_name("ecs", tests, NULL, NULL);
}
