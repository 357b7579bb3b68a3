/*
 * The chart of a simulation for `qscale simulate --report FILE`: backlog,
 * on-prem and Fargate tasks, and message wait over time, in three stacked
 * panels sharing the time axis, with the baselines of --compare drawn as
 * dashed lines over qscale's, as SVG or PNG by the file's extension.
 *
 * A separate program, qscale-chart, draws it with cairo, so that the qscale
 * binary maps no chart, font or X11 library (docs/simulate.md).
 * sim_chart_write encodes the runs as text on the program's standard input;
 * sim_chart_decode is the program's reader of that text.
 */
#ifndef QSCALE_SIM_CHART_H
#define QSCALE_SIM_CHART_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qscale/simulate.h"

/* Longest error text (NUL included). */
#define SIM_CHART_ERROR_MAX 256
/* Bounds on what the chart program accepts. */
#define SIM_CHART_INPUT_MAX (256u << 20)
#define SIM_CHART_RUNS_MAX 16
#define SIM_CHART_POINTS_MAX (1u << 22)

/*
 * Draw runs (the first is the main one, usually qscale) into path: ".svg" or
 * ".png". title heads the chart. Runs qscale-chart (sim_chart_program) and
 * waits for it. 0, -EINVAL (unknown extension, nothing to draw, the program
 * refused its input), -ENOENT (no chart program) or -EIO (cannot write);
 * error says which.
 */
int sim_chart_write(const char *path, const char *title, const struct sim_result *const *runs,
	size_t n_runs, char error[SIM_CHART_ERROR_MAX]);

/*
 * The chart program to run: $QSCALE_CHART when set, else qscale-chart beside
 * the running executable when there is one (a build tree, or both installed
 * in one folder), else the installed one under libexecdir. Writes into out.
 */
void sim_chart_program(char *out, size_t size);

/* Write runs to out in the chart program's input format; 0 or -EIO. */
int sim_chart_encode(
	FILE *out, const char *title, const struct sim_result *const *runs, size_t n_runs);

/* One decoded run: what the chart draws of a sim_result. */
struct sim_chart_run {
	char *name; /* sim_mode_name() of its mode */
	uint64_t duration_ms;
	struct sim_point *series;
	size_t n_series;
};

/* A decoded chart; everything owned. */
struct sim_chart {
	char *title;
	struct sim_chart_run *runs;
	size_t n_runs;
};

/* Parse what sim_chart_encode wrote; 0 or -EINVAL with error saying where. */
int sim_chart_decode(
	const char *text, size_t len, struct sim_chart *out, char error[SIM_CHART_ERROR_MAX]);

/* Free what a chart holds and zero it; accepts a zeroed chart. */
void sim_chart_finish(struct sim_chart *chart);

#endif
