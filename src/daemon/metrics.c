/*
 * The metrics registry and its Prometheus text rendering (format 0.0.4).
 * Families are kept sorted by name and series by label values, so rendering
 * is a straight walk. Pure: no I/O, no clock, no logging.
 */
#include <errno.h>
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/metrics.h"
#include "qscale/xalloc.h"

const double metrics_latency_buckets_s[] = {
	0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
const size_t metrics_latency_buckets_count =
	sizeof(metrics_latency_buckets_s) / sizeof(metrics_latency_buckets_s[0]);

struct series {
	char **values; /* one per label */
	double value; /* counters and gauges */
	uint64_t *buckets; /* histograms: per-bucket (not cumulative) counts */
	uint64_t count;
	double sum;
};

struct metrics_family {
	enum metrics_type type;
	char *name;
	char *help;
	char **labels;
	size_t labels_count;
	double *bounds;
	size_t bounds_count;
	struct series **series;
	size_t series_count;
	size_t max_series;
	uint64_t dropped;
};

struct metrics {
	struct metrics_family **families;
	size_t families_count;
	size_t max_series;
};

/* Create an empty registry. */
struct metrics *metrics_create(size_t max_series)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->max_series = max_series ? max_series : METRICS_MAX_SERIES_DEFAULT;
	return m;
}

/* Free one series. */
static void series_free(struct series *s, size_t labels_count)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < labels_count; i++)
		free(s->values[i]);
	free(s->values);
	free(s->buckets);
	free(s);
}

/* Free a family and its series. */
static void family_free(struct metrics_family *f)
{
	if (f == NULL)
		return;
	for (size_t i = 0; i < f->series_count; i++)
		series_free(f->series[i], f->labels_count);
	free(f->series);
	for (size_t i = 0; i < f->labels_count; i++)
		free(f->labels[i]);
	free(f->labels);
	free(f->bounds);
	free(f->name);
	free(f->help);
	free(f);
}

/* Free the registry. */
void metrics_destroy(struct metrics *m)
{
	if (m == NULL)
		return;
	for (size_t i = 0; i < m->families_count; i++)
		family_free(m->families[i]);
	free(m->families);
	free(m);
}

/* Metric names: [a-zA-Z_:][a-zA-Z0-9_:]*; label names the same without ':'. */
static bool valid_name(const char *name, bool colon_ok)
{
	if (name == NULL || name[0] == '\0')
		return false;
	for (size_t i = 0; name[i] != '\0'; i++) {
		char c = name[i];
		bool alpha = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';

		if (alpha || (colon_ok && c == ':'))
			continue;
		if (i > 0 && c >= '0' && c <= '9')
			continue;
		return false;
	}
	return true;
}

/* Label names: valid, not reserved ("__" prefix, "le" on histograms), distinct. */
static bool valid_labels(enum metrics_type type, const char *const *labels, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (!valid_name(labels[i], false) || strncmp(labels[i], "__", 2) == 0)
			return false;
		if (type == METRICS_HISTOGRAM && strcmp(labels[i], "le") == 0)
			return false;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(labels[i], labels[j]) == 0)
				return false;
		}
	}
	return true;
}

/* Bucket bounds: finite and strictly increasing, at least one. */
static bool valid_bounds(const double *bounds, size_t n)
{
	if (bounds == NULL || n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!isfinite(bounds[i]) || (i > 0 && bounds[i] <= bounds[i - 1]))
			return false;
	}
	return true;
}

/* Whether s is well-formed UTF-8 (no overlongs, surrogates or values past U+10FFFF). */
static bool valid_utf8(const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	while (*p != '\0') {
		unsigned char c = *p;
		size_t n;
		uint32_t cp;

		if (c < 0x80) {
			p++;
			continue;
		} else if ((c & 0xe0) == 0xc0) {
			n = 1;
			cp = c & 0x1f;
		} else if ((c & 0xf0) == 0xe0) {
			n = 2;
			cp = c & 0x0f;
		} else if ((c & 0xf8) == 0xf0) {
			n = 3;
			cp = c & 0x07;
		} else {
			return false;
		}
		for (size_t i = 1; i <= n; i++) {
			if ((p[i] & 0xc0) != 0x80)
				return false;
			cp = (cp << 6) | (p[i] & 0x3f);
		}
		if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000) ||
			cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
			return false;
		p += n + 1;
	}
	return true;
}

/* A new series with copies of the label values, all zero. */
static struct series *series_new(const struct metrics_family *f, const char *const *values)
{
	struct series *s = xcalloc(1, sizeof(*s));

	s->values = xcalloc(f->labels_count ? f->labels_count : 1, sizeof(char *));
	for (size_t i = 0; i < f->labels_count; i++)
		s->values[i] = xstrdup(values[i]);
	if (f->type == METRICS_HISTOGRAM)
		s->buckets = xcalloc(f->bounds_count, sizeof(uint64_t));
	return s;
}

/* Register a family, keeping the list sorted by name. */
int metrics_register(struct metrics *m, enum metrics_type type, const char *name, const char *help,
	const char *const *labels, const double *bounds, size_t bounds_count,
	struct metrics_family **out)
{
	struct metrics_family *f;
	size_t n = 0, pos = 0;

	if (!valid_name(name, true) || help == NULL || !valid_utf8(help))
		return -EINVAL;
	if (type != METRICS_COUNTER && type != METRICS_GAUGE && type != METRICS_HISTOGRAM)
		return -EINVAL;
	while (labels != NULL && labels[n] != NULL)
		n++;
	if (!valid_labels(type, labels, n))
		return -EINVAL;
	if (type == METRICS_HISTOGRAM ? !valid_bounds(bounds, bounds_count) : bounds_count != 0)
		return -EINVAL;
	while (pos < m->families_count) {
		int c = strcmp(m->families[pos]->name, name);

		if (c == 0)
			return -EEXIST;
		if (c > 0)
			break;
		pos++;
	}

	f = xcalloc(1, sizeof(*f));
	f->type = type;
	f->name = xstrdup(name);
	f->help = xstrdup(help);
	f->labels_count = n;
	f->labels = xcalloc(n ? n : 1, sizeof(char *));
	for (size_t i = 0; i < n; i++)
		f->labels[i] = xstrdup(labels[i]);
	if (type == METRICS_HISTOGRAM) {
		f->bounds = xcalloc(bounds_count, sizeof(double));
		memcpy(f->bounds, bounds, bounds_count * sizeof(double));
		f->bounds_count = bounds_count;
	}
	f->max_series = m->max_series;
	if (n == 0) {
		f->series = xcalloc(1, sizeof(struct series *));
		f->series[0] = series_new(f, NULL);
		f->series_count = 1;
	}

	m->families = xreallocarray(m->families, m->families_count + 1, sizeof(*m->families));
	memmove(m->families + pos + 1, m->families + pos,
		(m->families_count - pos) * sizeof(*m->families));
	m->families[pos] = f;
	m->families_count++;
	*out = f;
	return 0;
}

/* Compare label value lists in label order. */
static int compare_values(const struct metrics_family *f, char *const *a, const char *const *b)
{
	for (size_t i = 0; i < f->labels_count; i++) {
		int c = strcmp(a[i], b[i]);

		if (c != 0)
			return c;
	}
	return 0;
}

/* Find or create the series for values; NULL with *err set when impossible. */
static struct series *lookup(struct metrics_family *f, const char *const *values, int *err)
{
	size_t lo = 0, hi = f->series_count;
	struct series *s;

	if (f->labels_count > 0 && values == NULL) {
		*err = -EINVAL;
		return NULL;
	}
	for (size_t i = 0; i < f->labels_count; i++) {
		if (values[i] == NULL) {
			*err = -EINVAL;
			return NULL;
		}
	}
	if (f->labels_count == 0)
		return f->series[0];
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = compare_values(f, f->series[mid]->values, values);

		if (c == 0)
			return f->series[mid];
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	/*
	 * Checked only for a new series: values equal to a stored series' passed
	 * when it was made, and every decision updates a dozen existing ones.
	 */
	for (size_t i = 0; i < f->labels_count; i++) {
		if (strlen(values[i]) > METRICS_LABEL_VALUE_MAX || !valid_utf8(values[i])) {
			*err = -EINVAL;
			return NULL;
		}
	}
	if (f->series_count >= f->max_series) {
		f->dropped++;
		*err = -E2BIG;
		return NULL;
	}
	s = series_new(f, values);
	f->series = xreallocarray(f->series, f->series_count + 1, sizeof(*f->series));
	memmove(f->series + lo + 1, f->series + lo, (f->series_count - lo) * sizeof(*f->series));
	f->series[lo] = s;
	f->series_count++;
	return s;
}

/* Add a non-negative amount to a counter. */
int metrics_counter_add(struct metrics_family *f, const char *const *values, double delta)
{
	struct series *s;
	int err = 0;

	if (f->type != METRICS_COUNTER || !isfinite(delta) || delta < 0)
		return -EINVAL;
	s = lookup(f, values, &err);
	if (s == NULL)
		return err;
	s->value += delta;
	return 0;
}

/* Set a gauge. */
int metrics_gauge_set(struct metrics_family *f, const char *const *values, double value)
{
	struct series *s;
	int err = 0;

	if (f->type != METRICS_GAUGE || isnan(value))
		return -EINVAL;
	s = lookup(f, values, &err);
	if (s == NULL)
		return err;
	s->value = value;
	return 0;
}

/* Move a gauge up or down. */
int metrics_gauge_add(struct metrics_family *f, const char *const *values, double delta)
{
	struct series *s;
	int err = 0;

	if (f->type != METRICS_GAUGE || !isfinite(delta))
		return -EINVAL;
	s = lookup(f, values, &err);
	if (s == NULL)
		return err;
	s->value += delta;
	return 0;
}

/* Count one observation into its bucket. */
int metrics_histogram_observe(struct metrics_family *f, const char *const *values, double value)
{
	struct series *s;
	int err = 0;

	if (f->type != METRICS_HISTOGRAM || isnan(value))
		return -EINVAL;
	s = lookup(f, values, &err);
	if (s == NULL)
		return err;
	for (size_t i = 0; i < f->bounds_count; i++) {
		if (value <= f->bounds[i]) {
			s->buckets[i]++;
			break;
		}
	}
	s->count++;
	s->sum += value;
	return 0;
}

/* Forget all series; a label-less family keeps its one series, zeroed. */
void metrics_family_clear(struct metrics_family *f)
{
	if (f->labels_count == 0) {
		struct series *s = f->series[0];

		s->value = 0;
		s->count = 0;
		s->sum = 0;
		if (s->buckets != NULL)
			memset(s->buckets, 0, f->bounds_count * sizeof(uint64_t));
		return;
	}
	for (size_t i = 0; i < f->series_count; i++)
		series_free(f->series[i], f->labels_count);
	f->series_count = 0;
}

/* Drop the series whose label has the given value, keeping the order. */
int metrics_family_forget(struct metrics_family *f, const char *label, const char *value)
{
	size_t idx = f->labels_count, kept = 0;
	int removed = 0;

	for (size_t i = 0; i < f->labels_count; i++) {
		if (strcmp(f->labels[i], label) == 0)
			idx = i;
	}
	if (idx == f->labels_count || value == NULL)
		return -EINVAL;
	for (size_t i = 0; i < f->series_count; i++) {
		if (strcmp(f->series[i]->values[idx], value) == 0) {
			series_free(f->series[i], f->labels_count);
			removed++;
		} else {
			f->series[kept++] = f->series[i];
		}
	}
	f->series_count = kept;
	return removed;
}

/* Updates dropped because the family was full. */
uint64_t metrics_family_dropped(const struct metrics_family *f)
{
	return f->dropped;
}

/* v in decimal, after a minus sign when negative, into out (at least 22 bytes). */
static void format_count(uint64_t v, bool negative, char *out)
{
	char digits[20];
	size_t n = 0;

	do {
		digits[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	if (negative)
		*out++ = '-';
	while (n > 0)
		*out++ = digits[--n];
	*out = '\0';
}

/* Shortest text that reads back as the same double; Prometheus spellings of Inf/NaN. */
static void format_value(double v, char *out, size_t size)
{
	/*
	 * Most samples are counts: a whole number below 10^15 is what "%.15g"
	 * writes for it, its digits, without printf and the strtod check.
	 */
	if (v == floor(v) && fabs(v) < 1e15 && size >= 17 && !(v == 0 && signbit(v))) {
		format_count((uint64_t)fabs(v), v < 0, out);
		return;
	}
	/*
	 * Seconds to the millisecond (a success's wall time, a latency sum):
	 * when v is the double nearest some m / 1000 with |m| < 10^15, "%.15g"
	 * writes that decimal, its trailing zeros dropped.
	 */
	if (fabs(v) < 1e12 && size >= 18) {
		double m = round(v * 1000);

		if (m / 1000 == v && fmod(m, 1000) != 0) {
			uint64_t whole = (uint64_t)fabs(m) / 1000, frac = (uint64_t)fabs(m) % 1000;
			size_t n;

			format_count(whole, v < 0, out);
			n = strlen(out);
			out[n++] = '.';
			out[n++] = (char)('0' + frac / 100);
			out[n++] = (char)('0' + frac / 10 % 10);
			out[n++] = (char)('0' + frac % 10);
			while (out[n - 1] == '0')
				n--;
			out[n] = '\0';
			return;
		}
	}
	if (isnan(v)) {
		snprintf(out, size, "NaN");
	} else if (isinf(v)) {
		snprintf(out, size, v > 0 ? "+Inf" : "-Inf");
	} else {
		snprintf(out, size, "%.15g", v);
		if (strtod(out, NULL) != v)
			snprintf(out, size, "%.17g", v);
	}
}

/* Append text with the given characters escaped (label values, HELP). */
static int put_escaped(struct buf *out, const char *s, bool quotes)
{
	int r = 0;

	while (*s != '\0' && r == 0) {
		/* The run up to the next byte to escape goes in one piece. */
		size_t n = strcspn(s, quotes ? "\\\n\"" : "\\\n");

		r = buf_append(out, s, n);
		s += n;
		if (r != 0 || *s == '\0')
			break;
		r = buf_puts(out, *s == '\\' ? "\\\\" : *s == '\n' ? "\\n" : "\\\"");
		s++;
	}
	return r;
}

/* Append one sample line: name[suffix]{labels[,le="x"]} value. */
static int put_sample(struct buf *out, const struct metrics_family *f, const struct series *s,
	const char *suffix, const char *le, const char *value)
{
	/* Pieces, not printf: a scrape writes thousands of these lines. */
	int r = buf_puts(out, f->name);

	if (r == 0)
		r = buf_puts(out, suffix);
	if (r == 0 && (f->labels_count > 0 || le != NULL)) {
		r = buf_putc(out, '{');
		for (size_t i = 0; r == 0 && i < f->labels_count; i++) {
			if (i > 0)
				r = buf_putc(out, ',');
			if (r == 0)
				r = buf_puts(out, f->labels[i]);
			if (r == 0)
				r = buf_puts(out, "=\"");
			if (r == 0)
				r = put_escaped(out, s->values[i], true);
			if (r == 0)
				r = buf_putc(out, '"');
		}
		if (r == 0 && le != NULL) {
			r = buf_puts(out, f->labels_count ? ",le=\"" : "le=\"");
			if (r == 0)
				r = buf_puts(out, le);
			if (r == 0)
				r = buf_putc(out, '"');
		}
		if (r == 0)
			r = buf_putc(out, '}');
	}
	if (r == 0)
		r = buf_putc(out, ' ');
	if (r == 0)
		r = buf_puts(out, value);
	if (r == 0)
		r = buf_putc(out, '\n');
	return r;
}

/* Append a histogram series: cumulative buckets, +Inf, sum and count. */
static int put_histogram(struct buf *out, const struct metrics_family *f, const struct series *s)
{
	char le[32], value[32];
	uint64_t cumulative = 0;
	int r = 0;

	for (size_t i = 0; r == 0 && i < f->bounds_count; i++) {
		cumulative += s->buckets[i];
		format_value(f->bounds[i], le, sizeof(le));
		format_count(cumulative, false, value);
		r = put_sample(out, f, s, "_bucket", le, value);
	}
	format_count(s->count, false, value);
	if (r == 0)
		r = put_sample(out, f, s, "_bucket", "+Inf", value);
	format_value(s->sum, le, sizeof(le));
	if (r == 0)
		r = put_sample(out, f, s, "_sum", NULL, le);
	if (r == 0)
		r = put_sample(out, f, s, "_count", NULL, value);
	return r;
}

/* Render every family: HELP, TYPE, then its series in order. */
int metrics_render(const struct metrics *m, struct buf *out)
{
	static const char *const type_names[] = {"counter", "gauge", "histogram"};
	char value[32];
	int r = 0;

	for (size_t i = 0; r == 0 && i < m->families_count; i++) {
		const struct metrics_family *f = m->families[i];

		r = buf_printf(out, "# HELP %s ", f->name);
		if (r == 0)
			r = put_escaped(out, f->help, false);
		if (r == 0)
			r = buf_printf(out, "\n# TYPE %s %s\n", f->name, type_names[f->type]);
		for (size_t j = 0; r == 0 && j < f->series_count; j++) {
			if (f->type == METRICS_HISTOGRAM) {
				r = put_histogram(out, f, f->series[j]);
			} else {
				format_value(f->series[j]->value, value, sizeof(value));
				r = put_sample(out, f, f->series[j], "", NULL, value);
			}
		}
	}
	return r;
}
