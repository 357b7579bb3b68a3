/*
 * libFuzzer target for the ECS UpdateService response parser.
 * Any input must end in 0 or a clean -EPROTO with a message, never a crash,
 * leak or sanitizer report.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/ecs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse one input and check the parser's promises. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_error diag = {0};
	struct ecs_service s;
	int r = ecs_update_service_parse((const char *)data, size, &s, &diag);

	if (r != 0 && (r != -EPROTO || diag.err != -EPROTO || diag.message[0] == '\0'))
		abort();
	if (r == 0)
		ecs_service_finish(&s);
	return 0;
}
