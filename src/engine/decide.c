/*
 * engine_decide: the scaling rule of one policy, step by step (backlog and
 * work in progress, activation, wanted total, tolerance, clamps, behaviour,
 * local/burst split, make before break) and fail static on missing data. Every count it returns
 * is within the policy's maxima; reason.c writes down which rules bound it.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "engine_priv.h"

/* Whether the loader's promises hold; the engine refuses anything else. */
static bool policy_valid(const struct engine_policy *p)
{
	if (p->backlog_per_task <= 0 || p->activation_backlog < 0)
		return false;
	if (!(p->tolerance >= 0.0 && p->tolerance < 1.0))
		return false;
	if (p->concurrency < 0 || p->utilization_percent < 0 || p->utilization_percent > 100)
		return false;
	if (p->processing_time_ms > 0 && p->burst_drain_ms == 0)
		return false;
	if (p->local_min_tasks < 0 || p->local_max_tasks < p->local_min_tasks ||
		p->local_max_tasks > ENGINE_TASKS_MAX)
		return false;
	if (p->has_burst && (p->burst_max_tasks < 0 || p->burst_max_tasks > ENGINE_TASKS_MAX))
		return false;
	return p->reserve_cpu_units >= 0 && p->reserve_memory_mib >= 0;
}

/* Whether a service's counts are fresh and sane. */
static bool service_usable(const struct engine_service_obs *s, uint64_t now_ms, uint64_t max_age_ms)
{
	/* Counts beyond any sane service are junk, and would overflow sums. */
	return engine_fresh(s->ok, s->observed_ms, now_ms, max_age_ms) && s->desired >= 0 &&
		s->running >= 0 && s->pending >= 0 && s->desired <= ENGINE_TASKS_MAX &&
		s->running <= ENGINE_TASKS_MAX && s->pending <= ENGINE_TASKS_MAX;
}

/* Note one missing observation by name and bit. */
static void note_missing(struct engine_trace *t, uint32_t bit, const char *name)
{
	t->missing[t->n_missing++] = name;
	t->missing_bits |= bit;
}

/* Name every observation the decision needs that is missing, stale or junk. */
static void find_missing(const struct engine_policy *p, const struct engine_observation *o,
	uint64_t now_ms, struct engine_trace *t)
{
	uint64_t age = p->max_observation_age_ms;
	const struct engine_cluster *c = o->cluster;

	if (!engine_fresh(o->queue.ok, o->queue.observed_ms, now_ms, age) ||
		engine_backlog(p, &o->queue) < 0)
		note_missing(t, ENGINE_MISSING_QUEUE, "queue");
	if (!service_usable(&o->local, now_ms, age))
		note_missing(t, ENGINE_MISSING_LOCAL, "local service");
	if (p->has_burst && !service_usable(&o->burst, now_ms, age))
		note_missing(t, ENGINE_MISSING_BURST, "burst service");
	if (!engine_fresh(o->task.ok, o->task.observed_ms, now_ms, age) || o->task.cpu_units < 0 ||
		o->task.memory_mib < 0 || o->task.n_ports > ENGINE_TASK_PORTS_MAX)
		note_missing(t, ENGINE_MISSING_TASK, "task definition");
	if (c == NULL || !engine_fresh(c->ok, c->observed_ms, now_ms, age) ||
		(c->n_instances > 0 && c->instances == NULL))
		note_missing(t, ENGINE_MISSING_INSTANCES, "instances");
}

/* a clamped to [lo, hi]. */
static int32_t clamp(int32_t a, int32_t lo, int32_t hi)
{
	if (a < lo)
		return lo;
	if (a > hi)
		return hi;
	return a;
}

/*
 * Fail static: keep the counts as read. A count read fresh outside its
 * configured bounds is still brought inside them: lowered to its maximum (no
 * path exceeds a maximum) or, for the local service, raised to local.min_tasks
 * (raising is not shrinking, and the minimum needs no data to be known). A
 * count that could not be read is left alone (no update).
 */
static void hold(const struct engine_policy *p, const struct engine_observation *o, uint64_t now_ms,
	int32_t burst_max, struct engine_trace *t, struct engine_decision *d)
{
	uint64_t age = p->max_observation_age_ms;

	t->flags |= ENGINE_MISSING_DATA;
	d->record = false;
	if (service_usable(&o->local, now_ms, age)) {
		d->local_desired = o->local.desired;
		if (d->local_desired > p->local_max_tasks) {
			d->local_desired = p->local_max_tasks;
			t->flags |= ENGINE_BOUND_MAX;
		}
		if (d->local_desired < p->local_min_tasks) {
			d->local_desired = p->local_min_tasks;
			t->flags |= ENGINE_BOUND_MIN;
		}
		d->update_local = d->local_desired != o->local.desired;
		d->placed = o->local.running + o->local.pending;
	} else {
		/* Unknown: nothing is set; the value only informs, within the max. */
		d->local_desired = o->local.ok && o->local.desired > 0 ? o->local.desired : 0;
		if (d->local_desired > p->local_max_tasks)
			d->local_desired = p->local_max_tasks;
		d->placed = d->local_desired; /* claims nothing */
	}
	if (!p->has_burst) {
		d->burst_desired = 0;
	} else if (service_usable(&o->burst, now_ms, age)) {
		d->burst_desired = o->burst.desired;
		if (d->burst_desired > burst_max) {
			d->burst_desired = burst_max;
			t->flags |= ENGINE_BOUND_MAX;
		}
		d->update_burst = d->burst_desired != o->burst.desired;
	} else {
		d->burst_desired = o->burst.ok && o->burst.desired > 0 ? o->burst.desired : 0;
		if (d->burst_desired > burst_max)
			d->burst_desired = burst_max;
	}
	t->local = d->local_desired;
	t->burst = d->burst_desired;
}

/* a + b for counts as read (negative counts as 0), saturating. */
static int32_t sum_counts(int32_t a, int32_t b)
{
	int64_t sum = (int64_t)(a > 0 ? a : 0) + (b > 0 ? b : 0);

	return sum > INT32_MAX ? INT32_MAX : (int32_t)sum;
}

/*
 * The total the burst is sized for: with a burst window shorter than the
 * scale-in window, the recommendation held over that shorter window (never
 * above the total, never below the min), so burst tasks, which are billed,
 * go as soon as the work in progress no longer needs them.
 */
static int32_t burst_total(const struct engine_policy *p, const struct engine_history *h,
	uint64_t now_ms, const struct engine_trace *t, int32_t total)
{
	int32_t held;

	if (!p->has_burst || !p->has_burst_stabilization ||
		p->burst_stabilization_ms >= p->scale_in.stabilization_ms ||
		total > t->current_total)
		return total;
	/* The policy's windows with the burst's shorter scale-in one. */
	held = engine_stabilize_windows(h, now_ms, p->scale_out.stabilization_ms,
		p->burst_stabilization_ms, t->current_total, t->recommendation);
	held = clamp(held, p->local_min_tasks, total);
	return held < total ? held : total;
}

/*
 * The burst sized for its start-up (target.processing_time set). Tasks beyond
 * local capacity run burst_startup_ms after they are asked for, so they are
 * sized for what they will find then:
 * - the arrivals, in tasks: what the running tasks process (below) plus the
 *   backlog's trend since the last reading;
 * - the backlog expected then: the one read plus its trend over the start-up,
 *   less what the pending tasks take once they run (half of it on average);
 * - drained over burst_drain_ms (default a minute, what a Fargate task is
 *   billed at least), not within the wait backlog_per_task stands for: a task
 *   started for less work than that is billed for idle time.
 * It only ever lowers the backlog rule's total, never below local capacity
 * or the tasks in flight; without a trend (the first reading) it does
 * nothing. Returns whether it lowered it (t->raw_startup).
 */
static bool burst_model(const struct engine_policy *p, const struct engine_history *h,
	uint64_t now_ms, struct engine_trace *t)
{
	double mu, trend, arrivals, startup_s, expected, want;

	if (!p->has_burst || p->processing_time_ms == 0 || t->busy < 0 || !h->has_backlog ||
		now_ms <= h->last_backlog_ms || t->raw <= t->capacity)
		return false;
	mu = (double)p->concurrency * 1000.0 / (double)p->processing_time_ms;
	trend = (double)(t->backlog - h->last_backlog) * 1000.0 /
		(double)(now_ms - h->last_backlog_ms);
	/*
	 * What the tasks process: while each running task has a message waiting,
	 * all of them are busy, but a task that started since the last reading
	 * has not made the trend yet: the fewer of the two counts. Otherwise the
	 * messages in flight over the processing time (Little's law).
	 */
	if (t->backlog >= t->running)
		arrivals = (double)(h->last_running < t->running ? h->last_running : t->running);
	else
		arrivals = (double)t->busy_full;
	arrivals += trend / mu;
	if (arrivals < 0.0)
		arrivals = 0.0;
	startup_s = (double)p->burst_startup_ms / 1000.0;
	expected = (double)t->backlog + (trend - mu * (double)t->pending / 2.0) * startup_s;
	if (expected < 0.0)
		expected = 0.0;
	want = ceil(arrivals + expected / (mu * (double)p->burst_drain_ms / 1000.0) - 1e-9);
	/* Never below the work in hand, whatever the trend says. */
	if (want < (double)t->busy_full)
		want = (double)t->busy_full;
	if (want >= (double)t->raw)
		return false;
	t->flags |= ENGINE_BURST_MODEL;
	t->arrival_tasks = arrivals;
	t->backlog_trend = trend;
	t->backlog_at_start = expected < (double)INT64_MAX ? (int64_t)expected : INT64_MAX;
	t->raw_startup = want > (double)t->capacity ? (int32_t)want : t->capacity;
	return true;
}

/* Activation, tolerance and the clamps of a raw total; *flags says which bound. */
static int32_t recommend(
	const struct engine_policy *p, const struct engine_trace *t, int32_t raw, uint32_t *flags)
{
	int32_t current = t->current_total;
	int32_t rec;

	*flags = 0;
	if (current == 0 && t->backlog <= p->activation_backlog) {
		rec = 0;
		if (p->local_min_tasks == 0 && raw > 0)
			*flags |= ENGINE_BOUND_ACTIVATION;
	} else if (raw != current && engine_within_tolerance(raw, current, p->tolerance)) {
		rec = current;
		*flags |= ENGINE_BOUND_TOLERANCE;
	} else {
		rec = raw;
	}
	if (rec > t->max_total) {
		rec = t->max_total;
		*flags |= ENGINE_BOUND_MAX;
	}
	if (rec < p->local_min_tasks) {
		rec = p->local_min_tasks;
		*flags |= ENGINE_BOUND_MIN;
	}
	return rec;
}

/*
 * What the scale-in windows remember when the start-up model sized the
 * burst: while a backlog drains every task is busy, so the busy count
 * overstates the arrivals; above local capacity the windows remember what
 * the arrivals need, and drain tasks go once the backlog has.
 */
static int32_t burst_steady(
	const struct engine_policy *p, const struct engine_trace *t, int32_t steady)
{
	double need = ceil(t->arrival_tasks - 1e-9);

	if (steady <= t->capacity)
		return steady;
	if (need < (double)steady)
		steady = need > (double)t->capacity ? (int32_t)need : t->capacity;
	return clamp(steady, p->local_min_tasks, t->max_total);
}

/* Steps 1-4: the wanted total from the backlog, the clamps and the behaviour. */
static int32_t wanted_total(const struct engine_policy *p, const struct engine_history *h,
	uint64_t now_ms, struct engine_trace *t)
{
	int32_t current = t->current_total;
	int32_t rec, total, raw, steady;
	uint32_t bounds;

	raw = engine_tasks_for(t->backlog, p->backlog_per_task);
	if (t->busy > 0) {
		/*
		 * Busy tasks are needed whatever the backlog: by Little's law the
		 * messages in flight are the arrival rate times the processing
		 * time, so this term follows the arrivals, and the backlog term
		 * adds tasks only for the messages waiting. The headroom of the
		 * target utilisation is kept where it costs nothing: in local
		 * capacity left over; burst tasks are paid for and run full.
		 */
		int64_t lean = (int64_t)raw + t->busy_full;
		int64_t room = (int64_t)t->capacity - lean;
		int64_t headroom = (int64_t)t->busy - t->busy_full;

		if (headroom > room)
			headroom = room > 0 ? room : 0;
		lean += headroom;
		raw = lean > ENGINE_TASKS_MAX ? ENGINE_TASKS_MAX : (int32_t)lean;
	}
	t->raw = raw;
	rec = recommend(p, t, raw, &bounds);
	/* The work in progress alone, for the scale-in window (see engine.h). */
	steady = rec;
	if (t->busy >= 0 && rec == raw) {
		int32_t wip = raw - engine_tasks_for(t->backlog, p->backlog_per_task);

		wip = clamp(wip, p->local_min_tasks, t->max_total);
		if (wip < rec)
			steady = wip;
	}
	if (burst_model(p, h, now_ms, t)) {
		rec = recommend(p, t, t->raw_startup, &bounds);
		steady = burst_steady(p, t, steady < rec ? steady : rec);
	}
	t->flags |= bounds;
	t->recommendation = rec;
	t->steady = steady;

	t->stabilized = engine_stabilize(p, h, now_ms, current, rec);
	if (t->stabilized != rec) {
		t->flags |= ENGINE_BOUND_STABILIZATION;
		t->stabilization_ms = t->stabilized > rec ? p->scale_in.stabilization_ms
							  : p->scale_out.stabilization_ms;
	}
	t->limited = engine_rate_limit(p, h, now_ms, current, t->stabilized);
	if (t->limited != t->stabilized) {
		t->flags |= ENGINE_BOUND_RATE;
		t->period_ms =
			t->limited < t->stabilized ? p->scale_out.period_ms : p->scale_in.period_ms;
	}
	/* Maxima and min are configured bounds: they beat the behaviour. */
	total = clamp(t->limited, p->local_min_tasks, t->max_total);
	if (total != t->limited)
		t->flags |= total < t->limited ? ENGINE_BOUND_MAX : ENGINE_BOUND_MIN;
	t->total_burst = burst_total(p, h, now_ms, t, total);
	return total;
}

/* Steps 5-6: split the total between local capacity and burst, make before break. */
static void split(const struct engine_policy *p, const struct engine_observation *o,
	int32_t burst_max, struct engine_trace *t)
{
	int32_t local, rest, keep;

	local = t->total < t->capacity ? t->total : t->capacity;
	if (t->total > t->capacity)
		t->flags |= ENGINE_BOUND_CAPACITY;
	/* The min is a floor even when the tasks cannot all be placed yet. */
	local = clamp(local, p->local_min_tasks, p->local_max_tasks);
	rest = t->total_burst - local;
	if (rest < 0)
		rest = 0;
	t->burst_target = rest < burst_max ? rest : burst_max;
	t->unmet = rest - t->burst_target;
	if (t->unmet > 0)
		t->flags |= ENGINE_UNMET;
	t->burst = t->burst_target;
	if (p->has_burst && local > t->capacity && t->total > t->capacity) {
		/*
		 * local.min_tasks above what can be placed: the local count keeps the
		 * minimum (its tasks start as room frees), and burst covers the part
		 * of the wanted total that cannot run on-prem meanwhile. Like make
		 * before break, that cover is not part of the total.
		 */
		int32_t cover = t->total - t->capacity;

		if (cover > burst_max)
			cover = burst_max;
		if (cover > t->burst) {
			t->burst = cover;
			t->flags |= ENGINE_MAKE_BEFORE_BREAK;
		}
	}
	if (p->has_burst && o->burst.desired > t->burst_target) {
		/* Keep burst covering what the running local tasks do not yet cover. */
		int64_t uncovered = (int64_t)t->total_burst - o->local.running;

		keep = uncovered < o->burst.desired ? (int32_t)(uncovered > 0 ? uncovered : 0)
						    : o->burst.desired;
		if (keep > burst_max)
			keep = burst_max;
		if (keep > t->burst) {
			t->burst = keep;
			t->flags |= ENGINE_MAKE_BEFORE_BREAK;
		}
	}
	t->local = local;
}

/* A trace with what the policy and the observation say before any rule runs. */
static void trace_init(
	const struct engine_policy *p, const struct engine_observation *o, struct engine_trace *t)
{
	int32_t burst_max = p->has_burst ? p->burst_max_tasks : 0;

	memset(t, 0, sizeof(*t));
	t->has_burst = p->has_burst;
	t->burst_max = burst_max;
	t->local_max = p->local_max_tasks;
	t->min_tasks = p->local_min_tasks;
	t->max_total = p->local_max_tasks + burst_max;
	t->backlog_per_task = p->backlog_per_task;
	t->activation_backlog = p->activation_backlog;
	t->tolerance = p->tolerance;
	t->concurrency = p->concurrency;
	t->utilization_percent = p->utilization_percent > 0 ? p->utilization_percent : 100;
	t->burst_startup_ms = p->burst_startup_ms;
	t->burst_drain_ms = p->burst_drain_ms;
	t->read_local = o->local.ok ? o->local.desired : -1;
	t->read_burst = p->has_burst && o->burst.ok ? o->burst.desired : -1;
}

int engine_decide(const struct engine_policy *policy, const struct engine_observation *observation,
	const struct engine_history *history, uint64_t now_ms, struct engine_decision *decision)
{
	const struct engine_policy *p = policy;
	const struct engine_observation *o = observation;
	struct engine_decision *d = decision;
	struct engine_trace *t;
	int32_t burst_max;

	if (p == NULL || o == NULL || history == NULL || decision == NULL || !policy_valid(p))
		return -EINVAL;
	/*
	 * From here on the decision always succeeds: it is built where the
	 * caller wants it, the trace inside it, rather than built aside and
	 * copied (two copies of a few hundred bytes per decision).
	 */
	memset(d, 0, offsetof(struct engine_decision, trace));
	t = &d->trace;
	burst_max = p->has_burst ? p->burst_max_tasks : 0;
	trace_init(p, o, t);

	find_missing(p, o, now_ms, t);
	d->backlog = t->n_missing > 0 ? -1 : engine_backlog(p, &o->queue);
	if (t->n_missing > 0) {
		hold(p, o, now_ms, burst_max, t, d);
		/* Only counts actually set make a scale event. */
		d->current_total = sum_counts(d->update_local ? t->read_local : d->local_desired,
			d->update_burst ? t->read_burst : d->burst_desired);
		d->recommendation = d->current_total;
		d->steady = d->current_total;
		d->wanted = sum_counts(d->local_desired, d->burst_desired);
		d->local_capacity = -1;
		d->fit = -1;
		d->flags = t->flags;
		d->missing = t->missing_bits;
		return 0;
	}

	t->backlog = d->backlog;
	t->busy = engine_tasks_busy(p, &o->queue, p->utilization_percent);
	t->busy_full = engine_tasks_busy(p, &o->queue, 100);
	t->in_flight = t->busy >= 0 ? o->queue.in_flight : -1;
	t->current_total = o->local.desired;
	if (p->has_burst) {
		/* Burst kept last time for make before break is not part of the total. */
		int32_t held = history->held_burst < o->burst.desired ? history->held_burst
								      : o->burst.desired;

		t->current_total += o->burst.desired - (held > 0 ? held : 0);
	}
	t->placed = o->local.running + o->local.pending;
	t->local_running = o->local.running;
	t->running = sum_counts(o->local.running, p->has_burst ? o->burst.running : 0);
	t->pending = sum_counts(o->local.desired, p->has_burst ? o->burst.desired : 0) - t->running;
	if (t->pending < 0)
		t->pending = 0;
	t->fit = engine_cluster_fit(o->cluster, o->matches_filter, &o->task, p, &t->eligible);
	{
		int64_t cap = (int64_t)t->placed + t->fit;

		t->capacity = cap > p->local_max_tasks ? p->local_max_tasks : (int32_t)cap;
	}
	t->total = wanted_total(p, history, now_ms, t);
	split(p, o, burst_max, t);

	d->local_desired = t->local;
	d->burst_desired = t->burst;
	d->update_local = t->local != o->local.desired;
	d->update_burst = p->has_burst && t->burst != o->burst.desired;
	d->current_total = t->current_total;
	d->recommendation = t->recommendation;
	d->steady = t->steady;
	d->record = true;
	d->wanted = t->total;
	d->held_burst = t->burst - t->burst_target;
	d->local_capacity = t->capacity;
	d->placed = t->placed;
	d->fit = t->fit;
	d->eligible_instances = t->eligible;
	d->flags = t->flags;
	return 0;
}
