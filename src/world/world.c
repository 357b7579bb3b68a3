/*
 * The world: its lifecycle, the step loop that moves it forward in time, and
 * the lookups the emulator answers SQS and ECS calls from (queues by URL or
 * name, clusters, instances and services by name or ARN, task definitions,
 * UpdateService).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/xalloc.h"
#include "world_priv.h"

/* The longest single step: rates and consumption are integrated per step. */
#define STEP_MAX_MS 1000

/* Build a world at t=0. */
int world_create(const struct scenario *sc, uint64_t start_wall_ms, struct world **out)
{
	struct world *w;

	if (sc == NULL || out == NULL)
		return -EINVAL;
	w = xcalloc(1, sizeof(*w));
	w->sc = sc;
	w->start_wall_ms = start_wall_ms;
	w->rng = sc->seed;
	world_stats_bounds_init(w->wait_bounds);
	world_ecs_init(w);
	w->queue_count = sc->queue_count;
	w->queues = xcalloc(sc->queue_count + 1, sizeof(*w->queues));
	for (size_t i = 0; i < sc->queue_count; i++) {
		struct world_queue *q = &w->queues[i];

		world_queue_init(w, q, &sc->queues[i]);
		for (size_t s = 0; s < sc->service_count; s++) {
			if (!sc->services[s].has_queue || sc->services[s].queue != i)
				continue;
			q->consumers = xreallocarray(
				q->consumers, q->consumer_count + 1, sizeof(*q->consumers));
			q->consumers[q->consumer_count++] = &w->services[s];
		}
	}
	world_fault_init(w);
	world_ecs_start_initial(w);
	world_ecs_settle(w);
	for (size_t i = 0; i < w->queue_count; i++)
		world_queue_snapshot(&w->queues[i], 0);
	*out = w;
	return 0;
}

/* Free a world. */
void world_destroy(struct world *w)
{
	if (w == NULL)
		return;
	for (size_t i = 0; i < w->queue_count; i++)
		world_queue_finish(&w->queues[i]);
	free(w->queues);
	world_ecs_finish(w);
	free(w->faults);
	free(w);
}

/*
 * Steps of a whole STEP_MAX_MS each, k of them, queue by queue: what k
 * turns of the loop in world_advance do when ECS settles nothing in
 * between (world_ecs_quiet), in another order. Queues share nothing
 * within a step (each service polls one queue), and every sum still adds
 * the same terms in the same order, so the results are the same numbers;
 * each queue's counters stay in cache over its k steps.
 */
static void advance_quiet(struct world *w, uint64_t k)
{
	uint64_t t0 = w->now_ms;

	world_ecs_account_steps(w, STEP_MAX_MS, k);
	for (size_t i = 0; i < w->queue_count; i++) {
		struct world_queue *q = &w->queues[i];
		uint64_t t = t0;

		for (uint64_t j = 0; j < k; j++, t += STEP_MAX_MS) {
			world_queue_step(w, q, t, t + STEP_MAX_MS);
			world_queue_snapshot(q, t + STEP_MAX_MS);
		}
	}
	w->now_ms = t0 + k * STEP_MAX_MS;
	world_ecs_settle(w);
}

/* Step to t_ms. */
int world_advance(struct world *w, uint64_t t_ms)
{
	if (t_ms < w->now_ms)
		return -EINVAL;
	while (w->now_ms < t_ms) {
		uint64_t next = t_ms, change = world_ecs_next_change_ms(w);
		uint64_t k = (t_ms - w->now_ms) / STEP_MAX_MS;

		/* Settling at the ends of the first k - 1 steps would do nothing. */
		if (change <= w->now_ms)
			k = 0;
		else if ((change - w->now_ms) / STEP_MAX_MS < k)
			k = (change - w->now_ms) / STEP_MAX_MS;
		if (k >= 2 && world_ecs_quiet(w)) {
			advance_quiet(w, k);
			continue;
		}
		if (next - w->now_ms > STEP_MAX_MS)
			next = w->now_ms + STEP_MAX_MS;
		if (change > w->now_ms && change < next)
			next = change;
		world_ecs_account(w, next - w->now_ms);
		for (size_t i = 0; i < w->queue_count; i++)
			world_queue_step(w, &w->queues[i], w->now_ms, next);
		w->now_ms = next;
		world_ecs_settle(w);
		for (size_t i = 0; i < w->queue_count; i++)
			world_queue_snapshot(&w->queues[i], w->now_ms);
	}
	return 0;
}

/* Current model time. */
uint64_t world_now_ms(const struct world *w)
{
	return w->now_ms;
}

/* Wall clock at t=0. */
uint64_t world_start_wall_ms(const struct world *w)
{
	return w->start_wall_ms;
}

/* The scenario. */
const struct scenario *world_scenario(const struct world *w)
{
	return w->sc;
}

/* Fill a queue's info. */
static void queue_info(const struct world *w, size_t i, struct world_queue_info *out)
{
	const struct world_queue *q = &w->queues[i];

	out->index = i;
	out->name = q->sq->name;
	out->arn = q->arn;
	out->created_at_wall_ms = w->start_wall_ms;
	world_queue_reported(q, w->now_ms, &out->reported);
	world_queue_counts(q, &out->actual);
}

/* A queue by name or URL ending in /<account>/<name>. */
int world_queue_get(const struct world *w, const char *url_or_name, struct world_queue_info *out)
{
	const char *name = url_or_name, *slash = strrchr(url_or_name, '/');

	if (slash != NULL) {
		size_t acct_len = strlen(w->sc->account_id);

		name = slash + 1;
		if ((size_t)(slash - url_or_name) < acct_len + 1 ||
			slash[-(long)acct_len - 1] != '/' ||
			strncmp(slash - acct_len, w->sc->account_id, acct_len) != 0)
			return -ENOENT;
	}
	for (size_t i = 0; i < w->queue_count; i++) {
		if (strcmp(w->queues[i].sq->name, name) == 0) {
			queue_info(w, i, out);
			return 0;
		}
	}
	return -ENOENT;
}

/* A queue by index. */
int world_queue_at(const struct world *w, size_t index, struct world_queue_info *out)
{
	if (index >= w->queue_count)
		return -ENOENT;
	queue_info(w, index, out);
	return 0;
}

/* Number of queues. */
size_t world_queue_count(const struct world *w)
{
	return w->queue_count;
}

/* AWS error codes. */
const char *world_ecs_error_code(enum world_ecs_error e)
{
	switch (e) {
	case WORLD_ECS_OK:
		return "";
	case WORLD_ECS_CLUSTER_NOT_FOUND:
		return "ClusterNotFoundException";
	case WORLD_ECS_SERVICE_NOT_FOUND:
		return "ServiceNotFoundException";
	case WORLD_ECS_SERVICE_NOT_ACTIVE:
		return "ServiceNotActiveException";
	case WORLD_ECS_INVALID_PARAMETER:
		return "InvalidParameterException";
	case WORLD_ECS_CLIENT_EXCEPTION:
		return "ClientException";
	case WORLD_ECS_INSTANCE_NOT_FOUND:
		return "MISSING";
	}
	return "ServerException";
}

/* Messages as ECS words them. */
const char *world_ecs_error_message(enum world_ecs_error e)
{
	switch (e) {
	case WORLD_ECS_OK:
		return "";
	case WORLD_ECS_CLUSTER_NOT_FOUND:
		return "Cluster not found.";
	case WORLD_ECS_SERVICE_NOT_FOUND:
		return "Service not found.";
	case WORLD_ECS_SERVICE_NOT_ACTIVE:
		return "Service was not ACTIVE.";
	case WORLD_ECS_INVALID_PARAMETER:
		return "Invalid desiredCount: it must be between 0 and 100000.";
	case WORLD_ECS_CLIENT_EXCEPTION:
		return "Unable to describe task definition.";
	case WORLD_ECS_INSTANCE_NOT_FOUND:
		return "Container instance not found.";
	}
	return "Internal error.";
}

/* Cluster index by name or ARN (NULL: "default"). */
static int find_cluster(const struct world *w, const char *name_or_arn)
{
	return scenario_find_cluster(w->sc, name_or_arn ? name_or_arn : "default");
}

/* Fill a cluster's info. */
static void cluster_info(const struct world *w, size_t c, struct world_cluster_info *out)
{
	memset(out, 0, sizeof(*out));
	out->index = c;
	out->name = w->clusters[c].scl->name;
	out->arn = w->clusters[c].scl->arn;
	out->instance_count = w->clusters[c].instance_count;
	for (size_t i = 0; i < w->service_count; i++) {
		const struct world_service *s = &w->services[i];

		if (s->ss->cluster != c)
			continue;
		out->service_count++;
		out->running_tasks += s->running;
		out->pending_tasks += s->pending;
	}
}

/* A cluster by name or ARN. */
enum world_ecs_error world_cluster_get(
	const struct world *w, const char *name_or_arn, struct world_cluster_info *out)
{
	int c = find_cluster(w, name_or_arn);

	if (c < 0)
		return WORLD_ECS_CLUSTER_NOT_FOUND;
	cluster_info(w, (size_t)c, out);
	return WORLD_ECS_OK;
}

/* A cluster by index. */
enum world_ecs_error world_cluster_at(
	const struct world *w, size_t index, struct world_cluster_info *out)
{
	if (index >= w->cluster_count)
		return WORLD_ECS_CLUSTER_NOT_FOUND;
	cluster_info(w, index, out);
	return WORLD_ECS_OK;
}

/* Number of clusters. */
size_t world_cluster_count(const struct world *w)
{
	return w->cluster_count;
}

/* Registered container instances of a cluster by index (0 past the last). */
size_t world_cluster_instance_count(const struct world *w, size_t index)
{
	return index < w->cluster_count ? w->clusters[index].instance_count : 0;
}

/* "ACTIVE" / "DRAINING". */
const char *world_instance_status_name(enum world_instance_status s)
{
	return s == WORLD_INSTANCE_DRAINING ? "DRAINING" : "ACTIVE";
}

/* Fill an instance's info. */
static void instance_info(
	const struct world *w, size_t c, size_t i, struct world_instance_info *out)
{
	const struct world_instance *in = &w->clusters[c].instances[i];
	const struct scenario_instance *si = in->si;

	out->index = i;
	out->arn = in->arn;
	out->container_instance_id = si->container_instance_id;
	out->ec2_instance_id = si->ec2_instance_id;
	out->status = in->status;
	out->agent_connected = in->agent_connected;
	out->registered_cpu_units = si->cpu_units;
	out->remaining_cpu_units = in->remaining_cpu_units;
	out->registered_memory_mib = si->memory_mib;
	out->remaining_memory_mib = in->remaining_memory_mib;
	out->registered_ports_tcp = si->reserved_ports_tcp;
	out->registered_ports_tcp_count = si->reserved_ports_tcp_count;
	out->remaining_ports_tcp = in->used_tcp.items;
	out->remaining_ports_tcp_count = in->used_tcp.len;
	out->registered_ports_udp = si->reserved_ports_udp;
	out->registered_ports_udp_count = si->reserved_ports_udp_count;
	out->remaining_ports_udp = in->used_udp.items;
	out->remaining_ports_udp_count = in->used_udp.len;
	out->attributes = si->attributes;
	out->attribute_count = si->attribute_count;
	out->running_tasks = in->running;
	out->pending_tasks = in->pending;
	out->registered_at_wall_ms = w->start_wall_ms + si->registered_at_ms;
	out->agent_version = "1.89.2";
}

/* The instance at index of a cluster. */
enum world_ecs_error world_instance_at(
	const struct world *w, size_t cluster, size_t index, struct world_instance_info *out)
{
	if (cluster >= w->cluster_count || index >= w->clusters[cluster].instance_count)
		return WORLD_ECS_INSTANCE_NOT_FOUND;
	instance_info(w, cluster, index, out);
	return WORLD_ECS_OK;
}

/* An instance by ARN or container instance id. */
enum world_ecs_error world_instance_get(const struct world *w, size_t cluster,
	const char *arn_or_id, struct world_instance_info *out)
{
	if (cluster >= w->cluster_count)
		return WORLD_ECS_CLUSTER_NOT_FOUND;
	for (size_t i = 0; i < w->clusters[cluster].instance_count; i++) {
		const struct world_instance *in = &w->clusters[cluster].instances[i];

		if (strcmp(in->arn, arn_or_id) == 0 ||
			strcmp(in->si->container_instance_id, arn_or_id) == 0) {
			instance_info(w, cluster, i, out);
			return WORLD_ECS_OK;
		}
	}
	return WORLD_ECS_INSTANCE_NOT_FOUND;
}

/* Fill a service's info. */
static void service_info(const struct world *w, size_t i, struct world_service_info *out)
{
	const struct world_service *s = &w->services[i];
	const struct scenario_service *ss = s->ss;
	const struct scenario_cluster *cl = &w->sc->clusters[ss->cluster];

	out->index = i;
	out->name = ss->name;
	out->arn = ss->arn;
	out->cluster_name = cl->name;
	out->cluster_arn = cl->arn;
	out->status = s->status_name;
	out->launch_type = ss->launch_type;
	out->launch_type_name = scenario_launch_type_name(ss->launch_type);
	out->desired_count = s->desired;
	out->running_count = s->running;
	out->pending_count = s->pending;
	out->unplaced_count = s->desired - s->running - s->pending;
	out->task_definition_arn = w->sc->task_definitions[ss->task_definition].arn;
	out->created_at_wall_ms = w->start_wall_ms + ss->created_at_ms;
	out->updated_at_wall_ms = w->start_wall_ms + s->updated_ms;
	out->queue_name = ss->has_queue ? w->sc->queues[ss->queue].name : NULL;
	out->messages_per_task_s = ss->messages_per_task_s;
}

/* Resolve cluster then service; the index of the service. */
static enum world_ecs_error find_service(
	const struct world *w, const char *cluster, const char *service, size_t *out)
{
	int c = find_cluster(w, cluster);

	if (c < 0)
		return WORLD_ECS_CLUSTER_NOT_FOUND;
	if (service == NULL)
		return WORLD_ECS_SERVICE_NOT_FOUND;
	for (size_t i = 0; i < w->service_count; i++) {
		const struct scenario_service *ss = w->services[i].ss;

		if (ss->cluster == (size_t)c &&
			(strcmp(ss->name, service) == 0 || strcmp(ss->arn, service) == 0)) {
			*out = i;
			return WORLD_ECS_OK;
		}
	}
	return WORLD_ECS_SERVICE_NOT_FOUND;
}

/* A service of a cluster. */
enum world_ecs_error world_service_get(const struct world *w, const char *cluster,
	const char *service, struct world_service_info *out)
{
	size_t i;
	enum world_ecs_error e = find_service(w, cluster, service, &i);

	if (e == WORLD_ECS_OK)
		service_info(w, i, out);
	return e;
}

/* A service by world-wide index. */
enum world_ecs_error world_service_at(
	const struct world *w, size_t index, struct world_service_info *out)
{
	if (index >= w->service_count)
		return WORLD_ECS_SERVICE_NOT_FOUND;
	service_info(w, index, out);
	return WORLD_ECS_OK;
}

/* Number of services. */
size_t world_service_count(const struct world *w)
{
	return w->service_count;
}

/* UpdateService desiredCount. */
enum world_ecs_error world_service_set_desired(struct world *w, const char *cluster,
	const char *service, int64_t desired_count, struct world_service_info *out)
{
	size_t i;
	enum world_ecs_error e;

	if (desired_count < 0 || desired_count > 100000)
		return WORLD_ECS_INVALID_PARAMETER;
	if ((e = find_service(w, cluster, service, &i)) != WORLD_ECS_OK)
		return e;
	if (w->services[i].ss->status != SCENARIO_SERVICE_ACTIVE)
		return WORLD_ECS_SERVICE_NOT_ACTIVE;
	world_ecs_set_desired(w, &w->services[i], (uint32_t)desired_count);
	if (out != NULL)
		service_info(w, i, out);
	return WORLD_ECS_OK;
}

/* DescribeTaskDefinition. */
enum world_ecs_error world_task_definition_get(
	const struct world *w, const char *ref, const struct scenario_task_definition **out)
{
	int i = ref ? scenario_find_task_definition(w->sc, ref) : -ENOENT;

	if (i < 0)
		return WORLD_ECS_CLIENT_EXCEPTION;
	*out = &w->sc->task_definitions[i];
	return WORLD_ECS_OK;
}
