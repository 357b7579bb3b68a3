/*
 * Capacity fit: how many more copies of the local task definition fit on a
 * cluster's eligible instances (ACTIVE, agent connected, matching the
 * policy's filter), after the policy's reserve and after what policies sized
 * earlier this cycle claimed. A task with static host ports fits at most once
 * per instance, and not at all where one of its ports is taken.
 *
 * While engine_decide_cluster sizes a cluster's policies, the fits of one
 * task size, reserve and filter are remembered per instance (the memo
 * below): policies of the same shape then read the cluster's total instead
 * of fitting every instance again, and a claim refits only the instances it
 * claimed on. The numbers are those fit_one gives, so decisions are the same.
 */
#include <stdint.h>
#include <string.h>

#include "engine_priv.h"

/* Whether port is in a list (same number and protocol). */
static bool port_listed(const struct engine_port *list, size_t n, const struct engine_port *port)
{
	if (list == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (list[i].port == port->port && list[i].protocol == port->protocol)
			return true;
	}
	return false;
}

/* How many copies of size each fit in free (size 0: the resource does not limit). */
static int64_t copies(int64_t free, int32_t each)
{
	if (each <= 0)
		return ENGINE_TASKS_MAX;
	if (free < each)
		return 0;
	/* The same quotient; a 32-bit division is several times faster. */
	if (free <= UINT32_MAX)
		return (uint32_t)free / (uint32_t)each;
	return free / each;
}

/* Fit on one instance, its filter match given. */
static int32_t fit_one(const struct engine_instance *instance, bool matches,
	const struct engine_task_obs *task, const struct engine_policy *policy)
{
	int64_t free_cpu, free_mib, n, by_mib;

	if (!instance->active || !instance->agent_connected || !matches)
		return 0;
	free_cpu = (int64_t)instance->remaining_cpu_units - instance->claimed_cpu_units -
		policy->reserve_cpu_units;
	free_mib = (int64_t)instance->remaining_memory_mib - instance->claimed_memory_mib -
		policy->reserve_memory_mib;
	n = copies(free_cpu, task->cpu_units);
	/*
	 * Memory binds only when it holds fewer than n copies: when n of them
	 * fit (n x size cannot overflow: both are below 2^31), skip its division.
	 */
	if (task->memory_mib <= 0 || free_mib < n * task->memory_mib) {
		by_mib = copies(free_mib, task->memory_mib);
		if (by_mib < n)
			n = by_mib;
	}
	if (n > ENGINE_TASKS_MAX)
		n = ENGINE_TASKS_MAX;
	if (task->n_ports > 0 && n > 0) {
		if (instance->claimed_ports_full)
			return 0;
		for (size_t i = 0; i < task->n_ports && i < ENGINE_TASK_PORTS_MAX; i++) {
			const struct engine_port *p = &task->ports[i];

			if (port_listed(instance->used_ports, instance->n_used_ports, p) ||
				port_listed(instance->claimed_ports, instance->n_claimed_ports, p))
				return 0;
		}
		n = 1;
	}
	return (int32_t)n;
}

/*
 * The memo: the fit of one task shape on each instance of the cluster being
 * sized, with their sum, while engine_decide_cluster runs (NULL otherwise).
 * engine_decide reaches the fit through engine_cluster_fit only, so the memo
 * is found by the cluster's address rather than passed. Tasks with host
 * ports are never memoised: their fit depends on the ports claimed.
 */
#define MEMO_INSTANCES_MAX 512

struct fit_memo {
	const struct engine_cluster *cluster;
	bool valid;
	const bool *matches_filter;
	int32_t cpu_units, memory_mib, reserve_cpu_units, reserve_memory_mib;
	int64_t total; /* not saturated: every fit is at least 0 */
	int32_t with_room;
	int32_t fit[MEMO_INSTANCES_MAX];
};

static struct fit_memo memo_storage;
static struct fit_memo *memo;

/* Whether instance i matches the policy's filter. */
static bool matches_at(const struct engine_cluster *cluster, const bool *matches_filter, size_t i)
{
	return matches_filter != NULL ? matches_filter[i] : cluster->instances[i].matches_filter;
}

/* Whether the memo holds the fits of this task, policy and filter on cluster. */
static bool memo_holds(const struct engine_cluster *cluster, const bool *matches_filter,
	const struct engine_task_obs *task, const struct engine_policy *policy)
{
	return memo != NULL && memo->valid && memo->cluster == cluster &&
		memo->matches_filter == matches_filter && memo->cpu_units == task->cpu_units &&
		memo->memory_mib == task->memory_mib &&
		memo->reserve_cpu_units == policy->reserve_cpu_units &&
		memo->reserve_memory_mib == policy->reserve_memory_mib;
}

/* The memo's shape as the task and policy fit_one reads. */
static void memo_shape(struct engine_task_obs *task, struct engine_policy *policy)
{
	memset(task, 0, sizeof(*task));
	memset(policy, 0, sizeof(*policy));
	task->cpu_units = memo->cpu_units;
	task->memory_mib = memo->memory_mib;
	policy->reserve_cpu_units = memo->reserve_cpu_units;
	policy->reserve_memory_mib = memo->reserve_memory_mib;
}

/* Refit instance i after a claim on it changed what is free there. */
static void memo_refit(const struct engine_cluster *cluster, size_t i)
{
	struct engine_task_obs task;
	struct engine_policy policy;
	int32_t n;

	if (memo == NULL || !memo->valid || memo->cluster != cluster)
		return;
	memo_shape(&task, &policy);
	n = fit_one(&cluster->instances[i], matches_at(cluster, memo->matches_filter, i), &task,
		&policy);
	memo->total += n - memo->fit[i];
	memo->with_room += (n > 0) - (memo->fit[i] > 0);
	memo->fit[i] = n;
}

void engine_fit_memo_begin(const struct engine_cluster *cluster)
{
	memo = NULL;
	if (cluster == NULL || cluster->n_instances > MEMO_INSTANCES_MAX)
		return;
	memo = &memo_storage;
	memo->cluster = cluster;
	memo->valid = false;
}

void engine_fit_memo_end(void)
{
	memo = NULL;
}

int32_t engine_instance_fit(const struct engine_instance *instance,
	const struct engine_task_obs *task, const struct engine_policy *policy)
{
	return fit_one(instance, instance->matches_filter, task, policy);
}

int32_t engine_cluster_fit(const struct engine_cluster *cluster, const bool *matches_filter,
	const struct engine_task_obs *task, const struct engine_policy *policy, int32_t *eligible)
{
	int64_t total = 0;
	int32_t with_room = 0;
	bool keep = memo != NULL && memo->cluster == cluster && task->n_ports == 0;

	if (keep && memo_holds(cluster, matches_filter, task, policy)) {
		*eligible = memo->with_room;
		return memo->total > ENGINE_TASKS_MAX ? ENGINE_TASKS_MAX : (int32_t)memo->total;
	}
	for (size_t i = 0; i < cluster->n_instances; i++) {
		int32_t n = fit_one(&cluster->instances[i], matches_at(cluster, matches_filter, i),
			task, policy);

		if (keep)
			memo->fit[i] = n;
		if (n > 0)
			with_room++;
		total += n;
	}
	if (keep) {
		/* this shape replaces whatever the memo held */
		memo->valid = true;
		memo->matches_filter = matches_filter;
		memo->cpu_units = task->cpu_units;
		memo->memory_mib = task->memory_mib;
		memo->reserve_cpu_units = policy->reserve_cpu_units;
		memo->reserve_memory_mib = policy->reserve_memory_mib;
		memo->total = total;
		memo->with_room = with_room;
	}
	*eligible = with_room;
	/* the same as saturating each sum: no fit is negative */
	return total > ENGINE_TASKS_MAX ? ENGINE_TASKS_MAX : (int32_t)total;
}

void engine_cluster_reset(struct engine_cluster *cluster)
{
	for (size_t i = 0; i < cluster->n_instances; i++) {
		struct engine_instance *in = &cluster->instances[i];

		in->claimed_cpu_units = 0;
		in->claimed_memory_mib = 0;
		in->n_claimed_ports = 0;
		in->claimed_ports_full = false;
	}
}

/* Record n new tasks on one instance. */
static void claim_on(struct engine_instance *in, const struct engine_task_obs *task, int32_t n)
{
	int64_t cpu = (int64_t)in->claimed_cpu_units + (int64_t)n * task->cpu_units;
	int64_t mib = (int64_t)in->claimed_memory_mib + (int64_t)n * task->memory_mib;

	in->claimed_cpu_units = cpu > INT32_MAX ? INT32_MAX : (int32_t)cpu;
	in->claimed_memory_mib = mib > INT32_MAX ? INT32_MAX : (int32_t)mib;
	for (size_t i = 0; i < task->n_ports && i < ENGINE_TASK_PORTS_MAX; i++) {
		if (in->n_claimed_ports == ENGINE_CLAIMED_PORTS_MAX) {
			/* Cannot remember it: refuse every port-binding task here instead. */
			in->claimed_ports_full = true;
			break;
		}
		in->claimed_ports[in->n_claimed_ports++] = task->ports[i];
	}
}

int32_t engine_cluster_claim(struct engine_cluster *cluster, const struct engine_policy *policy,
	const struct engine_observation *observation, const struct engine_decision *decision)
{
	const struct engine_task_obs *task;
	int32_t left, claimed = 0;

	if (cluster == NULL || policy == NULL || observation == NULL || decision == NULL)
		return 0;
	task = &observation->task;
	if (!task->ok || task->n_ports > ENGINE_TASK_PORTS_MAX)
		return 0;
	left = decision->local_desired - decision->placed;
	for (size_t i = 0; i < cluster->n_instances && left > 0; i++) {
		struct engine_instance *in = &cluster->instances[i];
		int32_t n = fit_one(
			in, matches_at(cluster, observation->matches_filter, i), task, policy);

		if (n > left)
			n = left;
		if (n <= 0)
			continue;
		claim_on(in, task, n);
		memo_refit(cluster, i);
		left -= n;
		claimed += n;
	}
	return claimed;
}
