/*
 * What the ECS parsers and calls share: failures[] entries and a few small
 * helpers for owned strings and request bodies.
 */
#ifndef QSCALE_ECS_PRIV_H
#define QSCALE_ECS_PRIV_H

#include "qscale/ecs.h"
#include "json_priv.h"

/* Most entries any array of a response may hold. */
#define ECS_ARRAY_MAX AWS_JSON_MAX_ITEMS

/* A copy of s, or NULL for NULL. */
char *ecs_strdup_opt(const char *s);

/* What to keep of a failures[] array for ecs_failure_parse (json_tree_parse_keep). */
extern const struct json_keep ecs_failures_keep;

/* Parse one failures[] item. */
int ecs_failure_parse(yajl_val v, struct ecs_failure *out, struct aws_error *diag);

/* Free what a failure holds; accepts a zeroed one. */
void ecs_failure_finish(struct ecs_failure *f);

/* Copy src into a zeroed dst. */
void ecs_failure_copy(struct ecs_failure *dst, const struct ecs_failure *src);

/* Open a request object and write "cluster" unless it is NULL. */
int ecs_gen_open(yajl_gen g, const char *cluster);

/* Write key: [items[0..n)]. */
int ecs_gen_str_array(yajl_gen g, const char *key, const char *const *items, size_t n);

/* Close the request object and hand its text over; frees g either way. */
int ecs_gen_close(yajl_gen g, int r, char **out_body, size_t *out_len);

#endif
