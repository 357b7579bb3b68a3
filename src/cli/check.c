/*
 * `qscale check`: load the configuration and every policy exactly as `run`
 * would, and print what was understood with every default filled in (as YAML
 * that loads back to the same values), or the first error as
 * file:line:column: message.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "qscale/cli.h"
#include "qscale/policy.h"

/* The option summary of `qscale check`. */
static void check_usage(FILE *out)
{
	fprintf(out,
		"usage: qscale check [-c FILE]\n\n"
		"Validate the configuration and every policy, and print what qscale\n"
		"understood, with every default filled in.\n\n"
		"  -c, --config FILE  the main file (default: $QSCALE_CONFIG, else %s)\n"
		"  -h, --help         show this help\n\n"
		"Exit status: 0 valid, 2 invalid or unreadable (the first error is printed\n"
		"as file:line:column: message).\n",
		qscale_config_path(NULL));
}

int command_check(int argc, char **argv)
{
	static const struct option options[] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	const char *path = NULL;
	struct qscale_config *config;
	int c, rc;

	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		switch (c) {
		case 'c':
			path = optarg;
			break;
		case 'h':
			check_usage(stdout);
			return 0;
		default:
			check_usage(stderr);
			return EXIT_USAGE;
		}
	}
	rc = cli_no_operands("check", argc, argv, check_usage);
	if (rc == 0)
		rc = cli_load_config(path, &config);
	if (rc != 0)
		return rc;
	qscale_config_print(config, stdout);
	printf("# valid: %zu %s%s\n", config->policy_count,
		config->policy_count == 1 ? "policy" : "policies",
		config->policy_count == 0 ? " (qscale run would have nothing to do)" : "");
	qscale_config_destroy(config);
	return 0;
}
