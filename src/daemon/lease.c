/*
 * The lease state machine (qscale/lease.h). Pure: no I/O, no clock, no
 * logging; every instant comes in as an argument, so the unit tests can walk
 * it through failover, partitions and lost answers deterministically.
 */
#include <stdio.h>
#include <string.h>

#include "qscale/lease.h"

/* Copy a NUL-terminated id into a fixed buffer, cut if too long. */
static void copy_id(char dst[DYNAMODB_ID_MAX + 1], const char *src)
{
	snprintf(dst, DYNAMODB_ID_MAX + 1, "%s", src != NULL ? src : "");
}

/* See qscale/lease.h. */
void lease_init(
	struct lease *l, const struct lease_params *params, const char *identity, uint64_t now_ms)
{
	memset(l, 0, sizeof(*l));
	l->params = *params;
	copy_id(l->identity, identity);
	l->due = LEASE_READ;
	l->due_ms = now_ms;
}

/* See qscale/lease.h. */
enum lease_action lease_next(const struct lease *l, uint64_t now_ms)
{
	if (l->busy || now_ms < l->due_ms)
		return LEASE_WAIT;
	return l->due;
}

/* The instant the holder must stop acting. */
static uint64_t act_until(const struct lease *l)
{
	return l->valid_from_ms + l->params.duration_ms - l->params.margin_ms;
}

/* See qscale/lease.h. */
uint64_t lease_wake_ms(const struct lease *l, uint64_t now_ms)
{
	uint64_t t = l->busy ? UINT64_MAX : l->due_ms;

	if (lease_may_act(l, now_ms) && act_until(l) < t)
		t = act_until(l);
	return t;
}

/* See qscale/lease.h. */
void lease_begin_write(struct lease *l, enum lease_action action, const char *new_version,
	uint64_t now_ms, int64_t wall_ms, struct dynamodb_lease_item *item)
{
	l->busy = true;
	l->pending_action = action;
	copy_id(l->pending_version, new_version);
	l->pending_sent_ms = now_ms;
	l->uncertain = false;
	memset(item, 0, sizeof(*item));
	copy_id(item->holder, l->identity);
	copy_id(item->version, new_version);
	item->duration_ms = (int64_t)l->params.duration_ms;
	item->renewed_at_ms = wall_ms;
}

/* See qscale/lease.h. */
void lease_begin_read(struct lease *l)
{
	l->busy = true;
	l->pending_action = LEASE_READ;
}

/* Become (or stay) holder of version, valid from sent_ms. */
static void hold(struct lease *l, const char *version, uint64_t sent_ms, uint64_t now_ms)
{
	l->held = true;
	copy_id(l->version, version);
	l->valid_from_ms = sent_ms;
	l->seen = false;
	l->uncertain = false;
	l->due = LEASE_RENEW;
	l->due_ms = sent_ms + l->params.renew_ms;
	if (l->due_ms < now_ms)
		l->due_ms = now_ms;
}

/*
 * Someone else's record (or a stale one of ours): wait until its version has
 * stayed unchanged for a full duration on our clock, the longer of ours and
 * the one the record announces, then take over.
 */
static void watch(struct lease *l, uint64_t now_ms, const struct dynamodb_lease_item *item)
{
	uint64_t duration = l->params.duration_ms;

	if (item->duration_ms > 0 && (uint64_t)item->duration_ms > duration)
		duration = (uint64_t)item->duration_ms;
	l->held = false;
	l->uncertain = false;
	if (!l->seen || strcmp(l->seen_item.version, item->version) != 0) {
		l->seen = true;
		l->seen_since_ms = now_ms;
	}
	l->seen_item = *item;
	if (now_ms - l->seen_since_ms >= duration) {
		l->due = LEASE_TAKE_OVER;
		l->due_ms = now_ms;
		return;
	}
	l->due = LEASE_READ;
	l->due_ms = now_ms + l->params.renew_ms;
	if (l->seen_since_ms + duration < l->due_ms)
		l->due_ms = l->seen_since_ms + duration;
}

/* See qscale/lease.h. */
void lease_read_done(struct lease *l, uint64_t now_ms, int err, bool found,
	const struct dynamodb_lease_item *item)
{
	l->busy = false;
	if (err < 0) {
		/* Missing data: keep what we hold until it runs out; look again later. */
		l->failures++;
		l->due = LEASE_READ;
		l->due_ms = now_ms + l->params.renew_ms / 2;
		return;
	}
	if (!found) {
		l->held = false;
		l->seen = false;
		l->uncertain = false;
		l->due = LEASE_CREATE;
		l->due_ms = now_ms;
		return;
	}
	if (strcmp(item->holder, l->identity) == 0) {
		if (l->uncertain && strcmp(item->version, l->pending_version) == 0) {
			/* Our write landed though its answer was lost. */
			l->renewals++;
			hold(l, item->version, l->pending_sent_ms, now_ms);
			return;
		}
		if (l->held && strcmp(item->version, l->version) == 0) {
			hold(l, item->version, l->valid_from_ms, now_ms);
			return;
		}
	}
	watch(l, now_ms, item);
}

/* See qscale/lease.h. */
void lease_write_done(struct lease *l, uint64_t now_ms, int result)
{
	l->busy = false;
	if (result == 0) {
		l->renewals++;
		hold(l, l->pending_version, l->pending_sent_ms, now_ms);
		return;
	}
	/*
	 * Refused, or no answer: the record may or may not be our new version
	 * (an earlier attempt of a retried call may have landed). Read it back
	 * before writing again. A refused renewal means someone else wrote: stop
	 * acting at once. After a failure keep the lease until its time runs out.
	 */
	l->uncertain = true;
	if (result == DYNAMODB_CONDITION_FAILED) {
		l->held = false;
		l->due_ms = now_ms;
	} else {
		l->failures++;
		l->due_ms = now_ms + l->params.renew_ms / 2;
	}
	l->due = LEASE_READ;
}

/* See qscale/lease.h. */
bool lease_may_act(const struct lease *l, uint64_t now_ms)
{
	return l->held && now_ms < act_until(l);
}

/* See qscale/lease.h. */
bool lease_release(struct lease *l, const char **version, const char **alt)
{
	bool ours = l->held;

	*version = l->version;
	*alt = l->busy && l->pending_action == LEASE_RENEW ? l->pending_version : NULL;
	l->held = false;
	l->due = LEASE_WAIT;
	l->due_ms = UINT64_MAX;
	return ours;
}

/* See qscale/lease.h. */
const char *lease_action_name(enum lease_action action)
{
	switch (action) {
	case LEASE_WAIT:
		return "wait";
	case LEASE_READ:
		return "read";
	case LEASE_CREATE:
		return "create";
	case LEASE_TAKE_OVER:
		return "take_over";
	case LEASE_RENEW:
		return "renew";
	}
	return "unknown";
}
