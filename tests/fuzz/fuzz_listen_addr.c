/*
 * libFuzzer target for the `metrics.listen` parser: any input is parsed;
 * whatever is accepted must format to text that parses back to the same
 * address.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/listen_addr.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct listen_addr a, b;
	char text[LISTEN_ADDR_TEXT_MAX];
	char *input = malloc(size + 1);

	if (input == NULL)
		return 0;
	memcpy(input, data, size);
	input[size] = '\0';
	if (listen_addr_parse(input, &a) == 0 && a.enabled) {
		listen_addr_format(&a, text, sizeof(text));
		if (listen_addr_parse(text, &b) != 0 || b.port != a.port || b.sa_len != a.sa_len ||
			memcmp(&a.sa, &b.sa, a.sa_len) != 0)
			abort();
	}
	free(input);
	return 0;
}
