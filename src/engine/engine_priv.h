/*
 * Internals shared by the engine's files: freshness, the behaviour steps, the
 * fit of a whole cluster and the trace of a decision that reason.c turns into
 * its one-line reason.
 */
#ifndef QSCALE_ENGINE_PRIV_H
#define QSCALE_ENGINE_PRIV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/engine.h"

/*
 * Whether an observation is usable at now_ms: ok and not older than
 * max_age_ms. Inline, as are the window tests: the behaviour runs them for
 * every slot of the history in every decision.
 */
static inline bool engine_fresh(bool ok, uint64_t observed_ms, uint64_t now_ms, uint64_t max_age_ms)
{
	if (!ok)
		return false;
	/* Data stamped after now (a clock step) is as fresh as it gets. */
	if (observed_ms >= now_ms)
		return true;
	return now_ms - observed_ms <= max_age_ms;
}

/* Whether a time is still inside a window ending at now_ms (HPA: after now - window). */
static inline bool engine_in_window(uint64_t at_ms, uint64_t now_ms, uint64_t window_ms)
{
	if (at_ms > now_ms)
		return window_ms > 0;
	return now_ms - at_ms < window_ms;
}

/* backlog per the policy's include_* switches, saturating; -1 if any count is negative. */
int64_t engine_backlog(const struct engine_policy *policy, const struct engine_queue_obs *queue);

/*
 * Tasks the work in progress needs: ceil(in flight / (concurrency x
 * percent / 100)), at most ENGINE_TASKS_MAX; -1 when the policy sizes on the
 * backlog alone (no concurrency, or in-flight messages counted as backlog).
 */
int32_t engine_tasks_busy(
	const struct engine_policy *policy, const struct engine_queue_obs *queue, int32_t percent);

/* ceil(backlog / backlog_per_task), at most ENGINE_TASKS_MAX. */
int32_t engine_tasks_for(int64_t backlog, int64_t backlog_per_task);

/* Whether wanted is within the policy's tolerance of current (HPA's ratio test). */
bool engine_within_tolerance(int32_t wanted, int32_t current, double tolerance);

/* HPA stabilisation: the recommendation the windows allow from current. */
int32_t engine_stabilize(const struct engine_policy *policy, const struct engine_history *history,
	uint64_t now_ms, int32_t current, int32_t recommendation);

/* The same with the scale-out and scale-in windows given (the burst's shorter one). */
int32_t engine_stabilize_windows(const struct engine_history *history, uint64_t now_ms,
	uint64_t out_ms, uint64_t in_ms, int32_t current, int32_t recommendation);

/* HPA per-period limits: how far from current the total may move towards target. */
int32_t engine_rate_limit(const struct engine_policy *policy, const struct engine_history *history,
	uint64_t now_ms, int32_t current, int32_t target);

/* Sum of instance fits (saturating at ENGINE_TASKS_MAX); *eligible counts instances with room. */
int32_t engine_cluster_fit(const struct engine_cluster *cluster, const bool *matches_filter,
	const struct engine_task_obs *task, const struct engine_policy *policy, int32_t *eligible);

/*
 * Remember fits on cluster (capacity.c) from now until engine_fit_memo_end,
 * while nothing but engine_cluster_claim changes its instances: what
 * engine_decide_cluster does between the two.
 */
void engine_fit_memo_begin(const struct engine_cluster *cluster);
void engine_fit_memo_end(void);

#endif
