/*
 * libFuzzer target for the ECS DescribeTaskDefinition response parser and the task reservation
 * computed from it. Any input must end in 0 or a clean -EPROTO with a message, never a crash, leak
 * or sanitizer report.
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
	struct ecs_task_definition td;
	struct ecs_task_reservation res;
	int r = ecs_describe_task_definition_parse((const char *)data, size, &td, &diag);

	if (r != 0 && (r != -EPROTO || diag.err != -EPROTO || diag.message[0] == '\0'))
		abort();
	if (r != 0)
		return 0;
	r = ecs_task_reservation_compute(&td, &res);
	if (r == 0) {
		if (res.cpu_units < 0 || res.memory_mib < 0)
			abort();
		for (size_t i = 1; i < res.n_tcp_ports; i++) {
			if (res.tcp_ports[i - 1] >= res.tcp_ports[i])
				abort();
		}
		ecs_task_reservation_finish(&res);
	} else if (r != -EOVERFLOW) {
		abort();
	}
	ecs_task_definition_finish(&td);
	return 0;
}
