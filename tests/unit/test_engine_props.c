/*
 * Property tests of the engine: many thousands of random policies,
 * observations and histories from a fixed-seed generator, each decision
 * checked against the promises of the scaling rule (maxima, min, fail static,
 * burst only past local capacity, claims within the fit, determinism).
 */
#include "engine_fixture.h"
#include "engine_priv.h"

#define CASES 20000
#define SHARED_CASES 3000
#define MAX_INSTANCES 8
#define WINDOW_CASES 200000

/* splitmix64: the tests' own generator, the same on every platform. */
struct rng {
	uint64_t x;
};

/* Next 64 random bits. */
static uint64_t rnd(struct rng *r)
{
	uint64_t z = (r->x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* Uniform in [lo, hi]. */
static int64_t between(struct rng *r, int64_t lo, int64_t hi)
{
	return lo + (int64_t)(rnd(r) % (uint64_t)(hi - lo + 1));
}

/* True with probability 1/n. */
static bool one_in(struct rng *r, int n)
{
	return rnd(r) % (uint64_t)n == 0;
}

/* A random behaviour: often unset, sometimes tight. */
static struct engine_behavior random_behavior(struct rng *r)
{
	struct engine_behavior b = {0};

	if (one_in(r, 3))
		return b;
	b.stabilization_ms = (uint64_t)between(r, 0, 300) * 1000;
	b.period_ms = (uint64_t)between(r, 0, 120) * 1000;
	b.max_tasks = one_in(r, 2) ? 0 : (int32_t)between(r, 1, 10);
	b.max_percent = one_in(r, 2) ? 0 : (int32_t)between(r, 1, 200);
	return b;
}

/* A random valid policy. */
static struct engine_policy random_policy(struct rng *r)
{
	struct engine_policy p;

	memset(&p, 0, sizeof(p));
	p.backlog_per_task = between(r, 1, 200);
	p.activation_backlog = one_in(r, 2) ? 0 : between(r, 0, 100);
	p.tolerance = one_in(r, 2) ? 0.0 : (double)between(r, 0, 50) / 100.0;
	p.include_in_flight = one_in(r, 2);
	p.include_delayed = one_in(r, 2);
	p.concurrency = one_in(r, 3) ? 0 : (int32_t)between(r, 1, 20);
	p.utilization_percent = one_in(r, 4) ? 0 : (int32_t)between(r, 1, 100);
	p.local_min_tasks = (int32_t)between(r, 0, 10);
	p.local_max_tasks = p.local_min_tasks + (int32_t)between(r, 0, 40);
	p.has_burst = one_in(r, 2);
	p.burst_max_tasks = p.has_burst ? (int32_t)between(r, 0, 50) : 0;
	p.reserve_cpu_units = one_in(r, 2) ? 0 : (int32_t)between(r, 0, 512);
	p.reserve_memory_mib = one_in(r, 2) ? 0 : (int32_t)between(r, 0, 1024);
	p.priority = (int32_t)between(r, 0, 3);
	p.scale_out = random_behavior(r);
	p.scale_in = random_behavior(r);
	p.has_burst_stabilization = p.has_burst && one_in(r, 2);
	p.burst_stabilization_ms = (uint64_t)between(r, 0, 300) * 1000;
	p.max_observation_age_ms = (uint64_t)between(r, 1, 60) * 1000;
	p.processing_time_ms = one_in(r, 2) ? 0 : (uint64_t)between(r, 1, 5000);
	p.burst_startup_ms = (uint64_t)between(r, 0, 120) * 1000;
	p.burst_drain_ms = (uint64_t)between(r, 1, 300) * 1000;
	return p;
}

static const uint16_t port_numbers[] = {80, 443, 8080};

/* A random port from a small set, so that collisions happen. */
static struct engine_port random_port(struct rng *r)
{
	struct engine_port port;

	port.port = port_numbers[between(r, 0, 2)];
	port.protocol = (uint8_t)between(r, 0, 1);
	return port;
}

/* Storage of one random observation's cluster. */
struct random_world {
	struct engine_instance instances[MAX_INSTANCES];
	struct engine_port used[MAX_INSTANCES][2];
	struct engine_cluster cluster;
	struct engine_observation obs;
};

/* Maybe spoil the time of an observation: stale one time in 12. */
static uint64_t random_time(struct rng *r, uint64_t now_ms)
{
	if (one_in(r, 12))
		return now_ms - (uint64_t)between(r, 61, 600) * 1000;
	return now_ms - (uint64_t)between(r, 0, 1000);
}

/* A random cluster into w->cluster. */
static void random_cluster(struct rng *r, struct random_world *w, uint64_t now_ms)
{
	size_t n = (size_t)between(r, 0, MAX_INSTANCES);

	memset(w->instances, 0, sizeof(w->instances));
	for (size_t i = 0; i < n; i++) {
		struct engine_instance *in = &w->instances[i];

		in->id = "i";
		in->active = !one_in(r, 8);
		in->agent_connected = !one_in(r, 8);
		in->matches_filter = !one_in(r, 8);
		in->remaining_cpu_units = (int32_t)between(r, -100, 4096);
		in->remaining_memory_mib = (int32_t)between(r, -100, 8192);
		in->n_used_ports = (size_t)between(r, 0, 2);
		for (size_t k = 0; k < in->n_used_ports; k++)
			w->used[i][k] = random_port(r);
		in->used_ports = w->used[i];
	}
	w->cluster.ok = !one_in(r, 20);
	w->cluster.observed_ms = random_time(r, now_ms);
	w->cluster.instances = w->instances;
	w->cluster.n_instances = n;
}

/* A random observation of w's cluster. */
static void random_observation(struct rng *r, struct random_world *w, uint64_t now_ms)
{
	struct engine_observation *o = &w->obs;

	memset(o, 0, sizeof(*o));
	o->queue.ok = !one_in(r, 20);
	o->queue.observed_ms = random_time(r, now_ms);
	o->queue.visible = one_in(r, 50) ? INT64_MAX : between(r, 0, 20000);
	o->queue.in_flight = between(r, 0, 5000);
	o->queue.delayed = between(r, 0, 5000);
	if (one_in(r, 100))
		o->queue.visible = -1;
	o->local.ok = !one_in(r, 20);
	o->local.observed_ms = random_time(r, now_ms);
	o->local.desired = (int32_t)between(r, 0, 70);
	o->local.running = (int32_t)between(r, 0, o->local.desired + 3);
	o->local.pending = (int32_t)between(r, 0, 5);
	o->burst.ok = !one_in(r, 20);
	o->burst.observed_ms = random_time(r, now_ms);
	o->burst.desired = (int32_t)between(r, 0, 70);
	o->burst.running = (int32_t)between(r, 0, o->burst.desired);
	o->burst.pending = one_in(r, 2) ? 0 : o->burst.desired - o->burst.running;
	o->task.ok = !one_in(r, 20);
	o->task.observed_ms = random_time(r, now_ms);
	o->task.cpu_units = one_in(r, 6) ? 0 : (int32_t)between(r, 1, 8) * 128;
	o->task.memory_mib = one_in(r, 6) ? 0 : (int32_t)between(r, 1, 16) * 128;
	o->task.n_ports = one_in(r, 4) ? (size_t)between(r, 1, 2) : 0;
	for (size_t k = 0; k < o->task.n_ports; k++)
		o->task.ports[k] = random_port(r);
	if (o->task.n_ports == 2 && o->task.ports[0].port == o->task.ports[1].port &&
		o->task.ports[0].protocol == o->task.ports[1].protocol)
		o->task.n_ports = 1; /* ECS refuses a task binding one port twice */
	o->cluster = one_in(r, 30) ? NULL : &w->cluster;
}

/* Whether a service observation is usable by the policy's rules at now_ms. */
static bool usable(
	const struct engine_service_obs *s, const struct engine_policy *p, uint64_t now_ms)
{
	return s->ok && now_ms - s->observed_ms <= p->max_observation_age_ms;
}

/* FNV-1a over a decision's counts and reason, for determinism checks. */
static uint64_t hash_decision(uint64_t h, const struct engine_decision *d)
{
	int32_t v[6] = {d->local_desired, d->burst_desired, d->wanted, d->local_capacity, d->fit,
		(int32_t)d->flags};
	const unsigned char *b = (const unsigned char *)v;

	for (size_t i = 0; i < sizeof(v); i++)
		h = (h ^ b[i]) * 0x100000001b3ull;
	for (const char *c = fixture_reason(d); *c != '\0'; c++)
		h = (h ^ (unsigned char)*c) * 0x100000001b3ull;
	return h;
}

/*
 * The work in progress, by an independent reckoning: unless a behaviour rule,
 * the tolerance or a maximum bound the total, it is never below the tasks the
 * messages in flight occupy (every slot busy).
 */
static void check_work_in_progress(const struct engine_policy *p,
	const struct engine_observation *o, const struct engine_decision *d, uint64_t case_no)
{
	const uint32_t bound = ENGINE_BOUND_RATE | ENGINE_BOUND_STABILIZATION |
		ENGINE_BOUND_TOLERANCE | ENGINE_BOUND_ACTIVATION;
	int64_t max_total = (int64_t)p->local_max_tasks + (p->has_burst ? p->burst_max_tasks : 0);
	int64_t busy;

	/* At zero tasks, activation alone decides (whoever holds those messages, not us). */
	bool activation = d->current_total == 0 && d->backlog <= p->activation_backlog;

	if (p->concurrency > 0 && !p->include_in_flight && !(d->flags & bound) && !activation) {
		busy = (o->queue.in_flight + p->concurrency - 1) / p->concurrency;
		if (busy > max_total)
			busy = max_total;
		if (d->wanted < busy)
			fail_msg("case %llu: wanted %d below %lld tasks busy: %s",
				(unsigned long long)case_no, d->wanted, (long long)busy,
				fixture_reason(d));
	}
}

/* Check one decision against the rule's promises. */
static void check_decision(const struct engine_policy *p, const struct engine_observation *o,
	const struct engine_decision *d, uint64_t now_ms, uint64_t case_no)
{
	int32_t burst_max = p->has_burst ? p->burst_max_tasks : 0;
	bool missing = d->flags & ENGINE_MISSING_DATA;
	bool local_ok = usable(&o->local, p, now_ms);
	bool burst_ok = !p->has_burst || usable(&o->burst, p, now_ms);

	if (d->local_desired > p->local_max_tasks || d->burst_desired > burst_max)
		fail_msg("case %llu: above a max: %s", (unsigned long long)case_no,
			fixture_reason(d));
	if (d->local_desired < 0 || d->burst_desired < 0)
		fail_msg("case %llu: negative count", (unsigned long long)case_no);
	if (!p->has_burst && (d->burst_desired != 0 || d->update_burst))
		fail_msg("case %llu: burst without burst", (unsigned long long)case_no);
	if (d->local_desired < p->local_min_tasks && !(missing && !local_ok))
		fail_msg(
			"case %llu: below min: %s", (unsigned long long)case_no, fixture_reason(d));
	if (missing) {
		/* Fail static: moves only into the bounds; nothing unknown is set. */
		int32_t in_bounds = o->local.desired < p->local_max_tasks ? o->local.desired
									  : p->local_max_tasks;

		if (in_bounds < p->local_min_tasks)
			in_bounds = p->local_min_tasks;
		if (local_ok && d->local_desired != in_bounds)
			fail_msg("case %llu: local moved on missing data: %s",
				(unsigned long long)case_no, fixture_reason(d));
		if (p->has_burst && burst_ok &&
			d->burst_desired !=
				(o->burst.desired < burst_max ? o->burst.desired : burst_max))
			fail_msg("case %llu: burst moved on missing data: %s",
				(unsigned long long)case_no, fixture_reason(d));
		if ((!local_ok && d->update_local) || (!burst_ok && d->update_burst))
			fail_msg("case %llu: set a count it could not read",
				(unsigned long long)case_no);
		assert_false(d->record);
		assert_true(d->missing != 0);
	} else {
		assert_int_equal(d->missing, 0);
		assert_true(d->record);
		if (d->burst_desired > 0 && d->local_desired < d->local_capacity &&
			d->local_desired < p->local_max_tasks &&
			!(d->flags & ENGINE_MAKE_BEFORE_BREAK))
			fail_msg("case %llu: burst %d while local %d below capacity %d: %s",
				(unsigned long long)case_no, d->burst_desired, d->local_desired,
				d->local_capacity, fixture_reason(d));
		if (d->wanted > p->local_max_tasks + burst_max)
			fail_msg("case %llu: wanted above max", (unsigned long long)case_no);
		/* New local tasks beyond placed fit, unless the min demands them. */
		if (d->local_desired > p->local_min_tasks &&
			d->local_desired - d->placed > (d->fit > 0 ? d->fit : 0))
			fail_msg("case %llu: %d new local tasks, %d fit: %s",
				(unsigned long long)case_no, d->local_desired - d->placed, d->fit,
				fixture_reason(d));
		assert_int_equal(d->update_local, d->local_desired != o->local.desired);
		check_work_in_progress(p, o, d, case_no);
	}
	assert_true(strlen(fixture_reason(d)) > 0 && strlen(fixture_reason(d)) < ENGINE_REASON_MAX);
	assert_null(strchr(fixture_reason(d), '\n'));
}

/* After a claim, no eligible instance holds more than fits on it. */
static void check_claims(const struct engine_policy *p, const struct engine_cluster *c,
	const struct engine_task_obs *task, uint64_t case_no)
{
	for (size_t i = 0; i < c->n_instances; i++) {
		const struct engine_instance *in = &c->instances[i];

		if (in->claimed_cpu_units == 0 && in->claimed_memory_mib == 0 &&
			in->n_claimed_ports == 0)
			continue;
		if (task->cpu_units > 0 &&
			in->claimed_cpu_units > in->remaining_cpu_units - p->reserve_cpu_units)
			fail_msg(
				"case %llu: instance %zu over cpu", (unsigned long long)case_no, i);
		if (task->memory_mib > 0 &&
			in->claimed_memory_mib > in->remaining_memory_mib - p->reserve_memory_mib)
			fail_msg("case %llu: instance %zu over memory", (unsigned long long)case_no,
				i);
		if (task->n_ports > 0 && task->cpu_units > 0 &&
			in->claimed_cpu_units > task->cpu_units)
			fail_msg("case %llu: instance %zu holds two tasks binding a static port",
				(unsigned long long)case_no, i);
		for (size_t k = 0; k < in->n_claimed_ports; k++) {
			for (size_t u = 0; u < in->n_used_ports; u++) {
				if (in->used_ports[u].port == in->claimed_ports[k].port &&
					in->used_ports[u].protocol == in->claimed_ports[k].protocol)
					fail_msg("case %llu: instance %zu port %u taken twice",
						(unsigned long long)case_no, i,
						in->used_ports[u].port);
			}
			for (size_t j = 0; j < k; j++) {
				if (in->claimed_ports[j].port == in->claimed_ports[k].port &&
					in->claimed_ports[j].protocol ==
						in->claimed_ports[k].protocol)
					fail_msg("case %llu: instance %zu port claimed twice",
						(unsigned long long)case_no, i);
			}
		}
	}
}

/* Run a few random cycles into a history, so windows and limits take part. */
static void random_history(
	struct rng *r, const struct engine_policy *p, struct engine_history *h, uint64_t now_ms)
{
	size_t steps = (size_t)between(r, 0, 6);

	engine_history_init(h);
	for (size_t i = 0; i < steps; i++) {
		struct random_world w;
		struct engine_decision d;
		uint64_t at = now_ms - (steps - i) * (uint64_t)between(r, 1, 60) * 1000;

		random_cluster(r, &w, at);
		random_observation(r, &w, at);
		if (engine_decide(p, &w.obs, h, at, &d) == 0)
			engine_history_update(h, p, &d, at);
	}
}

/* One pass over CASES random single-policy cases; returns a hash of all decisions. */
static uint64_t single_pass(uint64_t seed)
{
	struct rng r = {seed};
	uint64_t hash = 0xcbf29ce484222325ull;

	for (uint64_t n = 0; n < CASES; n++) {
		static struct random_world w;
		struct engine_policy p = random_policy(&r);
		struct engine_history h;
		struct engine_decision d;
		uint64_t now_ms = NOW_MS + (uint64_t)between(&r, 0, 100000);

		random_history(&r, &p, &h, now_ms);
		random_cluster(&r, &w, now_ms);
		random_observation(&r, &w, now_ms);
		assert_int_equal(engine_decide(&p, &w.obs, &h, now_ms, &d), 0);
		check_decision(&p, &w.obs, &d, now_ms, n);
		if (w.obs.cluster != NULL) {
			engine_cluster_reset(&w.cluster);
			engine_cluster_claim(&w.cluster, &p, &w.obs, &d);
			check_claims(&p, &w.cluster, &w.obs.task, n);
		}
		hash = hash_decision(hash, &d);
	}
	return hash;
}

/* Every single-policy property, over many random cases. */
static void test_single_properties(void **state)
{
	(void)state;
	single_pass(0x51ca1e);
}

/* Two runs from the same seed decide exactly the same. */
static void test_deterministic(void **state)
{
	(void)state;
	assert_true(single_pass(0xd5) == single_pass(0xd5));
	assert_true(single_pass(0xd5) != single_pass(0xd6)); /* the hash does see decisions */
}

/*
 * Several random policies on one random cluster: after each is sized, no
 * instance holds more than fits, for that policy's task and reserve, and
 * every decision keeps the single-policy promises.
 */
static void test_shared_properties(void **state)
{
	struct rng r = {0x5ca1e};

	(void)state;
	for (uint64_t n = 0; n < SHARED_CASES; n++) {
		static struct random_world w;
		struct engine_policy p[4];
		struct engine_history h[4];
		struct engine_observation o[4];
		size_t count = (size_t)between(&r, 1, 4);
		uint64_t now_ms = NOW_MS;

		random_cluster(&r, &w, now_ms);
		w.cluster.ok = true;
		w.cluster.observed_ms = now_ms;
		engine_cluster_reset(&w.cluster);
		for (size_t i = 0; i < count; i++) {
			struct engine_decision d;
			int32_t before_cpu[MAX_INSTANCES];
			int32_t before_fit = 0;

			p[i] = random_policy(&r);
			engine_history_init(&h[i]);
			random_observation(&r, &w, now_ms);
			o[i] = w.obs;
			o[i].cluster = &w.cluster;
			o[i].task.ok = true;
			o[i].task.observed_ms = now_ms;
			if (o[i].task.cpu_units == 0)
				o[i].task.cpu_units = 128;
			for (size_t k = 0; k < w.cluster.n_instances; k++) {
				before_fit +=
					engine_instance_fit(&w.instances[k], &o[i].task, &p[i]);
				before_cpu[k] = w.instances[k].claimed_cpu_units;
			}
			assert_int_equal(engine_decide(&p[i], &o[i], &h[i], now_ms, &d), 0);
			check_decision(&p[i], &o[i], &d, now_ms, n);
			if (!(d.flags & ENGINE_MISSING_DATA))
				assert_int_equal(d.fit, before_fit);
			assert_true(
				engine_cluster_claim(&w.cluster, &p[i], &o[i], &d) <= before_fit);
			/* Where this policy placed tasks, its own reserve is still free. */
			for (size_t k = 0; k < w.cluster.n_instances; k++) {
				const struct engine_instance *in = &w.instances[k];

				if (in->claimed_cpu_units != before_cpu[k] &&
					in->claimed_cpu_units >
						in->remaining_cpu_units - p[i].reserve_cpu_units)
					fail_msg("case %llu: instance %zu over cpu",
						(unsigned long long)n, k);
			}
		}
	}
}

/*
 * Several random policies of two shapes (task size and reserve) sized
 * together by engine_decide_cluster, which remembers instance fits between
 * policies of one shape: every decision is the one deciding and claiming
 * them one by one gives.
 */
static void test_cluster_memo(void **state)
{
	static const char *const names[] = {"a", "b", "c", "d", "e", "f"};
	struct rng r = {0x3e30};

	(void)state;
	for (uint64_t n = 0; n < SHARED_CASES; n++) {
		static struct random_world w;
		struct engine_policy p[6], shape_p[2];
		struct engine_task_obs shape_t[2];
		struct engine_history h[6];
		struct engine_member m[6];
		struct engine_decision want[6];
		size_t count = (size_t)between(&r, 2, 6);
		uint64_t now_ms = NOW_MS;

		random_cluster(&r, &w, now_ms);
		w.cluster.ok = true;
		w.cluster.observed_ms = now_ms;
		for (size_t k = 0; k < 2; k++) {
			shape_p[k] = random_policy(&r);
			random_observation(&r, &w, now_ms);
			shape_t[k] = w.obs.task;
			shape_t[k].ok = true;
			shape_t[k].observed_ms = now_ms;
		}
		memset(m, 0, sizeof(m));
		for (size_t i = 0; i < count; i++) {
			size_t k = (size_t)between(&r, 0, 1);

			p[i] = random_policy(&r);
			p[i].priority = 0;
			p[i].reserve_cpu_units = shape_p[k].reserve_cpu_units;
			p[i].reserve_memory_mib = shape_p[k].reserve_memory_mib;
			engine_history_init(&h[i]);
			random_observation(&r, &w, now_ms);
			w.obs.task = shape_t[k];
			w.obs.cluster = &w.cluster;
			m[i].name = names[i];
			m[i].policy = &p[i];
			m[i].history = &h[i];
			m[i].observation = w.obs;
		}
		/* one by one, as engine_decide_cluster would without remembering */
		engine_cluster_reset(&w.cluster);
		for (size_t i = 0; i < count; i++) {
			if (engine_decide(&p[i], &m[i].observation, &h[i], now_ms, &want[i]) == 0)
				engine_cluster_claim(
					&w.cluster, &p[i], &m[i].observation, &want[i]);
		}
		engine_decide_cluster(m, count, &w.cluster, now_ms);
		for (size_t i = 0; i < count; i++) {
			if (m[i].decision.fit != want[i].fit ||
				m[i].decision.eligible_instances != want[i].eligible_instances ||
				m[i].decision.local_desired != want[i].local_desired ||
				m[i].decision.burst_desired != want[i].burst_desired ||
				m[i].decision.flags != want[i].flags)
				fail_msg("case %llu: member %zu decided otherwise in a cluster",
					(unsigned long long)n, i);
		}
	}
}

/*
 * The stabilisation windows as first written: every record scanned for both
 * bounds, then current clamped between them. The reference the engine's
 * shortcuts must agree with.
 */
static int32_t stabilize_by_scan(const struct engine_history *h, uint64_t now_ms, uint64_t out_ms,
	uint64_t in_ms, int32_t current, int32_t recommendation)
{
	int32_t up = recommendation, down = recommendation, result = current;

	for (size_t i = 0; i < h->n_recs && i < ENGINE_HISTORY_SLOTS; i++) {
		const struct engine_rec *rec = &h->recs[i];

		if (engine_in_window(rec->at_ms, now_ms, out_ms) && rec->lo < up)
			up = rec->lo;
		if (engine_in_window(rec->at_ms, now_ms, in_ms) && rec->hi > down)
			down = rec->hi;
	}
	if (h->has_held && engine_in_window(h->held_ms, now_ms, in_ms) && current > down)
		down = current;
	if (result < up)
		result = up;
	if (result > down)
		result = down;
	return result;
}

/*
 * Random histories, in order or not, with times before and after now, and
 * random windows (zero included): engine_stabilize_windows answers what
 * scanning every record for both bounds answers.
 */
static void test_windows_match_scan(void **state)
{
	struct rng r = {0x57ab};

	(void)state;
	for (uint64_t n = 0; n < WINDOW_CASES; n++) {
		struct engine_history h;
		uint64_t now_ms = NOW_MS;
		uint64_t out_ms = one_in(&r, 5) ? 0 : (uint64_t)between(&r, 1, 300) * 1000;
		uint64_t in_ms = one_in(&r, 5) ? 0 : (uint64_t)between(&r, 1, 300) * 1000;
		int32_t current = (int32_t)between(&r, 0, 40);
		int32_t rec = one_in(&r, 4) ? current : (int32_t)between(&r, 0, 40);
		bool ordered = !one_in(&r, 4);
		uint64_t at = now_ms - (uint64_t)between(&r, 0, 400) * 1000;

		engine_history_init(&h);
		h.n_recs = (size_t)between(&r, 0, ENGINE_HISTORY_SLOTS + 4);
		for (size_t i = 0; i < ENGINE_HISTORY_SLOTS; i++) {
			struct engine_rec *e = &h.recs[i];

			if (ordered)
				at += (uint64_t)between(&r, 0, 20) * 1000;
			else
				at = now_ms - 400000 + (uint64_t)between(&r, 0, 420) * 1000;
			e->at_ms = at;
			e->first_ms = at - (uint64_t)between(&r, 0, 5) * 1000;
			e->lo = (int32_t)between(&r, 0, 40);
			e->hi = (int32_t)between(&r, 0, 40);
		}
		h.has_held = one_in(&r, 3);
		h.held_ms = now_ms - (uint64_t)between(&r, 0, 400) * 1000;
		if (engine_stabilize_windows(&h, now_ms, out_ms, in_ms, current, rec) !=
			stabilize_by_scan(&h, now_ms, out_ms, in_ms, current, rec))
			fail_msg("case %llu: the windows answer otherwise than a full scan",
				(unsigned long long)n);
	}
}

/* The history's expiry as first written: each record kept while engine_in_window says so. */
static size_t expire_by_scan(struct engine_rec *recs, size_t n, uint64_t now_ms, uint64_t keep_ms)
{
	size_t kept = 0;

	for (size_t i = 0; i < n; i++)
		if (engine_in_window(recs[i].at_ms, now_ms, keep_ms))
			recs[kept++] = recs[i];
	return kept;
}

/* The closest neighbours as first written: each pair's span against the best one's, again. */
static size_t closest_by_scan(const struct engine_rec *recs, size_t n)
{
	size_t best = 0;

	for (size_t i = 1; i + 1 < n; i++) {
		uint64_t a = recs[i + 1].at_ms > recs[i].first_ms
			? recs[i + 1].at_ms - recs[i].first_ms
			: 0;
		uint64_t b = recs[best + 1].at_ms > recs[best].first_ms
			? recs[best + 1].at_ms - recs[best].first_ms
			: 0;

		if (a < b)
			best = i;
	}
	return best;
}

/*
 * Random histories, in order or not, with times before and after now (and
 * now within a window of time 0), random windows (zero included):
 * engine_history_update drops the records the windows no longer see and,
 * when the ring is full, merges the closest neighbours, as a plain scan
 * of every record does.
 */
static void test_history_update_matches_scan(void **state)
{
	struct rng r = {0xe591};

	(void)state;
	for (uint64_t n = 0; n < WINDOW_CASES; n++) {
		struct engine_policy p = random_policy(&r);
		struct engine_history h, want;
		struct engine_decision d;
		uint64_t now_ms = one_in(&r, 10) ? (uint64_t)between(&r, 0, 200) * 1000 : NOW_MS;
		uint64_t keep, base = now_ms > 400000 ? now_ms - 400000 : 0;
		bool ordered = !one_in(&r, 4);
		uint64_t at = base + (uint64_t)between(&r, 0, 200) * 1000;
		size_t k;

		p.scale_out.stabilization_ms =
			one_in(&r, 5) ? 0 : (uint64_t)between(&r, 1, 300) * 1000;
		p.scale_in.stabilization_ms =
			one_in(&r, 5) ? 0 : (uint64_t)between(&r, 1, 300) * 1000;
		keep = p.scale_out.stabilization_ms > p.scale_in.stabilization_ms
			? p.scale_out.stabilization_ms
			: p.scale_in.stabilization_ms;
		engine_history_init(&h);
		h.n_recs = (size_t)between(&r, 0, ENGINE_HISTORY_SLOTS);
		for (size_t i = 0; i < ENGINE_HISTORY_SLOTS; i++) {
			struct engine_rec *e = &h.recs[i];

			if (ordered)
				at += (uint64_t)between(&r, 0, 20) * 1000;
			else
				at = base + (uint64_t)between(&r, 0, 420) * 1000;
			e->at_ms = at;
			e->first_ms = at - (uint64_t)between(&r, 0, 5) * 1000;
			e->lo = (int32_t)between(&r, 0, 40);
			e->hi = (int32_t)between(&r, 0, 40);
		}
		want = h;
		memset(&d, 0, sizeof(d));
		d.record = one_in(&r, 2);
		d.recommendation = (int32_t)between(&r, 0, 40);
		d.steady = (int32_t)between(&r, 0, 40);
		engine_history_update(&h, &p, &d, now_ms);
		k = expire_by_scan(want.recs, want.n_recs, now_ms, keep);
		if (d.record && keep > 0 && k == ENGINE_HISTORY_SLOTS) {
			size_t i = closest_by_scan(want.recs, k);

			want.recs[i + 1].first_ms = want.recs[i].first_ms;
			if (want.recs[i].lo < want.recs[i + 1].lo)
				want.recs[i + 1].lo = want.recs[i].lo;
			if (want.recs[i].hi > want.recs[i + 1].hi)
				want.recs[i + 1].hi = want.recs[i].hi;
			memmove(&want.recs[i], &want.recs[i + 1],
				(k - i - 1) * sizeof(want.recs[0]));
			k--;
		}
		if (d.record && keep > 0)
			k++; /* the new record, last */
		if (h.n_recs != k)
			fail_msg("case %llu: %zu records kept, not %zu", (unsigned long long)n,
				h.n_recs, k);
		for (size_t i = 0; i + (d.record && keep > 0) < k; i++)
			if (memcmp(&h.recs[i], &want.recs[i], sizeof(h.recs[i])) != 0)
				fail_msg("case %llu: record %zu differs", (unsigned long long)n, i);
	}
}

int main(void)
{
	struct fixture_suite s = {0};

	fixture_add(&s, "property", "20000 random single-policy cases keep every promise",
		test_single_properties, NULL);
	fixture_add(
		&s, "property", "two runs from one seed decide the same", test_deterministic, NULL);
	fixture_add(&s, "property", "3000 random shared clusters never overfill an instance",
		test_shared_properties, NULL);
	fixture_add(&s, "property", "3000 random clusters decide together as policy by policy",
		test_cluster_memo, NULL);
	fixture_add(&s, "property", "200000 random histories: the windows answer as a full scan",
		test_windows_match_scan, NULL);
	fixture_add(&s, "property",
		"200000 random histories: expiring and merging keep what a full scan keeps",
		test_history_update_matches_scan, NULL);
	return fixture_run(&s, "engine_props");
}
