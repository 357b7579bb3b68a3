/*
 * `qscale run [-c FILE] [--dry-run]`: parse the options, load the
 * configuration, and hand it to the daemon (src/daemon/run.c).
 */
#include <stdbool.h>
#include <stdio.h>

#include "qscale/cli.h"
#include "qscale/policy.h"
#include "qscale/run.h"

int command_run(int argc, char **argv)
{
	bool dry_run = false;
	const struct cli_option options[] = {
		{"dry-run", NULL, "decide and log, never call UpdateService", &dry_run, NULL},
		{NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_command run = {
		.name = "run",
		.synopsis = "[--dry-run]",
		.description =
			"Run the autoscaler: every policy's observe, decide, act cycle, until\n"
			"SIGTERM. SIGHUP reloads the configuration and the policies.\n",
		.exit_status = "Exit status: 0 stopped by SIGTERM, 1 runtime failure, 2 usage or\n"
			       "configuration error (printed as file:line:column: message).\n",
		.options = options,
	};
	const char *path = NULL;
	struct qscale_config *config;
	int rc = cli_parse(&run, argc, argv, &path);

	if (rc != CLI_CONTINUE)
		return rc;
	path = qscale_config_path(path);
	rc = cli_load_config(path, &config);
	return rc != 0 ? rc : run_daemon(path, config, dry_run);
}
