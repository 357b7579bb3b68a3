/*
 * The qscale side of the chart: encode the runs as text, start qscale-chart
 * with them on its standard input, and wait for it; and the decoder the
 * chart program reads them with. The format is line-based and strict:
 *
 *   qscale-chart 1
 *   title TEXT
 *   runs N
 *   run DURATION_MS POINTS NAME        (N times, each followed by POINTS lines)
 *   T_MS BACKLOG_MAX LOCAL BURST P95_MS MAX_MS
 *   end
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "qscale/sim_chart.h"
#include "qscale/xalloc.h"

extern char **environ;

/* Does path end with ext, ignoring case? */
static bool ends_with(const char *path, const char *ext)
{
	size_t n = strlen(path), m = strlen(ext);

	return n > m && strcasecmp(path + n - m, ext) == 0;
}

void sim_chart_program(char *out, size_t size)
{
	const char *env = getenv("QSCALE_CHART");
	char self[PATH_MAX];
	ssize_t n;

	if (env != NULL && env[0] != '\0') {
		snprintf(out, size, "%s", env);
		return;
	}
	n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		char *slash;

		self[n] = '\0';
		slash = strrchr(self, '/');
		if (slash != NULL) {
			*slash = '\0';
			snprintf(out, size, "%s/qscale-chart", self);
			if (access(out, X_OK) == 0)
				return;
		}
	}
	snprintf(out, size, "%s/qscale-chart", QSCALE_LIBEXECDIR);
}

int sim_chart_encode(
	FILE *out, const char *title, const struct sim_result *const *runs, size_t n_runs)
{
	fputs("qscale-chart 1\ntitle ", out);
	for (const char *c = title; *c != '\0'; c++)
		fputc((unsigned char)*c < 0x20 ? ' ' : *c, out);
	fprintf(out, "\nruns %zu\n", n_runs);
	for (size_t k = 0; k < n_runs; k++) {
		const struct sim_result *r = runs[k];

		fprintf(out, "run %" PRIu64 " %zu %s\n", r->duration_ms, r->n_series,
			sim_mode_name(r->mode));
		for (size_t i = 0; i < r->n_series; i++) {
			const struct sim_point *p = &r->series[i];

			fprintf(out,
				"%" PRIu64 " %" PRIu64 " %.17g %.17g %" PRIu64 " %" PRIu64 "\n",
				p->t_ms, p->backlog_max, p->local_tasks, p->burst_tasks,
				p->wait_p95_ms, p->wait_max_ms);
		}
	}
	fputs("end\n", out);
	return ferror(out) ? -EIO : 0;
}

/* A cursor over the input, one line at a time. */
struct reader {
	const char *p, *end;
	size_t line;
	char *error;
};

/* The next line (without its newline) as a NUL-terminated copy in buf; false at the end. */
static bool next_line(struct reader *r, char *buf, size_t size)
{
	const char *nl;
	size_t n;

	if (r->p >= r->end)
		return false;
	nl = memchr(r->p, '\n', (size_t)(r->end - r->p));
	if (nl == NULL)
		return false;
	n = (size_t)(nl - r->p);
	if (n >= size || memchr(r->p, '\0', n) != NULL)
		return false;
	memcpy(buf, r->p, n);
	buf[n] = '\0';
	r->p = nl + 1;
	r->line++;
	return true;
}

/* Fail at the current line. */
static int bad(struct reader *r, const char *what)
{
	snprintf(r->error, SIM_CHART_ERROR_MAX, "chart input line %zu: %s", r->line + 1, what);
	return -EINVAL;
}

/* An unsigned decimal, its end in *end; false when it is not one. */
static bool parse_u64(const char *s, char **end, uint64_t *out)
{
	unsigned long long v;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoull(s, end, 10);
	if (errno != 0)
		return false;
	*out = v;
	return true;
}

/* A finite non-negative number, its end in *end. */
static bool parse_double(const char *s, char **end, double *out)
{
	double v;

	errno = 0;
	v = strtod(s, end);
	if (*end == s || errno != 0 || !(v >= 0) || v > 1e15)
		return false;
	*out = v;
	return true;
}

/* One point line: six numbers separated by single spaces. */
static bool parse_point(const char *s, struct sim_point *pt)
{
	char *end;

	if (!parse_u64(s, &end, &pt->t_ms) || *end != ' ' ||
		!parse_u64(end + 1, &end, &pt->backlog_max) || *end != ' ' ||
		!parse_double(end + 1, &end, &pt->local_tasks) || *end != ' ' ||
		!parse_double(end + 1, &end, &pt->burst_tasks) || *end != ' ' ||
		!parse_u64(end + 1, &end, &pt->wait_p95_ms) || *end != ' ' ||
		!parse_u64(end + 1, &end, &pt->wait_max_ms))
		return false;
	return *end == '\0';
}

/* A "run DURATION POINTS NAME" line and its points. */
static int decode_run(struct reader *r, struct sim_chart_run *run)
{
	char line[256], *end;
	uint64_t n;

	if (!next_line(r, line, sizeof(line)) || strncmp(line, "run ", 4) != 0)
		return bad(r, "expected run DURATION_MS POINTS NAME");
	if (!parse_u64(line + 4, &end, &run->duration_ms) || *end != ' ' ||
		!parse_u64(end + 1, &end, &n) || *end != ' ' || end[1] == '\0')
		return bad(r, "expected run DURATION_MS POINTS NAME");
	if (n > SIM_CHART_POINTS_MAX)
		return bad(r, "too many points");
	run->name = xstrdup(end + 1);
	run->series = xcalloc(n > 0 ? n : 1, sizeof(*run->series));
	for (run->n_series = 0; run->n_series < n; run->n_series++) {
		if (!next_line(r, line, sizeof(line)) ||
			!parse_point(line, &run->series[run->n_series]))
			return bad(r, "expected T_MS BACKLOG LOCAL BURST P95_MS MAX_MS");
	}
	return 0;
}

int sim_chart_decode(
	const char *text, size_t len, struct sim_chart *out, char error[SIM_CHART_ERROR_MAX])
{
	struct reader r = {text, text + len, 0, error};
	struct sim_chart c = {0};
	char line[1024], *end;
	uint64_t n;
	int rc = 0;

	if (!next_line(&r, line, sizeof(line)) || strcmp(line, "qscale-chart 1") != 0)
		return bad(&r, "not qscale-chart 1 input");
	if (!next_line(&r, line, sizeof(line)) || strncmp(line, "title ", 6) != 0)
		return bad(&r, "expected title TEXT");
	c.title = xstrdup(line + 6);
	if (!next_line(&r, line, sizeof(line)) || strncmp(line, "runs ", 5) != 0 ||
		!parse_u64(line + 5, &end, &n) || *end != '\0' || n == 0 ||
		n > SIM_CHART_RUNS_MAX) {
		rc = bad(&r, "expected runs N (1 to 16)");
		goto fail;
	}
	c.runs = xcalloc(n, sizeof(*c.runs));
	for (c.n_runs = 0; c.n_runs < n && rc == 0; c.n_runs++)
		rc = decode_run(&r, &c.runs[c.n_runs]);
	if (rc == 0 &&
		(!next_line(&r, line, sizeof(line)) || strcmp(line, "end") != 0 || r.p != r.end))
		rc = bad(&r, "expected end");
	if (rc < 0)
		goto fail;
	*out = c;
	return 0;
fail:
	sim_chart_finish(&c);
	return rc;
}

void sim_chart_finish(struct sim_chart *chart)
{
	for (size_t i = 0; i < chart->n_runs; i++) {
		free(chart->runs[i].name);
		free(chart->runs[i].series);
	}
	free(chart->runs);
	free(chart->title);
	memset(chart, 0, sizeof(*chart));
}

/* Feed the runs to the program's stdin; a program that stops reading gives EPIPE, not SIGPIPE. */
static int feed(int fd, const char *title, const struct sim_result *const *runs, size_t n_runs)
{
	struct sigaction ignore = {.sa_handler = SIG_IGN}, old;
	FILE *in;
	int rc;

	sigaction(SIGPIPE, &ignore, &old);
	in = fdopen(fd, "w");
	if (in == NULL) {
		close(fd);
		rc = -EIO;
	} else {
		rc = sim_chart_encode(in, title, runs, n_runs);
		if (fclose(in) != 0)
			rc = -EIO;
	}
	sigaction(SIGPIPE, &old, NULL);
	return rc;
}

/* Read what the program said on stderr (its one error line) into error. */
static void read_message(int fd, char error[SIM_CHART_ERROR_MAX])
{
	size_t len = 0;
	ssize_t n;

	while (len < SIM_CHART_ERROR_MAX - 1 &&
		(n = read(fd, error + len, SIM_CHART_ERROR_MAX - 1 - len)) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		len += (size_t)n;
	}
	while (len > 0 && (error[len - 1] == '\n' || error[len - 1] == '\r'))
		len--;
	error[len] = '\0';
	close(fd);
}

/* Start program on path with its stdin and stderr on new pipes. */
static int spawn(const char *program, const char *path, pid_t *pid, int *in_fd, int *err_fd)
{
	posix_spawn_file_actions_t fa;
	int in[2], err[2], rc;
	char *argv[] = {xstrdup(program), xstrdup(path), NULL};

	if (pipe2(in, O_CLOEXEC) < 0)
		return -errno;
	if (pipe2(err, O_CLOEXEC) < 0) {
		rc = -errno;
		close(in[0]);
		close(in[1]);
		return rc;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
	posix_spawn_file_actions_adddup2(&fa, err[1], STDERR_FILENO);
	rc = -posix_spawn(pid, program, &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	free(argv[0]);
	free(argv[1]);
	close(in[0]);
	close(err[1]);
	if (rc < 0) {
		close(in[1]);
		close(err[0]);
		return rc;
	}
	*in_fd = in[1];
	*err_fd = err[0];
	return 0;
}

int sim_chart_write(const char *path, const char *title, const struct sim_result *const *runs,
	size_t n_runs, char error[SIM_CHART_ERROR_MAX])
{
	char program[PATH_MAX];
	int in_fd = -1, err_fd = -1, status = 0, rc;
	pid_t pid;

	if (!ends_with(path, ".svg") && !ends_with(path, ".png")) {
		snprintf(error, SIM_CHART_ERROR_MAX, "%s: the report must be a .svg or .png file",
			path);
		return -EINVAL;
	}
	if (n_runs == 0 || n_runs > SIM_CHART_RUNS_MAX || runs[0]->n_series == 0) {
		snprintf(error, SIM_CHART_ERROR_MAX, "%s: nothing to draw", path);
		return -EINVAL;
	}
	sim_chart_program(program, sizeof(program));
	rc = spawn(program, path, &pid, &in_fd, &err_fd);
	if (rc < 0) {
		snprintf(error, SIM_CHART_ERROR_MAX, "cannot run the chart program %.160s: %s",
			program, strerror(-rc));
		return rc == -ENOENT ? -ENOENT : -EIO;
	}
	rc = feed(in_fd, title, runs, n_runs);
	read_message(err_fd, error);
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0 && rc == 0)
		return 0;
	if (error[0] == '\0')
		snprintf(error, SIM_CHART_ERROR_MAX, "%.100s: the chart program %.100s failed",
			path, program);
	return WIFEXITED(status) && WEXITSTATUS(status) == 2 ? -EINVAL : -EIO;
}
