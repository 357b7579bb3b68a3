/*
 * A small metrics registry rendered in the Prometheus text exposition format
 * 0.0.4: counters, gauges and histograms, each a family of series told apart
 * by label values. Families render sorted by name, series by label values, so
 * the output is stable. Each family holds at most a fixed number of series;
 * past it, new label combinations are dropped and counted.
 */
#ifndef QSCALE_METRICS_H
#define QSCALE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "qscale/buf.h"

/* The Content-Type of the rendered text. */
#define METRICS_CONTENT_TYPE "text/plain; version=0.0.4; charset=utf-8"

/* Series per family when metrics_create is given 0. */
#define METRICS_MAX_SERIES_DEFAULT 500

/* Longest label value accepted, in bytes. */
#define METRICS_LABEL_VALUE_MAX 256

/* Latency bucket bounds in seconds, for AWS calls and cycles. */
extern const double metrics_latency_buckets_s[];
extern const size_t metrics_latency_buckets_count;

enum metrics_type {
	METRICS_COUNTER,
	METRICS_GAUGE,
	METRICS_HISTOGRAM,
};

struct metrics;
struct metrics_family;

/* A registry whose families hold at most max_series series each (0: default). */
struct metrics *metrics_create(size_t max_series);

/* Free the registry and all its families; accepts NULL. */
void metrics_destroy(struct metrics *m);

/*
 * Register a family. labels is a NULL-terminated list of label names (NULL
 * for none). bounds (histograms only) are the bucket upper bounds, strictly
 * increasing and finite; "+Inf" is implied. A family without labels starts
 * with its one series at zero. 0, -EINVAL (bad name, label, bounds), or
 * -EEXIST; *out belongs to the registry.
 */
int metrics_register(struct metrics *m, enum metrics_type type, const char *name, const char *help,
	const char *const *labels, const double *bounds, size_t bounds_count,
	struct metrics_family **out);

/*
 * Update the series named by values (one per label, in the family's order;
 * NULL when the family has none; UTF-8). 0, -EINVAL (bad value, label value
 * not UTF-8 or too long, wrong family type),
 * or -E2BIG when the family is full and the series is new (dropped, counted).
 */
int metrics_counter_add(struct metrics_family *f, const char *const *values, double delta);
int metrics_gauge_set(struct metrics_family *f, const char *const *values, double value);
int metrics_gauge_add(struct metrics_family *f, const char *const *values, double delta);
int metrics_histogram_observe(struct metrics_family *f, const char *const *values, double value);

/* Forget every series of the family (e.g. policies removed on reload). */
void metrics_family_clear(struct metrics_family *f);

/*
 * Forget every series whose label `label` has the given value (a policy
 * removed on reload); the number forgotten, or -EINVAL for an unknown label.
 */
int metrics_family_forget(struct metrics_family *f, const char *label, const char *value);

/* How many updates were dropped because the family was full. */
uint64_t metrics_family_dropped(const struct metrics_family *f);

/* Append the exposition text of every family to out; 0 or -E2BIG. */
int metrics_render(const struct metrics *m, struct buf *out);

#endif
