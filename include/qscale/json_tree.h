/*
 * Bounded JSON trees over yajl, for everything qscale parses from a peer:
 * AWS responses (aws/json.c) and requests to the emulator (emulate/). The
 * checks before yajl_tree_parse bound what a hostile peer can make it do: a
 * capped size, a capped nesting depth (yajl frees its tree recursively), a
 * capped number of items per array or object (yajl grows an array with one
 * realloc per item) and no embedded NUL (the tree parser reads a C string).
 */
#ifndef QSCALE_JSON_TREE_H
#define QSCALE_JSON_TREE_H

#include <stddef.h>
#include <yajl/yajl_tree.h>

/* The deepest nesting any limits may allow. */
#define JSON_TREE_DEPTH_MAX 64

/* What one kind of body may hold. */
struct json_limits {
	size_t max_bytes;
	unsigned max_depth; /* at most JSON_TREE_DEPTH_MAX */
	size_t max_items; /* per array or object */
};

/* Longest error text json_tree_parse writes (NUL included). */
#define JSON_TREE_ERROR_MAX 160

/*
 * Parse len bytes of body as one JSON object within limits. 0 with *out (free
 * with yajl_tree_free), or -EPROTO with a lowercase reason in error
 * that reads after a noun ("nests deeper than 32 levels", "is malformed JSON: ...").
 */
int json_tree_parse(const char *body, size_t len, const struct json_limits *limits, yajl_val *out,
	char error[JSON_TREE_ERROR_MAX]);

/* The value of key in obj; NULL when obj is not an object, key is absent, or its value is null. */
yajl_val json_tree_get(yajl_val obj, const char *key);

#endif
