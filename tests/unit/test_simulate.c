/*
 * The simulator: its loop over the world model keeps every message accounted
 * for at every step, never over-commits an instance, gives the same results
 * for the same seed, and its baselines behave as docs/simulate.md defines
 * them on small cases computed by hand. Also the simulated cloud's contract
 * (callbacks once, never inside the call; AWS calls counted per batch), the
 * sweep keys, the reports and the chart, and the trace generator.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "qscale/cloud_sim.h"
#include "qscale/policy.h"
#include "qscale/sim_baseline.h"
#include "qscale/sim_chart.h"
#include "qscale/sim_report.h"
#include "qscale/sim_sweep.h"
#include "qscale/simulate.h"
#include "qscale/trace_gen.h"
#include "qscale/xalloc.h"

/* Two on-prem instances holding four tasks each, a spike that needs Fargate, ECS throttling. */
static const char scenario_text[] =
	"seed: 7\n"
	"duration: 10m\n"
	"startup: {onprem: 5s, fargate: 20s}\n"
	"queues:\n"
	"  - name: orders\n"
	"    reporting_lag: 2s\n"
	"    arrivals:\n"
	"      segments:\n"
	"        - {at: 0s, rate: 10/s}\n"
	"        - {at: 2m, rate: 80/s}\n"
	"        - {at: 5m, rate: 10/s}\n"
	"clusters:\n"
	"  - name: onprem\n"
	"    instances:\n"
	"      - {count: 2, cpu: 2048, memory: 4096, attributes: {site: dc1}}\n"
	"  - name: cloud\n"
	"task_definitions:\n"
	"  - family: worker\n"
	"    cpu: \"512\"\n"
	"    memory: \"1024\"\n"
	"    containers:\n"
	"      - name: app\n"
	"        memory: 1024\n"
	"        port_mappings: [{container_port: 8080, host_port: 0}]\n"
	"  - family: worker-fargate\n"
	"    cpu: \"1024\"\n"
	"    memory: \"2048\"\n"
	"    network_mode: awsvpc\n"
	"    requires_compatibilities: [FARGATE]\n"
	"    containers:\n"
	"      - {name: app, memory: 2048}\n"
	"services:\n"
	"  - {name: worker, cluster: onprem, task_definition: 'worker:1', desired: 1,"
	" queue: orders, messages_per_task: 5/s}\n"
	"  - {name: worker-fargate, cluster: cloud, launch_type: FARGATE,"
	" task_definition: 'worker-fargate:1', desired: 0, queue: orders,"
	" messages_per_task: 5/s}\n"
	"faults:\n"
	"  - {kind: throttling, start: 3m, end: 4m, probability: 0.3, service: ecs}\n";

static const char config_text[] =
	"region: us-east-1\n"
	"interval: 5s\n"
	"metrics: {listen: ''}\n"
	"policies:\n"
	"  - name: orders\n"
	"    interval: 5s\n"
	"    queue: {url: 'https://sqs.us-east-1.amazonaws.com/123456789012/orders'}\n"
	"    target: {backlog_per_task: 20}\n"
	"    local: {cluster: onprem, service: worker, min_tasks: 1, max_tasks: 10,"
	" instance_filter: 'attribute:site == dc1', reserve: {cpu: 0, memory: 0}}\n"
	"    burst: {cluster: cloud, service: worker-fargate, max_tasks: 12}\n";

static struct scenario *load_scenario(const char *text)
{
	struct scenario *sc = NULL;
	struct diag diag;
	char msg[512];

	if (scenario_load_text("test.yaml", text, strlen(text), &sc, &diag) != 0) {
		fprintf(stderr, "%s\n", diag_format(&diag, msg, sizeof(msg)));
		fail();
	}
	return sc;
}

static struct qscale_config *load_config(void)
{
	struct qscale_config *cfg = NULL;
	struct diag diag;

	if (qscale_config_parse("test.yaml", config_text, strlen(config_text),
		    QSCALE_CONFIG_NO_POLICIES_DIR, &cfg, &diag) != 0) {
		diag_print(&diag, stderr);
		fail();
	}
	return cfg;
}

/* What the step hook checked. */
struct checks {
	uint64_t steps;
	uint64_t conservation_failures;
	uint64_t overcommits;
	uint64_t max_tasks_seen;
};

/* After every step: arrived = processed + waiting; no instance holds more than it has. */
static void check_step(const struct world *w, void *arg)
{
	struct checks *c = arg;

	c->steps++;
	for (size_t q = 0; q < world_queue_count(w); q++) {
		struct world_queue_stats st;
		struct world_queue_info info;

		assert_int_equal(world_queue_stats(w, q, &st), 0);
		assert_int_equal(world_queue_at(w, q, &info), 0);
		if (st.arrived != st.processed + st.waiting ||
			st.waiting !=
				info.actual.visible + info.actual.in_flight + info.actual.delayed)
			c->conservation_failures++;
	}
	for (size_t cl = 0; cl < world_cluster_count(w); cl++) {
		struct world_cluster_info ci;

		assert_int_equal(world_cluster_at(w, cl, &ci), WORLD_ECS_OK);
		for (size_t i = 0; i < ci.instance_count; i++) {
			struct world_instance_info in;
			uint64_t tasks;

			assert_int_equal(world_instance_at(w, cl, i, &in), WORLD_ECS_OK);
			tasks = in.running_tasks + in.pending_tasks;
			/* One task definition on the cluster: 512 CPU units, 1024 MiB each. */
			if (in.remaining_cpu_units > in.registered_cpu_units ||
				in.remaining_memory_mib > in.registered_memory_mib ||
				tasks * 512 != in.registered_cpu_units - in.remaining_cpu_units ||
				tasks * 1024 != in.registered_memory_mib - in.remaining_memory_mib)
				c->overcommits++;
			if (tasks > c->max_tasks_seen)
				c->max_tasks_seen = tasks;
		}
	}
}

static void params_init(struct sim_params *p, const struct scenario *sc, enum sim_mode mode)
{
	memset(p, 0, sizeof(*p));
	p->scenario = sc;
	p->mode = mode;
	p->duration_ms = 600000;
	p->start_wall_ms = 1767225600000ULL;
	p->prices.vcpu_hour = SIM_PRICE_VCPU_HOUR;
	p->prices.gb_hour = SIM_PRICE_GB_HOUR;
}

/* Run one simulation of the test scenario, with the step checks. */
static void run(
	const struct scenario *sc, enum sim_mode mode, struct checks *c, struct sim_result *out)
{
	struct sim_params p;
	char error[SIM_ERROR_MAX];

	params_init(&p, sc, mode);
	p.step = check_step;
	p.arg = c;
	assert_int_equal(sim_run(&p, load_config(), out, error), 0);
}

static void test_conservation_every_step(void **state)
{
	static const enum sim_mode modes[] = {SIM_QSCALE, SIM_TARGET_TRACKING, SIM_STATIC_MAX};
	struct scenario *sc = load_scenario(scenario_text);

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct checks c = {0};
		struct sim_result r;

		run(sc, modes[i], &c, &r);
		assert_int_equal(c.steps, 600);
		assert_int_equal(r.steps, 600);
		assert_int_equal(c.conservation_failures, 0);
		/* 10/s for 2m, 80/s for 3m, 10/s for 5m. */
		assert_int_equal(r.total.arrived, 1200 + 14400 + 3000);
		assert_int_equal(r.total.arrived, r.total.processed + r.total.waiting);
		sim_result_finish(&r);
	}
	scenario_destroy(sc);
}

static void test_placement_never_overcommits(void **state)
{
	struct scenario *sc = load_scenario(scenario_text);
	struct checks c = {0};
	struct sim_result r;

	(void)state;
	/* Static at the maximum asks for ten local tasks where eight fit. */
	run(sc, SIM_STATIC_MAX, &c, &r);
	assert_int_equal(c.overcommits, 0);
	assert_int_equal(c.max_tasks_seen, 4);
	assert_true(r.total.local_unplaced_task_hours > 0);
	assert_int_equal(r.fleet_slots, 8);
	assert_int_equal(r.fleet_instances, 2);
	sim_result_finish(&r);
	memset(&c, 0, sizeof(c));
	run(sc, SIM_QSCALE, &c, &r);
	assert_int_equal(c.overcommits, 0);
	assert_true(c.max_tasks_seen <= 4);
	sim_result_finish(&r);
	scenario_destroy(sc);
}

/* Field by field, every number of two results. */
static void assert_same_result(const struct sim_result *a, const struct sim_result *b)
{
	assert_int_equal(a->n_policies, b->n_policies);
	assert_int_equal(a->n_series, b->n_series);
	assert_memory_equal(&a->total, &b->total, sizeof(a->total));
	for (size_t i = 0; i < a->n_policies; i++)
		assert_memory_equal(&a->policies[i].s, &b->policies[i].s, sizeof(a->policies[i].s));
	assert_memory_equal(a->series, b->series, a->n_series * sizeof(*a->series));
	assert_memory_equal(a->calls.count, b->calls.count, sizeof(a->calls.count));
	assert_int_equal(a->calls.faulted, b->calls.faulted);
}

static void test_same_seed_same_result(void **state)
{
	struct scenario *sc = load_scenario(scenario_text);
	struct checks c = {0};
	struct sim_result a, b, other;
	bool differs;

	(void)state;
	run(sc, SIM_QSCALE, &c, &a);
	run(sc, SIM_QSCALE, &c, &b);
	assert_true(a.calls.faulted > 0); /* the throttling window drew from the seed */
	assert_same_result(&a, &b);
	/* Another seed draws other faults. */
	sc->seed = 8;
	run(sc, SIM_QSCALE, &c, &other);
	differs = other.calls.faulted != a.calls.faulted ||
		memcmp(&other.total, &a.total, sizeof(a.total)) != 0;
	assert_true(differs);
	sim_result_finish(&a);
	sim_result_finish(&b);
	sim_result_finish(&other);
	scenario_destroy(sc);
}

static void test_qscale_bursts_and_returns(void **state)
{
	struct scenario *sc = load_scenario(scenario_text);
	struct checks c = {0};
	struct sim_result r;

	(void)state;
	run(sc, SIM_QSCALE, &c, &r);
	/* 80/s needs 16 tasks; 8 fit on-prem, so Fargate carried the rest for a while. */
	assert_true(r.total.burst_task_hours > 0);
	assert_true(r.total.burst_cost > 0);
	assert_true(r.total.scale_actions > 0);
	assert_int_equal(r.policies[0].s.cycles, 120); /* every 5 s for 10 minutes */
	assert_true(r.policies[0].s.held > 0); /* throttled DescribeServices hold counts */
	/* One GetQueueAttributes per cycle; one DescribeServices per cluster per cycle. */
	assert_int_equal(r.calls.count[CLOUD_SIM_GET_QUEUE_ATTRIBUTES], 120);
	assert_int_equal(r.calls.count[CLOUD_SIM_DESCRIBE_SERVICES], 240);
	assert_int_equal(r.calls.count[CLOUD_SIM_LIST_CONTAINER_INSTANCES], 120);
	/* Every UpdateService that was not throttled changed a count. */
	assert_true(r.calls.count[CLOUD_SIM_UPDATE_SERVICE] >= r.total.scale_actions);
	assert_int_equal(r.calls.limits[CLOUD_SIM_SERVICE_MODIFY].calls,
		r.calls.count[CLOUD_SIM_UPDATE_SERVICE]);
	assert_int_equal(r.calls.limits[CLOUD_SIM_SERVICE_READ].calls, 240);
	assert_int_equal(r.calls.limits[CLOUD_SIM_SERVICE_READ].over, 0);
	/* Little's law in the large: the backlog drained by the end. */
	assert_true(r.total.waiting < 200);
	sim_result_finish(&r);
	scenario_destroy(sc);
}

static void test_static_max_by_hand(void **state)
{
	struct scenario *sc = load_scenario(scenario_text);
	struct checks c = {0};
	struct sim_result r;

	(void)state;
	run(sc, SIM_STATIC_MAX, &c, &r);
	/* Two UpdateService at t=0; Fargate's 12 tasks billed (pending or running) for 10 minutes.
	 */
	assert_int_equal(r.total.scale_actions, 2);
	assert_float_equal(r.total.burst_task_hours, 12 * 600.0 / 3600.0, 1e-9);
	assert_float_equal(r.total.burst_vcpu_hours, 2.0, 1e-9);
	assert_float_equal(r.total.burst_gb_hours, 4.0, 1e-9);
	assert_float_equal(
		r.total.burst_cost, 2.0 * SIM_PRICE_VCPU_HOUR + 4.0 * SIM_PRICE_GB_HOUR, 1e-9);
	/* Eight local tasks fit (the fleet full), two are asked for and never placed. */
	assert_float_equal(r.total.local_task_hours, 8 * 600.0 / 3600.0, 0.02);
	assert_float_equal(r.total.local_unplaced_task_hours, 2 * 600.0 / 3600.0, 0.02);
	assert_float_equal(r.total.utilisation, 1.0, 0.01);
	sim_result_finish(&r);
	scenario_destroy(sc);
}

/* One datapoint of a hand-computed target-tracking sequence and what it must do. */
struct tt_step {
	uint64_t minute;
	uint64_t visible;
	int32_t current; /* desired of the scaled service; running as well */
	int32_t want; /* -1: leave it */
	int32_t others; /* pinned tasks also polling the queue */
};

static void run_tt(const struct sim_baseline_params *p, const struct tt_step *steps, size_t n)
{
	struct sim_tt tt;

	sim_baseline_init(&tt, p);
	for (size_t i = 0; i < n; i++) {
		struct sim_baseline_datapoint dp = {
			.visible = steps[i].visible,
			.running = steps[i].current,
			.others = steps[i].others,
		};
		int32_t got =
			sim_baseline_evaluate(&tt, steps[i].minute * 60000, &dp, steps[i].current);

		if (got != steps[i].want)
			fail_msg("minute %" PRIu64 ": got %d, want %d", steps[i].minute, got,
				steps[i].want);
	}
}

static void test_target_tracking_scale_out(void **state)
{
	struct sim_baseline_params p;
	/* Target 10 per running task, 1..20 tasks. */
	static const struct tt_step steps[] = {
		{1, 100, 1, -1, 0}, /* 100 per task > 10: first high datapoint */
		{2, 100, 1, -1, 0}, /* second */
		{3, 100, 1, 10, 0}, /* third: scale out to ceil(100 / 10) */
		{4, 100, 10, -1, 0}, /* 10 per task: not above target */
		{5, 150, 10, -1, 0}, /* 15 per task: a high datapoint again, the first */
		{6, 150, 10, -1, 0},
		{7, 150, 10, 15, 0}, /* a larger scale-out passes during the cooldown */
		{8, 900, 15, 20, 0}, /* still in alarm: ceil(900 / 10) = 90, capped at 20 */
		{9, 900, 20, -1, 0}, /* at the maximum already */
	};

	(void)state;
	sim_baseline_defaults(&p, 10, 1, 20);
	assert_int_equal(p.period_ms, 60000);
	assert_int_equal(p.lag_ms, 60000);
	assert_int_equal(p.out_datapoints, 3);
	assert_int_equal(p.in_datapoints, 15);
	assert_int_equal(p.out_cooldown_ms, 300000);
	assert_int_equal(p.in_cooldown_ms, 300000);
	run_tt(&p, steps, sizeof(steps) / sizeof(steps[0]));
}

/* On the Fargate service, with on-prem pinned: the others count in the divisor and the proposal. */
static void test_target_tracking_others(void **state)
{
	struct sim_baseline_params p;
	static const struct tt_step steps[] = {
		{1, 300, 0, -1, 12}, /* 300 over 12 on-prem tasks: 25 per task */
		{2, 300, 0, -1, 12},
		{3, 300, 0, 18, 12}, /* ceil(300 / 10) = 30 tasks in all, 12 of them on-prem */
		{4, 100, 18, -1, 12}, /* 100 over 30: below 9, a low datapoint */
	};

	(void)state;
	sim_baseline_defaults(&p, 10, 0, 40);
	run_tt(&p, steps, sizeof(steps) / sizeof(steps[0]));
}

static void test_target_tracking_scale_in(void **state)
{
	struct sim_baseline_params p;
	struct tt_step steps[20];
	size_t n = 0;

	(void)state;
	sim_baseline_defaults(&p, 10, 2, 20);
	/* 40 messages over 10 tasks: 4 per task, below 9 (90% of 10): a low datapoint. */
	for (uint64_t m = 1; m <= 14; m++)
		steps[n++] = (struct tt_step){m, 40, 10, -1, 0};
	steps[n++] = (struct tt_step){15, 40, 10, 4, 0}; /* the 15th: to ceil(40 / 10) */
	steps[n++] = (struct tt_step){16, 0, 4, -1, 0}; /* the scale-in cooldown */
	steps[n++] =
		(struct tt_step){20, 0, 4, 2, 0}; /* 300 s after the scale-in: to the minimum */
	run_tt(&p, steps, n);
	/* A datapoint between 90% and 100% of target breaks the run of low ones. */
	{
		struct tt_step again[17];

		n = 0;
		for (uint64_t m = 1; m <= 10; m++)
			again[n++] = (struct tt_step){m, 40, 10, -1, 0};
		again[n++] = (struct tt_step){11, 95, 10, -1, 0};
		for (uint64_t m = 12; m <= 16; m++)
			again[n++] = (struct tt_step){m, 40, 10, -1, 0};
		run_tt(&p, again, n);
	}
	/* Below the minimum is corrected at once. */
	{
		static const struct tt_step fix[] = {{1, 0, 0, 2, 0}};

		run_tt(&p, fix, 1);
	}
}

static void test_target_tracking_in_simulation(void **state)
{
	struct scenario *sc = load_scenario(scenario_text);
	struct checks c = {0};
	struct sim_result r;

	(void)state;
	run(sc, SIM_TARGET_TRACKING, &c, &r);
	/*
	 * The AWS-only operator: on-prem pinned at its maximum, target tracking
	 * on the Fargate service; no observation calls of its own, only
	 * UpdateService.
	 */
	assert_true(r.total.burst_task_hours > 0);
	assert_int_equal(r.calls.count[CLOUD_SIM_GET_QUEUE_ATTRIBUTES], 0);
	assert_int_equal(r.calls.count[CLOUD_SIM_UPDATE_SERVICE], r.total.scale_actions);
	/* At least three datapoints pass before it reacts to the spike at 2m. */
	assert_true(r.total.scale_actions >= 1);
	assert_true(r.total.wait_max_ms > 60000);
	sim_result_finish(&r);
	scenario_destroy(sc);
}

/* ---- the simulated cloud ---- */

struct cb_log {
	int calls;
	int err;
	int64_t visible;
	size_t n_services;
	bool found[12];
};

static void on_queue(
	int err, const struct aws_error *error, const struct cloud_queue_counts *counts, void *arg)
{
	struct cb_log *l = arg;

	(void)error;
	l->calls++;
	l->err = err;
	if (err == 0)
		l->visible = counts->visible;
}

static void on_services(int err, const struct aws_error *error,
	const struct cloud_service *services, size_t n_services, void *arg)
{
	struct cb_log *l = arg;

	(void)error;
	l->calls++;
	l->err = err;
	l->n_services = n_services;
	for (size_t i = 0; i < n_services && i < 12; i++)
		l->found[i] = services[i].found;
}

static void test_cloud_sim_contract(void **state)
{
	struct scenario *sc = load_scenario(scenario_text);
	struct world *w;
	struct cloud_sim *cs;
	const struct cloud *cloud;
	struct cb_log q = {0}, s = {0}, missing = {0};
	const char *names[11];

	(void)state;
	assert_int_equal(world_create(sc, 0, &w), 0);
	assert_int_equal(cloud_sim_create(w, 5000, &cs), 0);
	cloud = cloud_sim_cloud(cs);
	assert_int_equal(
		cloud->ops->queue_counts(cloud->ctx,
			"https://sqs.us-east-1.amazonaws.com/123456789012/orders", on_queue, &q),
		0);
	for (size_t i = 0; i < 11; i++)
		names[i] = i == 0 ? "worker" : "nope";
	assert_int_equal(
		cloud->ops->describe_services(cloud->ctx, "onprem", names, 11, on_services, &s), 0);
	assert_int_equal(cloud->ops->describe_services(
				 cloud->ctx, "nowhere", names, 1, on_services, &missing),
		0);
	/* Nothing inside the calls. */
	assert_int_equal(q.calls + s.calls + missing.calls, 0);
	assert_int_equal(cloud_sim_next_due_ms(cs), 0);
	assert_int_equal(cloud_sim_deliver(cs, 0), 3);
	assert_int_equal(q.calls, 1);
	assert_int_equal(q.err, 0);
	assert_int_equal(s.calls, 1);
	assert_int_equal(s.n_services, 11);
	assert_true(s.found[0]);
	assert_false(s.found[1]);
	assert_int_equal(missing.calls, 1);
	assert_int_not_equal(missing.err, 0);
	/* Exactly once: nothing more comes. */
	assert_int_equal(cloud_sim_deliver(cs, 0), 0);
	assert_int_equal(cloud_sim_next_due_ms(cs), UINT64_MAX);
	/* Eleven services are two DescribeServices; one more for the missing cluster. */
	assert_int_equal(cloud_sim_calls(cs, CLOUD_SIM_DESCRIBE_SERVICES), 3);
	assert_int_equal(cloud_sim_calls(cs, CLOUD_SIM_GET_QUEUE_ATTRIBUTES), 1);
	assert_int_equal(cloud_sim_limit(cs, CLOUD_SIM_SERVICE_READ)->calls, 3);
	/* Destroying with a call pending drops it without calling back. */
	assert_int_equal(cloud->ops->queue_counts(cloud->ctx, "orders", on_queue, &q), 0);
	cloud_sim_destroy(cs);
	assert_int_equal(q.calls, 1);
	world_destroy(w);
	scenario_destroy(sc);
}

/* Answers in order: each callback notes its number; one asks again from inside. */
struct order_log {
	const struct cloud *cloud;
	int seen[64];
	int n;
	int err[64];
	bool again; /* the first answer asks once more */
};

struct order_arg {
	struct order_log *log;
	int id;
};

static void on_order(
	int err, const struct aws_error *error, const struct cloud_queue_counts *counts, void *arg)
{
	struct order_arg *a = arg;
	static struct order_arg late;

	(void)error;
	(void)counts;
	a->log->err[a->log->n] = err;
	a->log->seen[a->log->n++] = a->id;
	if (a->log->again) {
		a->log->again = false;
		late = (struct order_arg){a->log, 99};
		assert_int_equal(a->log->cloud->ops->queue_counts(a->log->cloud->ctx,
					 "https://sqs.us-east-1.amazonaws.com/123456789012/orders",
					 on_order, &late),
			0);
	}
}

/*
 * Many calls due at once are answered in the order made, a call made from a
 * callback after them, and a caller's buffer reused for another name is
 * answered for the name it holds now, not the one it held before.
 */
static void test_cloud_sim_order_and_reused_names(void **state)
{
	struct scenario *sc = load_scenario(scenario_text);
	struct world *w;
	struct cloud_sim *cs;
	struct order_log log = {0};
	struct order_arg args[40];
	char url[96];

	(void)state;
	assert_int_equal(world_create(sc, 0, &w), 0);
	assert_int_equal(cloud_sim_create(w, 5000, &cs), 0);
	log.cloud = cloud_sim_cloud(cs);
	log.again = true;
	for (int i = 0; i < 40; i++) {
		/* Every other call names a queue that does not exist, from the same buffer. */
		snprintf(url, sizeof(url), "https://sqs.us-east-1.amazonaws.com/123456789012/%s",
			i % 2 == 0 ? "orders" : "ordersx");
		args[i] = (struct order_arg){&log, i};
		assert_int_equal(
			log.cloud->ops->queue_counts(log.cloud->ctx, url, on_order, &args[i]), 0);
	}
	assert_int_equal(cloud_sim_deliver(cs, 0), 41);
	assert_int_equal(log.n, 41);
	for (int i = 0; i < 40; i++) {
		assert_int_equal(log.seen[i], i);
		if (i % 2 == 0)
			assert_int_equal(log.err[i], 0);
		else
			assert_int_not_equal(log.err[i], 0);
	}
	assert_int_equal(log.seen[40], 99);
	assert_int_equal(log.err[40], 0);
	assert_int_equal(cloud_sim_next_due_ms(cs), UINT64_MAX);
	cloud_sim_destroy(cs);
	world_destroy(w);
	scenario_destroy(sc);
}

static void test_cloud_sim_bucket(void **state)
{
	struct scenario *sc = load_scenario(scenario_text);
	struct world *w;
	struct cloud_sim *cs;
	const struct cloud *cloud;
	struct cb_log s = {0};
	const char *names[] = {"worker"};

	(void)state;
	assert_int_equal(world_create(sc, 0, &w), 0);
	assert_int_equal(cloud_sim_create(w, 5000, &cs), 0);
	cloud = cloud_sim_cloud(cs);
	/* The service-read bucket holds 100: the 101st call within one instant finds it empty. */
	for (int i = 0; i < 101; i++)
		assert_int_equal(cloud->ops->describe_services(
					 cloud->ctx, "onprem", names, 1, on_services, &s),
			0);
	assert_int_equal(cloud_sim_limit(cs, CLOUD_SIM_SERVICE_READ)->over, 1);
	assert_int_equal(cloud_sim_limit(cs, CLOUD_SIM_SERVICE_READ)->peak_per_s, 101);
	cloud_sim_deliver(cs, 0);
	assert_int_equal(s.calls, 101);
	/* A second later 20 tokens are back. */
	assert_int_equal(world_advance(w, 1000), 0);
	for (int i = 0; i < 20; i++)
		cloud->ops->describe_services(cloud->ctx, "onprem", names, 1, on_services, &s);
	assert_int_equal(cloud_sim_limit(cs, CLOUD_SIM_SERVICE_READ)->over, 1);
	cloud->ops->describe_services(cloud->ctx, "onprem", names, 1, on_services, &s);
	assert_int_equal(cloud_sim_limit(cs, CLOUD_SIM_SERVICE_READ)->over, 2);
	cloud_sim_deliver(cs, 1000);
	cloud_sim_destroy(cs);
	world_destroy(w);
	scenario_destroy(sc);
}

/* ---- sweeps ---- */

static void test_sweep_parse(void **state)
{
	static const struct {
		const char *spec;
		int rc;
		size_t count;
		uint64_t last;
	} cases[] = {
		{"instances=1:5:1", 0, 5, 5},
		{"local.max_tasks=4:20:4", 0, 5, 20},
		{"target.backlog_per_task=10:45:10", 0, 4, 40},
		{"interval=5s:30s:5s", 0, 6, 30000},
		{"startup.fargate=30s:1m:30s", 0, 2, 60000},
		{"instances=3:3:1", 0, 1, 3},
		{"instances", -EINVAL, 0, 0},
		{"instances=1:5", -EINVAL, 0, 0},
		{"instances=1:5:0", -EINVAL, 0, 0},
		{"instances=5:1:1", -EINVAL, 0, 0},
		{"instances=1:5:1:1", -EINVAL, 0, 0},
		{"instances=a:5:1", -EINVAL, 0, 0},
		{"instances=-1:5:1", -EINVAL, 0, 0},
		{"interval=5:10:1", -EINVAL, 0, 0},
		{"nosuch=1:2:1", -EINVAL, 0, 0},
		{"instances=0:100000:1", -EINVAL, 0, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct sim_sweep sw;
		char error[SIM_SWEEP_ERROR_MAX] = "";
		int rc = sim_sweep_parse(cases[i].spec, &sw, error);

		if (rc != cases[i].rc)
			fail_msg("%s: got %d (%s)", cases[i].spec, rc, error);
		if (rc != 0) {
			assert_true(error[0] != '\0');
			continue;
		}
		assert_int_equal(sim_sweep_count(&sw), cases[i].count);
		assert_int_equal(sim_sweep_value(&sw, cases[i].count - 1), cases[i].last);
	}
}

static void test_sweep_apply(void **state)
{
	struct scenario *sc = load_scenario(scenario_text);
	struct qscale_config *cfg = load_config();
	struct sim_sweep sw;
	char error[SIM_SWEEP_ERROR_MAX];
	struct world *w;
	struct world_cluster_info ci;
	struct world_instance_info a, b;

	(void)state;
	assert_int_equal(sim_sweep_parse("instances=1:5:1", &sw, error), 0);
	assert_int_equal(sim_sweep_apply(&sw, 5, cfg, sc, error), 0);
	assert_int_equal(sc->clusters[0].instance_count, 5);
	assert_int_equal(world_create(sc, 0, &w), 0);
	assert_int_equal(world_cluster_get(w, "onprem", &ci), WORLD_ECS_OK);
	assert_int_equal(ci.instance_count, 5);
	assert_int_equal(world_instance_at(w, ci.index, 1, &a), WORLD_ECS_OK);
	assert_int_equal(world_instance_at(w, ci.index, 4, &b), WORLD_ECS_OK);
	assert_string_not_equal(a.ec2_instance_id, b.ec2_instance_id);
	assert_string_not_equal(a.arn, b.arn);
	assert_int_equal(b.registered_cpu_units, 2048);
	assert_int_equal(b.attribute_count, a.attribute_count);
	world_destroy(w);
	assert_int_equal(sim_sweep_apply(&sw, 1, cfg, sc, error), 0);
	assert_int_equal(sc->clusters[0].instance_count, 1);
	/* Policy keys apply to every policy, and an impossible value is refused. */
	assert_int_equal(sim_sweep_parse("local.max_tasks=0:4:2", &sw, error), 0);
	assert_int_equal(sim_sweep_apply(&sw, 4, cfg, sc, error), 0);
	assert_int_equal(cfg->policies[0].scaling.local_max_tasks, 4);
	assert_int_equal(sim_sweep_apply(&sw, 0, cfg, sc, error), -EINVAL);
	assert_non_null(strstr(error, "invalid"));
	/* The loader's own rules: a max below the min, a max_data_age below the interval. */
	cfg->policies[0].scaling.local_min_tasks = 3;
	assert_int_equal(sim_sweep_apply(&sw, 2, cfg, sc, error), -EINVAL);
	assert_non_null(strstr(error, "is below 'local.min_tasks'"));
	cfg->policies[0].scaling.local_min_tasks = 0;
	assert_int_equal(sim_sweep_parse("interval=1s:60s:1s", &sw, error), 0);
	cfg->policies[0].scaling.max_observation_age_ms = 30000;
	assert_int_equal(sim_sweep_apply(&sw, 60000, cfg, sc, error), -EINVAL);
	assert_non_null(strstr(error, "'max_data_age' (30s) must be at least"));
	/* A max_data_age left at its default follows the interval. */
	cfg->policies[0].interval_ms = 5000;
	cfg->policies[0].scaling.max_observation_age_ms = POLICY_MAX_DATA_AGE_INTERVALS * 5000;
	assert_int_equal(sim_sweep_apply(&sw, 60000, cfg, sc, error), 0);
	assert_int_equal(cfg->policies[0].scaling.max_observation_age_ms,
		POLICY_MAX_DATA_AGE_INTERVALS * 60000);
	assert_int_equal(sim_sweep_apply(&sw, 50, cfg, sc, error), -EINVAL);
	assert_non_null(strstr(error, "must be between"));
	qscale_config_destroy(cfg);
	scenario_destroy(sc);
}

/* ---- reports and chart ---- */

static void test_report_json_and_table(void **state)
{
	struct scenario *sc = load_scenario(scenario_text);
	struct checks c = {0};
	struct sim_result r;
	const struct sim_result *runs[1];
	struct sim_report_info info = {"test.yaml", "test.yaml", NULL, 7, -1};
	char *text = NULL, err[256];
	size_t len = 0;
	FILE *f;
	yajl_val root, v;
	const char *path_arrived[] = {"runs", NULL};
	const char *path_total[] = {"total", "arrived", NULL};

	(void)state;
	run(sc, SIM_QSCALE, &c, &r);
	runs[0] = &r;
	f = open_memstream(&text, &len);
	assert_int_equal(sim_report_json(f, &info, runs, 1), 0);
	fclose(f);
	root = yajl_tree_parse(text, err, sizeof(err));
	assert_non_null(root);
	v = yajl_tree_get(root, path_arrived, yajl_t_array);
	assert_non_null(v);
	assert_int_equal(v->u.array.len, 1);
	v = yajl_tree_get(v->u.array.values[0], path_total, yajl_t_number);
	assert_non_null(v);
	assert_int_equal(YAJL_GET_INTEGER(v), r.total.arrived);
	yajl_tree_free(root);
	free(text);
	text = NULL;
	f = open_memstream(&text, &len);
	sim_report_table(f, &info, runs, 1);
	fclose(f);
	assert_non_null(strstr(text, "policy orders (queue orders)"));
	assert_non_null(strstr(text, "Fargate cost (USD)"));
	assert_non_null(strstr(text, "UpdateService"));
	free(text);
	sim_result_finish(&r);
	scenario_destroy(sc);
}

static void test_format_wait(void **state)
{
	static const struct {
		uint64_t ms;
		const char *text;
	} cases[] = {
		{0, "0ms"},
		{850, "850ms"},
		{12345, "12.3s"},
		{245000, "4m05s"},
		{7800000, "2h10m"},
	};
	char out[32];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		assert_string_equal(sim_format_wait(cases[i].ms, out), cases[i].text);
}

/* The first bytes of a file. */
static size_t head_of(const char *path, unsigned char *buf, size_t n)
{
	FILE *f = fopen(path, "rb");
	size_t got;

	assert_non_null(f);
	got = fread(buf, 1, n, f);
	fclose(f);
	return got;
}

static void test_chart_svg_png(void **state)
{
	struct scenario *sc = load_scenario(scenario_text);
	struct checks c = {0};
	struct sim_result r, tt;
	const struct sim_result *runs[2];
	char dir[] = "/tmp/qscale-chart-XXXXXX", path[64], error[SIM_CHART_ERROR_MAX];
	unsigned char head[64];

	(void)state;
	run(sc, SIM_QSCALE, &c, &r);
	run(sc, SIM_TARGET_TRACKING, &c, &tt);
	runs[0] = &r;
	runs[1] = &tt;
	assert_true(r.n_series > 100);
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/chart.svg", dir);
	assert_int_equal(sim_chart_write(path, "test", runs, 2, error), 0);
	assert_true(head_of(path, head, sizeof(head) - 1) > 5);
	head[sizeof(head) - 1] = '\0';
	assert_non_null(strstr((const char *)head, "<?xml"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/chart.png", dir);
	assert_int_equal(sim_chart_write(path, "test", runs, 2, error), 0);
	assert_int_equal(head_of(path, head, 8), 8);
	assert_memory_equal(head, "\x89PNG\r\n\x1a\n", 8);
	unlink(path);
	snprintf(path, sizeof(path), "%s/chart.pdf", dir);
	assert_int_equal(sim_chart_write(path, "test", runs, 2, error), -EINVAL);
	snprintf(path, sizeof(path), "%s/none/chart.png", dir);
	assert_int_equal(sim_chart_write(path, "test", runs, 2, error), -EIO);
	rmdir(dir);
	sim_result_finish(&r);
	sim_result_finish(&tt);
	scenario_destroy(sc);
}

/* The chart program reads back exactly what qscale sends it, and refuses anything else. */
static void test_chart_encoding(void **state)
{
	struct sim_point pts[2] = {{0, 1, 2.5, 0, 0, 0}, {500, 3, 1.0 / 3, 1, 100, 200}};
	struct sim_result r = {
		.mode = SIM_TARGET_TRACKING, .duration_ms = 1000, .series = pts, .n_series = 2};
	const struct sim_result *runs[1] = {&r};
	static const char *const bad[] = {
		"",
		"qscale-chart 2\ntitle t\nruns 1\nrun 1 0 q\nend\n",
		"qscale-chart 1\ntitle t\nruns 0\nend\n",
		"qscale-chart 1\ntitle t\nruns 17\n",
		"qscale-chart 1\ntitle t\nruns 1\nrun 1 1 q\n1 2 3 4 5\nend\n",
		"qscale-chart 1\ntitle t\nruns 1\nrun 1 1 q\n1 2 -3 4 5 6\nend\n",
		"qscale-chart 1\ntitle t\nruns 1\nrun 1 99999999 q\n",
		"qscale-chart 1\ntitle t\nruns 1\nrun 1 0 q\nend\nmore\n",
		"qscale-chart 1\ntitle t\nruns 1\nrun 1 0 q\nend",
	};
	char error[SIM_CHART_ERROR_MAX], *text = NULL;
	struct sim_chart c;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_int_equal(sim_chart_encode(f, "a\ntitle", runs, 1), 0);
	fclose(f);
	assert_int_equal(sim_chart_decode(text, len, &c, error), 0);
	assert_string_equal(c.title, "a title");
	assert_int_equal(c.n_runs, 1);
	assert_string_equal(c.runs[0].name, "target-tracking");
	assert_int_equal(c.runs[0].duration_ms, 1000);
	assert_int_equal(c.runs[0].n_series, 2);
	assert_memory_equal(c.runs[0].series, pts, sizeof(pts));
	sim_chart_finish(&c);
	free(text);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		error[0] = '\0';
		assert_int_equal(sim_chart_decode(bad[i], strlen(bad[i]), &c, error), -EINVAL);
		assert_non_null(strstr(error, "chart input line"));
	}
}

/* ---- the trace generator ---- */

static char *generate(enum trace_gen_kind kind, uint64_t seed)
{
	struct trace_gen_params p = {kind, seed, 0, 0, 0};
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_int_equal(trace_gen_write(&p, f), 0);
	fclose(f);
	return text;
}

static void test_trace_generator(void **state)
{
	char *a = generate(TRACE_GEN_DIURNAL_FLASH_SALE, 1);
	char *b = generate(TRACE_GEN_DIURNAL_FLASH_SALE, 1);
	char *c = generate(TRACE_GEN_DIURNAL_FLASH_SALE, 2);
	char *week = generate(TRACE_GEN_QUIET_WEEK, 1);
	struct trace_gen_params p = {TRACE_GEN_DIURNAL_FLASH_SALE, 1, 0, 0, 0};
	char dir[] = "/tmp/qscale-trace-XXXXXX", path[64];
	struct scenario_arrivals arr = {0};
	struct diag diag;
	uint64_t total = 0;
	FILE *f;

	(void)state;
	assert_string_equal(a, b);
	assert_string_not_equal(a, c);
	trace_gen_defaults(&p);
	assert_int_equal(p.duration_ms, 86400000);
	/* The flash sale at 14:05 runs at eight times the rate of 13:55 (the day's curve aside). */
	assert_float_equal(trace_gen_rate(&p, 14 * 3600000 + 300000) /
			trace_gen_rate(&p, 14 * 3600000 - 300000),
		8.0, 1.0);
	/* What it writes loads as a trace: a day of minutes, near 20/s on average. */
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/t.csv", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(a, f);
	fclose(f);
	assert_int_equal(scenario_trace_load(path, &arr, &diag), 0);
	assert_int_equal(arr.trace_count, 1440);
	for (size_t i = 0; i < arr.trace_count; i++)
		total += arr.trace[i].count;
	/* 20/s over a day plus the sale's extra. */
	assert_true(total > 86400 * 20 && total < 86400 * 24);
	scenario_arrivals_finish(&arr);
	unlink(path);
	rmdir(dir);
	assert_non_null(strstr(week, "604500,"));
	free(a);
	free(b);
	free(c);
	free(week);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_conservation_every_step),
		cmocka_unit_test(test_placement_never_overcommits),
		cmocka_unit_test(test_same_seed_same_result),
		cmocka_unit_test(test_qscale_bursts_and_returns),
		cmocka_unit_test(test_static_max_by_hand),
		cmocka_unit_test(test_target_tracking_scale_out),
		cmocka_unit_test(test_target_tracking_scale_in),
		cmocka_unit_test(test_target_tracking_others),
		cmocka_unit_test(test_target_tracking_in_simulation),
		cmocka_unit_test(test_cloud_sim_contract),
		cmocka_unit_test(test_cloud_sim_bucket),
		cmocka_unit_test(test_cloud_sim_order_and_reused_names),
		cmocka_unit_test(test_sweep_parse),
		cmocka_unit_test(test_sweep_apply),
		cmocka_unit_test(test_report_json_and_table),
		cmocka_unit_test(test_format_wait),
		cmocka_unit_test(test_chart_svg_png),
		cmocka_unit_test(test_chart_encoding),
		cmocka_unit_test(test_trace_generator),
	};

	return cmocka_run_group_tests_name("simulate", tests, NULL, NULL);
}
