/*
 * Running a credentials plan on the loop: get the base credentials (the
 * environment, a profile's keys, credential_process, web identity, SSO, the
 * container endpoint or IMDS), then assume each role of the chain with STS
 * AssumeRole, signed with the step before. One step runs at a time; every
 * failure ends the job with a message naming the step and what it was told.
 * Even a failure found at once is reported from the loop, never inside
 * cred_job_start.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <event2/event.h>

#include "credentials_priv.h"
#include "qscale/log.h"
#include "qscale/sts.h"
#include "qscale/xalloc.h"

/* Token and cache files are refused past this size. */
#define TOKEN_FILE_MAX (16u * 1024u)

struct cred_job {
	struct cred_job_env env;
	const struct credentials_plan *plan;
	size_t next_role;
	struct credentials_set cur;
	char base_detail[256];
	struct credentials_http_fetch *fetch;
	struct cred_process *proc;
	struct cred_call *call;
	struct event *defer_ev;
	int defer_err; /* 0: go on with next_step from the loop */
	bool starting; /* inside cred_job_start: never call back */
	char defer_why[512];
	credentials_http_cb cb;
	void *arg;
};

static void next_step(struct cred_job *j);

/* Copy text into a fixed buffer, cut to fit (messages may be long). */
static void copy_text(char *dst, size_t size, const char *src)
{
	size_t n = strlen(src);

	if (n >= size)
		n = size - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Free the job and whatever it still waits for. */
static void job_free(struct cred_job *j)
{
	credentials_http_cancel(j->fetch);
	cred_process_cancel(j->proc);
	cred_call_cancel(j->call);
	if (j->defer_ev != NULL)
		event_free(j->defer_ev);
	credentials_set_finish(&j->cur);
	free(j);
}

/* End the job with an error. */
static void job_fail(struct cred_job *j, int err, const char *why)
{
	credentials_http_cb cb = j->cb;
	void *arg = j->arg;
	char text[512];

	copy_text(text, sizeof(text), why);
	log_debug("credentials=job failed err=%d reason=\"%s\"", err, text);
	job_free(j);
	cb(err, NULL, text, arg);
}

/* Report a failure found without waiting for anything, from the loop. */
static void defer_cb(evutil_socket_t fd, short what, void *arg)
{
	struct cred_job *j = arg;

	(void)fd;
	(void)what;
	if (j->defer_err == 0)
		next_step(j);
	else
		job_fail(j, j->defer_err, j->defer_why);
}

/* Arrange for job_fail from the loop. */
static void job_fail_later(struct cred_job *j, int err, const char *why)
{
	static const struct timeval zero = {0, 0};

	j->defer_err = err;
	copy_text(j->defer_why, sizeof(j->defer_why), why);
	evtimer_add(j->defer_ev, &zero);
}

/* ~/x expanded with HOME. */
static char *expand_home(const struct cred_job *j, const char *path)
{
	if (path[0] == '~' && (path[1] == '/' || path[1] == '\0') && j->env.home != NULL)
		return xasprintf("%s%s", j->env.home, path + 1);
	return xstrdup(path);
}

/* Read a small file whole; -errno, or -E2BIG past max. */
static int read_small(const char *path, size_t max, char **out, size_t *len_out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct stat st;

	if (fd < 0)
		return -errno;
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		return -EINVAL;
	}
	if ((size_t)st.st_size > max) {
		close(fd);
		return -E2BIG;
	}
	char *data = xmalloc(max + 1);
	size_t len = 0;
	for (;;) {
		ssize_t n = read(fd, data + len, max + 1 - len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		len += (size_t)n;
		if (len > max)
			break;
	}
	close(fd);
	if (len > max) {
		secure_wipe(data, max + 1);
		free(data);
		return -E2BIG;
	}
	data[len] = '\0';
	*out = data;
	*len_out = len;
	return 0;
}

/* The base or a role step produced credentials: keep them and go on. */
static void step_done(struct cred_job *j, struct credentials_set *set, const char *detail)
{
	uint64_t now = clock_wall_ms(j->env.clock);

	credentials_set_finish(&j->cur);
	j->cur = *set;
	memset(set, 0, sizeof(*set));
	if (j->next_role == 0)
		copy_text(j->base_detail, sizeof(j->base_detail), detail);
	if (j->cur.expiry_wall_ms != 0 && j->cur.expiry_wall_ms <= now) {
		char why[400];
		snprintf(why, sizeof(why), "%s gave credentials that expired %llu s ago", detail,
			(unsigned long long)((now - j->cur.expiry_wall_ms) / 1000));
		job_fail(j, -EKEYEXPIRED, why);
		return;
	}
	next_step(j);
}

/* A fetcher (container, IMDS, process) finished. */
static void fetch_done(int err, struct credentials_set *set, const char *detail, void *arg)
{
	struct cred_job *j = arg;

	j->fetch = NULL;
	j->proc = NULL;
	if (err != 0) {
		char why[512];
		snprintf(why, sizeof(why), "%s%s%s", detail,
			strstr(detail, ": ") == NULL ? ": " : "",
			strstr(detail, ": ") == NULL ? strerror(err < 0 ? -err : err) : "");
		job_fail(j, err, why);
		return;
	}
	step_done(j, set, detail);
}

/* The session name of a role step. */
static char *session_name(const struct credentials_role *role, const struct cred_job *j)
{
	if (role->session_name != NULL)
		return xstrdup(role->session_name);
	return xasprintf("qscale-%llu", (unsigned long long)(clock_wall_ms(j->env.clock) / 1000));
}

/* An STS assume call answered. */
static void sts_done(const struct cred_call_result *res, void *arg)
{
	struct cred_job *j = arg;
	bool web = j->next_role == 0;
	const struct credentials_role *role =
		web ? &j->plan->web : &j->plan->roles[j->next_role - 1];
	const char *action = web ? "AssumeRoleWithWebIdentity" : "AssumeRole";
	struct credentials_set set = {0};
	char why[900], detail[400];

	j->call = NULL;
	if (res->err != 0) {
		snprintf(why, sizeof(why), "STS %s %s%s%s (at %s): %s", action, role->role_arn,
			role->profile != NULL ? " for profile " : "",
			role->profile != NULL ? role->profile : "", j->env.sts_origin, res->why);
		job_fail(j, res->err, why);
		return;
	}
	if (sts_parse_credentials(res->body, res->body_len, action, &set, NULL) < 0) {
		snprintf(why, sizeof(why), "STS %s %s (at %s): the answer holds no credentials",
			action, role->role_arn, j->env.sts_origin);
		job_fail(j, -EPROTO, why);
		return;
	}
	if (web)
		snprintf(detail, sizeof(detail), "web-identity role=%s token=%s", role->role_arn,
			j->plan->token_file);
	else
		snprintf(detail, sizeof(detail), "role=%s profile=%s", role->role_arn,
			role->profile);
	if (web)
		copy_text(j->base_detail, sizeof(j->base_detail), detail);
	j->next_role = web ? 1 : j->next_role + 1;
	step_done(j, &set, detail);
}

/* Start STS for a role step (signer NULL: web identity with token). */
static int start_sts(struct cred_job *j, const struct credentials_role *role, const char *token)
{
	char *session = session_name(role, j);
	char *body = token != NULL
		? sts_body_web_identity(role->role_arn, session, token, role->duration_s)
		: sts_body_assume_role(
			  role->role_arn, session, role->external_id, role->duration_s);
	struct sigv4_credentials signer = {
		j->cur.access_key_id, j->cur.secret_access_key, j->cur.session_token};
	struct cred_call_opts o = {
		.method = "POST",
		.origin = j->env.sts_origin,
		.path_query = "/",
		.body = body,
		.signer = token != NULL ? NULL : &signer,
		.signing_region = j->env.sts_region,
		.service = "sts",
		.timeout_ms = j->env.sts_timeout_ms,
	};
	int r = cred_call_start(j->env.http, j->env.clock, &o, sts_done, j, &j->call);

	free(session);
	secure_free_str(body);
	return r;
}

/* Web identity: read the token file now (it may be rotated), then STS. */
static void start_web_identity(struct cred_job *j)
{
	char *path = expand_home(j, j->plan->token_file);
	char *token = NULL;
	size_t len = 0;
	char why[600];
	int r = read_small(path, TOKEN_FILE_MAX, &token, &len);

	while (r == 0 && len > 0 && (token[len - 1] == '\n' || token[len - 1] == '\r'))
		token[--len] = '\0';
	if (r == 0 && len == 0)
		r = -ENODATA;
	if (r < 0) {
		snprintf(why, sizeof(why), "web identity token file %s: %s", path,
			r == -ENODATA ? "empty" : strerror(-r));
		job_fail_later(j, r, why);
	} else if ((r = start_sts(j, &j->plan->web, token)) < 0) {
		snprintf(why, sizeof(why), "STS endpoint %s: %s", j->env.sts_origin, strerror(-r));
		job_fail_later(j, r, why);
	}
	free(path);
	secure_free_str(token);
}

/* SSO GetRoleCredentials answered. */
static void sso_done(const struct cred_call_result *res, void *arg)
{
	struct cred_job *j = arg;
	struct credentials_set set = {0};
	char why[800], detail[300];

	j->call = NULL;
	if (res->err != 0 || credentials_parse_sso_role(res->body, res->body_len, &set) < 0) {
		snprintf(why, sizeof(why), "SSO GetRoleCredentials account %s role %s: %s",
			j->plan->sso_account_id, j->plan->sso_role_name,
			res->err != 0 ? res->why : "the answer holds no credentials");
		job_fail(j, res->err != 0 ? res->err : -EPROTO, why);
		return;
	}
	snprintf(detail, sizeof(detail), "sso account=%s role=%s profile=%s",
		j->plan->sso_account_id, j->plan->sso_role_name, j->plan->base_profile);
	step_done(j, &set, detail);
}

/* SSO: the cached token `aws sso login` wrote, then GetRoleCredentials. */
static void start_sso(struct cred_job *j)
{
	const struct credentials_plan *p = j->plan;
	char name[46], why[700];
	char *data = NULL, *token = NULL;
	size_t len = 0;
	uint64_t expires = 0;

	credentials_sso_cache_name(
		p->sso_session != NULL ? p->sso_session : p->sso_start_url, name);
	char *path = j->env.home != NULL ? xasprintf("%s/.aws/sso/cache/%s", j->env.home, name)
					 : xasprintf("~/.aws/sso/cache/%s", name);
	int r = read_small(path, TOKEN_FILE_MAX * 4, &data, &len);
	if (r == 0 && credentials_parse_sso_cache(data, len, &token, &expires) < 0)
		r = -EPROTO;
	if (data != NULL) {
		secure_wipe(data, len);
		free(data);
	}
	if (r == 0 && expires <= clock_wall_ms(j->env.clock))
		r = -EKEYEXPIRED;
	if (r < 0) {
		snprintf(why, sizeof(why),
			"profile %s: SSO token cache %s: %s; run `aws sso login%s%s`",
			p->base_profile, path,
			r == -EPROTO                ? "not a token cache document"
				: r == -EKEYEXPIRED ? "the token has expired"
						    : strerror(-r),
			p->sso_session != NULL ? " --sso-session " : " --profile ",
			p->sso_session != NULL ? p->sso_session : p->base_profile);
		free(path);
		job_fail_later(j, r, why);
		return;
	}
	free(path);
	const char *ep = j->env.env("AWS_ENDPOINT_URL_SSO", j->env.env_ctx);
	if (ep == NULL || ep[0] == '\0')
		ep = j->env.env("AWS_ENDPOINT_URL", j->env.env_ctx);
	char *origin = ep != NULL && ep[0] != '\0'
		? xstrdup(ep)
		: xasprintf("https://portal.sso.%s.amazonaws.com", p->sso_region);
	char *account = sts_form_encode(p->sso_account_id);
	char *role = sts_form_encode(p->sso_role_name);
	char *pq = xasprintf("/federation/credentials?account_id=%s&role_name=%s", account, role);
	struct cred_call_opts o = {
		.method = "GET",
		.origin = origin,
		.path_query = pq,
		.bearer = token,
		.timeout_ms = j->env.sts_timeout_ms,
	};
	r = cred_call_start(j->env.http, j->env.clock, &o, sso_done, j, &j->call);
	if (r < 0) {
		snprintf(why, sizeof(why), "SSO endpoint %s: %s", origin, strerror(-r));
		job_fail_later(j, r, why);
	}
	free(origin);
	free(account);
	free(role);
	free(pq);
	secure_free_str(token);
}

/* The container endpoint or IMDS, as the chain reads their variables. */
static int start_http_base(struct cred_job *j)
{
	aws_env_cb env = j->env.env;
	void *ctx = j->env.env_ctx;
	char *url = NULL, *token = NULL;
	int r;

	if (j->plan->base == CREDENTIALS_SOURCE_CONTAINER) {
		r = credentials_container_url(env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", ctx),
			env("AWS_CONTAINER_CREDENTIALS_FULL_URI", ctx), &url);
		if (r == 0)
			r = credentials_container_token(
				env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", ctx),
				env("AWS_CONTAINER_AUTHORIZATION_TOKEN", ctx), &token);
		if (r == 0)
			r = credentials_http_container(j->env.http, url, token,
				j->env.http_timeout_ms, fetch_done, j, &j->fetch);
	} else {
		const char *ep = env("AWS_EC2_METADATA_SERVICE_ENDPOINT", ctx);
		const char *mode = env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", ctx);
		if (ep == NULL || ep[0] == '\0')
			ep = mode != NULL && strcasecmp(mode, "IPv6") == 0
				? "http://[fd00:ec2::254]"
				: "http://169.254.169.254";
		r = credentials_http_imds(j->env.http, ep, j->env.http_timeout_ms,
			j->env.imds_v1_disabled, fetch_done, j, &j->fetch);
	}
	free(url);
	secure_free_str(token);
	return r;
}

/* Start the base provider. */
static void start_base(struct cred_job *j)
{
	const struct credentials_plan *p = j->plan;
	struct credentials_set set = {0};
	char why[600];
	int r = 0;

	switch (p->base) {
	case CREDENTIALS_SOURCE_ENV:
		if (credentials_from_env(j->env.env, j->env.env_ctx, &set) < 0) {
			job_fail_later(j, -ENOENT,
				"AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are no longer set");
			return;
		}
		j->cur = set;
		snprintf(j->base_detail, sizeof(j->base_detail), "environment");
		next_step(j);
		return;
	case CREDENTIALS_SOURCE_PROFILE:
		j->cur.access_key_id = xstrdup(p->keys.access_key_id);
		j->cur.secret_access_key = xstrdup(p->keys.secret_access_key);
		j->cur.session_token =
			p->keys.session_token != NULL ? xstrdup(p->keys.session_token) : NULL;
		snprintf(j->base_detail, sizeof(j->base_detail), "profile %s", p->base_profile);
		next_step(j);
		return;
	case CREDENTIALS_SOURCE_PROCESS:
		r = cred_process_start(j->env.base, p->process, j->env.process_timeout_ms,
			fetch_done, j, &j->proc);
		if (r < 0) {
			snprintf(why, sizeof(why), "profile %s: credential_process %s: %s",
				p->base_profile, p->process,
				r == -EINVAL ? "not a command line (unclosed quote?)"
					     : strerror(-r));
			job_fail_later(j, r, why);
		}
		return;
	case CREDENTIALS_SOURCE_WEB_IDENTITY:
		start_web_identity(j);
		return;
	case CREDENTIALS_SOURCE_SSO:
		start_sso(j);
		return;
	case CREDENTIALS_SOURCE_CONTAINER:
	case CREDENTIALS_SOURCE_IMDS:
		r = start_http_base(j);
		if (r < 0) {
			snprintf(why, sizeof(why), "%s: %s",
				p->base == CREDENTIALS_SOURCE_CONTAINER ? "container endpoint"
									: "IMDS",
				r == -EACCES
					? "AWS_CONTAINER_CREDENTIALS_FULL_URI names a host the "
					  "SDKs do not allow"
					: strerror(-r));
			job_fail_later(j, r, why);
		}
		return;
	default:
		job_fail_later(j, -ENOENT, "no credential provider applies");
		return;
	}
}

/* After the base (or a role): the next role, or the end. */
static void next_step(struct cred_job *j)
{
	const struct credentials_plan *p = j->plan;
	char why[600], detail[600];

	if (j->next_role == 0 && p->base != CREDENTIALS_SOURCE_WEB_IDENTITY)
		j->next_role = 1;
	if (j->next_role - 1 < p->n_roles) {
		const struct credentials_role *role = &p->roles[j->next_role - 1];
		int r = start_sts(j, role, NULL);
		if (r < 0) {
			snprintf(why, sizeof(why), "STS endpoint %s: %s", j->env.sts_origin,
				strerror(-r));
			job_fail_later(j, r, why);
		}
		return;
	}
	if (j->starting) {
		/* Nothing was waited for: finish from the loop, not inside the start. */
		job_fail_later(j, 0, "");
		return;
	}
	credentials_http_cb cb = j->cb;
	void *arg = j->arg;
	struct credentials_set set = j->cur;
	memset(&j->cur, 0, sizeof(j->cur));
	if (p->n_roles > 0)
		snprintf(detail, sizeof(detail), "role=%s profile=%s via %s",
			p->roles[p->n_roles - 1].role_arn, p->roles[p->n_roles - 1].profile,
			j->base_detail);
	else
		copy_text(detail, sizeof(detail), j->base_detail);
	job_free(j);
	cb(0, &set, detail, arg);
	credentials_set_finish(&set);
}

/* See credentials_priv.h. */
int cred_job_start(const struct cred_job_env *env, const struct credentials_plan *plan,
	credentials_http_cb cb, void *arg, struct cred_job **out)
{
	struct cred_job *j = xcalloc(1, sizeof(*j));

	j->env = *env;
	j->plan = plan;
	j->cb = cb;
	j->arg = arg;
	j->defer_ev = evtimer_new(env->base, defer_cb, j);
	*out = j;
	j->starting = true;
	start_base(j);
	j->starting = false;
	return 0;
}

/* See credentials_priv.h. */
void cred_job_cancel(struct cred_job *job)
{
	if (job != NULL)
		job_free(job);
}
