/*
 * Internals of the SigV4 signer shared by its files: the limits on every
 * input and the canonical request builder.
 */
#ifndef QSCALE_SIGV4_PRIV_H
#define QSCALE_SIGV4_PRIV_H

#include <stdbool.h>
#include <stddef.h>

#include "qscale/buf.h"
#include "qscale/sigv4.h"

#define SIGV4_MAX_METHOD 16
#define SIGV4_MAX_PATH 8192
#define SIGV4_MAX_QUERY 16384
#define SIGV4_MAX_QUERY_PARAMS 256
#define SIGV4_MAX_HEADERS 64
#define SIGV4_MAX_HEADER_NAME 128
#define SIGV4_MAX_HEADER_VALUE 16384
#define SIGV4_MAX_SCOPE_PART 64
#define SIGV4_MAX_KEY_ID 128
#define SIGV4_MAX_SECRET 256
#define SIGV4_MAX_TOKEN 16384
#define SIGV4_MAX_BODY (64u * 1024 * 1024)
#define SIGV4_MAX_CANONICAL (256u * 1024)
#define SIGV4_MAX_AUTHORIZATION 4096

/* One header the signer adds itself (X-Amz-Date, token, content hash). */
struct sigv4_extra_header {
	const char *name; /* lower case */
	const char *value;
};

/*
 * Append the canonical request of req (plus the extra headers) to out and
 * the signed header list to signed_headers; payload_hash is the hex body hash.
 * Returns 0, -EINVAL for junk, or -E2BIG past a cap.
 */
int sigv4_canonical_request(const struct sigv4_request *req, bool normalize_path,
	const struct sigv4_extra_header *extra, size_t n_extra, const char *payload_hash,
	struct buf *out, struct buf *signed_headers);

/* True when name (any case) is a header the signer never signs. */
bool sigv4_header_unsignable(const char *name);

/* True for a scope part (region or service): [a-z0-9-]{1,64}. */
bool sigv4_scope_part_valid(const char *s);

/* True for an access key id: [A-Za-z0-9]{1,128}. */
bool sigv4_key_id_valid(const char *s);

#endif
