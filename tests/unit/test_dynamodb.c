/*
 * Unit tests of the DynamoDB bodies of the HA lease (qscale/dynamodb.h): the
 * exact JSON of GetItem and of each conditional write, refusals of missing
 * pieces, and the strict parsers of GetItem and DescribeTable answers.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/dynamodb.h"

static const struct dynamodb_lease_item item = {
	.holder = "host-1",
	.version = "v2",
	.duration_ms = 20000,
	.renewed_at_ms = 1700000000000,
};

/* The body of w, compared with want. */
static void expect_write(const struct dynamodb_lease_write *w, const char *op, const char *want)
{
	const char *got_op;
	char *body;
	size_t len;

	assert_int_equal(dynamodb_lease_write_request(w, &got_op, &body, &len), 0);
	assert_string_equal(got_op, op);
	assert_string_equal(body, want);
	assert_int_equal(len, strlen(want));
	free(body);
}

static void test_get_request(void **state)
{
	char *body;
	size_t len;

	(void)state;
	assert_int_equal(dynamodb_get_lease_request("leases", "orders", &body, &len), 0);
	assert_string_equal(body,
		"{\"TableName\":\"leases\",\"Key\":{\"lease\":{\"S\":\"orders\"}},"
		"\"ConsistentRead\":true}");
	free(body);
	assert_int_equal(dynamodb_get_lease_request("", "orders", &body, &len), -EINVAL);
	assert_int_equal(dynamodb_get_lease_request("t", NULL, &body, &len), -EINVAL);
}

static void test_write_requests(void **state)
{
	(void)state;
	expect_write(
		&(struct dynamodb_lease_write){
			.op = DYNAMODB_LEASE_CREATE, .table = "t", .name = "q", .item = &item},
		"PutItem",
		"{\"TableName\":\"t\",\"Item\":{\"lease\":{\"S\":\"q\"},\"holder\":{\"S\":\"host-"
		"1\"},"
		"\"version\":{\"S\":\"v2\"},\"duration_ms\":{\"N\":\"20000\"},"
		"\"renewed_at_ms\":{\"N\":\"1700000000000\"}},"
		"\"ConditionExpression\":\"attribute_not_exists(#k) AND attribute_not_exists(#h) "
		"AND "
		"attribute_not_exists(#v)\","
		"\"ExpressionAttributeNames\":{\"#k\":\"lease\",\"#h\":\"holder\",\"#v\":"
		"\"version\"}}");
	expect_write(&(struct dynamodb_lease_write){.op = DYNAMODB_LEASE_TAKE_OVER,
			     .table = "t",
			     .name = "q",
			     .expect_version = "v1",
			     .item = &item},
		"PutItem",
		"{\"TableName\":\"t\",\"Item\":{\"lease\":{\"S\":\"q\"},\"holder\":{\"S\":\"host-"
		"1\"},"
		"\"version\":{\"S\":\"v2\"},\"duration_ms\":{\"N\":\"20000\"},"
		"\"renewed_at_ms\":{\"N\":\"1700000000000\"}},"
		"\"ConditionExpression\":\"attribute_exists(#k) AND attribute_exists(#h) AND #v = "
		":ev\","
		"\"ExpressionAttributeNames\":{\"#k\":\"lease\",\"#h\":\"holder\",\"#v\":"
		"\"version\"},"
		"\"ExpressionAttributeValues\":{\":ev\":{\"S\":\"v1\"}}}");
	expect_write(&(struct dynamodb_lease_write){.op = DYNAMODB_LEASE_RENEW,
			     .table = "t",
			     .name = "q",
			     .expect_version = "v1",
			     .expect_holder = "host-1",
			     .item = &item},
		"UpdateItem",
		"{\"TableName\":\"t\",\"Key\":{\"lease\":{\"S\":\"q\"}},"
		"\"UpdateExpression\":\"SET #v = :nv, duration_ms = :d, renewed_at_ms = :r\","
		"\"ConditionExpression\":\"attribute_exists(#k) AND #h = :eh AND #v = :ev\","
		"\"ExpressionAttributeNames\":{\"#k\":\"lease\",\"#h\":\"holder\",\"#v\":"
		"\"version\"},"
		"\"ExpressionAttributeValues\":{\":ev\":{\"S\":\"v1\"},\":eh\":{\"S\":\"host-1\"},"
		"\":nv\":{\"S\":\"v2\"},\":d\":{\"N\":\"20000\"},\":r\":{\"N\":\"1700000000000\"}}"
		"}");
	expect_write(&(struct dynamodb_lease_write){.op = DYNAMODB_LEASE_RELEASE,
			     .table = "t",
			     .name = "q",
			     .expect_version = "v2",
			     .expect_holder = "host-1"},
		"DeleteItem",
		"{\"TableName\":\"t\",\"Key\":{\"lease\":{\"S\":\"q\"}},"
		"\"ConditionExpression\":\"attribute_exists(#k) AND #h = :eh AND #v = :ev\","
		"\"ExpressionAttributeNames\":{\"#k\":\"lease\",\"#h\":\"holder\",\"#v\":"
		"\"version\"},"
		"\"ExpressionAttributeValues\":{\":ev\":{\"S\":\"v2\"},\":eh\":{\"S\":\"host-1\"}}"
		"}");
	/* A release while a renewal is in flight: either version of ours. */
	expect_write(&(struct dynamodb_lease_write){.op = DYNAMODB_LEASE_RELEASE,
			     .table = "t",
			     .name = "q",
			     .expect_version = "v2",
			     .expect_holder = "host-1",
			     .expect_version_alt = "v3"},
		"DeleteItem",
		"{\"TableName\":\"t\",\"Key\":{\"lease\":{\"S\":\"q\"}},"
		"\"ConditionExpression\":\"attribute_exists(#k) AND #h = :eh AND "
		"(#v = :ev OR #v = :av)\","
		"\"ExpressionAttributeNames\":{\"#k\":\"lease\",\"#h\":\"holder\",\"#v\":"
		"\"version\"},"
		"\"ExpressionAttributeValues\":{\":ev\":{\"S\":\"v2\"},\":eh\":{\"S\":\"host-1\"},"
		"\":av\":{\"S\":\"v3\"}}}");
}

static void test_write_refusals(void **state)
{
	const char *op;
	char *body;
	size_t len;
	struct dynamodb_lease_item empty = {0};

	(void)state;
	/* A takeover without the version seen, a renewal without holder, no item. */
	struct dynamodb_lease_write bad[] = {
		{.op = DYNAMODB_LEASE_TAKE_OVER, .table = "t", .name = "q", .item = &item},
		{.op = DYNAMODB_LEASE_RENEW,
			.table = "t",
			.name = "q",
			.expect_version = "v",
			.item = &item},
		{.op = DYNAMODB_LEASE_CREATE, .table = "t", .name = "q"},
		{.op = DYNAMODB_LEASE_CREATE, .table = "t", .name = "q", .item = &empty},
		{.op = DYNAMODB_LEASE_RELEASE, .table = "t", .name = "q", .expect_version = "v"},
		{.op = (enum dynamodb_lease_op)9, .table = "t", .name = "q", .item = &item},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(dynamodb_lease_write_request(&bad[i], &op, &body, &len), -EINVAL);
	assert_int_equal(dynamodb_lease_write_request(NULL, &op, &body, &len), -EINVAL);
}

/* Parse a GetItem answer. */
static int get(const char *body, bool *found, struct dynamodb_lease_item *out)
{
	struct aws_error diag = {0};

	return dynamodb_get_lease_parse(body, strlen(body), found, out, &diag);
}

static void test_get_parse(void **state)
{
	struct dynamodb_lease_item it;
	bool found = true;
	char *longer;

	(void)state;
	assert_int_equal(get("{}", &found, &it), 0);
	assert_false(found);
	assert_int_equal(get("{\"Item\":{\"lease\":{\"S\":\"q\"},\"holder\":{\"S\":\"h\"},"
			     "\"version\":{\"S\":\"v\"},\"duration_ms\":{\"N\":\"3000\"}}}",
				 &found, &it),
		0);
	assert_true(found);
	assert_string_equal(it.holder, "h");
	assert_string_equal(it.version, "v");
	assert_int_equal(it.duration_ms, 3000);
	assert_int_equal(it.renewed_at_ms, 0);
	/* Wrong types, missing pieces, junk numbers, error bodies. */
	assert_int_equal(get("{\"Item\":{\"holder\":{\"S\":\"h\"}}}", &found, &it), -EPROTO);
	assert_int_equal(
		get("{\"Item\":{\"holder\":{\"N\":\"1\"},\"version\":{\"S\":\"v\"}}}", &found, &it),
		-EPROTO);
	assert_int_equal(
		get("{\"Item\":{\"holder\":{\"S\":\"\"},\"version\":{\"S\":\"v\"}}}", &found, &it),
		-EPROTO);
	assert_int_equal(get("{\"Item\":{\"holder\":{\"S\":\"h\"},\"version\":{\"S\":\"v\"},"
			     "\"duration_ms\":{\"N\":\"-1\"}}}",
				 &found, &it),
		-EPROTO);
	assert_int_equal(get("{\"Item\":[]}", &found, &it), -EPROTO);
	assert_int_equal(get("{\"__type\":\"x#ResourceNotFoundException\"}", &found, &it), -EPROTO);
	assert_int_equal(get("not json", &found, &it), -EPROTO);
	longer = malloc(400);
	memset(longer, 'x', 399);
	longer[399] = '\0';
	char body[600];
	snprintf(body, sizeof(body),
		"{\"Item\":{\"holder\":{\"S\":\"%s\"},\"version\":{\"S\":\"v\"}}}", longer);
	assert_int_equal(get(body, &found, &it), -EPROTO);
	free(longer);
}

static void test_describe_table(void **state)
{
	struct dynamodb_table_info info;
	struct aws_error diag;
	const char *good = "{\"Table\":{\"TableName\":\"t\",\"TableStatus\":\"ACTIVE\","
			   "\"KeySchema\":[{\"AttributeName\":\"lease\",\"KeyType\":\"HASH\"}],"
			   "\"AttributeDefinitions\":[{\"AttributeName\":\"lease\","
			   "\"AttributeType\":\"S\"}]}}";
	const char *ranged = "{\"Table\":{\"TableStatus\":\"ACTIVE\","
			     "\"KeySchema\":[{\"AttributeName\":\"lease\",\"KeyType\":\"HASH\"},"
			     "{\"AttributeName\":\"at\",\"KeyType\":\"RANGE\"}],"
			     "\"AttributeDefinitions\":[{\"AttributeName\":\"lease\","
			     "\"AttributeType\":\"S\"},{\"AttributeName\":\"at\","
			     "\"AttributeType\":\"N\"}]}}";
	const char *number = "{\"Table\":{\"TableStatus\":\"CREATING\","
			     "\"KeySchema\":[{\"AttributeName\":\"lease\",\"KeyType\":\"HASH\"}],"
			     "\"AttributeDefinitions\":[{\"AttributeName\":\"lease\","
			     "\"AttributeType\":\"N\"}]}}";
	char *body;
	size_t len;

	(void)state;
	assert_int_equal(dynamodb_describe_table_request("t", &body, &len), 0);
	assert_string_equal(body, "{\"TableName\":\"t\"}");
	free(body);
	assert_int_equal(dynamodb_describe_table_parse(good, strlen(good), &info, &diag), 0);
	assert_string_equal(info.status, "ACTIVE");
	assert_true(dynamodb_table_fits_lease(&info));
	assert_int_equal(dynamodb_describe_table_parse(ranged, strlen(ranged), &info, &diag), 0);
	assert_true(info.has_range_key);
	assert_false(dynamodb_table_fits_lease(&info));
	assert_int_equal(dynamodb_describe_table_parse(number, strlen(number), &info, &diag), 0);
	assert_string_equal(info.hash_type, "N");
	assert_false(dynamodb_table_fits_lease(&info));
	assert_int_equal(
		dynamodb_describe_table_parse("{\"Table\":{}}", 12, &info, &diag), -EPROTO);
	assert_int_equal(dynamodb_describe_table_parse("{}", 2, &info, &diag), -EPROTO);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_get_request),
		cmocka_unit_test(test_write_requests),
		cmocka_unit_test(test_write_refusals),
		cmocka_unit_test(test_get_parse),
		cmocka_unit_test(test_describe_table),
	};

	return cmocka_run_group_tests_name("dynamodb", tests, NULL, NULL);
}
