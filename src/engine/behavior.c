/*
 * Behaviour as in Kubernetes HPA: the history of recommendations and scale
 * events a policy keeps between cycles, stabilisation windows (scale-out takes
 * the lowest recommendation of its window, scale-in the highest) and per-period
 * limits (of max_tasks and max_percent the one allowing the larger change).
 *
 * The history has a fixed number of slots whatever the interval: when a ring
 * is full the two neighbours closest in time merge. A merged recommendation
 * lives as long as its newest part; a merged event limits its own direction
 * as long as its newest part is in the period, and offsets the other
 * direction (HPA's "period start" = current - added + deleted) only while its
 * oldest part is. Compaction thus only ever slows scaling, by about
 * window / slots at most.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "engine_priv.h"

void engine_history_init(struct engine_history *history)
{
	memset(history, 0, sizeof(*history));
}

/* The larger of two times. */
static uint64_t max_u64(uint64_t a, uint64_t b)
{
	return a > b ? a : b;
}

/*
 * What engine_in_window(at_ms, now_ms, keep_ms) says of every record, as a
 * bound: a record stays exactly when its time is above *cutoff_ms. Returns
 * false when every record stays (now_ms is within keep_ms of time 0).
 */
static bool expiry_cutoff(uint64_t now_ms, uint64_t keep_ms, uint64_t *cutoff_ms)
{
	if (keep_ms == 0) {
		/* nothing is in an empty window, not even a record from the future */
		*cutoff_ms = UINT64_MAX;
		return true;
	}
	if (now_ms < keep_ms)
		return false;
	/* at > now stays (keep_ms > 0); else it stays while now - at < keep */
	*cutoff_ms = now_ms - keep_ms;
	return true;
}

/*
 * Drop recommendations no stabilisation window can see any more. Records
 * before the first one dropped stay where they are: most decisions drop
 * none, or only the oldest.
 */
static void expire_recs(struct engine_history *h, uint64_t now_ms, uint64_t keep_ms)
{
	size_t kept = 0;
	uint64_t cutoff;

	if (!expiry_cutoff(now_ms, keep_ms, &cutoff))
		return;
	while (kept < h->n_recs && h->recs[kept].at_ms > cutoff)
		kept++;
	for (size_t i = kept + 1; i < h->n_recs; i++) {
		if (h->recs[i].at_ms > cutoff)
			h->recs[kept++] = h->recs[i];
	}
	h->n_recs = kept;
}

/* Drop scale events no period can see any more (the same way). */
static void expire_events(struct engine_event *events, size_t *n, uint64_t now_ms, uint64_t keep_ms)
{
	size_t kept = 0;
	uint64_t cutoff;

	if (!expiry_cutoff(now_ms, keep_ms, &cutoff))
		return;
	while (kept < *n && events[kept].at_ms > cutoff)
		kept++;
	for (size_t i = kept + 1; i < *n; i++) {
		if (events[i].at_ms > cutoff)
			events[kept++] = events[i];
	}
	*n = kept;
}

/* Time from a to b, 0 if out of order. */
static uint64_t span_ms(uint64_t a, uint64_t b)
{
	return b > a ? b - a : 0;
}

/*
 * Index i of the adjacent recommendations (i, i + 1) whose merge would span
 * the least time: merged slots grow evenly instead of one slot absorbing all.
 */
static size_t closest_recs(const struct engine_rec *recs, size_t n)
{
	size_t best = 0;
	uint64_t best_span;

	if (n < 3)
		return 0;
	/* the first pair's span, kept: the earliest of equal spans wins */
	best_span = span_ms(recs[0].first_ms, recs[1].at_ms);
	for (size_t i = 1; i + 1 < n; i++) {
		uint64_t span = span_ms(recs[i].first_ms, recs[i + 1].at_ms);

		if (span < best_span) {
			best = i;
			best_span = span;
		}
	}
	return best;
}

/* The same for events. */
static size_t closest_events(const struct engine_event *events, size_t n)
{
	size_t best = 0;
	uint64_t best_span;

	if (n < 3)
		return 0;
	best_span = span_ms(events[0].first_ms, events[1].at_ms);
	for (size_t i = 1; i + 1 < n; i++) {
		uint64_t span = span_ms(events[i].first_ms, events[i + 1].at_ms);

		if (span < best_span) {
			best = i;
			best_span = span;
		}
	}
	return best;
}

/* Append a recommendation, merging the closest neighbours when the ring is full. */
static void push_rec(struct engine_history *h, uint64_t now_ms, int32_t value, int32_t steady)
{
	if (h->n_recs == ENGINE_HISTORY_SLOTS) {
		size_t i = closest_recs(h->recs, h->n_recs);
		struct engine_rec *a = &h->recs[i];
		struct engine_rec *b = &h->recs[i + 1];

		b->lo = a->lo < b->lo ? a->lo : b->lo;
		b->hi = a->hi > b->hi ? a->hi : b->hi;
		b->first_ms = a->first_ms;
		memmove(a, b, (h->n_recs - i - 1) * sizeof(*a));
		h->n_recs--;
	}
	h->recs[h->n_recs++] =
		(struct engine_rec){.first_ms = now_ms, .at_ms = now_ms, .lo = value, .hi = steady};
}

/* Append a scale event, merging the closest neighbours (sum of deltas) when full. */
static void push_event(struct engine_event *events, size_t *n, uint64_t now_ms, int32_t delta)
{
	if (*n == ENGINE_HISTORY_SLOTS) {
		size_t i = closest_events(events, *n);
		int64_t sum = (int64_t)events[i].delta + events[i + 1].delta;

		if (sum > ENGINE_TASKS_MAX)
			sum = ENGINE_TASKS_MAX;
		if (sum < -ENGINE_TASKS_MAX)
			sum = -ENGINE_TASKS_MAX;
		events[i + 1].delta = (int32_t)sum;
		events[i + 1].first_ms = events[i].first_ms;
		memmove(&events[i], &events[i + 1], (*n - i - 1) * sizeof(events[0]));
		(*n)--;
	}
	events[(*n)++] = (struct engine_event){.first_ms = now_ms, .at_ms = now_ms, .delta = delta};
}

void engine_history_update(struct engine_history *history, const struct engine_policy *policy,
	const struct engine_decision *decision, uint64_t now_ms)
{
	uint64_t keep_recs =
		max_u64(policy->scale_out.stabilization_ms, policy->scale_in.stabilization_ms);
	uint64_t keep_events = max_u64(policy->scale_out.period_ms, policy->scale_in.period_ms);
	int64_t delta;

	/* A history written by anything but this file is brought back within its rings. */
	if (history->n_recs > ENGINE_HISTORY_SLOTS)
		history->n_recs = ENGINE_HISTORY_SLOTS;
	if (history->n_outs > ENGINE_HISTORY_SLOTS)
		history->n_outs = ENGINE_HISTORY_SLOTS;
	if (history->n_ins > ENGINE_HISTORY_SLOTS)
		history->n_ins = ENGINE_HISTORY_SLOTS;
	expire_recs(history, now_ms, keep_recs);
	expire_events(history->outs, &history->n_outs, now_ms, keep_events);
	expire_events(history->ins, &history->n_ins, now_ms, keep_events);
	if (!decision->record) {
		history->has_held = true;
		history->held_ms = now_ms;
	}
	if (decision->record && keep_recs > 0)
		push_rec(history, now_ms, decision->recommendation,
			decision->steady < decision->recommendation ? decision->steady
								    : decision->recommendation);
	if (decision->record) {
		history->held_burst = decision->held_burst;
		history->has_backlog = decision->backlog >= 0;
		history->last_backlog = decision->backlog;
		history->last_backlog_ms = now_ms;
		history->last_running = decision->trace.running;
	}
	/* Held burst tasks are no scale event: they go as the local ones start. */
	delta = (int64_t)decision->local_desired + decision->burst_desired - decision->held_burst -
		decision->current_total;
	if (keep_events == 0 || delta == 0)
		return;
	if (delta > 0)
		push_event(history->outs, &history->n_outs, now_ms, (int32_t)delta);
	else
		push_event(history->ins, &history->n_ins, now_ms, (int32_t)-delta);
}

int32_t engine_history_forget(struct engine_history *history, uint64_t at_ms, int32_t delta)
{
	struct engine_event *events = delta > 0 ? history->outs : history->ins;
	size_t *n = delta > 0 ? &history->n_outs : &history->n_ins;
	int32_t want = delta > 0 ? delta : -delta;

	if (delta == 0 || delta == INT32_MIN)
		return 0;
	for (size_t i = 0; i < *n && i < ENGINE_HISTORY_SLOTS; i++) {
		struct engine_event *e = &events[i];
		int32_t taken;

		if (at_ms < e->first_ms || at_ms > e->at_ms)
			continue;
		taken = e->delta < want ? e->delta : want;
		e->delta -= taken;
		if (e->delta <= 0) {
			memmove(e, e + 1, (*n - i - 1) * sizeof(*e));
			(*n)--;
		}
		return taken;
	}
	return 0;
}

int32_t engine_stabilize(const struct engine_policy *policy, const struct engine_history *history,
	uint64_t now_ms, int32_t current, int32_t recommendation)
{
	return engine_stabilize_windows(history, now_ms, policy->scale_out.stabilization_ms,
		policy->scale_in.stabilization_ms, current, recommendation);
}

int32_t engine_stabilize_windows(const struct engine_history *history, uint64_t now_ms,
	uint64_t out_ms, uint64_t in_ms, int32_t current, int32_t recommendation)
{
	size_t n = history->n_recs < ENGINE_HISTORY_SLOTS ? history->n_recs : ENGINE_HISTORY_SLOTS;

	/*
	 * The answer is current clamped to [lowest, highest] of the windows, and
	 * the recommendation lies inside that range: when it equals current
	 * nothing in the history can move the answer, and otherwise only the
	 * window on its side can. A scan stops once its bound reaches current.
	 */
	if (recommendation > current) {
		int32_t up = recommendation;

		for (size_t i = 0; i < n && up > current; i++) {
			const struct engine_rec *r = &history->recs[i];

			if (engine_in_window(r->at_ms, now_ms, out_ms) && r->lo < up)
				up = r->lo;
		}
		return up > current ? up : current;
	}
	if (recommendation < current) {
		int32_t down = recommendation;

		/*
		 * An outage inside the scale-in window: what the window would have
		 * seen through it is unknown, so it counts as the count held all
		 * along. Scale-in resumes only after a full window of fresh readings.
		 */
		if (history->has_held && engine_in_window(history->held_ms, now_ms, in_ms))
			return current;
		for (size_t i = 0; i < n && down < current; i++) {
			const struct engine_rec *r = &history->recs[i];

			if (engine_in_window(r->at_ms, now_ms, in_ms) && r->hi > down)
				down = r->hi;
		}
		return down < current ? down : current;
	}
	return current;
}

/*
 * Tasks moved by the events inside a period ending at now_ms. A compacted
 * slot counts while any of it is inside when it limits its own direction
 * (own), and only while all of it is when it offsets the other direction.
 */
static int64_t moved_in_period(
	const struct engine_event *events, size_t n, uint64_t now_ms, uint64_t period_ms, bool own)
{
	int64_t sum = 0;

	for (size_t i = 0; i < n && i < ENGINE_HISTORY_SLOTS; i++) {
		uint64_t at = own ? events[i].at_ms : events[i].first_ms;

		if (engine_in_window(at, now_ms, period_ms))
			sum += events[i].delta;
	}
	return sum;
}

/* Highest total scale-out allows this period, or INT64_MAX without limits. */
static int64_t scale_out_limit(const struct engine_behavior *b, int64_t start)
{
	int64_t limit = -1;

	if (b->max_tasks <= 0 && b->max_percent <= 0)
		return INT64_MAX;
	if (b->max_tasks > 0)
		limit = start + b->max_tasks;
	if (b->max_percent > 0) {
		int64_t by_percent = start + (start * b->max_percent + 99) / 100;

		/* A percentage of zero is zero: allow one task so a service can leave zero. */
		if (by_percent < start + 1)
			by_percent = start + 1;
		if (by_percent > limit)
			limit = by_percent;
	}
	return limit;
}

/* Lowest total scale-in allows this period, or INT64_MIN without limits. */
static int64_t scale_in_limit(const struct engine_behavior *b, int64_t start)
{
	int64_t limit = INT64_MAX;

	if (b->max_tasks <= 0 && b->max_percent <= 0)
		return INT64_MIN;
	if (b->max_tasks > 0)
		limit = start - b->max_tasks;
	if (b->max_percent > 0) {
		int64_t by_percent = start - start * b->max_percent / 100;

		if (by_percent < limit)
			limit = by_percent;
	}
	return limit;
}

int32_t engine_rate_limit(const struct engine_policy *policy, const struct engine_history *history,
	uint64_t now_ms, int32_t current, int32_t target)
{
	int64_t added, deleted, start, limit;

	if (target > current) {
		const struct engine_behavior *b = &policy->scale_out;

		added = moved_in_period(history->outs, history->n_outs, now_ms, b->period_ms, true);
		deleted =
			moved_in_period(history->ins, history->n_ins, now_ms, b->period_ms, false);
		start = (int64_t)current - added + deleted;
		if (start < 0)
			start = 0;
		limit = scale_out_limit(b, start);
		if (limit < current)
			limit = current;
		return target < limit ? target : (int32_t)limit;
	}
	if (target < current) {
		const struct engine_behavior *b = &policy->scale_in;

		added = moved_in_period(
			history->outs, history->n_outs, now_ms, b->period_ms, false);
		deleted = moved_in_period(history->ins, history->n_ins, now_ms, b->period_ms, true);
		start = (int64_t)current + deleted - added;
		limit = scale_in_limit(b, start);
		if (limit > current)
			limit = current;
		return target > limit ? target : (int32_t)limit;
	}
	return current;
}
