/*
 * AWS Signature Version 4, header form. A pure function of the request,
 * the credentials, the scope and the time: it returns the headers to add
 * (X-Amz-Date, X-Amz-Security-Token, Authorization) and, for tests and for the
 * emulator's verifier, the canonical request and string to sign.
 */
#ifndef QSCALE_SIGV4_H
#define QSCALE_SIGV4_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sigv4_credentials {
	const char *access_key_id;
	const char *secret_access_key;
	const char *session_token; /* NULL when the credentials are long-term */
};

struct sigv4_header {
	const char *name;
	const char *value;
};

struct sigv4_request {
	const char *method;
	/* The resource path decoded ("/example space/"); the signer encodes it. */
	const char *path;
	/* The query string as sent, without '?'; NULL or "" for none. */
	const char *query;
	/* Headers as they will be sent; must include Host. */
	const struct sigv4_header *headers;
	size_t n_headers;
	const void *body;
	size_t body_len;
};

struct sigv4_params {
	const char *region;
	const char *service;
	uint64_t time_ms; /* wall clock, ms since the epoch */
	bool normalize_path; /* true for every service but S3 */
	bool sign_body; /* add and sign X-Amz-Content-Sha256 */
	bool omit_session_token; /* add the token after signing (unsigned) */
};

/* What the signer produced; every string is owned by this struct. */
struct sigv4_signed {
	char *amz_date; /* value for X-Amz-Date */
	char *security_token; /* value for X-Amz-Security-Token, or NULL */
	char *content_sha256; /* value for X-Amz-Content-Sha256, or NULL */
	char *authorization; /* value for Authorization */
	char *canonical_request;
	char *string_to_sign;
	char *signed_headers;
	char *signature; /* lowercase hex */
};

/* Signing keys cached per (date, region, service, access key id). */
struct sigv4_key_cache;

/* An empty cache; destroy wipes the keys it holds. */
struct sigv4_key_cache *sigv4_key_cache_create(void);
void sigv4_key_cache_destroy(struct sigv4_key_cache *cache);

/* How many signatures found their key in the cache, and how many derived it. */
void sigv4_key_cache_stats(const struct sigv4_key_cache *cache, uint64_t *hits, uint64_t *misses);

/*
 * Sign req. cache may be NULL. Returns 0 and fills *out, or -EINVAL for a
 * request that cannot be signed (no Host header, bad method, bad time).
 */
int sigv4_sign(const struct sigv4_request *req, const struct sigv4_credentials *creds,
	const struct sigv4_params *params, struct sigv4_key_cache *cache, struct sigv4_signed *out);

/* Free what sigv4_sign produced; accepts a zeroed struct. */
void sigv4_signed_finish(struct sigv4_signed *s);

/* The parts of an Authorization header, for servers that verify requests. */
struct sigv4_authorization {
	char *access_key_id;
	char *date; /* yyyymmdd */
	char *region;
	char *service;
	char *signed_headers; /* "host;x-amz-date" */
	char *signature;
};

/* Parse an "AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=..." value. */
int sigv4_authorization_parse(const char *value, struct sigv4_authorization *out);
void sigv4_authorization_finish(struct sigv4_authorization *a);

/*
 * Compare two hex signatures in constant time (for servers verifying a
 * request: re-sign it and compare). False for NULL or different lengths.
 */
bool sigv4_signature_equal(const char *a, const char *b);

/* Lowercase hex SHA-256 of data into out (65 bytes with NUL). */
void sigv4_sha256_hex(const void *data, size_t len, char out[65]);

/* Format ms since the epoch as yyyymmddThhmmssZ (17 bytes with NUL); -EINVAL if out of range. */
int sigv4_format_amz_date(uint64_t time_ms, char out[17]);

/* Parse yyyymmddThhmmssZ into ms since the epoch. */
int sigv4_parse_amz_date(const char *text, uint64_t *out_ms);

#endif
