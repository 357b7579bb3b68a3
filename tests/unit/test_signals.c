/*
 * Unit tests of signal handling: raised signals reach their callbacks through
 * the loop, SIGPIPE is ignored, and the shutdown drain ends the loop either
 * when told the work is done or when its deadline passes.
 */
#include <event2/event.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/signals.h"

struct seen {
	struct event_base *base;
	int reloads;
	int shutdowns;
	int last;
};

static void on_reload(int signum, void *arg)
{
	struct seen *s = arg;

	s->reloads++;
	s->last = signum;
	event_base_loopbreak(s->base);
}

static void on_shutdown(int signum, void *arg)
{
	struct seen *s = arg;

	s->shutdowns++;
	s->last = signum;
	event_base_loopbreak(s->base);
}

/* Guard timer: a hung test fails instead of waiting for ever. */
static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

/* Raise signum and run the loop until a callback (or the guard) breaks it. */
static void raise_and_run(struct event_base *base, int signum)
{
	struct event *guard = evtimer_new(base, on_guard, base);
	struct timeval tv = {.tv_sec = 20};

	evtimer_add(guard, &tv);
	assert_int_equal(raise(signum), 0);
	event_base_dispatch(base);
	event_free(guard);
}

static void test_signals_reach_callbacks(void **state)
{
	struct event_base *base = event_base_new();
	struct seen seen = {.base = base};
	struct signals *s = signals_create(base, on_reload, on_shutdown, &seen);
	struct sigaction sa;

	(void)state;
	assert_int_equal(sigaction(SIGPIPE, NULL, &sa), 0);
	assert_true(sa.sa_handler == SIG_IGN);
	assert_int_equal(raise(SIGPIPE), 0); /* ignored: the test lives on */

	raise_and_run(base, SIGHUP);
	assert_int_equal(seen.reloads, 1);
	assert_int_equal(seen.last, SIGHUP);
	raise_and_run(base, SIGHUP);
	assert_int_equal(seen.reloads, 2);
	assert_int_equal(seen.shutdowns, 0);

	raise_and_run(base, SIGTERM);
	assert_int_equal(seen.shutdowns, 1);
	assert_int_equal(seen.last, SIGTERM);
	raise_and_run(base, SIGINT);
	assert_int_equal(seen.shutdowns, 2);
	assert_int_equal(seen.last, SIGINT);
	assert_int_equal(seen.reloads, 2);

	signals_destroy(s);
	signals_destroy(NULL);
	event_base_free(base);
}

static void test_drain_deadline(void **state)
{
	struct event_base *base = event_base_new();
	struct seen seen = {.base = base};
	struct signals *s = signals_create(base, on_reload, on_shutdown, &seen);

	(void)state;
	assert_false(signals_shutting_down(s));
	signals_shutdown_arm(s, 10);
	signals_shutdown_arm(s, 600000); /* the first deadline stays */
	assert_true(signals_shutting_down(s));
	event_base_dispatch(base);
	assert_true(signals_shutdown_timed_out(s));
	signals_destroy(s);
	event_base_free(base);
}

/* The "last in-flight call finished" moment of the drain test. */
static void on_work_done(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	signals_shutdown_done(arg);
}

static void test_drain_done(void **state)
{
	struct event_base *base = event_base_new();
	struct seen seen = {.base = base};
	struct signals *s = signals_create(base, on_reload, on_shutdown, &seen);
	struct event *work = evtimer_new(base, on_work_done, s);
	struct timeval now = {0, 0};

	(void)state;
	signals_shutdown_arm(s, 600000);
	evtimer_add(work, &now);
	event_base_dispatch(base);
	assert_false(signals_shutdown_timed_out(s));
	event_free(work);
	signals_destroy(s);
	event_base_free(base);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signals_reach_callbacks),
		cmocka_unit_test(test_drain_deadline),
		cmocka_unit_test(test_drain_done),
	};

	return cmocka_run_group_tests_name("signals", tests, NULL, NULL);
}
