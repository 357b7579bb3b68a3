/*
 * libFuzzer target for the bounded JSON tree: on any input, json_tree_parse
 * must build the tree yajl_tree_parse builds (or fail with yajl's message),
 * and json_tree_parse_keep must fail alike or build that tree with only what
 * its keep names.
 */
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "qscale/json_tree.h"
#include "json_compare.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Keys the seeds use, at a few depths: {"a":[{"b":..,"c":{"d":..}}],"e":..,"f":[..]}. */
static const struct json_keep_member inner_members[] = {{"d", NULL}, {NULL, NULL}};
static const struct json_keep inner = {.members = inner_members};
static const struct json_keep_member item_members[] = {
	{"b", NULL}, {"c", &inner}, {"", NULL}, {NULL, NULL}};
static const struct json_keep item = {.members = item_members};
static const struct json_keep items = {.items = &item};
static const struct json_keep only_items = {.items = &inner};
static const struct json_keep_member top_members[] = {
	{"a", &items}, {"e", NULL}, {"f", &only_items}, {NULL, NULL}};
static const struct json_keep top = {.members = top_members};

/* Check yajl_tree_parse against json_tree_parse's outcome on the same bytes. */
static void check_reference(
	const uint8_t *data, size_t size, int r, yajl_val tree, const char *error)
{
	char errbuf[256] = "";
	char *text;
	yajl_val ref;

	/* With a NUL byte or past a cap, yajl's tree was never asked. */
	if (memchr(data, '\0', size) != NULL ||
		(r < 0 && strncmp(error, "is malformed JSON: ", 19) != 0 &&
			strcmp(error, "is not a JSON object") != 0))
		return;
	text = malloc(size + 1);
	if (text == NULL)
		abort();
	memcpy(text, data, size);
	text[size] = '\0';
	ref = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	free(text);
	if (r == 0 && !json_compare_kept(ref, tree, NULL))
		abort();
	if (r < 0 && strcmp(error, "is not a JSON object") == 0 &&
		(ref == NULL || YAJL_IS_OBJECT(ref)))
		abort();
	if (r < 0 && strncmp(error, "is malformed JSON: ", 19) == 0) {
		char expect[JSON_TREE_ERROR_MAX];

		if (ref != NULL)
			abort();
		errbuf[strcspn(errbuf, "\r\n")] = '\0';
		snprintf(expect, sizeof(expect), "is malformed JSON: %.120s",
			errbuf[0] != '\0' ? errbuf : "parse error");
		if (strcmp(expect, error) != 0)
			abort();
	}
	yajl_tree_free(ref);
}

/* Parse one input whole and kept, and compare both with each other and with yajl. */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const struct json_limits limits = {
		.max_bytes = 1 << 20, .max_depth = 32, .max_items = 500};
	char error[JSON_TREE_ERROR_MAX] = "";
	char error_kept[JSON_TREE_ERROR_MAX] = "";
	yajl_val tree = NULL;
	yajl_val kept = NULL;
	int r = json_tree_parse((const char *)data, size, &limits, &tree, error);
	int rk = json_tree_parse_keep((const char *)data, size, &limits, &top, &kept, error_kept);

	if (r != 0 && (r != -EPROTO || error[0] == '\0'))
		abort();
	if (rk != r || (r < 0 && strcmp(error, error_kept) != 0))
		abort();
	if (r == 0 && !json_compare_kept(tree, kept, &top))
		abort();
	check_reference(data, size, r, tree, error);
	if (r == 0) {
		json_tree_free(tree);
		json_tree_free(kept);
	}
	return 0;
}
