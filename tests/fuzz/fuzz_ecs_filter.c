/*
 * libFuzzer target for the ECS cluster query language subset: any bytes must
 * either compile or be rejected with a column inside the text, and a compiled
 * filter must evaluate against a fixed instance without trouble.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/ecs_filter.h"
#include "qscale/xalloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct ecs_filter_attribute attrs[] = {
		{"site", "dc1"},
		{"ecs.os-type", "linux"},
		{"ecs.capability.external", NULL},
	};
	static const struct ecs_filter_instance inst = {attrs, 3, true, "mi-0123"};
	char *text = xmalloc(size + 1);
	struct ecs_filter *f = NULL;
	struct ecs_filter_error err;

	memcpy(text, data, size);
	text[size] = '\0';
	if (ecs_filter_parse(text, &f, &err) == 0) {
		(void)ecs_filter_match(f, &inst);
		if (strcmp(ecs_filter_text(f), text) != 0)
			abort();
		ecs_filter_destroy(f);
	} else if (err.column == 0 || err.column > strlen(text) + 1) {
		abort();
	}
	free(text);
	return 0;
}
