/*
 * The asynchronous typed ECS calls. One state machine serves them all: build
 * the body of the next request, hand it to aws_client_call, parse the answer
 * into the accumulated result, and either start the next request (another
 * batch, another page) or call back once. Requests of one call go one after
 * another, never in parallel, which keeps within ECS's per-category rate
 * buckets. Any failed step fails the whole call: no partial result is ever
 * handed on as complete.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/xalloc.h"
#include "ecs_priv.h"

enum op {
	OP_DESCRIBE_SERVICES,
	OP_UPDATE_SERVICE,
	OP_LIST_INSTANCES,
	OP_DESCRIBE_INSTANCES,
	OP_DESCRIBE_TASK_DEFINITION,
};

struct ecs_call {
	struct aws_client *client;
	struct aws_call *inner;
	enum op op;
	bool list_then_describe; /* ListContainerInstances, then describe what it found */
	union {
		ecs_services_cb services;
		ecs_service_cb service;
		ecs_arns_cb arns;
		ecs_instances_cb instances;
		ecs_task_definition_cb task_definition;
	} cb;
	void *arg;

	/* Inputs, copied. */
	char *cluster;
	char *filter;
	char *status;
	char *service_name;
	int64_t desired;
	uint64_t budget_ms; /* UpdateService: 0, or the HA lease's bound */
	char **names; /* service names, instance ARNs or the task definition */
	size_t n_names;

	/* Progress. */
	size_t next; /* first name of the next batch */
	size_t batch; /* names in the batch in flight */
	char *next_token;
	size_t pages;
	char *body; /* the request in flight; kept until its answer */

	/* Results. */
	struct ecs_service_list services;
	struct ecs_service updated;
	struct ecs_arn_list arns;
	struct ecs_instance_set instances;
	struct ecs_task_definition td;
};

/* Free a call and everything it holds. */
static void call_free(struct ecs_call *c)
{
	free(c->cluster);
	free(c->filter);
	free(c->status);
	free(c->service_name);
	for (size_t i = 0; i < c->n_names; i++)
		free(c->names[i]);
	free(c->names);
	free(c->next_token);
	free(c->body);
	ecs_service_list_finish(&c->services);
	ecs_service_finish(&c->updated);
	ecs_arn_list_finish(&c->arns);
	ecs_instance_set_finish(&c->instances);
	ecs_task_definition_finish(&c->td);
	free(c);
}

/* The operation name the client sends in X-Amz-Target. */
static const char *op_name(enum op op)
{
	switch (op) {
	case OP_DESCRIBE_SERVICES:
		return "DescribeServices";
	case OP_UPDATE_SERVICE:
		return "UpdateService";
	case OP_LIST_INSTANCES:
		return "ListContainerInstances";
	case OP_DESCRIBE_INSTANCES:
		return "DescribeContainerInstances";
	case OP_DESCRIBE_TASK_DEFINITION:
		return "DescribeTaskDefinition";
	}
	return "";
}

/* Call back with err and error (or the result when err is 0), then free the call. */
static void finish(struct ecs_call *c, int err, const struct aws_error *error)
{
	if (c->list_then_describe) {
		c->cb.instances(err, error, err ? NULL : &c->instances, c->arg);
		call_free(c);
		return;
	}
	switch (c->op) {
	case OP_DESCRIBE_SERVICES:
		c->cb.services(err, error, err ? NULL : &c->services, c->arg);
		break;
	case OP_UPDATE_SERVICE:
		c->cb.service(err, error, err ? NULL : &c->updated, c->arg);
		break;
	case OP_LIST_INSTANCES:
		c->cb.arns(err, error, err ? NULL : &c->arns, c->arg);
		break;
	case OP_DESCRIBE_INSTANCES:
		c->cb.instances(err, error, err ? NULL : &c->instances, c->arg);
		break;
	case OP_DESCRIBE_TASK_DEFINITION:
		c->cb.task_definition(err, error, err ? NULL : &c->td, c->arg);
		break;
	}
	call_free(c);
}

/* Fail the call with a locally detected error. */
static void finish_local(struct ecs_call *c, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void finish_local(struct ecs_call *c, int err, const char *fmt, ...)
{
	struct aws_error e = {.err = err, .error_class = AWS_ERROR_FATAL};
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(e.message, sizeof(e.message), fmt, ap);
	va_end(ap);
	finish(c, err, &e);
}

/* Build the body of the next request into c->body. */
static int build(struct ecs_call *c, size_t *len)
{
	const char *const *names = (const char *const *)c->names + c->next;
	size_t left = c->n_names - c->next;

	free(c->body);
	c->body = NULL;
	switch (c->op) {
	case OP_DESCRIBE_SERVICES:
		c->batch = left < ECS_DESCRIBE_SERVICES_MAX ? left : ECS_DESCRIBE_SERVICES_MAX;
		return ecs_describe_services_request(c->cluster, names, c->batch, &c->body, len);
	case OP_UPDATE_SERVICE:
		return ecs_update_service_request(
			c->cluster, c->service_name, c->desired, &c->body, len);
	case OP_LIST_INSTANCES:
		return ecs_list_container_instances_request(
			c->cluster, c->filter, c->status, c->next_token, &c->body, len);
	case OP_DESCRIBE_INSTANCES:
		c->batch = left < ECS_DESCRIBE_INSTANCES_MAX ? left : ECS_DESCRIBE_INSTANCES_MAX;
		return ecs_describe_container_instances_request(
			c->cluster, names, c->batch, &c->body, len);
	case OP_DESCRIBE_TASK_DEFINITION:
		return ecs_describe_task_definition_request(c->names[0], &c->body, len);
	}
	return -EINVAL;
}

static void on_response(const struct aws_response *resp, void *arg);

/* Send the next request of c. */
static int send_next(struct ecs_call *c)
{
	size_t len;
	int r = build(c, &len);

	if (r < 0)
		return r;
	struct aws_call_opts opts = {.budget_ms = c->budget_ms};

	return aws_client_call(c->client, AWS_SERVICE_ECS, op_name(c->op), c->body, len, &opts,
		on_response, c, &c->inner);
}

/*
 * Fold one answer into the result. Returns 1 when another request must
 * follow, 0 when the call is complete, or a negative errno with diag filled.
 */
static int absorb(struct ecs_call *c, const char *body, size_t len, struct aws_error *diag)
{
	const char *const *names = (const char *const *)c->names + c->next;
	char *token = NULL;
	int r;

	switch (c->op) {
	case OP_DESCRIBE_SERVICES:
		r = ecs_describe_services_parse(body, len, names, c->batch, &c->services, diag);
		if (r < 0)
			return r;
		c->next += c->batch;
		return c->next < c->n_names;
	case OP_UPDATE_SERVICE:
		return ecs_update_service_parse(body, len, &c->updated, diag);
	case OP_LIST_INSTANCES:
		r = ecs_list_container_instances_parse(body, len, &c->arns, &token, diag);
		if (r < 0)
			return r;
		c->pages++;
		if (token != NULL && c->next_token != NULL && strcmp(token, c->next_token) == 0) {
			free(token);
			return aws_json_fail(
				diag, "ListContainerInstances returned the same nextToken");
		}
		free(c->next_token);
		c->next_token = token;
		if (c->arns.n_arns > ECS_LIST_INSTANCES_MAX ||
			(token != NULL && c->pages >= ECS_LIST_PAGES_MAX)) {
			aws_json_fail(diag, "more than %d container instances or %d pages",
				ECS_LIST_INSTANCES_MAX, ECS_LIST_PAGES_MAX);
			diag->err = -E2BIG;
			return -E2BIG;
		}
		if (token != NULL || !c->list_then_describe)
			return token != NULL;
		/* Listing done: describe what it found, a hundred at a time. */
		c->names = c->arns.arns;
		c->n_names = c->arns.n_arns;
		memset(&c->arns, 0, sizeof(c->arns));
		c->next = 0;
		c->op = OP_DESCRIBE_INSTANCES;
		return c->n_names > 0;
	case OP_DESCRIBE_INSTANCES:
		r = ecs_describe_container_instances_parse(body, len, &c->instances, diag);
		if (r < 0)
			return r;
		c->next += c->batch;
		return c->next < c->n_names;
	case OP_DESCRIBE_TASK_DEFINITION:
		return ecs_describe_task_definition_parse(body, len, &c->td, diag);
	}
	return -EINVAL;
}

/* The client's answer to one request of c. */
static void on_response(const struct aws_response *resp, void *arg)
{
	struct ecs_call *c = arg;
	struct aws_error diag;

	c->inner = NULL;
	if (resp->error.err != 0) {
		finish(c, resp->error.err, &resp->error);
		return;
	}
	int r = absorb(c, resp->body, resp->body_len, &diag);

	if (r < 0) {
		diag.http_status = resp->http_status;
		finish(c, r, &diag);
		return;
	}
	if (r == 0) {
		finish(c, 0, NULL);
		return;
	}
	r = send_next(c);
	if (r < 0)
		finish_local(c, r, "%s: could not start the next request", op_name(c->op));
}

/* A call of op with the common fields set. */
static struct ecs_call *call_new(
	struct aws_client *client, enum op op, const char *cluster, void *arg)
{
	struct ecs_call *c = xcalloc(1, sizeof(*c));

	c->client = client;
	c->op = op;
	c->arg = arg;
	c->cluster = ecs_strdup_opt(cluster);
	return c;
}

/* Copy names[0..n) into c. */
static void set_names(struct ecs_call *c, const char *const *names, size_t n)
{
	c->names = xcalloc(n + 1, sizeof(*c->names));
	for (size_t i = 0; i < n; i++)
		c->names[i] = xstrdup(names[i]);
	c->n_names = n;
}

/* Send c's first request; on failure free it (no callback). */
static int start(struct ecs_call *c, struct ecs_call **out)
{
	int r = send_next(c);

	if (r < 0) {
		call_free(c);
		return r;
	}
	if (out != NULL)
		*out = c;
	return 0;
}

/* Whether names[0..n) is a usable list of non-empty strings. */
static bool names_ok(const char *const *names, size_t n)
{
	if (names == NULL || n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (names[i] == NULL || names[i][0] == '\0')
			return false;
	}
	return true;
}

/* See ecs.h. */
int ecs_describe_services(struct aws_client *client, const char *cluster, const char *const *names,
	size_t n, ecs_services_cb cb, void *arg, struct ecs_call **out)
{
	if (client == NULL || cb == NULL || !names_ok(names, n))
		return -EINVAL;
	struct ecs_call *c = call_new(client, OP_DESCRIBE_SERVICES, cluster, arg);

	c->cb.services = cb;
	set_names(c, names, n);
	return start(c, out);
}

/* See ecs.h. */
int ecs_update_service(struct aws_client *client, const char *cluster, const char *service,
	int64_t desired, ecs_service_cb cb, void *arg, struct ecs_call **out)
{
	return ecs_update_service_within(client, cluster, service, desired, 0, cb, arg, out);
}

/* See ecs.h. */
int ecs_update_service_within(struct aws_client *client, const char *cluster, const char *service,
	int64_t desired, uint64_t budget_ms, ecs_service_cb cb, void *arg, struct ecs_call **out)
{
	if (client == NULL || cb == NULL || service == NULL || desired < 0)
		return -EINVAL;
	struct ecs_call *c = call_new(client, OP_UPDATE_SERVICE, cluster, arg);

	c->cb.service = cb;
	c->service_name = xstrdup(service);
	c->desired = desired;
	c->budget_ms = budget_ms;
	return start(c, out);
}

/* See ecs.h. */
int ecs_list_container_instances(struct aws_client *client, const char *cluster, const char *filter,
	const char *status, ecs_arns_cb cb, void *arg, struct ecs_call **out)
{
	if (client == NULL || cb == NULL)
		return -EINVAL;
	struct ecs_call *c = call_new(client, OP_LIST_INSTANCES, cluster, arg);

	c->cb.arns = cb;
	c->filter = ecs_strdup_opt(filter);
	c->status = ecs_strdup_opt(status);
	return start(c, out);
}

/* See ecs.h. */
int ecs_describe_container_instances(struct aws_client *client, const char *cluster,
	const char *const *arns, size_t n, ecs_instances_cb cb, void *arg, struct ecs_call **out)
{
	if (client == NULL || cb == NULL || !names_ok(arns, n))
		return -EINVAL;
	struct ecs_call *c = call_new(client, OP_DESCRIBE_INSTANCES, cluster, arg);

	c->cb.instances = cb;
	set_names(c, arns, n);
	return start(c, out);
}

/* See ecs.h. */
int ecs_describe_task_definition(struct aws_client *client, const char *task_definition,
	ecs_task_definition_cb cb, void *arg, struct ecs_call **out)
{
	if (client == NULL || cb == NULL || !names_ok(&task_definition, 1))
		return -EINVAL;
	struct ecs_call *c = call_new(client, OP_DESCRIBE_TASK_DEFINITION, NULL, arg);

	c->cb.task_definition = cb;
	set_names(c, &task_definition, 1);
	return start(c, out);
}

/* See ecs.h. */
int ecs_list_describe_container_instances(struct aws_client *client, const char *cluster,
	const char *filter, const char *status, ecs_instances_cb cb, void *arg,
	struct ecs_call **out)
{
	if (client == NULL || cb == NULL)
		return -EINVAL;
	struct ecs_call *c = call_new(client, OP_LIST_INSTANCES, cluster, arg);

	c->list_then_describe = true;
	c->cb.instances = cb;
	c->filter = ecs_strdup_opt(filter);
	c->status = ecs_strdup_opt(status);
	return start(c, out);
}

/* See ecs.h. */
void ecs_call_cancel(struct ecs_call *call)
{
	if (call == NULL)
		return;
	if (call->inner != NULL)
		aws_call_cancel(call->inner);
	call_free(call);
}
