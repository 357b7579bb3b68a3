/*
 * World model steps per second: how fast `qscale simulate` can move the model
 * on its virtual clock in 1-second steps. Two shapes: 1 queue with 1 service,
 * and 100 queues each polled by its own service, all on one on-prem cluster
 * of 50 instances; arrivals follow a daily-like linear rate schedule, and
 * every 10 model seconds each service's desired count is set from its backlog
 * as a controller would (placing and stopping tasks).
 *
 * Usage: bench-world [SECONDS]   (default 3 CPU seconds per measurement)
 */
#include <errno.h>
#include <stdarg.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "qscale/world.h"
#include "qscale/xalloc.h"

/* A scenario of n queues and n services on one cluster. */
static char *scenario_text(int n)
{
	char *t = xstrdup("startup: {onprem: 5s, fargate: 30s}\nqueues:\n");

	for (int i = 0; i < n; i++)
		bench_append(&t,
			"  - name: q%d\n    reporting_lag: 10s\n    arrivals: {shape: linear, "
			"segments: [{at: 0s, rate: 5/s}, {at: 6h, rate: %d/s}, {at: 12h, rate: "
			"5/s}, "
			"{at: 24h, rate: 5/s}]}\n",
			i, 20 + i % 7);
	bench_append(&t,
		"clusters:\n  - name: onprem\n    instances: [{count: 50, cpu: 16384, "
		"memory: 65536}]\ntask_definitions:\n  - {family: t, cpu: \"256\", memory: "
		"\"512\", containers: [{name: a, memory: 512}]}\nservices:\n");
	for (int i = 0; i < n; i++)
		bench_append(&t,
			"  - {name: s%d, cluster: onprem, task_definition: t, desired: 1, queue: "
			"q%d, "
			"messages_per_task: 2/s}\n",
			i, i);
	return t;
}

/* Step one world for about budget_s seconds; print steps per second. */
static int measure(int n, double budget_s)
{
	char *text = scenario_text(n);
	struct scenario *sc;
	struct diag diag;
	struct world *w;
	char msg[700], name[16];
	uint64_t steps = 0;
	double start, elapsed;

	if (scenario_load_text("bench.yaml", text, strlen(text), &sc, &diag) < 0) {
		fprintf(stderr, "%s\n", diag_format(&diag, msg, sizeof(msg)));
		free(text);
		return 1;
	}
	free(text);
	if (world_create(sc, 0, &w) < 0)
		return 1;
	start = bench_seconds(CLOCK_PROCESS_CPUTIME_ID);
	do {
		for (int k = 0; k < 1000; k++) {
			steps++;
			world_advance(w, steps * 1000);
			if (steps % 10 != 0)
				continue;
			for (int i = 0; i < n; i++) {
				struct world_queue_info q;

				snprintf(name, sizeof(name), "s%d", i);
				world_queue_at(w, (size_t)i, &q);
				world_service_set_desired(w, "onprem", name,
					(int64_t)(q.reported.visible / 20 + 1), NULL);
			}
		}
		elapsed = bench_seconds(CLOCK_PROCESS_CPUTIME_ID) - start;
	} while (elapsed < budget_s);
	printf("%3d queues/services: %10.0f steps/s  (30 days of 1 s steps: %.1f s; "
	       "model reached day %.1f)\n",
		n, (double)steps / elapsed, 30.0 * 86400.0 / ((double)steps / elapsed),
		(double)steps / 86400.0);
	world_destroy(w);
	scenario_destroy(sc);
	return 0;
}

int main(int argc, char **argv)
{
	double budget = 3.0;

	if (argc > 1) {
		char *end;

		errno = 0;
		budget = strtod(argv[1], &end);
		if (*end != '\0' || errno != 0 || budget <= 0 || budget > 3600) {
			fprintf(stderr, "usage: %s [SECONDS]\n", argv[0]);
			return 2;
		}
	}
	if (measure(1, budget) != 0 || measure(100, budget) != 0)
		return 1;
	return 0;
}
