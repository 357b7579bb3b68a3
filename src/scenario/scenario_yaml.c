/*
 * Walking the shared YAML tree for the scenario loader: strict mappings
 * (unknown and duplicate keys are errors, with a suggestion for a misspelt key), typed scalars with
 * end checks, and diagnostics carrying line:column of the offending node.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/duration.h"
#include "qscale/suggest.h"
#include "qscale/xalloc.h"
#include "scenario_priv.h"

/* Report an error at a node's start (1-based line and column). */
int scenario_yaml_fail(struct scenario_loader *ld, const struct ynode *node, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	diag_vfill(ld->diag, ld->sc->path, node != NULL ? node->line : 0,
		node != NULL ? node->column : 0, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Walk a mapping's keys against the allowed list. */
int scenario_yaml_fields(struct scenario_loader *ld, const struct ynode *node, const char *what,
	const char *const *allowed, const struct ynode **values)
{
	size_t n = 0;

	while (allowed[n] != NULL)
		n++;
	if (node == NULL || node->kind != YNODE_MAPPING)
		return scenario_yaml_fail(ld, node, "%s must be a mapping", what);
	for (size_t i = 0; i < n; i++)
		values[i] = NULL;
	/* The tree holds key, value, key, value...; keys are always scalars. */
	for (size_t p = 0; p + 1 < node->count; p += 2) {
		const struct ynode *key = node->items[p], *value = node->items[p + 1];
		const char *name = key->value;
		size_t i;

		for (i = 0; i < n; i++)
			if (strcmp(name, allowed[i]) == 0)
				break;
		if (i == n) {
			const char *best = suggest_key(name, allowed);

			if (best != NULL)
				return scenario_yaml_fail(ld, key,
					"unknown key '%s' in %s (did you mean '%s'?)", name, what,
					best);
			return scenario_yaml_fail(ld, key, "unknown key '%s' in %s", name, what);
		}
		if (values[i] != NULL)
			return scenario_yaml_fail(ld, key, "duplicate key '%s' in %s", name, what);
		values[i] = value;
	}
	return 0;
}

/* A key that must be present. */
int scenario_yaml_require(struct scenario_loader *ld, const struct ynode *map,
	const struct ynode *value, const char *key)
{
	if (value == NULL)
		return scenario_yaml_fail(ld, map, "missing key '%s'", key);
	return 0;
}

/* The text of a scalar node. */
int scenario_yaml_scalar(
	struct scenario_loader *ld, const struct ynode *node, const char *what, const char **out)
{
	if (node == NULL || node->kind != YNODE_SCALAR)
		return scenario_yaml_fail(ld, node, "%s must be a single value", what);
	*out = node->value;
	return 0;
}

/* A scalar written without quotes: numbers and booleans must be. */
static int plain_scalar(struct scenario_loader *ld, const struct ynode *node, const char *what,
	const char *kind, const char **out)
{
	int rc = scenario_yaml_scalar(ld, node, what, out);

	if (rc < 0)
		return rc;
	if (!node->plain)
		return scenario_yaml_fail(
			ld, node, "%s must be %s, not a quoted string", what, kind);
	return 0;
}

/* A non-empty string. */
int scenario_yaml_string(
	struct scenario_loader *ld, const struct ynode *node, const char *what, char **out)
{
	const char *s;
	int rc = scenario_yaml_scalar(ld, node, what, &s);

	if (rc < 0)
		return rc;
	if (s[0] == '\0' || node->len != strlen(s))
		return scenario_yaml_fail(ld, node, "%s must be a non-empty string", what);
	*out = xstrdup(s);
	return 0;
}

/* An unsigned integer in range. */
int scenario_yaml_uint(struct scenario_loader *ld, const struct ynode *node, const char *what,
	uint64_t min, uint64_t max, uint64_t *out)
{
	const char *s;
	char *end;
	unsigned long long v;
	int rc = plain_scalar(ld, node, what, "a whole number", &s);

	if (rc < 0)
		return rc;
	if (s[0] < '0' || s[0] > '9')
		return scenario_yaml_fail(ld, node, "%s must be a whole number, not '%s'", what, s);
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end != '\0')
		return scenario_yaml_fail(ld, node, "%s must be a whole number, not '%s'", what, s);
	if (errno == ERANGE || v < min || v > max)
		return scenario_yaml_fail(ld, node, "%s must be between %llu and %llu", what,
			(unsigned long long)min, (unsigned long long)max);
	*out = v;
	return 0;
}

/* A real number in range. */
int scenario_yaml_double(struct scenario_loader *ld, const struct ynode *node, const char *what,
	double min, double max, double *out)
{
	const char *s;
	char *end;
	double v;
	int rc = plain_scalar(ld, node, what, "a number", &s);

	if (rc < 0)
		return rc;
	if ((s[0] < '0' || s[0] > '9') && s[0] != '.')
		return scenario_yaml_fail(ld, node, "%s must be a number, not '%s'", what, s);
	errno = 0;
	v = strtod(s, &end);
	if (*end != '\0' || !isfinite(v))
		return scenario_yaml_fail(ld, node, "%s must be a number, not '%s'", what, s);
	if (errno == ERANGE || v < min || v > max)
		return scenario_yaml_fail(ld, node, "%s must be between %g and %g", what, min, max);
	*out = v;
	return 0;
}

/* A boolean. */
int scenario_yaml_bool(
	struct scenario_loader *ld, const struct ynode *node, const char *what, bool *out)
{
	const char *s;
	int rc = plain_scalar(ld, node, what, "true or false", &s);

	if (rc < 0)
		return rc;
	if (strcmp(s, "true") == 0)
		*out = true;
	else if (strcmp(s, "false") == 0)
		*out = false;
	else
		return scenario_yaml_fail(ld, node, "%s must be true or false, not '%s'", what, s);
	return 0;
}

/* A duration. */
int scenario_yaml_duration(
	struct scenario_loader *ld, const struct ynode *node, const char *what, uint64_t *out_ms)
{
	const char *s;
	uint64_t ms;
	int rc = plain_scalar(ld, node, what, "a duration", &s);

	if (rc < 0)
		return rc;
	if (duration_parse(s, &ms) < 0)
		return scenario_yaml_fail(ld, node,
			"%s must be a duration such as 500ms, 5s, 2m or 1h, not '%s'", what, s);
	*out_ms = ms;
	return 0;
}

/* Parse "N/s", "N/m", "N/min", "N/h" or "N". */
int scenario_rate_parse(const char *text, double *out_per_s)
{
	char *end;
	double v, per = 1.0;

	if ((text[0] < '0' || text[0] > '9') && text[0] != '.')
		return -EINVAL;
	errno = 0;
	v = strtod(text, &end);
	if (errno == ERANGE || !isfinite(v) || v < 0 || v > 1e9)
		return -EINVAL;
	if (*end == '/') {
		end++;
		if (strcmp(end, "s") == 0)
			per = 1.0;
		else if (strcmp(end, "m") == 0 || strcmp(end, "min") == 0)
			per = 60.0;
		else if (strcmp(end, "h") == 0)
			per = 3600.0;
		else
			return -EINVAL;
	} else if (*end != '\0') {
		return -EINVAL;
	}
	*out_per_s = v / per;
	return 0;
}

/* A rate of messages per time. */
int scenario_yaml_rate(
	struct scenario_loader *ld, const struct ynode *node, const char *what, double *out_per_s)
{
	const char *s;
	int rc = plain_scalar(ld, node, what, "a rate", &s);

	if (rc < 0)
		return rc;
	if (scenario_rate_parse(s, out_per_s) < 0)
		return scenario_yaml_fail(ld, node,
			"%s must be a rate such as 10/s, 600/m or 36000/h (at most 1e9), not '%s'",
			what, s);
	return 0;
}

/* One word out of a fixed list. */
int scenario_yaml_enum(struct scenario_loader *ld, const struct ynode *node, const char *what,
	const char *const *names, int *out)
{
	const char *s;
	char list[256] = "";
	int rc = scenario_yaml_scalar(ld, node, what, &s);

	if (rc < 0)
		return rc;
	for (int i = 0; names[i] != NULL; i++) {
		if (strcmp(s, names[i]) == 0) {
			*out = i;
			return 0;
		}
		if (i > 0)
			strncat(list, ", ", sizeof(list) - strlen(list) - 1);
		strncat(list, names[i], sizeof(list) - strlen(list) - 1);
	}
	return scenario_yaml_fail(ld, node, "%s must be one of %s, not '%s'", what, list, s);
}

/* A list. */
int scenario_yaml_sequence(struct scenario_loader *ld, const struct ynode *node, const char *what)
{
	if (node == NULL || node->kind != YNODE_SEQUENCE)
		return scenario_yaml_fail(ld, node, "%s must be a list", what);
	return 0;
}

/* Items of a list. */
size_t scenario_yaml_seq_len(const struct ynode *seq)
{
	return seq->count;
}

/* Item i of a list; the tree holds no aliases, so every item is walked once. */
int scenario_yaml_seq_item(
	struct scenario_loader *ld, const struct ynode *seq, size_t i, const struct ynode **out)
{
	*out = seq->items[i];
	return 0;
}
