/*
 * `qscale plan [-c FILE] [--json]`: parse the options, load the
 * configuration, run one dry-run cycle (src/ops/plan.c).
 */
#include <stdbool.h>
#include <stdio.h>

#include "qscale/cli.h"
#include "qscale/log.h"
#include "qscale/plan.h"
#include "qscale/policy.h"

int command_plan(int argc, char **argv)
{
	bool json = false;
	const struct cli_option options[] = {
		{"json", NULL, "JSON instead of the table", &json, NULL},
		{NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_command plan = {
		.name = "plan",
		.synopsis = "[--json]",
		.description =
			"Observe every policy once against AWS and decide as `qscale run` would,\n"
			"without changing anything (UpdateService is never called). Prints each\n"
			"policy's backlog, local desired/running/capacity, burst desired/running,\n"
			"what it would set and why.\n",
		.exit_status = "Exit status: 0 every policy decided, 1 a policy was held (an "
			       "observation\nfailed; the table says which) or the cycle could not "
			       "run, 2 usage or\nconfiguration error.\n",
		.options = options,
	};
	const char *path = NULL;
	struct qscale_config *config;
	int rc = cli_parse(&plan, argc, argv, &path);

	if (rc != CLI_CONTINUE)
		return rc;
	rc = cli_load_config(path, &config);
	if (rc != 0)
		return rc;
	log_set_level(config->log.level);
	log_set_format(config->log.format);
	return plan_run(config, json);
}
