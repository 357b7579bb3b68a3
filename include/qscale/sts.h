/*
 * AWS STS over the Query protocol, pure: the form bodies of AssumeRole,
 * AssumeRoleWithWebIdentity and GetCallerIdentity, a small bounded XML reader
 * for their answers and errors, and the STS endpoint in the SDKs' order. The
 * emulator answers the same calls and reads the same forms.
 */
#ifndef QSCALE_STS_H
#define QSCALE_STS_H

#include <stddef.h>
#include <stdint.h>

#include "qscale/aws_endpoint.h"
#include "qscale/credentials.h"

/* Largest STS answer read; tokens are a few KiB. */
#define STS_BODY_MAX (256u * 1024u)
/* Deepest XML nesting accepted. */
#define STS_XML_MAX_DEPTH 16
/* The API version every STS call names. */
#define STS_API_VERSION "2011-06-15"

/* What GetCallerIdentity (or an assume-role answer) says about the caller. */
struct sts_identity {
	char arn[512];
	char account[32];
	char user_id[256];
};

/* Percent-encode text as a form value (RFC 3986 unreserved kept); caller frees. */
char *sts_form_encode(const char *text);

/*
 * The value of key in an application/x-www-form-urlencoded body, decoded
 * ('+' is a space); -ENOENT when absent, -EINVAL for a bad escape. Caller frees.
 */
int sts_form_get(const char *body, size_t len, const char *key, char **out);

/*
 * The body of AssumeRole. external_id may be NULL; duration_s 0 leaves the
 * role's default. Caller frees.
 */
char *sts_body_assume_role(
	const char *role_arn, const char *session_name, const char *external_id, int duration_s);

/* The body of AssumeRoleWithWebIdentity (an unsigned call); caller wipes and frees. */
char *sts_body_web_identity(
	const char *role_arn, const char *session_name, const char *token, int duration_s);

/* The body of GetCallerIdentity. */
const char *sts_body_caller_identity(void);

/*
 * The text of the element at path ("A/B/C", local names) in an XML document,
 * entities decoded. -ENOENT when absent, -EPROTO for malformed XML, a
 * document past STS_BODY_MAX or nested past STS_XML_MAX_DEPTH, or one with a
 * DOCTYPE. Caller frees (wipe: it may be a secret).
 */
int sts_xml_text(const char *body, size_t len, const char *path, char **out);

/*
 * The credentials of an AssumeRole or AssumeRoleWithWebIdentity answer
 * (action names the operation); *arn_out gets AssumedRoleUser/Arn (may be
 * NULL). -EPROTO for anything else.
 */
int sts_parse_credentials(const char *body, size_t len, const char *action,
	struct credentials_set *out, struct sts_identity *who);

/* GetCallerIdentity's answer. */
int sts_parse_caller_identity(const char *body, size_t len, struct sts_identity *out);

/* An ErrorResponse's Code and Message; -EPROTO when body is none. */
int sts_parse_error(const char *body, size_t len, char *code, size_t code_size, char *message,
	size_t message_size);

/*
 * The STS endpoint: AWS_ENDPOINT_URL_STS, else AWS_ENDPOINT_URL (unless
 * AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true or the profile's
 * ignore_configured_urls), else the profile's, else the regional one as the
 * STS rule set names it (sts[-fips].<region>.<suffix>, with the profile's
 * use_fips / use_dualstack flags); the global one for
 * sts_regional_endpoints=legacy (without FIPS or dual-stack) or without a
 * region.
 * *signing_region gets the region to sign for. Both freed by the caller.
 */
int sts_endpoint_resolve(const char *region, aws_env_cb env, void *env_ctx,
	const struct aws_profile_endpoints *profile, const char *regional_mode, char **origin,
	char **signing_region);

#endif
