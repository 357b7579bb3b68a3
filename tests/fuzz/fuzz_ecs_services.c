/*
 * libFuzzer target for the ECS DescribeServices response parser, matched against fixed names.
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
	static const char *const names[] = {"orders-local", "gone",
		"arn:aws:ecs:eu-west-1:123456789012:service/edge/orders-burst"};
	struct ecs_service_list l = {0};
	int r = ecs_describe_services_parse((const char *)data, size, names, 3, &l, &diag);

	if (r != 0 && (r != -EPROTO || diag.err != -EPROTO || diag.message[0] == '\0'))
		abort();
	if (r == 0 && l.n_services != 3)
		abort();
	for (size_t i = 0; i < l.n_services; i++) {
		if (strcmp(l.services[i].name, names[i]) != 0 ||
			(l.services[i].found && l.services[i].desired < 0))
			abort();
	}
	ecs_service_list_finish(&l);
	return 0;
}
