/*
 * The end of a policy's cycle: what the history remembers (only what was
 * really set), the status plan, metrics and readiness read, the one log line
 * per decision (info when a count changes, debug when not; a failure once, as
 * a warning, where it is handled) and the owner's decision hook.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "control_priv.h"
#include "qscale/log.h"

const char *controller_outcome_name(enum controller_outcome outcome)
{
	switch (outcome) {
	case CONTROLLER_UNCHANGED:
		return "unchanged";
	case CONTROLLER_SCALED:
		return "scaled";
	case CONTROLLER_HELD:
		return "held";
	case CONTROLLER_FAILED:
		return "failed";
	}
	return "unknown";
}

/* Whether an update that the decision wanted was made, or may have been. */
static bool applied(const struct ctl_update *u)
{
	return u->started && u->done && (u->err == 0 || u->unknown);
}

/* Remember an update of unknown outcome until DescribeServices shows the count. */
static void remember_unknown(struct ctl_unconfirmed *out, const struct ctl_update *u,
	int32_t before, int32_t intended, uint64_t now_ms)
{
	if (!(u->started && u->done && u->err != 0 && u->unknown))
		return;
	*out = (struct ctl_unconfirmed){
		.active = true, .before = before, .intended = intended, .at_ms = now_ms};
}

/*
 * The decision as it took effect: a side whose update was not made (dry-run,
 * failure refused by ECS) keeps its observed count, so the history sees no
 * scale event that did not happen; one whose outcome is unknown counts as
 * made, so that a lost answer cannot open a second period's worth of change.
 */
static void effective(const struct ctl_policy *p, struct engine_decision *d)
{
	bool local_kept, burst_kept;

	*d = p->decision;
	local_kept = d->update_local && !applied(&p->update_local);
	burst_kept = d->update_burst && !applied(&p->update_burst);
	if (local_kept)
		d->local_desired = p->obs.local.desired;
	if (burst_kept)
		d->burst_desired = p->obs.burst.desired;
	if ((local_kept || !d->update_local) && (burst_kept || !d->update_burst) &&
		(local_kept || burst_kept)) {
		int64_t held = (int64_t)d->local_desired + d->burst_desired - d->current_total;

		d->held_burst = held > 0 ? (int32_t)held : 0;
	}
}

/* How the cycle ended for a policy. */
static enum controller_outcome outcome_of(const struct ctl_policy *p)
{
	if ((p->update_local.started && p->update_local.err != 0) ||
		(p->update_burst.started && p->update_burst.err != 0))
		return CONTROLLER_FAILED;
	if (p->error[0] != '\0' || (p->decision.flags & ENGINE_MISSING_DATA) != 0)
		return CONTROLLER_HELD;
	if (p->decision.update_local || p->decision.update_burst)
		return CONTROLLER_SCALED;
	return CONTROLLER_UNCHANGED;
}

/* "8->12", or "unknown" when the count was not observed. */
static void transition(char *out, size_t size, int32_t before, int32_t after)
{
	if (before < 0)
		snprintf(out, size, "unknown");
	else
		snprintf(out, size, "%" PRId32 "->%" PRId32, before, after);
}

/* Log the failure (once) and the decision line. */
static void log_decision(const struct controller *ctl, const struct ctl_policy *p,
	enum controller_outcome outcome, bool dry_run)
{
	const struct engine_decision *d = &p->decision;
	bool changed = d->update_local || d->update_burst;
	enum log_level info = ctl->quiet ? LOG_LEVEL_DEBUG : LOG_LEVEL_INFO;
	enum log_level warn = ctl->quiet ? LOG_LEVEL_DEBUG : LOG_LEVEL_WARN;
	char err[2 * CONTROLLER_ERROR_MAX], reason[2 * ENGINE_REASON_MAX], text[ENGINE_REASON_MAX];
	char backlog[32], local[48], burst[64] = "";

	if (p->error[0] != '\0') {
		log_escape(err, sizeof(err), p->error);
		log_msg(warn, "policy=%s error=\"%s\" action=%s", p->policy->name, err,
			outcome == CONTROLLER_FAILED ? "retry" : "hold");
	}
	if (!log_enabled(changed ? info : LOG_LEVEL_DEBUG))
		return;
	if (d->backlog < 0)
		snprintf(backlog, sizeof(backlog), "unknown");
	else
		snprintf(backlog, sizeof(backlog), "%" PRId64, d->backlog);
	transition(local, sizeof(local), p->local_before, d->local_desired);
	if (p->policy->burst.present) {
		char t[48];

		transition(t, sizeof(t), p->burst_before, d->burst_desired);
		snprintf(burst, sizeof(burst), " burst=%s", t);
	}
	/* Written only here, when the line is logged at all. */
	log_escape(reason, sizeof(reason), engine_decision_reason(d, text, sizeof(text)));
	log_msg(changed ? info : LOG_LEVEL_DEBUG,
		"policy=%s backlog=%s local=%s%s capacity=%" PRId32 "%s%s reason=\"%s\"",
		p->policy->name, backlog, local, burst, d->local_capacity,
		dry_run ? " dry_run=true" : "", p->standby ? " standby=true" : "", reason);
}

/* Count the ACTIVE instances of a cluster's listing. */
static int32_t active_instances(const struct engine_cluster *cluster)
{
	int32_t n = 0;

	if (!cluster->ok)
		return -1;
	for (size_t i = 0; i < cluster->n_instances; i++)
		n += cluster->instances[i].active ? 1 : 0;
	return n;
}

/* The active instances of the cluster last counted, for the policies that share it. */
struct active_memo {
	const struct engine_cluster *cluster;
	int32_t n;
};

/* active_instances, counted once per cluster while the report runs (nothing changes them). */
static int32_t active_instances_memo(struct active_memo *m, const struct engine_cluster *cluster)
{
	if (m->cluster != cluster) {
		m->cluster = cluster;
		m->n = active_instances(cluster);
	}
	return m->n;
}

/* Record, log and report one due policy. */
static void report_policy(struct controller *ctl, struct ctl_policy *p, uint64_t now_ms,
	bool dry_run, struct active_memo *active, size_t *n_failed)
{
	size_t error_len = strnlen(p->error, sizeof(p->status.last_error) - 1);
	struct controller_policy_status *st = &p->status;
	enum controller_outcome outcome = outcome_of(p);
	bool claims = outcome != CONTROLLER_HELD && p->obs.task.ok;
	struct engine_decision unclaimed;
	/* A claiming decision is written where the claim keeps it: one copy less. */
	struct engine_decision *eff = claims ? &p->claim_decision : &unclaimed;
	struct controller_report report = {
		.policy = p->policy,
		.now_ms = now_ms,
		.dry_run = dry_run,
		.standby = p->standby,
		.outcome = outcome,
		.observation = &p->obs,
		.decision = &p->decision,
		.local_before = p->local_before,
		.burst_before = p->burst_before,
		.error = p->error[0] != '\0' ? p->error : NULL,
		.missed = p->missed,
		.status = &p->status,
	};

	effective(p, eff);
	engine_history_update(&p->history, &p->policy->scaling, eff, now_ms);
	remember_unknown(&p->unconfirmed_local, &p->update_local, p->obs.local.desired,
		p->decision.local_desired, now_ms);
	remember_unknown(&p->unconfirmed_burst, &p->update_burst, p->obs.burst.desired,
		p->decision.burst_desired, now_ms);
	if (claims) {
		p->has_claim = true;
		p->claim_task = p->obs.task;
	}
	st->cycles++;
	st->has_decision = true;
	st->outcome = outcome;
	st->observation = p->obs;
	st->observation.cluster = NULL;
	st->observation.matches_filter = NULL;
	st->decision = p->decision;
	st->local_running = p->obs.local.ok ? p->obs.local.running : -1;
	st->burst_running = p->obs.burst.ok ? p->obs.burst.running : -1;
	st->local_instances =
		p->obs.cluster != NULL ? active_instances_memo(active, p->obs.cluster) : -1;
	st->last_cycle_ms = now_ms;
	/* what snprintf "%s" writes, truncation included, without its formatting */
	memcpy(st->last_error, p->error, error_len);
	st->last_error[error_len] = '\0';
	if (outcome == CONTROLLER_HELD || outcome == CONTROLLER_FAILED) {
		st->consecutive_failures++;
		(*n_failed)++;
	} else {
		st->consecutive_failures = 0;
		st->last_success_ms = now_ms;
		st->last_success_wall_ms = clock_wall_ms(ctl->clock);
	}
	log_decision(ctl, p, outcome, dry_run);
	if (ctl->hooks.decision != NULL)
		ctl->hooks.decision(&report, ctl->hooks.arg);
}

size_t ctl_report(struct ctl_cycle *c)
{
	struct controller *ctl = c->ctl;
	uint64_t now_ms = clock_mono_ms(ctl->clock);
	bool dry_run = controller_dry_run(ctl);
	size_t n_failed = 0;
	struct active_memo active = {NULL, 0};

	for (size_t i = 0; i < ctl->n_policies; i++) {
		if (ctl->policies[i].due)
			report_policy(ctl, &ctl->policies[i], now_ms, dry_run, &active, &n_failed);
	}
	return n_failed;
}
