/*
 * The policy schema: every key of a policy file (or of an item under
 * `policies:`), its type, range and default, and the checks that need more
 * than one key (max below min, the age of data against the interval, a burst
 * service that is the local one) or more than one policy (names and services
 * used twice).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "policy_priv.h"
#include "qscale/duration.h"
#include "qscale/xalloc.h"

#define P(member) offsetof(struct policy, member)

/* Task counts: ECS allows far fewer tasks per service; this only stops typos. */
#define MAX_TASKS 100000

#define MINUTE_MS (60 * 1000)
#define HOUR_MS (60 * MINUTE_MS)

static const struct schema_field queue_fields[] = {
	{.key = "url",
		.type = SCHEMA_URL,
		.offset = P(queue.url),
		.flags = SCHEMA_REQUIRED,
		.def_doc = "required"},
	{.key = "include_in_flight",
		.type = SCHEMA_BOOL,
		.offset = P(scaling.include_in_flight),
		.def = "false"},
	{.key = "include_delayed",
		.type = SCHEMA_BOOL,
		.offset = P(scaling.include_delayed),
		.def = "false"},
	{0},
};

static const struct schema_field target_fields[] = {
	{.key = "backlog_per_task",
		.type = SCHEMA_I64,
		.offset = P(scaling.backlog_per_task),
		.min = 1,
		.max = 1000000000,
		.flags = SCHEMA_REQUIRED,
		.def_doc = "required"},
	{.key = "activation_backlog",
		.type = SCHEMA_I64,
		.offset = P(scaling.activation_backlog),
		.min = 0,
		.max = 1000000000,
		.def = "0"},
	{.key = "tolerance",
		.type = SCHEMA_DOUBLE,
		.offset = P(scaling.tolerance),
		.min = 0,
		.max = 1,
		.def = "0.1"},
	{.key = "concurrency",
		.type = SCHEMA_I32,
		.offset = P(scaling.concurrency),
		.min = 0,
		.max = 100000,
		.def = "1"},
	{.key = "utilization",
		.type = SCHEMA_I32,
		.offset = P(scaling.utilization_percent),
		.min = 1,
		.max = 100,
		.def = "80"},
	{.key = "processing_time",
		.type = SCHEMA_DURATION,
		.offset = P(scaling.processing_time_ms),
		.min = 0,
		.max = HOUR_MS,
		.def = "0s"},
	{0},
};

static const struct schema_field reserve_fields[] = {
	{.key = "cpu",
		.type = SCHEMA_I32,
		.offset = P(scaling.reserve_cpu_units),
		.min = 0,
		.max = 1024 * 1024,
		.def = "0"},
	{.key = "memory",
		.type = SCHEMA_I32,
		.offset = P(scaling.reserve_memory_mib),
		.min = 0,
		.max = 16 * 1024 * 1024,
		.def = "0"},
	{0},
};

static const struct schema_field local_fields[] = {
	{.key = "cluster",
		.type = SCHEMA_STRING,
		.offset = P(local.cluster),
		.flags = SCHEMA_REQUIRED,
		.def_doc = "required"},
	{.key = "service",
		.type = SCHEMA_STRING,
		.offset = P(local.service),
		.flags = SCHEMA_REQUIRED,
		.def_doc = "required"},
	{.key = "min_tasks",
		.type = SCHEMA_I32,
		.offset = P(scaling.local_min_tasks),
		.min = 0,
		.max = MAX_TASKS,
		.def = "0"},
	{.key = "max_tasks",
		.type = SCHEMA_I32,
		.offset = P(scaling.local_max_tasks),
		.min = 1,
		.max = MAX_TASKS,
		.flags = SCHEMA_REQUIRED,
		.def_doc = "required"},
	{.key = "instance_filter",
		.type = SCHEMA_CUSTOM,
		.custom = &policy_filter_type,
		.offset = P(local.instance_filter),
		.def_doc = "every ACTIVE instance with a connected agent"},
	{.key = "reserve", .type = SCHEMA_MAP, .sub = reserve_fields},
	{.key = "priority",
		.type = SCHEMA_I32,
		.offset = P(scaling.priority),
		.min = -1000000,
		.max = 1000000,
		.def = "0"},
	{0},
};

static const struct schema_field burst_fields[] = {
	{.key = "cluster",
		.type = SCHEMA_STRING,
		.offset = P(burst.cluster),
		.flags = SCHEMA_REQUIRED,
		.def_doc = "required"},
	{.key = "service",
		.type = SCHEMA_STRING,
		.offset = P(burst.service),
		.flags = SCHEMA_REQUIRED,
		.def_doc = "required"},
	{.key = "max_tasks",
		.type = SCHEMA_I32,
		.offset = P(scaling.burst_max_tasks),
		.min = 1,
		.max = MAX_TASKS,
		.flags = SCHEMA_REQUIRED,
		.def_doc = "required"},
	{.key = "scale_in_stabilization",
		.type = SCHEMA_DURATION,
		.offset = P(scaling.burst_stabilization_ms),
		.min = 0,
		.max = HOUR_MS,
		.def = "1m"},
	{.key = "startup",
		.type = SCHEMA_DURATION,
		.offset = P(scaling.burst_startup_ms),
		.min = 0,
		.max = HOUR_MS,
		.def = "30s"},
	{.key = "drain_time",
		.type = SCHEMA_DURATION,
		.offset = P(scaling.burst_drain_ms),
		.min = 1000,
		.max = HOUR_MS,
		.def = "1m"},
	{0},
};

/* One direction's behaviour; the defaults are Kubernetes HPA's but for scale-out's window (see the
 * docs). */
#define BEHAVIOR_FIELDS(dir, def_stabilization, def_max_tasks) \
	{.key = "stabilization", \
		.type = SCHEMA_DURATION, \
		.offset = P(scaling.dir.stabilization_ms), \
		.min = 0, \
		.max = HOUR_MS, \
		.def = def_stabilization}, \
		{.key = "period", \
			.type = SCHEMA_DURATION, \
			.offset = P(scaling.dir.period_ms), \
			.min = 1000, \
			.max = HOUR_MS, \
			.def = "15s"}, \
		{.key = "max_tasks", \
			.type = SCHEMA_I32, \
			.offset = P(scaling.dir.max_tasks), \
			.min = 0, \
			.max = MAX_TASKS, \
			.def = def_max_tasks}, \
		{.key = "max_percent", \
			.type = SCHEMA_I32, \
			.offset = P(scaling.dir.max_percent), \
			.min = 0, \
			.max = 10000, \
			.def = "100"}, \
	{ \
		0 \
	}

static const struct schema_field scale_out_fields[] = {BEHAVIOR_FIELDS(scale_out, "15s", "4")};
static const struct schema_field scale_in_fields[] = {BEHAVIOR_FIELDS(scale_in, "300s", "0")};

static const struct schema_field behavior_fields[] = {
	{.key = "scale_out", .type = SCHEMA_MAP, .sub = scale_out_fields},
	{.key = "scale_in", .type = SCHEMA_MAP, .sub = scale_in_fields},
	{0},
};

const struct schema_field policy_schema[] = {
	{.key = "name",
		.type = SCHEMA_NAME,
		.offset = P(name),
		.flags = SCHEMA_REQUIRED,
		.def_doc = "required"},
	{.key = "interval",
		.type = SCHEMA_DURATION,
		.offset = P(interval_ms),
		.min = 100,
		.max = HOUR_MS,
		.def_doc = "the main file's interval"},
	{.key = "max_data_age",
		.type = SCHEMA_DURATION,
		.offset = P(scaling.max_observation_age_ms),
		.min = 100,
		.max = 24 * HOUR_MS,
		.def_doc = "3 × interval"},
	{.key = "lease_group",
		.type = SCHEMA_NAME,
		.offset = P(lease_group),
		.def_doc = "the main file's ha.lease"},
	{.key = "queue", .type = SCHEMA_MAP, .sub = queue_fields, .flags = SCHEMA_REQUIRED},
	{.key = "target", .type = SCHEMA_MAP, .sub = target_fields, .flags = SCHEMA_REQUIRED},
	{.key = "local", .type = SCHEMA_MAP, .sub = local_fields, .flags = SCHEMA_REQUIRED},
	{.key = "burst",
		.type = SCHEMA_MAP,
		.sub = burst_fields,
		.flags = SCHEMA_PRESENCE,
		.present_offset = P(burst.present),
		.def_doc = "no burst service"},
	{.key = "behavior", .type = SCHEMA_MAP, .sub = behavior_fields},
	{0},
};

/* Copy a node's position into a mark, when there is a node. */
static void mark_node(const struct ynode *n, unsigned *line, unsigned *column)
{
	if (n != NULL) {
		*line = n->line;
		*column = n->column;
	}
}

/*
 * As Kubernetes HPA replaces its default policies once a user lists their own,
 * a direction whose limits the file sets keeps only those: the unset one of
 * max_tasks and max_percent is off, instead of its default allowing the
 * larger change and overriding the explicit limit.
 */
static void explicit_limits(const struct schema_walk *w, struct policy *p)
{
	static const char *const dirs[] = {"behavior.scale_out", "behavior.scale_in"};
	struct engine_behavior *b[] = {&p->scaling.scale_out, &p->scaling.scale_in};
	char tasks[64], percent[64];

	for (size_t i = 0; i < 2; i++) {
		bool has_tasks, has_percent;

		snprintf(tasks, sizeof(tasks), "%s.max_tasks", dirs[i]);
		snprintf(percent, sizeof(percent), "%s.max_percent", dirs[i]);
		has_tasks = schema_seen_value(w, tasks) != NULL;
		has_percent = schema_seen_value(w, percent) != NULL;
		if (has_tasks && !has_percent)
			b[i]->max_percent = 0;
		else if (has_percent && !has_tasks)
			b[i]->max_tasks = 0;
	}
}

int policy_check_rules(const struct policy *p, const char **key, char *msg, size_t size)
{
	const struct engine_policy *s = &p->scaling;
	char a[DURATION_FORMAT_MAX], b[DURATION_FORMAT_MAX];

	if (s->local_max_tasks < s->local_min_tasks) {
		*key = "local.max_tasks";
		snprintf(msg, size, "'local.max_tasks' (%d) is below 'local.min_tasks' (%d)",
			s->local_max_tasks, s->local_min_tasks);
		return -EINVAL;
	}
	if (s->max_observation_age_ms < p->interval_ms) {
		*key = "max_data_age";
		snprintf(msg, size,
			"'max_data_age' (%s) must be at least the policy's interval (%s)",
			duration_format(s->max_observation_age_ms, a),
			duration_format(p->interval_ms, b));
		return -EINVAL;
	}
	if (p->burst.present && strcmp(p->burst.cluster, p->local.cluster) == 0 &&
		strcmp(p->burst.service, p->local.service) == 0) {
		*key = "burst.service";
		snprintf(msg, size, "the burst service is the local service ('%s' in cluster '%s')",
			p->burst.service, p->burst.cluster);
		return -EINVAL;
	}
	return 0;
}

/* The rules of policy_check_rules, reported at the offending key's position. */
static int check_policy(const struct schema_walk *w, struct policy *p, struct diag *diag)
{
	char msg[DIAG_MESSAGE_MAX];
	const char *key;

	if (policy_check_rules(p, &key, msg, sizeof(msg)) == 0)
		return 0;
	return diag_at(diag, w->file, schema_seen_value(w, key), "%s", msg);
}

/* The field of the policy schema at a dotted key ("local.max_tasks"), or NULL. */
static const struct schema_field *policy_field(const char *key)
{
	const struct schema_field *fields = policy_schema;
	const char *dot;

	while ((dot = strchr(key, '.')) != NULL) {
		const struct schema_field *f = fields;

		while (f->key != NULL &&
			(strlen(f->key) != (size_t)(dot - key) ||
				strncmp(f->key, key, (size_t)(dot - key)) != 0))
			f++;
		if (f->key == NULL || f->type != SCHEMA_MAP)
			return NULL;
		fields = f->sub;
		key = dot + 1;
	}
	for (; fields->key != NULL; fields++)
		if (strcmp(fields->key, key) == 0)
			return fields;
	return NULL;
}

int policy_check_value(const char *key, int64_t value, char *msg, size_t size)
{
	const struct schema_field *f = policy_field(key);

	if (f == NULL || f->type == SCHEMA_MAP) {
		snprintf(msg, size, "'%s' is not a policy key", key);
		return -EINVAL;
	}
	if (value < f->min || value > f->max) {
		snprintf(msg, size, "'%s' must be between %lld and %lld", key, (long long)f->min,
			(long long)f->max);
		return -ERANGE;
	}
	return 0;
}

int policy_parse_node(const char *file, const struct ynode *root,
	const struct qscale_config *config, struct policy *out, struct policy_marks *marks,
	struct diag *diag)
{
	struct policy p = {0};
	struct schema_walk w = {.root = policy_schema,
		.file = file != NULL ? file : "<config>",
		.diag = diag,
		.base = &p};
	int r;

	schema_apply_defaults(policy_schema, &p);
	r = schema_walk_map(&w, policy_schema, root, "");
	if (r == 0) {
		if (schema_seen_value(&w, "interval") == NULL)
			p.interval_ms = config->interval_ms;
		if (schema_seen_value(&w, "max_data_age") == NULL)
			p.scaling.max_observation_age_ms =
				POLICY_MAX_DATA_AGE_INTERVALS * p.interval_ms;
		p.scaling.has_burst = p.burst.present;
		p.scaling.has_burst_stabilization = p.burst.present;
		explicit_limits(&w, &p);
		if (!p.burst.present)
			p.scaling.burst_max_tasks = 0;
		r = policy_normalise_ids(&w, &p, config, diag);
		if (r == 0)
			r = check_policy(&w, &p, diag);
	}
	if (r < 0) {
		policy_finish(&p);
		return r;
	}
	p.file = xstrdup(file);
	p.line = root->line;
	memset(marks, 0, sizeof(*marks));
	marks->file = file;
	mark_node(schema_seen_value(&w, "name"), &marks->name_line, &marks->name_column);
	mark_node(schema_seen_value(&w, "local.service"), &marks->local_line, &marks->local_column);
	mark_node(schema_seen_value(&w, "burst.service"), &marks->burst_line, &marks->burst_column);
	*out = p;
	return 0;
}

/* Whether two (cluster, service) pairs name the same service. */
static bool same_service(const char *c1, const char *s1, const char *c2, const char *s2)
{
	return c1 != NULL && c2 != NULL && strcmp(c1, c2) == 0 && strcmp(s1, s2) == 0;
}

/* The policy among loaded that already drives (cluster, service), or NULL. */
static const struct policy *driver_of(
	const struct policy *loaded, size_t count, const char *cluster, const char *service)
{
	for (size_t i = 0; i < count; i++) {
		const struct policy *q = &loaded[i];

		if (same_service(q->local.cluster, q->local.service, cluster, service) ||
			same_service(q->burst.cluster, q->burst.service, cluster, service))
			return q;
	}
	return NULL;
}

int policy_check_unique(const struct policy *loaded, size_t count, const struct policy *p,
	const struct policy_marks *marks, struct diag *diag)
{
	const struct policy *q;

	for (size_t i = 0; i < count; i++) {
		if (strcmp(loaded[i].name, p->name) == 0)
			return diag_set(diag, marks->file, marks->name_line, marks->name_column,
				"a policy named '%s' already exists (%s:%u)", p->name,
				loaded[i].file, loaded[i].line);
	}
	q = driver_of(loaded, count, p->local.cluster, p->local.service);
	if (q != NULL)
		return diag_set(diag, marks->file, marks->local_line, marks->local_column,
			"service '%s' in cluster '%s' is already driven by policy '%s' (%s:%u)",
			p->local.service, p->local.cluster, q->name, q->file, q->line);
	if (p->burst.present) {
		q = driver_of(loaded, count, p->burst.cluster, p->burst.service);
		if (q != NULL)
			return diag_set(diag, marks->file, marks->burst_line, marks->burst_column,
				"service '%s' in cluster '%s' is already driven by policy '%s' "
				"(%s:%u)",
				p->burst.service, p->burst.cluster, q->name, q->file, q->line);
	}
	return 0;
}

int policy_parse(const char *name, const char *text, size_t len, const struct qscale_config *config,
	struct policy *out, struct diag *diag)
{
	struct qscale_config defaults = {0};
	struct policy_marks marks;
	struct ynode *root;
	int r = policy_yaml_parse(name, text, len, &root, diag);

	if (r < 0)
		return r;
	if (config == NULL) {
		schema_apply_defaults(config_schema, &defaults);
		config = &defaults;
	}
	r = policy_parse_node(name, root, config, out, &marks, diag);
	schema_free(config_schema, &defaults);
	ynode_free(root);
	return r;
}

void policy_finish(struct policy *policy)
{
	if (policy == NULL)
		return;
	schema_free(policy_schema, policy);
	free(policy->file);
	memset(policy, 0, sizeof(*policy));
}

/* How the burst is sized, appended to the sizing line. */
static void burst_sizing_describe(const struct policy *policy, char *buf, size_t size)
{
	const struct engine_policy *s = &policy->scaling;
	size_t len = strlen(buf);
	char processing[DURATION_FORMAT_MAX], startup[DURATION_FORMAT_MAX],
		drain[DURATION_FORMAT_MAX];

	if (!policy->burst.present || len >= size)
		return;
	if (s->concurrency == 0 || s->include_in_flight)
		snprintf(buf + len, size - len, "; burst: like local tasks");
	else if (s->processing_time_ms == 0)
		snprintf(buf + len, size - len,
			"; burst: like local tasks (target.processing_time is not set, so the "
			"start-up cannot be sized for)");
	else
		snprintf(buf + len, size - len,
			"; burst: sized for its start-up (a message takes %s, a burst task runs "
			"%s after it is asked for, the backlog expected then drains over %s)",
			duration_format(s->processing_time_ms, processing),
			duration_format(s->burst_startup_ms, startup),
			duration_format(s->burst_drain_ms, drain));
}

void policy_sizing_describe(const struct policy *policy, char *buf, size_t size)
{
	const struct engine_policy *s = &policy->scaling;

	if (s->concurrency == 0)
		snprintf(buf, size,
			"sizing: backlog alone, ceil(backlog / %lld) (target.concurrency is 0)",
			(long long)s->backlog_per_task);
	else if (s->include_in_flight)
		snprintf(buf, size,
			"sizing: backlog alone, ceil(backlog / %lld): queue.include_in_flight "
			"counts "
			"the messages in flight as backlog, so they cannot also tell the work in "
			"progress (target.concurrency is not used)",
			(long long)s->backlog_per_task);
	else
		snprintf(buf, size,
			"sizing: work in progress ceil(in flight / (%d x %d%%)) + ceil(backlog / "
			"%lld)",
			(int)s->concurrency, (int)s->utilization_percent,
			(long long)s->backlog_per_task);
	burst_sizing_describe(policy, buf, size);
}

void policy_print(const struct policy *policy, unsigned indent, FILE *out)
{
	schema_print(policy_schema, policy, indent, NULL, out);
}
