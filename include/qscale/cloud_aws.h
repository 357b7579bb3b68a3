/*
 * struct cloud over the real AWS APIs: the typed SQS and ECS calls (sqs.h,
 * ecs.h) on one aws_client. The controller of `qscale run` and `qscale plan`
 * acts through it; the simulator has its own implementation.
 */
#ifndef QSCALE_CLOUD_AWS_H
#define QSCALE_CLOUD_AWS_H

#include <stddef.h>
#include <stdint.h>

#include "qscale/aws_client.h"
#include "qscale/clock.h"
#include "qscale/cloud.h"

struct cloud_aws;

/* A cloud acting through client (kept by the caller, outliving it). Caller destroys. */
struct cloud_aws *cloud_aws_create(struct aws_client *client);

/*
 * Cancel every call in flight (their callbacks never run) and free; accepts
 * NULL. Call it before destroying the client.
 */
void cloud_aws_destroy(struct cloud_aws *aws);

/* The struct cloud to hand to the controller (owned by aws). */
const struct cloud *cloud_aws_cloud(struct cloud_aws *aws);

/*
 * Told once per AWS operation a cloud call made, when it ends: its name
 * ("GetQueueAttributes", "DescribeServices", "ListContainerInstances",
 * "DescribeContainerInstances", "DescribeTaskDefinition", "UpdateService"),
 * err (0 or negative errno), error (NULL on success) and its latency.
 */
typedef void (*cloud_aws_observer_cb)(const char *operation, int err, const struct aws_error *error,
	uint64_t latency_ms, void *arg);

/* Set the observer (NULL to stop); clock times the latency. */
void cloud_aws_set_observer(
	struct cloud_aws *aws, const struct clock *clock, cloud_aws_observer_cb cb, void *arg);

/*
 * Bound every UpdateService to budget_ms from its start (0: none, the
 * default): the HA lease sets its margin, so a call the lease allowed never
 * reaches ECS after a standby could have taken over.
 */
void cloud_aws_set_update_budget(struct cloud_aws *aws, uint64_t budget_ms);

/* Calls started and not yet answered. */
size_t cloud_aws_in_flight(const struct cloud_aws *aws);

struct event_base;
struct qscale_config;

/*
 * Create the AWS client the configuration asks for (region, endpoints,
 * profile, timeout: every aws: setting, in one place for run, plan and
 * doctor) on base. 0, or the negative errno of aws_client_create (-EINVAL:
 * no valid region or a bad endpoint).
 */
int cloud_aws_client_create(struct event_base *base, const struct qscale_config *config,
	const struct clock *clock, struct aws_client **out);

#endif
