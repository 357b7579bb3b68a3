/*
 * `qscale plan [-c FILE] [--json]`: parse the options, load the
 * configuration, run one dry-run cycle (src/ops/plan.c).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "qscale/cli.h"
#include "qscale/log.h"
#include "qscale/plan.h"
#include "qscale/policy.h"

/* The option summary of `qscale plan`. */
static void plan_usage(FILE *out)
{
	fprintf(out,
		"usage: qscale plan [-c FILE] [--json]\n\n"
		"Observe every policy once against AWS and decide as `qscale run` would,\n"
		"without changing anything (UpdateService is never called). Prints each\n"
		"policy's backlog, local desired/running/capacity, burst desired/running,\n"
		"what it would set and why.\n\n"
		"  -c, --config FILE  the main file (default: $QSCALE_CONFIG, else %s)\n"
		"  --json             JSON instead of the table\n"
		"  -h, --help         show this help\n\n"
		"Exit status: 0 every policy decided, 1 a policy was held (an observation\n"
		"failed; the table says which) or the cycle could not run, 2 usage or\n"
		"configuration error.\n",
		qscale_config_path(NULL));
}

int command_plan(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"json", no_argument, NULL, 'j'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	struct qscale_config *config;
	bool json = false;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			plan_usage(stdout);
			return 0;
		default:
			plan_usage(stderr);
			return EXIT_USAGE;
		}
	}
	rc = cli_no_operands("plan", argc, argv, plan_usage);
	if (rc == 0)
		rc = cli_load_config(path, &config);
	if (rc != 0)
		return rc;
	log_set_level(config->log.level);
	log_set_format(config->log.format);
	return plan_run(config, json);
}
