/*
 * The chart of a simulation for `qscale simulate --report FILE`: backlog,
 * on-prem and Fargate tasks, and message wait over time, in three stacked
 * panels sharing the time axis, with the baselines of --compare drawn as
 * dashed lines over qscale's. Drawn with cairo, as SVG or PNG by the file's
 * extension.
 */
#ifndef QSCALE_SIM_CHART_H
#define QSCALE_SIM_CHART_H

#include <stddef.h>

#include "qscale/simulate.h"

/* Longest error text (NUL included). */
#define SIM_CHART_ERROR_MAX 256

/*
 * Draw runs (the first is the main one, usually qscale) into path: ".svg" or
 * ".png". title heads the chart. 0, -EINVAL (unknown extension, nothing to
 * draw) or -EIO (cannot write); error says which.
 */
int sim_chart_write(const char *path, const char *title, const struct sim_result *const *runs,
	size_t n_runs, char error[SIM_CHART_ERROR_MAX]);

/*
 * Free the font caches cairo and fontconfig keep for the whole process, so
 * that leak checkers see only qscale's memory. Only once no chart is being
 * drawn; a later sim_chart_write builds them again.
 */
void sim_chart_cleanup(void);

#endif
