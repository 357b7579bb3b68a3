/*
 * STS (Query protocol, XML answers) and SSO GetRoleCredentials as the
 * emulator serves them, so a role profile, web identity or SSO setup works
 * against `qscale emulate` as it would against AWS: AssumeRole,
 * AssumeRoleWithWebIdentity, GetCallerIdentity and GetRoleCredentials.
 *
 * The session credentials it issues are stateless: the session token
 * carries the role, the session name and the expiry under an HMAC of the
 * emulator's secret, the key id is derived from the token and the secret
 * from the key id. Any request signed with them verifies without a table,
 * and an expired token is refused with ExpiredToken. A role whose name
 * starts with "denied" is refused with AccessDenied, for tests.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "emulate_priv.h"
#include "qscale/buf.h"
#include "qscale/scenario.h"
#include "qscale/sts.h"
#include "qscale/world.h"
#include "qscale/xalloc.h"

#define STS_NS "https://sts.amazonaws.com/doc/2011-06-15/"
#define TOKEN_PREFIX "QSE1"
#define DEFAULT_DURATION_S 3600

/* Lowercase hex of an HMAC-SHA256 of text under the emulator's secret. */
static void mac_hex(const struct emulate_auth *auth, const char *text, char out[65])
{
	unsigned char md[32];
	size_t md_len = 0;

	if (EVP_Q_mac(NULL, "HMAC", NULL, "SHA256", NULL, auth->secret_access_key,
		    strlen(auth->secret_access_key), (const unsigned char *)text, strlen(text), md,
		    sizeof(md), &md_len) == NULL)
		md_len = 0;
	for (size_t i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", i < md_len ? md[i] : 0);
}

/* Hex of text (so the token holds no separator from it). */
static char *hex_of(const char *text)
{
	size_t n = strlen(text);
	char *out = xmalloc(2 * n + 1);

	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", (unsigned char)text[i]);
	out[2 * n] = '\0';
	return out;
}

/* Decode hex into fresh memory; NULL for junk. */
static char *unhex(const char *s, size_t n)
{
	if (n % 2 != 0 || n > 4096)
		return NULL;
	char *out = xmalloc(n / 2 + 1);
	for (size_t i = 0; i < n / 2; i++) {
		unsigned v;
		if (!isxdigit((unsigned char)s[2 * i]) || !isxdigit((unsigned char)s[2 * i + 1]) ||
			sscanf(s + 2 * i, "%2x", &v) != 1 || v == 0) {
			free(out);
			return NULL;
		}
		out[i] = (char)v;
	}
	out[n / 2] = '\0';
	return out;
}

/* The key id and secret that belong to a token. */
static void keys_of_token(
	const struct emulate_auth *auth, const char *token, char key_id[21], char secret[41])
{
	char m[65];
	char *t = xasprintf("id:%s", token);

	mac_hex(auth, t, m);
	free(t);
	snprintf(key_id, 21, "ASIA%.16s", m);
	for (char *c = key_id; *c != '\0'; c++)
		*c = (char)toupper((unsigned char)*c);
	t = xasprintf("secret:%s", key_id);
	mac_hex(auth, t, m);
	free(t);
	snprintf(secret, 41, "%.40s", m);
}

/* Issue a session for principal (an assumed-role ARN) until expiry. */
static char *issue_token(const struct emulate_auth *auth, const char *principal, uint64_t expiry_ms)
{
	char *hex = hex_of(principal);
	char *payload = xasprintf(TOKEN_PREFIX ".%" PRIu64 ".%s", expiry_ms, hex);
	char m[65];

	mac_hex(auth, payload, m);
	char *token = xasprintf("%s.%s", payload, m);
	free(hex);
	free(payload);
	return token;
}

/* See emulate_priv.h. */
int emulate_session_lookup(const struct emulate_auth *auth, const char *key_id, const char *token,
	uint64_t now_ms, char secret[41], char principal[512])
{
	char want_id[21], m[65];

	if (token == NULL || strncmp(token, TOKEN_PREFIX ".", 5) != 0)
		return -EACCES;
	const char *dot2 = strchr(token + 5, '.');
	const char *dot3 = dot2 != NULL ? strchr(dot2 + 1, '.') : NULL;
	if (dot3 == NULL || strlen(dot3 + 1) != 64)
		return -EACCES;
	char *payload = xstrndup(token, (size_t)(dot3 - token));
	mac_hex(auth, payload, m);
	free(payload);
	if (CRYPTO_memcmp(m, dot3 + 1, 64) != 0)
		return -EACCES;
	keys_of_token(auth, token, want_id, secret);
	if (strcmp(want_id, key_id) != 0)
		return -EACCES;
	char *who = unhex(dot2 + 1, (size_t)(dot3 - dot2 - 1));
	if (who == NULL)
		return -EACCES;
	snprintf(principal, 512, "%s", who);
	free(who);
	if (strtoull(token + 5, NULL, 10) <= now_ms)
		return -EKEYEXPIRED;
	return 0;
}

/* Which of STS or SSO a request without X-Amz-Target is; NONE for neither. */
enum emulate_service emulate_sts_service(const struct emulate_http_request *req)
{
	const char *ct = emulate_request_header(req, "content-type");

	if (strcmp(req->method, "POST") == 0 && ct != NULL &&
		strncasecmp(ct, "application/x-www-form-urlencoded", 33) == 0)
		return EMULATE_SERVICE_STS;
	if (strcmp(req->method, "GET") == 0 &&
		strncmp(req->uri, "/federation/credentials", 23) == 0)
		return EMULATE_SERVICE_SSO;
	return EMULATE_SERVICE_NONE;
}

/* Whether an STS request must be signed (every action but web identity). */
bool emulate_sts_signed(const struct emulate_http_request *req)
{
	char *action = NULL;
	bool web = sts_form_get(req->body, req->body_len, "Action", &action) == 0 &&
		strcmp(action, "AssumeRoleWithWebIdentity") == 0;

	free(action);
	return !web;
}

/* Append text XML-escaped. */
static void xml_put(struct buf *b, const char *text)
{
	for (const char *c = text; *c != '\0'; c++) {
		switch (*c) {
		case '<':
			(void)buf_puts(b, "&lt;");
			break;
		case '>':
			(void)buf_puts(b, "&gt;");
			break;
		case '&':
			(void)buf_puts(b, "&amp;");
			break;
		case '"':
			(void)buf_puts(b, "&quot;");
			break;
		default:
			(void)buf_putc(b, *c);
		}
	}
}

/* <name>text</name> */
static void xml_elem(struct buf *b, const char *name, const char *text)
{
	(void)buf_printf(b, "<%s>", name);
	xml_put(b, text);
	(void)buf_printf(b, "</%s>", name);
}

/* Hand a finished XML body to the reply. */
static void reply_xml(struct emulate_reply *reply, struct buf *b)
{
	reply->http_status = 200;
	reply->content_type = "text/xml";
	reply->body_len = b->len;
	reply->body = buf_steal(b);
}

/* See emulate_priv.h. */
void emulate_sts_error(const struct emulate_error *err, struct emulate_reply *reply)
{
	struct buf b;

	buf_init(&b, 64 * 1024);
	(void)buf_printf(&b, "<ErrorResponse xmlns=\"" STS_NS "\"><Error><Type>%s</Type>",
		err->http_status >= 500 ? "Receiver" : "Sender");
	xml_elem(&b, "Code", err->code);
	xml_elem(&b, "Message", err->message);
	(void)buf_puts(&b,
		"</Error><RequestId>00000000-0000-4000-8000-000000000000</RequestId>"
		"</ErrorResponse>");
	free(reply->body);
	reply_xml(reply, &b);
	reply->http_status = err->http_status;
	snprintf(reply->error_code, sizeof(reply->error_code), "%s", err->code);
	reply->query_error[0] = '\0';
}

/* Fail an STS call with code and message; returns -1. */
static int sts_fail(struct emulate_error *err, int status, const char *code, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* The definition (printf-checked through the declaration above). */
static int sts_fail(struct emulate_error *err, int status, const char *code, const char *fmt, ...)
{
	va_list ap;

	err->http_status = status;
	snprintf(err->type, sizeof(err->type), "%s", code);
	snprintf(err->code, sizeof(err->code), "%s", code);
	err->query_error[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(err->message, sizeof(err->message), fmt, ap);
	va_end(ap);
	return -1;
}

/* The caller of a signed request: the emulator's user, or an issued session. */
static void caller_of(const struct emulate_auth *auth, const struct emulate_http_request *req,
	const char *account, uint64_t now_ms, char arn[512], char user_id[256])
{
	const char *token = emulate_request_header(req, "x-amz-security-token");
	const char *authz = emulate_request_header(req, "authorization");
	char secret[41], principal[512];
	struct sigv4_authorization a = {0};

	snprintf(arn, 512, "arn:aws:iam::%s:user/qscale-emulator", account);
	snprintf(user_id, 256, "AIDAQSCALEEMULATOR");
	if (token != NULL && authz != NULL && sigv4_authorization_parse(authz, &a) == 0 &&
		emulate_session_lookup(auth, a.access_key_id, token, now_ms, secret, principal) ==
			0) {
		snprintf(arn, 512, "%s", principal);
		const char *slash = strrchr(principal, '/');
		snprintf(user_id, 256, "AROAQSCALEEMULATOR:%s", slash != NULL ? slash + 1 : "");
	}
	sigv4_authorization_finish(&a);
}

/* Check an AssumeRole form: role ARN, session name, duration. */
static int read_role_form(const struct emulate_http_request *req, struct emulate_error *err,
	char **role_arn, char **session, long *duration_s)
{
	char *d = NULL;

	*role_arn = *session = NULL;
	*duration_s = DEFAULT_DURATION_S;
	if (sts_form_get(req->body, req->body_len, "RoleArn", role_arn) < 0)
		return sts_fail(err, 400, "ValidationError",
			"1 validation error detected: Value null at 'roleArn' failed to satisfy "
			"constraint: Member must not be null");
	if (sts_form_get(req->body, req->body_len, "RoleSessionName", session) < 0)
		return sts_fail(err, 400, "ValidationError",
			"1 validation error detected: Value null at 'roleSessionName' failed to "
			"satisfy constraint: Member must not be null");
	size_t n = strlen(*session);
	if (n < 2 || n > 64 ||
		strspn(*session,
			"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
			"0123456789+=,.@_-") != n)
		return sts_fail(err, 400, "ValidationError",
			"1 validation error detected: Value '%s' at 'roleSessionName' failed to "
			"satisfy constraint: Member must satisfy regular expression pattern: "
			"[\\w+=,.@-]*",
			*session);
	const char *r = *role_arn;
	if (strncmp(r, "arn:aws:iam::", 13) != 0 || strspn(r + 13, "0123456789") != 12 ||
		strncmp(r + 25, ":role/", 6) != 0 || r[31] == '\0')
		return sts_fail(err, 400, "ValidationError", "%s is invalid", r);
	if (sts_form_get(req->body, req->body_len, "DurationSeconds", &d) == 0) {
		char *end = NULL;
		*duration_s = strtol(d, &end, 10);
		bool bad = end == d || *end != '\0' || *duration_s < 900 || *duration_s > 43200;
		free(d);
		if (bad)
			return sts_fail(err, 400, "ValidationError",
				"1 validation error detected: Value at 'durationSeconds' failed "
				"to satisfy constraint: Member must have value between 900 and "
				"43200");
	}
	const char *name = strrchr(r, '/') + 1;
	if (strncmp(name, "denied", 6) == 0)
		return sts_fail(err, 403, "AccessDenied",
			"User is not authorized to perform: sts:AssumeRole on resource: %s", r);
	return 0;
}

/* Write the credentials of a new session for the role into b. */
static void put_session(struct buf *b, const struct emulate_auth *auth, const char *role_arn,
	const char *session, long duration_s, uint64_t now_ms)
{
	char key_id[21], secret[41], expiration[32];
	const char *name = strrchr(role_arn, '/') + 1;
	char *principal =
		xasprintf("arn:aws:sts::%.12s:assumed-role/%s/%s", role_arn + 13, name, session);
	uint64_t expiry_ms = now_ms + (uint64_t)duration_s * 1000u;
	char *token = issue_token(auth, principal, expiry_ms);
	time_t t = (time_t)(expiry_ms / 1000);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(expiration, sizeof(expiration), "%Y-%m-%dT%H:%M:%SZ", &tm);
	keys_of_token(auth, token, key_id, secret);
	(void)buf_puts(b, "<Credentials>");
	xml_elem(b, "AccessKeyId", key_id);
	xml_elem(b, "SecretAccessKey", secret);
	xml_elem(b, "SessionToken", token);
	xml_elem(b, "Expiration", expiration);
	(void)buf_puts(b, "</Credentials><AssumedRoleUser>");
	xml_elem(b, "Arn", principal);
	(void)buf_printf(b, "<AssumedRoleId>AROAQSCALEEMULATOR:%s</AssumedRoleId>", session);
	(void)buf_puts(b, "</AssumedRoleUser>");
	free(principal);
	free(token);
}

/* AssumeRole or AssumeRoleWithWebIdentity. */
static int assume(const struct emulate_auth *auth, const struct emulate_http_request *req,
	const char *action, uint64_t now_ms, struct emulate_error *err, struct buf *b)
{
	char *role_arn = NULL, *session = NULL, *token = NULL;
	long duration_s = 0;
	bool web = strcmp(action, "AssumeRoleWithWebIdentity") == 0;
	int r = read_role_form(req, err, &role_arn, &session, &duration_s);

	if (r == 0 && web &&
		(sts_form_get(req->body, req->body_len, "WebIdentityToken", &token) < 0 ||
			strlen(token) < 4))
		r = sts_fail(err, 400, "InvalidIdentityToken",
			"The web identity token that was passed could not be validated by AWS.");
	if (r == 0) {
		(void)buf_printf(b, "<%sResponse xmlns=\"" STS_NS "\"><%sResult>", action, action);
		put_session(b, auth, role_arn, session, duration_s, now_ms);
		if (web)
			(void)buf_puts(b,
				"<SubjectFromWebIdentityToken>qscale-emulator"
				"</SubjectFromWebIdentityToken>");
		(void)buf_printf(b,
			"</%sResult><ResponseMetadata><RequestId>00000000-0000-4000-8000-"
			"000000000001</RequestId></ResponseMetadata></%sResponse>",
			action, action);
	}
	free(role_arn);
	free(session);
	secure_free_str(token);
	return r;
}

/* See emulate_priv.h. */
void emulate_sts_dispatch(struct world *world, const struct emulate_auth *auth,
	const struct emulate_http_request *req, uint64_t now_ms, struct emulate_reply *reply)
{
	const struct scenario *sc = world_scenario(world);
	struct emulate_error err = {0};
	char *action = NULL, *version = NULL;
	struct buf b;
	int r;

	memset(reply, 0, sizeof(*reply));
	buf_init(&b, 64 * 1024);
	if (sts_form_get(req->body, req->body_len, "Action", &action) < 0)
		r = sts_fail(&err, 400, "MissingAction", "Missing Action");
	else if (sts_form_get(req->body, req->body_len, "Version", &version) < 0 ||
		strcmp(version, STS_API_VERSION) != 0)
		r = sts_fail(&err, 400, "InvalidAction",
			"Could not find operation %s for version %s", action,
			version != NULL ? version : "NO_VERSION_SPECIFIED");
	else if (strcmp(action, "GetCallerIdentity") == 0) {
		char arn[512], user_id[256];
		caller_of(auth, req, sc->account_id, now_ms, arn, user_id);
		(void)buf_puts(&b,
			"<GetCallerIdentityResponse xmlns=\"" STS_NS
			"\"><GetCallerIdentityResult>");
		xml_elem(&b, "Arn", arn);
		xml_elem(&b, "UserId", user_id);
		xml_elem(&b, "Account", sc->account_id);
		(void)buf_puts(&b,
			"</GetCallerIdentityResult><ResponseMetadata><RequestId>"
			"00000000-0000-4000-8000-000000000002</RequestId>"
			"</ResponseMetadata></GetCallerIdentityResponse>");
		r = 0;
	} else if (strcmp(action, "AssumeRole") == 0 ||
		strcmp(action, "AssumeRoleWithWebIdentity") == 0)
		r = assume(auth, req, action, now_ms, &err, &b);
	else
		r = sts_fail(&err, 400, "InvalidAction",
			"Could not find operation %s for version %s", action, version);
	if (r == 0)
		reply_xml(reply, &b);
	else {
		buf_finish(&b);
		emulate_sts_error(&err, reply);
	}
	free(action);
	free(version);
}

/* Query parameter key of a GET URI, decoded; NULL when absent. */
static char *query_param(const char *uri, const char *key)
{
	const char *q = strchr(uri, '?');
	char *v = NULL;

	if (q == NULL || sts_form_get(q + 1, strlen(q + 1), key, &v) < 0)
		return NULL;
	return v;
}

/* See emulate_priv.h. */
void emulate_sso_dispatch(const struct emulate_auth *auth, const struct emulate_http_request *req,
	uint64_t now_ms, struct emulate_reply *reply)
{
	const char *bearer = emulate_request_header(req, "x-amz-sso_bearer_token");
	char *account = query_param(req->uri, "account_id");
	char *role = query_param(req->uri, "role_name");
	struct buf b;

	memset(reply, 0, sizeof(*reply));
	buf_init(&b, 64 * 1024);
	reply->content_type = "application/json";
	if (bearer == NULL || strlen(bearer) < 4) {
		(void)buf_puts(&b,
			"{\"__type\":\"UnauthorizedException\",\"message\":\"Session "
			"token not found or invalid\"}");
		reply->http_status = 401;
		snprintf(reply->error_code, sizeof(reply->error_code), "UnauthorizedException");
	} else if (account == NULL || role == NULL || strspn(account, "0123456789") != 12 ||
		strlen(account) != 12) {
		(void)buf_puts(&b,
			"{\"__type\":\"InvalidRequestException\",\"message\":\"bad "
			"account_id or role_name\"}");
		reply->http_status = 400;
		snprintf(reply->error_code, sizeof(reply->error_code), "InvalidRequestException");
	} else if (strncmp(role, "denied", 6) == 0) {
		(void)buf_puts(&b, "{\"__type\":\"ForbiddenException\",\"message\":\"No access\"}");
		reply->http_status = 403;
		snprintf(reply->error_code, sizeof(reply->error_code), "ForbiddenException");
	} else {
		char key_id[21], secret[41];
		char *principal = xasprintf(
			"arn:aws:sts::%s:assumed-role/AWSReservedSSO_%s/qscale-sso", account, role);
		uint64_t expiry_ms = now_ms + 3600u * 1000u;
		char *token = issue_token(auth, principal, expiry_ms);
		keys_of_token(auth, token, key_id, secret);
		(void)buf_printf(&b,
			"{\"roleCredentials\":{\"accessKeyId\":\"%s\",\"secretAccessKey\":\"%s\","
			"\"sessionToken\":\"%s\",\"expiration\":%" PRIu64 "}}",
			key_id, secret, token, expiry_ms);
		reply->http_status = 200;
		free(principal);
		free(token);
	}
	reply->body_len = b.len;
	reply->body = buf_steal(&b);
	free(account);
	free(role);
}
