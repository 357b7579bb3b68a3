/*
 * Internals of the policy module shared by its files: diagnostics and the
 * module's use of the shared YAML tree (diag.c), its own value types for the
 * schema walker of util/ (types.c), and the two schemas (config.c, policy.c).
 */
#ifndef QSCALE_POLICY_PRIV_H
#define QSCALE_POLICY_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "qscale/policy.h"
#include "qscale/schema.h"
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

/* ---- Value types of the configuration (types.c) ---- */

/* An instance filter (struct policy_filter), compiled as it is read. */
extern const struct schema_custom policy_filter_type;

/* The metrics endpoint's HOST:PORT or "" (a char *). */
extern const struct schema_custom policy_listen_type;

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
