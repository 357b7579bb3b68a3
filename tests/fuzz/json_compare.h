/*
 * Checks shared by the JSON tree's unit test and fuzz targets: that the tree
 * json_tree_parse builds is the one yajl_tree_parse builds, and that a tree
 * built with a json_keep is the whole tree with only what the keep names.
 * Header-only: each test includes it once.
 */
#ifndef QSCALE_TESTS_JSON_COMPARE_H
#define QSCALE_TESTS_JSON_COMPARE_H

#include <stdbool.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "qscale/json_tree.h"

/* Whether two scalars are the same value, as a reader of either tree sees it. */
static bool json_compare_scalar(yajl_val a, yajl_val b)
{
	if (a->type != b->type)
		return false;
	if (YAJL_IS_STRING(a))
		return strcmp(a->u.string, b->u.string) == 0;
	if (YAJL_IS_NUMBER(a))
		return strcmp(a->u.number.r, b->u.number.r) == 0 &&
			a->u.number.flags == b->u.number.flags && a->u.number.i == b->u.number.i &&
			memcmp(&a->u.number.d, &b->u.number.d, sizeof(double)) == 0;
	return true;
}

/* The member of keep (non-NULL members) named key, or NULL when it is not kept. */
static const struct json_keep_member *json_compare_member(
	const struct json_keep *keep, const char *key)
{
	for (const struct json_keep_member *m = keep->members; m->key != NULL; m++) {
		if (strcmp(m->key, key) == 0)
			return m;
	}
	return NULL;
}

/* Whether kept is whole with only what keep (NULL: all of it) names. */
static bool json_compare_kept(yajl_val whole, yajl_val kept, const struct json_keep *keep)
{
	if (whole == NULL || kept == NULL)
		return whole == kept;
	if (whole->type != kept->type)
		return false;
	if (YAJL_IS_ARRAY(whole)) {
		if (whole->u.array.len != kept->u.array.len)
			return false;
		for (size_t i = 0; i < whole->u.array.len; i++) {
			if (!json_compare_kept(whole->u.array.values[i], kept->u.array.values[i],
				    keep != NULL ? keep->items : NULL))
				return false;
		}
		return true;
	}
	if (YAJL_IS_OBJECT(whole)) {
		size_t k = 0;

		for (size_t i = 0; i < whole->u.object.len; i++) {
			const char *key = whole->u.object.keys[i];
			const struct json_keep_member *m = NULL;

			if (keep != NULL && keep->members != NULL) {
				m = json_compare_member(keep, key);
				if (m == NULL)
					continue;
			}
			if (k == kept->u.object.len || strcmp(kept->u.object.keys[k], key) != 0 ||
				!json_compare_kept(whole->u.object.values[i],
					kept->u.object.values[k], m != NULL ? m->keep : NULL))
				return false;
			k++;
		}
		return k == kept->u.object.len;
	}
	return json_compare_scalar(whole, kept);
}

#endif
