/*
 * The control cycle: observe every due policy through struct cloud, decide
 * with the engine, act with UpdateService. Independent of libevent and of the
 * AWS client: the daemon drives it from a timer over the real cloud, the
 * simulator from a virtual clock over the world model, and both run the same
 * code.
 *
 * One cycle covers every policy that is due when controller_tick is called.
 * Observations run concurrently: one queue_counts per distinct queue, one
 * describe_services per cluster for the services the due policies need, one
 * list_instances per local cluster (shared by every policy on it), and
 * task_reservation only for a task definition not seen before (cached by
 * ARN). Then each local cluster's due policies are sized in priority order
 * (engine_decide_cluster), after deducting what policies of that cluster that
 * are not due claimed at their last decision. Then update_service, only for
 * counts that change and never in dry-run. A failed or bad observation fails
 * only the policies that need it, for this cycle only: they hold their counts.
 *
 * The controller logs each decision as one key=value line (info when a count
 * changes, debug when not) and each failure once, where it handles it.
 * Single-threaded: every call and every cloud callback on one thread.
 */
#ifndef QSCALE_CONTROLLER_H
#define QSCALE_CONTROLLER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/clock.h"
#include "qscale/cloud.h"
#include "qscale/engine.h"

struct controller;
struct policy;
struct qscale_config;

/* Longest error text kept per policy (NUL included; longer ones are cut). */
#define CONTROLLER_ERROR_MAX 256

/* How one policy's cycle ended. */
enum controller_outcome {
	CONTROLLER_UNCHANGED = 0, /* decided, no count changed */
	CONTROLLER_SCALED, /* decided, at least one count changed (and was set, unless dry-run) */
	CONTROLLER_HELD, /* an observation was missing or bad: counts held (fail static) */
	CONTROLLER_FAILED, /* decided, but an UpdateService failed */
};

/* Lowercase name of an outcome ("unchanged", "scaled", "held", "failed"). */
const char *controller_outcome_name(enum controller_outcome outcome);

/* One policy's decision, handed to the decision hook (everything borrowed). */
struct controller_report {
	const struct policy *policy;
	uint64_t now_ms; /* monotonic time of the decision */
	bool dry_run;
	bool standby; /* the may_act predicate said no: counts logged, not set */
	enum controller_outcome outcome;
	/* What was observed; observation->cluster is valid only during the hook. */
	const struct engine_observation *observation;
	/* The engine's decision; its counts are the ones set (or, in dry-run, that would be). */
	const struct engine_decision *decision;
	int32_t local_before; /* desired counts as observed, -1 when unknown */
	int32_t burst_before;
	/* The first error of this policy's cycle ("DescribeServices: ThrottlingException: ..."), or
	 * NULL. */
	const char *error;
	/* Intervals skipped just before this cycle because the previous one ran long. */
	uint64_t missed;
	/* The policy's status, this decision already counted in it. */
	const struct controller_policy_status *status;
};

/* A cycle has ended: every policy in it has been decided and acted upon. */
struct controller_cycle_report {
	uint64_t started_ms; /* monotonic */
	uint64_t finished_ms;
	size_t n_policies; /* policies in the cycle */
	size_t n_failed; /* of which ended held or failed */
};

/* Callbacks to the owner: logging and counting beyond the controller's own lines. */
struct controller_hooks {
	/* After each policy's decision and act; may be NULL. */
	void (*decision)(const struct controller_report *report, void *arg);
	/* After a whole cycle; the owner typically re-arms its timer here. May be NULL. */
	void (*cycle_done)(const struct controller_cycle_report *report, void *arg);
	void *arg;
};

/* What the controller knows of one policy, for plan, metrics, STATUS and readiness. */
struct controller_policy_status {
	const struct policy *policy; /* owned by the controller's current config */
	uint64_t next_due_ms; /* monotonic */
	uint64_t cycles; /* cycles the policy took part in */
	uint64_t skipped; /* intervals missed because a cycle was still running */
	bool has_decision; /* false until the first cycle ends */
	enum controller_outcome outcome; /* of the last cycle */
	struct engine_observation observation; /* last; .cluster and .matches_filter are NULL */
	struct engine_decision decision; /* last */
	int32_t local_running; /* as last observed, -1 unknown */
	int32_t burst_running;
	int32_t local_instances; /* ACTIVE instances of the local cluster last listed, -1 unknown */
	uint64_t last_cycle_ms; /* monotonic end of the last cycle, 0 never */
	uint64_t last_success_ms; /* monotonic end of the last cycle that was not held/failed, 0
				     never */
	uint64_t last_success_wall_ms; /* the same, in Unix epoch ms */
	uint32_t consecutive_failures; /* cycles in a row held or failed */
	char last_error[CONTROLLER_ERROR_MAX]; /* "" when the last cycle had no error */
};

/*
 * A controller acting through cloud and reading time from clock (both kept by
 * the caller and outliving the controller). hooks is copied; NULL for none.
 * It has no policies until controller_set_config. 0 or -EINVAL.
 */
int controller_create(const struct cloud *cloud, const struct clock *clock,
	const struct controller_hooks *hooks, struct controller **out);

/*
 * Free the controller and its config; accepts NULL. Only while no cycle runs,
 * or once the cloud guarantees that no callback will come any more (its
 * requests were cancelled): the state of a cycle in flight is freed with it.
 */
void controller_destroy(struct controller *ctl);

/*
 * Install a config (ownership passes to the controller, even on error). When
 * no cycle runs it takes effect at once, else when the running cycle ends;
 * a config set meanwhile replaces a pending one. Policies are matched by name:
 * one whose queue, local and burst services are the same keeps its history,
 * counters and schedule (its scaling parameters may change; histories only
 * ever slow scaling, so keeping them never causes a jump); a new or re-pointed
 * policy starts afresh and is due at once. The cached task reservations stay.
 * 0, or -EINVAL for NULL arguments.
 */
int controller_set_config(struct controller *ctl, struct qscale_config *config);

/* The config in force (not a pending one); NULL before the first. */
const struct qscale_config *controller_config(const struct controller *ctl);

/*
 * The configuration the controller will run once the current cycle ends:
 * the one last given to controller_set_config (still pending while a cycle
 * runs), else the current one.
 */
const struct qscale_config *controller_next_config(const struct controller *ctl);

/* Force dry-run whatever the config says (qscale run --dry-run, plan); false: the config's. */
void controller_set_dry_run(struct controller *ctl, bool dry_run);

/* Whether the cycles decide without acting (forced, or the config's dry_run). */
bool controller_dry_run(const struct controller *ctl);

/*
 * Whether this daemon may call UpdateService for policy at now_ms (the HA
 * lease of its group). Asked once per policy and cycle, right before acting;
 * a policy refused decides and logs what it would set, as a standby.
 */
typedef bool (*controller_may_act_cb)(const struct policy *policy, uint64_t now_ms, void *arg);

/* Install the predicate (NULL: always may act, the default). */
void controller_set_may_act(struct controller *ctl, controller_may_act_cb cb, void *arg);

/* Keep the controller's own decision and error lines below info (simulate); default false. */
void controller_set_quiet(struct controller *ctl, bool quiet);

/*
 * Start one cycle for every policy due at now_ms (monotonic), if no cycle is
 * running. Policies that fall due while one runs wait for the next tick and
 * are started once, however many intervals they missed (counted as skipped).
 * Returns how many policies the cycle started with (0: none due, or busy);
 * -EINVAL for NULL. The hooks run later, from the cloud's callbacks; only when
 * the cloud refused every call at once does the cycle end (all held) inside
 * this call.
 */
int controller_tick(struct controller *ctl, uint64_t now_ms);

/*
 * Monotonic time at which the next policy falls due; UINT64_MAX while a cycle
 * runs (tick again after cycle_done) or when there is no policy.
 */
uint64_t controller_next_due_ms(const struct controller *ctl);

/* Whether a cycle is in flight. */
bool controller_busy(const struct controller *ctl);

/* Number of policies in the config in force. */
size_t controller_policy_count(const struct controller *ctl);

/* Status of policy i (in config order), or NULL past the end; valid until the next call. */
const struct controller_policy_status *controller_policy_status(
	const struct controller *ctl, size_t i);

#endif
