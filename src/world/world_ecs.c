/*
 * The ECS model: container instances with registered and remaining
 * resources, services with desired/running/pending counts, and their tasks.
 *
 * Placement follows ECS: a new task of an EXTERNAL service goes PENDING on an
 * instance that is ACTIVE, has its agent connected and whose remaining CPU,
 * MEMORY and host ports cover the task's reservation (AWS.md 2.5); among
 * those, the one with the fewest tasks (spread by instance), lowest index on
 * a tie. It turns RUNNING after the on-prem startup delay. A task that fits
 * nowhere stays unplaced (running + pending < desired) and is retried
 * whenever the world settles. Fargate tasks always place and run after the
 * Fargate delay. When desired falls, pending tasks stop before running ones,
 * newest first, and give their resources back at once. A service's tasks are
 * kept in placement order, so "newest" is "last".
 *
 * Instance events: a disconnected agent gets no new tasks but its tasks keep
 * running (ECS keeps counting them); a DRAINING instance's tasks are stopped
 * and the services place replacements elsewhere.
 */
#include <stdlib.h>
#include <string.h>

#include "qscale/xalloc.h"
#include "world_priv.h"

/* Is port p in the set? */
static bool ports_has(const struct world_ports *set, uint16_t p)
{
	size_t lo = 0, hi = set->len;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (set->items[mid] == p)
			return true;
		if (set->items[mid] < p)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Add p to the set, keeping it sorted. */
static void ports_add(struct world_ports *set, uint16_t p)
{
	size_t i = set->len;

	if (set->len == set->cap) {
		set->cap = set->cap ? set->cap * 2 : 8;
		set->items = xreallocarray(set->items, set->cap, sizeof(*set->items));
	}
	while (i > 0 && set->items[i - 1] > p) {
		set->items[i] = set->items[i - 1];
		i--;
	}
	set->items[i] = p;
	set->len++;
}

/* Remove p from the set (if there). */
static void ports_remove(struct world_ports *set, uint16_t p)
{
	for (size_t i = 0; i < set->len; i++) {
		if (set->items[i] == p) {
			memmove(&set->items[i], &set->items[i + 1],
				(set->len - i - 1) * sizeof(*set->items));
			set->len--;
			return;
		}
	}
}

/* Set up instances and services from the scenario. */
void world_ecs_init(struct world *w)
{
	const struct scenario *sc = w->sc;

	w->cluster_count = sc->cluster_count;
	w->clusters = xcalloc(sc->cluster_count + 1, sizeof(*w->clusters));
	for (size_t c = 0; c < sc->cluster_count; c++) {
		struct world_cluster *cl = &w->clusters[c];
		const struct scenario_cluster *scl = &sc->clusters[c];

		cl->scl = scl;
		cl->instance_count = scl->instance_count;
		cl->instances = xcalloc(scl->instance_count + 1, sizeof(*cl->instances));
		for (size_t i = 0; i < scl->instance_count; i++) {
			struct world_instance *in = &cl->instances[i];
			const struct scenario_instance *si = &scl->instances[i];

			in->si = si;
			in->arn = xasprintf("arn:aws:ecs:%s:%s:container-instance/%s/%s",
				sc->region, sc->account_id, scl->name, si->container_instance_id);
			in->status = si->status == SCENARIO_INSTANCE_DRAINING
				? WORLD_INSTANCE_DRAINING
				: WORLD_INSTANCE_ACTIVE;
			in->agent_connected = si->agent_connected;
			in->remaining_cpu_units = si->cpu_units;
			in->remaining_memory_mib = si->memory_mib;
			for (size_t k = 0; k < si->reserved_ports_tcp_count; k++)
				ports_add(&in->used_tcp, si->reserved_ports_tcp[k]);
			for (size_t k = 0; k < si->reserved_ports_udp_count; k++)
				ports_add(&in->used_udp, si->reserved_ports_udp[k]);
		}
	}
	w->service_count = sc->service_count;
	w->services = xcalloc(sc->service_count + 1, sizeof(*w->services));
	for (size_t i = 0; i < sc->service_count; i++) {
		struct world_service *s = &w->services[i];
		static const char *const statuses[] = {"ACTIVE", "DRAINING", "INACTIVE"};

		s->ss = &sc->services[i];
		scenario_task_definition_reservation(
			&sc->task_definitions[s->ss->task_definition], &s->res);
		s->status_name = statuses[s->ss->status];
		s->desired = s->ss->desired_count;
		s->next_ready_ms = UINT64_MAX;
		s->updated_ms = s->ss->created_at_ms;
	}
}

/* Free instances and services. */
void world_ecs_finish(struct world *w)
{
	for (size_t c = 0; c < w->cluster_count; c++) {
		for (size_t i = 0; i < w->clusters[c].instance_count; i++) {
			struct world_instance *in = &w->clusters[c].instances[i];

			free(in->arn);
			free(in->used_tcp.items);
			free(in->used_udp.items);
		}
		free(w->clusters[c].instances);
	}
	free(w->clusters);
	for (size_t i = 0; i < w->service_count; i++) {
		free(w->services[i].tasks);
		free(w->services[i].held.items);
	}
	free(w->services);
}

/* Can the instance take one more task with this reservation? */
static bool fits(const struct world_instance *in, const struct scenario_reservation *r)
{
	if (in->status != WORLD_INSTANCE_ACTIVE || !in->agent_connected)
		return false;
	if (in->remaining_cpu_units < r->cpu_units || in->remaining_memory_mib < r->memory_mib)
		return false;
	for (size_t k = 0; k < r->ports_tcp_count; k++)
		if (ports_has(&in->used_tcp, r->ports_tcp[k]))
			return false;
	for (size_t k = 0; k < r->ports_udp_count; k++)
		if (ports_has(&in->used_udp, r->ports_udp[k]))
			return false;
	return true;
}

/* Recompute the earliest pending task's ready time. */
static void refresh_next_ready(struct world_service *s)
{
	s->next_ready_ms = UINT64_MAX;
	for (size_t i = 0; i < s->task_count; i++)
		if (s->tasks[i].state == WORLD_TASK_PENDING &&
			s->tasks[i].ready_ms < s->next_ready_ms)
			s->next_ready_ms = s->tasks[i].ready_ms;
}

/* Place one task of s now, if there is room; false when it fits nowhere. */
static bool place_one(struct world *w, struct world_service *s, bool running)
{
	struct world_task t = {.instance = WORLD_TASK_NO_INSTANCE, .started_ms = w->now_ms};

	if (s->ss->launch_type == SCENARIO_LAUNCH_FARGATE) {
		t.ready_ms = w->now_ms + w->sc->fargate_startup_ms;
	} else {
		struct world_cluster *cl = &w->clusters[s->ss->cluster];
		struct world_instance *in;
		uint32_t best_load = UINT32_MAX;

		for (size_t i = 0; i < cl->instance_count; i++) {
			uint32_t load = cl->instances[i].running + cl->instances[i].pending;

			if (load < best_load && fits(&cl->instances[i], &s->res)) {
				best_load = load;
				t.instance = (uint32_t)i;
			}
		}
		if (t.instance == WORLD_TASK_NO_INSTANCE)
			return false;
		in = &cl->instances[t.instance];
		in->remaining_cpu_units -= s->res.cpu_units;
		in->remaining_memory_mib -= s->res.memory_mib;
		for (size_t k = 0; k < s->res.ports_tcp_count; k++)
			ports_add(&in->used_tcp, s->res.ports_tcp[k]);
		for (size_t k = 0; k < s->res.ports_udp_count; k++)
			ports_add(&in->used_udp, s->res.ports_udp[k]);
		if (running)
			in->running++;
		else
			in->pending++;
		t.ready_ms = w->now_ms + w->sc->onprem_startup_ms;
	}
	if (s->task_count == s->task_cap) {
		s->task_cap = s->task_cap ? s->task_cap * 2 : 8;
		s->tasks = xreallocarray(s->tasks, s->task_cap, sizeof(*s->tasks));
	}
	if (running) {
		t.state = WORLD_TASK_RUNNING;
		t.ready_ms = w->now_ms;
		s->running++;
	} else {
		t.state = WORLD_TASK_PENDING;
		s->pending++;
		if (t.ready_ms < s->next_ready_ms)
			s->next_ready_ms = t.ready_ms;
	}
	s->tasks[s->task_count++] = t;
	s->stats.tasks_started++;
	return true;
}

/* Stop task i of s and give its resources back; compact() removes it later. */
static void stop_task(struct world *w, struct world_service *s, size_t i)
{
	struct world_task *t = &s->tasks[i];

	if (t->instance != WORLD_TASK_NO_INSTANCE) {
		struct world_instance *in = &w->clusters[s->ss->cluster].instances[t->instance];

		in->remaining_cpu_units += s->res.cpu_units;
		in->remaining_memory_mib += s->res.memory_mib;
		for (size_t k = 0; k < s->res.ports_tcp_count; k++)
			ports_remove(&in->used_tcp, s->res.ports_tcp[k]);
		for (size_t k = 0; k < s->res.ports_udp_count; k++)
			ports_remove(&in->used_udp, s->res.ports_udp[k]);
		if (t->state == WORLD_TASK_RUNNING)
			in->running--;
		else
			in->pending--;
	}
	if (t->state == WORLD_TASK_RUNNING)
		s->running--;
	else
		s->pending--;
	if (s->ss->launch_type == SCENARIO_LAUNCH_FARGATE &&
		w->now_ms - t->started_ms < WORLD_FARGATE_MINIMUM_MS)
		s->minimum_billed_s +=
			(double)(WORLD_FARGATE_MINIMUM_MS - (w->now_ms - t->started_ms)) / 1000.0;
	t->state = WORLD_TASK_STOPPED;
	s->stats.tasks_stopped++;
}

/* Drop stopped tasks in one pass, keeping the others in placement order. */
static void compact(struct world_service *s)
{
	size_t out = 0;

	for (size_t i = 0; i < s->task_count; i++)
		if (s->tasks[i].state != WORLD_TASK_STOPPED)
			s->tasks[out++] = s->tasks[i];
	s->task_count = out;
	refresh_next_ready(s);
}

/*
 * Stop n tasks: pending before running, newest first. Tasks sit in the array
 * in the order they were placed, so the newest are at the end; one pass per
 * state and one compaction keep a large scale-in linear.
 */
static void stop_newest(struct world *w, struct world_service *s, uint32_t n)
{
	for (uint8_t state = WORLD_TASK_PENDING; n > 0 && state <= WORLD_TASK_RUNNING; state++)
		for (size_t i = s->task_count; n > 0 && i-- > 0;)
			if (s->tasks[i].state == state) {
				stop_task(w, s, i);
				n--;
			}
	compact(s);
}

/* Place what is missing of s, then count new placement failures. */
static void place_missing(struct world *w, struct world_service *s)
{
	uint32_t unplaced;

	while (s->running + s->pending < s->desired && place_one(w, s, false))
		;
	unplaced = s->desired - s->running - s->pending;
	if (unplaced > s->unplaced_counted)
		s->stats.placement_failures += unplaced - s->unplaced_counted;
	s->unplaced_counted = unplaced;
}

/* Turn pending tasks whose startup is over into running ones. */
static void promote(struct world *w, struct world_service *s)
{
	if (s->next_ready_ms > w->now_ms)
		return;
	for (size_t i = 0; i < s->task_count; i++) {
		struct world_task *t = &s->tasks[i];

		if (t->state != WORLD_TASK_PENDING || t->ready_ms > w->now_ms)
			continue;
		t->state = WORLD_TASK_RUNNING;
		s->pending--;
		s->running++;
		if (t->instance != WORLD_TASK_NO_INSTANCE) {
			struct world_instance *in =
				&w->clusters[s->ss->cluster].instances[t->instance];

			in->pending--;
			in->running++;
		}
	}
	if (s->running > s->stats.max_running)
		s->stats.max_running = s->running;
	refresh_next_ready(s);
}

/* Stop every task on a draining instance. */
static void drain_instance(struct world *w, size_t cluster, size_t instance)
{
	for (size_t si = 0; si < w->service_count; si++) {
		struct world_service *s = &w->services[si];

		if (s->ss->cluster != cluster || s->ss->launch_type != SCENARIO_LAUNCH_EXTERNAL)
			continue;
		for (size_t i = 0; i < s->task_count; i++)
			if (s->tasks[i].instance == instance)
				stop_task(w, s, i);
		compact(s);
	}
}

/* Apply one scheduled event. */
static void fire(struct world *w, const struct scenario_event *ev)
{
	struct world_instance *in = &w->clusters[ev->cluster].instances[ev->instance];

	switch (ev->kind) {
	case SCENARIO_EVENT_DISCONNECT:
		in->agent_connected = false;
		break;
	case SCENARIO_EVENT_RECONNECT:
		in->agent_connected = true;
		break;
	case SCENARIO_EVENT_DRAIN:
		in->status = WORLD_INSTANCE_DRAINING;
		drain_instance(w, ev->cluster, ev->instance);
		break;
	case SCENARIO_EVENT_ACTIVATE:
		in->status = WORLD_INSTANCE_ACTIVE;
		break;
	}
}

/* Bring ECS up to date at now: events, startups, placements. */
void world_ecs_settle(struct world *w)
{
	while (w->next_event < w->sc->event_count &&
		w->sc->events[w->next_event].at_ms <= w->now_ms)
		fire(w, &w->sc->events[w->next_event++]);
	for (size_t i = 0; i < w->service_count; i++) {
		struct world_service *s = &w->services[i];

		if (s->running + s->pending < s->desired || s->unplaced_counted > 0)
			place_missing(w, s);
		promote(w, s);
	}
}

/* The next moment ECS changes by itself. */
uint64_t world_ecs_next_change_ms(const struct world *w)
{
	uint64_t next = UINT64_MAX;

	if (w->next_event < w->sc->event_count)
		next = w->sc->events[w->next_event].at_ms;
	for (size_t i = 0; i < w->service_count; i++)
		if (w->services[i].next_ready_ms < next)
			next = w->services[i].next_ready_ms;
	return next;
}

/* Task-seconds over a step. */
void world_ecs_account(struct world *w, uint64_t dt_ms)
{
	double dt = (double)dt_ms / 1000.0;

	for (size_t i = 0; i < w->service_count; i++) {
		struct world_service *s = &w->services[i];
		uint32_t placed = s->running + s->pending;

		s->stats.task_seconds += (double)placed * dt;
		s->stats.running_task_seconds += (double)s->running * dt;
		if (s->desired > placed)
			s->stats.unplaced_task_seconds += (double)(s->desired - placed) * dt;
	}
}

/*
 * world_ecs_account(w, dt_ms) k times over: each service's sums take the
 * same k terms in the same order, so they come out the same to the bit.
 */
void world_ecs_account_steps(struct world *w, uint64_t dt_ms, uint64_t k)
{
	double dt = (double)dt_ms / 1000.0;

	for (size_t i = 0; i < w->service_count; i++) {
		struct world_service *s = &w->services[i];
		uint32_t placed = s->running + s->pending;
		double task = (double)placed * dt, running = (double)s->running * dt;

		for (uint64_t j = 0; j < k; j++) {
			s->stats.task_seconds += task;
			s->stats.running_task_seconds += running;
		}
		if (s->desired > placed) {
			double unplaced = (double)(s->desired - placed) * dt;

			for (uint64_t j = 0; j < k; j++)
				s->stats.unplaced_task_seconds += unplaced;
		}
	}
}

/*
 * Whether settling would change nothing until the next change (events and
 * task starts, world_ecs_next_change_ms): no service has tasks it could not
 * place, which only a settle retries.
 */
bool world_ecs_quiet(const struct world *w)
{
	for (size_t i = 0; i < w->service_count; i++) {
		const struct world_service *s = &w->services[i];

		if (s->running + s->pending < s->desired || s->unplaced_counted > 0)
			return false;
	}
	return true;
}

/* UpdateService: the new desired count takes effect at once. */
void world_ecs_set_desired(struct world *w, struct world_service *s, uint32_t desired)
{
	s->desired = desired;
	s->updated_ms = w->now_ms;
	if (s->running + s->pending > desired)
		stop_newest(w, s, s->running + s->pending - desired);
	place_missing(w, s);
	promote(w, s);
}

/* The scenario's initial desired tasks were running before t=0. */
void world_ecs_start_initial(struct world *w)
{
	for (size_t i = 0; i < w->service_count; i++) {
		struct world_service *s = &w->services[i];

		while (s->running + s->pending < s->desired && place_one(w, s, true))
			;
		if (s->running > s->stats.max_running)
			s->stats.max_running = s->running;
	}
}
