/*
 * The keys a sweep can vary and how each is set: policy parameters on every
 * policy of the configuration, the on-prem fleet size and the startup delays
 * on the scenario. A range is FROM:TO:STEP, inclusive of FROM and of TO when
 * a step lands on it.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/duration.h"
#include "qscale/policy.h"
#include "qscale/scenario.h"
#include "qscale/sim_sweep.h"
#include "qscale/xalloc.h"

enum key_id {
	KEY_INSTANCES,
	KEY_LOCAL_MAX,
	KEY_LOCAL_MIN,
	KEY_BURST_MAX,
	KEY_BACKLOG_PER_TASK,
	KEY_ACTIVATION,
	KEY_CONCURRENCY,
	KEY_UTILIZATION,
	KEY_SCALE_OUT_MAX_TASKS,
	KEY_BURST_STABILIZATION,
	KEY_INTERVAL,
	KEY_SCALE_IN_STABILIZATION,
	KEY_SCALE_OUT_PERIOD,
	KEY_STARTUP_ONPREM,
	KEY_STARTUP_FARGATE,
	KEY_PROCESSING_TIME,
	KEY_BURST_STARTUP,
	KEY_BURST_DRAIN,
};

struct sim_sweep_key {
	const char *name;
	enum key_id id;
	bool duration;
	const char *help;
};

static const struct sim_sweep_key keys[] = {
	{"instances", KEY_INSTANCES, false,
		"on-prem instances in the first policy's local cluster (copies of its last one)"},
	{"local.max_tasks", KEY_LOCAL_MAX, false, "every policy's local.max_tasks"},
	{"local.min_tasks", KEY_LOCAL_MIN, false, "every policy's local.min_tasks"},
	{"burst.max_tasks", KEY_BURST_MAX, false, "every policy's burst.max_tasks"},
	{"target.backlog_per_task", KEY_BACKLOG_PER_TASK, false,
		"every policy's target.backlog_per_task"},
	{"target.activation_backlog", KEY_ACTIVATION, false,
		"every policy's target.activation_backlog"},
	{"target.concurrency", KEY_CONCURRENCY, false, "every policy's target.concurrency"},
	{"target.utilization", KEY_UTILIZATION, false,
		"every policy's target.utilization (percent)"},
	{"behavior.scale_out.max_tasks", KEY_SCALE_OUT_MAX_TASKS, false,
		"every policy's scale-out limit in tasks per period (0: none)"},
	{"burst.scale_in_stabilization", KEY_BURST_STABILIZATION, true,
		"every policy's burst scale-in window"},
	{"target.processing_time", KEY_PROCESSING_TIME, true,
		"every policy's target.processing_time (0s: burst sized like local tasks)"},
	{"burst.startup", KEY_BURST_STARTUP, true, "every policy's expected burst start-up"},
	{"burst.drain_time", KEY_BURST_DRAIN, true,
		"every policy's time to drain the backlog burst tasks start for"},
	{"interval", KEY_INTERVAL, true, "every policy's evaluation interval"},
	{"behavior.scale_in.stabilization", KEY_SCALE_IN_STABILIZATION, true,
		"every policy's scale-in stabilisation window"},
	{"behavior.scale_out.period", KEY_SCALE_OUT_PERIOD, true,
		"every policy's scale-out rate-limit period"},
	{"startup.onprem", KEY_STARTUP_ONPREM, true, "the scenario's on-prem start-up delay"},
	{"startup.fargate", KEY_STARTUP_FARGATE, true, "the scenario's Fargate start-up delay"},
};

#define N_KEYS (sizeof(keys) / sizeof(keys[0]))

/* A count or a duration, by the key's kind. */
static int parse_value(const struct sim_sweep_key *k, const char *text, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (k->duration)
		return duration_parse(text, out);
	if (text[0] < '0' || text[0] > '9')
		return -EINVAL;
	errno = 0;
	v = strtoull(text, &end, 10);
	if (errno != 0 || *end != '\0' || v > 1000000)
		return -EINVAL;
	*out = v;
	return 0;
}

int sim_sweep_parse(const char *spec, struct sim_sweep *out, char error[SIM_SWEEP_ERROR_MAX])
{
	const char *eq = strchr(spec, '=');
	const struct sim_sweep_key *k = NULL;
	char parts[3][64];
	const char *p;
	struct sim_sweep sw;
	uint64_t *const dst[3] = {&sw.from, &sw.to, &sw.step};

	if (eq == NULL) {
		snprintf(error, SIM_SWEEP_ERROR_MAX, "--sweep wants KEY=FROM:TO:STEP, not '%s'",
			spec);
		return -EINVAL;
	}
	for (size_t i = 0; i < N_KEYS; i++) {
		if (strlen(keys[i].name) == (size_t)(eq - spec) &&
			strncmp(keys[i].name, spec, (size_t)(eq - spec)) == 0)
			k = &keys[i];
	}
	if (k == NULL) {
		snprintf(error, SIM_SWEEP_ERROR_MAX,
			"--sweep: unknown key '%.*s' (see qscale simulate --help)",
			(int)(eq - spec), spec);
		return -EINVAL;
	}
	p = eq + 1;
	for (size_t i = 0; i < 3; i++) {
		const char *colon = i < 2 ? strchr(p, ':') : p + strlen(p);
		size_t len;

		if (colon == NULL || (len = (size_t)(colon - p)) == 0 || len >= sizeof(parts[i]) ||
			(i == 2 && strchr(p, ':') != NULL)) {
			snprintf(error, SIM_SWEEP_ERROR_MAX,
				"--sweep %s: the range must be FROM:TO:STEP", k->name);
			return -EINVAL;
		}
		memcpy(parts[i], p, len);
		parts[i][len] = '\0';
		if (parse_value(k, parts[i], dst[i]) < 0) {
			snprintf(error, SIM_SWEEP_ERROR_MAX, "--sweep %s: '%s' is not a %s",
				k->name, parts[i], k->duration ? "duration" : "whole number");
			return -EINVAL;
		}
		p = colon + 1;
	}
	sw.key = k;
	if (sw.step == 0 || sw.to < sw.from) {
		snprintf(error, SIM_SWEEP_ERROR_MAX,
			"--sweep %s: the step must be above zero and TO not below FROM", k->name);
		return -EINVAL;
	}
	if ((sw.to - sw.from) / sw.step + 1 > SIM_SWEEP_MAX_VALUES) {
		snprintf(error, SIM_SWEEP_ERROR_MAX, "--sweep %s: more than %d values", k->name,
			SIM_SWEEP_MAX_VALUES);
		return -EINVAL;
	}
	*out = sw;
	return 0;
}

const char *sim_sweep_key_name(const struct sim_sweep *sw)
{
	return sw->key->name;
}

size_t sim_sweep_count(const struct sim_sweep *sw)
{
	return (size_t)((sw->to - sw->from) / sw->step + 1);
}

uint64_t sim_sweep_value(const struct sim_sweep *sw, size_t i)
{
	return sw->from + (uint64_t)i * sw->step;
}

char *sim_sweep_format(const struct sim_sweep *sw, size_t i, char out[32])
{
	char d[DURATION_FORMAT_MAX];

	if (sw->key->duration)
		snprintf(out, 32, "%s", duration_format(sim_sweep_value(sw, i), d));
	else
		snprintf(out, 32, "%" PRIu64, sim_sweep_value(sw, i));
	return out;
}

/* A copy of an instance with fresh ids made from n (the position it takes). */
static void clone_instance(
	struct scenario_instance *dst, const struct scenario_instance *src, size_t n)
{
	scenario_instance_copy(dst, src);
	dst->ec2_instance_id = xasprintf("mi-f%016zx", n);
	dst->container_instance_id = xasprintf("f%031zx", n);
}

/* Resize the first policy's local cluster to n instances. */
static int set_instances(const struct qscale_config *config, struct scenario *sc, uint64_t n,
	char error[SIM_SWEEP_ERROR_MAX])
{
	int ci = scenario_find_cluster(sc, config->policies[0].local.cluster);
	struct scenario_cluster *c;
	size_t kept = 0;

	if (ci < 0) {
		snprintf(error, SIM_SWEEP_ERROR_MAX, "instances: cluster %s is not in the scenario",
			config->policies[0].local.cluster);
		return -EINVAL;
	}
	c = &sc->clusters[ci];
	if (n > 10000 || (n > c->instance_count && c->instance_count == 0)) {
		snprintf(error, SIM_SWEEP_ERROR_MAX,
			"instances: cluster %s needs an instance to copy, and at most 10000",
			c->name);
		return -EINVAL;
	}
	for (size_t i = (size_t)n; i < c->instance_count; i++)
		scenario_instance_finish(&c->instances[i]);
	if (n > c->instance_count) {
		c->instances = xreallocarray(c->instances, (size_t)n, sizeof(*c->instances));
		for (size_t i = c->instance_count; i < n; i++)
			clone_instance(&c->instances[i], &c->instances[c->instance_count - 1], i);
	}
	c->instance_count = (size_t)n;
	/* Events on instances that are gone go with them. */
	for (size_t i = 0; i < sc->event_count; i++) {
		if (sc->events[i].cluster == (size_t)ci && sc->events[i].instance >= n)
			continue;
		sc->events[kept++] = sc->events[i];
	}
	sc->event_count = kept;
	return 0;
}

/*
 * Set a policy parameter, checked by the policy loader's own rules: the
 * schema's range for the key, then the rules across keys. A max_data_age
 * left at its default (POLICY_MAX_DATA_AGE_INTERVALS intervals) follows a
 * swept interval, as it would in a file that sets only the interval.
 */
static int set_policy(const struct sim_sweep_key *k, struct policy *pol, uint64_t v,
	char error[SIM_SWEEP_ERROR_MAX])
{
	struct engine_policy *e = &pol->scaling;
	char msg[SIM_SWEEP_ERROR_MAX - 64];
	const char *key;

	if (v > INT64_MAX || policy_check_value(k->name, (int64_t)v, msg, sizeof(msg)) < 0)
		goto invalid;
	switch (k->id) {
	case KEY_LOCAL_MAX:
		e->local_max_tasks = (int32_t)v;
		break;
	case KEY_LOCAL_MIN:
		e->local_min_tasks = (int32_t)v;
		break;
	case KEY_BURST_MAX:
		if (!pol->burst.present) {
			snprintf(error, SIM_SWEEP_ERROR_MAX,
				"burst.max_tasks: policy %s has no burst", pol->name);
			return -EINVAL;
		}
		e->burst_max_tasks = (int32_t)v;
		break;
	case KEY_BACKLOG_PER_TASK:
		e->backlog_per_task = (int64_t)v;
		break;
	case KEY_ACTIVATION:
		e->activation_backlog = (int64_t)v;
		break;
	case KEY_CONCURRENCY:
		e->concurrency = (int32_t)v;
		break;
	case KEY_UTILIZATION:
		e->utilization_percent = (int32_t)v;
		break;
	case KEY_SCALE_OUT_MAX_TASKS:
		e->scale_out.max_tasks = (int32_t)v;
		break;
	case KEY_BURST_STABILIZATION:
		e->has_burst_stabilization = true;
		e->burst_stabilization_ms = v;
		break;
	case KEY_PROCESSING_TIME:
		e->processing_time_ms = v;
		break;
	case KEY_BURST_STARTUP:
		e->burst_startup_ms = v;
		break;
	case KEY_BURST_DRAIN:
		e->burst_drain_ms = v;
		break;
	case KEY_INTERVAL:
		if (e->max_observation_age_ms == POLICY_MAX_DATA_AGE_INTERVALS * pol->interval_ms)
			e->max_observation_age_ms = POLICY_MAX_DATA_AGE_INTERVALS * v;
		pol->interval_ms = v;
		break;
	case KEY_SCALE_IN_STABILIZATION:
		e->scale_in.stabilization_ms = v;
		break;
	case KEY_SCALE_OUT_PERIOD:
		e->scale_out.period_ms = v;
		break;
	default:
		break;
	}
	if (policy_check_rules(pol, &key, msg, sizeof(msg)) == 0)
		return 0;
invalid:
	snprintf(error, SIM_SWEEP_ERROR_MAX, "%s=%" PRIu64 " makes policy %s invalid: %s", k->name,
		v, pol->name, msg);
	return -EINVAL;
}

int sim_sweep_apply(const struct sim_sweep *sw, uint64_t value, struct qscale_config *config,
	struct scenario *sc, char error[SIM_SWEEP_ERROR_MAX])
{
	switch (sw->key->id) {
	case KEY_INSTANCES:
		if (config->policy_count == 0) {
			snprintf(error, SIM_SWEEP_ERROR_MAX, "instances: no policy");
			return -EINVAL;
		}
		return set_instances(config, sc, value, error);
	case KEY_STARTUP_ONPREM:
		sc->onprem_startup_ms = value;
		return 0;
	case KEY_STARTUP_FARGATE:
		sc->fargate_startup_ms = value;
		return 0;
	default:
		break;
	}
	for (size_t i = 0; i < config->policy_count; i++) {
		int rc = set_policy(sw->key, &config->policies[i], value, error);

		if (rc < 0)
			return rc;
	}
	return 0;
}

void sim_sweep_print_keys(FILE *out)
{
	for (size_t i = 0; i < N_KEYS; i++)
		fprintf(out, "    %-33s %s%s\n", keys[i].name, keys[i].help,
			keys[i].duration ? " (durations)" : "");
}
