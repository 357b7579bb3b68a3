/*
 * Per-policy periodic timers on the event loop. Each entry fires every
 * interval_ms, offset by a phase derived from its name (so policies do not
 * all fire together) plus a small per-fire jitter that never accumulates.
 * A cycle still running when its next tick is due is not started twice: the
 * tick is skipped and counted. Time comes from a struct clock, so tests drive
 * the schedule by hand through scheduler_tick.
 */
#ifndef QSCALE_SCHEDULER_H
#define QSCALE_SCHEDULER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/clock.h"

struct event_base;
struct scheduler;
struct scheduler_entry;

/* Start one cycle of the entry; the caller later calls scheduler_cycle_done. */
typedef void (*scheduler_start_cb)(struct scheduler_entry *e, void *policy_ctx);

/* Largest per-fire jitter, and its share of the interval (whichever is less). */
#define SCHEDULER_JITTER_MAX_MS 1000
#define SCHEDULER_JITTER_DIVISOR 20

/*
 * A scheduler reading time from clock (kept by the caller). With a base, a
 * libevent timer calls scheduler_tick when the next entry is due; with NULL,
 * the caller ticks by hand (tests). Caller destroys.
 */
struct scheduler *scheduler_create(
	struct event_base *base, const struct clock *clock, scheduler_start_cb start);

/* Free the scheduler and every entry; accepts NULL. */
void scheduler_destroy(struct scheduler *s);

/*
 * Add an entry for a named policy (name copied; unique). Its first tick is at
 * now + the name's phase offset (in [0, interval_ms)). 0, -EINVAL (zero
 * interval, empty name) or -EEXIST; *out belongs to the scheduler.
 */
int scheduler_add(struct scheduler *s, const char *name, uint64_t interval_ms, void *policy_ctx,
	struct scheduler_entry **out);

/* The entry of a name, or NULL. */
struct scheduler_entry *scheduler_find(const struct scheduler *s, const char *name);

/*
 * Remove an entry. If its cycle is running, the entry is only detached: it
 * never starts again, and scheduler_cycle_done frees it.
 */
void scheduler_remove(struct scheduler *s, struct scheduler_entry *e);

/*
 * Change an entry's interval (reload) keeping its phase: the next tick is one
 * new interval after the last scheduled one, never later than one new interval
 * from now. 0 or -EINVAL.
 */
int scheduler_set_interval(struct scheduler *s, struct scheduler_entry *e, uint64_t interval_ms);

/* Replace the context handed to start (reload). */
void scheduler_set_ctx(struct scheduler_entry *e, void *policy_ctx);

/* The cycle started for e has ended. */
void scheduler_cycle_done(struct scheduler *s, struct scheduler_entry *e);

/* Start every cycle that is due now; re-arms the timer. */
void scheduler_tick(struct scheduler *s);

/* Stop starting cycles (shutdown); running ones still report done. */
void scheduler_stop(struct scheduler *s);

/* How many cycles are running (the shutdown drain waits for 0). */
size_t scheduler_running_count(const struct scheduler *s);

/* Monotonic ms of the earliest next tick, UINT64_MAX when none. */
uint64_t scheduler_next_due_ms(const struct scheduler *s);

/* Accessors of an entry. */
const char *scheduler_entry_name(const struct scheduler_entry *e);
uint64_t scheduler_entry_interval_ms(const struct scheduler_entry *e);
uint64_t scheduler_entry_next_due_ms(const struct scheduler_entry *e);
bool scheduler_entry_running(const struct scheduler_entry *e);
/* Cycles started, and ticks skipped because a cycle was still running or the loop was late. */
uint64_t scheduler_entry_started(const struct scheduler_entry *e);
uint64_t scheduler_entry_skipped(const struct scheduler_entry *e);

/* The phase offset of a name for an interval: deterministic, in [0, interval_ms). */
uint64_t scheduler_phase_ms(const char *name, uint64_t interval_ms);

/* The jitter of fire number k: deterministic, in [0, min(interval/20, 1000 ms)]. */
uint64_t scheduler_jitter_ms(const char *name, uint64_t interval_ms, uint64_t k);

#endif
