/*
 * The simulator's virtual-time loop: a world, the simulated cloud over it and
 * whoever scales (qscale's controller, target tracking or a static fleet),
 * moved forward step by step; statistics sampled along the way for the
 * chart, and summed up per policy at the end.
 */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/controller.h"
#include "qscale/policy.h"
#include "qscale/sim_baseline.h"
#include "qscale/simulate.h"
#include "qscale/xalloc.h"

/* Points the chart gets over a run when the caller does not choose. */
#define SIM_DEFAULT_POINTS 1500

/* Where a policy's queue and services live in the world, and what they cost. */
/* Datapoints kept for the baseline's lag (lag / period + 1 at most). */
#define SIM_BASELINE_DATAPOINTS 8

struct sim_ref {
	size_t queue;
	size_t local;
	size_t local_cluster;
	bool has_burst;
	size_t burst;
	uint32_t local_cpu_units; /* one local task's reservation */
	uint32_t local_memory_mib;
	double burst_vcpu; /* one Fargate task's size */
	double burst_gb;
	uint64_t cycles;
	uint64_t held;
	struct sim_tt tt;
	/* the baseline's datapoints, newest last, for CloudWatch's lag */
	struct sim_baseline_datapoint dps[SIM_BASELINE_DATAPOINTS];
	size_t n_dps;
};

/* A set of indices, each once. */
struct sim_set {
	size_t *items;
	size_t n;
};

struct sim_state {
	const struct sim_params *p;
	const struct scenario *sc;
	struct qscale_config *config; /* owned until the controller takes it */
	const struct qscale_config *cfg; /* the config in force, whoever owns it */
	struct world *w;
	struct cloud_sim *cs;
	struct controller *ctl;
	struct clock clock;
	struct sim_ref *refs;
	size_t n_refs;
	struct sim_set queues, locals, bursts, clusters;
	uint64_t step_ms;
	uint64_t sample_ms;
	/* Series bookkeeping. */
	uint64_t backlog_max;
	uint64_t prev_hist[WORLD_WAIT_BUCKETS];
	double prev_local_ts;
	double prev_burst_ts;
	uint64_t prev_t_ms;
	struct sim_point *points;
	size_t n_points;
	size_t cap_points;
};

const char *sim_mode_name(enum sim_mode mode)
{
	switch (mode) {
	case SIM_QSCALE:
		return "qscale";
	case SIM_TARGET_TRACKING:
		return "target-tracking";
	case SIM_STATIC_MAX:
		return "static-max";
	}
	return "?";
}

/* Add i to a set unless it is there. */
static void set_add(struct sim_set *s, size_t i)
{
	for (size_t k = 0; k < s->n; k++) {
		if (s->items[k] == i)
			return;
	}
	s->items = xreallocarray(s->items, s->n + 1, sizeof(*s->items));
	s->items[s->n++] = i;
}

/* Write a message into error (printf-like). */
static int fail(char error[SIM_ERROR_MAX], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static int fail(char error[SIM_ERROR_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error, SIM_ERROR_MAX, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static uint64_t virtual_mono_ms(void *ctx)
{
	const struct sim_state *st = ctx;

	return world_now_ms(st->w);
}

static uint64_t virtual_wall_ms(void *ctx)
{
	const struct sim_state *st = ctx;

	return world_start_wall_ms(st->w) + world_now_ms(st->w);
}

/* Find a policy's queue and services in the world; fill its reference. */
static int resolve(struct sim_state *st, const struct policy *pol, struct sim_ref *ref,
	char error[SIM_ERROR_MAX])
{
	struct world_queue_info q;
	struct world_service_info s;
	struct world_cluster_info cl;
	struct scenario_reservation r;

	if (world_queue_get(st->w, pol->queue.url, &q) < 0)
		return fail(error, "policy %s: queue %s is not in the scenario", pol->name,
			pol->queue.url);
	ref->queue = q.index;
	if (world_service_get(st->w, pol->local.cluster, pol->local.service, &s) != WORLD_ECS_OK)
		return fail(error, "policy %s: local service %s/%s is not in the scenario",
			pol->name, pol->local.cluster, pol->local.service);
	ref->local = s.index;
	if (world_cluster_get(st->w, pol->local.cluster, &cl) != WORLD_ECS_OK)
		return fail(error, "policy %s: cluster %s is not in the scenario", pol->name,
			pol->local.cluster);
	ref->local_cluster = cl.index;
	scenario_task_definition_reservation(
		&st->sc->task_definitions[st->sc->services[s.index].task_definition], &r);
	ref->local_cpu_units = r.cpu_units;
	ref->local_memory_mib = r.memory_mib;
	if (!pol->burst.present)
		return 0;
	if (world_service_get(st->w, pol->burst.cluster, pol->burst.service, &s) != WORLD_ECS_OK)
		return fail(error, "policy %s: burst service %s/%s is not in the scenario",
			pol->name, pol->burst.cluster, pol->burst.service);
	ref->has_burst = true;
	ref->burst = s.index;
	scenario_task_definition_reservation(
		&st->sc->task_definitions[st->sc->services[s.index].task_definition], &r);
	ref->burst_vcpu = r.cpu_units / 1024.0;
	ref->burst_gb = r.memory_mib / 1024.0;
	return 0;
}

/* The controller's decision hook: count cycles and holds per policy. */
static void on_decision(const struct controller_report *report, void *arg)
{
	struct sim_state *st = arg;
	const struct policy *first = st->cfg->policies;
	size_t i;

	if (report->policy < first || report->policy >= first + st->n_refs)
		return;
	i = (size_t)(report->policy - first);
	st->refs[i].cycles++;
	if (report->outcome == CONTROLLER_HELD)
		st->refs[i].held++;
}

/* UpdateService answers for the baselines: nothing to do with them. */
static void on_baseline_update(
	int err, const struct aws_error *error, const struct cloud_service *service, void *arg)
{
	(void)err;
	(void)error;
	(void)service;
	(void)arg;
}

/* Ask the cloud to set a policy's service to desired, as a baseline's scaler would. */
static void baseline_set(
	struct sim_state *st, const char *cluster, const char *service, int32_t desired)
{
	const struct cloud *cloud = cloud_sim_cloud(st->cs);

	cloud->ops->update_service(cloud->ctx, cluster, service, desired, on_baseline_update, NULL);
}

/* The datapoint of the period ending now: what CloudWatch will have for it. */
static struct sim_baseline_datapoint datapoint_now(
	const struct sim_state *st, const struct sim_ref *ref)
{
	struct sim_baseline_datapoint dp = {0};
	struct world_queue_info q;
	struct world_service_info local, burst;

	world_queue_at(st->w, ref->queue, &q);
	world_service_at(st->w, ref->local, &local);
	dp.visible = q.reported.visible;
	if (ref->has_burst) {
		world_service_at(st->w, ref->burst, &burst);
		dp.running = (int32_t)burst.running_count;
		dp.others = (int32_t)local.running_count;
	} else {
		dp.running = (int32_t)local.running_count;
	}
	return dp;
}

/*
 * The AWS-only operator: on-prem pinned at its maximum from t=0, target
 * tracking on the Fargate service (on the on-prem one when there is none),
 * fed at every period the datapoint of lag_ms ago.
 */
static void target_tracking(struct sim_state *st, uint64_t t_ms)
{
	for (size_t i = 0; i < st->n_refs; i++) {
		const struct policy *pol = &st->cfg->policies[i];
		struct sim_ref *ref = &st->refs[i];
		const struct sim_baseline_params *tp = &ref->tt.p;
		size_t back = (size_t)(tp->lag_ms / tp->period_ms);
		const char *cluster = ref->has_burst ? pol->burst.cluster : pol->local.cluster;
		const char *service = ref->has_burst ? pol->burst.service : pol->local.service;
		struct world_service_info s;
		int32_t want;

		if (t_ms == 0 && ref->has_burst)
			baseline_set(st, pol->local.cluster, pol->local.service,
				pol->scaling.local_max_tasks);
		if (t_ms == 0 || t_ms % tp->period_ms != 0)
			continue;
		if (ref->n_dps == SIM_BASELINE_DATAPOINTS) {
			memmove(ref->dps, ref->dps + 1,
				(SIM_BASELINE_DATAPOINTS - 1) * sizeof(ref->dps[0]));
			ref->n_dps--;
		}
		ref->dps[ref->n_dps++] = datapoint_now(st, ref);
		/* no datapoint published yet for the first lag_ms */
		if (ref->n_dps <= back)
			continue;
		world_service_at(st->w, ref->has_burst ? ref->burst : ref->local, &s);
		want = sim_baseline_evaluate(
			&ref->tt, t_ms, &ref->dps[ref->n_dps - 1 - back], (int32_t)s.desired_count);
		if (want >= 0 && (uint32_t)want != s.desired_count)
			baseline_set(st, cluster, service, want);
	}
}

/* Whoever scales acts at the current time t. */
static void act(struct sim_state *st, uint64_t t_ms)
{
	const struct sim_params *p = st->p;

	cloud_sim_deliver(st->cs, t_ms);
	switch (p->mode) {
	case SIM_QSCALE:
		if (!controller_busy(st->ctl) && controller_next_due_ms(st->ctl) <= t_ms)
			controller_tick(st->ctl, t_ms);
		break;
	case SIM_TARGET_TRACKING:
		target_tracking(st, t_ms);
		break;
	case SIM_STATIC_MAX:
		if (t_ms != 0)
			break;
		for (size_t i = 0; i < st->n_refs; i++) {
			const struct policy *pol = &st->cfg->policies[i];

			baseline_set(st, pol->local.cluster, pol->local.service,
				pol->scaling.local_max_tasks);
			if (pol->burst.present)
				baseline_set(st, pol->burst.cluster, pol->burst.service,
					pol->scaling.burst_max_tasks);
		}
		break;
	}
	cloud_sim_deliver(st->cs, t_ms);
}

/* Messages waiting now over the distinct queues. */
static uint64_t backlog_now(const struct sim_state *st)
{
	uint64_t n = 0;

	/* what a queue's statistics count as waiting: visible + in flight + delayed */
	for (size_t i = 0; i < st->queues.n; i++)
		n += world_queue_stats_at(st->w, st->queues.items[i])->waiting;
	return n;
}

/* Sum the wait histograms of the distinct queues. */
static void merged_hist(
	const struct sim_state *st, uint64_t hist[WORLD_WAIT_BUCKETS], uint64_t *max_ms)
{
	memset(hist, 0, sizeof(uint64_t) * WORLD_WAIT_BUCKETS);
	*max_ms = 0;
	for (size_t i = 0; i < st->queues.n; i++) {
		/* in place: a copy would move the whole histogram once more */
		const struct world_queue_stats *qs =
			world_queue_stats_at(st->w, st->queues.items[i]);
		/* no wait was longer than the longest: the buckets above its own are empty */
		size_t top = world_wait_bucket(st->w, qs->wait_max_ms) + 1;

		for (size_t b = 0; b < top; b++)
			hist[b] += qs->wait_hist[b];
		if (qs->wait_max_ms > *max_ms)
			*max_ms = qs->wait_max_ms;
	}
}

/* Task-seconds so far over a set of services. */
static double task_seconds(const struct sim_state *st, const struct sim_set *set)
{
	double sum = 0;

	for (size_t i = 0; i < set->n; i++) {
		struct world_service_stats ss;

		world_service_stats(st->w, set->items[i], &ss);
		sum += ss.task_seconds;
	}
	return sum;
}

/* Close the series' current interval at t. */
static void sample(struct sim_state *st, uint64_t t_ms)
{
	uint64_t hist[WORLD_WAIT_BUCKETS], delta[WORLD_WAIT_BUCKETS], max_ms, top = 0;
	double local_ts = task_seconds(st, &st->locals);
	double burst_ts = task_seconds(st, &st->bursts);
	double dt_s = (double)(t_ms - st->prev_t_ms) / 1000.0;
	struct sim_point *pt;

	merged_hist(st, hist, &max_ms);
	for (size_t b = 0; b < WORLD_WAIT_BUCKETS; b++) {
		delta[b] = hist[b] - st->prev_hist[b];
		if (delta[b] > 0)
			top = b + 1;
	}
	if (st->n_points == st->cap_points) {
		st->cap_points = st->cap_points ? st->cap_points * 2 : 256;
		st->points = xreallocarray(st->points, st->cap_points, sizeof(*st->points));
	}
	pt = &st->points[st->n_points++];
	pt->t_ms = t_ms;
	pt->backlog_max = st->backlog_max;
	pt->local_tasks = dt_s > 0 ? (local_ts - st->prev_local_ts) / dt_s : 0;
	pt->burst_tasks = dt_s > 0 ? (burst_ts - st->prev_burst_ts) / dt_s : 0;
	pt->wait_max_ms = 0;
	if (top > 0) {
		/* the interval's largest wait, to the resolution of its bucket */
		uint64_t upper =
			top < WORLD_WAIT_BUCKETS ? world_wait_bucket_upper_ms(top - 1) : max_ms;

		pt->wait_max_ms = upper < max_ms ? upper : max_ms;
	}
	pt->wait_p95_ms = world_wait_hist_percentile_ms(delta, pt->wait_max_ms, 0.95);
	memcpy(st->prev_hist, hist, sizeof(hist));
	st->prev_local_ts = local_ts;
	st->prev_burst_ts = burst_ts;
	st->prev_t_ms = t_ms;
	st->backlog_max = backlog_now(st);
}

/* Registered CPU and memory of a cluster's ACTIVE instances, and how many. */
static void fleet_size(
	const struct sim_state *st, size_t cluster, double *cpu, double *mem, uint32_t *instances)
{
	struct world_cluster_info cl;

	*cpu = *mem = 0;
	*instances = 0;
	if (world_cluster_at(st->w, cluster, &cl) != WORLD_ECS_OK)
		return;
	for (size_t i = 0; i < cl.instance_count; i++) {
		struct world_instance_info in;

		if (world_instance_at(st->w, cluster, i, &in) != WORLD_ECS_OK ||
			in.status != WORLD_INSTANCE_ACTIVE)
			continue;
		*cpu += in.registered_cpu_units;
		*mem += in.registered_memory_mib;
		(*instances)++;
	}
}

/* Copies of a policy's local task that fit its cluster's ACTIVE instances at t=0. */
static uint32_t fleet_slots(
	const struct sim_state *st, const struct policy *pol, const struct sim_ref *ref)
{
	struct world_cluster_info cl;
	uint32_t slots = 0;

	if (world_cluster_at(st->w, ref->local_cluster, &cl) != WORLD_ECS_OK)
		return 0;
	for (size_t i = 0; i < cl.instance_count; i++) {
		struct world_instance_info in;
		double cpu, mem, fit = 1e9;

		if (world_instance_at(st->w, ref->local_cluster, i, &in) != WORLD_ECS_OK ||
			in.status != WORLD_INSTANCE_ACTIVE)
			continue;
		cpu = (double)in.registered_cpu_units - pol->scaling.reserve_cpu_units;
		mem = (double)in.registered_memory_mib - pol->scaling.reserve_memory_mib;
		if (ref->local_cpu_units > 0)
			fit = fmin(fit, floor(cpu / ref->local_cpu_units));
		if (ref->local_memory_mib > 0)
			fit = fmin(fit, floor(mem / ref->local_memory_mib));
		if (fit > 0 && fit < 1e9)
			slots += (uint32_t)fit;
	}
	return slots;
}

/* Queue statistics into a summary. */
static void summarise_queue(
	struct sim_summary *s, const struct world_queue_stats *qs, double duration_s)
{
	s->arrived += qs->arrived;
	s->processed += qs->processed;
	s->waiting += qs->waiting;
	if (qs->max_waiting > s->max_backlog)
		s->max_backlog = qs->max_waiting;
	s->mean_backlog += duration_s > 0 ? qs->backlog_message_seconds / duration_s : 0;
	if (qs->wait_max_ms > s->wait_max_ms)
		s->wait_max_ms = qs->wait_max_ms;
}

/* Percentiles and mean from a histogram, a wait sum and the max already in s. */
static void summarise_waits(
	struct sim_summary *s, const uint64_t hist[WORLD_WAIT_BUCKETS], double wait_sum_ms)
{
	uint64_t *const out[3] = {&s->wait_p50_ms, &s->wait_p95_ms, &s->wait_p99_ms};
	const double ps[3] = {0.5, 0.95, 0.99};

	for (size_t i = 0; i < 3; i++) {
		*out[i] = world_wait_hist_percentile_ms(hist, s->wait_max_ms, ps[i]);
	}
	s->wait_mean_ms = s->processed > 0 ? wait_sum_ms / (double)s->processed : 0;
}

/* Add hours of a burst task (billed, at least a minute each) of ref to s. */
static void add_burst_hours(struct sim_summary *s, const struct sim_ref *ref,
	const struct sim_prices *prices, double hours)
{
	s->burst_task_hours += hours;
	s->burst_vcpu_hours += hours * ref->burst_vcpu;
	s->burst_gb_hours += hours * ref->burst_gb;
	s->burst_cost +=
		hours * (ref->burst_vcpu * prices->vcpu_hour + ref->burst_gb * prices->gb_hour);
}

/* One policy's summary: its queue, its local and burst services, its cycles. */
static void summarise_policy(struct sim_state *st, size_t i, struct sim_policy_result *r)
{
	const struct sim_params *p = st->p;
	const struct sim_ref *ref = &st->refs[i];
	double duration_s = (double)p->duration_ms / 1000.0;
	struct world_queue_stats qs;
	struct world_service_stats ss;
	struct world_queue_info qi;
	double cpu, mem;
	uint32_t n;

	r->name = xstrdup(st->cfg->policies[i].name);
	world_queue_at(st->w, ref->queue, &qi);
	r->queue = xstrdup(qi.name);
	world_queue_stats(st->w, ref->queue, &qs);
	summarise_queue(&r->s, &qs, duration_s);
	summarise_waits(&r->s, qs.wait_hist, qs.wait_sum_ms);
	world_service_stats(st->w, ref->local, &ss);
	r->s.local_task_hours = ss.task_seconds / 3600.0;
	r->s.local_unplaced_task_hours = ss.unplaced_task_seconds / 3600.0;
	fleet_size(st, ref->local_cluster, &cpu, &mem, &n);
	r->s.utilisation =
		fmax(cpu > 0 ? ss.task_seconds * ref->local_cpu_units / (cpu * duration_s) : 0,
			mem > 0 ? ss.task_seconds * ref->local_memory_mib / (mem * duration_s) : 0);
	r->s.scale_actions = cloud_sim_updates(st->cs, ref->local);
	if (ref->has_burst) {
		world_service_stats(st->w, ref->burst, &ss);
		/* Fargate bills a minute at least per task */
		add_burst_hours(&r->s, ref, &p->prices, ss.billed_task_seconds / 3600.0);
		r->s.scale_actions += cloud_sim_updates(st->cs, ref->burst);
	}
	r->s.cycles = ref->cycles;
	r->s.held = ref->held;
}

/* The policy that uses a world service as its local (or burst) service, or NULL. */
static const struct sim_ref *ref_of(const struct sim_state *st, size_t service, bool burst)
{
	for (size_t k = 0; k < st->n_refs; k++) {
		const struct sim_ref *ref = &st->refs[k];

		if (burst ? ref->has_burst && ref->burst == service : ref->local == service)
			return ref;
	}
	return NULL;
}

/* The total's queues and services, each counted once however many policies share it. */
static void summarise_services(
	struct sim_state *st, struct sim_summary *total, double *used_cpu, double *used_mem)
{
	double duration_s = (double)st->p->duration_ms / 1000.0;
	uint64_t hist[WORLD_WAIT_BUCKETS] = {0};
	double wait_sum = 0;

	for (size_t i = 0; i < st->queues.n; i++) {
		struct world_queue_stats qs;

		world_queue_stats(st->w, st->queues.items[i], &qs);
		summarise_queue(total, &qs, duration_s);
		for (size_t b = 0; b < WORLD_WAIT_BUCKETS; b++)
			hist[b] += qs.wait_hist[b];
		wait_sum += qs.wait_sum_ms;
	}
	summarise_waits(total, hist, wait_sum);
	for (size_t i = 0; i < st->locals.n; i++) {
		const struct sim_ref *ref = ref_of(st, st->locals.items[i], false);
		struct world_service_stats ss;

		world_service_stats(st->w, st->locals.items[i], &ss);
		total->local_task_hours += ss.task_seconds / 3600.0;
		total->local_unplaced_task_hours += ss.unplaced_task_seconds / 3600.0;
		total->scale_actions += cloud_sim_updates(st->cs, st->locals.items[i]);
		if (ref != NULL) {
			*used_cpu += ss.task_seconds * ref->local_cpu_units;
			*used_mem += ss.task_seconds * ref->local_memory_mib;
		}
	}
	for (size_t i = 0; i < st->bursts.n; i++) {
		const struct sim_ref *ref = ref_of(st, st->bursts.items[i], true);
		struct world_service_stats ss;

		world_service_stats(st->w, st->bursts.items[i], &ss);
		total->scale_actions += cloud_sim_updates(st->cs, st->bursts.items[i]);
		if (ref != NULL)
			add_burst_hours(
				total, ref, &st->p->prices, ss.billed_task_seconds / 3600.0);
	}
}

/* The fleet of the total: instances, task slots and utilisation over every local cluster. */
static void summarise_fleet(
	struct sim_state *st, struct sim_result *out, double used_cpu, double used_mem)
{
	double duration_s = (double)st->p->duration_ms / 1000.0;
	double total_cpu = 0, total_mem = 0;
	for (size_t i = 0; i < st->clusters.n; i++) {
		double cpu, mem;
		uint32_t n;

		fleet_size(st, st->clusters.items[i], &cpu, &mem, &n);
		total_cpu += cpu;
		total_mem += mem;
		out->fleet_instances += n;
		for (size_t k = 0; k < st->n_refs; k++) {
			if (st->refs[k].local_cluster == st->clusters.items[i]) {
				out->fleet_slots +=
					fleet_slots(st, &st->cfg->policies[k], &st->refs[k]);
				break;
			}
		}
	}
	out->total.utilisation = fmax(total_cpu > 0 ? used_cpu / (total_cpu * duration_s) : 0,
		total_mem > 0 ? used_mem / (total_mem * duration_s) : 0);
}

/* The end of a run: per-policy summaries, the total, the calls. */
static void summarise(struct sim_state *st, struct sim_result *out)
{
	const struct sim_params *p = st->p;
	double used_cpu = 0, used_mem = 0;

	out->policies = xcalloc(st->n_refs + 1, sizeof(*out->policies));
	out->n_policies = st->n_refs;
	for (size_t i = 0; i < st->n_refs; i++) {
		summarise_policy(st, i, &out->policies[i]);
		out->total.cycles += st->refs[i].cycles;
		out->total.held += st->refs[i].held;
	}
	summarise_services(st, &out->total, &used_cpu, &used_mem);
	summarise_fleet(st, out, used_cpu, used_mem);
	for (size_t i = 0; i < CLOUD_SIM_CALLS; i++)
		out->calls.count[i] = cloud_sim_calls(st->cs, (enum cloud_sim_call)i);
	for (size_t i = 0; i < CLOUD_SIM_CATEGORIES; i++)
		out->calls.limits[i] = *cloud_sim_limit(st->cs, (enum cloud_sim_category)i);
	out->calls.faulted = cloud_sim_faulted(st->cs);
	if (p->record_updates) {
		size_t n;
		const struct cloud_sim_update *log = cloud_sim_update_log(st->cs, &n);

		out->updates = xcalloc(n + 1, sizeof(*out->updates));
		for (size_t i = 0; i < n; i++) {
			struct world_service_info s;

			world_service_at(st->w, log[i].service, &s);
			out->updates[i] = (struct sim_update){log[i].t_ms, xstrdup(s.cluster_name),
				xstrdup(s.name), log[i].from, log[i].to};
		}
		out->n_updates = n;
	}
}

/* Build the world, the cloud and the scaler; resolve every policy. */
static int setup(struct sim_state *st, char error[SIM_ERROR_MAX])
{
	const struct sim_params *p = st->p;
	struct controller_hooks hooks = {.decision = on_decision, .arg = st};
	int rc;

	if (world_create(st->sc, p->start_wall_ms, &st->w) < 0)
		return fail(error, "the scenario cannot be simulated");
	if (cloud_sim_create(st->w, st->cfg->aws.timeout_ms, &st->cs) < 0)
		return fail(error, "the simulated cloud cannot start");
	cloud_sim_record_updates(st->cs, p->record_updates);
	st->n_refs = st->cfg->policy_count;
	st->refs = xcalloc(st->n_refs + 1, sizeof(*st->refs));
	for (size_t i = 0; i < st->n_refs; i++) {
		const struct policy *pol = &st->cfg->policies[i];
		struct sim_ref *ref = &st->refs[i];
		struct sim_baseline_params tp;

		rc = resolve(st, pol, ref, error);
		if (rc < 0)
			return rc;
		set_add(&st->queues, ref->queue);
		set_add(&st->locals, ref->local);
		set_add(&st->clusters, ref->local_cluster);
		if (ref->has_burst)
			set_add(&st->bursts, ref->burst);
		if (ref->has_burst)
			sim_baseline_defaults(&tp, (double)pol->scaling.backlog_per_task, 0,
				pol->scaling.burst_max_tasks);
		else
			sim_baseline_defaults(&tp, (double)pol->scaling.backlog_per_task,
				pol->scaling.local_min_tasks, pol->scaling.local_max_tasks);
		sim_baseline_init(&ref->tt, &tp);
	}
	if (p->mode != SIM_QSCALE)
		return 0;
	st->clock.mono_ms = virtual_mono_ms;
	st->clock.wall_ms = virtual_wall_ms;
	st->clock.ctx = st;
	if (controller_create(cloud_sim_cloud(st->cs), &st->clock, &hooks, &st->ctl) < 0)
		return fail(error, "the controller cannot start");
	controller_set_quiet(st->ctl, true);
	/* The controller owns the config from here on; cfg keeps pointing at it. */
	controller_set_config(st->ctl, st->config);
	st->config = NULL;
	return 0;
}

/*
 * When the loop next has something to do after t: the next step when a step
 * hook watches every step, else the next sample, decision, datapoint or
 * answer (the world still moves in steps of at most a second inside).
 */
static uint64_t next_stop(struct sim_state *st, uint64_t t_ms, uint64_t next_sample)
{
	const struct sim_params *p = st->p;
	uint64_t next = p->step != NULL ? t_ms + st->step_ms : next_sample;
	uint64_t due = UINT64_MAX;

	if (p->mode == SIM_QSCALE && !controller_busy(st->ctl))
		due = controller_next_due_ms(st->ctl);
	else if (p->mode == SIM_TARGET_TRACKING)
		due = (t_ms / st->refs[0].tt.p.period_ms + 1) * st->refs[0].tt.p.period_ms;
	if (due > t_ms && due < next)
		next = due;
	if (cloud_sim_next_due_ms(st->cs) > t_ms && cloud_sim_next_due_ms(st->cs) < next)
		next = cloud_sim_next_due_ms(st->cs);
	if (next > p->duration_ms)
		next = p->duration_ms;
	return next;
}

/* The virtual-time loop from t=0 to the end of the run. */
static void run_loop(struct sim_state *st, struct sim_result *out)
{
	const struct sim_params *p = st->p;
	uint64_t t_ms = 0, next_sample = st->sample_ms;

	st->backlog_max = backlog_now(st);
	/* Whoever scales acts at the start of each step; the end of the run is no step. */
	while (t_ms < p->duration_ms) {
		uint64_t next, backlog;

		act(st, t_ms);
		next = next_stop(st, t_ms, next_sample);
		world_advance(st->w, next);
		out->steps += (next - t_ms + st->step_ms - 1) / st->step_ms;
		t_ms = next;
		if (p->step != NULL)
			p->step(st->w, p->arg);
		backlog = backlog_now(st);
		if (backlog > st->backlog_max)
			st->backlog_max = backlog;
		if (t_ms >= next_sample || t_ms == p->duration_ms) {
			sample(st, t_ms);
			next_sample = t_ms + st->sample_ms;
			if (p->progress != NULL)
				p->progress(t_ms, p->duration_ms, p->arg);
		}
	}
}

int sim_run(const struct sim_params *p, struct qscale_config *config, struct sim_result *out,
	char error[SIM_ERROR_MAX])
{
	struct sim_state st;
	struct sim_result r;
	int rc;

	memset(&st, 0, sizeof(st));
	memset(&r, 0, sizeof(r));
	error[0] = '\0';
	if (p == NULL || p->scenario == NULL || config == NULL || out == NULL) {
		qscale_config_destroy(config);
		return fail(error, "nothing to simulate");
	}
	if (p->duration_ms == 0) {
		qscale_config_destroy(config);
		return fail(error, "the run has no duration");
	}
	if (config->policy_count == 0) {
		qscale_config_destroy(config);
		return fail(error, "the configuration has no policy");
	}
	st.p = p;
	st.sc = p->scenario;
	st.config = config;
	st.cfg = config;
	st.step_ms = p->step_ms > 0 ? p->step_ms : 1000;
	st.sample_ms = p->sample_ms;
	if (st.sample_ms == 0) {
		uint64_t per = (p->duration_ms + SIM_DEFAULT_POINTS - 1) / SIM_DEFAULT_POINTS;

		st.sample_ms = (per + st.step_ms - 1) / st.step_ms * st.step_ms;
	}
	if (st.sample_ms < st.step_ms)
		st.sample_ms = st.step_ms;
	rc = setup(&st, error);
	if (rc == 0) {
		r.mode = p->mode;
		r.duration_ms = p->duration_ms;
		r.sample_ms = st.sample_ms;
		run_loop(&st, &r);
		summarise(&st, &r);
		r.series = st.points;
		r.n_series = st.n_points;
		st.points = NULL;
	}
	controller_destroy(st.ctl);
	cloud_sim_destroy(st.cs);
	world_destroy(st.w);
	qscale_config_destroy(st.config);
	free(st.refs);
	free(st.queues.items);
	free(st.locals.items);
	free(st.bursts.items);
	free(st.clusters.items);
	free(st.points);
	if (rc == 0)
		*out = r;
	return rc;
}

void sim_result_finish(struct sim_result *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->n_policies; i++) {
		free(r->policies[i].name);
		free(r->policies[i].queue);
	}
	free(r->policies);
	free(r->series);
	for (size_t i = 0; i < r->n_updates; i++) {
		free(r->updates[i].cluster);
		free(r->updates[i].service);
	}
	free(r->updates);
	memset(r, 0, sizeof(*r));
}
