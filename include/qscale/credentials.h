/*
 * AWS credentials: the SDKs' provider chain (environment, shared credentials
 * and config files, ECS container endpoint, EC2 IMDSv2) behind one
 * asynchronous "get", with refresh before expiry, re-reading of a rotated
 * credentials file (SSM on ECS Anywhere hosts), and the facts `doctor` and
 * the metrics report: where the credentials came from, their age and expiry.
 */
#ifndef QSCALE_CREDENTIALS_H
#define QSCALE_CREDENTIALS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/aws_endpoint.h"
#include "qscale/aws_ini.h"
#include "qscale/clock.h"
#include "qscale/sigv4.h"

struct event_base;
struct http_client;

enum credentials_source {
	CREDENTIALS_SOURCE_NONE = 0,
	CREDENTIALS_SOURCE_ENV,
	CREDENTIALS_SOURCE_PROFILE, /* shared credentials or config file */
	CREDENTIALS_SOURCE_CONTAINER,
	CREDENTIALS_SOURCE_IMDS,
};

/* One set of credentials; every string is owned and wiped on finish. */
struct credentials_set {
	char *access_key_id;
	char *secret_access_key;
	char *session_token; /* NULL for long-term keys */
	uint64_t expiry_wall_ms; /* 0: does not expire */
};

/* Wipe and free; accepts a zeroed struct. */
void credentials_set_finish(struct credentials_set *set);

/* Temporary credentials are refreshed this long before they expire. */
#define CREDENTIALS_REFRESH_EARLY_MS (5u * 60u * 1000u)
/* A shared credentials file is re-read at least this often. */
#define CREDENTIALS_FILE_RECHECK_MS (60u * 1000u)

/*
 * From AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
 * -ENOENT when unset or incomplete. (The chain skips this provider when a
 * profile is named, by configuration or AWS_PROFILE, as the JS SDK does.)
 */
int credentials_from_env(aws_env_cb env, void *env_ctx, struct credentials_set *out);

/*
 * From profile in the parsed credentials file, else in the config file
 * (either may be NULL): aws_access_key_id, aws_secret_access_key,
 * aws_session_token. -ENOENT when the profile has no complete key pair.
 */
int credentials_from_ini(const struct aws_ini *credentials_file, const struct aws_ini *config_file,
	const char *profile, struct credentials_set *out);

/*
 * Parse a container / IMDS credentials document ({AccessKeyId,
 * SecretAccessKey, Token, Expiration}); -EPROTO for anything else, or when
 * IMDS's "Code" is not "Success".
 */
int credentials_parse_json(const char *body, size_t len, struct credentials_set *out);

/*
 * Whether a file holding keys is safe to trust silently, as ssh judges its
 * own: not group- or world-writable, owned by root or by euid. 0, or -EPERM
 * with why (say "world-writable (mode 0666): ...") filled. Pure.
 */
int credentials_file_check(unsigned mode, unsigned uid, unsigned euid, char *why, size_t size);

/* Parse an RFC 3339 UTC time ("2026-11-26T09:00:00Z", fraction allowed) to ms. */
int credentials_parse_rfc3339(const char *text, uint64_t *out_ms);

/*
 * The container credentials URL: relative (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI)
 * wins as http://169.254.170.2<relative>; else full
 * (AWS_CONTAINER_CREDENTIALS_FULL_URI), which must be https or name a host in
 * 127.0.0.0/8, ::1, localhost, 169.254.170.2, 169.254.170.23, fd00:ec2::23.
 * -ENOENT when neither is set, -EACCES for a host that is not allowed,
 * -EINVAL for junk. *out is freed by the caller.
 */
int credentials_container_url(const char *relative, const char *full, char **out);

/*
 * The Authorization value for the container endpoint: the token file's
 * contents (trailing newline dropped) if token_file is set, else token.
 * 0 with *out NULL when neither is set; -EINVAL when it holds CR or LF.
 */
int credentials_container_token(const char *token_file, const char *token, char **out);

struct credentials;
struct credentials_request;

struct credentials_config {
	const char *profile; /* NULL: AWS_PROFILE, then "default" */
	uint64_t http_timeout_ms; /* container / IMDS fetches; 0: 1000 */
	aws_env_cb env; /* NULL: the process environment */
	void *env_ctx;
};

/* A provider chain on base; HTTP fetches go through http (which must outlive it). */
int credentials_create(struct event_base *base, struct http_client *http, const struct clock *clock,
	const struct credentials_config *config, struct credentials **out);

/* Cancel every pending request (no callbacks) and wipe the credentials; accepts NULL. */
void credentials_destroy(struct credentials *c);

/* err is 0 and creds valid during the call, or a negative errno and creds NULL. */
typedef void (*credentials_cb)(int err, const struct sigv4_credentials *creds, void *arg);

/*
 * Get usable credentials: cb runs exactly once, later from the loop (never
 * inside this call). *out (may be NULL) allows cancelling until then.
 */
int credentials_get(
	struct credentials *c, credentials_cb cb, void *arg, struct credentials_request **out);

/* Cancel a pending get; its callback never runs. */
void credentials_request_cancel(struct credentials_request *req);

/*
 * The credentials were rejected (expired token, bad signature): re-read the
 * file or re-fetch from the endpoint before the next use.
 */
void credentials_invalidate(struct credentials *c);

/* What doctor and the metrics show. */
struct credentials_info {
	enum credentials_source source;
	char detail[256]; /* file and profile, URL or role */
	char access_key_id[64]; /* "" when none; the id is not a secret */
	bool temporary; /* has a session token */
	uint64_t obtained_wall_ms; /* when the current set was read; 0 when none */
	/*
	 * Age of the credentials themselves, on the monotonic clock: for a shared
	 * file, since its modification time (re-reading an unchanged file does
	 * not reset it, a clock jump does not move it); otherwise since they were
	 * obtained. -1 when none are held.
	 */
	int64_t age_ms;
	uint64_t file_mtime_wall_ms; /* the shared file the keys came from; 0 otherwise */
	char file_warning[192]; /* why a shared file is not safe (permissions), "" when it is */
	uint64_t expiry_wall_ms; /* 0: no expiry known */
	uint64_t refreshes; /* times a new set replaced the old */
	int last_error; /* last failure of a refresh, 0 when none */
};

void credentials_get_info(const struct credentials *c, struct credentials_info *out);

/* "env", "profile", "container", "imds", "none". */
const char *credentials_source_name(enum credentials_source source);

#endif
