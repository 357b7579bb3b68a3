/*
 * Sweeps for `qscale simulate --sweep KEY=FROM:TO:STEP`: which keys can be
 * swept, parsing the range, and setting one value on a freshly loaded
 * configuration (every policy) or scenario (the first policy's on-prem
 * cluster, or the startup delays). No I/O.
 */
#ifndef QSCALE_SIM_SWEEP_H
#define QSCALE_SIM_SWEEP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

struct qscale_config;
struct scenario;

/* Longest error text (NUL included). */
#define SIM_SWEEP_ERROR_MAX 256
/* Most values one sweep may have. */
#define SIM_SWEEP_MAX_VALUES 1000

struct sim_sweep_key;

/* A parsed sweep: key and range, in the key's unit (count, or ms for durations). */
struct sim_sweep {
	const struct sim_sweep_key *key;
	uint64_t from;
	uint64_t to;
	uint64_t step;
};

/* Parse "KEY=FROM:TO:STEP" (durations for duration keys, whole numbers else). 0 or -EINVAL. */
int sim_sweep_parse(const char *spec, struct sim_sweep *out, char error[SIM_SWEEP_ERROR_MAX]);

/* The key's name as written. */
const char *sim_sweep_key_name(const struct sim_sweep *sw);

/* How many values the range holds (FROM, FROM+STEP, ... up to TO). */
size_t sim_sweep_count(const struct sim_sweep *sw);

/* Value i of the range. */
uint64_t sim_sweep_value(const struct sim_sweep *sw, size_t i);

/* Value i as text ("4", "30s"). */
char *sim_sweep_format(const struct sim_sweep *sw, size_t i, char out[32]);

/*
 * Set value on config or sc (both freshly loaded, changed in place).
 * 0, or -EINVAL with error filled when the result would be invalid (a
 * minimum above a maximum, a policy without burst, a cluster without an
 * instance to copy).
 */
int sim_sweep_apply(const struct sim_sweep *sw, uint64_t value, struct qscale_config *config,
	struct scenario *sc, char error[SIM_SWEEP_ERROR_MAX]);

/* List the keys, one per line with what each sets, for --help. */
void sim_sweep_print_keys(FILE *out);

#endif
