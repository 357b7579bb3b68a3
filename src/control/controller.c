/*
 * The controller object: its config and the per-policy state kept across
 * cycles and reloads, the schedule (each policy due every interval, never two
 * cycles at once, missed intervals skipped rather than doubled), and the life
 * of one cycle from controller_tick through observe, decide and act to its
 * end, where a pending config is swapped in.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "control_priv.h"
#include "qscale/log.h"
#include "qscale/strindex.h"
#include "qscale/xalloc.h"

int controller_create(const struct cloud *cloud, const struct clock *clock,
	const struct controller_hooks *hooks, struct controller **out)
{
	struct controller *ctl;

	if (cloud == NULL || cloud->ops == NULL || clock == NULL || out == NULL)
		return -EINVAL;
	ctl = xcalloc(1, sizeof(*ctl));
	ctl->cloud = cloud;
	ctl->clock = clock;
	if (hooks != NULL)
		ctl->hooks = *hooks;
	*out = ctl;
	return 0;
}

/* Free a cycle's state (its callbacks will not come any more, or have all come). */
static void cycle_free(struct controller *ctl)
{
	if (ctl->cycle == NULL)
		return;
	ctl_observe_free(ctl->cycle);
	free(ctl->cycle);
	ctl->cycle = NULL;
	for (size_t i = 0; i < ctl->n_policies; i++) {
		struct ctl_policy *p = &ctl->policies[i];

		p->matches = NULL;
		p->due = false;
		p->claim_only = false;
	}
}

void controller_destroy(struct controller *ctl)
{
	if (ctl == NULL)
		return;
	cycle_free(ctl);
	free(ctl->policies);
	free(ctl->order);
	free(ctl->members);
	free(ctl->queue_slot);
	free(ctl->cluster_slot);
	free(ctl->service_slot);
	for (size_t i = 0; i < ctl->n_tasks; i++)
		free(ctl->tasks[i].arn);
	free(ctl->tasks);
	qscale_config_destroy(ctl->config);
	qscale_config_destroy(ctl->pending_config);
	free(ctl);
}

/* Two strings equal, NULL equal only to NULL. */
static bool same_text(const char *a, const char *b)
{
	return (a == NULL && b == NULL) || (a != NULL && b != NULL && strcmp(a, b) == 0);
}

/* Whether a reloaded policy still drives the same queue and services. */
static bool same_target(const struct policy *a, const struct policy *b)
{
	return same_text(a->queue.url, b->queue.url) &&
		same_text(a->local.cluster, b->local.cluster) &&
		same_text(a->local.service, b->local.service) &&
		a->burst.present == b->burst.present &&
		same_text(a->burst.cluster, b->burst.cluster) &&
		same_text(a->burst.service, b->burst.service);
}

/* A fresh state for a new policy: due at once, nothing known. */
static void policy_init(struct ctl_policy *p, const struct policy *policy)
{
	memset(p, 0, sizeof(*p));
	p->policy = policy;
	p->status.policy = policy;
	p->status.local_running = -1;
	p->status.burst_running = -1;
	p->status.local_instances = -1;
	engine_history_init(&p->history);
}

/* The number of a service: its cluster's number and its name make one key. */
static size_t service_id(struct strindex *services, size_t cluster_id, const char *name)
{
	char *key = xasprintf("%zu:%s", cluster_id, name);
	size_t id = strindex_add(services, key);

	free(key);
	return id;
}

/* Whether policy a is sized before b: engine_decide_cluster's order. */
static bool sized_before(const struct policy *a, const struct policy *b)
{
	return engine_sized_before(&a->scaling, a->name, &b->scaling, b->name);
}

/*
 * Number the names the policies use, so that a cycle's plan finds each
 * shared piece by number, and sort the policies once into the order the
 * engine sizes a cluster in (stable, as the engine's sort is), so that
 * every cycle hands them over already sorted.
 */
static void index_policies(struct controller *ctl)
{
	struct strindex queues, clusters, services, filters;
	size_t n = ctl->n_policies;

	strindex_init(&queues);
	strindex_init(&clusters);
	strindex_init(&services);
	strindex_init(&filters);
	for (size_t i = 0; i < n; i++) {
		struct ctl_policy *p = &ctl->policies[i];
		const struct policy *pol = p->policy;
		const char *filter = pol->local.instance_filter.text;
		char *key;

		p->queue_id = strindex_add(&queues, pol->queue.url);
		p->local_cluster_id = strindex_add(&clusters, pol->local.cluster);
		p->local_service_id =
			service_id(&services, p->local_cluster_id, pol->local.service);
		p->burst_cluster_id = p->burst_service_id = SIZE_MAX;
		if (pol->burst.present) {
			p->burst_cluster_id = strindex_add(&clusters, pol->burst.cluster);
			p->burst_service_id =
				service_id(&services, p->burst_cluster_id, pol->burst.service);
		}
		/* Equal texts compile to equal filters: one evaluation serves them all. */
		key = xasprintf("%c%s", filter != NULL ? 'f' : '-', filter != NULL ? filter : "");
		p->filter_id = strindex_add(&filters, key);
		free(key);
	}
	ctl->n_queue_ids = strindex_count(&queues);
	ctl->n_cluster_ids = strindex_count(&clusters);
	ctl->n_service_ids = strindex_count(&services);
	ctl->n_filter_ids = strindex_count(&filters);
	strindex_finish(&queues);
	strindex_finish(&clusters);
	strindex_finish(&services);
	strindex_finish(&filters);
	ctl->queue_slot = xreallocarray(ctl->queue_slot, ctl->n_queue_ids + 1, sizeof(size_t));
	ctl->cluster_slot =
		xreallocarray(ctl->cluster_slot, ctl->n_cluster_ids + 1, sizeof(size_t));
	ctl->service_slot =
		xreallocarray(ctl->service_slot, ctl->n_service_ids + 1, sizeof(size_t));
	free(ctl->members);
	ctl->members = xcalloc(n + 1, sizeof(*ctl->members));
	ctl->order = xreallocarray(ctl->order, n + 1, sizeof(*ctl->order));
	for (size_t i = 0; i < n; i++) {
		size_t x = i, j = i;

		while (j > 0 &&
			sized_before(
				ctl->policies[x].policy, ctl->policies[ctl->order[j - 1]].policy)) {
			ctl->order[j] = ctl->order[j - 1];
			j--;
		}
		ctl->order[j] = x;
	}
}

/* Swap a config in (no cycle runs): states carried across by name. */
static void apply_config(struct controller *ctl, struct qscale_config *config)
{
	struct ctl_policy *next = xcalloc(config->policy_count + 1, sizeof(*next));
	bool *taken = xcalloc(ctl->n_policies + 1, sizeof(*taken));
	uint64_t now_ms = clock_mono_ms(ctl->clock);

	for (size_t j = 0; j < config->policy_count; j++) {
		const struct policy *pol = &config->policies[j];
		struct ctl_policy *np = &next[j];
		size_t k;

		for (k = 0; k < ctl->n_policies; k++) {
			if (!taken[k] && strcmp(ctl->policies[k].policy->name, pol->name) == 0)
				break;
		}
		if (k == ctl->n_policies || !same_target(ctl->policies[k].policy, pol)) {
			policy_init(np, pol);
			continue;
		}
		taken[k] = true;
		*np = ctl->policies[k];
		np->policy = pol;
		np->status.policy = pol;
		if (np->status.next_due_ms > now_ms + pol->interval_ms)
			np->status.next_due_ms = now_ms + pol->interval_ms;
	}
	free(taken);
	free(ctl->policies);
	ctl->policies = next;
	ctl->n_policies = config->policy_count;
	index_policies(ctl);
	qscale_config_destroy(ctl->config);
	ctl->config = config;
}

int controller_set_config(struct controller *ctl, struct qscale_config *config)
{
	if (ctl == NULL || config == NULL) {
		qscale_config_destroy(config);
		return -EINVAL;
	}
	if (ctl->cycle != NULL) {
		qscale_config_destroy(ctl->pending_config);
		ctl->pending_config = config;
		return 0;
	}
	apply_config(ctl, config);
	return 0;
}

const struct qscale_config *controller_config(const struct controller *ctl)
{
	return ctl->config;
}

const struct qscale_config *controller_next_config(const struct controller *ctl)
{
	return ctl->pending_config != NULL ? ctl->pending_config : ctl->config;
}

void controller_set_dry_run(struct controller *ctl, bool dry_run)
{
	ctl->force_dry_run = dry_run;
}

bool controller_dry_run(const struct controller *ctl)
{
	return ctl->force_dry_run || (ctl->config != NULL && ctl->config->dry_run);
}

void controller_set_may_act(struct controller *ctl, controller_may_act_cb cb, void *arg)
{
	ctl->may_act = cb;
	ctl->may_act_arg = arg;
}

void controller_set_quiet(struct controller *ctl, bool quiet)
{
	ctl->quiet = quiet;
}

/* Whether p is due at now_ms; if so, move its schedule on past now_ms. */
static bool take_if_due(struct ctl_policy *p, uint64_t now_ms)
{
	uint64_t interval = p->policy->interval_ms > 0 ? p->policy->interval_ms : 1;
	uint64_t next;

	if (p->status.next_due_ms > now_ms)
		return false;
	p->missed = 0;
	if (p->status.cycles == 0 && p->status.next_due_ms == 0) {
		next = now_ms + interval;
	} else {
		next = p->status.next_due_ms + interval;
		if (next <= now_ms) {
			/* Intervals missed while busy or late are skipped, not caught up. */
			uint64_t missed = (now_ms - next) / interval + 1;

			p->status.skipped += missed;
			p->missed = missed;
			next += missed * interval;
		}
	}
	p->status.next_due_ms = next;
	return true;
}

/* The cycle's last callback came: end it, swap a pending config, tell the owner. */
static void cycle_finish(struct controller *ctl)
{
	struct controller_cycle_report report = {0};
	size_t n = 0;

	for (size_t i = 0; i < ctl->n_policies; i++)
		n += ctl->policies[i].due ? 1 : 0;
	report.started_ms = ctl->cycle->started_ms;
	report.n_policies = n;
	report.n_failed = ctl_report(ctl->cycle);
	report.finished_ms = clock_mono_ms(ctl->clock);
	cycle_free(ctl);
	if (ctl->pending_config != NULL) {
		struct qscale_config *config = ctl->pending_config;

		ctl->pending_config = NULL;
		apply_config(ctl, config);
	}
	/* Last: the hook may tick again or set a config. */
	if (ctl->hooks.cycle_done != NULL)
		ctl->hooks.cycle_done(&report, ctl->hooks.arg);
}

/* Move a cycle on once nothing is outstanding. */
static void cycle_advance(struct ctl_cycle *c)
{
	struct controller *ctl = c->ctl;

	if (!c->acting) {
		c->acting = true;
		ctl_decide_and_act(c);
		if (c->pending > 0)
			return;
	}
	cycle_finish(ctl);
}

void ctl_cycle_step(struct ctl_cycle *c)
{
	if (c->pending > 0)
		c->pending--;
	if (c->pending == 0)
		cycle_advance(c);
}

int controller_tick(struct controller *ctl, uint64_t now_ms)
{
	struct ctl_cycle *c;
	int n = 0;

	if (ctl == NULL)
		return -EINVAL;
	if (ctl->config == NULL || ctl->cycle != NULL)
		return 0;
	for (size_t i = 0; i < ctl->n_policies; i++) {
		struct ctl_policy *p = &ctl->policies[i];

		p->due = take_if_due(p, now_ms);
		if (p->due && p->missed > 0)
			log_msg(ctl->quiet ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN,
				"policy=%s missed=%" PRIu64 " interval_ms=%" PRIu64
				" reason=\"the previous cycle ran past the interval: slots "
				"skipped, "
				"not caught up\"",
				p->policy->name, p->missed, p->policy->interval_ms);
		p->claim_only = false;
		p->error[0] = '\0';
		memset(&p->update_local, 0, sizeof(p->update_local));
		memset(&p->update_burst, 0, sizeof(p->update_burst));
		n += p->due ? 1 : 0;
	}
	if (n == 0)
		return 0;
	c = xcalloc(1, sizeof(*c));
	c->ctl = ctl;
	c->started_ms = now_ms;
	ctl->cycle = c;
	ctl_observe_start(c);
	/* Every call refused at once: nothing will call back, so end it here. */
	if (c->pending == 0)
		cycle_advance(c);
	return n;
}

uint64_t controller_next_due_ms(const struct controller *ctl)
{
	uint64_t next = UINT64_MAX;

	if (ctl->cycle != NULL)
		return UINT64_MAX;
	for (size_t i = 0; i < ctl->n_policies; i++) {
		if (ctl->policies[i].status.next_due_ms < next)
			next = ctl->policies[i].status.next_due_ms;
	}
	return next;
}

bool controller_busy(const struct controller *ctl)
{
	return ctl->cycle != NULL;
}

size_t controller_policy_count(const struct controller *ctl)
{
	return ctl->n_policies;
}

const struct controller_policy_status *controller_policy_status(
	const struct controller *ctl, size_t i)
{
	return i < ctl->n_policies ? &ctl->policies[i].status : NULL;
}
