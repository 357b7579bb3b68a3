/*
 * The system clocks and a manual clock for tests and the simulator.
 */
#include <time.h>

#include "qscale/clock.h"

static uint64_t read_clock(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t system_mono_ms(void *ctx)
{
	(void)ctx;
	return read_clock(CLOCK_MONOTONIC);
}

static uint64_t system_wall_ms(void *ctx)
{
	(void)ctx;
	return read_clock(CLOCK_REALTIME);
}

const struct clock clock_system = {
	.mono_ms = system_mono_ms,
	.wall_ms = system_wall_ms,
	.ctx = NULL,
};

static uint64_t manual_mono_ms(void *ctx)
{
	return ((struct clock_manual *)ctx)->mono_ms;
}

static uint64_t manual_wall_ms(void *ctx)
{
	return ((struct clock_manual *)ctx)->wall_ms;
}

void clock_manual_init(struct clock_manual *m, uint64_t mono_ms, uint64_t wall_ms)
{
	m->clock.mono_ms = manual_mono_ms;
	m->clock.wall_ms = manual_wall_ms;
	m->clock.ctx = m;
	m->mono_ms = mono_ms;
	m->wall_ms = wall_ms;
}

void clock_manual_advance(struct clock_manual *m, uint64_t delta_ms)
{
	m->mono_ms += delta_ms;
	m->wall_ms += delta_ms;
}
