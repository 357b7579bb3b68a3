/*
 * Statistics the simulator reports: per queue, what arrived, what was
 * processed and a histogram of how long processed messages waited
 * (logarithmic buckets, four per doubling from 10 ms to about 38 hours);
 * per service, task-seconds, placements and placement failures.
 */
#include <errno.h>
#include <math.h>

#include "world_priv.h"

/* Upper bound of bucket i: 10 ms * 2^((i+1)/4), rounded up; the last is open. */
uint64_t world_wait_bucket_upper_ms(size_t i)
{
	if (i + 1 >= WORLD_WAIT_BUCKETS)
		return UINT64_MAX;
	return (uint64_t)ceil(10.0 * pow(2.0, (double)(i + 1) / 4.0));
}

/* Precompute the bounds for recording. */
void world_stats_bounds_init(uint64_t bounds[WORLD_WAIT_BUCKETS])
{
	for (size_t i = 0; i < WORLD_WAIT_BUCKETS; i++)
		bounds[i] = world_wait_bucket_upper_ms(i);
}

/* Count messages that waited wait_ms. */
void world_stats_record_wait(
	const struct world *w, struct world_queue_stats *st, uint64_t wait_ms, uint64_t count)
{
	size_t lo = 0, hi = WORLD_WAIT_BUCKETS - 1;

	/* the first bucket whose upper bound is above the wait */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (wait_ms < w->wait_bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	st->wait_hist[lo] += count;
	st->wait_sum_ms += (double)wait_ms * (double)count;
	if (wait_ms > st->wait_max_ms)
		st->wait_max_ms = wait_ms;
}

/* Queue statistics. */
int world_queue_stats(const struct world *w, size_t queue, struct world_queue_stats *out)
{
	if (queue >= w->queue_count)
		return -ENOENT;
	*out = w->queues[queue].stats;
	return 0;
}

/* Service statistics. */
int world_service_stats(const struct world *w, size_t service, struct world_service_stats *out)
{
	if (service >= w->service_count)
		return -ENOENT;
	*out = w->services[service].stats;
	return 0;
}

/* The bucket bound under which fraction p of processed messages waited. */
uint64_t world_wait_percentile_ms(const struct world_queue_stats *st, double p)
{
	uint64_t total = 0, seen = 0, want;

	for (size_t i = 0; i < WORLD_WAIT_BUCKETS; i++)
		total += st->wait_hist[i];
	if (total == 0)
		return 0;
	if (p <= 0)
		p = 0;
	if (p > 1)
		p = 1;
	want = (uint64_t)ceil(p * (double)total);
	if (want == 0)
		want = 1;
	for (size_t i = 0; i < WORLD_WAIT_BUCKETS; i++) {
		seen += st->wait_hist[i];
		if (seen >= want) {
			uint64_t upper = world_wait_bucket_upper_ms(i);

			return upper < st->wait_max_ms ? upper : st->wait_max_ms;
		}
	}
	return st->wait_max_ms;
}
