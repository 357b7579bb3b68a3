/*
 * Unit tests of the schema walker (util/schema.c) on a small table of its
 * own, apart from the policy and scenario tables that use it: typed values
 * and their ranges, defaults, lists of structs (stored, or handed one by one
 * to a check), keys read later in table order, unquoted values, custom
 * types, and errors at line:column saying what is wrong.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/diag.h"
#include "qscale/schema.h"
#include "qscale/xalloc.h"
#include "qscale/yaml_tree.h"

struct item {
	char *name;
	uint16_t port;
	int kind;
};

struct doc {
	char *title;
	uint32_t count;
	uint64_t big;
	double ratio;
	double share;
	uint64_t wait_ms;
	bool on;
	struct item *items;
	size_t item_count;
	uint64_t each_ports; /* the sum of the ports the each list handed over */
	char *upper; /* a custom type: letters, kept upper-cased */
	char *title_seen_by_items; /* what the later list saw of the title */
};

static const struct schema_choice kinds[] = {{"a", 1}, {"b", 2}, {NULL, 0}};

#define I(m) offsetof(struct item, m)
#define D(m) offsetof(struct doc, m)

static const struct schema_field item_fields[] = {
	{.key = "name", .type = SCHEMA_STRING, .offset = I(name), .flags = SCHEMA_REQUIRED},
	{.key = "port", .type = SCHEMA_U16, .offset = I(port), .min = 1, .max = 65535, .def = "80"},
	{.key = "kind", .type = SCHEMA_ENUM, .offset = I(kind), .choices = kinds, .def = "a"},
	{0},
};

/* Each stored item sees the title, although the file may give it after the list. */
static int check_item(struct schema_walk *w, void *item, const struct ynode *node, const char *path)
{
	struct doc *d = w->base;

	(void)item;
	if (d->title_seen_by_items == NULL)
		d->title_seen_by_items = xstrdup(d->title);
	return 0;
}

/* An each item is added up, then its scratch is freed by the walker. */
static int take_item(struct schema_walk *w, void *item, const struct ynode *node, const char *path)
{
	struct doc *d = w->base;
	const struct item *it = item;

	if (strcmp(it->name, "bad") == 0)
		return schema_fail(w, schema_map_value(node, "name"), "'%s' is refused", path);
	d->each_ports += it->port;
	return 0;
}

/* A custom type: letters only, kept upper-cased. */
static int parse_upper(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path, void *member)
{
	char *s = xstrdup(v->value);

	(void)f;
	for (char *p = s; *p != '\0'; p++) {
		if (*p < 'a' || *p > 'z') {
			free(s);
			return schema_fail(w, v, "'%s' must be lower-case letters", path);
		}
		*p = (char)(*p - 'a' + 'A');
	}
	free(*(char **)member);
	*(char **)member = s;
	return 0;
}

/* Written back as it was read: lower-case. */
static void print_upper(const void *member, FILE *out)
{
	char *s = xstrdup(*(char *const *)member);

	for (char *p = s; *p != '\0'; p++)
		*p = (char)(*p - 'A' + 'a');
	schema_print_quoted(s, out);
	free(s);
}

static const struct schema_custom upper_type = {
	.type_text = "letters",
	.parse = parse_upper,
	.print = print_upper,
	.free = schema_free_pointer,
};

static const struct schema_field doc_fields[] = {
	{.key = "title", .type = SCHEMA_STRING, .offset = D(title), .flags = SCHEMA_REQUIRED},
	{.key = "count", .type = SCHEMA_U32, .offset = D(count), .min = 1, .max = 10, .def = "3"},
	{.key = "big", .type = SCHEMA_U64, .offset = D(big), .max = -1},
	{.key = "ratio", .type = SCHEMA_DOUBLE, .offset = D(ratio), .min = 0, .max = 1},
	{.key = "share",
		.type = SCHEMA_DOUBLE,
		.offset = D(share),
		.min = 0,
		.max = 1,
		.flags = SCHEMA_MAX_INCLUSIVE},
	{.key = "wait",
		.type = SCHEMA_DURATION,
		.offset = D(wait_ms),
		.max = 60000,
		.flags = SCHEMA_UNQUOTED,
		.def = "5s"},
	{.key = "on", .type = SCHEMA_BOOL, .offset = D(on), .def = "false"},
	{.key = "items",
		.type = SCHEMA_LIST,
		.flags = SCHEMA_LATER,
		.offset = D(items),
		.count_offset = D(item_count),
		.sub = item_fields,
		.item_size = sizeof(struct item),
		.min = 1,
		.max = 3,
		.check = check_item},
	{.key = "each",
		.type = SCHEMA_LIST,
		.flags = SCHEMA_EACH,
		.sub = item_fields,
		.item_size = sizeof(struct item),
		.max = 100,
		.check = take_item},
	{.key = "upper", .type = SCHEMA_CUSTOM, .custom = &upper_type, .offset = D(upper)},
	{0},
};

static const struct yaml_tree_limits limits = {
	.max_file_bytes = 1 << 16,
	.max_scalar_bytes = 256,
	.max_nodes = 1000,
	.max_depth = 8,
};

/* Read text into d; 0 or -EINVAL with diag filled. The caller frees d with doc_free. */
static int load(const char *text, struct doc *d, struct diag *diag)
{
	struct schema_walk w = {.root = doc_fields, .file = "t.yaml", .diag = diag, .base = d};
	struct ynode *root;
	int rc;

	memset(d, 0, sizeof(*d));
	if (yaml_tree_parse("t.yaml", text, strlen(text), &limits, &root, diag) < 0)
		return -EINVAL;
	schema_apply_defaults(doc_fields, d);
	rc = schema_walk_map(&w, doc_fields, root, "");
	ynode_free(root);
	return rc;
}

static void doc_free(struct doc *d)
{
	schema_free(doc_fields, d);
	free(d->title_seen_by_items);
	assert_null(d->items);
	assert_null(d->title);
}

/* Values, defaults, a later list that sees keys written after it, an each list. */
static void test_good(void **state)
{
	static const char text[] = "items:\n"
				   "  - {name: x}\n"
				   "  - {name: y, port: 8080, kind: b}\n"
				   "each: [{name: p, port: 1}, {name: q, port: 2}]\n"
				   "title: hello\n"
				   "big: 18446744073709551615\n"
				   "share: 1\n"
				   "upper: abc\n";
	struct doc d;
	struct diag diag;

	(void)state;
	assert_int_equal(load(text, &d, &diag), 0);
	assert_string_equal(d.title, "hello");
	assert_int_equal(d.count, 3);
	assert_true(d.big == UINT64_MAX);
	assert_true(d.share == 1.0);
	assert_int_equal(d.wait_ms, 5000);
	assert_false(d.on);
	assert_int_equal(d.item_count, 2);
	assert_string_equal(d.items[0].name, "x");
	assert_int_equal(d.items[0].port, 80);
	assert_int_equal(d.items[0].kind, 1);
	assert_int_equal(d.items[1].port, 8080);
	assert_int_equal(d.items[1].kind, 2);
	assert_string_equal(d.title_seen_by_items, "hello");
	assert_int_equal(d.each_ports, 3);
	assert_string_equal(d.upper, "ABC");
	doc_free(&d);
}

/* Each wrong file fails where it is wrong, saying what is wrong; partial lists are freed. */
static void test_bad(void **state)
{
	static const struct {
		const char *text;
		unsigned line, column;
		const char *words;
	} cases[] = {
		{"titel: x\n", 1, 1, "unknown key 'titel', did you mean 'title'?"},
		{"title: x\ntitle: y\n", 2, 1, "duplicate key 'title' (first given at line 1)"},
		{"count: 2\n", 1, 1, "missing required key 'title'"},
		{"title: x\ncount: 11\n", 2, 8, "'count' must be between 1 and 10, got 11"},
		{"title: x\ncount: \"2\"\n", 2, 8, "'count' must be a whole number"},
		{"title: x\nbig: -1\n", 2, 6, "'big' must be between 0 and 18446744073709551615"},
		{"title: x\nratio: 1\n", 2, 8, "'ratio' must be at least 0 and below 1"},
		{"title: x\nshare: 1.5\n", 2, 8, "'share' must be between 0 and 1"},
		{"title: x\nwait: \"5s\"\n", 2, 7, "'wait' must be written unquoted"},
		{"title: x\nwait: 2m\n", 2, 7, "'wait' must be between 0s and 1m"},
		{"title: x\nitems: []\n", 2, 8, "'items' must list 1 to 3 entries"},
		{"title: x\nitems: {name: a}\n", 2, 8, "'items' must be a list, not a mapping"},
		{"title: x\nitems: [{name: a}, {port: 2}]\n", 2, 20,
			"'items[1]' needs the key 'name'"},
		{"title: x\nitems: [{name: a}, {name: b, kind: c}]\n", 2, 36,
			"'items[1].kind' must be one of a, b, not 'c'"},
		{"title: x\neach: [{name: a}, {name: bad}]\n", 2, 26, "'each[1]' is refused"},
		{"title: x\nupper: aB\n", 2, 8, "'upper' must be lower-case letters"},
		{"title: x\nupper: [a]\n", 2, 8,
			"'upper' must be a single value (letters), not a list"},
		{"title: x\nitems: [{name: a, nmae: b}]\n", 2, 19,
			"unknown key 'nmae', did you mean 'name'?"},
		{"- a\n", 1, 1, "expected a mapping of keys at the top level, found a list"},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct doc d;
		struct diag diag = {0};
		char msg[DIAG_FILE_MAX + DIAG_MESSAGE_MAX + 32];
		int rc = load(cases[i].text, &d, &diag);

		diag_format(&diag, msg, sizeof(msg));
		if (rc != -EINVAL || diag.line != cases[i].line || diag.column != cases[i].column ||
			strstr(diag.message, cases[i].words) == NULL)
			fail_msg("case %zu: rc %d, got '%s'", i, rc, msg);
		doc_free(&d);
	}
}

/* What schema_print writes reads back to the same values. */
static void test_print_round_trip(void **state)
{
	struct doc d, again;
	struct diag diag;
	char *text = NULL;
	size_t len = 0;
	FILE *out;

	(void)state;
	assert_int_equal(load("title: \"a \\\"b\\\"\"\ncount: 7\nshare: 0.25\nwait: 1m\n"
			      "on: true\nitems: [{name: z}]\nupper: xy\n",
				 &d, &diag),
		0);
	out = open_memstream(&text, &len);
	assert_non_null(out);
	schema_print(doc_fields, &d, 0, NULL, out);
	fclose(out);
	/* Lists are their owner's to print: give the required one back. */
	text = xrealloc(text, len + 32);
	strcat(text, "items: [{name: z}]\n");
	if (load(text, &again, &diag) != 0)
		fail_msg("printed text does not load: %s\n%s", diag.message, text);
	assert_string_equal(again.title, "a \"b\"");
	assert_int_equal(again.count, 7);
	assert_true(again.share == 0.25);
	assert_int_equal(again.wait_ms, 60000);
	assert_true(again.on);
	assert_string_equal(again.upper, "XY");
	free(text);
	doc_free(&d);
	doc_free(&again);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_print_round_trip),
	};

	return cmocka_run_group_tests_name("schema", tests, NULL, NULL);
}
