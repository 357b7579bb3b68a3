/*
 * `qscale iam-policy [-c FILE] [--account-id ID] [--read-only]`: print the
 * least-privilege IAM policy document the configured policies need, for the
 * role qscale runs as (on ECS Anywhere hosts, the hybrid activation's role).
 */
#include <stdio.h>
#include <stdlib.h>

#include "qscale/aws_endpoint.h"
#include "qscale/cli.h"
#include "qscale/iam_policy.h"
#include "qscale/policy.h"

/* qscale iam-policy: load the config, resolve the region, print the document. */
int command_iam_policy(int argc, char **argv)
{
	struct iam_policy_input in = {0};
	const struct cli_option options[] = {
		{"account-id", "ID",
			"account of the ECS resources (default: aws.account_id,\nelse the "
			"account the queue URLs name)",
			NULL, &in.account_id},
		{"read-only", NULL, "leave out ecs:UpdateService (dry-run, plan, doctor)",
			&in.read_only, NULL},
		{NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_command iam = {
		.name = "iam-policy",
		.synopsis = "[--account-id ID] [--read-only]",
		.description =
			"Print the least-privilege IAM policy (JSON) for the configured queues,\n"
			"clusters and services: exact ARNs, except ecs:DescribeTaskDefinition,\n"
			"which AWS only grants on \"*\".\n",
		.exit_status = "The region is the config's, else AWS_REGION, else "
			       "AWS_DEFAULT_REGION.\nExit status: 0 printed, 2 usage or "
			       "configuration error.\n",
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
	rc = cli_load_config(path, &config);
	if (rc != 0)
		return rc;
	if (aws_region_resolve(config->region, aws_env_system, NULL, NULL, region) < 0) {
		fprintf(stderr,
			"qscale iam-policy: no valid region: set region in %s, AWS_REGION "
			"or AWS_DEFAULT_REGION\n",
			config->file);
		qscale_config_destroy(config);
		return EXIT_USAGE;
	}
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
