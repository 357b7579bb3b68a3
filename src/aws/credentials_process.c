/*
 * credential_process without blocking the loop: the command is split into
 * words (no shell) and spawned with stdin on /dev/null and its stdout and
 * stderr on pipes read by libevent. Bounded in time and in output: past
 * either the child is killed. After both pipes close, the child is reaped
 * with WNOHANG on a short timer, so a child that closes its output but
 * lingers cannot stall the daemon either.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <event2/event.h>

#include "credentials_priv.h"
#include "qscale/buf.h"
#include "qscale/log.h"
#include "qscale/xalloc.h"

extern char **environ;

/* Kept of stderr for the failure message. */
#define STDERR_KEEP 2048u
/* How often a child that closed its pipes is checked for exit. */
#define REAP_POLL_MS 10

struct cred_process {
	struct event_base *base;
	pid_t pid;
	bool reaped;
	int status;
	int out_fd, err_fd;
	struct event *out_ev, *err_ev, *deadline_ev, *reap_ev;
	struct buf out, err;
	char *program;
	uint64_t timeout_ms;
	credentials_http_cb cb;
	void *arg;
};

/* Kill the child if it still runs and reap it (SIGKILL makes the wait short). */
static void kill_and_reap(struct cred_process *p)
{
	if (p->pid > 0 && !p->reaped) {
		kill(p->pid, SIGKILL);
		while (waitpid(p->pid, &p->status, 0) < 0 && errno == EINTR)
			;
		p->reaped = true;
	}
}

/* Free everything of p (the child must be gone). */
static void process_free(struct cred_process *p)
{
	if (p->out_ev != NULL)
		event_free(p->out_ev);
	if (p->err_ev != NULL)
		event_free(p->err_ev);
	if (p->deadline_ev != NULL)
		event_free(p->deadline_ev);
	if (p->reap_ev != NULL)
		event_free(p->reap_ev);
	if (p->out_fd >= 0)
		close(p->out_fd);
	if (p->err_fd >= 0)
		close(p->err_fd);
	buf_finish_secure(&p->out);
	buf_finish(&p->err);
	free(p->program);
	free(p);
}

/* The first line of what the child wrote to stderr, for messages. */
static void stderr_line(struct cred_process *p, char *out, size_t size)
{
	const char *e = buf_cstr(&p->err);
	size_t n = strcspn(e, "\r\n");

	if (n > 200)
		n = 200;
	snprintf(out, size, "%.*s", (int)n, e);
}

/* End the run: report and free. */
static void finish(struct cred_process *p, int err, const char *why)
{
	struct credentials_set set = {0};
	char detail[512], parse_why[200] = "";
	credentials_http_cb cb = p->cb;
	void *arg = p->arg;

	kill_and_reap(p);
	if (err == 0) {
		err = credentials_parse_process(p->out.data != NULL ? p->out.data : "", p->out.len,
			&set, parse_why, sizeof(parse_why));
		if (err < 0)
			why = parse_why;
	}
	if (err == 0)
		snprintf(detail, sizeof(detail), "process %s", p->program);
	else
		snprintf(detail, sizeof(detail), "credential_process %s: %s", p->program, why);
	process_free(p);
	cb(err, err == 0 ? &set : NULL, detail, arg);
	credentials_set_finish(&set);
}

/* The child has exited (or both pipes closed and it then exited): judge it. */
static void judge_exit(struct cred_process *p)
{
	char why[320], line[220];

	if (WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0) {
		finish(p, 0, NULL);
		return;
	}
	stderr_line(p, line, sizeof(line));
	if (WIFEXITED(p->status))
		snprintf(why, sizeof(why), "exited with status %d%s%s", WEXITSTATUS(p->status),
			line[0] != '\0' ? ": " : "", line);
	else
		snprintf(why, sizeof(why), "killed by signal %d", WTERMSIG(p->status));
	finish(p, -EIO, why);
}

/* Poll for the child's exit once both pipes are closed. */
static void reap_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cred_process *p = arg;
	struct timeval tv = {0, REAP_POLL_MS * 1000};

	(void)fd;
	(void)what;
	pid_t r = waitpid(p->pid, &p->status, WNOHANG);
	if (r == p->pid) {
		p->reaped = true;
		judge_exit(p);
		return;
	}
	if (r < 0 && errno != EINTR) {
		p->reaped = true;
		finish(p, -EIO, "lost track of the child");
		return;
	}
	evtimer_add(p->reap_ev, &tv);
}

/* Read what is there from one pipe. */
static void pipe_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cred_process *p = arg;
	bool is_out = fd == p->out_fd;
	char chunk[4096];
	char why[128];

	(void)what;
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n > 0) {
			if (is_out && buf_append(&p->out, chunk, (size_t)n) < 0) {
				secure_wipe(chunk, sizeof(chunk));
				snprintf(why, sizeof(why), "printed more than %u bytes",
					CRED_PROCESS_OUTPUT_MAX);
				finish(p, -E2BIG, why);
				return;
			}
			/* stderr past its keep is dropped, not fatal. */
			if (!is_out)
				(void)buf_append(&p->err, chunk,
					p->err.len + (size_t)n <= STDERR_KEEP ? (size_t)n : 0);
			secure_wipe(chunk, (size_t)n);
			continue;
		}
		if (n < 0 && (errno == EAGAIN || errno == EINTR))
			return;
		/* EOF or a read error: this pipe is done. */
		struct event **ev = is_out ? &p->out_ev : &p->err_ev;
		event_free(*ev);
		*ev = NULL;
		close(fd);
		if (is_out)
			p->out_fd = -1;
		else
			p->err_fd = -1;
		break;
	}
	if (p->out_fd < 0 && p->err_fd < 0)
		reap_cb(-1, 0, p);
}

/* The run took too long. */
static void deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cred_process *p = arg;
	char why[128];

	(void)fd;
	(void)what;
	snprintf(why, sizeof(why), "did not finish within %llu ms: killed",
		(unsigned long long)p->timeout_ms);
	finish(p, -ETIMEDOUT, why);
}

/* Spawn argv with stdout and stderr on fresh pipes; 0 or a negative errno. */
static int spawn(struct cred_process *p, char **argv)
{
	int out_pipe[2], err_pipe[2];
	posix_spawn_file_actions_t fa;
	int r;

	if (pipe2(out_pipe, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(err_pipe, O_CLOEXEC) < 0) {
		r = -errno;
		close(out_pipe[0]);
		close(out_pipe[1]);
		return r;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_pipe[1], 1);
	posix_spawn_file_actions_adddup2(&fa, err_pipe[1], 2);
	r = posix_spawnp(&p->pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(out_pipe[1]);
	close(err_pipe[1]);
	if (r != 0) {
		close(out_pipe[0]);
		close(err_pipe[0]);
		p->pid = 0;
		return -r;
	}
	p->out_fd = out_pipe[0];
	p->err_fd = err_pipe[0];
	/* Only our ends are non-blocking: the child's stay as it expects. */
	fcntl(p->out_fd, F_SETFL, fcntl(p->out_fd, F_GETFL) | O_NONBLOCK);
	fcntl(p->err_fd, F_SETFL, fcntl(p->err_fd, F_GETFL) | O_NONBLOCK);
	return 0;
}

/* See credentials_priv.h. */
int cred_process_start(struct event_base *base, const char *command, uint64_t timeout_ms,
	credentials_http_cb cb, void *arg, struct cred_process **out)
{
	char **argv = NULL;
	struct timeval tv = {(time_t)(timeout_ms / 1000), (suseconds_t)(timeout_ms % 1000) * 1000};
	int r;

	if (credentials_split_command(command, &argv) < 0)
		return -EINVAL;
	struct cred_process *p = xcalloc(1, sizeof(*p));
	p->base = base;
	p->out_fd = p->err_fd = -1;
	p->timeout_ms = timeout_ms;
	p->cb = cb;
	p->arg = arg;
	p->program = xstrdup(argv[0]);
	buf_init(&p->out, CRED_PROCESS_OUTPUT_MAX);
	buf_init(&p->err, STDERR_KEEP + 1);
	r = spawn(p, argv);
	credentials_argv_free(argv);
	if (r < 0) {
		process_free(p);
		return r;
	}
	p->out_ev = event_new(base, p->out_fd, EV_READ | EV_PERSIST, pipe_cb, p);
	p->err_ev = event_new(base, p->err_fd, EV_READ | EV_PERSIST, pipe_cb, p);
	p->deadline_ev = evtimer_new(base, deadline_cb, p);
	p->reap_ev = evtimer_new(base, reap_cb, p);
	event_add(p->out_ev, NULL);
	event_add(p->err_ev, NULL);
	evtimer_add(p->deadline_ev, &tv);
	log_debug("credentials=process started program=%s pid=%d", p->program, (int)p->pid);
	*out = p;
	return 0;
}

/* See credentials_priv.h. */
void cred_process_cancel(struct cred_process *p)
{
	if (p == NULL)
		return;
	kill_and_reap(p);
	process_free(p);
}
