/*
 * What the benchmark programs share: a clock reading in seconds and a
 * growing string for the YAML they build.
 */
#ifndef QSCALE_BENCH_COMMON_H
#define QSCALE_BENCH_COMMON_H

#include <time.h>

/* Seconds on clock (CLOCK_MONOTONIC: wall; CLOCK_PROCESS_CPUTIME_ID: this process's CPU). */
double bench_seconds(clockid_t clock);

/* Append formatted text to *text (a heap string, replaced). */
void bench_append(char **text, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
