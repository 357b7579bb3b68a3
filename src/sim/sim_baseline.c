/*
 * Target tracking as ECS Service Auto Scaling does it on a backlog-per-task
 * metric: a high alarm (metric above target for 3 one-minute datapoints)
 * scales out, a low alarm (below 90% of target for 15) scales in, both to the
 * capacity that would bring the metric back to target, with cooldowns.
 */
#include <math.h>

#include "qscale/sim_baseline.h"

void sim_tt_defaults(struct sim_tt_params *p, double target, int32_t min_tasks, int32_t max_tasks)
{
	p->target = target > 0 ? target : 1;
	p->min_tasks = min_tasks;
	p->max_tasks = max_tasks;
	p->period_ms = 60000;
	p->out_datapoints = 3;
	p->in_datapoints = 15;
	p->in_ratio = 0.9;
	p->out_cooldown_ms = 300000;
	p->in_cooldown_ms = 300000;
}

void sim_tt_init(struct sim_tt *tt, const struct sim_tt_params *p)
{
	*tt = (struct sim_tt){0};
	tt->p = *p;
}

/* The capacity that brings backlog per task to target, within the bounds. */
static int32_t proposed(const struct sim_tt_params *p, uint64_t visible)
{
	double want = ceil((double)visible / p->target);

	if (want < p->min_tasks)
		return p->min_tasks;
	if (want > p->max_tasks)
		return p->max_tasks;
	return (int32_t)want;
}

int32_t sim_tt_datapoint(struct sim_tt *tt, uint64_t t_ms, uint64_t visible, int32_t current)
{
	const struct sim_tt_params *p = &tt->p;
	/* Backlog per task; a service at zero counts as one task (the metric math's guard). */
	double metric = (double)visible / (double)(current > 0 ? current : 1);
	int32_t want = proposed(p, visible);

	tt->high_run = metric > p->target ? tt->high_run + 1 : 0;
	tt->low_run = metric < p->in_ratio * p->target ? tt->low_run + 1 : 0;
	/* Application Auto Scaling keeps the service within its bounds whatever the alarms say. */
	if (current < p->min_tasks || current > p->max_tasks) {
		want = current < p->min_tasks ? p->min_tasks : p->max_tasks;
		tt->scaled = true;
		tt->last_scale_ms = t_ms;
		return want;
	}
	if (tt->high_run >= p->out_datapoints && want > current &&
		(!tt->scaled_out || t_ms - tt->last_out_ms >= p->out_cooldown_ms)) {
		tt->scaled_out = true;
		tt->last_out_ms = t_ms;
		tt->scaled = true;
		tt->last_scale_ms = t_ms;
		return want;
	}
	if (tt->low_run >= p->in_datapoints && want < current &&
		(!tt->scaled || t_ms - tt->last_scale_ms >= p->in_cooldown_ms)) {
		tt->scaled = true;
		tt->last_scale_ms = t_ms;
		return want;
	}
	return -1;
}
