/*
 * The queue model. A queue is counts, not messages: arrivals come from a rate
 * schedule integrated exactly over each step (whole messages are released as
 * the integral crosses integers, so a schedule is reproduced without drift),
 * and are kept as cohorts (arrival time, count) in FIFO order so that the
 * consumers' wait times can be measured. Running tasks of the services that
 * poll the queue receive messages from the oldest cohort at their per-task
 * rate and hold each one (in flight: received, not yet deleted) for the
 * service's processing time before deleting it. What GetQueueAttributes
 * reports is read from a delay line of past counts (the reporting lag).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/xalloc.h"
#include "world_priv.h"

/* Width of the slices a step's arrivals are spread over (see push_spread). */
#define ARRIVAL_SLICE_MS 100

/* The most slices a step of dt ms spreads its arrivals over. */
#define ARRIVAL_SLICES_MAX(dt) (((dt) + ARRIVAL_SLICE_MS - 1) / ARRIVAL_SLICE_MS + 1)

/* Cohorts kept before neighbours merge; bounds memory on a never-draining queue. */
#define COHORTS_MAX 4096

/* Append a cohort (merged with the newest when it has the same time). */
static void cohorts_push(struct world_cohorts *c, uint64_t t_ms, uint64_t count)
{
	if (count == 0)
		return;
	if (c->len > 0) {
		struct world_cohort *last = &c->items[(c->head + c->len - 1) & (c->cap - 1)];

		if (last->t_ms == t_ms) {
			last->count += count;
			return;
		}
	}
	if (c->len == c->cap) {
		if (c->cap < COHORTS_MAX) {
			/* grow and unwrap */
			size_t cap = c->cap ? c->cap * 2 : 64;

			c->items = xring_grow(
				c->items, sizeof(*c->items), c->cap, c->head, c->len, cap);
			c->cap = cap;
			c->head = 0;
		} else {
			/* merge neighbours pairwise: the arrival time becomes the weighted mean */
			size_t out = 0;

			for (size_t i = 0; i < c->len; i += 2) {
				struct world_cohort a = c->items[(c->head + i) & (c->cap - 1)];

				if (i + 1 < c->len) {
					struct world_cohort b =
						c->items[(c->head + i + 1) & (c->cap - 1)];
					double t = ((double)a.t_ms * (double)a.count +
							   (double)b.t_ms * (double)b.count) /
						((double)a.count + (double)b.count);

					a.t_ms = (uint64_t)t;
					a.count += b.count;
				}
				/* out <= i, and the ring is read ahead of where it is written */
				c->items[(c->head + out) & (c->cap - 1)] = a;
				out++;
			}
			c->len = out;
		}
	}
	c->items[(c->head + c->len) & (c->cap - 1)] = (struct world_cohort){t_ms, count};
	c->len++;
}

/*
 * floor(x) and llround(x) for the sums of a step, which are never negative:
 * below 2^63 a conversion truncates exactly as floor does, without the
 * library call that baseline x86-64 makes for floor and llround.
 */
static double floor_nonneg(double x)
{
	/* Below 2^63 the signed conversions are the unsigned ones, each one instruction. */
	return x >= 0.0 && x < 9.2e18 ? (double)(int64_t)x : floor(x);
}

/* (uint64_t)x for a whole x >= 0, by the one-instruction signed conversion below 2^63. */
static inline uint64_t whole_u64(double x)
{
	return x < 9.2e18 ? (uint64_t)(int64_t)x : (uint64_t)x;
}

/*
 * a / b and a % b, in 32 bits when both fit: the same quotient, at a
 * fraction of a 64-bit division's latency. The slices' arithmetic divides
 * small numbers (a step's milliseconds and messages) several times a step.
 */
static inline uint64_t div_u64(uint64_t a, uint64_t b)
{
	return ((a | b) >> 32) == 0 ? (uint32_t)a / (uint32_t)b : a / b;
}

static inline uint64_t mod_u64(uint64_t a, uint64_t b)
{
	return ((a | b) >> 32) == 0 ? (uint32_t)a % (uint32_t)b : a % b;
}

static uint64_t round_nonneg(double x)
{
	uint64_t whole;

	if (!(x >= 0.0 && x < 4.5e15))
		return (uint64_t)llround(x);
	/* Exact: below 2^52 the fraction x - whole is representable. */
	whole = (uint64_t)x;
	return whole + (x - (double)whole >= 0.5 ? 1 : 0);
}

/* The oldest cohort, or NULL. */
static struct world_cohort *cohorts_front(struct world_cohorts *c)
{
	return c->len ? &c->items[c->head] : NULL;
}

/* Drop the oldest cohort. */
static void cohorts_pop(struct world_cohorts *c)
{
	c->head = (c->head + 1) & (c->cap - 1);
	c->len--;
}

/* Build the queue's rate schedule from its segments or its trace. */
static void build_rates(struct world_queue *q, const struct scenario_arrivals *a)
{
	size_t n = 0;

	if (a->trace_count > 0) {
		q->rates = xcalloc(a->trace_count + 2, sizeof(*q->rates));
		if (a->trace[0].at_ms > 0)
			q->rates[n++] = (struct scenario_rate_segment){0, 0.0};
		for (size_t i = 0; i < a->trace_count; i++) {
			uint64_t end = i + 1 < a->trace_count
				? a->trace[i + 1].at_ms
				: a->trace[i].at_ms + a->trace_last_span_ms;

			q->rates[n++] = (struct scenario_rate_segment){a->trace[i].at_ms,
				(double)a->trace[i].count * 1000.0 /
					(double)(end - a->trace[i].at_ms)};
			if (i + 1 == a->trace_count)
				q->rates[n++] = (struct scenario_rate_segment){end, 0.0};
		}
		q->shape = SCENARIO_SHAPE_STEP;
	} else if (a->segment_count > 0) {
		q->rates = xcalloc(a->segment_count + 1, sizeof(*q->rates));
		if (a->segments[0].at_ms > 0)
			q->rates[n++] = (struct scenario_rate_segment){0, 0.0};
		for (size_t i = 0; i < a->segment_count; i++)
			q->rates[n++] = a->segments[i];
		q->shape = a->shape;
	} else {
		q->rates = xcalloc(1, sizeof(*q->rates));
		q->rates[n++] = (struct scenario_rate_segment){0, 0.0};
		q->shape = SCENARIO_SHAPE_STEP;
	}
	q->rate_count = n;
}

/* Set a queue up at t=0 with its initial messages. */
void world_queue_init(struct world *w, struct world_queue *q, const struct scenario_queue *sq)
{
	memset(q, 0, sizeof(*q));
	q->sq = sq;
	q->arn = xasprintf("arn:aws:sqs:%s:%s:%s", w->sc->region, w->sc->account_id, sq->name);
	build_rates(q, &sq->arrivals);
	q->rate_end_ms = UINT64_MAX;
	cohorts_push(&q->pool, 0, sq->initial_messages);
	q->pool_count = sq->initial_messages;
	q->arrived_exact = (double)sq->initial_messages;
	q->stats.arrived = sq->initial_messages;
	q->stats.waiting = sq->initial_messages;
	q->stats.max_waiting = sq->initial_messages;
	q->lag_ms = sq->reporting_lag_ms;
	q->snap_spacing_ms = sq->reporting_lag_ms / 128;
	if (q->snap_spacing_ms == 0)
		q->snap_spacing_ms = 1;
	world_queue_snapshot(q, 0);
}

/* Free a queue's memory. */
void world_queue_finish(struct world_queue *q)
{
	free(q->arn);
	free(q->rates);
	free(q->pool.items);
	free(q->delayed.items);
	free(q->consumers);
}

/* The rate at t within piece i (linear shape interpolates towards piece i+1). */
static double rate_at(const struct world_queue *q, size_t i, uint64_t t)
{
	const struct scenario_rate_segment *a = &q->rates[i];

	if (q->shape == SCENARIO_SHAPE_STEP || i + 1 == q->rate_count)
		return a->rate_per_s;
	const struct scenario_rate_segment *b = &q->rates[i + 1];
	return a->rate_per_s +
		(b->rate_per_s - a->rate_per_s) * (double)(t - a->at_ms) /
		(double)(b->at_ms - a->at_ms);
}

/* ∫ rate dt over [t0, t1], in messages; moves the cursor forward. */
static double integrate(struct world_queue *q, uint64_t t0, uint64_t t1)
{
	double sum = 0.0;
	size_t i = q->rate_cursor;

	if (i == q->rate_end_piece && t0 == q->rate_end_ms && t1 > t0 && q->rates[i].at_ms <= t0 &&
		(i + 1 == q->rate_count || q->rates[i + 1].at_ms >= t1)) {
		/*
		 * The step starts where the last one ended and lies within its
		 * piece (the common case): the loop below would do exactly this,
		 * one piece from t0 to t1, the cursor staying where it is.
		 */
		double rb = rate_at(q, i, t1);

		q->rate_end_ms = t1;
		sum += (q->rate_end + rb) * 0.5 * (double)(t1 - t0) / 1000.0;
		q->rate_end = rb;
		return sum;
	}
	while (q->rate_cursor + 1 < q->rate_count && q->rates[q->rate_cursor + 1].at_ms <= t0)
		q->rate_cursor++;
	for (i = q->rate_cursor; i < q->rate_count; i++) {
		uint64_t a = q->rates[i].at_ms > t0 ? q->rates[i].at_ms : t0;
		uint64_t b = i + 1 < q->rate_count && q->rates[i + 1].at_ms < t1
			? q->rates[i + 1].at_ms
			: t1;

		if (a >= t1)
			break;
		if (b > a) {
			/* A step starts where the last one ended: its rate there is known. */
			double ra = i == q->rate_end_piece && a == q->rate_end_ms
				? q->rate_end
				: rate_at(q, i, a);
			double rb = rate_at(q, i, b);

			q->rate_end_piece = i;
			q->rate_end_ms = b;
			q->rate_end = rb;
			sum += (ra + rb) * 0.5 * (double)(b - a) / 1000.0;
		}
	}
	return sum;
}

static void unheld(struct world_queue *q, struct world_service *s);

/*
 * Service s receives k messages of cohort c during [t0, t0 + dt]: the
 * middle one of them when the service's capacity reaches it (t0 + dt x
 * received so far / capacity), never before it arrived. A wait is from
 * arrival to receipt, so a message that finds an idle task waits nothing.
 */
static void receive(struct world *w, struct world_queue *q, struct world_service *s,
	const struct world_cohort *c, uint64_t k, uint64_t t0, uint64_t dt)
{
	uint64_t at = t0 +
		round_nonneg(
			(double)dt * ((double)s->take_done + (double)k / 2.0) / s->take_capacity);

	if (at < c->t_ms)
		at = c->t_ms;
	if (at > t0 + dt)
		at = t0 + dt;
	world_stats_record_wait(w, &q->stats, at - c->t_ms, k);
	if (s->tail.on)
		unheld(q, s);
	cohorts_push(&s->held, at, k);
	s->held_count += k;
	s->take_done += k;
}

/* Below this, n x m for m <= n is exact in a double (2^26 squared is 2^52). */
#define SHARE_EXACT ((uint64_t)1 << 26)

/*
 * Take n messages from the oldest cohorts for the consumers, each its
 * take_want of them: every cohort is shared among the services in
 * proportion to what they receive this step, as pollers running side by
 * side receive the same stretch of the queue (not one after the other).
 */
static void take(struct world *w, struct world_queue *q, uint64_t n, uint64_t t0, uint64_t dt)
{
	uint64_t taken = 0;

	while (taken < n) {
		struct world_cohort *c = cohorts_front(&q->pool);
		uint64_t m, given = 0;

		if (c == NULL) /* cannot happen: n <= pool_count */
			break;
		m = c->count < n - taken ? c->count : n - taken;
		for (size_t k = 0; k < q->consumer_count; k++) {
			struct world_service *s = q->consumers[k];
			uint64_t due, share;

			/* each service's share of the first taken + m messages, rounded down */
			if (s->take_want == 0)
				continue; /* 0 x anything / n: an idle service gets nothing */
			if (s->take_want == n && n < SHARE_EXACT)
				due = taken + m; /* n x (taken + m) / n, exact below 2^53 */
			else
				due = (uint64_t)((double)s->take_want * (double)(taken + m) /
					(double)n);
			share = due > s->take_done ? due - s->take_done : 0;

			if (share > m - given)
				share = m - given;
			if (share > 0)
				receive(w, q, s, c, share, t0, dt);
			given += share;
		}
		/* what rounding left goes, in service order, to those still owed */
		for (size_t k = 0; k < q->consumer_count && given < m; k++) {
			struct world_service *s = q->consumers[k];
			uint64_t owed = s->take_want - s->take_done;
			uint64_t share = owed < m - given ? owed : m - given;

			if (share > 0)
				receive(w, q, s, c, share, t0, dt);
			given += share;
		}
		c->count -= given;
		q->pool_count -= given;
		taken += given;
		if (c->count == 0)
			cohorts_pop(&q->pool);
		if (given == 0) /* cannot happen: wants sum to n */
			break;
	}
}

/*
 * Delete what s has finished processing by t (held processing_time since
 * receipt) from its held ring; a tail is finish_held's.
 */
static void finish(struct world_queue *q, struct world_service *s, uint64_t t)
{
	uint64_t pt = s->ss->processing_time_ms;

	for (struct world_cohort *c; (c = cohorts_front(&s->held)) != NULL && c->t_ms + pt <= t;) {
		s->stats.processed += c->count;
		q->stats.processed += c->count;
		s->held_count -= c->count;
		cohorts_pop(&s->held);
	}
}

/*
 * finish for a service that may have a tail, which is then all it holds:
 * deleted whole when its last slice is done, left while its first is not,
 * and otherwise written out to be deleted cohort by cohort. Without the
 * call when there is nothing to delete.
 */
static inline void finish_held(struct world_queue *q, struct world_service *s, uint64_t t)
{
	if (s->tail.on) {
		if (s->tail.last_done_ms <= t) {
			s->stats.processed += s->tail.count;
			q->stats.processed += s->tail.count;
			s->held_count -= s->tail.count;
			s->tail.on = false;
			return;
		}
		if (s->tail.first_done_ms > t)
			return;
		unheld(q, s);
	} else if (s->held.len == 0) {
		return;
	}
	finish(q, s, t);
}

/*
 * Arrivals of a step spread evenly over it in slices of ARRIVAL_SLICE_MS,
 * each at its middle: a wait measured from one arrival time per step would
 * be off by up to half a step, and what is in flight at the step's end (held
 * for less than a step) would be missed. The slices are walked by struct
 * spread, so that pushing them into the pool and receiving them straight
 * from it (receive_fresh) see the same times and counts.
 */
struct spread {
	uint64_t t0, dt, n, i, count;
	/*
	 * Slice i holds count x (i + 1) / n - count x i / n messages at
	 * t0 + (2i + 1) x dt / 2n: both quotients kept as whole part and
	 * remainder and moved on by addition, the same numbers without the
	 * three divisions per slice.
	 */
	uint64_t per, extra, hi, hi_rem;
	uint64_t step, step_rem, at, at_rem;
};

/* a / n for a slice count n: ten, a whole second's, divides by a constant. */
static inline uint64_t div_slices(uint64_t a, uint64_t n)
{
	return n == 10 ? a / 10 : div_u64(a, n);
}

/* The slices' geometry for steps of dt ms, computed when dt changes. */
static struct world_spread_geo *spread_geometry(struct world_queue *q, uint64_t dt)
{
	struct world_spread_geo *g = &q->geo;
	uint64_t n;

	if (g->dt == dt)
		return g;
	n = div_u64(dt + ARRIVAL_SLICE_MS - 1, ARRIVAL_SLICE_MS);
	g->dt = dt;
	g->n = n;
	g->step = div_u64(2 * dt, 2 * n);
	g->step_rem = mod_u64(2 * dt, 2 * n);
	g->at = div_u64(dt, 2 * n);
	g->at_rem = mod_u64(dt, 2 * n);
	g->room = 1.0 - (double)n / (double)dt;
	g->room_one = 1.0 - 1.0 / (double)dt;
	g->last_at = div_u64((2 * n - 1) * dt, 2 * n);
	g->done_limit = UINT64_MAX;
	return g;
}

/* Start walking the slices of count messages over [t0, t0 + dt] (g: dt's geometry). */
static void spread_init(
	struct spread *sp, const struct world_spread_geo *g, uint64_t t0, uint64_t count)
{
	uint64_t n = g->n;

	sp->t0 = t0;
	sp->dt = g->dt;
	sp->i = 0;
	sp->count = count;
	if (n <= 1 || count <= 1) {
		/* one cohort in the middle of the step */
		sp->n = 1;
		sp->at = g->dt / 2;
		return;
	}
	sp->n = n;
	sp->per = div_slices(count, n);
	sp->extra = count - sp->per * n;
	sp->hi = 0;
	sp->hi_rem = 0;
	sp->step = g->step;
	sp->step_rem = g->step_rem;
	sp->at = g->at;
	sp->at_rem = g->at_rem;
}

/* The next slice's time and count (possibly 0); false after the last. */
static inline bool spread_next(struct spread *sp, uint64_t *t_ms, uint64_t *count)
{
	uint64_t lo = sp->hi;

	if (sp->i == sp->n)
		return false;
	sp->i++;
	*t_ms = sp->t0 + sp->at;
	if (sp->n == 1) {
		*count = sp->count;
		return true;
	}
	sp->hi += sp->per;
	sp->hi_rem += sp->extra;
	if (sp->hi_rem >= sp->n) {
		sp->hi_rem -= sp->n;
		sp->hi++;
	}
	*count = sp->hi - lo;
	sp->at += sp->step;
	sp->at_rem += sp->step_rem;
	if (sp->at_rem >= 2 * sp->n) {
		sp->at_rem -= 2 * sp->n;
		sp->at++;
	}
	return true;
}

/*
 * Skip the first j slices (j <= n) as spread_next would walk them; returns
 * the messages they hold, count x j / n. Every sum below is what j calls of
 * spread_next add up, taken at once: no product exceeds count or 2 x dt x n.
 */
static uint64_t spread_skip(struct spread *sp, uint64_t j)
{
	uint64_t two_n = 2 * sp->n, rem;

	if (j == 0)
		return 0;
	sp->i = j;
	if (sp->n == 1)
		return sp->count;
	sp->hi = sp->per * j + div_u64(sp->extra * j, sp->n);
	sp->hi_rem = mod_u64(sp->extra * j, sp->n);
	rem = mod_u64(sp->dt, two_n) + sp->step_rem * j;
	sp->at = div_u64(sp->dt, two_n) + sp->step * j + div_u64(rem, two_n);
	sp->at_rem = mod_u64(rem, two_n);
	return sp->hi;
}

/* How many of the first slices are at or before t0 + limit (slice i is at (2i + 1) dt / 2n). */
static uint64_t spread_count_by(const struct spread *sp, uint64_t limit)
{
	/* (2i + 1) x dt / 2n, rounded down, <= limit  <=>  2i + 1 <= (2n(limit + 1) - 1) / dt */
	uint64_t odd = div_u64(2 * sp->n * (limit + 1) - 1, sp->dt);
	uint64_t j = (odd + 1) / 2;

	return j < sp->n ? j : sp->n;
}

/*
 * spread_skip(sp, spread_count_by(sp, limit)) for a walk of g's n slices,
 * with what depends only on g and limit kept in g from the last time.
 */
static uint64_t spread_skip_by(struct spread *sp, struct world_spread_geo *g, uint64_t limit)
{
	uint64_t j;

	if (g->done_limit != limit) {
		struct spread probe = *sp;

		g->done_j = spread_count_by(&probe, limit);
		spread_skip(&probe, g->done_j);
		g->done_at = probe.at;
		g->done_at_rem = probe.at_rem;
		g->done_limit = limit;
	}
	j = g->done_j;
	if (j == 0)
		return 0;
	sp->i = j;
	sp->hi = sp->per * j + div_slices(sp->extra * j, sp->n);
	sp->hi_rem = sp->extra * j - div_slices(sp->extra * j, sp->n) * sp->n;
	sp->at = g->done_at;
	sp->at_rem = g->done_at_rem;
	return sp->hi;
}

/* Push a step's arrivals into the pool, slice by slice. */
static void push_spread(struct world_queue *q, uint64_t t0, uint64_t dt, uint64_t count)
{
	struct spread sp;
	uint64_t t, k;

	spread_init(&sp, spread_geometry(q, dt), t0, count);
	while (spread_next(&sp, &t, &k))
		cohorts_push(&q->pool, t, k);
}

/*
 * Skip the slices of a walk over dt ms that are done by its end: those
 * received as they arrived and held for pt ms at most until then. Returns
 * the messages they hold.
 */
static uint64_t skip_done(struct spread *sp, struct world_spread_geo *g, uint64_t dt, uint64_t pt)
{
	if (pt > dt)
		return 0;
	return sp->n > 1 ? spread_skip_by(sp, g, dt - pt)
			 : spread_skip(sp, spread_count_by(sp, dt - pt));
}

/*
 * What spread_init and skip_done give a walk of count messages over g's
 * step: the messages in the slices done by its end, and where the first
 * slice after them is (*next_at). Of more than one slice, from g's kept
 * count of the slices done and the slices' shares alone, without the walk.
 */
static uint64_t fresh_done(
	struct world_spread_geo *g, uint64_t count, uint64_t pt, uint64_t *next_at)
{
	uint64_t n = g->n, j, per;
	struct spread sp;

	if (n <= 1 || count <= 1 || pt > g->dt) {
		uint64_t done;

		spread_init(&sp, g, 0, count);
		done = skip_done(&sp, g, g->dt, pt);
		*next_at = sp.at;
		return done;
	}
	if (g->done_limit != g->dt - pt) {
		/* fills g's count of the slices done, for any count */
		spread_init(&sp, g, 0, count);
		spread_skip_by(&sp, g, g->dt - pt);
	}
	j = g->done_j;
	if (j == 0) {
		*next_at = g->at;
		return 0;
	}
	/* spread_skip_by's sums: per x j + extra x j / n */
	per = div_slices(count, n);
	*next_at = g->done_at;
	return per * j + div_slices((count - per * n) * j, n);
}

/*
 * The slices left in sp, received as they arrived, into s's empty held
 * ring: the slices' times strictly grow, so each non-empty one is a cohort
 * of its own, written in order from the ring's start as cohorts_push would
 * write it.
 */
static void hold_rest(struct world_service *s, struct spread *sp, uint64_t dt)
{
	uint64_t t, k;

	if (s->held.cap >= ARRIVAL_SLICES_MAX(dt)) {
		s->held.head = 0;
		while (spread_next(sp, &t, &k)) {
			if (k != 0)
				s->held.items[s->held.len++] = (struct world_cohort){t, k};
		}
	} else {
		while (spread_next(sp, &t, &k))
			cohorts_push(&s->held, t, k);
	}
}

/*
 * Write s's tail into its held ring (empty while there is a tail), as the
 * step that left it would have: the same walk of the same slices. Its
 * messages are in held_count already.
 */
static void unheld(struct world_queue *q, struct world_service *s)
{
	struct world_tail *tl = &s->tail;
	struct world_spread_geo *g = spread_geometry(q, tl->dt_ms);
	struct spread sp;

	tl->on = false;
	spread_init(&sp, g, tl->t0_ms, tl->fresh);
	skip_done(&sp, g, tl->dt_ms, s->ss->processing_time_ms);
	hold_rest(s, &sp, tl->dt_ms);
}

/*
 * The one service that receives all n messages this step, or NULL: the
 * others receive none. take gives such a service each cohort whole.
 */
static struct world_service *sole_taker(struct world *w, const struct world_queue *q, uint64_t n)
{
	struct world_service *sole = NULL;

	for (size_t k = 0; k < q->consumer_count; k++) {
		struct world_service *s = q->consumers[k];

		if (s->take_want == 0)
			continue;
		if (sole != NULL || s->take_want != n)
			return NULL;
		sole = s;
	}
	return sole;
}

/*
 * Service s receives all of a step's fresh arrivals, which are all the
 * queue holds, straight from their slices: what pushing them into the pool,
 * take, receive and finish do, without the pool's ring. The receipt times
 * and waits are receive's; a message received as it arrives (the common
 * case when tasks outpace arrivals) is found so without receive's division,
 * by a product with a margin far above its rounding; one processed within
 * the step is counted without passing through the held ring, which finish
 * would have emptied first (every older message there was received by t0).
 */
static void receive_fresh(struct world *w, struct world_queue *q, struct world_service *s,
	uint64_t fresh, uint64_t t0, uint64_t dt)
{
	struct world_spread_geo *g;
	struct spread sp;
	uint64_t t, k, t1 = t0 + dt, pt = s->ss->processing_time_ms, zero = 0;
	bool direct, one;

	finish_held(q, s, t1);
	if (s->tail.on)
		unheld(q, s); /* some of it is still in flight: these go behind it */
	/* after unheld, which may have taken the geometry of another step length */
	g = spread_geometry(q, dt);
	direct = s->held.len == 0;
	/* a walk of one slice when the step or the count is that small (spread_init) */
	one = g->n <= 1 || fresh <= 1;
	/* 1 - n / dt for the walk's n, from the geometry (the same double) */
	if (direct && fresh < ((uint64_t)1 << 40) &&
		(double)fresh < s->take_capacity * (one ? g->room_one : g->room) * (1.0 - 1e-9)) {
		/*
		 * Slice i (at x_i = (2i + 1) dt / 2n, rounded down) is received
		 * from dt x (its midpoint's rank, at most fresh x_i / dt) /
		 * capacity, which is then below x_i - 1/2 for every slice: each
		 * is received as it arrives. Those done by t1 are deleted within
		 * the step; the rest are held. The same as the loop below, all at
		 * once.
		 */
		uint64_t next_at, done = fresh_done(g, fresh, pt, &next_at);

		s->stats.processed += done;
		q->stats.processed += done;
		if (fresh > done) {
			/*
			 * The rest are held, as the tail: the slices from the one
			 * at next_at to the last (one slice: the step's middle).
			 */
			s->held_count += fresh - done;
			s->tail = (struct world_tail){.on = true,
				.t0_ms = t0,
				.dt_ms = dt,
				.fresh = fresh,
				.count = fresh - done,
				.first_done_ms = t0 + next_at + pt,
				.last_done_ms = t0 + (one ? next_at : g->last_at) + pt};
		}
		s->take_done = fresh;
		q->stats.wait_hist[0] += fresh;
		q->pool_count -= fresh;
		return;
	}
	spread_init(&sp, g, t0, fresh);
	while (spread_next(&sp, &t, &k)) {
		double work = (double)dt * ((double)s->take_done + (double)k / 2.0);
		uint64_t at = t;

		if (k == 0)
			continue;
		/* work / capacity < (t - t0) + 1/2 rounds to at most t - t0: at = t */
		if (!(work < ((double)(t - t0) + 0.5) * s->take_capacity * (1.0 - 1e-12))) {
			at = t0 + round_nonneg(work / s->take_capacity);
			if (at < t)
				at = t;
			if (at > t1)
				at = t1;
		}
		s->take_done += k;
		/* A wait of 0 adds 0 to the sum: counted once, after the loop. */
		if (at == t)
			zero += k;
		else
			world_stats_record_wait(w, &q->stats, at - t, k);
		if (direct && at + pt <= t1) {
			s->stats.processed += k;
			q->stats.processed += k;
			continue;
		}
		/* receipt times only grow: none after this one is done by t1 either */
		direct = false;
		cohorts_push(&s->held, at, k);
		s->held_count += k;
	}
	q->stats.wait_hist[0] += zero;
	q->pool_count -= fresh;
}

/*
 * Consumption over [t0, t0 + dt] by the running tasks of each polling
 * service: each receives at its rate (its whole messages of credit), all
 * from the same oldest messages, and holds them for its processing time
 * before deleting them. Tasks that stop finish what they hold (a graceful
 * stop). When the queue holds less than they could take, each gets its
 * share in proportion to its capacity.
 */
static void consume(
	struct world *w, struct world_queue *q, uint64_t t0, uint64_t dt, uint64_t unpushed)
{
	uint64_t want = 0, n, given = 0;

	for (size_t k = 0; k < q->consumer_count; k++) {
		struct world_service *s = q->consumers[k];
		double capacity;

		if (!s->capacity_known || s->capacity_running != s->running ||
			s->capacity_dt_ms != dt) {
			/* No running task: capacity is exactly 0 (0 x rate x dt / 1000), no
			 * division. */
			s->capacity = s->running == 0 && s->ss->messages_per_task_s >= 0
				? 0.0
				: (double)s->running * s->ss->messages_per_task_s * (double)dt /
					1000.0;
			s->capacity_known = true;
			s->capacity_running = s->running;
			s->capacity_dt_ms = dt;
		}
		capacity = s->capacity;

		s->consume_credit += capacity;
		/* The whole messages of credit, kept for the two uses below. */
		s->take_whole = floor_nonneg(s->consume_credit + 1e-9);
		s->take_want = whole_u64(s->take_whole);
		s->take_done = 0;
		s->take_capacity = s->consume_credit > capacity ? s->consume_credit : capacity;
		want += s->take_want;
	}
	n = want < q->pool_count ? want : q->pool_count;
	for (size_t k = 0; k < q->consumer_count && n < want; k++) {
		struct world_service *s = q->consumers[k];
		uint64_t whole = s->take_want;

		/* fewer messages than capacity: shares by capacity, remainders in order below */
		if (whole == 0)
			s->take_want = 0; /* 0 x n / want */
		else if (whole == want && want < SHARE_EXACT)
			s->take_want = n; /* want x n / want, exact below 2^53 */
		else
			s->take_want = (uint64_t)((double)whole * (double)n / (double)want);
		given += s->take_want;
	}
	for (size_t k = 0; k < q->consumer_count && n < want && given < n; k++) {
		struct world_service *s = q->consumers[k];

		if ((double)s->take_want < s->take_whole) {
			s->take_want++;
			given++;
		}
	}
	if (unpushed > 0) {
		/* the pool held nothing before this step's arrivals, not yet pushed */
		struct world_service *sole =
			n == unpushed && n < SHARE_EXACT ? sole_taker(w, q, n) : NULL;

		/*
		 * held's length decides below, and a tail is at most
		 * ARRIVAL_SLICES_MAX(its dt) of it: written out when that might
		 * count (the two maxima add up to at most (dt + its dt) / slice + 4).
		 */
		if (sole != NULL && sole->tail.on &&
			sole->tail.dt_ms + dt >= (uint64_t)(COHORTS_MAX - 4) * ARRIVAL_SLICE_MS)
			unheld(q, sole);
		if (sole != NULL && sole->held.len + ARRIVAL_SLICES_MAX(dt) < COHORTS_MAX) {
			receive_fresh(w, q, sole, unpushed, t0, dt);
			n = 0;
		} else {
			push_spread(q, t0, dt, unpushed);
		}
	}
	if (n > 0)
		take(w, q, n, t0, dt);
	for (size_t k = 0; k < q->consumer_count; k++) {
		struct world_service *s = q->consumers[k];
		double whole = s->take_whole;

		/* capacity that found no message is lost, as an idle poller's is */
		s->consume_credit -= (double)s->take_done < whole ? whole : (double)s->take_done;
		if (s->consume_credit < 0)
			s->consume_credit = 0;
	}
}

/* One step of a queue over [t0, t1]. */
void world_queue_step(struct world *w, struct world_queue *q, uint64_t t0, uint64_t t1)
{
	uint64_t dt = t1 - t0, mid = t0 + dt / 2, target, fresh = 0, holding = 0, unpushed = 0;

	/* arrivals: whole messages as the exact integral passes integers */
	q->arrived_exact += integrate(q, t0, t1);
	target = whole_u64(floor_nonneg(q->arrived_exact + 1e-9));
	if (target > q->stats.arrived)
		fresh = target - q->stats.arrived;
	q->stats.arrived += fresh;
	if (q->sq->delay_ms > 0) {
		cohorts_push(&q->delayed, mid, fresh);
		q->delayed_count += fresh;
	} else if (q->pool_count == 0 && q->pool.len == 0) {
		/* pushed by consume unless one service receives them all at once */
		unpushed = fresh;
		q->pool_count = fresh;
	} else {
		push_spread(q, t0, dt, fresh);
		q->pool_count += fresh;
	}
	/* delayed messages become visible delay_ms after they were sent */
	for (struct world_cohort *c;
		(c = cohorts_front(&q->delayed)) != NULL && c->t_ms + q->sq->delay_ms <= t1;) {
		cohorts_push(&q->pool, c->t_ms, c->count);
		q->pool_count += c->count;
		q->delayed_count -= c->count;
		cohorts_pop(&q->delayed);
	}
	consume(w, q, t0, dt, unpushed);
	for (size_t k = 0; k < q->consumer_count; k++) {
		struct world_service *s = q->consumers[k];

		finish_held(q, s, t1);
		holding += s->held_count;
	}
	q->in_flight = holding;
	q->stats.waiting = q->pool_count + q->delayed_count + q->in_flight;
	if (q->stats.waiting > q->stats.max_waiting)
		q->stats.max_waiting = q->stats.waiting;
	/* waiting x 1000 / 1000 is exactly waiting below 2^43: no division for a whole second. */
	if (dt == 1000 && q->stats.waiting < ((uint64_t)1 << 43))
		q->stats.backlog_message_seconds += (double)q->stats.waiting;
	else
		q->stats.backlog_message_seconds += (double)q->stats.waiting * (double)dt / 1000.0;
}

/* The true counts now (inline here: every step's reading takes them). */
static inline void counts_now(const struct world_queue *q, struct world_queue_counts *out)
{
	out->visible = q->pool_count;
	out->in_flight = q->in_flight;
	out->delayed = q->delayed_count;
}

/* The true counts now. */
void world_queue_counts(const struct world_queue *q, struct world_queue_counts *out)
{
	counts_now(q, out);
}

/* Keep a reading for the lag line; drop those no longer needed. */
void world_queue_snapshot(struct world_queue *q, uint64_t now_ms)
{
	uint64_t lag = q->lag_ms;
	struct world_snap *last;

	if (lag == 0)
		return;
	/* the oldest reading still needed is the newest one at or before now - lag */
	while (q->snap_len >= 2 && now_ms >= lag &&
		q->snaps[(q->snap_head + 1) % WORLD_SNAPS].t_ms <= now_ms - lag) {
		q->snap_head = (q->snap_head + 1) % WORLD_SNAPS;
		q->snap_len--;
	}
	if (q->snap_len > 0) {
		last = &q->snaps[(q->snap_head + q->snap_len - 1) % WORLD_SNAPS];
		if (now_ms - last->t_ms < q->snap_spacing_ms && now_ms != last->t_ms)
			return;
		if (now_ms == last->t_ms) {
			counts_now(q, &last->counts);
			return;
		}
	}
	if (q->snap_len == WORLD_SNAPS) {
		q->snap_head = (q->snap_head + 1) % WORLD_SNAPS;
		q->snap_len--;
	}
	last = &q->snaps[(q->snap_head + q->snap_len) % WORLD_SNAPS];
	last->t_ms = now_ms;
	counts_now(q, &last->counts);
	q->snap_len++;
}

/* The counts of reporting_lag_ms ago (of t=0 while younger than the lag). */
void world_queue_reported(
	const struct world_queue *q, uint64_t now_ms, struct world_queue_counts *out)
{
	uint64_t lag = q->lag_ms;
	size_t best = q->snap_head;

	if (lag == 0 || q->snap_len == 0) {
		counts_now(q, out);
		return;
	}
	for (size_t i = 1; i < q->snap_len && now_ms >= lag; i++) {
		size_t idx = (q->snap_head + i) % WORLD_SNAPS;

		if (q->snaps[idx].t_ms > now_ms - lag)
			break;
		best = idx;
	}
	*out = q->snaps[best].counts;
}
