/*
 * Allocation that cannot fail: running out of memory is not a state a small
 * daemon can recover from, so it aborts with a message instead.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/xalloc.h"

static void out_of_memory(size_t size) __attribute__((noreturn));

static void out_of_memory(size_t size)
{
	fprintf(stderr, "qscale: out of memory (allocating %zu bytes)\n", size);
	abort();
}

void *xmalloc(size_t size)
{
	void *p = malloc(size == 0 ? 1 : size);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *xcalloc(size_t nmemb, size_t size)
{
	void *p;

	if (nmemb == 0 || size == 0)
		nmemb = size = 1;
	p = calloc(nmemb, size);
	if (p == NULL)
		out_of_memory(nmemb * size);
	return p;
}

void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size == 0 ? 1 : size);

	if (p == NULL)
		out_of_memory(size);
	return p;
}

void *xreallocarray(void *ptr, size_t nmemb, size_t size)
{
	if (size != 0 && nmemb > SIZE_MAX / size)
		out_of_memory(SIZE_MAX);
	return xrealloc(ptr, nmemb * size);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;
	int n;

	va_start(ap, fmt);
	n = vasprintf(&p, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_of_memory(0);
	return p;
}

/* See xalloc.h. */
void *xring_grow(void *items, size_t size, size_t cap, size_t head, size_t len, size_t new_cap)
{
	char *grown = xcalloc(new_cap, size);
	size_t first = cap - head < len ? cap - head : len;

	if (len > 0) {
		/* from head to the block's end, then what wrapped to its start */
		memcpy(grown, (char *)items + head * size, first * size);
		memcpy(grown + first * size, items, (len - first) * size);
	}
	free(items);
	return grown;
}

void secure_wipe(void *ptr, size_t len)
{
	if (ptr != NULL)
		explicit_bzero(ptr, len);
}

void secure_free_str(char *s)
{
	if (s == NULL)
		return;
	secure_wipe(s, strlen(s));
	free(s);
}
