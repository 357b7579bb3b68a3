/*
 * struct cloud over the world model, for `qscale simulate`: the controller
 * reaches the simulated SQS and ECS through the same seam the daemon uses to
 * reach AWS. Nothing happens inside a call: each one is queued as a pending
 * completion, answered from the world and delivered by cloud_sim_deliver,
 * which the simulator's virtual-time loop calls right after it ticks the
 * controller. The scenario's faults apply per request (throttling, server
 * errors, drops, malformed answers, partitions that end in the client's
 * timeout, added latency); there are no retries.
 *
 * It counts the AWS calls each operation stands for (DescribeServices in
 * batches of ten, ListContainerInstances and DescribeContainerInstances in
 * pages of a hundred) and runs each ECS call through the token bucket of its
 * throttling category, so a run can say how close it came to ECS's limits.
 */
#ifndef QSCALE_CLOUD_SIM_H
#define QSCALE_CLOUD_SIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/cloud.h"
#include "qscale/world.h"

/* The AWS operations the simulated cloud counts. */
enum cloud_sim_call {
	CLOUD_SIM_GET_QUEUE_ATTRIBUTES,
	CLOUD_SIM_DESCRIBE_SERVICES,
	CLOUD_SIM_LIST_CONTAINER_INSTANCES,
	CLOUD_SIM_DESCRIBE_CONTAINER_INSTANCES,
	CLOUD_SIM_DESCRIBE_TASK_DEFINITION,
	CLOUD_SIM_UPDATE_SERVICE,
	CLOUD_SIM_CALLS,
};

/* ECS throttling categories (AWS.md 2.7); SQS has no documented limit. */
enum cloud_sim_category {
	CLOUD_SIM_SERVICE_READ, /* DescribeServices */
	CLOUD_SIM_SERVICE_MODIFY, /* UpdateService */
	CLOUD_SIM_CLUSTER_RESOURCE_READ, /* List/DescribeContainerInstances */
	CLOUD_SIM_TASK_DEFINITION_READ, /* DescribeTaskDefinition */
	CLOUD_SIM_CATEGORIES,
};

/* One category's token bucket and what the run took from it. */
struct cloud_sim_limit {
	const char *name; /* "service read" ... */
	double bucket; /* burst */
	double refill_per_s; /* sustained */
	uint64_t calls; /* calls made in this category */
	uint64_t over; /* calls that found the bucket empty (ECS would throttle them) */
	uint32_t peak_per_s; /* most calls within one second of virtual time */
};

/* The API name of a call ("GetQueueAttributes"...). */
const char *cloud_sim_call_name(enum cloud_sim_call call);

struct cloud_sim;

/*
 * A simulated cloud over w (borrowed; it must outlive the cloud). timeout_ms
 * is how long a request into a partition takes to fail (the client's
 * timeout). Returns 0 or -EINVAL.
 */
int cloud_sim_create(struct world *w, uint64_t timeout_ms, struct cloud_sim **out);

/* Free it; completions still pending are dropped without their callbacks. Accepts NULL. */
void cloud_sim_destroy(struct cloud_sim *cs);

/* The struct cloud to hand to the controller (owned by cs). */
const struct cloud *cloud_sim_cloud(struct cloud_sim *cs);

/*
 * Answer and deliver, in order, every completion due at or before now_ms,
 * including those queued by the callbacks it runs. The world must already be
 * at now_ms. Returns how many were delivered.
 */
size_t cloud_sim_deliver(struct cloud_sim *cs, uint64_t now_ms);

/* When the next pending completion is due; UINT64_MAX when none is. */
uint64_t cloud_sim_next_due_ms(const struct cloud_sim *cs);

/* Calls made so far of one kind. */
uint64_t cloud_sim_calls(const struct cloud_sim *cs, enum cloud_sim_call call);

/* A category's bucket and counts (NULL past the end). */
const struct cloud_sim_limit *cloud_sim_limit(
	const struct cloud_sim *cs, enum cloud_sim_category category);

/* UpdateService calls that reached a service (world-wide service index) and succeeded. */
uint64_t cloud_sim_updates(const struct cloud_sim *cs, size_t service);

/* One UpdateService that reached the world and succeeded. */
struct cloud_sim_update {
	uint64_t t_ms;
	size_t service; /* world-wide service index */
	int32_t from; /* desired before */
	int32_t to;
};

/* Keep a log of every successful UpdateService from now on (off by default). */
void cloud_sim_record_updates(struct cloud_sim *cs, bool on);

/* The log so far (valid until the next call into cs), and its length. */
const struct cloud_sim_update *cloud_sim_update_log(const struct cloud_sim *cs, size_t *n);

/* Requests that a scenario fault answered with an error. */
uint64_t cloud_sim_faulted(const struct cloud_sim *cs);

#endif
