/*
 * ECS task definitions: the DescribeTaskDefinition body, the strict parser of
 * the fields that decide what a task reserves, and the pure computation of
 * that reservation on an EC2 or EXTERNAL instance (the agent's host-resource
 * accounting: task-level cpu/memory first, container sums otherwise, host
 * ports unless awsvpc).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/xalloc.h"
#include "ecs_priv.h"

#define UNITS_MAX ((int64_t)1 << 40)
#define CONTAINERS_MAX 100
#define MAPPINGS_MAX 10000

/* See ecs.h. */
void ecs_task_definition_finish(struct ecs_task_definition *td)
{
	if (td == NULL)
		return;
	free(td->arn);
	free(td->family);
	free(td->network_mode);
	for (size_t i = 0; i < td->n_containers; i++) {
		free(td->containers[i].name);
		free(td->containers[i].port_mappings);
	}
	free(td->containers);
	memset(td, 0, sizeof(*td));
}

/* See ecs.h. */
void ecs_task_reservation_finish(struct ecs_task_reservation *r)
{
	if (r == NULL)
		return;
	free(r->tcp_ports);
	free(r->udp_ports);
	memset(r, 0, sizeof(*r));
}

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
	if (text != NULL && aws_json_decimal(text, 0, UNITS_MAX, out) < 0)
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
		(r = aws_json_int(c, "cpu", false, 0, UNITS_MAX, &cd->cpu_units, NULL, diag)) < 0 ||
		(r = aws_json_int(c, "memory", false, 0, UNITS_MAX, &cd->memory_mib, NULL, diag)) <
			0 ||
		(r = aws_json_int(c, "memoryReservation", false, 0, UNITS_MAX,
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
	yajl_tree_free(tree);
	if (r < 0) {
		ecs_task_definition_finish(&td);
		return r;
	}
	*out = td;
	return 0;
}

/* Order ports for qsort. */
static int port_cmp(const void *a, const void *b)
{
	uint16_t x = *(const uint16_t *)a;
	uint16_t y = *(const uint16_t *)b;

	return (x > y) - (x < y);
}

/* Sort ports[0..*n) and drop repeats. */
static void sort_unique(uint16_t *ports, size_t *n)
{
	size_t k = 0;

	qsort(ports, *n, sizeof(*ports), port_cmp);
	for (size_t i = 0; i < *n; i++) {
		if (k == 0 || ports[k - 1] != ports[i])
			ports[k++] = ports[i];
	}
	*n = k;
}

/* *sum += v, or -EOVERFLOW past UNITS_MAX. */
static int add_units(int64_t *sum, int64_t v)
{
	if (v < 0 || v > UNITS_MAX - *sum)
		return -EOVERFLOW;
	*sum += v;
	return 0;
}

/* See ecs.h. */
int ecs_task_reservation_compute(
	const struct ecs_task_definition *td, struct ecs_task_reservation *out)
{
	int64_t cpu = 0;
	int64_t mem = 0;
	size_t n_maps = 0;
	int r = 0;

	if (td == NULL)
		return -EINVAL;
	for (size_t i = 0; i < td->n_containers; i++) {
		const struct ecs_container_def *c = &td->containers[i];
		int64_t m =
			c->memory_reservation_mib > 0 ? c->memory_reservation_mib : c->memory_mib;

		if (r == 0)
			r = add_units(&cpu, c->cpu_units);
		if (r == 0)
			r = add_units(&mem, m);
		n_maps += c->n_port_mappings;
	}
	if (r < 0)
		return r;
	if (td->cpu_units > 0)
		cpu = td->cpu_units;
	if (td->memory_mib > 0)
		mem = td->memory_mib;

	struct ecs_task_reservation res = {.cpu_units = cpu, .memory_mib = mem};
	bool awsvpc = td->network_mode != NULL && strcmp(td->network_mode, "awsvpc") == 0;

	res.tcp_ports = xcalloc(n_maps + 1, sizeof(*res.tcp_ports));
	res.udp_ports = xcalloc(n_maps + 1, sizeof(*res.udp_ports));
	for (size_t i = 0; !awsvpc && i < td->n_containers; i++) {
		const struct ecs_container_def *c = &td->containers[i];

		for (size_t j = 0; j < c->n_port_mappings; j++) {
			const struct ecs_port_mapping *pm = &c->port_mappings[j];

			/* hostPort 0 or absent: a dynamic port, chosen at placement. */
			if (pm->host_port <= 0 || pm->host_port > UINT16_MAX)
				continue;
			if (pm->udp)
				res.udp_ports[res.n_udp_ports++] = (uint16_t)pm->host_port;
			else
				res.tcp_ports[res.n_tcp_ports++] = (uint16_t)pm->host_port;
		}
	}
	sort_unique(res.tcp_ports, &res.n_tcp_ports);
	sort_unique(res.udp_ports, &res.n_udp_ports);
	*out = res;
	return 0;
}
