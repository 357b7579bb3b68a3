/*
 * libFuzzer target for the ECS ListContainerInstances page parser.
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
	struct ecs_arn_list l = {0};
	char *token = NULL;
	int r = ecs_list_container_instances_parse((const char *)data, size, &l, &token, &diag);

	if (r != 0 && (r != -EPROTO || diag.err != -EPROTO || diag.message[0] == '\0'))
		abort();
	if (token != NULL && token[0] == '\0')
		abort();
	free(token);
	ecs_arn_list_finish(&l);
	return 0;
}
