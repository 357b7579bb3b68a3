/*
 * `qscale iam-policy [-c FILE] [--account-id ID] [--read-only]`: print the
 * least-privilege IAM policy document the configured policies need, for the
 * role qscale runs as (on ECS Anywhere hosts, the hybrid activation's role).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "qscale/aws_endpoint.h"
#include "qscale/cli.h"
#include "qscale/iam_policy.h"
#include "qscale/policy.h"

/* The option summary of `qscale iam-policy`. */
static void iam_usage(FILE *out)
{
	fprintf(out,
		"usage: qscale iam-policy [-c FILE] [--account-id ID] [--read-only]\n\n"
		"Print the least-privilege IAM policy (JSON) for the configured queues,\n"
		"clusters and services: exact ARNs, except ecs:DescribeTaskDefinition,\n"
		"which AWS only grants on \"*\".\n\n"
		"  -c, --config FILE  the main file (default: $QSCALE_CONFIG, else %s)\n"
		"  --account-id ID    account of the ECS resources (default: aws.account_id,\n"
		"                     else the account the queue URLs name)\n"
		"  --read-only        leave out ecs:UpdateService (dry-run, plan, doctor)\n"
		"  -h, --help         show this help\n\n"
		"The region is the config's, else AWS_REGION, else AWS_DEFAULT_REGION.\n"
		"Exit status: 0 printed, 2 usage or configuration error.\n",
		qscale_config_path(NULL));
}

/* qscale iam-policy: load the config, resolve the region, print the document. */
int command_iam_policy(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"account-id", required_argument, NULL, 'a'},
		{"read-only", no_argument, NULL, 'r'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct iam_policy_input in = {0};
	const char *path = NULL;
	struct qscale_config *config;
	char region[AWS_REGION_MAX];
	char error[IAM_POLICY_ERROR_MAX];
	char *doc = NULL;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'a':
			in.account_id = optarg;
			break;
		case 'r':
			in.read_only = true;
			break;
		case 'h':
			iam_usage(stdout);
			return 0;
		default:
			iam_usage(stderr);
			return EXIT_USAGE;
		}
	}
	rc = cli_no_operands("iam-policy", argc, argv, iam_usage);
	if (rc == 0)
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
