/*
 * The one-line reason of a decision: what the backlog wanted, then every rule
 * that bound the result (activation, tolerance, min, max, stabilisation, rate
 * limit, capacity, burst maximum, make before break, missing data), e.g.
 * "wanted 12 (backlog 600 / 50); local capacity 9 (3 on 2 instances + 6
 * placed); 3 to burst". Lowercase facts, no newline, always NUL-terminated.
 */
#include <stdarg.h>
#include <stdio.h>

#include "engine_priv.h"

/* A fixed buffer being appended to; text past its end is dropped. */
struct reason {
	char *buf;
	size_t cap;
	size_t len;
};

/* Append printf-style text. */
__attribute__((format(printf, 2, 3))) static void add(struct reason *r, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (r->len + 1 >= r->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(r->buf + r->len, r->cap - r->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	r->len += (size_t)n;
	if (r->len >= r->cap)
		r->len = r->cap - 1;
}

/* A duration in the shortest exact unit ("300s", "2m", "1500ms"). */
static void add_duration(struct reason *r, uint64_t ms)
{
	if (ms % 3600000 == 0 && ms > 0)
		add(r, "%lluh", (unsigned long long)(ms / 3600000));
	else if (ms % 60000 == 0 && ms > 0)
		add(r, "%llum", (unsigned long long)(ms / 60000));
	else if (ms % 1000 == 0)
		add(r, "%llus", (unsigned long long)(ms / 1000));
	else
		add(r, "%llums", (unsigned long long)ms);
}

/* Fail static: what is missing and what is held. */
static void add_missing(struct reason *r, const struct engine_trace *t)
{
	if (t->read_local >= 0)
		add(r, "holding local %d", (int)t->local);
	else
		add(r, "holding local (unknown)");
	if (t->has_burst && t->read_burst >= 0)
		add(r, " burst %d", (int)t->burst);
	else if (t->has_burst)
		add(r, " burst (unknown)");
	add(r, ": missing data (");
	for (size_t i = 0; i < t->n_missing; i++)
		add(r, "%s%s", i > 0 ? ", " : "", t->missing[i]);
	add(r, ")");
	if (t->flags & ENGINE_BOUND_MAX)
		add(r, "; lowered to max (local %d, burst %d)", (int)t->local_max,
			(int)t->burst_max);
	if (t->flags & ENGINE_BOUND_MIN)
		add(r, "; raised to min %d", (int)t->min_tasks);
}

/* How the backlog became the recommendation. */
static void add_wanted(struct reason *r, const struct engine_trace *t)
{
	if (t->flags & ENGINE_BOUND_ACTIVATION) {
		add(r, "activation: backlog %lld <= %lld, stays at 0", (long long)t->backlog,
			(long long)t->activation_backlog);
		return;
	}
	if (t->in_flight >= 0)
		add(r, "wanted %d (in flight %lld / (%d x %d%%) + backlog %lld / %lld)",
			(int)t->raw, (long long)t->in_flight, (int)t->concurrency,
			(int)t->utilization_percent, (long long)t->backlog,
			(long long)t->backlog_per_task);
	else
		add(r, "wanted %d (backlog %lld / %lld)", (int)t->raw, (long long)t->backlog,
			(long long)t->backlog_per_task);
	if (t->flags & ENGINE_BURST_MODEL) {
		add(r,
			"; burst sized for its start-up: %d (arrivals %.1f tasks, trend %+.0f/s, "
			"backlog %lld expected in ",
			(int)t->raw_startup, t->arrival_tasks, t->backlog_trend,
			(long long)t->backlog_at_start);
		add_duration(r, t->burst_startup_ms);
		add(r, ", drained over ");
		add_duration(r, t->burst_drain_ms);
		add(r, ")");
	}
	if (t->flags & ENGINE_BOUND_TOLERANCE)
		add(r, "; within tolerance %.2f of %d", t->tolerance, (int)t->current_total);
}

/* The behaviour and the final clamps of the total. */
static void add_behavior(struct reason *r, const struct engine_trace *t)
{
	if (t->flags & ENGINE_BOUND_STABILIZATION) {
		add(r, "; %s stabilisation ",
			t->stabilized > t->recommendation ? "scale-in" : "scale-out");
		add_duration(r, t->stabilization_ms);
		add(r, " holds %d", (int)t->stabilized);
	}
	if (t->flags & ENGINE_BOUND_RATE) {
		add(r, "; %s rate limit %d per ",
			t->limited < t->stabilized ? "scale-out" : "scale-in", (int)t->limited);
		add_duration(r, t->period_ms);
	}
	if ((t->flags & ENGINE_BOUND_MAX) && t->total == t->max_total)
		add(r, "; capped at max %d", (int)t->max_total);
	if ((t->flags & ENGINE_BOUND_MIN) && t->total == t->min_tasks)
		add(r, "; raised to min %d", (int)t->min_tasks);
}

/* The local/burst split. */
static void add_split(struct reason *r, const struct engine_trace *t)
{
	add(r, "; local capacity %d (%d on %d instances + %d placed", (int)t->capacity, (int)t->fit,
		(int)t->eligible, (int)t->placed);
	if ((int64_t)t->placed + t->fit > t->local_max)
		add(r, ", local max %d", (int)t->local_max);
	add(r, ")");
	if (t->local > t->total)
		add(r, "; local min %d", (int)t->min_tasks);
	if (t->burst_target > 0)
		add(r, "; %d to burst", (int)t->burst_target);
	if (t->total_burst < t->total && t->read_burst > t->burst_target)
		add(r, "; burst scale-in window holds %d in all", (int)t->total_burst);
	if (t->unmet > 0) {
		if (t->has_burst)
			add(r, "; %d unmet at burst max %d", (int)t->unmet, (int)t->burst_max);
		else
			add(r, "; %d unmet (no burst)", (int)t->unmet);
	}
	if (t->flags & ENGINE_MAKE_BEFORE_BREAK)
		add(r, "; burst kept at %d until local tasks run (%d of %d running)", (int)t->burst,
			(int)t->local_running, (int)t->local);
}

const char *engine_decision_reason(const struct engine_decision *decision, char *buf, size_t cap)
{
	const struct engine_trace *trace = &decision->trace;
	struct reason r = {.buf = buf, .cap = cap, .len = 0};

	if (cap == 0)
		return buf;
	buf[0] = '\0';
	if (trace->refused) {
		add(&r, "the engine refused the policy");
		return buf;
	}
	if (trace->flags & ENGINE_MISSING_DATA) {
		add_missing(&r, trace);
		return buf;
	}
	add_wanted(&r, trace);
	add_behavior(&r, trace);
	add_split(&r, trace);
	return buf;
}
