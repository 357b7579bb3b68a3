/*
 * Shared between the scenario loader's files: the helpers walking the shared
 * YAML tree (scenario_yaml.c) and the typed-value parsers used by the loader and the
 * trace reader.
 */
#ifndef QSCALE_SCENARIO_PRIV_H
#define QSCALE_SCENARIO_PRIV_H

#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>

#include "qscale/scenario.h"
#include "qscale/yaml_tree.h"

/* One load in progress. */
struct scenario_loader {
	struct diag *diag;
	const char *dir; /* folder that relative trace paths are resolved against */
	struct scenario *sc;
};

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

/* Parse a rate's text; 0 or -EINVAL. Shared with nothing else but tested through the loader. */
int scenario_rate_parse(const char *text, double *out_per_s);

/* Free a queue's fields. */
void scenario_queue_finish(struct scenario_queue *q);

/* The ECS sections (scenario_ecs.c): task_definitions, services, events, faults. */
int scenario_load_task_definitions(struct scenario_loader *ld, const struct ynode *node);
int scenario_load_services(struct scenario_loader *ld, const struct ynode *node);
int scenario_load_events(struct scenario_loader *ld, const struct ynode *node);
int scenario_load_faults(struct scenario_loader *ld, const struct ynode *node);

/* Order events by time, keeping file order for equal times. */
void scenario_sort_events(struct scenario *sc);

/* Free a task definition's fields. */
void scenario_task_definition_finish(struct scenario_task_definition *td);

#endif
