/*
 * qscale's entry point: parse the command name and hand the rest of argv to
 * that command. Nothing else lives here.
 */
#include <stdio.h>
#include <string.h>

#include "qscale/cli.h"
#include "qscale/log.h"

struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

static const struct command commands[] = {
	{"run", command_run, "the daemon: scale every policy until SIGTERM"},
	{"check", command_check,
		"validate the configuration and policies, print what was understood"},
	{"plan", command_plan, "one dry-run cycle against AWS: what each policy would set and why"},
	{"simulate", command_simulate,
		"replay traffic through qscale's control cycle offline: waits, task-hours, cost"},
	{"emulate", command_emulate, "serve a local SQS + ECS endpoint backed by a scenario"},
	{"doctor", command_doctor,
		"check region, credentials, clock, endpoints and every call each policy needs"},
	{"iam-policy", command_iam_policy,
		"print the least-privilege IAM policy the configured policies need"},
	{"version", command_version, "print the versions of qscale and its libraries"},
};

#define N_COMMANDS (sizeof(commands) / sizeof(commands[0]))

static void usage(FILE *out)
{
	fprintf(out,
		"usage: qscale <command> [options]\n\n"
		"A queue-depth autoscaler for Amazon ECS services stretched between\n"
		"on-premises ECS Anywhere hosts and Fargate.\n\ncommands:\n");
	for (size_t i = 0; i < N_COMMANDS; i++)
		fprintf(out, "  %-12s %s\n", commands[i].name, commands[i].summary);
	fprintf(out,
		"\nRun 'qscale <command> --help' for a command's options.\n"
		"Exit status: 0 success, 1 runtime failure, 2 usage or configuration error.\n");
}

int main(int argc, char **argv)
{
	log_init("qscale");
	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
		strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	if (strcmp(argv[1], "--version") == 0)
		return command_version(1, argv + 1);
	for (size_t i = 0; i < N_COMMANDS; i++) {
		if (strcmp(argv[1], commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	}
	fprintf(stderr, "qscale: unknown command '%s'\n", argv[1]);
	fprintf(stderr, "Run 'qscale --help' for the list of commands.\n");
	return EXIT_USAGE;
}
