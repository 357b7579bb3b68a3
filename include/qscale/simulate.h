/*
 * Offline capacity planning: replay a scenario's traffic through qscale's own
 * control cycle (the controller over struct cloud, here the simulated cloud
 * over the world model) on a virtual clock, or through a baseline (target
 * tracking, a static fleet), and sum up what happened: message waits,
 * backlog, task-hours on-prem and in Fargate, cost, scaling actions and AWS
 * calls. Nothing sleeps; time moves in steps of the world model.
 *
 * The loop, per step: deliver the simulated cloud's due completions, tick the
 * controller when a policy is due (and deliver what that cycle asks at once),
 * collect statistics, advance the world by one step. Results are a pure
 * function of the scenario, the configuration and the parameters.
 */
#ifndef QSCALE_SIMULATE_H
#define QSCALE_SIMULATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/cloud_sim.h"
#include "qscale/scenario.h"
#include "qscale/world.h"

struct qscale_config;

/* Who scales the services. */
enum sim_mode {
	SIM_QSCALE, /* qscale's controller and engine */
	SIM_TARGET_TRACKING, /* ECS Service Auto Scaling target tracking (sim_baseline.h), local
				only */
	SIM_STATIC_MAX, /* local.max_tasks and burst.max_tasks from the start */
};

/* "qscale", "target-tracking", "static-max". */
const char *sim_mode_name(enum sim_mode mode);

/* Fargate's on-demand prices (Linux/x86, per hour). */
struct sim_prices {
	double vcpu_hour;
	double gb_hour;
};

/* us-east-1's Fargate prices, the default. */
#define SIM_PRICE_VCPU_HOUR 0.04048
#define SIM_PRICE_GB_HOUR 0.004445

struct sim_params {
	const struct scenario *scenario; /* borrowed */
	enum sim_mode mode;
	uint64_t duration_ms; /* > 0 */
	uint64_t step_ms; /* world step; 0: one second */
	uint64_t sample_ms; /* chart resolution; 0: about 1,500 points over the run */
	uint64_t start_wall_ms; /* wall clock at t=0 (the controller's wall clock) */
	struct sim_prices prices;
	bool record_updates; /* keep every UpdateService in the result (sim_result.updates) */
	/* Called at each sample with the virtual time reached; may be NULL. */
	void (*progress)(uint64_t t_ms, uint64_t duration_ms, void *arg);
	/* Called after every step with the world; may be NULL (tests check invariants here). */
	void (*step)(const struct world *w, void *arg);
	void *arg;
};

/* What one policy (or, for the total, every policy) saw. */
struct sim_summary {
	uint64_t arrived;
	uint64_t processed;
	uint64_t waiting; /* at the end */
	uint64_t wait_p50_ms;
	uint64_t wait_p95_ms;
	uint64_t wait_p99_ms;
	uint64_t wait_max_ms;
	double wait_mean_ms;
	uint64_t max_backlog; /* largest number of messages waiting */
	double mean_backlog;
	double local_task_hours; /* on-prem tasks running or pending */
	double local_unplaced_task_hours; /* asked for, but fit on no instance */
	double utilisation; /* share of the fleet's CPU or memory (the tighter) reserved by tasks */
	double burst_task_hours; /* Fargate tasks running or pending (billed) */
	double burst_vcpu_hours;
	double burst_gb_hours;
	double burst_cost; /* at the run's prices */
	uint64_t scale_actions; /* UpdateService calls that changed a desired count */
	uint64_t cycles; /* control cycles the policy took part in (qscale only) */
	uint64_t held; /* of which held their counts for missing data */
};

struct sim_policy_result {
	char *name;
	char *queue; /* the queue's name in the scenario */
	struct sim_summary s;
};

/* One point of the time series, covering (t_ms - sample_ms, t_ms]. */
struct sim_point {
	uint64_t t_ms;
	uint64_t backlog_max; /* most messages waiting at any step */
	double local_tasks; /* mean on-prem tasks (running + pending) */
	double burst_tasks; /* mean Fargate tasks */
	uint64_t wait_p95_ms; /* of messages received in the interval; 0 when none */
	uint64_t wait_max_ms;
};

/* AWS calls made, per kind, and the ECS buckets they went through. */
struct sim_calls {
	uint64_t count[CLOUD_SIM_CALLS];
	struct cloud_sim_limit limits[CLOUD_SIM_CATEGORIES];
	uint64_t faulted; /* answered with an injected fault */
};

/* One UpdateService that changed a desired count (with record_updates). */
struct sim_update {
	uint64_t t_ms;
	char *cluster;
	char *service;
	int32_t from;
	int32_t to;
};

struct sim_result {
	enum sim_mode mode;
	uint64_t duration_ms;
	uint64_t steps;
	struct sim_policy_result *policies;
	size_t n_policies;
	struct sim_summary total; /* over the distinct queues and services of all policies */
	uint32_t fleet_instances; /* ACTIVE instances of the policies' local clusters at t=0 */
	uint32_t fleet_slots; /* copies of each policy's local task that fit them (reserve kept) */
	struct sim_calls calls;
	uint64_t sample_ms;
	struct sim_point *series;
	size_t n_series;
	struct sim_update *updates;
	size_t n_updates;
};

/* Longest error message sim_run writes. */
#define SIM_ERROR_MAX 512

/*
 * Run one simulation. config passes to the simulator (destroyed even on
 * error). On success fills *out (release with sim_result_finish) and returns
 * 0; else -EINVAL (a policy names a queue or service the scenario lacks, bad
 * parameters) with error filled.
 */
int sim_run(const struct sim_params *p, struct qscale_config *config, struct sim_result *out,
	char error[SIM_ERROR_MAX]);

/* Free what a result holds and zero it; accepts NULL. */
void sim_result_finish(struct sim_result *r);

#endif
