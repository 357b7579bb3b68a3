/*
 * Printing simulation results: a table people read (runs side by side, one
 * block per policy, the AWS calls and ECS limits) and the same numbers as
 * JSON through yajl's generator; sweeps as one row per value.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/types.h>

#include <yajl/yajl_gen.h>

#include "qscale/duration.h"
#include "qscale/sim_report.h"

/* Seconds in thirty days, the month sweeps normalise to. */
#define MONTH_S (30.0 * 86400.0)

char *sim_format_wait(uint64_t ms, char out[32])
{
	if (ms < 1000)
		snprintf(out, 32, "%" PRIu64 "ms", ms);
	else if (ms < 60000)
		snprintf(out, 32, "%.1fs", (double)ms / 1000.0);
	else if (ms < 3600000)
		snprintf(out, 32, "%" PRIu64 "m%02" PRIu64 "s", ms / 60000, ms / 1000 % 60);
	else
		snprintf(out, 32, "%" PRIu64 "h%02" PRIu64 "m", ms / 3600000, ms / 60000 % 60);
	return out;
}

/* A summary row: its label and how to print one run's value of it. */
enum row_kind {
	ROW_COUNT,
	ROW_WAIT,
	ROW_HOURS,
	ROW_PERCENT,
	ROW_MONEY,
	ROW_MEAN,
};

struct row {
	const char *label;
	enum row_kind kind;
	size_t offset; /* into struct sim_summary */
};

#define ROW(label, kind, field) \
	{ \
		label, kind, offsetof(struct sim_summary, field) \
	}

static const struct row rows[] = {
	ROW("messages arrived", ROW_COUNT, arrived),
	ROW("messages processed", ROW_COUNT, processed),
	ROW("wait p50", ROW_WAIT, wait_p50_ms),
	ROW("wait p95", ROW_WAIT, wait_p95_ms),
	ROW("wait p99", ROW_WAIT, wait_p99_ms),
	ROW("wait max", ROW_WAIT, wait_max_ms),
	ROW("largest backlog", ROW_COUNT, max_backlog),
	ROW("mean backlog", ROW_MEAN, mean_backlog),
	ROW("on-prem task-hours", ROW_HOURS, local_task_hours),
	ROW("on-prem unplaced task-hours", ROW_HOURS, local_unplaced_task_hours),
	ROW("on-prem fleet utilisation", ROW_PERCENT, utilisation),
	ROW("Fargate task-hours", ROW_HOURS, burst_task_hours),
	ROW("Fargate cost (USD)", ROW_MONEY, burst_cost),
	ROW("scaling actions", ROW_COUNT, scale_actions),
	ROW("cycles held (data missing)", ROW_COUNT, held),
};

/* One run's value of a row, as text. */
static void cell(const struct sim_summary *s, const struct row *r, char out[32])
{
	const char *base = (const char *)s + r->offset;
	uint64_t u;
	double d;

	switch (r->kind) {
	case ROW_COUNT:
		memcpy(&u, base, sizeof(u));
		snprintf(out, 32, "%" PRIu64, u);
		break;
	case ROW_WAIT:
		memcpy(&u, base, sizeof(u));
		sim_format_wait(u, out);
		break;
	case ROW_HOURS:
		memcpy(&d, base, sizeof(d));
		snprintf(out, 32, "%.1f", d);
		break;
	case ROW_PERCENT:
		memcpy(&d, base, sizeof(d));
		snprintf(out, 32, "%.1f%%", d * 100.0);
		break;
	case ROW_MONEY:
		memcpy(&d, base, sizeof(d));
		snprintf(out, 32, "%.2f", d);
		break;
	case ROW_MEAN:
		memcpy(&d, base, sizeof(d));
		snprintf(out, 32, "%.1f", d);
		break;
	}
}

/* The block of one policy (or the total) with a column per run. */
static void table_block(FILE *out, const char *title, const struct sim_result *const *runs,
	size_t n_runs, ssize_t policy)
{
	fprintf(out, "%-30s", title);
	for (size_t k = 0; k < n_runs; k++)
		fprintf(out, " %16s", sim_mode_name(runs[k]->mode));
	fputc('\n', out);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		fprintf(out, "  %-28s", rows[i].label);
		for (size_t k = 0; k < n_runs; k++) {
			const struct sim_summary *s =
				policy < 0 ? &runs[k]->total : &runs[k]->policies[policy].s;
			char text[32];

			cell(s, &rows[i], text);
			fprintf(out, " %16s", text);
		}
		fputc('\n', out);
	}
	fputc('\n', out);
}

/* The AWS calls of one run, per kind and against ECS's buckets. */
static void table_calls(FILE *out, const struct sim_result *r)
{
	double days = (double)r->duration_ms / 86400000.0;

	fprintf(out, "AWS calls (%s)%*s %12s %12s\n", sim_mode_name(r->mode),
		(int)(18 - strlen(sim_mode_name(r->mode))), "", "total", "per day");
	for (size_t i = 0; i < CLOUD_SIM_CALLS; i++)
		fprintf(out, "  %-28s %12" PRIu64 " %12.0f\n",
			cloud_sim_call_name((enum cloud_sim_call)i), r->calls.count[i],
			days > 0 ? (double)r->calls.count[i] / days : 0);
	fprintf(out, "  %-28s %12" PRIu64 "\n", "answered with a fault", r->calls.faulted);
	fprintf(out, "ECS rate limits (%s)%*s %12s %12s %8s %8s %8s\n", sim_mode_name(r->mode),
		(int)(12 - strlen(sim_mode_name(r->mode))), "", "per day", "sustained/d", "peak/s",
		"bucket", "throttled");
	for (size_t i = 0; i < CLOUD_SIM_CATEGORIES; i++) {
		const struct cloud_sim_limit *l = &r->calls.limits[i];

		fprintf(out, "  %-28s %12.0f %12.0f %8" PRIu32 " %8.0f %8" PRIu64 "\n", l->name,
			days > 0 ? (double)l->calls / days : 0, l->refill_per_s * 86400.0,
			l->peak_per_s, l->bucket, l->over);
	}
	fputc('\n', out);
}

/* The lines naming what was simulated. */
static void table_header(
	FILE *out, const struct sim_report_info *info, const struct sim_result *r, bool fleet)
{
	char d[DURATION_FORMAT_MAX];

	fprintf(out, "qscale simulate: %s of traffic, %zu polic%s, scenario %s%s%s, seed %" PRIu64,
		duration_format(r->duration_ms, d), r->n_policies, r->n_policies == 1 ? "y" : "ies",
		info->scenario, info->trace != NULL ? ", trace " : "",
		info->trace != NULL ? info->trace : "", info->seed);
	if (info->elapsed_s >= 0)
		fprintf(out, " (%.2f s)", info->elapsed_s);
	fputc('\n', out);
	if (fleet)
		fprintf(out, "on-prem fleet: %" PRIu32 " instance%s, %" PRIu32 " task slots\n",
			r->fleet_instances, r->fleet_instances == 1 ? "" : "s", r->fleet_slots);
	fputc('\n', out);
}

void sim_report_table(FILE *out, const struct sim_report_info *info,
	const struct sim_result *const *runs, size_t n_runs)
{
	if (n_runs == 0)
		return;
	table_header(out, info, runs[0], true);
	for (size_t i = 0; i < runs[0]->n_policies; i++) {
		char title[128];

		snprintf(title, sizeof(title), "policy %s (queue %s)", runs[0]->policies[i].name,
			runs[0]->policies[i].queue);
		table_block(out, title, runs, n_runs, (ssize_t)i);
	}
	if (runs[0]->n_policies > 1)
		table_block(out, "all policies", runs, n_runs, -1);
	for (size_t k = 0; k < n_runs; k++) {
		if (runs[k]->mode == SIM_QSCALE)
			table_calls(out, runs[k]);
	}
	for (size_t k = 0; k < n_runs; k++) {
		if (runs[k]->updates == NULL)
			continue;
		fprintf(out, "UpdateService (%s)\n", sim_mode_name(runs[k]->mode));
		for (size_t i = 0; i < runs[k]->n_updates; i++) {
			const struct sim_update *u = &runs[k]->updates[i];

			fprintf(out, "  t=%-10.3f %s/%s %" PRId32 "->%" PRId32 "\n",
				(double)u->t_ms / 1000.0, u->cluster, u->service, u->from, u->to);
		}
		fputc('\n', out);
	}
}

/* ---- JSON ---- */

static void j_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

static void j_uint(yajl_gen g, const char *key, uint64_t v)
{
	char text[32];

	j_str(g, key);
	snprintf(text, sizeof(text), "%" PRIu64, v);
	yajl_gen_number(g, text, strlen(text));
}

/* A number with a sensible number of digits (yajl would print 17). */
static void j_num(yajl_gen g, const char *key, double v)
{
	char text[32];

	j_str(g, key);
	snprintf(text, sizeof(text), "%.6g", v);
	yajl_gen_number(g, text, strlen(text));
}

static void j_summary(yajl_gen g, const struct sim_summary *s)
{
	j_uint(g, "arrived", s->arrived);
	j_uint(g, "processed", s->processed);
	j_uint(g, "waiting_at_end", s->waiting);
	j_num(g, "wait_p50_s", (double)s->wait_p50_ms / 1000.0);
	j_num(g, "wait_p95_s", (double)s->wait_p95_ms / 1000.0);
	j_num(g, "wait_p99_s", (double)s->wait_p99_ms / 1000.0);
	j_num(g, "wait_max_s", (double)s->wait_max_ms / 1000.0);
	j_num(g, "wait_mean_s", s->wait_mean_ms / 1000.0);
	j_uint(g, "max_backlog", s->max_backlog);
	j_num(g, "mean_backlog", s->mean_backlog);
	j_num(g, "onprem_task_hours", s->local_task_hours);
	j_num(g, "onprem_unplaced_task_hours", s->local_unplaced_task_hours);
	j_num(g, "onprem_utilisation", s->utilisation);
	j_num(g, "fargate_task_hours", s->burst_task_hours);
	j_num(g, "fargate_vcpu_hours", s->burst_vcpu_hours);
	j_num(g, "fargate_gb_hours", s->burst_gb_hours);
	j_num(g, "fargate_cost", s->burst_cost);
	j_uint(g, "scaling_actions", s->scale_actions);
	j_uint(g, "cycles", s->cycles);
	j_uint(g, "cycles_held", s->held);
}

static void j_run(yajl_gen g, const struct sim_result *r)
{
	double days = (double)r->duration_ms / 86400000.0;

	yajl_gen_map_open(g);
	j_str(g, "mode");
	j_str(g, sim_mode_name(r->mode));
	j_num(g, "duration_s", (double)r->duration_ms / 1000.0);
	j_uint(g, "steps", r->steps);
	j_uint(g, "fleet_instances", r->fleet_instances);
	j_uint(g, "fleet_task_slots", r->fleet_slots);
	j_str(g, "total");
	yajl_gen_map_open(g);
	j_summary(g, &r->total);
	yajl_gen_map_close(g);
	j_str(g, "policies");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < r->n_policies; i++) {
		yajl_gen_map_open(g);
		j_str(g, "name");
		j_str(g, r->policies[i].name);
		j_str(g, "queue");
		j_str(g, r->policies[i].queue);
		j_summary(g, &r->policies[i].s);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	j_str(g, "aws_calls");
	yajl_gen_map_open(g);
	for (size_t i = 0; i < CLOUD_SIM_CALLS; i++)
		j_uint(g, cloud_sim_call_name((enum cloud_sim_call)i), r->calls.count[i]);
	yajl_gen_map_close(g);
	j_uint(g, "aws_calls_faulted", r->calls.faulted);
	if (r->updates != NULL) {
		j_str(g, "updates");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < r->n_updates; i++) {
			const struct sim_update *u = &r->updates[i];

			yajl_gen_map_open(g);
			j_uint(g, "t_ms", u->t_ms);
			j_str(g, "cluster");
			j_str(g, u->cluster);
			j_str(g, "service");
			j_str(g, u->service);
			j_uint(g, "from", (uint64_t)u->from);
			j_uint(g, "to", (uint64_t)u->to);
			yajl_gen_map_close(g);
		}
		yajl_gen_array_close(g);
	}
	j_str(g, "ecs_limits");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < CLOUD_SIM_CATEGORIES; i++) {
		const struct cloud_sim_limit *l = &r->calls.limits[i];

		yajl_gen_map_open(g);
		j_str(g, "category");
		j_str(g, l->name);
		j_uint(g, "calls", l->calls);
		j_num(g, "calls_per_day", days > 0 ? (double)l->calls / days : 0);
		j_num(g, "sustained_per_day", l->refill_per_s * 86400.0);
		j_num(g, "bucket", l->bucket);
		j_uint(g, "peak_per_s", l->peak_per_s);
		j_uint(g, "throttled", l->over);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
}

static void j_info(yajl_gen g, const struct sim_report_info *info)
{
	j_str(g, "config");
	j_str(g, info->config != NULL ? info->config : "");
	j_str(g, "scenario");
	j_str(g, info->scenario != NULL ? info->scenario : "");
	j_str(g, "trace");
	if (info->trace != NULL)
		j_str(g, info->trace);
	else
		yajl_gen_null(g);
	j_uint(g, "seed", info->seed);
}

/* Write the generator's text and a newline. */
static int j_flush(yajl_gen g, FILE *out)
{
	const unsigned char *buf;
	size_t len;
	int rc = 0;

	if (yajl_gen_get_buf(g, &buf, &len) != yajl_gen_status_ok ||
		fwrite(buf, 1, len, out) != len || fputc('\n', out) == EOF)
		rc = -EIO;
	yajl_gen_free(g);
	return rc;
}

int sim_report_json(FILE *out, const struct sim_report_info *info,
	const struct sim_result *const *runs, size_t n_runs)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	j_info(g, info);
	j_str(g, "runs");
	yajl_gen_array_open(g);
	for (size_t k = 0; k < n_runs; k++)
		j_run(g, runs[k]);
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return j_flush(g, out);
}

int sim_report_sweep_json(FILE *out, const struct sim_report_info *info, const char *key,
	const struct sim_sweep_row *rows_in, size_t n_rows)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_map_open(g);
	j_info(g, info);
	j_str(g, "sweep");
	j_str(g, key);
	j_str(g, "rows");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < n_rows; i++) {
		yajl_gen_map_open(g);
		j_str(g, "value");
		j_str(g, rows_in[i].value);
		j_str(g, "runs");
		yajl_gen_array_open(g);
		for (size_t k = 0; k < rows_in[i].n_runs; k++)
			j_run(g, rows_in[i].runs[k]);
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	return j_flush(g, out);
}

void sim_report_sweep_table(FILE *out, const struct sim_report_info *info, const char *key,
	const struct sim_sweep_row *rows_in, size_t n_rows)
{
	int w = strlen(key) > 12 ? (int)strlen(key) : 12;

	if (n_rows > 0 && rows_in[0].n_runs > 0)
		table_header(out, info, rows_in[0].runs[0], false);
	fprintf(out, "%-*s %-16s %5s %8s %8s %8s %8s %9s %9s %6s %9s %10s %9s %10s %7s\n", w, key,
		"scaler", "slots", "p50", "p95", "p99", "max", "backlog", "onprem h", "util",
		"fargate h", "fargate/30d", "cost", "cost/30d", "actions");
	for (size_t i = 0; i < n_rows; i++) {
		for (size_t k = 0; k < rows_in[i].n_runs; k++) {
			const struct sim_result *r = rows_in[i].runs[k];
			const struct sim_summary *s = &r->total;
			double month =
				r->duration_ms > 0 ? MONTH_S * 1000.0 / (double)r->duration_ms : 0;
			char p50[32], p95[32], p99[32], max[32];

			fprintf(out,
				"%-*s %-16s %5" PRIu32 " %8s %8s %8s %8s %9" PRIu64
				" %9.1f %5.1f%% %9.1f %10.1f %9.2f %10.2f %7" PRIu64 "\n",
				w, rows_in[i].value, sim_mode_name(r->mode), r->fleet_slots,
				sim_format_wait(s->wait_p50_ms, p50),
				sim_format_wait(s->wait_p95_ms, p95),
				sim_format_wait(s->wait_p99_ms, p99),
				sim_format_wait(s->wait_max_ms, max), s->max_backlog,
				s->local_task_hours, s->utilisation * 100.0, s->burst_task_hours,
				s->burst_task_hours * month, s->burst_cost, s->burst_cost * month,
				s->scale_actions);
		}
	}
}
