/*
 * How much memory the HTTP client holds per idle keep-alive connection.
 * A child process serves HTTP on 127.0.0.1 (answers are held 200 ms so N
 * concurrent requests need N connections); the parent opens N connections
 * through one http_client, lets them go idle in libcurl's pool, and reports
 * the heap (mallinfo2) and RSS (/proc/self/status) growth per connection.
 *
 * Usage: bench-http-idle [N]   (default 64)
 */
#include <errno.h>
#include <malloc.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>

#include "qscale/http.h"

static struct event_base *server_base;

/* A held answer. */
struct held {
	struct evhttp_request *req;
	struct event *ev;
};

static void answer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct held *h = arg;
	struct evbuffer *b = evbuffer_new();

	(void)fd;
	(void)what;
	evbuffer_add(b, "{}", 2);
	evhttp_send_reply(h->req, 200, "OK", b);
	evbuffer_free(b);
	event_free(h->ev);
	free(h);
}

static void server_cb(struct evhttp_request *req, void *arg)
{
	struct held *h = calloc(1, sizeof(*h));
	struct timeval tv = {0, 200000};

	(void)arg;
	h->req = req;
	h->ev = evtimer_new(server_base, answer_cb, h);
	evtimer_add(h->ev, &tv);
}

/* The child: serve until killed. */
static void run_server(int port_fd)
{
	struct sockaddr_in sin = {0};
	socklen_t len = sizeof(sin);

	server_base = event_base_new();
	struct evhttp *http = evhttp_new(server_base);
	struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
	if (bs == NULL)
		_exit(1);
	getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&sin, &len);
	int port = ntohs(sin.sin_port);
	if (write(port_fd, &port, sizeof(port)) != sizeof(port))
		_exit(1);
	close(port_fd);
	evhttp_set_timeout(http, 3600);
	evhttp_set_gencb(http, server_cb, NULL);
	event_base_dispatch(server_base);
	_exit(0);
}

/* VmRSS in KiB. */
static long rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	long kib = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			kib = strtol(line + 6, NULL, 10);
	fclose(f);
	return kib;
}

static int done;
static struct event_base *base;

static void done_cb(const struct http_response *resp, void *arg)
{
	int target = *(int *)arg;

	if (resp->err != 0 || resp->status != 200)
		fprintf(stderr, "bench: request failed err=%d status=%ld\n", resp->err,
			resp->status);
	if (++done == target)
		event_base_loopbreak(base);
}

/* Send n concurrent GETs and wait for them all. */
static void burst(struct http_client *client, const char *url, int n)
{
	struct http_request_opts opts = {
		.method = "GET",
		.url = url,
		.timeout_ms = 10000,
		.no_proxy = true,
	};
	static int target;

	done = 0;
	target = n;
	for (int i = 0; i < n; i++)
		if (http_request_start(client, &opts, done_cb, &target, NULL) != 0)
			exit(1);
	event_base_dispatch(base);
}

int main(int argc, char **argv)
{
	int n = argc > 1 ? atoi(argv[1]) : 64;
	int pipefd[2];
	int port = 0;
	char url[64];

	if (n < 1 || n > 4096 || pipe(pipefd) != 0)
		return 2;
	pid_t child = fork();
	if (child == 0) {
		close(pipefd[0]);
		run_server(pipefd[1]);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &port, sizeof(port)) != sizeof(port))
		return 1;
	close(pipefd[0]);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", port);

	base = event_base_new();
	struct http_client_config cfg = {.max_connections = n, .max_connects = n};
	struct http_client *client;
	if (http_client_create(base, &cfg, &client) != 0)
		return 1;
	/* Warm up: one connection, libcurl's lazily built state. */
	burst(client, url, 1);
	struct mallinfo2 before = mallinfo2();
	long rss_before = rss_kib();
	burst(client, url, n);
	struct mallinfo2 after = mallinfo2();
	long rss_after = rss_kib();
	/* A second burst must reuse the pool, not grow it. */
	burst(client, url, n);
	struct mallinfo2 again = mallinfo2();

	double heap_per =
		((double)after.uordblks - (double)before.uordblks) / (n - 1 > 0 ? n - 1 : 1);
	double rss_per = (double)(rss_after - rss_before) * 1024.0 / (n - 1 > 0 ? n - 1 : 1);
	printf("connections=%d heap_bytes_per_idle_conn=%.0f rss_bytes_per_idle_conn=%.0f "
	       "heap_growth_on_reuse_bytes=%lld\n",
		n, heap_per, rss_per, (long long)again.uordblks - (long long)after.uordblks);
	http_client_destroy(client);
	event_base_free(base);
	kill(child, SIGTERM);
	waitpid(child, NULL, 0);
	return 0;
}
