/*
 * `qscale run [-c FILE] [--dry-run]`: parse the options, load the
 * configuration, and hand it to the daemon (src/daemon/run.c).
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>

#include "qscale/cli.h"
#include "qscale/policy.h"
#include "qscale/run.h"

/* The option summary of `qscale run`. */
static void run_usage(FILE *out)
{
	fprintf(out,
		"usage: qscale run [-c FILE] [--dry-run]\n\n"
		"Run the autoscaler: every policy's observe, decide, act cycle, until\n"
		"SIGTERM. SIGHUP reloads the configuration and the policies.\n\n"
		"  -c, --config FILE  the main file (default: $QSCALE_CONFIG, else %s)\n"
		"      --dry-run      decide and log, never call UpdateService\n"
		"  -h, --help         show this help\n\n"
		"Exit status: 0 stopped by SIGTERM, 1 runtime failure, 2 usage or\n"
		"configuration error (printed as file:line:column: message).\n",
		qscale_config_path(NULL));
}

int command_run(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"dry-run", no_argument, NULL, 'n'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct qscale_config *config;
	const char *path = NULL;
	bool dry_run = false;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'n':
			dry_run = true;
			break;
		case 'h':
			run_usage(stdout);
			return 0;
		default:
			run_usage(stderr);
			return EXIT_USAGE;
		}
	}
	rc = cli_no_operands("run", argc, argv, run_usage);
	if (rc == 0) {
		path = qscale_config_path(path);
		rc = cli_load_config(path, &config);
	}
	return rc != 0 ? rc : run_daemon(path, config, dry_run);
}
