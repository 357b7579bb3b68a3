/*
 * The subcommands main() dispatches to. Each takes the arguments after its
 * own name (argv[0] is the command name) and returns the process exit status:
 * 0 success, 1 runtime failure, 2 usage or configuration error.
 */
#ifndef QSCALE_COMMANDS_H
#define QSCALE_COMMANDS_H

#define EXIT_USAGE 2

int command_version(int argc, char **argv);
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

#endif
