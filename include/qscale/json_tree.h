/*
 * Bounded JSON trees over yajl, for every JSON document qscale reads: AWS
 * responses (aws/json.c) and their error bodies (aws/error.c), credential
 * documents (IMDS, container, credential_process, SSO) and requests to the
 * emulator (emulate/). A reader that needs a few fields of a large answer
 * names them, and the tree holds only those. A scan before yajl's parser
 * bounds what a hostile peer can make it do: a capped size, a capped nesting
 * depth, a capped number of items per array or object and no embedded NUL.
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
 * with json_tree_free, never yajl_tree_free), or -EPROTO with a lowercase
 * reason in error that reads after a noun ("nests deeper than 32 levels", "is
 * malformed JSON: ..."). The tree is the one yajl_tree_parse builds (yajl's
 * settings and node layout, so that YAJL_GET_* and yajl_tree_get read it),
 * built by yajl's callback parser in memory of its own.
 */
int json_tree_parse(const char *body, size_t len, const struct json_limits *limits, yajl_val *out,
	char error[JSON_TREE_ERROR_MAX]);

struct json_keep;

/* A member an object keeps: its key, and what to keep of its value (NULL: all of it). */
struct json_keep_member {
	const char *key;
	const struct json_keep *keep;
};

/*
 * What to keep of a value while its tree is built. Of an object, members
 * lists the keys kept (ending at a NULL key; NULL keeps every member whole);
 * of an array, items says what to keep of each item (NULL: every item whole).
 * Scalars are always kept whole.
 */
struct json_keep {
	const struct json_keep_member *members;
	const struct json_keep *items;
};

/*
 * json_tree_parse, keeping of the document only what keep names (NULL: all
 * of it): the tree holds every occurrence of a kept key, in order, and every
 * item of a kept array, so that lookups, types and lengths read as in the
 * whole tree. The rest is parsed and checked but never allocated. The caps,
 * the error texts and the JSON accepted are json_tree_parse's.
 */
int json_tree_parse_keep(const char *body, size_t len, const struct json_limits *limits,
	const struct json_keep *keep, yajl_val *out, char error[JSON_TREE_ERROR_MAX]);

/* Free a tree json_tree_parse or json_tree_parse_keep made (NULL: nothing), all of it at once. */
void json_tree_free(yajl_val tree);

/* json_tree_free, every byte of the tree wiped first: for documents holding secrets. */
void json_tree_free_wiped(yajl_val tree);

/* The value of key in obj; NULL when obj is not an object, key is absent, or its value is null. */
yajl_val json_tree_get(yajl_val obj, const char *key);

#endif
