/*
 * Capacity tests: how many copies of a task fit on one instance (a table,
 * one TAP line per situation), and how policies sharing a cluster are sized
 * in priority order with each one's claim deducted per instance.
 */
#include "engine_fixture.h"

#define TCP ENGINE_PROTO_TCP
#define UDP ENGINE_PROTO_UDP

struct fit_row {
	const char *name;
	bool inactive, disconnected, unmatched;
	int32_t cpu, mib; /* remaining */
	int32_t reserve_cpu, reserve_mib;
	int32_t claimed_cpu, claimed_mib;
	int32_t task_cpu, task_mib;
	struct engine_port task_port; /* port 0: none */
	struct engine_port used_port; /* port 0: none */
	struct engine_port claimed_port; /* port 0: none */
	bool claimed_full;
	int32_t want;
};

static const struct fit_row fit_rows[] = {
	{"cpu limits", .cpu = 1024, .mib = 4096, .task_cpu = 256, .task_mib = 512, .want = 4},
	{"memory limits", .cpu = 4096, .mib = 1024, .task_cpu = 256, .task_mib = 512, .want = 2},
	{"a partial copy does not fit", .cpu = 1023, .mib = 4096, .task_cpu = 256, .task_mib = 512,
		.want = 3},
	{"cpu reserve kept free", .cpu = 1024, .mib = 4096, .reserve_cpu = 256, .task_cpu = 256,
		.task_mib = 512, .want = 3},
	{"memory reserve kept free", .cpu = 4096, .mib = 2048, .reserve_mib = 1024, .task_cpu = 256,
		.task_mib = 512, .want = 2},
	{"reserve above free fits none", .cpu = 4096, .mib = 2048, .reserve_mib = 4096,
		.task_cpu = 256, .task_mib = 512, .want = 0},
	{"draining instance fits none", .inactive = true, .cpu = 4096, .mib = 4096, .task_cpu = 256,
		.task_mib = 512, .want = 0},
	{"disconnected agent fits none", .disconnected = true, .cpu = 4096, .mib = 4096,
		.task_cpu = 256, .task_mib = 512, .want = 0},
	{"instance outside the filter fits none", .unmatched = true, .cpu = 4096, .mib = 4096,
		.task_cpu = 256, .task_mib = 512, .want = 0},
	{"task cpu zero: memory alone limits", .cpu = 0, .mib = 4096, .task_cpu = 0,
		.task_mib = 512, .want = 8},
	{"task memory zero: cpu alone limits", .cpu = 1024, .mib = 0, .task_cpu = 256,
		.task_mib = 0, .want = 4},
	{"no reservation at all is capped", .cpu = 1, .mib = 1, .want = ENGINE_TASKS_MAX},
	{"negative remaining fits none", .cpu = -100, .mib = 4096, .task_cpu = 256, .task_mib = 512,
		.want = 0},
	{"claims earlier this cycle reduce the fit", .cpu = 1024, .mib = 4096, .claimed_cpu = 512,
		.task_cpu = 256, .task_mib = 512, .want = 2},
	{"claimed memory reduces the fit", .cpu = 4096, .mib = 2048, .claimed_mib = 1536,
		.task_cpu = 256, .task_mib = 512, .want = 1},
	{"a static port fits once", .cpu = 4096, .mib = 4096, .task_cpu = 256, .task_mib = 512,
		.task_port = {8080, TCP}, .want = 1},
	{"a taken static port fits none", .cpu = 4096, .mib = 4096, .task_cpu = 256,
		.task_mib = 512, .task_port = {8080, TCP}, .used_port = {8080, TCP}, .want = 0},
	{"the same port of the other protocol fits", .cpu = 4096, .mib = 4096, .task_cpu = 256,
		.task_mib = 512, .task_port = {8080, TCP}, .used_port = {8080, UDP}, .want = 1},
	{"a port claimed earlier fits none", .cpu = 4096, .mib = 4096, .task_cpu = 256,
		.task_mib = 512, .task_port = {53, UDP}, .claimed_port = {53, UDP}, .want = 0},
	{"full port claims refuse port tasks", .cpu = 4096, .mib = 4096, .task_cpu = 256,
		.task_mib = 512, .task_port = {8080, TCP}, .claimed_full = true, .want = 0},
	{"full port claims still fit portless tasks", .cpu = 1024, .mib = 4096, .task_cpu = 256,
		.task_mib = 512, .claimed_full = true, .want = 4},
	{"a port task without room fits none", .cpu = 100, .mib = 4096, .task_cpu = 256,
		.task_mib = 512, .task_port = {8080, TCP}, .want = 0},
};

/* One fit row. */
static void run_fit(void **state)
{
	const struct fit_row *r = *state;
	struct engine_policy p = fixture_policy();
	struct engine_instance in;
	struct engine_task_obs task;

	fixture_instances(&in, 1, r->cpu, r->mib);
	in.active = !r->inactive;
	in.agent_connected = !r->disconnected;
	in.matches_filter = !r->unmatched;
	in.claimed_cpu_units = r->claimed_cpu;
	in.claimed_memory_mib = r->claimed_mib;
	if (r->used_port.port != 0) {
		in.used_ports = &r->used_port;
		in.n_used_ports = 1;
	}
	if (r->claimed_port.port != 0)
		in.claimed_ports[in.n_claimed_ports++] = r->claimed_port;
	in.claimed_ports_full = r->claimed_full;
	p.reserve_cpu_units = r->reserve_cpu;
	p.reserve_memory_mib = r->reserve_mib;
	memset(&task, 0, sizeof(task));
	task.ok = true;
	task.cpu_units = r->task_cpu;
	task.memory_mib = r->task_mib;
	if (r->task_port.port != 0)
		task.ports[task.n_ports++] = r->task_port;
	assert_int_equal(engine_instance_fit(&in, &task, &p), r->want);
}

/* Two policies and a cluster of n instances of 1024 cpu / 4096 MiB (4 tasks of 256 each). */
struct shared {
	struct engine_policy policy[3];
	struct engine_history history[3];
	struct engine_instance instances[4];
	struct engine_cluster cluster;
	struct engine_member members[3];
};

/* Member i: name, priority, backlog (50 per task), nothing running yet. */
static void shared_member(
	struct shared *s, size_t i, const char *name, int32_t priority, int64_t visible)
{
	s->policy[i] = fixture_policy();
	s->policy[i].local_min_tasks = 0;
	s->policy[i].priority = priority;
	engine_history_init(&s->history[i]);
	memset(&s->members[i], 0, sizeof(s->members[i]));
	s->members[i].name = name;
	s->members[i].policy = &s->policy[i];
	s->members[i].history = &s->history[i];
	s->members[i].observation = fixture_observation(NULL);
	s->members[i].observation.queue.visible = visible;
}

/* A cluster of n instances. */
static void shared_cluster(struct shared *s, size_t n)
{
	fixture_instances(s->instances, n, 1024, 4096);
	s->cluster.ok = true;
	s->cluster.observed_ms = FRESH_MS;
	s->cluster.instances = s->instances;
	s->cluster.n_instances = n;
}

/* The higher priority is sized first even when listed last. */
static void test_priority_first(void **state)
{
	struct shared s;
	const struct engine_member *low, *high;

	(void)state;
	shared_cluster(&s, 2); /* 8 tasks fit */
	shared_member(&s, 0, "low", 10, 300); /* wants 6 */
	shared_member(&s, 1, "high", 100, 300); /* wants 6 */
	engine_decide_cluster(s.members, 2, &s.cluster, NOW_MS);
	assert_string_equal(s.members[0].name, "high");
	assert_string_equal(s.members[1].name, "low");
	high = &s.members[0];
	low = &s.members[1];
	assert_int_equal(high->result, 0);
	assert_int_equal(low->result, 0);
	assert_int_equal(high->decision.local_desired, 6);
	assert_int_equal(high->decision.burst_desired, 0);
	assert_int_equal(low->decision.local_desired, 2);
	assert_int_equal(low->decision.burst_desired, 4);
	assert_non_null(
		strstr(fixture_reason(&low->decision), "local capacity 2 (2 on 1 instances"));
}

/* Equal priorities go by name. */
static void test_ties_by_name(void **state)
{
	struct shared s;

	(void)state;
	shared_cluster(&s, 1); /* 4 tasks fit */
	shared_member(&s, 0, "beta", 50, 150);
	shared_member(&s, 1, "alpha", 50, 150);
	shared_member(&s, 2, "gamma", 50, 150);
	engine_decide_cluster(s.members, 3, &s.cluster, NOW_MS);
	assert_string_equal(s.members[0].name, "alpha");
	assert_string_equal(s.members[1].name, "beta");
	assert_string_equal(s.members[2].name, "gamma");
	assert_int_equal(s.members[0].decision.local_desired, 3);
	assert_int_equal(s.members[1].decision.local_desired, 1);
	assert_int_equal(s.members[1].decision.burst_desired, 2);
	assert_int_equal(s.members[2].decision.local_desired, 0);
	assert_int_equal(s.members[2].decision.burst_desired, 3);
}

/* Claims fill the instances in order, each up to what fits. */
static void test_claims_fill_in_order(void **state)
{
	struct shared s;

	(void)state;
	shared_cluster(&s, 3);
	shared_member(&s, 0, "only", 1, 300); /* wants 6 */
	engine_decide_cluster(s.members, 1, &s.cluster, NOW_MS);
	assert_int_equal(s.members[0].decision.local_desired, 6);
	assert_int_equal(s.instances[0].claimed_cpu_units, 1024);
	assert_int_equal(s.instances[0].claimed_memory_mib, 2048);
	assert_int_equal(s.instances[1].claimed_cpu_units, 512);
	assert_int_equal(s.instances[2].claimed_cpu_units, 0);
}

/* A static port taken by the first policy is not offered to the second. */
static void test_ports_shared(void **state)
{
	struct shared s;
	const struct engine_port port = {8080, TCP};

	(void)state;
	shared_cluster(&s, 3);
	shared_member(&s, 0, "first", 20, 1000);
	shared_member(&s, 1, "second", 10, 1000);
	for (size_t i = 0; i < 2; i++) {
		s.members[i].observation.task.ports[0] = port;
		s.members[i].observation.task.n_ports = 1;
	}
	engine_decide_cluster(s.members, 2, &s.cluster, NOW_MS);
	assert_int_equal(s.members[0].decision.local_desired, 3); /* one per instance */
	assert_int_equal(s.members[0].decision.burst_desired, 17);
	assert_int_equal(s.members[1].decision.local_desired, 0);
	assert_int_equal(s.members[1].decision.burst_desired, 20);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(s.instances[i].n_claimed_ports, 1);
}

/* Each cycle starts from the instances as described: claims are reset. */
static void test_cycles_reset_claims(void **state)
{
	struct shared s;
	int32_t first;

	(void)state;
	shared_cluster(&s, 1);
	shared_member(&s, 0, "only", 1, 150);
	engine_decide_cluster(s.members, 1, &s.cluster, NOW_MS);
	first = s.members[0].decision.local_desired;
	engine_decide_cluster(s.members, 1, &s.cluster, NOW_MS);
	assert_int_equal(s.members[0].decision.local_desired, first);
	assert_int_equal(first, 3);
}

/* Policies with different instance filters each see their own instances. */
static void test_filters_per_policy(void **state)
{
	struct shared s;
	static const bool only_first[2] = {true, false};
	static const bool only_second[2] = {false, true};

	(void)state;
	shared_cluster(&s, 2);
	shared_member(&s, 0, "a", 20, 1000);
	shared_member(&s, 1, "b", 10, 1000);
	s.members[0].observation.matches_filter = only_first;
	s.members[1].observation.matches_filter = only_second;
	engine_decide_cluster(s.members, 2, &s.cluster, NOW_MS);
	assert_int_equal(s.members[0].decision.local_desired, 4);
	assert_int_equal(s.members[1].decision.local_desired, 4);
	assert_int_equal(s.instances[0].claimed_cpu_units, 1024);
	assert_int_equal(s.instances[1].claimed_cpu_units, 1024);
}

/* A policy holding on missing data claims nothing beyond what it has placed. */
static void test_holding_claims_nothing(void **state)
{
	struct shared s;

	(void)state;
	shared_cluster(&s, 1);
	shared_member(&s, 0, "holding", 20, 1000);
	shared_member(&s, 1, "next", 10, 200);
	s.members[0].observation.queue.ok = false;
	s.members[0].observation.local.desired = 2;
	s.members[0].observation.local.running = 2;
	engine_decide_cluster(s.members, 2, &s.cluster, NOW_MS);
	assert_true(s.members[0].decision.flags & ENGINE_MISSING_DATA);
	assert_int_equal(s.members[0].decision.local_desired, 2);
	assert_int_equal(s.members[1].decision.local_desired, 4);
}

/* Claims never exceed what fits, even when the local min asks for more. */
static void test_claim_bounded_by_fit(void **state)
{
	struct shared s;
	struct engine_decision d;

	(void)state;
	shared_cluster(&s, 1);
	shared_member(&s, 0, "big", 1, 0);
	s.policy[0].local_min_tasks = 10;
	s.members[0].observation.cluster = &s.cluster;
	assert_int_equal(
		engine_decide(&s.policy[0], &s.members[0].observation, &s.history[0], NOW_MS, &d),
		0);
	assert_int_equal(d.local_desired, 10);
	assert_int_equal(
		engine_cluster_claim(&s.cluster, &s.policy[0], &s.members[0].observation, &d), 4);
	assert_int_equal(
		engine_instance_fit(&s.instances[0], &s.members[0].observation.task, &s.policy[0]),
		0);
	assert_int_equal(
		engine_cluster_claim(NULL, &s.policy[0], &s.members[0].observation, &d), 0);
}

/* A policy not due claims its last decision in its priority's turn, not before. */
static void test_priority_over_schedule(void **state)
{
	struct shared s;

	(void)state;
	shared_cluster(&s, 2); /* 8 tasks fit */
	/* low is not due; its last decision set 6 tasks, none placed yet. */
	shared_member(&s, 0, "low", 10, 0);
	s.members[0].claim_only = true;
	s.members[0].decision.local_desired = 6;
	s.members[0].decision.placed = 0;
	shared_member(&s, 1, "high", 100, 400); /* due, wants 8 */
	engine_decide_cluster(s.members, 2, &s.cluster, NOW_MS);
	assert_string_equal(s.members[0].name, "high");
	assert_int_equal(s.members[0].decision.local_desired, 8);
	assert_int_equal(s.members[0].decision.burst_desired, 0);
	/* low's claim is left as it was: not decided, nothing more fits. */
	assert_int_equal(s.members[1].decision.local_desired, 6);

	/* A not-due policy of higher priority still keeps its room against lower ones. */
	shared_cluster(&s, 2);
	shared_member(&s, 0, "high", 100, 0);
	s.members[0].claim_only = true;
	s.members[0].decision.local_desired = 6;
	shared_member(&s, 1, "low", 10, 400); /* due, wants 8 */
	engine_decide_cluster(s.members, 2, &s.cluster, NOW_MS);
	assert_string_equal(s.members[1].name, "low");
	assert_int_equal(s.members[1].decision.local_desired, 2);
	assert_int_equal(s.members[1].decision.burst_desired, 6);
}

int main(void)
{
	struct fixture_suite s = {0};

	for (size_t i = 0; i < sizeof(fit_rows) / sizeof(fit_rows[0]); i++)
		fixture_add(&s, "fit", fit_rows[i].name, run_fit, &fit_rows[i]);
	fixture_add(&s, "shared", "higher priority is sized first", test_priority_first, NULL);
	fixture_add(&s, "shared", "equal priorities go by name", test_ties_by_name, NULL);
	fixture_add(
		&s, "shared", "priority wins over the schedule", test_priority_over_schedule, NULL);
	fixture_add(
		&s, "shared", "claims fill instances in order", test_claims_fill_in_order, NULL);
	fixture_add(&s, "shared", "a claimed static port is not offered again", test_ports_shared,
		NULL);
	fixture_add(&s, "shared", "each cycle resets the claims", test_cycles_reset_claims, NULL);
	fixture_add(&s, "shared", "instance filters per policy", test_filters_per_policy, NULL);
	fixture_add(&s, "shared", "a holding policy claims nothing new",
		test_holding_claims_nothing, NULL);
	fixture_add(&s, "shared", "claims never exceed the fit", test_claim_bounded_by_fit, NULL);
	return fixture_run(&s, "engine_capacity");
}
