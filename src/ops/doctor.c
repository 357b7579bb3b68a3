/*
 * `qscale doctor [-c FILE]`: check, one line each (ok, warn, FAIL), what the
 * daemon needs: the region and where it came from, the credentials (source,
 * age, expiry), the SQS and ECS endpoints (an unsigned GET: reachability and
 * the server's Date for clock skew), and for every policy each read call the
 * daemon makes, with the IAM action named when one is denied. With `ha:`, the
 * DynamoDB endpoint too, the lease table (DescribeTable: it exists, is
 * ACTIVE, has the key schema the lease needs) and a read of each lease.
 *
 * UpdateService is never called: no call of it is free of effect (even the
 * current desiredCount races with a running daemon and is an update in the
 * service's history), and ECS has no dry-run flag. It is reported "not
 * verified" (warn), or not needed when the config is in dry-run.
 *
 * Exit status: 0 when nothing failed, 1 when any check failed, 2 for a usage
 * or configuration error.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <event2/event.h>

#include "qscale/aws_client.h"
#include "qscale/cloud_aws.h"
#include "qscale/aws_endpoint.h"
#include "qscale/aws_retry.h"
#include "qscale/credentials.h"
#include "qscale/doctor.h"
#include "qscale/dynamodb.h"
#include "qscale/ecs.h"
#include "qscale/ecs_filter.h"
#include "qscale/http.h"
#include "qscale/log.h"
#include "qscale/policy.h"
#include "qscale/sqs.h"
#include "qscale/xalloc.h"

/* One reported line. */
struct check {
	bool set;
	enum doctor_level level;
	char text[640];
};

/* The checks of one policy, in the order they print. */
enum { PC_QUEUE, PC_LOCAL, PC_BURST, PC_LIST, PC_DESCRIBE, PC_TASKDEF, PC_UPDATE, PC_N };

struct doctor;

struct doctor_policy {
	struct doctor *dr;
	const struct policy *policy;
	struct check checks[PC_N];
};

/* An endpoint probe. */
struct probe {
	struct doctor *dr;
	enum aws_service service;
	struct check check;
	bool have_offset;
	int64_t offset_ms;
	uint64_t started_ms;
};

/* The read of one lease. */
struct lease_check {
	struct doctor *dr;
	const char *name;
	struct check check;
};

struct doctor {
	struct event_base *base;
	const struct qscale_config *config;
	struct aws_client *client;
	struct http_client *http;
	struct check region, credentials, clock;
	struct probe probes[AWS_SERVICE_COUNT];
	struct check ha_table, ha_write;
	struct lease_check *ha_leases; /* one per lease group */
	size_t n_ha;
	struct doctor_policy *policies;
	size_t outstanding; /* callbacks still to come */
	bool creds_ok;
};

/* Set a check's level and text. */
static void set_check(struct check *c, enum doctor_level level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* The definition (printf-checked through the declaration above). */
static void set_check(struct check *c, enum doctor_level level, const char *fmt, ...)
{
	va_list ap;

	c->set = true;
	c->level = level;
	va_start(ap, fmt);
	vsnprintf(c->text, sizeof(c->text), fmt, ap);
	va_end(ap);
}

/* One callback has come; leave the loop after the last. */
static void done_one(struct doctor *dr)
{
	if (--dr->outstanding == 0)
		event_base_loopexit(dr->base, NULL);
}

/* Report a failed call of operation on check c. */
static void call_failed(struct check *c, enum aws_service service, const char *operation,
	const char *what, const struct aws_error *error)
{
	char why[512];
	enum doctor_level level = doctor_explain(service, operation, error, why, sizeof(why));

	set_check(c, level, "%s %s: %s", operation, what, why);
}

/* The unsigned GET of an endpoint answered (or not). */
static void on_probe(const struct http_response *resp, void *arg)
{
	struct probe *pr = arg;
	const char *origin = aws_client_endpoint(pr->dr->client, pr->service);
	uint64_t now = clock_wall_ms(&clock_system);
	uint64_t rtt = clock_mono_ms(&clock_system) - pr->started_ms;

	if (resp->err != 0 || resp->status == 0) {
		set_check(&pr->check, DOCTOR_FAIL, "endpoint %s %s: unreachable: %s",
			aws_service_name(pr->service), origin,
			resp->transport_error[0] != '\0' ? resp->transport_error : "no answer");
	} else {
		set_check(&pr->check, DOCTOR_OK, "endpoint %s %s: reachable (HTTP %ld in %llu ms)",
			aws_service_name(pr->service), origin, resp->status,
			(unsigned long long)rtt);
		pr->have_offset = aws_clock_skew_from_response(
			resp->date, resp->age, now, rtt, &pr->offset_ms);
	}
	done_one(pr->dr);
}

/* Probe the endpoints (DynamoDB's only with ha:) with a plain GET /. */
static void start_probes(struct doctor *dr)
{
	int n = dr->config->ha.present ? AWS_SERVICE_COUNT : 2;

	for (int s = 0; s < n; s++) {
		struct probe *pr = &dr->probes[s];
		const char *origin = aws_client_endpoint(dr->client, (enum aws_service)s);
		char *url = xasprintf("%s/", origin);
		struct http_request_opts o = {
			.method = "GET",
			.url = url,
			.timeout_ms = dr->config->aws.timeout_ms,
			.max_body = 64 * 1024,
		};
		pr->dr = dr;
		pr->service = (enum aws_service)s;
		pr->started_ms = clock_mono_ms(&clock_system);
		if (http_request_start(dr->http, &o, on_probe, pr, NULL) == 0)
			dr->outstanding++;
		else
			set_check(&pr->check, DOCTOR_FAIL, "endpoint %s %s: cannot start a request",
				aws_service_name(pr->service), origin);
		free(url);
	}
}

/* GetQueueAttributes answered. */
static void on_queue(
	int err, const struct aws_error *error, const struct sqs_queue_counts *counts, void *arg)
{
	struct doctor_policy *dp = arg;
	struct check *c = &dp->checks[PC_QUEUE];

	if (err == 0)
		set_check(c, DOCTOR_OK, "GetQueueAttributes %s: ok (%lld visible, %lld in flight)",
			dp->policy->queue.url, (long long)counts->visible,
			(long long)counts->in_flight);
	else
		call_failed(c, AWS_SERVICE_SQS, "GetQueueAttributes", dp->policy->queue.url, error);
	done_one(dp->dr);
}

/* DescribeTaskDefinition of the local service's task definition answered. */
static void on_taskdef(
	int err, const struct aws_error *error, const struct ecs_task_definition *td, void *arg)
{
	struct doctor_policy *dp = arg;
	struct check *c = &dp->checks[PC_TASKDEF];
	struct ecs_task_reservation r = {0};

	if (err != 0) {
		call_failed(c, AWS_SERVICE_ECS, "DescribeTaskDefinition", "", error);
	} else if (ecs_task_reservation_compute(td, &r) < 0) {
		set_check(c, DOCTOR_FAIL, "DescribeTaskDefinition %s: its sizes overflow",
			td->arn != NULL ? td->arn : "?");
	} else {
		set_check(c, r.cpu_units == 0 && r.memory_mib == 0 ? DOCTOR_WARN : DOCTOR_OK,
			"DescribeTaskDefinition %s:%lld: ok (one task reserves %lld CPU units, "
			"%lld MiB%s)",
			td->family != NULL ? td->family : "?", (long long)td->revision,
			(long long)r.cpu_units, (long long)r.memory_mib,
			r.cpu_units == 0 && r.memory_mib == 0 ? "; nothing limits placement" : "");
	}
	ecs_task_reservation_finish(&r);
	done_one(dp->dr);
}

/* Judge one service as DescribeServices found it; local says which of the policy's. */
static void judge_service(struct doctor_policy *dp, bool local, const struct ecs_service *s)
{
	struct check *c = &dp->checks[local ? PC_LOCAL : PC_BURST];
	const char *cluster = local ? dp->policy->local.cluster : dp->policy->burst.cluster;
	const char *name = local ? dp->policy->local.service : dp->policy->burst.service;
	const char *lt = s->launch_type != NULL ? s->launch_type : "capacity provider";

	if (!s->found) {
		set_check(c, DOCTOR_FAIL, "DescribeServices %s/%s: service not found (%s)", cluster,
			name, s->failure.reason != NULL ? s->failure.reason : "MISSING");
		return;
	}
	if (s->status == NULL || strcmp(s->status, "ACTIVE") != 0) {
		set_check(c, DOCTOR_FAIL, "DescribeServices %s/%s: service is %s, not ACTIVE",
			cluster, name, s->status != NULL ? s->status : "of no status");
		return;
	}
	bool odd = local ? (s->launch_type != NULL && strcmp(s->launch_type, "EXTERNAL") != 0)
			 : (s->launch_type != NULL && strcmp(s->launch_type, "FARGATE") != 0);
	set_check(c, odd ? DOCTOR_WARN : DOCTOR_OK,
		"DescribeServices %s/%s: ok (ACTIVE, %s, desired %lld, running %lld)%s", cluster,
		name, lt, (long long)s->desired, (long long)s->running,
		odd ? (local ? "; a local service is normally EXTERNAL"
			     : "; a burst service is normally FARGATE")
		    : "");
}

/* DescribeServices for the local service answered: then its task definition. */
static void on_local(
	int err, const struct aws_error *error, const struct ecs_service_list *list, void *arg)
{
	struct doctor_policy *dp = arg;
	char what[300];

	snprintf(what, sizeof(what), "%s/%s", dp->policy->local.cluster, dp->policy->local.service);
	if (err != 0) {
		call_failed(
			&dp->checks[PC_LOCAL], AWS_SERVICE_ECS, "DescribeServices", what, error);
		set_check(&dp->checks[PC_TASKDEF], DOCTOR_WARN,
			"DescribeTaskDefinition: not verified (the local service was not "
			"described)");
	} else {
		const struct ecs_service *s = &list->services[0];
		judge_service(dp, true, s);
		if (s->found && s->task_definition != NULL &&
			ecs_describe_task_definition(
				dp->dr->client, s->task_definition, on_taskdef, dp, NULL) == 0)
			dp->dr->outstanding++;
		else
			set_check(&dp->checks[PC_TASKDEF], DOCTOR_WARN,
				"DescribeTaskDefinition: not verified (no task definition to "
				"describe)");
	}
	done_one(dp->dr);
}

/* DescribeServices for the burst service answered. */
static void on_burst(
	int err, const struct aws_error *error, const struct ecs_service_list *list, void *arg)
{
	struct doctor_policy *dp = arg;
	char what[300];

	snprintf(what, sizeof(what), "%s/%s", dp->policy->burst.cluster, dp->policy->burst.service);
	if (err != 0)
		call_failed(
			&dp->checks[PC_BURST], AWS_SERVICE_ECS, "DescribeServices", what, error);
	else
		judge_service(dp, false, &list->services[0]);
	done_one(dp->dr);
}

/* DescribeContainerInstances answered: count what could take local tasks. */
static void on_describe(
	int err, const struct aws_error *error, const struct ecs_instance_set *set, void *arg)
{
	struct doctor_policy *dp = arg;
	struct check *c = &dp->checks[PC_DESCRIBE];
	const struct policy_filter *f = &dp->policy->local.instance_filter;
	size_t connected = 0, matching = 0;

	if (err != 0) {
		call_failed(c, AWS_SERVICE_ECS, "DescribeContainerInstances",
			dp->policy->local.cluster, error);
		done_one(dp->dr);
		return;
	}
	for (size_t i = 0; i < set->n_instances; i++) {
		const struct ecs_container_instance *in = &set->instances[i];
		struct ecs_filter_attribute *attrs = xcalloc(in->n_attributes + 1, sizeof(*attrs));
		for (size_t k = 0; k < in->n_attributes; k++)
			attrs[k] = (struct ecs_filter_attribute){
				in->attributes[k].name, in->attributes[k].value};
		struct ecs_filter_instance fi = {
			attrs, in->n_attributes, in->agent_connected, in->ec2_instance_id};
		if (in->agent_connected)
			connected++;
		if (in->agent_connected &&
			(f->compiled == NULL || ecs_filter_match(f->compiled, &fi)))
			matching++;
		free(attrs);
	}
	set_check(c, matching == 0 ? DOCTOR_WARN : DOCTOR_OK,
		"DescribeContainerInstances %s: ok (%zu described, %zu connected, %zu "
		"eligible%s%s)%s",
		dp->policy->local.cluster, set->n_instances, connected, matching,
		f->text != NULL ? " by " : "", f->text != NULL ? f->text : "",
		matching == 0 ? "; no local task can be placed" : "");
	done_one(dp->dr);
}

/* ListContainerInstances answered: describe (up to) the first hundred. */
static void on_list(
	int err, const struct aws_error *error, const struct ecs_arn_list *arns, void *arg)
{
	struct doctor_policy *dp = arg;
	const char *cluster = dp->policy->local.cluster;

	if (err != 0) {
		call_failed(&dp->checks[PC_LIST], AWS_SERVICE_ECS, "ListContainerInstances",
			cluster, error);
		set_check(&dp->checks[PC_DESCRIBE], DOCTOR_WARN,
			"DescribeContainerInstances %s: not verified (nothing listed)", cluster);
	} else if (arns->n_arns == 0) {
		set_check(&dp->checks[PC_LIST], DOCTOR_WARN,
			"ListContainerInstances %s: ok, but no ACTIVE instance: every task would "
			"burst",
			cluster);
		set_check(&dp->checks[PC_DESCRIBE], DOCTOR_WARN,
			"DescribeContainerInstances %s: not verified (no instance to describe)",
			cluster);
	} else {
		size_t n = arns->n_arns < ECS_DESCRIBE_INSTANCES_MAX ? arns->n_arns
								     : ECS_DESCRIBE_INSTANCES_MAX;
		set_check(&dp->checks[PC_LIST], DOCTOR_OK,
			"ListContainerInstances %s: ok (%zu ACTIVE)", cluster, arns->n_arns);
		if (ecs_describe_container_instances(dp->dr->client, cluster,
			    (const char *const *)arns->arns, n, on_describe, dp, NULL) == 0)
			dp->dr->outstanding++;
		else
			set_check(&dp->checks[PC_DESCRIBE], DOCTOR_FAIL,
				"DescribeContainerInstances %s: cannot start the call", cluster);
	}
	done_one(dp->dr);
}

/* The UpdateService line: never called, see the file's comment. */
static void judge_update(struct doctor *dr, struct doctor_policy *dp)
{
	const struct policy *p = dp->policy;
	char services[300];

	if (p->burst.present)
		snprintf(services, sizeof(services), "%s/%s and %s/%s", p->local.cluster,
			p->local.service, p->burst.cluster, p->burst.service);
	else
		snprintf(services, sizeof(services), "%s/%s", p->local.cluster, p->local.service);
	if (dr->config->dry_run)
		set_check(&dp->checks[PC_UPDATE], DOCTOR_OK,
			"UpdateService %s: not needed (dry_run: true)", services);
	else
		set_check(&dp->checks[PC_UPDATE], DOCTOR_WARN,
			"UpdateService %s: not verified (doctor changes nothing; grant "
			"ecs:UpdateService as `qscale iam-policy` prints)",
			services);
}

/* Start every read call of one policy. */
static void start_policy(struct doctor *dr, struct doctor_policy *dp)
{
	const struct policy *p = dp->policy;
	const char *local[1] = {p->local.service};

	if (sqs_get_queue_attributes(dr->client, p->queue.url, on_queue, dp, NULL) == 0)
		dr->outstanding++;
	else
		set_check(&dp->checks[PC_QUEUE], DOCTOR_FAIL,
			"GetQueueAttributes %s: cannot start the call", p->queue.url);
	if (ecs_describe_services(dr->client, p->local.cluster, local, 1, on_local, dp, NULL) == 0)
		dr->outstanding++;
	else
		set_check(&dp->checks[PC_LOCAL], DOCTOR_FAIL, "DescribeServices: cannot start");
	if (p->burst.present) {
		const char *burst[1] = {p->burst.service};
		if (ecs_describe_services(
			    dr->client, p->burst.cluster, burst, 1, on_burst, dp, NULL) == 0)
			dr->outstanding++;
		else
			set_check(&dp->checks[PC_BURST], DOCTOR_FAIL,
				"DescribeServices: cannot start");
	}
	if (ecs_list_container_instances(
		    dr->client, p->local.cluster, NULL, "ACTIVE", on_list, dp, NULL) == 0)
		dr->outstanding++;
	else
		set_check(
			&dp->checks[PC_LIST], DOCTOR_FAIL, "ListContainerInstances: cannot start");
	judge_update(dr, dp);
}

/* DescribeTable of the lease table answered. */
static void on_ha_table(
	int err, const struct aws_error *error, const struct dynamodb_table_info *info, void *arg)
{
	struct doctor *dr = arg;
	const char *table = dr->config->ha.table;

	if (err < 0 && error != NULL && strcmp(error->code, "ResourceNotFoundException") == 0)
		set_check(&dr->ha_table, DOCTOR_FAIL,
			"ha table %s: does not exist (create it with the partition key '%s' of "
			"type S, no sort key; see docs/ha.md)",
			table, DYNAMODB_LEASE_KEY);
	else if (err < 0)
		call_failed(&dr->ha_table, AWS_SERVICE_DYNAMODB, "DescribeTable", table, error);
	else if (!dynamodb_table_fits_lease(info))
		set_check(&dr->ha_table, DOCTOR_FAIL,
			"ha table %s: wrong key schema: partition key '%s' (%s)%s; the lease needs "
			"the partition key '%s' of type S and no sort key",
			table, info->hash_key, info->hash_type,
			info->has_range_key ? " and a sort key" : "", DYNAMODB_LEASE_KEY);
	else
		set_check(&dr->ha_table, strcmp(info->status, "ACTIVE") == 0 ? DOCTOR_OK : DOCTOR_WARN,
			"ha table %s: %s, partition key '%s' (S)", table, info->status,
			info->hash_key);
	done_one(dr);
}

/* GetItem of one lease answered. */
static void on_ha_lease(int err, const struct aws_error *error, bool found,
	const struct dynamodb_lease_item *item, void *arg)
{
	struct lease_check *lc = arg;
	char what[200];

	snprintf(what, sizeof(what), "%s/%s", lc->dr->config->ha.table, lc->name);
	if (err < 0)
		call_failed(&lc->check, AWS_SERVICE_DYNAMODB, "GetItem", what, error);
	else if (!found)
		set_check(&lc->check, DOCTOR_OK, "GetItem %s: ok (lease free)", what);
	else
		set_check(&lc->check, DOCTOR_OK, "GetItem %s: ok (held by %s)", what, item->holder);
	done_one(lc->dr);
}

/* Add a lease group to check, unless it is there. */
static void add_lease(struct doctor *dr, const char *name)
{
	for (size_t k = 0; k < dr->n_ha; k++) {
		if (strcmp(dr->ha_leases[k].name, name) == 0)
			return;
	}
	dr->ha_leases[dr->n_ha++] = (struct lease_check){.dr = dr, .name = name};
}

/*
 * The HA checks: the table, a read of each lease. The writes are never made
 * (a write would take or disturb a lease a running daemon holds).
 */
static void start_ha(struct doctor *dr)
{
	const struct qscale_config *cfg = dr->config;
	const char *table = cfg->ha.table;

	if (dynamodb_describe_table(dr->client, table, on_ha_table, dr, NULL) == 0)
		dr->outstanding++;
	else
		set_check(&dr->ha_table, DOCTOR_FAIL, "ha table %s: cannot start the call", table);
	dr->ha_leases = xcalloc(cfg->policy_count + 1, sizeof(*dr->ha_leases));
	for (size_t i = 0; i < cfg->policy_count; i++)
		add_lease(dr, cfg->policies[i].lease_group != NULL ? cfg->policies[i].lease_group
								  : cfg->ha.lease);
	if (dr->n_ha == 0)
		add_lease(dr, cfg->ha.lease);
	for (size_t i = 0; i < dr->n_ha; i++) {
		struct lease_check *lc = &dr->ha_leases[i];

		if (dynamodb_get_lease(dr->client, table, lc->name, on_ha_lease, lc, NULL) == 0)
			dr->outstanding++;
		else
			set_check(&lc->check, DOCTOR_FAIL, "GetItem %s/%s: cannot start the call",
				table, lc->name);
	}
	set_check(&dr->ha_write, DOCTOR_WARN,
		"PutItem, UpdateItem, DeleteItem %s: not verified (doctor takes no lease; grant "
		"them as `qscale iam-policy` prints)",
		table);
}

/* The credential chain answered: report it, then make the calls. */
static void on_credentials(int err, const struct sigv4_credentials *creds, void *arg)
{
	struct doctor *dr = arg;
	struct credentials_info info;
	char judged[512];

	credentials_get_info(aws_client_credentials(dr->client), &info);
	if (err != 0) {
		set_check(&dr->credentials, DOCTOR_FAIL,
			"credentials: none found (%s): set "
			"AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY, "
			"a profile, or run where a container or instance role is available",
			strerror(-err));
	} else {
		uint64_t now = clock_wall_ms(&clock_system);
		enum doctor_level level = doctor_judge_credentials(now, info.expiry_wall_ms,
			info.temporary, info.file_mtime_wall_ms, judged, sizeof(judged));
		/* Keys anyone may replace are no keys to trust, as ssh says of its own. */
		if (info.file_warning[0] != '\0') {
			size_t used = strlen(judged);
			snprintf(judged + used, sizeof(judged) - used, "; file %s",
				info.file_warning);
			level = DOCTOR_FAIL;
		}
		set_check(&dr->credentials, level, "credentials: from %s (%s), key %s, %s; %s",
			credentials_source_name(info.source),
			info.detail[0] != '\0' ? info.detail : "no detail", info.access_key_id,
			info.temporary ? "temporary" : "long-term", judged);
		dr->creds_ok = true;
		for (size_t i = 0; i < dr->config->policy_count; i++)
			start_policy(dr, &dr->policies[i]);
		if (dr->config->ha.present)
			start_ha(dr);
	}
	done_one(dr);
}

/* Where the region came from, in the client's order. */
static void judge_region(struct doctor *dr, const char *config_path)
{
	const char *region = aws_client_region(dr->client);
	const char *env;
	char from[400];

	if (dr->config->region != NULL) {
		snprintf(from, sizeof(from), "region in %s", config_path);
	} else if ((env = getenv("AWS_REGION")) != NULL && env[0] != '\0') {
		snprintf(from, sizeof(from), "AWS_REGION");
	} else if ((env = getenv("AWS_DEFAULT_REGION")) != NULL && env[0] != '\0') {
		snprintf(from, sizeof(from), "AWS_DEFAULT_REGION");
	} else {
		const char *file = getenv("AWS_CONFIG_FILE");
		snprintf(from, sizeof(from), "the AWS config file%s%s", file != NULL ? " " : "",
			file != NULL ? file : "");
	}
	set_check(&dr->region, DOCTOR_OK, "region %s (from %s)", region, from);
}

/* Clock skew from the endpoints' Date headers. */
static void judge_clock(struct doctor *dr)
{
	bool have = false;
	int64_t worst = 0;

	for (int s = 0; s < AWS_SERVICE_COUNT; s++) {
		const struct probe *pr = &dr->probes[s];
		if (!pr->have_offset)
			continue;
		int64_t a = pr->offset_ms < 0 ? -pr->offset_ms : pr->offset_ms;
		if (!have || a > (worst < 0 ? -worst : worst))
			worst = pr->offset_ms;
		have = true;
	}
	if (!have) {
		set_check(&dr->clock, DOCTOR_WARN,
			"clock skew: not measured (no endpoint answered with a Date header)");
		return;
	}
	enum doctor_level level = doctor_judge_skew(worst);
	set_check(&dr->clock, level, "clock skew: %+.1f s against the endpoints' Date%s",
		(double)worst / 1000.0,
		level == DOCTOR_OK
			? ""
			: "; AWS refuses requests more than 15 min off: keep NTP running");
}

/* Print one line and fold its level into *worst. */
static void print_check(const struct check *c, enum doctor_level *worst)
{
	if (!c->set)
		return;
	printf("%-4s %s\n", doctor_level_name(c->level), c->text);
	if (c->level > *worst)
		*worst = c->level;
}

/* Print every check in a fixed order; returns the worst level. */
static enum doctor_level report(struct doctor *dr)
{
	enum doctor_level worst = DOCTOR_OK;

	print_check(&dr->region, &worst);
	print_check(&dr->credentials, &worst);
	print_check(&dr->probes[AWS_SERVICE_SQS].check, &worst);
	print_check(&dr->probes[AWS_SERVICE_ECS].check, &worst);
	print_check(&dr->probes[AWS_SERVICE_DYNAMODB].check, &worst);
	print_check(&dr->clock, &worst);
	if (dr->config->ha.present && dr->creds_ok) {
		printf("ha (identity %s):\n",
			dr->config->ha.identity != NULL ? dr->config->ha.identity
							: "the host name and a random suffix");
		printf("  ");
		print_check(&dr->ha_table, &worst);
		for (size_t i = 0; i < dr->n_ha; i++) {
			printf("  ");
			print_check(&dr->ha_leases[i].check, &worst);
		}
		printf("  ");
		print_check(&dr->ha_write, &worst);
	}
	if (dr->config->policy_count == 0)
		printf("warn no policies: nothing to check per policy\n");
	for (size_t i = 0; i < dr->config->policy_count && dr->creds_ok; i++) {
		const struct doctor_policy *dp = &dr->policies[i];
		printf("policy %s:\n", dp->policy->name);
		for (int k = 0; k < PC_N; k++) {
			if (!dp->checks[k].set)
				continue;
			printf("  ");
			print_check(&dp->checks[k], &worst);
		}
	}
	return worst;
}

int doctor_run(const struct qscale_config *config)
{
	struct doctor dr = {.config = config};
	int status = 1;
	int rc;

	dr.base = event_base_new();
	if (dr.base == NULL)
		return 1;
	rc = cloud_aws_client_create(dr.base, config, &clock_system, &dr.client);
	if (rc < 0) {
		printf("FAIL region/endpoints: %s\n",
			rc == -EINVAL ? "no valid region or a bad endpoint URL: set region in the "
					"config, AWS_REGION or AWS_DEFAULT_REGION"
				      : strerror(-rc));
		event_base_free(dr.base);
		return 1;
	}
	if (http_client_create(dr.base, NULL, &dr.http) < 0) {
		aws_client_destroy(dr.client);
		event_base_free(dr.base);
		return 1;
	}
	judge_region(&dr, config->file);
	dr.policies = xcalloc(config->policy_count + 1, sizeof(*dr.policies));
	for (size_t i = 0; i < config->policy_count; i++) {
		dr.policies[i].dr = &dr;
		dr.policies[i].policy = &config->policies[i];
	}
	start_probes(&dr);
	if (credentials_get(aws_client_credentials(dr.client), on_credentials, &dr, NULL) == 0)
		dr.outstanding++;
	else
		set_check(&dr.credentials, DOCTOR_FAIL, "credentials: cannot ask the chain");
	if (dr.outstanding > 0)
		event_base_dispatch(dr.base);
	judge_clock(&dr);
	status = report(&dr) == DOCTOR_FAIL ? 1 : 0;
	free(dr.policies);
	free(dr.ha_leases);
	http_client_destroy(dr.http);
	aws_client_destroy(dr.client);
	event_base_free(dr.base);
	if (fflush(stdout) != 0)
		status = 1;
	return status;
}
