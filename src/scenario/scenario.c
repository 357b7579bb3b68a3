/*
 * Scenario loading: walks a scenario file's YAML into struct scenario, checks
 * every cross reference (services name their cluster, task definition and
 * queue; events name instances) and fills in what ECS would derive (ARNs,
 * instance ids, the ECS Anywhere attributes). Format: docs/scenarios.md.
 */
#include <errno.h>
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
#define MAX_ITEMS 100000u
#define MAX_INSTANCES_PER_ENTRY 10000u

static const char *const default_ports_tcp[] = {"22", "2375", "2376", "51678", "51679"};

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

/* Does a list of ports already hold p? */
static bool has_port(const uint16_t *ports, size_t n, uint16_t p)
{
	for (size_t i = 0; i < n; i++)
		if (ports[i] == p)
			return true;
	return false;
}

/* Sort a small list of ports. */
static int cmp_port(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/* A list of ports: [22, 2375]. */
static int load_ports(struct scenario_loader *ld, const struct ynode *node, const char *what,
	uint16_t **out, size_t *count)
{
	size_t n;
	uint16_t *ports;
	int rc;

	if ((rc = scenario_yaml_sequence(ld, node, what)) < 0)
		return rc;
	n = scenario_yaml_seq_len(node);
	if (n > 1024)
		return scenario_yaml_fail(ld, node, "%s: at most 1024 ports", what);
	ports = xcalloc(n ? n : 1, sizeof(*ports));
	for (size_t i = 0; i < n; i++) {
		const struct ynode *item;
		uint64_t v;

		if ((rc = scenario_yaml_seq_item(ld, node, i, &item)) < 0 ||
			(rc = scenario_yaml_uint(ld, item, what, 1, 65535, &v)) < 0) {
			free(ports);
			return rc;
		}
		if (has_port(ports, i, (uint16_t)v)) {
			free(ports);
			return scenario_yaml_fail(ld, item, "%s: port %llu listed twice", what,
				(unsigned long long)v);
		}
		ports[i] = (uint16_t)v;
	}
	qsort(ports, n, sizeof(*ports), cmp_port);
	*out = ports;
	*count = n;
	return 0;
}

/* Free a queue's fields. */
void scenario_queue_finish(struct scenario_queue *q)
{
	free(q->name);
	scenario_arrivals_finish(&q->arrivals);
}

/* Join a trace path to the scenario's folder unless it is absolute. */
static char *resolve_path(const char *dir, const char *path)
{
	if (path[0] == '/' || dir == NULL || dir[0] == '\0')
		return xstrdup(path);
	return xasprintf("%s/%s", dir, path);
}

/* arrivals: {shape: step|linear, segments: [{at, rate}...]} or {trace: FILE}. */
static int load_arrivals(
	struct scenario_loader *ld, const struct ynode *node, struct scenario_arrivals *a)
{
	static const char *const keys[] = {"shape", "segments", "trace", NULL};
	static const char *const shapes[] = {"step", "linear", NULL};
	const struct ynode *v[3];
	int rc, shape = 0;

	if ((rc = scenario_yaml_fields(ld, node, "arrivals", keys, v)) < 0)
		return rc;
	if (v[0] && (rc = scenario_yaml_enum(ld, v[0], "shape", shapes, &shape)) < 0)
		return rc;
	a->shape = (enum scenario_shape)shape;
	if ((v[1] == NULL) == (v[2] == NULL))
		return scenario_yaml_fail(
			ld, node, "arrivals need exactly one of 'segments' or 'trace'");
	if (v[2] != NULL) {
		char *rel, *path;
		struct diag tdiag;

		if (v[0])
			return scenario_yaml_fail(
				ld, v[0], "'shape' applies to segments, not to a trace");
		if ((rc = scenario_yaml_string(ld, v[2], "trace", &rel)) < 0)
			return rc;
		path = resolve_path(ld->dir, rel);
		free(rel);
		rc = scenario_trace_load(path, a, &tdiag);
		free(path);
		if (rc < 0) {
			char msg[600];

			diag_format(&tdiag, msg, sizeof(msg));
			return scenario_yaml_fail(ld, v[2], "trace: %s", msg);
		}
		return 0;
	}
	if ((rc = scenario_yaml_sequence(ld, v[1], "segments")) < 0)
		return rc;
	size_t n = scenario_yaml_seq_len(v[1]);
	if (n == 0 || n > MAX_ITEMS)
		return scenario_yaml_fail(
			ld, v[1], "segments must list 1 to %u entries", MAX_ITEMS);
	a->segments = xcalloc(n, sizeof(*a->segments));
	for (size_t i = 0; i < n; i++) {
		static const char *const skeys[] = {"at", "rate", NULL};
		const struct ynode *item, *sv[2];
		struct scenario_rate_segment *s = &a->segments[i];

		if ((rc = scenario_yaml_seq_item(ld, v[1], i, &item)) < 0 ||
			(rc = scenario_yaml_fields(ld, item, "a segment", skeys, sv)) < 0 ||
			(rc = scenario_yaml_require(ld, item, sv[0], "at")) < 0 ||
			(rc = scenario_yaml_require(ld, item, sv[1], "rate")) < 0 ||
			(rc = scenario_yaml_duration(ld, sv[0], "at", &s->at_ms)) < 0 ||
			(rc = scenario_yaml_rate(ld, sv[1], "rate", &s->rate_per_s)) < 0)
			return rc;
		if (i > 0 && s->at_ms <= a->segments[i - 1].at_ms)
			return scenario_yaml_fail(ld, sv[0], "segment times must increase");
		a->segment_count = i + 1;
	}
	return 0;
}

/* One entry of queues:. */
static int load_queue(
	struct scenario_loader *ld, const struct ynode *node, struct scenario_queue *q)
{
	static const char *const keys[] = {
		"name", "reporting_lag", "delay", "initial_messages", "arrivals", NULL};
	const struct ynode *v[5];
	int rc;

	if ((rc = scenario_yaml_fields(ld, node, "a queue", keys, v)) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[0], "name")) < 0 ||
		(rc = scenario_yaml_string(ld, v[0], "name", &q->name)) < 0)
		return rc;
	if (strlen(q->name) > 80 ||
		strspn(q->name,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789-_") != strlen(q->name))
		return scenario_yaml_fail(
			ld, v[0], "queue names are 1-80 letters, digits, '-' or '_'");
	if (v[1] &&
		(rc = scenario_yaml_duration(ld, v[1], "reporting_lag", &q->reporting_lag_ms)) < 0)
		return rc;
	if (v[2] && (rc = scenario_yaml_duration(ld, v[2], "delay", &q->delay_ms)) < 0)
		return rc;
	if (q->delay_ms > 900000)
		return scenario_yaml_fail(ld, v[2], "delay must be at most 15m, as in SQS");
	if (v[3] &&
		(rc = scenario_yaml_uint(ld, v[3], "initial_messages", 0, 1000000000000ull,
			 &q->initial_messages)) < 0)
		return rc;
	if (v[4] && (rc = load_arrivals(ld, v[4], &q->arrivals)) < 0)
		return rc;
	return 0;
}

/* attributes: {name: value, flag: null}. */
static int load_attributes(
	struct scenario_loader *ld, const struct ynode *node, struct scenario_instance *in)
{
	size_t n;

	if (node->kind != YNODE_MAPPING)
		return scenario_yaml_fail(ld, node, "attributes must be a mapping of name: value");
	n = node->count / 2;
	if (n > 100)
		return scenario_yaml_fail(ld, node, "at most 100 attributes");
	/* room for the built-in ones added after */
	in->attributes = xcalloc(n + 3, sizeof(*in->attributes));
	for (size_t i = 0; i < n; i++) {
		const struct ynode *key = node->items[2 * i], *value = node->items[2 * i + 1];
		struct scenario_attribute *at = &in->attributes[i];
		int rc;

		if ((rc = scenario_yaml_string(ld, key, "attribute name", &at->name)) < 0)
			return rc;
		in->attribute_count = i + 1;
		for (size_t k = 0; k < i; k++)
			if (strcmp(in->attributes[k].name, at->name) == 0)
				return scenario_yaml_fail(
					ld, key, "duplicate attribute '%s'", at->name);
		if (value->kind == YNODE_SCALAR && value->plain &&
			(strcmp(value->value, "null") == 0 || strcmp(value->value, "~") == 0 ||
				value->len == 0))
			continue;
		if ((rc = scenario_yaml_string(ld, value, "attribute value", &at->value)) < 0)
			return rc;
	}
	return 0;
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

/* One entry of a cluster's instances: (count or id), cpu, memory... */
static int load_instances(
	struct scenario_loader *ld, const struct ynode *node, struct scenario_cluster *c)
{
	static const char *const keys[] = {"count", "id", "cpu", "memory", "attributes",
		"reserved_ports", "reserved_ports_udp", "agent_connected", "status", NULL};
	static const char *const statuses[] = {"ACTIVE", "DRAINING", NULL};
	const struct ynode *v[9];
	struct scenario_instance t = {0};
	uint64_t count = 1, cpu = 0, mem = 0;
	int rc, status = 0;

	t.agent_connected = true;
	if ((rc = scenario_yaml_fields(ld, node, "an instance entry", keys, v)) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[2], "cpu")) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[3], "memory")) < 0)
		return rc;
	if (v[0] &&
		(rc = scenario_yaml_uint(ld, v[0], "count", 1, MAX_INSTANCES_PER_ENTRY, &count)) <
			0)
		return rc;
	if (v[1] && count != 1)
		return scenario_yaml_fail(
			ld, v[1], "'id' names one instance: it cannot go with count > 1");
	if ((rc = scenario_yaml_uint(ld, v[2], "cpu", 128, 1u << 20, &cpu)) < 0 ||
		(rc = scenario_yaml_uint(ld, v[3], "memory", 128, 1u << 30, &mem)) < 0)
		return rc;
	t.cpu_units = (uint32_t)cpu;
	t.memory_mib = (uint32_t)mem;
	if (v[7] && (rc = scenario_yaml_bool(ld, v[7], "agent_connected", &t.agent_connected)) < 0)
		goto fail;
	if (v[8] && (rc = scenario_yaml_enum(ld, v[8], "status", statuses, &status)) < 0)
		goto fail;
	t.status = (enum scenario_instance_status)status;
	if (v[5]) {
		if ((rc = load_ports(ld, v[5], "reserved_ports", &t.reserved_ports_tcp,
			     &t.reserved_ports_tcp_count)) < 0)
			goto fail;
	} else {
		size_t n = sizeof(default_ports_tcp) / sizeof(default_ports_tcp[0]);

		t.reserved_ports_tcp = xcalloc(n, sizeof(uint16_t));
		for (size_t i = 0; i < n; i++)
			t.reserved_ports_tcp[i] = (uint16_t)strtoul(default_ports_tcp[i], NULL, 10);
		t.reserved_ports_tcp_count = n;
	}
	if (v[6]) {
		if ((rc = load_ports(ld, v[6], "reserved_ports_udp", &t.reserved_ports_udp,
			     &t.reserved_ports_udp_count)) < 0)
			goto fail;
	} else {
		t.reserved_ports_udp = xcalloc(1, sizeof(uint16_t));
	}
	if (v[4]) {
		if ((rc = load_attributes(ld, v[4], &t)) < 0)
			goto fail;
	} else {
		t.attributes = xcalloc(3, sizeof(*t.attributes));
	}
	add_attribute(&t, "ecs.capability.external", NULL);
	add_attribute(&t, "ecs.os-type", "linux");
	add_attribute(&t, "ecs.cpu-architecture", "x86_64");
	if (c->instance_count + count > MAX_ITEMS) {
		rc = scenario_yaml_fail(ld, node, "too many instances in cluster %s", c->name);
		goto fail;
	}
	c->instances = xreallocarray(c->instances, c->instance_count + count, sizeof(t));
	for (uint64_t k = 0; k < count; k++) {
		struct scenario_instance *in = &c->instances[c->instance_count];
		size_t ordinal = c->instance_count;
		uint64_t h = mix64(hash_str(c->name) ^ mix64(ordinal + 1));

		scenario_instance_copy(in, &t);
		c->instance_count++;
		if (v[1] != NULL) {
			if ((rc = scenario_yaml_string(ld, v[1], "id", &in->ec2_instance_id)) < 0)
				goto fail;
			if (strncmp(in->ec2_instance_id, "mi-", 3) != 0 &&
				strncmp(in->ec2_instance_id, "i-", 2) != 0) {
				rc = scenario_yaml_fail(
					ld, v[1], "instance ids start with mi- (or i-)");
				goto fail;
			}
		} else {
			in->ec2_instance_id = xasprintf("mi-%017llx",
				(unsigned long long)(h & 0xfffffffffffffffull) | (0x1ull << 60));
		}
		in->container_instance_id = xasprintf(
			"%016llx%016llx", (unsigned long long)h, (unsigned long long)mix64(h));
	}
	scenario_instance_finish(&t);
	return 0;
fail:
	scenario_instance_finish(&t);
	return rc;
}

/* One entry of clusters:. */
static int load_cluster(
	struct scenario_loader *ld, const struct ynode *node, struct scenario_cluster *c)
{
	static const char *const keys[] = {"name", "instances", NULL};
	const struct ynode *v[2];
	int rc;

	if ((rc = scenario_yaml_fields(ld, node, "a cluster", keys, v)) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[0], "name")) < 0 ||
		(rc = scenario_yaml_string(ld, v[0], "name", &c->name)) < 0)
		return rc;
	if (strlen(c->name) > 255 || strchr(c->name, '/') || strchr(c->name, ':'))
		return scenario_yaml_fail(
			ld, v[0], "cluster names are at most 255 characters, no '/' or ':'");
	c->arn = xasprintf(
		"arn:aws:ecs:%s:%s:cluster/%s", ld->sc->region, ld->sc->account_id, c->name);
	if (v[1] == NULL)
		return 0;
	if ((rc = scenario_yaml_sequence(ld, v[1], "instances")) < 0)
		return rc;
	for (size_t i = 0; i < scenario_yaml_seq_len(v[1]); i++) {
		const struct ynode *item;

		if ((rc = scenario_yaml_seq_item(ld, v[1], i, &item)) < 0 ||
			(rc = load_instances(ld, item, c)) < 0)
			return rc;
	}
	for (size_t i = 0; i < c->instance_count; i++)
		for (size_t k = 0; k < i; k++)
			if (strcmp(c->instances[i].ec2_instance_id,
				    c->instances[k].ec2_instance_id) == 0)
				return scenario_yaml_fail(ld, v[1],
					"instance id %s is listed twice",
					c->instances[i].ec2_instance_id);
	return 0;
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

/* The whole file: top-level keys in any order, sections resolved in dependency order. */
static int load_root(struct scenario_loader *ld, const struct ynode *root)
{
	static const char *const keys[] = {"region", "account_id", "credentials", "seed",
		"duration", "startup", "queues", "clusters", "task_definitions", "services",
		"events", "faults", NULL};
	enum {
		K_REGION,
		K_ACCOUNT,
		K_CREDS,
		K_SEED,
		K_DURATION,
		K_STARTUP,
		K_QUEUES,
		K_CLUSTERS,
		K_TASKDEFS,
		K_SERVICES,
		K_EVENTS,
		K_FAULTS,
		K_N
	};
	const struct ynode *v[K_N];
	struct scenario *sc = ld->sc;
	int rc;

	if ((rc = scenario_yaml_fields(ld, root, "the scenario", keys, v)) < 0)
		return rc;
	if (v[K_REGION] && (rc = scenario_yaml_string(ld, v[K_REGION], "region", &sc->region)) < 0)
		return rc;
	if (sc->region == NULL)
		sc->region = xstrdup("us-east-1");
	if (v[K_ACCOUNT]) {
		if ((rc = scenario_yaml_string(ld, v[K_ACCOUNT], "account_id", &sc->account_id)) <
			0)
			return rc;
		if (strlen(sc->account_id) != 12 || strspn(sc->account_id, "0123456789") != 12)
			return scenario_yaml_fail(
				ld, v[K_ACCOUNT], "account_id must be 12 digits (quote it)");
	} else {
		sc->account_id = xstrdup("123456789012");
	}
	if (v[K_CREDS]) {
		static const char *const ckeys[] = {"access_key_id", "secret_access_key", NULL};
		const struct ynode *cv[2];

		if ((rc = scenario_yaml_fields(ld, v[K_CREDS], "credentials", ckeys, cv)) < 0 ||
			(rc = scenario_yaml_require(ld, v[K_CREDS], cv[0], "access_key_id")) < 0 ||
			(rc = scenario_yaml_require(ld, v[K_CREDS], cv[1], "secret_access_key")) <
				0 ||
			(rc = scenario_yaml_string(
				 ld, cv[0], "access_key_id", &sc->access_key_id)) < 0 ||
			(rc = scenario_yaml_string(
				 ld, cv[1], "secret_access_key", &sc->secret_access_key)) < 0)
			return rc;
	}
	if (v[K_SEED] &&
		(rc = scenario_yaml_uint(ld, v[K_SEED], "seed", 0, UINT64_MAX, &sc->seed)) < 0)
		return rc;
	if (v[K_DURATION] &&
		(rc = scenario_yaml_duration(ld, v[K_DURATION], "duration", &sc->duration_ms)) < 0)
		return rc;
	sc->onprem_startup_ms = 5000;
	sc->fargate_startup_ms = 45000;
	if (v[K_STARTUP]) {
		static const char *const skeys[] = {"onprem", "fargate", NULL};
		const struct ynode *sv[2];

		if ((rc = scenario_yaml_fields(ld, v[K_STARTUP], "startup", skeys, sv)) < 0)
			return rc;
		if (sv[0] &&
			(rc = scenario_yaml_duration(ld, sv[0], "onprem", &sc->onprem_startup_ms)) <
				0)
			return rc;
		if (sv[1] &&
			(rc = scenario_yaml_duration(
				 ld, sv[1], "fargate", &sc->fargate_startup_ms)) < 0)
			return rc;
	}
	if (v[K_QUEUES]) {
		if ((rc = scenario_yaml_sequence(ld, v[K_QUEUES], "queues")) < 0)
			return rc;
		size_t n = scenario_yaml_seq_len(v[K_QUEUES]);
		sc->queues = xcalloc(n + 1, sizeof(*sc->queues));
		for (size_t i = 0; i < n; i++) {
			const struct ynode *item;

			sc->queue_count = i + 1;
			if ((rc = scenario_yaml_seq_item(ld, v[K_QUEUES], i, &item)) < 0 ||
				(rc = load_queue(ld, item, &sc->queues[i])) < 0)
				return rc;
			for (size_t k = 0; k < i; k++)
				if (strcmp(sc->queues[k].name, sc->queues[i].name) == 0)
					return scenario_yaml_fail(ld, item,
						"queue %s is listed twice", sc->queues[i].name);
		}
	}
	if (v[K_CLUSTERS]) {
		if ((rc = scenario_yaml_sequence(ld, v[K_CLUSTERS], "clusters")) < 0)
			return rc;
		size_t n = scenario_yaml_seq_len(v[K_CLUSTERS]);
		sc->clusters = xcalloc(n + 1, sizeof(*sc->clusters));
		for (size_t i = 0; i < n; i++) {
			const struct ynode *item;

			sc->cluster_count = i + 1;
			if ((rc = scenario_yaml_seq_item(ld, v[K_CLUSTERS], i, &item)) < 0 ||
				(rc = load_cluster(ld, item, &sc->clusters[i])) < 0)
				return rc;
			for (size_t k = 0; k < i; k++)
				if (strcmp(sc->clusters[k].name, sc->clusters[i].name) == 0)
					return scenario_yaml_fail(ld, item,
						"cluster %s is listed twice", sc->clusters[i].name);
		}
	}
	if (v[K_TASKDEFS] && (rc = scenario_load_task_definitions(ld, v[K_TASKDEFS])) < 0)
		return rc;
	if (v[K_SERVICES] && (rc = scenario_load_services(ld, v[K_SERVICES])) < 0)
		return rc;
	if (v[K_EVENTS] && (rc = scenario_load_events(ld, v[K_EVENTS])) < 0)
		return rc;
	if (v[K_FAULTS] && (rc = scenario_load_faults(ld, v[K_FAULTS])) < 0)
		return rc;
	scenario_sort_events(sc);
	return 0;
}

/* Parse text into a fresh scenario. */
static int load_text(const char *name, const char *dir, const char *text, size_t len,
	struct scenario **out, struct diag *diag)
{
	struct scenario_loader ld = {.diag = diag, .dir = dir};
	struct ynode *root;
	int rc = yaml_tree_parse(name, text, len, &scenario_limits, &root, diag);

	if (rc < 0)
		return -EINVAL;
	ld.sc = xcalloc(1, sizeof(*ld.sc));
	ld.sc->path = xstrdup(name);
	rc = load_root(&ld, root);
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
