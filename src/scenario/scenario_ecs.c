/*
 * The ECS and fault sections of a scenario file: task definitions (with what
 * a task reserves on an instance), services (resolved against clusters, task
 * definitions and queues), scheduled instance events and fault windows; plus
 * the lookups by name, family:revision or ARN.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/ecs_task.h"
#include "qscale/xalloc.h"
#include "scenario_priv.h"

#define MAX_ITEMS 100000u

/* Task-level cpu: "1024", "1 vCPU", "0.5 vCPU" → units as a string. */
static int parse_task_cpu(const char *s, uint64_t *out)
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
	if (strcasecmp(end, "vcpu") == 0)
		v *= 1024.0;
	else if (*end != '\0')
		return -EINVAL;
	if (v < 1 || v > 196608 || v != floor(v))
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

/* Task-level memory: "2048", "2GB", "2 GB" → MiB. */
static int parse_task_memory(const char *s, uint64_t *out)
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
	if (strcasecmp(end, "gb") == 0)
		v *= 1024.0;
	else if (strcasecmp(end, "mb") != 0 && strcasecmp(end, "mib") != 0 && *end != '\0')
		return -EINVAL;
	if (v < 4 || v > 1048576 || v != floor(v))
		return -EINVAL;
	*out = (uint64_t)v;
	return 0;
}

/* Free a task definition's fields. */
void scenario_task_definition_finish(struct scenario_task_definition *td)
{
	free(td->family);
	free(td->arn);
	free(td->cpu);
	free(td->memory);
	free(td->network_mode);
	for (size_t i = 0; i < td->container_count; i++) {
		free(td->containers[i].name);
		free(td->containers[i].port_mappings);
	}
	free(td->containers);
}

/* portMappings of one container. */
static int load_port_mappings(
	struct scenario_loader *ld, const struct ynode *node, struct scenario_container *c)
{
	static const char *const keys[] = {"container_port", "host_port", "protocol", NULL};
	static const char *const protos[] = {"tcp", "udp", NULL};
	size_t n;
	int rc;

	if ((rc = scenario_yaml_sequence(ld, node, "port_mappings")) < 0)
		return rc;
	n = scenario_yaml_seq_len(node);
	if (n > 16)
		return scenario_yaml_fail(ld, node, "at most 16 port mappings per container");
	c->port_mappings = xcalloc(n + 1, sizeof(*c->port_mappings));
	for (size_t i = 0; i < n; i++) {
		struct scenario_port_mapping *pm = &c->port_mappings[i];
		const struct ynode *item, *v[3];
		uint64_t cport, hport = 0;
		int proto = 0;

		if ((rc = scenario_yaml_seq_item(ld, node, i, &item)) < 0 ||
			(rc = scenario_yaml_fields(ld, item, "a port mapping", keys, v)) < 0 ||
			(rc = scenario_yaml_require(ld, item, v[0], "container_port")) < 0 ||
			(rc = scenario_yaml_uint(ld, v[0], "container_port", 1, 65535, &cport)) < 0)
			return rc;
		if (v[1] && (rc = scenario_yaml_uint(ld, v[1], "host_port", 0, 65535, &hport)) < 0)
			return rc;
		if (v[2] && (rc = scenario_yaml_enum(ld, v[2], "protocol", protos, &proto)) < 0)
			return rc;
		pm->container_port = (uint16_t)cport;
		pm->host_port = (uint16_t)hport;
		pm->protocol = (enum scenario_protocol)proto;
		c->port_mapping_count = i + 1;
	}
	return 0;
}

/* One container definition. */
static int load_container(
	struct scenario_loader *ld, const struct ynode *node, struct scenario_container *c)
{
	static const char *const keys[] = {
		"name", "cpu", "memory", "memory_reservation", "port_mappings", NULL};
	const struct ynode *v[5];
	uint64_t x;
	int rc;

	if ((rc = scenario_yaml_fields(ld, node, "a container", keys, v)) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[0], "name")) < 0 ||
		(rc = scenario_yaml_string(ld, v[0], "name", &c->name)) < 0)
		return rc;
	if (v[1]) {
		if ((rc = scenario_yaml_uint(ld, v[1], "cpu", 0, 196608, &x)) < 0)
			return rc;
		c->cpu_units = (uint32_t)x;
	}
	if (v[2]) {
		if ((rc = scenario_yaml_uint(ld, v[2], "memory", 4, 1048576, &x)) < 0)
			return rc;
		c->memory_mib = (uint32_t)x;
	}
	if (v[3]) {
		if ((rc = scenario_yaml_uint(ld, v[3], "memory_reservation", 4, 1048576, &x)) < 0)
			return rc;
		c->memory_reservation_mib = (uint32_t)x;
	}
	if (c->memory_mib && c->memory_reservation_mib &&
		c->memory_reservation_mib >= c->memory_mib)
		return scenario_yaml_fail(ld, v[3], "memory_reservation must be below memory");
	if (v[4] && (rc = load_port_mappings(ld, v[4], c)) < 0)
		return rc;
	return 0;
}

/* Check what a definition would reserve: host ports distinct, at most 16 each. */
static int check_reservation(struct scenario_loader *ld, const struct ynode *node,
	const struct scenario_task_definition *td)
{
	size_t tcp = 0, udp = 0;
	uint16_t seen[2][16 * 64];

	if (strcmp(td->network_mode, "awsvpc") == 0)
		return 0;
	for (size_t i = 0; i < td->container_count; i++) {
		const struct scenario_container *c = &td->containers[i];

		for (size_t k = 0; k < c->port_mapping_count; k++) {
			const struct scenario_port_mapping *pm = &c->port_mappings[k];
			size_t *n = pm->protocol == SCENARIO_PROTO_UDP ? &udp : &tcp;
			uint16_t *list = seen[pm->protocol == SCENARIO_PROTO_UDP];

			if (pm->host_port == 0)
				continue;
			for (size_t j = 0; j < *n; j++)
				if (list[j] == pm->host_port)
					return scenario_yaml_fail(ld, node,
						"host port %u is mapped twice", pm->host_port);
			if (*n >= 16)
				return scenario_yaml_fail(
					ld, node, "at most 16 host ports per protocol");
			list[(*n)++] = pm->host_port;
		}
	}
	return 0;
}

/* One task definition. */
static int load_task_definition(
	struct scenario_loader *ld, const struct ynode *node, struct scenario_task_definition *td)
{
	static const char *const keys[] = {"family", "revision", "cpu", "memory", "network_mode",
		"requires_compatibilities", "containers", NULL};
	static const char *const modes[] = {"bridge", "host", "awsvpc", "none", NULL};
	static const char *const compats[] = {"EC2", "EXTERNAL", "FARGATE", NULL};
	const struct ynode *v[7];
	uint64_t x;
	const char *s;
	int rc, mode = 0;

	if ((rc = scenario_yaml_fields(ld, node, "a task definition", keys, v)) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[0], "family")) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[6], "containers")) < 0 ||
		(rc = scenario_yaml_string(ld, v[0], "family", &td->family)) < 0)
		return rc;
	if (strlen(td->family) > 255 || strchr(td->family, ':') || strchr(td->family, '/'))
		return scenario_yaml_fail(
			ld, v[0], "families are at most 255 characters, no ':' or '/'");
	td->revision = 1;
	if (v[1]) {
		if ((rc = scenario_yaml_uint(ld, v[1], "revision", 1, 1000000, &x)) < 0)
			return rc;
		td->revision = (uint32_t)x;
	}
	td->arn = xasprintf("arn:aws:ecs:%s:%s:task-definition/%s:%u", ld->sc->region,
		ld->sc->account_id, td->family, td->revision);
	if (v[2]) {
		if ((rc = scenario_yaml_scalar(ld, v[2], "cpu", &s)) < 0)
			return rc;
		if (parse_task_cpu(s, &x) < 0)
			return scenario_yaml_fail(
				ld, v[2], "cpu must be CPU units (128-196608) or 'N vCPU'");
		td->cpu = xasprintf("%llu", (unsigned long long)x);
	}
	if (v[3]) {
		if ((rc = scenario_yaml_scalar(ld, v[3], "memory", &s)) < 0)
			return rc;
		if (parse_task_memory(s, &x) < 0)
			return scenario_yaml_fail(ld, v[3], "memory must be MiB or 'N GB'");
		td->memory = xasprintf("%llu", (unsigned long long)x);
	}
	if (v[4] && (rc = scenario_yaml_enum(ld, v[4], "network_mode", modes, &mode)) < 0)
		return rc;
	td->network_mode = xstrdup(modes[mode]);
	if (v[5]) {
		if ((rc = scenario_yaml_sequence(ld, v[5], "requires_compatibilities")) < 0)
			return rc;
		for (size_t i = 0; i < scenario_yaml_seq_len(v[5]); i++) {
			const struct ynode *item;
			int c;

			if ((rc = scenario_yaml_seq_item(ld, v[5], i, &item)) < 0 ||
				(rc = scenario_yaml_enum(
					 ld, item, "a compatibility", compats, &c)) < 0)
				return rc;
			td->requires_compatibilities |= 1u << c;
		}
	} else {
		td->requires_compatibilities = SCENARIO_COMPAT_EXTERNAL;
	}
	if ((rc = scenario_yaml_sequence(ld, v[6], "containers")) < 0)
		return rc;
	size_t n = scenario_yaml_seq_len(v[6]);
	if (n == 0 || n > 10)
		return scenario_yaml_fail(ld, v[6], "a task definition has 1 to 10 containers");
	td->containers = xcalloc(n, sizeof(*td->containers));
	for (size_t i = 0; i < n; i++) {
		const struct ynode *item;

		td->container_count = i + 1;
		if ((rc = scenario_yaml_seq_item(ld, v[6], i, &item)) < 0 ||
			(rc = load_container(ld, item, &td->containers[i])) < 0)
			return rc;
		if (td->memory == NULL && td->containers[i].memory_mib == 0 &&
			td->containers[i].memory_reservation_mib == 0)
			return scenario_yaml_fail(ld, item,
				"without task-level memory every container needs memory or "
				"memory_reservation");
	}
	if ((td->requires_compatibilities & SCENARIO_COMPAT_FARGATE) &&
		(td->cpu == NULL || td->memory == NULL))
		return scenario_yaml_fail(ld, node, "FARGATE needs task-level cpu and memory");
	if ((td->requires_compatibilities & SCENARIO_COMPAT_FARGATE) &&
		strcmp(td->network_mode, "awsvpc") != 0)
		return scenario_yaml_fail(ld, node, "FARGATE needs network_mode awsvpc");
	return check_reservation(ld, node, td);
}

/* task_definitions:. */
int scenario_load_task_definitions(struct scenario_loader *ld, const struct ynode *node)
{
	struct scenario *sc = ld->sc;
	size_t n;
	int rc;

	if ((rc = scenario_yaml_sequence(ld, node, "task_definitions")) < 0)
		return rc;
	n = scenario_yaml_seq_len(node);
	if (n > MAX_ITEMS)
		return scenario_yaml_fail(ld, node, "too many task definitions");
	sc->task_definitions = xcalloc(n + 1, sizeof(*sc->task_definitions));
	for (size_t i = 0; i < n; i++) {
		struct scenario_task_definition *td = &sc->task_definitions[i];
		const struct ynode *item;

		sc->task_definition_count = i + 1;
		if ((rc = scenario_yaml_seq_item(ld, node, i, &item)) < 0 ||
			(rc = load_task_definition(ld, item, td)) < 0)
			return rc;
		for (size_t k = 0; k < i; k++)
			if (strcmp(sc->task_definitions[k].arn, td->arn) == 0)
				return scenario_yaml_fail(ld, item, "%s:%u is defined twice",
					td->family, td->revision);
	}
	return 0;
}

/*
 * processing_time: how long a task holds each message; by default one
 * message at a time at the service's rate (a zero rate holds none).
 */
static int load_processing_time(
	struct scenario_loader *ld, const struct ynode *v, struct scenario_service *s)
{
	int rc;

	if (v == NULL) {
		s->processing_time_ms = s->messages_per_task_s > 0
			? (uint64_t)llround(1000.0 / s->messages_per_task_s)
			: 0;
		return 0;
	}
	if (!s->has_queue)
		return scenario_yaml_fail(ld, v, "processing_time needs a queue");
	if ((rc = scenario_yaml_duration(ld, v, "processing_time", &s->processing_time_ms)) < 0)
		return rc;
	if (s->processing_time_ms > 3600000)
		return scenario_yaml_fail(ld, v, "processing_time is at most 1h");
	return 0;
}

/* One service. */
static int load_service(
	struct scenario_loader *ld, const struct ynode *node, struct scenario_service *s)
{
	static const char *const keys[] = {"name", "cluster", "launch_type", "task_definition",
		"desired", "queue", "messages_per_task", "status", "processing_time", NULL};
	static const char *const types[] = {"EXTERNAL", "FARGATE", NULL};
	static const char *const statuses[] = {"ACTIVE", "DRAINING", "INACTIVE", NULL};
	struct scenario *sc = ld->sc;
	const struct ynode *v[9];
	const char *text;
	uint64_t x;
	int rc, idx, type = 0, status = 0;

	if ((rc = scenario_yaml_fields(ld, node, "a service", keys, v)) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[0], "name")) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[1], "cluster")) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[3], "task_definition")) < 0 ||
		(rc = scenario_yaml_string(ld, v[0], "name", &s->name)) < 0)
		return rc;
	if (strlen(s->name) > 255 || strchr(s->name, '/') || strchr(s->name, ':'))
		return scenario_yaml_fail(
			ld, v[0], "service names are at most 255 characters, no '/' or ':'");
	if ((rc = scenario_yaml_scalar(ld, v[1], "cluster", &text)) < 0)
		return rc;
	if ((idx = scenario_find_cluster(sc, text)) < 0)
		return scenario_yaml_fail(ld, v[1], "no cluster named '%s'", text);
	s->cluster = (size_t)idx;
	s->arn = xasprintf("arn:aws:ecs:%s:%s:service/%s/%s", sc->region, sc->account_id,
		sc->clusters[idx].name, s->name);
	if (v[2] && (rc = scenario_yaml_enum(ld, v[2], "launch_type", types, &type)) < 0)
		return rc;
	s->launch_type = (enum scenario_launch_type)type;
	if ((rc = scenario_yaml_scalar(ld, v[3], "task_definition", &text)) < 0)
		return rc;
	if ((idx = scenario_find_task_definition(sc, text)) < 0)
		return scenario_yaml_fail(ld, v[3], "no task definition '%s'", text);
	s->task_definition = (size_t)idx;
	if (!(sc->task_definitions[idx].requires_compatibilities &
		    (s->launch_type == SCENARIO_LAUNCH_FARGATE ? SCENARIO_COMPAT_FARGATE
							       : SCENARIO_COMPAT_EXTERNAL)))
		return scenario_yaml_fail(ld, v[3],
			"task definition '%s' is not compatible with %s", text, types[type]);
	if (v[4]) {
		if ((rc = scenario_yaml_uint(ld, v[4], "desired", 0, 100000, &x)) < 0)
			return rc;
		s->desired_count = (uint32_t)x;
	}
	if (v[5]) {
		if ((rc = scenario_yaml_scalar(ld, v[5], "queue", &text)) < 0)
			return rc;
		if ((idx = scenario_find_queue(sc, text)) < 0)
			return scenario_yaml_fail(ld, v[5], "no queue named '%s'", text);
		s->has_queue = true;
		s->queue = (size_t)idx;
		if ((rc = scenario_yaml_require(ld, node, v[6], "messages_per_task")) < 0)
			return rc;
	}
	if (v[6]) {
		if (!s->has_queue)
			return scenario_yaml_fail(ld, v[6], "messages_per_task needs a queue");
		if ((rc = scenario_yaml_rate(
			     ld, v[6], "messages_per_task", &s->messages_per_task_s)) < 0)
			return rc;
	}
	if ((rc = load_processing_time(ld, v[8], s)) < 0)
		return rc;
	if (v[7] && (rc = scenario_yaml_enum(ld, v[7], "status", statuses, &status)) < 0)
		return rc;
	s->status = (enum scenario_service_status)status;
	if (s->status == SCENARIO_SERVICE_INACTIVE && s->desired_count > 0)
		return scenario_yaml_fail(ld, v[7], "an INACTIVE service has desired 0");
	return 0;
}

/* services:. */
int scenario_load_services(struct scenario_loader *ld, const struct ynode *node)
{
	struct scenario *sc = ld->sc;
	size_t n;
	int rc;

	if ((rc = scenario_yaml_sequence(ld, node, "services")) < 0)
		return rc;
	n = scenario_yaml_seq_len(node);
	if (n > MAX_ITEMS)
		return scenario_yaml_fail(ld, node, "too many services");
	sc->services = xcalloc(n + 1, sizeof(*sc->services));
	for (size_t i = 0; i < n; i++) {
		const struct ynode *item;

		sc->service_count = i + 1;
		if ((rc = scenario_yaml_seq_item(ld, node, i, &item)) < 0 ||
			(rc = load_service(ld, item, &sc->services[i])) < 0)
			return rc;
		for (size_t k = 0; k < i; k++)
			if (strcmp(sc->services[k].arn, sc->services[i].arn) == 0)
				return scenario_yaml_fail(ld, item,
					"service %s is listed twice in its cluster",
					sc->services[i].name);
	}
	return 0;
}

/* Add a fault window. */
static struct scenario_fault *add_fault(struct scenario *sc)
{
	sc->faults = xreallocarray(sc->faults, sc->fault_count + 1, sizeof(*sc->faults));
	memset(&sc->faults[sc->fault_count], 0, sizeof(*sc->faults));
	return &sc->faults[sc->fault_count++];
}

static const char *const target_names[] = {"any", "sqs", "ecs", NULL};

/* An instance named by index, ec2 instance id or container instance id. */
static int find_instance(const struct scenario_cluster *c, const char *ref)
{
	char *end;
	unsigned long i;

	for (size_t k = 0; k < c->instance_count; k++)
		if (strcmp(c->instances[k].ec2_instance_id, ref) == 0 ||
			strcmp(c->instances[k].container_instance_id, ref) == 0)
			return (int)k;
	if (ref[0] < '0' || ref[0] > '9')
		return -ENOENT;
	errno = 0;
	i = strtoul(ref, &end, 10);
	if (*end != '\0' || errno == ERANGE || i >= c->instance_count)
		return -ENOENT;
	return (int)i;
}

/* One event; partitions become faults. */
static int load_event(struct scenario_loader *ld, const struct ynode *node)
{
	static const char *const keys[] = {
		"at", "kind", "cluster", "instance", "duration", "target", NULL};
	static const char *const kinds[] = {
		"disconnect", "reconnect", "drain", "activate", "partition", NULL};
	struct scenario *sc = ld->sc;
	const struct ynode *v[6];
	struct scenario_event ev = {0};
	const char *text;
	int rc, kind, idx;

	if ((rc = scenario_yaml_fields(ld, node, "an event", keys, v)) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[0], "at")) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[1], "kind")) < 0 ||
		(rc = scenario_yaml_duration(ld, v[0], "at", &ev.at_ms)) < 0 ||
		(rc = scenario_yaml_enum(ld, v[1], "kind", kinds, &kind)) < 0)
		return rc;
	if (kind == 4) {
		struct scenario_fault *f;
		uint64_t dur;
		int target = 0;

		if (v[2] || v[3])
			return scenario_yaml_fail(ld, v[2] ? v[2] : v[3],
				"a partition cuts the network, not one instance");
		if ((rc = scenario_yaml_require(ld, node, v[4], "duration")) < 0 ||
			(rc = scenario_yaml_duration(ld, v[4], "duration", &dur)) < 0)
			return rc;
		if (dur == 0)
			return scenario_yaml_fail(ld, v[4], "duration must be above 0s");
		if (v[5] &&
			(rc = scenario_yaml_enum(ld, v[5], "target", target_names, &target)) < 0)
			return rc;
		f = add_fault(sc);
		f->kind = SCENARIO_FAULT_PARTITION;
		f->start_ms = ev.at_ms;
		f->end_ms = ev.at_ms + dur;
		f->probability = 1.0;
		f->target = (enum scenario_fault_target)target;
		return 0;
	}
	if (v[4] || v[5])
		return scenario_yaml_fail(ld, v[4] ? v[4] : v[5], "only a partition takes %s",
			v[4] ? "a duration" : "a target");
	if ((rc = scenario_yaml_require(ld, node, v[2], "cluster")) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[3], "instance")) < 0 ||
		(rc = scenario_yaml_scalar(ld, v[2], "cluster", &text)) < 0)
		return rc;
	if ((idx = scenario_find_cluster(sc, text)) < 0)
		return scenario_yaml_fail(ld, v[2], "no cluster named '%s'", text);
	ev.cluster = (size_t)idx;
	if ((rc = scenario_yaml_scalar(ld, v[3], "instance", &text)) < 0)
		return rc;
	if ((idx = find_instance(&sc->clusters[ev.cluster], text)) < 0)
		return scenario_yaml_fail(ld, v[3], "cluster %s has no instance '%s' (index or id)",
			sc->clusters[ev.cluster].name, text);
	ev.instance = (size_t)idx;
	ev.kind = (enum scenario_event_kind)kind;
	sc->events = xreallocarray(sc->events, sc->event_count + 1, sizeof(*sc->events));
	sc->events[sc->event_count++] = ev;
	return 0;
}

/* events:. */
int scenario_load_events(struct scenario_loader *ld, const struct ynode *node)
{
	int rc;

	if ((rc = scenario_yaml_sequence(ld, node, "events")) < 0)
		return rc;
	if (scenario_yaml_seq_len(node) > MAX_ITEMS)
		return scenario_yaml_fail(ld, node, "too many events");
	for (size_t i = 0; i < scenario_yaml_seq_len(node); i++) {
		const struct ynode *item;

		if ((rc = scenario_yaml_seq_item(ld, node, i, &item)) < 0 ||
			(rc = load_event(ld, item)) < 0)
			return rc;
	}
	return 0;
}

/* One fault window. */
/*
 * The keys of the instance faults (v[8] instance, v[9] reason, v[10]
 * resource): each only where its kind reads it, so a misplaced key is not
 * silently ignored.
 */
static int load_instance_fault(
	struct scenario_loader *ld, const struct ynode *const *v, struct scenario_fault *f)
{
	static const char *const resources[] = {"MEMORY", "CPU", NULL};
	bool on_instance = f->kind == SCENARIO_FAULT_INSTANCE_FAILURE ||
		f->kind == SCENARIO_FAULT_MISSING_RESOURCE;
	int rc, resource = 0;

	if (v[8] && !on_instance)
		return scenario_yaml_fail(ld, v[8], "only an instance fault takes an instance");
	if (v[9] && f->kind != SCENARIO_FAULT_INSTANCE_FAILURE)
		return scenario_yaml_fail(
			ld, v[9], "only an instance_failure fault takes a reason");
	if (v[10] && f->kind != SCENARIO_FAULT_MISSING_RESOURCE)
		return scenario_yaml_fail(
			ld, v[10], "only a missing_resource fault takes a resource");
	if (v[10] && (rc = scenario_yaml_enum(ld, v[10], "resource", resources, &resource)) < 0)
		return rc;
	f->resource = (enum scenario_resource)resource;
	if (v[8] && (rc = scenario_yaml_string(ld, v[8], "instance", &f->instance)) < 0)
		return rc;
	if (v[9] && (rc = scenario_yaml_string(ld, v[9], "reason", &f->reason)) < 0) {
		free(f->instance);
		f->instance = NULL;
		return rc;
	}
	if (f->kind == SCENARIO_FAULT_INSTANCE_FAILURE && f->reason == NULL)
		f->reason = xstrdup("MISSING");
	return 0;
}

bool scenario_fault_hits_instance(const struct scenario_fault *fault, const char *ec2_instance_id)
{
	return fault->instance == NULL ||
		(ec2_instance_id != NULL && strcmp(fault->instance, ec2_instance_id) == 0);
}

static int load_fault(struct scenario_loader *ld, const struct ynode *node)
{
	static const char *const keys[] = {"kind", "start", "end", "probability", "every",
		"service", "operation", "latency", "instance", "reason", "resource", NULL};
	static const char *const kinds[] = {"throttling", "error500", "error503", "latency", "drop",
		"malformed", "partition", "instance_failure", "missing_resource", "lost_answer",
		NULL};
	const struct ynode *v[11];
	struct scenario_fault f = {0};
	uint64_t every;
	int rc, kind, target = 0;

	if ((rc = scenario_yaml_fields(ld, node, "a fault", keys, v)) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[0], "kind")) < 0 ||
		(rc = scenario_yaml_require(ld, node, v[2], "end")) < 0 ||
		(rc = scenario_yaml_enum(ld, v[0], "kind", kinds, &kind)) < 0)
		return rc;
	f.kind = (enum scenario_fault_kind)kind;
	if (v[1] && (rc = scenario_yaml_duration(ld, v[1], "start", &f.start_ms)) < 0)
		return rc;
	if ((rc = scenario_yaml_duration(ld, v[2], "end", &f.end_ms)) < 0)
		return rc;
	if (f.end_ms <= f.start_ms)
		return scenario_yaml_fail(ld, v[2], "end must come after start");
	if (v[3] && v[4])
		return scenario_yaml_fail(ld, v[4], "give probability or every, not both");
	f.probability = 1.0;
	if (v[3] &&
		(rc = scenario_yaml_double(ld, v[3], "probability", 0.0, 1.0, &f.probability)) < 0)
		return rc;
	if (v[3] && f.probability <= 0.0)
		return scenario_yaml_fail(ld, v[3], "probability must be above 0");
	if (v[4]) {
		if ((rc = scenario_yaml_uint(ld, v[4], "every", 1, 1000000, &every)) < 0)
			return rc;
		f.every_nth = (uint32_t)every;
	}
	if (v[5] && (rc = scenario_yaml_enum(ld, v[5], "service", target_names, &target)) < 0)
		return rc;
	f.target = (enum scenario_fault_target)target;
	if (f.kind == SCENARIO_FAULT_LATENCY) {
		if ((rc = scenario_yaml_require(ld, node, v[7], "latency")) < 0 ||
			(rc = scenario_yaml_duration(ld, v[7], "latency", &f.latency_ms)) < 0)
			return rc;
		if (f.latency_ms == 0 || f.latency_ms > 600000)
			return scenario_yaml_fail(
				ld, v[7], "latency must be above 0s and at most 10m");
	} else if (v[7]) {
		return scenario_yaml_fail(ld, v[7], "only a latency fault takes a latency");
	}
	if ((rc = load_instance_fault(ld, v, &f)) < 0)
		return rc;
	if (v[6] && (rc = scenario_yaml_string(ld, v[6], "operation", &f.operation)) < 0) {
		free(f.instance);
		free(f.reason);
		return rc;
	}
	*add_fault(ld->sc) = f;
	return 0;
}

/* faults:. */
int scenario_load_faults(struct scenario_loader *ld, const struct ynode *node)
{
	int rc;

	if ((rc = scenario_yaml_sequence(ld, node, "faults")) < 0)
		return rc;
	if (scenario_yaml_seq_len(node) > MAX_ITEMS)
		return scenario_yaml_fail(ld, node, "too many faults");
	for (size_t i = 0; i < scenario_yaml_seq_len(node); i++) {
		const struct ynode *item;

		if ((rc = scenario_yaml_seq_item(ld, node, i, &item)) < 0 ||
			(rc = load_fault(ld, item)) < 0)
			return rc;
	}
	return 0;
}

/* Stable insertion sort: events are few and mostly in order already. */
void scenario_sort_events(struct scenario *sc)
{
	for (size_t i = 1; i < sc->event_count; i++) {
		struct scenario_event e = sc->events[i];
		size_t k = i;

		while (k > 0 && sc->events[k - 1].at_ms > e.at_ms) {
			sc->events[k] = sc->events[k - 1];
			k--;
		}
		sc->events[k] = e;
	}
}

/* Find a task definition by family, family:revision or ARN. */
int scenario_find_task_definition(const struct scenario *sc, const char *ref)
{
	const char *colon;
	int best = -ENOENT;

	if (strncmp(ref, "arn:", 4) == 0) {
		for (size_t i = 0; i < sc->task_definition_count; i++)
			if (strcmp(sc->task_definitions[i].arn, ref) == 0)
				return (int)i;
		return -ENOENT;
	}
	colon = strchr(ref, ':');
	for (size_t i = 0; i < sc->task_definition_count; i++) {
		const struct scenario_task_definition *td = &sc->task_definitions[i];

		if (colon != NULL) {
			char rev[16];

			if (strlen(td->family) != (size_t)(colon - ref) ||
				strncmp(td->family, ref, (size_t)(colon - ref)) != 0)
				continue;
			snprintf(rev, sizeof(rev), "%u", td->revision);
			if (strcmp(colon + 1, rev) == 0)
				return (int)i;
		} else if (strcmp(td->family, ref) == 0 &&
			(best < 0 || td->revision > sc->task_definitions[best].revision)) {
			best = (int)i;
		}
	}
	return best;
}

/* Find a queue by name. */
int scenario_find_queue(const struct scenario *sc, const char *name)
{
	for (size_t i = 0; i < sc->queue_count; i++)
		if (strcmp(sc->queues[i].name, name) == 0)
			return (int)i;
	return -ENOENT;
}

/* Find a cluster by name or ARN. */
int scenario_find_cluster(const struct scenario *sc, const char *name_or_arn)
{
	for (size_t i = 0; i < sc->cluster_count; i++)
		if (strcmp(sc->clusters[i].name, name_or_arn) == 0 ||
			strcmp(sc->clusters[i].arn, name_or_arn) == 0)
			return (int)i;
	return -ENOENT;
}

/*
 * What ECS subtracts from an instance for one task (AWS.md 2.5). The rule is
 * the AWS layer's ecs_task_reservation_compute, so the emulated fleet places
 * tasks exactly as qscale sizes them: the definition is viewed as ECS would
 * return it and handed over, never computed a second way here.
 */
void scenario_task_definition_reservation(
	const struct scenario_task_definition *td, struct scenario_reservation *out)
{
	struct ecs_container_def *containers =
		xcalloc(td->container_count + 1, sizeof(*containers));
	struct ecs_task_definition view = {
		.network_mode = td->network_mode,
		.cpu_units = td->cpu != NULL ? (int64_t)strtoul(td->cpu, NULL, 10) : 0,
		.memory_mib = td->memory != NULL ? (int64_t)strtoul(td->memory, NULL, 10) : 0,
		.containers = containers,
		.n_containers = td->container_count,
	};
	struct ecs_task_reservation res;
	struct scenario_reservation r = {0};

	for (size_t i = 0; i < td->container_count; i++) {
		const struct scenario_container *c = &td->containers[i];
		struct ecs_container_def *d = &containers[i];

		d->cpu_units = c->cpu_units;
		d->memory_mib = c->memory_mib;
		d->memory_reservation_mib = c->memory_reservation_mib;
		d->n_port_mappings = c->port_mapping_count;
		d->port_mappings = xcalloc(c->port_mapping_count + 1, sizeof(*d->port_mappings));
		for (size_t k = 0; k < c->port_mapping_count; k++) {
			d->port_mappings[k].container_port = c->port_mappings[k].container_port;
			d->port_mappings[k].host_port = c->port_mappings[k].host_port;
			d->port_mappings[k].udp =
				c->port_mappings[k].protocol == SCENARIO_PROTO_UDP;
		}
	}
	/* Scenario numbers are 32-bit, so the sums cannot overflow 64 bits. */
	if (ecs_task_reservation_compute(&view, &res) == 0) {
		r.cpu_units = (uint32_t)res.cpu_units;
		r.memory_mib = (uint32_t)res.memory_mib;
		for (size_t k = 0; k < res.n_tcp_ports && r.ports_tcp_count < 16; k++)
			r.ports_tcp[r.ports_tcp_count++] = res.tcp_ports[k];
		for (size_t k = 0; k < res.n_udp_ports && r.ports_udp_count < 16; k++)
			r.ports_udp[r.ports_udp_count++] = res.udp_ports[k];
		ecs_task_reservation_finish(&res);
	}
	for (size_t i = 0; i < td->container_count; i++)
		free(containers[i].port_mappings);
	free(containers);
	*out = r;
}

/* Fault kind as scenario files spell it. */
const char *scenario_fault_kind_name(enum scenario_fault_kind kind)
{
	static const char *const names[] = {"throttling", "error500", "error503", "latency", "drop",
		"malformed", "partition", "instance_failure", "missing_resource", "lost_answer"};

	if ((size_t)kind >= sizeof(names) / sizeof(names[0]))
		return "unknown";
	return names[kind];
}

/* Launch type as ECS spells it. */
const char *scenario_launch_type_name(enum scenario_launch_type type)
{
	return type == SCENARIO_LAUNCH_FARGATE ? "FARGATE" : "EXTERNAL";
}
