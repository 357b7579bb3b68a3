/*
 * Unit tests of the readiness bookkeeping behind /readyz: not ready before
 * loading and before each policy's first good cycle, after a failed cycle or
 * a stale success; ready again after recovery; stable reasons.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "qscale/buf.h"
#include "qscale/readiness.h"

/* Check readiness at now and the reason given when not ready. */
static void expect(const struct readiness *r, uint64_t now, const char *reason)
{
	struct buf b;
	bool ready;

	buf_init(&b, 512);
	ready = readiness_check(r, now, &b);
	if (reason == NULL) {
		assert_true(ready);
		assert_string_equal(buf_cstr(&b), "");
	} else {
		assert_false(ready);
		assert_string_equal(buf_cstr(&b), reason);
	}
	buf_finish(&b);
}

static void test_lifecycle(void **state)
{
	struct readiness *r = readiness_create();

	(void)state;
	expect(r, 0, "configuration not loaded");
	readiness_set_loaded(r, true);
	expect(r, 0, "no policy loaded"); /* scaling nothing is not ready */

	assert_int_equal(readiness_track(r, "orders", 5000), 0);
	assert_int_equal(readiness_track(r, "billing", 10000), 0);
	expect(r, 0, "policy billing: no cycle yet (2 of 2 policies not ready)");

	readiness_cycle(r, "billing", false, 1000);
	readiness_cycle(r, "orders", true, 1500);
	expect(r, 2000, "policy billing: no successful cycle yet (1 of 2 policies not ready)");

	readiness_cycle(r, "billing", true, 11000);
	expect(r, 11000, NULL);

	/* orders' success at 1500 goes stale after 3 intervals + slack */
	expect(r, 1500 + 3 * 5000 + 1000, NULL);
	expect(r, 1500 + 3 * 5000 + 1001,
		"policy orders: last successful cycle too long ago (1 of 2 policies not ready)");
	readiness_cycle(r, "orders", true, 17000);
	expect(r, 17000, NULL);

	readiness_cycle(r, "orders", false, 22000);
	expect(r, 22000, "policy orders: last cycle failed (1 of 2 policies not ready)");

	/* a longer interval on reload, then removal */
	assert_int_equal(readiness_track(r, "orders", 60000), 0);
	readiness_cycle(r, "orders", true, 23000);
	expect(r, 23000 + 3 * 5000 + 5000,
		"policy billing: last successful cycle too long ago "
		"(1 of 2 policies not ready)");
	readiness_forget(r, "billing");
	expect(r, 23000 + 3 * 5000 + 5000, NULL);
	assert_int_equal(readiness_count(r), 1);
	assert_string_equal(readiness_name(r, 0), "orders");
	assert_null(readiness_name(r, 1));
	assert_true(readiness_tracks(r, "orders"));
	assert_false(readiness_tracks(r, "billing"));
	readiness_forget(r, "nope");
	readiness_cycle(r, "nope", false, 0); /* unknown: ignored */
	expect(r, 23000, NULL);

	readiness_set_loaded(r, false);
	expect(r, 23000, "configuration not loaded");
	readiness_destroy(r);
	readiness_destroy(NULL);
}

static void test_single_policy_reason(void **state)
{
	struct readiness *r = readiness_create();

	(void)state;
	readiness_set_loaded(r, true);
	assert_int_equal(readiness_track(r, "orders", 5000), 0);
	expect(r, 0, "policy orders: no cycle yet");
	assert_int_equal(readiness_track(r, "", 5000), -EINVAL);
	assert_int_equal(readiness_track(r, "x", 0), -EINVAL);
	assert_int_equal(readiness_track(r, NULL, 5000), -EINVAL);
	readiness_destroy(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lifecycle),
		cmocka_unit_test(test_single_policy_reason),
	};

	return cmocka_run_group_tests_name("readiness", tests, NULL, NULL);
}
