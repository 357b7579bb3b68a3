/*
 * Unit tests of the metrics registry: exact Prometheus text for counters,
 * gauges and histograms, escaping, ordering, the series cap, and rejection of
 * bad names, labels, bounds and values.
 */
#include <errno.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/buf.h"
#include "qscale/metrics.h"

/* Render m and compare with the expected text. */
static void assert_render(const struct metrics *m, const char *expected)
{
	struct buf b;

	buf_init(&b, 1 << 20);
	assert_int_equal(metrics_render(m, &b), 0);
	assert_string_equal(buf_cstr(&b), expected);
	buf_finish(&b);
}

static void test_counter_gauge_text(void **state)
{
	static const char *const labels[] = {"policy", "outcome", NULL};
	struct metrics *m = metrics_create(0);
	struct metrics_family *cycles, *up, *tasks;

	(void)state;
	assert_int_equal(metrics_register(m, METRICS_COUNTER, "qscale_cycles_total",
				 "Control cycles run.", labels, NULL, 0, &cycles),
		0);
	assert_int_equal(metrics_register(m, METRICS_GAUGE, "qscale_up", "1 while running.", NULL,
				 NULL, 0, &up),
		0);
	assert_int_equal(
		metrics_register(m, METRICS_GAUGE, "qscale_desired_tasks", "Desired tasks.",
			(const char *const[]){"policy", NULL}, NULL, 0, &tasks),
		0);
	assert_render(m,
		"# HELP qscale_cycles_total Control cycles run.\n"
		"# TYPE qscale_cycles_total counter\n"
		"# HELP qscale_desired_tasks Desired tasks.\n"
		"# TYPE qscale_desired_tasks gauge\n"
		"# HELP qscale_up 1 while running.\n"
		"# TYPE qscale_up gauge\n"
		"qscale_up 0\n");

	assert_int_equal(metrics_counter_add(cycles, (const char *const[]){"orders", "ok"}, 1), 0);
	assert_int_equal(metrics_counter_add(cycles, (const char *const[]){"billing", "ok"}, 2), 0);
	assert_int_equal(
		metrics_counter_add(cycles, (const char *const[]){"orders", "error"}, 1), 0);
	assert_int_equal(metrics_counter_add(cycles, (const char *const[]){"orders", "ok"}, 1), 0);
	assert_int_equal(metrics_gauge_set(up, NULL, 1), 0);
	assert_int_equal(metrics_gauge_set(tasks, (const char *const[]){"orders"}, 12), 0);
	assert_int_equal(metrics_gauge_add(tasks, (const char *const[]){"orders"}, -0.5), 0);
	assert_int_equal(metrics_gauge_set(tasks, (const char *const[]){"a"}, 1e21), 0);
	assert_render(m,
		"# HELP qscale_cycles_total Control cycles run.\n"
		"# TYPE qscale_cycles_total counter\n"
		"qscale_cycles_total{policy=\"billing\",outcome=\"ok\"} 2\n"
		"qscale_cycles_total{policy=\"orders\",outcome=\"error\"} 1\n"
		"qscale_cycles_total{policy=\"orders\",outcome=\"ok\"} 2\n"
		"# HELP qscale_desired_tasks Desired tasks.\n"
		"# TYPE qscale_desired_tasks gauge\n"
		"qscale_desired_tasks{policy=\"a\"} 1e+21\n"
		"qscale_desired_tasks{policy=\"orders\"} 11.5\n"
		"# HELP qscale_up 1 while running.\n"
		"# TYPE qscale_up gauge\n"
		"qscale_up 1\n");
	metrics_destroy(m);
}

static void test_escaping_and_values(void **state)
{
	struct metrics *m = metrics_create(0);
	struct metrics_family *f;

	(void)state;
	assert_int_equal(metrics_register(m, METRICS_GAUGE, "x", "back\\slash \"q\"\nnext",
				 (const char *const[]){"reason", NULL}, NULL, 0, &f),
		0);
	assert_int_equal(metrics_gauge_set(f, (const char *const[]){"a\\b \"c\"\nd"}, 0.1), 0);
	assert_int_equal(metrics_gauge_set(f, (const char *const[]){""}, INFINITY), 0);
	assert_int_equal(metrics_gauge_set(f, (const char *const[]){"neg"}, -INFINITY), 0);
	assert_int_equal(metrics_gauge_set(f, (const char *const[]){"third"}, 1.0 / 3), 0);
	/* Seconds to the millisecond, whole numbers, a negative zero: as "%.15g" writes them. */
	assert_int_equal(metrics_gauge_set(f, (const char *const[]){"wall"}, 1796194045.12), 0);
	assert_int_equal(metrics_gauge_set(f, (const char *const[]){"ms"}, -0.005), 0);
	assert_int_equal(metrics_gauge_set(f, (const char *const[]){"big"}, 999999999999999.0), 0);
	assert_int_equal(metrics_gauge_set(f, (const char *const[]){"zero"}, -0.0), 0);
	assert_render(m,
		"# HELP x back\\\\slash \"q\"\\nnext\n"
		"# TYPE x gauge\n"
		"x{reason=\"\"} +Inf\n"
		"x{reason=\"a\\\\b \\\"c\\\"\\nd\"} 0.1\n"
		"x{reason=\"big\"} 999999999999999\n"
		"x{reason=\"ms\"} -0.005\n"
		"x{reason=\"neg\"} -Inf\n"
		"x{reason=\"third\"} 0.33333333333333331\n"
		"x{reason=\"wall\"} 1796194045.12\n"
		"x{reason=\"zero\"} -0\n");
	metrics_destroy(m);
}

static void test_histogram_text(void **state)
{
	static const double bounds[] = {0.125, 0.5, 2.5};
	struct metrics *m = metrics_create(0);
	struct metrics_family *h, *plain;
	const char *const v[] = {"sqs", "GetQueueAttributes"};

	(void)state;
	assert_int_equal(
		metrics_register(m, METRICS_HISTOGRAM, "qscale_aws_seconds", "AWS call latency.",
			(const char *const[]){"service", "action", NULL}, bounds, 3, &h),
		0);
	assert_int_equal(metrics_register(m, METRICS_HISTOGRAM, "b_seconds", "B.", NULL,
				 metrics_latency_buckets_s, metrics_latency_buckets_count, &plain),
		0);
	assert_int_equal(metrics_histogram_observe(h, v, 0.0625), 0);
	assert_int_equal(metrics_histogram_observe(h, v, 0.125), 0);
	assert_int_equal(metrics_histogram_observe(h, v, 1), 0);
	assert_int_equal(metrics_histogram_observe(h, v, 7.25), 0);
	assert_int_equal(metrics_histogram_observe(plain, NULL, 0.02), 0);
	assert_render(m,
		"# HELP b_seconds B.\n"
		"# TYPE b_seconds histogram\n"
		"b_seconds_bucket{le=\"0.005\"} 0\n"
		"b_seconds_bucket{le=\"0.01\"} 0\n"
		"b_seconds_bucket{le=\"0.025\"} 1\n"
		"b_seconds_bucket{le=\"0.05\"} 1\n"
		"b_seconds_bucket{le=\"0.1\"} 1\n"
		"b_seconds_bucket{le=\"0.25\"} 1\n"
		"b_seconds_bucket{le=\"0.5\"} 1\n"
		"b_seconds_bucket{le=\"1\"} 1\n"
		"b_seconds_bucket{le=\"2.5\"} 1\n"
		"b_seconds_bucket{le=\"5\"} 1\n"
		"b_seconds_bucket{le=\"10\"} 1\n"
		"b_seconds_bucket{le=\"30\"} 1\n"
		"b_seconds_bucket{le=\"+Inf\"} 1\n"
		"b_seconds_sum 0.02\n"
		"b_seconds_count 1\n"
		"# HELP qscale_aws_seconds AWS call latency.\n"
		"# TYPE qscale_aws_seconds histogram\n"
		"qscale_aws_seconds_bucket{service=\"sqs\",action=\"GetQueueAttributes\","
		"le=\"0.125\"} 2\n"
		"qscale_aws_seconds_bucket{service=\"sqs\",action=\"GetQueueAttributes\","
		"le=\"0.5\"} 2\n"
		"qscale_aws_seconds_bucket{service=\"sqs\",action=\"GetQueueAttributes\","
		"le=\"2.5\"} 3\n"
		"qscale_aws_seconds_bucket{service=\"sqs\",action=\"GetQueueAttributes\","
		"le=\"+Inf\"} 4\n"
		"qscale_aws_seconds_sum{service=\"sqs\",action=\"GetQueueAttributes\"} 8.4375\n"
		"qscale_aws_seconds_count{service=\"sqs\",action=\"GetQueueAttributes\"} 4\n");
	metrics_destroy(m);
}

static void test_cap_and_forget(void **state)
{
	struct metrics *m = metrics_create(3);
	struct metrics_family *f;
	const char *const labels[] = {"policy", "reason", NULL};

	(void)state;
	assert_int_equal(
		metrics_register(m, METRICS_COUNTER, "c_total", "C.", labels, NULL, 0, &f), 0);
	assert_int_equal(metrics_counter_add(f, (const char *const[]){"p1", "a"}, 1), 0);
	assert_int_equal(metrics_counter_add(f, (const char *const[]){"p2", "a"}, 1), 0);
	assert_int_equal(metrics_counter_add(f, (const char *const[]){"p1", "b"}, 1), 0);
	assert_int_equal(metrics_counter_add(f, (const char *const[]){"p3", "a"}, 1), -E2BIG);
	assert_int_equal(metrics_counter_add(f, (const char *const[]){"p3", "b"}, 1), -E2BIG);
	/* existing series still count when the family is full */
	assert_int_equal(metrics_counter_add(f, (const char *const[]){"p2", "a"}, 1), 0);
	assert_true(metrics_family_dropped(f) == 2);
	assert_render(m,
		"# HELP c_total C.\n"
		"# TYPE c_total counter\n"
		"c_total{policy=\"p1\",reason=\"a\"} 1\n"
		"c_total{policy=\"p1\",reason=\"b\"} 1\n"
		"c_total{policy=\"p2\",reason=\"a\"} 2\n");
	assert_int_equal(metrics_family_forget(f, "policy", "p1"), 2);
	assert_int_equal(metrics_family_forget(f, "nope", "p1"), -EINVAL);
	assert_int_equal(metrics_counter_add(f, (const char *const[]){"p0", "a"}, 3), 0);
	assert_render(m,
		"# HELP c_total C.\n"
		"# TYPE c_total counter\n"
		"c_total{policy=\"p0\",reason=\"a\"} 3\n"
		"c_total{policy=\"p2\",reason=\"a\"} 2\n");
	metrics_family_clear(f);
	assert_render(m, "# HELP c_total C.\n# TYPE c_total counter\n");
	metrics_destroy(m);
}

static void test_rejects(void **state)
{
	static const double good_bounds[] = {1, 2};
	static const double bad_bounds[] = {2, 1};
	static const double nan_bounds[] = {1, NAN};
	struct metrics *m = metrics_create(0);
	struct metrics_family *f = NULL, *g = NULL, *h = NULL;
	char long_value[METRICS_LABEL_VALUE_MAX + 2];

	(void)state;
	static const char *const bad_names[] = {"", "1abc", "a-b", "a b", "é"};
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		assert_int_equal(
			metrics_register(m, METRICS_GAUGE, bad_names[i], "h", NULL, NULL, 0, &f),
			-EINVAL);
	assert_int_equal(
		metrics_register(m, METRICS_GAUGE, "a", "bad \xff help", NULL, NULL, 0, &f),
		-EINVAL);
	assert_int_equal(metrics_register(m, METRICS_GAUGE, "a", "h",
				 (const char *const[]){"__x", NULL}, NULL, 0, &f),
		-EINVAL);
	assert_int_equal(metrics_register(m, METRICS_GAUGE, "a", "h",
				 (const char *const[]){"a:b", NULL}, NULL, 0, &f),
		-EINVAL);
	assert_int_equal(metrics_register(m, METRICS_GAUGE, "a", "h",
				 (const char *const[]){"x", "x", NULL}, NULL, 0, &f),
		-EINVAL);
	assert_int_equal(metrics_register(m, METRICS_HISTOGRAM, "a", "h",
				 (const char *const[]){"le", NULL}, good_bounds, 2, &f),
		-EINVAL);
	assert_int_equal(
		metrics_register(m, METRICS_HISTOGRAM, "a", "h", NULL, bad_bounds, 2, &f), -EINVAL);
	assert_int_equal(
		metrics_register(m, METRICS_HISTOGRAM, "a", "h", NULL, nan_bounds, 2, &f), -EINVAL);
	assert_int_equal(
		metrics_register(m, METRICS_HISTOGRAM, "a", "h", NULL, NULL, 0, &f), -EINVAL);
	assert_int_equal(
		metrics_register(m, METRICS_GAUGE, "a", "h", NULL, good_bounds, 2, &f), -EINVAL);
	assert_null(f);

	assert_int_equal(metrics_register(m, METRICS_COUNTER, "ns:a_total", "h",
				 (const char *const[]){"k", NULL}, NULL, 0, &f),
		0);
	assert_int_equal(
		metrics_register(m, METRICS_GAUGE, "ns:a_total", "h", NULL, NULL, 0, &g), -EEXIST);
	assert_int_equal(metrics_register(m, METRICS_GAUGE, "g", "h", NULL, NULL, 0, &g), 0);
	assert_int_equal(
		metrics_register(m, METRICS_HISTOGRAM, "h", "h", NULL, good_bounds, 2, &h), 0);
	assert_int_equal(metrics_counter_add(f, (const char *const[]){"v"}, -1), -EINVAL);
	assert_int_equal(metrics_counter_add(f, (const char *const[]){"v"}, NAN), -EINVAL);
	assert_int_equal(metrics_counter_add(f, (const char *const[]){NULL}, 1), -EINVAL);
	assert_int_equal(metrics_counter_add(f, NULL, 1), -EINVAL);
	memset(long_value, 'x', sizeof(long_value) - 1);
	long_value[sizeof(long_value) - 1] = '\0';
	assert_int_equal(metrics_counter_add(f, (const char *const[]){long_value}, 1), -EINVAL);
	assert_int_equal(metrics_gauge_set(f, (const char *const[]){"v"}, 1), -EINVAL);
	static const char *const bad_utf8[] = {"\xff", "a\xc3", "\xc0\xaf", "\xe0\x80\xaf",
		"\xed\xa0\x80", "\xf4\x90\x80\x80", "\x80"};
	for (size_t i = 0; i < sizeof(bad_utf8) / sizeof(bad_utf8[0]); i++)
		assert_int_equal(
			metrics_counter_add(f, (const char *const[]){bad_utf8[i]}, 1), -EINVAL);
	assert_int_equal(
		metrics_counter_add(f, (const char *const[]){"d\xc3\xa9p\xf0\x9f\x98\x80"}, 1), 0);
	assert_int_equal(metrics_histogram_observe(g, NULL, 1), -EINVAL);
	assert_int_equal(metrics_gauge_set(g, NULL, NAN), -EINVAL);
	assert_int_equal(metrics_histogram_observe(h, NULL, NAN), -EINVAL);
	assert_render(m,
		"# HELP g h\n# TYPE g gauge\ng 0\n"
		"# HELP h h\n# TYPE h histogram\n"
		"h_bucket{le=\"1\"} 0\nh_bucket{le=\"2\"} 0\nh_bucket{le=\"+Inf\"} 0\n"
		"h_sum 0\nh_count 0\n"
		"# HELP ns:a_total h\n# TYPE ns:a_total counter\n"
		"ns:a_total{k=\"d\xc3\xa9p\xf0\x9f\x98\x80\"} 1\n");
	metrics_destroy(m);
	metrics_destroy(NULL);
}

static void test_render_cap(void **state)
{
	struct metrics *m = metrics_create(0);
	struct metrics_family *f;
	struct buf b;

	(void)state;
	assert_int_equal(
		metrics_register(m, METRICS_GAUGE, "a_long_metric_name", "help", NULL, NULL, 0, &f),
		0);
	buf_init(&b, 20);
	assert_int_equal(metrics_render(m, &b), -E2BIG);
	buf_finish(&b);
	metrics_destroy(m);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_counter_gauge_text),
		cmocka_unit_test(test_escaping_and_values),
		cmocka_unit_test(test_histogram_text),
		cmocka_unit_test(test_cap_and_forget),
		cmocka_unit_test(test_rejects),
		cmocka_unit_test(test_render_cap),
	};

	return cmocka_run_group_tests_name("metrics", tests, NULL, NULL);
}
