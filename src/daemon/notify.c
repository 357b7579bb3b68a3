/*
 * Service notification to systemd: the documented sd_notify datagram
 * protocol, written to $NOTIFY_SOCKET (path or abstract "@name"). It is all
 * qscale needs of libsystemd, so the daemon does not map that library and
 * the compression and crypto libraries it pulls in. The watchdog is fed
 * from a libevent timer at half its period, so pings stop when the loop does.
 */
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "qscale/log.h"
#include "qscale/notify.h"
#include "qscale/xalloc.h"

/* Longest STATUS= line sent; longer ones are cut. */
#define STATUS_MAX 400

struct notify {
	char *socket_path; /* NULL: not under a service manager */
	uint64_t watchdog_usec;
	uint64_t pings;
	struct event *watchdog_timer;
	bool warned; /* a failed send is logged once */
};

/* Parse WATCHDOG_USEC and WATCHDOG_PID. */
int notify_watchdog_parse(const char *usec_text, const char *pid_text, pid_t self, uint64_t *usec)
{
	unsigned long long v;
	char *end;

	if (usec_text == NULL || usec_text[0] == '\0')
		return -ENOENT;
	if (usec_text[0] < '0' || usec_text[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(usec_text, &end, 10);
	if (errno != 0 || *end != '\0')
		return -EINVAL;
	if (v == 0)
		return -ENOENT;
	if (pid_text != NULL && pid_text[0] != '\0') {
		long long pid;

		if (pid_text[0] < '0' || pid_text[0] > '9')
			return -EINVAL;
		errno = 0;
		pid = strtoll(pid_text, &end, 10);
		if (errno != 0 || *end != '\0' || pid <= 0)
			return -EINVAL;
		if (pid != (long long)self)
			return -ENOENT;
	}
	*usec = v;
	return 0;
}

/* Send one datagram to the notification socket. */
int notify_socket_send(const char *socket_path, const char *message)
{
	struct sockaddr_un sun;
	size_t path_len;
	socklen_t sa_len;
	ssize_t sent;
	int fd, r = 0;

	if (socket_path == NULL || message == NULL)
		return -EINVAL;
	path_len = strlen(socket_path);
	if ((socket_path[0] != '/' && socket_path[0] != '@') || path_len < 2 ||
		path_len >= sizeof(sun.sun_path))
		return -EINVAL;
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, socket_path, path_len);
	if (socket_path[0] == '@')
		sun.sun_path[0] = '\0'; /* abstract namespace: no terminating NUL counted */
	else
		path_len++;
	sa_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + path_len);

	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	sent = sendto(fd, message, strlen(message), MSG_NOSIGNAL, (struct sockaddr *)&sun, sa_len);
	if (sent < 0)
		r = -errno;
	else if ((size_t)sent != strlen(message))
		r = -EIO;
	close(fd);
	return r;
}

/* Timer: feed the watchdog. */
static void watchdog_cb(evutil_socket_t fd, short what, void *arg)
{
	struct notify *n = arg;

	(void)fd;
	(void)what;
	if (notify_send(n, "WATCHDOG=1") == 0)
		n->pings++;
}

/* Read the environment; arm the watchdog timer when asked to. */
struct notify *notify_create(struct event_base *base)
{
	struct notify *n = xcalloc(1, sizeof(*n));
	const char *path = getenv("NOTIFY_SOCKET");
	uint64_t usec = 0;

	if (path != NULL && path[0] != '\0')
		n->socket_path = xstrdup(path);
	if (n->socket_path != NULL &&
		notify_watchdog_parse(
			getenv("WATCHDOG_USEC"), getenv("WATCHDOG_PID"), getpid(), &usec) == 0)
		n->watchdog_usec = usec;
	if (n->watchdog_usec > 0 && base != NULL) {
		uint64_t half = n->watchdog_usec / 2;
		struct timeval tv = {
			.tv_sec = (time_t)(half / 1000000),
			.tv_usec = (suseconds_t)(half % 1000000),
		};

		n->watchdog_timer = event_new(base, -1, EV_PERSIST, watchdog_cb, n);
		if (n->watchdog_timer == NULL || event_add(n->watchdog_timer, &tv) < 0)
			fatal("notify: cannot arm the watchdog timer");
		log_debug("notify: watchdog every %llu us", (unsigned long long)half);
	}
	return n;
}

/* Free the notifier. */
void notify_destroy(struct notify *n)
{
	if (n == NULL)
		return;
	if (n->watchdog_timer != NULL)
		event_free(n->watchdog_timer);
	free(n->socket_path);
	free(n);
}

/* Whether notifications go anywhere. */
bool notify_enabled(const struct notify *n)
{
	return n->socket_path != NULL;
}

/* The watchdog period, 0 when off. */
uint64_t notify_watchdog_usec(const struct notify *n)
{
	return n->watchdog_usec;
}

/* Pings sent by the timer. */
uint64_t notify_watchdog_pings(const struct notify *n)
{
	return n->pings;
}

/* Send a message to the service manager. */
int notify_send(struct notify *n, const char *message)
{
	int r;

	if (n->socket_path == NULL)
		return 0;
	r = notify_socket_send(n->socket_path, message);
	if (r < 0 && !n->warned) {
		log_warn("notify: cannot notify the service manager: %s", strerror(-r));
		n->warned = true;
	}
	return r;
}

/* Send "<prefix>STATUS=<line>" with the line flattened and cut. */
static int send_with_status(struct notify *n, const char *prefix, const char *status)
{
	char message[STATUS_MAX + 64];
	size_t len;

	if (status == NULL) {
		len = strlen(prefix);
		if (len > 0 && prefix[len - 1] == '\n')
			len--;
		snprintf(message, sizeof(message), "%.*s", (int)len, prefix);
		return notify_send(n, message);
	}
	snprintf(message, sizeof(message), "%sSTATUS=%.*s", prefix, STATUS_MAX, status);
	for (char *p = message + strlen(prefix); *p != '\0'; p++) {
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	}
	return notify_send(n, message);
}

/* READY=1 with a status. */
int notify_ready(struct notify *n, const char *status)
{
	return send_with_status(n, "READY=1\n", status);
}

/* A status line alone. */
int notify_status(struct notify *n, const char *status)
{
	if (status == NULL)
		return -EINVAL;
	return send_with_status(n, "", status);
}

/* RELOADING=1 with the monotonic time the reload began. */
int notify_reloading(struct notify *n)
{
	struct timespec ts;
	char message[96];

	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(message, sizeof(message), "RELOADING=1\nMONOTONIC_USEC=%llu",
		(unsigned long long)ts.tv_sec * 1000000ULL + (unsigned long long)ts.tv_nsec / 1000);
	return notify_send(n, message);
}

/* READY=1 after a reload. */
int notify_reloaded(struct notify *n, const char *status)
{
	return send_with_status(n, "READY=1\n", status);
}

/* STOPPING=1 with a status. */
int notify_stopping(struct notify *n, const char *status)
{
	return send_with_status(n, "STOPPING=1\n", status);
}

/* WATCHDOG=1 now. */
int notify_watchdog(struct notify *n)
{
	return notify_send(n, "WATCHDOG=1");
}
