/*
 * Faults: the scenario's fault windows as the emulator applies them to
 * requests. Which request a fault hits is decided by a per-window counter
 * (every Nth matching request) or by the world's seeded generator, so the
 * same scenario and the same sequence of requests give the same failures.
 */
#include <string.h>

#include "qscale/xalloc.h"
#include "world_priv.h"

/* Set up per-window counters. */
void world_fault_init(struct world *w)
{
	w->fault_count = w->sc->fault_count;
	w->faults = xcalloc(w->fault_count + 1, sizeof(*w->faults));
	for (size_t i = 0; i < w->fault_count; i++)
		w->faults[i].sf = &w->sc->faults[i];
}

/* splitmix64 over the world's state: a uniform double in [0, 1). */
double world_random(struct world *w)
{
	uint64_t z = (w->rng += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	z ^= z >> 31;
	return (double)(z >> 11) * 0x1.0p-53;
}

/* Is the window open at t? */
static bool active(const struct scenario_fault *f, uint64_t t_ms)
{
	return f->start_ms <= t_ms && t_ms < f->end_ms;
}

/* Windows open at t. */
size_t world_faults_at(
	const struct world *w, uint64_t t_ms, const struct scenario_fault **out, size_t max)
{
	size_t n = 0;

	for (size_t i = 0; i < w->fault_count; i++) {
		if (!active(w->faults[i].sf, t_ms))
			continue;
		if (n < max)
			out[n] = w->faults[i].sf;
		n++;
	}
	return n;
}

/* Does the window apply to this request? */
static bool matches(
	const struct scenario_fault *f, enum scenario_fault_target target, const char *operation)
{
	if (f->target != SCENARIO_TARGET_ANY && target != SCENARIO_TARGET_ANY &&
		f->target != target)
		return false;
	if (f->operation != NULL && (operation == NULL || strcmp(f->operation, operation) != 0))
		return false;
	/* Instance faults change one answer only: they cannot mask another call's fault. */
	if ((f->kind == SCENARIO_FAULT_INSTANCE_FAILURE ||
		    f->kind == SCENARIO_FAULT_MISSING_RESOURCE) &&
		(operation == NULL || strcmp(operation, "DescribeContainerInstances") != 0))
		return false;
	return true;
}

/* Decide the faults for one request now. */
bool world_fault_pick(struct world *w, enum scenario_fault_target target, const char *operation,
	struct world_fault_hit *out)
{
	struct world_fault_hit hit = {0};

	for (size_t i = 0; i < w->fault_count; i++) {
		struct world_fault *f = &w->faults[i];
		const struct scenario_fault *sf = f->sf;
		bool hits;

		if (!active(sf, w->now_ms) || !matches(sf, target, operation))
			continue;
		f->matched++;
		if (sf->every_nth > 0)
			hits = f->matched % sf->every_nth == 0;
		else
			hits = sf->probability >= 1.0 || world_random(w) < sf->probability;
		if (!hits)
			continue;
		if (sf->kind == SCENARIO_FAULT_LATENCY)
			hit.latency_ms += sf->latency_ms;
		else if (hit.fault == NULL ||
			(sf->kind == SCENARIO_FAULT_PARTITION &&
				hit.fault->kind != SCENARIO_FAULT_PARTITION))
			hit.fault = sf;
	}
	*out = hit;
	return hit.fault != NULL || hit.latency_ms > 0;
}
