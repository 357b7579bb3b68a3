/*
 * Durations as operators write them: "500ms", "5s", "2m", "1h", or a sum such
 * as "1m30s". Inside qscale time is always uint64_t milliseconds.
 */
#ifndef QSCALE_DURATION_H
#define QSCALE_DURATION_H

#include <stddef.h>
#include <stdint.h>

/* The longest duration accepted: ten years, far beyond any interval or window. */
#define DURATION_MAX_MS (10ull * 365 * 24 * 3600 * 1000)

/* Longest text duration_format writes, with its NUL. */
#define DURATION_FORMAT_MAX 32

/*
 * Parse text into milliseconds. Rejects empty text, signs, spaces, unknown
 * units, bare numbers other than "0": -EINVAL; anything above DURATION_MAX_MS
 * (overflow included): -ERANGE. *out_ms is written only on success.
 */
int duration_parse(const char *text, uint64_t *out_ms);

/* Write ms in the shortest exact form ("1m30s", "500ms", "0s"); returns out. */
char *duration_format(uint64_t ms, char out[DURATION_FORMAT_MAX]);

#endif
