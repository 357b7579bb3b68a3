/*
 * A string index: names numbered 0, 1, 2... in the order first added, found
 * again in constant time (open addressing). Built once per configuration
 * load, so that a per-cycle plan finds a policy's queue, cluster or service
 * by number instead of comparing names.
 */
#ifndef QSCALE_STRINDEX_H
#define QSCALE_STRINDEX_H

#include <stdbool.h>
#include <stddef.h>

struct strindex {
	char **keys; /* by number; owned copies */
	size_t *slots; /* cap entries: number + 1, 0 when empty */
	size_t cap; /* 0 or a power of two */
	size_t len;
};

/* An empty index in caller-owned storage. */
void strindex_init(struct strindex *ix);

/* Free what an index holds (it is empty again after). */
void strindex_finish(struct strindex *ix);

/* The number of key, given it the next number when new. */
size_t strindex_add(struct strindex *ix, const char *key);

/* Whether key is in the index; its number in *out when it is. */
bool strindex_find(const struct strindex *ix, const char *key, size_t *out);

/* How many keys the index holds (the next number). */
size_t strindex_count(const struct strindex *ix);

/* The key of a number below strindex_count, or NULL. */
const char *strindex_key(const struct strindex *ix, size_t number);

#endif
