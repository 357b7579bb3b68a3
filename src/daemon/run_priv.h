/*
 * What `qscale run` shares between its loop (run.c) and its metrics
 * (run_metrics.c): the families it registers and how cycles, decisions and
 * AWS calls update them.
 */
#ifndef QSCALE_RUN_PRIV_H
#define QSCALE_RUN_PRIV_H

#include <stdint.h>

#include "qscale/aws_client.h"
#include "qscale/controller.h"
#include "qscale/metrics.h"

struct run_metrics;

/* Register qscale run's families in m (kept by the caller). Caller destroys. */
struct run_metrics *run_metrics_create(struct metrics *m);

/* Free; accepts NULL. */
void run_metrics_destroy(struct run_metrics *rm);

/* One policy's decision: gauges and decisions_total{policy,outcome,reason}. */
void run_metrics_decision(struct run_metrics *rm, const struct controller_report *report,
	const struct controller_policy_status *status);

/* A cycle ended. */
void run_metrics_cycle(struct run_metrics *rm, const struct controller_cycle_report *report);

/* An AWS operation ended (from the cloud's observer). */
void run_metrics_aws(struct run_metrics *rm, const char *operation, int err,
	const struct aws_error *error, uint64_t latency_ms);

/* One HTTP attempt of the AWS client ended (retries and throttles). */
void run_metrics_attempt(struct run_metrics *rm, const struct aws_attempt_event *event);

/* Before /metrics renders: the credentials' age at wall_ms. */
void run_metrics_collect(struct run_metrics *rm, struct aws_client *client, uint64_t wall_ms);

struct ha;

/* Before /metrics renders: the HA leases (which this daemon holds, renewals, failures, holders). */
void run_metrics_ha(struct run_metrics *rm, struct ha *ha, uint64_t now_ms);

/* A reload: result "ok" or "failed". */
void run_metrics_reload(struct run_metrics *rm, const char *result);

/* Forget the series of a policy removed by a reload. */
void run_metrics_forget(struct run_metrics *rm, const char *policy);

/* The short reason label of a decision, from its flags ("capacity", "rate", ...). */
const char *run_metrics_reason(uint32_t flags);

#endif
