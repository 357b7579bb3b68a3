/*
 * What the benchmark programs share (bench_common.h).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "bench_common.h"
#include "qscale/xalloc.h"

double bench_seconds(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void bench_append(char **text, const char *fmt, ...)
{
	va_list ap;
	char *piece, *joined;

	va_start(ap, fmt);
	if (vasprintf(&piece, fmt, ap) < 0)
		abort();
	va_end(ap);
	joined = xasprintf("%s%s", *text, piece);
	free(piece);
	free(*text);
	*text = joined;
}
