/*
 * Duration text. A duration is one or more <digits><unit> terms, units ms, s,
 * m and h, largest first, each unit at most once ("1h30m", "2m", "500ms").
 * Anything else is junk: operators get an error, never a guess.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "qscale/duration.h"

static const struct {
	const char *unit;
	uint64_t ms;
} units[] = {
	{"h", 3600000},
	{"m", 60000},
	{"s", 1000},
	{"ms", 1},
};

#define N_UNITS (sizeof(units) / sizeof(units[0]))

/* Match the unit at p: longest name first so "ms" is not read as "m". */
static int match_unit(const char *p, size_t *len)
{
	int best = -1;
	size_t best_len = 0;

	for (size_t i = 0; i < N_UNITS; i++) {
		size_t n = strlen(units[i].unit);

		if (strncmp(p, units[i].unit, n) == 0 && n > best_len) {
			best = (int)i;
			best_len = n;
		}
	}
	*len = best_len;
	return best;
}

int duration_parse(const char *text, uint64_t *out_ms)
{
	uint64_t total = 0;
	int last_unit = -1;
	const char *p = text;

	if (text == NULL || *text == '\0')
		return -EINVAL;
	if (strcmp(text, "0") == 0) {
		*out_ms = 0;
		return 0;
	}

	while (*p != '\0') {
		uint64_t value = 0;
		size_t digits = 0;
		size_t unit_len;
		int unit;

		while (*p >= '0' && *p <= '9') {
			uint64_t d = (uint64_t)(*p - '0');

			if (value > (UINT64_MAX - d) / 10)
				return -ERANGE;
			value = value * 10 + d;
			p++;
			digits++;
		}
		if (digits == 0)
			return -EINVAL;
		unit = match_unit(p, &unit_len);
		if (unit < 0)
			return -EINVAL;
		/* Units must go from largest to smallest, each once. */
		if (unit <= last_unit)
			return -EINVAL;
		last_unit = unit;
		p += unit_len;
		if (value > UINT64_MAX / units[unit].ms)
			return -ERANGE;
		value *= units[unit].ms;
		if (total > UINT64_MAX - value)
			return -ERANGE;
		total += value;
	}
	if (total > DURATION_MAX_MS)
		return -ERANGE;
	*out_ms = total;
	return 0;
}

char *duration_format(uint64_t ms, char out[DURATION_FORMAT_MAX])
{
	size_t used = 0;

	out[0] = '\0';
	if (ms == 0) {
		snprintf(out, DURATION_FORMAT_MAX, "0s");
		return out;
	}
	for (size_t i = 0; i < N_UNITS; i++) {
		uint64_t n = ms / units[i].ms;

		if (n == 0)
			continue;
		ms -= n * units[i].ms;
		used += (size_t)snprintf(out + used, DURATION_FORMAT_MAX - used, "%llu%s",
			(unsigned long long)n, units[i].unit);
	}
	return out;
}
