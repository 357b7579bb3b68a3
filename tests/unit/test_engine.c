/*
 * Table tests of engine_decide, one table per step of the scaling rule
 * (backlog, activation, clamps, tolerance, split, make before break, fail
 * static). Every row is one named situation and one TAP line; each checks
 * the new counts, the flags that must be set and a fragment of the reason.
 */
#include "engine_fixture.h"

/* Which observations a row spoils: M_* missing (not ok), S_* stale. */
enum {
	M_QUEUE = 1 << 0,
	M_LOCAL = 1 << 1,
	M_BURST = 1 << 2,
	M_TASK = 1 << 3,
	M_CLUSTER = 1 << 4,
	S_QUEUE = 1 << 8,
	S_LOCAL = 1 << 9,
	S_BURST = 1 << 10,
	S_TASK = 1 << 11,
	S_CLUSTER = 1 << 12,
	AT_AGE_LIMIT = 1 << 13, /* every observation exactly max age old */
	J_LOCAL = 1 << 14, /* the local counts are junk (the row sets them) */
};

#define NO_BURST (-1)

struct row {
	const char *name;
	/* policy changes from fixture_policy (0 keeps the default unless noted) */
	int32_t min; /* -1: 0 */
	int32_t max;
	int32_t burst_max; /* NO_BURST: no burst */
	int64_t activation;
	double tolerance;
	bool in_flight;
	bool delayed;
	int32_t concurrency; /* 0: the backlog alone */
	int32_t utilization; /* percent */
	/* observation */
	int64_t visible, in_flight_n, delayed_n;
	int32_t local_desired, local_running, local_pending, burst_desired, burst_pending;
	int32_t n_instances; /* -1: none; 0: 3 instances of 1024 cpu, 2048 MiB */
	int32_t task_cpu; /* -1: 0 */
	int32_t task_mib;
	int32_t free_cpu; /* -1: 0 */
	uint32_t spoil;
	/* expected */
	int32_t want_local;
	int32_t want_burst;
	uint32_t want_flags;
	const char *reason;
};

static const struct row backlog_rows[] = {
	{.name = "visible messages only by default",
		.visible = 600,
		.in_flight_n = 400,
		.delayed_n = 300,
		.local_desired = 10,
		.local_running = 10,
		.want_local = 12,
		.reason = "wanted 12 (backlog 600 / 50)"},
	{.name = "in-flight messages when included",
		.in_flight = true,
		.visible = 600,
		.in_flight_n = 400,
		.delayed_n = 300,
		.local_desired = 10,
		.local_running = 10,
		.want_local = 20,
		.reason = "backlog 1000 / 50"},
	{.name = "delayed messages when included",
		.delayed = true,
		.visible = 600,
		.in_flight_n = 400,
		.delayed_n = 300,
		.local_desired = 10,
		.local_running = 10,
		.want_local = 18,
		.reason = "backlog 900 / 50"},
	{.name = "everything included overflows to burst",
		.in_flight = true,
		.delayed = true,
		.visible = 600,
		.in_flight_n = 400,
		.delayed_n = 300,
		.local_desired = 10,
		.local_running = 10,
		.want_local = 20,
		.want_burst = 6,
		.want_flags = ENGINE_BOUND_CAPACITY,
		.reason = "6 to burst"},
	{.name = "a partial task rounds up",
		.visible = 601,
		.local_desired = 10,
		.local_running = 10,
		.want_local = 13,
		.reason = "wanted 13"},
	{.name = "empty queue scales in to min",
		.visible = 0,
		.local_desired = 5,
		.local_running = 5,
		.want_local = 1,
		.want_flags = ENGINE_BOUND_MIN,
		.reason = "raised to min 1"},
	{.name = "huge counts saturate at the maximum",
		.in_flight = true,
		.visible = INT64_MAX,
		.in_flight_n = INT64_MAX,
		.local_desired = 20,
		.local_running = 20,
		.want_local = 20,
		.want_burst = 40,
		.want_flags = ENGINE_BOUND_MAX,
		.reason = "capped at max 60"},
};

static const struct row work_rows[] = {
	{.name = "busy tasks are needed with an empty queue",
		.concurrency = 1,
		.utilization = 100,
		.in_flight_n = 7,
		.local_desired = 10,
		.local_running = 10,
		.want_local = 7,
		.reason = "wanted 7 (in flight 7 / (1 x 100%) + backlog 0 / 50)"},
	{.name = "the backlog adds tasks for the messages waiting",
		.concurrency = 1,
		.utilization = 100,
		.visible = 100,
		.in_flight_n = 5,
		.local_desired = 5,
		.local_running = 5,
		.want_local = 7,
		.reason = "wanted 7 (in flight 5"},
	{.name = "several messages at once per task",
		.concurrency = 4,
		.utilization = 100,
		.in_flight_n = 10,
		.local_desired = 3,
		.local_running = 3,
		.want_local = 3,
		.reason = "in flight 10 / (4 x 100%)"},
	{.name = "utilisation headroom only in free local capacity",
		.concurrency = 1,
		.utilization = 50,
		.in_flight_n = 15,
		.local_desired = 10,
		.local_running = 10,
		.want_local = 20,
		.want_burst = 0,
		.reason = "wanted 20 (in flight 15 / (1 x 50%)"},
	{.name = "in flight counted as backlog: the backlog alone",
		.concurrency = 1,
		.utilization = 80,
		.in_flight = true,
		.visible = 600,
		.in_flight_n = 400,
		.local_desired = 10,
		.local_running = 10,
		.want_local = 20,
		.reason = "wanted 20 (backlog 1000 / 50)"},
	{.name = "burst takes what local capacity cannot hold",
		.concurrency = 1,
		.utilization = 100,
		.visible = 500,
		.in_flight_n = 20,
		.local_desired = 20,
		.local_running = 20,
		.burst_desired = 3,
		.want_local = 20,
		.want_burst = 10,
		.reason = "10 to burst"},
};

static const struct row activation_rows[] = {
	{.name = "at zero and backlog at activation stays at zero",
		.min = -1,
		.activation = 10,
		.visible = 10,
		.want_local = 0,
		.want_flags = ENGINE_BOUND_ACTIVATION,
		.reason = "activation: backlog 10 <= 10, stays at 0"},
	{.name = "at zero and backlog above activation wakes",
		.min = -1,
		.activation = 10,
		.visible = 11,
		.want_local = 1,
		.reason = "wanted 1 (backlog 11 / 50)"},
	{.name = "at zero with an empty queue stays at zero",
		.min = -1,
		.visible = 0,
		.want_local = 0,
		.reason = "wanted 0"},
	{.name = "a running service ignores activation",
		.min = -1,
		.activation = 100,
		.visible = 10,
		.local_desired = 2,
		.local_running = 2,
		.want_local = 1,
		.reason = "wanted 1"},
	{.name = "local min above zero beats activation",
		.activation = 10,
		.visible = 5,
		.want_local = 1,
		.want_flags = ENGINE_BOUND_MIN,
		.reason = "raised to min 1"},
	{.name = "burst tasks count as not at zero",
		.min = -1,
		.activation = 100,
		.visible = 5,
		.burst_desired = 2,
		.want_local = 1,
		.want_burst = 1,
		.want_flags = ENGINE_MAKE_BEFORE_BREAK,
		.reason = "burst kept at 1"},
};

static const struct row clamp_rows[] = {
	{.name = "below local min is raised",
		.min = 3,
		.visible = 50,
		.local_desired = 3,
		.local_running = 3,
		.want_local = 3,
		.want_flags = ENGINE_BOUND_MIN,
		.reason = "raised to min 3"},
	{.name = "above local plus burst max is capped",
		.visible = 5000,
		.local_desired = 20,
		.local_running = 20,
		.n_instances = 6,
		.want_local = 20,
		.want_burst = 40,
		.want_flags = ENGINE_BOUND_MAX,
		.reason = "wanted 100 (backlog 5000 / 50); capped at max 60"},
	{.name = "without burst capped at local max",
		.burst_max = NO_BURST,
		.visible = 5000,
		.local_desired = 10,
		.local_running = 10,
		.want_local = 20,
		.want_flags = ENGINE_BOUND_MAX,
		.reason = "capped at max 20"},
	{.name = "a current count above max is lowered",
		.burst_max = NO_BURST,
		.visible = 5000,
		.local_desired = 25,
		.local_running = 25,
		.want_local = 20,
		.want_flags = ENGINE_BOUND_MAX,
		.reason = "capped at max 20"},
	{.name = "burst above its max is lowered",
		.visible = 5000,
		.local_desired = 20,
		.local_running = 20,
		.burst_desired = 50,
		.want_local = 20,
		.want_burst = 40,
		.want_flags = ENGINE_BOUND_MAX,
		.reason = "capped at max 60"},
};

static const struct row tolerance_rows[] = {
	{.name = "a rise within tolerance holds",
		.tolerance = 0.1,
		.visible = 520,
		.local_desired = 10,
		.local_running = 10,
		.want_local = 10,
		.want_flags = ENGINE_BOUND_TOLERANCE,
		.reason = "within tolerance 0.10 of 10"},
	{.name = "a fall within tolerance holds",
		.tolerance = 0.1,
		.visible = 450,
		.local_desired = 10,
		.local_running = 10,
		.want_local = 10,
		.want_flags = ENGINE_BOUND_TOLERANCE,
		.reason = "wanted 9"},
	{.name = "a rise beyond tolerance scales",
		.tolerance = 0.1,
		.visible = 600,
		.local_desired = 10,
		.local_running = 10,
		.want_local = 12,
		.reason = "wanted 12"},
	{.name = "from zero nothing is within tolerance",
		.min = -1,
		.tolerance = 0.5,
		.visible = 1,
		.want_local = 1,
		.reason = "wanted 1"},
	{.name = "tolerance never keeps a count above max",
		.burst_max = NO_BURST,
		.tolerance = 0.5,
		.visible = 1200,
		.local_desired = 25,
		.local_running = 25,
		.want_local = 20,
		.want_flags = ENGINE_BOUND_TOLERANCE | ENGINE_BOUND_MAX,
		.reason = "capped at max 20"},
	{.name = "zero tolerance moves by one task",
		.visible = 550,
		.local_desired = 10,
		.local_running = 10,
		.want_local = 11,
		.reason = "wanted 11"},
};

static const struct row split_rows[] = {
	{.name = "all local when it fits",
		.visible = 600,
		.local_desired = 2,
		.local_running = 2,
		.want_local = 12,
		.reason = "local capacity 14 (12 on 3 instances + 2 placed)"},
	{.name = "overflow goes to burst",
		.visible = 1000,
		.local_desired = 2,
		.local_running = 2,
		.want_local = 14,
		.want_burst = 6,
		.want_flags = ENGINE_BOUND_CAPACITY,
		.reason = "6 to burst"},
	{.name = "pending tasks count as placed",
		.visible = 1000,
		.local_desired = 4,
		.local_running = 2,
		.local_pending = 2,
		.want_local = 16,
		.want_burst = 4,
		.reason = "local capacity 16 (12 on 3 instances + 4 placed)"},
	{.name = "desired beyond placed is not capacity",
		.visible = 1000,
		.local_desired = 18,
		.local_running = 2,
		.want_local = 14,
		.want_burst = 6,
		.reason = "local capacity 14"},
	{.name = "no instances keeps what is placed",
		.n_instances = -1,
		.visible = 500,
		.local_desired = 3,
		.local_running = 3,
		.want_local = 3,
		.want_burst = 7,
		.reason = "local capacity 3 (0 on 0 instances + 3 placed); 7 to burst"},
	{.name = "local min beats capacity, burst covers what cannot be placed",
		.min = 5,
		.n_instances = -1,
		.visible = 0,
		.want_local = 5,
		.want_burst = 5,
		.want_flags = ENGINE_BOUND_CAPACITY | ENGINE_MAKE_BEFORE_BREAK,
		.reason = "local capacity 0"},
	{.name = "min above capacity: burst covers wanted less local capacity",
		.min = 5,
		.n_instances = -1,
		.visible = 400,
		.local_desired = 2,
		.local_running = 2,
		.want_local = 5,
		.want_burst = 6,
		.want_flags = ENGINE_BOUND_CAPACITY | ENGINE_MAKE_BEFORE_BREAK,
		.reason = "burst kept at 6 until local tasks run (2 of 5 running)"},
	{.name = "min above capacity without burst: the min alone",
		.min = 5,
		.burst_max = NO_BURST,
		.n_instances = -1,
		.visible = 400,
		.local_desired = 2,
		.local_running = 2,
		.want_local = 5,
		.want_flags = ENGINE_BOUND_CAPACITY | ENGINE_UNMET,
		.reason = "local capacity 2"},
	{.name = "burst max leaves the rest unmet",
		.burst_max = 5,
		.n_instances = -1,
		.visible = 1000,
		.local_desired = 3,
		.local_running = 3,
		.want_local = 3,
		.want_burst = 5,
		.want_flags = ENGINE_UNMET,
		.reason = "12 unmet at burst max 5"},
	{.name = "without burst the rest is unmet",
		.burst_max = NO_BURST,
		.n_instances = -1,
		.visible = 1000,
		.local_desired = 3,
		.local_running = 3,
		.want_local = 3,
		.want_flags = ENGINE_UNMET,
		.reason = "17 unmet (no burst)"},
	{.name = "task cpu zero: memory alone limits",
		.min = -1,
		.task_cpu = -1,
		.free_cpu = -1,
		.visible = 600,
		.want_local = 12,
		.reason = "12 on 3 instances"},
	{.name = "memory limits before cpu",
		.min = -1,
		.task_mib = 1024,
		.visible = 1000,
		.want_local = 6,
		.want_burst = 14,
		.reason = "local capacity 6 (6 on 3 instances"},
	{.name = "local max caps capacity",
		.max = 10,
		.visible = 1000,
		.local_desired = 2,
		.local_running = 2,
		.want_local = 10,
		.want_burst = 10,
		.reason = "local capacity 10 (12 on 3 instances + 2 placed, local max 10)"},
};

static const struct row mbb_rows[] = {
	{.name = "burst kept while local tasks start",
		.visible = 1000,
		.local_desired = 2,
		.local_running = 2,
		.burst_desired = 6,
		.n_instances = 5,
		.want_local = 20,
		.want_burst = 6,
		.want_flags = ENGINE_MAKE_BEFORE_BREAK,
		.reason = "burst kept at 6 until local tasks run"},
	{.name = "burst drops as local tasks run",
		.visible = 1000,
		.local_desired = 20,
		.local_running = 16,
		.local_pending = 4,
		.burst_desired = 6,
		.want_local = 20,
		.want_burst = 4,
		.want_flags = ENGINE_MAKE_BEFORE_BREAK,
		.reason = "burst kept at 4"},
	{.name = "burst released once local runs",
		.visible = 1000,
		.local_desired = 20,
		.local_running = 20,
		.burst_desired = 6,
		.want_local = 20,
		.want_burst = 0,
		.reason = "local capacity 20"},
	{.name = "scale-in drops burst with the total",
		.visible = 500,
		.local_desired = 20,
		.local_running = 20,
		.burst_desired = 6,
		.want_local = 10,
		.want_burst = 0,
		.reason = "wanted 10"},
	{.name = "a lowered burst max beats make before break",
		.burst_max = 3,
		.visible = 1000,
		.local_desired = 2,
		.local_running = 2,
		.burst_desired = 6,
		.n_instances = 5,
		.want_local = 20,
		.want_burst = 3,
		.want_flags = ENGINE_MAKE_BEFORE_BREAK,
		.reason = "burst kept at 3"},
	{.name = "burst grows at once",
		.visible = 1500,
		.local_desired = 14,
		.local_running = 2,
		.local_pending = 12,
		.burst_desired = 0,
		.n_instances = -1,
		.want_local = 14,
		.want_burst = 16,
		.reason = "16 to burst"},
};

static const struct row fail_static_rows[] = {
	{.name = "queue missing holds both",
		.visible = 5000,
		.local_desired = 5,
		.local_running = 5,
		.burst_desired = 2,
		.spoil = M_QUEUE,
		.want_local = 5,
		.want_burst = 2,
		.want_flags = ENGINE_MISSING_DATA,
		.reason = "holding local 5 burst 2: missing data (queue)"},
	{.name = "queue stale holds both",
		.visible = 0,
		.local_desired = 5,
		.local_running = 5,
		.burst_desired = 2,
		.spoil = S_QUEUE,
		.want_local = 5,
		.want_burst = 2,
		.want_flags = ENGINE_MISSING_DATA,
		.reason = "(queue)"},
	{.name = "local service stale holds both",
		.visible = 0,
		.local_desired = 5,
		.local_running = 5,
		.burst_desired = 2,
		.spoil = S_LOCAL,
		.want_local = 5,
		.want_burst = 2,
		.want_flags = ENGINE_MISSING_DATA,
		.reason = "(local service)"},
	{.name = "burst service missing holds local",
		.visible = 0,
		.local_desired = 5,
		.local_running = 5,
		.burst_desired = 2,
		.spoil = M_BURST,
		.want_local = 5,
		.want_burst = 0,
		.want_flags = ENGINE_MISSING_DATA,
		.reason = "(burst service)"},
	{.name = "task definition missing holds",
		.visible = 5000,
		.local_desired = 5,
		.local_running = 5,
		.spoil = M_TASK,
		.want_local = 5,
		.want_flags = ENGINE_MISSING_DATA,
		.reason = "(task definition)"},
	{.name = "task definition stale holds",
		.visible = 5000,
		.local_desired = 5,
		.local_running = 5,
		.spoil = S_TASK,
		.want_local = 5,
		.want_flags = ENGINE_MISSING_DATA,
		.reason = "(task definition)"},
	{.name = "instances missing holds",
		.visible = 5000,
		.local_desired = 5,
		.local_running = 5,
		.spoil = M_CLUSTER,
		.want_local = 5,
		.want_flags = ENGINE_MISSING_DATA,
		.reason = "(instances)"},
	{.name = "instances stale holds",
		.visible = 0,
		.local_desired = 5,
		.local_running = 5,
		.spoil = S_CLUSTER,
		.want_local = 5,
		.want_flags = ENGINE_MISSING_DATA,
		.reason = "(instances)"},
	{.name = "everything missing names everything",
		.local_desired = 5,
		.spoil = M_QUEUE | S_LOCAL | M_BURST | M_TASK | M_CLUSTER,
		.want_local = 5,
		.want_flags = ENGINE_MISSING_DATA,
		.reason = "(queue, local service, burst service, task definition, instances)"},
	{.name = "missing data never scales to zero",
		.min = -1,
		.visible = 0,
		.local_desired = 3,
		.local_running = 3,
		.spoil = M_QUEUE,
		.want_local = 3,
		.want_flags = ENGINE_MISSING_DATA,
		.reason = "holding local 3"},
	{.name = "missing data still raises a count below min",
		.min = 5,
		.visible = 5000,
		.local_desired = 2,
		.local_running = 2,
		.spoil = M_CLUSTER,
		.want_local = 5,
		.want_flags = ENGINE_MISSING_DATA | ENGINE_BOUND_MIN,
		.reason = "missing data (instances); raised to min 5"},
	{.name = "missing data still lowers a count above max",
		.visible = 5000,
		.local_desired = 25,
		.local_running = 25,
		.burst_desired = 45,
		.spoil = M_QUEUE,
		.want_local = 20,
		.want_burst = 40,
		.want_flags = ENGINE_MISSING_DATA | ENGINE_BOUND_MAX,
		.reason = "lowered to max (local 20, burst 40)"},
	{.name = "a negative queue count is junk",
		.visible = -5,
		.local_desired = 5,
		.local_running = 5,
		.want_local = 5,
		.want_flags = ENGINE_MISSING_DATA,
		.reason = "(queue)"},
	{.name = "an absurd service count is junk",
		.visible = 5000,
		.local_desired = 2000000,
		.local_running = 3,
		.spoil = J_LOCAL,
		.want_local = 20,
		.want_flags = ENGINE_MISSING_DATA,
		.reason = "(local service)"},
	{.name = "data exactly max age old is fresh",
		.visible = 600,
		.local_desired = 5,
		.local_running = 5,
		.spoil = AT_AGE_LIMIT,
		.want_local = 12,
		.reason = "wanted 12"},
};

/* Build the policy, cluster and observation of a row. */
static void build(const struct row *r, struct engine_policy *p, struct engine_cluster *c,
	struct engine_instance *in, struct engine_observation *o)
{
	int32_t n = r->n_instances == 0 ? 3 : (r->n_instances < 0 ? 0 : r->n_instances);
	uint64_t stale = NOW_MS - MAX_AGE_MS - 1;

	*p = fixture_policy();
	if (r->min != 0)
		p->local_min_tasks = r->min < 0 ? 0 : r->min;
	if (r->max != 0)
		p->local_max_tasks = r->max;
	if (r->burst_max == NO_BURST) {
		p->has_burst = false;
		p->burst_max_tasks = 0;
	} else if (r->burst_max != 0) {
		p->burst_max_tasks = r->burst_max;
	}
	p->activation_backlog = r->activation;
	p->tolerance = r->tolerance;
	p->include_in_flight = r->in_flight;
	p->include_delayed = r->delayed;
	p->concurrency = r->concurrency;
	p->utilization_percent = r->utilization;

	fixture_instances(in, (size_t)n, r->free_cpu < 0 ? 0 : 1024, 2048);
	c->ok = true;
	c->observed_ms = FRESH_MS;
	c->instances = in;
	c->n_instances = (size_t)n;

	*o = fixture_observation(c);
	o->queue.visible = r->visible;
	o->queue.in_flight = r->in_flight_n;
	o->queue.delayed = r->delayed_n;
	o->local.desired = r->local_desired;
	o->local.running = r->local_running;
	o->local.pending = r->local_pending;
	o->burst.desired = r->burst_desired;
	o->burst.running = r->burst_desired - r->burst_pending;
	o->burst.pending = r->burst_pending;
	if (r->task_cpu != 0)
		o->task.cpu_units = r->task_cpu < 0 ? 0 : r->task_cpu;
	if (r->task_mib != 0)
		o->task.memory_mib = r->task_mib;

	o->queue.ok = !(r->spoil & M_QUEUE);
	o->local.ok = !(r->spoil & M_LOCAL);
	o->burst.ok = !(r->spoil & M_BURST);
	o->task.ok = !(r->spoil & M_TASK);
	if (r->spoil & M_CLUSTER)
		o->cluster = NULL;
	if (r->spoil & S_QUEUE)
		o->queue.observed_ms = stale;
	if (r->spoil & S_LOCAL)
		o->local.observed_ms = stale;
	if (r->spoil & S_BURST)
		o->burst.observed_ms = stale;
	if (r->spoil & S_TASK)
		o->task.observed_ms = stale;
	if (r->spoil & S_CLUSTER)
		c->observed_ms = stale;
	if (r->spoil & AT_AGE_LIMIT) {
		o->queue.observed_ms = o->local.observed_ms = NOW_MS - MAX_AGE_MS;
		o->burst.observed_ms = o->task.observed_ms = NOW_MS - MAX_AGE_MS;
		c->observed_ms = NOW_MS - MAX_AGE_MS;
	}
}

/* One row: decide and compare. */
static void run_row(void **state)
{
	const struct row *r = *state;
	struct engine_policy p;
	struct engine_cluster c;
	struct engine_instance in[8];
	struct engine_observation o;
	struct engine_history h;
	struct engine_decision d;
	bool local_usable = !(r->spoil & (M_LOCAL | S_LOCAL | J_LOCAL));
	bool burst_usable = !(r->spoil & (M_BURST | S_BURST));

	build(r, &p, &c, in, &o);
	engine_history_init(&h);
	assert_int_equal(engine_decide(&p, &o, &h, NOW_MS, &d), 0);
	print_message("# reason=\"%s\"\n", fixture_reason(&d));
	assert_int_equal(d.local_desired, r->want_local);
	assert_int_equal(d.burst_desired, r->want_burst);
	if ((d.flags & r->want_flags) != r->want_flags)
		fail_msg("flags 0x%x lack 0x%x", d.flags, r->want_flags);
	if (strstr(fixture_reason(&d), r->reason) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", fixture_reason(&d), r->reason);
	assert_true(strchr(fixture_reason(&d), '\n') == NULL);
	assert_int_equal(d.update_local, local_usable && d.local_desired != r->local_desired);
	assert_int_equal(
		d.update_burst, p.has_burst && burst_usable && d.burst_desired != r->burst_desired);
	assert_int_equal(d.record, !(d.flags & ENGINE_MISSING_DATA));
}

/* Arguments the engine refuses. */
static void test_bad_arguments(void **state)
{
	struct engine_policy p = fixture_policy();
	struct engine_observation o = fixture_observation(NULL);
	struct engine_history h;
	struct engine_decision d;

	(void)state;
	engine_history_init(&h);
	memset(&d, 0x5a, sizeof(d));
	assert_int_equal(engine_decide(NULL, &o, &h, NOW_MS, &d), -EINVAL);
	assert_int_equal(engine_decide(&p, NULL, &h, NOW_MS, &d), -EINVAL);
	assert_int_equal(engine_decide(&p, &o, NULL, NOW_MS, &d), -EINVAL);
	assert_int_equal(engine_decide(&p, &o, &h, NOW_MS, NULL), -EINVAL);
	p.backlog_per_task = 0;
	assert_int_equal(engine_decide(&p, &o, &h, NOW_MS, &d), -EINVAL);
	p = fixture_policy();
	p.local_min_tasks = 30;
	assert_int_equal(engine_decide(&p, &o, &h, NOW_MS, &d), -EINVAL);
	p = fixture_policy();
	p.tolerance = 1.0;
	assert_int_equal(engine_decide(&p, &o, &h, NOW_MS, &d), -EINVAL);
	assert_int_equal(d.local_desired, 0x5a5a5a5a); /* untouched on failure */
}

/* Reasons stay one line and terminated even when long. */
static void test_reason_bounded(void **state)
{
	struct engine_policy p = fixture_policy();
	struct engine_observation o = fixture_observation(NULL);
	struct engine_history h;
	struct engine_decision d;

	(void)state;
	engine_history_init(&h);
	o.queue.ok = false;
	o.local.ok = false;
	o.burst.ok = false;
	o.task.ok = false;
	assert_int_equal(engine_decide(&p, &o, &h, NOW_MS, &d), 0);
	assert_true(strlen(fixture_reason(&d)) < ENGINE_REASON_MAX);
	assert_false(d.update_local);
	assert_false(d.update_burst);
}

/*
 * The burst sized for its start-up: one cycle after a reading 5 s earlier
 * (the trend), on 3 instances holding 12 local tasks, 5 messages a second
 * per task (200 ms each), burst tasks running 30 s after they are asked for,
 * the backlog they start for drained over a minute.
 */
struct startup_row {
	const char *name;
	uint64_t processing_ms; /* 0: not known */
	bool first_reading; /* no earlier backlog: no trend */
	int64_t before, visible, in_flight;
	int32_t before_running; /* running at the reading before; 0: as now */
	int32_t burst_desired, burst_running;
	int32_t want_total, want_burst, want_steady;
	bool want_model;
	const char *reason;
};

static const struct startup_row startup_rows[] = {
	{.name = "pending tasks take the backlog that grows while they start",
		.processing_ms = 200,
		.before = 1000,
		.visible = 1450, /* +90 a second: arrivals 30 tasks, 12 running */
		.in_flight = 12,
		.burst_desired = 24,
		.burst_running = 0,
		/* expected in 30 s: 1450 + (90 - 5 x 24 / 2) x 30 = 2350, / 300 = 7.8 */
		.want_total = 38,
		.want_burst = 26,
		.want_steady = 12, /* the busy tasks: the model only ever lowers it */
		.want_model = true,
		.reason = "burst sized for its start-up: 38 (arrivals 30.0 tasks, trend +90/s, "
			  "backlog 2350 expected in 30s, drained over 1m)"},
	{.name = "tasks that just started have not made the trend",
		.processing_ms = 200,
		.before = 1000,
		.visible = 1450, /* +90 a second while the 12 local tasks ran */
		.in_flight = 28,
		.burst_desired = 24,
		.burst_running = 16, /* started since the last reading */
		.before_running = 12,
		/* arrivals 12 + 90 / 5 = 30, not the 28 running + 18; expected 1450 + (90 - 20) x
		   30 */
		.want_total = 42,
		.want_burst = 30,
		.want_steady = 28,
		.want_model = true,
		.reason = "burst sized for its start-up: 42 (arrivals 30.0 tasks, trend +90/s, "
			  "backlog 3550 expected in 30s"},
	{.name = "without a processing time the backlog rule alone sizes the burst",
		.before = 1000,
		.visible = 1450,
		.in_flight = 12,
		.burst_desired = 24,
		.want_total = 41, /* 12 busy + ceil(1450 / 50) */
		.want_burst = 29,
		.want_steady = 12,
		.reason = "wanted 41"},
	{.name = "the first reading has no trend: the backlog rule sizes",
		.processing_ms = 200,
		.first_reading = true,
		.visible = 1450,
		.in_flight = 12,
		.burst_desired = 24,
		.want_total = 41,
		.want_burst = 29,
		.want_steady = 12,
		.reason = "wanted 41"},
	{.name = "a draining backlog keeps the tasks in hand, no more",
		.processing_ms = 200,
		.before = 3000,
		.visible = 2500, /* -100 a second with 42 tasks busy: arrivals 22 tasks */
		.in_flight = 42,
		.burst_desired = 30,
		.burst_running = 30,
		.want_total = 42, /* the backlog rule wants 92, capped at 60 */
		.want_burst = 30,
		.want_steady = 22, /* the burst's window remembers the arrivals */
		.want_model = true,
		.reason = "burst sized for its start-up: 42 (arrivals 22.0 tasks, trend -100/s, "
			  "backlog 0 expected in 30s"},
	{.name = "the start-up never lowers the total below local capacity",
		.processing_ms = 200,
		.before = 2000,
		.visible = 700, /* -260 a second: nearly drained, arrivals below 12 */
		.in_flight = 12,
		.burst_desired = 0,
		.want_total = 12,
		.want_burst = 0,
		.want_steady = 12,
		.want_model = true,
		.reason = "burst sized for its start-up: 12"},
};

/* One start-up row: a reading for the trend, then the decision. */
static void run_startup_row(void **state)
{
	const struct startup_row *r = *state;
	struct engine_policy p = fixture_policy();
	struct engine_cluster c;
	struct engine_instance in[3];
	struct engine_observation o;
	struct engine_history h;
	struct engine_decision d;

	p.concurrency = 1;
	p.utilization_percent = 100;
	p.processing_time_ms = r->processing_ms;
	p.burst_startup_ms = 30000;
	p.burst_drain_ms = 60000;
	fixture_instances(in, 3, 0, 0); /* full: local capacity is the 12 placed */
	c = (struct engine_cluster){
		.ok = true, .observed_ms = FRESH_MS, .instances = in, .n_instances = 3};
	o = fixture_observation(&c);
	o.queue.visible = r->visible;
	o.queue.in_flight = r->in_flight;
	o.local.desired = o.local.running = 12;
	o.burst.desired = r->burst_desired;
	o.burst.running = r->burst_running;
	o.burst.pending = r->burst_desired - r->burst_running;
	engine_history_init(&h);
	if (!r->first_reading) {
		h.has_backlog = true;
		h.last_backlog = r->before;
		h.last_backlog_ms = NOW_MS - 5000;
		h.last_running = r->before_running > 0 ? r->before_running : 12 + r->burst_running;
	}
	assert_int_equal(engine_decide(&p, &o, &h, NOW_MS, &d), 0);
	print_message("# reason=\"%s\"\n", fixture_reason(&d));
	assert_int_equal(d.wanted, r->want_total);
	assert_int_equal(d.local_desired, 12);
	assert_int_equal(d.burst_desired, r->want_burst);
	assert_int_equal(d.steady, r->want_steady);
	assert_int_equal(!!(d.flags & ENGINE_BURST_MODEL), r->want_model);
	if (strstr(fixture_reason(&d), r->reason) == NULL)
		fail_msg("reason \"%s\" lacks \"%s\"", fixture_reason(&d), r->reason);
	assert_true(strlen(fixture_reason(&d)) < ENGINE_REASON_MAX);
	/* The next cycle's trend starts from this reading. */
	engine_history_update(&h, &p, &d, NOW_MS);
	assert_true(h.has_backlog);
	assert_int_equal(h.last_backlog, r->visible);
	assert_int_equal(h.last_backlog_ms, NOW_MS);
}

#define ADD_TABLE(suite, group, rows) \
	for (size_t i_ = 0; i_ < sizeof(rows) / sizeof(rows[0]); i_++) \
	fixture_add(suite, group, rows[i_].name, run_row, &rows[i_])

int main(void)
{
	struct fixture_suite s = {0};

	ADD_TABLE(&s, "backlog", backlog_rows);
	ADD_TABLE(&s, "work in progress", work_rows);
	ADD_TABLE(&s, "activation", activation_rows);
	ADD_TABLE(&s, "clamp", clamp_rows);
	ADD_TABLE(&s, "tolerance", tolerance_rows);
	ADD_TABLE(&s, "split", split_rows);
	ADD_TABLE(&s, "make before break", mbb_rows);
	ADD_TABLE(&s, "fail static", fail_static_rows);
	for (size_t i = 0; i < sizeof(startup_rows) / sizeof(startup_rows[0]); i++)
		fixture_add(
			&s, "start-up", startup_rows[i].name, run_startup_row, &startup_rows[i]);
	fixture_add(&s, "api", "bad arguments are refused", test_bad_arguments, NULL);
	fixture_add(&s, "api", "reasons stay bounded", test_reason_bounded, NULL);
	return fixture_run(&s, "engine");
}
