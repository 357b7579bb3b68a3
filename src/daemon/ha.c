/*
 * The HA lease glue of `qscale run` (qscale/ha.h): one lease state machine
 * per policy group, driven by one libevent timer set to the earliest instant
 * any group needs, its DynamoDB calls made through the shared AWS client.
 * Every answer and every timer turn ends with a look at who acts, so a change
 * of leadership (including a lease running out with no answer at all) is
 * logged once, when it happens.
 */
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

#include "qscale/dynamodb.h"
#include "qscale/ha.h"
#include "qscale/lease.h"
#include "qscale/log.h"
#include "qscale/policy.h"
#include "qscale/xalloc.h"

/* At most this many lease groups (each is one record and one call per renewal). */
#define HA_MAX_GROUPS 64

struct ha_group {
	struct ha *ha;
	char *name;
	struct lease lease;
	struct dynamodb_call *call;
	bool wanted; /* named by the config in force */
	bool announced; /* the first state has been logged */
	bool was_acting;
	char last_error[128]; /* logged once until it changes */
	struct ha_group_status status;
};

struct ha {
	struct event_base *base;
	struct aws_client *client;
	struct clock clock;
	struct event *timer;
	char *table;
	char *default_lease;
	struct lease_params params;
	char identity[DYNAMODB_ID_MAX + 1];
	struct ha_group *groups[HA_MAX_GROUPS];
	size_t n_groups;
	bool started;
	/* The table check at start. */
	struct dynamodb_call *table_call;
	bool table_ok; /* checked and usable */
	bool recheck; /* the table changed by a reload: check it again */
	uint64_t table_retry_ms; /* an unusable table is looked at again then; 0: not */
	char logged_error[256]; /* the table error last logged, to log each once */
	char table_error[256]; /* why not, "" while unknown */
	/* Shutdown. */
	bool releasing;
	size_t releases_pending;
	void (*release_done)(void *arg);
	void *release_arg;
};

static void pump(struct ha *ha);
static void check_table(struct ha *ha);

/* Random hex digits into out (n digits, NUL-terminated). */
static void random_hex(char *out, size_t n)
{
	unsigned char bytes[32];
	size_t want = (n + 1) / 2 > sizeof(bytes) ? sizeof(bytes) : (n + 1) / 2;

	if (getrandom(bytes, want, 0) != (ssize_t)want) {
		/* No entropy yet: the time and pid still tell daemons apart. */
		uint64_t t = clock_wall_ms(&clock_system) ^ ((uint64_t)getpid() << 32);

		for (size_t i = 0; i < want; i++)
			bytes[i] = (unsigned char)(t >> (8 * (i % 8))) ^ (unsigned char)(i * 131);
	}
	for (size_t i = 0; i < n && i / 2 < want; i++)
		out[i] = "0123456789abcdef"[(bytes[i / 2] >> (i % 2 ? 0 : 4)) & 0xf];
	out[n] = '\0';
}

/* See qscale/ha.h. */
void ha_default_identity(char *out, size_t size)
{
	char host[64] = "qscale", suffix[9];

	if (gethostname(host, sizeof(host)) != 0 || host[0] == '\0')
		snprintf(host, sizeof(host), "qscale");
	host[sizeof(host) - 1] = '\0';
	random_hex(suffix, 8);
	snprintf(out, size, "%s-%s", host, suffix);
}

/* The group of name, or NULL. */
static struct ha_group *find_group(const struct ha *ha, const char *name)
{
	for (size_t i = 0; i < ha->n_groups; i++) {
		if (strcmp(ha->groups[i]->name, name) == 0)
			return ha->groups[i];
	}
	return NULL;
}

/* The lease name a policy acts under. */
static const char *group_of(const struct ha *ha, const struct policy *policy)
{
	return policy->lease_group != NULL ? policy->lease_group : ha->default_lease;
}

/* Add a group (as standby) unless it is there or the table is full. */
static void add_group(struct ha *ha, const char *name, uint64_t now_ms)
{
	struct ha_group *g = find_group(ha, name);

	if (g != NULL) {
		g->wanted = true;
		g->lease.params = ha->params;
		return;
	}
	if (ha->n_groups == HA_MAX_GROUPS) {
		log_error("ha=error lease=%s error=\"more than %d lease groups\" action=standby",
			name, HA_MAX_GROUPS);
		return;
	}
	g = xcalloc(1, sizeof(*g));
	g->ha = ha;
	g->name = xstrdup(name);
	g->wanted = true;
	lease_init(&g->lease, &ha->params, ha->identity, now_ms);
	ha->groups[ha->n_groups++] = g;
}

/* Take the table, timings and groups of a config. */
static void take_config(struct ha *ha, const struct qscale_config *config)
{
	uint64_t now_ms = clock_mono_ms(&ha->clock);

	/* Another table holds other records: what we knew of the old one is void. */
	if (ha->table != NULL && strcmp(ha->table, config->ha.table) != 0) {
		for (size_t i = 0; i < ha->n_groups; i++) {
			dynamodb_call_cancel(ha->groups[i]->call);
			ha->groups[i]->call = NULL;
			lease_init(&ha->groups[i]->lease, &ha->params, ha->identity, now_ms);
		}
		ha->table_ok = false;
		ha->table_error[0] = '\0';
		ha->recheck = true;
	}
	free(ha->table);
	free(ha->default_lease);
	ha->table = xstrdup(config->ha.table);
	ha->default_lease = xstrdup(config->ha.lease);
	ha->params = (struct lease_params){
		.duration_ms = config->ha.duration_ms,
		.renew_ms = config->ha.renew_ms,
		.margin_ms = config->ha.margin_ms,
	};
	for (size_t i = 0; i < ha->n_groups; i++)
		ha->groups[i]->wanted = false;
	for (size_t i = 0; i < config->policy_count; i++)
		add_group(ha, group_of(ha, &config->policies[i]), now_ms);
	if (config->policy_count == 0)
		add_group(ha, ha->default_lease, now_ms);
}

/* The timer: run every group's due action. */
static void on_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	pump(arg);
}

/* See qscale/ha.h. */
int ha_create(struct event_base *base, struct aws_client *client, const struct clock *clock,
	const struct qscale_config *config, struct ha **out)
{
	if (base == NULL || client == NULL || clock == NULL || config == NULL ||
		!config->ha.present)
		return -EINVAL;
	struct ha *ha = xcalloc(1, sizeof(*ha));
	ha->base = base;
	ha->client = client;
	ha->clock = *clock;
	if (config->ha.identity != NULL)
		snprintf(ha->identity, sizeof(ha->identity), "%s", config->ha.identity);
	else
		ha_default_identity(ha->identity, sizeof(ha->identity));
	ha->timer = evtimer_new(base, on_timer, ha);
	if (ha->timer == NULL) {
		free(ha);
		return -ENOMEM;
	}
	take_config(ha, config);
	*out = ha;
	return 0;
}

/* Free one group, cancelling its call. */
static void group_free(struct ha_group *g)
{
	dynamodb_call_cancel(g->call);
	free(g->name);
	free(g);
}

/* See qscale/ha.h. */
void ha_destroy(struct ha *ha)
{
	if (ha == NULL)
		return;
	dynamodb_call_cancel(ha->table_call);
	for (size_t i = 0; i < ha->n_groups; i++)
		group_free(ha->groups[i]);
	event_free(ha->timer);
	free(ha->table);
	free(ha->default_lease);
	free(ha);
}

/* Log a failed lease call once per distinct error. */
static void call_failed(struct ha_group *g, const char *what, int err, const struct aws_error *e)
{
	char text[sizeof(g->last_error)];

	snprintf(text, sizeof(text), "%s: %.100s", what,
		e != NULL && e->code[0] != '\0' ? e->code : strerror(err < 0 ? -err : EIO));
	if (strcmp(text, g->last_error) != 0)
		log_warn("ha=call_failed lease=%s identity=%s error=\"%s\" action=%s", g->name,
			g->ha->identity, text,
			lease_may_act(&g->lease, clock_mono_ms(&g->ha->clock)) ? "keep"
									       : "standby");
	snprintf(g->last_error, sizeof(g->last_error), "%s", text);
}

/* A GetItem answered. */
static void on_read(int err, const struct aws_error *error, bool found,
	const struct dynamodb_lease_item *item, void *arg)
{
	struct ha_group *g = arg;
	uint64_t now_ms = clock_mono_ms(&g->ha->clock);

	g->call = NULL;
	if (err < 0) {
		call_failed(g, "GetItem", err, error);
	} else {
		g->last_error[0] = '\0';
		g->status.last_answer_ms = now_ms;
	}
	lease_read_done(&g->lease, now_ms, err, found, item);
	pump(g->ha);
}

/* A conditional write answered. */
static void on_write(int result, const struct aws_error *error, void *arg)
{
	struct ha_group *g = arg;
	uint64_t now_ms = clock_mono_ms(&g->ha->clock);

	g->call = NULL;
	if (result < 0) {
		call_failed(g, lease_action_name(g->lease.pending_action), result, error);
	} else {
		g->last_error[0] = '\0';
		g->status.last_answer_ms = now_ms;
	}
	lease_write_done(&g->lease, now_ms, result);
	pump(g->ha);
}

/* Start what a group's lease wants now, if anything. */
static void step_group(struct ha *ha, struct ha_group *g, uint64_t now_ms)
{
	enum lease_action a = lease_next(&g->lease, now_ms);
	struct dynamodb_lease_item item;
	char version[33];
	int r;

	if (a == LEASE_WAIT || !g->wanted)
		return;
	if (a == LEASE_READ) {
		lease_begin_read(&g->lease);
		r = dynamodb_get_lease(ha->client, ha->table, g->name, on_read, g, &g->call);
		if (r < 0)
			lease_read_done(&g->lease, now_ms, r, false, NULL);
		return;
	}
	random_hex(version, 32);
	lease_begin_write(&g->lease, a, version, now_ms, (int64_t)clock_wall_ms(&ha->clock), &item);
	struct dynamodb_lease_write w = {
		.op = a == LEASE_CREATE        ? DYNAMODB_LEASE_CREATE
			: a == LEASE_TAKE_OVER ? DYNAMODB_LEASE_TAKE_OVER
					       : DYNAMODB_LEASE_RENEW,
		.table = ha->table,
		.name = g->name,
		.expect_version = a == LEASE_RENEW ? g->lease.version : g->lease.seen_item.version,
		.expect_holder = ha->identity,
		.item = &item,
	};
	r = dynamodb_write_lease(ha->client, &w, on_write, g, &g->call);
	if (r < 0)
		lease_write_done(&g->lease, now_ms, r);
}

/* Log the first known state of a group, then each change of leadership, once. */
static void look(struct ha *ha, struct ha_group *g, uint64_t now_ms)
{
	bool acting = lease_may_act(&g->lease, now_ms);
	const char *reason;

	/* A standby announces itself once it has seen who holds the lease. */
	if (g->announced ? acting == g->was_acting : !acting && !g->lease.seen)
		return;
	if (acting) {
		log_info("ha=leader lease=%s identity=%s via=%s", g->name, ha->identity,
			lease_action_name(g->lease.pending_action));
	} else {
		if (!g->was_acting)
			reason = "held by another daemon";
		else if (g->lease.held)
			reason = "lease not renewed in time";
		else
			reason = "lease lost";
		log_info("ha=standby lease=%s identity=%s holder=%s reason=\"%s\"", g->name,
			ha->identity, g->lease.seen ? g->lease.seen_item.holder : "unknown",
			reason);
	}
	g->announced = true;
	g->was_acting = acting;
}

/* Run what is due, log changes, arm the timer for the next instant. */
static void pump(struct ha *ha)
{
	uint64_t now_ms = clock_mono_ms(&ha->clock), next = UINT64_MAX;
	struct timeval tv;

	if (!ha->started || ha->releasing)
		return;
	for (size_t i = 0; i < ha->n_groups; i++) {
		struct ha_group *g = ha->groups[i];

		if (ha->table_ok)
			step_group(ha, g, now_ms);
		look(ha, g, now_ms);
		if (g->wanted && ha->table_ok) {
			uint64_t t = lease_wake_ms(&g->lease, now_ms);

			next = t < next ? t : next;
		}
	}
	/* An unusable table may be created or fixed meanwhile: look again now and then. */
	if (!ha->table_ok && ha->table_call == NULL && ha->table_retry_ms != 0) {
		if (now_ms >= ha->table_retry_ms) {
			ha->table_retry_ms = 0;
			check_table(ha);
			return;
		}
		next = ha->table_retry_ms;
	}
	evtimer_del(ha->timer);
	if (next == UINT64_MAX)
		return;
	/* One more millisecond: lease_may_act turns false at the instant itself. */
	uint64_t delay = next > now_ms ? next - now_ms + 1 : 0;
	tv.tv_sec = (time_t)(delay / 1000);
	tv.tv_usec = (suseconds_t)(delay % 1000) * 1000;
	evtimer_add(ha->timer, &tv);
}

/* DescribeTable answered at start. */
static void on_table(
	int err, const struct aws_error *error, const struct dynamodb_table_info *info, void *arg)
{
	struct ha *ha = arg;

	ha->table_call = NULL;
	if (err < 0) {
		snprintf(ha->table_error, sizeof(ha->table_error), "DescribeTable %s: %s",
			ha->table,
			error != NULL && error->code[0] != '\0' ? error->code : strerror(-err));
		if (error != NULL && strcmp(error->code, "ResourceNotFoundException") == 0)
			snprintf(ha->table_error, sizeof(ha->table_error),
				"table %s does not exist (create it with the partition key '%s', "
				"type S; docs/ha.md)",
				ha->table, DYNAMODB_LEASE_KEY);
		else {
			/* Not a verdict on the table: try again, act only with a lease anyway. */
			log_warn("ha=table_check table=%s error=\"%s\" action=retry", ha->table,
				ha->table_error);
			ha->table_error[0] = '\0';
			ha->table_ok = true;
			pump(ha);
			return;
		}
	} else if (!dynamodb_table_fits_lease(info)) {
		snprintf(ha->table_error, sizeof(ha->table_error),
			"table %s has the key schema %s (%s)%s; the lease needs the partition key "
			"'%s' of type S and no sort key",
			ha->table, info->hash_key, info->hash_type,
			info->has_range_key ? " with a sort key" : "", DYNAMODB_LEASE_KEY);
	} else {
		ha->table_ok = true;
		ha->table_error[0] = '\0';
		ha->logged_error[0] = '\0';
		log_info("ha=start table=%s identity=%s groups=%zu duration_ms=%llu renew_ms=%llu "
			 "margin_ms=%llu",
			ha->table, ha->identity, ha->n_groups,
			(unsigned long long)ha->params.duration_ms,
			(unsigned long long)ha->params.renew_ms,
			(unsigned long long)ha->params.margin_ms);
		pump(ha);
		return;
	}
	if (strcmp(ha->logged_error, ha->table_error) != 0)
		log_error("ha=error table=%s identity=%s error=\"%s\" action=never_act", ha->table,
			ha->identity, ha->table_error);
	snprintf(ha->logged_error, sizeof(ha->logged_error), "%s", ha->table_error);
	ha->table_retry_ms = clock_mono_ms(&ha->clock) + ha->params.duration_ms;
	pump(ha);
}

/* Ask DynamoDB about the table; nothing acts until it answers well. */
static void check_table(struct ha *ha)
{
	int r = dynamodb_describe_table(ha->client, ha->table, on_table, ha, &ha->table_call);

	if (r < 0) {
		snprintf(ha->table_error, sizeof(ha->table_error), "DescribeTable: %s",
			strerror(-r));
		log_error("ha=error table=%s error=\"%s\" action=never_act", ha->table,
			ha->table_error);
	}
}

/* See qscale/ha.h. */
void ha_start(struct ha *ha)
{
	ha->started = true;
	check_table(ha);
}

/* A release answered (or could not start). */
static void on_released(int result, const struct aws_error *error, void *arg)
{
	struct ha_group *g = arg;
	struct ha *ha = g->ha;

	g->call = NULL;
	if (result == 0)
		log_info("ha=released lease=%s identity=%s", g->name, ha->identity);
	else
		log_warn("ha=release_failed lease=%s identity=%s error=\"%s\"", g->name,
			ha->identity,
			result == DYNAMODB_CONDITION_FAILED ? "no longer ours"
				: error != NULL             ? error->code
							    : strerror(-result));
	if (--ha->releases_pending == 0 && ha->release_done != NULL)
		ha->release_done(ha->release_arg);
}

/*
 * Forget the groups the new config no longer names. What one of them held
 * is not deleted: no policy of ours acts under it any more, and a daemon
 * whose config still names it takes over once the record has gone unrenewed
 * for a lease duration.
 */
static void drop_unwanted(struct ha *ha)
{
	size_t k = 0;

	for (size_t i = 0; i < ha->n_groups; i++) {
		struct ha_group *g = ha->groups[i];

		if (g->wanted) {
			ha->groups[k++] = g;
			continue;
		}
		log_info("ha=forget lease=%s identity=%s", g->name, ha->identity);
		group_free(g);
	}
	ha->n_groups = k;
}

/* See qscale/ha.h. */
void ha_set_config(struct ha *ha, const struct qscale_config *config)
{
	if (ha->releasing)
		return;
	take_config(ha, config);
	drop_unwanted(ha);
	if (ha->recheck && ha->started) {
		ha->recheck = false;
		dynamodb_call_cancel(ha->table_call);
		ha->table_call = NULL;
		ha_start(ha);
		return;
	}
	pump(ha);
}

/* See qscale/ha.h. */
bool ha_may_act(struct ha *ha, const struct policy *policy, uint64_t now_ms)
{
	const struct ha_group *g = find_group(ha, group_of(ha, policy));

	return !ha->releasing && ha->table_ok && g != NULL && lease_may_act(&g->lease, now_ms);
}

/* See qscale/ha.h. */
const char *ha_identity(const struct ha *ha)
{
	return ha->identity;
}

/* See qscale/ha.h. */
size_t ha_group_count(const struct ha *ha)
{
	return ha->n_groups;
}

/* See qscale/ha.h. */
const struct ha_group_status *ha_group(struct ha *ha, size_t i, uint64_t now_ms)
{
	if (i >= ha->n_groups)
		return NULL;
	struct ha_group *g = ha->groups[i];
	bool acting = !ha->releasing && ha->table_ok && lease_may_act(&g->lease, now_ms);

	g->status.name = g->name;
	g->status.acting = acting;
	g->status.holder = g->lease.held ? ha->identity
		: g->lease.seen          ? g->lease.seen_item.holder
					 : "";
	g->status.renewals = g->lease.renewals;
	g->status.failures = g->lease.failures;
	return &g->status;
}

/* See qscale/ha.h. */
bool ha_healthy(const struct ha *ha, uint64_t now_ms, char *reason, size_t size)
{
	if (ha->table_error[0] != '\0') {
		if (reason != NULL)
			snprintf(reason, size, "ha: %s", ha->table_error);
		return false;
	}
	for (size_t i = 0; i < ha->n_groups; i++) {
		const struct ha_group *g = ha->groups[i];
		uint64_t last = g->status.last_answer_ms;

		if (last == 0 || now_ms - last > ha->params.duration_ms) {
			if (reason != NULL)
				snprintf(reason, size, "ha: lease %s: no answer from DynamoDB%s%s",
					g->name, g->last_error[0] != '\0' ? ": " : "",
					g->last_error);
			return false;
		}
	}
	return true;
}

/* Run the release's done from the loop when nothing was to be deleted. */
static void release_none(evutil_socket_t fd, short what, void *arg)
{
	struct ha *ha = arg;

	(void)fd;
	(void)what;
	if (ha->release_done != NULL)
		ha->release_done(ha->release_arg);
}

/* See qscale/ha.h. */
size_t ha_release(struct ha *ha, void (*done)(void *arg), void *arg)
{
	ha->releasing = true;
	ha->release_done = done;
	ha->release_arg = arg;
	evtimer_del(ha->timer);
	dynamodb_call_cancel(ha->table_call);
	ha->table_call = NULL;
	for (size_t i = 0; i < ha->n_groups; i++) {
		struct ha_group *g = ha->groups[i];
		const char *version, *alt;

		if (!lease_release(&g->lease, &version, &alt) || !ha->table_ok) {
			dynamodb_call_cancel(g->call);
			g->call = NULL;
			continue;
		}
		/* A renewal in flight may land or not: delete either version of ours. */
		struct dynamodb_lease_write w = {.op = DYNAMODB_LEASE_RELEASE,
			.table = ha->table,
			.name = g->name,
			.expect_version = version,
			.expect_holder = ha->identity,
			.expect_version_alt = alt};
		dynamodb_call_cancel(g->call);
		g->call = NULL;
		if (dynamodb_write_lease(ha->client, &w, on_released, g, &g->call) == 0)
			ha->releases_pending++;
	}
	if (ha->releases_pending == 0)
		event_base_once(
			ha->base, -1, EV_TIMEOUT, release_none, ha, &(struct timeval){0, 0});
	return ha->releases_pending;
}
