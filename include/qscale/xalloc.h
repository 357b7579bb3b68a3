/*
 * Allocation wrappers: out of memory aborts, so callers never check for NULL.
 * Secrets are wiped before they are freed.
 */
#ifndef QSCALE_XALLOC_H
#define QSCALE_XALLOC_H

#include <stddef.h>

void *xmalloc(size_t size);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *ptr, size_t size);
/* realloc of nmemb * size with overflow check. */
void *xreallocarray(void *ptr, size_t nmemb, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* Formatted string in fresh memory; the caller frees it. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Grow a ring of items of size bytes each (cap a power of two, or 0; len
 * items from index head, wrapping): its items in order at the start of a
 * new zeroed block of new_cap items (new_cap >= len); the old block is
 * freed.
 */
void *xring_grow(void *items, size_t size, size_t cap, size_t head, size_t len, size_t new_cap);

/* Overwrite len bytes at ptr in a way the compiler cannot drop. */
void secure_wipe(void *ptr, size_t len);

/* Wipe a NUL-terminated secret and free it; accepts NULL. */
void secure_free_str(char *s);

#endif
