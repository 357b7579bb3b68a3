/*
 * YAML walking for the scenario loader: strict mappings (unknown and duplicate
 * keys are errors, with a suggestion for a misspelt key), typed scalars with
 * end checks, and diagnostics carrying line:column of the offending node.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/duration.h"
#include "qscale/xalloc.h"
#include "scenario_priv.h"

/* Fill a diagnostic from a format. */
void scenario_diag_set(struct scenario_diag *diag, const char *file, unsigned line, unsigned column,
	const char *fmt, va_list ap)
{
	if (diag == NULL)
		return;
	snprintf(diag->file, sizeof(diag->file), "%s", file ? file : "");
	diag->line = line;
	diag->column = column;
	vsnprintf(diag->message, sizeof(diag->message), fmt, ap);
}

/* Report an error at a node's start (1-based line and column). */
int scenario_yaml_fail(struct scenario_loader *ld, const yaml_node_t *node, const char *fmt, ...)
{
	va_list ap;
	unsigned line = 0, column = 0;

	if (node != NULL) {
		line = (unsigned)node->start_mark.line + 1;
		column = (unsigned)node->start_mark.column + 1;
	}
	va_start(ap, fmt);
	scenario_diag_set(ld->diag, ld->sc->path, line, column, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Edit distance between two short strings, for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b);
	size_t row[64];

	if (la >= 63 || lb >= 63)
		return 99;
	for (size_t j = 0; j <= lb; j++)
		row[j] = j;
	for (size_t i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + (a[i - 1] != b[j - 1]);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

/* Walk a mapping's keys against the allowed list. */
int scenario_yaml_fields(struct scenario_loader *ld, yaml_node_t *node, const char *what,
	const char *const *allowed, yaml_node_t **values)
{
	size_t n = 0;

	while (allowed[n] != NULL)
		n++;
	if (node == NULL || node->type != YAML_MAPPING_NODE)
		return scenario_yaml_fail(ld, node, "%s must be a mapping", what);
	for (size_t i = 0; i < n; i++)
		values[i] = NULL;
	for (yaml_node_pair_t *p = node->data.mapping.pairs.start; p < node->data.mapping.pairs.top;
		p++) {
		yaml_node_t *key, *value;
		const char *name;
		size_t i;
		int rc;

		if ((rc = scenario_yaml_visit(ld, p->key, node, &key)) < 0 ||
			(rc = scenario_yaml_visit(ld, p->value, node, &value)) < 0)
			return rc;
		if (key == NULL || key->type != YAML_SCALAR_NODE)
			return scenario_yaml_fail(ld, key, "keys of %s must be plain words", what);
		name = (const char *)key->data.scalar.value;
		for (i = 0; i < n; i++)
			if (strcmp(name, allowed[i]) == 0)
				break;
		if (i == n) {
			size_t best = 0, best_d = 99;

			for (size_t k = 0; k < n; k++) {
				size_t d = edit_distance(name, allowed[k]);

				if (d < best_d) {
					best_d = d;
					best = k;
				}
			}
			if (n > 0 && best_d <= 2)
				return scenario_yaml_fail(ld, key,
					"unknown key '%s' in %s (did you mean '%s'?)", name, what,
					allowed[best]);
			return scenario_yaml_fail(ld, key, "unknown key '%s' in %s", name, what);
		}
		if (values[i] != NULL)
			return scenario_yaml_fail(ld, key, "duplicate key '%s' in %s", name, what);
		values[i] = value;
	}
	return 0;
}

/* A key that must be present. */
int scenario_yaml_require(
	struct scenario_loader *ld, yaml_node_t *map, yaml_node_t *value, const char *key)
{
	if (value == NULL)
		return scenario_yaml_fail(ld, map, "missing key '%s'", key);
	return 0;
}

/* The text of a scalar node. */
int scenario_yaml_scalar(
	struct scenario_loader *ld, yaml_node_t *node, const char *what, const char **out)
{
	if (node == NULL || node->type != YAML_SCALAR_NODE)
		return scenario_yaml_fail(ld, node, "%s must be a single value", what);
	*out = (const char *)node->data.scalar.value;
	return 0;
}

/* A scalar written without quotes: numbers and booleans must be. */
static int plain_scalar(struct scenario_loader *ld, yaml_node_t *node, const char *what,
	const char *kind, const char **out)
{
	int rc = scenario_yaml_scalar(ld, node, what, out);

	if (rc < 0)
		return rc;
	if (node->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return scenario_yaml_fail(
			ld, node, "%s must be %s, not a quoted string", what, kind);
	return 0;
}

/* A non-empty string. */
int scenario_yaml_string(
	struct scenario_loader *ld, yaml_node_t *node, const char *what, char **out)
{
	const char *s;
	int rc = scenario_yaml_scalar(ld, node, what, &s);

	if (rc < 0)
		return rc;
	if (s[0] == '\0' || node->data.scalar.length != strlen(s))
		return scenario_yaml_fail(ld, node, "%s must be a non-empty string", what);
	*out = xstrdup(s);
	return 0;
}

/* An unsigned integer in range. */
int scenario_yaml_uint(struct scenario_loader *ld, yaml_node_t *node, const char *what,
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
int scenario_yaml_double(struct scenario_loader *ld, yaml_node_t *node, const char *what,
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
int scenario_yaml_bool(struct scenario_loader *ld, yaml_node_t *node, const char *what, bool *out)
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
	struct scenario_loader *ld, yaml_node_t *node, const char *what, uint64_t *out_ms)
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
	struct scenario_loader *ld, yaml_node_t *node, const char *what, double *out_per_s)
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
int scenario_yaml_enum(struct scenario_loader *ld, yaml_node_t *node, const char *what,
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
int scenario_yaml_sequence(struct scenario_loader *ld, yaml_node_t *node, const char *what)
{
	if (node == NULL || node->type != YAML_SEQUENCE_NODE)
		return scenario_yaml_fail(ld, node, "%s must be a list", what);
	return 0;
}

/* Items of a list. */
size_t scenario_yaml_seq_len(const yaml_node_t *seq)
{
	return (size_t)(seq->data.sequence.items.top - seq->data.sequence.items.start);
}

/* Item i of a list. */
int scenario_yaml_seq_item(
	struct scenario_loader *ld, yaml_node_t *seq, size_t i, yaml_node_t **out)
{
	return scenario_yaml_visit(ld, seq->data.sequence.items.start[i], seq, out);
}

/* Nodes reached twice come from aliases: refused, so a small file cannot make
 * the walk exponential. */
int scenario_yaml_visit(
	struct scenario_loader *ld, int id, const yaml_node_t *where, yaml_node_t **out)
{
	yaml_node_t *node = yaml_document_get_node(&ld->doc, id);

	if (node == NULL || id < 1 || (size_t)id > ld->node_count)
		return scenario_yaml_fail(ld, where, "broken YAML document");
	if (ld->seen[id - 1])
		return scenario_yaml_fail(ld, node, "aliases are not supported in scenario files");
	ld->seen[id - 1] = 1;
	*out = node;
	return 0;
}
