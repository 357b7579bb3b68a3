/*
 * The schema walker: a table of keys (struct schema_field) read strictly from
 * a YAML mapping (yaml_tree.h) into a struct. Unknown keys (with a suggestion
 * from suggest.h), duplicate keys, wrong types, null values, junk numbers and
 * durations, out-of-range values and missing required keys are all errors at
 * the offending node, filled into a struct diag. Defaults come from the same
 * tables and go through the same value parsers. A loader with types of its
 * own (a filter, an address, a reference to another section) adds them as a
 * custom type: a parse callback per field. Sequences of mappings become
 * arrays of structs. Policies and scenarios are both read through it.
 */
#ifndef QSCALE_SCHEMA_H
#define QSCALE_SCHEMA_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qscale/diag.h"
#include "qscale/yaml_tree.h"

enum schema_type {
	SCHEMA_MAP, /* nested mapping described by sub, into the same base */
	SCHEMA_LIST, /* sequence of mappings described by sub: an array of item_size structs */
	SCHEMA_NODE, /* kept as a node for its owner to read */
	SCHEMA_STRING, /* non-empty, no control characters */
	SCHEMA_NAME, /* letters, digits, '.', '_', '-'; up to 64 */
	SCHEMA_REGION, /* lower-case letters, digits and '-' */
	SCHEMA_URL, /* http:// or https:// */
	SCHEMA_BOOL,
	SCHEMA_I32, /* int32_t in [min, max] */
	SCHEMA_I64, /* int64_t in [min, max] */
	SCHEMA_U16, /* uint16_t in [min, max] */
	SCHEMA_U32, /* uint32_t in [min, max] */
	SCHEMA_U64, /* uint64_t in [(uint64_t)min, (uint64_t)max]: max -1 is UINT64_MAX */
	SCHEMA_DOUBLE, /* [min, max), or [min, max] with SCHEMA_MAX_INCLUSIVE */
	SCHEMA_DURATION, /* uint64_t milliseconds in [min, max] */
	SCHEMA_ENUM, /* an int-sized enum named by choices */
	SCHEMA_CUSTOM, /* read by custom->parse */
};

#define SCHEMA_REQUIRED 0x1 /* required whenever its mapping is present */
#define SCHEMA_PRESENCE 0x2 /* SCHEMA_MAP: the bool at present_offset says it was given */
#define SCHEMA_MAX_INCLUSIVE 0x4 /* SCHEMA_DOUBLE: max itself is allowed */
/* Read after the mapping's other keys, in table order: a section that refers to others. */
#define SCHEMA_LATER 0x8
/*
 * SCHEMA_LIST: nothing is stored; each item is read into a scratch struct of
 * item_size, handed to check (which copies what it keeps and clears what it
 * takes over), then freed with schema_free.
 */
#define SCHEMA_EACH 0x10
/* The value must be written plain, never quoted (as integers always must). */
#define SCHEMA_UNQUOTED 0x20

struct schema_choice {
	const char *name;
	int value;
};

struct schema_walk;
struct schema_field;

/*
 * A type a loader defines. parse reads v (a non-null scalar unless any_node)
 * into member, the field's place in the walk's current struct; it reports
 * errors through schema_fail and returns 0 or -EINVAL. The other callbacks
 * may be NULL: then the member is not printed, freed or ever seen as unset.
 */
struct schema_custom {
	const char *type_text; /* the type column of the documentation */
	bool any_node; /* parse also receives lists and mappings */
	int (*parse)(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
		const char *path, void *member);
	void (*print)(const void *member, FILE *out);
	void (*free)(const struct schema_field *f, void *base); /* the member of f in base */
	bool (*is_unset)(const void *member);
};

/*
 * A check of one whole struct read by the walker (a list item, or a nested
 * mapping): cross-field rules and derived values. node is its mapping; while
 * it runs, w->base is the struct that holds the list (or the mapping's).
 */
typedef int (*schema_check_cb)(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path);

/* One key of a mapping; a table of them ends with a NULL key. */
struct schema_field {
	const char *key;
	enum schema_type type;
	size_t offset; /* into the struct being filled (for SCHEMA_LIST: the array pointer) */
	int64_t min; /* integers, durations (ms), numbers; SCHEMA_LIST: fewest items */
	int64_t max; /* SCHEMA_LIST: most items */
	const char *def; /* default, parsed like a value from a file; NULL: none */
	const char *def_doc; /* the documented default when def is NULL */
	unsigned flags;
	const struct schema_field *sub; /* SCHEMA_MAP, SCHEMA_LIST */
	const struct schema_choice *choices; /* SCHEMA_ENUM, NULL-name-terminated */
	size_t present_offset; /* SCHEMA_PRESENCE */
	const struct schema_custom *custom; /* SCHEMA_CUSTOM */
	size_t count_offset; /* SCHEMA_LIST: the size_t count beside the array */
	size_t item_size; /* SCHEMA_LIST */
	schema_check_cb check; /* SCHEMA_LIST (each item), SCHEMA_MAP; may be NULL */
};

/* What the walker remembers of each key it read. */
struct schema_seen {
	char path[96];
	const struct ynode *key;
	const struct ynode *value;
};

#define SCHEMA_MAX_SEEN 64

/* Most keys one mapping of a schema may have. */
#define SCHEMA_MAX_FIELDS 32

/* One walk of a schema over one document. */
struct schema_walk {
	const struct schema_field *root; /* for "belongs under" hints */
	const char *file; /* named in diagnostics */
	struct diag *diag;
	void *base; /* the struct being filled (a list item while one is read) */
	void *ctx; /* the loader's, for custom types and checks */
	struct schema_seen seen[SCHEMA_MAX_SEEN]; /* the first keys read, by dotted path */
	size_t seen_count;
};

/* Fill the walk's diag at node's position; returns -EINVAL. */
int schema_fail(struct schema_walk *w, const struct ynode *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Set every default of the schema in base (strings freshly allocated). */
void schema_apply_defaults(const struct schema_field *fields, void *base);

/* Read the mapping node into w->base following fields; 0 or -EINVAL. */
int schema_walk_map(struct schema_walk *w, const struct schema_field *fields,
	const struct ynode *map, const char *path);

/*
 * Read one mapping into item rather than w->base: defaults, the walk, then
 * check (may be NULL), which runs with w->base as it was.
 */
int schema_walk_item(struct schema_walk *w, const struct schema_field *fields, void *item,
	schema_check_cb check, const struct ynode *map, const char *path);

/*
 * Read a scalar naming one of choices into *out, failing with the walker's
 * message at v (for custom types built on a choice: lists of them, names kept
 * as text).
 */
int schema_parse_enum(struct schema_walk *w, const struct schema_choice *choices,
	const struct ynode *v, const char *path, int *out);

/* The value node of key in a mapping node, or NULL. */
const struct ynode *schema_map_value(const struct ynode *map, const char *key);

/* The value node read for a dotted path ("local.max_tasks"), or NULL. */
const struct ynode *schema_seen_value(const struct schema_walk *w, const char *path);

/* The key node read for a dotted path, or NULL. */
const struct ynode *schema_seen_key(const struct schema_walk *w, const char *path);

/* Free every string, list and custom value the schema's fields hold in base. */
void schema_free(const struct schema_field *fields, void *base);

/* The type column of the documentation for a field, into buf. */
const char *schema_type_text(const struct schema_field *field, char *buf, size_t size);

/* Write base's values following fields as YAML indented by indent spaces. */
void schema_print(const struct schema_field *fields, const void *base, unsigned indent,
	const char *first_prefix, FILE *out);

/* Write a string as a double-quoted YAML scalar (for a custom type's print). */
void schema_print_quoted(const char *s, FILE *out);

/*
 * Callbacks for a custom type kept as a char * (or any pointer freed with
 * free): print it quoted, free it, say whether it is unset.
 */
void schema_print_string(const void *member, FILE *out);
void schema_free_pointer(const struct schema_field *f, void *base);
bool schema_string_unset(const void *member);

#endif
