/*
 * Readiness bookkeeping behind /readyz. Policies are kept sorted by name so
 * the reason given is stable. Pure: no clock, no I/O, no logging.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/readiness.h"
#include "qscale/xalloc.h"

struct policy_state {
	char *name;
	uint64_t interval_ms;
	bool any_ok; /* a cycle ever succeeded */
	bool last_ok; /* the latest cycle succeeded */
	bool any_cycle;
	uint64_t last_ok_ms;
};

struct readiness {
	bool loaded;
	struct policy_state *policies;
	size_t count;
};

/* Create the tracker. */
struct readiness *readiness_create(void)
{
	return xcalloc(1, sizeof(struct readiness));
}

/* Free the tracker. */
void readiness_destroy(struct readiness *r)
{
	if (r == NULL)
		return;
	for (size_t i = 0; i < r->count; i++)
		free(r->policies[i].name);
	free(r->policies);
	free(r);
}

/* Mark the configuration loaded or not. */
void readiness_set_loaded(struct readiness *r, bool loaded)
{
	r->loaded = loaded;
}

/*
 * Index of name, or where it would go (*found false). The list is sorted:
 * every decision looks its policy up twice, so halving it keeps a cycle's
 * look-ups from growing with the square of the policies.
 */
static size_t find(const struct readiness *r, const char *name, bool *found)
{
	size_t lo = 0, hi = r->count;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->policies[mid].name, name);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Add a policy or change its interval. */
int readiness_track(struct readiness *r, const char *policy, uint64_t interval_ms)
{
	bool found;
	size_t i;

	if (policy == NULL || policy[0] == '\0' || interval_ms == 0)
		return -EINVAL;
	i = find(r, policy, &found);
	if (found) {
		r->policies[i].interval_ms = interval_ms;
		return 0;
	}
	r->policies = xreallocarray(r->policies, r->count + 1, sizeof(*r->policies));
	memmove(r->policies + i + 1, r->policies + i, (r->count - i) * sizeof(*r->policies));
	r->policies[i] = (struct policy_state){
		.name = xstrdup(policy),
		.interval_ms = interval_ms,
	};
	r->count++;
	return 0;
}

/* Drop a policy. */
void readiness_forget(struct readiness *r, const char *policy)
{
	bool found;
	size_t i = find(r, policy, &found);

	if (!found)
		return;
	free(r->policies[i].name);
	memmove(r->policies + i, r->policies + i + 1, (r->count - i - 1) * sizeof(*r->policies));
	r->count--;
}

/* How many policies are tracked. */
size_t readiness_count(const struct readiness *r)
{
	return r->count;
}

/* The name of the i-th tracked policy, in name order. */
const char *readiness_name(const struct readiness *r, size_t i)
{
	return i < r->count ? r->policies[i].name : NULL;
}

/* Whether a policy is tracked. */
bool readiness_tracks(const struct readiness *r, const char *policy)
{
	bool found;

	find(r, policy, &found);
	return found;
}

/* Record one cycle's outcome. */
void readiness_cycle(struct readiness *r, const char *policy, bool ok, uint64_t now_ms)
{
	bool found;
	size_t i = find(r, policy, &found);
	struct policy_state *p;

	if (!found)
		return;
	p = &r->policies[i];
	p->any_cycle = true;
	p->last_ok = ok;
	if (ok) {
		p->any_ok = true;
		p->last_ok_ms = now_ms;
	}
}

/* Why p is not ready at now_ms, or NULL when it is. */
static const char *policy_problem(const struct policy_state *p, uint64_t now_ms)
{
	uint64_t stale_ms = p->interval_ms * READINESS_STALE_INTERVALS + READINESS_SLACK_MS;

	if (!p->any_cycle)
		return "no cycle yet";
	if (!p->last_ok)
		return p->any_ok ? "last cycle failed" : "no successful cycle yet";
	if (now_ms > p->last_ok_ms && now_ms - p->last_ok_ms > stale_ms)
		return "last successful cycle too long ago";
	return NULL;
}

/* Ready when loaded and every policy is fine. */
bool readiness_check(const struct readiness *r, uint64_t now_ms, struct buf *reason)
{
	const struct policy_state *first = NULL;
	const char *problem = NULL;
	size_t bad = 0;

	if (!r->loaded) {
		buf_puts(reason, "configuration not loaded");
		return false;
	}
	/* A daemon without a policy scales nothing: not what a probe should call ready. */
	if (r->count == 0) {
		buf_puts(reason, "no policy loaded");
		return false;
	}
	for (size_t i = 0; i < r->count; i++) {
		const char *why = policy_problem(&r->policies[i], now_ms);

		if (why == NULL)
			continue;
		if (bad++ == 0) {
			first = &r->policies[i];
			problem = why;
		}
	}
	if (bad == 0)
		return true;
	/* a reason cut by the buffer's cap is still a reason */
	buf_printf(reason, "policy %s: %s", first->name, problem);
	if (r->count > 1)
		buf_printf(reason, " (%zu of %zu policies not ready)", bad, r->count);
	return false;
}
