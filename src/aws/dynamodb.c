/*
 * DynamoDB's JSON 1.0 bodies for the HA lease: GetItem, the conditional
 * PutItem, UpdateItem and DeleteItem of the lease protocol, and DescribeTable.
 * Attribute names always go through ExpressionAttributeNames, so no name of
 * ours can collide with DynamoDB's reserved words. Pure: no I/O, no logging.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json_priv.h"
#include "qscale/dynamodb.h"

/* "key": {"type": value}, DynamoDB's typed attribute value. */
static int gen_attr(yajl_gen g, const char *key, const char *type, const char *value)
{
	if (aws_json_gen_str(g, key) < 0 || yajl_gen_map_open(g) != yajl_gen_status_ok ||
		aws_json_gen_kv_str(g, type, value) < 0 ||
		yajl_gen_map_close(g) != yajl_gen_status_ok)
		return -EINVAL;
	return 0;
}

/* "key": {"N": "value"}. */
static int gen_attr_n(yajl_gen g, const char *key, int64_t value)
{
	char text[32];

	snprintf(text, sizeof(text), "%" PRId64, value);
	return gen_attr(g, key, "N", text);
}

/* "Key": {"lease": {"S": name}}. */
static int gen_key(yajl_gen g, const char *name)
{
	if (aws_json_gen_str(g, "Key") < 0 || yajl_gen_map_open(g) != yajl_gen_status_ok ||
		gen_attr(g, DYNAMODB_LEASE_KEY, "S", name) < 0 ||
		yajl_gen_map_close(g) != yajl_gen_status_ok)
		return -EINVAL;
	return 0;
}

/* Open the body and write "TableName". */
static yajl_gen begin(const char *table)
{
	yajl_gen g = aws_json_gen_create();

	if (yajl_gen_map_open(g) != yajl_gen_status_ok ||
		aws_json_gen_kv_str(g, "TableName", table) < 0) {
		yajl_gen_free(g);
		return NULL;
	}
	return g;
}

/* Close the body and hand it over; frees g in every case. */
static int end(yajl_gen g, int r, char **out, size_t *out_len)
{
	if (r == 0 && yajl_gen_map_close(g) != yajl_gen_status_ok)
		r = -EINVAL;
	if (r < 0) {
		yajl_gen_free(g);
		return r;
	}
	return aws_json_gen_finish(g, out, out_len);
}

/* Whether text is a usable identity, version or name. */
static bool id_valid(const char *text)
{
	return text != NULL && text[0] != '\0' && strlen(text) <= DYNAMODB_ID_MAX;
}

/* See dynamodb.h. */
int dynamodb_get_lease_request(const char *table, const char *name, char **out, size_t *out_len)
{
	if (!id_valid(table) || !id_valid(name))
		return -EINVAL;
	yajl_gen g = begin(table);
	if (g == NULL)
		return -EINVAL;
	int r = gen_key(g, name);

	if (r == 0 &&
		(aws_json_gen_str(g, "ConsistentRead") < 0 ||
			yajl_gen_bool(g, 1) != yajl_gen_status_ok))
		r = -EINVAL;
	return end(g, r, out, out_len);
}

/* A string attribute of an item into out (capped). */
static int read_s(yajl_val item, const char *name, char *out, size_t size, struct aws_error *diag)
{
	yajl_val attr;
	const char *text;
	int r = aws_json_object(item, name, true, &attr, diag);

	if (r == 0)
		r = aws_json_string(attr, "S", true, &text, diag);
	if (r < 0)
		return r;
	if (text[0] == '\0' || strlen(text) >= size)
		return aws_json_fail(
			diag, "lease attribute %s is empty or longer than %zu", name, size - 1);
	memcpy(out, text, strlen(text) + 1);
	return 0;
}

/* A number attribute of an item; absent leaves *out 0. */
static int read_n(yajl_val item, const char *name, int64_t *out, struct aws_error *diag)
{
	yajl_val attr;
	const char *text;
	int r = aws_json_object(item, name, false, &attr, diag);

	*out = 0;
	if (r < 0 || attr == NULL)
		return r;
	r = aws_json_string(attr, "N", true, &text, diag);
	if (r < 0)
		return r;
	if (aws_json_decimal(text, 0, INT64_MAX / 2, out) < 0)
		return aws_json_fail(
			diag, "lease attribute %s is no whole number: \"%.40s\"", name, text);
	return 0;
}

/* See dynamodb.h. */
int dynamodb_get_lease_parse(const char *body, size_t len, bool *found,
	struct dynamodb_lease_item *out, struct aws_error *diag)
{
	yajl_val tree, item;
	struct dynamodb_lease_item it = {0};
	int r = aws_json_parse(body, len, &tree, diag);

	if (r < 0)
		return r;
	r = aws_json_object(tree, "Item", false, &item, diag);
	if (r == 0 && item != NULL) {
		r = read_s(item, "holder", it.holder, sizeof(it.holder), diag);
		if (r == 0)
			r = read_s(item, "version", it.version, sizeof(it.version), diag);
		if (r == 0)
			r = read_n(item, "duration_ms", &it.duration_ms, diag);
		if (r == 0)
			r = read_n(item, "renewed_at_ms", &it.renewed_at_ms, diag);
	}
	if (r == 0) {
		*found = item != NULL;
		*out = it;
	}
	json_tree_free(tree);
	return r;
}

/* "Item": the whole new record. */
static int gen_item(yajl_gen g, const char *name, const struct dynamodb_lease_item *item)
{
	if (aws_json_gen_str(g, "Item") < 0 || yajl_gen_map_open(g) != yajl_gen_status_ok ||
		gen_attr(g, DYNAMODB_LEASE_KEY, "S", name) < 0 ||
		gen_attr(g, "holder", "S", item->holder) < 0 ||
		gen_attr(g, "version", "S", item->version) < 0 ||
		gen_attr_n(g, "duration_ms", item->duration_ms) < 0 ||
		gen_attr_n(g, "renewed_at_ms", item->renewed_at_ms) < 0 ||
		yajl_gen_map_close(g) != yajl_gen_status_ok)
		return -EINVAL;
	return 0;
}

/* ExpressionAttributeNames: every placeholder the expressions use. */
static int gen_names(yajl_gen g)
{
	if (aws_json_gen_str(g, "ExpressionAttributeNames") < 0 ||
		yajl_gen_map_open(g) != yajl_gen_status_ok ||
		aws_json_gen_kv_str(g, "#k", DYNAMODB_LEASE_KEY) < 0 ||
		aws_json_gen_kv_str(g, "#h", "holder") < 0 ||
		aws_json_gen_kv_str(g, "#v", "version") < 0 ||
		yajl_gen_map_close(g) != yajl_gen_status_ok)
		return -EINVAL;
	return 0;
}

/* The body of one write, after TableName; the names its expressions use are all declared. */
static int gen_write(yajl_gen g, const struct dynamodb_lease_write *w)
{
	const struct dynamodb_lease_item *it = w->item;
	int r = 0;

	switch (w->op) {
	case DYNAMODB_LEASE_CREATE:
		r = gen_item(g, w->name, it);
		if (r == 0)
			r = aws_json_gen_kv_str(g, "ConditionExpression",
				"attribute_not_exists(#k) AND attribute_not_exists(#h) AND "
				"attribute_not_exists(#v)");
		return r == 0 ? gen_names(g) : r;
	case DYNAMODB_LEASE_TAKE_OVER:
		r = gen_item(g, w->name, it);
		if (r == 0)
			r = aws_json_gen_kv_str(g, "ConditionExpression",
				"attribute_exists(#k) AND attribute_exists(#h) AND #v = :ev");
		break;
	case DYNAMODB_LEASE_RENEW:
		r = gen_key(g, w->name);
		if (r == 0)
			r = aws_json_gen_kv_str(g, "UpdateExpression",
				"SET #v = :nv, duration_ms = :d, renewed_at_ms = :r");
		if (r == 0)
			r = aws_json_gen_kv_str(g, "ConditionExpression",
				"attribute_exists(#k) AND #h = :eh AND #v = :ev");
		break;
	case DYNAMODB_LEASE_RELEASE:
		r = gen_key(g, w->name);
		if (r == 0)
			r = aws_json_gen_kv_str(g, "ConditionExpression",
				w->expect_version_alt != NULL
					? "attribute_exists(#k) AND #h = :eh AND (#v = :ev OR #v = "
					  ":av)"
					: "attribute_exists(#k) AND #h = :eh AND #v = :ev");
		break;
	}
	if (r == 0)
		r = gen_names(g);
	if (r == 0 &&
		(aws_json_gen_str(g, "ExpressionAttributeValues") < 0 ||
			yajl_gen_map_open(g) != yajl_gen_status_ok))
		r = -EINVAL;
	if (r == 0)
		r = gen_attr(g, ":ev", "S", w->expect_version);
	if (r == 0 && w->op != DYNAMODB_LEASE_TAKE_OVER)
		r = gen_attr(g, ":eh", "S", w->expect_holder);
	if (r == 0 && w->op == DYNAMODB_LEASE_RELEASE && w->expect_version_alt != NULL)
		r = gen_attr(g, ":av", "S", w->expect_version_alt);
	if (r == 0 && w->op == DYNAMODB_LEASE_RENEW) {
		r = gen_attr(g, ":nv", "S", it->version);
		if (r == 0)
			r = gen_attr_n(g, ":d", it->duration_ms);
		if (r == 0)
			r = gen_attr_n(g, ":r", it->renewed_at_ms);
	}
	if (r == 0 && yajl_gen_map_close(g) != yajl_gen_status_ok)
		r = -EINVAL;
	return r;
}

/* Whether a write names everything its operation needs. */
static bool write_valid(const struct dynamodb_lease_write *w)
{
	if (w == NULL || !id_valid(w->table) || !id_valid(w->name))
		return false;
	if (w->op != DYNAMODB_LEASE_RELEASE &&
		(w->item == NULL || !id_valid(w->item->holder) || !id_valid(w->item->version)))
		return false;
	if (w->op != DYNAMODB_LEASE_CREATE && !id_valid(w->expect_version))
		return false;
	if ((w->op == DYNAMODB_LEASE_RENEW || w->op == DYNAMODB_LEASE_RELEASE) &&
		!id_valid(w->expect_holder))
		return false;
	if (w->expect_version_alt != NULL && !id_valid(w->expect_version_alt))
		return false;
	return w->op >= DYNAMODB_LEASE_CREATE && w->op <= DYNAMODB_LEASE_RELEASE;
}

/* See dynamodb.h. */
int dynamodb_lease_write_request(
	const struct dynamodb_lease_write *w, const char **operation, char **out, size_t *out_len)
{
	static const char *const ops[] = {"PutItem", "PutItem", "UpdateItem", "DeleteItem"};

	if (!write_valid(w))
		return -EINVAL;
	yajl_gen g = begin(w->table);
	if (g == NULL)
		return -EINVAL;
	int r = end(g, gen_write(g, w), out, out_len);

	if (r == 0)
		*operation = ops[w->op];
	return r;
}

/* See dynamodb.h. */
int dynamodb_describe_table_request(const char *table, char **out, size_t *out_len)
{
	if (!id_valid(table))
		return -EINVAL;
	yajl_gen g = begin(table);

	return g == NULL ? -EINVAL : end(g, 0, out, out_len);
}

/* Copy a required string field into out, capped. */
static int copy_field(yajl_val obj, const char *key, char *out, size_t size, struct aws_error *diag)
{
	const char *text;
	int r = aws_json_string(obj, key, true, &text, diag);

	if (r < 0)
		return r;
	if (strlen(text) >= size)
		return aws_json_fail(diag, "field \"%s\" is longer than %zu", key, size - 1);
	memcpy(out, text, strlen(text) + 1);
	return 0;
}

/* The key schema and the attribute type of the partition key. */
static int read_keys(yajl_val table, struct dynamodb_table_info *info, struct aws_error *diag)
{
	yajl_val keys, defs;
	int r = aws_json_array(table, "KeySchema", true, 8, &keys, diag);

	if (r == 0)
		r = aws_json_array(table, "AttributeDefinitions", false, 64, &defs, diag);
	for (size_t i = 0; r == 0 && i < aws_json_len(keys); i++) {
		char type[16], name[sizeof(info->hash_key)];

		r = copy_field(aws_json_item(keys, i), "KeyType", type, sizeof(type), diag);
		if (r == 0)
			r = copy_field(
				aws_json_item(keys, i), "AttributeName", name, sizeof(name), diag);
		if (r == 0 && strcmp(type, "HASH") == 0)
			memcpy(info->hash_key, name, sizeof(name));
		else if (r == 0)
			info->has_range_key = true;
	}
	for (size_t i = 0; r == 0 && i < aws_json_len(defs); i++) {
		char name[sizeof(info->hash_key)];

		r = copy_field(aws_json_item(defs, i), "AttributeName", name, sizeof(name), diag);
		if (r == 0 && strcmp(name, info->hash_key) == 0)
			r = copy_field(aws_json_item(defs, i), "AttributeType", info->hash_type,
				sizeof(info->hash_type), diag);
	}
	return r;
}

/* See dynamodb.h. */
int dynamodb_describe_table_parse(
	const char *body, size_t len, struct dynamodb_table_info *out, struct aws_error *diag)
{
	yajl_val tree, table;
	struct dynamodb_table_info info = {0};
	int r = aws_json_parse(body, len, &tree, diag);

	if (r < 0)
		return r;
	r = aws_json_object(tree, "Table", true, &table, diag);
	if (r == 0)
		r = copy_field(table, "TableStatus", info.status, sizeof(info.status), diag);
	if (r == 0)
		r = read_keys(table, &info, diag);
	if (r == 0)
		*out = info;
	json_tree_free(tree);
	return r;
}

/* See dynamodb.h. */
bool dynamodb_table_fits_lease(const struct dynamodb_table_info *info)
{
	return strcmp(info->hash_key, DYNAMODB_LEASE_KEY) == 0 &&
		strcmp(info->hash_type, "S") == 0 && !info->has_range_key;
}
