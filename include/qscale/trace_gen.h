/*
 * A seeded generator of example traffic traces for `qscale simulate`
 * (`--generate-trace KIND`): the trace CSV format of docs/scenarios.md, one
 * row per interval with a message count drawn around a smooth rate profile.
 * The same kind, seed and parameters always give the same file.
 */
#ifndef QSCALE_TRACE_GEN_H
#define QSCALE_TRACE_GEN_H

#include <stdint.h>
#include <stdio.h>

enum trace_gen_kind {
	TRACE_GEN_DIURNAL_FLASH_SALE, /* a working day's two peaks and a flash sale at 14:00 */
	TRACE_GEN_QUIET_WEEK, /* a low, mildly diurnal week with a quieter weekend */
};

struct trace_gen_params {
	enum trace_gen_kind kind;
	uint64_t seed;
	uint64_t duration_ms; /* 0: the kind's default (one day, one week) */
	uint64_t row_ms; /* 0: the kind's default (60 s, 300 s) */
	double mean_rate_per_s; /* 0: the kind's default (20/s, 2/s), before the flash sale */
};

/* Parse "diurnal-flash-sale" or "quiet-week"; 0 or -EINVAL. */
int trace_gen_kind_parse(const char *name, enum trace_gen_kind *out);

/* The kind's name. */
const char *trace_gen_kind_name(enum trace_gen_kind kind);

/* Fill in the kind's defaults for the zero fields of p. */
void trace_gen_defaults(struct trace_gen_params *p);

/* The expected rate (messages per second) at t_ms; p with defaults filled in. */
double trace_gen_rate(const struct trace_gen_params *p, uint64_t t_ms);

/* Write the trace (header, a comment naming how it was made, then the rows). 0 or -EIO. */
int trace_gen_write(const struct trace_gen_params *p, FILE *out);

#endif
