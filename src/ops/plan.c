/*
 * `qscale plan [-c FILE] [--json]`: one observe + decide cycle against live
 * AWS, run by the same controller as `qscale run` over the same AWS cloud,
 * forced into dry-run so that UpdateService is never called. Prints what each
 * policy would set and why. Exit status: 0 every policy decided, 1 any policy
 * held (an observation was missing) or the cycle could not run, 2 usage or
 * configuration error.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/event.h>

#include "qscale/aws_client.h"
#include "qscale/aws_settings.h"
#include "qscale/diag.h"
#include "qscale/cloud_aws.h"
#include "qscale/controller.h"
#include "qscale/log.h"
#include "qscale/plan.h"
#include "qscale/policy.h"
#include "qscale/xalloc.h"

struct plan_run {
	struct event_base *base;
	bool done;
	bool timed_out;
};

/* The cycle has ended: leave the loop. */
static void on_cycle_done(const struct controller_cycle_report *report, void *arg)
{
	struct plan_run *pr = arg;

	pr->done = true;
	event_base_loopexit(pr->base, NULL);
}

/* The cycle took longer than every call's retries could: give up. */
static void on_deadline(evutil_socket_t fd, short what, void *arg)
{
	struct plan_run *pr = arg;

	pr->timed_out = true;
	event_base_loopexit(pr->base, NULL);
}

/* Run one dry-run cycle of config (owned from here on) and print it. */
/* Print the decisions of the cycle that ran; the exit status they make. */
static int print_plan(const struct controller *ctl, size_t n, bool json)
{
	struct plan_row *rows = xcalloc(n, sizeof(*rows));
	size_t n_rows = 0;
	int status;

	for (size_t i = 0; i < n; i++) {
		const struct controller_policy_status *st = controller_policy_status(ctl, i);

		if (st != NULL && st->has_decision)
			plan_row_from_status(st, &rows[n_rows++]);
	}
	if (json)
		plan_render_json(rows, n_rows, stdout);
	else
		plan_render_table(rows, n_rows, stdout);
	status = n_rows == n ? plan_exit_status(rows, n_rows) : 1;
	free(rows);
	return status;
}

int plan_run(struct qscale_config *config, bool json)
{
	struct plan_run pr = {0};
	struct aws_client *client = NULL;
	struct cloud_aws *cloud = NULL;
	struct controller *ctl = NULL;
	struct event *deadline = NULL;
	int status = 1;
	int rc;

	pr.base = event_base_new();
	if (pr.base == NULL) {
		qscale_config_destroy(config);
		return 1;
	}
	struct diag diag = {0};
	char text[DIAG_FILE_MAX + DIAG_MESSAGE_MAX + 32];
	rc = cloud_aws_client_create(pr.base, config, &clock_system, &diag, &client);
	if (rc < 0) {
		fprintf(stderr, "qscale plan: cannot create the AWS client: %s\n",
			rc == -EINVAL && diag.message[0] != '\0'
				? diag_format(&diag, text, sizeof(text))
				: strerror(-rc));
		qscale_config_destroy(config);
		status = rc == -EINVAL ? PLAN_EXIT_CONFIG : 1;
		goto out;
	}
	cloud = cloud_aws_create(client);
	struct controller_hooks hooks = {.cycle_done = on_cycle_done, .arg = &pr};
	if (controller_create(cloud_aws_cloud(cloud), &clock_system, &hooks, &ctl) < 0) {
		qscale_config_destroy(config);
		goto out;
	}
	controller_set_dry_run(ctl, true);
	controller_set_quiet(ctl, true);
	/* Each call may take every attempt (with backoff) and calls chain up to four deep. */
	uint64_t limit_ms = 4 * (3 * config->aws.timeout_ms + 25000);
	controller_set_config(ctl, config);
	size_t n = controller_policy_count(ctl);
	if (n == 0) {
		if (json)
			plan_render_json(NULL, 0, stdout);
		else
			printf("no policies: nothing to plan\n");
		status = 0;
		goto out;
	}
	if (controller_tick(ctl, clock_mono_ms(&clock_system)) <= 0) {
		fprintf(stderr, "qscale plan: the cycle did not start\n");
		goto out;
	}
	deadline = evtimer_new(pr.base, on_deadline, &pr);
	struct timeval limit = {(time_t)(limit_ms / 1000), 0};
	evtimer_add(deadline, &limit);
	if (!pr.done)
		event_base_dispatch(pr.base);
	if (!pr.done) {
		fprintf(stderr, "qscale plan: the cycle did not end within %llu s\n",
			(unsigned long long)(limit_ms / 1000));
		goto out;
	}
	status = print_plan(ctl, n, json);
out:
	if (deadline != NULL)
		event_free(deadline);
	/* Cancel the cloud's calls first: then no callback can reach the controller. */
	cloud_aws_destroy(cloud);
	controller_destroy(ctl);
	aws_client_destroy(client);
	event_base_free(pr.base);
	if (fflush(stdout) != 0)
		status = 1;
	return status;
}
