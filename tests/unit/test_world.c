/*
 * World model tests: conservation of messages, ECS placement (never over an
 * instance's resources or ports, unplaced tasks placed once room frees),
 * startup delays, scheduled events, the reporting lag, arrivals from rates
 * and traces, the ECS lookups and errors, faults, and determinism for a seed.
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

#include "qscale/world.h"

/* One on-prem cluster of 3 instances (4 tasks of 1024 CPU each), a Fargate
 * cluster, a queue fed at 20/s; order-processor uses host port 8080 when
 * the port: mapping is turned on by the test. */
static const char base_yaml[] =
	"seed: %d\n"
	"startup: {onprem: 5s, fargate: 30s}\n"
	"queues:\n"
	"  - name: orders\n"
	"    reporting_lag: %s\n"
	"    arrivals: {segments: [{at: 0s, rate: %s}]}\n"
	"clusters:\n"
	"  - name: onprem\n"
	"    instances: [{count: 3, cpu: 4096, memory: 8192}]\n"
	"  - name: cloud\n"
	"task_definitions:\n"
	"  - family: op\n"
	"    cpu: \"1024\"\n"
	"    memory: \"1536\"\n"
	"    containers: [{name: app, memory: 1536%s}]\n"
	"  - family: opf\n"
	"    cpu: \"1024\"\n"
	"    memory: \"2048\"\n"
	"    network_mode: awsvpc\n"
	"    requires_compatibilities: [FARGATE]\n"
	"    containers: [{name: app}]\n"
	"services:\n"
	"  - {name: order-processor, cluster: onprem, launch_type: EXTERNAL, task_definition: op,\n"
	"     desired: %d, queue: orders, messages_per_task: 5/s}\n"
	"  - {name: order-processor-fargate, cluster: cloud, launch_type: FARGATE,\n"
	"     task_definition: opf, desired: 0, queue: orders, messages_per_task: 5/s}\n"
	"  - {name: stopped, cluster: onprem, task_definition: op, status: INACTIVE}\n"
	"%s";

/* The seed make() writes into the scenario. */
static int fixture_seed = 7;

struct fixture {
	struct scenario *sc;
	struct world *w;
};

/* Build a world from base_yaml with the given knobs. */
static void make(struct fixture *f, const char *lag, const char *rate, bool host_port, int desired,
	const char *extra)
{
	char text[4096];
	struct diag d;
	char msg[700];

	snprintf(text, sizeof(text), base_yaml, fixture_seed, lag, rate,
		host_port ? ", port_mappings: [{container_port: 80, host_port: 8080}]" : "",
		desired, extra);
	if (scenario_load_text("world.yaml", text, strlen(text), &f->sc, &d) < 0)
		fail_msg("%s", diag_format(&d, msg, sizeof(msg)));
	assert_int_equal(world_create(f->sc, 1700000000000ull, &f->w), 0);
}

/* Free a fixture. */
static void unmake(struct fixture *f)
{
	world_destroy(f->w);
	scenario_destroy(f->sc);
}

/* A service's current info, by name. */
static struct world_service_info svc(struct fixture *f, const char *cluster, const char *name)
{
	struct world_service_info s;

	assert_int_equal(world_service_get(f->w, cluster, name, &s), WORLD_ECS_OK);
	return s;
}

/* arrived = processed + waiting, and the counts agree with the statistics. */
static void check_conservation(struct world *w)
{
	for (size_t q = 0; q < world_queue_count(w); q++) {
		struct world_queue_info qi;
		struct world_queue_stats st;

		assert_int_equal(world_queue_at(w, q, &qi), 0);
		assert_int_equal(world_queue_stats(w, q, &st), 0);
		assert_int_equal(
			st.waiting, qi.actual.visible + qi.actual.in_flight + qi.actual.delayed);
		assert_int_equal(st.arrived, st.processed + st.waiting);
	}
}

/* No instance holds more than it has: CPU, memory and ports add up. */
static void check_instances(struct world *w, uint32_t task_cpu, uint32_t task_mem, bool port)
{
	struct world_cluster_info c;

	assert_int_equal(world_cluster_get(w, "onprem", &c), WORLD_ECS_OK);
	for (size_t i = 0; i < c.instance_count; i++) {
		struct world_instance_info in;
		uint32_t tasks;

		assert_int_equal(world_instance_at(w, c.index, i, &in), WORLD_ECS_OK);
		tasks = in.running_tasks + in.pending_tasks;
		assert_true(in.remaining_cpu_units <= in.registered_cpu_units);
		assert_int_equal(
			in.registered_cpu_units - in.remaining_cpu_units, tasks * task_cpu);
		assert_int_equal(
			in.registered_memory_mib - in.remaining_memory_mib, tasks * task_mem);
		assert_int_equal(in.remaining_ports_tcp_count,
			in.registered_ports_tcp_count + (port ? tasks : 0));
		for (size_t k = 1; k < in.remaining_ports_tcp_count; k++)
			assert_true(in.remaining_ports_tcp[k - 1] < in.remaining_ports_tcp[k]);
		if (port)
			assert_true(tasks <= 1);
	}
}

/* Many uneven steps with desired counts moving: nothing is lost or made up. */
static void test_conservation_many_steps(void **state)
{
	struct fixture f;
	uint64_t t = 0, rng = 12345;

	make(&f, "3s", "37/s", false, 2, "");
	for (int i = 0; i < 3000; i++) {
		rng = rng * 6364136223846793005ull + 1442695040888963407ull;
		t += (rng >> 33) % 2500 + 1;
		assert_int_equal(world_advance(f.w, t), 0);
		if (i % 97 == 0)
			world_service_set_desired(f.w, "onprem", "order-processor",
				(int64_t)((rng >> 40) % 16), NULL);
		if (i % 131 == 0)
			world_service_set_desired(f.w, "cloud", "order-processor-fargate",
				(int64_t)((rng >> 45) % 6), NULL);
		check_conservation(f.w);
		check_instances(f.w, 1024, 1536, false);
	}
	unmake(&f);
}

/* Desired above capacity: 12 fit, the rest stay unplaced until room frees. */
static void test_unplaced_then_placed(void **state)
{
	struct fixture f;
	struct world_service_info s, out;
	struct world_service_stats st;

	make(&f, "0s", "0/s", false, 0, "");
	assert_int_equal(world_service_set_desired(f.w, "onprem", "order-processor", 15, &out),
		WORLD_ECS_OK);
	assert_int_equal(out.desired_count, 15);
	assert_int_equal(out.pending_count, 12);
	assert_int_equal(out.unplaced_count, 3);
	check_instances(f.w, 1024, 1536, false);
	assert_int_equal(world_advance(f.w, 60000), 0);
	s = svc(&f, "onprem", "order-processor");
	assert_int_equal(s.running_count, 12);
	assert_int_equal(s.unplaced_count, 3);
	assert_int_equal(world_service_stats(f.w, s.index, &st), 0);
	assert_int_equal(st.placement_failures, 3);
	/* a second service frees nothing; lowering this one to 10 leaves 2 spare slots */
	world_service_set_desired(f.w, "onprem", "order-processor", 10, NULL);
	s = svc(&f, "onprem", "order-processor");
	assert_int_equal(s.running_count, 10);
	assert_int_equal(s.unplaced_count, 0);
	world_service_set_desired(f.w, "onprem", "order-processor", 13, NULL);
	s = svc(&f, "onprem", "order-processor");
	assert_int_equal(s.running_count, 10);
	assert_int_equal(s.pending_count, 2);
	assert_int_equal(s.unplaced_count, 1);
	/* an instance coming back (activate after a drain) makes room */
	check_instances(f.w, 1024, 1536, false);
	unmake(&f);
}

/* Host ports: one task per instance when each takes port 8080. */
static void test_ports_limit_placement(void **state)
{
	struct fixture f;
	struct world_service_info s;
	struct world_instance_info in;

	make(&f, "0s", "0/s", true, 0, "");
	world_service_set_desired(f.w, "onprem", "order-processor", 5, NULL);
	s = svc(&f, "onprem", "order-processor");
	assert_int_equal(s.pending_count, 3);
	assert_int_equal(s.unplaced_count, 2);
	check_instances(f.w, 1024, 1536, true);
	assert_int_equal(world_instance_at(f.w, 0, 0, &in), WORLD_ECS_OK);
	assert_int_equal(in.registered_ports_tcp_count, 5);
	assert_int_equal(in.remaining_ports_tcp_count, 6);
	/* stopping frees the port: another task lands */
	world_service_set_desired(f.w, "onprem", "order-processor", 2, NULL);
	world_service_set_desired(f.w, "onprem", "order-processor", 3, NULL);
	s = svc(&f, "onprem", "order-processor");
	assert_int_equal(s.pending_count, 3);
	check_instances(f.w, 1024, 1536, true);
	unmake(&f);
}

/* PENDING for exactly the startup delay, on-prem and Fargate separately. */
static void test_startup_delays(void **state)
{
	struct fixture f;
	struct world_service_info s;

	make(&f, "0s", "0/s", false, 0, "");
	assert_int_equal(world_advance(f.w, 10000), 0);
	world_service_set_desired(f.w, "onprem", "order-processor", 2, NULL);
	world_service_set_desired(f.w, "cloud", "order-processor-fargate", 3, NULL);
	assert_int_equal(world_advance(f.w, 14999), 0);
	s = svc(&f, "onprem", "order-processor");
	assert_int_equal(s.pending_count, 2);
	assert_int_equal(s.running_count, 0);
	assert_int_equal(world_advance(f.w, 15000), 0);
	s = svc(&f, "onprem", "order-processor");
	assert_int_equal(s.pending_count, 0);
	assert_int_equal(s.running_count, 2);
	s = svc(&f, "cloud", "order-processor-fargate");
	assert_int_equal(s.pending_count, 3);
	assert_int_equal(world_advance(f.w, 39999), 0);
	assert_int_equal(svc(&f, "cloud", "order-processor-fargate").running_count, 0);
	assert_int_equal(world_advance(f.w, 40000), 0);
	s = svc(&f, "cloud", "order-processor-fargate");
	assert_int_equal(s.running_count, 3);
	assert_int_equal(s.pending_count, 0);
	/* Fargate has no capacity limit */
	world_service_set_desired(f.w, "cloud", "order-processor-fargate", 100000, NULL);
	s = svc(&f, "cloud", "order-processor-fargate");
	assert_int_equal(s.unplaced_count, 0);
	assert_int_equal(s.running_count, 3);
	assert_int_equal(s.pending_count, 99997);
	/* a large scale-in stops the pending ones first, then keeps the oldest */
	world_service_set_desired(f.w, "cloud", "order-processor-fargate", 2, NULL);
	s = svc(&f, "cloud", "order-processor-fargate");
	assert_int_equal(s.running_count, 2);
	assert_int_equal(s.pending_count, 0);
	unmake(&f);
}

/* Scale-in stops pending tasks before running ones. */
static void test_scale_in_pending_first(void **state)
{
	struct fixture f;
	struct world_service_info s;

	make(&f, "0s", "0/s", false, 4, "");
	assert_int_equal(svc(&f, "onprem", "order-processor").running_count, 4);
	world_service_set_desired(f.w, "onprem", "order-processor", 7, NULL);
	world_service_set_desired(f.w, "onprem", "order-processor", 5, NULL);
	s = svc(&f, "onprem", "order-processor");
	assert_int_equal(s.running_count, 4);
	assert_int_equal(s.pending_count, 1);
	world_service_set_desired(f.w, "onprem", "order-processor", 3, NULL);
	s = svc(&f, "onprem", "order-processor");
	assert_int_equal(s.running_count, 3);
	assert_int_equal(s.pending_count, 0);
	check_instances(f.w, 1024, 1536, false);
	unmake(&f);
}

/* Events fire at their times: disconnect, drain, reconnect, activate. */
static void test_events_on_time(void **state)
{
	struct fixture f;
	struct world_instance_info in;
	struct world_service_info s;

	make(&f, "0s", "0/s", false, 6,
		"events:\n"
		"  - {at: 10s, kind: disconnect, cluster: onprem, instance: 0}\n"
		"  - {at: 20s, kind: drain, cluster: onprem, instance: 1}\n"
		"  - {at: 30s, kind: reconnect, cluster: onprem, instance: 0}\n"
		"  - {at: 40s, kind: activate, cluster: onprem, instance: 1}\n");
	/* spread: two tasks on each instance */
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(world_instance_at(f.w, 0, i, &in), WORLD_ECS_OK);
		assert_int_equal(in.running_tasks, 2);
	}
	assert_int_equal(world_advance(f.w, 9999), 0);
	world_instance_at(f.w, 0, 0, &in);
	assert_true(in.agent_connected);
	assert_int_equal(world_advance(f.w, 10000), 0);
	world_instance_at(f.w, 0, 0, &in);
	assert_false(in.agent_connected);
	assert_int_equal(in.running_tasks, 2); /* tasks keep running */
	/* nothing new lands on a disconnected instance */
	world_service_set_desired(f.w, "onprem", "order-processor", 12, NULL);
	s = svc(&f, "onprem", "order-processor");
	assert_int_equal(s.unplaced_count, 2);
	world_instance_at(f.w, 0, 0, &in);
	assert_int_equal(in.pending_tasks, 0);
	world_service_set_desired(f.w, "onprem", "order-processor", 6, NULL);
	assert_int_equal(world_advance(f.w, 19999), 0);
	world_instance_at(f.w, 0, 1, &in);
	assert_int_equal(in.status, WORLD_INSTANCE_ACTIVE);
	assert_int_equal(world_advance(f.w, 20000), 0);
	world_instance_at(f.w, 0, 1, &in);
	assert_int_equal(in.status, WORLD_INSTANCE_DRAINING);
	assert_string_equal(world_instance_status_name(in.status), "DRAINING");
	assert_int_equal(in.running_tasks + in.pending_tasks, 0);
	assert_int_equal(in.remaining_cpu_units, in.registered_cpu_units);
	/* its two tasks were replaced on the only instance that can take them */
	s = svc(&f, "onprem", "order-processor");
	assert_int_equal(s.running_count + s.pending_count, 6);
	world_instance_at(f.w, 0, 2, &in);
	assert_int_equal(in.running_tasks + in.pending_tasks, 4);
	assert_int_equal(world_advance(f.w, 30000), 0);
	world_instance_at(f.w, 0, 0, &in);
	assert_true(in.agent_connected);
	assert_int_equal(world_advance(f.w, 40000), 0);
	world_instance_at(f.w, 0, 1, &in);
	assert_int_equal(in.status, WORLD_INSTANCE_ACTIVE);
	check_instances(f.w, 1024, 1536, false);
	unmake(&f);
}

/* GetQueueAttributes reports the counts of reporting_lag ago. */
static void test_reporting_lag(void **state)
{
	struct fixture f;
	uint64_t history[200];
	struct world_queue_info q;

	make(&f, "5s", "10/s", false, 0, "");
	for (int s = 0; s < 200; s++) {
		assert_int_equal(world_advance(f.w, (uint64_t)s * 1000), 0);
		assert_int_equal(world_queue_get(f.w, "orders", &q), 0);
		history[s] = q.actual.visible;
		if (s < 5)
			assert_int_equal(q.reported.visible, 0);
		else
			assert_int_equal(q.reported.visible, history[s - 5]);
	}
	assert_int_equal(q.actual.visible, 1990);
	unmake(&f);
}

/* Arrivals: step rates, a linear ramp and a trace give the exact totals. */
static void test_arrival_totals(void **state)
{
	static const struct {
		const char *arrivals;
		uint64_t at_ms;
		uint64_t arrived;
	} cases[] = {
		{"{segments: [{at: 0s, rate: 10/s}]}", 60000, 600},
		{"{segments: [{at: 10s, rate: 2/s}, {at: 20s, rate: 0/s}]}", 60000, 20},
		{"{shape: linear, segments: [{at: 0s, rate: 0/s}, {at: 10s, rate: 10/s}]}", 10000,
			50},
		{"{shape: linear, segments: [{at: 0s, rate: 0/s}, {at: 10s, rate: 10/s}]}", 20000,
			150},
		{"{segments: [{at: 0s, rate: 600/m}]}", 3600000, 36000},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[512];
		struct scenario *sc;
		struct diag d;
		struct world *w;
		struct world_queue_stats st;

		snprintf(text, sizeof(text), "queues: [{name: q, arrivals: %s}]\n",
			cases[i].arrivals);
		assert_int_equal(scenario_load_text("a.yaml", text, strlen(text), &sc, &d), 0);
		assert_int_equal(world_create(sc, 0, &w), 0);
		assert_int_equal(world_advance(w, cases[i].at_ms), 0);
		assert_int_equal(world_queue_stats(w, 0, &st), 0);
		assert_int_equal(st.arrived, cases[i].arrived);
		check_conservation(w);
		world_destroy(w);
		scenario_destroy(sc);
	}
}

/* A trace's counts all arrive, each within its row's span. */
static void test_trace_arrivals(void **state)
{
	char path[1024];
	const char *dir = getenv("QSCALE_TEST_DATA");
	struct scenario *sc;
	struct diag d;
	struct world *w;
	struct world_queue_stats st;

	snprintf(path, sizeof(path), "%s/scenario/minimal.yaml", dir ? dir : "tests/data");
	assert_int_equal(scenario_load(path, &sc, &d), 0);
	assert_int_equal(world_create(sc, 0, &w), 0);
	world_advance(w, 1000);
	world_queue_stats(w, 0, &st);
	assert_int_equal(st.arrived, 10);
	world_advance(w, 2500);
	world_queue_stats(w, 0, &st);
	assert_int_equal(st.arrived, 30);
	world_advance(w, 10000);
	world_queue_stats(w, 0, &st);
	assert_int_equal(st.arrived, 30);
	world_advance(w, 100000);
	world_queue_stats(w, 0, &st);
	assert_int_equal(st.arrived, 60);
	/* one task at 2/s has eaten it all by then */
	assert_int_equal(st.processed, 60);
	world_destroy(w);
	scenario_destroy(sc);
}

/* Consumption: running tasks take messages at their rate; waits are measured. */
static void test_consumption_and_waits(void **state)
{
	struct fixture f;
	struct world_queue_stats st;
	struct world_service_stats ss;
	struct world_queue_info q;

	/* 20/s in, 2 tasks x 5/s out: the backlog grows by 10/s */
	make(&f, "0s", "20/s", false, 2, "");
	assert_int_equal(world_advance(f.w, 100000), 0);
	world_queue_stats(f.w, 0, &st);
	assert_int_equal(st.arrived, 2000);
	/* 1,000 received; each task holds the one it works on (200 ms at 5/s) */
	world_queue_get(f.w, "orders", &q);
	assert_int_equal(q.actual.in_flight, 2);
	assert_int_equal(st.processed, 998);
	assert_int_equal(q.actual.visible, 1000);
	assert_int_equal(st.waiting, q.actual.visible + q.actual.in_flight);
	assert_true(world_wait_percentile_ms(&st, 0.99) > 30000);
	world_service_stats(f.w, 0, &ss);
	assert_int_equal(ss.processed, 998);
	assert_true(ss.running_task_seconds > 199.9 && ss.running_task_seconds < 200.1);
	/* with 6 tasks (30/s) the backlog drains */
	world_service_set_desired(f.w, "onprem", "order-processor", 6, NULL);
	assert_int_equal(world_advance(f.w, 300000), 0);
	world_queue_get(f.w, "orders", &q);
	assert_true(q.actual.visible + q.actual.in_flight <= 30);
	check_conservation(f.w);
	unmake(&f);
}

/* A delay queue: arrivals are "delayed" for its delay, then visible. */
static void test_delay_queue(void **state)
{
	static const char text[] =
		"queues: [{name: q, delay: 10s, "
		"arrivals: {segments: [{at: 0s, rate: 1/s}, {at: 5s, rate: 0/s}]}}]\n";
	struct scenario *sc;
	struct diag d;
	struct world *w;
	struct world_queue_info q;

	assert_int_equal(scenario_load_text("d.yaml", text, strlen(text), &sc, &d), 0);
	assert_int_equal(world_create(sc, 0, &w), 0);
	world_advance(w, 6000);
	world_queue_get(w, "q", &q);
	assert_int_equal(q.actual.delayed, 5);
	assert_int_equal(q.actual.visible, 0);
	world_advance(w, 20000);
	world_queue_get(w, "q", &q);
	assert_int_equal(q.actual.delayed, 0);
	assert_int_equal(q.actual.visible, 5);
	check_conservation(w);
	world_destroy(w);
	scenario_destroy(sc);
}

/* Lookups by name, URL and ARN; the ECS errors of UpdateService. */
static void test_lookups_and_errors(void **state)
{
	struct fixture f;
	struct world_queue_info q;
	struct world_cluster_info c;
	struct world_service_info s;
	struct world_instance_info in, in2;
	const struct scenario_task_definition *td;
	static const struct {
		const char *cluster, *service;
		int64_t desired;
		enum world_ecs_error want;
	} updates[] = {
		{"onprem", "order-processor", 3, WORLD_ECS_OK},
		{"arn:aws:ecs:us-east-1:123456789012:cluster/onprem",
			"arn:aws:ecs:us-east-1:123456789012:service/onprem/order-processor", 2,
			WORLD_ECS_OK},
		{"nope", "order-processor", 1, WORLD_ECS_CLUSTER_NOT_FOUND},
		{NULL, "order-processor", 1, WORLD_ECS_CLUSTER_NOT_FOUND},
		{"onprem", "nope", 1, WORLD_ECS_SERVICE_NOT_FOUND},
		{"cloud", "order-processor", 1, WORLD_ECS_SERVICE_NOT_FOUND},
		{"onprem", "stopped", 1, WORLD_ECS_SERVICE_NOT_ACTIVE},
		{"onprem", "order-processor", -1, WORLD_ECS_INVALID_PARAMETER},
		{"onprem", "order-processor", 100001, WORLD_ECS_INVALID_PARAMETER},
	};

	make(&f, "0s", "0/s", false, 1, "");
	assert_int_equal(world_queue_get(f.w, "orders", &q), 0);
	assert_string_equal(q.arn, "arn:aws:sqs:us-east-1:123456789012:orders");
	assert_int_equal(
		world_queue_get(f.w, "https://sqs.us-east-1.amazonaws.com/123456789012/orders", &q),
		0);
	assert_int_equal(world_queue_get(f.w, "http://127.0.0.1:4566/123456789012/orders", &q), 0);
	assert_int_equal(
		world_queue_get(f.w, "https://sqs.us-east-1.amazonaws.com/999999999999/orders", &q),
		-ENOENT);
	assert_int_equal(world_queue_get(f.w, "/orders", &q), -ENOENT);
	assert_int_equal(world_queue_get(f.w, "nope", &q), -ENOENT);
	assert_int_equal(
		world_cluster_get(f.w, "arn:aws:ecs:us-east-1:123456789012:cluster/cloud", &c),
		WORLD_ECS_OK);
	assert_string_equal(c.name, "cloud");
	assert_int_equal(world_cluster_get(f.w, "onprem", &c), WORLD_ECS_OK);
	assert_int_equal(c.instance_count, 3);
	assert_int_equal(c.service_count, 2);
	assert_int_equal(c.running_tasks, 1);
	for (size_t i = 0; i < sizeof(updates) / sizeof(updates[0]); i++) {
		enum world_ecs_error e = world_service_set_desired(
			f.w, updates[i].cluster, updates[i].service, updates[i].desired, &s);

		assert_int_equal(e, updates[i].want);
		if (e == WORLD_ECS_OK)
			assert_int_equal(s.desired_count, updates[i].desired);
		else
			assert_true(strlen(world_ecs_error_code(e)) > 0);
	}
	assert_string_equal(
		world_ecs_error_code(WORLD_ECS_SERVICE_NOT_ACTIVE), "ServiceNotActiveException");
	s = svc(&f, "onprem", "order-processor");
	assert_string_equal(s.status, "ACTIVE");
	assert_string_equal(s.launch_type_name, "EXTERNAL");
	assert_string_equal(s.cluster_arn, "arn:aws:ecs:us-east-1:123456789012:cluster/onprem");
	assert_string_equal(
		s.task_definition_arn, "arn:aws:ecs:us-east-1:123456789012:task-definition/op:1");
	assert_string_equal(s.queue_name, "orders");
	assert_int_equal(s.created_at_wall_ms, 1700000000000ull);
	assert_int_equal(world_service_get(f.w, "onprem", NULL, &s), WORLD_ECS_SERVICE_NOT_FOUND);
	assert_int_equal(world_task_definition_get(f.w, "opf", &td), WORLD_ECS_OK);
	assert_string_equal(td->network_mode, "awsvpc");
	assert_int_equal(world_task_definition_get(f.w, "op:2", &td), WORLD_ECS_CLIENT_EXCEPTION);
	assert_int_equal(world_instance_at(f.w, 0, 1, &in), WORLD_ECS_OK);
	assert_int_equal(world_instance_get(f.w, 0, in.arn, &in2), WORLD_ECS_OK);
	assert_int_equal(in2.index, 1);
	assert_int_equal(world_instance_get(f.w, 0, in.container_instance_id, &in2), WORLD_ECS_OK);
	assert_int_equal(world_instance_get(f.w, 0, "x", &in2), WORLD_ECS_INSTANCE_NOT_FOUND);
	assert_int_equal(world_instance_at(f.w, 0, 3, &in2), WORLD_ECS_INSTANCE_NOT_FOUND);
	assert_int_equal(strncmp(in.ec2_instance_id, "mi-", 3), 0);
	assert_int_equal(in.registered_at_wall_ms, 1700000000000ull);
	assert_int_equal(world_advance(f.w, 1000), 0);
	assert_int_equal(world_advance(f.w, 999), -EINVAL);
	assert_int_equal(world_now_ms(f.w), 1000);
	unmake(&f);
}

/* Fault windows: boundaries, every-Nth, operation and target filters. */
static void test_faults(void **state)
{
	struct fixture f;
	struct world_fault_hit hit;
	const struct scenario_fault *active[8];
	int hits = 0;

	make(&f, "0s", "0/s", false, 0,
		"faults:\n"
		"  - {kind: error500, start: 10s, end: 20s, every: 3, service: ecs}\n"
		"  - {kind: throttling, start: 10s, end: 20s, service: sqs, "
		"operation: GetQueueAttributes}\n"
		"  - {kind: latency, start: 15s, end: 20s, latency: 2s}\n"
		"events:\n"
		"  - {at: 30s, kind: partition, duration: 5s}\n");
	assert_false(world_fault_pick(f.w, SCENARIO_TARGET_ECS, "UpdateService", &hit));
	assert_int_equal(world_faults_at(f.w, 9999, active, 8), 0);
	assert_int_equal(world_faults_at(f.w, 10000, active, 8), 2);
	assert_int_equal(world_faults_at(f.w, 15000, active, 8), 3);
	assert_int_equal(world_faults_at(f.w, 20000, active, 8), 0);
	assert_int_equal(world_faults_at(f.w, 34999, active, 8), 1);
	assert_int_equal(active[0]->kind, SCENARIO_FAULT_PARTITION);
	world_advance(f.w, 10000);
	for (int i = 1; i <= 9; i++) {
		bool h = world_fault_pick(f.w, SCENARIO_TARGET_ECS, "DescribeServices", &hit);

		assert_int_equal(h, i % 3 == 0);
		if (h) {
			assert_int_equal(hit.fault->kind, SCENARIO_FAULT_ERROR500);
			hits++;
		}
	}
	assert_int_equal(hits, 3);
	assert_true(world_fault_pick(f.w, SCENARIO_TARGET_SQS, "GetQueueAttributes", &hit));
	assert_int_equal(hit.fault->kind, SCENARIO_FAULT_THROTTLING);
	assert_false(world_fault_pick(f.w, SCENARIO_TARGET_SQS, "ReceiveMessage", &hit));
	world_advance(f.w, 15000);
	assert_true(world_fault_pick(f.w, SCENARIO_TARGET_SQS, "ReceiveMessage", &hit));
	assert_null(hit.fault);
	assert_int_equal(hit.latency_ms, 2000);
	world_advance(f.w, 30000);
	assert_true(world_fault_pick(f.w, SCENARIO_TARGET_SQS, "GetQueueAttributes", &hit));
	assert_int_equal(hit.fault->kind, SCENARIO_FAULT_PARTITION);
	world_advance(f.w, 35000);
	assert_false(world_fault_pick(f.w, SCENARIO_TARGET_SQS, "GetQueueAttributes", &hit));
	unmake(&f);
}

/* Run a probabilistic fault window and the spike: a fingerprint of the outcome. */
static uint64_t fingerprint(int seed)
{
	char extra[512];
	struct fixture f;
	struct world_fault_hit hit;
	struct world_queue_stats st;
	uint64_t fp = 0;

	snprintf(extra, sizeof(extra),
		"faults:\n  - {kind: throttling, start: 0s, end: 1h, probability: 0.5}\n");
	fixture_seed = seed;
	make(&f, "2s", "33/s", false, 3, extra);
	for (uint64_t t = 0; t < 600000; t += 700) {
		world_advance(f.w, t);
		fp = fp * 31 + (world_fault_pick(f.w, SCENARIO_TARGET_SQS, "X", &hit) ? 1 : 0);
		if (t % 70000 == 0)
			world_service_set_desired(
				f.w, "onprem", "order-processor", (int64_t)(t / 70000 % 9), NULL);
	}
	world_queue_stats(f.w, 0, &st);
	fp = fp * 31 + st.processed;
	fp = fp * 31 + world_wait_percentile_ms(&st, 0.9);
	unmake(&f);
	fixture_seed = 7;
	return fp;
}

/* The same scenario and seed give the same run. */
static void test_determinism(void **state)
{
	uint64_t a = fingerprint(7), b = fingerprint(7), c = fingerprint(8);

	assert_int_equal(a, b);
	/* the fault draws follow the seed */
	assert_int_not_equal(a, c);
}

/* spike.yaml under a toy controller: the spike outgrows on-prem, bursts to
 * Fargate, and everything drains and comes back by the end. */
static void test_spike_bursts_and_drains(void **state)
{
	char path[1024];
	const char *dir = getenv("QSCALE_TEST_DATA");
	struct scenario *sc;
	struct diag d;
	struct world *w;
	uint32_t max_burst_running = 0, max_local_unplaced = 0;
	struct world_queue_info q;
	struct world_service_info local, burst;
	struct world_queue_stats st;

	snprintf(path, sizeof(path), "%s/../../config/scenarios/spike.yaml",
		dir ? dir : "tests/data");
	assert_int_equal(scenario_load(path, &sc, &d), 0);
	assert_int_equal(world_create(sc, 0, &w), 0);
	for (uint64_t t = 0; t <= sc->duration_ms; t += 5000) {
		uint64_t wanted;

		assert_int_equal(world_advance(w, t), 0);
		world_queue_get(w, "orders", &q);
		wanted = (q.reported.visible + 49) / 50;
		if (wanted < 4)
			wanted = 4;
		if (wanted > 60)
			wanted = 60;
		world_service_set_desired(w, "onprem", "order-processor",
			(int64_t)(wanted < 12 ? wanted : 12), &local);
		world_service_set_desired(w, "cloud", "order-processor-fargate",
			(int64_t)(wanted > 12 ? wanted - 12 : 0), &burst);
		if (burst.running_count > max_burst_running)
			max_burst_running = burst.running_count;
		if (local.unplaced_count > max_local_unplaced)
			max_local_unplaced = local.unplaced_count;
		check_conservation(w);
		check_instances(w, 1024, 1536, false);
	}
	assert_int_equal(sc->duration_ms, 600000);
	assert_true(max_burst_running >= 10);
	assert_int_equal(max_local_unplaced, 0);
	world_queue_get(w, "orders", &q);
	/* the toy controller settles where 4 tasks face at most 50 messages each */
	assert_true(q.actual.visible <= 200);
	world_service_get(w, "cloud", "order-processor-fargate", &burst);
	assert_int_equal(burst.desired_count, 0);
	world_queue_stats(w, 0, &st);
	assert_true(st.processed > 40000);
	world_destroy(w);
	scenario_destroy(sc);
}

/* A backlog older than the cohort ring holds: cohorts merge, nothing is lost,
 * and the oldest messages still report about their true wait. */
static void test_long_backlog_merges_cohorts(void **state)
{
	struct fixture f;
	struct world_queue_stats st;
	struct world_queue_info q;

	make(&f, "0s", "1/s", false, 0, "");
	for (uint64_t t = 1; t <= 10000; t++) {
		assert_int_equal(world_advance(f.w, t * 1000), 0);
		if (t % 1000 == 0)
			check_conservation(f.w);
	}
	world_queue_get(f.w, "orders", &q);
	assert_int_equal(q.actual.visible, 10000);
	/* 12 tasks at 5/s drain it in under 3 minutes */
	world_service_set_desired(f.w, "onprem", "order-processor", 12, NULL);
	assert_int_equal(world_advance(f.w, 10300000), 0);
	world_queue_get(f.w, "orders", &q);
	assert_true(q.actual.visible + q.actual.in_flight <= 60);
	world_queue_stats(f.w, 0, &st);
	check_conservation(f.w);
	/* the first messages waited about 10000 s (merging keeps the mean) */
	assert_true(st.wait_max_ms > 9000000 && st.wait_max_ms < 10400000);
	assert_true(world_wait_percentile_ms(&st, 0.5) > 4000000);
	unmake(&f);
}

/* The wait histogram's buckets and percentiles. */
static void test_wait_percentiles(void **state)
{
	struct world_queue_stats st = {0};

	assert_int_equal(world_wait_percentile_ms(&st, 0.5), 0);
	/* one millisecond wide to 128 ms, then about 1.1 % wide */
	assert_int_equal(world_wait_bucket_upper_ms(0), 1);
	assert_int_equal(world_wait_bucket_upper_ms(127), 128);
	assert_int_equal(world_wait_bucket_upper_ms(WORLD_WAIT_BUCKETS - 1), UINT64_MAX);
	assert_true(world_wait_bucket_upper_ms(WORLD_WAIT_BUCKETS - 2) > 10ull * 86400 * 1000);
	for (size_t i = 1; i + 1 < WORLD_WAIT_BUCKETS; i++) {
		uint64_t a = world_wait_bucket_upper_ms(i - 1), b = world_wait_bucket_upper_ms(i);

		assert_true(b > a);
		assert_true(i < 128 || (double)(b - a) <= 0.011 * (double)a + 1);
	}
	st.wait_hist[3] = 90; /* waits of 3 ms */
	st.wait_hist[1000] = 10;
	st.wait_max_ms = 20000000;
	assert_int_equal(world_wait_percentile_ms(&st, 0.5), 3);
	assert_int_equal(world_wait_percentile_ms(&st, 0.9), 3);
	assert_true(world_wait_percentile_ms(&st, 0.95) >= world_wait_bucket_upper_ms(999));
	assert_true(world_wait_percentile_ms(&st, 0.95) < world_wait_bucket_upper_ms(1000));
	st.wait_hist[WORLD_WAIT_BUCKETS - 1] = 100;
	assert_int_equal(world_wait_percentile_ms(&st, 1.0), 20000000);
}

/*
 * Two services polling one queue receive the same stretch of it side by
 * side: what is in flight is the arrival rate times the processing time
 * (Little's law), whichever service holds it, and nobody waits while they
 * have room.
 */
static void test_consumers_share_the_queue(void **state)
{
	struct fixture f;
	struct world_queue_stats st;
	struct world_queue_info q;

	(void)state;
	/* 100/s in; 12 local tasks (60/s) and 20 Fargate ones (100/s), 200 ms a message */
	make(&f, "0s", "100/s", false, 12, "");
	assert_int_equal(
		world_service_set_desired(f.w, "cloud", "order-processor-fargate", 20, NULL),
		WORLD_ECS_OK);
	assert_int_equal(world_advance(f.w, 300000), 0);
	world_queue_get(f.w, "orders", &q);
	world_queue_stats(f.w, 0, &st);
	assert_int_equal(q.actual.visible, 0);
	assert_true(q.actual.in_flight >= 18 && q.actual.in_flight <= 22);
	check_conservation(f.w);
	unmake(&f);
}

/* Waits measured exactly: one percentile per known wait, within the stated 1.1 %. */
static void test_wait_percentiles_exact(void **state)
{
	struct world_queue_stats st = {0};
	uint64_t bounds[WORLD_WAIT_BUCKETS];

	/* a histogram of 1..20,000 ms, one message each: p is 20,000 x p */
	for (size_t i = 0; i < WORLD_WAIT_BUCKETS; i++)
		bounds[i] = world_wait_bucket_upper_ms(i);
	for (uint64_t ms = 1; ms <= 20000; ms++) {
		size_t b = 0;

		while (bounds[b] <= ms)
			b++;
		st.wait_hist[b]++;
	}
	st.wait_max_ms = 20000;
	for (double p = 0.05; p < 1.0; p += 0.05) {
		double exact = 20000.0 * p;
		double got = (double)world_wait_percentile_ms(&st, p);

		assert_true(got >= exact * 0.989 - 1 && got <= exact * 1.011 + 1);
	}
}

/* A message held for processing_time is in flight, not waiting, and not yet processed. */
static void test_processing_time(void **state)
{
	static const char text[] =
		"queues: [{name: q, arrivals: {segments: [{at: 0s, rate: 4/s}]}}]\n"
		"clusters: [{name: c, instances: [{count: 1, cpu: 4096, memory: 8192}]}]\n"
		"task_definitions: [{family: t, cpu: \"256\", memory: \"512\", "
		"containers: [{name: a, memory: 512}]}]\n"
		"services: [{name: s, cluster: c, task_definition: t, desired: 1, queue: q, "
		"messages_per_task: 5/s, processing_time: 2s}]\n";
	struct world_queue_stats st;
	struct world_queue_info q;
	struct scenario *sc;
	struct diag d;
	struct world *w;

	/* one task at 5/s holding each message 2 s: up to ten at once */
	assert_int_equal(scenario_load_text("p.yaml", text, strlen(text), &sc, &d), 0);
	assert_int_equal(world_create(sc, 0, &w), 0);
	assert_int_equal(world_advance(w, 60000), 0);
	world_queue_get(w, "q", &q);
	world_queue_stats(w, 0, &st);
	/* arrivals (4/s) below capacity: none waits, eight are being processed */
	assert_int_equal(q.actual.visible, 0);
	assert_int_equal(q.actual.in_flight, 8);
	assert_int_equal(st.processed, 240 - 8);
	assert_true(world_wait_percentile_ms(&st, 0.99) <= 100);
	world_destroy(w);
	scenario_destroy(sc);
}

/*
 * Tasks that outpace arrivals receive each message as it arrives, step by
 * step: 10/s over ten slices of a second, held 200 ms each, leaves the last
 * two slices of every second in flight; 5/s on one task at 5/s (no room to
 * spare) leaves one. Nobody waits, and the counts hold after every step.
 */
static void test_outpacing_tasks_each_step(void **state)
{
	static const char text[] =
		"queues: [{name: q, arrivals: {segments: [{at: 0s, rate: %s}]}}]\n"
		"clusters: [{name: c, instances: [{count: 2, cpu: 4096, memory: 8192}]}]\n"
		"task_definitions: [{family: t, cpu: \"256\", memory: \"512\", "
		"containers: [{name: a, memory: 512}]}]\n"
		"services: [{name: s, cluster: c, task_definition: t, desired: %d, queue: q, "
		"messages_per_task: 5/s}]\n";
	static const struct {
		const char *rate;
		int tasks;
		uint64_t in_flight;
	} cases[] = {{"10/s", 5, 2}, {"5/s", 1, 1}, {"7/s", 3, 2}};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct world_queue_stats st;
		struct world_queue_info q;
		struct scenario *sc;
		struct diag d;
		struct world *w;
		char yaml[1024];

		snprintf(yaml, sizeof(yaml), text, cases[c].rate, cases[c].tasks);
		assert_int_equal(scenario_load_text("o.yaml", yaml, strlen(yaml), &sc, &d), 0);
		assert_int_equal(world_create(sc, 0, &w), 0);
		for (uint64_t t = 1000; t <= 120000; t += 1000) {
			assert_int_equal(world_advance(w, t), 0);
			world_queue_get(w, "q", &q);
			world_queue_stats(w, 0, &st);
			assert_int_equal(q.actual.visible, 0);
			assert_int_equal(q.actual.in_flight, cases[c].in_flight);
			assert_int_equal(st.arrived, st.processed + st.waiting);
			/* a wait is counted when the message is received */
			assert_int_equal(st.wait_hist[0], st.processed + q.actual.in_flight);
			assert_int_equal(st.wait_max_ms, 0);
		}
		world_destroy(w);
		scenario_destroy(sc);
	}
}

/*
 * Held for longer than what is left of their step, a second's last slices
 * stay in flight into the next ones and are deleted slice by slice as
 * their time comes: at 10/s (one message a slice, 5 tasks at 5/s) what is
 * in flight at a whole second is what arrived within the processing time
 * before it, whether the world advances a second or five at a time.
 */
static void test_held_across_steps(void **state)
{
	static const char text[] =
		"queues: [{name: q, arrivals: {segments: [{at: 0s, rate: 10/s}]}}]\n"
		"clusters: [{name: c, instances: [{count: 2, cpu: 4096, memory: 8192}]}]\n"
		"task_definitions: [{family: t, cpu: \"256\", memory: \"512\", "
		"containers: [{name: a, memory: 512}]}]\n"
		"services: [{name: s, cluster: c, task_definition: t, desired: 5, queue: q, "
		"messages_per_task: 5/s, processing_time: %s}]\n";
	static const struct {
		const char *processing_time;
		uint64_t in_flight;
	} cases[] = {{"250ms", 2}, {"300ms", 3}, {"1s", 10}, {"1500ms", 15}, {"2s", 20}};

	(void)state;
	for (size_t c = 0; c < sizeof(cases) / sizeof(cases[0]); c++) {
		struct world_queue_stats st;
		struct world_queue_info q;
		struct scenario *sc;
		struct diag d;
		struct world *w;
		char yaml[1024];

		snprintf(yaml, sizeof(yaml), text, cases[c].processing_time);
		assert_int_equal(scenario_load_text("h.yaml", yaml, strlen(yaml), &sc, &d), 0);
		assert_int_equal(world_create(sc, 0, &w), 0);
		for (uint64_t t = 1000; t <= 120000; t += t < 30000 ? 1000 : 5000) {
			assert_int_equal(world_advance(w, t), 0);
			world_queue_get(w, "q", &q);
			world_queue_stats(w, 0, &st);
			assert_int_equal(q.actual.visible, 0);
			if (t >= 3000)
				assert_int_equal(q.actual.in_flight, cases[c].in_flight);
			assert_int_equal(st.arrived, t / 100);
			assert_int_equal(st.arrived, st.processed + st.waiting);
			assert_int_equal(st.wait_hist[0], st.processed + q.actual.in_flight);
		}
		world_destroy(w);
		scenario_destroy(sc);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conservation_many_steps),
		cmocka_unit_test(test_unplaced_then_placed),
		cmocka_unit_test(test_ports_limit_placement),
		cmocka_unit_test(test_startup_delays),
		cmocka_unit_test(test_scale_in_pending_first),
		cmocka_unit_test(test_events_on_time),
		cmocka_unit_test(test_reporting_lag),
		cmocka_unit_test(test_arrival_totals),
		cmocka_unit_test(test_trace_arrivals),
		cmocka_unit_test(test_consumption_and_waits),
		cmocka_unit_test(test_delay_queue),
		cmocka_unit_test(test_lookups_and_errors),
		cmocka_unit_test(test_faults),
		cmocka_unit_test(test_determinism),
		cmocka_unit_test(test_wait_percentiles),
		cmocka_unit_test(test_wait_percentiles_exact),
		cmocka_unit_test(test_processing_time),
		cmocka_unit_test(test_outpacing_tasks_each_step),
		cmocka_unit_test(test_held_across_steps),
		cmocka_unit_test(test_consumers_share_the_queue),
		cmocka_unit_test(test_long_backlog_merges_cohorts),
		cmocka_unit_test(test_spike_bursts_and_drains),
	};

	return cmocka_run_group_tests_name("world", tests, NULL, NULL);
}
