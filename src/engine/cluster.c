/*
 * Several policies on one cluster share its free capacity: the higher
 * priority is sized first (ties by name), and each policy's new tasks are
 * deducted from the instances before the next policy is sized. A policy not
 * due this cycle takes its turn too, claiming what its last decision claimed:
 * priority, not the schedule, says who gets the room first.
 */
#include <string.h>

#include "engine_priv.h"

bool engine_sized_before(const struct engine_policy *a, const char *a_name,
	const struct engine_policy *b, const char *b_name)
{
	int32_t pa = a != NULL ? a->priority : INT32_MIN;
	int32_t pb = b != NULL ? b->priority : INT32_MIN;

	if (pa != pb)
		return pa > pb;
	if (a_name == NULL || b_name == NULL)
		return a_name == NULL && b_name != NULL;
	return strcmp(a_name, b_name) < 0;
}

/* Whether member a is sized before member b. */
static bool before(const struct engine_member *a, const struct engine_member *b)
{
	return engine_sized_before(a->policy, a->name, b->policy, b->name);
}

/* Stable insertion sort: no heap, equal members keep the caller's order. */
static void sort_members(struct engine_member *m, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct engine_member x;
		size_t j = i;

		/* Already in place (the controller hands them over sorted): no copy. */
		if (!before(&m[i], &m[i - 1]))
			continue;
		x = m[i];
		while (j > 0 && before(&x, &m[j - 1])) {
			m[j] = m[j - 1];
			j--;
		}
		m[j] = x;
	}
}

void engine_decide_cluster(struct engine_member *members, size_t n_members,
	struct engine_cluster *cluster, uint64_t now_ms)
{
	if (members == NULL)
		return;
	sort_members(members, n_members);
	if (cluster != NULL)
		engine_cluster_reset(cluster);
	/* members of one shape share the instance fits: claims refit only what they touch */
	engine_fit_memo_begin(cluster);
	for (size_t i = 0; i < n_members; i++) {
		struct engine_member *m = &members[i];

		m->observation.cluster = cluster;
		if (m->claim_only) {
			m->result = 0;
			if (cluster != NULL && m->policy != NULL)
				engine_cluster_claim(
					cluster, m->policy, &m->observation, &m->decision);
			continue;
		}
		m->result =
			engine_decide(m->policy, &m->observation, m->history, now_ms, &m->decision);
		if (m->result == 0 && cluster != NULL)
			engine_cluster_claim(cluster, m->policy, &m->observation, &m->decision);
	}
	engine_fit_memo_end();
}
