/*
 * Inside the credential chain: the asynchronous fetchers for the ECS
 * container endpoint and EC2 IMDSv2, the credential_process runner, the
 * STS / SSO calls and the job that runs a whole plan, used by credentials.c.
 */
#ifndef QSCALE_CREDENTIALS_PRIV_H
#define QSCALE_CREDENTIALS_PRIV_H

#include <stdbool.h>
#include <stdint.h>

#include "qscale/credentials.h"
#include "qscale/sigv4.h"

struct event_base;
struct http_client;
struct credentials_http_fetch;
struct cred_process;
struct cred_call;
struct cred_job;

/*
 * A fetch finished: on err == 0 set holds the credentials and the callee
 * takes them over (leaving *set zeroed); detail names the source.
 */
typedef void (*credentials_http_cb)(
	int err, struct credentials_set *set, const char *detail, void *arg);

/* GET url (Authorization: auth when not NULL) and parse the credentials document. */
int credentials_http_container(struct http_client *http, const char *url, const char *auth,
	uint64_t timeout_ms, credentials_http_cb cb, void *arg,
	struct credentials_http_fetch **out);

/*
 * IMDSv2 at endpoint ("http://169.254.169.254"): token, role name,
 * credentials; IMDSv1 (no token) when the token PUT is refused, unless
 * v1_disabled, which makes that refusal -EACCES.
 */
int credentials_http_imds(struct http_client *http, const char *endpoint, uint64_t timeout_ms,
	bool v1_disabled, credentials_http_cb cb, void *arg, struct credentials_http_fetch **out);

/* Stop a fetch; its callback never runs. */
void credentials_http_cancel(struct credentials_http_fetch *f);

/* credential_process output is refused past this size. */
#define CRED_PROCESS_OUTPUT_MAX (64u * 1024u)

/*
 * Run command (split into words, no shell) and parse its Version 1 JSON.
 * Bounded by timeout_ms and CRED_PROCESS_OUTPUT_MAX; the child is killed
 * past either. On failure detail says why (exit status, its stderr's first
 * line, the JSON problem).
 */
int cred_process_start(struct event_base *base, const char *command, uint64_t timeout_ms,
	credentials_http_cb cb, void *arg, struct cred_process **out);

/* Kill and reap the child; the callback never runs. Accepts NULL. */
void cred_process_cancel(struct cred_process *p);

/* One STS or SSO request. */
struct cred_call_opts {
	const char *method; /* "POST" (STS) or "GET" (SSO) */
	const char *origin; /* scheme://host[:port] */
	const char *path_query; /* "/" or "/federation/credentials?..." */
	const char *body; /* form body for POST, else NULL */
	const struct sigv4_credentials *signer; /* NULL: unsigned */
	const char *signing_region;
	const char *service; /* signing name: "sts" */
	const char *bearer; /* SSO: x-amz-sso_bearer_token, else NULL */
	uint64_t timeout_ms;
};

/* What a call got: err 0 and the 200 body, or err with why (status, code, message). */
struct cred_call_result {
	int err;
	long status;
	const char *body;
	size_t body_len;
	const char *why;
};

typedef void (*cred_call_cb)(const struct cred_call_result *res, void *arg);

/* Start a call; the callback runs once, later, from the loop. */
int cred_call_start(struct http_client *http, const struct clock *clock,
	const struct cred_call_opts *opts, cred_call_cb cb, void *arg, struct cred_call **out);

/* Stop a call; the callback never runs. Accepts NULL. */
void cred_call_cancel(struct cred_call *call);

/* What a plan job needs besides the plan. */
struct cred_job_env {
	struct event_base *base;
	struct http_client *http;
	const struct clock *clock;
	aws_env_cb env;
	void *env_ctx;
	const char *home; /* for ~ in token files and the SSO cache; may be NULL */
	const char *sts_origin;
	const char *sts_region;
	uint64_t http_timeout_ms, sts_timeout_ms, process_timeout_ms;
	bool imds_v1_disabled; /* no IMDSv1 fallback for an Ec2InstanceMetadata source */
};

/*
 * Run plan (borrowed until the callback): its base provider, then each role.
 * On err == 0 set holds the final credentials (taken over by the callee);
 * detail names the source on success and the cause on failure.
 */
int cred_job_start(const struct cred_job_env *env, const struct credentials_plan *plan,
	credentials_http_cb cb, void *arg, struct cred_job **out);

/* Stop a job; its callback never runs. Accepts NULL. */
void cred_job_cancel(struct cred_job *job);

#endif
