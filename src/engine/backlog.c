/*
 * The first steps of the scaling rule: is the data fresh, how big is the
 * backlog, how many tasks the work in progress and the backlog want, and
 * HPA's tolerance test. All saturating: whatever the queue reports, no count
 * overflows.
 */
#include <math.h>
#include <stdint.h>

#include "engine_priv.h"

/* a + b for non-negative counts, saturating at INT64_MAX. */
static int64_t add_sat(int64_t a, int64_t b)
{
	if (a > INT64_MAX - b)
		return INT64_MAX;
	return a + b;
}

int64_t engine_backlog(const struct engine_policy *policy, const struct engine_queue_obs *queue)
{
	int64_t backlog;

	if (queue->visible < 0 || queue->in_flight < 0 || queue->delayed < 0)
		return -1;
	backlog = queue->visible;
	if (policy->include_in_flight)
		backlog = add_sat(backlog, queue->in_flight);
	if (policy->include_delayed)
		backlog = add_sat(backlog, queue->delayed);
	return backlog;
}

int32_t engine_tasks_busy(
	const struct engine_policy *policy, const struct engine_queue_obs *queue, int32_t percent)
{
	double per_task, tasks;

	/* Counted as backlog already: a second term would size them twice. */
	if (policy->concurrency <= 0 || policy->include_in_flight || queue->in_flight < 0)
		return -1;
	per_task = (double)policy->concurrency;
	if (percent > 0 && percent < 100)
		per_task *= (double)percent / 100.0;
	/* A hair below the integer so 8 in flight at 0.8 x 10 is exactly one task. */
	tasks = ceil((double)queue->in_flight / per_task - 1e-9);
	if (tasks <= 0)
		return 0;
	return tasks > ENGINE_TASKS_MAX ? ENGINE_TASKS_MAX : (int32_t)tasks;
}

int32_t engine_tasks_for(int64_t backlog, int64_t backlog_per_task)
{
	int64_t tasks;

	if (backlog <= 0 || backlog_per_task <= 0)
		return 0;
	tasks = backlog / backlog_per_task + (backlog % backlog_per_task != 0);
	return tasks > ENGINE_TASKS_MAX ? ENGINE_TASKS_MAX : (int32_t)tasks;
}

bool engine_within_tolerance(int32_t wanted, int32_t current, double tolerance)
{
	double ratio;

	/* From zero any change is infinite: never within tolerance. */
	if (current <= 0)
		return wanted == current;
	ratio = (double)wanted / (double)current;
	/* A hair of slack so 11/10 is within 0.1, as a person reads it. */
	return fabs(ratio - 1.0) <= tolerance + 1e-9;
}
