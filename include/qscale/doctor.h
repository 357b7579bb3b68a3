/*
 * `qscale doctor`: checks of everything the daemon needs, one line each
 * with ok, warn or FAIL. The judgements are pure and live here: the IAM
 * action an operation needs, what an AWS error means for the operator
 * (a missing permission by its action name, a wrong secret, an unknown key,
 * a skewed clock...), how old credentials and how skewed clocks may be.
 * The command itself (src/ops/doctor.c) makes the calls.
 */
#ifndef QSCALE_DOCTOR_H
#define QSCALE_DOCTOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "qscale/aws_client.h"

enum doctor_level {
	DOCTOR_OK = 0,
	DOCTOR_WARN, /* works, but deserves a look */
	DOCTOR_FAIL, /* would stop the daemon (or a policy) from working */
};

/* "ok", "warn", "FAIL". */
const char *doctor_level_name(enum doctor_level level);

/* Room for an IAM action name ("ecs:DescribeContainerInstances"), NUL included. */
#define DOCTOR_ACTION_MAX 96

/* The IAM action operation needs: "sqs:GetQueueAttributes", "ecs:UpdateService". */
void doctor_iam_action(
	enum aws_service service, const char *operation, char out[DOCTOR_ACTION_MAX]);

/*
 * Whether error is an IAM denial (an AccessDenied* code, or a message "... is
 * not authorized to perform: <action> ..."); if so out gets the action
 * denied: the one the message names, else the operation's.
 */
bool doctor_denied_action(enum aws_service service, const char *operation,
	const struct aws_error *error, char out[DOCTOR_ACTION_MAX]);

/*
 * What a failed call means, as one line for the operator (written to out,
 * len bytes): unreachable, missing IAM permission <action>, access key not
 * recognised, wrong secret, expired token, skewed clock, not found,
 * throttled... Returns the level: throttling and server errors are warn,
 * everything else FAIL.
 */
enum doctor_level doctor_explain(enum aws_service service, const char *operation,
	const struct aws_error *error, char *out, size_t len);

/*
 * Judge a clock offset (server - local, ms) read from a Date header: under
 * 5 s ok, else warn (qscale corrects its signatures by the server's time
 * from 4 min on; AWS refuses requests more than 15 min off).
 */
enum doctor_level doctor_judge_skew(int64_t offset_ms);

/*
 * Judge credentials at now_wall_ms: expiry_wall_ms (0: none) within 15 min
 * or past is warn (a refresh is due) or FAIL (expired); a temporary set read
 * from a file (file_mtime_ms, 0 when not a file) not rewritten for more than
 * an hour is warn (the SSM agent on an ECS Anywhere host rotates it every
 * 30 minutes). Writes a short explanation to out.
 */
enum doctor_level doctor_judge_credentials(uint64_t now_wall_ms, uint64_t expiry_wall_ms,
	bool temporary, uint64_t file_mtime_ms, char *out, size_t len);

struct qscale_config;

/*
 * Run every check of config against AWS, print one line each to stdout, and
 * return the exit status: 0 nothing failed (warnings allowed), 1 a check failed.
 */
int doctor_run(const struct qscale_config *config);

#endif
