/*
 * The opening every command shares: load the configuration or print the first
 * error as file:line:column, and refuse stray operands. One copy, so every
 * command answers a bad file the same way and with the same exit status.
 */
#include <getopt.h>
#include <stdio.h>

#include "qscale/cli.h"
#include "qscale/policy.h"

int cli_load_config(const char *path, struct qscale_config **out)
{
	struct diag diag;

	if (qscale_config_load(path, out, &diag) < 0) {
		diag_print(&diag, stderr);
		return EXIT_USAGE;
	}
	return 0;
}

int cli_no_operands(const char *command, int argc, char **argv, void (*usage)(FILE *out))
{
	if (optind >= argc)
		return 0;
	fprintf(stderr, "qscale %s: unexpected argument '%s'\n", command, argv[optind]);
	usage(stderr);
	return EXIT_USAGE;
}
