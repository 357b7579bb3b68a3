/*
 * Diagnostics of the configuration loader: the first error found, filled
 * into the shared struct diag (util/diag.c) at a file position or a YAML
 * node's, with "<config>" for text that has no file; and the loader's use
 * of the shared YAML tree under the caps of policy.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy_priv.h"

_Static_assert(
	POLICY_MAX_DEPTH <= YAML_TREE_MAX_DEPTH, "policy nesting cap beyond the YAML tree's");

/* The caps of policy.h for the shared tree. */
static const struct yaml_tree_limits policy_limits = {
	.max_file_bytes = POLICY_MAX_FILE_BYTES,
	.max_scalar_bytes = POLICY_MAX_SCALAR_BYTES,
	.max_nodes = POLICY_MAX_NODES,
	.max_depth = POLICY_MAX_DEPTH,
};

/* Fill diag from a va_list. */
static void diag_vset(struct diag *diag, const char *file, unsigned line, unsigned column,
	const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void diag_vset(struct diag *diag, const char *file, unsigned line, unsigned column,
	const char *fmt, va_list ap)
{
	diag_vfill(diag, file != NULL ? file : "<config>", line, column, fmt, ap);
}

int diag_set(
	struct diag *diag, const char *file, unsigned line, unsigned column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vset(diag, file, line, column, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int diag_at(struct diag *diag, const char *file, const struct ynode *node, const char *fmt, ...)
{
	va_list ap;

	/* Without a node (never expected) the error concerns the whole file. */
	va_start(ap, fmt);
	diag_vset(diag, file, node != NULL ? node->line : 0, node != NULL ? node->column : 0, fmt,
		ap);
	va_end(ap);
	return -EINVAL;
}

int policy_yaml_parse(
	const char *name, const char *text, size_t len, struct ynode **out, struct diag *diag)
{
	return yaml_tree_parse(
		name != NULL ? name : "<config>", text, len, &policy_limits, out, diag);
}
