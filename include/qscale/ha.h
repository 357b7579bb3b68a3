/*
 * High availability for `qscale run`: the DynamoDB lease of every policy
 * group this daemon's config names, kept on the daemon's libevent loop. Each
 * group runs the pure state machine of qscale/lease.h; this module makes its
 * calls (qscale/dynamodb.h), logs one line per change of leadership and
 * answers, per policy, whether this daemon may act now. At start it checks
 * the table once (DescribeTable): a missing table or a wrong key schema is
 * reported clearly and no lease is ever tried. See docs/ha.md.
 */
#ifndef QSCALE_HA_H
#define QSCALE_HA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/clock.h"

struct aws_client;
struct event_base;
struct policy;
struct qscale_config;
struct ha;

/* What metrics and readiness read about one group. */
struct ha_group_status {
	const char *name; /* the lease name */
	bool acting; /* this daemon may act for the group now */
	const char *holder; /* the holder last seen ("" unknown); ours while we hold it */
	uint64_t renewals; /* successful writes (acquire, take over, renew) */
	uint64_t failures; /* lease calls that failed */
	uint64_t last_answer_ms; /* monotonic time of the last good DynamoDB answer, 0 never */
};

/* The default identity: the host name, '-', 8 random hex digits. */
void ha_default_identity(char *out, size_t size);

/*
 * Keep the leases that config's policies need (config->ha.present must be
 * set), through client, on base. 0, or -EINVAL. Nothing is called before
 * ha_start.
 */
int ha_create(struct event_base *base, struct aws_client *client, const struct clock *clock,
	const struct qscale_config *config, struct ha **out);

/* Cancel every call (no release) and free; accepts NULL. */
void ha_destroy(struct ha *ha);

/* Check the table, then start keeping the leases. */
void ha_start(struct ha *ha);

/*
 * A new config (SIGHUP): groups that stay keep their lease and state; new
 * ones start as standby; groups no policy names any more are released. The
 * timings and the table come from the new config. config must outlive the
 * next call, as the controller's does.
 */
void ha_set_config(struct ha *ha, const struct qscale_config *config);

/* Whether this daemon may call UpdateService for policy at now_ms. */
bool ha_may_act(struct ha *ha, const struct policy *policy, uint64_t now_ms);

/* This daemon's identity in the lease records. */
const char *ha_identity(const struct ha *ha);

/* The number of groups, and the status of group i (valid until the next call). */
size_t ha_group_count(const struct ha *ha);
const struct ha_group_status *ha_group(struct ha *ha, size_t i, uint64_t now_ms);

/*
 * Whether the lease machinery is healthy at now_ms: the table is usable and
 * every group had a good DynamoDB answer within one lease duration. A healthy
 * standby is healthy. When not, reason (may be NULL) gets why.
 */
bool ha_healthy(const struct ha *ha, uint64_t now_ms, char *reason, size_t size);

/*
 * Stop acting and delete every record this daemon holds (conditionally), so
 * a standby takes over at once. done runs once, after the last answer (never
 * inside this call); returns how many deletes were started (0: done will
 * still run, from the loop).
 */
size_t ha_release(struct ha *ha, void (*done)(void *arg), void *arg);

#endif
