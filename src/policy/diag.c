/*
 * Diagnostics of the configuration loader: the first error found, with the
 * file and the 1-based line and column it concerns, printed once by the
 * caller as "file:line:column: message". They are the shared YAML tree's
 * diagnostics copied into the public struct policy_diag, and this file reads
 * YAML through that tree under the caps of policy.h.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy_priv.h"

_Static_assert(POLICY_MAX_DEPTH <= YTREE_MAX_DEPTH, "policy nesting cap beyond the YAML tree's");
_Static_assert(sizeof(((struct policy_diag *)0)->file) == YTREE_DIAG_FILE_MAX &&
		sizeof(((struct policy_diag *)0)->message) == YTREE_DIAG_MESSAGE_MAX,
	"policy_diag holds a whole YAML tree diagnostic");

/* The caps of policy.h for the shared tree. */
static const struct ytree_limits policy_limits = {
	.max_file_bytes = POLICY_MAX_FILE_BYTES,
	.max_scalar_bytes = POLICY_MAX_SCALAR_BYTES,
	.max_nodes = POLICY_MAX_NODES,
	.max_depth = POLICY_MAX_DEPTH,
};

/* Copy a tree diagnostic into the public one (when not NULL). */
static void diag_copy(struct policy_diag *diag, const struct ytree_diag *from)
{
	if (diag == NULL)
		return;
	memcpy(diag->file, from->file, sizeof(diag->file));
	diag->line = from->line;
	diag->column = from->column;
	memcpy(diag->message, from->message, sizeof(diag->message));
}

/* Fill diag from a va_list. */
static void diag_vset(struct policy_diag *diag, const char *file, unsigned line, unsigned column,
	const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void diag_vset(struct policy_diag *diag, const char *file, unsigned line, unsigned column,
	const char *fmt, va_list ap)
{
	struct ytree_diag d;

	if (diag == NULL)
		return;
	ytree_diag_vset(&d, file != NULL ? file : "<config>", line, column, fmt, ap);
	diag_copy(diag, &d);
}

int diag_set(struct policy_diag *diag, const char *file, unsigned line, unsigned column,
	const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vset(diag, file, line, column, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

int diag_at(
	struct policy_diag *diag, const char *file, const struct ynode *node, const char *fmt, ...)
{
	va_list ap;

	/* Without a node (never expected) the error concerns the whole file. */
	va_start(ap, fmt);
	diag_vset(diag, file, node != NULL ? node->line : 0, node != NULL ? node->column : 0, fmt,
		ap);
	va_end(ap);
	return -EINVAL;
}

int policy_yaml_parse(const char *name, const char *text, size_t len, struct ynode **out,
	struct policy_diag *diag)
{
	struct ytree_diag d;
	int r = ytree_parse(name != NULL ? name : "<config>", text, len, &policy_limits, out, &d);

	if (r < 0)
		diag_copy(diag, &d);
	return r;
}

void policy_diag_print(const struct policy_diag *diag, FILE *out)
{
	if (diag->line == 0)
		fprintf(out, "%s: %s\n", diag->file, diag->message);
	else
		fprintf(out, "%s:%u:%u: %s\n", diag->file, diag->line, diag->column, diag->message);
}
