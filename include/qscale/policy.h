/*
 * qscale's configuration: the main file (qscale.yaml) and the scaling policies
 * (inline under `policies:` and one per *.yaml file in `policies_dir`), loaded
 * with libyaml into typed structs and validated strictly. Loading always builds
 * a new, independent config object, so a reload can validate first and swap
 * afterwards. Every key, type and default is documented in
 * docs/configuration.md.
 */
#ifndef QSCALE_POLICY_H
#define QSCALE_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/diag.h"
#include <stdio.h>

#include "qscale/engine.h"
#include "qscale/log.h"

struct ecs_filter;

/* max_data_age when a policy does not set it: this many intervals. */
#define POLICY_MAX_DATA_AGE_INTERVALS 3

/* Caps that keep hostile files cheap to reject. */
#define POLICY_MAX_FILE_BYTES (1024 * 1024) /* each YAML file */
#define POLICY_MAX_SCALAR_BYTES 4096 /* each value or key */
#define POLICY_MAX_DEPTH 32 /* nested mappings and sequences */
#define POLICY_MAX_NODES 100000 /* scalars, mappings and sequences per file */
#define POLICY_MAX_POLICIES 1000 /* inline and from policies_dir together */

/* A policy's instance_filter: the text as written and its compiled form. */
struct policy_filter {
	char *text; /* NULL: every ACTIVE instance with a connected agent */
	struct ecs_filter *compiled; /* NULL exactly when text is NULL */
};

/* One scaling policy: a queue driving a local service and maybe a burst one. */
struct policy {
	char *name;
	char *file; /* where it was defined */
	unsigned line; /* its first line there */
	uint64_t interval_ms;
	char *lease_group; /* NULL: the ha section's lease (only read when ha is present) */
	struct {
		char *url;
	} queue;
	struct {
		char *cluster;
		char *service;
		struct policy_filter instance_filter;
	} local;
	struct {
		bool present;
		char *cluster; /* NULL unless present */
		char *service;
	} burst;
	/*
	 * Every numeric parameter, including local.reserve, local.priority,
	 * local.min/max_tasks, burst.max_tasks, queue.include_*, target.* and
	 * behavior.*; max_data_age is scaling.max_observation_age_ms.
	 */
	struct engine_policy scaling;
};

/* The main configuration with every policy, defaults filled in. */
struct qscale_config {
	char *file; /* the main file it was loaded from */
	char *region; /* NULL: from AWS_REGION, then AWS_DEFAULT_REGION */
	uint64_t interval_ms;
	bool dry_run;
	struct {
		char *listen; /* "" when off */
	} metrics;
	struct {
		enum log_format format;
		enum log_level level;
	} log;
	struct {
		char *profile; /* NULL: from AWS_PROFILE, else "default" */
		struct {
			char *sqs; /* NULL: from AWS_ENDPOINT_URL_SQS, AWS_ENDPOINT_URL */
			char *ecs; /* NULL: from AWS_ENDPOINT_URL_ECS, AWS_ENDPOINT_URL */
			char *dynamodb; /* NULL: from AWS_ENDPOINT_URL_DYNAMODB, AWS_ENDPOINT_URL */
		} endpoints;
		uint64_t timeout_ms;
		uint64_t credential_process_timeout_ms; /* bound on a credential_process run */
		int32_t max_connections; /* requests in flight and connections per endpoint */
		char *account_id; /* NULL: taken from the queue URLs (qscale iam-policy) */
	} aws;
	/* High availability through a lease in DynamoDB (docs/ha.md); off unless present. */
	struct {
		bool present;
		char *table; /* the DynamoDB table holding the leases */
		char *lease; /* the lease of every policy that names no lease_group */
		uint64_t duration_ms; /* how long a lease lasts unrenewed */
		uint64_t renew_ms; /* how often the holder renews, a standby looks */
		uint64_t margin_ms; /* the holder stops this long before its lease could expire */
		char *identity; /* NULL: host name and a random suffix, chosen at start */
	} ha;
	char *policies_dir; /* as resolved: relative to the main file's folder */
	bool policies_dir_explicit; /* set in the file, so it must exist */
	bool policies_dir_found; /* the folder was there and listed */
	struct policy *policies; /* inline ones first, then the folder's, by file name */
	size_t policy_count;
};

/*
 * Whether next may replace running on a reload (SIGHUP). Not when next has no
 * policy while running has some, nor when running read policies from a
 * folder that next did not find (the default folder, which may be missing,
 * gone from under a running daemon): both lose every policy of a folder by
 * accident far more often than by intent. 0, or -ENOENT with why set.
 */
int qscale_config_reload_check(const struct qscale_config *running,
	const struct qscale_config *next, char *why, size_t size);

/* Flags for qscale_config_parse. */
#define QSCALE_CONFIG_NO_POLICIES_DIR 0x1 /* do not read policies_dir */

/*
 * The main file to load: path when not NULL, else $QSCALE_CONFIG when set and
 * not empty, else the built-in default (<sysconfdir>/qscale/qscale.yaml).
 * The result is path, the environment's string or a static string.
 */
const char *qscale_config_path(const char *path);

/*
 * Load the main file at path (see qscale_config_path) and every policy into a
 * new config object that the caller destroys. 0; -EINVAL for an invalid file,
 * -ENOENT, -EACCES, -EISDIR... when a file cannot be read, -EFBIG past
 * POLICY_MAX_FILE_BYTES; each failure fills diag. *out is written only on
 * success.
 */
int qscale_config_load(const char *path, struct qscale_config **out, struct diag *diag);

/*
 * Like qscale_config_load, from text already in memory; name is used in
 * diagnostics and to resolve a relative policies_dir.
 */
int qscale_config_parse(const char *name, const char *text, size_t len, unsigned flags,
	struct qscale_config **out, struct diag *diag);

/* Free a config with its policies; accepts NULL. */
void qscale_config_destroy(struct qscale_config *config);

/*
 * The rules of one policy that involve more than one key (max not below min,
 * max_data_age at least the interval, burst not the local service): 0, or
 * -EINVAL with the key the error belongs to and a message. The loader and
 * simulate --sweep apply the same rules.
 */
int policy_check_rules(const struct policy *p, const char **key, char *msg, size_t size);

/*
 * Whether value is in the range the policy schema allows for a dotted key
 * ("local.max_tasks", "interval"; durations in ms): 0, -ERANGE or -EINVAL
 * (no such key), with a message.
 */
int policy_check_value(const char *key, int64_t value, char *msg, size_t size);

/*
 * Parse one policy file's text on its own, defaults taken from config (NULL:
 * the built-in defaults), into *out, which the caller releases with
 * policy_finish. Checks that need the other policies are not made.
 */
int policy_parse(const char *name, const char *text, size_t len, const struct qscale_config *config,
	struct policy *out, struct diag *diag);

/* Free what a policy holds and zero it; accepts NULL. */
void policy_finish(struct policy *policy);

/*
 * Write what the config holds, every default filled in, as YAML that loads
 * back to the same values: the main settings, then one block per policy.
 */
void qscale_config_print(const struct qscale_config *config, FILE *out);

/*
 * One line saying how the policy sizes its fleet: on the work in progress
 * and the backlog, or, when the processing cannot be read from what SQS
 * reports (in-flight messages counted as backlog, or no concurrency), on the
 * backlog alone, and why. Written into buf (always NUL-terminated).
 */
void policy_sizing_describe(const struct policy *policy, char *buf, size_t size);

/* Write one policy as a YAML mapping indented by indent spaces. */
void policy_print(const struct policy *policy, unsigned indent, FILE *out);

#endif
