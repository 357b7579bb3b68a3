/*
 * ECS task definitions on the wire: the DescribeTaskDefinition body and the
 * strict parser of the fields that decide what a task reserves (ecs_task.h;
 * the reservation rule itself is src/ecs/ecs_task.c).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/xalloc.h"
#include "ecs_priv.h"

#define CONTAINERS_MAX 100
#define MAPPINGS_MAX 10000

/* See ecs.h. */
int ecs_describe_task_definition_request(
	const char *task_definition, char **out_body, size_t *out_len)
{
	if (task_definition == NULL || task_definition[0] == '\0')
		return -EINVAL;
	yajl_gen g = aws_json_gen_create();
	int r = ecs_gen_open(g, NULL);

	if (r == 0)
		r = aws_json_gen_kv_str(g, "taskDefinition", task_definition);
	return ecs_gen_close(g, r, out_body, out_len);
}

/* The task-level cpu or memory: a decimal string, as ECS sends it; 0 when absent. */
static int task_units(yajl_val td, const char *key, int64_t *out, struct aws_error *diag)
{
	const char *text;
	int r = aws_json_string(td, key, false, &text, diag);

	if (r < 0)
		return r;
	*out = 0;
	if (text != NULL && aws_json_decimal(text, 0, ECS_TASK_UNITS_MAX, out) < 0)
		return aws_json_fail(
			diag, "task %s \"%.40s\" is not a non-negative decimal string", key, text);
	return 0;
}

/* Parse portMappings of container object c into cd. */
static int parse_mappings(yajl_val c, struct ecs_container_def *cd, struct aws_error *diag)
{
	yajl_val list;
	int r = aws_json_array(c, "portMappings", false, MAPPINGS_MAX, &list, diag);

	if (r < 0)
		return r;
	size_t n = aws_json_len(list);

	cd->port_mappings = xcalloc(n + 1, sizeof(*cd->port_mappings));
	for (size_t i = 0; i < n; i++) {
		yajl_val m = aws_json_item(list, i);
		struct ecs_port_mapping pm = {.container_port = -1};
		const char *proto;

		if (!YAJL_IS_OBJECT(m))
			return aws_json_fail(diag, "portMappings[%zu] is not an object", i);
		if ((r = aws_json_int(m, "containerPort", false, 0, UINT16_MAX, &pm.container_port,
			     NULL, diag)) < 0 ||
			(r = aws_json_int(m, "hostPort", false, 0, UINT16_MAX, &pm.host_port, NULL,
				 diag)) < 0 ||
			(r = aws_json_string(m, "protocol", false, &proto, diag)) < 0)
			return r;
		if (proto != NULL && strcmp(proto, "udp") == 0)
			pm.udp = true;
		else if (proto != NULL && strcmp(proto, "tcp") != 0)
			return aws_json_fail(
				diag, "portMappings[%zu] has protocol \"%.20s\"", i, proto);
		cd->port_mappings[cd->n_port_mappings++] = pm;
	}
	return 0;
}

/* Parse one containerDefinitions item into a zeroed cd (freed by the caller either way). */
static int parse_container(yajl_val c, struct ecs_container_def *cd, struct aws_error *diag)
{
	const char *name;
	int r;

	if (!YAJL_IS_OBJECT(c))
		return aws_json_fail(diag, "a container definition is not an object");
	if ((r = aws_json_string(c, "name", false, &name, diag)) < 0 ||
		(r = aws_json_int(
			 c, "cpu", false, 0, ECS_TASK_UNITS_MAX, &cd->cpu_units, NULL, diag)) < 0 ||
		(r = aws_json_int(c, "memory", false, 0, ECS_TASK_UNITS_MAX, &cd->memory_mib, NULL,
			 diag)) < 0 ||
		(r = aws_json_int(c, "memoryReservation", false, 0, ECS_TASK_UNITS_MAX,
			 &cd->memory_reservation_mib, NULL, diag)) < 0)
		return r;
	cd->name = xstrdup(name != NULL ? name : "");
	return parse_mappings(c, cd, diag);
}

/* See ecs.h. */
int ecs_describe_task_definition_parse(
	const char *body, size_t len, struct ecs_task_definition *out, struct aws_error *diag)
{
	yajl_val tree;
	yajl_val v;
	yajl_val containers;
	const char *arn;
	const char *family;
	const char *mode;
	int r = aws_json_parse(body, len, &tree, diag);

	if (r < 0)
		return r;
	struct ecs_task_definition td = {0};

	if ((r = aws_json_object(tree, "taskDefinition", true, &v, diag)) < 0 ||
		(r = aws_json_string(v, "taskDefinitionArn", true, &arn, diag)) < 0 ||
		(r = aws_json_string(v, "family", false, &family, diag)) < 0 ||
		(r = aws_json_int(v, "revision", false, 0, INT32_MAX, &td.revision, NULL, diag)) <
			0 ||
		(r = aws_json_string(v, "networkMode", false, &mode, diag)) < 0 ||
		(r = task_units(v, "cpu", &td.cpu_units, diag)) < 0 ||
		(r = task_units(v, "memory", &td.memory_mib, diag)) < 0 ||
		(r = aws_json_array(
			 v, "containerDefinitions", true, CONTAINERS_MAX, &containers, diag)) < 0)
		goto out;
	td.arn = xstrdup(arn);
	td.family = ecs_strdup_opt(family);
	td.network_mode = ecs_strdup_opt(mode);
	size_t n = aws_json_len(containers);

	td.containers = xcalloc(n + 1, sizeof(*td.containers));
	for (size_t i = 0; r == 0 && i < n; i++) {
		td.n_containers++;
		r = parse_container(aws_json_item(containers, i), &td.containers[i], diag);
	}
out:
	json_tree_free(tree);
	if (r < 0) {
		ecs_task_definition_finish(&td);
		return r;
	}
	*out = td;
	return 0;
}
