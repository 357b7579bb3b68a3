/*
 * The scaling engine: decide() is a pure function of a policy's parameters,
 * what was observed this cycle, the policy's history and the time. No I/O, no
 * clock, no globals. The policy loader fills struct engine_policy; everything
 * else in this header belongs to the engine.
 *
 * A cycle for one cluster: fill a struct engine_cluster from the instances,
 * then engine_decide_cluster() decides (engine_decide) and claims
 * (engine_cluster_claim) every policy on it in priority order; once acted
 * upon, engine_history_update() for each.
 */
#ifndef QSCALE_ENGINE_H
#define QSCALE_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One direction's behaviour, as in Kubernetes HPA. */
struct engine_behavior {
	uint64_t stabilization_ms;
	uint64_t period_ms;
	int32_t max_tasks; /* change allowed per period in tasks; 0 = no limit by tasks */
	int32_t max_percent; /* change allowed per period in percent; 0 = no limit by percent */
};

/* The scaling parameters of one policy, exactly as validated by the loader. */
struct engine_policy {
	int64_t backlog_per_task; /* > 0 */
	int64_t activation_backlog; /* >= 0 */
	double tolerance; /* [0, 1): ignore changes of less than this fraction */
	bool include_in_flight;
	bool include_delayed;
	/*
	 * The work in progress: messages one task processes at once (received,
	 * not yet deleted), and the percentage of those slots the fleet should
	 * keep busy (1..100; 0 counts as 100). A concurrency of 0 sizes on the
	 * backlog alone (the rule before the work-in-progress term, and the
	 * fallback when in-flight messages already count as backlog).
	 */
	int32_t concurrency;
	int32_t utilization_percent;
	/*
	 * How long a task holds one message, received to deleted (0: not known).
	 * With it the burst is sized for its start-up: the arrivals from what runs
	 * and the backlog's trend, the backlog expected when a new burst task runs
	 * (burst_startup_ms after it is asked for), drained over burst_drain_ms.
	 */
	uint64_t processing_time_ms;
	uint64_t burst_startup_ms;
	uint64_t burst_drain_ms; /* > 0 */
	int32_t local_min_tasks;
	int32_t local_max_tasks;
	bool has_burst;
	int32_t burst_max_tasks; /* 0 without burst */
	int32_t reserve_cpu_units; /* kept free on every instance */
	int32_t reserve_memory_mib;
	int32_t priority; /* higher is sized first on a shared cluster */
	struct engine_behavior scale_out;
	struct engine_behavior scale_in;
	/*
	 * A shorter scale-in window for the burst: burst tasks are billed, local
	 * ones are not, so the burst may follow the work in progress sooner while
	 * the local tasks ride out the whole window. Used when set and shorter.
	 */
	bool has_burst_stabilization;
	uint64_t burst_stabilization_ms;
	uint64_t max_observation_age_ms; /* older data counts as missing */
};

/* Upper bound of any task count the engine computes (fit of tasks without reservation). */
#define ENGINE_TASKS_MAX 1000000
/* Static host ports of one task definition the engine considers. */
#define ENGINE_TASK_PORTS_MAX 16
/* Ports claimed on one instance during one cycle by earlier policies. */
#define ENGINE_CLAIMED_PORTS_MAX 16
/* Slots of the recommendation and event rings in struct engine_history. */
#define ENGINE_HISTORY_SLOTS 32
/* Size of the reason text, terminating NUL included. */
#define ENGINE_REASON_MAX 512

enum engine_protocol {
	ENGINE_PROTO_TCP = 0,
	ENGINE_PROTO_UDP = 1,
};

/* A host port with its protocol. */
struct engine_port {
	uint16_t port;
	uint8_t protocol; /* enum engine_protocol */
};

/* SQS queue counts (GetQueueAttributes). */
struct engine_queue_obs {
	bool ok;
	uint64_t observed_ms;
	int64_t visible; /* ApproximateNumberOfMessages */
	int64_t in_flight; /* ...NotVisible */
	int64_t delayed; /* ...Delayed */
};

/* One ECS service's counts (DescribeServices). */
struct engine_service_obs {
	bool ok;
	uint64_t observed_ms;
	int32_t desired;
	int32_t running;
	int32_t pending;
};

/* What one copy of the local task definition reserves (DescribeTaskDefinition). */
struct engine_task_obs {
	bool ok;
	uint64_t observed_ms;
	int32_t cpu_units; /* 0: cpu does not limit placement */
	int32_t memory_mib; /* 0: memory does not limit placement */
	struct engine_port ports[ENGINE_TASK_PORTS_MAX]; /* static host ports */
	size_t n_ports;
};

/* One container instance of a cluster (DescribeContainerInstances). */
struct engine_instance {
	const char *id; /* caller-owned, for the caller's logs */
	bool active; /* status ACTIVE */
	bool agent_connected;
	bool matches_filter; /* the instance_filter, unless the observation says per policy */
	int32_t remaining_cpu_units;
	int32_t remaining_memory_mib;
	const struct engine_port *used_ports; /* caller-owned: host ports already taken */
	size_t n_used_ports;
	/* Written by engine_cluster_claim; zero them (engine_cluster_reset) each cycle. */
	int32_t claimed_cpu_units;
	int32_t claimed_memory_mib;
	struct engine_port claimed_ports[ENGINE_CLAIMED_PORTS_MAX];
	size_t n_claimed_ports;
	bool claimed_ports_full; /* more ports claimed than recorded: no port-binding task fits */
};

/* A cluster's instances, as listed and described once per cycle. */
struct engine_cluster {
	bool ok;
	uint64_t observed_ms;
	struct engine_instance *instances; /* caller-owned; filled in this order */
	size_t n_instances;
};

/* Everything observed for one policy in one cycle. */
struct engine_observation {
	struct engine_queue_obs queue;
	struct engine_service_obs local;
	struct engine_service_obs burst; /* ignored without burst */
	struct engine_task_obs task;
	const struct engine_cluster *cluster; /* NULL counts as missing */
	/*
	 * Policies of one cluster with different instance filters: one flag per
	 * instance of the cluster, in its order (caller-owned). NULL: each
	 * instance's own matches_filter.
	 */
	const bool *matches_filter;
};

/*
 * A recommendation seen at a time; a compacted slot covers several (lo..hi).
 * lo is the lowest recommendation (what scale-out's window reads), hi the
 * highest steady total (what scale-in's window reads).
 */
struct engine_rec {
	uint64_t first_ms; /* oldest time merged into this slot */
	uint64_t at_ms; /* newest time merged into this slot */
	int32_t lo;
	int32_t hi;
};

/* A scale event: the total changed by delta tasks (a compacted slot sums first..at). */
struct engine_event {
	uint64_t first_ms; /* oldest time merged into this slot */
	uint64_t at_ms; /* newest time merged into this slot */
	int32_t delta; /* tasks added (outs) or removed (ins), > 0 */
};

/*
 * What the engine remembers of one policy between cycles: caller-owned, fixed
 * size whatever the interval. Slots are compacted by merging the closest
 * neighbours; a merged slot is judged so that it only ever slows scaling
 * (recommendations live until their newest time leaves the window; events
 * limit their own direction until the newest leaves the period and offset the
 * other direction only while the oldest is inside it).
 */
struct engine_history {
	struct engine_rec recs[ENGINE_HISTORY_SLOTS];
	size_t n_recs;
	struct engine_event outs[ENGINE_HISTORY_SLOTS];
	size_t n_outs;
	struct engine_event ins[ENGINE_HISTORY_SLOTS];
	size_t n_ins;
	int32_t held_burst; /* burst tasks the last decision kept for make before break */
	/*
	 * The last backlog read, for its trend (has_backlog false: none yet), and
	 * the tasks running then: what ran while the trend was made.
	 */
	bool has_backlog;
	int64_t last_backlog;
	uint64_t last_backlog_ms;
	int32_t last_running;
	/*
	 * The last cycle held for missing data: a scale-in window that saw it has
	 * not seen a full window of fresh readings, so it holds the count it had.
	 */
	bool has_held;
	uint64_t held_ms;
};

/* Which rules bound the decision (struct engine_decision.flags). */
enum engine_flag {
	ENGINE_BOUND_MAX = 1u << 0, /* a maximum (total, local or burst) */
	ENGINE_BOUND_MIN = 1u << 1, /* local min */
	ENGINE_BOUND_RATE = 1u << 2, /* per-period limit */
	ENGINE_BOUND_STABILIZATION = 1u << 3,
	ENGINE_BOUND_CAPACITY = 1u << 4, /* local capacity below the wanted total */
	ENGINE_BOUND_ACTIVATION = 1u << 5, /* stays at zero */
	ENGINE_BOUND_TOLERANCE = 1u << 6,
	ENGINE_MISSING_DATA = 1u << 7, /* fail static: counts held */
	ENGINE_MAKE_BEFORE_BREAK = 1u << 8, /* burst kept for local tasks not yet running */
	ENGINE_UNMET = 1u << 9, /* wanted more than local capacity + burst max */
	ENGINE_BURST_MODEL = 1u << 10, /* the burst sized for its start-up, below raw */
};

/* Which observations a held decision missed (struct engine_decision.missing). */
enum engine_missing {
	ENGINE_MISSING_QUEUE = 1u << 0,
	ENGINE_MISSING_LOCAL = 1u << 1, /* the local service */
	ENGINE_MISSING_BURST = 1u << 2, /* the burst service */
	ENGINE_MISSING_TASK = 1u << 3, /* the local task definition */
	ENGINE_MISSING_INSTANCES = 1u << 4, /* the cluster's instances, or a whole view of them */
};

/*
 * Everything a decision computed that its reason names: kept in the decision
 * so that the text is written only when something reads it
 * (engine_decision_reason), not for every decision of every cycle.
 */
struct engine_trace {
	const char *missing[6]; /* names of missing or stale observations */
	uint32_t missing_bits; /* enum engine_missing */
	size_t n_missing;
	int32_t read_local; /* desired counts as read (-1 unknown) */
	int32_t read_burst;
	int64_t backlog;
	int64_t backlog_per_task;
	int64_t activation_backlog;
	int32_t raw; /* busy + ceil(backlog / backlog_per_task) */
	int64_t in_flight; /* messages being processed, when the busy term applies (else -1) */
	int32_t busy; /* tasks the messages being processed need at the target utilisation */
	int32_t busy_full; /* the same, every slot busy */
	int32_t concurrency;
	int32_t utilization_percent;
	int32_t current_total;
	double tolerance;
	int32_t recommendation; /* after tolerance and clamps */
	int32_t steady; /* the recommendation less the backlog term */
	int32_t min_tasks;
	int32_t max_total;
	int32_t stabilized;
	uint64_t stabilization_ms; /* of the direction that bound */
	int32_t limited;
	uint64_t period_ms; /* of the direction that bound */
	int32_t total; /* final wanted total */
	int32_t total_burst; /* the total the burst is sized for (its own scale-in window) */
	int32_t fit;
	int32_t eligible;
	int32_t placed;
	int32_t local_running;
	int32_t running; /* local + burst running */
	int32_t pending; /* local + burst desired not yet running */
	/* The burst sized for its start-up (ENGINE_BURST_MODEL), below raw. */
	int32_t raw_startup;
	double arrival_tasks; /* tasks the arrivals need */
	double backlog_trend; /* messages per second */
	int64_t backlog_at_start; /* expected when a burst task asked for now runs */
	uint64_t burst_startup_ms;
	uint64_t burst_drain_ms;
	int32_t capacity;
	int32_t local_max;
	int32_t local;
	bool has_burst;
	int32_t burst_target;
	int32_t burst;
	int32_t burst_max;
	int32_t unmet;
	uint32_t flags;
	bool refused; /* the engine refused the policy (no rule ran) */
};

/* The result of engine_decide. */
struct engine_decision {
	int32_t local_desired; /* new desired count of the local service */
	int32_t burst_desired; /* new desired count of the burst service (0 without burst) */
	bool update_local; /* local_desired differs from what was observed: act */
	bool update_burst;
	int64_t backlog; /* -1 when the queue data is missing */
	int32_t current_total; /* local + burst desired as observed, less burst held last time */
	int32_t recommendation; /* wanted total before behaviour: kept in the history */
	/*
	 * What the work in progress alone wants (the recommendation less the
	 * backlog term; the recommendation itself without the work-in-progress
	 * term): what the scale-in window remembers, so that scale-in follows
	 * the arrivals, not a backlog already drained.
	 */
	int32_t steady;
	bool record; /* false when data was missing: nothing to remember */
	int32_t wanted; /* total after behaviour (local + burst, less held_burst) */
	int32_t held_burst; /* burst kept above the split until local tasks run */
	int32_t local_capacity; /* min(local max, placed + fit) */
	int32_t placed; /* local running + pending */
	int32_t fit; /* more local tasks that fit on eligible instances */
	int32_t eligible_instances; /* instances that fit at least one more task */
	uint32_t flags; /* enum engine_flag */
	uint32_t missing; /* enum engine_missing: what a hold missed, 0 otherwise */
	struct engine_trace trace; /* what the reason is written from */
};

/*
 * The decision's one-line reason (no newline), written into buf (cap bytes,
 * ENGINE_REASON_MAX is always enough; always NUL-terminated); returns buf.
 */
const char *engine_decision_reason(const struct engine_decision *decision, char *buf, size_t cap);

/* Empty a history (a new policy, or one whose parameters changed). */
void engine_history_init(struct engine_history *history);

/*
 * Remember a decision taken at now_ms, once per cycle after acting on it: its
 * recommendation (when it recorded one) and, when the total changed, a scale
 * event. Drops what no window or period of the policy can see any more.
 */
void engine_history_update(struct engine_history *history, const struct engine_policy *policy,
	const struct engine_decision *decision, uint64_t now_ms);

/*
 * Take back a scale event remembered at at_ms that did not happen: a change
 * of delta tasks (> 0 out, < 0 in) first counted as made because its outcome
 * was unknown, then shown by the service's count not to have been made. The
 * slot holding at_ms gives up at most |delta| tasks (a merged slot keeps the
 * rest of its parts); nothing else moves. Returns the tasks taken back.
 */
int32_t engine_history_forget(struct engine_history *history, uint64_t at_ms, int32_t delta);

/*
 * Decide one policy's new counts. Pure: reads its arguments only. Returns 0,
 * or -EINVAL for NULL arguments or impossible policy values (decision untouched).
 * Missing or stale data never fails: the decision holds the current counts.
 *
 * Choices where the rule leaves room:
 * - Stale means older than max_observation_age_ms at now_ms (exactly that old
 *   is fresh); data stamped after now_ms is fresh; negative or absurd counts
 *   (above ENGINE_TASKS_MAX) count as missing.
 * - Maxima beat everything: a count read above local.max_tasks or
 *   burst.max_tasks is lowered to it, even while holding on missing data
 *   (lowered only when that count itself was read fresh). Lowering to a max
 *   ignores the behaviour (no window or rate limit delays it).
 * - local.min_tasks beats activation and the scale-out rate limit, and is kept
 *   even when the instances cannot place that many. While holding on missing
 *   data a local count read fresh below it is raised to it: inside its bounds
 *   means at most the maximum and at least the minimum, and raising is not
 *   shrinking.
 * - Tolerance compares the backlog's total with the current total (local +
 *   burst desired, less burst held for make before break) as HPA does; from
 *   zero nothing is within tolerance.
 * - A percent-only scale-out limit allows at least one task per period, so a
 *   service can leave zero.
 * - Make before break: burst goes no lower than wanted total - local running
 *   (never above its current count or burst.max_tasks).
 * - local.min_tasks above local capacity: local keeps the minimum and burst
 *   covers wanted total - local capacity (up to burst.max_tasks), as make
 *   before break does: that cover is not part of the total.
 * - Scale-in after missing data needs a full scale-in window of fresh
 *   readings: a window that saw a held cycle holds the current count (the
 *   readings before the outage do not count as seen through it).
 */
int engine_decide(const struct engine_policy *policy, const struct engine_observation *observation,
	const struct engine_history *history, uint64_t now_ms, struct engine_decision *decision);

/*
 * How many more copies of the task fit on one instance after the policy's
 * reserve and this cycle's claims (0 unless ACTIVE, connected and matching
 * its own matches_filter; at most 1 for a task binding static host ports).
 */
int32_t engine_instance_fit(const struct engine_instance *instance,
	const struct engine_task_obs *task, const struct engine_policy *policy);

/* Zero the claims of every instance: start of a cycle. */
void engine_cluster_reset(struct engine_cluster *cluster);

/*
 * Deduct a decision's new local tasks (local desired beyond placed) from the
 * instances, filling them in array order, each up to what fits. Returns how
 * many tasks were deducted.
 */
int32_t engine_cluster_claim(struct engine_cluster *cluster, const struct engine_policy *policy,
	const struct engine_observation *observation, const struct engine_decision *decision);

/*
 * The order engine_decide_cluster sizes a cluster's policies in: priority
 * descending, then name ascending (a NULL policy last, a NULL name first
 * among its priority). For callers that keep their policies in that order.
 */
bool engine_sized_before(const struct engine_policy *a, const char *a_name,
	const struct engine_policy *b, const char *b_name);

/* One policy of a shared cluster, for engine_decide_cluster. */
struct engine_member {
	const char *name; /* ties of priority are sized by name, ascending */
	const struct engine_policy *policy;
	const struct engine_history *history;
	/*
	 * A policy not due this cycle: not decided; decision holds what its last
	 * decision claimed (placed brought up to now) and is claimed as it stands,
	 * in its priority's turn. observation needs only task and matches_filter.
	 */
	bool claim_only;
	struct engine_observation observation; /* .cluster is set by engine_decide_cluster */
	struct engine_decision decision; /* out (in when claim_only) */
	int result; /* out: engine_decide's return (0 when claim_only) */
	void *arg; /* the caller's, untouched */
};

/*
 * Size every policy of one cluster: sorts members in place (priority
 * descending, then name; stable), resets the claims, then in that order
 * decides and claims each due member, and claims each claim_only member's
 * last claim, so later policies see only what earlier ones left. Priority
 * wins over the schedule: a policy that is not due keeps room only against
 * policies of lower priority. A NULL cluster (not observed) decides every
 * due member as missing its instances and claims nothing.
 */
void engine_decide_cluster(struct engine_member *members, size_t n_members,
	struct engine_cluster *cluster, uint64_t now_ms);

#endif
