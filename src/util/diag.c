/*
 * The one diagnostic struct every loader fills, and its rendering as
 * file:line:column: message.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "qscale/diag.h"

void diag_vfill(struct diag *diag, const char *file, unsigned line, unsigned column,
	const char *fmt, va_list ap)
{
	size_t n;

	if (diag == NULL)
		return;
	if (file == NULL)
		file = "";
	/* Cut long names rather than fail: the message matters more. */
	n = strnlen(file, sizeof(diag->file) - 1);
	memcpy(diag->file, file, n);
	diag->file[n] = '\0';
	diag->line = line;
	diag->column = column;
	vsnprintf(diag->message, sizeof(diag->message), fmt, ap);
}

int diag_fill(
	struct diag *diag, const char *file, unsigned line, unsigned column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vfill(diag, file, line, column, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

const char *diag_format(const struct diag *diag, char *out, size_t size)
{
	if (diag->line == 0)
		snprintf(out, size, "%s: %s", diag->file, diag->message);
	else
		snprintf(out, size, "%s:%u:%u: %s", diag->file, diag->line, diag->column,
			diag->message);
	return out;
}

void diag_print(const struct diag *diag, FILE *out)
{
	char text[DIAG_FILE_MAX + DIAG_MESSAGE_MAX + 32];

	fprintf(out, "%s\n", diag_format(diag, text, sizeof(text)));
}
