/*
 * ECS over AWS JSON 1.1 as the emulator serves it: DescribeServices,
 * UpdateService (desired count), ListContainerInstances (status, cluster
 * query filter, pagination), DescribeContainerInstances and
 * DescribeTaskDefinition, answered from the world with AWS's limits, shapes
 * and errors.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/json_tree.h"
#include "emulate_priv.h"
#include "qscale/ecs_filter.h"
#include "qscale/world.h"
#include "qscale/xalloc.h"

/* Per-call limits of the API. */
#define MAX_SERVICES 10
#define MAX_INSTANCES 100
#define MAX_RESULTS 100

/* Fill call->err with a bare-named ECS error (HTTP 400); returns -1. */
static int ecs_fail(struct emulate_call *call, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static int ecs_fail(struct emulate_call *call, const char *code, const char *fmt, ...)
{
	char msg[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	emulate_error_set(&call->err, 400, code, NULL, "%s", msg);
	return -1;
}

/* Fill call->err from a world error. */
static int ecs_fail_world(struct emulate_call *call, enum world_ecs_error e)
{
	return ecs_fail(call, world_ecs_error_code(e), "%s", world_ecs_error_message(e));
}

/* The request's cluster (name or ARN), "default" when not given; -1 on a wrong type. */
static int request_cluster(struct emulate_call *call, const char **out)
{
	const char *cluster = "default";

	if (emulate_json_string(call->body, "cluster", &cluster) < 0)
		return emulate_fail_serialization(call, "cluster");
	*out = cluster;
	return 0;
}

/*
 * A required array of 1..max strings under key; -1 with call->err set
 * otherwise (an absent or empty list is InvalidParameterException).
 */
static int request_string_list(
	struct emulate_call *call, const char *key, size_t max, const char *what, yajl_val *out)
{
	yajl_val list = NULL;
	int r = emulate_json_array(call->body, key, &list);
	char msg[160];

	if (r < 0)
		return emulate_fail_serialization(call, key);
	if (r > 0 || list->u.array.len == 0)
		return ecs_fail(call, "InvalidParameterException", "%s cannot be empty.", what);
	for (size_t i = 0; i < list->u.array.len; i++) {
		if (!YAJL_IS_STRING(list->u.array.values[i]))
			return emulate_fail_serialization(call, key);
	}
	if (list->u.array.len > max) {
		snprintf(msg, sizeof(msg), "%s cannot have more than %zu items.", what, max);
		return ecs_fail(call, "InvalidParameterException", "%s", msg);
	}
	*out = list;
	return 0;
}

/* The last '/'-separated part of an ARN or a plain name. */
static const char *arn_last(const char *ref)
{
	const char *slash = strrchr(ref, '/');

	return slash != NULL && strncmp(ref, "arn:", 4) == 0 ? slash + 1 : ref;
}

/* Write one failures[] entry. */
static void gen_failure(yajl_gen gen, const char *arn, const char *reason)
{
	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "arn");
	emulate_gen_string(gen, arn);
	emulate_gen_key(gen, "reason");
	emulate_gen_string(gen, reason);
	yajl_gen_map_close(gen);
}

/* Write an empty array under key. */
static void gen_empty_array(yajl_gen gen, const char *key)
{
	emulate_gen_key(gen, key);
	yajl_gen_array_open(gen);
	yajl_gen_array_close(gen);
}

/* Write the Service object ECS returns. */
/* The fixed deploymentConfiguration ECS reports for a service created with defaults. */
static void gen_deployment_configuration(yajl_gen gen)
{
	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "deploymentCircuitBreaker");
	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "enable");
	yajl_gen_bool(gen, 0);
	emulate_gen_key(gen, "rollback");
	yajl_gen_bool(gen, 0);
	yajl_gen_map_close(gen);
	emulate_gen_key(gen, "maximumPercent");
	emulate_gen_int(gen, 200);
	emulate_gen_key(gen, "minimumHealthyPercent");
	emulate_gen_int(gen, 100);
	yajl_gen_map_close(gen);
}

/* The one PRIMARY deployment of s, rolled out when running matches desired. */
static void gen_deployments(yajl_gen gen, const struct world_service_info *s, const char *id)
{
	bool steady = s->running_count == s->desired_count && s->pending_count == 0;

	yajl_gen_array_open(gen);
	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "id");
	emulate_gen_string(gen, id);
	emulate_gen_key(gen, "status");
	emulate_gen_string(gen, "PRIMARY");
	emulate_gen_key(gen, "taskDefinition");
	emulate_gen_string(gen, s->task_definition_arn);
	emulate_gen_key(gen, "desiredCount");
	emulate_gen_int(gen, s->desired_count);
	emulate_gen_key(gen, "pendingCount");
	emulate_gen_int(gen, s->pending_count);
	emulate_gen_key(gen, "runningCount");
	emulate_gen_int(gen, s->running_count);
	emulate_gen_key(gen, "failedTasks");
	emulate_gen_int(gen, 0);
	emulate_gen_key(gen, "createdAt");
	emulate_gen_epoch_seconds(gen, s->created_at_wall_ms);
	emulate_gen_key(gen, "updatedAt");
	emulate_gen_epoch_seconds(gen, s->updated_at_wall_ms);
	emulate_gen_key(gen, "launchType");
	emulate_gen_string(gen, s->launch_type_name);
	emulate_gen_key(gen, "rolloutState");
	emulate_gen_string(gen, steady ? "COMPLETED" : "IN_PROGRESS");
	emulate_gen_key(gen, "rolloutStateReason");
	if (steady) {
		char reason[96];

		snprintf(reason, sizeof(reason), "ECS deployment %s completed.", id);
		emulate_gen_string(gen, reason);
	} else {
		emulate_gen_string(gen, "ECS deployment in progress.");
	}
	yajl_gen_map_close(gen);
	yajl_gen_array_close(gen);
}

static void gen_service(yajl_gen gen, const struct world_service_info *s)
{
	bool fargate = s->launch_type == SCENARIO_LAUNCH_FARGATE;
	char id[48];

	snprintf(id, sizeof(id), "ecs-svc/%019" PRIu64, (uint64_t)(s->index + 1) * 7919u);
	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "serviceArn");
	emulate_gen_string(gen, s->arn);
	emulate_gen_key(gen, "serviceName");
	emulate_gen_string(gen, s->name);
	emulate_gen_key(gen, "clusterArn");
	emulate_gen_string(gen, s->cluster_arn);
	gen_empty_array(gen, "loadBalancers");
	gen_empty_array(gen, "serviceRegistries");
	emulate_gen_key(gen, "status");
	emulate_gen_string(gen, s->status);
	emulate_gen_key(gen, "desiredCount");
	emulate_gen_int(gen, s->desired_count);
	emulate_gen_key(gen, "runningCount");
	emulate_gen_int(gen, s->running_count);
	emulate_gen_key(gen, "pendingCount");
	emulate_gen_int(gen, s->pending_count);
	emulate_gen_key(gen, "launchType");
	emulate_gen_string(gen, s->launch_type_name);
	if (fargate) {
		emulate_gen_key(gen, "platformVersion");
		emulate_gen_string(gen, "LATEST");
		emulate_gen_key(gen, "platformFamily");
		emulate_gen_string(gen, "Linux");
	}
	emulate_gen_key(gen, "taskDefinition");
	emulate_gen_string(gen, s->task_definition_arn);
	emulate_gen_key(gen, "deploymentConfiguration");
	gen_deployment_configuration(gen);
	emulate_gen_key(gen, "deployments");
	gen_deployments(gen, s, id);
	gen_empty_array(gen, "events");
	emulate_gen_key(gen, "createdAt");
	emulate_gen_epoch_seconds(gen, s->created_at_wall_ms);
	gen_empty_array(gen, "placementConstraints");
	gen_empty_array(gen, "placementStrategy");
	emulate_gen_key(gen, "schedulingStrategy");
	emulate_gen_string(gen, "REPLICA");
	emulate_gen_key(gen, "deploymentController");
	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "type");
	emulate_gen_string(gen, "ECS");
	yajl_gen_map_close(gen);
	emulate_gen_key(gen, "enableECSManagedTags");
	yajl_gen_bool(gen, 0);
	emulate_gen_key(gen, "propagateTags");
	emulate_gen_string(gen, "NONE");
	emulate_gen_key(gen, "enableExecuteCommand");
	yajl_gen_bool(gen, 0);
	yajl_gen_map_close(gen);
}

/* DescribeServices: up to 10 services of one cluster; missing ones as failures. */
static int describe_services(struct emulate_call *call, yajl_gen gen)
{
	const char *cluster = NULL;
	yajl_val names = NULL;
	struct world_cluster_info ci;
	enum world_ecs_error e;

	if (request_cluster(call, &cluster) < 0 ||
		request_string_list(call, "services", MAX_SERVICES, "Services", &names) < 0)
		return -1;
	if (json_tree_get(call->body, "include") != NULL &&
		!YAJL_IS_ARRAY(json_tree_get(call->body, "include")))
		return emulate_fail_serialization(call, "include");
	e = world_cluster_get(call->world, cluster, &ci);
	if (e != WORLD_ECS_OK)
		return ecs_fail_world(call, e);

	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "services");
	yajl_gen_array_open(gen);
	for (size_t i = 0; i < names->u.array.len; i++) {
		struct world_service_info s;

		if (world_service_get(call->world, ci.arn, names->u.array.values[i]->u.string,
			    &s) == WORLD_ECS_OK)
			gen_service(gen, &s);
	}
	yajl_gen_array_close(gen);
	emulate_gen_key(gen, "failures");
	yajl_gen_array_open(gen);
	for (size_t i = 0; i < names->u.array.len; i++) {
		const char *ref = names->u.array.values[i]->u.string;
		struct world_service_info s;

		if (world_service_get(call->world, ci.arn, ref, &s) == WORLD_ECS_OK)
			continue;
		if (strncmp(ref, "arn:", 4) == 0) {
			gen_failure(gen, ref, "MISSING");
		} else {
			const struct scenario *sc = world_scenario(call->world);
			char *arn = xasprintf("arn:aws:ecs:%s:%s:service/%s/%s", sc->region,
				sc->account_id, ci.name, ref);

			gen_failure(gen, arn, "MISSING");
			free(arn);
		}
	}
	yajl_gen_array_close(gen);
	yajl_gen_map_close(gen);
	return 0;
}

/* UpdateService: set desiredCount (other changes are accepted and ignored). */
static int update_service(struct emulate_call *call, yajl_gen gen)
{
	const char *cluster = NULL, *service = NULL;
	long long desired = 0;
	struct world_service_info before, after;
	enum world_ecs_error e;
	int r;

	if (request_cluster(call, &cluster) < 0)
		return -1;
	r = emulate_json_string(call->body, "service", &service);
	if (r < 0)
		return emulate_fail_serialization(call, "service");
	if (r > 0)
		return ecs_fail(call, "InvalidParameterException", "%s",
			"Service name or ARN must be specified.");
	r = emulate_json_int(call->body, "desiredCount", &desired);
	if (r < 0)
		return emulate_fail_serialization(call, "desiredCount");
	e = world_service_get(call->world, cluster, service, &before);
	if (e != WORLD_ECS_OK)
		return ecs_fail_world(call, e);
	if (r > 0) {
		after = before;
	} else {
		uint32_t from = before.desired_count;

		e = world_service_set_desired(call->world, cluster, service, desired, &after);
		if (e != WORLD_ECS_OK)
			return ecs_fail_world(call, e);
		call->reply->scaled = true;
		snprintf(call->reply->scaled_cluster, sizeof(call->reply->scaled_cluster), "%s",
			after.cluster_name);
		snprintf(call->reply->scaled_service, sizeof(call->reply->scaled_service), "%s",
			after.name);
		call->reply->scaled_from = from;
		call->reply->scaled_to = after.desired_count;
	}
	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "service");
	gen_service(gen, &after);
	yajl_gen_map_close(gen);
	return 0;
}

/* 64-bit FNV-1a over a string, continuing from h. */
static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; *s != '\0'; s++) {
		h ^= (unsigned char)*s;
		h *= 0x100000001b3ULL;
	}
	h ^= 0xff;
	h *= 0x100000001b3ULL;
	return h;
}

/* The check value a token carries: ties it to one query and one offset. */
static uint64_t token_check(
	const char *cluster_arn, const char *status, const char *filter, size_t offset)
{
	char off[32];
	uint64_t h = 0xcbf29ce484222325ULL;

	snprintf(off, sizeof(off), "%zu", offset);
	h = fnv1a(h, cluster_arn);
	h = fnv1a(h, status != NULL ? status : "");
	h = fnv1a(h, filter != NULL ? filter : "");
	return fnv1a(h, off);
}

/* Decode a nextToken into an offset; -EINVAL when it is not one we issued for this query. */
static int token_decode(const char *token, const char *cluster_arn, const char *status,
	const char *filter, size_t *offset)
{
	unsigned long long off = 0, check = 0;
	int used = 0;

	if (strlen(token) != 32 || sscanf(token, "%16llx%16llx%n", &off, &check, &used) != 2 ||
		used != 32)
		return -EINVAL;
	if (off > SIZE_MAX || check != token_check(cluster_arn, status, filter, (size_t)off))
		return -EINVAL;
	*offset = (size_t)off;
	return 0;
}

/* Whether status is one ListContainerInstances accepts. */
static bool status_valid(const char *status)
{
	static const char *const ok[] = {
		"ACTIVE", "DRAINING", "REGISTERING", "DEREGISTERING", "REGISTRATION_FAILED"};

	for (size_t i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		if (strcmp(status, ok[i]) == 0)
			return true;
	}
	return false;
}

/* Whether instance in matches the optional status and filter. */
static bool instance_matches(
	const struct world_instance_info *in, const char *status, const struct ecs_filter *filter)
{
	if (status != NULL && strcmp(status, world_instance_status_name(in->status)) != 0)
		return false;
	if (filter == NULL)
		return true;

	struct ecs_filter_attribute *attrs = xcalloc(in->attribute_count + 1, sizeof(*attrs));

	for (size_t i = 0; i < in->attribute_count; i++) {
		attrs[i].name = in->attributes[i].name;
		attrs[i].value = in->attributes[i].value;
	}
	struct ecs_filter_instance fi = {
		.attributes = attrs,
		.attribute_count = in->attribute_count,
		.agent_connected = in->agent_connected,
		.ec2_instance_id = in->ec2_instance_id,
	};
	bool match = ecs_filter_match(filter, &fi);

	free(attrs);
	return match;
}

/* Read ListContainerInstances' optional status, filter and maxResults; -1 on error. */
static int list_params(struct emulate_call *call, const char **status, const char **filter_text,
	long long *max_results, const char **token)
{
	if (emulate_json_string(call->body, "status", status) < 0)
		return emulate_fail_serialization(call, "status");
	if (*status != NULL && !status_valid(*status))
		return ecs_fail(call, "InvalidParameterException", "Invalid status value: %.100s.",
			*status);
	if (emulate_json_string(call->body, "filter", filter_text) < 0)
		return emulate_fail_serialization(call, "filter");
	if (emulate_json_string(call->body, "nextToken", token) < 0)
		return emulate_fail_serialization(call, "nextToken");
	if (emulate_json_int(call->body, "maxResults", max_results) < 0)
		return emulate_fail_serialization(call, "maxResults");
	if (*max_results < 1 || *max_results > MAX_RESULTS)
		return ecs_fail(call, "InvalidParameterException", "%s",
			"maxResults must be between 1 and 100.");
	return 0;
}

/* ListContainerInstances: ARNs of a cluster's instances, by status and filter, in pages. */
static int list_container_instances(struct emulate_call *call, yajl_gen gen)
{
	const char *cluster = NULL, *status = NULL, *filter_text = NULL, *token = NULL;
	long long max_results = MAX_RESULTS;
	struct ecs_filter *filter = NULL;
	struct ecs_filter_error ferr = {0};
	struct world_cluster_info ci;
	enum world_ecs_error e;
	size_t offset = 0, matched = 0, emitted = 0;
	bool more = false;

	if (request_cluster(call, &cluster) < 0 ||
		list_params(call, &status, &filter_text, &max_results, &token) < 0)
		return -1;
	e = world_cluster_get(call->world, cluster, &ci);
	if (e != WORLD_ECS_OK)
		return ecs_fail_world(call, e);
	if (token != NULL && token_decode(token, ci.arn, status, filter_text, &offset) < 0)
		return ecs_fail(call, "InvalidParameterException", "%s",
			"The specified nextToken is invalid.");
	if (filter_text != NULL && ecs_filter_parse(filter_text, &filter, &ferr) < 0) {
		char msg[256];

		snprintf(msg, sizeof(msg), "Invalid filter at column %u: %s", ferr.column,
			ferr.message);
		return ecs_fail(call, "InvalidParameterException", "%s", msg);
	}

	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "containerInstanceArns");
	yajl_gen_array_open(gen);
	for (size_t i = 0; i < ci.instance_count; i++) {
		struct world_instance_info in;

		if (world_instance_at(call->world, ci.index, i, &in) != WORLD_ECS_OK ||
			!instance_matches(&in, status, filter))
			continue;
		if (matched++ < offset)
			continue;
		if (emitted == (size_t)max_results) {
			more = true;
			break;
		}
		emulate_gen_string(gen, in.arn);
		emitted++;
	}
	yajl_gen_array_close(gen);
	if (more) {
		char next[40];
		size_t next_offset = offset + emitted;

		snprintf(next, sizeof(next), "%016llx%016llx", (unsigned long long)next_offset,
			(unsigned long long)token_check(ci.arn, status, filter_text, next_offset));
		emulate_gen_key(gen, "nextToken");
		emulate_gen_string(gen, next);
	}
	yajl_gen_map_close(gen);
	ecs_filter_destroy(filter);
	return 0;
}

/* Write one Resource entry with an integer value. */
static void gen_resource_int(yajl_gen gen, const char *name, uint32_t value)
{
	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "name");
	emulate_gen_string(gen, name);
	emulate_gen_key(gen, "type");
	emulate_gen_string(gen, "INTEGER");
	emulate_gen_key(gen, "doubleValue");
	yajl_gen_number(gen, "0.0", 3);
	emulate_gen_key(gen, "longValue");
	emulate_gen_int(gen, 0);
	emulate_gen_key(gen, "integerValue");
	emulate_gen_int(gen, value);
	yajl_gen_map_close(gen);
}

/* Write one Resource entry holding a set of ports. */
static void gen_resource_ports(yajl_gen gen, const char *name, const uint16_t *ports, size_t n)
{
	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "name");
	emulate_gen_string(gen, name);
	emulate_gen_key(gen, "type");
	emulate_gen_string(gen, "STRINGSET");
	emulate_gen_key(gen, "doubleValue");
	yajl_gen_number(gen, "0.0", 3);
	emulate_gen_key(gen, "longValue");
	emulate_gen_int(gen, 0);
	emulate_gen_key(gen, "integerValue");
	emulate_gen_int(gen, 0);
	emulate_gen_key(gen, "stringSetValue");
	yajl_gen_array_open(gen);
	for (size_t i = 0; i < n; i++) {
		char port[8];

		snprintf(port, sizeof(port), "%u", (unsigned)ports[i]);
		emulate_gen_string(gen, port);
	}
	yajl_gen_array_close(gen);
	yajl_gen_map_close(gen);
}

/* Write the ContainerInstance object ECS returns; a missing_resource fault leaves one out. */
static void gen_instance(
	yajl_gen gen, const struct world_instance_info *in, const struct scenario_fault *fault)
{
	bool drop_cpu = fault != NULL && fault->kind == SCENARIO_FAULT_MISSING_RESOURCE &&
		fault->resource == SCENARIO_RESOURCE_CPU &&
		scenario_fault_hits_instance(fault, in->ec2_instance_id);
	bool drop_memory = fault != NULL && fault->kind == SCENARIO_FAULT_MISSING_RESOURCE &&
		fault->resource == SCENARIO_RESOURCE_MEMORY &&
		scenario_fault_hits_instance(fault, in->ec2_instance_id);

	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "containerInstanceArn");
	emulate_gen_string(gen, in->arn);
	emulate_gen_key(gen, "ec2InstanceId");
	emulate_gen_string(gen, in->ec2_instance_id);
	emulate_gen_key(gen, "version");
	emulate_gen_int(gen, 1);
	emulate_gen_key(gen, "versionInfo");
	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "agentVersion");
	emulate_gen_string(gen, in->agent_version);
	emulate_gen_key(gen, "agentHash");
	emulate_gen_string(gen, "0000000");
	emulate_gen_key(gen, "dockerVersion");
	emulate_gen_string(gen, "DockerVersion: 20.10.24");
	yajl_gen_map_close(gen);

	emulate_gen_key(gen, "remainingResources");
	yajl_gen_array_open(gen);
	if (!drop_cpu)
		gen_resource_int(gen, "CPU", in->remaining_cpu_units);
	if (!drop_memory)
		gen_resource_int(gen, "MEMORY", in->remaining_memory_mib);
	gen_resource_ports(gen, "PORTS", in->remaining_ports_tcp, in->remaining_ports_tcp_count);
	gen_resource_ports(
		gen, "PORTS_UDP", in->remaining_ports_udp, in->remaining_ports_udp_count);
	yajl_gen_array_close(gen);
	emulate_gen_key(gen, "registeredResources");
	yajl_gen_array_open(gen);
	gen_resource_int(gen, "CPU", in->registered_cpu_units);
	gen_resource_int(gen, "MEMORY", in->registered_memory_mib);
	gen_resource_ports(gen, "PORTS", in->registered_ports_tcp, in->registered_ports_tcp_count);
	gen_resource_ports(
		gen, "PORTS_UDP", in->registered_ports_udp, in->registered_ports_udp_count);
	yajl_gen_array_close(gen);

	emulate_gen_key(gen, "status");
	emulate_gen_string(gen, world_instance_status_name(in->status));
	emulate_gen_key(gen, "agentConnected");
	yajl_gen_bool(gen, in->agent_connected);
	emulate_gen_key(gen, "runningTasksCount");
	emulate_gen_int(gen, in->running_tasks);
	emulate_gen_key(gen, "pendingTasksCount");
	emulate_gen_int(gen, in->pending_tasks);
	emulate_gen_key(gen, "attributes");
	yajl_gen_array_open(gen);
	for (size_t i = 0; i < in->attribute_count; i++) {
		yajl_gen_map_open(gen);
		emulate_gen_key(gen, "name");
		emulate_gen_string(gen, in->attributes[i].name);
		if (in->attributes[i].value != NULL) {
			emulate_gen_key(gen, "value");
			emulate_gen_string(gen, in->attributes[i].value);
		}
		yajl_gen_map_close(gen);
	}
	yajl_gen_array_close(gen);
	emulate_gen_key(gen, "registeredAt");
	emulate_gen_epoch_seconds(gen, in->registered_at_wall_ms);
	gen_empty_array(gen, "attachments");
	gen_empty_array(gen, "tags");
	yajl_gen_map_close(gen);
}

/* Whether an instance_failure fault moves this instance into failures[]. */
static bool failed_by_fault(
	const struct scenario_fault *fault, const struct world_instance_info *in)
{
	return fault != NULL && fault->kind == SCENARIO_FAULT_INSTANCE_FAILURE &&
		scenario_fault_hits_instance(fault, in->ec2_instance_id);
}

/* DescribeContainerInstances: up to 100 instances by ID or ARN; unknown ones as failures. */
static int describe_container_instances(struct emulate_call *call, yajl_gen gen)
{
	const char *cluster = NULL;
	yajl_val refs = NULL;
	struct world_cluster_info ci;
	enum world_ecs_error e;

	if (request_cluster(call, &cluster) < 0 ||
		request_string_list(call, "containerInstances", MAX_INSTANCES,
			"Container instances", &refs) < 0)
		return -1;
	e = world_cluster_get(call->world, cluster, &ci);
	if (e != WORLD_ECS_OK)
		return ecs_fail_world(call, e);

	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "containerInstances");
	yajl_gen_array_open(gen);
	for (size_t i = 0; i < refs->u.array.len; i++) {
		struct world_instance_info in;

		if (world_instance_get(call->world, ci.index, refs->u.array.values[i]->u.string,
			    &in) == WORLD_ECS_OK &&
			!failed_by_fault(call->fault, &in))
			gen_instance(gen, &in, call->fault);
	}
	yajl_gen_array_close(gen);
	emulate_gen_key(gen, "failures");
	yajl_gen_array_open(gen);
	for (size_t i = 0; i < refs->u.array.len; i++) {
		const char *ref = refs->u.array.values[i]->u.string;
		struct world_instance_info in;

		if (world_instance_get(call->world, ci.index, ref, &in) == WORLD_ECS_OK) {
			if (failed_by_fault(call->fault, &in))
				gen_failure(gen, in.arn, call->fault->reason);
			continue;
		}
		if (strncmp(ref, "arn:", 4) == 0) {
			gen_failure(gen, ref, "MISSING");
		} else {
			const struct scenario *sc = world_scenario(call->world);
			char *arn = xasprintf("arn:aws:ecs:%s:%s:container-instance/%s/%s",
				sc->region, sc->account_id, ci.name, arn_last(ref));

			gen_failure(gen, arn, "MISSING");
			free(arn);
		}
	}
	yajl_gen_array_close(gen);
	yajl_gen_map_close(gen);
	return 0;
}

/* Write a list of compatibility names from SCENARIO_COMPAT_* bits. */
static void gen_compat(yajl_gen gen, const char *key, unsigned bits)
{
	emulate_gen_key(gen, key);
	yajl_gen_array_open(gen);
	if (bits & SCENARIO_COMPAT_EC2)
		emulate_gen_string(gen, "EC2");
	if (bits & SCENARIO_COMPAT_EXTERNAL)
		emulate_gen_string(gen, "EXTERNAL");
	if (bits & SCENARIO_COMPAT_FARGATE)
		emulate_gen_string(gen, "FARGATE");
	yajl_gen_array_close(gen);
}

/* Write one container definition. */
static void gen_container(
	yajl_gen gen, const struct scenario_task_definition *td, const struct scenario_container *c)
{
	char image[300];

	snprintf(image, sizeof(image), "%.200s:latest", td->family);
	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "name");
	emulate_gen_string(gen, c->name);
	emulate_gen_key(gen, "image");
	emulate_gen_string(gen, image);
	emulate_gen_key(gen, "cpu");
	emulate_gen_int(gen, c->cpu_units);
	if (c->memory_mib > 0) {
		emulate_gen_key(gen, "memory");
		emulate_gen_int(gen, c->memory_mib);
	}
	if (c->memory_reservation_mib > 0) {
		emulate_gen_key(gen, "memoryReservation");
		emulate_gen_int(gen, c->memory_reservation_mib);
	}
	emulate_gen_key(gen, "portMappings");
	yajl_gen_array_open(gen);
	for (size_t i = 0; i < c->port_mapping_count; i++) {
		const struct scenario_port_mapping *pm = &c->port_mappings[i];

		yajl_gen_map_open(gen);
		emulate_gen_key(gen, "containerPort");
		emulate_gen_int(gen, pm->container_port);
		emulate_gen_key(gen, "hostPort");
		emulate_gen_int(gen, pm->host_port);
		emulate_gen_key(gen, "protocol");
		emulate_gen_string(gen, pm->protocol == SCENARIO_PROTO_UDP ? "udp" : "tcp");
		yajl_gen_map_close(gen);
	}
	yajl_gen_array_close(gen);
	emulate_gen_key(gen, "essential");
	yajl_gen_bool(gen, 1);
	gen_empty_array(gen, "environment");
	gen_empty_array(gen, "mountPoints");
	gen_empty_array(gen, "volumesFrom");
	yajl_gen_map_close(gen);
}

/* DescribeTaskDefinition: by family, family:revision or ARN. */
static int describe_task_definition(struct emulate_call *call, yajl_gen gen)
{
	const char *ref = NULL;
	const struct scenario_task_definition *td = NULL;
	unsigned compat;
	int r = emulate_json_string(call->body, "taskDefinition", &ref);

	if (r < 0)
		return emulate_fail_serialization(call, "taskDefinition");
	if (r > 0)
		return ecs_fail(call, "InvalidParameterException", "%s",
			"Task Definition can not be blank.");
	if (world_task_definition_get(call->world, ref, &td) != WORLD_ECS_OK)
		return ecs_fail(
			call, "ClientException", "%s", "Unable to describe task definition.");

	/* What the definition could run on, as ECS works it out at registration. */
	compat = SCENARIO_COMPAT_EC2 | SCENARIO_COMPAT_EXTERNAL;
	if (td->network_mode != NULL && strcmp(td->network_mode, "awsvpc") == 0 &&
		td->cpu != NULL && td->memory != NULL)
		compat |= SCENARIO_COMPAT_FARGATE;
	compat |= td->requires_compatibilities;

	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "taskDefinition");
	yajl_gen_map_open(gen);
	emulate_gen_key(gen, "taskDefinitionArn");
	emulate_gen_string(gen, td->arn);
	emulate_gen_key(gen, "containerDefinitions");
	yajl_gen_array_open(gen);
	for (size_t i = 0; i < td->container_count; i++)
		gen_container(gen, td, &td->containers[i]);
	yajl_gen_array_close(gen);
	emulate_gen_key(gen, "family");
	emulate_gen_string(gen, td->family);
	emulate_gen_key(gen, "networkMode");
	emulate_gen_string(gen, td->network_mode != NULL ? td->network_mode : "bridge");
	emulate_gen_key(gen, "revision");
	emulate_gen_int(gen, td->revision);
	gen_empty_array(gen, "volumes");
	emulate_gen_key(gen, "status");
	emulate_gen_string(gen, "ACTIVE");
	gen_empty_array(gen, "requiresAttributes");
	gen_empty_array(gen, "placementConstraints");
	gen_compat(gen, "compatibilities", compat);
	gen_compat(gen, "requiresCompatibilities", td->requires_compatibilities);
	if (td->cpu != NULL) {
		emulate_gen_key(gen, "cpu");
		emulate_gen_string(gen, td->cpu);
	}
	if (td->memory != NULL) {
		emulate_gen_key(gen, "memory");
		emulate_gen_string(gen, td->memory);
	}
	emulate_gen_key(gen, "registeredAt");
	emulate_gen_epoch_seconds(gen, world_start_wall_ms(call->world));
	yajl_gen_map_close(gen);
	gen_empty_array(gen, "tags");
	yajl_gen_map_close(gen);
	return 0;
}

emulate_op_cb emulate_ecs_operation(const char *operation)
{
	static const struct {
		const char *name;
		emulate_op_cb cb;
	} ops[] = {
		{"DescribeServices", describe_services},
		{"UpdateService", update_service},
		{"ListContainerInstances", list_container_instances},
		{"DescribeContainerInstances", describe_container_instances},
		{"DescribeTaskDefinition", describe_task_definition},
	};

	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(operation, ops[i].name) == 0)
			return ops[i].cb;
	}
	return NULL;
}
