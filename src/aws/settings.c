/*
 * Resolution of the AWS client's settings in botocore's order: qscale's own
 * configuration first (as arguments given in code are for an SDK client),
 * then the environment variable, then the key in the config file's profile,
 * then the default. Values are checked here, once, so that a typo becomes an
 * error naming the variable or the file, line and profile, never a silent
 * default. Pure but for aws_settings_load(), which reads the config file
 * (warning about one it cannot read) and checks that a CA bundle exists.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "qscale/aws_settings.h"
#include "qscale/diag.h"
#include "qscale/log.h"
#include "qscale/xalloc.h"

/* A set, non-empty value. */
static const char *nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* Where a value came from: a variable (line 0) or a line of the config file. */
struct where {
	const char *name; /* the variable, or the config file's path */
	unsigned line;
	const char *key; /* the key, when from the file */
	const char *profile;
};

/*
 * Fill diag as "VARIABLE: message" or "file:line:1: key in profile p:
 * message" and return err.
 */
static int fail(struct diag *diag, int err, const struct where *w, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The definition (printf-checked through the declaration above). */
static int fail(struct diag *diag, int err, const struct where *w, const char *fmt, ...)
{
	char text[DIAG_MESSAGE_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	if (w->line > 0)
		diag_fill(diag, w->name, w->line, 1, "%s in profile %s: %s", w->key, w->profile,
			text);
	else
		diag_fill(diag, w->name, 0, 0, "%s", text);
	return err;
}

/* A where for a setting that is not read from the environment or a file. */
static struct where named(const char *name)
{
	return (struct where){.name = name};
}

/* See qscale/aws_settings.h. */
const char *aws_retry_mode_name(enum aws_retry_mode mode)
{
	switch (mode) {
	case AWS_RETRY_MODE_ADAPTIVE:
		return "adaptive";
	case AWS_RETRY_MODE_LEGACY:
		return "legacy";
	case AWS_RETRY_MODE_STANDARD:
		break;
	}
	return "standard";
}

/* See qscale/aws_settings.h. */
int aws_retry_mode_default_attempts(enum aws_retry_mode mode)
{
	return mode == AWS_RETRY_MODE_LEGACY ? 5 : 3;
}

/* See qscale/aws_settings.h. */
void aws_settings_file_path(
	aws_env_cb env, void *env_ctx, const char *var, const char *fallback, char **out)
{
	const char *v = nonempty(env(var, env_ctx));
	const char *path = v != NULL ? v : fallback;

	*out = NULL;
	if (path[0] != '~' || (path[1] != '/' && path[1] != '\0')) {
		*out = xstrdup(path);
		return;
	}
	const char *home = nonempty(env("HOME", env_ctx));
	if (home != NULL)
		*out = xasprintf("%s%s", home, path + 1);
}

/* Where one setting was looked up. */
struct lookup {
	const struct aws_settings_input *in;
	const struct aws_ini *config;
	const char *config_path;
	const char *profile;
};

/*
 * The value of a setting: the variable (when var is not NULL), else key in
 * the profile. from says which, for doctor; w where, for error messages.
 */
static const char *lookup(const struct lookup *lk, const char *var, const char *key,
	char from[AWS_SETTINGS_FROM_MAX], struct where *w)
{
	const char *v = var != NULL ? nonempty(lk->in->env(var, lk->in->env_ctx)) : NULL;

	*w = named(var != NULL ? var : key);
	if (v != NULL) {
		snprintf(from, AWS_SETTINGS_FROM_MAX, "%s", var);
		return v;
	}
	const struct aws_ini_entry *e =
		lk->config != NULL ? aws_ini_find(lk->config, lk->profile, key) : NULL;
	if (e != NULL && nonempty(e->value) != NULL) {
		snprintf(from, AWS_SETTINGS_FROM_MAX, "%s in profile %s of %s:%d", key, lk->profile,
			lk->config_path != NULL ? lk->config_path : "the config file", e->line);
		*w = (struct where){lk->config_path != NULL ? lk->config_path : "the config file",
			(unsigned)e->line, key, lk->profile};
		return e->value;
	}
	snprintf(from, AWS_SETTINGS_FROM_MAX, "default");
	return NULL;
}

/* A boolean setting: "true" or "false" in any case; anything else is an error. */
static int lookup_bool(
	const struct lookup *lk, const char *var, const char *key, bool *out, struct diag *diag)
{
	char from[AWS_SETTINGS_FROM_MAX];
	struct where w;
	const char *v = lookup(lk, var, key, from, &w);

	*out = false;
	if (v == NULL || strcasecmp(v, "false") == 0)
		return 0;
	if (strcasecmp(v, "true") == 0) {
		*out = true;
		return 0;
	}
	return fail(diag, -EINVAL, &w, "\"%.64s\" is not true or false", v);
}

/* The region: configured, AWS_REGION, AWS_DEFAULT_REGION, the profile's. */
static int resolve_region(const struct lookup *lk, struct aws_settings *s, struct diag *diag)
{
	const char *v = nonempty(lk->in->region);
	char from[AWS_SETTINGS_FROM_MAX];
	struct where w = named("region");

	if (v != NULL) {
		snprintf(from, sizeof(from), "region in the qscale configuration");
	} else if ((v = nonempty(lk->in->env("AWS_REGION", lk->in->env_ctx))) != NULL) {
		snprintf(from, sizeof(from), "AWS_REGION");
		w = named("AWS_REGION");
	} else {
		v = lookup(lk, "AWS_DEFAULT_REGION", "region", from, &w);
	}
	if (v == NULL)
		return fail(diag, -ENOENT, &(struct where){.name = "region"},
			"none set: set region in the qscale configuration, AWS_REGION, "
			"AWS_DEFAULT_REGION, or region in profile %s of %s",
			lk->profile, lk->config_path != NULL ? lk->config_path : "~/.aws/config");
	if (aws_region_resolve(v, lk->in->env, lk->in->env_ctx, NULL, s->region) < 0)
		return fail(diag, -EINVAL, &w, "\"%.64s\" is not a region name", v);
	snprintf(s->region_from, sizeof(s->region_from), "%s", from);
	return 0;
}

/* The profile's endpoint settings for service. */
static struct aws_profile_endpoints profile_endpoints(
	const struct lookup *lk, const struct aws_settings *s, enum aws_service service)
{
	struct aws_profile_endpoints pe = {
		.ignore_configured_urls = s->ignore_configured_urls,
		.use_fips = s->use_fips,
		.use_dualstack = s->use_dualstack,
	};

	if (lk->config == NULL)
		return pe;
	const char *services = aws_ini_get(lk->config, lk->profile, "services");
	if (services != NULL) {
		char *section = xasprintf("services %s", services);
		char *key = xasprintf("%s.endpoint_url", aws_service_name(service));
		pe.service_url = aws_ini_get(lk->config, section, key);
		free(section);
		free(key);
	}
	pe.global_url = aws_ini_get(lk->config, lk->profile, "endpoint_url");
	return pe;
}

/* The setting an endpoint origin stands for, for messages. */
static const char *origin_setting(enum aws_service service, enum aws_endpoint_origin from)
{
	static const char *const config_keys[AWS_SERVICE_COUNT] = {
		[AWS_SERVICE_SQS] = "aws.endpoints.sqs",
		[AWS_SERVICE_ECS] = "aws.endpoints.ecs",
		[AWS_SERVICE_DYNAMODB] = "aws.endpoints.dynamodb",
	};
	static const char *const profile_keys[AWS_SERVICE_COUNT] = {
		[AWS_SERVICE_SQS] = "sqs.endpoint_url",
		[AWS_SERVICE_ECS] = "ecs.endpoint_url",
		[AWS_SERVICE_DYNAMODB] = "dynamodb.endpoint_url",
	};

	switch (from) {
	case AWS_ENDPOINT_FROM_CONFIG:
		return config_keys[service];
	case AWS_ENDPOINT_FROM_ENV_SERVICE:
		return aws_endpoint_env_var(service);
	case AWS_ENDPOINT_FROM_ENV_GLOBAL:
		return "AWS_ENDPOINT_URL";
	case AWS_ENDPOINT_FROM_PROFILE_SERVICE:
		return profile_keys[service];
	case AWS_ENDPOINT_FROM_PROFILE_GLOBAL:
		return "endpoint_url";
	case AWS_ENDPOINT_FROM_DEFAULT:
		break;
	}
	return "region";
}

/* One service's endpoint, as the SDK endpoint rules give it. */
static int resolve_endpoint(const struct lookup *lk, struct aws_settings *s,
	enum aws_service service, struct diag *diag)
{
	struct aws_profile_endpoints pe = profile_endpoints(lk, s, service);
	const char *const configured_urls[AWS_SERVICE_COUNT] = {
		[AWS_SERVICE_SQS] = lk->in->endpoint_sqs,
		[AWS_SERVICE_ECS] = lk->in->endpoint_ecs,
		[AWS_SERVICE_DYNAMODB] = lk->in->endpoint_dynamodb,
	};
	const char *configured = configured_urls[service];
	enum aws_endpoint_origin from;
	const char *url =
		aws_endpoint_choose(service, configured, lk->in->env, lk->in->env_ctx, &pe, &from);
	const char *setting = origin_setting(service, from);
	char *origin = NULL;
	int r;

	/* A configured endpoint wins over FIPS and dual-stack, as botocore decides. */
	if (url != NULL) {
		r = aws_endpoint_parse(url, &origin, &s->host[service]);
		if (r < 0)
			return fail(diag, -EINVAL, &(struct where){.name = setting},
				"\"%.200s\" is not an endpoint URL (http(s)://host[:port], no "
				"path)",
				url);
	} else {
		char *built = NULL;
		r = aws_endpoint_default(service, s->region, s->use_fips, s->use_dualstack, &built);
		if (r == -ENOTSUP)
			return fail(diag, r, &(struct where){.name = "use_dualstack_endpoint"},
				"dual-stack endpoints are not offered in %s (partition %s)",
				s->region, aws_partition_of(s->region)->name);
		if (r == 0)
			r = aws_endpoint_parse(built, &origin, &s->host[service]);
		free(built);
		if (r < 0)
			return fail(diag, r, &(struct where){.name = "region"},
				"no endpoint for region %s", s->region);
	}
	s->endpoint[service] = origin;
	s->endpoint_from[service] = from;
	return 0;
}

/* Parse an attempt count: a whole decimal number from 1 to the cap. */
static bool parse_attempts(const char *text, int *out)
{
	char *end;

	if (text == NULL || text[0] < '0' || text[0] > '9')
		return false;
	errno = 0;
	long v = strtol(text, &end, 10);
	if (errno != 0 || *end != '\0' || v < 1 || v > AWS_SETTINGS_MAX_ATTEMPTS)
		return false;
	*out = (int)v;
	return true;
}

/* retry_mode and max_attempts. */
static int resolve_retries(const struct lookup *lk, struct aws_settings *s, struct diag *diag)
{
	char from[AWS_SETTINGS_FROM_MAX];
	struct where w;
	const char *v = lookup(lk, "AWS_RETRY_MODE", "retry_mode", from, &w);

	/* botocore compares the names exactly: "Standard" is refused. */
	if (v == NULL || strcmp(v, "standard") == 0)
		s->retry_mode = AWS_RETRY_MODE_STANDARD;
	else if (strcmp(v, "adaptive") == 0)
		s->retry_mode = AWS_RETRY_MODE_ADAPTIVE;
	else if (strcmp(v, "legacy") == 0)
		s->retry_mode = AWS_RETRY_MODE_LEGACY;
	else
		return fail(diag, -EINVAL, &w,
			"\"%.64s\" is not a retry mode (standard, adaptive or legacy)", v);
	snprintf(s->retry_mode_from, sizeof(s->retry_mode_from), "%s", from);

	if (lk->in->max_attempts > 0) {
		if (lk->in->max_attempts > AWS_SETTINGS_MAX_ATTEMPTS)
			return fail(diag, -EINVAL, &(struct where){.name = "max_attempts"},
				"%d in the qscale configuration: more than %d",
				lk->in->max_attempts, AWS_SETTINGS_MAX_ATTEMPTS);
		s->max_attempts = lk->in->max_attempts;
		snprintf(s->max_attempts_from, sizeof(s->max_attempts_from),
			"the qscale configuration");
		return 0;
	}
	v = lookup(lk, "AWS_MAX_ATTEMPTS", "max_attempts", from, &w);
	if (v == NULL) {
		s->max_attempts = aws_retry_mode_default_attempts(s->retry_mode);
		snprintf(s->max_attempts_from, sizeof(s->max_attempts_from), "default of %s mode",
			aws_retry_mode_name(s->retry_mode));
		return 0;
	}
	if (!parse_attempts(v, &s->max_attempts))
		return fail(diag, -EINVAL, &w,
			"\"%.64s\" is not a number of attempts from 1 to %d (the first "
			"attempt included)",
			v, AWS_SETTINGS_MAX_ATTEMPTS);
	snprintf(s->max_attempts_from, sizeof(s->max_attempts_from), "%s", from);
	return 0;
}

/* The profile named by configuration or AWS_PROFILE, else "default". */
static void choose_profile(const struct aws_settings_input *in, struct aws_settings *s)
{
	const char *p = nonempty(in->profile);

	if (p == NULL)
		p = nonempty(in->env("AWS_PROFILE", in->env_ctx));
	s->profile_named = p != NULL;
	s->profile = xstrdup(p != NULL ? p : "default");
}

/* The flags and the rest, each read once. */
static int resolve_flags(const struct lookup *lk, struct aws_settings *s, struct diag *diag)
{
	char from[AWS_SETTINGS_FROM_MAX];
	int r;

	if ((r = lookup_bool(
		     lk, "AWS_USE_FIPS_ENDPOINT", "use_fips_endpoint", &s->use_fips, diag)) < 0 ||
		(r = lookup_bool(lk, "AWS_USE_DUALSTACK_ENDPOINT", "use_dualstack_endpoint",
			 &s->use_dualstack, diag)) < 0 ||
		(r = lookup_bool(lk, "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS",
			 "ignore_configured_endpoint_urls", &s->ignore_configured_urls, diag)) <
			0 ||
		(r = lookup_bool(lk, "AWS_EC2_METADATA_V1_DISABLED", "ec2_metadata_v1_disabled",
			 &s->imds_v1_disabled, diag)) < 0)
		return r;
	struct where w;
	const char *ca = lookup(lk, "AWS_CA_BUNDLE", "ca_bundle", from, &w);
	s->ca_bundle = ca != NULL ? xstrdup(ca) : NULL;
	snprintf(s->ca_bundle_from, sizeof(s->ca_bundle_from), "%s",
		ca != NULL ? from : "the system trust store");
	return 0;
}

/* See qscale/aws_settings.h. */
int aws_settings_resolve(const struct aws_settings_input *in, const struct aws_ini *config,
	struct aws_settings *out, struct diag *diag)
{
	struct aws_settings_input given = *in;
	struct aws_settings s = {0};
	int r;

	if (given.env == NULL)
		given.env = aws_env_system;
	choose_profile(&given, &s);
	aws_settings_file_path(
		given.env, given.env_ctx, "AWS_CONFIG_FILE", "~/.aws/config", &s.config_path);
	aws_settings_file_path(given.env, given.env_ctx, "AWS_SHARED_CREDENTIALS_FILE",
		"~/.aws/credentials", &s.credentials_path);
	struct lookup lk = {&given, config, s.config_path, s.profile};
	r = resolve_flags(&lk, &s, diag);
	if (r == 0)
		r = resolve_region(&lk, &s, diag);
	for (int svc = 0; r == 0 && svc < AWS_SERVICE_COUNT; svc++)
		r = resolve_endpoint(&lk, &s, (enum aws_service)svc, diag);
	if (r == 0)
		r = resolve_retries(&lk, &s, diag);
	if (r < 0) {
		aws_settings_finish(&s);
		return r;
	}
	*out = s;
	return 0;
}

/* See qscale/aws_settings.h. */
int aws_settings_load(
	const struct aws_settings_input *in, struct aws_settings *out, struct diag *diag)
{
	aws_env_cb env = in->env != NULL ? in->env : aws_env_system;
	struct aws_ini ini = {0};
	struct aws_ini_diag idiag = {0};
	char *path = NULL;
	int r = 0;

	aws_settings_file_path(env, in->env_ctx, "AWS_CONFIG_FILE", "~/.aws/config", &path);
	if (path != NULL)
		r = aws_ini_load(path, true, &ini, &idiag);
	if (r == -EINVAL && idiag.line > 0) {
		/* A file botocore's parser refuses: the AWS CLI stops too. */
		r = diag_fill(
			diag, path, (unsigned)idiag.line, 1, "AWS config file: %s", idiag.message);
		free(path);
		return r;
	}
	if (r < 0 && r != -ENOENT) {
		/*
		 * Not a regular file (/dev/null, a FIFO), unreadable, too large:
		 * botocore skips what is not a file; qscale says so and goes on
		 * as without one.
		 */
		log_warn("aws=config file=%s line=0 error=%s action=ignore", LOG_Q(path),
			LOG_Q(r == -E2BIG ? "larger than 1 MiB" : idiag.message));
		r = -ENOENT;
	}
	r = aws_settings_resolve(in, r == 0 ? &ini : NULL, out, diag);
	aws_ini_finish(&ini);
	free(path);
	if (r == 0 && out->ca_bundle != NULL && access(out->ca_bundle, R_OK) != 0) {
		int e = errno;
		bool from_env = strcmp(out->ca_bundle_from, "AWS_CA_BUNDLE") == 0;
		r = diag_fill(diag, from_env ? "AWS_CA_BUNDLE" : "ca_bundle", 0, 0,
			"CA bundle %.200s%s%.200s cannot be read (%s)", out->ca_bundle,
			from_env ? "" : " from ", from_env ? "" : out->ca_bundle_from, strerror(e));
		aws_settings_finish(out);
	}
	return r;
}

/* See qscale/aws_settings.h. */
void aws_settings_finish(struct aws_settings *s)
{
	free(s->profile);
	free(s->config_path);
	free(s->credentials_path);
	for (int i = 0; i < AWS_SERVICE_COUNT; i++) {
		free(s->endpoint[i]);
		free(s->host[i]);
	}
	free(s->ca_bundle);
	memset(s, 0, sizeof(*s));
}
