/*
 * The observe step of a cycle: plan which calls the due policies need (one
 * queue_counts per distinct queue, one describe_services per cluster, one
 * list_instances per local cluster, task_reservation only for task
 * definitions not cached), start them all at once and copy what each callback
 * brings into storage the cycle owns. Anything missing, failed or implausible
 * is recorded as an error on the piece it concerns; the decide step turns it
 * into a hold for exactly the policies that need that piece.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "control_priv.h"
#include "qscale/log.h"
#include "qscale/xalloc.h"

void ctl_format_error(char *out, size_t size, const char *operation, const char *subject, int err,
	const struct aws_error *error)
{
	const char *sep = subject != NULL ? " " : "";

	if (subject == NULL)
		subject = "";
	if (error != NULL && error->code[0] != '\0')
		snprintf(out, size, "%s%s%s: %s: %s", operation, sep, subject, error->code,
			error->message);
	else if (error != NULL && error->message[0] != '\0')
		snprintf(out, size, "%s%s%s: %s", operation, sep, subject, error->message);
	else
		snprintf(out, size, "%s%s%s: %s", operation, sep, subject,
			strerror(err < 0 ? -err : (err > 0 ? err : EIO)));
}

void ctl_policy_error(struct ctl_policy *p, const char *error)
{
	if (p->error[0] == '\0' && error != NULL && error[0] != '\0')
		snprintf(p->error, sizeof(p->error), "%s", error);
}

struct ctl_task *ctl_task_find(struct controller *ctl, const char *arn)
{
	for (size_t i = 0; i < ctl->n_tasks; i++) {
		if (strcmp(ctl->tasks[i].arn, arn) == 0)
			return &ctl->tasks[i];
	}
	return NULL;
}

/* Remember a reservation, forgetting the least recently used one when full. */
static void task_cache_put(struct controller *ctl, const char *arn,
	const struct engine_task_obs *task, uint64_t now_ms)
{
	struct ctl_task *t = ctl_task_find(ctl, arn);

	if (t == NULL && ctl->n_tasks == CTL_TASK_CACHE_MAX) {
		t = &ctl->tasks[0];
		for (size_t i = 1; i < ctl->n_tasks; i++) {
			if (ctl->tasks[i].used_ms < t->used_ms)
				t = &ctl->tasks[i];
		}
		free(t->arn);
		t->arn = xstrdup(arn);
	} else if (t == NULL) {
		if (ctl->tasks == NULL)
			ctl->tasks = xcalloc(CTL_TASK_CACHE_MAX, sizeof(*ctl->tasks));
		t = &ctl->tasks[ctl->n_tasks++];
		t->arn = xstrdup(arn);
	}
	t->task = *task;
	t->used_ms = now_ms;
}

/*
 * Make room for one more item in a growing array of the cycle: the first
 * time for as many items as there are policies (about what a cycle names of
 * each kind), so that a cycle of many policies does not regrow its arrays.
 */
static void *grow(struct ctl_cycle *c, void *items, size_t n, size_t *cap, size_t size)
{
	size_t first = c->ctl->n_policies > 8 ? c->ctl->n_policies : 8;

	if (n < *cap)
		return items;
	*cap = *cap ? *cap * 2 : first;
	return xreallocarray(items, *cap, size);
}

/* Index of the queue numbered id (its URL), added when new. */
static size_t plan_queue(struct ctl_cycle *c, size_t id, const char *url)
{
	size_t *slot = &c->ctl->queue_slot[id];
	struct ctl_queue *q;

	if (*slot != SIZE_MAX)
		return *slot;
	c->queues = grow(c, c->queues, c->n_queues, &c->cap_queues, sizeof(*c->queues));
	q = &c->queues[c->n_queues];
	/* zeroed up to the error text (last), which is read only up to its end */
	memset(q, 0, offsetof(struct ctl_queue, error));
	q->error[0] = '\0';
	q->cycle = c;
	q->url = url;
	*slot = c->n_queues;
	return c->n_queues++;
}

/* Index of the cluster numbered id (its name), added when new. */
static size_t plan_cluster(struct ctl_cycle *c, size_t id, const char *name)
{
	size_t *slot = &c->ctl->cluster_slot[id];

	if (*slot != SIZE_MAX)
		return *slot;
	c->clusters = grow(c, c->clusters, c->n_clusters, &c->cap_clusters, sizeof(*c->clusters));
	memset(&c->clusters[c->n_clusters], 0, sizeof(*c->clusters));
	c->clusters[c->n_clusters].cycle = c;
	c->clusters[c->n_clusters].name = name;
	*slot = c->n_clusters;
	return c->n_clusters++;
}

/* Index of the service numbered id in a cluster's DescribeServices, added when new. */
static size_t plan_service(struct ctl_cluster *cl, size_t id, const char *name)
{
	size_t *slot = &cl->cycle->ctl->service_slot[id];
	size_t cap = cl->cap_services;
	struct ctl_service *svc;

	if (*slot != SIZE_MAX)
		return *slot;
	cl->services = grow(cl->cycle, cl->services, cl->n_services, &cap, sizeof(*cl->services));
	cl->service_names = grow(cl->cycle, cl->service_names, cl->n_services, &cl->cap_services,
		sizeof(*cl->service_names));
	svc = &cl->services[cl->n_services];
	/* zeroed up to the error text (last), which is read only up to its end */
	memset(svc, 0, offsetof(struct ctl_service, error));
	svc->error[0] = '\0';
	svc->name = name;
	cl->service_names[cl->n_services] = name;
	*slot = cl->n_services;
	return cl->n_services++;
}

/* Forget where the last cycle put each name. */
static void plan_reset(struct controller *ctl)
{
	for (size_t i = 0; i < ctl->n_queue_ids; i++)
		ctl->queue_slot[i] = SIZE_MAX;
	for (size_t i = 0; i < ctl->n_cluster_ids; i++)
		ctl->cluster_slot[i] = SIZE_MAX;
	for (size_t i = 0; i < ctl->n_service_ids; i++)
		ctl->service_slot[i] = SIZE_MAX;
}

/*
 * Decide which calls the cycle makes and where each policy finds its pieces:
 * queues, clusters and services in the order the policies first name them,
 * each found by its number (made at config load), not by comparing names.
 */
static void plan(struct ctl_cycle *c)
{
	struct controller *ctl = c->ctl;

	plan_reset(ctl);
	for (size_t i = 0; i < ctl->n_policies; i++) {
		struct ctl_policy *p = &ctl->policies[i];
		const struct policy *pol = p->policy;

		if (!p->due)
			continue;
		p->queue = plan_queue(c, p->queue_id, pol->queue.url);
		p->local_cluster = plan_cluster(c, p->local_cluster_id, pol->local.cluster);
		c->clusters[p->local_cluster].want_instances = true;
		if (pol->burst.present)
			p->burst_cluster = plan_cluster(c, p->burst_cluster_id, pol->burst.cluster);
	}
	/* Services after clusters: the cluster array no longer moves. */
	for (size_t i = 0; i < ctl->n_policies; i++) {
		struct ctl_policy *p = &ctl->policies[i];
		const struct policy *pol = p->policy;
		struct ctl_cluster *local;

		if (!p->due)
			continue;
		local = &c->clusters[p->local_cluster];
		p->local_service = plan_service(local, p->local_service_id, pol->local.service);
		local->services[p->local_service].local = true;
		if (pol->burst.present)
			p->burst_service = plan_service(&c->clusters[p->burst_cluster],
				p->burst_service_id, pol->burst.service);
	}
	/* Policies not due whose cluster is sized now: their claims still count. */
	for (size_t i = 0; i < ctl->n_policies; i++) {
		struct ctl_policy *p = &ctl->policies[i];
		size_t k;

		if (p->due || !p->has_claim)
			continue;
		k = ctl->cluster_slot[p->local_cluster_id];
		if (k == SIZE_MAX || !c->clusters[k].want_instances)
			continue;
		p->claim_only = true;
		p->local_cluster = k;
		p->local_service = plan_service(
			&c->clusters[k], p->local_service_id, p->policy->local.service);
		c->clusters[k].services[p->local_service].local = true;
	}
}

/* SQS counts arrived. */
static void on_queue(
	int err, const struct aws_error *error, const struct cloud_queue_counts *counts, void *arg)
{
	struct ctl_queue *q = arg;

	if (err == 0 && counts == NULL)
		err = -EPROTO;
	if (err == 0 && (counts->visible < 0 || counts->in_flight < 0 || counts->delayed < 0)) {
		snprintf(q->error, sizeof(q->error),
			"GetQueueAttributes: negative message count in response");
	} else if (err != 0) {
		ctl_format_error(
			q->error, sizeof(q->error), "GetQueueAttributes", NULL, err, error);
	} else {
		q->obs.ok = true;
		q->obs.observed_ms = clock_mono_ms(q->cycle->ctl->clock);
		q->obs.visible = counts->visible;
		q->obs.in_flight = counts->in_flight;
		q->obs.delayed = counts->delayed;
	}
	ctl_cycle_step(q->cycle);
}

/* Whether a service of a response is the one asked for (by name or ARN). */
static bool service_is(const struct cloud_service *s, const char *name)
{
	size_t n, m;

	if (s->name != NULL && strcmp(s->name, name) == 0)
		return true;
	if (s->arn == NULL)
		return false;
	/* Lengths only for the ARN's tail: answers mostly name what was asked. */
	n = strlen(name);
	m = strlen(s->arn);
	return m > n && s->arn[m - n - 1] == '/' && strcmp(s->arn + m - n, name) == 0;
}

static void on_task(
	int err, const struct aws_error *error, const struct cloud_task_reservation *r, void *arg);

/* Fetch a task definition's reservation unless cached or already on its way. */
static void fetch_task(struct ctl_cycle *c, const char *arn)
{
	struct ctl_fetch *f;
	int rc;

	if (ctl_task_find(c->ctl, arn) != NULL)
		return;
	for (size_t i = 0; i < c->n_fetches; i++) {
		if (strcmp(c->fetches[i]->arn, arn) == 0)
			return;
	}
	f = xcalloc(1, sizeof(*f));
	f->cycle = c;
	f->arn = xstrdup(arn);
	c->fetches = xreallocarray(c->fetches, c->n_fetches + 1, sizeof(*c->fetches));
	c->fetches[c->n_fetches++] = f;
	rc = c->ctl->cloud->ops->task_reservation(c->ctl->cloud->ctx, arn, on_task, f);
	if (rc < 0)
		ctl_format_error(
			f->error, sizeof(f->error), "DescribeTaskDefinition", NULL, rc, NULL);
	else
		c->pending++;
}

/* Check and copy one described service. */
static void take_service(struct ctl_service *svc, const struct cloud_service *s, uint64_t now_ms)
{
	svc->seen = true;
	if (!s->found) {
		snprintf(svc->error, sizeof(svc->error), "DescribeServices %s: MISSING", svc->name);
		return;
	}
	if (s->status == NULL || strcmp(s->status, "ACTIVE") != 0) {
		snprintf(svc->error, sizeof(svc->error), "DescribeServices %s: status %s",
			svc->name, s->status != NULL ? s->status : "unknown");
		return;
	}
	if (s->desired < 0 || s->running < 0 || s->pending < 0 || s->desired > ENGINE_TASKS_MAX ||
		s->running > ENGINE_TASKS_MAX || s->pending > ENGINE_TASKS_MAX) {
		snprintf(svc->error, sizeof(svc->error),
			"DescribeServices %s: task counts out of range", svc->name);
		return;
	}
	free(svc->task_definition_long);
	svc->task_definition_long = NULL;
	svc->has_task_definition = false;
	if (s->task_definition != NULL && s->task_definition[0] != '\0') {
		size_t len = strlen(s->task_definition);

		if (len < sizeof(svc->task_definition_text))
			memcpy(svc->task_definition_text, s->task_definition, len + 1);
		else
			svc->task_definition_long = xstrdup(s->task_definition);
		svc->has_task_definition = true;
	}
	svc->obs.ok = true;
	svc->obs.observed_ms = now_ms;
	svc->obs.desired = s->desired;
	svc->obs.running = s->running;
	svc->obs.pending = s->pending;
}

/* ECS services arrived for one cluster. */
static void on_services(int err, const struct aws_error *error,
	const struct cloud_service *services, size_t n_services, void *arg)
{
	struct ctl_cluster *cl = arg;
	struct ctl_cycle *c = cl->cycle;
	uint64_t now_ms = clock_mono_ms(c->ctl->clock);

	if (err == 0 && services == NULL && n_services > 0)
		err = -EPROTO;
	for (size_t i = 0; i < cl->n_services; i++) {
		struct ctl_service *svc = &cl->services[i];

		if (err != 0) {
			ctl_format_error(svc->error, sizeof(svc->error), "DescribeServices",
				svc->name, err, error);
			continue;
		}
		/* Answers come in the order asked: look there first, then everywhere. */
		if (i < n_services && service_is(&services[i], svc->name))
			take_service(svc, &services[i], now_ms);
		for (size_t k = 0; k < n_services && !svc->seen; k++) {
			if (service_is(&services[k], svc->name))
				take_service(svc, &services[k], now_ms);
		}
		if (!svc->seen)
			snprintf(svc->error, sizeof(svc->error),
				"DescribeServices %s: not in the response", svc->name);
		else if (svc->obs.ok && svc->has_task_definition && svc->local)
			fetch_task(c, ctl_service_task_definition(svc));
	}
	ctl_cycle_step(c);
}

/* Free what one cluster's instance copies hold. */
static void instances_free(struct ctl_cluster *cl)
{
	free(cl->strings);
	free(cl->attributes);
	free(cl->ports);
	free(cl->data);
	free(cl->cluster.instances);
	cl->strings = NULL;
	cl->attributes = NULL;
	cl->ports = NULL;
	cl->data = NULL;
	cl->cluster.instances = NULL;
	cl->cluster.n_instances = 0;
}

/* Whether an instance's numbers can be right. */
static bool instance_plausible(const struct cloud_instance *s)
{
	return s->remaining_cpu_units >= 0 && s->remaining_memory_mib >= 0 &&
		!(s->n_taken_tcp_ports > 0 && s->taken_tcp_ports == NULL) &&
		!(s->n_taken_udp_ports > 0 && s->taken_udp_ports == NULL) &&
		!(s->n_attributes > 0 && s->attributes == NULL) &&
		s->n_taken_tcp_ports + s->n_taken_udp_ports <= 65536 * 2;
}

/* Copy s into the block at *at; the copy. */
static const char *put_string(char **at, const char *s)
{
	size_t n = strlen(s) + 1;
	char *out = *at;

	memcpy(out, s, n);
	*at += n;
	return out;
}

/* Copy one (plausible) instance, its text, attributes and ports into the blocks at *strings... */
static void take_instance(struct engine_instance *in, struct ctl_instance_data *d,
	const struct cloud_instance *s, char **strings, struct ecs_filter_attribute **attributes,
	struct engine_port **ports)
{
	size_t n_ports = s->n_taken_tcp_ports + s->n_taken_udp_ports;

	d->id = put_string(strings,
		s->ec2_instance_id != NULL ? s->ec2_instance_id : (s->arn != NULL ? s->arn : "?"));
	d->ec2_instance_id =
		s->ec2_instance_id != NULL ? put_string(strings, s->ec2_instance_id) : NULL;
	d->attributes = *attributes;
	for (size_t k = 0; k < s->n_attributes; k++) {
		if (s->attributes[k].name == NULL)
			continue;
		d->attributes[d->n_attributes].name = put_string(strings, s->attributes[k].name);
		d->attributes[d->n_attributes].value = s->attributes[k].value != NULL
			? put_string(strings, s->attributes[k].value)
			: NULL;
		d->n_attributes++;
	}
	*attributes += d->n_attributes;
	d->ports = *ports;
	for (size_t k = 0; k < s->n_taken_tcp_ports; k++)
		d->ports[k] = (struct engine_port){s->taken_tcp_ports[k], ENGINE_PROTO_TCP};
	for (size_t k = 0; k < s->n_taken_udp_ports; k++)
		d->ports[s->n_taken_tcp_ports + k] =
			(struct engine_port){s->taken_udp_ports[k], ENGINE_PROTO_UDP};
	*ports += n_ports;
	in->id = d->id;
	in->active = s->status != NULL && strcmp(s->status, "ACTIVE") == 0;
	in->agent_connected = s->agent_connected;
	in->matches_filter = true;
	in->remaining_cpu_units = s->remaining_cpu_units;
	in->remaining_memory_mib = s->remaining_memory_mib;
	in->used_ports = d->ports;
	in->n_used_ports = n_ports;
}

/* Bytes of text, attributes and ports an instance's copy takes. */
static void instance_size(
	const struct cloud_instance *s, size_t *strings, size_t *attributes, size_t *ports)
{
	const char *id =
		s->ec2_instance_id != NULL ? s->ec2_instance_id : (s->arn != NULL ? s->arn : "?");

	*strings += strlen(id) + 1;
	if (s->ec2_instance_id != NULL)
		*strings += strlen(s->ec2_instance_id) + 1;
	for (size_t k = 0; k < s->n_attributes; k++) {
		if (s->attributes[k].name == NULL)
			continue;
		*strings += strlen(s->attributes[k].name) + 1;
		if (s->attributes[k].value != NULL)
			*strings += strlen(s->attributes[k].value) + 1;
		(*attributes)++;
	}
	*ports += s->n_taken_tcp_ports + s->n_taken_udp_ports;
}

/*
 * ECS container instances arrived for one cluster: checked, then copied
 * into one block each of text, attributes and ports (a few allocations per
 * cluster and cycle, not several per instance).
 */
static void on_instances(int err, const struct aws_error *error,
	const struct cloud_instance *instances, size_t n_instances, void *arg)
{
	struct ctl_cluster *cl = arg;
	size_t n_strings = 0, n_attributes = 0, n_ports = 0;
	char *strings;
	struct ecs_filter_attribute *attributes;
	struct engine_port *ports;

	if (err == 0 && instances == NULL && n_instances > 0)
		err = -EPROTO;
	if (err != 0) {
		ctl_format_error(cl->instances_error, sizeof(cl->instances_error),
			"ListContainerInstances", NULL, err, error);
		ctl_cycle_step(cl->cycle);
		return;
	}
	for (size_t i = 0; i < n_instances; i++) {
		if (!instance_plausible(&instances[i])) {
			snprintf(cl->instances_error, sizeof(cl->instances_error),
				"DescribeContainerInstances: implausible resources in response");
			ctl_cycle_step(cl->cycle);
			return;
		}
		instance_size(&instances[i], &n_strings, &n_attributes, &n_ports);
	}
	cl->cluster.instances = xcalloc(n_instances + 1, sizeof(*cl->cluster.instances));
	cl->data = xcalloc(n_instances + 1, sizeof(*cl->data));
	cl->strings = strings = xmalloc(n_strings + 1);
	cl->attributes = attributes = xcalloc(n_attributes + 1, sizeof(*attributes));
	cl->ports = ports = xcalloc(n_ports + 1, sizeof(*ports));
	for (size_t i = 0; i < n_instances; i++)
		take_instance(&cl->cluster.instances[i], &cl->data[i], &instances[i], &strings,
			&attributes, &ports);
	cl->cluster.n_instances = n_instances;
	cl->cluster.ok = true;
	cl->cluster.observed_ms = clock_mono_ms(cl->cycle->ctl->clock);
	ctl_cycle_step(cl->cycle);
}

/* Copy a reservation into the engine's form; false when it cannot be right. */
static bool take_task(struct engine_task_obs *t, const struct cloud_task_reservation *r)
{
	size_t n = 0;

	if (r->cpu_units < 0 || r->memory_mib < 0 ||
		r->n_tcp_ports + r->n_udp_ports > ENGINE_TASK_PORTS_MAX ||
		(r->n_tcp_ports > 0 && r->tcp_ports == NULL) ||
		(r->n_udp_ports > 0 && r->udp_ports == NULL))
		return false;
	memset(t, 0, sizeof(*t));
	t->ok = true;
	t->cpu_units = r->cpu_units;
	t->memory_mib = r->memory_mib;
	for (size_t i = 0; i < r->n_tcp_ports; i++)
		t->ports[n++] = (struct engine_port){r->tcp_ports[i], ENGINE_PROTO_TCP};
	for (size_t i = 0; i < r->n_udp_ports; i++)
		t->ports[n++] = (struct engine_port){r->udp_ports[i], ENGINE_PROTO_UDP};
	t->n_ports = n;
	return true;
}

/* A task definition's reservation arrived. */
static void on_task(
	int err, const struct aws_error *error, const struct cloud_task_reservation *r, void *arg)
{
	struct ctl_fetch *f = arg;
	struct ctl_cycle *c = f->cycle;

	if (err == 0 && r == NULL)
		err = -EPROTO;
	if (err != 0) {
		ctl_format_error(
			f->error, sizeof(f->error), "DescribeTaskDefinition", NULL, err, error);
	} else if (!take_task(&f->task, r)) {
		snprintf(f->error, sizeof(f->error),
			"DescribeTaskDefinition: implausible reservation in response");
	} else {
		f->ok = true;
		task_cache_put(c->ctl, f->arn, &f->task, clock_mono_ms(c->ctl->clock));
	}
	ctl_cycle_step(c);
}

void ctl_observe_start(struct ctl_cycle *c)
{
	const struct cloud *cloud = c->ctl->cloud;
	int rc;

	plan(c);
	for (size_t i = 0; i < c->n_queues; i++) {
		struct ctl_queue *q = &c->queues[i];

		rc = cloud->ops->queue_counts(cloud->ctx, q->url, on_queue, q);
		if (rc < 0)
			ctl_format_error(
				q->error, sizeof(q->error), "GetQueueAttributes", NULL, rc, NULL);
		else
			c->pending++;
	}
	for (size_t i = 0; i < c->n_clusters; i++) {
		struct ctl_cluster *cl = &c->clusters[i];

		rc = cloud->ops->describe_services(
			cloud->ctx, cl->name, cl->service_names, cl->n_services, on_services, cl);
		if (rc < 0) {
			for (size_t k = 0; k < cl->n_services; k++)
				ctl_format_error(cl->services[k].error,
					sizeof(cl->services[k].error), "DescribeServices",
					cl->services[k].name, rc, NULL);
		} else {
			c->pending++;
		}
		if (!cl->want_instances)
			continue;
		rc = cloud->ops->list_instances(cloud->ctx, cl->name, on_instances, cl);
		if (rc < 0)
			ctl_format_error(cl->instances_error, sizeof(cl->instances_error),
				"ListContainerInstances", NULL, rc, NULL);
		else
			c->pending++;
	}
}

void ctl_observe_free(struct ctl_cycle *c)
{
	for (size_t i = 0; i < c->n_clusters; i++) {
		struct ctl_cluster *cl = &c->clusters[i];

		for (size_t k = 0; k < cl->n_services; k++)
			free(cl->services[k].task_definition_long);
		free(cl->services);
		free(cl->service_names);
		instances_free(cl);
		for (size_t k = 0; cl->matches != NULL && k < c->ctl->n_filter_ids; k++)
			free(cl->matches[k]);
		free(cl->matches);
	}
	for (size_t i = 0; i < c->n_fetches; i++) {
		free(c->fetches[i]->arn);
		free(c->fetches[i]);
	}
	free(c->fetches);
	free(c->clusters);
	free(c->queues);
	c->fetches = NULL;
	c->clusters = NULL;
	c->queues = NULL;
	c->n_fetches = c->n_clusters = c->n_queues = 0;
}
