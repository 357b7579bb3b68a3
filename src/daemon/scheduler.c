/*
 * The per-policy schedule. Entry e fires at slots anchor + k * interval,
 * each shifted by a small jitter that depends only on (name, k), so it never
 * accumulates and the schedule is reproducible. One libevent timer is armed
 * for the earliest due entry; each tick starts what is due, skips what is
 * still running, and moves every fired entry to its next future slot.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/log.h"
#include "qscale/scheduler.h"
#include "qscale/xalloc.h"

struct scheduler_entry {
	char *name;
	uint64_t interval_ms;
	void *ctx;
	uint64_t anchor_ms; /* slot 0 */
	uint64_t k; /* index of the next slot */
	uint64_t next_due_ms;
	uint64_t started;
	uint64_t skipped;
	bool running;
	bool removed; /* detached: never starts again; freed when idle */
};

struct scheduler {
	struct event_base *base;
	const struct clock *clock;
	scheduler_start_cb start;
	struct event *timer;
	struct scheduler_entry **entries;
	size_t entries_count;
	bool ticking;
	bool stopped;
};

/* FNV-1a over the name. */
static uint64_t name_hash(const char *name)
{
	uint64_t h = 1469598103934665603ULL;

	for (const unsigned char *p = (const unsigned char *)name; *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return h;
}

/* splitmix64 finaliser: spreads close inputs far apart. */
static uint64_t mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* The name's phase within an interval. */
uint64_t scheduler_phase_ms(const char *name, uint64_t interval_ms)
{
	if (interval_ms == 0)
		return 0;
	return mix(name_hash(name)) % interval_ms;
}

/* The jitter of slot k (none for the first). */
uint64_t scheduler_jitter_ms(const char *name, uint64_t interval_ms, uint64_t k)
{
	uint64_t max = interval_ms / SCHEDULER_JITTER_DIVISOR;

	if (max > SCHEDULER_JITTER_MAX_MS)
		max = SCHEDULER_JITTER_MAX_MS;
	if (k == 0 || max == 0)
		return 0;
	return mix(name_hash(name) ^ mix(k)) % (max + 1);
}

/* When slot k of e is due. */
static uint64_t slot_due(const struct scheduler_entry *e, uint64_t k)
{
	return e->anchor_ms + k * e->interval_ms + scheduler_jitter_ms(e->name, e->interval_ms, k);
}

/* Timer: run the due entries. */
static void timer_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	scheduler_tick(arg);
}

/* Create a scheduler. */
struct scheduler *scheduler_create(
	struct event_base *base, const struct clock *clock, scheduler_start_cb start)
{
	struct scheduler *s = xcalloc(1, sizeof(*s));

	s->base = base;
	s->clock = clock;
	s->start = start;
	if (base != NULL) {
		s->timer = evtimer_new(base, timer_cb, s);
		if (s->timer == NULL)
			fatal("scheduler: cannot create the timer");
	}
	return s;
}

/* Free one entry. */
static void entry_free(struct scheduler_entry *e)
{
	free(e->name);
	free(e);
}

/* Free everything. */
void scheduler_destroy(struct scheduler *s)
{
	if (s == NULL)
		return;
	if (s->timer != NULL)
		event_free(s->timer);
	for (size_t i = 0; i < s->entries_count; i++)
		entry_free(s->entries[i]);
	free(s->entries);
	free(s);
}

/* Earliest due time among live entries. */
uint64_t scheduler_next_due_ms(const struct scheduler *s)
{
	uint64_t due = UINT64_MAX;

	for (size_t i = 0; i < s->entries_count; i++) {
		const struct scheduler_entry *e = s->entries[i];

		if (!e->removed && e->next_due_ms < due)
			due = e->next_due_ms;
	}
	return due;
}

/* Arm the libevent timer for the earliest due entry. */
static void arm(struct scheduler *s)
{
	uint64_t due, now, delay_ms;
	struct timeval tv;

	if (s->timer == NULL || s->ticking)
		return;
	event_del(s->timer);
	due = scheduler_next_due_ms(s);
	if (s->stopped || due == UINT64_MAX)
		return;
	now = clock_mono_ms(s->clock);
	delay_ms = due > now ? due - now : 0;
	tv.tv_sec = (time_t)(delay_ms / 1000);
	tv.tv_usec = (suseconds_t)(delay_ms % 1000 * 1000);
	if (event_add(s->timer, &tv) < 0)
		fatal("scheduler: cannot arm the timer");
}

/* Drop removed idle entries from the list (not while ticking). */
static void compact(struct scheduler *s)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->entries_count; i++) {
		struct scheduler_entry *e = s->entries[i];

		if (e->removed && !e->running)
			entry_free(e);
		else
			s->entries[kept++] = e;
	}
	s->entries_count = kept;
}

/* The live entry of a name. */
struct scheduler_entry *scheduler_find(const struct scheduler *s, const char *name)
{
	for (size_t i = 0; i < s->entries_count; i++) {
		if (!s->entries[i]->removed && strcmp(s->entries[i]->name, name) == 0)
			return s->entries[i];
	}
	return NULL;
}

/* Add an entry at its phase. */
int scheduler_add(struct scheduler *s, const char *name, uint64_t interval_ms, void *policy_ctx,
	struct scheduler_entry **out)
{
	struct scheduler_entry *e;

	if (name == NULL || name[0] == '\0' || interval_ms == 0)
		return -EINVAL;
	if (scheduler_find(s, name) != NULL)
		return -EEXIST;
	e = xcalloc(1, sizeof(*e));
	e->name = xstrdup(name);
	e->interval_ms = interval_ms;
	e->ctx = policy_ctx;
	e->anchor_ms = clock_mono_ms(s->clock) + scheduler_phase_ms(name, interval_ms);
	e->next_due_ms = slot_due(e, 0);
	s->entries = xreallocarray(s->entries, s->entries_count + 1, sizeof(*s->entries));
	s->entries[s->entries_count++] = e;
	arm(s);
	*out = e;
	return 0;
}

/* Detach an entry; free it now unless its cycle runs or a tick walks the list. */
void scheduler_remove(struct scheduler *s, struct scheduler_entry *e)
{
	if (e == NULL)
		return;
	e->removed = true;
	if (!s->ticking)
		compact(s);
	arm(s);
}

/* Re-anchor at the last slot with the new interval. */
int scheduler_set_interval(struct scheduler *s, struct scheduler_entry *e, uint64_t interval_ms)
{
	uint64_t now = clock_mono_ms(s->clock);

	if (interval_ms == 0 || e->removed)
		return -EINVAL;
	if (interval_ms == e->interval_ms)
		return 0;
	if (e->k == 0) {
		/* not fired yet: keep the first slot unless it is now too far off */
		e->interval_ms = interval_ms;
		if (e->anchor_ms > now + interval_ms)
			e->anchor_ms = now + scheduler_phase_ms(e->name, interval_ms);
	} else {
		e->anchor_ms += (e->k - 1) * e->interval_ms;
		e->interval_ms = interval_ms;
		e->k = 1;
	}
	e->next_due_ms = slot_due(e, e->k);
	arm(s);
	return 0;
}

/* Swap the context. */
void scheduler_set_ctx(struct scheduler_entry *e, void *policy_ctx)
{
	e->ctx = policy_ctx;
}

/* A cycle ended; a detached entry goes away now. */
void scheduler_cycle_done(struct scheduler *s, struct scheduler_entry *e)
{
	e->running = false;
	if (e->removed && !s->ticking)
		compact(s);
}

/* Move e past now: the next slot, counting slots the loop was too late for. */
static void advance(struct scheduler_entry *e, uint64_t now)
{
	e->k++;
	e->next_due_ms = slot_due(e, e->k);
	while (e->next_due_ms <= now) {
		e->skipped++;
		e->k++;
		e->next_due_ms = slot_due(e, e->k);
	}
}

/* Start due cycles; skip (and count) those still running. */
void scheduler_tick(struct scheduler *s)
{
	uint64_t now = clock_mono_ms(s->clock);
	size_t count = s->entries_count;

	if (s->stopped)
		return;
	s->ticking = true;
	for (size_t i = 0; i < count && i < s->entries_count; i++) {
		struct scheduler_entry *e = s->entries[i];

		if (e->removed || e->next_due_ms > now)
			continue;
		advance(e, now);
		if (e->running) {
			e->skipped++;
			log_debug(
				"scheduler: policy=%s tick skipped: cycle still running", e->name);
			continue;
		}
		e->running = true;
		e->started++;
		s->start(e, e->ctx);
	}
	s->ticking = false;
	compact(s);
	arm(s);
}

/* No more cycles. */
void scheduler_stop(struct scheduler *s)
{
	s->stopped = true;
	if (s->timer != NULL)
		event_del(s->timer);
}

/* Cycles running now, detached ones included. */
size_t scheduler_running_count(const struct scheduler *s)
{
	size_t n = 0;

	for (size_t i = 0; i < s->entries_count; i++)
		n += s->entries[i]->running;
	return n;
}

/* Accessors. */
const char *scheduler_entry_name(const struct scheduler_entry *e)
{
	return e->name;
}

uint64_t scheduler_entry_interval_ms(const struct scheduler_entry *e)
{
	return e->interval_ms;
}

uint64_t scheduler_entry_next_due_ms(const struct scheduler_entry *e)
{
	return e->next_due_ms;
}

bool scheduler_entry_running(const struct scheduler_entry *e)
{
	return e->running;
}

uint64_t scheduler_entry_started(const struct scheduler_entry *e)
{
	return e->started;
}

uint64_t scheduler_entry_skipped(const struct scheduler_entry *e)
{
	return e->skipped;
}
