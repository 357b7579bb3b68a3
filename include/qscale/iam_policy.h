/*
 * The least-privilege IAM policy the configured policies need: which actions
 * qscale calls on which resources (AWS.md §4.2). Pure: a config, a region
 * and an account in, a JSON document out. `qscale iam-policy` prints it.
 */
#ifndef QSCALE_IAM_POLICY_H
#define QSCALE_IAM_POLICY_H

#include <stdbool.h>
#include <stddef.h>

struct qscale_config;

#define IAM_POLICY_ERROR_MAX 256

/* What the document is built for; strings are borrowed. */
struct iam_policy_input {
	const struct qscale_config *config;
	/* Region of the ECS resources (and of queues whose URL names none); required. */
	const char *region;
	/* Account of the ECS resources; NULL: the account every queue URL names. */
	const char *account_id;
	/* Leave out ecs:UpdateService (a dry-run daemon, plan and doctor only read). */
	bool read_only;
};

/*
 * Build the policy document as indented JSON ending in a newline (*out freed
 * by the caller). Resources are exact ARNs in config order without
 * duplicates, except ecs:DescribeTaskDefinition, which has no resource-level
 * permissions ("*"). -EINVAL with error filled when a queue URL names no
 * account, the ECS account is ambiguous or invalid, or the region is bad.
 */
int iam_policy_build(
	const struct iam_policy_input *in, char **out, char error[IAM_POLICY_ERROR_MAX]);

/*
 * The caller's side of a role profile: a document allowing sts:AssumeRole on
 * role_arn (arn:<partition>:iam::<12 digits>:role/<name>), for the identity
 * qscale starts from (the source profile's user, the instance or container
 * role). The document iam_policy_build prints belongs on the assumed role.
 * -EINVAL with error filled for anything but a role ARN.
 */
int iam_policy_assume_role(const char *role_arn, char **out, char error[IAM_POLICY_ERROR_MAX]);

/*
 * The region and account a queue URL names: https://sqs.<region>.amazonaws.com/
 * <account>/<name> (or any host the SQS helpers know); *region is "" for a
 * host that names none (a custom endpoint). -EINVAL unless the path is
 * /<12 digits>/<name>.
 */
int iam_queue_url_parts(const char *url, char region[64], char account[16], char name[96]);

/* The ARN partition of a region: "aws", "aws-cn" or "aws-us-gov". */
const char *iam_partition(const char *region);

#endif
