/*
 * The string index (strindex.h): FNV-1a hashes, linear probing in a table
 * kept at most half full, keys copied and numbered densely as added.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/strindex.h"
#include "qscale/xalloc.h"

/* FNV-1a, 64 bits. */
static uint64_t hash_of(const char *key)
{
	uint64_t h = 14695981039346656037ULL;

	for (const unsigned char *p = (const unsigned char *)key; *p != '\0'; p++) {
		h ^= *p;
		h *= 1099511628211ULL;
	}
	return h;
}

void strindex_init(struct strindex *ix)
{
	memset(ix, 0, sizeof(*ix));
}

void strindex_finish(struct strindex *ix)
{
	for (size_t i = 0; i < ix->len; i++)
		free(ix->keys[i]);
	free(ix->keys);
	free(ix->slots);
	memset(ix, 0, sizeof(*ix));
}

/* The slot holding key, or the empty slot where it would go. */
static size_t probe(const struct strindex *ix, const char *key, uint64_t hash)
{
	size_t mask = ix->cap - 1, i = (size_t)hash & mask;

	while (ix->slots[i] != 0 && strcmp(ix->keys[ix->slots[i] - 1], key) != 0)
		i = (i + 1) & mask;
	return i;
}

/* Double the table (or make its first one) and place every key again. */
static void grow(struct strindex *ix)
{
	size_t cap = ix->cap ? ix->cap * 2 : 16;

	free(ix->slots);
	ix->slots = xcalloc(cap, sizeof(*ix->slots));
	ix->cap = cap;
	ix->keys = xreallocarray(ix->keys, cap / 2, sizeof(*ix->keys));
	for (size_t n = 0; n < ix->len; n++)
		ix->slots[probe(ix, ix->keys[n], hash_of(ix->keys[n]))] = n + 1;
}

size_t strindex_add(struct strindex *ix, const char *key)
{
	uint64_t hash = hash_of(key);
	size_t i;

	if (ix->cap > 0) {
		i = probe(ix, key, hash);
		if (ix->slots[i] != 0)
			return ix->slots[i] - 1;
	}
	/* At most half full: probes stay short, and keys has room for one more. */
	if ((ix->len + 1) * 2 > ix->cap)
		grow(ix);
	i = probe(ix, key, hash);
	ix->keys[ix->len] = xstrdup(key);
	ix->slots[i] = ++ix->len;
	return ix->len - 1;
}

bool strindex_find(const struct strindex *ix, const char *key, size_t *out)
{
	size_t i;

	if (ix->cap == 0)
		return false;
	i = probe(ix, key, hash_of(key));
	if (ix->slots[i] == 0)
		return false;
	*out = ix->slots[i] - 1;
	return true;
}

size_t strindex_count(const struct strindex *ix)
{
	return ix->len;
}

const char *strindex_key(const struct strindex *ix, size_t number)
{
	return number < ix->len ? ix->keys[number] : NULL;
}
