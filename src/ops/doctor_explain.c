/*
 * doctor's judgements, pure: from an operation and its AWS error to what the
 * operator must fix (the IAM action by name when a permission is missing),
 * and the thresholds for clock skew and credential age.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "qscale/aws_endpoint.h"
#include "qscale/doctor.h"

/* The word a level prints as. */
const char *doctor_level_name(enum doctor_level level)
{
	switch (level) {
	case DOCTOR_OK:
		return "ok";
	case DOCTOR_WARN:
		return "warn";
	case DOCTOR_FAIL:
		return "FAIL";
	}
	return "FAIL";
}

/* "<service>:<Operation>", as IAM names actions. */
void doctor_iam_action(enum aws_service service, const char *operation, char out[DOCTOR_ACTION_MAX])
{
	snprintf(out, DOCTOR_ACTION_MAX, "%s:%s", aws_service_name(service),
		operation != NULL ? operation : "?");
}

/* Whether c may appear in an IAM action name ("ecs:DescribeServices"). */
static bool action_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		c == ':' || c == '-' || c == '_';
}

/* An IAM denial, and which action it names. */
bool doctor_denied_action(enum aws_service service, const char *operation,
	const struct aws_error *error, char out[DOCTOR_ACTION_MAX])
{
	static const char marker[] = "not authorized to perform: ";
	const char *m;

	if (error == NULL)
		return false;
	m = strstr(error->message, marker);
	if (strncmp(error->code, "AccessDenied", 12) != 0 && m == NULL)
		return false;
	if (m != NULL) {
		const char *a = m + sizeof(marker) - 1;
		size_t n = 0;
		while (a[n] != '\0' && action_char(a[n]) && n + 1 < DOCTOR_ACTION_MAX)
			n++;
		/* Only a service:Action name is taken from the message. */
		if (n > 2 && memchr(a, ':', n) != NULL) {
			memcpy(out, a, n);
			out[n] = '\0';
			return true;
		}
	}
	doctor_iam_action(service, operation, out);
	return true;
}

/* Whether code is one of the names in list (NULL-terminated). */
static bool code_in(const char *code, const char *const *list)
{
	for (size_t i = 0; list[i] != NULL; i++) {
		if (strcmp(code, list[i]) == 0)
			return true;
	}
	return false;
}

/* Codes that name their cause: "<cause> (<code>)<what to do>". */
static const struct {
	const char *const *codes;
	const char *cause;
	const char *what_to_do;
} known_codes[] = {
	{(const char *const[]){
		 "UnrecognizedClientException", "InvalidClientTokenId", "InvalidAccessKeyId", NULL},
		"access key not recognised by AWS", ": wrong or deleted key id"},
	{(const char *const[]){"InvalidSignatureException", "SignatureDoesNotMatch", NULL},
		"signature rejected", ": wrong secret access key for this key id"},
	{(const char *const[]){"ExpiredToken", "ExpiredTokenException", NULL},
		"credentials expired", ": refresh them"},
	{(const char *const[]){"MissingAuthenticationTokenException", "MissingClientTokenId",
		 "MissingAuthenticationToken", "IncompleteSignatureException",
		 "IncompleteSignature", NULL},
		"request refused as unsigned", ": no usable credentials"},
	{(const char *const[]){
		 "AWS.SimpleQueueService.NonExistentQueue", "QueueDoesNotExist", NULL},
		"queue does not exist", ""},
	{(const char *const[]){"ClusterNotFoundException", NULL}, "cluster not found", ""},
	{(const char *const[]){"ServiceNotFoundException", "ServiceNotActiveException", NULL},
		"service not found or not active", ""},
};

/* A clock the service refused: its own codes, or a signature "expired". */
static bool clock_refused(const char *code, const char *msg)
{
	static const char *const bad_time[] = {
		"RequestExpired", "RequestTimeTooSkewed", "RequestInTheFuture", NULL};
	static const char *const bad_signature[] = {
		"InvalidSignatureException", "SignatureDoesNotMatch", NULL};

	return code_in(code, bad_time) ||
		(code_in(code, bad_signature) && strstr(msg, "Signature expired") != NULL);
}

/* From an AWS error to what the operator has to fix, most specific cause first. */
enum doctor_level doctor_explain(enum aws_service service, const char *operation,
	const struct aws_error *error, char *out, size_t len)
{
	char action[DOCTOR_ACTION_MAX];
	const char *code = error != NULL ? error->code : "";
	const char *msg = error != NULL ? error->message : "";

	if (error == NULL) {
		snprintf(out, len, "failed");
		return DOCTOR_FAIL;
	}
	if (error->http_status == 0 && error->code[0] == '\0' &&
		(error->err == -EIO || error->err == -ETIMEDOUT)) {
		snprintf(out, len, "unreachable: %s", msg[0] != '\0' ? msg : "no answer");
		return DOCTOR_FAIL;
	}
	if (error->err == -EPROTO && error->code[0] == '\0') {
		snprintf(
			out, len, "unexpected answer: %s", msg[0] != '\0' ? msg : "not understood");
		return DOCTOR_FAIL;
	}
	if (doctor_denied_action(service, operation, error, action)) {
		snprintf(out, len, "missing IAM permission %s (%s)", action, code);
		return DOCTOR_FAIL;
	}
	if (clock_refused(code, msg)) {
		snprintf(out, len,
			"request time rejected (%s): the clock is more than 15 min off; fix NTP",
			code);
		return DOCTOR_FAIL;
	}
	for (size_t i = 0; i < sizeof(known_codes) / sizeof(known_codes[0]); i++) {
		if (code_in(code, known_codes[i].codes)) {
			snprintf(out, len, "%s (%s)%s", known_codes[i].cause, code,
				known_codes[i].what_to_do);
			return DOCTOR_FAIL;
		}
	}
	if (error->error_class == AWS_ERROR_THROTTLING) {
		snprintf(out, len, "throttled (%s): the daemon backs off and retries", code);
		return DOCTOR_WARN;
	}
	if (error->error_class == AWS_ERROR_TRANSIENT && error->http_status >= 500) {
		snprintf(out, len, "server error HTTP %ld %s: the daemon retries",
			error->http_status, code);
		return DOCTOR_WARN;
	}
	if (code[0] != '\0')
		snprintf(out, len, "%s: %s", code, msg);
	else
		snprintf(out, len, "%s", msg[0] != '\0' ? msg : "failed");
	return DOCTOR_FAIL;
}

/* Date headers have whole seconds: only a skew of several is worth a warning. */
enum doctor_level doctor_judge_skew(int64_t offset_ms)
{
	int64_t a = offset_ms < 0 ? -offset_ms : offset_ms;

	return a < 5000 ? DOCTOR_OK : DOCTOR_WARN;
}

/* A duration in ms as "42 s", "12 min" or "3 h". */
static void span(uint64_t ms, char *out, size_t len)
{
	if (ms < 120000)
		snprintf(out, len, "%" PRIu64 " s", ms / 1000);
	else if (ms < 2 * 3600000)
		snprintf(out, len, "%" PRIu64 " min", ms / 60000);
	else
		snprintf(out, len, "%" PRIu64 " h", ms / 3600000);
}

/* File age first (rotation), then expiry; the worse of the two decides. */
enum doctor_level doctor_judge_credentials(uint64_t now_wall_ms, uint64_t expiry_wall_ms,
	bool temporary, uint64_t file_mtime_ms, char *out, size_t len)
{
	char a[32], b[32];
	enum doctor_level level = DOCTOR_OK;

	out[0] = '\0';
	if (file_mtime_ms != 0) {
		span(now_wall_ms > file_mtime_ms ? now_wall_ms - file_mtime_ms : 0, a, sizeof(a));
		if (temporary && now_wall_ms > file_mtime_ms + 3600000) {
			snprintf(out, len,
				"file written %s ago: temporary credentials not rotated for over "
				"an "
				"hour (is the SSM agent running?)",
				a);
			level = DOCTOR_WARN;
		} else {
			snprintf(out, len, "file written %s ago", a);
		}
	}
	size_t used = strlen(out);
	const char *sep = used > 0 ? "; " : "";
	if (expiry_wall_ms == 0) {
		snprintf(out + used, len - used, "%s%s", sep,
			temporary ? "no expiry given" : "no expiry");
	} else if (expiry_wall_ms <= now_wall_ms) {
		span(now_wall_ms - expiry_wall_ms, b, sizeof(b));
		snprintf(out + used, len - used, "%sexpired %s ago", sep, b);
		level = DOCTOR_FAIL;
	} else {
		span(expiry_wall_ms - now_wall_ms, b, sizeof(b));
		if (expiry_wall_ms - now_wall_ms < 15u * 60u * 1000u) {
			snprintf(out + used, len - used, "%sexpires in %s (a refresh is due)", sep,
				b);
			if (level < DOCTOR_WARN)
				level = DOCTOR_WARN;
		} else {
			snprintf(out + used, len - used, "%sexpires in %s", sep, b);
		}
	}
	return level;
}
