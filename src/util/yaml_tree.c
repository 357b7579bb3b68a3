/*
 * libyaml's event stream turned into a small tree of nodes that remember
 * their line and column, so every later error can point at the text. This is
 * where hostile input is stopped: size, depth and node caps, anchors and
 * aliases (no alias bombs), tags, several documents, non-scalar keys and
 * NUL bytes inside values are all refused here, before any loader (the
 * configuration's schemas, the scenario reader) looks at the data; each
 * caller sets the caps. Built with an explicit stack, never recursion. Also
 * the generic diagnostic (file, line, column, message) the loaders wrap.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "qscale/xalloc.h"
#include "qscale/yaml_tree.h"

struct builder {
	const char *name;
	struct diag *diag;
	const struct yaml_tree_limits *limits;
	const char *text;
	size_t len;
	struct ynode *root;
	struct ynode *stack[YAML_TREE_MAX_DEPTH];
	size_t depth;
	size_t nodes;
	unsigned documents;
};

/* Fill diag at a libyaml mark (0-based) and return -EINVAL. */
static int fail_at(struct builder *b, const yaml_mark_t *mark, const char *message)
{
	return diag_fill(b->diag, b->name, (unsigned)mark->line + 1, (unsigned)mark->column + 1,
		"%s", message);
}

/* 1-based line and column of a byte offset, for reader errors that give only that. */
static void offset_position(
	const char *text, size_t len, size_t offset, unsigned *line, unsigned *column)
{
	unsigned l = 1, c = 1;

	for (size_t i = 0; i < offset && i < len; i++) {
		if (text[i] == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
	}
	*line = l;
	*column = c;
}

/* Report libyaml's own error, which names the problem and where it is. */
static int fail_parser(struct builder *b, const yaml_parser_t *parser)
{
	const char *problem = parser->problem != NULL ? parser->problem : "unknown error";

	if (parser->error == YAML_READER_ERROR) {
		unsigned line, column;

		offset_position(b->text, b->len, parser->problem_offset, &line, &column);
		if (parser->problem_value != -1)
			return diag_fill(b->diag, b->name, line, column,
				"not valid YAML text: %s (byte 0x%02x)", problem,
				(unsigned)parser->problem_value & 0xffu);
		return diag_fill(
			b->diag, b->name, line, column, "not valid YAML text: %s", problem);
	}
	if (parser->error == YAML_MEMORY_ERROR)
		return diag_fill(b->diag, b->name, 0, 0, "out of memory parsing YAML");
	if (parser->context != NULL)
		return diag_fill(b->diag, b->name, (unsigned)parser->problem_mark.line + 1,
			(unsigned)parser->problem_mark.column + 1, "invalid YAML: %s %s",
			parser->context, problem);
	return diag_fill(b->diag, b->name, (unsigned)parser->problem_mark.line + 1,
		(unsigned)parser->problem_mark.column + 1, "invalid YAML: %s", problem);
}

/* Append child to parent's items. */
static void append(struct ynode *parent, struct ynode *child)
{
	if (parent->count == parent->cap) {
		parent->cap = parent->cap == 0 ? 8 : parent->cap * 2;
		parent->items = xreallocarray(parent->items, parent->cap, sizeof(*parent->items));
	}
	parent->items[parent->count++] = child;
}

/* A new node at mark, hung under the open collection (or as the root). */
static int add_node(struct builder *b, struct ynode *n, const yaml_mark_t *mark)
{
	if (++b->nodes > b->limits->max_nodes) {
		ynode_free(n);
		return diag_fill(b->diag, b->name, (unsigned)mark->line + 1,
			(unsigned)mark->column + 1, "more than %zu YAML nodes in one file",
			b->limits->max_nodes);
	}
	if (b->depth == 0) {
		b->root = n;
		return 0;
	}

	struct ynode *parent = b->stack[b->depth - 1];

	if (parent->kind == YNODE_MAPPING && parent->count % 2 == 0 && n->kind != YNODE_SCALAR) {
		ynode_free(n);
		return fail_at(b, mark, "a key must be a plain string, not a mapping or sequence");
	}
	append(parent, n);
	return 0;
}

/* Refuse the anchors and tags libyaml hands us with a node. */
static int check_properties(struct builder *b, const yaml_event_t *ev, const yaml_char_t *anchor,
	const yaml_char_t *tag)
{
	if (anchor != NULL)
		return fail_at(b, &ev->start_mark, "YAML anchors and aliases are not supported");
	if (tag != NULL)
		return fail_at(b, &ev->start_mark, "YAML tags are not supported");
	return 0;
}

/* A scalar event into a node. */
static int on_scalar(struct builder *b, const yaml_event_t *ev)
{
	const char *value = (const char *)ev->data.scalar.value;
	size_t len = ev->data.scalar.length;
	yaml_scalar_style_t style = ev->data.scalar.style;
	int r = check_properties(b, ev, ev->data.scalar.anchor, ev->data.scalar.tag);

	if (r < 0)
		return r;
	if (len > b->limits->max_scalar_bytes)
		return diag_fill(b->diag, b->name, (unsigned)ev->start_mark.line + 1,
			(unsigned)ev->start_mark.column + 1, "value longer than %zu bytes",
			b->limits->max_scalar_bytes);
	if (memchr(value, '\0', len) != NULL)
		return fail_at(b, &ev->start_mark, "a value must not contain a NUL character");

	struct ynode *n = xcalloc(1, sizeof(*n));
	size_t span = ev->end_mark.index - ev->start_mark.index;
	bool one_line = ev->end_mark.line == ev->start_mark.line;

	n->kind = YNODE_SCALAR;
	n->line = (unsigned)ev->start_mark.line + 1;
	n->column = (unsigned)ev->start_mark.column + 1;
	n->value = xstrndup(value, len);
	n->len = len;
	n->plain = style == YAML_PLAIN_SCALAR_STYLE;
	/* Marks count characters: equal spans mean ASCII without escapes. */
	if (one_line && n->plain && span == len)
		n->text_column = n->column;
	else if (one_line &&
		(style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
			style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) &&
		span == len + 2)
		n->text_column = n->column + 1;
	return add_node(b, n, &ev->start_mark);
}

/* A mapping or sequence start: a new open collection. */
static int on_collection(struct builder *b, const yaml_event_t *ev, enum ynode_kind kind)
{
	const yaml_char_t *anchor = kind == YNODE_MAPPING ? ev->data.mapping_start.anchor
							  : ev->data.sequence_start.anchor;
	const yaml_char_t *tag =
		kind == YNODE_MAPPING ? ev->data.mapping_start.tag : ev->data.sequence_start.tag;
	int r = check_properties(b, ev, anchor, tag);

	if (r < 0)
		return r;
	if (b->depth >= b->limits->max_depth || b->depth >= YAML_TREE_MAX_DEPTH)
		return diag_fill(b->diag, b->name, (unsigned)ev->start_mark.line + 1,
			(unsigned)ev->start_mark.column + 1, "nested deeper than %zu levels",
			b->depth);

	struct ynode *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->line = (unsigned)ev->start_mark.line + 1;
	n->column = (unsigned)ev->start_mark.column + 1;
	if ((r = add_node(b, n, &ev->start_mark)) < 0)
		return r;
	b->stack[b->depth++] = n;
	return 0;
}

/* Handle one event; 1 at the end of the stream. */
static int on_event(struct builder *b, const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_STREAM_START_EVENT:
	case YAML_DOCUMENT_END_EVENT:
	case YAML_NO_EVENT:
		return 0;
	case YAML_STREAM_END_EVENT:
		return 1;
	case YAML_DOCUMENT_START_EVENT:
		if (++b->documents > 1)
			return fail_at(b, &ev->start_mark,
				"more than one YAML document ('---'); a file holds one");
		return 0;
	case YAML_ALIAS_EVENT:
		return fail_at(b, &ev->start_mark, "YAML anchors and aliases are not supported");
	case YAML_SCALAR_EVENT:
		return on_scalar(b, ev);
	case YAML_MAPPING_START_EVENT:
		return on_collection(b, ev, YNODE_MAPPING);
	case YAML_SEQUENCE_START_EVENT:
		return on_collection(b, ev, YNODE_SEQUENCE);
	case YAML_MAPPING_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
		if (b->depth > 0)
			b->depth--;
		return 0;
	}
	return 0;
}

int yaml_tree_parse(const char *name, const char *text, size_t len,
	const struct yaml_tree_limits *limits, struct ynode **out, struct diag *diag)
{
	struct builder b = {.name = name, .diag = diag, .limits = limits, .text = text, .len = len};
	yaml_parser_t parser;
	int r = 0;

	if (len > limits->max_file_bytes) {
		diag_fill(diag, name, 0, 0, "file larger than %zu bytes", limits->max_file_bytes);
		return -EFBIG;
	}
	if (!yaml_parser_initialize(&parser))
		return diag_fill(diag, name, 0, 0, "out of memory parsing YAML");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (r == 0) {
		yaml_event_t ev;

		if (!yaml_parser_parse(&parser, &ev)) {
			r = fail_parser(&b, &parser);
			break;
		}
		r = on_event(&b, &ev);
		yaml_event_delete(&ev);
	}
	yaml_parser_delete(&parser);
	if (r < 0) {
		ynode_free(b.root);
		return r;
	}
	if (b.root == NULL)
		return diag_fill(diag, name, 1, 1, "empty file: no YAML document in it");
	*out = b.root;
	return 0;
}

void ynode_free(struct ynode *node)
{
	/* Iterative, so even a deep tree cannot exhaust the stack. */
	struct ynode **todo;
	size_t n = 0, cap = 16;

	if (node == NULL)
		return;
	todo = xreallocarray(NULL, cap, sizeof(*todo));
	todo[n++] = node;
	while (n > 0) {
		struct ynode *cur = todo[--n];

		for (size_t i = 0; i < cur->count; i++) {
			if (n == cap) {
				cap *= 2;
				todo = xreallocarray(todo, cap, sizeof(*todo));
			}
			todo[n++] = cur->items[i];
		}
		free(cur->items);
		free(cur->value);
		free(cur);
	}
	free(todo);
}

bool ynode_is_null(const struct ynode *node)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};

	if (node->kind != YNODE_SCALAR || !node->plain)
		return false;
	for (size_t i = 0; i < sizeof(nulls) / sizeof(nulls[0]); i++) {
		if (strcmp(node->value, nulls[i]) == 0)
			return true;
	}
	return false;
}
