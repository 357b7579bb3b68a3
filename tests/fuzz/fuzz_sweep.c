/*
 * libFuzzer target for `qscale simulate --sweep KEY=FROM:TO:STEP`: any input
 * is parsed; whatever is accepted must hold between 1 and the maximum number
 * of values, in order, the last not past TO, and format without overflowing.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/sim_sweep.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sim_sweep sw;
	char error[SIM_SWEEP_ERROR_MAX], text[32];
	char *input = malloc(size + 1);

	if (input == NULL)
		return 0;
	memcpy(input, data, size);
	input[size] = '\0';
	if (sim_sweep_parse(input, &sw, error) == 0) {
		size_t n = sim_sweep_count(&sw);

		if (n == 0 || n > SIM_SWEEP_MAX_VALUES || sim_sweep_value(&sw, 0) != sw.from ||
			sim_sweep_value(&sw, n - 1) > sw.to)
			abort();
		for (size_t i = 0; i < n; i++)
			sim_sweep_format(&sw, i, text);
	} else if (error[0] == '\0') {
		abort();
	}
	free(input);
	return 0;
}
