/*
 * `qscale plan`: one observe + decide cycle against live AWS, through the
 * controller in dry-run, shown as a table or JSON. The rendering is pure: a
 * row per policy in, text out; plan_run runs the cycle.
 */
#ifndef QSCALE_PLAN_H
#define QSCALE_PLAN_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "qscale/engine.h"

struct controller_policy_status;
struct qscale_config;

/* What plan_run returns for a configuration the AWS client refuses. */
#define PLAN_EXIT_CONFIG 2

/*
 * Run one dry-run cycle of config (owned from here on) against AWS and print
 * it to stdout as a table or JSON. Returns the exit status: 0 every policy
 * decided, 1 a policy held or the cycle could not run, PLAN_EXIT_CONFIG.
 */
int plan_run(struct qscale_config *config, bool json);

/* What plan shows of one policy; strings are borrowed, but for the reason's text. */
struct plan_row {
	const char *name;
	const char
		*outcome; /* controller_outcome_name(): "unchanged", "scaled", "held", "failed" */
	int64_t backlog; /* -1 unknown */
	int32_t local_desired; /* as observed; -1 unknown */
	int32_t local_running;
	int32_t local_capacity; /* -1 unknown */
	bool has_burst;
	int32_t burst_desired; /* as observed; -1 unknown */
	int32_t burst_running;
	int32_t local_set; /* what the decision sets (would set: plan never acts) */
	int32_t burst_set;
	bool update_local;
	bool update_burst;
	const char *reason; /* the engine's reason, "" when none */
	const char *error; /* the cycle's first error, NULL when none */
	char reason_text[ENGINE_REASON_MAX]; /* where plan_row_from_status writes the reason */
};

/*
 * Fill row from the controller's status of one decided policy (borrowing its
 * strings; the reason is written into the row, which must stay where it is).
 */
void plan_row_from_status(const struct controller_policy_status *status, struct plan_row *row);

/*
 * Write the table: a header line, then one line per row with the policy,
 * outcome, backlog, local desired/running/capacity, burst desired/running,
 * what would be set and why ("-" for anything unknown).
 */
void plan_render_table(const struct plan_row *rows, size_t n, FILE *out);

/*
 * Write {"dry_run":true,"policies":[...]} with one object per row (unknown
 * numbers are null; "burst" is null without a burst service), indented,
 * ending in a newline.
 */
void plan_render_json(const struct plan_row *rows, size_t n, FILE *out);

/* The exit status plan ends with: 0 when every row was decided, 1 when any was held or failed. */
int plan_exit_status(const struct plan_row *rows, size_t n);

#endif
