/*
 * Typed ECS calls over the AWS client (AWS JSON 1.1): DescribeServices,
 * UpdateService (desiredCount only), ListContainerInstances,
 * DescribeContainerInstances and DescribeTaskDefinition. Request builders
 * and response parsers are pure (a task definition's types and the
 * reservation rule are in ecs_task.h, below the client); the ecs_*
 * calls at the end are asynchronous, batch and page as the API demands, and
 * report one error for the whole call rather than a partial result.
 *
 * Every struct here owns its strings and arrays; *_finish frees them and
 * accepts a zeroed struct.
 */
#ifndef QSCALE_ECS_H
#define QSCALE_ECS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/aws_client.h"
#include "qscale/ecs_task.h"

/* API limits per request. */
#define ECS_DESCRIBE_SERVICES_MAX 10
#define ECS_DESCRIBE_INSTANCES_MAX 100
#define ECS_LIST_PAGE_MAX 100
/* Bounds on what one ecs_list_container_instances call follows. */
#define ECS_LIST_PAGES_MAX 100
#define ECS_LIST_INSTANCES_MAX 10000

/* One entry of a response's failures[]. */
struct ecs_failure {
	char *arn;
	char *reason; /* e.g. MISSING */
	char *detail; /* NULL when absent */
};

/* One service as DescribeServices or UpdateService reports it. */
struct ecs_service {
	char *name; /* as requested (DescribeServices) or serviceName (UpdateService) */
	bool found; /* false: it came back in failures; only name and failure are set */
	struct ecs_failure failure; /* when !found */
	char *service_name;
	char *arn;
	char *cluster_arn; /* NULL when absent */
	char *status; /* ACTIVE, DRAINING, INACTIVE */
	char *task_definition; /* ARN */
	char *launch_type; /* EC2, FARGATE, EXTERNAL...; NULL with a capacity-provider strategy */
	int64_t desired;
	int64_t running;
	int64_t pending;
};

void ecs_service_finish(struct ecs_service *s);

/* The services of one DescribeServices call, in the order they were asked for. */
struct ecs_service_list {
	struct ecs_service *services;
	size_t n_services;
};

void ecs_service_list_finish(struct ecs_service_list *l);

/*
 * The DescribeServices body for services[0..n) (1..10) of cluster (NULL: the
 * default cluster). The caller frees *out_body. -EINVAL for bad arguments.
 */
int ecs_describe_services_request(const char *cluster, const char *const *services, size_t n,
	char **out_body, size_t *out_len);

/*
 * Parse a DescribeServices response for the names asked for, appending one
 * entry per name (in order) to out: the service whose serviceName or
 * serviceArn equals the name, else the failure whose arn is the name or ends
 * in "/<name>". A name in neither list is -EPROTO; so is anything malformed.
 * out is left as it was on failure.
 */
int ecs_describe_services_parse(const char *body, size_t len, const char *const *names,
	size_t n_names, struct ecs_service_list *out, struct aws_error *diag);

/* The UpdateService body setting only desiredCount (>= 0). */
int ecs_update_service_request(const char *cluster, const char *service, int64_t desired,
	char **out_body, size_t *out_len);

/* Parse an UpdateService response {"service":{...}} into *out (found = true). */
int ecs_update_service_parse(
	const char *body, size_t len, struct ecs_service *out, struct aws_error *diag);

/* A list of container instance ARNs. */
struct ecs_arn_list {
	char **arns;
	size_t n_arns;
};

void ecs_arn_list_finish(struct ecs_arn_list *l);

/*
 * The ListContainerInstances body: cluster, filter and status may be NULL;
 * next_token NULL for the first page; maxResults is ECS_LIST_PAGE_MAX.
 */
int ecs_list_container_instances_request(const char *cluster, const char *filter,
	const char *status, const char *next_token, char **out_body, size_t *out_len);

/*
 * Parse one ListContainerInstances page, appending its ARNs to out and
 * setting *next_token (the caller frees it) to the token of the next page or
 * NULL on the last one. out is left as it was on failure.
 */
int ecs_list_container_instances_parse(const char *body, size_t len, struct ecs_arn_list *out,
	char **next_token, struct aws_error *diag);

/* An attribute of a container instance. */
struct ecs_attribute {
	char *name;
	char *value; /* NULL when the attribute has no value */
};

/* One container instance; resources are -1 when ECS did not report them. */
struct ecs_container_instance {
	char *arn;
	char *ec2_instance_id; /* mi-... on ECS Anywhere; NULL when absent */
	char *capacity_provider_name; /* NULL when absent */
	char *status; /* ACTIVE, DRAINING, REGISTERING, ... */
	bool agent_connected;
	int64_t running_tasks;
	int64_t pending_tasks;
	int64_t registered_cpu_units;
	int64_t registered_memory_mib;
	int64_t remaining_cpu_units;
	int64_t remaining_memory_mib;
	/* registeredResources PORTS / PORTS_UDP: ports the agent keeps for itself. */
	uint16_t *reserved_tcp_ports;
	size_t n_reserved_tcp_ports;
	uint16_t *reserved_udp_ports;
	size_t n_reserved_udp_ports;
	/* remainingResources PORTS / PORTS_UDP: ports not free (reserved + in use). */
	uint16_t *taken_tcp_ports;
	size_t n_taken_tcp_ports;
	uint16_t *taken_udp_ports;
	size_t n_taken_udp_ports;
	struct ecs_attribute *attributes;
	size_t n_attributes;
};

/* The result of describing container instances. */
struct ecs_instance_set {
	struct ecs_container_instance *instances;
	size_t n_instances;
	struct ecs_failure *failures; /* e.g. MISSING for an instance gone meanwhile */
	size_t n_failures;
};

void ecs_instance_set_finish(struct ecs_instance_set *s);

/* The value of attribute name on inst, or NULL; *present says whether it exists. */
const char *ecs_container_instance_attribute(
	const struct ecs_container_instance *inst, const char *name, bool *present);

/* The DescribeContainerInstances body for arns[0..n) (1..100). */
int ecs_describe_container_instances_request(
	const char *cluster, const char *const *arns, size_t n, char **out_body, size_t *out_len);

/* Parse a DescribeContainerInstances response, appending to out (unchanged on failure). */
int ecs_describe_container_instances_parse(
	const char *body, size_t len, struct ecs_instance_set *out, struct aws_error *diag);

/* The DescribeTaskDefinition body for task_definition (family[:revision] or ARN). */
int ecs_describe_task_definition_request(
	const char *task_definition, char **out_body, size_t *out_len);

/* Parse a DescribeTaskDefinition response into *out. */
int ecs_describe_task_definition_parse(
	const char *body, size_t len, struct ecs_task_definition *out, struct aws_error *diag);

/* A typed ECS call in flight. */
struct ecs_call;

/* Cancel a call in flight; its callback never runs. Cancel before destroying the client. */
void ecs_call_cancel(struct ecs_call *call);

/*
 * Callbacks run exactly once: err 0 with the result, or err < 0 with error
 * (the client's classified error, or -EPROTO / -E2BIG from parsing and
 * bounds). Results and error are borrowed for the duration of the callback.
 */
typedef void (*ecs_services_cb)(
	int err, const struct aws_error *error, const struct ecs_service_list *services, void *arg);
typedef void (*ecs_service_cb)(
	int err, const struct aws_error *error, const struct ecs_service *service, void *arg);
typedef void (*ecs_arns_cb)(
	int err, const struct aws_error *error, const struct ecs_arn_list *arns, void *arg);
typedef void (*ecs_instances_cb)(
	int err, const struct aws_error *error, const struct ecs_instance_set *set, void *arg);
typedef void (*ecs_task_definition_cb)(
	int err, const struct aws_error *error, const struct ecs_task_definition *td, void *arg);

/*
 * Each starts a call and returns 0 (cb runs later) or a negative errno (no
 * callback). *out (may be NULL) allows cancelling until cb runs.
 */

/* DescribeServices for any number of names, ten per request, one after another. */
int ecs_describe_services(struct aws_client *client, const char *cluster, const char *const *names,
	size_t n, ecs_services_cb cb, void *arg, struct ecs_call **out);

/* UpdateService setting desiredCount only. */
int ecs_update_service(struct aws_client *client, const char *cluster, const char *service,
	int64_t desired, ecs_service_cb cb, void *arg, struct ecs_call **out);

/*
 * The same within budget_ms (0: none): no attempt is sent or still running
 * later than that after the call starts (aws_call_opts.budget_ms).
 */
int ecs_update_service_within(struct aws_client *client, const char *cluster, const char *service,
	int64_t desired, uint64_t budget_ms, ecs_service_cb cb, void *arg, struct ecs_call **out);

/* ListContainerInstances over every page (bounded by ECS_LIST_PAGES_MAX, ECS_LIST_INSTANCES_MAX).
 */
int ecs_list_container_instances(struct aws_client *client, const char *cluster, const char *filter,
	const char *status, ecs_arns_cb cb, void *arg, struct ecs_call **out);

/* DescribeContainerInstances for any number of ARNs, a hundred per request. */
int ecs_describe_container_instances(struct aws_client *client, const char *cluster,
	const char *const *arns, size_t n, ecs_instances_cb cb, void *arg, struct ecs_call **out);

/*
 * Both of the above in one call: every page of ListContainerInstances, then
 * DescribeContainerInstances of all it found. An empty cluster yields an empty set.
 */
int ecs_list_describe_container_instances(struct aws_client *client, const char *cluster,
	const char *filter, const char *status, ecs_instances_cb cb, void *arg,
	struct ecs_call **out);

/* DescribeTaskDefinition. */
int ecs_describe_task_definition(struct aws_client *client, const char *task_definition,
	ecs_task_definition_cb cb, void *arg, struct ecs_call **out);

#endif
