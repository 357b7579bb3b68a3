/*
 * libFuzzer target for the metrics endpoint's request head parser: any bytes
 * (not NUL-terminated) are parsed; what is accepted must have consumed no
 * more than it was given, named a path without control bytes, and parse the
 * same way a second time.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/metrics_http.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct metrics_http_request a, b;
	/* An exact-size copy, so ASan sees any read past the end. */
	char *input = malloc(size > 0 ? size : 1);

	if (input == NULL)
		return 0;
	memcpy(input, data, size);
	if (metrics_http_parse(input, size, &a) == 0) {
		if (a.consumed == 0 || a.consumed > size || a.consumed > METRICS_HTTP_HEAD_MAX)
			abort();
		for (const char *p = a.path; *p != '\0'; p++)
			if ((unsigned char)*p <= 0x20 || *p == 0x7f)
				abort();
		if (metrics_http_parse(input, a.consumed, &b) != 0 || b.consumed != a.consumed ||
			strcmp(a.path, b.path) != 0 || strcmp(a.method, b.method) != 0)
			abort();
	}
	free(input);
	return 0;
}
