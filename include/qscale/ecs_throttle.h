/*
 * ECS API throttling (AWS.md 2.7): every action belongs to a category, and
 * a category shares one token bucket per account and Region with a
 * documented burst and refill. The real client paces its calls by these
 * buckets (with headroom); the simulated cloud counts the calls that would
 * have found a bucket empty. One table for both, so they cannot drift.
 */
#ifndef QSCALE_ECS_THROTTLE_H
#define QSCALE_ECS_THROTTLE_H

#include <stdint.h>

/* The categories of AWS.md 2.7. */
enum ecs_throttle_category {
	ECS_THROTTLE_NONE = -1,
	ECS_THROTTLE_SERVICE_READ = 0,
	ECS_THROTTLE_SERVICE_MODIFY,
	ECS_THROTTLE_CLUSTER_RESOURCE_READ,
	ECS_THROTTLE_TASK_DEFINITION_READ,
	ECS_THROTTLE_CLUSTER_READ,
	ECS_THROTTLE_CLUSTER_RESOURCE_MODIFY,
	ECS_THROTTLE_CATEGORY_COUNT,
};

/* The category of an ECS action ("DescribeServices"); ECS_THROTTLE_NONE when unknown. */
enum ecs_throttle_category ecs_throttle_category_of(const char *operation);

/* "service read", "service modify", ...; "?" when out of range. */
const char *ecs_throttle_category_name(enum ecs_throttle_category c);

/* The documented burst and refill per second of a category (0 and 0 when out of range). */
void ecs_throttle_limits(enum ecs_throttle_category c, double *burst, double *refill_per_s);

/* A token bucket refilled continuously. */
struct ecs_token_bucket {
	double tokens;
	double burst;
	double refill_per_s;
	uint64_t last_ms;
};

/* A full bucket at now_ms. */
void ecs_token_bucket_init(
	struct ecs_token_bucket *b, double burst, double refill_per_s, uint64_t now_ms);

/* Take one token: 0 when taken, else the ms to wait before one is there (nothing taken). */
uint64_t ecs_token_bucket_take(struct ecs_token_bucket *b, uint64_t now_ms);

#endif
