/*
 * "Did you mean ...?" for misspelt keys of YAML files: an edit distance and
 * the closest known key when it is close enough to be a likely typo.
 */
#ifndef QSCALE_SUGGEST_H
#define QSCALE_SUGGEST_H

#include <stddef.h>

/* Edit distance counting a swap of neighbours as one edit, capped at limit + 1. */
size_t suggest_distance(const char *a, const char *b, size_t limit);

/*
 * The candidate closest to key when it is close enough to be a likely typo,
 * else NULL. candidates is NULL-terminated.
 */
const char *suggest_key(const char *key, const char *const *candidates);

#endif
