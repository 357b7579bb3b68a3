/*
 * Unit tests of the policy scheduler on a manual clock: deterministic phase
 * and jitter within bounds, no doubled cycles, late loops, interval changes
 * that keep the phase, removal while a cycle runs, and the libevent timer.
 */
#include <errno.h>
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/clock.h"
#include "qscale/scheduler.h"

struct recorder {
	struct scheduler *s;
	int starts;
	bool finish_at_once;
	char last[32];
	struct event_base *base;
	int stop_after;
};

/* start callback: record, optionally finish the cycle right away. */
static void on_start(struct scheduler_entry *e, void *ctx)
{
	struct recorder *r = ctx;

	r->starts++;
	snprintf(r->last, sizeof(r->last), "%s", scheduler_entry_name(e));
	if (r->finish_at_once)
		scheduler_cycle_done(r->s, e);
	if (r->base != NULL && r->starts >= r->stop_after)
		event_base_loopbreak(r->base);
}

static void test_phase_and_jitter(void **state)
{
	static const uint64_t intervals[] = {1, 7, 1000, 5000, 10000, 60000, 3600000};
	char name[32];
	uint64_t first_phase = 0;
	bool phases_differ = false;

	(void)state;
	for (size_t i = 0; i < sizeof(intervals) / sizeof(intervals[0]); i++) {
		uint64_t iv = intervals[i];
		uint64_t max = iv / SCHEDULER_JITTER_DIVISOR;

		if (max > SCHEDULER_JITTER_MAX_MS)
			max = SCHEDULER_JITTER_MAX_MS;
		for (int n = 0; n < 50; n++) {
			snprintf(name, sizeof(name), "policy-%d", n);
			assert_true(scheduler_phase_ms(name, iv) < iv);
			assert_true(scheduler_phase_ms(name, iv) == scheduler_phase_ms(name, iv));
			assert_true(scheduler_jitter_ms(name, iv, 0) == 0);
			for (uint64_t k = 1; k < 200; k++) {
				uint64_t j = scheduler_jitter_ms(name, iv, k);

				assert_true(j <= max);
				assert_true(j == scheduler_jitter_ms(name, iv, k));
			}
		}
	}
	for (int n = 0; n < 20; n++) {
		snprintf(name, sizeof(name), "p%d", n);
		if (n == 0)
			first_phase = scheduler_phase_ms(name, 10000);
		else if (scheduler_phase_ms(name, 10000) != first_phase)
			phases_differ = true;
	}
	assert_true(phases_differ);
	assert_true(scheduler_phase_ms("x", 0) == 0);
}

static void test_fires_on_schedule(void **state)
{
	struct clock_manual c;
	struct recorder r = {.finish_at_once = true};
	struct scheduler_entry *e;
	const uint64_t iv = 10000;
	uint64_t anchor;

	(void)state;
	clock_manual_init(&c, 1000000, 0);
	r.s = scheduler_create(NULL, &c.clock, on_start);
	assert_int_equal(scheduler_add(r.s, "orders", iv, &r, &e), 0);
	anchor = 1000000 + scheduler_phase_ms("orders", iv);
	assert_true(scheduler_entry_next_due_ms(e) == anchor);
	assert_true(scheduler_next_due_ms(r.s) == anchor);

	c.mono_ms = anchor - 1;
	scheduler_tick(r.s);
	assert_int_equal(r.starts, 0);
	for (uint64_t k = 0; k < 100; k++) {
		uint64_t due = scheduler_entry_next_due_ms(e);

		assert_true(due >= anchor + k * iv);
		assert_true(due <= anchor + k * iv + iv / SCHEDULER_JITTER_DIVISOR);
		c.mono_ms = due;
		scheduler_tick(r.s);
		assert_int_equal(r.starts, (int)k + 1);
		/* a second tick at the same instant starts nothing */
		scheduler_tick(r.s);
		assert_int_equal(r.starts, (int)k + 1);
	}
	assert_true(scheduler_entry_skipped(e) == 0);
	assert_string_equal(r.last, "orders");
	scheduler_destroy(r.s);
}

static void test_no_doubling(void **state)
{
	struct clock_manual c;
	struct recorder r = {.finish_at_once = false};
	struct scheduler_entry *e;

	(void)state;
	clock_manual_init(&c, 0, 0);
	r.s = scheduler_create(NULL, &c.clock, on_start);
	assert_int_equal(scheduler_add(r.s, "slow", 1000, &r, &e), 0);
	c.mono_ms = scheduler_entry_next_due_ms(e);
	scheduler_tick(r.s);
	assert_int_equal(r.starts, 1);
	assert_true(scheduler_entry_running(e));
	assert_int_equal(scheduler_running_count(r.s), 1);

	/* three more ticks come due while the first cycle runs */
	for (int i = 0; i < 3; i++) {
		c.mono_ms = scheduler_entry_next_due_ms(e);
		scheduler_tick(r.s);
	}
	assert_int_equal(r.starts, 1);
	assert_true(scheduler_entry_skipped(e) == 3);
	assert_true(scheduler_entry_started(e) == 1);

	scheduler_cycle_done(r.s, e);
	assert_int_equal(scheduler_running_count(r.s), 0);
	c.mono_ms = scheduler_entry_next_due_ms(e);
	scheduler_tick(r.s);
	assert_int_equal(r.starts, 2);
	assert_true(scheduler_entry_skipped(e) == 3);
	scheduler_destroy(r.s);
}

static void test_late_loop(void **state)
{
	struct clock_manual c;
	struct recorder r = {.finish_at_once = true};
	struct scheduler_entry *e;
	uint64_t anchor;

	(void)state;
	clock_manual_init(&c, 0, 0);
	r.s = scheduler_create(NULL, &c.clock, on_start);
	assert_int_equal(scheduler_add(r.s, "late", 1000, &r, &e), 0);
	anchor = scheduler_entry_next_due_ms(e);
	/* the loop wakes five and a half intervals late: one cycle, not six */
	c.mono_ms = anchor + 5500;
	scheduler_tick(r.s);
	assert_int_equal(r.starts, 1);
	assert_true(scheduler_entry_skipped(e) == 5);
	assert_true(scheduler_entry_next_due_ms(e) > c.mono_ms);
	assert_true(scheduler_entry_next_due_ms(e) >= anchor + 6000);
	assert_true(scheduler_entry_next_due_ms(e) <= anchor + 6000 + 50);
	scheduler_destroy(r.s);
}

static void test_set_interval_keeps_phase(void **state)
{
	struct clock_manual c;
	struct recorder r = {.finish_at_once = true};
	struct scheduler_entry *e;
	uint64_t anchor, slot;

	(void)state;
	clock_manual_init(&c, 0, 0);
	r.s = scheduler_create(NULL, &c.clock, on_start);
	assert_int_equal(scheduler_add(r.s, "reload", 10000, &r, &e), 0);
	anchor = scheduler_entry_next_due_ms(e);
	for (int i = 0; i < 3; i++) {
		c.mono_ms = scheduler_entry_next_due_ms(e);
		scheduler_tick(r.s);
	}
	slot = anchor + 2 * 10000; /* the last slot fired */
	c.mono_ms += 1234;
	assert_int_equal(scheduler_set_interval(r.s, e, 4000), 0);
	assert_true(scheduler_entry_interval_ms(e) == 4000);
	assert_true(scheduler_entry_next_due_ms(e) >= slot + 4000);
	assert_true(scheduler_entry_next_due_ms(e) <= slot + 4000 + 200);
	c.mono_ms = scheduler_entry_next_due_ms(e);
	scheduler_tick(r.s);
	assert_int_equal(r.starts, 4);
	assert_true(scheduler_entry_next_due_ms(e) >= slot + 8000);
	assert_true(scheduler_entry_next_due_ms(e) <= slot + 8000 + 200);

	/* longer again: the next slot is one new interval after the last one */
	assert_int_equal(scheduler_set_interval(r.s, e, 30000), 0);
	assert_true(scheduler_entry_next_due_ms(e) >= slot + 4000 + 30000);
	assert_true(scheduler_entry_next_due_ms(e) <= slot + 4000 + 30000 + 1000);
	assert_int_equal(scheduler_set_interval(r.s, e, 0), -EINVAL);
	scheduler_destroy(r.s);
}

static void test_set_interval_before_first(void **state)
{
	struct clock_manual c;
	struct recorder r = {.finish_at_once = true};
	struct scheduler_entry *e;
	char name[16];
	int n = 0;

	(void)state;
	clock_manual_init(&c, 0, 0);
	r.s = scheduler_create(NULL, &c.clock, on_start);

	/* a name whose first slot in 60 s lies beyond one new interval of 1 s */
	do {
		snprintf(name, sizeof(name), "p%d", n++);
	} while (scheduler_phase_ms(name, 60000) <= 1000);
	assert_int_equal(scheduler_add(r.s, name, 60000, &r, &e), 0);
	assert_true(scheduler_entry_next_due_ms(e) > 1000);
	assert_int_equal(scheduler_set_interval(r.s, e, 1000), 0);
	assert_true(scheduler_entry_next_due_ms(e) < 1000);
	assert_true(scheduler_entry_next_due_ms(e) == scheduler_phase_ms(name, 1000));
	scheduler_destroy(r.s);
}

static void test_add_find_remove(void **state)
{
	struct clock_manual c;
	struct recorder r = {.finish_at_once = false};
	struct scheduler_entry *a, *b, *dup;

	(void)state;
	clock_manual_init(&c, 0, 0);
	r.s = scheduler_create(NULL, &c.clock, on_start);
	assert_int_equal(scheduler_add(r.s, "a", 1000, &r, &a), 0);
	assert_int_equal(scheduler_add(r.s, "b", 1000, &r, &b), 0);
	assert_int_equal(scheduler_add(r.s, "a", 5000, &r, &dup), -EEXIST);
	assert_int_equal(scheduler_add(r.s, "", 5000, &r, &dup), -EINVAL);
	assert_int_equal(scheduler_add(r.s, "c", 0, &r, &dup), -EINVAL);
	assert_ptr_equal(scheduler_find(r.s, "a"), a);
	assert_ptr_equal(scheduler_find(r.s, "b"), b);
	assert_null(scheduler_find(r.s, "c"));

	/* start both, remove a while its cycle runs */
	c.mono_ms = 2000;
	scheduler_tick(r.s);
	assert_int_equal(r.starts, 2);
	scheduler_remove(r.s, a);
	assert_null(scheduler_find(r.s, "a"));
	assert_int_equal(scheduler_running_count(r.s), 2);
	/* a name freed by removal may be added again */
	assert_int_equal(scheduler_add(r.s, "a", 1000, &r, &dup), 0);
	scheduler_cycle_done(r.s, a); /* frees the old a */
	assert_int_equal(scheduler_running_count(r.s), 1);
	c.mono_ms = 10000;
	scheduler_tick(r.s);
	assert_int_equal(r.starts, 3); /* the new a; b still runs */
	scheduler_remove(r.s, b);
	scheduler_cycle_done(r.s, b);
	scheduler_cycle_done(r.s, dup);
	assert_int_equal(scheduler_running_count(r.s), 0);

	scheduler_stop(r.s);
	c.mono_ms = 100000;
	scheduler_tick(r.s);
	assert_int_equal(r.starts, 3);
	scheduler_destroy(r.s);
	scheduler_destroy(NULL);
}

/* Safety net for the loop test: fail instead of hanging. */
static void guard_cb(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void test_event_loop(void **state)
{
	struct event_base *base = event_base_new();
	struct recorder r = {.finish_at_once = true, .stop_after = 3};
	struct scheduler_entry *e;
	struct timeval guard_tv = {.tv_sec = 20};
	struct event *guard = evtimer_new(base, guard_cb, base);

	(void)state;
	r.base = base;
	r.s = scheduler_create(base, &clock_system, on_start);
	assert_int_equal(scheduler_add(r.s, "loop", 20, &r, &e), 0);
	evtimer_add(guard, &guard_tv);
	event_base_dispatch(base);
	assert_int_equal(r.starts, 3);
	scheduler_destroy(r.s);
	event_free(guard);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phase_and_jitter),
		cmocka_unit_test(test_fires_on_schedule),
		cmocka_unit_test(test_no_doubling),
		cmocka_unit_test(test_late_loop),
		cmocka_unit_test(test_set_interval_keeps_phase),
		cmocka_unit_test(test_set_interval_before_first),
		cmocka_unit_test(test_add_find_remove),
		cmocka_unit_test(test_event_loop),
	};

	return cmocka_run_group_tests_name("scheduler", tests, NULL, NULL);
}
