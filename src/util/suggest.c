/*
 * "Did you mean ...?" for misspelt keys: the optimal-string-alignment edit
 * distance (insertions, deletions, substitutions, and swaps of neighbours
 * each count as one), and the closest known key when it is close enough.
 */
#include <stdlib.h>
#include <string.h>

#include "qscale/suggest.h"

/* Keys are short; longer strings are never suggested for. */
#define SUGGEST_MAX_LEN 64

size_t suggest_distance(const char *a, const char *b, size_t limit)
{
	size_t la = strlen(a), lb = strlen(b);
	/* Three rows of the dynamic-programming table: two back, one back, this one. */
	size_t rows[3][SUGGEST_MAX_LEN + 1];

	if (la > SUGGEST_MAX_LEN || lb > SUGGEST_MAX_LEN)
		return limit + 1;
	if ((la > lb ? la - lb : lb - la) > limit)
		return limit + 1;
	/* Row i lives in rows[i % 3]. */
	for (size_t j = 0; j <= lb; j++)
		rows[0][j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t *prev2 = rows[(i + 1) % 3], *prev = rows[(i - 1) % 3], *cur = rows[i % 3];

		cur[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = prev[j] + 1;

			if (cur[j - 1] + 1 < best)
				best = cur[j - 1] + 1;
			if (prev[j - 1] + cost < best)
				best = prev[j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] &&
				prev2[j - 2] + 1 < best)
				best = prev2[j - 2] + 1;
			cur[j] = best;
		}
	}

	size_t d = rows[la % 3][lb];

	return d > limit ? limit + 1 : d;
}

const char *suggest_key(const char *key, const char *const *candidates)
{
	size_t len = strlen(key);
	/* A third of the key's length, at least 1 and at most 3 edits. */
	size_t limit = len / 3;
	const char *best = NULL;
	size_t best_d;

	if (limit < 1)
		limit = 1;
	if (limit > 3)
		limit = 3;
	best_d = limit + 1;
	for (size_t i = 0; candidates[i] != NULL; i++) {
		size_t d = suggest_distance(key, candidates[i], limit);

		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	return best;
}
