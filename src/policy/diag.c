/*
 * Diagnostics of the configuration loader: the first error found, with the
 * file and the 1-based line and column it concerns, printed once by the
 * caller as "file:line:column: message".
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "policy_priv.h"

/* Copy at most size - 1 bytes of src and terminate. */
static void copy_cut(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Fill diag from a va_list. */
static void diag_vset(struct policy_diag *diag, const char *file, unsigned line, unsigned column,
	const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

static void diag_vset(struct policy_diag *diag, const char *file, unsigned line, unsigned column,
	const char *fmt, va_list ap)
{
	if (diag == NULL)
		return;
	copy_cut(diag->file, sizeof(diag->file), file != NULL ? file : "<config>");
	diag->line = line;
	diag->column = column;
	vsnprintf(diag->message, sizeof(diag->message), fmt, ap);
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

void policy_diag_print(const struct policy_diag *diag, FILE *out)
{
	if (diag->line == 0)
		fprintf(out, "%s: %s\n", diag->file, diag->message);
	else
		fprintf(out, "%s:%u:%u: %s\n", diag->file, diag->line, diag->column, diag->message);
}
