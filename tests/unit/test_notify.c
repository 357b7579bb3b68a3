/*
 * Unit tests of service notification: the watchdog variables, the built-in
 * datagram sender (path and abstract sockets), and the messages the notifier
 * sends to a NOTIFY_SOCKET this test binds, watchdog pings included.
 */
#include <errno.h>
#include <event2/event.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "qscale/notify.h"

struct listener {
	int fd;
	char path[108]; /* as NOTIFY_SOCKET spells it */
	char dir[64];
};

/* Bind a datagram socket: a file in a fresh folder, or an abstract name. */
static void listener_open(struct listener *l, bool abstract)
{
	struct sockaddr_un sun;
	socklen_t len;

	memset(l, 0, sizeof(*l));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (abstract) {
		snprintf(l->path, sizeof(l->path), "@qscale-test-notify-%ld", (long)getpid());
		memcpy(sun.sun_path + 1, l->path + 1, strlen(l->path) - 1);
		len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + strlen(l->path));
	} else {
		snprintf(l->dir, sizeof(l->dir), "/tmp/qscale-notify-XXXXXX");
		assert_non_null(mkdtemp(l->dir));
		snprintf(l->path, sizeof(l->path), "%s/notify", l->dir);
		strcpy(sun.sun_path, l->path);
		len = sizeof(sun);
	}
	l->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	assert_true(l->fd >= 0);
	assert_int_equal(bind(l->fd, (struct sockaddr *)&sun, len), 0);
}

/* Receive one datagram as a string (non-blocking: "" when none is queued). */
static void listener_recv(struct listener *l, char *out, size_t size)
{
	ssize_t n = recv(l->fd, out, size - 1, MSG_DONTWAIT);

	out[n > 0 ? n : 0] = '\0';
}

static void listener_close(struct listener *l)
{
	close(l->fd);
	if (l->dir[0] != '\0') {
		unlink(l->path);
		rmdir(l->dir);
	}
}

static void test_watchdog_parse(void **state)
{
	static const struct {
		const char *usec, *pid;
		int r;
		uint64_t want;
	} table[] = {
		{"30000000", NULL, 0, 30000000},
		{"30000000", "", 0, 30000000},
		{"1", "4242", 0, 1},
		{"30000000", "4243", -ENOENT, 0},
		{NULL, NULL, -ENOENT, 0},
		{"", "4242", -ENOENT, 0},
		{"0", NULL, -ENOENT, 0},
		{"-5", NULL, -EINVAL, 0},
		{"+5", NULL, -EINVAL, 0},
		{" 5", NULL, -EINVAL, 0},
		{"5s", NULL, -EINVAL, 0},
		{"99999999999999999999999", NULL, -EINVAL, 0},
		{"5", "x", -EINVAL, 0},
		{"5", "-1", -EINVAL, 0},
		{"5", "0", -EINVAL, 0},
		{"5", "42x", -EINVAL, 0},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
		uint64_t usec = 777;
		int r = notify_watchdog_parse(table[i].usec, table[i].pid, 4242, &usec);

		if (r != table[i].r)
			fail_msg("case %zu: got %d want %d", i, r, table[i].r);
		assert_true(usec == (r == 0 ? table[i].want : 777));
	}
}

static void test_socket_send(void **state)
{
	struct listener path, abstract;
	char got[256];
	char long_path[200];

	(void)state;
	listener_open(&path, false);
	listener_open(&abstract, true);
	assert_int_equal(notify_socket_send(path.path, "READY=1\nSTATUS=x"), 0);
	listener_recv(&path, got, sizeof(got));
	assert_string_equal(got, "READY=1\nSTATUS=x");
	assert_int_equal(notify_socket_send(abstract.path, "WATCHDOG=1"), 0);
	listener_recv(&abstract, got, sizeof(got));
	assert_string_equal(got, "WATCHDOG=1");

	assert_int_equal(notify_socket_send("relative/path", "X=1"), -EINVAL);
	assert_int_equal(notify_socket_send("", "X=1"), -EINVAL);
	assert_int_equal(notify_socket_send("@", "X=1"), -EINVAL);
	assert_int_equal(notify_socket_send(NULL, "X=1"), -EINVAL);
	memset(long_path, 'a', sizeof(long_path) - 1);
	long_path[0] = '/';
	long_path[sizeof(long_path) - 1] = '\0';
	assert_int_equal(notify_socket_send(long_path, "X=1"), -EINVAL);
	assert_true(notify_socket_send("/nonexistent-qscale/notify", "X=1") < 0);
	listener_close(&path);
	listener_close(&abstract);
}

static void test_disabled(void **state)
{
	struct notify *n;

	(void)state;
	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "1000000", 1);
	n = notify_create(NULL);
	assert_false(notify_enabled(n));
	assert_true(notify_watchdog_usec(n) == 0);
	assert_int_equal(notify_ready(n, "ready"), 0);
	assert_int_equal(notify_watchdog(n), 0);
	assert_int_equal(notify_stopping(n, NULL), 0);
	notify_destroy(n);
	notify_destroy(NULL);
	unsetenv("WATCHDOG_USEC");
}

/* Check the notifier's messages on one kind of socket. */
static void check_messages(bool abstract)
{
	struct listener l;
	struct notify *n;
	char got[1024], status[600];
	unsigned long long usec;
	int consumed = 0;

	listener_open(&l, abstract);
	setenv("NOTIFY_SOCKET", l.path, 1);
	unsetenv("WATCHDOG_USEC");
	n = notify_create(NULL);
	assert_true(notify_enabled(n));
	assert_true(notify_watchdog_usec(n) == 0);

	assert_int_equal(notify_ready(n, "policies=2 interval=10s"), 0);
	listener_recv(&l, got, sizeof(got));
	assert_string_equal(got, "READY=1\nSTATUS=policies=2 interval=10s");

	assert_int_equal(notify_ready(n, NULL), 0);
	listener_recv(&l, got, sizeof(got));
	assert_string_equal(got, "READY=1");

	assert_int_equal(notify_status(n, "two\nlines\r"), 0);
	listener_recv(&l, got, sizeof(got));
	assert_string_equal(got, "STATUS=two lines ");

	memset(status, 'x', sizeof(status) - 1);
	status[sizeof(status) - 1] = '\0';
	assert_int_equal(notify_status(n, status), 0);
	listener_recv(&l, got, sizeof(got));
	assert_int_equal(strncmp(got, "STATUS=xxx", 10), 0);
	assert_true(strlen(got) < sizeof(status));

	assert_int_equal(notify_reloading(n), 0);
	listener_recv(&l, got, sizeof(got));
	assert_int_equal(sscanf(got, "RELOADING=1\nMONOTONIC_USEC=%llu%n", &usec, &consumed), 1);
	assert_int_equal(got[consumed], '\0');
	assert_true(usec > 0);

	assert_int_equal(notify_reloaded(n, "reloaded"), 0);
	listener_recv(&l, got, sizeof(got));
	assert_string_equal(got, "READY=1\nSTATUS=reloaded");

	assert_int_equal(notify_stopping(n, "finishing 1 cycle"), 0);
	listener_recv(&l, got, sizeof(got));
	assert_string_equal(got, "STOPPING=1\nSTATUS=finishing 1 cycle");

	assert_int_equal(notify_watchdog(n), 0);
	listener_recv(&l, got, sizeof(got));
	assert_string_equal(got, "WATCHDOG=1");

	listener_recv(&l, got, sizeof(got));
	assert_string_equal(got, ""); /* nothing else was sent */
	notify_destroy(n);
	listener_close(&l);
	unsetenv("NOTIFY_SOCKET");
}

static void test_messages_path(void **state)
{
	(void)state;
	check_messages(false);
}

static void test_messages_abstract(void **state)
{
	(void)state;
	check_messages(true);
}

struct ping_count {
	struct event_base *base;
	int fd;
	int pings;
};

/* Test socket readable: count WATCHDOG=1 datagrams, stop after three. */
static void on_datagram(evutil_socket_t fd, short what, void *arg)
{
	struct ping_count *pc = arg;
	char got[64];
	ssize_t n = recv(fd, got, sizeof(got) - 1, MSG_DONTWAIT);

	(void)what;
	if (n <= 0)
		return;
	got[n] = '\0';
	assert_string_equal(got, "WATCHDOG=1");
	if (++pc->pings == 3)
		event_base_loopbreak(pc->base);
}

/* Guard timer: a hung test fails instead of waiting for ever. */
static void on_guard(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	event_base_loopbreak(arg);
}

static void test_watchdog_timer(void **state)
{
	struct listener l;
	struct event_base *base = event_base_new();
	struct ping_count pc = {.base = base};
	struct event *rd, *guard;
	struct timeval guard_tv = {.tv_sec = 20};
	struct notify *n;
	char pid[32];

	(void)state;
	listener_open(&l, false);
	pc.fd = l.fd;
	setenv("NOTIFY_SOCKET", l.path, 1);
	setenv("WATCHDOG_USEC", "40000", 1);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_PID", pid, 1);
	n = notify_create(base);
	assert_true(notify_watchdog_usec(n) == 40000);

	rd = event_new(base, l.fd, EV_READ | EV_PERSIST, on_datagram, &pc);
	guard = evtimer_new(base, on_guard, base);
	event_add(rd, NULL);
	evtimer_add(guard, &guard_tv);
	event_base_dispatch(base);
	assert_int_equal(pc.pings, 3);
	assert_true(notify_watchdog_pings(n) >= 3);
	notify_destroy(n);

	/* the watchdog of another process is not ours */
	setenv("WATCHDOG_PID", "1", 1);
	n = notify_create(base);
	assert_true(notify_watchdog_usec(n) == 0);
	notify_destroy(n);

	event_free(rd);
	event_free(guard);
	event_base_free(base);
	listener_close(&l);
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_watchdog_parse),
		cmocka_unit_test(test_socket_send),
		cmocka_unit_test(test_disabled),
		cmocka_unit_test(test_messages_path),
		cmocka_unit_test(test_messages_abstract),
		cmocka_unit_test(test_watchdog_timer),
	};

	return cmocka_run_group_tests_name("notify", tests, NULL, NULL);
}
