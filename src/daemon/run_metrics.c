/*
 * The metrics of `qscale run`: per policy the backlog, wanted total, desired
 * and running counts of both services, local capacity, failures and the time
 * of the last successful cycle; decisions by outcome and reason; per AWS
 * operation the requests by outcome, their latency, retries and throttles;
 * the age of the credentials; reloads; the HA leases; intervals missed
 * because a cycle ran long; connections and TLS handshakes opened, and
 * requests that waited for a connection slot. Reasons are the decision's binding rule
 * (a small fixed set), never the free-text reason, so series stay few.
 */
#include <stdlib.h>

#include "qscale/credentials.h"
#include "qscale/ha.h"
#include "qscale/http.h"
#include "qscale/policy.h"
#include "qscale/xalloc.h"
#include "run_priv.h"

struct run_metrics {
	struct metrics_family *backlog;
	struct metrics_family *wanted;
	struct metrics_family *desired;
	struct metrics_family *running;
	struct metrics_family *capacity;
	struct metrics_family *failures;
	struct metrics_family *last_success;
	struct metrics_family *decisions;
	struct metrics_family *missing;
	struct metrics_family *cycles;
	struct metrics_family *missed;
	struct metrics_family *connections;
	struct metrics_family *handshakes;
	struct metrics_family *waiting;
	struct metrics_family *waited;
	uint64_t reported_connections, reported_handshakes, reported_waited;
	struct metrics_family *cycle_seconds;
	struct metrics_family *aws_requests;
	struct metrics_family *aws_seconds;
	struct metrics_family *aws_retries;
	struct metrics_family *aws_throttles;
	struct metrics_family *credentials_age;
	struct metrics_family *reloads;
	struct metrics_family *ha_acting;
	struct metrics_family *ha_holder;
	struct metrics_family *ha_renewals;
	struct metrics_family *ha_failures;
	struct metrics_family *ha_identity;
};

/* Register one family; the names are fixed, so failing is a bug. */
static struct metrics_family *reg(struct metrics *m, enum metrics_type type, const char *name,
	const char *help, const char *const *labels)
{
	struct metrics_family *f = NULL;
	bool histogram = type == METRICS_HISTOGRAM;

	if (metrics_register(m, type, name, help, labels,
		    histogram ? metrics_latency_buckets_s : NULL,
		    histogram ? metrics_latency_buckets_count : 0, &f) < 0)
		abort();
	return f;
}

struct run_metrics *run_metrics_create(struct metrics *m)
{
	static const char *const policy[] = {"policy", NULL};
	static const char *const policy_service[] = {"policy", "service", NULL};
	static const char *const decision[] = {"policy", "outcome", "reason", NULL};
	static const char *const policy_data[] = {"policy", "data", NULL};
	static const char *const op_outcome[] = {"operation", "outcome", NULL};
	static const char *const op[] = {"operation", NULL};
	static const char *const result[] = {"result", NULL};
	struct run_metrics *rm = xcalloc(1, sizeof(*rm));

	rm->backlog = reg(m, METRICS_GAUGE, "qscale_policy_backlog_messages",
		"Backlog the last decision saw (messages).", policy);
	rm->wanted = reg(m, METRICS_GAUGE, "qscale_policy_wanted_tasks",
		"Total tasks wanted after behaviour (local + burst).", policy);
	rm->desired = reg(m, METRICS_GAUGE, "qscale_policy_desired_tasks",
		"Desired count set (or, in dry-run, that would be set), by service local|burst.",
		policy_service);
	rm->running = reg(m, METRICS_GAUGE, "qscale_policy_running_tasks",
		"Running count last observed, by service local|burst.", policy_service);
	rm->capacity = reg(m, METRICS_GAUGE, "qscale_policy_local_capacity_tasks",
		"Local tasks that can run: min(local max, placed + fit).", policy);
	rm->failures = reg(m, METRICS_GAUGE, "qscale_policy_consecutive_failures",
		"Cycles in a row that held or failed.", policy);
	rm->last_success = reg(m, METRICS_GAUGE, "qscale_policy_last_success_timestamp_seconds",
		"Unix time of the last successful cycle.", policy);
	rm->decisions = reg(m, METRICS_COUNTER, "qscale_decisions_total",
		"Decisions by outcome (scaled, unchanged, held, failed) and binding rule.",
		decision);
	rm->missing = reg(m, METRICS_COUNTER, "qscale_policy_missing_data_total",
		"Held decisions by the observation they missed (queue, local_service, "
		"burst_service, task_definition, instances).",
		policy_data);
	rm->cycles = reg(m, METRICS_COUNTER, "qscale_cycles_total", "Control cycles run.", NULL);
	rm->missed = reg(m, METRICS_COUNTER, "qscale_policy_cycles_missed_total",
		"Intervals skipped because the previous cycle had not finished.", policy);
	rm->connections = reg(m, METRICS_COUNTER, "qscale_aws_connections_opened_total",
		"New connections opened to AWS endpoints (kept alive and reused after).", NULL);
	rm->handshakes = reg(m, METRICS_COUNTER, "qscale_aws_tls_handshakes_total",
		"New TLS connections, each a handshake (resumed or full).", NULL);
	rm->waiting = reg(m, METRICS_GAUGE, "qscale_aws_requests_waiting",
		"Requests waiting for a free connection slot (aws.max_connections).", NULL);
	rm->waited = reg(m, METRICS_COUNTER, "qscale_aws_requests_waited_total",
		"Requests that had to wait for a free connection slot.", NULL);
	rm->cycle_seconds = reg(m, METRICS_HISTOGRAM, "qscale_cycle_duration_seconds",
		"Duration of a control cycle.", NULL);
	rm->aws_requests = reg(m, METRICS_COUNTER, "qscale_aws_requests_total",
		"AWS operations by outcome (ok or the error class).", op_outcome);
	rm->aws_seconds = reg(m, METRICS_HISTOGRAM, "qscale_aws_request_duration_seconds",
		"AWS operation latency, retries included.", op);
	rm->aws_retries =
		reg(m, METRICS_COUNTER, "qscale_aws_retries_total", "HTTP attempts retried.", op);
	rm->aws_throttles = reg(m, METRICS_COUNTER, "qscale_aws_throttles_total",
		"HTTP attempts answered with a throttling error.", op);
	rm->credentials_age = reg(m, METRICS_GAUGE, "qscale_aws_credentials_age_seconds",
		"Age of the credentials in use: since their shared file was written, else since "
		"they were obtained (-1 when none were obtained yet).",
		NULL);
	rm->reloads = reg(m, METRICS_COUNTER, "qscale_config_reloads_total",
		"Configuration reloads by result (ok, failed, refused).", result);
	static const char *const lease[] = {"lease", NULL};
	static const char *const lease_holder[] = {"lease", "holder", NULL};
	static const char *const identity[] = {"identity", NULL};

	rm->ha_acting = reg(m, METRICS_GAUGE, "qscale_ha_lease_held",
		"1 when this daemon holds the lease group and may act for its policies.", lease);
	rm->ha_holder = reg(m, METRICS_GAUGE, "qscale_ha_lease_holder",
		"The holder of each lease group as last seen (value 1).", lease_holder);
	rm->ha_renewals = reg(m, METRICS_COUNTER, "qscale_ha_lease_renewals_total",
		"Successful lease writes (acquire, take over, renew).", lease);
	rm->ha_failures = reg(m, METRICS_COUNTER, "qscale_ha_lease_failures_total",
		"Lease calls to DynamoDB that failed.", lease);
	rm->ha_identity = reg(m, METRICS_GAUGE, "qscale_ha_identity_info",
		"This daemon's identity in the lease records (value 1).", identity);
	metrics_gauge_set(rm->credentials_age, NULL, -1);
	return rm;
}

void run_metrics_destroy(struct run_metrics *rm)
{
	free(rm);
}

const char *run_metrics_reason(uint32_t flags)
{
	static const struct {
		uint32_t flag;
		const char *name;
	} order[] = {
		{ENGINE_MISSING_DATA, "missing_data"},
		{ENGINE_UNMET, "unmet"},
		{ENGINE_BOUND_CAPACITY, "capacity"},
		{ENGINE_BOUND_MAX, "max"},
		{ENGINE_BOUND_MIN, "min"},
		{ENGINE_BOUND_RATE, "rate"},
		{ENGINE_BOUND_STABILIZATION, "stabilization"},
		{ENGINE_BOUND_ACTIVATION, "activation"},
		{ENGINE_BOUND_TOLERANCE, "tolerance"},
		{ENGINE_MAKE_BEFORE_BREAK, "make_before_break"},
	};

	for (size_t i = 0; i < sizeof(order) / sizeof(order[0]); i++) {
		if ((flags & order[i].flag) != 0)
			return order[i].name;
	}
	return "target";
}

/* One count per observation a held decision missed. */
static void count_missing(struct run_metrics *rm, const char *policy, uint32_t missing)
{
	static const struct {
		uint32_t bit;
		const char *name;
	} pieces[] = {
		{ENGINE_MISSING_QUEUE, "queue"},
		{ENGINE_MISSING_LOCAL, "local_service"},
		{ENGINE_MISSING_BURST, "burst_service"},
		{ENGINE_MISSING_TASK, "task_definition"},
		{ENGINE_MISSING_INSTANCES, "instances"},
	};

	for (size_t i = 0; i < sizeof(pieces) / sizeof(pieces[0]); i++) {
		const char *const labels[] = {policy, pieces[i].name};

		if (missing & pieces[i].bit)
			metrics_counter_add(rm->missing, labels, 1);
	}
}

void run_metrics_decision(struct run_metrics *rm, const struct controller_report *report,
	const struct controller_policy_status *status)
{
	const char *name = report->policy->name;
	const char *const policy[] = {name};
	const char *const local[] = {name, "local"};
	const char *const burst[] = {name, "burst"};
	const char *const decision[] = {name, controller_outcome_name(report->outcome),
		run_metrics_reason(report->decision->flags)};
	const struct engine_decision *d = report->decision;

	metrics_counter_add(rm->decisions, decision, 1);
	metrics_counter_add(rm->missed, policy, (double)report->missed);
	count_missing(rm, name, d->missing);
	metrics_gauge_set(rm->failures, policy, status->consecutive_failures);
	if (report->outcome == CONTROLLER_HELD)
		return;
	if (d->backlog >= 0)
		metrics_gauge_set(rm->backlog, policy, (double)d->backlog);
	metrics_gauge_set(rm->wanted, policy, d->wanted);
	metrics_gauge_set(rm->capacity, policy, d->local_capacity);
	metrics_gauge_set(rm->desired, local, d->local_desired);
	if (status->local_running >= 0)
		metrics_gauge_set(rm->running, local, status->local_running);
	if (report->policy->burst.present) {
		metrics_gauge_set(rm->desired, burst, d->burst_desired);
		if (status->burst_running >= 0)
			metrics_gauge_set(rm->running, burst, status->burst_running);
	}
	if (status->last_success_wall_ms > 0)
		metrics_gauge_set(
			rm->last_success, policy, (double)status->last_success_wall_ms / 1000.0);
}

void run_metrics_cycle(struct run_metrics *rm, const struct controller_cycle_report *report)
{
	metrics_counter_add(rm->cycles, NULL, 1);
	metrics_histogram_observe(rm->cycle_seconds, NULL,
		(double)(report->finished_ms - report->started_ms) / 1000.0);
}

void run_metrics_aws(struct run_metrics *rm, const char *operation, int err,
	const struct aws_error *error, uint64_t latency_ms)
{
	const char *outcome = "ok";
	const char *const op[] = {operation};

	if (err != 0)
		outcome = error != NULL && error->error_class != AWS_ERROR_NONE
			? aws_error_class_name(error->error_class)
			: "error";
	const char *const op_outcome[] = {operation, outcome};

	metrics_counter_add(rm->aws_requests, op_outcome, 1);
	metrics_histogram_observe(rm->aws_seconds, op, (double)latency_ms / 1000.0);
}

void run_metrics_attempt(struct run_metrics *rm, const struct aws_attempt_event *event)
{
	const char *const op[] = {event->operation};

	if (event->will_retry)
		metrics_counter_add(rm->aws_retries, op, 1);
	if (event->error != NULL && event->error->error_class == AWS_ERROR_THROTTLING)
		metrics_counter_add(rm->aws_throttles, op, 1);
}

void run_metrics_collect(struct run_metrics *rm, struct aws_client *client, uint64_t wall_ms)
{
	struct credentials *creds = aws_client_credentials(client);
	struct credentials_info info;
	struct http_client_stats hs;

	/* The client counts from its creation; the families only ever grow. */
	aws_client_http_stats(client, &hs);
	metrics_counter_add(
		rm->connections, NULL, (double)(hs.connections - rm->reported_connections));
	metrics_counter_add(
		rm->handshakes, NULL, (double)(hs.tls_handshakes - rm->reported_handshakes));
	metrics_counter_add(rm->waited, NULL, (double)(hs.waited - rm->reported_waited));
	metrics_gauge_set(rm->waiting, NULL, (double)hs.waiting);
	rm->reported_connections = hs.connections;
	rm->reported_handshakes = hs.tls_handshakes;
	rm->reported_waited = hs.waited;
	if (creds == NULL)
		return;
	(void)wall_ms;
	credentials_get_info(creds, &info);
	/* The age of the credentials themselves (a file's since it was written). */
	if (info.age_ms >= 0)
		metrics_gauge_set(rm->credentials_age, NULL, (double)info.age_ms / 1000.0);
}

void run_metrics_ha(struct run_metrics *rm, struct ha *ha, uint64_t now_ms)
{
	const char *const me[] = {ha_identity(ha)};

	metrics_gauge_set(rm->ha_identity, me, 1);
	/* Totals kept by the lease: rewritten whole, so a forgotten group leaves no series. */
	metrics_family_clear(rm->ha_acting);
	metrics_family_clear(rm->ha_holder);
	metrics_family_clear(rm->ha_renewals);
	metrics_family_clear(rm->ha_failures);
	for (size_t i = 0; i < ha_group_count(ha); i++) {
		const struct ha_group_status *g = ha_group(ha, i, now_ms);
		const char *const v[] = {g->name};
		const char *const vh[] = {g->name, g->holder};

		metrics_gauge_set(rm->ha_acting, v, g->acting ? 1 : 0);
		if (g->holder[0] != '\0')
			metrics_gauge_set(rm->ha_holder, vh, 1);
		metrics_counter_add(rm->ha_renewals, v, (double)g->renewals);
		metrics_counter_add(rm->ha_failures, v, (double)g->failures);
	}
}

void run_metrics_reload(struct run_metrics *rm, const char *result)
{
	const char *const values[] = {result};

	metrics_counter_add(rm->reloads, values, 1);
}

void run_metrics_forget(struct run_metrics *rm, const char *policy)
{
	struct metrics_family *families[] = {rm->backlog, rm->wanted, rm->desired, rm->running,
		rm->capacity, rm->failures, rm->last_success, rm->decisions, rm->missed};

	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		metrics_family_forget(families[i], "policy", policy);
}
