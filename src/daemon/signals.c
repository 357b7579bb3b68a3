/*
 * Signal handling through libevent's evsignal events, so every callback runs
 * in the loop like any other event. The shutdown drain is a one-shot timer
 * that breaks the loop when in-flight work outlives its deadline.
 */
#include <event2/event.h>
#include <signal.h>
#include <stdlib.h>

#include "qscale/log.h"
#include "qscale/signals.h"
#include "qscale/xalloc.h"

struct signals {
	struct event_base *base;
	struct event *hup;
	struct event *term;
	struct event *intr;
	struct event *deadline;
	signals_cb on_reload;
	signals_cb on_shutdown;
	void *arg;
	bool shutting_down;
	bool timed_out;
};

/* SIGHUP: hand over to the reload callback. */
static void hup_cb(evutil_socket_t sig, short what, void *arg)
{
	struct signals *s = arg;

	(void)what;
	log_debug("signals: signal=%d reload", (int)sig);
	if (s->on_reload != NULL)
		s->on_reload((int)sig, s->arg);
}

/* SIGTERM, SIGINT: hand over to the shutdown callback. */
static void term_cb(evutil_socket_t sig, short what, void *arg)
{
	struct signals *s = arg;

	(void)what;
	log_debug("signals: signal=%d shutdown", (int)sig);
	if (s->on_shutdown != NULL)
		s->on_shutdown((int)sig, s->arg);
}

/* The drain deadline passed: leave the loop with work still in flight. */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct signals *s = arg;

	(void)fd;
	(void)what;
	s->timed_out = true;
	event_base_loopbreak(s->base);
}

/* A persistent signal event, or fatal. */
static struct event *add_signal(
	struct event_base *base, int signum, event_callback_fn cb, struct signals *s)
{
	struct event *ev = evsignal_new(base, signum, cb, s);

	if (ev == NULL || event_add(ev, NULL) < 0)
		fatal("signals: cannot watch signal %d", signum);
	return ev;
}

/* Install the handlers. */
struct signals *signals_create(
	struct event_base *base, signals_cb on_reload, signals_cb on_shutdown, void *arg)
{
	struct signals *s = xcalloc(1, sizeof(*s));

	signal(SIGPIPE, SIG_IGN);
	s->base = base;
	s->on_reload = on_reload;
	s->on_shutdown = on_shutdown;
	s->arg = arg;
	s->hup = add_signal(base, SIGHUP, hup_cb, s);
	s->term = add_signal(base, SIGTERM, term_cb, s);
	s->intr = add_signal(base, SIGINT, term_cb, s);
	s->deadline = evtimer_new(base, deadline_cb, s);
	if (s->deadline == NULL)
		fatal("signals: cannot create the shutdown timer");
	return s;
}

/* Remove the handlers. */
void signals_destroy(struct signals *s)
{
	if (s == NULL)
		return;
	event_free(s->hup);
	event_free(s->term);
	event_free(s->intr);
	event_free(s->deadline);
	free(s);
}

/* Arm the drain deadline once. */
void signals_shutdown_arm(struct signals *s, uint64_t deadline_ms)
{
	struct timeval tv = {
		.tv_sec = (time_t)(deadline_ms / 1000),
		.tv_usec = (suseconds_t)(deadline_ms % 1000 * 1000),
	};

	if (s->shutting_down)
		return;
	s->shutting_down = true;
	if (event_add(s->deadline, &tv) < 0)
		fatal("signals: cannot arm the shutdown timer");
}

/* The drain is complete. */
void signals_shutdown_done(struct signals *s)
{
	event_del(s->deadline);
	event_base_loopbreak(s->base);
}

/* Whether a drain was armed. */
bool signals_shutting_down(const struct signals *s)
{
	return s->shutting_down;
}

/* Whether the deadline cut the drain short. */
bool signals_shutdown_timed_out(const struct signals *s)
{
	return s->timed_out;
}
