/*
 * Simulated seconds per wall-clock second of `qscale simulate`: 30 days of
 * traffic at one-second world steps, through qscale's own controller and
 * engine over the simulated cloud (sim_run, exactly what the command runs).
 * Two shapes: 1 policy (one queue, an on-prem service on 3 instances and a
 * Fargate burst service), and 100 policies, each with its own queue and
 * services, sharing one on-prem cluster of 50 instances. Arrivals follow a
 * daily cycle (5/s at night, a linear ramp to a midday peak that needs
 * burst) repeated over the 30 days; every policy is evaluated every 5 s.
 *
 * Usage: bench-simulate [DAYS [POLICIES]]   (default 30 days; 1 and 100 policies)
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "qscale/policy.h"
#include "qscale/simulate.h"
#include "qscale/xalloc.h"

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *b = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ b[i]) * 0x100000001b3ULL;
	return h;
}

/*
 * FNV-1a over every figure of the result (the summaries have no padding):
 * a change meant only to be faster must leave it as it was.
 */
static uint64_t digest(const struct sim_result *r)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	h = fnv(h, &r->total, sizeof(r->total));
	h = fnv(h, r->calls.count, sizeof(r->calls.count));
	for (size_t i = 0; i < r->n_policies; i++)
		h = fnv(h, &r->policies[i].s, sizeof(r->policies[i].s));
	return h;
}

/* n queues, each with a daily cycle over days days; n local and n burst services. */
static char *scenario_text(int n, int days)
{
	char *t = xstrdup("startup: {onprem: 5s, fargate: 30s}\nqueues:\n");
	int instances = n == 1 ? 3 : 50;

	for (int i = 0; i < n; i++) {
		bench_append(&t,
			"  - name: q%d\n    reporting_lag: 5s\n    arrivals:\n"
			"      shape: linear\n      segments:\n",
			i);
		for (int d = 0; d < days; d++)
			bench_append(&t,
				"        - {at: %dh, rate: 5/s}\n        - {at: %dh, rate: 5/s}\n"
				"        - {at: %dh, rate: %d/s}\n        - {at: %dh, rate: 5/s}\n",
				d * 24, d * 24 + 8, d * 24 + 13, n == 1 ? 90 : 8 + i % 5,
				d * 24 + 18);
	}
	bench_append(&t,
		"clusters:\n  - name: onprem\n    instances: [{count: %d, cpu: 4096, "
		"memory: 8192, attributes: {site: dc1}}]\n  - name: cloud\n",
		instances);
	bench_append(&t,
		"task_definitions:\n"
		"  - {family: w, cpu: '1024', memory: '1536', containers: [{name: app, "
		"memory: 1536}]}\n"
		"  - {family: wf, cpu: '1024', memory: '2048', network_mode: awsvpc, "
		"requires_compatibilities: [FARGATE], containers: [{name: app, memory: 2048}]}\n"
		"services:\n");
	for (int i = 0; i < n; i++)
		bench_append(&t,
			"  - {name: s%d, cluster: onprem, task_definition: 'w:1', desired: 1, "
			"queue: q%d, messages_per_task: 5/s}\n"
			"  - {name: f%d, cluster: cloud, launch_type: FARGATE, task_definition: "
			"'wf:1', desired: 0, queue: q%d, messages_per_task: 5/s}\n",
			i, i, i, i);
	return t;
}

/* n inline policies, one per queue. */
static char *config_text(int n)
{
	char *t = xstrdup("region: us-east-1\nmetrics: {listen: ''}\npolicies:\n");

	for (int i = 0; i < n; i++)
		bench_append(&t,
			"  - name: p%d\n    interval: 5s\n"
			"    queue: {url: 'https://sqs.us-east-1.amazonaws.com/123456789012/q%d'}\n"
			"    target: {backlog_per_task: 50}\n"
			"    local: {cluster: onprem, service: s%d, min_tasks: 1, max_tasks: 12, "
			"instance_filter: 'attribute:site == dc1'}\n"
			"    burst: {cluster: cloud, service: f%d, max_tasks: 40}\n",
			i, i, i, i);
	return t;
}

/* One 30-day (or days-day) run with n policies; prints a line. */
static int measure(int n, int days)
{
	char *st = scenario_text(n, days), *ct = config_text(n);
	struct scenario *sc;
	struct diag sd;
	struct qscale_config *cfg;
	struct diag pd;
	struct sim_params p;
	struct sim_result r;
	char error[SIM_ERROR_MAX], msg[512];
	double t0, c0, wall, cpu, sim_s;
	int rc = 0;

	if (scenario_load_text("bench.yaml", st, strlen(st), &sc, &sd) < 0) {
		fprintf(stderr, "%s\n", diag_format(&sd, msg, sizeof(msg)));
		rc = 1;
		goto out;
	}
	if (qscale_config_parse(
		    "bench.yaml", ct, strlen(ct), QSCALE_CONFIG_NO_POLICIES_DIR, &cfg, &pd) < 0) {
		diag_print(&pd, stderr);
		scenario_destroy(sc);
		rc = 1;
		goto out;
	}
	memset(&p, 0, sizeof(p));
	p.scenario = sc;
	p.mode = SIM_QSCALE;
	p.duration_ms = (uint64_t)days * 86400000;
	p.prices.vcpu_hour = SIM_PRICE_VCPU_HOUR;
	p.prices.gb_hour = SIM_PRICE_GB_HOUR;
	t0 = bench_seconds(CLOCK_MONOTONIC);
	c0 = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
	if (sim_run(&p, cfg, &r, error) < 0) {
		fprintf(stderr, "bench-simulate: %s\n", error);
		scenario_destroy(sc);
		rc = 1;
		goto out;
	}
	wall = bench_seconds(CLOCK_MONOTONIC) - t0;
	cpu = bench_seconds(CLOCK_PROCESS_CPUTIME_ID) - c0;
	sim_s = (double)p.duration_ms / 1000.0;
	printf("%3d polic%s  %2d days  %8" PRIu64 " steps  %8" PRIu64
	       " decisions  %7.3f s wall  %7.3f s CPU  %10.0f sim s/wall s  %10.0f sim s/CPU s"
	       "  burst %.0f task-h  digest %016" PRIx64 "\n",
		n, n == 1 ? "y  " : "ies", days, r.steps, r.total.cycles, wall, cpu, sim_s / wall,
		sim_s / cpu, r.total.burst_task_hours, digest(&r));
	sim_result_finish(&r);
	scenario_destroy(sc);
out:
	free(st);
	free(ct);
	return rc;
}

int main(int argc, char **argv)
{
	int days = argc > 1 ? atoi(argv[1]) : 30;
	int only = argc > 2 ? atoi(argv[2]) : 0;

	if (days < 1 || days > 366 || only < 0 || only > 1000) {
		fprintf(stderr, "usage: bench-simulate [DAYS [POLICIES]]\n");
		return 2;
	}
	if (only > 0)
		return measure(only, days);
	if (measure(1, days) != 0 || measure(100, days) != 0)
		return 1;
	return 0;
}
