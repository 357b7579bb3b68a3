/*
 * Scenario files: the YAML description of a stretched ECS deployment that the
 * world model runs (queues and their arrivals, clusters and container
 * instances, task definitions, services, startup delays, scheduled events and
 * injected faults). The loader is strict: unknown or duplicate keys, wrong
 * types and impossible values are errors with file:line:column. The format is
 * documented in docs/scenarios.md. A loaded scenario is plain data; the world
 * (world.h) borrows it.
 */
#ifndef QSCALE_SCENARIO_H
#define QSCALE_SCENARIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/diag.h"

enum scenario_launch_type {
	SCENARIO_LAUNCH_EXTERNAL,
	SCENARIO_LAUNCH_FARGATE,
};

/* Bits of scenario_task_definition.requires_compatibilities. */
#define SCENARIO_COMPAT_EC2 0x1u
#define SCENARIO_COMPAT_EXTERNAL 0x2u
#define SCENARIO_COMPAT_FARGATE 0x4u

/* How the rate moves between two segments of a rate schedule. */
enum scenario_shape {
	SCENARIO_SHAPE_STEP, /* piecewise constant: each rate holds until the next segment */
	SCENARIO_SHAPE_LINEAR, /* piecewise linear between segment points; last rate holds */
};

/* One point of a rate schedule: from at_ms on, rate_per_s messages per second. */
struct scenario_rate_segment {
	uint64_t at_ms;
	double rate_per_s;
};

/* One row of a trace: count messages arriving evenly over [at_ms, next row's at_ms). */
struct scenario_trace_row {
	uint64_t at_ms;
	uint64_t count;
};

/* Arrivals into one queue: a rate schedule or a trace (never both). */
struct scenario_arrivals {
	enum scenario_shape shape;
	struct scenario_rate_segment *segments; /* sorted by at_ms, strictly increasing */
	size_t segment_count;
	char *trace_path; /* NULL unless a trace; as resolved against the scenario's folder */
	struct scenario_trace_row *trace; /* sorted by at_ms, strictly increasing */
	size_t trace_count;
	uint64_t trace_last_span_ms; /* how long the last row's messages take to arrive */
};

struct scenario_queue {
	char *name;
	uint64_t reporting_lag_ms; /* GetQueueAttributes reports the counts of this long ago */
	uint64_t delay_ms; /* DelaySeconds: arrivals are "delayed" this long before visible */
	uint64_t initial_messages; /* visible at t=0 (counted as arrived at t=0) */
	struct scenario_arrivals arrivals;
};

struct scenario_attribute {
	char *name;
	char *value; /* NULL: an attribute without value */
};

enum scenario_instance_status {
	SCENARIO_INSTANCE_ACTIVE,
	SCENARIO_INSTANCE_DRAINING,
};

/* One container instance (after expanding `count:`). */
struct scenario_instance {
	char *ec2_instance_id; /* "mi-" + 17 hex digits for ECS Anywhere */
	char *container_instance_id; /* 32 hex digits, the last part of its ARN */
	uint32_t cpu_units; /* registered CPU */
	uint32_t memory_mib; /* registered MEMORY */
	uint16_t *reserved_ports_tcp; /* registered PORTS, sorted, unique */
	size_t reserved_ports_tcp_count;
	uint16_t *reserved_ports_udp; /* registered PORTS_UDP, sorted, unique */
	size_t reserved_ports_udp_count;
	struct scenario_attribute *attributes; /* ecs.capability.external etc. included */
	size_t attribute_count;
	enum scenario_instance_status status;
	bool agent_connected;
	uint64_t registered_at_ms; /* offset from t=0 (usually 0) */
};

struct scenario_cluster {
	char *name;
	char *arn;
	struct scenario_instance *instances;
	size_t instance_count;
};

enum scenario_protocol {
	SCENARIO_PROTO_TCP,
	SCENARIO_PROTO_UDP,
};

struct scenario_port_mapping {
	uint16_t container_port;
	uint16_t host_port; /* 0: dynamic, not reserved ahead */
	enum scenario_protocol protocol;
};

struct scenario_container {
	char *name;
	uint32_t cpu_units; /* 0 when absent */
	uint32_t memory_mib; /* hard limit; 0 when absent */
	uint32_t memory_reservation_mib; /* soft limit; 0 when absent */
	struct scenario_port_mapping *port_mappings;
	size_t port_mapping_count;
};

struct scenario_task_definition {
	char *family;
	uint32_t revision; /* >= 1 */
	char *arn; /* arn:aws:ecs:<region>:<account>:task-definition/<family>:<revision> */
	char *cpu; /* task-level cpu as ECS returns it (a string of units), NULL when absent */
	char *memory; /* task-level memory (string of MiB), NULL when absent */
	char *network_mode; /* "bridge", "host", "awsvpc" or "none" */
	unsigned requires_compatibilities; /* SCENARIO_COMPAT_* bits */
	struct scenario_container *containers;
	size_t container_count;
};

/* What one task of a definition reserves on an instance (AWS.md 2.5). */
struct scenario_reservation {
	uint32_t cpu_units;
	uint32_t memory_mib;
	uint16_t ports_tcp[16]; /* host ports > 0, unless awsvpc */
	size_t ports_tcp_count;
	uint16_t ports_udp[16];
	size_t ports_udp_count;
};

enum scenario_service_status {
	SCENARIO_SERVICE_ACTIVE,
	SCENARIO_SERVICE_DRAINING,
	SCENARIO_SERVICE_INACTIVE,
};

struct scenario_service {
	char *name;
	char *arn; /* arn:aws:ecs:<region>:<account>:service/<cluster>/<name> */
	size_t cluster; /* index into scenario.clusters */
	enum scenario_launch_type launch_type;
	size_t task_definition; /* index into scenario.task_definitions */
	uint32_t desired_count; /* at t=0 */
	bool has_queue;
	size_t queue; /* index into scenario.queues when has_queue */
	double messages_per_task_s; /* what one RUNNING task consumes per second */
	/*
	 * How long one message is held (received, not yet deleted) while it is
	 * processed; default 1 / messages_per_task, a worker that receives one
	 * message at a time. A task holds rate x time messages at once.
	 */
	uint64_t processing_time_ms;
	enum scenario_service_status status;
	uint64_t created_at_ms; /* offset from t=0 (usually 0) */
};

enum scenario_event_kind {
	SCENARIO_EVENT_DISCONNECT, /* agentConnected=false; tasks keep running */
	SCENARIO_EVENT_RECONNECT, /* agentConnected=true */
	SCENARIO_EVENT_DRAIN, /* status DRAINING; its tasks stop and are replaced elsewhere */
	SCENARIO_EVENT_ACTIVATE, /* status ACTIVE */
};

/* An instance event at a point in time. Partition windows become faults. */
struct scenario_event {
	uint64_t at_ms;
	enum scenario_event_kind kind;
	size_t cluster; /* index into scenario.clusters */
	size_t instance; /* index into that cluster's instances */
};

enum scenario_fault_kind {
	SCENARIO_FAULT_THROTTLING, /* the service's throttling error */
	SCENARIO_FAULT_ERROR500, /* HTTP 500, InternalError / ServerException */
	SCENARIO_FAULT_ERROR503, /* HTTP 503, ServiceUnavailable */
	SCENARIO_FAULT_LATENCY, /* the answer is held back latency_ms */
	SCENARIO_FAULT_DROP, /* the connection is closed without an answer */
	SCENARIO_FAULT_MALFORMED, /* a 200 whose body is not valid JSON */
	SCENARIO_FAULT_PARTITION, /* nothing answers at all (connections hang) */
	/* DescribeContainerInstances puts the instance in failures[] with reason. */
	SCENARIO_FAULT_INSTANCE_FAILURE,
	/* DescribeContainerInstances leaves resource out of remainingResources. */
	SCENARIO_FAULT_MISSING_RESOURCE,
	/* The call is carried out, then the connection closed without an answer. */
	SCENARIO_FAULT_LOST_ANSWER,
};

/* A resource a missing_resource fault leaves out. */
enum scenario_resource {
	SCENARIO_RESOURCE_MEMORY,
	SCENARIO_RESOURCE_CPU,
};

enum scenario_fault_target {
	SCENARIO_TARGET_ANY,
	SCENARIO_TARGET_SQS,
	SCENARIO_TARGET_ECS,
};

/*
 * A fault window: active for requests at start_ms <= t < end_ms that match
 * target and operation. It hits a request with probability, or every Nth
 * matching request when every_nth > 0 (then probability is ignored).
 */
struct scenario_fault {
	enum scenario_fault_kind kind;
	uint64_t start_ms;
	uint64_t end_ms;
	double probability; /* (0, 1]; 1 when neither probability nor every is given */
	uint32_t every_nth; /* 0: use probability */
	enum scenario_fault_target target;
	char *operation; /* e.g. "GetQueueAttributes", "UpdateService"; NULL: any */
	uint64_t latency_ms; /* for SCENARIO_FAULT_LATENCY */
	char *instance; /* instance faults: the ec2 instance id hit; NULL: every instance */
	char *reason; /* SCENARIO_FAULT_INSTANCE_FAILURE: the failure's reason (MISSING...) */
	enum scenario_resource resource; /* SCENARIO_FAULT_MISSING_RESOURCE */
};

/* Whether an instance fault hits the instance with this ec2 instance id. */
bool scenario_fault_hits_instance(const struct scenario_fault *fault, const char *ec2_instance_id);

struct scenario {
	char *path; /* the file it came from */
	char *region;
	char *account_id; /* 12 digits */
	char *access_key_id; /* credentials the emulator accepts */
	char *secret_access_key; /* wiped on destroy */
	uint64_t seed; /* for every random choice the model makes */
	uint64_t duration_ms; /* how long the scenario is meant to run; 0: open-ended */
	uint64_t onprem_startup_ms; /* PENDING -> RUNNING on an EXTERNAL instance */
	uint64_t fargate_startup_ms; /* PENDING -> RUNNING on Fargate */
	struct scenario_queue *queues;
	size_t queue_count;
	struct scenario_cluster *clusters;
	size_t cluster_count;
	struct scenario_task_definition *task_definitions;
	size_t task_definition_count;
	struct scenario_service *services;
	size_t service_count;
	struct scenario_event *events; /* sorted by at_ms (stable) */
	size_t event_count;
	struct scenario_fault *faults; /* in file order, partitions included */
	size_t fault_count;
};

/*
 * Deep-copy an instance into dst, without its ids (ec2_instance_id and
 * container_instance_id are NULL: the copy is another instance).
 */
void scenario_instance_copy(struct scenario_instance *dst, const struct scenario_instance *src);

/* Free what an instance holds (as the loader allocates it). */
void scenario_instance_finish(struct scenario_instance *in);

/*
 * Load and validate a scenario file; trace files it names are read too
 * (relative to the scenario's folder). On success *out is the caller's, to
 * free with scenario_destroy. On failure returns -EINVAL (bad content, diag
 * filled), -ENOENT/-EACCES/-EIO (unreadable file, diag filled).
 */
int scenario_load(const char *path, struct scenario **out, struct diag *diag);

/* As scenario_load, from text in memory; name is used in diagnostics and
 * relative trace paths are resolved against the current folder. */
int scenario_load_text(
	const char *name, const char *text, size_t len, struct scenario **out, struct diag *diag);

/* Free a scenario (accepts NULL); the secret key is wiped. */
void scenario_destroy(struct scenario *sc);

/*
 * Read a trace CSV ("timestamp_seconds,count" rows, optional header line,
 * '#' comments; see docs/scenarios.md) into arrivals, replacing what was there
 * (used by `simulate --trace`). On failure *arrivals is untouched.
 */
int scenario_trace_load(const char *path, struct scenario_arrivals *arrivals, struct diag *diag);

/* Free the contents of arrivals (not the struct itself). */
void scenario_arrivals_finish(struct scenario_arrivals *arrivals);

/* Compute what one task of td reserves on an instance, as ECS does. */
void scenario_task_definition_reservation(
	const struct scenario_task_definition *td, struct scenario_reservation *out);

/* Find a task definition by "family" (highest revision), "family:revision" or ARN;
 * returns its index or -ENOENT. */
int scenario_find_task_definition(const struct scenario *sc, const char *ref);

/* Find a queue, cluster or service by name (or ARN for clusters); index or -ENOENT. */
int scenario_find_queue(const struct scenario *sc, const char *name);
int scenario_find_cluster(const struct scenario *sc, const char *name_or_arn);

/* Names as ECS and the scenario files spell them. */
const char *scenario_fault_kind_name(enum scenario_fault_kind kind);
const char *scenario_launch_type_name(enum scenario_launch_type type);

#endif
