/*
 * libFuzzer target for the SQS GetQueueAttributes response parser.
 * Any input must end in 0 or a clean -EPROTO with a message, never a crash,
 * leak or sanitizer report.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/sqs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Parse one input and check the parser's promises. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_error diag = {0};
	struct sqs_queue_counts c;
	int r = sqs_queue_counts_parse((const char *)data, size, &c, &diag);

	if (r != 0 && (r != -EPROTO || diag.err != -EPROTO || diag.message[0] == '\0'))
		abort();
	if (r == 0 &&
		((c.have_visible && c.visible < 0) || (c.have_in_flight && c.in_flight < 0) ||
			(c.have_delayed && c.delayed < 0)))
		abort();
	return 0;
}
