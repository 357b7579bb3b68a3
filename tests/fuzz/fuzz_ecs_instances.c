/*
 * libFuzzer target for the ECS DescribeContainerInstances response parser.
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
	struct ecs_instance_set set = {0};
	int r = ecs_describe_container_instances_parse((const char *)data, size, &set, &diag);

	if (r != 0 && (r != -EPROTO || diag.err != -EPROTO || diag.message[0] == '\0'))
		abort();
	for (size_t i = 0; i < set.n_instances; i++) {
		if (set.instances[i].arn == NULL || set.instances[i].status == NULL)
			abort();
		ecs_container_instance_attribute(
			&set.instances[i], "ecs.capability.external", NULL);
	}
	ecs_instance_set_finish(&set);
	return 0;
}
