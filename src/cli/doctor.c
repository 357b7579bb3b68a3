/*
 * `qscale doctor [-c FILE] [--resolve]`: parse the options, load the
 * configuration, run the checks (src/ops/doctor.c) or print what was
 * resolved (src/ops/doctor_resolve.c).
 */
#include <stdbool.h>
#include <stdio.h>

#include "qscale/cli.h"
#include "qscale/doctor.h"
#include "qscale/log.h"
#include "qscale/policy.h"

int command_doctor(int argc, char **argv)
{
	bool resolve = false;
	const struct cli_option options[] = {
		{"resolve", NULL,
			"print the resolved AWS settings and credentials source\nas JSON "
			"(secrets only as SHA-256), call nothing else",
			&resolve, NULL},
		{NULL, NULL, NULL, NULL, NULL},
	};
	const struct cli_command doctor = {
		.name = "doctor",
		.synopsis = "[--resolve]",
		.description =
			"Check what the daemon needs, one line each (ok, warn, FAIL): the region "
			"and\nwhere it came from, the credentials (source, age, expiry), the SQS "
			"and ECS\nendpoints and the clock skew against them, and for every policy "
			"each call\nthe daemon makes, naming any IAM permission that is missing. "
			"Nothing is\nchanged: UpdateService is reported as not verified.\n",
		.exit_status = "Exit status: 0 nothing failed (warnings allowed), 1 a check "
			       "failed, 2 usage\nor configuration error.\n",
		.options = options,
	};
	const char *path = NULL;
	struct qscale_config *config;
	int rc = cli_parse(&doctor, argc, argv, &path);

	if (rc != CLI_CONTINUE)
		return rc;
	rc = cli_load_config(path, &config);
	if (rc != 0)
		return rc;
	log_set_level(LOG_LEVEL_ERROR);
	if (resolve) {
		rc = doctor_resolve(config, stdout);
		qscale_config_destroy(config);
		return rc;
	}
	printf("ok   config %s (%zu %s)\n", config->file, config->policy_count,
		config->policy_count == 1 ? "policy" : "policies");
	rc = doctor_run(config);
	qscale_config_destroy(config);
	return rc;
}
