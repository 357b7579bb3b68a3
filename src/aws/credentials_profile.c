/*
 * Which provider a profile asks for, read as botocore reads it: environment
 * keys, then a role profile (role_arn with source_profile or
 * credential_source, chained), web identity (the environment's or the
 * profile's token file), SSO, static keys in the credentials file,
 * credential_process, static keys in the config file. The answer is a plan
 * the chain then runs. Pure: the files come parsed, the environment through a
 * callback.
 *
 * Every refusal names its cause: the profile, the key and the file. A
 * profile that is named and missing stops here (botocore's ProfileNotFound);
 * it never falls through to an instance role.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/credentials.h"
#include "qscale/xalloc.h"

/* Longest role chain followed (botocore stops only at loops). */
#define ROLE_CHAIN_MAX 8

/* What one resolution works with. */
struct reader {
	const struct credentials_files *files;
	aws_env_cb env;
	void *env_ctx;
	char *why;
	size_t why_size;
	char at[300]; /* where() writes here */
};

/* Fill why and return err. */
static int refuse(struct reader *rd, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The definition (printf-checked through the declaration above). */
static int refuse(struct reader *rd, int err, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(rd->why, rd->why_size, fmt, ap);
	va_end(ap);
	return err;
}

/* A set, non-empty value. */
static const char *nonempty(const char *s)
{
	return s != NULL && s[0] != '\0' ? s : NULL;
}

/* A key of profile: the credentials file wins over the config file, as botocore merges them. */
static const char *get(struct reader *rd, const char *profile, const char *key)
{
	const char *v = NULL;

	if (rd->files->credentials != NULL)
		v = aws_ini_get(rd->files->credentials, profile, key);
	if (v == NULL && rd->files->config != NULL)
		v = aws_ini_get(rd->files->config, profile, key);
	return nonempty(v);
}

/* The line of the last key of section in ini (as aws_ini_get picks it); 0 when absent. */
static int line_of(const struct aws_ini *ini, const char *section, const char *key)
{
	int line = 0;

	for (size_t i = 0; i < ini->n; i++)
		if (strcmp(ini->entries[i].section, section) == 0 &&
			strcmp(ini->entries[i].key, key) == 0)
			line = ini->entries[i].line;
	return line;
}

/* "file:line" of the profile key that is in force, for messages. */
static const char *where(struct reader *rd, const char *profile, const char *key)
{
	const struct aws_ini *ini = rd->files->config;
	const char *path = rd->files->config_path;

	if (rd->files->credentials != NULL &&
		aws_ini_get(rd->files->credentials, profile, key) != NULL) {
		ini = rd->files->credentials;
		path = rd->files->credentials_path;
	}
	int line = ini != NULL ? line_of(ini, profile, key) : 0;
	snprintf(rd->at, sizeof(rd->at), "%s:%d", path != NULL ? path : "?", line);
	return rd->at;
}

/* Whether profile appears in either file. */
static bool exists(struct reader *rd, const char *profile)
{
	return (rd->files->credentials != NULL &&
		       aws_ini_has_section(rd->files->credentials, profile)) ||
		(rd->files->config != NULL && aws_ini_has_section(rd->files->config, profile));
}

/* A copy of a string or NULL. */
static char *dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* Whether a profile asks for a role (and not for web identity, which reads role_arn itself). */
static bool is_role_profile(struct reader *rd, const char *profile)
{
	return get(rd, profile, "role_arn") != NULL &&
		get(rd, profile, "web_identity_token_file") == NULL;
}

/* Whether a profile is an SSO profile (either form). */
static bool is_sso_profile(struct reader *rd, const char *profile)
{
	return get(rd, profile, "sso_session") != NULL ||
		get(rd, profile, "sso_start_url") != NULL ||
		get(rd, profile, "sso_account_id") != NULL ||
		get(rd, profile, "sso_role_name") != NULL;
}

/* duration_seconds of a profile into *out (0 when unset). */
static int read_duration(struct reader *rd, const char *profile, int *out)
{
	const char *v = get(rd, profile, "duration_seconds");
	char *end = NULL;

	*out = 0;
	if (v == NULL)
		return 0;
	long n = strtol(v, &end, 10);
	if (end == v || *end != '\0' || n < 900 || n > 43200)
		return refuse(rd, -EINVAL,
			"profile %s: duration_seconds = %s in %s: want whole seconds from 900 to "
			"43200",
			profile, v, where(rd, profile, "duration_seconds"));
	*out = (int)n;
	return 0;
}

/* Static keys of profile in one table into plan; -ENOENT when absent, -EINVAL when partial. */
static int static_keys(struct reader *rd, const struct aws_ini *ini, const char *path,
	const char *profile, struct credentials_plan *plan)
{
	if (ini == NULL)
		return -ENOENT;
	const char *id = nonempty(aws_ini_get(ini, profile, "aws_access_key_id"));
	const char *secret = nonempty(aws_ini_get(ini, profile, "aws_secret_access_key"));

	if (id == NULL && secret == NULL)
		return -ENOENT;
	if (id == NULL || secret == NULL)
		return refuse(rd, -EINVAL, "profile %s in %s: %s without %s", profile,
			path != NULL ? path : "?",
			id != NULL ? "aws_access_key_id" : "aws_secret_access_key",
			id != NULL ? "aws_secret_access_key" : "aws_access_key_id");
	/* botocore takes the legacy name first. */
	const char *token = nonempty(aws_ini_get(ini, profile, "aws_security_token"));
	if (token == NULL)
		token = nonempty(aws_ini_get(ini, profile, "aws_session_token"));
	plan->base = CREDENTIALS_SOURCE_PROFILE;
	plan->base_profile = xstrdup(profile);
	plan->keys.access_key_id = xstrdup(id);
	plan->keys.secret_access_key = xstrdup(secret);
	plan->keys.session_token = dup_or_null(token);
	return 0;
}

/* Web identity from the environment, else from profile; -ENOENT when neither asks for it. */
static int web_identity(struct reader *rd, const char *profile, struct credentials_plan *plan)
{
	const char *file = nonempty(rd->env("AWS_WEB_IDENTITY_TOKEN_FILE", rd->env_ctx));
	const char *arn, *session;
	int duration = 0;

	if (file != NULL) {
		arn = nonempty(rd->env("AWS_ROLE_ARN", rd->env_ctx));
		session = nonempty(rd->env("AWS_ROLE_SESSION_NAME", rd->env_ctx));
		if (arn == NULL)
			arn = profile != NULL ? get(rd, profile, "role_arn") : NULL;
		if (arn == NULL)
			return refuse(rd, -EINVAL,
				"AWS_WEB_IDENTITY_TOKEN_FILE is set but AWS_ROLE_ARN is not: web "
				"identity needs the role to assume");
	} else {
		if (profile == NULL || (file = get(rd, profile, "web_identity_token_file")) == NULL)
			return -ENOENT;
		arn = get(rd, profile, "role_arn");
		session = get(rd, profile, "role_session_name");
		if (arn == NULL)
			return refuse(rd, -EINVAL,
				"profile %s: web_identity_token_file in %s without role_arn",
				profile, where(rd, profile, "web_identity_token_file"));
		int r = read_duration(rd, profile, &duration);
		if (r < 0)
			return r;
	}
	plan->base = CREDENTIALS_SOURCE_WEB_IDENTITY;
	plan->base_profile = dup_or_null(profile);
	plan->token_file = xstrdup(file);
	plan->web.profile = dup_or_null(profile);
	plan->web.role_arn = xstrdup(arn);
	plan->web.session_name = dup_or_null(session);
	plan->web.duration_s = duration;
	return 0;
}

/* An SSO profile into plan (either form); -EINVAL naming what is missing. */
static int sso(struct reader *rd, const char *profile, struct credentials_plan *plan)
{
	const char *session = get(rd, profile, "sso_session");
	const char *account = get(rd, profile, "sso_account_id");
	const char *role = get(rd, profile, "sso_role_name");
	const char *start = get(rd, profile, "sso_start_url");
	const char *region = get(rd, profile, "sso_region");

	if (session != NULL) {
		char *section = xasprintf("sso-session %s", session);
		const struct aws_ini *cfg = rd->files->config;
		if (cfg == NULL || !aws_ini_has_section(cfg, section)) {
			free(section);
			return refuse(rd, -EINVAL,
				"profile %s: sso_session = %s, but %s has no [sso-session %s] "
				"section",
				profile, session,
				rd->files->config_path != NULL ? rd->files->config_path
							       : "the config file",
				session);
		}
		start = nonempty(aws_ini_get(cfg, section, "sso_start_url"));
		region = nonempty(aws_ini_get(cfg, section, "sso_region"));
		free(section);
	}
	const char *missing = start == NULL ? "sso_start_url"
		: region == NULL            ? "sso_region"
		: account == NULL           ? "sso_account_id"
		: role == NULL              ? "sso_role_name"
					    : NULL;
	if (missing != NULL)
		return refuse(rd, -EINVAL, "profile %s: SSO settings without %s (%s)", profile,
			missing,
			session != NULL ? "in the profile or its sso-session section"
					: "in the profile");
	plan->base = CREDENTIALS_SOURCE_SSO;
	plan->base_profile = xstrdup(profile);
	plan->sso_start_url = xstrdup(start);
	plan->sso_region = xstrdup(region);
	plan->sso_account_id = xstrdup(account);
	plan->sso_role_name = xstrdup(role);
	plan->sso_session = dup_or_null(session);
	return 0;
}

/* Append profile's role to the plan. */
static int add_role(struct reader *rd, const char *profile, struct credentials_plan *plan)
{
	struct credentials_role role = {0};
	int r = read_duration(rd, profile, &role.duration_s);

	if (r < 0)
		return r;
	role.profile = xstrdup(profile);
	role.role_arn = xstrdup(get(rd, profile, "role_arn"));
	role.session_name = dup_or_null(get(rd, profile, "role_session_name"));
	role.external_id = dup_or_null(get(rd, profile, "external_id"));
	plan->roles = xreallocarray(plan->roles, plan->n_roles + 1, sizeof(*plan->roles));
	plan->roles[plan->n_roles++] = role;
	return 0;
}

/* The base of a role profile from credential_source. */
static int credential_source(
	struct reader *rd, const char *profile, const char *cs, struct credentials_plan *plan)
{
	if (strcmp(cs, "Environment") == 0) {
		const char *id = nonempty(rd->env("AWS_ACCESS_KEY_ID", rd->env_ctx));
		const char *secret = nonempty(rd->env("AWS_SECRET_ACCESS_KEY", rd->env_ctx));
		if (id == NULL || secret == NULL)
			return refuse(rd, -EINVAL,
				"profile %s: credential_source = Environment, but "
				"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not both set",
				profile);
		plan->base = CREDENTIALS_SOURCE_ENV;
	} else if (strcmp(cs, "Ec2InstanceMetadata") == 0) {
		plan->base = CREDENTIALS_SOURCE_IMDS;
	} else if (strcmp(cs, "EcsContainer") == 0) {
		plan->base = CREDENTIALS_SOURCE_CONTAINER;
	} else {
		return refuse(rd, -EINVAL,
			"profile %s: credential_source = %s in %s: want Environment, "
			"Ec2InstanceMetadata or EcsContainer",
			profile, cs, where(rd, profile, "credential_source"));
	}
	plan->base_profile = xstrdup(profile);
	return 0;
}

/* The base a source_profile gives, when it is not itself a role profile. */
static int source_base(
	struct reader *rd, const char *from, const char *src, struct credentials_plan *plan)
{
	int r;

	if (get(rd, src, "web_identity_token_file") != NULL)
		return web_identity(rd, src, plan) == 0 ? 0 : -EINVAL;
	if (is_sso_profile(rd, src))
		return sso(rd, src, plan);
	if (get(rd, src, "credential_process") != NULL) {
		plan->base = CREDENTIALS_SOURCE_PROCESS;
		plan->base_profile = xstrdup(src);
		plan->process = xstrdup(get(rd, src, "credential_process"));
		return 0;
	}
	r = static_keys(rd, rd->files->credentials, rd->files->credentials_path, src, plan);
	if (r == -ENOENT)
		r = static_keys(rd, rd->files->config, rd->files->config_path, src, plan);
	if (r == -ENOENT)
		return refuse(rd, -EINVAL,
			"profile %s: its source_profile %s has no credentials (no static keys, "
			"role_arn, credential_process, web_identity_token_file or SSO settings)",
			from, src);
	return r;
}

/* A role profile and everything under it, base first. */
static int role_chain(struct reader *rd, const char *profile, const char **visited,
	size_t n_visited, struct credentials_plan *plan)
{
	const char *src = get(rd, profile, "source_profile");
	const char *cs = get(rd, profile, "credential_source");
	int r;

	if (get(rd, profile, "mfa_serial") != NULL)
		return refuse(rd, -ENOTSUP,
			"profile %s: mfa_serial in %s: an MFA code needs a terminal and qscale "
			"runs unattended; use a role without MFA, or credential_process",
			profile, where(rd, profile, "mfa_serial"));
	if (src != NULL && cs != NULL)
		return refuse(rd, -EINVAL,
			"profile %s: both source_profile and credential_source are set; name one",
			profile);
	if (src == NULL && cs == NULL)
		return refuse(rd, -EINVAL,
			"profile %s: role_arn in %s needs source_profile or credential_source",
			profile, where(rd, profile, "role_arn"));
	if (cs != NULL) {
		r = credential_source(rd, profile, cs, plan);
	} else {
		for (size_t i = 0; i < n_visited; i++)
			if (strcmp(visited[i], src) == 0 &&
				!(strcmp(src, profile) == 0 && n_visited == i + 1))
				return refuse(rd, -EINVAL,
					"profile %s: source_profile %s closes a loop of role "
					"profiles",
					profile, src);
		if (!exists(rd, src))
			return refuse(rd, -EINVAL,
				"profile %s: source_profile %s is not a profile in %s or %s",
				profile, src,
				rd->files->config_path != NULL ? rd->files->config_path : "?",
				rd->files->credentials_path != NULL ? rd->files->credentials_path
								    : "?");
		if (n_visited == ROLE_CHAIN_MAX)
			return refuse(rd, -EINVAL, "profile %s: role chain longer than %d", profile,
				ROLE_CHAIN_MAX);
		/* A profile may name itself as source: its own static keys then. */
		if (strcmp(src, profile) != 0 && is_role_profile(rd, src)) {
			visited[n_visited] = src;
			r = role_chain(rd, src, visited, n_visited + 1, plan);
		} else {
			r = source_base(rd, profile, src, plan);
		}
	}
	if (r < 0)
		return r;
	return add_role(rd, profile, plan);
}

/* See qscale/credentials.h. */
void credentials_plan_finish(struct credentials_plan *plan)
{
	free(plan->base_profile);
	credentials_set_finish(&plan->keys);
	free(plan->process);
	free(plan->token_file);
	free(plan->web.profile);
	free(plan->web.role_arn);
	free(plan->web.session_name);
	free(plan->sso_start_url);
	free(plan->sso_region);
	free(plan->sso_account_id);
	free(plan->sso_role_name);
	free(plan->sso_session);
	for (size_t i = 0; i < plan->n_roles; i++) {
		free(plan->roles[i].profile);
		free(plan->roles[i].role_arn);
		free(plan->roles[i].session_name);
		free(plan->roles[i].external_id);
	}
	free(plan->roles);
	memset(plan, 0, sizeof(*plan));
}

/* The profile-driven providers, in botocore's order. */
static int from_profile(struct reader *rd, const char *profile, struct credentials_plan *plan)
{
	const char *visited[ROLE_CHAIN_MAX + 1] = {profile};
	int r;

	if (is_role_profile(rd, profile))
		return role_chain(rd, profile, visited, 1, plan);
	r = web_identity(rd, profile, plan);
	if (r != -ENOENT)
		return r;
	if (is_sso_profile(rd, profile))
		return sso(rd, profile, plan);
	r = static_keys(rd, rd->files->credentials, rd->files->credentials_path, profile, plan);
	if (r != -ENOENT)
		return r;
	if (get(rd, profile, "credential_process") != NULL) {
		plan->base = CREDENTIALS_SOURCE_PROCESS;
		plan->base_profile = xstrdup(profile);
		plan->process = xstrdup(get(rd, profile, "credential_process"));
		return 0;
	}
	return static_keys(rd, rd->files->config, rd->files->config_path, profile, plan);
}

/* See qscale/credentials.h. */
int credentials_plan_resolve(const struct credentials_files *files, const char *profile,
	bool profile_named, bool env_allowed, aws_env_cb env, void *env_ctx,
	struct credentials_plan *out, char *why, size_t why_size)
{
	struct reader rd = {files, env, env_ctx, why, why_size, ""};
	struct credentials_plan plan = {0};
	int r;

	why[0] = '\0';
	/* As the AWS CLI: a named profile must exist, even when env keys would win. */
	if (profile_named && !exists(&rd, profile))
		return refuse(&rd, -EINVAL, "profile %s not found in %s or %s", profile,
			files->config_path != NULL ? files->config_path : "(no config file)",
			files->credentials_path != NULL ? files->credentials_path
							: "(no credentials file)");
	if (env_allowed && nonempty(env("AWS_ACCESS_KEY_ID", env_ctx)) != NULL) {
		/* botocore stops on half a pair (PartialCredentialsError), never skips it. */
		if (nonempty(env("AWS_SECRET_ACCESS_KEY", env_ctx)) == NULL)
			return refuse(&rd, -EINVAL,
				"AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
		out->base = CREDENTIALS_SOURCE_ENV;
		return 0;
	}
	if (exists(&rd, profile))
		r = from_profile(&rd, profile, &plan);
	else
		r = web_identity(&rd, NULL, &plan);
	if (r < 0) {
		credentials_plan_finish(&plan);
		if (r == -ENOENT)
			why[0] = '\0';
		return r;
	}
	*out = plan;
	return 0;
}
