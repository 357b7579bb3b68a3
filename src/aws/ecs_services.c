/*
 * ECS services: DescribeServices and UpdateService bodies and the strict
 * parsers of their answers, plus the small pieces every ECS parser shares
 * (failures[], request framing).
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/xalloc.h"
#include "ecs_priv.h"

#define COUNT_MAX INT32_MAX

/* See ecs_priv.h. */
char *ecs_strdup_opt(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

/* What ecs_failure_parse reads of each failures[] entry. */
static const struct json_keep_member failure_members[] = {
	{"arn", NULL},
	{"reason", NULL},
	{"detail", NULL},
	{NULL, NULL},
};
static const struct json_keep failure_keep = {.members = failure_members};

/* See ecs_priv.h. */
const struct json_keep ecs_failures_keep = {.items = &failure_keep};

/* See ecs_priv.h. */
int ecs_failure_parse(yajl_val v, struct ecs_failure *out, struct aws_error *diag)
{
	const char *arn;
	const char *reason;
	const char *detail;
	int r;

	if (!YAJL_IS_OBJECT(v))
		return aws_json_fail(diag, "a failures[] entry is not an object");
	/* The model marks nothing required; an entry without arn cannot be matched. */
	if ((r = aws_json_string(v, "arn", true, &arn, diag)) < 0 ||
		(r = aws_json_string(v, "reason", false, &reason, diag)) < 0 ||
		(r = aws_json_string(v, "detail", false, &detail, diag)) < 0)
		return r;
	out->arn = xstrdup(arn);
	out->reason = xstrdup(reason != NULL ? reason : "");
	out->detail = ecs_strdup_opt(detail);
	return 0;
}

/* See ecs_priv.h. */
void ecs_failure_finish(struct ecs_failure *f)
{
	free(f->arn);
	free(f->reason);
	free(f->detail);
	memset(f, 0, sizeof(*f));
}

/* See ecs_priv.h. */
void ecs_failure_copy(struct ecs_failure *dst, const struct ecs_failure *src)
{
	dst->arn = ecs_strdup_opt(src->arn);
	dst->reason = ecs_strdup_opt(src->reason);
	dst->detail = ecs_strdup_opt(src->detail);
}

/* See ecs_priv.h. */
int ecs_gen_open(yajl_gen g, const char *cluster)
{
	if (yajl_gen_map_open(g) != yajl_gen_status_ok)
		return -EINVAL;
	return cluster != NULL ? aws_json_gen_kv_str(g, "cluster", cluster) : 0;
}

/* See ecs_priv.h. */
int ecs_gen_str_array(yajl_gen g, const char *key, const char *const *items, size_t n)
{
	int r = aws_json_gen_str(g, key);

	if (r == 0 && yajl_gen_array_open(g) != yajl_gen_status_ok)
		r = -EINVAL;
	for (size_t i = 0; r == 0 && i < n; i++)
		r = aws_json_gen_str(g, items[i]);
	if (r == 0 && yajl_gen_array_close(g) != yajl_gen_status_ok)
		r = -EINVAL;
	return r;
}

/* See ecs_priv.h. */
int ecs_gen_close(yajl_gen g, int r, char **out_body, size_t *out_len)
{
	if (r == 0 && yajl_gen_map_close(g) != yajl_gen_status_ok)
		r = -EINVAL;
	if (r < 0) {
		yajl_gen_free(g);
		return r;
	}
	return aws_json_gen_finish(g, out_body, out_len);
}

/* See ecs.h. */
void ecs_service_finish(struct ecs_service *s)
{
	if (s == NULL)
		return;
	free(s->name);
	ecs_failure_finish(&s->failure);
	free(s->service_name);
	free(s->arn);
	free(s->cluster_arn);
	free(s->status);
	free(s->task_definition);
	free(s->launch_type);
	memset(s, 0, sizeof(*s));
}

/* See ecs.h. */
void ecs_service_list_finish(struct ecs_service_list *l)
{
	if (l == NULL)
		return;
	for (size_t i = 0; i < l->n_services; i++)
		ecs_service_finish(&l->services[i]);
	free(l->services);
	memset(l, 0, sizeof(*l));
}

/* See ecs.h. */
int ecs_describe_services_request(const char *cluster, const char *const *services, size_t n,
	char **out_body, size_t *out_len)
{
	if (services == NULL || n == 0 || n > ECS_DESCRIBE_SERVICES_MAX)
		return -EINVAL;
	yajl_gen g = aws_json_gen_create();
	int r = ecs_gen_open(g, cluster);

	if (r == 0)
		r = ecs_gen_str_array(g, "services", services, n);
	return ecs_gen_close(g, r, out_body, out_len);
}

/* See ecs.h. */
int ecs_update_service_request(
	const char *cluster, const char *service, int64_t desired, char **out_body, size_t *out_len)
{
	if (service == NULL || desired < 0 || desired > COUNT_MAX)
		return -EINVAL;
	yajl_gen g = aws_json_gen_create();
	int r = ecs_gen_open(g, cluster);

	if (r == 0)
		r = aws_json_gen_kv_str(g, "service", service);
	if (r == 0)
		r = aws_json_gen_kv_int(g, "desiredCount", desired);
	return ecs_gen_close(g, r, out_body, out_len);
}

/* Parse one Service object into a zeroed *out; on failure *out is freed again. */
static int parse_service(yajl_val v, struct ecs_service *out, struct aws_error *diag)
{
	const char *name;
	const char *arn;
	const char *cluster_arn;
	const char *status;
	const char *task_definition;
	const char *launch_type;
	int64_t desired;
	int64_t running;
	int64_t pending;
	int r;

	if (!YAJL_IS_OBJECT(v))
		return aws_json_fail(diag, "a service is not an object");
	if ((r = aws_json_string(v, "serviceName", true, &name, diag)) < 0 ||
		(r = aws_json_string(v, "serviceArn", true, &arn, diag)) < 0 ||
		(r = aws_json_string(v, "clusterArn", false, &cluster_arn, diag)) < 0 ||
		(r = aws_json_string(v, "status", true, &status, diag)) < 0 ||
		(r = aws_json_string(v, "taskDefinition", false, &task_definition, diag)) < 0 ||
		(r = aws_json_string(v, "launchType", false, &launch_type, diag)) < 0 ||
		(r = aws_json_int(v, "desiredCount", true, 0, COUNT_MAX, &desired, NULL, diag)) <
			0 ||
		(r = aws_json_int(v, "runningCount", true, 0, COUNT_MAX, &running, NULL, diag)) <
			0 ||
		(r = aws_json_int(v, "pendingCount", true, 0, COUNT_MAX, &pending, NULL, diag)) < 0)
		return r;
	out->found = true;
	out->service_name = xstrdup(name);
	out->arn = xstrdup(arn);
	out->cluster_arn = ecs_strdup_opt(cluster_arn);
	out->status = xstrdup(status);
	out->task_definition = ecs_strdup_opt(task_definition);
	out->launch_type = ecs_strdup_opt(launch_type);
	out->desired = desired;
	out->running = running;
	out->pending = pending;
	return 0;
}

/* Copy the parsed fields of src into a zeroed dst. */
static void copy_service(struct ecs_service *dst, const struct ecs_service *src)
{
	dst->found = src->found;
	ecs_failure_copy(&dst->failure, &src->failure);
	dst->service_name = ecs_strdup_opt(src->service_name);
	dst->arn = ecs_strdup_opt(src->arn);
	dst->cluster_arn = ecs_strdup_opt(src->cluster_arn);
	dst->status = ecs_strdup_opt(src->status);
	dst->task_definition = ecs_strdup_opt(src->task_definition);
	dst->launch_type = ecs_strdup_opt(src->launch_type);
	dst->desired = src->desired;
	dst->running = src->running;
	dst->pending = src->pending;
}

/* Whether a failure's arn names the service called name (an ARN or a bare name). */
static bool failure_matches(const char *arn, const char *name)
{
	size_t la = strlen(arn);
	size_t ln = strlen(name);

	if (strcmp(arn, name) == 0)
		return true;
	return ln > 0 && la > ln && arn[la - ln - 1] == '/' && strcmp(arn + la - ln, name) == 0;
}

/* What parse_service and ecs_failure_parse read of a DescribeServices answer. */
static const struct json_keep_member service_members[] = {
	{"serviceName", NULL},
	{"serviceArn", NULL},
	{"clusterArn", NULL},
	{"status", NULL},
	{"taskDefinition", NULL},
	{"launchType", NULL},
	{"desiredCount", NULL},
	{"runningCount", NULL},
	{"pendingCount", NULL},
	{NULL, NULL},
};
static const struct json_keep service_keep = {.members = service_members};
static const struct json_keep services_keep = {.items = &service_keep};
static const struct json_keep_member describe_members[] = {
	{"__type", NULL},
	{"services", &services_keep},
	{"failures", &ecs_failures_keep},
	{NULL, NULL},
};
/*
 * A real answer carries deployments and up to 100 events per service; the
 * tree keeps none of them.
 */
static const struct json_keep describe_keep = {.members = describe_members};

/* See ecs.h. */
int ecs_describe_services_parse(const char *body, size_t len, const char *const *names,
	size_t n_names, struct ecs_service_list *out, struct aws_error *diag)
{
	yajl_val tree;
	yajl_val services;
	yajl_val failures;
	int r = aws_json_parse_keep(body, len, &describe_keep, &tree, diag);

	if (r < 0)
		return r;
	if ((r = aws_json_array(tree, "services", false, ECS_ARRAY_MAX, &services, diag)) < 0 ||
		(r = aws_json_array(tree, "failures", false, ECS_ARRAY_MAX, &failures, diag)) < 0) {
		json_tree_free(tree);
		return r;
	}
	size_t n_s = aws_json_len(services);
	size_t n_f = aws_json_len(failures);
	struct ecs_service *got = xcalloc(n_s + n_f + 1, sizeof(*got));
	size_t n_got = 0;

	for (size_t i = 0; r == 0 && i < n_s; i++) {
		r = parse_service(aws_json_item(services, i), &got[n_got], diag);
		if (r == 0)
			n_got++;
		else
			ecs_service_finish(&got[n_got]);
	}
	for (size_t i = 0; r == 0 && i < n_f; i++) {
		r = ecs_failure_parse(aws_json_item(failures, i), &got[n_got].failure, diag);
		if (r == 0)
			n_got++;
		else
			ecs_failure_finish(&got[n_got].failure);
	}
	json_tree_free(tree);

	/* Build the answer in the order asked; nothing reaches out unless all matched. */
	struct ecs_service *res = r == 0 ? xcalloc(n_names + 1, sizeof(*res)) : NULL;

	for (size_t i = 0; r == 0 && i < n_names; i++) {
		const struct ecs_service *m = NULL;

		for (size_t j = 0; m == NULL && j < n_got; j++) {
			const struct ecs_service *s = &got[j];

			if (s->found &&
				(strcmp(s->service_name, names[i]) == 0 ||
					strcmp(s->arn, names[i]) == 0))
				m = s;
			else if (!s->found && failure_matches(s->failure.arn, names[i]))
				m = s;
		}
		if (m == NULL) {
			r = aws_json_fail(diag,
				"service \"%.200s\" is in neither services nor failures", names[i]);
			break;
		}
		res[i].name = xstrdup(names[i]);
		copy_service(&res[i], m);
	}
	for (size_t j = 0; j < n_got; j++)
		ecs_service_finish(&got[j]);
	free(got);
	if (r < 0) {
		for (size_t i = 0; res != NULL && i < n_names; i++)
			ecs_service_finish(&res[i]);
		free(res);
		return r;
	}
	out->services = xreallocarray(out->services, out->n_services + n_names, sizeof(*res));
	memcpy(out->services + out->n_services, res, n_names * sizeof(*res));
	out->n_services += n_names;
	free(res);
	return 0;
}

/* See ecs.h. */
int ecs_update_service_parse(
	const char *body, size_t len, struct ecs_service *out, struct aws_error *diag)
{
	yajl_val tree;
	yajl_val service;
	int r = aws_json_parse(body, len, &tree, diag);

	if (r < 0)
		return r;
	struct ecs_service s = {0};

	r = aws_json_object(tree, "service", true, &service, diag);
	if (r == 0)
		r = parse_service(service, &s, diag);
	json_tree_free(tree);
	if (r < 0) {
		ecs_service_finish(&s);
		return r;
	}
	s.name = xstrdup(s.service_name);
	*out = s;
	return 0;
}
