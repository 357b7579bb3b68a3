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
	struct diag *diag;
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

/* A trace file, relative to the scenario's folder, read into a struct scenario_arrivals. */
extern const struct schema_custom scenario_trace_type;

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

/* ---- The hand-written walk of the ECS sections (scenario_yaml.c) ---- */

/* Fill the diagnostic at node's position (node may be NULL); returns -EINVAL. */
int scenario_yaml_fail(struct scenario_loader *ld, const struct ynode *node, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/*
 * Check that node is a mapping whose keys are all in allowed (NULL-ended),
 * none twice; values[i] is the value node of allowed[i] or NULL. A misspelt
 * key gets a suggestion. what names the mapping in messages.
 */
int scenario_yaml_fields(struct scenario_loader *ld, const struct ynode *node, const char *what,
	const char *const *allowed, const struct ynode **values);

/* Require a key (values[i] non-NULL) of a mapping; error at the mapping. */
int scenario_yaml_require(struct scenario_loader *ld, const struct ynode *map,
	const struct ynode *value, const char *key);

/* Scalar text of a node, or an error "<what> must be a scalar". */
int scenario_yaml_scalar(
	struct scenario_loader *ld, const struct ynode *node, const char *what, const char **out);

/* A non-empty string (any scalar style); the result is a fresh copy. */
int scenario_yaml_string(
	struct scenario_loader *ld, const struct ynode *node, const char *what, char **out);

/* An unquoted integer within [min, max]. */
int scenario_yaml_uint(struct scenario_loader *ld, const struct ynode *node, const char *what,
	uint64_t min, uint64_t max, uint64_t *out);

/* An unquoted number within [min, max]. */
int scenario_yaml_double(struct scenario_loader *ld, const struct ynode *node, const char *what,
	double min, double max, double *out);

/* true / false, unquoted. */
int scenario_yaml_bool(
	struct scenario_loader *ld, const struct ynode *node, const char *what, bool *out);

/* A duration ("5s", "500ms", "0s"). */
int scenario_yaml_duration(
	struct scenario_loader *ld, const struct ynode *node, const char *what, uint64_t *out_ms);

/* A rate "10/s", "600/m", "600/min", "36000/h" or a bare number (per second). */
int scenario_yaml_rate(
	struct scenario_loader *ld, const struct ynode *node, const char *what, double *out_per_s);

/* One of names (NULL-ended); returns its index in *out. */
int scenario_yaml_enum(struct scenario_loader *ld, const struct ynode *node, const char *what,
	const char *const *names, int *out);

/* A sequence node (or an error "<what> must be a list"). */
int scenario_yaml_sequence(struct scenario_loader *ld, const struct ynode *node, const char *what);

/* The number of items of a sequence node, and item i (always 0). */
size_t scenario_yaml_seq_len(const struct ynode *seq);
int scenario_yaml_seq_item(
	struct scenario_loader *ld, const struct ynode *seq, size_t i, const struct ynode **out);

/* The ECS sections (scenario_ecs.c): task_definitions, services, events, faults. */
int scenario_load_task_definitions(struct scenario_loader *ld, const struct ynode *node);
int scenario_load_services(struct scenario_loader *ld, const struct ynode *node);
int scenario_load_events(struct scenario_loader *ld, const struct ynode *node);
int scenario_load_faults(struct scenario_loader *ld, const struct ynode *node);

/* Free a queue's fields. */
void scenario_queue_finish(struct scenario_queue *q);

/* Order events by time, keeping file order for equal times. */
void scenario_sort_events(struct scenario *sc);

/* Free a task definition's fields. */
void scenario_task_definition_finish(struct scenario_task_definition *td);

#endif
