/*
 * The drawing half of qscale-chart: one chart of decoded runs, with cairo.
 */
#ifndef QSCALE_CHART_PRIV_H
#define QSCALE_CHART_PRIV_H

#include <stddef.h>

#include "qscale/sim_chart.h"

/*
 * Draw runs (the first is the main one) into path, ".svg" or ".png", headed
 * by title. 0, -EINVAL (unknown extension, nothing to draw) or -EIO (cannot
 * write); error says which.
 */
int chart_draw(const char *path, const char *title, const struct sim_chart_run *runs, size_t n_runs,
	char error[SIM_CHART_ERROR_MAX]);

/* Free the font caches cairo and fontconfig keep for the process. */
void chart_cleanup(void);

#endif
