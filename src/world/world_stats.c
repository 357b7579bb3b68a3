/*
 * Statistics the simulator reports: per queue, what arrived, what was
 * processed and a histogram of how long processed messages waited
 * (millisecond buckets to 128 ms, then 64 per doubling to about 12 days);
 * per service, task-seconds, placements and placement failures.
 */
#include <errno.h>
#include <math.h>

#include "world_priv.h"

/* Buckets one millisecond wide below this, then 64 per doubling. */
#define LINEAR_MS WORLD_WAIT_LINEAR_MS
#define PER_DOUBLING 64

/* Upper bound of bucket i (see WORLD_WAIT_BUCKETS); the last is open. */
uint64_t world_wait_bucket_upper_ms(size_t i)
{
	if (i + 1 >= WORLD_WAIT_BUCKETS)
		return UINT64_MAX;
	if (i < LINEAR_MS)
		return i + 1;
	/* steps of at least 1.39 ms from here, so the bounds strictly increase */
	return (uint64_t)ceil(
		LINEAR_MS * pow(2.0, (double)(i + 1 - LINEAR_MS) / (double)PER_DOUBLING));
}

/* The lower bound of bucket i: the previous bucket's upper bound. */
static uint64_t bucket_lower_ms(size_t i)
{
	return i == 0 ? 0 : world_wait_bucket_upper_ms(i - 1);
}

uint64_t world_wait_hist_percentile_ms(
	const uint64_t hist[WORLD_WAIT_BUCKETS], uint64_t max_ms, double p)
{
	uint64_t total = 0, seen = 0, want;

	for (size_t i = 0; i < WORLD_WAIT_BUCKETS; i++)
		total += hist[i];
	if (total == 0)
		return 0;
	if (!(p > 0))
		p = 0;
	if (p > 1)
		p = 1;
	want = (uint64_t)ceil(p * (double)total);
	if (want == 0)
		want = 1;
	for (size_t i = 0; i < WORLD_WAIT_BUCKETS; i++) {
		uint64_t lo, hi, v;

		if (seen + hist[i] < want) {
			seen += hist[i];
			continue;
		}
		/* the want-th wait, read as evenly spread over the bucket's width */
		lo = bucket_lower_ms(i);
		hi = i + 1 < WORLD_WAIT_BUCKETS ? world_wait_bucket_upper_ms(i) : max_ms;
		if (hi > max_ms + 1)
			hi = max_ms + 1;
		if (hi <= lo + 1)
			v = lo;
		else
			v = lo +
				(uint64_t)((double)(hi - 1 - lo) * (double)(want - seen) /
					(double)hist[i]);
		return v < max_ms ? v : max_ms;
	}
	return max_ms;
}

/* Precompute the bounds for recording. */
void world_stats_bounds_init(uint64_t bounds[WORLD_WAIT_BUCKETS])
{
	for (size_t i = 0; i < WORLD_WAIT_BUCKETS; i++)
		bounds[i] = world_wait_bucket_upper_ms(i);
}

/* Queue statistics. */
int world_queue_stats(const struct world *w, size_t queue, struct world_queue_stats *out)
{
	if (queue >= w->queue_count)
		return -ENOENT;
	*out = w->queues[queue].stats;
	return 0;
}

/* The bucket a wait is counted in. */
size_t world_wait_bucket(const struct world *w, uint64_t wait_ms)
{
	return world_stats_bucket(w, wait_ms);
}

/* Queue statistics, not copied. */
const struct world_queue_stats *world_queue_stats_at(const struct world *w, size_t queue)
{
	return queue < w->queue_count ? &w->queues[queue].stats : NULL;
}

/* Service statistics. */
int world_service_stats(const struct world *w, size_t service, struct world_service_stats *out)
{
	const struct world_service *s;

	if (service >= w->service_count)
		return -ENOENT;
	s = &w->services[service];
	*out = s->stats;
	out->billed_task_seconds = s->stats.task_seconds;
	if (s->ss->launch_type != SCENARIO_LAUNCH_FARGATE)
		return 0;
	/* tasks stopped within their first minute, and those still in it */
	out->billed_task_seconds += s->minimum_billed_s;
	for (size_t i = 0; i < s->task_count; i++) {
		uint64_t age = w->now_ms - s->tasks[i].started_ms;

		if (s->tasks[i].state != WORLD_TASK_STOPPED && age < WORLD_FARGATE_MINIMUM_MS)
			out->billed_task_seconds +=
				(double)(WORLD_FARGATE_MINIMUM_MS - age) / 1000.0;
	}
	return 0;
}

/* The wait under which fraction p of processed messages waited. */
uint64_t world_wait_percentile_ms(const struct world_queue_stats *st, double p)
{
	return world_wait_hist_percentile_ms(st->wait_hist, st->wait_max_ms, p);
}
