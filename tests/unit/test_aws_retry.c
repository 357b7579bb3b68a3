/*
 * Unit tests of the retry arithmetic: backoff with a fixed random value,
 * server hints, the retry quota, legacy backoff, the adaptive rate limiter
 * and clock-skew offsets.
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

static void test_legacy_delay(void **state)
{
	(void)state;
	/* rand x 2^i seconds: botocore's legacy "exponential, base rand". */
	assert_int_equal(aws_retry_legacy_delay_ms(0, 0.5), 500);
	assert_int_equal(aws_retry_legacy_delay_ms(1, 0.5), 1000);
	assert_int_equal(aws_retry_legacy_delay_ms(3, 0.5), 4000);
	/* Capped at 20 s like standard, however many attempts are allowed. */
	assert_int_equal(aws_retry_legacy_delay_ms(24, 0.999), 19980);
	assert_int_equal(aws_retry_legacy_delay_ms(100, 0.5), 10000);
	/* Bad random values and indexes do not escape the range. */
	assert_int_equal(aws_retry_legacy_delay_ms(-3, 0.5), 500);
	assert_int_equal(aws_retry_legacy_delay_ms(2, 1.5), 0);
	assert_int_equal(aws_retry_legacy_delay_ms(2, -0.1), 0);
}

/* Answer n attempts, spaced gap_s apart from *t, all throttled or all not. */
static void feed(struct aws_adaptive *a, double *t, int n, double gap_s, bool throttled)
{
	for (int i = 0; i < n; i++) {
		*t += gap_s;
		aws_adaptive_on_response(a, *t, throttled);
	}
}

static void test_adaptive(void **state)
{
	struct aws_adaptive a;
	double t = 1000.0;

	(void)state;
	aws_adaptive_init(&a, t);
	/* Off until the first throttling answer: nothing is ever delayed. */
	feed(&a, &t, 200, 0.01, false);
	assert_false(a.enabled);
	for (int i = 0; i < 50; i++)
		assert_int_equal(aws_adaptive_acquire(&a, t), 0);
	/* 100 attempts a second measured, then throttled: the rate drops to 0.7 x. */
	double measured = a.measured_rate;
	assert_true(measured > 50.0 && measured <= 100.0);
	t += 0.01;
	aws_adaptive_on_response(&a, t, true);
	assert_true(a.enabled);
	assert_true(a.fill_rate < measured);
	assert_true(a.fill_rate > 0.5 * measured);
	double cut = a.fill_rate;
	/* A burst now waits: the bucket holds at most one second's worth. */
	int taken = 0;
	uint64_t wait = 0;
	for (int i = 0; i < 1000 && wait == 0; i++) {
		wait = aws_adaptive_acquire(&a, t);
		if (wait == 0)
			taken++;
	}
	assert_true(taken <= (int)cut + 1);
	assert_true(wait > 0 && wait <= 1000);
	/* Repeated throttling keeps cutting, never below the 0.5/s floor. */
	feed(&a, &t, 400, 0.5, true);
	assert_true(a.fill_rate >= 0.5);
	assert_true(a.fill_rate < cut);
	uint64_t slow = aws_adaptive_acquire(&a, t);
	while (slow == 0)
		slow = aws_adaptive_acquire(&a, t);
	assert_true(slow <= 2000);
	/* Successes let it grow back along the cubic, bounded by 2 x measured. */
	double low = a.fill_rate;
	feed(&a, &t, 600, 0.05, false);
	assert_true(a.fill_rate > low);
	assert_true(a.fill_rate <= 2.0 * a.measured_rate + 1e-9 || a.fill_rate == 0.5);
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
		cmocka_unit_test(test_legacy_delay),
		cmocka_unit_test(test_adaptive),
		cmocka_unit_test(test_clock_skew),
	};

	return cmocka_run_group_tests_name("aws_retry", tests, NULL, NULL);
}
