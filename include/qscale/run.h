/*
 * `qscale run`: the daemon. Every policy on its own interval through the
 * controller over real AWS, reload on SIGHUP, drain on SIGTERM, sd_notify,
 * and the metrics and health endpoint (docs/run.md).
 */
#ifndef QSCALE_RUN_H
#define QSCALE_RUN_H

#include <stdbool.h>

struct qscale_config;

/* What run_daemon returns for a configuration the AWS client refuses. */
#define RUN_EXIT_CONFIG 2

/*
 * Run the daemon over config (owned from here on), loaded from config_path
 * (re-read on SIGHUP), until SIGTERM or SIGINT. force_dry_run is --dry-run.
 * Returns the exit status: 0 after a clean shutdown, 1 when it could not
 * start, RUN_EXIT_CONFIG.
 */
int run_daemon(const char *config_path, struct qscale_config *config, bool force_dry_run);

#endif
