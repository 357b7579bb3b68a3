/*
 * A subset of the ECS cluster query language, as used in ListContainerInstances'
 * `filter` and in a policy's `local.instance_filter`: parsed once into a compiled
 * filter, then evaluated against instances described by plain structs. Pure: no
 * I/O, no logging. The supported subset:
 *
 *   attribute:NAME == VALUE      attribute:NAME != VALUE
 *   attribute:NAME exists        attribute:NAME !exists
 *   attribute:NAME in [A, B]     ec2InstanceId in [A, B]
 *   ec2InstanceId == ID          agentConnected == true|false
 *
 * terms joined by `and` or `&&`. `equals` is accepted for `==`. Values are bare
 * words or quoted with "" or ''. Anything else (or, not, parentheses, !in, =~,
 * comparisons, other subjects) is rejected with a message naming it.
 */
#ifndef QSCALE_ECS_FILTER_H
#define QSCALE_ECS_FILTER_H

#include <stdbool.h>
#include <stddef.h>

/* Longest filter text accepted, in bytes (a filter is a short expression). */
#define ECS_FILTER_MAX_TEXT 1024

/* Room for an error message, with its NUL. */
#define ECS_FILTER_ERROR_MAX 160

struct ecs_filter;

/* Where and why a filter did not parse. column is 1-based, in bytes. */
struct ecs_filter_error {
	unsigned column;
	char message[ECS_FILTER_ERROR_MAX];
};

/* One attribute of a container instance; value is NULL for a flag attribute. */
struct ecs_filter_attribute {
	const char *name;
	const char *value;
};

/* What a filter is evaluated against: the facts DescribeContainerInstances returns. */
struct ecs_filter_instance {
	const struct ecs_filter_attribute *attributes;
	size_t attribute_count;
	bool agent_connected;
	const char *ec2_instance_id; /* NULL when unknown: never matches */
};

/*
 * Compile text into *out (the caller destroys it). 0, or -EINVAL with err (if
 * not NULL) saying where and why; -E2BIG for text over ECS_FILTER_MAX_TEXT.
 * *out is written only on success.
 */
int ecs_filter_parse(const char *text, struct ecs_filter **out, struct ecs_filter_error *err);

/*
 * Whether the instance satisfies every term. `!=` is the negation of `==`: an
 * instance without the attribute matches `attribute:x != v`. `==` and `in` need
 * the attribute to carry a value.
 */
bool ecs_filter_match(const struct ecs_filter *filter, const struct ecs_filter_instance *instance);

/* The text the filter was compiled from (owned by the filter). */
const char *ecs_filter_text(const struct ecs_filter *filter);

/* Free a compiled filter; accepts NULL. */
void ecs_filter_destroy(struct ecs_filter *filter);

#endif
