/*
 * A growable byte buffer with a hard size cap, for everything filled from the
 * network or from files. The contents are always NUL-terminated.
 */
#ifndef QSCALE_BUF_H
#define QSCALE_BUF_H

#include <stddef.h>

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max; /* hard cap on len; appends past it fail with -E2BIG */
};

/* Start empty, never holding more than max bytes. */
void buf_init(struct buf *b, size_t max);

/* Free the contents; the buffer may be initialised again. */
void buf_finish(struct buf *b);

/* Like buf_finish, wiping the bytes first (secrets). */
void buf_finish_secure(struct buf *b);

/* Empty the buffer, keeping its memory. */
void buf_reset(struct buf *b);

/* Append len bytes; 0, or -E2BIG (nothing appended) past the cap. */
int buf_append(struct buf *b, const void *data, size_t len);

/* Append a NUL-terminated string. */
int buf_puts(struct buf *b, const char *s);

/* Append one byte. */
int buf_putc(struct buf *b, char c);

/* Append formatted text; -E2BIG past the cap. */
int buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hand the contents (NUL-terminated, possibly "") to the caller, who frees them. */
char *buf_steal(struct buf *b);

/* The NUL-terminated contents; "" when empty. Valid until the next change. */
const char *buf_cstr(const struct buf *b);

#endif
