/*
 * The scenario file's own value types, as custom types of the schema walker
 * (util/schema.c): rates, port lists, attribute mappings, the
 * task-level cpu and memory strings of ECS, network modes, compatibility
 * lists, and references by name to the queues, clusters and task definitions
 * defined earlier in the file. Each reports errors at its node through the
 * walk's diagnostic.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "qscale/xalloc.h"
#include "scenario_priv.h"

/* The count beside a list member, at the field's count_offset in the walk's struct. */
#define COUNT_OF(w, f) ((size_t *)(void *)((char *)(w)->base + (f)->count_offset))

/* A scalar written without quotes: numbers and rates must be. */
static int need_plain(
	struct schema_walk *w, const struct ynode *v, const char *path, const char *kind)
{
	if (!v->plain)
		return schema_fail(w, v, "'%s' must be %s, not a quoted string", path, kind);
	return 0;
}

/* The member a field describes, inside base. */
#define MEMBER(base, f, type) ((type *)(void *)((char *)(base) + (f)->offset))

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
static int parse_rate(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path, void *member)
{
	int rc = need_plain(w, v, path, "a rate");

	if (rc < 0)
		return rc;
	if (scenario_rate_parse(v->value, member) < 0)
		return schema_fail(w, v,
			"'%s' must be a rate such as 10/s, 600/m or 36000/h (at most 1e9), not "
			"'%s'",
			path, v->value);
	return 0;
}

const struct schema_custom scenario_rate_type = {.type_text = "rate", .parse = parse_rate};

/* An AWS account id: 12 digits (quoted in YAML, or leading zeros are lost). */
static int parse_account(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path, void *member)
{
	if (strlen(v->value) != 12 || strspn(v->value, "0123456789") != 12)
		return schema_fail(w, v, "'%s' must be 12 digits (quote it)", path);
	free(*(char **)member);
	*(char **)member = xstrdup(v->value);
	return 0;
}

const struct schema_custom scenario_account_type = {
	.type_text = "12 digits",
	.parse = parse_account,
	.print = schema_print_string,
	.free = schema_free_pointer,
	.is_unset = schema_string_unset,
};

/* Sort a small list of ports. */
static int cmp_port(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* Read one port of a list; -EINVAL at the item. */
static int read_port(struct schema_walk *w, const struct ynode *item, const char *path,
	const uint16_t *seen, size_t n, uint16_t *out)
{
	char *end;
	unsigned long p;

	if (item->kind != YNODE_SCALAR || !item->plain || item->value[0] < '0' ||
		item->value[0] > '9')
		return schema_fail(w, item, "'%s' must list whole numbers, not '%.*s'", path, 64,
			item->kind == YNODE_SCALAR ? item->value : "a list or mapping");
	errno = 0;
	p = strtoul(item->value, &end, 10);
	if (*end != '\0' || errno == ERANGE || p < 1 || p > 65535)
		return schema_fail(w, item, "'%s' must list ports between 1 and 65535, got %.*s",
			path, 64, item->value);
	for (size_t i = 0; i < n; i++) {
		if (seen[i] == p)
			return schema_fail(w, item, "'%s': port %lu listed twice", path, p);
	}
	*out = (uint16_t)p;
	return 0;
}

/* A list of ports: [22, 2375]. */
static int parse_ports(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path, void *member)
{
	uint16_t *ports;
	int rc;

	if (v->kind != YNODE_SEQUENCE)
		return schema_fail(w, v, "'%s' must be a list of ports", path);
	if (v->count > 1024)
		return schema_fail(w, v, "'%s': at most 1024 ports", path);
	ports = xcalloc(v->count + 1, sizeof(*ports));
	for (size_t i = 0; i < v->count; i++) {
		if ((rc = read_port(w, v->items[i], path, ports, i, &ports[i])) < 0) {
			free(ports);
			return rc;
		}
	}
	qsort(ports, v->count, sizeof(*ports), cmp_port);
	free(*(uint16_t **)member);
	*(uint16_t **)member = ports;
	*COUNT_OF(w, f) = v->count;
	return 0;
}

const struct schema_custom scenario_ports_type = {
	.type_text = "list of ports",
	.any_node = true,
	.parse = parse_ports,
	.free = schema_free_pointer,
	.is_unset = schema_string_unset,
};

/* Whether a value node stands for "no value" (null, ~ or nothing). */
static bool no_value(const struct ynode *v)
{
	return v->kind == YNODE_SCALAR && v->plain &&
		(strcmp(v->value, "null") == 0 || strcmp(v->value, "~") == 0 || v->len == 0);
}

/* Copy a scalar that must be a non-empty string. */
static int attribute_text(
	struct schema_walk *w, const struct ynode *v, const char *what, char **out)
{
	if (v->kind != YNODE_SCALAR || v->value[0] == '\0' || v->len != strlen(v->value))
		return schema_fail(w, v, "%s must be a non-empty string", what);
	*out = xstrdup(v->value);
	return 0;
}

/* attributes: {name: value, flag: null}; room is left for three built-in ones. */
static int parse_attributes(struct schema_walk *w, const struct schema_field *f,
	const struct ynode *v, const char *path, void *member)
{
	struct scenario_attribute **list = member;
	size_t *count = COUNT_OF(w, f), n;

	if (v->kind != YNODE_MAPPING)
		return schema_fail(w, v, "'%s' must be a mapping of name: value", path);
	n = v->count / 2;
	if (n > 100)
		return schema_fail(w, v, "'%s': at most 100 attributes", path);
	*list = xcalloc(n + 3, sizeof(**list));
	for (size_t i = 0; i < n; i++) {
		const struct ynode *key = v->items[2 * i], *value = v->items[2 * i + 1];
		struct scenario_attribute *at = &(*list)[i];
		int rc;

		if ((rc = attribute_text(w, key, "attribute name", &at->name)) < 0)
			return rc;
		*count = i + 1;
		for (size_t k = 0; k < i; k++) {
			if (strcmp((*list)[k].name, at->name) == 0)
				return schema_fail(w, key, "duplicate attribute '%s'", at->name);
		}
		if (!no_value(value) &&
			(rc = attribute_text(w, value, "attribute value", &at->value)) < 0)
			return rc;
	}
	return 0;
}

/* Free attributes and the names and values they hold. */
static void free_attributes(const struct schema_field *f, void *base)
{
	struct scenario_attribute **list = MEMBER(base, f, struct scenario_attribute *);
	size_t *count = (size_t *)(void *)((char *)base + f->count_offset);

	for (size_t i = 0; *list != NULL && i < *count; i++) {
		free((*list)[i].name);
		free((*list)[i].value);
	}
	free(*list);
	*list = NULL;
	*count = 0;
}

const struct schema_custom scenario_attributes_type = {
	.type_text = "mapping of name: value",
	.any_node = true,
	.parse = parse_attributes,
	.free = free_attributes,
};

/* A number with an optional unit word: "0.5 vCPU", "2 GB"; the unit is returned. */
static int number_and_unit(const char *s, double *out, const char **unit)
{
	char *end;
	double v;

	if (s[0] < '0' || s[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtod(s, &end);
	if (errno == ERANGE || !isfinite(v))
		return -EINVAL;
	while (*end == ' ')
		end++;
	*out = v;
	*unit = end;
	return 0;
}

/* Task-level cpu: "1024", "1 vCPU", "0.5 vCPU" -> units. */
static int parse_task_cpu_text(const char *s, uint64_t *out)
{
	const char *unit;
	double v;

	if (number_and_unit(s, &v, &unit) < 0)
		return -EINVAL;
	if (strcasecmp(unit, "vcpu") == 0)
		v *= 1024.0;
	else if (*unit != '\0')
		return -EINVAL;
	if (v < 1 || v > 196608 || v != floor(v))
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

/* Task-level memory: "2048", "2GB", "2 GB" -> MiB. */
static int parse_task_memory_text(const char *s, uint64_t *out)
{
	const char *unit;
	double v;

	if (number_and_unit(s, &v, &unit) < 0)
		return -EINVAL;
	if (strcasecmp(unit, "gb") == 0)
		v *= 1024.0;
	else if (strcasecmp(unit, "mb") != 0 && strcasecmp(unit, "mib") != 0 && *unit != '\0')
		return -EINVAL;
	if (v < 4 || v > 1048576 || v != floor(v))
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

/* Task-level cpu, kept as ECS returns it: a string of units. */
static int parse_task_cpu(struct schema_walk *w, const struct schema_field *f,
	const struct ynode *v, const char *path, void *member)
{
	uint64_t x;

	if (parse_task_cpu_text(v->value, &x) < 0)
		return schema_fail(w, v, "'%s' must be CPU units (128-196608) or 'N vCPU'", path);
	free(*(char **)member);
	*(char **)member = xasprintf("%llu", (unsigned long long)x);
	return 0;
}

const struct schema_custom scenario_task_cpu_type = {
	.type_text = "CPU units or N vCPU",
	.parse = parse_task_cpu,
	.print = schema_print_string,
	.free = schema_free_pointer,
	.is_unset = schema_string_unset,
};

/* Task-level memory, kept as ECS returns it: a string of MiB. */
static int parse_task_memory(struct schema_walk *w, const struct schema_field *f,
	const struct ynode *v, const char *path, void *member)
{
	uint64_t x;

	if (parse_task_memory_text(v->value, &x) < 0)
		return schema_fail(w, v, "'%s' must be MiB or 'N GB'", path);
	free(*(char **)member);
	*(char **)member = xasprintf("%llu", (unsigned long long)x);
	return 0;
}

const struct schema_custom scenario_task_memory_type = {
	.type_text = "MiB or N GB",
	.parse = parse_task_memory,
	.print = schema_print_string,
	.free = schema_free_pointer,
	.is_unset = schema_string_unset,
};

static const struct schema_choice network_modes[] = {
	{"bridge", 0},
	{"host", 1},
	{"awsvpc", 2},
	{"none", 3},
	{NULL, 0},
};

/* A network mode, kept as its name. */
static int parse_network_mode(struct schema_walk *w, const struct schema_field *f,
	const struct ynode *v, const char *path, void *member)
{
	int mode;
	int rc = schema_parse_enum(w, network_modes, v, path, &mode);

	if (rc < 0)
		return rc;
	free(*(char **)member);
	*(char **)member = xstrdup(network_modes[mode].name);
	return 0;
}

const struct schema_custom scenario_network_mode_type = {
	.type_text = "bridge, host, awsvpc, none",
	.parse = parse_network_mode,
	.print = schema_print_string,
	.free = schema_free_pointer,
	.is_unset = schema_string_unset,
};

static const struct schema_choice compatibilities[] = {
	{"EC2", SCENARIO_COMPAT_EC2},
	{"EXTERNAL", SCENARIO_COMPAT_EXTERNAL},
	{"FARGATE", SCENARIO_COMPAT_FARGATE},
	{NULL, 0},
};

/* requires_compatibilities: a list of launch types, as bits. */
static int parse_compat(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path, void *member)
{
	unsigned bits = 0;

	if (v->kind != YNODE_SEQUENCE)
		return schema_fail(w, v, "'%s' must be a list", path);
	for (size_t i = 0; i < v->count; i++) {
		int bit, rc = schema_parse_enum(w, compatibilities, v->items[i], path, &bit);

		if (rc < 0)
			return rc;
		bits |= (unsigned)bit;
	}
	*(unsigned *)member = bits;
	return 0;
}

const struct schema_custom scenario_compat_type = {
	.type_text = "list of EC2, EXTERNAL, FARGATE",
	.any_node = true,
	.parse = parse_compat,
};

/*
 * A reference to a cluster (name or ARN), a task definition (family,
 * family:revision or ARN) or a queue (name), defined earlier in the file.
 */
static int parse_ref(struct schema_walk *w, const struct schema_field *f, const struct ynode *v,
	const char *path, void *member)
{
	const struct scenario *sc = scenario_loader_of(w)->sc;
	const char *missing;
	int idx;

	if (f->custom == &scenario_cluster_ref_type) {
		idx = scenario_find_cluster(sc, v->value);
		missing = "no cluster named";
	} else if (f->custom == &scenario_task_definition_ref_type) {
		idx = scenario_find_task_definition(sc, v->value);
		missing = "no task definition";
	} else {
		idx = scenario_find_queue(sc, v->value);
		missing = "no queue named";
	}
	if (idx < 0)
		return schema_fail(w, v, "%s '%s'", missing, v->value);
	*(size_t *)member = (size_t)idx;
	return 0;
}

const struct schema_custom scenario_cluster_ref_type = {
	.type_text = "cluster name or ARN",
	.parse = parse_ref,
};

const struct schema_custom scenario_task_definition_ref_type = {
	.type_text = "family, family:revision or ARN",
	.parse = parse_ref,
};

const struct schema_custom scenario_queue_ref_type = {
	.type_text = "queue name",
	.parse = parse_ref,
};
