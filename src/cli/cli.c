/*
 * The opening every command that reads the configuration shares: its usage
 * and options from one table (-c/--config and -h/--help for all), and
 * loading the configuration or printing the first error as
 * file:line:column. One copy, so every command answers a bad option or a
 * bad file the same way and with the same exit status.
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "qscale/cli.h"
#include "qscale/policy.h"

/* Most options a command has besides -c and -h. */
#define CLI_OPTIONS_MAX 8

/* Write help after a column of width 21, its later lines indented as far. */
static void help_lines(FILE *out, int used, const char *help)
{
	const char *nl;

	fprintf(out, "%*s", used < 21 ? 21 - used : 1, "");
	while ((nl = strchr(help, '\n')) != NULL) {
		fprintf(out, "%.*s\n%21s", (int)(nl - help), help, "");
		help = nl + 1;
	}
	fprintf(out, "%s\n", help);
}

void cli_usage(const struct cli_command *cmd, FILE *out)
{
	int n;

	fprintf(out, "usage: qscale %s [-c FILE]%s%s\n\n%s\n", cmd->name,
		cmd->synopsis[0] != '\0' ? " " : "", cmd->synopsis, cmd->description);
	fprintf(out, "  -c, --config FILE  the main file (default: $QSCALE_CONFIG, else %s)\n",
		qscale_config_path(NULL));
	for (const struct cli_option *o = cmd->options; o != NULL && o->name != NULL; o++) {
		n = fprintf(out, "      --%s%s%s", o->name, o->arg != NULL ? " " : "",
			o->arg != NULL ? o->arg : "");
		help_lines(out, n, o->help);
	}
	fprintf(out, "  -h, --help         show this help\n\n%s", cmd->exit_status);
}

int cli_parse(const struct cli_command *cmd, int argc, char **argv, const char **config_path)
{
	struct option options[CLI_OPTIONS_MAX + 3] = {
		{"config", required_argument, NULL, 'c'},
		{"help", no_argument, NULL, 'h'},
	};
	size_t n = 2;
	int c;

	for (const struct cli_option *o = cmd->options;
		o != NULL && o->name != NULL && n < CLI_OPTIONS_MAX + 2; o++, n++)
		options[n] = (struct option){o->name,
			o->arg != NULL ? required_argument : no_argument, NULL, 256 + (int)(n - 2)};
	optind = 1;
	while ((c = getopt_long(argc, argv, "c:h", options, NULL)) != -1) {
		if (c == 'c') {
			*config_path = optarg;
		} else if (c == 'h') {
			cli_usage(cmd, stdout);
			return 0;
		} else if (c >= 256) {
			const struct cli_option *o = &cmd->options[c - 256];

			if (o->flag != NULL)
				*o->flag = true;
			if (o->value != NULL)
				*o->value = optarg;
		} else {
			cli_usage(cmd, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "qscale %s: unexpected argument '%s'\n", cmd->name, argv[optind]);
		cli_usage(cmd, stderr);
		return EXIT_USAGE;
	}
	return CLI_CONTINUE;
}

int cli_load_config(const char *path, struct qscale_config **out)
{
	struct diag diag;

	if (qscale_config_load(path, out, &diag) < 0) {
		diag_print(&diag, stderr);
		return EXIT_USAGE;
	}
	return 0;
}
