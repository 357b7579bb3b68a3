/*
 * The example trace generator. A rate profile (time of day, day of week, a
 * flash sale) is scaled to the requested mean; each row's count is a Poisson
 * draw around the profile times a little per-row noise, from a splitmix64
 * generator seeded by the caller, so traces are reproducible byte for byte.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdbool.h>
#include <string.h>

#include "qscale/trace_gen.h"

#define HOUR_MS 3600000.0
#define DAY_MS 86400000.0

int trace_gen_kind_parse(const char *name, enum trace_gen_kind *out)
{
	if (strcmp(name, "diurnal-flash-sale") == 0)
		*out = TRACE_GEN_DIURNAL_FLASH_SALE;
	else if (strcmp(name, "quiet-week") == 0)
		*out = TRACE_GEN_QUIET_WEEK;
	else
		return -EINVAL;
	return 0;
}

const char *trace_gen_kind_name(enum trace_gen_kind kind)
{
	return kind == TRACE_GEN_QUIET_WEEK ? "quiet-week" : "diurnal-flash-sale";
}

void trace_gen_defaults(struct trace_gen_params *p)
{
	bool week = p->kind == TRACE_GEN_QUIET_WEEK;

	if (p->duration_ms == 0)
		p->duration_ms = week ? (uint64_t)(7 * DAY_MS) : (uint64_t)DAY_MS;
	if (p->row_ms == 0)
		p->row_ms = week ? 300000 : 60000;
	if (p->mean_rate_per_s <= 0)
		p->mean_rate_per_s = week ? 2.0 : 20.0;
}

/* A bell around hour centre of width hours (repeating daily). */
static double bell(double hour, double centre, double width)
{
	double d = fabs(hour - centre);

	if (d > 12)
		d = 24 - d;
	return exp(-(d / width) * (d / width));
}

/* The profile's shape at t, before scaling to the mean. */
static double shape(const struct trace_gen_params *p, double t_ms)
{
	double hour = fmod(t_ms, DAY_MS) / HOUR_MS;
	unsigned day = (unsigned)(t_ms / DAY_MS) % 7;

	if (p->kind == TRACE_GEN_QUIET_WEEK)
		return (0.4 + 0.6 * bell(hour, 14, 4)) * (day >= 5 ? 0.5 : 1.0);
	/* Night trough, a late-morning peak and a bigger evening one. */
	return 0.15 + 0.6 * bell(hour, 11, 2.5) + 1.0 * bell(hour, 19.5, 2.5);
}

/* The flash sale: from 14:00 on the first day, up 8x in two minutes, then decaying. */
static double flash_sale(const struct trace_gen_params *p, double t_ms)
{
	double start = 14 * HOUR_MS, since;

	if (p->kind != TRACE_GEN_DIURNAL_FLASH_SALE || t_ms < start)
		return 1.0;
	since = (t_ms - start) / 60000.0; /* minutes */
	if (since < 2)
		return 1.0 + 7.0 * since / 2.0;
	if (since < 12)
		return 8.0;
	return 1.0 + 7.0 * exp(-(since - 12) / 8.0);
}

/* Mean of the shape over its period (a week covers both kinds), by sampling. */
static double shape_mean(const struct trace_gen_params *p)
{
	double sum = 0;
	unsigned n = 7 * 24 * 12;

	for (unsigned i = 0; i < n; i++)
		sum += shape(p, (i + 0.5) * (7 * DAY_MS / n));
	return sum / n;
}

double trace_gen_rate(const struct trace_gen_params *p, uint64_t t_ms)
{
	return p->mean_rate_per_s * shape(p, (double)t_ms) / shape_mean(p) *
		flash_sale(p, (double)t_ms);
}

/* splitmix64: small, fast, and the same everywhere. */
static uint64_t next_u64(uint64_t *state)
{
	uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* A uniform draw in (0, 1). */
static double uniform(uint64_t *state)
{
	return ((double)(next_u64(state) >> 11) + 0.5) / 9007199254740992.0;
}

/* A standard normal draw (Box-Muller). */
static double normal(uint64_t *state)
{
	double u1 = uniform(state), u2 = uniform(state);

	return sqrt(-2.0 * log(u1)) * cos(2.0 * M_PI * u2);
}

/* A Poisson draw of mean lambda: exact for small means, normal approximation above 30. */
static uint64_t poisson(uint64_t *state, double lambda)
{
	if (lambda <= 0)
		return 0;
	if (lambda < 30) {
		double limit = exp(-lambda), prod = uniform(state);
		uint64_t k = 0;

		while (prod > limit) {
			prod *= uniform(state);
			k++;
		}
		return k;
	}
	{
		double x = floor(lambda + sqrt(lambda) * normal(state) + 0.5);

		return x > 0 ? (uint64_t)x : 0;
	}
}

int trace_gen_write(const struct trace_gen_params *in, FILE *out)
{
	struct trace_gen_params p = *in;
	uint64_t state = in->seed;
	double mean;

	trace_gen_defaults(&p);
	mean = shape_mean(&p);
	fprintf(out, "timestamp_seconds,count\n");
	fprintf(out,
		"# qscale simulate --generate-trace %s --seed %" PRIu64 " --duration %" PRIu64
		"s --trace-row %" PRIu64 "s --trace-rate %g\n",
		trace_gen_kind_name(p.kind), p.seed, p.duration_ms / 1000, p.row_ms / 1000,
		p.mean_rate_per_s);
	for (uint64_t t = 0; t < p.duration_ms; t += p.row_ms) {
		double mid = (double)t + p.row_ms / 2.0;
		double rate = p.mean_rate_per_s * shape(&p, mid) / mean * flash_sale(&p, mid);
		/* Traffic is burstier than Poisson: a few percent of noise per row. */
		double noise = 1.0 + 0.08 * normal(&state);
		double lambda = rate * (noise > 0.5 ? noise : 0.5) * (double)p.row_ms / 1000.0;

		if (fprintf(out, "%" PRIu64 ",%" PRIu64 "\n", t / 1000, poisson(&state, lambda)) <
			0)
			return -EIO;
	}
	return ferror(out) ? -EIO : 0;
}
