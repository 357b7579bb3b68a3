/*
 * Strict JSON reading and writing for the AWS response parsers and request
 * builders, over the bounded JSON tree of util/json_tree.c with the caps of
 * json_priv.h.
 */
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/json_tree.h"
#include "qscale/xalloc.h"
#include "json_priv.h"

/* See json_priv.h. */
int aws_json_fail(struct aws_error *diag, const char *fmt, ...)
{
	if (diag == NULL)
		return -EPROTO;
	va_list ap;

	memset(diag, 0, sizeof(*diag));
	diag->err = -EPROTO;
	diag->error_class = AWS_ERROR_FATAL;
	diag->retryable = false;
	va_start(ap, fmt);
	vsnprintf(diag->message, sizeof(diag->message), fmt, ap);
	va_end(ap);
	return -EPROTO;
}

/* See json_priv.h. */
int aws_json_parse(const char *body, size_t len, yajl_val *out, struct aws_error *diag)
{
	return aws_json_parse_keep(body, len, NULL, out, diag);
}

/* Whether a top-level keep lists "__type", so that error bodies are still seen. */
static bool keeps_type(const struct json_keep *keep)
{
	if (keep == NULL || keep->members == NULL)
		return true;
	for (const struct json_keep_member *m = keep->members; m->key != NULL; m++) {
		if (strcmp(m->key, "__type") == 0)
			return true;
	}
	return false;
}

/* See json_priv.h. */
int aws_json_parse_keep(const char *body, size_t len, const struct json_keep *keep, yajl_val *out,
	struct aws_error *diag)
{
	static const struct json_limits limits = {
		.max_bytes = AWS_JSON_MAX_BODY,
		.max_depth = AWS_JSON_MAX_DEPTH,
		.max_items = AWS_JSON_MAX_ITEMS,
	};
	char error[JSON_TREE_ERROR_MAX];
	yajl_val tree, type;
	int r;

	if (body == NULL || len == 0)
		return aws_json_fail(diag, "empty response body");
	if (!keeps_type(keep))
		abort(); /* a reader that cannot tell an error body from its answer */
	if (json_tree_parse_keep(body, len, &limits, keep, &tree, error) < 0)
		return aws_json_fail(diag, "response %s", error);
	/* An error body must never pass for an empty success. */
	type = json_tree_get(tree, "__type");
	if (type != NULL) {
		r = aws_json_fail(diag, "response is an AWS error: %.100s",
			YAJL_IS_STRING(type) ? type->u.string : "(no type)");
		json_tree_free(tree);
		return r;
	}
	*out = tree;
	return 0;
}

/* Look key up; -EPROTO when required and absent, else 0 with *v possibly NULL. */
static int lookup(yajl_val obj, const char *key, bool required, yajl_val *v, struct aws_error *diag)
{
	*v = json_tree_get(obj, key);
	if (*v == NULL && required)
		return aws_json_fail(diag, "field \"%s\" is missing", key);
	return 0;
}

/* See json_priv.h. */
int aws_json_string(
	yajl_val obj, const char *key, bool required, const char **out, struct aws_error *diag)
{
	yajl_val v;
	int r = lookup(obj, key, required, &v, diag);

	if (r < 0)
		return r;
	if (v != NULL && !YAJL_IS_STRING(v))
		return aws_json_fail(diag, "field \"%s\" is not a string", key);
	*out = v != NULL ? v->u.string : NULL;
	return 0;
}

/* See json_priv.h. */
int aws_json_decimal(const char *text, int64_t min, int64_t max, int64_t *out)
{
	if (text == NULL || text[0] == '\0')
		return -EINVAL;
	/* strtoll alone would take leading blanks and a '+'. */
	if (text[0] != '-' && (text[0] < '0' || text[0] > '9'))
		return -EINVAL;
	char *end;

	errno = 0;
	long long v = strtoll(text, &end, 10);

	if (errno != 0 || *end != '\0' || end == text)
		return -EINVAL;
	if (v < min || v > max)
		return -EINVAL;
	*out = (int64_t)v;
	return 0;
}

/* See json_priv.h. */
int aws_json_int(yajl_val obj, const char *key, bool required, int64_t min, int64_t max,
	int64_t *out, bool *present, struct aws_error *diag)
{
	yajl_val v;
	int r = lookup(obj, key, required, &v, diag);

	if (r < 0)
		return r;
	if (v == NULL) {
		if (present != NULL)
			*present = false;
		return 0;
	}
	if (!YAJL_IS_NUMBER(v))
		return aws_json_fail(diag, "field \"%s\" is not a number", key);
	int64_t n;

	/* The raw text decides: 1.0 or 1e3 is no integer here. */
	if (aws_json_decimal(v->u.number.r, min, max, &n) < 0)
		return aws_json_fail(diag, "field \"%s\" is not an integer in [%lld, %lld]", key,
			(long long)min, (long long)max);
	*out = n;
	if (present != NULL)
		*present = true;
	return 0;
}

/* See json_priv.h. */
int aws_json_bool(yajl_val obj, const char *key, bool required, bool *out, bool *present,
	struct aws_error *diag)
{
	yajl_val v;
	int r = lookup(obj, key, required, &v, diag);

	if (r < 0)
		return r;
	if (v == NULL) {
		if (present != NULL)
			*present = false;
		return 0;
	}
	if (!YAJL_IS_TRUE(v) && !YAJL_IS_FALSE(v))
		return aws_json_fail(diag, "field \"%s\" is not a boolean", key);
	*out = YAJL_IS_TRUE(v);
	if (present != NULL)
		*present = true;
	return 0;
}

/* See json_priv.h. */
int aws_json_array(yajl_val obj, const char *key, bool required, size_t max, yajl_val *out,
	struct aws_error *diag)
{
	yajl_val v;
	int r = lookup(obj, key, required, &v, diag);

	if (r < 0)
		return r;
	if (v != NULL && !YAJL_IS_ARRAY(v))
		return aws_json_fail(diag, "field \"%s\" is not an array", key);
	if (v != NULL && v->u.array.len > max)
		return aws_json_fail(diag, "field \"%s\" holds %zu items, more than %zu", key,
			v->u.array.len, max);
	*out = v;
	return 0;
}

/* See json_priv.h. */
int aws_json_object(
	yajl_val obj, const char *key, bool required, yajl_val *out, struct aws_error *diag)
{
	yajl_val v;
	int r = lookup(obj, key, required, &v, diag);

	if (r < 0)
		return r;
	if (v != NULL && !YAJL_IS_OBJECT(v))
		return aws_json_fail(diag, "field \"%s\" is not an object", key);
	*out = v;
	return 0;
}

/* See json_priv.h. */
size_t aws_json_len(yajl_val array)
{
	return array != NULL && YAJL_IS_ARRAY(array) ? array->u.array.len : 0;
}

/* See json_priv.h. */
yajl_val aws_json_item(yajl_val array, size_t i)
{
	return array->u.array.values[i];
}

/* See json_priv.h. */
yajl_gen aws_json_gen_create(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	if (g == NULL)
		abort(); /* out of memory, as the x* wrappers do */
	yajl_gen_config(g, yajl_gen_validate_utf8, 1);
	return g;
}

/* See json_priv.h. */
int aws_json_gen_str(yajl_gen g, const char *s)
{
	if (s == NULL)
		return -EINVAL;
	return yajl_gen_string(g, (const unsigned char *)s, strlen(s)) == yajl_gen_status_ok
		? 0
		: -EINVAL;
}

/* See json_priv.h. */
int aws_json_gen_kv_str(yajl_gen g, const char *key, const char *value)
{
	int r = aws_json_gen_str(g, key);

	return r < 0 ? r : aws_json_gen_str(g, value);
}

/* See json_priv.h. */
int aws_json_gen_kv_int(yajl_gen g, const char *key, int64_t value)
{
	int r = aws_json_gen_str(g, key);

	if (r < 0)
		return r;
	return yajl_gen_integer(g, (long long)value) == yajl_gen_status_ok ? 0 : -EINVAL;
}

/* See json_priv.h. */
int aws_json_gen_finish(yajl_gen g, char **out, size_t *out_len)
{
	const unsigned char *text;
	size_t len;
	int r = -EINVAL;

	if (yajl_gen_get_buf(g, &text, &len) == yajl_gen_status_ok && len > 0) {
		char *copy = xmalloc(len + 1);

		memcpy(copy, text, len);
		copy[len] = '\0';
		*out = copy;
		*out_len = len;
		r = 0;
	}
	yajl_gen_free(g);
	return r;
}
