/*
 * Traffic traces: CSV files of "timestamp_seconds,count" rows, the arrivals
 * of one queue over time. Row i's count arrives evenly over [t_i, t_i+1); the
 * last row's over the gap before it (one second for a single row). Blank
 * lines and lines starting with '#' are skipped; a first line that does not
 * start with a letter is a header. Timestamps may have a fraction, must start
 * at 0 or later and strictly increase.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <unistd.h>

#include "qscale/file.h"
#include "qscale/xalloc.h"
#include "scenario_priv.h"

/* Longest trace accepted: 50 million rows is over a year of seconds. */
#define TRACE_MAX_ROWS 50000000u
#define TRACE_MAX_LINE 256

/* Set an error at line:column of the trace. */
static int trace_fail(struct diag *diag, const char *path, unsigned line, unsigned column,
	const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static int trace_fail(
	struct diag *diag, const char *path, unsigned line, unsigned column, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vfill(diag, path, line, column, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Parse one data line "seconds,count" (spaces around fields allowed). */
static int parse_row(const char *line, struct scenario_trace_row *row, unsigned *column)
{
	const char *p = line;
	char *end;
	double secs;
	unsigned long long count;

	while (*p == ' ' || *p == '\t')
		p++;
	*column = (unsigned)(p - line) + 1;
	if ((*p < '0' || *p > '9') && *p != '.')
		return -EINVAL;
	errno = 0;
	secs = strtod(p, &end);
	if (errno == ERANGE || !isfinite(secs) || secs < 0 || secs > 3.2e8 || end == p)
		return -EINVAL;
	p = end;
	while (*p == ' ' || *p == '\t')
		p++;
	if (*p != ',')
		return -EINVAL;
	p++;
	while (*p == ' ' || *p == '\t')
		p++;
	*column = (unsigned)(p - line) + 1;
	if (*p < '0' || *p > '9')
		return -EINVAL;
	errno = 0;
	count = strtoull(p, &end, 10);
	if (errno == ERANGE || count > 1000000000000ull)
		return -EINVAL;
	p = end;
	while (*p == ' ' || *p == '\t' || *p == '\r')
		p++;
	if (*p != '\0')
		return -EINVAL;
	row->at_ms = (uint64_t)llround(secs * 1000.0);
	row->count = count;
	return 0;
}

/* A trace being read: the rows so far and the line reached. */
struct trace_reader {
	const char *path;
	struct diag *diag;
	struct scenario_trace_row *rows;
	size_t n, cap;
	unsigned lineno;
	bool seen_data;
};

/* Take one line (its newline included, len bytes): a row, a comment, a header or blank. */
static int trace_line(struct trace_reader *r, char *line, size_t len)
{
	struct scenario_trace_row row;
	unsigned column;

	r->lineno++;
	if (len > TRACE_MAX_LINE)
		return trace_fail(r->diag, r->path, r->lineno, 1, "line longer than %d characters",
			TRACE_MAX_LINE);
	if (memchr(line, '\0', len) != NULL)
		return trace_fail(r->diag, r->path, r->lineno, 1, "NUL byte in line");
	while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
		line[--len] = '\0';
	if (len == 0 || line[0] == '#')
		return 0;
	if (!r->seen_data && r->lineno == 1 && isalpha((unsigned char)line[0]))
		return 0; /* a header such as "timestamp_seconds,count" */
	r->seen_data = true;
	if (parse_row(line, &row, &column) < 0)
		return trace_fail(r->diag, r->path, r->lineno, column,
			"expected 'timestamp_seconds,count' (seconds >= 0, a whole count)");
	if (r->n > 0 && row.at_ms <= r->rows[r->n - 1].at_ms)
		return trace_fail(r->diag, r->path, r->lineno, 1, "timestamps must increase");
	if (r->n == TRACE_MAX_ROWS)
		return trace_fail(
			r->diag, r->path, r->lineno, 1, "more than %u rows", TRACE_MAX_ROWS);
	if (r->n == r->cap) {
		r->cap = r->cap ? r->cap * 2 : 1024;
		r->rows = xreallocarray(r->rows, r->cap, sizeof(*r->rows));
	}
	r->rows[r->n++] = row;
	return 0;
}

/* Replace arrivals with the rows read, which it takes over. */
static void trace_store(struct trace_reader *r, struct scenario_arrivals *arrivals)
{
	scenario_arrivals_finish(arrivals);
	memset(arrivals, 0, sizeof(*arrivals));
	arrivals->shape = SCENARIO_SHAPE_STEP;
	arrivals->trace_path = xstrdup(r->path);
	arrivals->trace = r->rows;
	arrivals->trace_count = r->n;
	arrivals->trace_last_span_ms =
		r->n > 1 ? r->rows[r->n - 1].at_ms - r->rows[r->n - 2].at_ms : 1000;
	r->rows = NULL;
}

/*
 * Open a trace through the hardened opener (a FIFO or a device is refused,
 * not waited on); traces are streamed, so only their rows are capped.
 */
static int open_trace(const char *path, FILE **out, struct diag *diag)
{
	char why[FILE_WHY_MAX];
	int fd, rc = file_open(path, 0, &fd, NULL, why, sizeof(why));
	FILE *f = NULL;

	if (rc == 0) {
		f = fdopen(fd, "r");
		if (f != NULL) {
			*out = f;
			return 0;
		}
		rc = -errno;
		close(fd);
		snprintf(why, sizeof(why), "%s", strerror(-rc));
	}
	snprintf(diag->file, sizeof(diag->file), "%s", path);
	diag->line = diag->column = 0;
	snprintf(diag->message, sizeof(diag->message), "%s", why);
	return rc;
}

/* Read a trace file into arrivals. */
int scenario_trace_load(const char *path, struct scenario_arrivals *arrivals, struct diag *diag)
{
	struct diag scratch;
	struct trace_reader r = {.path = path};
	FILE *f = NULL;
	char *line = NULL;
	size_t line_cap = 0;
	ssize_t got;
	int rc = 0;

	if (diag == NULL)
		diag = &scratch;
	r.diag = diag;
	rc = open_trace(path, &f, diag);
	if (rc < 0)
		return rc;
	while (rc == 0 && (got = getline(&line, &line_cap, f)) >= 0)
		rc = trace_line(&r, line, (size_t)got);
	if (rc == 0 && ferror(f)) {
		rc = -EIO;
		snprintf(diag->file, sizeof(diag->file), "%s", path);
		diag->line = diag->column = 0;
		snprintf(diag->message, sizeof(diag->message), "read error");
	} else if (rc == 0 && r.n == 0) {
		rc = trace_fail(diag, path, 0, 0, "no rows");
	}
	if (rc == 0)
		trace_store(&r, arrivals);
	fclose(f);
	free(line);
	free(r.rows);
	return rc;
}

/* Free arrivals' contents. */
void scenario_arrivals_finish(struct scenario_arrivals *arrivals)
{
	free(arrivals->segments);
	free(arrivals->trace_path);
	free(arrivals->trace);
	arrivals->segments = NULL;
	arrivals->trace_path = NULL;
	arrivals->trace = NULL;
	arrivals->segment_count = 0;
	arrivals->trace_count = 0;
}
