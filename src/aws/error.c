/*
 * AWS error responses: pulling the error code and message out of a JSON 1.0 /
 * 1.1 error body and its headers, and the one classifier that decides what a
 * failure means (transient, throttling, clock skew, auth, fatal). Pure.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "qscale/aws_error.h"
#include "qscale/json_tree.h"
#include "qscale/xalloc.h"

/* Error bodies are small; anything larger is not parsed as JSON. */
#define ERROR_BODY_PARSE_MAX (64u * 1024u)

static const char *const throttling_codes[] = {
	"Throttling",
	"ThrottlingException",
	"ThrottledException",
	"RequestThrottledException",
	"TooManyRequestsException",
	"ProvisionedThroughputExceededException",
	"TransactionInProgressException",
	"RequestLimitExceeded",
	"BandwidthLimitExceeded",
	"LimitExceededException",
	"RequestThrottled",
	"SlowDown",
	"PriorRequestNotComplete",
	"EC2ThrottledException",
};

static const char *const transient_codes[] = {
	"RequestTimeout",
	"RequestTimeoutException",
	"InternalError",
	"InternalFailure",
	"ServiceUnavailable",
	"ServerException",
};

/* Credentials rejected or expired: the provider is told to re-read, the call retried once. */
static const char *const auth_codes[] = {
	"ExpiredToken",
	"ExpiredTokenException",
	"UnrecognizedClientException",
	"InvalidClientTokenId",
	"InvalidSignatureException",
	"SignatureDoesNotMatch",
	"InvalidAccessKeyId",
	"IncompleteSignature",
	"MissingAuthenticationToken",
	"InvalidToken",
};

/* Codes that mean "your clock is off" whatever the skew turns out to be. */
static const char *const clock_skew_codes[] = {
	"AuthFailure",
	"RequestExpired",
	"RequestInTheFuture",
	"RequestTimeTooSkewed",
};

/*
 * Codes a server may answer when the signature time is off; the client
 * retries them only when the Date header shows a skew of 4 min or more.
 */
static const char *const skew_capable_codes[] = {
	"AccessDeniedException",
	"AuthFailure",
	"InvalidSignatureException",
	"RequestExpired",
	"RequestInTheFuture",
	"RequestTimeTooSkewed",
	"SignatureDoesNotMatch",
};

/* Whether code is one of n names. */
static bool in_list(const char *code, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(code, list[i]) == 0)
			return true;
	return false;
}

#define IN(code, list) in_list((code), (list), sizeof(list) / sizeof((list)[0]))

/* See qscale/aws_client.h. */
bool aws_error_is_skew_capable(const char *code)
{
	return code != NULL && IN(code, skew_capable_codes);
}

/* See qscale/aws_client.h. */
enum aws_error_class aws_error_classify(long http_status, const char *code, int transport_err)
{
	if (transport_err != 0)
		return transport_err == -E2BIG ? AWS_ERROR_FATAL : AWS_ERROR_TRANSIENT;
	if (code == NULL)
		code = "";
	if (http_status >= 200 && http_status < 300 && code[0] == '\0')
		return AWS_ERROR_NONE;
	/* By code first: SQS's RequestThrottled arrives as a 403. */
	if (IN(code, throttling_codes))
		return AWS_ERROR_THROTTLING;
	if (http_status == 429)
		return AWS_ERROR_THROTTLING;
	if (IN(code, transient_codes))
		return AWS_ERROR_TRANSIENT;
	if (IN(code, auth_codes))
		return AWS_ERROR_AUTH;
	if (IN(code, clock_skew_codes))
		return AWS_ERROR_CLOCK_SKEW;
	if (http_status >= 500 && http_status <= 599)
		return AWS_ERROR_TRANSIENT;
	if (http_status == 401)
		return AWS_ERROR_AUTH;
	return AWS_ERROR_FATAL;
}

/* Copy at most max-1 printable ASCII bytes of src[0..len) into dst. */
static void copy_clean(char *dst, size_t max, const char *src, size_t len)
{
	size_t j = 0;

	for (size_t i = 0; i < len && j + 1 < max; i++) {
		unsigned char c = (unsigned char)src[i];
		if (c == '\n' || c == '\r' || c == '\t')
			c = ' ';
		if (c < 0x20 || c == 0x7f)
			continue;
		dst[j++] = (char)c;
	}
	dst[j] = '\0';
}

/* The SDKs' sanitising of an error type: cut at the first ':', keep what follows '#'. */
static void set_code(char *dst, const char *raw)
{
	size_t len = strcspn(raw, ":");
	const char *hash = memchr(raw, '#', len);

	if (hash != NULL) {
		len -= (size_t)(hash + 1 - raw);
		raw = hash + 1;
	}
	copy_clean(dst, AWS_ERROR_CODE_MAX, raw, len);
	/* Codes are identifiers; a space means junk, keep what precedes it. */
	dst[strcspn(dst, " ")] = '\0';
}

/* A string member of object, or NULL. */
static const char *member_string(yajl_val object, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(object, path, yajl_t_string);

	return v != NULL ? YAJL_GET_STRING(v) : NULL;
}

/* Fill code and message from a JSON error body; false when it is not a JSON object. */
static bool parse_json_body(const char *body, size_t body_len, struct aws_error *out)
{
	static const struct json_limits limits = {
		.max_bytes = ERROR_BODY_PARSE_MAX,
		.max_depth = 32,
		.max_items = 1000,
	};
	char error[JSON_TREE_ERROR_MAX];
	yajl_val root;

	if (body_len == 0 || json_tree_parse(body, body_len, &limits, &root, error) < 0)
		return false;
	const char *type = member_string(root, "__type");
	if (type == NULL)
		type = member_string(root, "code");
	if (type == NULL)
		type = member_string(root, "Code");
	if (type != NULL)
		set_code(out->code, type);
	const char *message = member_string(root, "message");
	if (message == NULL)
		message = member_string(root, "Message");
	if (message != NULL)
		copy_clean(out->message, sizeof(out->message), message, strlen(message));
	json_tree_free(root);
	return true;
}

/* See qscale/aws_client.h. */
void aws_error_parse(long http_status, const char *query_error_header,
	const char *error_type_header, const char *body, size_t body_len, struct aws_error *out)
{
	memset(out, 0, sizeof(*out));
	out->http_status = http_status;
	if (body == NULL)
		body_len = 0;
	bool json = parse_json_body(body, body_len, out);
	if (out->code[0] == '\0' && error_type_header != NULL && error_type_header[0] != '\0')
		set_code(out->code, error_type_header);
	/* Query-compatible services: "Code;Sender" names the legacy code, which wins. */
	if (query_error_header != NULL) {
		const char *semi = strchr(query_error_header, ';');
		if (semi != NULL && semi != query_error_header && strchr(semi + 1, ';') == NULL)
			copy_clean(out->code, sizeof(out->code), query_error_header,
				(size_t)(semi - query_error_header));
	}
	if (out->message[0] == '\0') {
		if (!json && body_len > 0)
			copy_clean(out->message, sizeof(out->message), body,
				body_len < 200 ? body_len : 200);
		if (out->message[0] == '\0')
			snprintf(
				out->message, sizeof(out->message), "http status %ld", http_status);
	}
	out->error_class = aws_error_classify(http_status, out->code, 0);
	if (out->error_class == AWS_ERROR_NONE)
		out->error_class =
			AWS_ERROR_FATAL; /* an error body with a 2xx is still a failure */
	out->retryable =
		out->error_class == AWS_ERROR_TRANSIENT || out->error_class == AWS_ERROR_THROTTLING;
	/* -EACCES means "not allowed": credentials rejected or access denied, not a 403 throttle.
	 */
	bool denied = (http_status == 401 || http_status == 403) &&
		(out->error_class == AWS_ERROR_FATAL || out->error_class == AWS_ERROR_CLOCK_SKEW);
	out->err = out->error_class == AWS_ERROR_AUTH || denied ? -EACCES : -EIO;
}

/* See qscale/aws_client.h. */
void aws_error_from_transport(int err, const char *what, struct aws_error *out)
{
	memset(out, 0, sizeof(*out));
	out->err = err;
	copy_clean(out->message, sizeof(out->message), what != NULL ? what : "",
		what != NULL ? strlen(what) : 0);
	out->error_class = aws_error_classify(0, "", err);
	out->retryable = out->error_class == AWS_ERROR_TRANSIENT;
}

/* See qscale/aws_client.h. */
const char *aws_error_class_name(enum aws_error_class c)
{
	switch (c) {
	case AWS_ERROR_NONE:
		return "none";
	case AWS_ERROR_TRANSIENT:
		return "transient";
	case AWS_ERROR_THROTTLING:
		return "throttling";
	case AWS_ERROR_CLOCK_SKEW:
		return "clock_skew";
	case AWS_ERROR_AUTH:
		return "auth";
	case AWS_ERROR_FATAL:
		return "fatal";
	}
	return "unknown";
}
