/*
 * plan's rendering: the exact table and JSON for a scaling, a held and a
 * burst-less policy; rows taken from controller status; the exit status.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/controller.h"
#include "qscale/plan.h"
#include "qscale/policy.h"

static const struct plan_row rows[] = {
	{.name = "orders",
		.outcome = "scaled",
		.backlog = 1240,
		.local_desired = 8,
		.local_running = 8,
		.local_capacity = 12,
		.has_burst = true,
		.burst_desired = 0,
		.burst_running = 0,
		.local_set = 12,
		.burst_set = 13,
		.update_local = true,
		.update_burst = true,
		.reason = "wanted 25; local capacity 12, 13 to burst"},
	{.name = "invoices",
		.outcome = "held",
		.backlog = -1,
		.local_desired = 3,
		.local_running = 3,
		.local_capacity = -1,
		.has_burst = true,
		.burst_desired = -1,
		.burst_running = -1,
		.local_set = 3,
		.burst_set = 0,
		.reason = "holding",
		.error = "GetQueueAttributes: AccessDenied"},
	{.name = "mail",
		.outcome = "unchanged",
		.backlog = 0,
		.local_desired = 1,
		.local_running = 1,
		.local_capacity = 20,
		.has_burst = false,
		.local_set = 1,
		.reason = "at min 1"},
};

/* Render into a string with fn. */
static char *render(void (*fn)(const struct plan_row *, size_t, FILE *), size_t n)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	fn(rows, n, f);
	fclose(f);
	return text;
}

/* The table: columns sized to their contents, "-" for unknowns. */
static void test_table(void **state)
{
	static const char expected[] =
		"POLICY    OUTCOME      BACKLOG  LOCAL D/R/CAP  BURST D/R  WOULD SET               "
		"  WHY\n"
		"orders    would scale  1240     8/8/12         0/0        local 8->12, burst "
		"0->13  wanted 25; local capacity 12, 13 to burst\n"
		"invoices  held         -        3/3/-          -/-        hold                    "
		"  GetQueueAttributes: AccessDenied; holding\n"
		"mail      unchanged    0        1/1/20         -          local 1 (no change)     "
		"  at min 1\n";
	char *text = render(plan_render_table, 3);

	(void)state;
	assert_string_equal(text, expected);
	free(text);
}

/* No rows: the header alone. */
static void test_table_empty(void **state)
{
	char *text = render(plan_render_table, 0);

	(void)state;
	assert_string_equal(
		text, "POLICY  OUTCOME  BACKLOG  LOCAL D/R/CAP  BURST D/R  WOULD SET  WHY\n");
	free(text);
}

/* The JSON: null for unknowns and a missing burst, no "set" when held. */
static void test_json(void **state)
{
	static const char expected[] =
		"{\n"
		"  \"dry_run\": true,\n"
		"  \"policies\": [\n"
		"    {\n"
		"      \"name\": \"orders\",\n"
		"      \"outcome\": \"scaled\",\n"
		"      \"backlog\": 1240,\n"
		"      \"local\": {\n"
		"        \"desired\": 8,\n"
		"        \"running\": 8,\n"
		"        \"capacity\": 12,\n"
		"        \"set\": 12,\n"
		"        \"change\": true\n"
		"      },\n"
		"      \"burst\": {\n"
		"        \"desired\": 0,\n"
		"        \"running\": 0,\n"
		"        \"set\": 13,\n"
		"        \"change\": true\n"
		"      },\n"
		"      \"reason\": \"wanted 25; local capacity 12, 13 to burst\",\n"
		"      \"error\": null\n"
		"    },\n"
		"    {\n"
		"      \"name\": \"invoices\",\n"
		"      \"outcome\": \"held\",\n"
		"      \"backlog\": null,\n"
		"      \"local\": {\n"
		"        \"desired\": 3,\n"
		"        \"running\": 3,\n"
		"        \"capacity\": null,\n"
		"        \"set\": null,\n"
		"        \"change\": false\n"
		"      },\n"
		"      \"burst\": {\n"
		"        \"desired\": null,\n"
		"        \"running\": null,\n"
		"        \"set\": null,\n"
		"        \"change\": false\n"
		"      },\n"
		"      \"reason\": \"holding\",\n"
		"      \"error\": \"GetQueueAttributes: AccessDenied\"\n"
		"    },\n"
		"    {\n"
		"      \"name\": \"mail\",\n"
		"      \"outcome\": \"unchanged\",\n"
		"      \"backlog\": 0,\n"
		"      \"local\": {\n"
		"        \"desired\": 1,\n"
		"        \"running\": 1,\n"
		"        \"capacity\": 20,\n"
		"        \"set\": 1,\n"
		"        \"change\": false\n"
		"      },\n"
		"      \"burst\": null,\n"
		"      \"reason\": \"at min 1\",\n"
		"      \"error\": null\n"
		"    }\n"
		"  ]\n"
		"}\n";
	char *text = render(plan_render_json, 3);

	(void)state;
	assert_string_equal(text, expected);
	free(text);
}

/* Rows from controller status: observed counts, the decision, the error. */
static void test_row_from_status(void **state)
{
	char name[] = "orders";
	struct policy p = {.name = name};
	struct controller_policy_status st;
	struct plan_row row;

	(void)state;
	p.burst.present = true;
	memset(&st, 0, sizeof(st));
	st.policy = &p;
	st.has_decision = true;
	st.outcome = CONTROLLER_SCALED;
	st.observation.local = (struct engine_service_obs){.ok = true, .desired = 4, .running = 3};
	st.observation.burst = (struct engine_service_obs){.ok = false};
	st.local_running = 3;
	st.burst_running = -1;
	st.decision.backlog = 700;
	st.decision.local_desired = 12;
	st.decision.burst_desired = 2;
	st.decision.update_local = true;
	st.decision.local_capacity = 12;
	/* The reason is written from the decision's trace when read: here, a hold's. */
	st.decision.trace.flags = ENGINE_MISSING_DATA;
	st.decision.trace.read_local = 4;
	st.decision.trace.local = 4;
	st.decision.trace.missing[0] = "queue";
	st.decision.trace.n_missing = 1;
	plan_row_from_status(&st, &row);
	assert_string_equal(row.name, "orders");
	assert_string_equal(row.outcome, "scaled");
	assert_int_equal(row.backlog, 700);
	assert_int_equal(row.local_desired, 4);
	assert_int_equal(row.local_running, 3);
	assert_int_equal(row.local_capacity, 12);
	assert_true(row.has_burst);
	assert_int_equal(row.burst_desired, -1);
	assert_int_equal(row.local_set, 12);
	assert_int_equal(row.burst_set, 2);
	assert_true(row.update_local);
	assert_false(row.update_burst);
	assert_string_equal(row.reason, "holding local 4: missing data (queue)");
	assert_null(row.error);

	/* Held: the capacity is unknown and the error is kept. */
	st.outcome = CONTROLLER_HELD;
	st.decision.flags = ENGINE_MISSING_DATA;
	snprintf(st.last_error, sizeof(st.last_error), "DescribeServices: boom");
	plan_row_from_status(&st, &row);
	assert_string_equal(row.outcome, "held");
	assert_int_equal(row.local_capacity, -1);
	assert_string_equal(row.error, "DescribeServices: boom");
}

/* 0 only when every policy was decided. */
static void test_exit_status(void **state)
{
	(void)state;
	assert_int_equal(plan_exit_status(rows, 1), 0);
	assert_int_equal(plan_exit_status(rows, 2), 1);
	assert_int_equal(plan_exit_status(&rows[2], 1), 0);
	assert_int_equal(plan_exit_status(rows, 0), 0);
	struct plan_row failed = rows[0];
	failed.outcome = "failed";
	assert_int_equal(plan_exit_status(&failed, 1), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_table),
		cmocka_unit_test(test_table_empty),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_row_from_status),
		cmocka_unit_test(test_exit_status),
	};

	return cmocka_run_group_tests_name("plan", tests, NULL, NULL);
}
