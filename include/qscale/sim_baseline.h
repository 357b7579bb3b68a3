/*
 * The baseline qscale is compared with in `qscale simulate --compare`: an
 * AWS-only operator's setup, ECS Service Auto Scaling with a target-tracking
 * policy on the SQS backlog per running task, on one-minute CloudWatch
 * datapoints (docs/simulate.md defines it, with its sources). A pure state
 * machine fed one datapoint per metric period; no I/O, no clock.
 */
#ifndef QSCALE_SIM_BASELINE_H
#define QSCALE_SIM_BASELINE_H

#include <stdbool.h>
#include <stdint.h>

/* The target-tracking policy's parameters. */
struct sim_baseline_params {
	double target; /* backlog per running task to hold (the policy's backlog_per_task) */
	int32_t min_tasks; /* of the scaled service */
	int32_t max_tasks;
	uint64_t period_ms; /* one datapoint per period (60 s) */
	uint64_t lag_ms; /* a datapoint is evaluated this long after its period ends (60 s) */
	unsigned out_datapoints; /* consecutive datapoints above target to scale out (3) */
	unsigned
		in_datapoints; /* consecutive datapoints below in_ratio x target to scale in (15) */
	double in_ratio; /* the low alarm's threshold as a fraction of target (0.9) */
	uint64_t out_cooldown_ms; /* after a scale-out, only a larger one (300 s) */
	uint64_t in_cooldown_ms; /* no scale-in this long after a scale-in (300 s) */
};

/* The state of one target-tracking policy. */
struct sim_tt {
	struct sim_baseline_params p;
	unsigned high_run; /* consecutive datapoints above target */
	unsigned low_run; /* consecutive datapoints below in_ratio x target */
	bool scaled_in;
	uint64_t last_in_ms;
};

/* One datapoint: what CloudWatch had for a period. */
struct sim_baseline_datapoint {
	uint64_t visible; /* ApproximateNumberOfMessagesVisible */
	int32_t running; /* RUNNING tasks of the scaled service */
	int32_t others; /* RUNNING tasks that also poll the queue, not scaled (on-prem, pinned) */
};

/* AWS's defaults around a target and the scaled service's bounds. */
void sim_baseline_defaults(
	struct sim_baseline_params *p, double target, int32_t min_tasks, int32_t max_tasks);

/* Start a policy with no datapoints seen. */
void sim_baseline_init(struct sim_tt *tt, const struct sim_baseline_params *p);

/*
 * Feed the datapoint evaluated at t_ms and the scaled service's desired
 * count now. The metric is visible / (running + others) (a fleet at zero
 * counts as one); the capacity it asks for is ceil(visible / target) less
 * the others. Returns the desired count to set, or -1 to leave it.
 */
int32_t sim_baseline_evaluate(
	struct sim_tt *tt, uint64_t t_ms, const struct sim_baseline_datapoint *dp, int32_t current);

#endif
