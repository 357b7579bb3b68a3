/*
 * Shared fixtures of the engine tests: a base policy, observations built from
 * a few numbers, and a named-row runner that gives every table row its own
 * TAP line.
 */
#ifndef QSCALE_TEST_ENGINE_FIXTURE_H
#define QSCALE_TEST_ENGINE_FIXTURE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <setjmp.h>

#include <cmocka.h>

#include "qscale/engine.h"

#define NOW_MS 1000000u
#define MAX_AGE_MS 30000u
#define FRESH_MS (NOW_MS - 1000u)

/* A decision's reason, in one of a few rotating buffers (a message may show two). */
static inline const char *fixture_reason(const struct engine_decision *d)
{
	static char bufs[4][ENGINE_REASON_MAX];
	static size_t next;
	char *buf = bufs[next++ % 4];

	return engine_decision_reason(d, buf, ENGINE_REASON_MAX);
}

/* The policy most rows start from: 50 per task, local 1..20, burst 40, no behaviour. */
static inline struct engine_policy fixture_policy(void)
{
	struct engine_policy p;

	memset(&p, 0, sizeof(p));
	p.backlog_per_task = 50;
	p.local_min_tasks = 1;
	p.local_max_tasks = 20;
	p.has_burst = true;
	p.burst_max_tasks = 40;
	p.max_observation_age_ms = MAX_AGE_MS;
	return p;
}

/* Fill n identical, eligible instances. */
static inline void fixture_instances(
	struct engine_instance *in, size_t n, int32_t cpu_units, int32_t memory_mib)
{
	for (size_t i = 0; i < n; i++) {
		memset(&in[i], 0, sizeof(in[i]));
		in[i].id = "i";
		in[i].active = true;
		in[i].agent_connected = true;
		in[i].matches_filter = true;
		in[i].remaining_cpu_units = cpu_units;
		in[i].remaining_memory_mib = memory_mib;
	}
}

/* An observation with everything fresh. */
static inline struct engine_observation fixture_observation(const struct engine_cluster *cluster)
{
	struct engine_observation o;

	memset(&o, 0, sizeof(o));
	o.queue.ok = true;
	o.queue.observed_ms = FRESH_MS;
	o.local.ok = true;
	o.local.observed_ms = FRESH_MS;
	o.burst.ok = true;
	o.burst.observed_ms = FRESH_MS;
	o.task.ok = true;
	o.task.observed_ms = FRESH_MS;
	o.task.cpu_units = 256;
	o.task.memory_mib = 512;
	o.cluster = cluster;
	return o;
}

/* Tests collected from several tables, run as one cmocka group (one TAP plan). */
struct fixture_suite {
	struct CMUnitTest *tests;
	char **names;
	size_t n;
	size_t cap;
};

/* Add one test named "<group>: <name>" with state as its initial state. */
static inline void fixture_add(struct fixture_suite *s, const char *group, const char *name,
	CMUnitTestFunction fn, const void *state)
{
	size_t len = strlen(group) + strlen(name) + 3;

	if (s->n == s->cap) {
		s->cap = s->cap ? s->cap * 2 : 64;
		s->tests = realloc(s->tests, s->cap * sizeof(*s->tests));
		s->names = realloc(s->names, s->cap * sizeof(*s->names));
		if (s->tests == NULL || s->names == NULL)
			abort();
	}
	s->names[s->n] = malloc(len);
	if (s->names[s->n] == NULL)
		abort();
	snprintf(s->names[s->n], len, "%s: %s", group, name);
	memset(&s->tests[s->n], 0, sizeof(s->tests[0]));
	s->tests[s->n].name = s->names[s->n];
	s->tests[s->n].test_func = fn;
	s->tests[s->n].initial_state = (void *)(uintptr_t)state;
	s->n++;
}

/* Run everything added, free the suite; returns the number of failures. */
static inline int fixture_run(struct fixture_suite *s, const char *group)
{
	int failed = _cmocka_run_group_tests(group, s->tests, s->n, NULL, NULL);

	for (size_t i = 0; i < s->n; i++)
		free(s->names[i]);
	free(s->names);
	free(s->tests);
	memset(s, 0, sizeof(*s));
	return failed;
}

#endif
