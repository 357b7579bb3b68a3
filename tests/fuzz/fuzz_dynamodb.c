/*
 * libFuzzer target for the DynamoDB answers of the HA lease: the GetItem
 * parser (a lease record, or none) and the DescribeTable parser. Whatever
 * they accept must be a record the lease can use: ids within their caps,
 * NUL-terminated, non-negative numbers.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/dynamodb.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	struct dynamodb_lease_item item;
	struct dynamodb_table_info info;
	struct aws_error diag;
	bool found = false;

	if (dynamodb_get_lease_parse(text, size, &found, &item, &diag) == 0 && found &&
		(strlen(item.holder) == 0 || strlen(item.holder) > DYNAMODB_ID_MAX ||
			strlen(item.version) == 0 || item.duration_ms < 0 ||
			item.renewed_at_ms < 0))
		abort();
	if (dynamodb_describe_table_parse(text, size, &info, &diag) == 0) {
		if (strlen(info.status) >= sizeof(info.status) ||
			strlen(info.hash_key) >= sizeof(info.hash_key))
			abort();
		(void)dynamodb_table_fits_lease(&info);
	}
	return 0;
}
