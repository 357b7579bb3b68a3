/*
 * Target tracking as Application Auto Scaling does it for an ECS service on
 * a backlog-per-running-task metric (SQS visible messages over RUNNING
 * tasks, metric math on one-minute datapoints): a high alarm (metric above
 * target for 3 datapoints) scales out, a low alarm (below 90 % of target for
 * 15) scales in, both to the capacity that brings the metric back to
 * target. During the scale-out cooldown only a larger scale-out happens (the
 * capacity the last one added counts); the scale-in cooldown blocks
 * scale-ins only. Sources in docs/simulate.md.
 */
#include <math.h>

#include "qscale/sim_baseline.h"

void sim_baseline_defaults(
	struct sim_baseline_params *p, double target, int32_t min_tasks, int32_t max_tasks)
{
	p->target = target > 0 ? target : 1;
	p->min_tasks = min_tasks;
	p->max_tasks = max_tasks;
	p->period_ms = 60000;
	p->lag_ms = 60000;
	p->out_datapoints = 3;
	p->in_datapoints = 15;
	p->in_ratio = 0.9;
	p->out_cooldown_ms = 300000;
	p->in_cooldown_ms = 300000;
}

void sim_baseline_init(struct sim_tt *tt, const struct sim_baseline_params *p)
{
	*tt = (struct sim_tt){0};
	tt->p = *p;
}

/* The capacity that brings backlog per running task to target, within the bounds. */
static int32_t proposed(
	const struct sim_baseline_params *p, const struct sim_baseline_datapoint *dp)
{
	double want = ceil((double)dp->visible / p->target) - (dp->others > 0 ? dp->others : 0);

	if (want < p->min_tasks)
		return p->min_tasks;
	if (want > p->max_tasks)
		return p->max_tasks;
	return (int32_t)want;
}

int32_t sim_baseline_evaluate(
	struct sim_tt *tt, uint64_t t_ms, const struct sim_baseline_datapoint *dp, int32_t current)
{
	const struct sim_baseline_params *p = &tt->p;
	int64_t fleet =
		(int64_t)(dp->running > 0 ? dp->running : 0) + (dp->others > 0 ? dp->others : 0);
	/* The metric math's guard: a fleet at zero counts as one task. */
	double metric = (double)dp->visible / (double)(fleet > 0 ? fleet : 1);
	int32_t want = proposed(p, dp);

	tt->high_run = metric > p->target ? tt->high_run + 1 : 0;
	tt->low_run = metric < p->in_ratio * p->target ? tt->low_run + 1 : 0;
	/* Application Auto Scaling keeps the service within its bounds whatever the alarms say. */
	if (current < p->min_tasks || current > p->max_tasks)
		return current < p->min_tasks ? p->min_tasks : p->max_tasks;
	/*
	 * Scale out: the proposal is computed from the desired count, which
	 * holds what an earlier scale-out added, so during the cooldown only a
	 * larger one passes, as AWS does.
	 */
	if (tt->high_run >= p->out_datapoints && want > current) {
		tt->scaled_in = false; /* a scale-out ends the scale-in cooldown */
		return want;
	}
	if (tt->low_run >= p->in_datapoints && want < current &&
		(!tt->scaled_in || t_ms - tt->last_in_ms >= p->in_cooldown_ms)) {
		tt->scaled_in = true;
		tt->last_in_ms = t_ms;
		return want;
	}
	return -1;
}
