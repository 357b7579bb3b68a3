/*
 * The credential provider chain, in botocore's order: environment, a role
 * profile (STS AssumeRole, chained), web identity, SSO, static keys in the
 * credentials file, credential_process, static keys in the config file,
 * ECS container endpoint, EC2 IMDSv2 (credentials_profile.c reads which one
 * applies; credentials_job.c runs the asynchronous ones). The first
 * provider that applies is kept; one that applies and fails stops the chain
 * with its cause, never falling through to an instance role. A shared
 * credentials file is
 * re-read when it changes, at least once a minute and right after AWS
 * rejected the credentials (the SSM agent rotates it on ECS Anywhere hosts);
 * a momentarily empty or half-written file keeps the previous credentials.
 * Temporary credentials are fetched again 5 minutes before they expire.
 *
 * Environment credentials win over AWS_PROFILE, as in the AWS CLI; they are
 * skipped when qscale's own configuration names the profile, as the CLI's
 * --profile does.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <event2/event.h>

#include "credentials_priv.h"
#include "qscale/aws_settings.h"
#include "qscale/credentials.h"
#include "qscale/log.h"
#include "qscale/sts.h"
#include "qscale/xalloc.h"

/* What we last saw of a file, to notice rewrites. */
struct file_stamp {
	bool exists;
	long long mtime_ns;
	long long size;
};

struct credentials_request {
	struct credentials *c;
	credentials_cb cb;
	void *arg;
	struct credentials_request *prev, *next;
};

struct credentials {
	struct event_base *base;
	struct http_client *http;
	struct clock clock;
	aws_env_cb env;
	void *env_ctx;
	char *profile;
	bool profile_named;
	bool imds_v1_disabled;
	struct aws_profile_endpoints endpoint_flags; /* only the three switches are set */
	bool env_allowed; /* false when qscale's configuration names the profile */
	uint64_t http_timeout_ms, sts_timeout_ms, process_timeout_ms;
	char *region;
	char *home;
	char *sts_origin, *sts_region; /* resolved with the config file at the first read */
	struct credentials_plan plan; /* what the job runs (process, STS, SSO...) */
	struct cred_job *job;
	char error_text[512];

	enum credentials_source source; /* fixed once a provider yielded */
	struct credentials_set current;
	bool have;
	bool invalidated;
	uint64_t obtained_wall_ms;
	uint64_t refreshes;
	int last_error;
	char detail[256];

	char *credentials_path;
	char *config_path;
	struct file_stamp credentials_stamp, config_stamp;
	uint64_t last_read_mono_ms;
	/* The age of what is held: a base at a monotonic instant (see credentials_info). */
	long long keys_mtime_ns;
	uint64_t age_base_ms, age_base_mono_ms;
	/* What was last said about each shared file, so that it is said once. */
	char file_said[2][192];
	char file_warning[192];

	struct credentials_http_fetch *fetch;
	enum credentials_source fetch_source;
	struct credentials_request *waiters;
	struct event *flush_ev;
	bool flushing; /* inside a waiter's callback */
	bool destroy_pending; /* destroyed from a callback: free once it returns */
};

static void credentials_free(struct credentials *c);

/* The path of a shared file from its variable or its default, '~' expanded. */
static char *file_path(struct credentials *c, const char *var, const char *fallback)
{
	char *path;

	/* One expansion for every use: the settings resolver's. */
	aws_settings_file_path(c->env, c->env_ctx, var, fallback, &path);
	return path;
}

/* stat() a file into a stamp. */
static struct file_stamp stamp_of(const char *path)
{
	struct file_stamp s = {0};
	struct stat st;

	if (path != NULL && stat(path, &st) == 0) {
		s.exists = true;
		s.mtime_ns = (long long)st.st_mtim.tv_sec * 1000000000LL + st.st_mtim.tv_nsec;
		s.size = (long long)st.st_size;
	}
	return s;
}

/* Whether two stamps differ. */
static bool stamp_changed(struct file_stamp a, struct file_stamp b)
{
	return a.exists != b.exists || a.mtime_ns != b.mtime_ns || a.size != b.size;
}

/* Replace the current credentials by set (taken over). */
static void adopt(struct credentials *c, enum credentials_source source,
	struct credentials_set *set, const char *detail)
{
	bool changed = !c->have || strcmp(c->current.access_key_id, set->access_key_id) != 0 ||
		strcmp(c->current.secret_access_key, set->secret_access_key) != 0;

	if (c->have && changed)
		c->refreshes++;
	if (changed || !c->have)
		log_debug("credentials=adopted source=%s key=%s %s",
			credentials_source_name(source), LOG_Q(set->access_key_id), detail);
	credentials_set_finish(&c->current);
	c->current = *set;
	memset(set, 0, sizeof(*set));
	c->have = true;
	c->source = source;
	c->invalidated = false;
	c->last_error = 0;
	c->error_text[0] = '\0';
	c->obtained_wall_ms = clock_wall_ms(&c->clock);
	snprintf(c->detail, sizeof(c->detail), "%s", detail);
	if (source != CREDENTIALS_SOURCE_PROFILE) {
		c->keys_mtime_ns = 0;
		c->age_base_ms = 0;
		c->age_base_mono_ms = clock_mono_ms(&c->clock);
		c->file_warning[0] = '\0';
	}
}

/*
 * Say once (until it changes) what is wrong with shared file i (0: the
 * credentials file, 1: the config file): unreadable, not a regular file, or
 * writable by others. text "" when all is well.
 */
static void say_once(struct credentials *c, int i, const char *path, const char *text)
{
	if (strcmp(c->file_said[i], text) == 0)
		return;
	snprintf(c->file_said[i], sizeof(c->file_said[i]), "%s", text);
	if (text[0] != '\0')
		log_warn("credentials=file path=%s problem=%s", LOG_Q(path), LOG_Q(text));
}

/* Check what was read of shared file i: the errors of loading it, its permissions. */
static void judge_file(struct credentials *c, int i, const char *path, int r,
	const struct aws_ini_diag *diag, const struct aws_ini *ini)
{
	char why[192] = "";

	if (path == NULL)
		return;
	if (r == 0)
		credentials_file_check(ini->mode, ini->uid, (unsigned)geteuid(), why, sizeof(why));
	else if (r != -ENOENT && diag->line == 0)
		snprintf(why, sizeof(why), "%s", diag->message);
	say_once(c, i, path, why);
}

/* Keep the age of file-read keys from their file's modification time. */
static void age_from_file(struct credentials *c, long long mtime_ns)
{
	uint64_t wall = clock_wall_ms(&c->clock);
	uint64_t mtime_ms = mtime_ns > 0 ? (uint64_t)(mtime_ns / 1000000) : 0;

	/* Unchanged file: the base stays, so re-reads and clock jumps move nothing. */
	if (mtime_ns == c->keys_mtime_ns && c->keys_mtime_ns != 0)
		return;
	c->keys_mtime_ns = mtime_ns;
	c->age_base_ms = mtime_ms > 0 && wall > mtime_ms ? wall - mtime_ms : 0;
	c->age_base_mono_ms = clock_mono_ms(&c->clock);
}

/*
 * Read the shared files for the profile. 0 when credentials were adopted;
 * otherwise the previous credentials stay.
 */
static int read_profile(struct credentials *c)
{
	struct aws_ini creds_ini = {0}, config_ini = {0};
	struct aws_ini_diag diag = {0}, config_diag = {0};
	struct credentials_set set = {0};
	char detail[256];
	int r_creds, r_config, r;

	c->credentials_stamp = stamp_of(c->credentials_path);
	c->config_stamp = stamp_of(c->config_path);
	c->last_read_mono_ms = clock_mono_ms(&c->clock);
	r_creds = c->credentials_path != NULL
		? aws_ini_load(c->credentials_path, false, &creds_ini, &diag)
		: -ENOENT;
	r_config = c->config_path != NULL
		? aws_ini_load(c->config_path, true, &config_ini, &config_diag)
		: -ENOENT;
	judge_file(c, 0, c->credentials_path, r_creds, &diag, &creds_ini);
	judge_file(c, 1, c->config_path, r_config, &config_diag, &config_ini);
	r = credentials_from_ini(r_creds == 0 ? &creds_ini : NULL,
		r_config == 0 ? &config_ini : NULL, c->profile, &set);
	/* The keys come from the credentials file when it has the profile, else the config. */
	bool from_creds = r_creds == 0 && aws_ini_has_section(&creds_ini, c->profile);
	long long keys_mtime_ns = from_creds ? creds_ini.mtime_ns : config_ini.mtime_ns;
	const char *keys_warning = c->file_said[from_creds ? 0 : 1];
	aws_ini_finish(&creds_ini);
	aws_ini_finish(&config_ini);
	if (r_creds == -EINVAL && diag.line > 0)
		log_debug("credentials=file path=%s line=%d error=%s", LOG_Q(c->credentials_path),
			diag.line, LOG_Q(diag.message));
	/*
	 * A rotating writer rewrites the file in place: an unparsable file, or one
	 * that lost the session token the last good read had, is caught mid-write.
	 * Forget the stamp so the next use reads it again.
	 */
	if (r == 0 && r_creds == -EINVAL)
		r = -EAGAIN;
	if (r == 0 && c->have && c->source == CREDENTIALS_SOURCE_PROFILE &&
		c->current.session_token != NULL && set.session_token == NULL)
		r = -EAGAIN;
	if (r < 0) {
		credentials_set_finish(&set);
		c->credentials_stamp.exists = false;
		c->credentials_stamp.size = -1;
		return r;
	}
	snprintf(detail, sizeof(detail), "file=%s profile=%s",
		c->credentials_path != NULL ? c->credentials_path : "", c->profile);
	adopt(c, CREDENTIALS_SOURCE_PROFILE, &set, detail);
	age_from_file(c, keys_mtime_ns);
	snprintf(c->file_warning, sizeof(c->file_warning), "%s", keys_warning);
	return 0;
}

/* Whether the current credentials can be handed out now. */
static bool usable(struct credentials *c)
{
	if (!c->have || c->invalidated)
		return false;
	return c->current.expiry_wall_ms == 0 ||
		clock_wall_ms(&c->clock) < c->current.expiry_wall_ms;
}

/* Whether temporary credentials are due for a refresh. */
static bool refresh_due(struct credentials *c)
{
	if (!c->have || c->invalidated)
		return true;
	if (c->current.expiry_wall_ms == 0)
		return false;
	return clock_wall_ms(&c->clock) + CREDENTIALS_REFRESH_EARLY_MS >= c->current.expiry_wall_ms;
}

/* Arm the zero timer that hands results to waiters. */
static void schedule_flush(struct credentials *c)
{
	static const struct timeval zero = {0, 0};

	if (c->waiters != NULL)
		evtimer_add(c->flush_ev, &zero);
}

/* Unlink a waiter. */
static void waiter_unlink(struct credentials_request *w)
{
	struct credentials *c = w->c;

	if (w->prev != NULL)
		w->prev->next = w->next;
	else
		c->waiters = w->next;
	if (w->next != NULL)
		w->next->prev = w->prev;
}

/* Hand the current credentials (or the last error) to every waiter. */
static void flush_cb(evutil_socket_t fd, short what, void *arg)
{
	struct credentials *c = arg;

	(void)fd;
	(void)what;
	/* While a fetch runs and nothing usable is held, waiters keep waiting. */
	while (c->waiters != NULL && (usable(c) || (c->fetch == NULL && c->job == NULL))) {
		struct credentials_request *w = c->waiters;
		waiter_unlink(w);
		if (usable(c)) {
			struct sigv4_credentials sc = {
				.access_key_id = c->current.access_key_id,
				.secret_access_key = c->current.secret_access_key,
				.session_token = c->current.session_token,
			};
			c->flushing = true;
			w->cb(0, &sc, w->arg);
		} else {
			c->flushing = true;
			w->cb(c->last_error != 0 ? c->last_error : -ENOENT, NULL, w->arg);
		}
		c->flushing = false;
		free(w);
		if (c->destroy_pending) {
			credentials_free(c);
			return;
		}
	}
}

/*
 * The SDKs' static stability for instance credentials: IMDS may hand out (or
 * be unable to replace) a set that has expired; rather than stop, use it
 * for 5 to 10 more minutes and try again then, as the JS SDK does. AWS
 * accepts such a set while the instance role's session is still valid.
 */
static void extend_imds_expiry(struct credentials *c)
{
	uint64_t now = clock_wall_ms(&c->clock);

	if (c->current.expiry_wall_ms == 0 || c->current.expiry_wall_ms > now)
		return;
	uint64_t extra_ms = (5u * 60u + (uint64_t)(random() % 300)) * 1000u;
	c->current.expiry_wall_ms = now + extra_ms + CREDENTIALS_REFRESH_EARLY_MS;
	c->invalidated = false;
	log_warn("credentials=extended source=imds key=%s refresh_in_s=%llu "
		 "reason=\"the instance metadata service gave no fresh credentials; using the "
		 "expired set as the SDKs do (static stability)\"",
		c->current.access_key_id, (unsigned long long)(extra_ms / 1000u));
}

/* A container or IMDS fetch finished. */
static void fetch_cb(int err, struct credentials_set *set, const char *detail, void *arg)
{
	struct credentials *c = arg;
	enum credentials_source source = c->fetch_source;

	c->fetch = NULL;
	if (err == 0) {
		adopt(c, source, set, detail);
		if (source == CREDENTIALS_SOURCE_IMDS)
			extend_imds_expiry(c);
	} else if (source == CREDENTIALS_SOURCE_IMDS && c->have &&
		c->source == CREDENTIALS_SOURCE_IMDS) {
		/*
		 * Static stability: a failed refresh keeps the instance role's set
		 * in use (rejected or not: nothing better can be had), extended
		 * when it has expired.
		 */
		c->last_error = err;
		log_debug("credentials=refresh source=imds err=%d detail=\"%s\"", err, detail);
		c->invalidated = false;
		extend_imds_expiry(c);
	} else {
		c->last_error = err;
		/* The chain's last resort failed: say what was tried, not just an errno. */
		snprintf(c->error_text, sizeof(c->error_text),
			"no credentials in the environment or profile %s, and the %s said: "
			"%.200s%s%s",
			c->profile,
			source == CREDENTIALS_SOURCE_CONTAINER ? "container endpoint"
							       : "instance metadata",
			detail, detail[0] != '\0' ? ": " : "", strerror(err < 0 ? -err : err));
		log_debug("credentials=refresh source=%s err=%d", credentials_source_name(source),
			err);
	}
	schedule_flush(c);
}

/* Start fetching from the container endpoint or IMDS; 0 when started. */
static int start_fetch(struct credentials *c, enum credentials_source source)
{
	char *url = NULL, *token = NULL;
	int r;

	if (c->fetch != NULL)
		return 0;
	if (source == CREDENTIALS_SOURCE_CONTAINER) {
		r = credentials_container_url(
			c->env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", c->env_ctx),
			c->env("AWS_CONTAINER_CREDENTIALS_FULL_URI", c->env_ctx), &url);
		if (r == 0)
			r = credentials_container_token(
				c->env("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", c->env_ctx),
				c->env("AWS_CONTAINER_AUTHORIZATION_TOKEN", c->env_ctx), &token);
		if (r == 0)
			r = credentials_http_container(
				c->http, url, token, c->http_timeout_ms, fetch_cb, c, &c->fetch);
	} else {
		const char *ep = c->env("AWS_EC2_METADATA_SERVICE_ENDPOINT", c->env_ctx);
		const char *mode = c->env("AWS_EC2_METADATA_SERVICE_ENDPOINT_MODE", c->env_ctx);
		if (ep == NULL || ep[0] == '\0')
			ep = mode != NULL && strcasecmp(mode, "IPv6") == 0
				? "http://[fd00:ec2::254]"
				: "http://169.254.169.254";
		r = credentials_http_imds(c->http, ep, c->http_timeout_ms, c->imds_v1_disabled,
			fetch_cb, c, &c->fetch);
	}
	free(url);
	secure_free_str(token);
	if (r < 0) {
		c->last_error = r;
		return r;
	}
	c->fetch_source = source;
	return 0;
}

/* Which HTTP provider the chain falls back to; NONE when neither applies. */
static enum credentials_source http_provider(struct credentials *c)
{
	const char *rel = c->env("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", c->env_ctx);
	const char *full = c->env("AWS_CONTAINER_CREDENTIALS_FULL_URI", c->env_ctx);
	const char *off = c->env("AWS_EC2_METADATA_DISABLED", c->env_ctx);

	if ((rel != NULL && rel[0] != '\0') || (full != NULL && full[0] != '\0'))
		return CREDENTIALS_SOURCE_CONTAINER;
	if (off != NULL && strcasecmp(off, "true") == 0)
		return CREDENTIALS_SOURCE_NONE;
	return CREDENTIALS_SOURCE_IMDS;
}

/* Record a failure with its cause, for the waiters, doctor and the logs. */
static void fail_with(struct credentials *c, int err, const char *why)
{
	c->last_error = err;
	snprintf(c->error_text, sizeof(c->error_text), "%s", why);
	log_debug("credentials=failed err=%d reason=\"%s\"", err, why);
}

/* The plan's job finished. */
static void job_cb(int err, struct credentials_set *set, const char *detail, void *arg)
{
	struct credentials *c = arg;

	c->job = NULL;
	if (err == 0)
		adopt(c, c->plan.n_roles > 0 ? CREDENTIALS_SOURCE_ASSUME_ROLE : c->plan.base, set,
			detail);
	else
		fail_with(c, err, detail);
	schedule_flush(c);
}

/* Run the plan (again: a refresh) unless it runs already. */
static void start_job(struct credentials *c)
{
	struct cred_job_env je = {
		.base = c->base,
		.http = c->http,
		.clock = &c->clock,
		.env = c->env,
		.env_ctx = c->env_ctx,
		.home = c->home,
		.sts_origin = c->sts_origin,
		.sts_region = c->sts_region,
		.http_timeout_ms = c->http_timeout_ms,
		.imds_v1_disabled = c->imds_v1_disabled,
		.sts_timeout_ms = c->sts_timeout_ms,
		.process_timeout_ms = c->process_timeout_ms,
	};

	if (c->job == NULL)
		cred_job_start(&je, &c->plan, job_cb, c, &c->job);
}

/* The STS endpoint, from the environment and the config file's profile. */
static void resolve_sts(struct credentials *c, const struct aws_ini *config)
{
	/* The switches the settings resolver read, for STS as for SQS and ECS. */
	struct aws_profile_endpoints pe = {
		.ignore_configured_urls = c->endpoint_flags.ignore_configured_urls,
		.use_fips = c->endpoint_flags.use_fips,
		.use_dualstack = c->endpoint_flags.use_dualstack,
	};
	const char *mode = c->env("AWS_STS_REGIONAL_ENDPOINTS", c->env_ctx);

	if (c->sts_origin != NULL)
		return;
	if (config != NULL) {
		const char *services = aws_ini_get(config, c->profile, "services");
		char *section = services != NULL ? xasprintf("services %s", services) : NULL;
		pe.service_url =
			section != NULL ? aws_ini_get(config, section, "sts.endpoint_url") : NULL;
		pe.global_url = aws_ini_get(config, c->profile, "endpoint_url");
		if (mode == NULL || mode[0] == '\0')
			mode = aws_ini_get(config, c->profile, "sts_regional_endpoints");
		if (sts_endpoint_resolve(c->region, c->env, c->env_ctx, &pe, mode, &c->sts_origin,
			    &c->sts_region) < 0)
			c->sts_origin = NULL;
		free(section);
	} else if (sts_endpoint_resolve(c->region, c->env, c->env_ctx, &pe, mode, &c->sts_origin,
			   &c->sts_region) < 0) {
		c->sts_origin = NULL;
	}
	if (c->sts_origin == NULL) {
		c->sts_origin = xstrdup("https://sts.amazonaws.com");
		c->sts_region = xstrdup("us-east-1");
	}
}

/* Read both shared files; -EINVAL with why for one that cannot be parsed. */
static int load_files(struct credentials *c, struct aws_ini *creds_ini, struct aws_ini *config_ini,
	bool *have_creds, bool *have_config, char *why, size_t why_size)
{
	struct aws_ini_diag diag = {0};
	int r;

	*have_creds = *have_config = false;
	if (c->credentials_path != NULL) {
		r = aws_ini_load(c->credentials_path, false, creds_ini, &diag);
		/*
		 * No regular file (/dev/null, a FIFO) or unreadable: botocore skips
		 * it, so does the chain, saying so once. Junk in it stops the chain.
		 */
		if (r < 0 && r != -E2BIG && (r != -EINVAL || diag.line == 0)) {
			judge_file(c, 0, c->credentials_path, r, &diag, creds_ini);
			r = -ENOENT;
		}
		if (r == -EINVAL || r == -E2BIG) {
			snprintf(why, why_size, "%s line %d: %s", c->credentials_path, diag.line,
				r == -E2BIG ? "file too large" : diag.message);
			return -EINVAL;
		}
		*have_creds = r == 0;
	}
	if (c->config_path != NULL) {
		memset(&diag, 0, sizeof(diag));
		r = aws_ini_load(c->config_path, true, config_ini, &diag);
		if (r < 0 && r != -E2BIG && (r != -EINVAL || diag.line == 0)) {
			judge_file(c, 1, c->config_path, r, &diag, config_ini);
			r = -ENOENT;
		}
		if (r == -EINVAL || r == -E2BIG) {
			if (*have_creds)
				aws_ini_finish(creds_ini);
			*have_creds = false;
			snprintf(why, why_size, "%s line %d: %s", c->config_path, diag.line,
				r == -E2BIG ? "file too large" : diag.message);
			return -EINVAL;
		}
		*have_config = r == 0;
	}
	return 0;
}

/* Walk the chain until a provider yields, one starts, or one refuses. */
static void resolve_chain(struct credentials *c)
{
	struct aws_ini creds_ini = {0}, config_ini = {0};
	struct credentials_set set = {0};
	bool have_creds, have_config;
	char why[512];
	int r = load_files(c, &creds_ini, &config_ini, &have_creds, &have_config, why, sizeof(why));

	if (r < 0) {
		fail_with(c, r, why);
		return;
	}
	struct credentials_files files = {
		.credentials = have_creds ? &creds_ini : NULL,
		.credentials_path = c->credentials_path,
		.config = have_config ? &config_ini : NULL,
		.config_path = c->config_path,
	};
	resolve_sts(c, files.config);
	credentials_plan_finish(&c->plan);
	r = credentials_plan_resolve(&files, c->profile, c->profile_named, c->env_allowed, c->env,
		c->env_ctx, &c->plan, why, sizeof(why));
	aws_ini_finish(&creds_ini);
	aws_ini_finish(&config_ini);
	if (r == -ENOENT) {
		/* Nothing configured: the container endpoint, then IMDS. */
		enum credentials_source next = http_provider(c);
		if (next == CREDENTIALS_SOURCE_NONE) {
			fail_with(c, -ENOENT,
				"no credentials: no AWS_ACCESS_KEY_ID, no usable profile, no "
				"container endpoint, and AWS_EC2_METADATA_DISABLED=true");
			return;
		}
		start_fetch(c, next);
		return;
	}
	if (r < 0) {
		fail_with(c, r, why);
		return;
	}
	if (c->plan.n_roles == 0 && c->plan.base == CREDENTIALS_SOURCE_ENV &&
		credentials_from_env(c->env, c->env_ctx, &set) == 0) {
		adopt(c, CREDENTIALS_SOURCE_ENV, &set, "environment");
		return;
	}
	/* Static keys keep their own path: re-read as the file rotates. */
	if (c->plan.n_roles == 0 && c->plan.base == CREDENTIALS_SOURCE_PROFILE &&
		read_profile(c) == 0)
		return;
	start_job(c);
}

/* Bring the credentials up to date as far as can be done now. */
static void refresh(struct credentials *c)
{
	switch (c->source) {
	case CREDENTIALS_SOURCE_NONE:
		resolve_chain(c);
		break;
	case CREDENTIALS_SOURCE_ENV:
		break;
	case CREDENTIALS_SOURCE_PROFILE:
		if (c->invalidated ||
			clock_mono_ms(&c->clock) - c->last_read_mono_ms >=
				CREDENTIALS_FILE_RECHECK_MS ||
			stamp_changed(c->credentials_stamp, stamp_of(c->credentials_path)) ||
			stamp_changed(c->config_stamp, stamp_of(c->config_path))) {
			read_profile(c);
			/* Nothing better was found: go on with what AWS will judge. */
			c->invalidated = false;
		}
		break;
	case CREDENTIALS_SOURCE_CONTAINER:
	case CREDENTIALS_SOURCE_IMDS:
		if (refresh_due(c))
			start_fetch(c, c->source);
		break;
	case CREDENTIALS_SOURCE_PROCESS:
	case CREDENTIALS_SOURCE_WEB_IDENTITY:
	case CREDENTIALS_SOURCE_SSO:
	case CREDENTIALS_SOURCE_ASSUME_ROLE:
		if (refresh_due(c))
			start_job(c);
		break;
	}
}

/* See qscale/credentials.h. */
int credentials_create(struct event_base *base, struct http_client *http, const struct clock *clock,
	const struct credentials_config *config, struct credentials **out)
{
	struct credentials *c = xcalloc(1, sizeof(*c));

	c->base = base;
	c->http = http;
	c->clock = *clock;
	c->env = config != NULL && config->env != NULL ? config->env : aws_env_system;
	c->env_ctx = config != NULL ? config->env_ctx : NULL;
	c->http_timeout_ms =
		config != NULL && config->http_timeout_ms > 0 ? config->http_timeout_ms : 1000;
	c->imds_v1_disabled = config != NULL && config->imds_v1_disabled;
	if (config != NULL) {
		c->endpoint_flags.ignore_configured_urls = config->ignore_configured_urls;
		c->endpoint_flags.use_fips = config->use_fips;
		c->endpoint_flags.use_dualstack = config->use_dualstack;
	}
	c->sts_timeout_ms =
		config != NULL && config->sts_timeout_ms > 0 ? config->sts_timeout_ms : 10000;
	c->process_timeout_ms = config != NULL && config->process_timeout_ms > 0
		? config->process_timeout_ms
		: 60000;
	c->region = config != NULL && config->region != NULL && config->region[0] != '\0'
		? xstrdup(config->region)
		: NULL;
	const char *home = c->env("HOME", c->env_ctx);
	c->home = home != NULL && home[0] != '\0' ? xstrdup(home) : NULL;
	const char *profile = config != NULL ? config->profile : NULL;
	c->env_allowed = profile == NULL || profile[0] == '\0';
	if (profile == NULL || profile[0] == '\0')
		profile = c->env("AWS_PROFILE", c->env_ctx);
	c->profile_named = profile != NULL && profile[0] != '\0';
	c->profile = xstrdup(c->profile_named ? profile : "default");
	c->credentials_path = file_path(c, "AWS_SHARED_CREDENTIALS_FILE", "~/.aws/credentials");
	c->config_path = file_path(c, "AWS_CONFIG_FILE", "~/.aws/config");
	c->flush_ev = evtimer_new(base, flush_cb, c);
	*out = c;
	return 0;
}

/* See qscale/credentials.h. */
void credentials_destroy(struct credentials *c)
{
	if (c == NULL)
		return;
	while (c->waiters != NULL) {
		struct credentials_request *w = c->waiters;
		waiter_unlink(w);
		free(w);
	}
	credentials_http_cancel(c->fetch);
	c->fetch = NULL;
	cred_job_cancel(c->job);
	c->job = NULL;
	if (c->flushing) {
		/* Called from a waiter's callback: flush_cb frees us once it returns. */
		c->destroy_pending = true;
		return;
	}
	credentials_free(c);
}

/* Free the chain's memory, wiping the credentials. */
static void credentials_free(struct credentials *c)
{
	event_free(c->flush_ev);
	credentials_set_finish(&c->current);
	credentials_plan_finish(&c->plan);
	free(c->region);
	free(c->home);
	free(c->sts_origin);
	free(c->sts_region);
	free(c->profile);
	free(c->credentials_path);
	free(c->config_path);
	free(c);
}

/* See qscale/credentials.h. */
int credentials_get(
	struct credentials *c, credentials_cb cb, void *arg, struct credentials_request **out)
{
	struct credentials_request *w = xcalloc(1, sizeof(*w));

	w->c = c;
	w->cb = cb;
	w->arg = arg;
	/* First come, first served: append. */
	struct credentials_request **link = &c->waiters;
	struct credentials_request *prev = NULL;
	while (*link != NULL) {
		prev = *link;
		link = &(*link)->next;
	}
	w->prev = prev;
	*link = w;
	refresh(c);
	schedule_flush(c);
	if (out != NULL)
		*out = w;
	return 0;
}

/* See qscale/credentials.h. */
void credentials_request_cancel(struct credentials_request *req)
{
	if (req == NULL)
		return;
	waiter_unlink(req);
	free(req);
}

/* See qscale/credentials.h. */
void credentials_invalidate(struct credentials *c)
{
	/* Environment credentials cannot change under us: nothing to re-read. */
	if (c->source != CREDENTIALS_SOURCE_ENV)
		c->invalidated = true;
}

/* See qscale/credentials.h. */
void credentials_get_info(const struct credentials *c, struct credentials_info *out)
{
	memset(out, 0, sizeof(*out));
	out->source = c->source;
	snprintf(out->detail, sizeof(out->detail), "%s", c->detail);
	if (c->have) {
		snprintf(out->access_key_id, sizeof(out->access_key_id), "%s",
			c->current.access_key_id);
		out->temporary = c->current.session_token != NULL;
		out->obtained_wall_ms = c->obtained_wall_ms;
		out->expiry_wall_ms = c->current.expiry_wall_ms;
		out->age_ms = (int64_t)(c->age_base_ms +
			(clock_mono_ms(&c->clock) - c->age_base_mono_ms));
		out->file_mtime_wall_ms =
			c->keys_mtime_ns > 0 ? (uint64_t)(c->keys_mtime_ns / 1000000) : 0;
		snprintf(out->file_warning, sizeof(out->file_warning), "%s", c->file_warning);
	} else {
		out->age_ms = -1;
	}
	out->refreshes = c->refreshes;
	out->last_error = c->last_error;
	snprintf(out->error_text, sizeof(out->error_text), "%s", c->error_text);
	if (c->source == CREDENTIALS_SOURCE_ASSUME_ROLE)
		snprintf(out->base, sizeof(out->base), "%s", credentials_source_name(c->plan.base));
}

/* One GetCallerIdentity in flight. */
struct identity_req {
	struct credentials *c;
	struct cred_call *call;
	credentials_identity_cb cb;
	void *arg;
};

/* GetCallerIdentity answered. */
static void identity_done(const struct cred_call_result *res, void *arg)
{
	struct identity_req *q = arg;
	struct sts_identity who;
	char why[800];
	int err = res->err;

	if (err == 0 && sts_parse_caller_identity(res->body, res->body_len, &who) < 0)
		err = -EPROTO;
	if (err != 0)
		snprintf(why, sizeof(why), "STS GetCallerIdentity at %s: %s", q->c->sts_origin,
			res->err != 0 ? res->why : "the answer names no caller");
	q->cb(err, err == 0 ? &who : NULL, err == 0 ? "" : why, q->arg);
	free(q);
}

/* The credentials for GetCallerIdentity are there (or not). */
static void identity_creds(int err, const struct sigv4_credentials *creds, void *arg)
{
	struct identity_req *q = arg;
	struct credentials *c = q->c;
	char why[600];

	if (err == 0) {
		struct cred_call_opts o = {
			.method = "POST",
			.origin = c->sts_origin,
			.path_query = "/",
			.body = sts_body_caller_identity(),
			.signer = creds,
			.signing_region = c->sts_region,
			.service = "sts",
			.timeout_ms = c->sts_timeout_ms,
		};
		err = cred_call_start(c->http, &c->clock, &o, identity_done, q, &q->call);
		if (err == 0)
			return;
		snprintf(why, sizeof(why), "STS endpoint %s: %s", c->sts_origin, strerror(-err));
	} else {
		snprintf(why, sizeof(why), "no credentials: %s",
			c->error_text[0] != '\0' ? c->error_text : strerror(-err));
	}
	q->cb(err, NULL, why, q->arg);
	free(q);
}

/* See qscale/credentials.h. */
int credentials_caller_identity(struct credentials *c, credentials_identity_cb cb, void *arg)
{
	struct identity_req *q = xcalloc(1, sizeof(*q));

	q->c = c;
	q->cb = cb;
	q->arg = arg;
	return credentials_get(c, identity_creds, q, NULL);
}
