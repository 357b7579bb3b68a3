/*
 * `qscale run`: the daemon. Loads the configuration, then joins everything on
 * one libevent loop: the AWS client and the cloud over it, the controller
 * driven by a timer set to its next due time, systemd notification (READY=1
 * once the loop runs, STATUS= after each cycle, the watchdog), SIGHUP reload
 * (a bad file is reported with file:line:column and the running set kept),
 * SIGTERM drain (no new cycle; in-flight calls may finish until a deadline),
 * and the metrics and health endpoint. With `ha:` the HA lease (qscale/ha.h)
 * decides, per policy, whether this daemon calls UpdateService; on SIGTERM
 * the leases it holds are released once the last cycle has drained.
 */
#include <errno.h>
#include <event2/event.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/aws_client.h"
#include "qscale/aws_settings.h"
#include "qscale/cloud_aws.h"
#include "qscale/controller.h"
#include "qscale/ha.h"
#include "qscale/listen_addr.h"
#include "qscale/log.h"
#include "qscale/metrics_http.h"
#include "qscale/notify.h"
#include "qscale/policy.h"
#include "qscale/readiness.h"
#include "qscale/run.h"
#include "qscale/signals.h"
#include "qscale/xalloc.h"
#include "run_priv.h"

/* How long SIGTERM lets in-flight calls finish. */
#define RUN_DRAIN_MS 10000

struct run {
	struct event_base *base;
	const char *config_path;
	bool force_dry_run;
	struct aws_client *client;
	struct cloud_aws *cloud;
	struct controller *ctl;
	struct event *timer;
	struct notify *notify;
	struct signals *signals;
	struct metrics *metrics;
	struct run_metrics *rm;
	struct metrics_http *http;
	struct readiness *readiness;
	struct ha *ha; /* NULL without ha: */
	bool stopping;
	bool releasing;
	uint64_t last_cycle_ms;
};

/* The one-line summary for STATUS=. */
static void status_line(const struct run *r, char *out, size_t size)
{
	size_t n = controller_policy_count(r->ctl), failing = 0;
	uint64_t now_ms = clock_mono_ms(&clock_system);
	char lease[64] = "";

	for (size_t i = 0; i < n; i++)
		failing += controller_policy_status(r->ctl, i)->consecutive_failures > 0 ? 1 : 0;
	if (r->ha != NULL) {
		size_t groups = ha_group_count(r->ha), held = 0;

		for (size_t i = 0; i < groups; i++)
			held += ha_group(r->ha, i, now_ms)->acting ? 1 : 0;
		snprintf(lease, sizeof(lease), ", leader of %zu/%zu lease %s", held, groups,
			groups == 1 ? "group" : "groups");
	}
	if (r->last_cycle_ms == 0)
		snprintf(out, size, "%zu %s, no cycle yet%s%s", n, n == 1 ? "policy" : "policies",
			controller_dry_run(r->ctl) ? ", dry-run" : "", lease);
	else
		snprintf(out, size, "%zu %s, last cycle %.1fs ago, %zu failing%s%s", n,
			n == 1 ? "policy" : "policies",
			(double)(now_ms - r->last_cycle_ms) / 1000.0, failing,
			controller_dry_run(r->ctl) ? ", dry-run" : "", lease);
}

/* Arm the timer for the controller's next due time (none while a cycle runs). */
static void arm(struct run *r)
{
	uint64_t next = controller_next_due_ms(r->ctl);
	uint64_t now_ms = clock_mono_ms(&clock_system);
	uint64_t delay_ms;
	struct timeval tv;

	if (r->stopping || next == UINT64_MAX) {
		evtimer_del(r->timer);
		return;
	}
	delay_ms = next > now_ms ? next - now_ms : 0;
	tv.tv_sec = (time_t)(delay_ms / 1000);
	tv.tv_usec = (suseconds_t)(delay_ms % 1000) * 1000;
	evtimer_add(r->timer, &tv);
}

/* The timer: start a cycle for every due policy. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	(void)fd;
	(void)what;
	if (r->stopping)
		return;
	controller_tick(r->ctl, clock_mono_ms(&clock_system));
	arm(r);
}

/* The controller's decision hook: readiness and metrics. */
static void on_decision(const struct controller_report *report, void *arg)
{
	struct run *r = arg;
	bool ok = report->outcome == CONTROLLER_SCALED || report->outcome == CONTROLLER_UNCHANGED;

	/* A policy removed by a reload while its cycle ran leaves no series behind. */
	if (!readiness_tracks(r->readiness, report->policy->name))
		return;
	readiness_cycle(r->readiness, report->policy->name, ok, report->now_ms);
	run_metrics_decision(r->rm, report, report->status);
}

/* The leases are released: leave the loop. */
static void on_released(void *arg)
{
	struct run *r = arg;

	signals_shutdown_done(r->signals);
}

/* Nothing is in flight any more: release the leases (if any), then leave. */
static void finish_shutdown(struct run *r)
{
	if (r->ha == NULL) {
		signals_shutdown_done(r->signals);
		return;
	}
	if (r->releasing)
		return;
	r->releasing = true;
	ha_release(r->ha, on_released, r);
}

/* The controller's may_act predicate: the HA lease of the policy's group. */
static bool may_act(const struct policy *policy, uint64_t now_ms, void *arg)
{
	struct run *r = arg;

	return !r->stopping && ha_may_act(r->ha, policy, now_ms);
}

/* The controller's cycle hook: STATUS=, the next timer, the end of a drain. */
static void on_cycle(const struct controller_cycle_report *report, void *arg)
{
	struct run *r = arg;
	char status[256];

	r->last_cycle_ms = report->started_ms;
	run_metrics_cycle(r->rm, report);
	if (r->stopping) {
		finish_shutdown(r);
		return;
	}
	status_line(r, status, sizeof(status));
	notify_status(r->notify, status);
	arm(r);
}

/*
 * Track the policies of a config for readiness, forgetting every other one
 * readiness knows. Its own list is the reference, not the controller's
 * config: a config set during a cycle waits for the cycle's end, and a
 * second reload before that must still forget what the first one added.
 */
static void track_policies(struct run *r, const struct qscale_config *config)
{
	for (size_t i = readiness_count(r->readiness); i-- > 0;) {
		const char *name = readiness_name(r->readiness, i);
		bool kept = false;

		for (size_t k = 0; k < config->policy_count; k++)
			kept = kept || strcmp(name, config->policies[k].name) == 0;
		if (!kept) {
			run_metrics_forget(r->rm, name);
			readiness_forget(r->readiness, name);
		}
	}
	for (size_t k = 0; k < config->policy_count; k++)
		readiness_track(
			r->readiness, config->policies[k].name, config->policies[k].interval_ms);
}

/* SIGHUP: load everything anew; swap only if all of it is valid. */
static void on_reload(int signum, void *arg)
{
	struct run *r = arg;
	struct qscale_config *config;
	struct diag diag;
	char status[256], why[256];

	(void)signum;
	if (r->stopping)
		return;
	notify_reloading(r->notify);
	if (qscale_config_load(r->config_path, &config, &diag) < 0) {
		char msg[LOG_VALUE_MAX];

		log_escape(msg, sizeof(msg), diag.message);
		if (diag.line > 0)
			log_error("reload=failed error=\"%s:%u:%u: %s\" action=keep policies=%zu",
				log_escape((char[LOG_VALUE_MAX]){0}, LOG_VALUE_MAX, diag.file),
				diag.line, diag.column, msg, controller_policy_count(r->ctl));
		else
			log_error("reload=failed error=\"%s: %s\" action=keep policies=%zu",
				log_escape((char[LOG_VALUE_MAX]){0}, LOG_VALUE_MAX, diag.file), msg,
				controller_policy_count(r->ctl));
		run_metrics_reload(r->rm, "failed");
		status_line(r, status, sizeof(status));
		notify_reloaded(r->notify, status);
		return;
	}
	if (qscale_config_reload_check(controller_next_config(r->ctl), config, why, sizeof(why)) <
		0) {
		log_error("reload=refused reason=%s action=keep policies=%zu file=%s", LOG_Q(why),
			controller_next_config(r->ctl)->policy_count, LOG_Q(config->file));
		qscale_config_destroy(config);
		run_metrics_reload(r->rm, "refused");
		status_line(r, status, sizeof(status));
		notify_reloaded(r->notify, status);
		return;
	}
	log_set_level(config->log.level);
	log_set_format(config->log.format);
	track_policies(r, config);
	log_info("reload=ok policies=%zu file=%s", config->policy_count, LOG_Q(config->file));
	controller_set_config(r->ctl, config);
	if (r->ha != NULL) {
		ha_set_config(r->ha, config);
		cloud_aws_set_update_budget(r->cloud, config->ha.margin_ms);
	}
	run_metrics_reload(r->rm, "ok");
	status_line(r, status, sizeof(status));
	notify_reloaded(r->notify, status);
	arm(r);
}

/* SIGTERM, SIGINT: no new cycle; leave once the running one ends or at the deadline. */
static void on_shutdown(int signum, void *arg)
{
	struct run *r = arg;

	if (r->stopping) {
		log_warn("shutdown=now signal=%d", signum);
		signals_shutdown_done(r->signals);
		return;
	}
	r->stopping = true;
	evtimer_del(r->timer);
	log_info("shutdown=begin signal=%d in_flight=%zu", signum, cloud_aws_in_flight(r->cloud));
	notify_stopping(r->notify, "stopping");
	signals_shutdown_arm(r->signals, RUN_DRAIN_MS);
	if (!controller_busy(r->ctl))
		finish_shutdown(r);
}

/* First turn of the loop: tell systemd, start the first cycle. */
static void on_start(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	char status[256];

	(void)fd;
	(void)what;
	status_line(r, status, sizeof(status));
	notify_ready(r->notify, status);
	if (r->ha != NULL)
		ha_start(r->ha);
	arm(r);
}

/* /readyz: the config is loaded and every policy succeeded recently. */
static bool on_ready(void *arg, struct buf *reason)
{
	struct run *r = arg;
	uint64_t now_ms = clock_mono_ms(&clock_system);
	char why[320];

	if (!readiness_check(r->readiness, now_ms, reason))
		return false;
	/* A healthy standby is ready: it observes, decides and could take over. */
	if (r->ha != NULL && !ha_healthy(r->ha, now_ms, why, sizeof(why))) {
		buf_puts(reason, why);
		return false;
	}
	return true;
}

/* Before /metrics renders. */
static void on_collect(void *arg)
{
	struct run *r = arg;

	run_metrics_collect(r->rm, r->client, clock_wall_ms(&clock_system));
	if (r->ha != NULL)
		run_metrics_ha(r->rm, r->ha, clock_mono_ms(&clock_system));
}

/* The cloud's observer: one AWS operation ended. */
static void on_aws_operation(const char *operation, int err, const struct aws_error *error,
	uint64_t latency_ms, void *arg)
{
	struct run *r = arg;

	run_metrics_aws(r->rm, operation, err, error, latency_ms);
}

/* The AWS client's attempt hook: retries and throttles. */
static void on_attempt(const struct aws_attempt_event *event, void *arg)
{
	struct run *r = arg;

	run_metrics_attempt(r->rm, event);
}

/* Bind the metrics endpoint when metrics.listen is set. 0 or negative errno. */
static int start_metrics(struct run *r, const char *listen)
{
	struct listen_addr addr;
	struct metrics_http_config hc = {0};
	char text[LISTEN_ADDR_TEXT_MAX];
	int rc;

	if (listen == NULL || listen[0] == '\0')
		return 0;
	if (listen_addr_parse(listen, &addr) < 0) {
		log_error("metrics=off error=\"bad metrics.listen '%s'\"", listen);
		return -EINVAL;
	}
	hc.addr = &addr;
	hc.metrics = r->metrics;
	hc.ready = on_ready;
	hc.collect = on_collect;
	hc.arg = r;
	rc = metrics_http_create(r->base, &hc, &r->http);
	if (rc < 0) {
		log_error("metrics=off listen=%s error=\"%s\"", listen, strerror(-rc));
		return rc;
	}
	addr.port = metrics_http_port(r->http);
	listen_addr_format(&addr, text, sizeof(text));
	log_info("metrics=http://%s/metrics", text);
	return 0;
}

/* Create the AWS side from the config and the environment. 0 or negative errno. */
static int start_aws(struct run *r, const struct qscale_config *config)
{
	struct diag diag = {0};
	int rc = cloud_aws_client_create(r->base, config, &clock_system, &diag, &r->client);

	if (rc < 0) {
		char text[DIAG_FILE_MAX + DIAG_MESSAGE_MAX + 32];
		log_error("aws=off error=\"cannot create the AWS client: %s\"",
			rc == -EINVAL && diag.message[0] != '\0'
				? diag_format(&diag, text, sizeof(text))
				: strerror(-rc));
		return rc;
	}
	aws_client_set_attempt_cb(r->client, on_attempt, r);
	r->cloud = cloud_aws_create(r->client);
	cloud_aws_set_observer(r->cloud, &clock_system, on_aws_operation, r);
	return 0;
}

/* Everything the loop needs; 0, or the exit status to leave with. */
static int run_start(struct run *r, struct qscale_config *config)
{
	struct controller_hooks hooks = {on_decision, on_cycle, r};
	int rc;

	r->base = event_base_new();
	if (r->base == NULL) {
		log_error("error=\"cannot create the event loop\"");
		return 1;
	}
	r->metrics = metrics_create(0);
	r->rm = run_metrics_create(r->metrics);
	r->readiness = readiness_create();
	rc = start_aws(r, config);
	if (rc < 0)
		return rc == -EINVAL ? RUN_EXIT_CONFIG : 1;
	if (controller_create(cloud_aws_cloud(r->cloud), &clock_system, &hooks, &r->ctl) < 0)
		return 1;
	controller_set_dry_run(r->ctl, r->force_dry_run);
	if (config->ha.present) {
		if (ha_create(r->base, r->client, &clock_system, config, &r->ha) < 0)
			return 1;
		controller_set_may_act(r->ctl, may_act, r);
		/* An UpdateService the lease allowed must reach ECS within the margin. */
		cloud_aws_set_update_budget(r->cloud, config->ha.margin_ms);
	}
	readiness_set_loaded(r->readiness, true);
	track_policies(r, config);
	if (start_metrics(r, config->metrics.listen) < 0)
		return 1;
	log_info("run=start policies=%zu dry_run=%s file=%s", config->policy_count,
		r->force_dry_run || config->dry_run ? "true" : "false", config->file);
	controller_set_config(r->ctl, config);
	r->timer = evtimer_new(r->base, on_timer, r);
	r->notify = notify_create(r->base);
	r->signals = signals_create(r->base, on_reload, on_shutdown, r);
	if (r->timer == NULL || r->signals == NULL)
		return 1;
	event_base_once(r->base, -1, EV_TIMEOUT, on_start, r, &(struct timeval){0, 0});
	return 0;
}

/*
 * The loop is over: a further SIGTERM or SIGINT (a second one from an
 * impatient sender) must not kill the process while it tears down, once
 * libevent has put the default handlers back. They stay pending until exit.
 */
static void block_stop_signals(void)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
}

/* Free everything; in-flight calls are cancelled first. */
static void run_stop(struct run *r)
{
	metrics_http_destroy(r->http);
	ha_destroy(r->ha);
	cloud_aws_destroy(r->cloud);
	controller_destroy(r->ctl);
	aws_client_destroy(r->client);
	signals_destroy(r->signals);
	notify_destroy(r->notify);
	if (r->timer != NULL)
		event_free(r->timer);
	readiness_destroy(r->readiness);
	run_metrics_destroy(r->rm);
	metrics_destroy(r->metrics);
	if (r->base != NULL)
		event_base_free(r->base);
}

int run_daemon(const char *config_path, struct qscale_config *config, bool force_dry_run)
{
	struct run r = {.config_path = config_path, .force_dry_run = force_dry_run};
	int status;

	log_set_level(config->log.level);
	log_set_format(config->log.format);
	status = run_start(&r, config);
	if (status != 0) {
		/* The controller owns the config once it has it. */
		if (r.ctl == NULL || controller_config(r.ctl) != config)
			qscale_config_destroy(config);
		run_stop(&r);
		return status;
	}
	event_base_dispatch(r.base);
	block_stop_signals();
	if (signals_shutdown_timed_out(r.signals))
		log_warn("shutdown=deadline in_flight=%zu action=cancel",
			cloud_aws_in_flight(r.cloud));
	log_info("shutdown=done");
	run_stop(&r);
	return 0;
}
