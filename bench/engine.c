/*
 * Benchmark of the scaling engine: engine_decide() calls per second for one
 * policy, and for 1,000 policies sizing one shared cluster through
 * engine_decide_cluster(). Histories are full (every ring at its slot count)
 * so each call does its worst-case work. Prints key=value lines.
 *
 * Usage: bench-engine [seconds per measurement, default 2]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bench_common.h"
#include "qscale/engine.h"

#define INSTANCES 50
#define POLICIES 1000

/* A policy with every rule switched on. */
static struct engine_policy bench_policy(int32_t priority)
{
	struct engine_policy p;

	memset(&p, 0, sizeof(p));
	p.backlog_per_task = 50;
	p.tolerance = 0.1;
	p.include_in_flight = true;
	p.local_min_tasks = 1;
	p.local_max_tasks = 20;
	p.has_burst = true;
	p.burst_max_tasks = 40;
	p.reserve_memory_mib = 256;
	p.priority = priority;
	p.scale_out = (struct engine_behavior){0, 15000, 10, 100};
	p.scale_in = (struct engine_behavior){300000, 60000, 5, 0};
	p.max_observation_age_ms = 30000;
	return p;
}

/* A history with every ring full, within the windows at now_ms. */
static void full_history(struct engine_history *h, uint64_t now_ms)
{
	engine_history_init(h);
	for (size_t i = 0; i < ENGINE_HISTORY_SLOTS; i++) {
		uint64_t at = now_ms - 1000 - i * 1000;

		h->recs[i] = (struct engine_rec){at, at, (int32_t)(i % 7), (int32_t)(i % 9)};
		h->outs[i] = (struct engine_event){at, at, 1};
		h->ins[i] = (struct engine_event){at, at, 1};
	}
	h->n_recs = h->n_outs = h->n_ins = ENGINE_HISTORY_SLOTS;
}

/* An observation of the cluster with some backlog. */
static struct engine_observation bench_observation(
	struct engine_cluster *c, uint64_t now_ms, int64_t visible)
{
	struct engine_observation o;

	memset(&o, 0, sizeof(o));
	o.queue = (struct engine_queue_obs){true, now_ms, visible, 100, 0};
	o.local = (struct engine_service_obs){true, now_ms, 4, 3, 1};
	o.burst = (struct engine_service_obs){true, now_ms, 2, 2, 0};
	o.task.ok = true;
	o.task.observed_ms = now_ms;
	o.task.cpu_units = 256;
	o.task.memory_mib = 512;
	o.cluster = c;
	return o;
}

int main(int argc, char **argv)
{
	static struct engine_instance instances[INSTANCES];
	static struct engine_member members[POLICIES];
	static struct engine_policy policies[POLICIES];
	static struct engine_history histories[POLICIES];
	static char names[POLICIES][16];
	struct engine_cluster cluster;
	double seconds = argc > 1 ? strtod(argv[1], NULL) : 2.0;
	uint64_t now_ms = 10000000;
	unsigned long long calls = 0, checksum = 0;
	double start, elapsed;

	if (!(seconds > 0.0))
		seconds = 2.0;
	for (size_t i = 0; i < INSTANCES; i++) {
		memset(&instances[i], 0, sizeof(instances[i]));
		instances[i].id = "i";
		instances[i].active = true;
		instances[i].agent_connected = true;
		instances[i].matches_filter = true;
		instances[i].remaining_cpu_units = 4096;
		instances[i].remaining_memory_mib = 16384;
	}
	cluster = (struct engine_cluster){true, now_ms, instances, INSTANCES};

	/* One policy, decide() alone. */
	{
		struct engine_policy p = bench_policy(0);
		struct engine_history h;
		struct engine_observation o = bench_observation(&cluster, now_ms, 600);
		struct engine_decision d;

		full_history(&h, now_ms);
		start = bench_seconds(CLOCK_MONOTONIC);
		do {
			for (int k = 0; k < 1000; k++) {
				o.queue.visible = (int64_t)((calls + (unsigned)k) % 2000);
				engine_decide(&p, &o, &h, now_ms, &d);
				checksum += (unsigned long long)d.local_desired;
			}
			calls += 1000;
			elapsed = bench_seconds(CLOCK_MONOTONIC) - start;
		} while (elapsed < seconds);
		printf("bench=engine policies=1 calls=%llu seconds=%.3f decide_per_s=%.0f\n", calls,
			elapsed, (double)calls / elapsed);
	}

	/* 1,000 policies on one cluster of 50 instances, sized in priority order. */
	for (size_t i = 0; i < POLICIES; i++) {
		snprintf(names[i], sizeof(names[i]), "policy-%04zu", i);
		policies[i] = bench_policy((int32_t)(i % 10));
		full_history(&histories[i], now_ms);
		memset(&members[i], 0, sizeof(members[i]));
		members[i].name = names[i];
		members[i].policy = &policies[i];
		members[i].history = &histories[i];
		members[i].observation = bench_observation(NULL, now_ms, (int64_t)(i * 7 % 1500));
	}
	calls = 0;
	start = bench_seconds(CLOCK_MONOTONIC);
	do {
		engine_decide_cluster(members, POLICIES, &cluster, now_ms);
		checksum += (unsigned long long)members[0].decision.local_desired;
		calls += POLICIES;
		elapsed = bench_seconds(CLOCK_MONOTONIC) - start;
	} while (elapsed < seconds);
	printf("bench=engine policies=%d calls=%llu seconds=%.3f decide_per_s=%.0f "
	       "cycles_per_s=%.0f\n",
		POLICIES, calls, elapsed, (double)calls / elapsed,
		(double)calls / POLICIES / elapsed);
	printf("checksum=%llu\n", checksum);
	return 0;
}
