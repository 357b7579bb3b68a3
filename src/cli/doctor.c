/*
 * `qscale doctor [-c FILE]`: parse the options, load the configuration, run
 * the checks (src/ops/doctor.c).
 */
#include <stdio.h>

#include "qscale/cli.h"
#include "qscale/doctor.h"
#include "qscale/log.h"
#include "qscale/policy.h"

static const struct cli_command doctor = {
	.name = "doctor",
	.synopsis = "",
	.description =
		"Check what the daemon needs, one line each (ok, warn, FAIL): the region and\n"
		"where it came from, the credentials (source, age, expiry), the SQS and ECS\n"
		"endpoints and the clock skew against them, and for every policy each call\n"
		"the daemon makes, naming any IAM permission that is missing. Nothing is\n"
		"changed: UpdateService is reported as not verified.\n",
	.exit_status = "Exit status: 0 nothing failed (warnings allowed), 1 a check failed, 2 "
		       "usage\nor configuration error.\n",
};

int command_doctor(int argc, char **argv)
{
	const char *path = NULL;
	struct qscale_config *config;
	int rc = cli_parse(&doctor, argc, argv, &path);

	if (rc != CLI_CONTINUE)
		return rc;
	rc = cli_load_config(path, &config);
	if (rc != 0)
		return rc;
	printf("ok   config %s (%zu %s)\n", config->file, config->policy_count,
		config->policy_count == 1 ? "policy" : "policies");
	log_set_level(LOG_LEVEL_ERROR);
	rc = doctor_run(config);
	qscale_config_destroy(config);
	return rc;
}
