/*
 * Time sources. Everything that needs "now" takes a struct clock, so tests and
 * the simulator can drive time by hand. Milliseconds, always.
 */
#ifndef QSCALE_CLOCK_H
#define QSCALE_CLOCK_H

#include <stdint.h>

struct clock {
	/* Monotonic milliseconds, for intervals and deadlines. */
	uint64_t (*mono_ms)(void *ctx);
	/* Wall-clock milliseconds since the Unix epoch, for signatures and logs. */
	uint64_t (*wall_ms)(void *ctx);
	void *ctx;
};

/* The real clocks: CLOCK_MONOTONIC and CLOCK_REALTIME. */
extern const struct clock clock_system;

/* A clock that moves only when told to. */
struct clock_manual {
	struct clock clock;
	uint64_t mono_ms;
	uint64_t wall_ms;
};

/* Start a manual clock at the given readings. */
void clock_manual_init(struct clock_manual *m, uint64_t mono_ms, uint64_t wall_ms);

/* Move a manual clock forward. */
void clock_manual_advance(struct clock_manual *m, uint64_t delta_ms);

static inline uint64_t clock_mono_ms(const struct clock *c)
{
	return c->mono_ms(c->ctx);
}

static inline uint64_t clock_wall_ms(const struct clock *c)
{
	return c->wall_ms(c->ctx);
}

#endif
