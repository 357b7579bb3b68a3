/*
 * The emulator's SigV4 verifier: parse the Authorization header, check the
 * credential scope and the access key, rebuild the request from the signed
 * header list, sign it again with the configured secret and compare in
 * constant time. Errors are the ones AWS answers with. Pure: time is an
 * argument.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <event2/http.h>
#include <openssl/crypto.h>

#include "emulate_priv.h"
#include "qscale/emulate.h"
#include "qscale/sigv4.h"
#include "qscale/xalloc.h"

/* How far a request's X-Amz-Date may stray from the emulator's clock. */
#define SKEW_MAX_MS (15ULL * 60 * 1000)

/* Most headers a request may sign. */
#define SIGNED_MAX 64

#define SIG_MISMATCH \
	"The request signature we calculated does not match the signature you provided. " \
	"Check your AWS Secret Access Key and signing method. Consult the service " \
	"documentation for details."

enum auth_failure {
	AUTH_MISSING,
	AUTH_INCOMPLETE,
	AUTH_UNKNOWN_KEY,
	AUTH_SIGNATURE,
	AUTH_EXPIRED,
	AUTH_TOKEN_EXPIRED,
};

/* The same failures in STS's Query dialect. */
static void auth_fail_sts(enum auth_failure why, struct emulate_error *err, const char *message)
{
	static const struct {
		int status;
		const char *code;
	} codes[] = {
		[AUTH_MISSING] = {403, "MissingAuthenticationToken"},
		[AUTH_INCOMPLETE] = {400, "IncompleteSignature"},
		[AUTH_UNKNOWN_KEY] = {403, "InvalidClientTokenId"},
		[AUTH_SIGNATURE] = {403, "SignatureDoesNotMatch"},
		[AUTH_EXPIRED] = {403, "SignatureDoesNotMatch"},
		[AUTH_TOKEN_EXPIRED] = {403, "ExpiredToken"},
	};

	emulate_error_set(err, codes[why].status, codes[why].code, NULL, "%s", message);
}

/* Fill err for a failure, in the service's dialect (SQS adds the query code). */
static void auth_fail(enum emulate_service service, enum auth_failure why,
	struct emulate_error *err, const char *message)
{
	bool sqs = service == EMULATE_SERVICE_SQS;
	const char *ns = sqs ? "com.amazon.coral.service#" : "";
	char type[96];

	if (service == EMULATE_SERVICE_STS) {
		auth_fail_sts(why, err, message);
		return;
	}
	switch (why) {
	case AUTH_MISSING:
		snprintf(type, sizeof(type), "%sMissingAuthenticationTokenException", ns);
		emulate_error_set(err, sqs ? 403 : 400, type,
			sqs ? "MissingClientTokenId;Sender" : NULL, "%s", message);
		break;
	case AUTH_INCOMPLETE:
		snprintf(type, sizeof(type), "%sIncompleteSignatureException", ns);
		emulate_error_set(
			err, 400, type, sqs ? "IncompleteSignature;Sender" : NULL, "%s", message);
		break;
	case AUTH_UNKNOWN_KEY:
		snprintf(type, sizeof(type), "%sUnrecognizedClientException", ns);
		emulate_error_set(err, sqs ? 403 : 400, type,
			sqs ? "InvalidClientTokenId;Sender" : NULL, "%s", message);
		break;
	case AUTH_SIGNATURE:
		snprintf(type, sizeof(type), "%sInvalidSignatureException", ns);
		emulate_error_set(
			err, 403, type, sqs ? "SignatureDoesNotMatch;Sender" : NULL, "%s", message);
		break;
	case AUTH_EXPIRED:
		snprintf(type, sizeof(type), "%sInvalidSignatureException", ns);
		emulate_error_set(
			err, 403, type, sqs ? "RequestExpired;Sender" : NULL, "%s", message);
		break;
	case AUTH_TOKEN_EXPIRED:
		snprintf(type, sizeof(type), "%sExpiredTokenException", ns);
		emulate_error_set(err, sqs ? 403 : 400, type, sqs ? "ExpiredToken;Sender" : NULL,
			"%s", message);
		break;
	}
}

const char *emulate_request_header(const struct emulate_http_request *req, const char *name)
{
	for (size_t i = 0; i < req->n_headers; i++) {
		if (strcasecmp(req->headers[i].name, name) == 0)
			return req->headers[i].value;
	}
	return NULL;
}

/* Split "a;b;c" into names; -EINVAL for an empty name or too many. */
static int split_signed(char *list, char **names, size_t *n_out)
{
	size_t n = 0;
	char *save = NULL;

	if (list[0] == '\0' || list[strlen(list) - 1] == ';')
		return -EINVAL;
	for (char *tok = strtok_r(list, ";", &save); tok != NULL;
		tok = strtok_r(NULL, ";", &save)) {
		if (n == SIGNED_MAX)
			return -EINVAL;
		names[n++] = tok;
	}
	*n_out = n;
	return 0;
}

/* Whether name is in the signed list. */
static bool is_signed(char *const *names, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		if (strcasecmp(names[i], name) == 0)
			return true;
	}
	return false;
}

/* Split uri into its decoded path (caller frees) and its raw query (points into uri). */
static int split_uri(const char *uri, char **path_out, const char **query_out)
{
	const char *q = strchr(uri, '?');
	size_t len = q != NULL ? (size_t)(q - uri) : strlen(uri);
	char *raw = xstrndup(uri, len);
	size_t out_len = 0;
	char *path = evhttp_uridecode(raw, 0, &out_len);

	free(raw);
	if (path == NULL || out_len != strlen(path) || path[0] != '/') {
		free(path);
		return -EINVAL;
	}
	*path_out = path;
	*query_out = q != NULL ? q + 1 : "";
	return 0;
}

/* Format a time for messages; "?" when out of range. */
static void amz_date_or_mark(uint64_t ms, char out[17])
{
	if (sigv4_format_amz_date(ms, out) < 0)
		snprintf(out, 17, "?");
}

/* Re-sign the request from its signed headers and compare with the given signature. */
static int check_signature(const char *secret, const struct sigv4_authorization *a,
	const struct emulate_http_request *req, uint64_t request_ms)
{
	char *list = xstrdup(a->signed_headers);
	char *names[SIGNED_MAX];
	size_t n_names = 0;
	struct sigv4_header *headers = NULL;
	size_t n_headers = 0;
	char *path = NULL;
	const char *query = "";
	struct sigv4_signed out = {0};
	int r = -EACCES;

	if (split_signed(list, names, &n_names) < 0 || !is_signed(names, n_names, "host") ||
		split_uri(req->uri, &path, &query) < 0)
		goto out;
	headers = xcalloc(req->n_headers + 1, sizeof(*headers));
	for (size_t i = 0; i < req->n_headers; i++) {
		/* The signer adds X-Amz-Date itself from the time given. */
		if (strcasecmp(req->headers[i].name, "x-amz-date") == 0 ||
			!is_signed(names, n_names, req->headers[i].name))
			continue;
		headers[n_headers].name = req->headers[i].name;
		headers[n_headers].value = req->headers[i].value;
		n_headers++;
	}
	struct sigv4_request sreq = {
		.method = req->method,
		.path = path,
		.query = query,
		.headers = headers,
		.n_headers = n_headers,
		.body = req->body,
		.body_len = req->body_len,
	};
	struct sigv4_credentials creds = {
		.access_key_id = a->access_key_id,
		.secret_access_key = secret,
		.session_token = NULL,
	};
	struct sigv4_params params = {
		.region = a->region,
		.service = a->service,
		.time_ms = request_ms,
		.normalize_path = true,
		.sign_body = false,
		.omit_session_token = false,
	};
	if (sigv4_sign(&sreq, &creds, &params, NULL, &out) < 0)
		goto out;
	/* Every header the client signed must be one we signed too. */
	if (strcasecmp(out.signed_headers, a->signed_headers) != 0)
		goto out;
	size_t len = strlen(out.signature);
	if (strlen(a->signature) == len && CRYPTO_memcmp(out.signature, a->signature, len) == 0)
		r = 0;
out:
	sigv4_signed_finish(&out);
	free(headers);
	free(path);
	free(list);
	return r;
}

/*
 * The configured key, or a sub-key: the configured id followed by 1 to 16
 * capital letters or digits, signed with the same secret. Sub-keys let a
 * test tell several clients apart in the emulator's records.
 */
static bool key_known(const struct emulate_auth *auth, const char *key_id)
{
	size_t n = strlen(auth->access_key_id), len = strlen(key_id);

	if (strncmp(key_id, auth->access_key_id, n) != 0 || len > n + 16)
		return false;
	for (size_t i = n; i < len; i++) {
		if (!((key_id[i] >= 'A' && key_id[i] <= 'Z') ||
			    (key_id[i] >= '0' && key_id[i] <= '9')))
			return false;
	}
	return true;
}

void emulate_auth_key_id(const struct emulate_http_request *req, char *out, size_t size)
{
	const char *value = emulate_request_header(req, "authorization");
	const char *p = value != NULL ? strstr(value, "Credential=") : NULL;
	size_t n = 0;

	if (p != NULL) {
		p += strlen("Credential=");
		n = strcspn(p, "/, ");
	}
	snprintf(out, size, "%.*s", (int)(n < size ? n : size - 1), p != NULL ? p : "");
}

/* The credential scope names the request's day, the emulator's region and the service. */
static bool scope_matches(const struct emulate_auth *auth, enum emulate_service service,
	const struct sigv4_authorization *a, const char *amz_date, struct emulate_error *err)
{
	const char *want_service = emulate_service_signing_name(service);
	char msg[256];

	if (strncmp(amz_date, a->date, 8) != 0 || strlen(a->date) != 8) {
		snprintf(msg, sizeof(msg),
			"Date in Credential scope does not match YYYYMMDD from ISO-8601 version of "
			"date from HTTP: '%.8s' != '%.8s', from '%s'.",
			a->date, amz_date, amz_date);
		auth_fail(service, AUTH_SIGNATURE, err, msg);
		return false;
	}
	if (strcmp(a->region, auth->region) != 0) {
		auth_fail(service, AUTH_SIGNATURE, err,
			"Credential should be scoped to a valid region. ");
		return false;
	}
	if (strcmp(a->service, want_service) != 0) {
		snprintf(msg, sizeof(msg), "Credential should be scoped to correct service: '%s'. ",
			want_service);
		auth_fail(service, AUTH_SIGNATURE, err, msg);
		return false;
	}
	return true;
}

/* The request's X-Amz-Date is within 15 minutes of now, as AWS requires. */
static bool time_within_skew(enum emulate_service service, const char *amz_date,
	uint64_t request_ms, uint64_t now_ms, struct emulate_error *err)
{
	char msg[256], now_text[17], edge_text[17];
	bool past = request_ms < now_ms;

	if (request_ms + SKEW_MAX_MS >= now_ms && request_ms <= now_ms + SKEW_MAX_MS)
		return true;
	amz_date_or_mark(now_ms, now_text);
	amz_date_or_mark(past ? now_ms - SKEW_MAX_MS : now_ms + SKEW_MAX_MS, edge_text);
	snprintf(msg, sizeof(msg), "Signature %s: %s is now %s than %s (%s %c 15 min.)",
		past ? "expired" : "not yet current", amz_date, past ? "earlier" : "later",
		edge_text, now_text, past ? '-' : '+');
	auth_fail(service, AUTH_EXPIRED, err, msg);
	return false;
}

int emulate_auth_verify(const struct emulate_auth *auth, enum emulate_service service,
	const struct emulate_http_request *req, uint64_t now_ms, struct emulate_error *err)
{
	const char *value = emulate_request_header(req, "authorization");
	const char *amz_date = emulate_request_header(req, "x-amz-date");
	struct sigv4_authorization a = {0};
	uint64_t request_ms = 0;
	int r = -EACCES;

	if (value == NULL) {
		auth_fail(service, AUTH_MISSING, err, "Missing Authentication Token");
		return -EACCES;
	}
	if (sigv4_authorization_parse(value, &a) < 0) {
		auth_fail(service, AUTH_INCOMPLETE, err,
			"Authorization header requires 'Credential', 'Signature' and "
			"'SignedHeaders' parameters.");
		return -EACCES;
	}
	if (amz_date == NULL || sigv4_parse_amz_date(amz_date, &request_ms) < 0) {
		auth_fail(service, AUTH_INCOMPLETE, err,
			"Authorization header requires existence of either a 'X-Amz-Date' or a "
			"'Date' header.");
		goto out;
	}
	/* The emulator's own key, or a session it issued through STS or SSO. */
	const char *secret = auth->secret_access_key;
	char session_secret[41], principal[512];
	/* The emulator's key ids (a suffix names one daemon of several) share its secret. */
	if (!key_known(auth, a.access_key_id)) {
		int s = emulate_session_lookup(auth, a.access_key_id,
			emulate_request_header(req, "x-amz-security-token"), now_ms, session_secret,
			principal);
		if (s == -EKEYEXPIRED) {
			auth_fail(service, AUTH_TOKEN_EXPIRED, err,
				"The security token included in the request is expired");
			goto out;
		}
		if (s < 0) {
			auth_fail(service, AUTH_UNKNOWN_KEY, err,
				"The security token included in the request is invalid.");
			goto out;
		}
		secret = session_secret;
	}
	if (!scope_matches(auth, service, &a, amz_date, err) ||
		!time_within_skew(service, amz_date, request_ms, now_ms, err))
		goto out;
	if (check_signature(secret, &a, req, request_ms) < 0) {
		auth_fail(service, AUTH_SIGNATURE, err, SIG_MISMATCH);
		goto out;
	}
	r = 0;
out:
	sigv4_authorization_finish(&a);
	return r;
}
