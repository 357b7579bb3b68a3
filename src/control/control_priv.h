/*
 * What the files of src/control share: the controller's per-policy state, the
 * state of one cycle in flight, and the functions that move a cycle from
 * observing (observe.c) to deciding and acting (act.c) to its report
 * (report.c) and end (controller.c).
 */
#ifndef QSCALE_CONTROL_PRIV_H
#define QSCALE_CONTROL_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/cloud.h"
#include "qscale/controller.h"
#include "qscale/ecs_filter.h"
#include "qscale/engine.h"
#include "qscale/policy.h"

/* Task reservations remembered by task-definition ARN (revisions never change). */
#define CTL_TASK_CACHE_MAX 256

struct ctl_cycle;
struct ctl_policy;

/* One UpdateService in flight (local or burst side of a policy). */
struct ctl_update {
	struct ctl_cycle *cycle;
	struct ctl_policy *owner;
	bool burst;
	bool started;
	bool done;
	int err;
	bool unknown; /* failed without an answer saying it was refused: maybe made */
};

/*
 * An UpdateService whose outcome is unknown, counted as made (rate limits,
 * stabilisation, claims) until DescribeServices shows the real count.
 */
struct ctl_unconfirmed {
	bool active;
	int32_t before; /* the count as observed before the update */
	int32_t intended;
	uint64_t at_ms; /* when its scale event was remembered */
};

/* The controller's state of one policy, kept across cycles and reloads. */
struct ctl_policy {
	const struct policy *policy;
	struct controller_policy_status status;
	struct engine_history history;
	/* What its last decision claimed, for cycles it is not due in. */
	bool has_claim;
	struct engine_task_obs claim_task;
	struct engine_decision claim_decision;
	struct ctl_unconfirmed unconfirmed_local, unconfirmed_burst;
	/* The cycle in flight. */
	bool due;
	bool claim_only; /* not due, but on a cluster being sized */
	/* Numbers of its names, the same for policies sharing one (controller.c). */
	size_t queue_id;
	size_t local_cluster_id, local_service_id;
	size_t burst_cluster_id, burst_service_id;
	size_t filter_id;
	uint64_t missed; /* intervals skipped just before this cycle */
	size_t queue; /* index in cycle->queues */
	size_t local_cluster, local_service; /* cycle->clusters[...].services[...] */
	size_t burst_cluster, burst_service;
	const bool *matches; /* per instance of the local cluster; the cluster's */
	char error[CONTROLLER_ERROR_MAX]; /* first error of the cycle */
	struct engine_observation obs;
	struct engine_decision decision;
	int32_t local_before, burst_before;
	bool standby; /* may_act refused this cycle's updates */
	struct ctl_update update_local;
	struct ctl_update update_burst;
};

/* One queue read this cycle (shared by the policies reading it). */
struct ctl_queue {
	struct ctl_cycle *cycle;
	const char *url; /* borrowed from a policy */
	struct engine_queue_obs obs;
	char error[CONTROLLER_ERROR_MAX]; /* last: plan zeroes what comes before it */
};

/* A task-definition ARN shorter than this is kept in its service, not on the heap. */
#define CTL_TASK_DEFINITION_INLINE 128

/* One service described this cycle. */
struct ctl_service {
	const char *name; /* borrowed from a policy */
	bool local; /* the local service of a due or claiming policy */
	bool seen;
	bool has_task_definition;
	char *task_definition_long; /* the ARN when it does not fit inline, else NULL */
	struct engine_service_obs obs;
	char error[CONTROLLER_ERROR_MAX]; /* plan zeroes what comes before it */
	/*
	 * The ARN when it fits (valid while has_task_definition): a copy per
	 * service and cycle without an allocation and a free.
	 */
	char task_definition_text[CTL_TASK_DEFINITION_INLINE];
};

/* A described service's task-definition ARN, or NULL (owned by the service). */
static inline const char *ctl_service_task_definition(const struct ctl_service *svc)
{
	if (svc->task_definition_long != NULL)
		return svc->task_definition_long;
	return svc->has_task_definition ? svc->task_definition_text : NULL;
}

/* What one instance's filter evaluation needs, in its cluster's blocks. */
struct ctl_instance_data {
	const char *id;
	const char *ec2_instance_id;
	struct ecs_filter_attribute *attributes;
	size_t n_attributes;
	struct engine_port *ports;
};

/* One cluster touched this cycle: services described, instances maybe listed. */
struct ctl_cluster {
	struct ctl_cycle *cycle;
	const char *name; /* borrowed from a policy */
	const char **service_names;
	struct ctl_service *services;
	size_t n_services;
	bool want_instances;
	char instances_error[CONTROLLER_ERROR_MAX];
	size_t cap_services;
	struct engine_cluster cluster;
	struct ctl_instance_data *data;
	/* The instances' copies: one block each of text, attributes and ports. */
	char *strings;
	struct ecs_filter_attribute *attributes;
	struct engine_port *ports;
	bool **matches; /* by filter id: per instance, made when first needed */
};

/* One task definition fetched this cycle. */
struct ctl_fetch {
	struct ctl_cycle *cycle;
	char *arn;
	bool ok;
	struct engine_task_obs task;
	char error[CONTROLLER_ERROR_MAX];
};

/* A cycle in flight. */
struct ctl_cycle {
	struct controller *ctl;
	uint64_t started_ms;
	size_t pending; /* cloud callbacks still to come */
	bool acting; /* observation over, updates in flight */
	struct ctl_queue *queues;
	size_t n_queues;
	size_t cap_queues;
	struct ctl_cluster *clusters;
	size_t n_clusters;
	size_t cap_clusters;
	struct ctl_fetch **fetches; /* each allocated alone: callbacks hold pointers */
	size_t n_fetches;
};

/* A cached task reservation. */
struct ctl_task {
	char *arn;
	struct engine_task_obs task;
	uint64_t used_ms;
};

struct controller {
	const struct cloud *cloud;
	const struct clock *clock;
	struct controller_hooks hooks;
	struct qscale_config *config;
	struct qscale_config *pending_config;
	struct ctl_policy *policies;
	size_t n_policies;
	/* Made once per config: how many distinct names, and the sizing order. */
	size_t n_queue_ids, n_cluster_ids, n_service_ids, n_filter_ids;
	size_t *order; /* policy indices by priority descending, then name */
	struct engine_member *members; /* decide_cluster's, n_policies + 1 */
	/* The cycle's position of each name (SIZE_MAX: not planned yet). */
	size_t *queue_slot, *cluster_slot, *service_slot;
	struct ctl_cycle *cycle;
	struct ctl_task *tasks;
	size_t n_tasks;
	bool force_dry_run;
	bool quiet;
	controller_may_act_cb may_act;
	void *may_act_arg;
};

/* observe.c: start every observation of the cycle (pending counts them). */
void ctl_observe_start(struct ctl_cycle *cycle);

/* observe.c: free what the observations of a cycle hold. */
void ctl_observe_free(struct ctl_cycle *cycle);

/* observe.c: the cached reservation of a task definition, or NULL. */
struct ctl_task *ctl_task_find(struct controller *ctl, const char *arn);

/* act.c: decide every due policy, then start the updates (pending counts them). */
void ctl_decide_and_act(struct ctl_cycle *cycle);

/* report.c: record, log and report every due policy's outcome; returns how many failed. */
size_t ctl_report(struct ctl_cycle *cycle);

/* controller.c: one cloud callback arrived (or a call could not start). */
void ctl_cycle_step(struct ctl_cycle *cycle);

/* Write "Operation: Code: message" (or the errno's text) into out. */
void ctl_format_error(char *out, size_t size, const char *operation, const char *subject, int err,
	const struct aws_error *error);

/* Keep the first error of a policy's cycle. */
void ctl_policy_error(struct ctl_policy *p, const char *error);

#endif
