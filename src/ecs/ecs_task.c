/*
 * What one task reserves on an EC2 or EXTERNAL instance, the agent's
 * host-resource accounting: task-level cpu/memory first, container sums
 * otherwise (memoryReservation before memory), host ports unless awsvpc.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/ecs_task.h"
#include "qscale/xalloc.h"

/* See ecs_task.h. */
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

/* See ecs_task.h. */
void ecs_task_reservation_finish(struct ecs_task_reservation *r)
{
	if (r == NULL)
		return;
	free(r->tcp_ports);
	free(r->udp_ports);
	memset(r, 0, sizeof(*r));
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

/* *sum += v, or -EOVERFLOW past ECS_TASK_UNITS_MAX. */
static int add_units(int64_t *sum, int64_t v)
{
	if (v < 0 || v > ECS_TASK_UNITS_MAX - *sum)
		return -EOVERFLOW;
	*sum += v;
	return 0;
}

/* See ecs_task.h. */
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
