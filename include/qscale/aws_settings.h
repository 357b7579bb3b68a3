/*
 * The AWS client's settings, resolved once as the AWS CLI (botocore) and the
 * SDKs resolve them: which profile, which shared files (a leading "~"
 * expanded), the region, the SQS, ECS and DynamoDB endpoints (configured
 * URLs, FIPS and dual-stack names), the retry mode and attempts, the CA bundle and
 * whether IMDSv1 may be used. Each value remembers which setting gave it,
 * for `qscale doctor`; an invalid value is an error that names the setting
 * (variable, or file:line and profile). The resolution itself is pure:
 * aws_settings_resolve() takes the parsed config file and an environment
 * callback; aws_settings_load() is the thin edge that reads the file.
 */
#ifndef QSCALE_AWS_SETTINGS_H
#define QSCALE_AWS_SETTINGS_H

#include <stdbool.h>

#include "qscale/aws_client.h"
#include "qscale/aws_endpoint.h"
#include "qscale/aws_ini.h"
#include "qscale/diag.h"

/* The SDKs' retry modes (AWS_RETRY_MODE, retry_mode). */
enum aws_retry_mode {
	AWS_RETRY_MODE_STANDARD = 0, /* qscale's default, as the JS SDK's */
	AWS_RETRY_MODE_ADAPTIVE, /* standard plus the client-side rate limiter */
	AWS_RETRY_MODE_LEGACY, /* botocore's old default: 5 attempts, no quota */
};

/* "standard", "adaptive", "legacy". */
const char *aws_retry_mode_name(enum aws_retry_mode mode);

/* The attempts a mode makes when nothing sets max_attempts: 3, 3, 5. */
int aws_retry_mode_default_attempts(enum aws_retry_mode mode);

/* The most attempts (the first included) qscale accepts from any setting. */
#define AWS_SETTINGS_MAX_ATTEMPTS 1000

/* What qscale's own configuration says; every field optional. */
struct aws_settings_input {
	const char *region;
	const char *endpoint_sqs;
	const char *endpoint_ecs;
	const char *endpoint_dynamodb; /* the HA lease table's */
	const char *profile; /* NULL: AWS_PROFILE, then "default" */
	int max_attempts; /* 0: not set */
	aws_env_cb env; /* NULL: the process environment */
	void *env_ctx;
};

#define AWS_SETTINGS_FROM_MAX 320

/* The resolved settings; strings owned, freed by aws_settings_finish(). */
struct aws_settings {
	char *profile;
	bool profile_named; /* by configuration or AWS_PROFILE */
	char *config_path; /* NULL when HOME is unknown and no variable names it */
	char *credentials_path;
	char region[AWS_REGION_MAX];
	char region_from[AWS_SETTINGS_FROM_MAX];
	char *endpoint[AWS_SERVICE_COUNT]; /* by enum aws_service: "scheme://host[:port]" */
	char *host[AWS_SERVICE_COUNT]; /* the Host header of each */
	enum aws_endpoint_origin endpoint_from[AWS_SERVICE_COUNT];
	bool use_fips;
	bool use_dualstack;
	bool ignore_configured_urls; /* from the variable or the profile */
	enum aws_retry_mode retry_mode;
	char retry_mode_from[AWS_SETTINGS_FROM_MAX];
	int max_attempts;
	char max_attempts_from[AWS_SETTINGS_FROM_MAX];
	char *ca_bundle; /* NULL: the system's trust store */
	char ca_bundle_from[AWS_SETTINGS_FROM_MAX];
	bool imds_v1_disabled;
};

/*
 * The path of a shared file: the variable's value, else fallback, a leading
 * "~/" (or a lone "~") replaced by HOME. *out NULL when HOME is needed and
 * unknown. Freed by the caller.
 */
void aws_settings_file_path(
	aws_env_cb env, void *env_ctx, const char *var, const char *fallback, char **out);

/*
 * Resolve from in, the parsed config file (NULL when there is none) read
 * from config_path. -ENOENT when no region is set anywhere, -EINVAL for an
 * invalid value, -ENOTSUP for dual-stack in a partition without it; diag
 * names the setting: "VARIABLE: ..." or "file:line:1: key in profile p: ...". A configured endpoint
 * wins over FIPS and dual-stack, as in botocore. out is written only on success.
 */
int aws_settings_resolve(const struct aws_settings_input *in, const struct aws_ini *config,
	struct aws_settings *out, struct diag *diag);

/*
 * aws_settings_resolve() after reading the config file (missing is fine; one
 * that is no regular file or cannot be read is ignored with a warning, as
 * botocore skips it; an unparsable one is -EINVAL naming file and line),
 * then checks that a CA bundle named by a setting can be read.
 */
int aws_settings_load(
	const struct aws_settings_input *in, struct aws_settings *out, struct diag *diag);

/* Free what out holds; accepts a zeroed struct. */
void aws_settings_finish(struct aws_settings *s);

#endif
