/*
 * The commands main() dispatches to, one file each in src/cli/, and the
 * opening they share. Each command takes the arguments after its own name
 * (argv[0] is the command name) and returns the process exit status: 0
 * success, 1 runtime failure, EXIT_USAGE for a usage or configuration error.
 */
#ifndef QSCALE_CLI_H
#define QSCALE_CLI_H

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

/*
 * The shared opening: load the configuration at path (NULL: $QSCALE_CONFIG,
 * else the default) exactly as `run` does. On an error, print it once as
 * file:line:column: message to stderr and return EXIT_USAGE; else 0 and
 * *out (the caller's to destroy).
 */
int cli_load_config(const char *path, struct qscale_config **out);

/*
 * After getopt: 0 when no operand is left, else print "qscale COMMAND:
 * unexpected argument" and the usage to stderr and return EXIT_USAGE.
 */
int cli_no_operands(const char *command, int argc, char **argv, void (*usage)(FILE *out));

#endif
