/*
 * Internals of the policy module shared by its files: diagnostics and the
 * module's use of the shared YAML tree (diag.c), the schema tables and their
 * walker (schema.c, schema_print.c), and the two schemas (config.c, policy.c).
 */
#ifndef QSCALE_POLICY_PRIV_H
#define QSCALE_POLICY_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qscale/policy.h"
#include "qscale/suggest.h"
#include "qscale/yaml_tree.h"

/* ---- YAML tree (src/util/yaml_tree.c) with this module's caps (diag.c) ---- */

/*
 * Parse one YAML document of at most POLICY_MAX_FILE_BYTES into a tree the
 * caller frees with ynode_free, under the caps in policy.h. 0 or
 * -EINVAL/-EFBIG with diag filled (name is the file named there).
 */
int policy_yaml_parse(
	const char *name, const char *text, size_t len, struct ynode **out, struct diag *diag);

/* ---- Files (files.c) ---- */

/*
 * Read a regular file of at most POLICY_MAX_FILE_BYTES into fresh memory
 * (NUL-terminated; *len_out without the NUL). Negative errno with diag filled.
 */
int policy_read_file(const char *path, char **out, size_t *len_out, struct diag *diag);

/*
 * The *.yaml files of dir (no hidden ones), sorted by name, as full paths in
 * a NULL-terminated array the caller frees with policy_free_list. -ENOENT when
 * dir does not exist; diag filled on every failure.
 */
int policy_list_dir(const char *dir, char ***out, size_t *count_out, struct diag *diag);

/* Free a list from policy_list_dir; accepts NULL. */
void policy_free_list(char **list);

/* ---- Diagnostics (diag.c) ---- */

/* Fill diag (when not NULL); returns -EINVAL for convenience. */
int diag_set(struct diag *diag, const char *file, unsigned line, unsigned column, const char *fmt,
	...) __attribute__((format(printf, 5, 6)));

/* Like diag_set at a node's position. */
int diag_at(struct diag *diag, const char *file, const struct ynode *node, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* ---- Schemas (schema.c) ---- */

enum schema_type {
	SCHEMA_MAP, /* nested mapping described by sub */
	SCHEMA_NODE, /* kept as a node for its owner to read (policies:) */
	SCHEMA_STRING,
	SCHEMA_NAME, /* letters, digits, '.', '_', '-'; up to 64 */
	SCHEMA_REGION, /* lower-case letters, digits and '-' */
	SCHEMA_URL, /* http:// or https:// */
	SCHEMA_LISTEN, /* HOST:PORT or "" */
	SCHEMA_FILTER, /* struct policy_filter */
	SCHEMA_BOOL,
	SCHEMA_I32,
	SCHEMA_I64,
	SCHEMA_DOUBLE, /* [min, max) */
	SCHEMA_DURATION, /* uint64_t milliseconds in [min, max] */
	SCHEMA_ENUM, /* an int-sized enum named by choices */
};

#define SCHEMA_REQUIRED 0x1 /* required whenever its mapping is present */
#define SCHEMA_PRESENCE 0x2 /* SCHEMA_MAP: the bool at present_offset says it was given */

struct schema_choice {
	const char *name;
	int value;
};

/* One key of a mapping; a table of them ends with a NULL key. */
struct schema_field {
	const char *key;
	enum schema_type type;
	size_t offset; /* into the struct the whole schema fills */
	int64_t min; /* integers, durations (ms) */
	int64_t max;
	const char *def; /* default, parsed like a value from a file; NULL: none */
	const char *def_doc; /* the documented default when def is NULL */
	unsigned flags;
	const struct schema_field *sub; /* SCHEMA_MAP */
	const struct schema_choice *choices; /* SCHEMA_ENUM, NULL-name-terminated */
	size_t present_offset; /* SCHEMA_PRESENCE */
};

/* What the walker remembers of each key it read. */
struct schema_seen {
	char path[96];
	const struct ynode *key;
	const struct ynode *value;
};

#define SCHEMA_MAX_SEEN 64

/* One walk of a schema over one document into one struct. */
struct schema_walk {
	const struct schema_field *root; /* for "belongs under" hints */
	const char *file;
	struct diag *diag;
	void *base;
	struct schema_seen seen[SCHEMA_MAX_SEEN];
	size_t seen_count;
};

/* Set every default of the schema in base (strings freshly allocated). */
void schema_apply_defaults(const struct schema_field *fields, void *base);

/* Read the mapping node into w->base following fields; 0 or -EINVAL. */
int schema_walk_map(struct schema_walk *w, const struct schema_field *fields,
	const struct ynode *map, const char *path);

/* The value node read for a dotted path ("local.max_tasks"), or NULL. */
const struct ynode *schema_seen_value(const struct schema_walk *w, const char *path);

/* The key node read for a dotted path, or NULL. */
const struct ynode *schema_seen_key(const struct schema_walk *w, const char *path);

/* Free every string and filter the schema's fields hold in base. */
void schema_free(const struct schema_field *fields, void *base);

/* The type column of the documentation for a field, into buf. */
const char *schema_type_text(const struct schema_field *field, char *buf, size_t size);

/* Write base's values following fields as YAML indented by indent spaces. */
void schema_print(const struct schema_field *fields, const void *base, unsigned indent,
	const char *first_prefix, FILE *out);

/* The tables (config.c, policy.c). */
extern const struct schema_field config_schema[];
extern const struct schema_field policy_schema[];

/* Where the main file and policies_dir are looked for by default. */
#define CONFIG_DEFAULT_DIR QSCALE_SYSCONFDIR

/* Where a policy's identifying keys were written, for errors across policies. */
struct policy_marks {
	const char *file;
	unsigned name_line, name_column;
	unsigned local_line, local_column; /* local.service */
	unsigned burst_line, burst_column; /* burst.service */
};

/* Longest cluster or service name or ARN read as an ECS identity. */
#define POLICY_ID_MAX 2048

/*
 * identity.c: names for the clusters and services a policy gives as ARNs,
 * checked against the configured region and account (aws.account_id, else
 * the queue URL's); errors at the ARN's position.
 */
int policy_normalise_ids(const struct schema_walk *w, struct policy *p,
	const struct qscale_config *config, struct diag *diag);

/* Parse one policy from a tree (config.c reads inline and folder ones). */
int policy_parse_node(const char *file, const struct ynode *root,
	const struct qscale_config *config, struct policy *out, struct policy_marks *marks,
	struct diag *diag);

/*
 * Check a new policy against those already loaded: a unique name, and no
 * (cluster, service) driven twice. 0 or -EINVAL with diag at marks.
 */
int policy_check_unique(const struct policy *loaded, size_t count, const struct policy *p,
	const struct policy_marks *marks, struct diag *diag);

#endif
