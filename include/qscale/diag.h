/*
 * A diagnostic: the first error a parser or validator found, with the file
 * and the 1-based line and column it concerns (line 0: the whole file), and
 * a message. Every loader (YAML tree, configuration, policies, scenarios,
 * traces) fills this one struct; the caller prints it once, as
 * "file:line:column: message".
 */
#ifndef QSCALE_DIAG_H
#define QSCALE_DIAG_H

#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#define DIAG_FILE_MAX 512
#define DIAG_MESSAGE_MAX 512

struct diag {
	char file[DIAG_FILE_MAX];
	unsigned line; /* 1-based; 0 when not tied to a position */
	unsigned column; /* 1-based */
	char message[DIAG_MESSAGE_MAX];
};

/* Fill diag (nothing when NULL); a long file name is cut rather than refused. */
void diag_vfill(struct diag *diag, const char *file, unsigned line, unsigned column,
	const char *fmt, va_list ap) __attribute__((format(printf, 5, 0)));

/* Like diag_vfill; returns -EINVAL, so a parser can `return diag_fill(...)`. */
int diag_fill(struct diag *diag, const char *file, unsigned line, unsigned column, const char *fmt,
	...) __attribute__((format(printf, 5, 6)));

/* "file:line:column: message" (or "file: message" at line 0) into out; returns out. */
const char *diag_format(const struct diag *diag, char *out, size_t size);

/* Print diag as diag_format does, with a newline. */
void diag_print(const struct diag *diag, FILE *out);

#endif
