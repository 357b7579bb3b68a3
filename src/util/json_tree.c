/*
 * Bounded JSON trees: a scan that enforces the caps of json_tree.h without
 * parsing, then yajl's tree parser, and the one key lookup every reader uses.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/json_tree.h"
#include "qscale/xalloc.h"

/* Check nesting depth, items per array or object and NUL bytes; 0 or -EPROTO. */
static int prescan(
	const char *body, size_t len, const struct json_limits *l, char error[JSON_TREE_ERROR_MAX])
{
	bool in_string = false;
	unsigned depth = 0;
	/* On the stack: every AWS response passes here, so no allocation per parse. */
	size_t items[JSON_TREE_DEPTH_MAX + 1] = {0};
	unsigned max_depth =
		l->max_depth < JSON_TREE_DEPTH_MAX ? l->max_depth : JSON_TREE_DEPTH_MAX;
	int rc = 0;

	for (size_t i = 0; i < len && rc == 0; i++) {
		char c = body[i];

		if (c == '\0') {
			snprintf(error, JSON_TREE_ERROR_MAX, "body holds a NUL byte at offset %zu",
				i);
			rc = -EPROTO;
		} else if (in_string) {
			if (c == '\\')
				i++; /* the escaped byte cannot end the string */
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '{' || c == '[') {
			if (++depth > max_depth) {
				snprintf(error, JSON_TREE_ERROR_MAX, "nests deeper than %u levels",
					max_depth);
				rc = -EPROTO;
			} else {
				items[depth] = 0;
			}
		} else if ((c == '}' || c == ']') && depth > 0) {
			depth--;
		} else if (c == ',' && depth > 0 && ++items[depth] >= l->max_items) {
			snprintf(error, JSON_TREE_ERROR_MAX,
				"holds an array or object of more than %zu items", l->max_items);
			rc = -EPROTO;
		}
	}
	return rc;
}

int json_tree_parse(const char *body, size_t len, const struct json_limits *limits, yajl_val *out,
	char error[JSON_TREE_ERROR_MAX])
{
	char errbuf[256] = "";
	yajl_val tree;
	char *text;
	int rc;

	if (len > limits->max_bytes) {
		snprintf(error, JSON_TREE_ERROR_MAX, "body of %zu bytes exceeds the cap of %zu",
			len, limits->max_bytes);
		return -EPROTO;
	}
	rc = prescan(body, len, limits, error);
	if (rc < 0)
		return rc;
	text = xstrndup(body, len);
	tree = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	free(text);
	if (tree == NULL) {
		/* yajl's message spans lines (text, then a caret); keep the first. */
		errbuf[strcspn(errbuf, "\r\n")] = '\0';
		snprintf(error, JSON_TREE_ERROR_MAX, "is malformed JSON: %.120s",
			errbuf[0] != '\0' ? errbuf : "parse error");
		return -EPROTO;
	}
	if (!YAJL_IS_OBJECT(tree)) {
		yajl_tree_free(tree);
		snprintf(error, JSON_TREE_ERROR_MAX, "is not a JSON object");
		return -EPROTO;
	}
	*out = tree;
	return 0;
}

yajl_val json_tree_get(yajl_val obj, const char *key)
{
	if (obj == NULL || !YAJL_IS_OBJECT(obj))
		return NULL;
	for (size_t i = 0; i < obj->u.object.len; i++) {
		if (strcmp(obj->u.object.keys[i], key) == 0) {
			yajl_val v = obj->u.object.values[i];

			return YAJL_IS_NULL(v) ? NULL : v;
		}
	}
	return NULL;
}
