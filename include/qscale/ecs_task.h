/*
 * ECS task definitions as qscale needs them (the fields that decide what a
 * task reserves) and the pure rule of what one task reserves on an EC2 or
 * EXTERNAL instance: the agent's host-resource accounting (AWS.md 2.5). The
 * AWS client parses DescribeTaskDefinition into these structs; the real
 * cloud, the scenario loader and doctor apply the one rule to them.
 */
#ifndef QSCALE_ECS_TASK_H
#define QSCALE_ECS_TASK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Largest cpu or memory figure, alone or summed over containers, that qscale accepts. */
#define ECS_TASK_UNITS_MAX ((int64_t)1 << 40)

/* A host port mapping of a container definition. */
struct ecs_port_mapping {
	int64_t container_port; /* -1 when absent */
	int64_t host_port; /* 0 when absent (dynamic) */
	bool udp; /* protocol udp; tcp otherwise */
};

/* The resource-relevant part of a container definition; absent numbers are 0. */
struct ecs_container_def {
	char *name;
	int64_t cpu_units;
	int64_t memory_mib; /* hard limit */
	int64_t memory_reservation_mib; /* soft limit */
	struct ecs_port_mapping *port_mappings;
	size_t n_port_mappings;
};

/* The resource-relevant part of a task definition. */
struct ecs_task_definition {
	char *arn;
	char *family;
	int64_t revision;
	char *network_mode; /* bridge, host, awsvpc, none; NULL when absent */
	int64_t cpu_units; /* task-level cpu; 0 when absent */
	int64_t memory_mib; /* task-level memory; 0 when absent */
	struct ecs_container_def *containers;
	size_t n_containers;
};

void ecs_task_definition_finish(struct ecs_task_definition *td);

/* What one task takes on an EC2 or EXTERNAL instance. */
struct ecs_task_reservation {
	int64_t cpu_units;
	int64_t memory_mib;
	uint16_t *tcp_ports; /* sorted, distinct */
	size_t n_tcp_ports;
	uint16_t *udp_ports;
	size_t n_udp_ports;
};

void ecs_task_reservation_finish(struct ecs_task_reservation *r);

/*
 * The reservation of one task of td on an EXTERNAL instance: CPU = task cpu if
 * > 0, else the containers' sum; MEMORY = task memory if > 0, else the sum of
 * each container's memoryReservation if > 0, else its memory; host ports > 0
 * by protocol, none in awsvpc mode. -EOVERFLOW if a sum overflows.
 */
int ecs_task_reservation_compute(
	const struct ecs_task_definition *td, struct ecs_task_reservation *out);

#endif
