/*
 * ECS container instances: ListContainerInstances pages and
 * DescribeContainerInstances answers, read strictly into owned structs. The
 * resources CPU and MEMORY are read from the value field matching their type;
 * PORTS and PORTS_UDP are string sets of port numbers.
 */
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/xalloc.h"
#include "ecs_priv.h"

#define RESOURCE_MAX ((int64_t)1 << 40)
#define PORTS_MAX ECS_ARRAY_MAX
#define TOKEN_MAX 4096

/* See ecs.h. */
void ecs_arn_list_finish(struct ecs_arn_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n_arns; i++)
		free(l->arns[i]);
	free(l->arns);
	memset(l, 0, sizeof(*l));
}

/* See ecs.h. */
int ecs_list_container_instances_request(const char *cluster, const char *filter,
	const char *status, const char *next_token, char **out_body, size_t *out_len)
{
	yajl_gen g = aws_json_gen_create();
	int r = ecs_gen_open(g, cluster);

	if (r == 0 && filter != NULL)
		r = aws_json_gen_kv_str(g, "filter", filter);
	if (r == 0 && status != NULL)
		r = aws_json_gen_kv_str(g, "status", status);
	if (r == 0)
		r = aws_json_gen_kv_int(g, "maxResults", ECS_LIST_PAGE_MAX);
	if (r == 0 && next_token != NULL)
		r = aws_json_gen_kv_str(g, "nextToken", next_token);
	return ecs_gen_close(g, r, out_body, out_len);
}

/* See ecs.h. */
int ecs_list_container_instances_parse(const char *body, size_t len, struct ecs_arn_list *out,
	char **next_token, struct aws_error *diag)
{
	yajl_val tree;
	yajl_val arns;
	const char *token;
	int r = aws_json_parse(body, len, &tree, diag);

	if (r < 0)
		return r;
	if ((r = aws_json_array(tree, "containerInstanceArns", false, ECS_ARRAY_MAX, &arns, diag)) <
			0 ||
		(r = aws_json_string(tree, "nextToken", false, &token, diag)) < 0)
		goto out;
	if (token != NULL && strlen(token) > TOKEN_MAX) {
		r = aws_json_fail(diag, "nextToken longer than %d bytes", TOKEN_MAX);
		goto out;
	}
	size_t n = aws_json_len(arns);

	for (size_t i = 0; i < n; i++) {
		yajl_val v = aws_json_item(arns, i);

		if (!YAJL_IS_STRING(v) || v->u.string[0] == '\0') {
			r = aws_json_fail(
				diag, "containerInstanceArns[%zu] is not a non-empty string", i);
			goto out;
		}
	}
	out->arns = xreallocarray(out->arns, out->n_arns + n, sizeof(*out->arns));
	for (size_t i = 0; i < n; i++)
		out->arns[out->n_arns++] = xstrdup(aws_json_item(arns, i)->u.string);
	/* An empty token ends the listing as an absent one does. */
	*next_token = token != NULL && token[0] != '\0' ? xstrdup(token) : NULL;
out:
	json_tree_free(tree);
	return r;
}

/* Free what one instance holds. */
static void instance_finish(struct ecs_container_instance *ci)
{
	free(ci->arn);
	free(ci->ec2_instance_id);
	free(ci->capacity_provider_name);
	free(ci->status);
	free(ci->reserved_tcp_ports);
	free(ci->reserved_udp_ports);
	free(ci->taken_tcp_ports);
	free(ci->taken_udp_ports);
	for (size_t i = 0; i < ci->n_attributes; i++) {
		free(ci->attributes[i].name);
		free(ci->attributes[i].value);
	}
	free(ci->attributes);
	memset(ci, 0, sizeof(*ci));
}

/* See ecs.h. */
void ecs_instance_set_finish(struct ecs_instance_set *s)
{
	if (s == NULL)
		return;
	for (size_t i = 0; i < s->n_instances; i++)
		instance_finish(&s->instances[i]);
	free(s->instances);
	for (size_t i = 0; i < s->n_failures; i++)
		ecs_failure_finish(&s->failures[i]);
	free(s->failures);
	memset(s, 0, sizeof(*s));
}

/* See ecs.h. */
const char *ecs_container_instance_attribute(
	const struct ecs_container_instance *inst, const char *name, bool *present)
{
	for (size_t i = 0; i < inst->n_attributes; i++) {
		if (strcmp(inst->attributes[i].name, name) == 0) {
			if (present != NULL)
				*present = true;
			return inst->attributes[i].value;
		}
	}
	if (present != NULL)
		*present = false;
	return NULL;
}

/* See ecs.h. */
int ecs_describe_container_instances_request(
	const char *cluster, const char *const *arns, size_t n, char **out_body, size_t *out_len)
{
	if (arns == NULL || n == 0 || n > ECS_DESCRIBE_INSTANCES_MAX)
		return -EINVAL;
	yajl_gen g = aws_json_gen_create();
	int r = ecs_gen_open(g, cluster);

	if (r == 0)
		r = ecs_gen_str_array(g, "containerInstances", arns, n);
	return ecs_gen_close(g, r, out_body, out_len);
}

/* The numeric value of a CPU or MEMORY resource, from the field its type names. */
static int resource_number(
	yajl_val res, const char *name, const char *type, int64_t *out, struct aws_error *diag)
{
	if (strcmp(type, "INTEGER") == 0)
		return aws_json_int(res, "integerValue", true, 0, RESOURCE_MAX, out, NULL, diag);
	if (strcmp(type, "LONG") == 0)
		return aws_json_int(res, "longValue", true, 0, RESOURCE_MAX, out, NULL, diag);
	if (strcmp(type, "DOUBLE") == 0) {
		yajl_val v = json_tree_get(res, "doubleValue");

		if (v == NULL || !YAJL_IS_NUMBER(v) || !YAJL_IS_DOUBLE(v) ||
			!isfinite(v->u.number.d) || v->u.number.d < 0 ||
			v->u.number.d > (double)RESOURCE_MAX)
			return aws_json_fail(diag, "resource %s has no usable doubleValue", name);
		*out = (int64_t)v->u.number.d;
		return 0;
	}
	return aws_json_fail(diag, "resource %s has type \"%.40s\", not a number type", name, type);
}

/* The ports of a PORTS or PORTS_UDP resource, in fresh memory. */
static int resource_ports(yajl_val res, const char *name, const char *type, uint16_t **out,
	size_t *n_out, struct aws_error *diag)
{
	yajl_val set;
	int r;

	if (strcmp(type, "STRINGSET") != 0)
		return aws_json_fail(
			diag, "resource %s has type \"%.40s\", not STRINGSET", name, type);
	if ((r = aws_json_array(res, "stringSetValue", false, PORTS_MAX, &set, diag)) < 0)
		return r;
	size_t n = aws_json_len(set);
	uint16_t *ports = xcalloc(n + 1, sizeof(*ports));

	for (size_t i = 0; i < n; i++) {
		yajl_val v = aws_json_item(set, i);
		int64_t port;

		if (!YAJL_IS_STRING(v) || aws_json_decimal(v->u.string, 0, UINT16_MAX, &port) < 0) {
			free(ports);
			return aws_json_fail(
				diag, "resource %s holds an entry that is no port", name);
		}
		ports[i] = (uint16_t)port;
	}
	*out = ports;
	*n_out = n;
	return 0;
}

/* Where one resource list stores its values. */
struct resource_slots {
	int64_t *cpu_units;
	int64_t *memory_mib;
	uint16_t **tcp;
	size_t *n_tcp;
	uint16_t **udp;
	size_t *n_udp;
};

/* Read registeredResources or remainingResources (key) of inst into slots. */
static int parse_resources(
	yajl_val inst, const char *key, struct resource_slots *s, struct aws_error *diag)
{
	yajl_val list;
	int r = aws_json_array(inst, key, false, ECS_ARRAY_MAX, &list, diag);

	for (size_t i = 0; r == 0 && i < aws_json_len(list); i++) {
		yajl_val res = aws_json_item(list, i);
		const char *name;
		const char *type;

		if (!YAJL_IS_OBJECT(res))
			return aws_json_fail(diag, "%s[%zu] is not an object", key, i);
		if ((r = aws_json_string(res, "name", true, &name, diag)) < 0 ||
			(r = aws_json_string(res, "type", true, &type, diag)) < 0)
			return r;
		int64_t *num = NULL;
		uint16_t **ports = NULL;
		size_t *n_ports = NULL;

		if (strcmp(name, "CPU") == 0)
			num = s->cpu_units;
		else if (strcmp(name, "MEMORY") == 0)
			num = s->memory_mib;
		else if (strcmp(name, "PORTS") == 0)
			ports = s->tcp, n_ports = s->n_tcp;
		else if (strcmp(name, "PORTS_UDP") == 0)
			ports = s->udp, n_ports = s->n_udp;
		else
			continue; /* GPU and friends: not used for placement here */
		if ((num != NULL && *num >= 0) || (ports != NULL && *ports != NULL))
			return aws_json_fail(diag, "%s lists %s twice", key, name);
		if (num != NULL)
			r = resource_number(res, name, type, num, diag);
		else
			r = resource_ports(res, name, type, ports, n_ports, diag);
	}
	return r;
}

/* Read the attributes of inst into ci. */
static int parse_attributes(
	yajl_val inst, struct ecs_container_instance *ci, struct aws_error *diag)
{
	yajl_val list;
	int r = aws_json_array(inst, "attributes", false, ECS_ARRAY_MAX, &list, diag);

	if (r < 0)
		return r;
	size_t n = aws_json_len(list);

	ci->attributes = xcalloc(n + 1, sizeof(*ci->attributes));
	for (size_t i = 0; i < n; i++) {
		yajl_val a = aws_json_item(list, i);
		const char *name;
		const char *value;

		if (!YAJL_IS_OBJECT(a))
			return aws_json_fail(diag, "attributes[%zu] is not an object", i);
		if ((r = aws_json_string(a, "name", true, &name, diag)) < 0 ||
			(r = aws_json_string(a, "value", false, &value, diag)) < 0)
			return r;
		ci->attributes[i].name = xstrdup(name);
		ci->attributes[i].value = ecs_strdup_opt(value);
		ci->n_attributes++;
	}
	return 0;
}

/* Parse one ContainerInstance into a zeroed ci; the caller frees ci either way. */
static int parse_instance(yajl_val v, struct ecs_container_instance *ci, struct aws_error *diag)
{
	const char *arn;
	const char *ec2_id;
	const char *cp_name;
	const char *status;
	int r;

	ci->registered_cpu_units = ci->registered_memory_mib = -1;
	ci->remaining_cpu_units = ci->remaining_memory_mib = -1;
	if (!YAJL_IS_OBJECT(v))
		return aws_json_fail(diag, "a container instance is not an object");
	if ((r = aws_json_string(v, "containerInstanceArn", true, &arn, diag)) < 0 ||
		(r = aws_json_string(v, "ec2InstanceId", false, &ec2_id, diag)) < 0 ||
		(r = aws_json_string(v, "capacityProviderName", false, &cp_name, diag)) < 0 ||
		(r = aws_json_string(v, "status", true, &status, diag)) < 0 ||
		(r = aws_json_bool(v, "agentConnected", false, &ci->agent_connected, NULL, diag)) <
			0 ||
		(r = aws_json_int(v, "runningTasksCount", false, 0, INT32_MAX, &ci->running_tasks,
			 NULL, diag)) < 0 ||
		(r = aws_json_int(v, "pendingTasksCount", false, 0, INT32_MAX, &ci->pending_tasks,
			 NULL, diag)) < 0)
		return r;
	ci->arn = xstrdup(arn);
	ci->ec2_instance_id = ecs_strdup_opt(ec2_id);
	ci->capacity_provider_name = ecs_strdup_opt(cp_name);
	ci->status = xstrdup(status);

	struct resource_slots reg = {&ci->registered_cpu_units, &ci->registered_memory_mib,
		&ci->reserved_tcp_ports, &ci->n_reserved_tcp_ports, &ci->reserved_udp_ports,
		&ci->n_reserved_udp_ports};
	struct resource_slots rem = {&ci->remaining_cpu_units, &ci->remaining_memory_mib,
		&ci->taken_tcp_ports, &ci->n_taken_tcp_ports, &ci->taken_udp_ports,
		&ci->n_taken_udp_ports};

	if ((r = parse_resources(v, "registeredResources", &reg, diag)) < 0 ||
		(r = parse_resources(v, "remainingResources", &rem, diag)) < 0)
		return r;
	return parse_attributes(v, ci, diag);
}

/* What parse_resources reads of each resource. */
static const struct json_keep_member resource_members[] = {
	{"name", NULL},
	{"type", NULL},
	{"integerValue", NULL},
	{"longValue", NULL},
	{"doubleValue", NULL},
	{"stringSetValue", NULL},
	{NULL, NULL},
};
static const struct json_keep resource_keep = {.members = resource_members};
static const struct json_keep resources_keep = {.items = &resource_keep};
/* What parse_attributes reads of each attribute. */
static const struct json_keep_member attribute_members[] = {
	{"name", NULL},
	{"value", NULL},
	{NULL, NULL},
};
static const struct json_keep attribute_keep = {.members = attribute_members};
static const struct json_keep attributes_keep = {.items = &attribute_keep};
/* What parse_instance reads of each container instance. */
static const struct json_keep_member instance_members[] = {
	{"containerInstanceArn", NULL},
	{"ec2InstanceId", NULL},
	{"capacityProviderName", NULL},
	{"status", NULL},
	{"agentConnected", NULL},
	{"runningTasksCount", NULL},
	{"pendingTasksCount", NULL},
	{"registeredResources", &resources_keep},
	{"remainingResources", &resources_keep},
	{"attributes", &attributes_keep},
	{NULL, NULL},
};
static const struct json_keep instance_keep = {.members = instance_members};
static const struct json_keep instances_keep = {.items = &instance_keep};
/* The answer without versionInfo, agentUpdateStatus, attachments and the rest. */
static const struct json_keep_member describe_members[] = {
	{"__type", NULL},
	{"containerInstances", &instances_keep},
	{"failures", &ecs_failures_keep},
	{NULL, NULL},
};
static const struct json_keep describe_keep = {.members = describe_members};

/* See ecs.h. */
int ecs_describe_container_instances_parse(
	const char *body, size_t len, struct ecs_instance_set *out, struct aws_error *diag)
{
	yajl_val tree;
	yajl_val insts;
	yajl_val failures;
	int r = aws_json_parse_keep(body, len, &describe_keep, &tree, diag);

	if (r < 0)
		return r;
	if ((r = aws_json_array(tree, "containerInstances", false, ECS_ARRAY_MAX, &insts, diag)) <
			0 ||
		(r = aws_json_array(tree, "failures", false, ECS_ARRAY_MAX, &failures, diag)) < 0) {
		json_tree_free(tree);
		return r;
	}
	struct ecs_instance_set got = {0};
	size_t n_i = aws_json_len(insts);
	size_t n_f = aws_json_len(failures);

	got.instances = xcalloc(n_i + 1, sizeof(*got.instances));
	got.failures = xcalloc(n_f + 1, sizeof(*got.failures));
	for (size_t i = 0; r == 0 && i < n_i; i++) {
		got.n_instances++; /* counted first so that finish frees a half-read one */
		r = parse_instance(aws_json_item(insts, i), &got.instances[i], diag);
	}
	for (size_t i = 0; r == 0 && i < n_f; i++) {
		r = ecs_failure_parse(aws_json_item(failures, i), &got.failures[i], diag);
		if (r == 0)
			got.n_failures++;
	}
	json_tree_free(tree);
	if (r < 0) {
		ecs_instance_set_finish(&got);
		return r;
	}
	out->instances = xreallocarray(
		out->instances, out->n_instances + got.n_instances, sizeof(*out->instances));
	memcpy(out->instances + out->n_instances, got.instances,
		got.n_instances * sizeof(*got.instances));
	out->n_instances += got.n_instances;
	out->failures = xreallocarray(
		out->failures, out->n_failures + got.n_failures, sizeof(*out->failures));
	memcpy(out->failures + out->n_failures, got.failures,
		got.n_failures * sizeof(*got.failures));
	out->n_failures += got.n_failures;
	free(got.instances);
	free(got.failures);
	return 0;
}
