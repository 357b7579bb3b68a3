/*
 * Behaviour tests of the engine over simulated time: stabilisation windows
 * and per-period limits as sequences of (time, backlog, expected total) steps,
 * one TAP line per sequence; then long runs checking that the history stays
 * bounded and that its compaction only ever slows scaling.
 */
#include "engine_fixture.h"

#define S 1000u /* ms per second */
#define MAX_STEPS 12

struct step {
	uint64_t at_s;
	int64_t visible; /* 10 messages per task */
	int32_t want;
};

struct seq_row {
	const char *name;
	int32_t min; /* -1: 0 */
	struct engine_behavior out;
	struct engine_behavior in;
	int32_t start; /* local desired = running at the start */
	struct step steps[MAX_STEPS]; /* ends at the first step with want 0 and at_s 0 after the
					 first */
	size_t n_steps;
	uint32_t last_flags; /* flags the last step must show */
	const char *last_reason; /* fragment of the last step's reason */
};

#define STEPS(...) \
	.steps = {__VA_ARGS__}, \
	.n_steps = sizeof((struct step[]){__VA_ARGS__}) / sizeof(struct step)

static const struct seq_row window_rows[] = {
	{.name = "scale-in waits out its window",
		.in = {.stabilization_ms = 300 * S},
		.start = 10,
		STEPS({0, 100, 10}, {60, 20, 10}, {120, 20, 10}, {299, 20, 10}, {300, 20, 2}),
		.last_reason = "wanted 2"},
	{.name = "scale-in takes the highest of its window",
		.in = {.stabilization_ms = 100 * S},
		.start = 10,
		STEPS({0, 100, 10}, {30, 50, 10}, {60, 80, 10}, {100, 20, 8}, {130, 20, 8},
			{160, 20, 2}),
		.last_reason = "wanted 2"},
	{.name = "scale-in window holds and says so",
		.in = {.stabilization_ms = 300 * S},
		.start = 10,
		STEPS({0, 100, 10}, {60, 20, 10}),
		.last_flags = ENGINE_BOUND_STABILIZATION,
		.last_reason = "scale-in stabilisation 5m holds 10"},
	{.name = "scale-out takes the lowest of its window",
		.out = {.stabilization_ms = 60 * S},
		.start = 2,
		STEPS({0, 20, 2}, {10, 100, 2}, {40, 100, 2}, {59, 100, 2}, {60, 100, 10}),
		.last_reason = "wanted 10"},
	{.name = "scale-out window holds and says so",
		.out = {.stabilization_ms = 60 * S},
		.start = 2,
		STEPS({0, 20, 2}, {10, 100, 2}),
		.last_flags = ENGINE_BOUND_STABILIZATION,
		.last_reason = "scale-out stabilisation 1m holds 2"},
	{.name = "zero windows follow at once",
		.start = 10,
		STEPS({0, 20, 2}, {10, 100, 10}, {20, 30, 3})},
	{.name = "a spike is remembered for the scale-in window",
		.in = {.stabilization_ms = 60 * S},
		.start = 5,
		STEPS({0, 50, 5}, {10, 200, 20}, {20, 50, 20}, {69, 50, 20}, {70, 50, 5})},
};

static const struct seq_row limit_rows[] = {
	{.name = "scale-out limited by tasks per period",
		.out = {.period_ms = 60 * S, .max_tasks = 4},
		.start = 2,
		STEPS({0, 1000, 6}, {10, 1000, 6}, {59, 1000, 6}, {60, 1000, 10}, {120, 1000, 14}),
		.last_flags = ENGINE_BOUND_RATE,
		.last_reason = "scale-out rate limit 14 per 1m"},
	{.name = "percent allows the larger change",
		.out = {.period_ms = 60 * S, .max_tasks = 2, .max_percent = 100},
		.start = 4,
		STEPS({0, 1000, 8}, {60, 1000, 16}),
		.last_flags = ENGINE_BOUND_RATE},
	{.name = "tasks allow the larger change",
		.out = {.period_ms = 60 * S, .max_tasks = 4, .max_percent = 10},
		.start = 10,
		STEPS({0, 1000, 14}, {60, 1000, 18})},
	{.name = "percent alone leaves zero one task at a time",
		.min = -1,
		.out = {.period_ms = 60 * S, .max_percent = 100},
		.start = 0,
		STEPS({0, 1000, 1}, {60, 1000, 2}, {120, 1000, 4}, {180, 1000, 8})},
	{.name = "scale-in limited by tasks per period",
		.in = {.period_ms = 60 * S, .max_tasks = 3},
		.start = 20,
		STEPS({0, 0, 17}, {30, 0, 17}, {60, 0, 14}),
		.last_flags = ENGINE_BOUND_RATE,
		.last_reason = "scale-in rate limit 14 per 1m"},
	{.name = "scale-in percent allows the larger change",
		.in = {.period_ms = 60 * S, .max_tasks = 1, .max_percent = 50},
		.start = 20,
		STEPS({0, 0, 10}, {60, 0, 5})},
	{.name = "no limits move at once", .start = 2, STEPS({0, 1000, 100}, {1, 0, 1})},
	{.name = "a limited scale-out still reaches min at once",
		.min = 5,
		.out = {.period_ms = 60 * S, .max_tasks = 1},
		.start = 0,
		STEPS({0, 0, 5}),
		.last_flags = ENGINE_BOUND_MIN},
	{.name = "a scale-in in the period lifts the scale-out start",
		.out = {.period_ms = 60 * S, .max_tasks = 4},
		.start = 10,
		STEPS({0, 20, 2}, {10, 1000, 14})},
	{.name = "window and limit together",
		.out = {.stabilization_ms = 30 * S, .period_ms = 60 * S, .max_tasks = 5},
		.start = 5,
		STEPS({0, 50, 5}, {10, 500, 5}, {40, 500, 10}, {100, 500, 15})},
};

/* The world of a sequence: no burst, room for everything, 10 messages a task. */
struct world {
	struct engine_policy policy;
	struct engine_instance instances[4];
	struct engine_cluster cluster;
	struct engine_observation obs;
	struct engine_history history;
};

/* Set up a world starting at start tasks, all running. */
static void world_init(struct world *w, int32_t min, int32_t start)
{
	memset(w, 0, sizeof(*w));
	w->policy = fixture_policy();
	w->policy.backlog_per_task = 10;
	w->policy.local_min_tasks = min;
	w->policy.local_max_tasks = 100;
	w->policy.has_burst = false;
	w->policy.burst_max_tasks = 0;
	fixture_instances(w->instances, 4, 1000000, 1000000);
	w->cluster.ok = true;
	w->cluster.instances = w->instances;
	w->cluster.n_instances = 4;
	w->obs = fixture_observation(&w->cluster);
	w->obs.local.desired = start;
	w->obs.local.running = start;
	engine_history_init(&w->history);
}

/* One cycle at now_ms: observe fresh, decide, act (tasks start at once), remember. */
static struct engine_decision world_step(struct world *w, uint64_t now_ms, int64_t visible)
{
	struct engine_decision d;

	w->obs.queue.visible = visible;
	w->obs.queue.observed_ms = now_ms;
	w->obs.local.observed_ms = now_ms;
	w->obs.task.observed_ms = now_ms;
	w->cluster.observed_ms = now_ms;
	assert_int_equal(engine_decide(&w->policy, &w->obs, &w->history, now_ms, &d), 0);
	engine_history_update(&w->history, &w->policy, &d, now_ms);
	w->obs.local.desired = d.local_desired;
	w->obs.local.running = d.local_desired;
	return d;
}

/* One sequence row. */
static void run_seq(void **state)
{
	const struct seq_row *r = *state;
	struct world w;
	struct engine_decision d;

	world_init(&w, r->min < 0 ? 0 : (r->min == 0 ? 1 : r->min), r->start);
	w.policy.scale_out = r->out;
	w.policy.scale_in = r->in;
	memset(&d, 0, sizeof(d));
	for (size_t i = 0; i < r->n_steps; i++) {
		const struct step *s = &r->steps[i];

		d = world_step(&w, NOW_MS + s->at_s * S, s->visible);
		if (d.local_desired != s->want)
			fail_msg("at %llus: %d tasks, expected %d (%s)",
				(unsigned long long)s->at_s, d.local_desired, s->want,
				fixture_reason(&d));
	}
	if ((d.flags & r->last_flags) != r->last_flags)
		fail_msg("flags 0x%x lack 0x%x (%s)", d.flags, r->last_flags, fixture_reason(&d));
	if (r->last_reason != NULL && strstr(fixture_reason(&d), r->last_reason) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", fixture_reason(&d), r->last_reason);
}

/* A splitmix64 step: the tests' own fixed-seed generator. */
static uint64_t next_rand(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/*
 * Every second for an hour with a 300s scale-in window: the history stays
 * within its slots and scale-in never happens before the exact window ends,
 * nor much after it.
 */
static void test_window_compaction(void **state)
{
	struct world w;
	uint64_t t;
	uint64_t dropped_at = 0;

	(void)state;
	world_init(&w, 1, 10);
	w.policy.scale_in.stabilization_ms = 300 * S;
	for (t = 0; t < 3600; t++) {
		struct engine_decision d = world_step(&w, NOW_MS + t * S, t < 100 ? 100 : 10);

		assert_true(w.history.n_recs <= ENGINE_HISTORY_SLOTS);
		if (d.local_desired == 1 && dropped_at == 0)
			dropped_at = t;
		if (t <= 399)
			assert_int_equal(d.local_desired, 10); /* the last 10 was seen at 99s */
	}
	print_message("# scale-in after %llus (exact 399s)\n", (unsigned long long)dropped_at);
	assert_true(dropped_at >= 399 && dropped_at <= 399 + 300 / 8);
}

/*
 * Random backlog every few seconds (at 1s so busy that the event rings
 * compact) for hours: a step up stays within the scale-out limit of the
 * total when its period began, a step down within the scale-in limit.
 */
static void test_limits_hold_with_compaction(void **state)
{
	static const uint64_t intervals_s[] = {1, 5, 17};
	const uint64_t period_s = 120;
	const int32_t up = 20, down = 15;

	(void)state;
	for (size_t k = 0; k < sizeof(intervals_s) / sizeof(intervals_s[0]); k++) {
		enum { STEPS_N = 7200 };
		static int32_t totals[STEPS_N];
		uint64_t seed = 42 + k;
		uint64_t dt = intervals_s[k];
		struct world w;
		int64_t visible = 100;
		bool compacted = false;

		world_init(&w, 1, 10);
		w.policy.scale_out =
			(struct engine_behavior){.period_ms = period_s * S, .max_tasks = up};
		w.policy.scale_in =
			(struct engine_behavior){.period_ms = period_s * S, .max_tasks = down};
		for (size_t i = 0; i < STEPS_N; i++) {
			struct engine_decision d;

			/* Mostly a random walk, often a jump: 0..1000 messages. */
			visible += (int64_t)(next_rand(&seed) % 201) - 100;
			if (next_rand(&seed) % 3 == 0)
				visible = (int64_t)(next_rand(&seed) % 1001);
			visible = visible < 0 ? 0 : (visible > 1000 ? 1000 : visible);
			d = world_step(&w, NOW_MS + i * dt * S, visible);
			totals[i] = d.local_desired;
			assert_true(w.history.n_outs <= ENGINE_HISTORY_SLOTS);
			assert_true(w.history.n_ins <= ENGINE_HISTORY_SLOTS);
			if (w.history.n_outs == ENGINE_HISTORY_SLOTS ||
				w.history.n_ins == ENGINE_HISTORY_SLOTS)
				compacted = true;
			/*
			 * The period (t - P, t] began after the step at or before
			 * t - P, or at the start of the run. A limit never forces a
			 * step (as HPA), so only steps that move are checked.
			 */
			if (i > 0 && totals[i] != totals[i - 1]) {
				int32_t before = 10;

				if (i * dt >= period_s)
					before = totals[i - (period_s + dt - 1) / dt];
				if ((totals[i] > totals[i - 1] && totals[i] > before + up) ||
					(totals[i] < totals[i - 1] && totals[i] < before - down))
					fail_msg("interval %llus step %zu: %d from %d at the "
						 "period start",
						(unsigned long long)dt, i, totals[i], before);
			}
		}
		if (dt == 1)
			assert_true(compacted); /* the test must exercise compaction */
	}
}

/* The same sequence run twice gives the same totals. */
static void test_sequence_deterministic(void **state)
{
	struct world a, b;
	uint64_t seed_a = 7, seed_b = 7;

	(void)state;
	world_init(&a, 1, 3);
	world_init(&b, 1, 3);
	a.policy.scale_out = b.policy.scale_out = (struct engine_behavior){
		.stabilization_ms = 20 * S, .period_ms = 30 * S, .max_percent = 50};
	a.policy.scale_in = b.policy.scale_in = (struct engine_behavior){
		.stabilization_ms = 120 * S, .period_ms = 30 * S, .max_tasks = 2};
	for (uint64_t t = 0; t < 5000; t++) {
		struct engine_decision da =
			world_step(&a, NOW_MS + t * 3 * S, (int64_t)(next_rand(&seed_a) % 800));
		struct engine_decision db =
			world_step(&b, NOW_MS + t * 3 * S, (int64_t)(next_rand(&seed_b) % 800));

		assert_int_equal(da.local_desired, db.local_desired);
		assert_string_equal(fixture_reason(&da), fixture_reason(&db));
	}
}

/* Data missing for a while records nothing and leaves the windows as they were. */
static void test_missing_records_nothing(void **state)
{
	struct world w;
	struct engine_decision d;
	size_t n_recs;

	(void)state;
	world_init(&w, 1, 10);
	w.policy.scale_in.stabilization_ms = 300 * S;
	world_step(&w, NOW_MS, 100);
	n_recs = w.history.n_recs;
	w.obs.queue.ok = false;
	d = world_step(&w, NOW_MS + 10 * S, 0);
	assert_true(d.flags & ENGINE_MISSING_DATA);
	assert_false(d.record);
	assert_int_equal(d.local_desired, 10);
	assert_int_equal(w.history.n_recs, n_recs);
	assert_int_equal(w.history.n_ins, 0);
}

/*
 * Scale-in follows the work in progress, not a drained backlog: the window
 * remembers what the messages in flight needed, so once a backlog peak is
 * drained the fleet goes to what the arrivals keep busy (and never below
 * it), while the window still holds against a dip in the arrivals.
 */
static void test_scale_in_follows_arrivals(void **state)
{
	struct world w;
	struct engine_decision d;

	(void)state;
	world_init(&w, 1, 5);
	w.policy.concurrency = 1;
	w.policy.utilization_percent = 100;
	w.policy.scale_in.stabilization_ms = 300 * S;
	/* eight busy and 200 waiting: 8 + 20 */
	w.obs.queue.in_flight = 8;
	d = world_step(&w, NOW_MS, 200);
	assert_int_equal(d.local_desired, 28);
	/* the backlog drained, eight still busy: down to eight at once */
	d = world_step(&w, NOW_MS + 10 * S, 0);
	assert_int_equal(d.local_desired, 8);
	/* arrivals dip to three busy: the window holds eight */
	w.obs.queue.in_flight = 3;
	d = world_step(&w, NOW_MS + 20 * S, 0);
	assert_int_equal(d.local_desired, 8);
	assert_true(d.flags & ENGINE_BOUND_STABILIZATION);
	/* five minutes after the last eight: three */
	d = world_step(&w, NOW_MS + 311 * S, 0);
	assert_int_equal(d.local_desired, 3);
}

/*
 * The burst's own scale-in window: once the work in progress falls, burst
 * tasks (billed) go after the burst window while the local ones (not
 * billed) ride out the whole scale-in window.
 */
static void test_burst_window(void **state)
{
	struct engine_instance in[1];
	struct engine_cluster c = {.ok = true, .instances = in, .n_instances = 1};
	struct engine_policy p = fixture_policy();
	struct engine_observation o;
	struct engine_history h;
	struct engine_decision d;
	static const struct {
		uint64_t at_s;
		int64_t in_flight;
		int32_t local, burst;
	} steps[] = {
		{0, 10, 4, 6}, /* ten busy: four local (all that fit), six burst */
		{30, 5, 4, 6}, /* five busy: both windows still hold ten */
		{70, 5, 4, 1}, /* the burst window (60 s) lets go; the local tasks stay */
		{400, 5, 4, 1}, /* the scale-in window (300 s) has passed too: still five */
		{420, 2, 4, 1}, /* two busy: both windows hold five */
		{470, 2, 4, 0}, /* the burst goes first */
		{730, 2, 2, 0}, /* then the local tasks */
	};

	(void)state;
	p.backlog_per_task = 10;
	p.local_max_tasks = 4;
	p.burst_max_tasks = 10;
	p.concurrency = 1;
	p.utilization_percent = 100;
	p.scale_in.stabilization_ms = 300 * S;
	p.has_burst_stabilization = true;
	p.burst_stabilization_ms = 60 * S;
	/* one instance holding exactly the four local tasks */
	fixture_instances(in, 1, 0, 0);
	o = fixture_observation(&c);
	o.local.desired = o.local.running = 4;
	engine_history_init(&h);
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		uint64_t now = NOW_MS + steps[i].at_s * S;

		o.queue.in_flight = steps[i].in_flight;
		o.queue.observed_ms = o.local.observed_ms = o.burst.observed_ms = now;
		o.task.observed_ms = c.observed_ms = now;
		assert_int_equal(engine_decide(&p, &o, &h, now, &d), 0);
		print_message("# t=%llus reason=\"%s\"\n", (unsigned long long)steps[i].at_s,
			fixture_reason(&d));
		assert_int_equal(d.local_desired, steps[i].local);
		assert_int_equal(d.burst_desired, steps[i].burst);
		engine_history_update(&h, &p, &d, now);
		o.local.desired = o.local.running = d.local_desired;
		o.burst.desired = o.burst.running = d.burst_desired;
	}
}

/*
 * An outage longer than the scale-in window does not erase it: after six
 * minutes without the queue (window five), one reading of 0 does not scale
 * 20 to 1; scale-in comes after a full window of fresh readings.
 */
static void test_outage_needs_fresh_window(void **state)
{
	struct world w;
	struct engine_decision d;
	uint64_t t = NOW_MS;

	(void)state;
	world_init(&w, 1, 1);
	w.policy.scale_in.stabilization_ms = 300 * S;
	d = world_step(&w, t, 200);
	assert_int_equal(d.local_desired, 20);
	w.obs.queue.ok = false;
	for (int i = 0; i < 36; i++) {
		t += 10 * S;
		d = world_step(&w, t, 0);
		assert_true(d.flags & ENGINE_MISSING_DATA);
	}
	w.obs.queue.ok = true;
	t += 10 * S;
	d = world_step(&w, t, 0);
	assert_int_equal(d.local_desired, 20);
	assert_true(d.flags & ENGINE_BOUND_STABILIZATION);
	/* Fresh readings of 0 for a window less one cycle: still 20. */
	for (int i = 0; i < 28; i++) {
		t += 10 * S;
		d = world_step(&w, t, 0);
		assert_int_equal(d.local_desired, 20);
	}
	/* A full window after the last held cycle: scale-in. */
	t += 10 * S;
	d = world_step(&w, t, 0);
	assert_int_equal(d.local_desired, 1);
}

/*
 * Make before break over time: local room appears, local tasks start one
 * cycle at a time and the burst drains as they run. The held burst is not a
 * scale-in, so a tight scale-in limit and window do not slow the drain, and
 * no scale event is recorded while the total stays the same.
 */
static void test_make_before_break_drains(void **state)
{
	static const struct {
		int32_t room; /* more local tasks that fit */
		int32_t local_running;
		int32_t want_local, want_burst;
	} steps[] = {
		{0, 14, 14, 6}, /* no room: 6 on burst */
		{6, 14, 20, 6}, /* room: local asked for 20, burst kept */
		{0, 17, 20, 3}, /* 3 started: burst drops by 3 */
		{0, 20, 20, 0}, /* all running: burst released */
		{0, 20, 20, 0},
	};
	struct world w;

	(void)state;
	world_init(&w, 1, 14);
	w.policy.has_burst = true;
	w.policy.burst_max_tasks = 40;
	w.policy.local_max_tasks = 20;
	w.policy.scale_in = (struct engine_behavior){300 * S, 60 * S, 1, 0};
	w.obs.burst.desired = w.obs.burst.running = 6;
	w.cluster.n_instances = 1;
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		uint64_t now_ms = NOW_MS + i * 10 * S;
		struct engine_decision d;

		fixture_instances(w.instances, 1, 256 * steps[i].room, 512 * steps[i].room);
		w.obs.queue.visible = 200; /* 20 tasks */
		w.obs.queue.observed_ms = w.obs.local.observed_ms = now_ms;
		w.obs.burst.observed_ms = w.obs.task.observed_ms = now_ms;
		w.cluster.observed_ms = now_ms;
		w.obs.local.running = steps[i].local_running;
		w.obs.local.pending = w.obs.local.desired - steps[i].local_running;
		if (w.obs.local.pending < 0)
			w.obs.local.pending = 0;
		assert_int_equal(engine_decide(&w.policy, &w.obs, &w.history, now_ms, &d), 0);
		if (d.local_desired != steps[i].want_local ||
			d.burst_desired != steps[i].want_burst)
			fail_msg("step %zu: local %d burst %d, expected %d and %d (%s)", i,
				d.local_desired, d.burst_desired, steps[i].want_local,
				steps[i].want_burst, fixture_reason(&d));
		assert_int_equal(d.wanted, 20);
		engine_history_update(&w.history, &w.policy, &d, now_ms);
		w.obs.local.desired = d.local_desired;
		w.obs.burst.desired = w.obs.burst.running = d.burst_desired;
	}
	assert_int_equal(w.history.n_ins, 0);
	assert_int_equal(w.history.n_outs, 0);
	assert_int_equal(w.history.held_burst, 0);
}

#define ADD_TABLE(suite, group, rows, fn) \
	for (size_t i_ = 0; i_ < sizeof(rows) / sizeof(rows[0]); i_++) \
	fixture_add(suite, group, rows[i_].name, fn, &rows[i_])

int main(void)
{
	struct fixture_suite s = {0};

	ADD_TABLE(&s, "stabilisation", window_rows, run_seq);
	ADD_TABLE(&s, "rate limit", limit_rows, run_seq);
	fixture_add(&s, "history", "window compaction never scales in early",
		test_window_compaction, NULL);
	fixture_add(&s, "history", "period limits hold while rings compact",
		test_limits_hold_with_compaction, NULL);
	fixture_add(
		&s, "history", "a sequence is deterministic", test_sequence_deterministic, NULL);
	fixture_add(
		&s, "history", "missing data records nothing", test_missing_records_nothing, NULL);
	fixture_add(&s, "history", "scale-in follows the work in progress, not a drained backlog",
		test_scale_in_follows_arrivals, NULL);
	fixture_add(&s, "history", "burst tasks follow the work in progress after their own window",
		test_burst_window, NULL);
	fixture_add(&s, "history", "an outage longer than the window needs a fresh window",
		test_outage_needs_fresh_window, NULL);
	fixture_add(&s, "history", "make before break drains burst as local tasks run",
		test_make_before_break_drains, NULL);
	return fixture_run(&s, "engine_behavior");
}
