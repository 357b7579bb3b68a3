/*
 * `qscale doctor [-c FILE]`: parse the options, load the configuration, run
 * the checks (src/ops/doctor.c).
 */
#include <getopt.h>
#include <stdio.h>

#include "qscale/cli.h"
#include "qscale/doctor.h"
#include "qscale/log.h"
#include "qscale/policy.h"

/* The option summary of `qscale doctor`. */
static void doctor_usage(FILE *out)
{
	fprintf(out,
		"usage: qscale doctor [-c FILE]\n\n"
		"Check what the daemon needs, one line each (ok, warn, FAIL): the region and\n"
		"where it came from, the credentials (source, age, expiry), the SQS and ECS\n"
		"endpoints and the clock skew against them, and for every policy each call\n"
		"the daemon makes, naming any IAM permission that is missing. Nothing is\n"
		"changed: UpdateService is reported as not verified.\n\n"
		"  -c, --config FILE  the main file (default: $QSCALE_CONFIG, else %s)\n"
		"  -h, --help         show this help\n\n"
		"Exit status: 0 nothing failed (warnings allowed), 1 a check failed, 2 usage\n"
		"or configuration error.\n",
		qscale_config_path(NULL));
}

int command_doctor(int argc, char **argv)
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
			doctor_usage(stdout);
			return 0;
		default:
			doctor_usage(stderr);
			return EXIT_USAGE;
		}
	}
	rc = cli_no_operands("doctor", argc, argv, doctor_usage);
	if (rc == 0)
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
