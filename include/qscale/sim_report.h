/*
 * What `qscale simulate` prints: the summary of one or more runs side by side
 * (qscale and the baselines) as a readable table or as JSON, and one row per
 * value of a sweep. Writes to a FILE; no other I/O.
 */
#ifndef QSCALE_SIM_REPORT_H
#define QSCALE_SIM_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "qscale/simulate.h"

/* What the header of a report names. */
struct sim_report_info {
	const char *config; /* the configuration file */
	const char *scenario; /* the scenario file */
	const char *trace; /* the trace file, or NULL */
	uint64_t seed;
	double elapsed_s; /* wall-clock time the runs took, < 0 unknown */
};

/* The runs side by side as a table: one block per policy (and the total), then AWS calls. */
void sim_report_table(FILE *out, const struct sim_report_info *info,
	const struct sim_result *const *runs, size_t n_runs);

/* The same as one JSON document (and a newline). Returns 0 or -EIO. */
int sim_report_json(FILE *out, const struct sim_report_info *info,
	const struct sim_result *const *runs, size_t n_runs);

/* One sweep value: the runs made with key set to the value (text as the user wrote it). */
struct sim_sweep_row {
	const char *value;
	const struct sim_result *const *runs;
	size_t n_runs;
};

/* A sweep as a table, one line per value and run. */
void sim_report_sweep_table(FILE *out, const struct sim_report_info *info, const char *key,
	const struct sim_sweep_row *rows, size_t n_rows);

/* A sweep as one JSON document. Returns 0 or -EIO. */
int sim_report_sweep_json(FILE *out, const struct sim_report_info *info, const char *key,
	const struct sim_sweep_row *rows, size_t n_rows);

/* A wait as people read it: "850ms", "12.3s", "4m05s", "2h10m". */
char *sim_format_wait(uint64_t ms, char out[32]);

#endif
