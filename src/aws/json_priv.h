/*
 * Strict reading and writing of the JSON bodies of AWS calls, shared by the
 * SQS and ECS parsers. Reading: a size cap, a nesting cap and a NUL check
 * before yajl's tree parser sees the body, then typed field getters that turn
 * every surprise into -EPROTO with a message naming the field. Writing: yajl's
 * generator with UTF-8 validation.
 */
#ifndef QSCALE_AWS_JSON_PRIV_H
#define QSCALE_AWS_JSON_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <yajl/yajl_gen.h>
#include <yajl/yajl_tree.h>

#include "qscale/aws_client.h"
#include "qscale/json_tree.h"

/* Largest response body any parser accepts. */
#define AWS_JSON_MAX_BODY (8u * 1024 * 1024)
/* Deepest nesting of arrays and objects any parser accepts. */
#define AWS_JSON_MAX_DEPTH 32
/* Most items any one array or object may hold. */
#define AWS_JSON_MAX_ITEMS 5000

/* Fill diag (may be NULL) with a -EPROTO parse failure; returns -EPROTO. */
int aws_json_fail(struct aws_error *diag, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/*
 * Parse body into a tree after checking its size, its nesting, its widest
 * array or object and that it
 * holds no NUL byte; the top level must be an object and no AWS error body
 * (no "__type"). The caller frees *out
 * with json_tree_free.
 */
int aws_json_parse(const char *body, size_t len, yajl_val *out, struct aws_error *diag);

/*
 * aws_json_parse keeping only what keep names (json_tree_parse_keep), for
 * large answers of which a reader needs a few fields. Its members must list
 * "__type".
 */
int aws_json_parse_keep(const char *body, size_t len, const struct json_keep *keep, yajl_val *out,
	struct aws_error *diag);

/* A string field; *out is NULL when absent and not required. */
int aws_json_string(
	yajl_val obj, const char *key, bool required, const char **out, struct aws_error *diag);

/* An integer field within [min, max]; *present (may be NULL) says whether it was there. */
int aws_json_int(yajl_val obj, const char *key, bool required, int64_t min, int64_t max,
	int64_t *out, bool *present, struct aws_error *diag);

/* A boolean field. */
int aws_json_bool(yajl_val obj, const char *key, bool required, bool *out, bool *present,
	struct aws_error *diag);

/* An array field holding at most max items; *out is NULL when absent and not required. */
int aws_json_array(yajl_val obj, const char *key, bool required, size_t max, yajl_val *out,
	struct aws_error *diag);

/* An object field; *out is NULL when absent and not required. */
int aws_json_object(
	yajl_val obj, const char *key, bool required, yajl_val *out, struct aws_error *diag);

/* The length of an array value (0 for NULL), and its item i. */
size_t aws_json_len(yajl_val array);
yajl_val aws_json_item(yajl_val array, size_t i);

/* A whole decimal number in text, within [min, max]: 0 or -EINVAL. */
int aws_json_decimal(const char *text, int64_t min, int64_t max, int64_t *out);

/* A fresh generator that validates UTF-8. */
yajl_gen aws_json_gen_create(void);

/* Generator helpers; each returns 0 or -EINVAL (e.g. invalid UTF-8). */
int aws_json_gen_str(yajl_gen g, const char *s);
int aws_json_gen_kv_str(yajl_gen g, const char *key, const char *value);
int aws_json_gen_kv_int(yajl_gen g, const char *key, int64_t value);

/* Hand the generated text to the caller (who frees it) and free g; -EINVAL if it is empty. */
int aws_json_gen_finish(yajl_gen g, char **out, size_t *out_len);

#endif
