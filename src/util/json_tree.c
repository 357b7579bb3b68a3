/*
 * Bounded JSON trees: a scan that enforces the caps of json_tree.h without
 * parsing, then yajl's callback parser building the tree (all of it, or only
 * the parts a reader names), and the one key lookup every reader uses.
 *
 * A tree's nodes, strings, keys and arrays are cut from a few blocks of its
 * own (an arena) rather than allocated one by one: a DescribeServices answer
 * makes hundreds of them, and malloc and free on each cost more than the
 * building. json_tree_free frees the blocks; the root node sits in the first,
 * right after the list of blocks, so the root alone finds them.
 */
#include <errno.h>
#include <limits.h>
#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_parse.h>

#include "qscale/json_tree.h"
#include "qscale/xalloc.h"

/* What the scan does with a byte between strings: most it passes over. */
enum scan_class { SCAN_PASS, SCAN_NUL, SCAN_QUOTE, SCAN_OPEN, SCAN_CLOSE, SCAN_COMMA };

static const unsigned char scan_classes[256] = {
	['\0'] = SCAN_NUL,
	['"'] = SCAN_QUOTE,
	['{'] = SCAN_OPEN,
	['['] = SCAN_OPEN,
	['}'] = SCAN_CLOSE,
	[']'] = SCAN_CLOSE,
	[','] = SCAN_COMMA,
};

/* The class of body[i]. */
static enum scan_class scan_class(const char *body, size_t i)
{
	return (enum scan_class)scan_classes[(unsigned char)body[i]];
}

/*
 * Whether the byte at i is escaped: an odd run of backslashes before it.
 * Inside a string only; the string's opening quote ends any run.
 */
static bool escaped(const char *body, size_t i)
{
	size_t k = 0;

	while (k < i && body[i - k - 1] == '\\')
		k++;
	return k % 2 == 1;
}

/*
 * The end of a string whose first byte is at i: its closing quote, a NUL
 * that ends the scan, or len when it runs to the end of the body. Quotes
 * are found with memchr, not byte by byte (strings are most of an answer):
 * a quote or NUL after an odd run of backslashes is passed over, as an
 * escape passes over the next byte. *nul is the first NUL at or after i
 * (len: none), moved past a NUL passed over.
 */
static size_t string_end(const char *body, size_t len, size_t i, size_t *nul)
{
	for (;;) {
		const char *q = memchr(body + i, '"', *nul - i);

		if (q != NULL) {
			i = (size_t)(q - body);
			if (!escaped(body, i))
				return i;
			i++;
			continue;
		}
		if (*nul == len || !escaped(body, *nul))
			return *nul;
		i = *nul + 1;
		q = i < len ? memchr(body + i, '\0', len - i) : NULL;
		*nul = q != NULL ? (size_t)(q - body) : len;
	}
}

/*
 * Check nesting depth, items per array or object and NUL bytes; 0 or
 * -EPROTO. Every response passes here: the bytes between strings are one
 * table look-up each, a string's bytes are skipped by string_end.
 */
static int prescan(
	const char *body, size_t len, const struct json_limits *l, char error[JSON_TREE_ERROR_MAX])
{
	unsigned depth = 0;
	/* On the stack: every AWS response passes here, so no allocation per parse. */
	size_t items[JSON_TREE_DEPTH_MAX + 1] = {0};
	unsigned max_depth =
		l->max_depth < JSON_TREE_DEPTH_MAX ? l->max_depth : JSON_TREE_DEPTH_MAX;
	const char *first_nul = len > 0 ? memchr(body, '\0', len) : NULL;
	size_t nul = first_nul != NULL ? (size_t)(first_nul - body) : len;
	size_t i = 0;

	while (i < len) {
		enum scan_class c = scan_class(body, i);

		if (c == SCAN_NUL)
			break;
		if (c == SCAN_QUOTE) {
			i = string_end(body, len, i + 1, &nul);
			if (i < len && body[i] == '\0')
				break;
		} else if (c == SCAN_OPEN) {
			if (++depth > max_depth) {
				snprintf(error, JSON_TREE_ERROR_MAX, "nests deeper than %u levels",
					max_depth);
				return -EPROTO;
			}
			items[depth] = 0;
		} else if (c == SCAN_CLOSE && depth > 0) {
			depth--;
		} else if (c == SCAN_COMMA && depth > 0 && ++items[depth] >= l->max_items) {
			snprintf(error, JSON_TREE_ERROR_MAX,
				"holds an array or object of more than %zu items", l->max_items);
			return -EPROTO;
		}
		i++;
	}
	if (i < len) {
		snprintf(error, JSON_TREE_ERROR_MAX, "body holds a NUL byte at offset %zu", i);
		return -EPROTO;
	}
	return 0;
}

/* The first block's size; later blocks double, up to ARENA_BLOCK_MAX. */
#define ARENA_BLOCK_MIN 2048
#define ARENA_BLOCK_MAX 65536

/* One block of a tree's memory. */
struct arena_block {
	struct arena_block *next; /* the block made before this one */
	size_t used, cap; /* bytes of data */
	alignas(max_align_t) unsigned char data[];
};

/* What a tree's first block opens with: the list of blocks, then the root. */
struct tree_head {
	struct arena_block *blocks; /* newest first; the last is the one holding this */
	struct yajl_val_s root;
};

/* A tree's memory while it is built. */
struct arena {
	struct arena_block *blocks; /* newest first */
	void *last; /* the latest allocation, which may still grow in place */
	size_t last_size;
	size_t next_cap;
};

/* size rounded up so that every allocation stays aligned for any type. */
static size_t arena_round(size_t size)
{
	size_t a = alignof(max_align_t);

	return (size + a - 1) / a * a;
}

/* size bytes from the arena (never NULL: out of memory aborts), uninitialised. */
static void *arena_alloc(struct arena *a, size_t size)
{
	struct arena_block *blk = a->blocks;

	size = arena_round(size);
	if (blk == NULL || blk->cap - blk->used < size) {
		size_t cap = a->next_cap > size ? a->next_cap : size;

		blk = xmalloc(sizeof(*blk) + cap);
		blk->next = a->blocks;
		blk->used = 0;
		blk->cap = cap;
		a->blocks = blk;
		if (a->next_cap < ARENA_BLOCK_MAX)
			a->next_cap *= 2;
	}
	void *p = blk->data + blk->used;

	blk->used += size;
	a->last = p;
	a->last_size = size;
	return p;
}

/*
 * old (of old_size bytes, NULL for none) made size bytes long, its contents
 * kept: in place when it is the latest allocation and its block has room.
 */
static void *arena_grow(struct arena *a, void *old, size_t old_size, size_t size)
{
	struct arena_block *blk = a->blocks;

	if (old != NULL && old == a->last && blk != NULL &&
		blk->cap - blk->used >= arena_round(size) - a->last_size) {
		blk->used += arena_round(size) - a->last_size;
		a->last_size = arena_round(size);
		return old;
	}
	void *p = arena_alloc(a, size);

	if (old != NULL)
		memcpy(p, old, old_size);
	return p;
}

/* Free every block of an arena, wiping what was written in it first when asked. */
static void arena_free(struct arena_block *blk, bool wipe)
{
	while (blk != NULL) {
		struct arena_block *next = blk->next;

		if (wipe)
			secure_wipe(blk->data, blk->used);
		free(blk);
		blk = next;
	}
}

/* One open array or object while a tree is built. */
struct frame {
	yajl_val node;
	const struct json_keep *keep; /* what to keep of it; NULL: all of it */
	size_t cap; /* slots allocated in node's arrays */
	char *key; /* object: the kept key waiting for its value */
	const struct json_keep *key_keep; /* what to keep of that value */
	bool key_kept; /* whether the value after the latest key is kept */
};

/* The state of one parse: the tree so far and the open containers. */
struct builder {
	const struct json_keep *root_keep;
	struct arena arena;
	struct tree_head *head; /* at the start of the arena's first block */
	yajl_val root;
	struct frame stack[JSON_TREE_DEPTH_MAX + 1];
	unsigned depth; /* open frames */
	size_t skip; /* nesting inside a container that is not kept */
};

/*
 * Whether the next value is kept and, if so, what to keep of it. A value
 * that is not kept is parsed (yajl still checks it) but never allocated.
 */
static bool keep_next(const struct builder *b, const struct json_keep **keep)
{
	const struct frame *f;

	if (b->skip > 0)
		return false;
	if (b->depth == 0) {
		*keep = b->root_keep;
		return true;
	}
	f = &b->stack[b->depth - 1];
	if (YAJL_IS_ARRAY(f->node)) {
		*keep = f->keep != NULL ? f->keep->items : NULL;
		return true;
	}
	*keep = f->key_keep;
	return f->key_kept;
}

/*
 * Grow a container's arrays, as yajl's tree lays them out, to hold one more.
 * An object's keys and values live in one allocation (values first, then
 * keys), so that the pair grows in place as one; the scan capped the count.
 */
static void grow(struct builder *b, struct frame *f)
{
	size_t len = YAJL_IS_ARRAY(f->node) ? f->node->u.array.len : f->node->u.object.len;
	size_t old_cap = f->cap;

	if (len < f->cap)
		return;
	f->cap = f->cap < 4 ? 4 : f->cap * 2;
	if (YAJL_IS_ARRAY(f->node)) {
		f->node->u.array.values = arena_grow(&b->arena, f->node->u.array.values,
			old_cap * sizeof(yajl_val), f->cap * sizeof(yajl_val));
		return;
	}
	yajl_val *values = arena_grow(&b->arena, f->node->u.object.values,
		old_cap * (sizeof(yajl_val) + sizeof(const char *)),
		f->cap * (sizeof(yajl_val) + sizeof(const char *)));
	const char **keys = (const char **)(values + f->cap);

	/* The keys move up past the values' new room (they may overlap: memmove). */
	if (old_cap > 0)
		memmove(keys, (const char **)(values + old_cap), len * sizeof(const char *));
	f->node->u.object.values = values;
	f->node->u.object.keys = keys;
}

/* Hang a new value where keep_next said it goes. */
static void attach(struct builder *b, yajl_val v)
{
	struct frame *f;

	if (b->depth == 0) {
		b->root = v;
		return;
	}
	f = &b->stack[b->depth - 1];
	grow(b, f);
	if (YAJL_IS_ARRAY(f->node)) {
		f->node->u.array.values[f->node->u.array.len++] = v;
		return;
	}
	f->node->u.object.keys[f->node->u.object.len] = f->key;
	f->node->u.object.values[f->node->u.object.len++] = v;
	f->key = NULL;
	f->key_kept = false;
}

/* A new value of type t, hung in the tree; the root is the head's. */
static yajl_val add_value(struct builder *b, yajl_type t)
{
	yajl_val v = b->depth == 0 ? &b->head->root : arena_alloc(&b->arena, sizeof(*v));

	memset(v, 0, sizeof(*v));
	v->type = t;
	attach(b, v);
	return v;
}

/* A copy of len bytes with a NUL after them (they may hold NULs, as in yajl's tree). */
static char *copy_bytes(struct builder *b, const char *s, size_t len)
{
	char *c = arena_alloc(&b->arena, len + 1);

	memcpy(c, s, len);
	c[len] = '\0';
	return c;
}

/* The value of a number's text as a long long, with errno = ERANGE for no such value. */
static long long number_integer(const char *text)
{
	const char *p = text;
	bool negative = *p == '-';
	unsigned long long v = 0;

	if (negative)
		p++;
	for (; *p != '\0'; p++) {
		if (*p < '0' || *p > '9' || v > (unsigned long long)LLONG_MAX / 10 ||
			v * 10 + (unsigned)(*p - '0') > (unsigned long long)LLONG_MAX) {
			/* As yajl's tree: no fraction, exponent or out-of-range value is an
			 * integer. */
			errno = ERANGE;
			return negative ? LLONG_MIN : LLONG_MAX;
		}
		v = v * 10 + (unsigned)(*p - '0');
	}
	return negative ? -(long long)v : (long long)v;
}

/* yajl callbacks: each builds or skips one event and never stops the parse. */
static int on_null(void *ctx)
{
	struct builder *b = ctx;
	const struct json_keep *keep;

	if (keep_next(b, &keep))
		add_value(b, yajl_t_null);
	return 1;
}

static int on_boolean(void *ctx, int value)
{
	struct builder *b = ctx;
	const struct json_keep *keep;

	if (keep_next(b, &keep))
		add_value(b, value ? yajl_t_true : yajl_t_false);
	return 1;
}

static int on_number(void *ctx, const char *text, size_t len)
{
	struct builder *b = ctx;
	const struct json_keep *keep;
	char *end = NULL;
	yajl_val v;

	if (!keep_next(b, &keep))
		return 1;
	v = add_value(b, yajl_t_number);
	v->u.number.r = copy_bytes(b, text, len);
	/* The same value and flags as yajl's tree gives a number. */
	errno = 0;
	v->u.number.i = number_integer(v->u.number.r);
	if (errno == 0)
		v->u.number.flags |= YAJL_NUMBER_INT_VALID;
	errno = 0;
	v->u.number.d = strtod(v->u.number.r, &end);
	if (errno == 0 && end != NULL && *end == '\0')
		v->u.number.flags |= YAJL_NUMBER_DOUBLE_VALID;
	return 1;
}

static int on_string(void *ctx, const unsigned char *text, size_t len)
{
	struct builder *b = ctx;
	const struct json_keep *keep;

	if (keep_next(b, &keep))
		add_value(b, yajl_t_string)->u.string = copy_bytes(b, (const char *)text, len);
	return 1;
}

/* Open an array or object: a frame when it is kept, one more skip level when not. */
static int open_container(struct builder *b, yajl_type t)
{
	const struct json_keep *keep;
	struct frame *f;

	if (!keep_next(b, &keep)) {
		b->skip++;
		return 1;
	}
	/* json_tree_parse's scan bounds the depth first; this only guards the stack. */
	if (b->depth == JSON_TREE_DEPTH_MAX + 1)
		return 0;
	yajl_val v = add_value(b, t);

	f = &b->stack[b->depth++];
	*f = (struct frame){.node = v, .keep = keep};
	return 1;
}

static int on_start_map(void *ctx)
{
	return open_container(ctx, yajl_t_object);
}

static int on_start_array(void *ctx)
{
	return open_container(ctx, yajl_t_array);
}

static int on_end(void *ctx)
{
	struct builder *b = ctx;

	if (b->skip > 0)
		b->skip--;
	else
		b->depth--;
	return 1;
}

/*
 * A key of an open object: kept when the object keeps every member or lists
 * this one. Keys compare as C strings, as json_tree_get compares them.
 */
static int on_map_key(void *ctx, const unsigned char *text, size_t len)
{
	struct builder *b = ctx;
	struct frame *f;
	const char *key = (const char *)text;
	size_t key_len = strnlen(key, len);

	if (b->skip > 0)
		return 1;
	f = &b->stack[b->depth - 1];
	f->key_kept = false;
	f->key_keep = NULL;
	if (f->keep == NULL || f->keep->members == NULL) {
		f->key_kept = true;
	} else {
		for (const struct json_keep_member *m = f->keep->members; m->key != NULL; m++) {
			/*
			 * Most keys differ from a member in their first byte: that
			 * byte is compared here, without a call, before the rest.
			 */
			if (key_len > 0 && m->key[0] != key[0])
				continue;
			if (strncmp(m->key, key, key_len) == 0 && m->key[key_len] == '\0') {
				f->key_kept = true;
				f->key_keep = m->keep;
				break;
			}
		}
	}
	if (f->key_kept)
		f->key = copy_bytes(b, key, len);
	return 1;
}

static const yajl_callbacks callbacks = {
	.yajl_null = on_null,
	.yajl_boolean = on_boolean,
	.yajl_number = on_number,
	.yajl_string = on_string,
	.yajl_start_map = on_start_map,
	.yajl_map_key = on_map_key,
	.yajl_end_map = on_end,
	.yajl_start_array = on_start_array,
	.yajl_end_array = on_end,
};

/* Free what a failed parse built: the partial tree and keys still waiting. */
static void builder_free(struct builder *b)
{
	arena_free(b->arena.blocks, false);
}

/* The blocks of a tree json_tree_parse_keep made, found from its root. */
static struct arena_block *tree_blocks(yajl_val tree)
{
	struct tree_head *head =
		(struct tree_head *)(void *)((char *)tree - offsetof(struct tree_head, root));

	return head->blocks;
}

/* See json_tree.h. */
void json_tree_free(yajl_val tree)
{
	if (tree != NULL)
		arena_free(tree_blocks(tree), false);
}

/* See json_tree.h. */
void json_tree_free_wiped(yajl_val tree)
{
	/* The list is read before the block holding the head is wiped. */
	if (tree != NULL)
		arena_free(tree_blocks(tree), true);
}

/* See json_tree.h. */
int json_tree_parse_keep(const char *body, size_t len, const struct json_limits *limits,
	const struct json_keep *keep, yajl_val *out, char error[JSON_TREE_ERROR_MAX])
{
	struct builder b = {.root_keep = keep};
	yajl_handle h;
	int rc;

	if (len > limits->max_bytes) {
		snprintf(error, JSON_TREE_ERROR_MAX, "body of %zu bytes exceeds the cap of %zu",
			len, limits->max_bytes);
		return -EPROTO;
	}
	rc = prescan(body, len, limits, error);
	if (rc < 0)
		return rc;
	b.arena.next_cap = ARENA_BLOCK_MIN;
	b.head = arena_alloc(&b.arena, sizeof(*b.head));
	h = yajl_alloc(&callbacks, NULL, &b);
	if (h == NULL)
		abort(); /* out of memory, as the x* wrappers do */
	/* yajl_tree_parse's settings, so that trees read as they always have. */
	yajl_config(h, yajl_allow_comments, 1);
	yajl_parse(h, (const unsigned char *)body, len);
	if (yajl_complete_parse(h) != yajl_status_ok) {
		unsigned char *msg = yajl_get_error(h, 1, (const unsigned char *)body, len);
		char *text = (char *)msg;

		/* yajl's message spans lines (text, then a caret); keep the first. */
		text[strcspn(text, "\r\n")] = '\0';
		snprintf(error, JSON_TREE_ERROR_MAX, "is malformed JSON: %.120s",
			text[0] != '\0' ? text : "parse error");
		yajl_free_error(h, msg);
		yajl_free(h);
		builder_free(&b);
		return -EPROTO;
	}
	yajl_free(h);
	if (!YAJL_IS_OBJECT(b.root)) {
		builder_free(&b);
		snprintf(error, JSON_TREE_ERROR_MAX, "is not a JSON object");
		return -EPROTO;
	}
	/* Only now: the blocks made while parsing are the tree's. */
	b.head->blocks = b.arena.blocks;
	*out = b.root;
	return 0;
}

/* See json_tree.h. */
int json_tree_parse(const char *body, size_t len, const struct json_limits *limits, yajl_val *out,
	char error[JSON_TREE_ERROR_MAX])
{
	return json_tree_parse_keep(body, len, limits, NULL, out, error);
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
