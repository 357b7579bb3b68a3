/*
 * The world model's inside, shared by its files: world.c (lifecycle, the step
 * loop and lookups), world_queue.c (queues), world_ecs.c (instances, services,
 * tasks and placement), world_fault.c (faults) and world_stats.c.
 */
#ifndef QSCALE_WORLD_PRIV_H
#define QSCALE_WORLD_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/scenario.h"
#include "qscale/world.h"

/* Messages that arrived together (within one step), with their arrival time. */
struct world_cohort {
	uint64_t t_ms;
	uint64_t count;
};

/* A FIFO of cohorts with a bounded size: when full, neighbours merge. */
struct world_cohorts {
	struct world_cohort *items;
	size_t cap; /* 0 or a power of two, so positions wrap with a mask */
	size_t head; /* index of the oldest */
	size_t len;
};

/* A past reading of a queue's counts, for the reporting lag. */
struct world_snap {
	uint64_t t_ms;
	struct world_queue_counts counts;
};

#define WORLD_SNAPS 512

/*
 * What a step's arrival slices depend on besides their count (world_queue.c,
 * spread_geometry): kept for the last step length, so that the divisions by
 * it are done once, not every step. done_* is where a walk of those slices
 * stands after the ones at or before done_limit ms (UINT64_MAX: none yet).
 */
struct world_spread_geo {
	uint64_t dt, n, step, step_rem, at, at_rem;
	double room, room_one; /* 1 - n / dt, and 1 - 1 / dt */
	uint64_t done_limit, done_j, done_at, done_at_rem;
};

struct world_queue {
	const struct scenario_queue *sq;
	char *arn;
	/* arrivals: a rate schedule (segments) built from the scenario or the trace */
	struct scenario_rate_segment *rates;
	size_t rate_count;
	enum scenario_shape shape;
	size_t rate_cursor; /* the segment holding the current time */
	/* rate_at(rate_end_piece, rate_end_ms), the last rate integrate took (none: UINT64_MAX) */
	size_t rate_end_piece;
	uint64_t rate_end_ms;
	double rate_end;
	double arrived_exact; /* ∫ rate dt since t=0, plus initial messages */
	/* state: pool = visible (oldest first), then delayed; in flight is held by the services */
	struct world_cohorts pool;
	struct world_cohorts delayed;
	uint64_t pool_count;
	uint64_t delayed_count;
	uint64_t in_flight; /* Σ held_count of the consumers */
	/* the services polling this queue (w->services never moves once built) */
	struct world_service **consumers;
	size_t consumer_count;
	/* the reporting lag (the scenario's, kept here: every step reads it) */
	uint64_t lag_ms;
	size_t snap_head; /* oldest */
	size_t snap_len;
	uint64_t snap_spacing_ms;
	struct world_spread_geo geo;
	struct world_queue_stats stats;
	/* the ring of past readings, last: a step touches only its ends */
	struct world_snap snaps[WORLD_SNAPS];
};

enum world_task_state {
	WORLD_TASK_PENDING,
	WORLD_TASK_RUNNING,
	WORLD_TASK_STOPPED, /* only between stopping and compaction */
};

struct world_task {
	uint32_t instance; /* index in its cluster; WORLD_TASK_NO_INSTANCE on Fargate */
	uint8_t state;
	uint64_t started_ms; /* when placed */
	uint64_t ready_ms; /* when it turns RUNNING */
};

#define WORLD_TASK_NO_INSTANCE UINT32_MAX

struct world_service {
	const struct scenario_service *ss;
	struct scenario_reservation res;
	const char *status_name;
	uint32_t desired;
	struct world_task *tasks; /* running and pending, in placement order */
	size_t task_count;
	size_t task_cap;
	uint32_t running;
	uint32_t pending;
	uint64_t next_ready_ms; /* earliest ready_ms of a pending task; UINT64_MAX if none */
	uint64_t updated_ms;
	uint32_t unplaced_counted; /* unplaced tasks already counted as placement failures */
	double minimum_billed_s; /* Fargate: the one-minute minimum of tasks stopped sooner */
	double consume_credit; /* fractional messages this service may still take */
	/* this step's receiving (world_queue_step's scratch, no allocation) */
	uint64_t take_want; /* messages it receives this step */
	uint64_t take_done;
	double take_capacity; /* what it could receive this step, for receipt times */
	double take_whole; /* the whole messages of its credit this step */
	/* received and not yet deleted: cohorts by receipt time, oldest first */
	struct world_cohorts held;
	uint64_t held_count;
	struct world_service_stats stats;
};

/* A sorted, growable set of ports. */
struct world_ports {
	uint16_t *items;
	size_t len;
	size_t cap;
};

struct world_instance {
	const struct scenario_instance *si;
	char *arn;
	enum world_instance_status status;
	bool agent_connected;
	uint32_t remaining_cpu_units;
	uint32_t remaining_memory_mib;
	struct world_ports used_tcp; /* reserved + held by tasks */
	struct world_ports used_udp;
	uint32_t running;
	uint32_t pending;
};

struct world_cluster {
	const struct scenario_cluster *scl;
	struct world_instance *instances;
	size_t instance_count;
};

struct world_fault {
	const struct scenario_fault *sf;
	uint64_t matched; /* requests that matched, for every-Nth */
};

struct world {
	const struct scenario *sc;
	uint64_t start_wall_ms;
	uint64_t now_ms;
	uint64_t rng;
	size_t next_event;
	struct world_queue *queues;
	size_t queue_count;
	struct world_cluster *clusters;
	size_t cluster_count;
	struct world_service *services;
	size_t service_count;
	struct world_fault *faults;
	size_t fault_count;
	uint64_t wait_bounds[WORLD_WAIT_BUCKETS]; /* upper bound of each bucket */
};

/* world_queue.c */
void world_queue_init(struct world *w, struct world_queue *q, const struct scenario_queue *sq);
void world_queue_finish(struct world_queue *q);
/* Arrivals, releases of delayed messages and consumption over [t0, t1]. */
void world_queue_step(struct world *w, struct world_queue *q, uint64_t t0, uint64_t t1);
/* The true counts now. */
void world_queue_counts(const struct world_queue *q, struct world_queue_counts *out);
/* What GetQueueAttributes reports at now_ms. */
void world_queue_reported(
	const struct world_queue *q, uint64_t now_ms, struct world_queue_counts *out);
/* Record a reading for the lag line. */
void world_queue_snapshot(struct world_queue *q, uint64_t now_ms);

/* world_ecs.c */
void world_ecs_init(struct world *w);
void world_ecs_finish(struct world *w);
/* Promote ready tasks, fire due events and place what can be placed, at now. */
void world_ecs_settle(struct world *w);
/* The next time something in ECS changes by itself after now (UINT64_MAX: never). */
uint64_t world_ecs_next_change_ms(const struct world *w);
/* Integrate task-seconds over a step of dt_ms. */
void world_ecs_account(struct world *w, uint64_t dt_ms);
/* world_ecs_account(w, dt_ms) k times over, the same sums. */
void world_ecs_account_steps(struct world *w, uint64_t dt_ms, uint64_t k);
/* Whether settling would change nothing before the next change of itself. */
bool world_ecs_quiet(const struct world *w);
/* Set desired and act on it at once. */
void world_ecs_set_desired(struct world *w, struct world_service *s, uint32_t desired);
/* Start the scenario's initial tasks as already RUNNING at t=0. */
void world_ecs_start_initial(struct world *w);

/* Fargate bills each task for at least this long. */
#define WORLD_FARGATE_MINIMUM_MS 60000

/* world_stats.c */
void world_stats_bounds_init(uint64_t bounds[WORLD_WAIT_BUCKETS]);
/* Buckets of the wait histogram one millisecond wide below this (world_stats.c). */
#define WORLD_WAIT_LINEAR_MS 128

/* The histogram bucket of a wait (inline: it runs for every cohort received). */
static inline size_t world_stats_bucket(const struct world *w, uint64_t wait_ms)
{
	size_t lo = WORLD_WAIT_LINEAR_MS, hi = WORLD_WAIT_BUCKETS - 1;

	/* Below WORLD_WAIT_LINEAR_MS bucket i holds the waits of i ms: no search. */
	if (wait_ms < WORLD_WAIT_LINEAR_MS)
		return (size_t)wait_ms;
	/* the first bucket whose upper bound is above the wait */
	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (wait_ms < w->wait_bounds[mid])
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

/* Count messages that waited wait_ms. */
static inline void world_stats_record_wait(
	const struct world *w, struct world_queue_stats *st, uint64_t wait_ms, uint64_t count)
{
	st->wait_hist[world_stats_bucket(w, wait_ms)] += count;
	st->wait_sum_ms += (double)wait_ms * (double)count;
	if (wait_ms > st->wait_max_ms)
		st->wait_max_ms = wait_ms;
}

/* world_fault.c */
void world_fault_init(struct world *w);

/* A uniform double in [0, 1) from the world's generator. */
double world_random(struct world *w);

#endif
