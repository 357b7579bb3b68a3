/*
 * The scaling engine: decide() is a pure function of a policy's parameters,
 * what was observed this cycle, the policy's history and the time. No I/O, no
 * clock, no globals. The policy loader fills struct engine_policy; everything
 * else in this header belongs to the engine.
 */
#ifndef QSCALE_ENGINE_H
#define QSCALE_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

/* One direction's behaviour, as in Kubernetes HPA. */
struct engine_behavior {
	uint64_t stabilization_ms;
	uint64_t period_ms;
	int32_t max_tasks; /* change allowed per period in tasks; 0 = no limit by tasks */
	int32_t max_percent; /* change allowed per period in percent; 0 = no limit by percent */
};

/* The scaling parameters of one policy, exactly as validated by the loader. */
struct engine_policy {
	int64_t backlog_per_task; /* > 0 */
	int64_t activation_backlog; /* >= 0 */
	double tolerance; /* [0, 1): ignore changes of less than this fraction */
	bool include_in_flight;
	bool include_delayed;
	int32_t local_min_tasks;
	int32_t local_max_tasks;
	bool has_burst;
	int32_t burst_max_tasks; /* 0 without burst */
	int32_t reserve_cpu_units; /* kept free on every instance */
	int32_t reserve_memory_mib;
	int32_t priority; /* higher is sized first on a shared cluster */
	struct engine_behavior scale_out;
	struct engine_behavior scale_in;
	uint64_t max_observation_age_ms; /* older data counts as missing */
};

#endif
