/*
 * The decide and act steps of a cycle. Every due policy gets its observation
 * assembled from the shared pieces (a piece that failed makes the engine
 * hold); each local cluster's policies are then sized in priority order by
 * engine_decide_cluster, those not due by their last claim. Last,
 * UpdateService runs for each count that changes, never in dry-run, nor
 * when the owner's may_act predicate (the HA lease) refuses, and for a held
 * policy only where the hold brings a count inside its bounds.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_priv.h"
#include "qscale/log.h"
#include "qscale/xalloc.h"

/*
 * A policy's instance filter over the cluster's instances, into p->matches:
 * evaluated once per distinct filter text and cluster in a cycle, since
 * policies sharing a filter share its answers.
 */
static void match_instances(struct ctl_policy *p, struct ctl_cluster *cl)
{
	const struct ecs_filter *filter = p->policy->local.instance_filter.compiled;
	size_t n = cl->cluster.n_instances;
	bool *matches;

	if (cl->matches == NULL)
		cl->matches = xcalloc(cl->cycle->ctl->n_filter_ids + 1, sizeof(*cl->matches));
	if (cl->matches[p->filter_id] != NULL) {
		p->matches = cl->matches[p->filter_id];
		return;
	}
	matches = xcalloc(n + 1, sizeof(*matches));
	for (size_t i = 0; i < n; i++) {
		const struct ctl_instance_data *d = &cl->data[i];
		struct ecs_filter_instance fi = {
			.attributes = d->attributes,
			.attribute_count = d->n_attributes,
			.agent_connected = cl->cluster.instances[i].agent_connected,
			.ec2_instance_id = d->ec2_instance_id,
		};

		matches[i] = filter == NULL || ecs_filter_match(filter, &fi);
	}
	cl->matches[p->filter_id] = matches;
	p->matches = matches;
}

/*
 * An update of unknown outcome meets the service's real count: if the count
 * is still the one before the update, the update was not made and its scale
 * event is taken back; any other count ends the doubt (the update, or a
 * later change by someone else, was made: counting it stays on the safe side).
 */
static void confirm(struct ctl_policy *p, struct ctl_unconfirmed *u, int32_t desired)
{
	if (!u->active)
		return;
	if (desired == u->before && desired != u->intended)
		engine_history_forget(&p->history, u->at_ms, u->intended - u->before);
	u->active = false;
}

/* Take one observed service into the observation, or the piece's error. */
static void take_service_obs(struct ctl_policy *p, const struct ctl_service *svc,
	struct engine_service_obs *out, int32_t *before, struct ctl_unconfirmed *u)
{
	if (svc->obs.ok) {
		*out = svc->obs;
		*before = svc->obs.desired;
		confirm(p, u, svc->obs.desired);
	} else {
		ctl_policy_error(p, svc->error);
	}
}

/* Assemble a due policy's observation from the cycle's pieces. */
static void assemble(struct ctl_cycle *c, struct ctl_policy *p, uint64_t now_ms)
{
	const struct ctl_queue *q = &c->queues[p->queue];
	struct ctl_cluster *local = &c->clusters[p->local_cluster];
	const struct ctl_service *svc = &local->services[p->local_service];
	const char *task_definition = ctl_service_task_definition(svc);
	struct ctl_task *task;

	memset(&p->obs, 0, sizeof(p->obs));
	p->local_before = -1;
	p->burst_before = -1;
	if (q->obs.ok)
		p->obs.queue = q->obs;
	else
		ctl_policy_error(p, q->error);
	take_service_obs(p, svc, &p->obs.local, &p->local_before, &p->unconfirmed_local);
	if (p->policy->burst.present)
		take_service_obs(p, &c->clusters[p->burst_cluster].services[p->burst_service],
			&p->obs.burst, &p->burst_before, &p->unconfirmed_burst);
	if (svc->obs.ok && task_definition == NULL)
		ctl_policy_error(p, "DescribeServices: no task definition in response");
	task = svc->obs.ok && task_definition != NULL ? ctl_task_find(c->ctl, task_definition)
						      : NULL;
	if (task != NULL) {
		/* A revision never changes: the cached copy is as fresh as now. */
		p->obs.task = task->task;
		p->obs.task.observed_ms = now_ms;
		task->used_ms = now_ms;
	} else if (svc->obs.ok && task_definition != NULL) {
		for (size_t i = 0; i < c->n_fetches; i++) {
			if (strcmp(c->fetches[i]->arn, task_definition) == 0)
				ctl_policy_error(p, c->fetches[i]->error);
		}
		ctl_policy_error(p, "DescribeTaskDefinition: no reservation known");
	}
	if (!local->cluster.ok)
		ctl_policy_error(p, local->instances_error);
	p->obs.cluster = &local->cluster;
	p->obs.matches_filter = NULL;
	if (local->cluster.ok) {
		match_instances(p, local);
		p->obs.matches_filter = p->matches;
	}
}

/* A member for a policy that is not due: its last claim, placed brought up to now. */
static void claim_member(struct ctl_cycle *c, struct ctl_policy *p, struct engine_member *m)
{
	struct ctl_cluster *cl = &c->clusters[p->local_cluster];
	const struct ctl_service *svc = &cl->services[p->local_service];

	match_instances(p, cl);
	m->claim_only = true;
	memset(&m->observation, 0, sizeof(m->observation));
	m->observation.task = p->claim_task;
	m->observation.matches_filter = p->matches;
	m->decision = p->claim_decision;
	/* Tasks placed since that decision already show in the instances' free resources. */
	if (svc->obs.ok)
		m->decision.placed = svc->obs.running + svc->obs.pending;
}

/* A due policy's decision, or the hold of a policy the engine refused. */
static void take_decision(struct ctl_policy *p, const struct engine_member *m)
{
	/* The engine sets only the observation's cluster (NULL when unknown). */
	p->obs.cluster = m->observation.cluster;
	if (m->result == 0) {
		p->decision = m->decision;
		return;
	}
	/* Only impossible policy values get here: the loader rejects them. */
	memset(&p->decision, 0, sizeof(p->decision));
	p->decision.backlog = -1;
	p->decision.flags = ENGINE_MISSING_DATA;
	p->decision.trace.refused = true;
	ctl_policy_error(p, "engine: invalid policy");
}

/*
 * Size one local cluster: every due policy on it, and the last claim of every
 * policy on it that is not due, in priority order (engine_decide_cluster).
 * The members are handed over in that order already (the controller sorted
 * the policies at config load), so the engine's stable sort moves nothing.
 */
static void decide_cluster(struct ctl_cycle *c, size_t cluster, uint64_t now_ms)
{
	struct controller *ctl = c->ctl;
	struct ctl_cluster *cl = &c->clusters[cluster];
	struct engine_member *members = ctl->members;
	size_t n = 0;

	for (size_t i = 0; i < ctl->n_policies; i++) {
		struct ctl_policy *p = &ctl->policies[ctl->order[i]];
		struct engine_member *m = &members[n];

		if (p->local_cluster != cluster || !(p->due || p->claim_only))
			continue;
		if (!p->due && !cl->cluster.ok)
			continue;
		/*
		 * Every field the engine reads is set below: the observation by
		 * assemble or claim_member, the decision by claim_member or, for a
		 * due member, by the engine (read only when it succeeded).
		 */
		m->claim_only = false;
		m->result = 0;
		m->name = p->policy->name;
		m->policy = &p->policy->scaling;
		m->history = &p->history;
		m->arg = p;
		if (p->due) {
			assemble(c, p, now_ms);
			m->observation = p->obs;
		} else {
			claim_member(c, p, m);
		}
		n++;
	}
	engine_decide_cluster(members, n, cl->cluster.ok ? &cl->cluster : NULL, now_ms);
	for (size_t i = 0; i < n; i++) {
		if (!members[i].claim_only)
			take_decision(members[i].arg, &members[i]);
	}
}

static void on_update(
	int err, const struct aws_error *error, const struct cloud_service *service, void *arg);

/* Start one UpdateService unless it would break a maximum. */
static void start_update(struct ctl_cycle *c, struct ctl_policy *p, bool burst)
{
	const struct policy *pol = p->policy;
	struct ctl_update *u = burst ? &p->update_burst : &p->update_local;
	int32_t desired = burst ? p->decision.burst_desired : p->decision.local_desired;
	int32_t max = burst ? pol->scaling.burst_max_tasks : pol->scaling.local_max_tasks;
	char text[CONTROLLER_ERROR_MAX];
	int rc;

	u->cycle = c;
	u->owner = p;
	u->burst = burst;
	u->started = true;
	if (desired < 0 || desired > max) {
		/* The engine never does this; refuse rather than trust it. */
		u->done = true;
		u->err = -ERANGE;
		snprintf(text, sizeof(text),
			"UpdateService %s: desired %" PRId32 " outside 0..%" PRId32,
			burst ? pol->burst.service : pol->local.service, desired, max);
		ctl_policy_error(p, text);
		return;
	}
	rc = c->ctl->cloud->ops->update_service(c->ctl->cloud->ctx,
		burst ? pol->burst.cluster : pol->local.cluster,
		burst ? pol->burst.service : pol->local.service, desired, on_update, u);
	if (rc < 0) {
		u->done = true;
		u->err = rc;
		ctl_format_error(text, sizeof(text), "UpdateService",
			burst ? pol->burst.service : pol->local.service, rc, NULL);
		ctl_policy_error(p, text);
	} else {
		c->pending++;
	}
}

/* An UpdateService answered. */
static void on_update(
	int err, const struct aws_error *error, const struct cloud_service *service, void *arg)
{
	struct ctl_update *u = arg;
	struct ctl_policy *p = u->owner;
	char text[CONTROLLER_ERROR_MAX];

	(void)service;
	u->done = true;
	u->err = err;
	/*
	 * Only an answer refusing the call (4xx: validation, throttling, access)
	 * says it was not made. A lost answer (reset, timeout, no HTTP status) or
	 * a server error may follow a change ECS applied.
	 */
	u->unknown = err != 0 &&
		(error == NULL || error->http_status < 400 || error->http_status >= 500);
	if (err != 0) {
		ctl_format_error(text, sizeof(text), "UpdateService",
			u->burst ? p->policy->burst.service : p->policy->local.service, err, error);
		ctl_policy_error(p, text);
	}
	ctl_cycle_step(u->cycle);
}

void ctl_decide_and_act(struct ctl_cycle *c)
{
	struct controller *ctl = c->ctl;
	uint64_t now_ms = clock_mono_ms(ctl->clock);
	bool dry_run = controller_dry_run(ctl);

	for (size_t i = 0; i < c->n_clusters; i++) {
		if (c->clusters[i].want_instances)
			decide_cluster(c, i, now_ms);
	}
	for (size_t i = 0; i < ctl->n_policies; i++) {
		struct ctl_policy *p = &ctl->policies[i];

		p->standby = false;
		/*
		 * A policy held for missing data still acts on what the engine
		 * changed: a hold changes a count only to bring it inside its
		 * configured bounds, and that must not wait for the outage to end.
		 */
		if (!p->due || dry_run ||
			(p->error[0] != '\0' && !(p->decision.flags & ENGINE_MISSING_DATA)))
			continue;
		if (!(p->decision.update_local || p->decision.update_burst))
			continue;
		/* Asked only when there is something to set, and at the last moment. */
		if (ctl->may_act != NULL && !ctl->may_act(p->policy, now_ms, ctl->may_act_arg)) {
			p->standby = true;
			continue;
		}
		if (p->decision.update_local)
			start_update(c, p, false);
		if (p->decision.update_burst && p->policy->burst.present)
			start_update(c, p, true);
	}
}
