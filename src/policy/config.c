/*
 * The main configuration file: its schema, where it is found, and loading it
 * together with every policy (inline under `policies:` and one per *.yaml file
 * in `policies_dir`) into a new config object. Nothing global is touched, so
 * a reload can load and validate a new object before swapping it in.
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "policy_priv.h"
#include "qscale/duration.h"
#include "qscale/listen_addr.h"
#include "qscale/xalloc.h"

#define C(member) offsetof(struct qscale_config, member)

static const struct schema_choice log_formats[] = {
	{"text", LOG_FORMAT_TEXT},
	{"json", LOG_FORMAT_JSON},
	{NULL, 0},
};

static const struct schema_choice log_levels[] = {
	{"error", LOG_LEVEL_ERROR},
	{"warn", LOG_LEVEL_WARN},
	{"info", LOG_LEVEL_INFO},
	{"debug", LOG_LEVEL_DEBUG},
	{NULL, 0},
};

static const struct schema_field metrics_fields[] = {
	{.key = "listen",
		.type = SCHEMA_CUSTOM,
		.custom = &policy_listen_type,
		.offset = C(metrics.listen),
		.def = LISTEN_ADDR_DEFAULT},
	{0},
};

static const struct schema_field log_fields[] = {
	{.key = "format",
		.type = SCHEMA_ENUM,
		.offset = C(log.format),
		.choices = log_formats,
		.def = "text"},
	{.key = "level",
		.type = SCHEMA_ENUM,
		.offset = C(log.level),
		.choices = log_levels,
		.def = "info"},
	{0},
};

static const struct schema_field endpoint_fields[] = {
	{.key = "sqs",
		.type = SCHEMA_URL,
		.offset = C(aws.endpoints.sqs),
		.def_doc = "from AWS_ENDPOINT_URL_SQS, then AWS_ENDPOINT_URL, then the AWS "
			   "profile's, else the region's (FIPS or dual-stack when set)"},
	{.key = "ecs",
		.type = SCHEMA_URL,
		.offset = C(aws.endpoints.ecs),
		.def_doc = "from AWS_ENDPOINT_URL_ECS, then AWS_ENDPOINT_URL, then the AWS "
			   "profile's, else the region's (FIPS or dual-stack when set)"},
	{.key = "dynamodb",
		.type = SCHEMA_URL,
		.offset = C(aws.endpoints.dynamodb),
		.def_doc = "from AWS_ENDPOINT_URL_DYNAMODB, then AWS_ENDPOINT_URL, then the AWS "
			   "profile's, else the region's (FIPS or dual-stack when set)"},
	{0},
};

static const struct schema_field aws_fields[] = {
	{.key = "profile",
		.type = SCHEMA_STRING,
		.offset = C(aws.profile),
		.def_doc = "from AWS_PROFILE, else default"},
	{.key = "endpoints", .type = SCHEMA_MAP, .sub = endpoint_fields},
	{.key = "timeout",
		.type = SCHEMA_DURATION,
		.offset = C(aws.timeout_ms),
		.min = 100,
		.max = 5 * 60 * 1000,
		.def = "5s"},
	{.key = "credential_process_timeout",
		.type = SCHEMA_DURATION,
		.offset = C(aws.credential_process_timeout_ms),
		.min = 100,
		.max = 10 * 60 * 1000,
		.def = "60s"},
	{.key = "max_connections",
		.type = SCHEMA_I32,
		.offset = C(aws.max_connections),
		.min = 1,
		.max = 256,
		.def = "16"},
	{.key = "account_id",
		.type = SCHEMA_STRING,
		.offset = C(aws.account_id),
		.def_doc = "the account of the queue URLs (used by qscale iam-policy)"},
	{0},
};

static const struct schema_field ha_fields[] = {
	{.key = "table",
		.type = SCHEMA_NAME,
		.offset = C(ha.table),
		.flags = SCHEMA_REQUIRED,
		.def_doc = "required"},
	{.key = "lease", .type = SCHEMA_NAME, .offset = C(ha.lease), .def = "qscale"},
	{.key = "duration",
		.type = SCHEMA_DURATION,
		.offset = C(ha.duration_ms),
		.min = 1000,
		.max = 10 * 60 * 1000,
		.def = "20s"},
	{.key = "renew",
		.type = SCHEMA_DURATION,
		.offset = C(ha.renew_ms),
		.min = 100,
		.max = 5 * 60 * 1000,
		.def = "5s"},
	{.key = "margin",
		.type = SCHEMA_DURATION,
		.offset = C(ha.margin_ms),
		.min = 100,
		.max = 5 * 60 * 1000,
		.def = "5s"},
	{.key = "identity",
		.type = SCHEMA_NAME,
		.offset = C(ha.identity),
		.def_doc = "the host name and a random suffix"},
	{0},
};

const struct schema_field config_schema[] = {
	{.key = "region",
		.type = SCHEMA_REGION,
		.offset = C(region),
		.def_doc =
			"from AWS_REGION, then AWS_DEFAULT_REGION, then the AWS profile's region"},
	{.key = "interval",
		.type = SCHEMA_DURATION,
		.offset = C(interval_ms),
		.min = 100,
		.max = 60 * 60 * 1000,
		.def = "10s"},
	{.key = "dry_run", .type = SCHEMA_BOOL, .offset = C(dry_run), .def = "false"},
	{.key = "metrics", .type = SCHEMA_MAP, .sub = metrics_fields},
	{.key = "log", .type = SCHEMA_MAP, .sub = log_fields},
	{.key = "aws", .type = SCHEMA_MAP, .sub = aws_fields},
	{.key = "ha",
		.type = SCHEMA_MAP,
		.sub = ha_fields,
		.flags = SCHEMA_PRESENCE,
		.present_offset = C(ha.present),
		.def_doc = "off: one daemon acts alone"},
	{.key = "policies_dir",
		.type = SCHEMA_STRING,
		.offset = C(policies_dir),
		.def = CONFIG_DEFAULT_DIR "/policies.d"},
	{.key = "policies", .type = SCHEMA_NODE, .def_doc = "none"},
	{0},
};

const char *qscale_config_path(const char *path)
{
	const char *env;

	if (path != NULL)
		return path;
	env = getenv("QSCALE_CONFIG");
	if (env != NULL && env[0] != '\0')
		return env;
	return CONFIG_DEFAULT_DIR "/qscale.yaml";
}

/* A relative policies_dir is taken relative to the folder of the main file. */
static void resolve_dir(struct qscale_config *cfg, const char *name)
{
	const char *slash = strrchr(name, '/');
	char *joined;

	if (cfg->policies_dir[0] == '/' || slash == NULL)
		return;
	joined = xasprintf("%.*s/%s", (int)(slash - name), name, cfg->policies_dir);
	free(cfg->policies_dir);
	cfg->policies_dir = joined;
}

/* Parse one policy tree, check it against the loaded ones and append it. */
static int add_policy(
	struct qscale_config *cfg, const char *file, const struct ynode *root, struct diag *diag)
{
	struct policy p;
	struct policy_marks marks;
	int r;

	if (cfg->policy_count == POLICY_MAX_POLICIES)
		return diag_at(diag, file, root, "more than %d policies", POLICY_MAX_POLICIES);
	r = policy_parse_node(file, root, cfg, &p, &marks, diag);
	if (r < 0)
		return r;
	r = policy_check_unique(cfg->policies, cfg->policy_count, &p, &marks, diag);
	if (r < 0) {
		policy_finish(&p);
		return r;
	}
	cfg->policies = xreallocarray(cfg->policies, cfg->policy_count + 1, sizeof(*cfg->policies));
	cfg->policies[cfg->policy_count++] = p;
	return 0;
}

/* The policies written under `policies:` in the main file. */
static int add_inline(
	struct qscale_config *cfg, const char *file, const struct ynode *list, struct diag *diag)
{
	if (list->kind != YNODE_SEQUENCE)
		return diag_at(diag, file, list, "'policies' must be a list of policies");
	for (size_t i = 0; i < list->count; i++) {
		int r = add_policy(cfg, file, list->items[i], diag);

		if (r < 0)
			return r;
	}
	return 0;
}

/* One policy file from policies_dir. */
static int add_file(struct qscale_config *cfg, const char *path, struct diag *diag)
{
	char *text;
	size_t len;
	struct ynode *root;
	int r = policy_read_file(path, &text, &len, diag);

	if (r < 0)
		return r;
	r = policy_yaml_parse(path, text, len, &root, diag);
	free(text);
	if (r < 0)
		return r;
	r = add_policy(cfg, path, root, diag);
	ynode_free(root);
	return r;
}

/*
 * Every policy file of policies_dir, in name order. at is where the main file
 * names the folder (NULL for the default one), to point errors there.
 */
static int add_dir(struct qscale_config *cfg, const struct ynode *at, struct diag *diag)
{
	char **files;
	size_t count;
	int r = policy_list_dir(cfg->policies_dir, &files, &count, diag);

	/* The default folder may well not exist; one named in the file must. */
	if (r == -ENOENT && at == NULL)
		return 0;
	if (r < 0 && r != -E2BIG && at != NULL)
		diag_at(diag, cfg->file, at, "policies_dir '%s': %s", cfg->policies_dir,
			strerror(-r));
	if (r < 0)
		return r;
	cfg->policies_dir_found = true;
	for (size_t i = 0; i < count && r == 0; i++)
		r = add_file(cfg, files[i], diag);
	policy_free_list(files);
	return r;
}

/*
 * The ha timings must leave a healthy holder time to renew before it stops
 * acting: it stops margin before its lease could expire, so a renewal must
 * come well before that.
 */
static int check_ha(const struct schema_walk *w, const struct qscale_config *cfg, struct diag *diag)
{
	char a[DURATION_FORMAT_MAX], b[DURATION_FORMAT_MAX], m[DURATION_FORMAT_MAX];

	if (!cfg->ha.present)
		return 0;
	if (cfg->ha.margin_ms >= cfg->ha.duration_ms) {
		const struct ynode *at = schema_seen_value(w, "ha.margin");

		return diag_at(diag, w->file, at != NULL ? at : schema_seen_value(w, "ha.duration"),
			"'ha.margin' (%s) must be below 'ha.duration' (%s)",
			duration_format(cfg->ha.margin_ms, m),
			duration_format(cfg->ha.duration_ms, b));
	}
	if (cfg->ha.renew_ms > (cfg->ha.duration_ms - cfg->ha.margin_ms) / 2) {
		const struct ynode *at = schema_seen_value(w, "ha.renew");

		if (at == NULL)
			at = schema_seen_value(w, "ha.margin");
		if (at == NULL)
			at = schema_seen_value(w, "ha.duration");
		return diag_at(diag, w->file, at,
			"'ha.renew' (%s) must be at most half of 'ha.duration' (%s) less "
			"'ha.margin' (%s), so that a holder renews at least twice before it stops",
			duration_format(cfg->ha.renew_ms, a),
			duration_format(cfg->ha.duration_ms, b),
			duration_format(cfg->ha.margin_ms, m));
	}
	return 0;
}

int qscale_config_parse(const char *name, const char *text, size_t len, unsigned flags,
	struct qscale_config **out, struct diag *diag)
{
	struct qscale_config *cfg;
	struct schema_walk w = {
		.root = config_schema, .file = name != NULL ? name : "<config>", .diag = diag};
	const struct ynode *policies, *dir_at = NULL;
	struct ynode *root;
	int r = policy_yaml_parse(name, text, len, &root, diag);

	if (r < 0)
		return r;
	cfg = xcalloc(1, sizeof(*cfg));
	cfg->file = xstrdup(name);
	schema_apply_defaults(config_schema, cfg);
	w.base = cfg;
	r = schema_walk_map(&w, config_schema, root, "");
	if (r == 0)
		r = check_ha(&w, cfg, diag);
	if (r == 0) {
		dir_at = schema_seen_value(&w, "policies_dir");
		cfg->policies_dir_explicit = dir_at != NULL;
		resolve_dir(cfg, name);
		policies = schema_seen_value(&w, "policies");
		if (policies != NULL)
			r = add_inline(cfg, name, policies, diag);
	}
	if (r == 0 && !(flags & QSCALE_CONFIG_NO_POLICIES_DIR))
		r = add_dir(cfg, dir_at, diag);
	ynode_free(root);
	if (r < 0) {
		qscale_config_destroy(cfg);
		return r;
	}
	*out = cfg;
	return 0;
}

int qscale_config_load(const char *path, struct qscale_config **out, struct diag *diag)
{
	const char *file = qscale_config_path(path);
	char *text;
	size_t len;
	int r = policy_read_file(file, &text, &len, diag);

	if (r < 0)
		return r;
	r = qscale_config_parse(file, text, len, 0, out, diag);
	free(text);
	return r;
}

int qscale_config_reload_check(const struct qscale_config *running,
	const struct qscale_config *next, char *why, size_t size)
{
	size_t from_dir = 0;

	if (running == NULL)
		return 0;
	for (size_t i = 0; i < running->policy_count; i++)
		from_dir += running->policies[i].file != NULL &&
				strcmp(running->policies[i].file, running->file) != 0
			? 1
			: 0;
	/* The lease machinery is set up at start: it cannot appear or vanish live. */
	if (next->ha.present != running->ha.present) {
		snprintf(why, size, "'ha' cannot be turned %s by a reload; restart qscale",
			next->ha.present ? "on" : "off");
		return -EINVAL;
	}
	if (next->policy_count == 0 && running->policy_count > 0) {
		snprintf(why, size, "the new configuration has no policy, %zu running",
			running->policy_count);
		return -ENOENT;
	}
	if (running->policies_dir_found && !next->policies_dir_found && from_dir > 0) {
		snprintf(why, size, "policies_dir %s is missing, %zu running policies came from %s",
			next->policies_dir, from_dir, running->policies_dir);
		return -ENOENT;
	}
	return 0;
}

void qscale_config_destroy(struct qscale_config *config)
{
	if (config == NULL)
		return;
	for (size_t i = 0; i < config->policy_count; i++)
		policy_finish(&config->policies[i]);
	free(config->policies);
	schema_free(config_schema, config);
	free(config->file);
	free(config);
}

void qscale_config_print(const struct qscale_config *config, FILE *out)
{
	fprintf(out, "# %s\n", config->file);
	schema_print(config_schema, config, 0, NULL, out);
	if (config->policy_count == 0) {
		fprintf(out, "policies: []\n");
		return;
	}
	fprintf(out, "policies:\n");
	for (size_t i = 0; i < config->policy_count; i++) {
		const struct policy *p = &config->policies[i];

		char sizing[512];

		policy_sizing_describe(p, sizing, sizeof(sizing));
		fprintf(out, "  # %s:%u\n", p->file, p->line);
		fprintf(out, "  # %s\n", sizing);
		schema_print(policy_schema, p, 4, "  - ", out);
	}
}
