/*
 * Percent-encoding (RFC 3986) for SigV4's canonical URIs and query strings
 * and for the form bodies of the Query protocol (STS): one encoder, one
 * strict decoder.
 */
#ifndef QSCALE_PERCENT_H
#define QSCALE_PERCENT_H

#include <stdbool.h>
#include <stddef.h>

#include "qscale/buf.h"

/*
 * Append len bytes of s to out, every byte but the unreserved ones
 * (A-Z a-z 0-9 - _ . ~, and '/' when keep_slash) as %XX in upper case.
 * 0 or -E2BIG (out's cap).
 */
int percent_encode(struct buf *out, const char *s, size_t len, bool keep_slash);

/*
 * Decode len bytes of s into a fresh NUL-terminated string (*out, the
 * caller's); '+' reads as a space when plus_is_space (forms). -EINVAL for a
 * short or bad escape and for %00, which would cut the value short; the
 * partly decoded bytes are wiped, as they may be a secret.
 */
int percent_decode(const char *s, size_t len, bool plus_is_space, char **out);

/* The value of one hex digit (either case), or -1. */
int percent_hex_value(char c);

#endif
