/*
 * How `qscale plan` shows one cycle: a table sized to its contents, or JSON
 * for scripts. Pure: rows in, text out; unknown values print as "-" (table)
 * or null (JSON).
 */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "qscale/controller.h"
#include "qscale/plan.h"
#include "qscale/policy.h"
#include "qscale/xalloc.h"

/* A held policy has no capacity worth showing: its decision only repeats the counts. */
void plan_row_from_status(const struct controller_policy_status *st, struct plan_row *row)
{
	const struct policy *p = st->policy;
	const struct engine_observation *o = &st->observation;
	const struct engine_decision *d = &st->decision;
	bool held = st->outcome == CONTROLLER_HELD || (d->flags & ENGINE_MISSING_DATA) != 0;

	memset(row, 0, sizeof(*row));
	row->name = p->name;
	row->outcome = controller_outcome_name(st->outcome);
	row->backlog = d->backlog;
	row->local_desired = o->local.ok ? o->local.desired : -1;
	row->local_running = st->local_running;
	row->local_capacity = held ? -1 : d->local_capacity;
	row->has_burst = p->burst.present;
	row->burst_desired = p->burst.present && o->burst.ok ? o->burst.desired : -1;
	row->burst_running = p->burst.present ? st->burst_running : -1;
	row->local_set = d->local_desired;
	row->burst_set = d->burst_desired;
	row->update_local = d->update_local;
	row->update_burst = d->update_burst;
	row->reason = engine_decision_reason(d, row->reason_text, sizeof(row->reason_text));
	row->error = st->last_error[0] != '\0' ? st->last_error : NULL;
}

/* A count, or "-" when unknown (negative). */
static char *num(int64_t v)
{
	return v < 0 ? xstrdup("-") : xasprintf("%" PRId64, v);
}

/* "a/b[/c]" of counts, "-" for each unknown one. */
static char *counts(int32_t a, int32_t b, int32_t c, bool three)
{
	char *sa = num(a), *sb = num(b), *sc = num(c);
	char *s = three ? xasprintf("%s/%s/%s", sa, sb, sc) : xasprintf("%s/%s", sa, sb);

	free(sa);
	free(sb);
	free(sc);
	return s;
}

/* One count's change for the "would set" column: "12", "8->12" or "-". */
static char *change(int32_t before, int32_t after, bool update)
{
	if (!update)
		return num(before >= 0 ? before : after);
	if (before < 0)
		return xasprintf("->%" PRId32, after);
	return xasprintf("%" PRId32 "->%" PRId32, before, after);
}

/* The "would set" cell: the new counts and whether they differ. */
static char *would_set(const struct plan_row *r)
{
	if (strcmp(r->outcome, "held") == 0)
		return xstrdup("hold");
	char *l = change(r->local_desired, r->local_set, r->update_local);
	char *b = r->has_burst ? change(r->burst_desired, r->burst_set, r->update_burst) : NULL;
	char *s = b != NULL ? xasprintf("local %s, burst %s", l, b) : xasprintf("local %s", l);

	free(l);
	free(b);
	if (!r->update_local && !r->update_burst) {
		char *t = xasprintf("%s (no change)", s);
		free(s);
		s = t;
	}
	return s;
}

/* The "why" cell: the reason, with the cycle's error first when there is one. */
static char *why(const struct plan_row *r)
{
	if (r->error != NULL && r->reason != NULL && r->reason[0] != '\0')
		return xasprintf("%s; %s", r->error, r->reason);
	if (r->error != NULL)
		return xstrdup(r->error);
	return xstrdup(r->reason != NULL ? r->reason : "");
}

enum { COL_POLICY, COL_OUTCOME, COL_BACKLOG, COL_LOCAL, COL_BURST, COL_SET, COL_WHY, N_COLS };

/* Two passes: size every column to its widest cell, then print. */
void plan_render_table(const struct plan_row *rows, size_t n, FILE *out)
{
	static const char *const head[N_COLS] = {
		"POLICY", "OUTCOME", "BACKLOG", "LOCAL D/R/CAP", "BURST D/R", "WOULD SET", "WHY"};
	size_t width[N_COLS];
	char **cells = xcalloc(n * N_COLS + 1, sizeof(*cells));

	for (size_t c = 0; c < N_COLS; c++)
		width[c] = strlen(head[c]);
	for (size_t i = 0; i < n; i++) {
		const struct plan_row *r = &rows[i];
		char **row = &cells[i * N_COLS];
		row[COL_POLICY] = xstrdup(r->name);
		/* plan never acts: a change is one it would make. */
		row[COL_OUTCOME] =
			xstrdup(strcmp(r->outcome, "scaled") == 0 ? "would scale" : r->outcome);
		row[COL_BACKLOG] = num(r->backlog);
		row[COL_LOCAL] =
			counts(r->local_desired, r->local_running, r->local_capacity, true);
		row[COL_BURST] = r->has_burst ? counts(r->burst_desired, r->burst_running, 0, false)
					      : xstrdup("-");
		row[COL_SET] = would_set(r);
		row[COL_WHY] = why(r);
		for (size_t c = 0; c < N_COLS; c++) {
			if (strlen(row[c]) > width[c])
				width[c] = strlen(row[c]);
		}
	}
	for (size_t i = 0; i <= n; i++) {
		for (size_t c = 0; c < N_COLS; c++) {
			const char *s = i == 0 ? head[c] : cells[(i - 1) * N_COLS + c];
			if (c == N_COLS - 1)
				fprintf(out, "%s\n", s);
			else
				fprintf(out, "%-*s  ", (int)width[c], s);
		}
	}
	for (size_t i = 0; i < n * N_COLS; i++)
		free(cells[i]);
	free(cells);
}

/* Emit a string, or null. */
static void gen_str(yajl_gen g, const char *s)
{
	if (s == NULL)
		yajl_gen_null(g);
	else
		yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* Emit a count, or null when unknown. */
static void gen_num(yajl_gen g, int64_t v)
{
	if (v < 0)
		yajl_gen_null(g);
	else
		yajl_gen_integer(g, v);
}

/* Emit {"desired":..,"running":..,["capacity":..,]"set":..,"change":..}. */
static void gen_service(yajl_gen g, int32_t desired, int32_t running, const int32_t *capacity,
	int32_t set, bool update)
{
	yajl_gen_map_open(g);
	gen_str(g, "desired");
	gen_num(g, desired);
	gen_str(g, "running");
	gen_num(g, running);
	if (capacity != NULL) {
		gen_str(g, "capacity");
		gen_num(g, *capacity);
	}
	gen_str(g, "set");
	gen_num(g, set);
	gen_str(g, "change");
	yajl_gen_bool(g, update);
	yajl_gen_map_close(g);
}

/* One object per row; a held row has no counts to set. */
void plan_render_json(const struct plan_row *rows, size_t n, FILE *out)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *buf;
	size_t len;

	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "  ");
	yajl_gen_map_open(g);
	gen_str(g, "dry_run");
	yajl_gen_bool(g, 1);
	gen_str(g, "policies");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n; i++) {
		const struct plan_row *r = &rows[i];
		bool held = strcmp(r->outcome, "held") == 0;
		yajl_gen_map_open(g);
		gen_str(g, "name");
		gen_str(g, r->name);
		gen_str(g, "outcome");
		gen_str(g, r->outcome);
		gen_str(g, "backlog");
		gen_num(g, r->backlog);
		gen_str(g, "local");
		gen_service(g, r->local_desired, r->local_running, &r->local_capacity,
			held ? -1 : r->local_set, r->update_local);
		gen_str(g, "burst");
		if (r->has_burst)
			gen_service(g, r->burst_desired, r->burst_running, NULL,
				held ? -1 : r->burst_set, r->update_burst);
		else
			yajl_gen_null(g);
		gen_str(g, "reason");
		gen_str(g, r->reason != NULL ? r->reason : "");
		gen_str(g, "error");
		gen_str(g, r->error);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	fwrite(buf, 1, len, out);
	yajl_gen_free(g);
}

/* Any held or failed row makes the plan incomplete. */
int plan_exit_status(const struct plan_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(rows[i].outcome, "held") == 0 || strcmp(rows[i].outcome, "failed") == 0)
			return 1;
	}
	return 0;
}
