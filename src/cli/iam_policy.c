/*
 * `qscale iam-policy [-c FILE] [--account-id ID] [--read-only]`: print the
 * least-privilege IAM policy document the configured policies need, for the
 * role qscale runs as (on ECS Anywhere hosts, the hybrid activation's role;
 * with a role profile, the role it assumes). `--assume-role ARN` prints the
 * caller's side of a role profile instead: sts:AssumeRole on that role.
 */
#include <stdio.h>
#include <stdlib.h>

#include "qscale/aws_endpoint.h"
#include "qscale/aws_settings.h"
#include "qscale/cli.h"
#include "qscale/diag.h"
#include "qscale/iam_policy.h"
#include "qscale/policy.h"

/* qscale iam-policy: load the config, resolve the region, print the document. */
int command_iam_policy(int argc, char **argv)
{
	struct iam_policy_input in = {0};
	const char *assume_role = NULL;
	const struct cli_option options[] = {
		{"account-id", "ID",
			"account of the ECS resources (default: aws.account_id,\nelse the "
			"account the queue URLs name)",
			NULL, &in.account_id},
		{"read-only", NULL, "leave out ecs:UpdateService (dry-run, plan, doctor)",
			&in.read_only, NULL},
		{"assume-role", "ARN",
			"print instead what the caller of a role profile needs:\nsts:AssumeRole on "
			"ARN (the role's trust policy must\nalso name the caller; the main "
			"document goes on ARN)",
			NULL, &assume_role},
		{NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_command iam = {
		.name = "iam-policy",
		.synopsis = "[--account-id ID] [--read-only] [--assume-role ARN]",
		.description =
			"Print the least-privilege IAM policy (JSON) for the configured queues,\n"
			"clusters and services: exact ARNs, except ecs:DescribeTaskDefinition,\n"
			"which AWS only grants on \"*\".\n",
		.exit_status = "The region is the config's, else AWS_REGION, else "
			       "AWS_DEFAULT_REGION, else the AWS\nprofile's region.\n"
			       "Exit status: 0 printed, 2 usage or configuration error.\n",
		.options = options,
	};
	const char *path = NULL;
	struct qscale_config *config;
	char region[AWS_REGION_MAX];
	char error[IAM_POLICY_ERROR_MAX];
	char *doc = NULL;
	int rc = cli_parse(&iam, argc, argv, &path);

	if (rc != CLI_CONTINUE)
		return rc;
	if (assume_role != NULL) {
		if (iam_policy_assume_role(assume_role, &doc, error) < 0) {
			fprintf(stderr, "qscale iam-policy: %s\n", error);
			return EXIT_USAGE;
		}
		fputs(doc, stdout);
		free(doc);
		return fflush(stdout) == 0 ? 0 : 1;
	}
	rc = cli_load_config(path, &config);
	if (rc != 0)
		return rc;
	/* The region as the daemon resolves it: the profile's too, "~" expanded. */
	struct aws_settings_input sin = {.region = config->region, .profile = config->aws.profile};
	struct aws_settings settings;
	struct diag diag = {0};
	if (aws_settings_load(&sin, &settings, &diag) < 0) {
		fprintf(stderr, "qscale iam-policy: ");
		diag_print(&diag, stderr);
		qscale_config_destroy(config);
		return EXIT_USAGE;
	}
	snprintf(region, sizeof(region), "%s", settings.region);
	aws_settings_finish(&settings);
	in.config = config;
	in.region = region;
	if (iam_policy_build(&in, &doc, error) < 0) {
		fprintf(stderr, "qscale iam-policy: %s: %s\n", config->file, error);
		qscale_config_destroy(config);
		return EXIT_USAGE;
	}
	fputs(doc, stdout);
	free(doc);
	qscale_config_destroy(config);
	return fflush(stdout) == 0 ? 0 : 1;
}
