/*
 * Shared between the scenario loader's files: the load in progress, the
 * scenario's own value types for the schema walker of util/ (scenario_types.c)
 * and the schema tables of the ECS and fault sections (scenario_ecs.c) that
 * the root table (scenario.c) names.
 */
#ifndef QSCALE_SCENARIO_PRIV_H
#define QSCALE_SCENARIO_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "qscale/scenario.h"
#include "qscale/schema.h"
#include "qscale/yaml_tree.h"

/* Most entries of one list of a scenario file. */
#define SCENARIO_MAX_ITEMS 100000

/* One load in progress: the walk's context. */
struct scenario_loader {
	const char *dir; /* folder that relative trace paths are resolved against */
	struct scenario *sc;
};

/* The load a walk belongs to. */
static inline struct scenario_loader *scenario_loader_of(struct schema_walk *w)
{
	return w->ctx;
}

/* ---- Value types (scenario_types.c) ---- */

/* A rate "10/s", "600/m", "600/min", "36000/h" or a bare number, as a double per second. */
extern const struct schema_custom scenario_rate_type;

/* An AWS account id: 12 digits (a char *). */
extern const struct schema_custom scenario_account_type;

/* A list of distinct ports (uint16_t *, count at the field's count_offset), sorted. */
extern const struct schema_custom scenario_ports_type;

/* A mapping of attribute names to values (struct scenario_attribute *, count at count_offset). */
extern const struct schema_custom scenario_attributes_type;

/* Task-level cpu ("1024", "1 vCPU") and memory ("2048", "2 GB"), kept as ECS's strings. */
extern const struct schema_custom scenario_task_cpu_type;
extern const struct schema_custom scenario_task_memory_type;

/* A network mode (char *: bridge, host, awsvpc or none). */
extern const struct schema_custom scenario_network_mode_type;

/* A list of EC2, EXTERNAL, FARGATE as SCENARIO_COMPAT_* bits (unsigned). */
extern const struct schema_custom scenario_compat_type;

/* References to what the scenario defined before, resolved to a size_t index. */
extern const struct schema_custom scenario_cluster_ref_type;
extern const struct schema_custom scenario_task_definition_ref_type;
extern const struct schema_custom scenario_queue_ref_type;

/* Parse a rate's text; 0 or -EINVAL. */
int scenario_rate_parse(const char *text, double *out_per_s);

/* ---- Sections (scenario_ecs.c) ---- */

/* The fields of task_definitions, services, events and faults items. */
extern const struct schema_field scenario_task_definition_fields[];
extern const struct schema_field scenario_service_fields[];
extern const struct schema_field scenario_event_fields[];
extern const struct schema_field scenario_fault_fields[];

/* An event entry as read (partitions become faults). */
struct scenario_event_entry {
	uint64_t at_ms;
	int kind; /* enum scenario_event_kind, or SCENARIO_EVENT_PARTITION */
	size_t cluster;
	char *instance;
	uint64_t duration_ms;
	int target; /* enum scenario_fault_target */
};

#define SCENARIO_EVENT_PARTITION 4

/* The checks of each item of those sections. */
int scenario_check_task_definition(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path);
int scenario_check_service(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path);
int scenario_take_event(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path);
int scenario_take_fault(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path);

/* Free a queue's fields. */
void scenario_queue_finish(struct scenario_queue *q);

/* Order events by time, keeping file order for equal times. */
void scenario_sort_events(struct scenario *sc);

/* Free a task definition's fields. */
void scenario_task_definition_finish(struct scenario_task_definition *td);

#endif
