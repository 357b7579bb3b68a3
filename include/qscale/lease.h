/*
 * The HA lease of one policy group, as a pure state machine: time is an
 * argument, the caller does the DynamoDB calls (qscale/ha.h) and reports
 * their answers. It follows the DynamoDB lock client's design: a record
 * version number that the holder changes at each renewal, and contenders that
 * take over only after seeing one version unchanged for a full lease duration
 * on their own monotonic clock, so no two hosts' wall clocks need to agree.
 *
 * The holder may act while its last successful write (counted from when that
 * write was sent) is younger than duration - margin. Every write is
 * conditional; an answer lost in transit is resolved by reading the record
 * back before the next write. See docs/ha.md for why this never lets two
 * daemons act at once.
 */
#ifndef QSCALE_LEASE_H
#define QSCALE_LEASE_H

#include <stdbool.h>
#include <stdint.h>

#include "qscale/dynamodb.h"

struct lease_params {
	uint64_t duration_ms; /* how long a record lasts unrenewed */
	uint64_t renew_ms; /* the holder's renewal period, a standby's reading period */
	uint64_t margin_ms; /* the holder stops acting this long before duration_ms */
};

/* What the caller should do next for this lease. */
enum lease_action {
	LEASE_WAIT, /* nothing now (a call is in flight, or not yet due) */
	LEASE_READ, /* GetItem */
	LEASE_CREATE, /* PutItem if absent */
	LEASE_TAKE_OVER, /* PutItem if the version is still the one seen */
	LEASE_RENEW, /* UpdateItem if holder and version are ours */
};

struct lease {
	struct lease_params params;
	char identity[DYNAMODB_ID_MAX + 1];
	/* The record is ours at version, made by a write sent at valid_from_ms. */
	bool held;
	char version[DYNAMODB_ID_MAX + 1];
	uint64_t valid_from_ms;
	/* The last write: in flight, or its answer lost (uncertain) until a read settles it. */
	bool busy;
	enum lease_action pending_action;
	char pending_version[DYNAMODB_ID_MAX + 1];
	uint64_t pending_sent_ms;
	bool uncertain;
	/* The record as a contender saw it, and since when (its own monotonic clock). */
	bool seen;
	struct dynamodb_lease_item seen_item;
	uint64_t seen_since_ms;
	/* What is due next, and when. */
	enum lease_action due;
	uint64_t due_ms;
	/* Counters for metrics. */
	uint64_t renewals; /* successful writes while or to become holder */
	uint64_t failures; /* calls that failed (transport, throttling, malformed) */
};

/* Start with nothing known: the first action is a read, due at now_ms. */
void lease_init(
	struct lease *l, const struct lease_params *params, const char *identity, uint64_t now_ms);

/* The action due at now_ms (LEASE_WAIT when none). */
enum lease_action lease_next(const struct lease *l, uint64_t now_ms);

/* When the caller should look again: the next action, or the end of acting. */
uint64_t lease_wake_ms(const struct lease *l, uint64_t now_ms);

/*
 * A write of action (CREATE, TAKE_OVER or RENEW) with new_version is being
 * sent at now_ms; fills the record to write into *item.
 */
void lease_begin_write(struct lease *l, enum lease_action action, const char *new_version,
	uint64_t now_ms, int64_t wall_ms, struct dynamodb_lease_item *item);

/* A read is being sent. */
void lease_begin_read(struct lease *l);

/* The read answered at now_ms: err 0 with found/item, or a negative errno. */
void lease_read_done(struct lease *l, uint64_t now_ms, int err, bool found,
	const struct dynamodb_lease_item *item);

/* The write answered: 0, DYNAMODB_CONDITION_FAILED, or a negative errno. */
void lease_write_done(struct lease *l, uint64_t now_ms, int result);

/* Whether this daemon may act for the group at now_ms. */
bool lease_may_act(const struct lease *l, uint64_t now_ms);

/*
 * Whether the record is ours to delete on shutdown (*version gets it, and
 * *alt the version of a renewal still in flight, else NULL: either may be in
 * the table); the lease stops acting at once either way.
 */
bool lease_release(struct lease *l, const char **version, const char **alt);

/* A short lowercase name of an action ("read", "renew", ...). */
const char *lease_action_name(enum lease_action action);

#endif
