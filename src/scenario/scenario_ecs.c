/*
 * The ECS and fault sections of a scenario file as schema tables, with the
 * checks of each item: task definitions (with what a task reserves on an
 * instance), services (resolved against clusters, task definitions and
 * queues), scheduled instance events and fault windows; plus the lookups by
 * name, family:revision or ARN.
 */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/ecs_task.h"
#include "qscale/xalloc.h"
#include "scenario_priv.h"

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

#define PM(member) offsetof(struct scenario_port_mapping, member)

static const struct schema_choice protocols[] = {
	{"tcp", SCENARIO_PROTO_TCP},
	{"udp", SCENARIO_PROTO_UDP},
	{NULL, 0},
};

static const struct schema_field port_mapping_fields[] = {
	{.key = "container_port",
		.type = SCHEMA_U16,
		.offset = PM(container_port),
		.min = 1,
		.max = 65535,
		.flags = SCHEMA_REQUIRED},
	{.key = "host_port",
		.type = SCHEMA_U16,
		.offset = PM(host_port),
		.max = 65535,
		.def_doc = "0: dynamic"},
	{.key = "protocol",
		.type = SCHEMA_ENUM,
		.offset = PM(protocol),
		.choices = protocols,
		.def = "tcp"},
	{0},
};

#define CT(member) offsetof(struct scenario_container, member)

static const struct schema_field container_fields[] = {
	{.key = "name", .type = SCHEMA_STRING, .offset = CT(name), .flags = SCHEMA_REQUIRED},
	{.key = "cpu", .type = SCHEMA_U32, .offset = CT(cpu_units), .max = 196608},
	{.key = "memory", .type = SCHEMA_U32, .offset = CT(memory_mib), .min = 4, .max = 1048576},
	{.key = "memory_reservation",
		.type = SCHEMA_U32,
		.offset = CT(memory_reservation_mib),
		.min = 4,
		.max = 1048576},
	{.key = "port_mappings",
		.type = SCHEMA_LIST,
		.offset = CT(port_mappings),
		.count_offset = CT(port_mapping_count),
		.sub = port_mapping_fields,
		.item_size = sizeof(struct scenario_port_mapping),
		.max = 16},
	{0},
};

/*
 * A container's memory: a soft limit below the hard one, and some limit
 * unless the task (w->base, whose other keys are read first) has one.
 */
static int check_container(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path)
{
	const struct scenario_task_definition *td = w->base;
	const struct scenario_container *c = item;

	if (c->memory_mib && c->memory_reservation_mib &&
		c->memory_reservation_mib >= c->memory_mib)
		return schema_fail(w, schema_map_value(node, "memory_reservation"),
			"memory_reservation must be below memory");
	if (td->memory == NULL && c->memory_mib == 0 && c->memory_reservation_mib == 0)
		return schema_fail(w, node,
			"without task-level memory every container needs memory or "
			"memory_reservation");
	return 0;
}

#define TD(member) offsetof(struct scenario_task_definition, member)

const struct schema_field scenario_task_definition_fields[] = {
	{.key = "family", .type = SCHEMA_STRING, .offset = TD(family), .flags = SCHEMA_REQUIRED},
	{.key = "revision",
		.type = SCHEMA_U32,
		.offset = TD(revision),
		.min = 1,
		.max = 1000000,
		.def = "1"},
	{.key = "cpu", .type = SCHEMA_CUSTOM, .custom = &scenario_task_cpu_type, .offset = TD(cpu)},
	{.key = "memory",
		.type = SCHEMA_CUSTOM,
		.custom = &scenario_task_memory_type,
		.offset = TD(memory)},
	{.key = "network_mode",
		.type = SCHEMA_CUSTOM,
		.custom = &scenario_network_mode_type,
		.offset = TD(network_mode),
		.def = "bridge"},
	{.key = "requires_compatibilities",
		.type = SCHEMA_CUSTOM,
		.custom = &scenario_compat_type,
		.offset = TD(requires_compatibilities),
		.def_doc = "[EXTERNAL]"},
	/* After cpu and memory, which the containers' check reads. */
	{.key = "containers",
		.type = SCHEMA_LIST,
		.flags = SCHEMA_REQUIRED | SCHEMA_LATER,
		.offset = TD(containers),
		.count_offset = TD(container_count),
		.sub = container_fields,
		.item_size = sizeof(struct scenario_container),
		.min = 1,
		.max = 10,
		.check = check_container},
	{0},
};

/* Check what a definition would reserve: host ports distinct, at most 16 each. */
static int check_reservation(
	struct schema_walk *w, const struct ynode *node, const struct scenario_task_definition *td)
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
					return schema_fail(w, node, "host port %u is mapped twice",
						pm->host_port);
			if (*n >= 16)
				return schema_fail(w, node, "at most 16 host ports per protocol");
			list[(*n)++] = pm->host_port;
		}
	}
	return 0;
}

/* A task definition as read: its family's rule, its ARN, what FARGATE needs, unique. */
int scenario_check_task_definition(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path)
{
	const struct scenario *sc = w->base;
	struct scenario_task_definition *td = item;

	if (strlen(td->family) > 255 || strchr(td->family, ':') || strchr(td->family, '/'))
		return schema_fail(w, schema_map_value(node, "family"),
			"families are at most 255 characters, no ':' or '/'");
	td->arn = xasprintf("arn:aws:ecs:%s:%s:task-definition/%s:%u", sc->region, sc->account_id,
		td->family, td->revision);
	if (schema_map_value(node, "requires_compatibilities") == NULL)
		td->requires_compatibilities = SCENARIO_COMPAT_EXTERNAL;
	if ((td->requires_compatibilities & SCENARIO_COMPAT_FARGATE) &&
		(td->cpu == NULL || td->memory == NULL))
		return schema_fail(w, node, "FARGATE needs task-level cpu and memory");
	if ((td->requires_compatibilities & SCENARIO_COMPAT_FARGATE) &&
		strcmp(td->network_mode, "awsvpc") != 0)
		return schema_fail(w, node, "FARGATE needs network_mode awsvpc");
	if (check_reservation(w, node, td) < 0)
		return -EINVAL;
	for (size_t k = 0; k + 1 < sc->task_definition_count; k++) {
		if (strcmp(sc->task_definitions[k].arn, td->arn) == 0)
			return schema_fail(
				w, node, "%s:%u is defined twice", td->family, td->revision);
	}
	return 0;
}

#define SV(member) offsetof(struct scenario_service, member)

static const struct schema_choice launch_types[] = {
	{"EXTERNAL", SCENARIO_LAUNCH_EXTERNAL},
	{"FARGATE", SCENARIO_LAUNCH_FARGATE},
	{NULL, 0},
};

static const struct schema_choice service_statuses[] = {
	{"ACTIVE", SCENARIO_SERVICE_ACTIVE},
	{"DRAINING", SCENARIO_SERVICE_DRAINING},
	{"INACTIVE", SCENARIO_SERVICE_INACTIVE},
	{NULL, 0},
};

const struct schema_field scenario_service_fields[] = {
	{.key = "name", .type = SCHEMA_STRING, .offset = SV(name), .flags = SCHEMA_REQUIRED},
	{.key = "cluster",
		.type = SCHEMA_CUSTOM,
		.custom = &scenario_cluster_ref_type,
		.offset = SV(cluster),
		.flags = SCHEMA_REQUIRED},
	{.key = "launch_type",
		.type = SCHEMA_ENUM,
		.offset = SV(launch_type),
		.choices = launch_types,
		.def = "EXTERNAL"},
	{.key = "task_definition",
		.type = SCHEMA_CUSTOM,
		.custom = &scenario_task_definition_ref_type,
		.offset = SV(task_definition),
		.flags = SCHEMA_REQUIRED},
	{.key = "desired", .type = SCHEMA_U32, .offset = SV(desired_count), .max = 100000},
	{.key = "queue",
		.type = SCHEMA_CUSTOM,
		.custom = &scenario_queue_ref_type,
		.offset = SV(queue)},
	{.key = "messages_per_task",
		.type = SCHEMA_CUSTOM,
		.custom = &scenario_rate_type,
		.offset = SV(messages_per_task_s)},
	{.key = "status",
		.type = SCHEMA_ENUM,
		.offset = SV(status),
		.choices = service_statuses,
		.def = "ACTIVE"},
	/* At most 1h, said by the service's check. */
	{.key = "processing_time",
		.type = SCHEMA_DURATION,
		.offset = SV(processing_time_ms),
		.max = INT64_MAX,
		.flags = SCHEMA_UNQUOTED,
		.def_doc = "1 / messages_per_task"},
	{0},
};

/*
 * processing_time: how long a task holds each message; by default one
 * message at a time at the service's rate (a zero rate holds none).
 */
static int check_processing_time(
	struct schema_walk *w, struct scenario_service *s, const struct ynode *v)
{
	if (v == NULL) {
		s->processing_time_ms = s->messages_per_task_s > 0
			? (uint64_t)llround(1000.0 / s->messages_per_task_s)
			: 0;
		return 0;
	}
	if (!s->has_queue)
		return schema_fail(w, v, "processing_time needs a queue");
	if (s->processing_time_ms > 3600000)
		return schema_fail(w, v, "processing_time is at most 1h");
	return 0;
}

/* A service as read: its name's rule, its ARN, its launch type, its queue's rate, unique. */
int scenario_check_service(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path)
{
	const struct scenario *sc = w->base;
	struct scenario_service *s = item;
	const struct ynode *td = schema_map_value(node, "task_definition");
	const struct ynode *rate = schema_map_value(node, "messages_per_task");
	unsigned need = s->launch_type == SCENARIO_LAUNCH_FARGATE ? SCENARIO_COMPAT_FARGATE
								  : SCENARIO_COMPAT_EXTERNAL;

	if (strlen(s->name) > 255 || strchr(s->name, '/') || strchr(s->name, ':'))
		return schema_fail(w, schema_map_value(node, "name"),
			"service names are at most 255 characters, no '/' or ':'");
	s->arn = xasprintf("arn:aws:ecs:%s:%s:service/%s/%s", sc->region, sc->account_id,
		sc->clusters[s->cluster].name, s->name);
	if (!(sc->task_definitions[s->task_definition].requires_compatibilities & need))
		return schema_fail(w, td, "task definition '%s' is not compatible with %s",
			td->value, scenario_launch_type_name(s->launch_type));
	s->has_queue = schema_map_value(node, "queue") != NULL;
	if (s->has_queue && rate == NULL)
		return schema_fail(w, node, "'%s' needs the key 'messages_per_task'", path);
	if (!s->has_queue && rate != NULL)
		return schema_fail(w, rate, "messages_per_task needs a queue");
	if (check_processing_time(w, s, schema_map_value(node, "processing_time")) < 0)
		return -EINVAL;
	if (s->status == SCENARIO_SERVICE_INACTIVE && s->desired_count > 0)
		return schema_fail(
			w, schema_map_value(node, "status"), "an INACTIVE service has desired 0");
	for (size_t k = 0; k + 1 < sc->service_count; k++) {
		if (strcmp(sc->services[k].arn, s->arn) == 0)
			return schema_fail(
				w, node, "service %s is listed twice in its cluster", s->name);
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

static const struct schema_choice targets[] = {
	{"any", SCENARIO_TARGET_ANY},
	{"sqs", SCENARIO_TARGET_SQS},
	{"ecs", SCENARIO_TARGET_ECS},
	{NULL, 0},
};

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

#define EV(member) offsetof(struct scenario_event_entry, member)

static const struct schema_choice event_kinds[] = {
	{"disconnect", SCENARIO_EVENT_DISCONNECT},
	{"reconnect", SCENARIO_EVENT_RECONNECT},
	{"drain", SCENARIO_EVENT_DRAIN},
	{"activate", SCENARIO_EVENT_ACTIVATE},
	{"partition", SCENARIO_EVENT_PARTITION},
	{NULL, 0},
};

const struct schema_field scenario_event_fields[] = {
	{.key = "at",
		.type = SCHEMA_DURATION,
		.offset = EV(at_ms),
		.max = INT64_MAX,
		.flags = SCHEMA_REQUIRED | SCHEMA_UNQUOTED},
	{.key = "kind",
		.type = SCHEMA_ENUM,
		.offset = EV(kind),
		.choices = event_kinds,
		.flags = SCHEMA_REQUIRED},
	{.key = "cluster",
		.type = SCHEMA_CUSTOM,
		.custom = &scenario_cluster_ref_type,
		.offset = EV(cluster)},
	{.key = "instance", .type = SCHEMA_STRING, .offset = EV(instance)},
	/* A partition's: a window of at least 1ms. */
	{.key = "duration",
		.type = SCHEMA_DURATION,
		.offset = EV(duration_ms),
		.min = 1,
		.max = INT64_MAX,
		.flags = SCHEMA_UNQUOTED},
	{.key = "target",
		.type = SCHEMA_ENUM,
		.offset = EV(target),
		.choices = targets,
		.def = "any"},
	{0},
};

/* A partition event: a fault window on every call, or on those of one service. */
static int take_partition(struct schema_walk *w, const struct scenario_event_entry *e,
	const struct ynode *node, const char *path)
{
	const struct ynode *cluster = schema_map_value(node, "cluster");
	const struct ynode *instance = schema_map_value(node, "instance");
	struct scenario_fault *f;

	if (cluster != NULL || instance != NULL)
		return schema_fail(w, cluster != NULL ? cluster : instance,
			"a partition cuts the network, not one instance");
	if (schema_map_value(node, "duration") == NULL)
		return schema_fail(w, node, "'%s' needs the key 'duration'", path);
	f = add_fault(scenario_loader_of(w)->sc);
	f->kind = SCENARIO_FAULT_PARTITION;
	f->start_ms = e->at_ms;
	f->end_ms = e->at_ms + e->duration_ms;
	f->probability = 1.0;
	f->target = (enum scenario_fault_target)e->target;
	return 0;
}

/* An event as read: partitions become faults, the others name an instance of a cluster. */
int scenario_take_event(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path)
{
	struct scenario *sc = scenario_loader_of(w)->sc;
	const struct scenario_event_entry *e = item;
	const struct ynode *v = schema_map_value(node, "instance");
	const struct ynode *duration = schema_map_value(node, "duration");
	const struct ynode *target = schema_map_value(node, "target");
	struct scenario_event ev = {.at_ms = e->at_ms, .cluster = e->cluster};
	int idx;

	if (e->kind == SCENARIO_EVENT_PARTITION)
		return take_partition(w, e, node, path);
	if (duration != NULL || target != NULL)
		return schema_fail(w, duration != NULL ? duration : target,
			"only a partition takes %s", duration != NULL ? "a duration" : "a target");
	if (schema_map_value(node, "cluster") == NULL)
		return schema_fail(w, node, "'%s' needs the key 'cluster'", path);
	if (v == NULL)
		return schema_fail(w, node, "'%s' needs the key 'instance'", path);
	if ((idx = find_instance(&sc->clusters[ev.cluster], e->instance)) < 0)
		return schema_fail(w, v, "cluster %s has no instance '%s' (index or id)",
			sc->clusters[ev.cluster].name, e->instance);
	ev.instance = (size_t)idx;
	ev.kind = (enum scenario_event_kind)e->kind;
	sc->events = xreallocarray(sc->events, sc->event_count + 1, sizeof(*sc->events));
	sc->events[sc->event_count++] = ev;
	return 0;
}

#define FT(member) offsetof(struct scenario_fault, member)

static const struct schema_choice fault_kinds[] = {
	{"throttling", SCENARIO_FAULT_THROTTLING},
	{"error500", SCENARIO_FAULT_ERROR500},
	{"error503", SCENARIO_FAULT_ERROR503},
	{"latency", SCENARIO_FAULT_LATENCY},
	{"drop", SCENARIO_FAULT_DROP},
	{"malformed", SCENARIO_FAULT_MALFORMED},
	{"partition", SCENARIO_FAULT_PARTITION},
	{"instance_failure", SCENARIO_FAULT_INSTANCE_FAILURE},
	{"missing_resource", SCENARIO_FAULT_MISSING_RESOURCE},
	{"lost_answer", SCENARIO_FAULT_LOST_ANSWER},
	{NULL, 0},
};

static const struct schema_choice resources[] = {
	{"MEMORY", SCENARIO_RESOURCE_MEMORY},
	{"CPU", SCENARIO_RESOURCE_CPU},
	{NULL, 0},
};

const struct schema_field scenario_fault_fields[] = {
	{.key = "kind",
		.type = SCHEMA_ENUM,
		.offset = FT(kind),
		.choices = fault_kinds,
		.flags = SCHEMA_REQUIRED},
	{.key = "start",
		.type = SCHEMA_DURATION,
		.offset = FT(start_ms),
		.max = INT64_MAX,
		.flags = SCHEMA_UNQUOTED},
	{.key = "end",
		.type = SCHEMA_DURATION,
		.offset = FT(end_ms),
		.max = INT64_MAX,
		.flags = SCHEMA_REQUIRED | SCHEMA_UNQUOTED},
	{.key = "probability",
		.type = SCHEMA_DOUBLE,
		.offset = FT(probability),
		.min = 0,
		.max = 1,
		.flags = SCHEMA_MAX_INCLUSIVE,
		.def = "1"},
	{.key = "every", .type = SCHEMA_U32, .offset = FT(every_nth), .min = 1, .max = 1000000},
	{.key = "service",
		.type = SCHEMA_ENUM,
		.offset = FT(target),
		.choices = targets,
		.def = "any"},
	{.key = "operation", .type = SCHEMA_STRING, .offset = FT(operation)},
	/* A latency fault's: above 0s and at most 10m. */
	{.key = "latency",
		.type = SCHEMA_DURATION,
		.offset = FT(latency_ms),
		.min = 1,
		.max = 600000,
		.flags = SCHEMA_UNQUOTED},
	/* The instance faults': each only where its kind reads it (see take_instance_fault). */
	{.key = "instance",
		.type = SCHEMA_STRING,
		.offset = FT(instance),
		.def_doc = "every instance"},
	{.key = "reason", .type = SCHEMA_STRING, .offset = FT(reason), .def_doc = "MISSING"},
	{.key = "resource",
		.type = SCHEMA_ENUM,
		.offset = FT(resource),
		.choices = resources,
		.def = "MEMORY"},
	{0},
};

/*
 * The keys of the instance faults (instance, reason, resource): each only
 * where its kind reads it, so a misplaced key is not silently ignored.
 */
static int check_instance_fault(
	struct schema_walk *w, struct scenario_fault *f, const struct ynode *node)
{
	const struct ynode *instance = schema_map_value(node, "instance");
	const struct ynode *reason = schema_map_value(node, "reason");
	const struct ynode *resource = schema_map_value(node, "resource");
	bool on_instance = f->kind == SCENARIO_FAULT_INSTANCE_FAILURE ||
		f->kind == SCENARIO_FAULT_MISSING_RESOURCE;

	if (instance != NULL && !on_instance)
		return schema_fail(w, instance, "only an instance fault takes an instance");
	if (reason != NULL && f->kind != SCENARIO_FAULT_INSTANCE_FAILURE)
		return schema_fail(w, reason, "only an instance_failure fault takes a reason");
	if (resource != NULL && f->kind != SCENARIO_FAULT_MISSING_RESOURCE)
		return schema_fail(w, resource, "only a missing_resource fault takes a resource");
	if (f->kind == SCENARIO_FAULT_INSTANCE_FAILURE && f->reason == NULL)
		f->reason = xstrdup("MISSING");
	return 0;
}

bool scenario_fault_hits_instance(const struct scenario_fault *fault, const char *ec2_instance_id)
{
	return fault->instance == NULL ||
		(ec2_instance_id != NULL && strcmp(fault->instance, ec2_instance_id) == 0);
}

/* A fault as read: a window that ends after it starts, one way to pick calls, its kind's keys. */
int scenario_take_fault(
	struct schema_walk *w, void *item, const struct ynode *node, const char *path)
{
	struct scenario_fault *f = item;
	const struct ynode *probability = schema_map_value(node, "probability");
	const struct ynode *every = schema_map_value(node, "every");
	const struct ynode *latency = schema_map_value(node, "latency");

	if (f->end_ms <= f->start_ms)
		return schema_fail(w, schema_map_value(node, "end"), "end must come after start");
	if (probability != NULL && every != NULL)
		return schema_fail(w, every, "give probability or every, not both");
	if (probability != NULL && f->probability <= 0.0)
		return schema_fail(w, probability, "probability must be above 0");
	if (f->kind == SCENARIO_FAULT_LATENCY && latency == NULL)
		return schema_fail(w, node, "'%s' needs the key 'latency'", path);
	if (f->kind != SCENARIO_FAULT_LATENCY && latency != NULL)
		return schema_fail(w, latency, "only a latency fault takes a latency");
	if (check_instance_fault(w, f, node) < 0)
		return -EINVAL;
	/* The scratch entry is freed after this: the copy takes its strings. */
	*add_fault(scenario_loader_of(w)->sc) = *f;
	f->operation = NULL;
	f->instance = NULL;
	f->reason = NULL;
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
