/*
 * Signals for the daemon, delivered through the event loop: SIGHUP asks for
 * a reload, SIGTERM and SIGINT for a shutdown; SIGPIPE is ignored. The
 * shutdown drain lets in-flight work finish up to a deadline, then leaves
 * the loop.
 */
#ifndef QSCALE_SIGNALS_H
#define QSCALE_SIGNALS_H

#include <stdbool.h>
#include <stdint.h>

struct event_base;
struct signals;

/* Called from the loop, never from the signal handler; signum says which. */
typedef void (*signals_cb)(int signum, void *arg);

/*
 * Install the handlers on base: on_reload for SIGHUP, on_shutdown for
 * SIGTERM and SIGINT (every time one arrives: a second one while shutting
 * down is the caller's to judge). Ignores SIGPIPE. Caller destroys.
 */
struct signals *signals_create(
	struct event_base *base, signals_cb on_reload, signals_cb on_shutdown, void *arg);

/* Remove the handlers (SIGPIPE stays ignored); accepts NULL. */
void signals_destroy(struct signals *s);

/*
 * Begin the shutdown drain: after deadline_ms the loop is left even if work
 * is still in flight. Arming again keeps the first deadline.
 */
void signals_shutdown_arm(struct signals *s, uint64_t deadline_ms);

/* Nothing is in flight any more: leave the loop now. */
void signals_shutdown_done(struct signals *s);

/* Whether a shutdown drain was armed. */
bool signals_shutting_down(const struct signals *s);

/* Whether the loop was left because the deadline passed. */
bool signals_shutdown_timed_out(const struct signals *s);

#endif
