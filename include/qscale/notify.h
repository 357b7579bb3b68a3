/*
 * systemd service notification (sd_notify protocol): READY=1, STATUS=,
 * RELOADING=1, STOPPING=1 and the watchdog keep-alive. Everything is a no-op
 * when the process does not run under a notifying service manager
 * (NOTIFY_SOCKET unset).
 */
#ifndef QSCALE_NOTIFY_H
#define QSCALE_NOTIFY_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

struct event_base;
struct notify;

/*
 * Read NOTIFY_SOCKET, WATCHDOG_USEC and WATCHDOG_PID. When the watchdog is
 * on, a timer on base sends WATCHDOG=1 every half period for as long as the
 * loop runs. base may be NULL (no watchdog timer). Caller destroys.
 */
struct notify *notify_create(struct event_base *base);

/* Stop the watchdog timer and free; accepts NULL. */
void notify_destroy(struct notify *n);

/* Whether a service manager listens (NOTIFY_SOCKET set). */
bool notify_enabled(const struct notify *n);

/* The watchdog period in microseconds, 0 when the watchdog is off. */
uint64_t notify_watchdog_usec(const struct notify *n);

/* How many WATCHDOG=1 pings the timer has sent. */
uint64_t notify_watchdog_pings(const struct notify *n);

/* Send READY=1 with a status line (status may be NULL); 0 or negative errno. */
int notify_ready(struct notify *n, const char *status);

/* Send STATUS=<line>; newlines in line are replaced by spaces. */
int notify_status(struct notify *n, const char *status);

/* Send RELOADING=1 with MONOTONIC_USEC (Type=notify-reload). */
int notify_reloading(struct notify *n);

/* Send READY=1 again after a reload, with a status line. */
int notify_reloaded(struct notify *n, const char *status);

/* Send STOPPING=1 with a status line. */
int notify_stopping(struct notify *n, const char *status);

/* Send WATCHDOG=1 now (the timer does this by itself). */
int notify_watchdog(struct notify *n);

/* Send any notification text; 0 (also when disabled) or negative errno. */
int notify_send(struct notify *n, const char *message);

/*
 * The sd_notify datagram protocol itself: send message as one datagram to
 * socket_path ("/run/..." or "@abstract").
 * 0 or negative errno.
 */
int notify_socket_send(const char *socket_path, const char *message);

/*
 * Decide whether the watchdog is meant for this process: WATCHDOG_USEC a
 * positive decimal and WATCHDOG_PID (if set) equal to self. 0 with *usec
 * set, -ENOENT when not enabled, -EINVAL for junk.
 */
int notify_watchdog_parse(const char *usec_text, const char *pid_text, pid_t self, uint64_t *usec);

#endif
