/*
 * `qscale check`: load the configuration and every policy exactly as `run`
 * would, and print what was understood with every default filled in (as YAML
 * that loads back to the same values), or the first error as
 * file:line:column: message.
 */
#include <stdio.h>

#include "qscale/cli.h"
#include "qscale/policy.h"

static const struct cli_command check = {
	.name = "check",
	.synopsis = "",
	.description = "Validate the configuration and every policy, and print what qscale\n"
		       "understood, with every default filled in.\n",
	.exit_status = "Exit status: 0 valid, 2 invalid or unreadable (the first error is "
		       "printed\nas file:line:column: message).\n",
};

int command_check(int argc, char **argv)
{
	const char *path = NULL;
	struct qscale_config *config;
	int rc = cli_parse(&check, argc, argv, &path);

	if (rc != CLI_CONTINUE)
		return rc;
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
