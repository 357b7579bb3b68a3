/*
 * Unit tests of the retry arithmetic: backoff with a fixed random value,
 * server hints, the retry quota, max attempts and clock-skew offsets.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/aws_retry.h"

static const struct {
	int retry_index;
	bool throttling;
	double rand01;
	const char *amz_hint;
	const char *hint;
	uint64_t expected_ms;
} delay_cases[] = {
	{0, false, 0.5, NULL, NULL, 25},
	{1, false, 0.5, NULL, NULL, 50},
	{2, false, 0.5, NULL, NULL, 100},
	{0, false, 0.0, NULL, NULL, 0},
	{0, false, 0.999, NULL, NULL, 49},
	{0, true, 0.5, NULL, NULL, 500},
	{1, true, 0.5, NULL, NULL, 1000},
	{4, true, 0.5, NULL, NULL, 8000},
	{5, true, 0.5, NULL, NULL, 10000}, /* 32 s capped at 20 s */
	{10, false, 0.5, NULL, NULL, 10000}, /* 51.2 s capped */
	{40, false, 0.5, NULL, NULL, 10000}, /* no shift overflow */
	{-1, false, 0.5, NULL, NULL, 25},
	{0, false, 1.5, NULL, NULL, 0}, /* out-of-range random treated as 0 */
	/* x-amz-retry-after: max(t, min(hint, t + 5 s)) */
	{0, false, 0.5, "3000", NULL, 3000},
	{0, false, 0.5, "9000", NULL, 5025},
	{0, false, 0.5, "10", NULL, 25},
	{0, false, 0.5, "junk", NULL, 25},
	{0, false, 0.5, "-5", NULL, 25},
	/* Retry-After seconds, used only without x-amz-retry-after */
	{0, false, 0.5, NULL, "2", 2000},
	{0, false, 0.5, "100", "2", 100},
	{0, false, 0.5, NULL, "Wed, 21 Oct 2015 07:28:00 GMT", 25},
};

static void test_delay_table(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(delay_cases) / sizeof(delay_cases[0]); i++) {
		uint64_t got = aws_retry_delay_ms(delay_cases[i].retry_index,
			delay_cases[i].throttling, delay_cases[i].rand01, delay_cases[i].amz_hint,
			delay_cases[i].hint);
		if (got != delay_cases[i].expected_ms)
			fail_msg("case %zu: %llu ms, expected %llu", i, (unsigned long long)got,
				(unsigned long long)delay_cases[i].expected_ms);
	}
}

static void test_quota(void **state)
{
	struct aws_retry_quota q;

	(void)state;
	aws_retry_quota_init(&q);
	assert_int_equal(q.tokens, 500);
	assert_int_equal(aws_retry_quota_acquire(&q, false), 14);
	assert_int_equal(q.tokens, 486);
	assert_int_equal(aws_retry_quota_acquire(&q, true), 5);
	assert_int_equal(q.tokens, 481);
	/* Success after retries refunds what they took. */
	aws_retry_quota_release(&q, 19);
	assert_int_equal(q.tokens, 500);
	/* First-try success adds one, never past the maximum. */
	aws_retry_quota_release(&q, 0);
	assert_int_equal(q.tokens, 500);
	/* Drain: 35 non-throttling retries leave 10, too few for another. */
	for (int i = 0; i < 35; i++)
		assert_int_equal(aws_retry_quota_acquire(&q, false), 14);
	assert_int_equal(q.tokens, 10);
	assert_int_equal(aws_retry_quota_acquire(&q, false), 0);
	assert_int_equal(q.tokens, 10);
	/* A throttling retry still fits. */
	assert_int_equal(aws_retry_quota_acquire(&q, true), 5);
	aws_retry_quota_release(&q, 0);
	assert_int_equal(q.tokens, 6);
}

static void test_max_attempts(void **state)
{
	(void)state;
	assert_int_equal(aws_retry_max_attempts(0, NULL), 3);
	assert_int_equal(aws_retry_max_attempts(0, "5"), 5);
	assert_int_equal(aws_retry_max_attempts(2, "5"), 2);
	assert_int_equal(aws_retry_max_attempts(0, "0"), 3);
	assert_int_equal(aws_retry_max_attempts(0, "x"), 3);
	assert_int_equal(aws_retry_max_attempts(0, "99"), 3);
	assert_int_equal(aws_retry_max_attempts(0, "4 "), 3);
}

static void test_clock_skew(void **state)
{
	int64_t off = 0;
	/* Thu, 26 Nov 2026 09:00:00 GMT */
	const uint64_t server_ms = 1795683600000ull;

	(void)state;
	assert_true(aws_clock_skew_from_response(
		"Thu, 26 Nov 2026 09:00:00 GMT", NULL, server_ms - 300000, 100, &off));
	assert_int_equal(off, 300000);
	assert_true(aws_clock_skew_from_response(
		"Thu, 26 Nov 2026 09:00:00 GMT", "", server_ms + 600000, 100, &off));
	assert_int_equal(off, -600000);
	/* Sub-second differences are Date's rounding, not skew. */
	assert_true(aws_clock_skew_from_response(
		"Thu, 26 Nov 2026 09:00:00 GMT", NULL, server_ms + 400, 100, &off));
	assert_int_equal(off, 0);
	off = 77;
	assert_false(aws_clock_skew_from_response(
		"Thu, 26 Nov 2026 09:00:00 GMT", "12", server_ms, 100, &off));
	assert_false(aws_clock_skew_from_response(
		"Thu, 26 Nov 2026 09:00:00 GMT", NULL, server_ms, 16 * 60 * 1000, &off));
	assert_false(aws_clock_skew_from_response("yesterday", NULL, server_ms, 1, &off));
	assert_false(aws_clock_skew_from_response(NULL, NULL, server_ms, 1, &off));
	assert_false(aws_clock_skew_from_response("", NULL, server_ms, 1, &off));
	assert_int_equal(off, 77);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delay_table),
		cmocka_unit_test(test_quota),
		cmocka_unit_test(test_max_attempts),
		cmocka_unit_test(test_clock_skew),
	};

	return cmocka_run_group_tests_name("aws_retry", tests, NULL, NULL);
}
