/*
 * struct cloud over the typed SQS and ECS calls on an aws_client. Each
 * operation keeps a small request record (so that destroy can cancel what is
 * in flight), converts the typed result into the cloud's plain structs and
 * checks that every number fits them: anything that does not is -EPROTO for
 * that call. list_instances chains ListContainerInstances (ACTIVE, every
 * page) into DescribeContainerInstances, and answers only with the whole
 * fleet: an instance in failures[] or without CPU or MEMORY in its remaining
 * resources makes the call fail (missing data), except an instance MISSING
 * because it was deregistered meanwhile, which a second listing shows.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/cloud_aws.h"
#include "qscale/policy.h"
#include "qscale/ecs.h"
#include "qscale/sqs.h"
#include "qscale/xalloc.h"

enum req_kind { REQ_QUEUE, REQ_SERVICES, REQ_LIST, REQ_DESCRIBE, REQ_TASK, REQ_UPDATE };

/* One operation in flight. */
struct req {
	struct req *prev, *next;
	struct cloud_aws *aws;
	enum req_kind kind;
	struct sqs_call *sqs;
	struct ecs_call *ecs;
	char *cluster;
	bool relisted; /* list_instances: this is the second listing of the cycle */
	uint64_t started_ms;
	union {
		cloud_queue_cb queue;
		cloud_services_cb services;
		cloud_instances_cb instances;
		cloud_task_cb task;
		cloud_update_cb update;
	} cb;
	void *arg;
};

struct cloud_aws {
	struct cloud cloud;
	struct aws_client *client;
	struct req *reqs;
	size_t n_reqs;
	const struct clock *clock;
	cloud_aws_observer_cb observer;
	void *observer_arg;
	uint64_t update_budget_ms; /* 0: none */
};

static const char *const op_names[] = {
	[REQ_QUEUE] = "GetQueueAttributes",
	[REQ_SERVICES] = "DescribeServices",
	[REQ_LIST] = "ListContainerInstances",
	[REQ_DESCRIBE] = "DescribeContainerInstances",
	[REQ_TASK] = "DescribeTaskDefinition",
	[REQ_UPDATE] = "UpdateService",
};

/* Tell the observer that a request's operation ended. */
static void observe(struct req *r, int err, const struct aws_error *error)
{
	struct cloud_aws *aws = r->aws;
	uint64_t now_ms;

	if (aws->observer == NULL)
		return;
	now_ms = clock_mono_ms(aws->clock);
	aws->observer(op_names[r->kind], err, err != 0 ? error : NULL,
		now_ms > r->started_ms ? now_ms - r->started_ms : 0, aws->observer_arg);
}

/* A new request record, linked in. */
static struct req *req_new(struct cloud_aws *aws, enum req_kind kind, void *arg)
{
	struct req *r = xcalloc(1, sizeof(*r));

	r->aws = aws;
	r->kind = kind;
	r->arg = arg;
	r->started_ms = aws->clock != NULL ? clock_mono_ms(aws->clock) : 0;
	r->next = aws->reqs;
	if (aws->reqs != NULL)
		aws->reqs->prev = r;
	aws->reqs = r;
	aws->n_reqs++;
	return r;
}

/* Unlink and free a request record. */
static void req_free(struct req *r)
{
	struct cloud_aws *aws = r->aws;

	if (r->prev != NULL)
		r->prev->next = r->next;
	else
		aws->reqs = r->next;
	if (r->next != NULL)
		r->next->prev = r->prev;
	aws->n_reqs--;
	free(r->cluster);
	free(r);
}

/* A protocol error for a response that does not fit the cloud's structs. */
static void proto_error(struct aws_error *e, const char *message)
{
	memset(e, 0, sizeof(*e));
	e->err = -EPROTO;
	e->error_class = AWS_ERROR_FATAL;
	snprintf(e->message, sizeof(e->message), "%s", message);
}

/* Whether v fits an int32_t task or resource count (>= 0). */
static bool fits_i32(int64_t v)
{
	return v >= 0 && v <= INT32_MAX;
}

static void on_queue(
	int err, const struct aws_error *error, const struct sqs_queue_counts *counts, void *arg)
{
	struct req *r = arg;
	cloud_queue_cb cb = r->cb.queue;
	void *cb_arg = r->arg;
	struct cloud_queue_counts out = {0};
	struct aws_error e;

	observe(r, err, error);
	req_free(r);
	if (err == 0 &&
		(!counts->have_visible || !counts->have_in_flight || !counts->have_delayed)) {
		proto_error(&e, "a message count is missing from the response");
		cb(-EPROTO, &e, NULL, cb_arg);
		return;
	}
	if (err != 0) {
		cb(err, error, NULL, cb_arg);
		return;
	}
	out.visible = counts->visible;
	out.in_flight = counts->in_flight;
	out.delayed = counts->delayed;
	cb(0, NULL, &out, cb_arg);
}

static int op_queue_counts(void *ctx, const char *queue_url, cloud_queue_cb cb, void *arg)
{
	struct cloud_aws *aws = ctx;
	struct req *r = req_new(aws, REQ_QUEUE, arg);
	int rc;

	r->cb.queue = cb;
	rc = sqs_get_queue_attributes(aws->client, queue_url, on_queue, r, &r->sqs);
	if (rc < 0)
		req_free(r);
	return rc;
}

/* Convert one typed service; false when a count does not fit. */
static bool take_service(struct cloud_service *out, const struct ecs_service *s)
{
	out->name = s->name;
	out->found = s->found;
	if (!s->found)
		return true;
	if (!fits_i32(s->desired) || !fits_i32(s->running) || !fits_i32(s->pending))
		return false;
	out->arn = s->arn;
	out->status = s->status;
	out->task_definition = s->task_definition;
	out->desired = (int32_t)s->desired;
	out->running = (int32_t)s->running;
	out->pending = (int32_t)s->pending;
	return true;
}

static void on_services(
	int err, const struct aws_error *error, const struct ecs_service_list *list, void *arg)
{
	struct req *r = arg;
	cloud_services_cb cb = r->cb.services;
	void *cb_arg = r->arg;
	struct cloud_service *out;
	struct aws_error e;

	observe(r, err, error);
	req_free(r);
	if (err != 0) {
		cb(err, error, NULL, 0, cb_arg);
		return;
	}
	out = xcalloc(list->n_services + 1, sizeof(*out));
	for (size_t i = 0; i < list->n_services; i++) {
		if (!take_service(&out[i], &list->services[i])) {
			free(out);
			proto_error(&e, "a task count out of range in the response");
			cb(-EPROTO, &e, NULL, 0, cb_arg);
			return;
		}
	}
	cb(0, NULL, out, list->n_services, cb_arg);
	free(out);
}

static int op_describe_services(void *ctx, const char *cluster, const char *const *services,
	size_t n_services, cloud_services_cb cb, void *arg)
{
	struct cloud_aws *aws = ctx;
	struct req *r = req_new(aws, REQ_SERVICES, arg);
	int rc;

	r->cb.services = cb;
	rc = ecs_describe_services(
		aws->client, cluster, services, n_services, on_services, r, &r->ecs);
	if (rc < 0)
		req_free(r);
	return rc;
}

/* A registered resource ECS did not report counts as nothing. */
static int32_t resource(int64_t v)
{
	return v < 0 ? 0 : (v > INT32_MAX ? INT32_MAX : (int32_t)v);
}

/*
 * Whether a described fleet is the whole fleet. An instance in failures[], or
 * one whose remainingResources lack CPU or MEMORY, leaves the view incomplete:
 * missing data, said in e. The one failure that may be innocent is MISSING on
 * the first listing: the instance may have been deregistered between
 * ListContainerInstances and DescribeContainerInstances. *relist then asks for
 * a second listing; an instance it no longer lists was deregistered, one it
 * still lists (and that is still MISSING) leaves the view incomplete.
 */
static bool fleet_complete(
	const struct ecs_instance_set *set, bool relisted, bool *relist, struct aws_error *e)
{
	char text[AWS_ERROR_MESSAGE_MAX];

	*relist = false;
	for (size_t i = 0; i < set->n_failures; i++) {
		const struct ecs_failure *f = &set->failures[i];
		const char *reason = f->reason != NULL ? f->reason : "no reason";

		if (!relisted && strcmp(reason, "MISSING") == 0) {
			*relist = true;
			continue;
		}
		snprintf(text, sizeof(text),
			"incomplete fleet: instance %.200s in failures (%.64s%s)",
			f->arn != NULL ? f->arn : "?", reason, relisted ? ", still listed" : "");
		proto_error(e, text);
		return false;
	}
	for (size_t i = 0; i < set->n_instances; i++) {
		const struct ecs_container_instance *in = &set->instances[i];

		if (in->remaining_cpu_units >= 0 && in->remaining_memory_mib >= 0)
			continue;
		snprintf(text, sizeof(text),
			"incomplete fleet: instance %.200s: remainingResources lacks %s",
			in->ec2_instance_id != NULL ? in->ec2_instance_id
						    : (in->arn != NULL ? in->arn : "?"),
			in->remaining_cpu_units < 0 ? "CPU" : "MEMORY");
		proto_error(e, text);
		return false;
	}
	return true;
}

static int list_instances(struct cloud_aws *aws, const char *cluster, cloud_instances_cb cb,
	void *arg, bool relisted);

static void on_described(
	int err, const struct aws_error *error, const struct ecs_instance_set *set, void *arg)
{
	struct req *r = arg;
	cloud_instances_cb cb = r->cb.instances;
	void *cb_arg = r->arg;
	struct cloud_instance *out;
	struct cloud_attribute **attrs;
	struct aws_error e;
	bool relist;

	observe(r, err, error);
	if (err != 0) {
		req_free(r);
		cb(err, error, NULL, 0, cb_arg);
		return;
	}
	if (!fleet_complete(set, r->relisted, &relist, &e)) {
		req_free(r);
		cb(-EPROTO, &e, NULL, 0, cb_arg);
		return;
	}
	if (relist) {
		int rc = list_instances(r->aws, r->cluster, cb, cb_arg, true);

		req_free(r);
		if (rc < 0) {
			proto_error(&e,
				"an instance in failures (MISSING), and it could not be listed "
				"again");
			e.err = rc;
			cb(rc, &e, NULL, 0, cb_arg);
		}
		return;
	}
	req_free(r);
	out = xcalloc(set->n_instances + 1, sizeof(*out));
	attrs = xcalloc(set->n_instances + 1, sizeof(*attrs));
	for (size_t i = 0; i < set->n_instances; i++) {
		const struct ecs_container_instance *in = &set->instances[i];

		attrs[i] = xcalloc(in->n_attributes + 1, sizeof(*attrs[i]));
		for (size_t k = 0; k < in->n_attributes; k++)
			attrs[i][k] = (struct cloud_attribute){
				in->attributes[k].name, in->attributes[k].value};
		out[i] = (struct cloud_instance){
			.arn = in->arn,
			.ec2_instance_id = in->ec2_instance_id,
			.status = in->status,
			.agent_connected = in->agent_connected,
			.registered_cpu_units = resource(in->registered_cpu_units),
			.registered_memory_mib = resource(in->registered_memory_mib),
			.remaining_cpu_units = resource(in->remaining_cpu_units),
			.remaining_memory_mib = resource(in->remaining_memory_mib),
			.taken_tcp_ports = in->taken_tcp_ports,
			.n_taken_tcp_ports = in->n_taken_tcp_ports,
			.taken_udp_ports = in->taken_udp_ports,
			.n_taken_udp_ports = in->n_taken_udp_ports,
			.attributes = attrs[i],
			.n_attributes = in->n_attributes,
		};
	}
	cb(0, NULL, out, set->n_instances, cb_arg);
	for (size_t i = 0; i < set->n_instances; i++)
		free(attrs[i]);
	free(attrs);
	free(out);
}

static void on_listed(
	int err, const struct aws_error *error, const struct ecs_arn_list *arns, void *arg)
{
	struct req *r = arg;
	struct cloud_aws *aws = r->aws;
	cloud_instances_cb cb = r->cb.instances;
	void *cb_arg = r->arg;
	struct req *next;
	int rc;

	observe(r, err, error);
	if (err != 0 || arns->n_arns == 0) {
		req_free(r);
		cb(err, error, NULL, 0, cb_arg);
		return;
	}
	next = req_new(aws, REQ_DESCRIBE, cb_arg);
	next->cb.instances = cb;
	next->relisted = r->relisted;
	next->cluster = r->cluster != NULL ? xstrdup(r->cluster) : NULL;
	rc = ecs_describe_container_instances(aws->client, r->cluster,
		(const char *const *)arns->arns, arns->n_arns, on_described, next, &next->ecs);
	req_free(r);
	if (rc < 0) {
		struct aws_error e;

		req_free(next);
		memset(&e, 0, sizeof(e));
		e.err = rc;
		e.error_class = AWS_ERROR_FATAL;
		snprintf(e.message, sizeof(e.message), "DescribeContainerInstances: %s",
			strerror(-rc));
		cb(rc, &e, NULL, 0, cb_arg);
	}
}

/* ListContainerInstances then DescribeContainerInstances; relisted on the second try. */
static int list_instances(
	struct cloud_aws *aws, const char *cluster, cloud_instances_cb cb, void *arg, bool relisted)
{
	struct req *r = req_new(aws, REQ_LIST, arg);
	int rc;

	r->cb.instances = cb;
	r->relisted = relisted;
	r->cluster = cluster != NULL ? xstrdup(cluster) : NULL;
	rc = ecs_list_container_instances(
		aws->client, cluster, NULL, "ACTIVE", on_listed, r, &r->ecs);
	if (rc < 0)
		req_free(r);
	return rc;
}

static int op_list_instances(void *ctx, const char *cluster, cloud_instances_cb cb, void *arg)
{
	return list_instances(ctx, cluster, cb, arg, false);
}

static void on_task_definition(
	int err, const struct aws_error *error, const struct ecs_task_definition *td, void *arg)
{
	struct req *r = arg;
	cloud_task_cb cb = r->cb.task;
	void *cb_arg = r->arg;
	struct ecs_task_reservation res = {0};
	struct cloud_task_reservation out;
	struct aws_error e;

	observe(r, err, error);
	req_free(r);
	if (err != 0) {
		cb(err, error, NULL, cb_arg);
		return;
	}
	if (ecs_task_reservation_compute(td, &res) < 0 || !fits_i32(res.cpu_units) ||
		!fits_i32(res.memory_mib)) {
		ecs_task_reservation_finish(&res);
		proto_error(&e, "the task definition's reservation is out of range");
		cb(-EPROTO, &e, NULL, cb_arg);
		return;
	}
	out = (struct cloud_task_reservation){
		.cpu_units = (int32_t)res.cpu_units,
		.memory_mib = (int32_t)res.memory_mib,
		.tcp_ports = res.tcp_ports,
		.n_tcp_ports = res.n_tcp_ports,
		.udp_ports = res.udp_ports,
		.n_udp_ports = res.n_udp_ports,
	};
	cb(0, NULL, &out, cb_arg);
	ecs_task_reservation_finish(&res);
}

static int op_task_reservation(void *ctx, const char *task_definition, cloud_task_cb cb, void *arg)
{
	struct cloud_aws *aws = ctx;
	struct req *r = req_new(aws, REQ_TASK, arg);
	int rc;

	r->cb.task = cb;
	rc = ecs_describe_task_definition(
		aws->client, task_definition, on_task_definition, r, &r->ecs);
	if (rc < 0)
		req_free(r);
	return rc;
}

static void on_updated(
	int err, const struct aws_error *error, const struct ecs_service *service, void *arg)
{
	struct req *r = arg;
	cloud_update_cb cb = r->cb.update;
	void *cb_arg = r->arg;
	struct cloud_service out = {0};
	struct aws_error e;

	observe(r, err, error);
	req_free(r);
	if (err != 0) {
		cb(err, error, NULL, cb_arg);
		return;
	}
	if (!take_service(&out, service)) {
		proto_error(&e, "a task count out of range in the response");
		cb(-EPROTO, &e, NULL, cb_arg);
		return;
	}
	cb(0, NULL, &out, cb_arg);
}

static int op_update_service(void *ctx, const char *cluster, const char *service, int32_t desired,
	cloud_update_cb cb, void *arg)
{
	struct cloud_aws *aws = ctx;
	struct req *r;
	int rc;

	if (desired < 0)
		return -EINVAL;
	r = req_new(aws, REQ_UPDATE, arg);
	r->cb.update = cb;
	rc = ecs_update_service_within(aws->client, cluster, service, desired,
		aws->update_budget_ms, on_updated, r, &r->ecs);
	if (rc < 0)
		req_free(r);
	return rc;
}

static const struct cloud_ops aws_ops = {
	.queue_counts = op_queue_counts,
	.describe_services = op_describe_services,
	.list_instances = op_list_instances,
	.task_reservation = op_task_reservation,
	.update_service = op_update_service,
};

struct cloud_aws *cloud_aws_create(struct aws_client *client)
{
	struct cloud_aws *aws = xcalloc(1, sizeof(*aws));

	aws->client = client;
	aws->cloud.ops = &aws_ops;
	aws->cloud.ctx = aws;
	return aws;
}

void cloud_aws_destroy(struct cloud_aws *aws)
{
	if (aws == NULL)
		return;
	while (aws->reqs != NULL) {
		struct req *r = aws->reqs;

		if (r->sqs != NULL)
			sqs_call_cancel(r->sqs);
		if (r->ecs != NULL)
			ecs_call_cancel(r->ecs);
		req_free(r);
	}
	free(aws);
}

void cloud_aws_set_observer(
	struct cloud_aws *aws, const struct clock *clock, cloud_aws_observer_cb cb, void *arg)
{
	aws->clock = clock;
	aws->observer = clock != NULL ? cb : NULL;
	aws->observer_arg = arg;
}

const struct cloud *cloud_aws_cloud(struct cloud_aws *aws)
{
	return &aws->cloud;
}

void cloud_aws_set_update_budget(struct cloud_aws *aws, uint64_t budget_ms)
{
	aws->update_budget_ms = budget_ms;
}

size_t cloud_aws_in_flight(const struct cloud_aws *aws)
{
	return aws->n_reqs;
}

int cloud_aws_client_create(struct event_base *base, const struct qscale_config *config,
	const struct clock *clock, struct diag *diag, struct aws_client **out)
{
	struct aws_client_config ac = {
		.region = config->region,
		.endpoint_sqs = config->aws.endpoints.sqs,
		.endpoint_ecs = config->aws.endpoints.ecs,
		.endpoint_dynamodb = config->aws.endpoints.dynamodb,
		.profile = config->aws.profile,
		.timeout_ms = config->aws.timeout_ms,
		.credential_process_timeout_ms = config->aws.credential_process_timeout_ms,
		.diag = diag,
		.max_connections = config->aws.max_connections,
	};

	return aws_client_create(base, &ac, clock, out);
}
