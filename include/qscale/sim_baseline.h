/*
 * The baseline qscale is compared with in `qscale simulate --compare`: ECS
 * Service Auto Scaling with a target-tracking policy on the SQS backlog per
 * task, as users set it up today (docs/simulate.md defines it). A pure state
 * machine fed one CloudWatch datapoint per metric period; no I/O, no clock.
 */
#ifndef QSCALE_SIM_BASELINE_H
#define QSCALE_SIM_BASELINE_H

#include <stdbool.h>
#include <stdint.h>

/* The target-tracking policy's parameters. */
struct sim_tt_params {
	double target; /* backlog per task to hold (the policy's backlog_per_task) */
	int32_t min_tasks;
	int32_t max_tasks;
	uint64_t period_ms; /* one datapoint per period (60 s) */
	unsigned out_datapoints; /* consecutive datapoints above target to scale out (3) */
	unsigned
		in_datapoints; /* consecutive datapoints below in_ratio x target to scale in (15) */
	double in_ratio; /* the low alarm's threshold as a fraction of target (0.9) */
	uint64_t out_cooldown_ms; /* no scale-out this long after a scale-out (300 s) */
	uint64_t in_cooldown_ms; /* no scale-in this long after any scaling (300 s) */
};

/* The state of one target-tracking policy. */
struct sim_tt {
	struct sim_tt_params p;
	unsigned high_run; /* consecutive datapoints above target */
	unsigned low_run; /* consecutive datapoints below in_ratio x target */
	bool scaled_out;
	uint64_t last_out_ms;
	bool scaled;
	uint64_t last_scale_ms;
};

/* AWS's defaults around a target and the service's bounds. */
void sim_tt_defaults(struct sim_tt_params *p, double target, int32_t min_tasks, int32_t max_tasks);

/* Start a policy with no datapoints seen. */
void sim_tt_init(struct sim_tt *tt, const struct sim_tt_params *p);

/*
 * Feed the datapoint of the period ending at t_ms: the visible messages as
 * CloudWatch has them and the service's current desired count. Returns the
 * desired count to set, or -1 to leave it as it is.
 */
int32_t sim_tt_datapoint(struct sim_tt *tt, uint64_t t_ms, uint64_t visible, int32_t current);

#endif
