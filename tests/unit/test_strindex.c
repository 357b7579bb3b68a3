/*
 * The string index (strindex.h): numbers in the order first added, the same
 * number for a key added again, lookups of absent keys, growth past many
 * table sizes, and keys that only differ late or are empty.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/strindex.h"

/* Numbers are dense and in first-seen order; a repeat keeps its number. */
static void test_strindex_numbers(void **state)
{
	struct strindex ix;
	size_t n = 99;

	(void)state;
	strindex_init(&ix);
	assert_false(strindex_find(&ix, "a", &n));
	assert_int_equal(n, 99);
	assert_int_equal(strindex_count(&ix), 0);
	assert_int_equal(strindex_add(&ix, "orders"), 0);
	assert_int_equal(strindex_add(&ix, "billing"), 1);
	assert_int_equal(strindex_add(&ix, "orders"), 0);
	assert_int_equal(strindex_add(&ix, ""), 2);
	assert_int_equal(strindex_add(&ix, ""), 2);
	assert_int_equal(strindex_count(&ix), 3);
	assert_true(strindex_find(&ix, "billing", &n));
	assert_int_equal(n, 1);
	assert_true(strindex_find(&ix, "", &n));
	assert_int_equal(n, 2);
	assert_false(strindex_find(&ix, "order", &n));
	assert_false(strindex_find(&ix, "orders ", &n));
	assert_string_equal(strindex_key(&ix, 1), "billing");
	assert_null(strindex_key(&ix, 3));
	strindex_finish(&ix);
	assert_int_equal(strindex_count(&ix), 0);
	assert_false(strindex_find(&ix, "orders", &n));
	strindex_finish(&ix); /* twice is harmless */
}

/* Thousands of keys that share long prefixes: every one found, none confused. */
static void test_strindex_many(void **state)
{
	struct strindex ix;
	char key[96];
	size_t n;

	(void)state;
	strindex_init(&ix);
	for (size_t i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "https://sqs.us-east-1.amazonaws.com/123456789012/q%zu",
			i);
		assert_int_equal(strindex_add(&ix, key), i);
	}
	for (size_t i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "https://sqs.us-east-1.amazonaws.com/123456789012/q%zu",
			i);
		assert_true(strindex_find(&ix, key, &n));
		assert_int_equal(n, i);
		assert_int_equal(strindex_add(&ix, key), i);
		assert_string_equal(strindex_key(&ix, i), key);
	}
	assert_false(
		strindex_find(&ix, "https://sqs.us-east-1.amazonaws.com/123456789012/q5000", &n));
	assert_int_equal(strindex_count(&ix), 5000);
	strindex_finish(&ix);
}

/* A key is copied: changing the caller's buffer changes nothing. */
static void test_strindex_copies(void **state)
{
	struct strindex ix;
	char key[16] = "cluster-a";
	size_t n;

	(void)state;
	strindex_init(&ix);
	assert_int_equal(strindex_add(&ix, key), 0);
	key[8] = 'b';
	assert_false(strindex_find(&ix, key, &n));
	assert_true(strindex_find(&ix, "cluster-a", &n));
	assert_int_equal(strindex_add(&ix, key), 1);
	strindex_finish(&ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strindex_numbers),
		cmocka_unit_test(test_strindex_many),
		cmocka_unit_test(test_strindex_copies),
	};

	return cmocka_run_group_tests_name("strindex", tests, NULL, NULL);
}
