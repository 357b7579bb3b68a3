/*
 * YAML read into a small tree of nodes that remember their 1-based line and
 * column, with hostile input stopped before any loader looks at the data:
 * size, depth and node caps, anchors and aliases (no alias bombs), tags,
 * several documents, non-scalar keys and NUL bytes inside values are refused.
 * Errors are a generic diagnostic (file, line, column, message) that the
 * configuration and scenario loaders turn into their own public ones.
 */
#ifndef QSCALE_YAML_TREE_H
#define QSCALE_YAML_TREE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#include "qscale/diag.h"

/* Longest file name and message a diagnostic holds (longer ones are cut). */

/* Deepest nesting any caller may allow (the parser's stack is this deep). */
#define YAML_TREE_MAX_DEPTH 32

/*
 * Where and why reading failed. line and column are 1-based; both are 0 when
 * the error concerns the whole file.
 */

/* Caps a caller sets for one kind of file. */
struct yaml_tree_limits {
	size_t max_file_bytes; /* the whole text */
	size_t max_scalar_bytes; /* each value or key */
	size_t max_nodes; /* scalars, mappings and sequences */
	unsigned max_depth; /* nested mappings and sequences; at most YAML_TREE_MAX_DEPTH */
};

enum ynode_kind {
	YNODE_SCALAR,
	YNODE_MAPPING,
	YNODE_SEQUENCE,
};

/* One YAML node; positions are 1-based. */
struct ynode {
	enum ynode_kind kind;
	unsigned line;
	unsigned column;
	/* Scalars: */
	char *value; /* NUL-terminated, never holds a NUL inside */
	size_t len;
	bool plain; /* written without quotes or block indicators */
	/* Column of value[0] when every byte of value maps 1:1 onto the line, else 0. */
	unsigned text_column;
	/* Mappings (key, value, key, value...) and sequences: */
	struct ynode **items;
	size_t count;
	size_t cap;
};

/*
 * Parse one YAML document into a tree the caller frees with ynode_free.
 * Refuses empty streams, several documents, anchors, aliases, tags,
 * non-scalar keys and the caps in limits. 0, or -EINVAL (-EFBIG past
 * max_file_bytes) with diag filled; name is the file named there.
 */
int yaml_tree_parse(const char *name, const char *text, size_t len,
	const struct yaml_tree_limits *limits, struct ynode **out, struct diag *diag);

/* Free a tree; accepts NULL. */
void ynode_free(struct ynode *node);

/* Whether a scalar is YAML's null: empty, "~" or "null" written plain. */
bool ynode_is_null(const struct ynode *node);

#endif
