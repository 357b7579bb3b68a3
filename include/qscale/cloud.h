/*
 * The one seam between qscale's control cycle and the cloud. The daemon plugs
 * in an implementation over the real SQS and ECS APIs; the simulator plugs in
 * one over the world model on a virtual clock. The controller sees only this.
 *
 * Every operation is asynchronous: it returns 0 and later calls its callback
 * exactly once (never from inside the operation itself), or returns a negative
 * errno and never calls back. Everything a callback receives is borrowed and
 * valid only while it runs.
 */
#ifndef QSCALE_CLOUD_H
#define QSCALE_CLOUD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/aws_error.h"

struct cloud_queue_counts {
	int64_t visible; /* ApproximateNumberOfMessages */
	int64_t in_flight; /* ApproximateNumberOfMessagesNotVisible */
	int64_t delayed; /* ApproximateNumberOfMessagesDelayed */
};

struct cloud_service {
	const char *name;
	/*
	 * true: the answer for the name asked at the same position, named by
	 * that very text, so that a caller need not compare them; false: not
	 * known (compare the names).
	 */
	bool as_asked;
	bool found; /* false: the service came back in failures (MISSING) */
	const char *arn;
	const char *status; /* ACTIVE, DRAINING, INACTIVE */
	const char *task_definition; /* ARN */
	int32_t desired;
	int32_t running;
	int32_t pending;
};

struct cloud_attribute {
	const char *name;
	const char *value; /* NULL when the attribute has no value */
};

struct cloud_instance {
	const char *arn;
	const char *ec2_instance_id; /* mi-... on ECS Anywhere */
	const char *status; /* ACTIVE, DRAINING, ... */
	bool agent_connected;
	int32_t registered_cpu_units;
	int32_t registered_memory_mib;
	int32_t remaining_cpu_units;
	int32_t remaining_memory_mib;
	/* Host ports not free on the instance (remainingResources PORTS / PORTS_UDP). */
	const uint16_t *taken_tcp_ports;
	size_t n_taken_tcp_ports;
	const uint16_t *taken_udp_ports;
	size_t n_taken_udp_ports;
	const struct cloud_attribute *attributes;
	size_t n_attributes;
};

/* What one task of a task definition takes on an EXTERNAL instance. */
struct cloud_task_reservation {
	int32_t cpu_units;
	int32_t memory_mib;
	const uint16_t *tcp_ports;
	size_t n_tcp_ports;
	const uint16_t *udp_ports;
	size_t n_udp_ports;
};

/* err is 0 on success; else error says what failed (class, code, message). */
typedef void (*cloud_queue_cb)(
	int err, const struct aws_error *error, const struct cloud_queue_counts *counts, void *arg);
typedef void (*cloud_services_cb)(int err, const struct aws_error *error,
	const struct cloud_service *services, size_t n_services, void *arg);
typedef void (*cloud_instances_cb)(int err, const struct aws_error *error,
	const struct cloud_instance *instances, size_t n_instances, void *arg);
typedef void (*cloud_task_cb)(int err, const struct aws_error *error,
	const struct cloud_task_reservation *reservation, void *arg);
typedef void (*cloud_update_cb)(
	int err, const struct aws_error *error, const struct cloud_service *service, void *arg);

struct cloud_ops {
	/* SQS GetQueueAttributes for the three approximate counts. */
	int (*queue_counts)(void *ctx, const char *queue_url, cloud_queue_cb cb, void *arg);
	/* ECS DescribeServices; the implementation batches by ten. */
	int (*describe_services)(void *ctx, const char *cluster, const char *const *services,
		size_t n_services, cloud_services_cb cb, void *arg);
	/* ECS ListContainerInstances (ACTIVE, every page) + DescribeContainerInstances. */
	int (*list_instances)(void *ctx, const char *cluster, cloud_instances_cb cb, void *arg);
	/* ECS DescribeTaskDefinition, reduced to what a task reserves. */
	int (*task_reservation)(
		void *ctx, const char *task_definition, cloud_task_cb cb, void *arg);
	/* ECS UpdateService with desiredCount only. */
	int (*update_service)(void *ctx, const char *cluster, const char *service, int32_t desired,
		cloud_update_cb cb, void *arg);
};

struct cloud {
	const struct cloud_ops *ops;
	void *ctx;
};

#endif
