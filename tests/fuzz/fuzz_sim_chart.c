/*
 * libFuzzer target for the chart program's input (sim_chart_decode): any
 * input is parsed; whatever is accepted holds between 1 and 16 runs, each
 * with a name and at most the point cap.
 */
#include <stdint.h>
#include <stdlib.h>

#include "qscale/sim_chart.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char error[SIM_CHART_ERROR_MAX];
	struct sim_chart chart;

	if (sim_chart_decode((const char *)data, size, &chart, error) == 0) {
		if (chart.n_runs == 0 || chart.n_runs > SIM_CHART_RUNS_MAX || chart.title == NULL)
			abort();
		for (size_t i = 0; i < chart.n_runs; i++)
			if (chart.runs[i].name == NULL ||
				chart.runs[i].n_series > SIM_CHART_POINTS_MAX)
				abort();
		sim_chart_finish(&chart);
	} else if (error[0] == '\0') {
		abort();
	}
	return 0;
}
