/*
 * The commands main() dispatches to, one file each in src/cli/, and the
 * opening they share. Each command takes the arguments after its own name
 * (argv[0] is the command name) and returns the process exit status: 0
 * success, 1 runtime failure, EXIT_USAGE for a usage or configuration error.
 */
#ifndef QSCALE_CLI_H
#define QSCALE_CLI_H

#include <stdbool.h>
#include <stdio.h>

#define EXIT_USAGE 2

struct qscale_config;

/* qscale version: qscale's version and its libraries'. */
int command_version(int argc, char **argv);

/* qscale emulate --scenario FILE [--listen ADDR]: a local SQS + ECS endpoint. */
int command_emulate(int argc, char **argv);

/* qscale check [-c FILE]: validate the configuration and print it. */
int command_check(int argc, char **argv);

/* qscale run [-c FILE] [--dry-run]: the daemon. */
int command_run(int argc, char **argv);

/* qscale iam-policy [-c FILE]: print the least-privilege IAM policy. */
int command_iam_policy(int argc, char **argv);

/* qscale plan [-c FILE] [--json]: one dry-run cycle against AWS, as a table. */
int command_plan(int argc, char **argv);

/* qscale doctor [-c FILE]: check region, credentials, clock, endpoints, permissions. */
int command_doctor(int argc, char **argv);

/* qscale simulate -c FILE --scenario FILE ...: offline capacity planning (docs/simulate.md). */
int command_simulate(int argc, char **argv);

/* One option of a command besides -c/--config FILE and -h/--help. */
struct cli_option {
	const char *name; /* "json": given as --json */
	const char *arg; /* NULL for a flag; else the argument's name in the usage ("ID") */
	const char *help; /* its line in the usage; more lines after "\n" */
	bool *flag; /* flags: set to true when given */
	const char **value; /* options with an argument: set to it */
};

/* What a command that reads the configuration shows and accepts. */
struct cli_command {
	const char *name; /* "plan" */
	const char *synopsis; /* after "usage: qscale NAME [-c FILE]", "" when nothing */
	const char *description; /* a paragraph, lines ending in "\n" */
	const char *exit_status; /* "Exit status: ...\n" */
	const struct cli_option *options; /* ended by a NULL name; NULL for none */
};

/* Print the usage of cmd: synopsis, description, every option, exit status. */
void cli_usage(const struct cli_command *cmd, FILE *out);

/* cli_parse's answer when the command goes on. */
#define CLI_CONTINUE (-1)

/*
 * Parse argv for cmd: -c/--config FILE into *config_path (left as it is when
 * absent), -h/--help, and cmd's options. CLI_CONTINUE when the command goes
 * on; 0 after printing the usage for --help; EXIT_USAGE after printing what
 * is wrong and the usage to stderr.
 */
int cli_parse(const struct cli_command *cmd, int argc, char **argv, const char **config_path);

/*
 * The shared opening: load the configuration at path (NULL: $QSCALE_CONFIG,
 * else the default) exactly as `run` does. On an error, print it once as
 * file:line:column: message to stderr and return EXIT_USAGE; else 0 and
 * *out (the caller's to destroy).
 */
int cli_load_config(const char *path, struct qscale_config **out);

#endif
