/*
 * Scenario loading: a scenario file's YAML read into struct scenario by the
 * schema walker (util/schema.c) following the tables here (the top level,
 * queues, clusters) and in scenario_ecs.c (the ECS and fault sections). The
 * checks beside the tables verify every cross reference (services name their
 * cluster, task definition and queue; events name instances) and fill in
 * what ECS would derive (ARNs, instance ids, the ECS Anywhere attributes).
 * Format: docs/scenarios.md.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/file.h"
#include "qscale/log.h"
#include "qscale/xalloc.h"
#include "scenario_priv.h"

/* Largest file accepted: scenarios are small, traces live in their own files. */
#define SCENARIO_MAX_BYTES (4u << 20)

/* Caps of the YAML tree for scenario files: generous for real ones, cheap for hostile ones. */
static const struct yaml_tree_limits scenario_limits = {
	.max_file_bytes = SCENARIO_MAX_BYTES,
	.max_scalar_bytes = 4096,
	.max_nodes = 200000,
	.max_depth = 16,
};
#define MAX_INSTANCES_PER_ENTRY 10000u

/* What the ECS agent reserves on every instance unless reserved_ports says otherwise. */
static const uint16_t default_ports_tcp[] = {22, 2375, 2376, 51678, 51679};

/* A deterministic 64-bit mix (splitmix64), for ids derived from names. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* FNV-1a of a string, the seed of derived ids. */
static uint64_t hash_str(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ull;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 0x100000001b3ull;
	return h;
}

/* Free a queue's fields. */
void scenario_queue_finish(struct scenario_queue *q)
{
	free(q->name);
	scenario_arrivals_finish(&q->arrivals);
}

/* Add an attribute unless the operator set it already. */
static void add_attribute(struct scenario_instance *in, const char *name, const char *value)
{
	for (size_t i = 0; i < in->attribute_count; i++)
		if (strcmp(in->attributes[i].name, name) == 0)
			return;
	in->attributes[in->attribute_count].name = xstrdup(name);
	in->attributes[in->attribute_count].value = value ? xstrdup(value) : NULL;
	in->attribute_count++;
}

void scenario_instance_copy(struct scenario_instance *dst, const struct scenario_instance *src)
{
	*dst = *src;
	dst->reserved_ports_tcp = xcalloc(src->reserved_ports_tcp_count + 1, sizeof(uint16_t));
	memcpy(dst->reserved_ports_tcp, src->reserved_ports_tcp,
		src->reserved_ports_tcp_count * sizeof(uint16_t));
	dst->reserved_ports_udp = xcalloc(src->reserved_ports_udp_count + 1, sizeof(uint16_t));
	memcpy(dst->reserved_ports_udp, src->reserved_ports_udp,
		src->reserved_ports_udp_count * sizeof(uint16_t));
	dst->attributes = xcalloc(src->attribute_count + 1, sizeof(*dst->attributes));
	for (size_t i = 0; i < src->attribute_count; i++) {
		dst->attributes[i].name = xstrdup(src->attributes[i].name);
		dst->attributes[i].value =
			src->attributes[i].value ? xstrdup(src->attributes[i].value) : NULL;
	}
	dst->ec2_instance_id = NULL;
	dst->container_instance_id = NULL;
}

void scenario_instance_finish(struct scenario_instance *in)
{
	free(in->ec2_instance_id);
	free(in->container_instance_id);
	free(in->reserved_ports_tcp);
	free(in->reserved_ports_udp);
	for (size_t i = 0; i < in->attribute_count; i++) {
		free(in->attributes[i].name);
		free(in->attributes[i].value);
	}
	free(in->attributes);
}

/* Free a cluster's fields. */
static void cluster_finish(struct scenario_cluster *c)
{
	free(c->name);
	free(c->arn);
	for (size_t i = 0; i < c->instance_count; i++)
		scenario_instance_finish(&c->instances[i]);
	free(c->instances);
}

/* An entry of a cluster's instances: one instance, or count alike. */
struct instance_entry {
	struct scenario_instance t; /* what every instance of the entry has */
	uint64_t count;
	char *id;
};

#define E(member) offsetof(struct instance_entry, member)

static const struct schema_choice instance_statuses[] = {
	{"ACTIVE", SCENARIO_INSTANCE_ACTIVE},
	{"DRAINING", SCENARIO_INSTANCE_DRAINING},
	{NULL, 0},
};

static const struct schema_field instance_fields[] = {
	{.key = "count",
		.type = SCHEMA_U64,
		.offset = E(count),
		.min = 1,
		.max = MAX_INSTANCES_PER_ENTRY,
		.def = "1"},
	{.key = "id",
		.type = SCHEMA_STRING,
		.offset = E(id),
		.def_doc = "derived from the cluster"},
	{.key = "cpu",
		.type = SCHEMA_U32,
		.offset = E(t.cpu_units),
		.min = 128,
		.max = 1 << 20,
		.flags = SCHEMA_REQUIRED},
	{.key = "memory",
		.type = SCHEMA_U32,
		.offset = E(t.memory_mib),
		.min = 128,
		.max = 1 << 30,
		.flags = SCHEMA_REQUIRED},
	{.key = "attributes",
		.type = SCHEMA_CUSTOM,
		.custom = &scenario_attributes_type,
		.offset = E(t.attributes),
		.count_offset = E(t.attribute_count)},
	{.key = "reserved_ports",
		.type = SCHEMA_CUSTOM,
		.custom = &scenario_ports_type,
		.offset = E(t.reserved_ports_tcp),
		.count_offset = E(t.reserved_ports_tcp_count),
		.def_doc = "22, 2375, 2376, 51678, 51679"},
	{.key = "reserved_ports_udp",
		.type = SCHEMA_CUSTOM,
		.custom = &scenario_ports_type,
		.offset = E(t.reserved_ports_udp),
		.count_offset = E(t.reserved_ports_udp_count)},
	{.key = "agent_connected",
		.type = SCHEMA_BOOL,
		.offset = E(t.agent_connected),
		.def = "true"},
	{.key = "status",
		.type = SCHEMA_ENUM,
		.offset = E(t.status),
		.choices = instance_statuses,
		.def = "ACTIVE"},
	{0},
};

/* Fill in what an entry did not say: the agent's reserved ports, the ECS Anywhere attributes. */
static void complete_entry(struct scenario_instance *t)
{
	size_t n = sizeof(default_ports_tcp) / sizeof(default_ports_tcp[0]);

	if (t->reserved_ports_tcp == NULL) {
		t->reserved_ports_tcp = xcalloc(n, sizeof(uint16_t));
		memcpy(t->reserved_ports_tcp, default_ports_tcp, sizeof(default_ports_tcp));
		t->reserved_ports_tcp_count = n;
	}
	if (t->reserved_ports_udp == NULL)
		t->reserved_ports_udp = xcalloc(1, sizeof(uint16_t));
	/* The attributes list always has room for these three. */
	if (t->attributes == NULL)
		t->attributes = xcalloc(3, sizeof(*t->attributes));
	add_attribute(t, "ecs.capability.external", NULL);
	add_attribute(t, "ecs.os-type", "linux");
	add_attribute(t, "ecs.cpu-architecture", "x86_64");
}

/* Add an entry's instances to its cluster (w->base), with ids derived from the cluster's name. */
static int take_instances(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path)
{
	struct scenario_cluster *c = w->base;
	struct instance_entry *e = item;
	const struct ynode *id = schema_map_value(node, "id");

	if (id != NULL && e->count != 1)
		return schema_fail(w, id, "'id' names one instance: it cannot go with count > 1");
	if (id != NULL && strncmp(e->id, "mi-", 3) != 0 && strncmp(e->id, "i-", 2) != 0)
		return schema_fail(w, id, "instance ids start with mi- (or i-)");
	if (c->instance_count + e->count > SCENARIO_MAX_ITEMS)
		return schema_fail(w, node, "too many instances in cluster %s", c->name);
	complete_entry(&e->t);
	c->instances = xreallocarray(c->instances, c->instance_count + e->count, sizeof(e->t));
	for (uint64_t k = 0; k < e->count; k++) {
		struct scenario_instance *in = &c->instances[c->instance_count];
		uint64_t h = mix64(hash_str(c->name) ^ mix64(c->instance_count + 1));

		scenario_instance_copy(in, &e->t);
		c->instance_count++;
		if (e->id != NULL)
			in->ec2_instance_id = xstrdup(e->id);
		else
			in->ec2_instance_id = xasprintf("mi-%017llx",
				(unsigned long long)(h & 0xfffffffffffffffull) | (0x1ull << 60));
		in->container_instance_id = xasprintf(
			"%016llx%016llx", (unsigned long long)h, (unsigned long long)mix64(h));
	}
	return 0;
}

#define C(member) offsetof(struct scenario_cluster, member)

static const struct schema_field cluster_fields[] = {
	{.key = "name", .type = SCHEMA_STRING, .offset = C(name), .flags = SCHEMA_REQUIRED},
	/* After the name, which the instances' ids derive from. */
	{.key = "instances",
		.type = SCHEMA_LIST,
		.flags = SCHEMA_EACH | SCHEMA_LATER,
		.sub = instance_fields,
		.item_size = sizeof(struct instance_entry),
		.min = 0,
		.max = SCENARIO_MAX_ITEMS,
		.check = take_instances},
	{0},
};

/* A cluster as read: its name's rule, its ARN, unique among clusters, its instance ids unique. */
static int check_cluster(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path)
{
	const struct scenario *sc = w->base;
	struct scenario_cluster *c = item;

	if (strlen(c->name) > 255 || strchr(c->name, '/') || strchr(c->name, ':'))
		return schema_fail(w, schema_map_value(node, "name"),
			"cluster names are at most 255 characters, no '/' or ':'");
	c->arn = xasprintf("arn:aws:ecs:%s:%s:cluster/%s", sc->region, sc->account_id, c->name);
	for (size_t k = 0; k + 1 < sc->cluster_count; k++) {
		if (strcmp(sc->clusters[k].name, c->name) == 0)
			return schema_fail(w, node, "cluster %s is listed twice", c->name);
	}
	for (size_t i = 0; i < c->instance_count; i++) {
		for (size_t k = 0; k < i; k++) {
			if (strcmp(c->instances[i].ec2_instance_id,
				    c->instances[k].ec2_instance_id) == 0)
				return schema_fail(w, schema_map_value(node, "instances"),
					"instance id %s is listed twice",
					c->instances[i].ec2_instance_id);
		}
	}
	return 0;
}

#define Q(member) offsetof(struct scenario_queue, member)

static const struct schema_choice shapes[] = {
	{"step", SCENARIO_SHAPE_STEP},
	{"linear", SCENARIO_SHAPE_LINEAR},
	{NULL, 0},
};

static const struct schema_field segment_fields[] = {
	{.key = "at",
		.type = SCHEMA_DURATION,
		.offset = offsetof(struct scenario_rate_segment, at_ms),
		.max = INT64_MAX,
		.flags = SCHEMA_REQUIRED | SCHEMA_UNQUOTED},
	{.key = "rate",
		.type = SCHEMA_CUSTOM,
		.custom = &scenario_rate_type,
		.offset = offsetof(struct scenario_rate_segment, rate_per_s),
		.flags = SCHEMA_REQUIRED},
	{0},
};

/* Segment times strictly increase (the queue, w->base, counts the one just read). */
static int check_segment(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path)
{
	const struct scenario_arrivals *a = &((struct scenario_queue *)w->base)->arrivals;
	const struct scenario_rate_segment *s = item;

	if (a->segment_count > 1 && s->at_ms <= a->segments[a->segment_count - 2].at_ms)
		return schema_fail(w, schema_map_value(node, "at"), "segment times must increase");
	return 0;
}

static const struct schema_field arrivals_fields[] = {
	{.key = "shape",
		.type = SCHEMA_ENUM,
		.offset = Q(arrivals.shape),
		.choices = shapes,
		.def = "step"},
	{.key = "segments",
		.type = SCHEMA_LIST,
		.offset = Q(arrivals.segments),
		.count_offset = Q(arrivals.segment_count),
		.sub = segment_fields,
		.item_size = sizeof(struct scenario_rate_segment),
		.min = 1,
		.max = SCENARIO_MAX_ITEMS,
		.check = check_segment},
	/* The file's name until the arrivals' check reads it. */
	{.key = "trace", .type = SCHEMA_STRING, .offset = Q(arrivals.trace_path)},
	{0},
};

/* Join a trace path to the scenario's folder unless it is absolute. */
static char *resolve_path(const char *dir, const char *path)
{
	if (path[0] == '/' || dir == NULL || dir[0] == '\0')
		return xstrdup(path);
	return xasprintf("%s/%s", dir, path);
}

/*
 * Arrivals are a rate schedule or a trace, never both; a trace has no shape.
 * A trace is read here, once those hold; its own error (file:line:column) is
 * quoted at the key.
 */
static int check_arrivals(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path)
{
	struct scenario_arrivals *a = &((struct scenario_queue *)item)->arrivals;
	const struct ynode *shape = schema_map_value(node, "shape");
	const struct ynode *trace = schema_map_value(node, "trace");
	struct diag tdiag;
	char *file;
	int rc;

	if ((schema_map_value(node, "segments") == NULL) == (trace == NULL))
		return schema_fail(w, node, "arrivals need exactly one of 'segments' or 'trace'");
	if (trace == NULL)
		return 0;
	if (shape != NULL)
		return schema_fail(w, shape, "'shape' applies to segments, not to a trace");
	file = resolve_path(scenario_loader_of(w)->dir, a->trace_path);
	rc = scenario_trace_load(file, a, &tdiag);
	free(file);
	if (rc < 0) {
		char msg[600];

		diag_format(&tdiag, msg, sizeof(msg));
		return schema_fail(w, trace, "'%s.trace': %s", path, msg);
	}
	return 0;
}

static const struct schema_field queue_fields[] = {
	{.key = "name", .type = SCHEMA_STRING, .offset = Q(name), .flags = SCHEMA_REQUIRED},
	{.key = "reporting_lag",
		.type = SCHEMA_DURATION,
		.offset = Q(reporting_lag_ms),
		.max = INT64_MAX,
		.flags = SCHEMA_UNQUOTED},
	/* As in SQS: DelaySeconds is at most 15 minutes. */
	{.key = "delay",
		.type = SCHEMA_DURATION,
		.offset = Q(delay_ms),
		.max = 900000,
		.flags = SCHEMA_UNQUOTED},
	{.key = "initial_messages",
		.type = SCHEMA_U64,
		.offset = Q(initial_messages),
		.max = 1000000000000},
	{.key = "arrivals", .type = SCHEMA_MAP, .sub = arrivals_fields, .check = check_arrivals},
	{0},
};

/* A queue's name as SQS allows it, unique in the file. */
static int check_queue(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path)
{
	const struct scenario *sc = w->base;
	const struct scenario_queue *q = item;

	if (strlen(q->name) > 80 ||
		strspn(q->name,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789-_") != strlen(q->name))
		return schema_fail(w, schema_map_value(node, "name"),
			"queue names are 1-80 letters, digits, '-' or '_'");
	for (size_t k = 0; k + 1 < sc->queue_count; k++) {
		if (strcmp(sc->queues[k].name, q->name) == 0)
			return schema_fail(w, node, "queue %s is listed twice", q->name);
	}
	return 0;
}

#define S(member) offsetof(struct scenario, member)

static const struct schema_field credentials_fields[] = {
	{.key = "access_key_id",
		.type = SCHEMA_STRING,
		.offset = S(access_key_id),
		.flags = SCHEMA_REQUIRED},
	{.key = "secret_access_key",
		.type = SCHEMA_STRING,
		.offset = S(secret_access_key),
		.flags = SCHEMA_REQUIRED},
	{0},
};

static const struct schema_field startup_fields[] = {
	{.key = "onprem",
		.type = SCHEMA_DURATION,
		.offset = S(onprem_startup_ms),
		.max = INT64_MAX,
		.def = "5s",
		.flags = SCHEMA_UNQUOTED},
	{.key = "fargate",
		.type = SCHEMA_DURATION,
		.offset = S(fargate_startup_ms),
		.max = INT64_MAX,
		.def = "45s",
		.flags = SCHEMA_UNQUOTED},
	{0},
};

/*
 * The whole file. The sections are read after the top-level values, in this
 * order, whatever the file's: each refers only to those above it.
 */
static const struct schema_field scenario_fields[] = {
	{.key = "region", .type = SCHEMA_STRING, .offset = S(region), .def = "us-east-1"},
	{.key = "account_id",
		.type = SCHEMA_CUSTOM,
		.custom = &scenario_account_type,
		.offset = S(account_id),
		.def = "123456789012"},
	{.key = "credentials", .type = SCHEMA_MAP, .sub = credentials_fields},
	{.key = "seed", .type = SCHEMA_U64, .offset = S(seed), .max = -1},
	{.key = "duration",
		.type = SCHEMA_DURATION,
		.offset = S(duration_ms),
		.max = INT64_MAX,
		.flags = SCHEMA_UNQUOTED},
	{.key = "startup", .type = SCHEMA_MAP, .sub = startup_fields},
	{.key = "queues",
		.type = SCHEMA_LIST,
		.flags = SCHEMA_LATER,
		.offset = S(queues),
		.count_offset = S(queue_count),
		.sub = queue_fields,
		.item_size = sizeof(struct scenario_queue),
		.max = SCENARIO_MAX_ITEMS,
		.check = check_queue},
	{.key = "clusters",
		.type = SCHEMA_LIST,
		.flags = SCHEMA_LATER,
		.offset = S(clusters),
		.count_offset = S(cluster_count),
		.sub = cluster_fields,
		.item_size = sizeof(struct scenario_cluster),
		.max = SCENARIO_MAX_ITEMS,
		.check = check_cluster},
	{.key = "task_definitions",
		.type = SCHEMA_LIST,
		.flags = SCHEMA_LATER,
		.offset = S(task_definitions),
		.count_offset = S(task_definition_count),
		.sub = scenario_task_definition_fields,
		.item_size = sizeof(struct scenario_task_definition),
		.max = SCENARIO_MAX_ITEMS,
		.check = scenario_check_task_definition},
	{.key = "services",
		.type = SCHEMA_LIST,
		.flags = SCHEMA_LATER,
		.offset = S(services),
		.count_offset = S(service_count),
		.sub = scenario_service_fields,
		.item_size = sizeof(struct scenario_service),
		.max = SCENARIO_MAX_ITEMS,
		.check = scenario_check_service},
	{.key = "events",
		.type = SCHEMA_LIST,
		.flags = SCHEMA_LATER | SCHEMA_EACH,
		.sub = scenario_event_fields,
		.item_size = sizeof(struct scenario_event_entry),
		.max = SCENARIO_MAX_ITEMS,
		.check = scenario_take_event},
	{.key = "faults",
		.type = SCHEMA_LIST,
		.flags = SCHEMA_LATER | SCHEMA_EACH,
		.sub = scenario_fault_fields,
		.item_size = sizeof(struct scenario_fault),
		.max = SCENARIO_MAX_ITEMS,
		.check = scenario_take_fault},
	{0},
};

/* The whole file: defaults, the walk, events in time order. */
static int load_root(struct scenario_loader *ld, const struct ynode *root, struct diag *diag)
{
	struct schema_walk w = {.root = scenario_fields,
		.file = ld->sc->path,
		.diag = diag,
		.base = ld->sc,
		.ctx = ld};
	int rc;

	schema_apply_defaults(scenario_fields, ld->sc);
	if ((rc = schema_walk_map(&w, scenario_fields, root, "")) < 0)
		return rc;
	scenario_sort_events(ld->sc);
	return 0;
}

/* Parse text into a fresh scenario. */
static int load_text(const char *name, const char *dir, const char *text, size_t len,
	struct scenario **out, struct diag *diag)
{
	struct scenario_loader ld = {.dir = dir};
	struct ynode *root;
	int rc = yaml_tree_parse(name, text, len, &scenario_limits, &root, diag);

	if (rc < 0)
		return -EINVAL;
	ld.sc = xcalloc(1, sizeof(*ld.sc));
	ld.sc->path = xstrdup(name);
	rc = load_root(&ld, root, diag);
	ynode_free(root);
	if (rc < 0) {
		scenario_destroy(ld.sc);
		return rc;
	}
	*out = ld.sc;
	return 0;
}

/* Load from memory. */
int scenario_load_text(
	const char *name, const char *text, size_t len, struct scenario **out, struct diag *diag)
{
	if (len > SCENARIO_MAX_BYTES) {
		if (diag != NULL) {
			snprintf(diag->file, sizeof(diag->file), "%s", name);
			diag->line = diag->column = 0;
			snprintf(diag->message, sizeof(diag->message), "larger than %u bytes",
				SCENARIO_MAX_BYTES);
		}
		return -EINVAL;
	}
	return load_text(name, ".", text, len, out, diag);
}

/* Read a whole small file through the hardened reader. */
static int read_file(const char *path, char **out, size_t *len, struct diag *diag)
{
	struct file_data d;
	char why[FILE_WHY_MAX];
	int rc = file_read(path, SCENARIO_MAX_BYTES, 0, &d, why, sizeof(why));

	if (rc < 0) {
		snprintf(diag->file, sizeof(diag->file), "%s", path);
		diag->line = diag->column = 0;
		snprintf(diag->message, sizeof(diag->message), "%s", why);
		return rc == -EFBIG ? -EINVAL : rc;
	}
	*out = d.data;
	*len = d.len;
	return 0;
}

/* Load a scenario file. */
int scenario_load(const char *path, struct scenario **out, struct diag *diag)
{
	struct diag scratch;
	char *text = NULL, *dir, *slash;
	size_t len = 0;
	int rc;

	if (diag == NULL)
		diag = &scratch;
	if ((rc = read_file(path, &text, &len, diag)) < 0)
		return rc;
	dir = xstrdup(path);
	slash = strrchr(dir, '/');
	if (slash != NULL)
		*slash = '\0';
	else
		strcpy(dir, ".");
	rc = load_text(path, dir, text, len, out, diag);
	free(dir);
	free(text);
	return rc;
}

/* Free everything. */
void scenario_destroy(struct scenario *sc)
{
	if (sc == NULL)
		return;
	free(sc->path);
	free(sc->region);
	free(sc->account_id);
	free(sc->access_key_id);
	secure_free_str(sc->secret_access_key);
	for (size_t i = 0; i < sc->queue_count; i++)
		scenario_queue_finish(&sc->queues[i]);
	free(sc->queues);
	for (size_t i = 0; i < sc->cluster_count; i++)
		cluster_finish(&sc->clusters[i]);
	free(sc->clusters);
	for (size_t i = 0; i < sc->task_definition_count; i++)
		scenario_task_definition_finish(&sc->task_definitions[i]);
	free(sc->task_definitions);
	for (size_t i = 0; i < sc->service_count; i++) {
		free(sc->services[i].name);
		free(sc->services[i].arn);
	}
	free(sc->services);
	free(sc->events);
	for (size_t i = 0; i < sc->fault_count; i++) {
		free(sc->faults[i].operation);
		free(sc->faults[i].instance);
		free(sc->faults[i].reason);
	}
	free(sc->faults);
	free(sc);
}
