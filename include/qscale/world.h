/*
 * The world model: a simulation of a stretched ECS deployment (SQS queues,
 * ECS Anywhere container instances, Fargate, services and their tasks) on a
 * clock the caller drives. No I/O, no clock of its own, no logging above
 * debug. `qscale emulate` answers SQS and ECS calls from it; `qscale simulate`
 * steps it on a virtual clock. Time t is milliseconds since the scenario's
 * start (t=0); wall-clock fields are start_wall_ms + t.
 *
 * Cost per step is O(queues + services + instances) with no allocation in the
 * steady state: a queue is counts plus arrival cohorts, not messages.
 *
 * Strings and arrays returned inside the *_info structs point into the world
 * and stay valid until the next call that changes it (world_advance,
 * world_service_set_desired, world_fault_pick) or world_destroy.
 */
#ifndef QSCALE_WORLD_H
#define QSCALE_WORLD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/scenario.h"

struct world;

/*
 * Build a world at t=0 from a scenario, which it borrows: sc must outlive the
 * world and must not change meanwhile. start_wall_ms is the wall clock at t=0
 * (registeredAt, createdAt). Returns 0 or -EINVAL.
 */
int world_create(const struct scenario *sc, uint64_t start_wall_ms, struct world **out);

/* Free a world (accepts NULL). */
void world_destroy(struct world *w);

/*
 * Run the model forward to t_ms (internally in sub-steps of at most one
 * second, split at events and task state changes). t_ms equal to now is a
 * no-op; t_ms before now returns -EINVAL and changes nothing.
 */
int world_advance(struct world *w, uint64_t t_ms);

/* The model's current time (ms since t=0), and the wall clock at t=0. */
uint64_t world_now_ms(const struct world *w);
uint64_t world_start_wall_ms(const struct world *w);

/* The scenario the world runs. */
const struct scenario *world_scenario(const struct world *w);

/* ---- SQS ---- */

/* The three counts of GetQueueAttributes. */
struct world_queue_counts {
	uint64_t visible; /* ApproximateNumberOfMessages */
	uint64_t in_flight; /* ApproximateNumberOfMessagesNotVisible */
	uint64_t delayed; /* ApproximateNumberOfMessagesDelayed */
};

struct world_queue_info {
	size_t index;
	const char *name;
	const char *arn; /* arn:aws:sqs:<region>:<account>:<name> */
	uint64_t created_at_wall_ms;
	/* What GetQueueAttributes answers now: the counts of reporting_lag_ms ago
	 * (those of t=0 while t < lag). */
	struct world_queue_counts reported;
	/* The true counts now. */
	struct world_queue_counts actual;
};

/*
 * Find a queue by name, or by any URL whose path ends in /<account>/<name>
 * (the AWS form, or the emulator's own host). Returns 0 or -ENOENT (also for
 * another account's URL).
 */
int world_queue_get(const struct world *w, const char *url_or_name, struct world_queue_info *out);

/* The queue at index (0 .. queue count - 1); 0 or -ENOENT. */
int world_queue_at(const struct world *w, size_t index, struct world_queue_info *out);
size_t world_queue_count(const struct world *w);

/* ---- ECS ---- */

/* The answers ECS gives instead of a result. */
enum world_ecs_error {
	WORLD_ECS_OK = 0,
	WORLD_ECS_CLUSTER_NOT_FOUND, /* ClusterNotFoundException */
	WORLD_ECS_SERVICE_NOT_FOUND, /* ServiceNotFoundException */
	WORLD_ECS_SERVICE_NOT_ACTIVE, /* ServiceNotActiveException */
	WORLD_ECS_INVALID_PARAMETER, /* InvalidParameterException */
	WORLD_ECS_CLIENT_EXCEPTION, /* ClientException (e.g. unknown task definition) */
	WORLD_ECS_INSTANCE_NOT_FOUND, /* a DescribeContainerInstances failure "MISSING" */
};

/* The AWS error code for e ("ClusterNotFoundException"...); "" for WORLD_ECS_OK. */
const char *world_ecs_error_code(enum world_ecs_error e);

/* A human message for e, as ECS words it ("Cluster not found."). */
const char *world_ecs_error_message(enum world_ecs_error e);

struct world_cluster_info {
	size_t index;
	const char *name;
	const char *arn; /* arn:aws:ecs:<region>:<account>:cluster/<name> */
	size_t instance_count; /* registered container instances */
	size_t service_count; /* services in the cluster */
	uint32_t running_tasks; /* over all its services */
	uint32_t pending_tasks;
};

/* Find a cluster by name or ARN; WORLD_ECS_OK or WORLD_ECS_CLUSTER_NOT_FOUND. */
enum world_ecs_error world_cluster_get(
	const struct world *w, const char *name_or_arn, struct world_cluster_info *out);
enum world_ecs_error world_cluster_at(
	const struct world *w, size_t index, struct world_cluster_info *out);
size_t world_cluster_count(const struct world *w);
/* Registered container instances of a cluster by index, without its whole info (0 past the last).
 */
size_t world_cluster_instance_count(const struct world *w, size_t index);

enum world_instance_status {
	WORLD_INSTANCE_ACTIVE,
	WORLD_INSTANCE_DRAINING,
};

/* "ACTIVE" / "DRAINING". */
const char *world_instance_status_name(enum world_instance_status s);

struct world_instance_info {
	size_t index; /* within its cluster */
	const char *arn; /* arn:aws:ecs:<region>:<account>:container-instance/<cluster>/<id> */
	const char *container_instance_id; /* the last part of the ARN */
	const char *ec2_instance_id; /* "mi-..." */
	enum world_instance_status status;
	bool agent_connected;
	uint32_t registered_cpu_units;
	uint32_t remaining_cpu_units;
	uint32_t registered_memory_mib;
	uint32_t remaining_memory_mib;
	/* PORTS / PORTS_UDP string sets, sorted: registered = reserved by agent
	 * configuration; remaining = those plus host ports held by tasks (ECS
	 * lists ports in use, not free ones). */
	const uint16_t *registered_ports_tcp;
	size_t registered_ports_tcp_count;
	const uint16_t *remaining_ports_tcp;
	size_t remaining_ports_tcp_count;
	const uint16_t *registered_ports_udp;
	size_t registered_ports_udp_count;
	const uint16_t *remaining_ports_udp;
	size_t remaining_ports_udp_count;
	const struct scenario_attribute *attributes;
	size_t attribute_count;
	uint32_t running_tasks; /* runningTasksCount */
	uint32_t pending_tasks; /* pendingTasksCount */
	uint64_t registered_at_wall_ms;
	const char *agent_version; /* versionInfo.agentVersion */
};

/* The instance at index of a cluster (by cluster index); WORLD_ECS_OK or
 * WORLD_ECS_INSTANCE_NOT_FOUND. Iterate 0 .. instance_count - 1. */
enum world_ecs_error world_instance_at(
	const struct world *w, size_t cluster, size_t index, struct world_instance_info *out);

/* Find an instance of a cluster by ARN or container instance id. */
enum world_ecs_error world_instance_get(const struct world *w, size_t cluster,
	const char *arn_or_id, struct world_instance_info *out);

struct world_service_info {
	size_t index; /* among all services of the world */
	const char *name;
	const char *arn; /* arn:aws:ecs:<region>:<account>:service/<cluster>/<name> */
	const char *cluster_name;
	const char *cluster_arn;
	const char *status; /* "ACTIVE", "DRAINING", "INACTIVE" */
	enum scenario_launch_type launch_type;
	const char *launch_type_name; /* "EXTERNAL" / "FARGATE" */
	uint32_t desired_count;
	uint32_t running_count;
	uint32_t pending_count;
	uint32_t unplaced_count; /* desired - running - pending: fit nowhere yet */
	const char *task_definition_arn;
	uint64_t created_at_wall_ms;
	uint64_t updated_at_wall_ms; /* last change of desired */
	const char *queue_name; /* NULL when it polls no queue */
	double messages_per_task_s;
};

/*
 * Find a service of a cluster (name or ARN) by name or ARN. Returns
 * WORLD_ECS_OK, WORLD_ECS_CLUSTER_NOT_FOUND or WORLD_ECS_SERVICE_NOT_FOUND.
 */
enum world_ecs_error world_service_get(const struct world *w, const char *cluster,
	const char *service, struct world_service_info *out);

/* The service at a world-wide index (0 .. world_service_count - 1). */
enum world_ecs_error world_service_at(
	const struct world *w, size_t index, struct world_service_info *out);
size_t world_service_count(const struct world *w);

/*
 * UpdateService with desiredCount: set the service's desired count at the
 * current time (placement happens at once where there is room; tasks stop at
 * once when it falls). On WORLD_ECS_OK *out (may be NULL) is the updated
 * service. Errors: CLUSTER_NOT_FOUND, SERVICE_NOT_FOUND, SERVICE_NOT_ACTIVE
 * (status not ACTIVE), INVALID_PARAMETER (negative or above 100000).
 */
enum world_ecs_error world_service_set_desired(struct world *w, const char *cluster,
	const char *service, int64_t desired_count, struct world_service_info *out);

/*
 * DescribeTaskDefinition: by "family" (latest revision), "family:revision" or
 * ARN. Returns WORLD_ECS_OK (and *out, owned by the scenario) or
 * WORLD_ECS_CLIENT_EXCEPTION.
 */
enum world_ecs_error world_task_definition_get(
	const struct world *w, const char *ref, const struct scenario_task_definition **out);

/* ---- Faults ---- */

/*
 * The fault windows active at t_ms (start <= t < end), whatever their target;
 * writes up to max pointers (owned by the scenario) and returns how many are
 * active in total.
 */
size_t world_faults_at(
	const struct world *w, uint64_t t_ms, const struct scenario_fault **out, size_t max);

/* What the faults do to one request. */
struct world_fault_hit {
	const struct scenario_fault *fault; /* the error-like fault that hits, or NULL */
	uint64_t latency_ms; /* summed from latency faults that hit */
};

/*
 * Decide, for one request to target/operation arriving at the current time,
 * which faults hit it: counts every-Nth windows and draws from the world's
 * seeded generator, so the same sequence of requests gives the same hits.
 * When several error-like faults hit, the first in the scenario wins
 * (partition before all others). Returns true when anything hit.
 */
bool world_fault_pick(struct world *w, enum scenario_fault_target target, const char *operation,
	struct world_fault_hit *out);

/* ---- Statistics (for simulate) ---- */

/*
 * Buckets of the wait-time histogram: bucket i holds waits below
 * world_wait_bucket_upper_ms(i) and at least the previous bucket's bound.
 * One millisecond wide up to 128 ms, then 64 per doubling (each about 1.1 %
 * wide) up to about 12 days; the last bucket is unbounded.
 */
#define WORLD_WAIT_BUCKETS 1600

/* The upper bound of bucket i in ms (UINT64_MAX for the last). */
uint64_t world_wait_bucket_upper_ms(size_t i);

/* The bucket a wait of wait_ms is counted in (a search of the world's bounds). */
size_t world_wait_bucket(const struct world *w, uint64_t wait_ms);

struct world_queue_stats {
	uint64_t arrived; /* includes initial_messages */
	uint64_t processed; /* deleted by consumers */
	uint64_t waiting; /* visible + in flight + delayed; arrived = processed + waiting */
	uint64_t max_waiting;
	double wait_sum_ms; /* Σ wait of processed messages (arrival to consumption) */
	uint64_t wait_max_ms;
	uint64_t wait_hist[WORLD_WAIT_BUCKETS]; /* processed messages by wait */
	double backlog_message_seconds; /* ∫ waiting dt, for a mean backlog */
};

struct world_service_stats {
	double task_seconds; /* ∫ (running + pending) dt */
	/*
	 * What Fargate bills: task_seconds plus, for every task of a FARGATE
	 * service that ran (or has run so far) less than a minute, the rest of
	 * that minute (the one-minute minimum); task_seconds otherwise.
	 */
	double billed_task_seconds;
	double running_task_seconds; /* ∫ running dt */
	double unplaced_task_seconds; /* ∫ unplaced dt */
	uint64_t placement_failures; /* tasks that found no room when first tried */
	uint64_t tasks_started; /* tasks placed (went PENDING) */
	uint64_t tasks_stopped;
	uint32_t max_running;
	uint64_t processed; /* messages this service's tasks consumed */
};

/* Statistics since t=0. Return 0 or -ENOENT for a bad index. */
int world_queue_stats(const struct world *w, size_t queue, struct world_queue_stats *out);
int world_service_stats(const struct world *w, size_t service, struct world_service_stats *out);

/*
 * A queue's statistics in place, without copying the histogram; the world
 * owns them and moves them on as it steps. NULL for a bad index.
 */
const struct world_queue_stats *world_queue_stats_at(const struct world *w, size_t queue);

/*
 * The wait (ms) under which fraction p (0..1] of the processed messages were
 * received, interpolated by rank inside its bucket: within 1.1 % (or 1 ms)
 * of the exact order statistic; 0 when none were.
 */
uint64_t world_wait_percentile_ms(const struct world_queue_stats *st, double p);

/* The same over a histogram with its largest wait (the sum of several queues'). */
uint64_t world_wait_hist_percentile_ms(
	const uint64_t hist[WORLD_WAIT_BUCKETS], uint64_t max_ms, double p);

#endif
