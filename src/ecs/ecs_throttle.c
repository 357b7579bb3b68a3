/*
 * The ECS throttling table (AWS.md 2.7) and the token bucket that models it.
 */
#include <math.h>
#include <stddef.h>
#include <string.h>

#include "qscale/ecs_throttle.h"

static const struct {
	const char *operation;
	enum ecs_throttle_category category;
} categories[] = {
	{"DescribeServices", ECS_THROTTLE_SERVICE_READ},
	{"ListServices", ECS_THROTTLE_SERVICE_READ},
	{"ListServicesByNamespace", ECS_THROTTLE_SERVICE_READ},
	{"CreateService", ECS_THROTTLE_SERVICE_MODIFY},
	{"DeleteService", ECS_THROTTLE_SERVICE_MODIFY},
	{"UpdateService", ECS_THROTTLE_SERVICE_MODIFY},
	{"DescribeContainerInstances", ECS_THROTTLE_CLUSTER_RESOURCE_READ},
	{"DescribeTasks", ECS_THROTTLE_CLUSTER_RESOURCE_READ},
	{"ListAttributes", ECS_THROTTLE_CLUSTER_RESOURCE_READ},
	{"ListContainerInstances", ECS_THROTTLE_CLUSTER_RESOURCE_READ},
	{"ListTasks", ECS_THROTTLE_CLUSTER_RESOURCE_READ},
	{"DescribeTaskDefinition", ECS_THROTTLE_TASK_DEFINITION_READ},
	{"ListTaskDefinitions", ECS_THROTTLE_TASK_DEFINITION_READ},
	{"ListTaskDefinitionFamilies", ECS_THROTTLE_TASK_DEFINITION_READ},
	{"DescribeClusters", ECS_THROTTLE_CLUSTER_READ},
	{"ListClusters", ECS_THROTTLE_CLUSTER_READ},
	{"RunTask", ECS_THROTTLE_CLUSTER_RESOURCE_MODIFY},
	{"StartTask", ECS_THROTTLE_CLUSTER_RESOURCE_MODIFY},
	{"StopTask", ECS_THROTTLE_CLUSTER_RESOURCE_MODIFY},
	{"PutAttributes", ECS_THROTTLE_CLUSTER_RESOURCE_MODIFY},
	{"DeleteAttributes", ECS_THROTTLE_CLUSTER_RESOURCE_MODIFY},
};

/* Burst, refill per second and name of each category. */
static const struct {
	double burst, refill_per_s;
	const char *name;
} limits[ECS_THROTTLE_CATEGORY_COUNT] = {
	[ECS_THROTTLE_SERVICE_READ] = {100, 20, "service read"},
	[ECS_THROTTLE_SERVICE_MODIFY] = {50, 5, "service modify"},
	[ECS_THROTTLE_CLUSTER_RESOURCE_READ] = {100, 20, "cluster resource read"},
	[ECS_THROTTLE_TASK_DEFINITION_READ] = {50, 20, "task definition read"},
	[ECS_THROTTLE_CLUSTER_READ] = {50, 20, "cluster read"},
	[ECS_THROTTLE_CLUSTER_RESOURCE_MODIFY] = {100, 40, "cluster resource modify"},
};

enum ecs_throttle_category ecs_throttle_category_of(const char *operation)
{
	if (operation == NULL)
		return ECS_THROTTLE_NONE;
	for (size_t i = 0; i < sizeof(categories) / sizeof(categories[0]); i++)
		if (strcmp(operation, categories[i].operation) == 0)
			return categories[i].category;
	return ECS_THROTTLE_NONE;
}

const char *ecs_throttle_category_name(enum ecs_throttle_category c)
{
	return c >= 0 && c < ECS_THROTTLE_CATEGORY_COUNT ? limits[c].name : "?";
}

void ecs_throttle_limits(enum ecs_throttle_category c, double *burst, double *refill_per_s)
{
	if (c < 0 || c >= ECS_THROTTLE_CATEGORY_COUNT) {
		*burst = 0;
		*refill_per_s = 0;
		return;
	}
	*burst = limits[c].burst;
	*refill_per_s = limits[c].refill_per_s;
}

void ecs_token_bucket_init(
	struct ecs_token_bucket *b, double burst, double refill_per_s, uint64_t now_ms)
{
	b->tokens = burst;
	b->burst = burst;
	b->refill_per_s = refill_per_s;
	b->last_ms = now_ms;
}

uint64_t ecs_token_bucket_take(struct ecs_token_bucket *b, uint64_t now_ms)
{
	double wait;

	if (now_ms > b->last_ms) {
		b->tokens += (double)(now_ms - b->last_ms) * b->refill_per_s / 1000.0;
		if (b->tokens > b->burst)
			b->tokens = b->burst;
		b->last_ms = now_ms;
	}
	if (b->tokens >= 1.0) {
		b->tokens -= 1.0;
		return 0;
	}
	if (b->refill_per_s <= 0.0)
		return UINT64_MAX;
	wait = ceil((1.0 - b->tokens) * 1000.0 / b->refill_per_s);
	return wait < 1.0 ? 1 : (uint64_t)wait;
}
