/*
 * The least-privilege IAM policy document for the configured policies. Each
 * statement names exact ARNs (queue, services, local clusters and their
 * container instances), listed in config order without duplicates; only
 * ecs:DescribeTaskDefinition gets "*", because ECS offers no resource-level
 * permission for it. With `ha:`, the lease calls on the lease table's ARN. Pure: no I/O; JSON
 * written with yajl's generator.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_gen.h>

#include "qscale/iam_policy.h"
#include "qscale/policy.h"
#include "qscale/sqs.h"
#include "qscale/xalloc.h"

/* A growable list of distinct strings, in insertion order. */
struct str_list {
	char **items;
	size_t n;
};

/* Append s (owned) unless an equal string is there already. */
static void list_add(struct str_list *l, char *s)
{
	for (size_t i = 0; i < l->n; i++) {
		if (strcmp(l->items[i], s) == 0) {
			free(s);
			return;
		}
	}
	l->items = xrealloc(l->items, (l->n + 1) * sizeof(*l->items));
	l->items[l->n++] = s;
}

/* Free every string and the list. */
static void list_free(struct str_list *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->items[i]);
	free(l->items);
	l->items = NULL;
	l->n = 0;
}

/* Write a message into error. */
static int fail(char error[IAM_POLICY_ERROR_MAX], const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

/* The definition (printf-checked through the declaration above). */
static int fail(char error[IAM_POLICY_ERROR_MAX], const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(error, IAM_POLICY_ERROR_MAX, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

/* Whether s is exactly twelve decimal digits, as every AWS account id is. */
static bool is_account(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9')
			return false;
	}
	return n == 12;
}

/* Whether s looks like a region name: [a-z0-9-], 1..63 characters. */
static bool is_region(const char *s)
{
	size_t n = 0;

	for (; s[n] != '\0'; n++) {
		if (!((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '-'))
			return false;
	}
	return n >= 1 && n <= 63;
}

/* The ARN partition by region prefix. */
const char *iam_partition(const char *region)
{
	if (strncmp(region, "cn-", 3) == 0)
		return "aws-cn";
	if (strncmp(region, "us-gov-", 7) == 0)
		return "aws-us-gov";
	return "aws";
}

/* Split a queue URL into region (from the host), account and name (from the path). */
int iam_queue_url_parts(const char *url, char region[64], char account[16], char name[96])
{
	char r[SQS_REGION_MAX + 1];
	const char *p;
	int err;

	if (url == NULL)
		return -EINVAL;
	err = sqs_queue_url_region(url, r);
	if (err == -ENOENT)
		r[0] = '\0';
	else if (err < 0)
		return -EINVAL;
	p = strstr(url, "://");
	if (p == NULL)
		return -EINVAL;
	p = strchr(p + 3, '/');
	if (p == NULL)
		return -EINVAL;
	p++;
	const char *slash = strchr(p, '/');
	if (slash == NULL || slash - p != 12)
		return -EINVAL;
	char acct[16];
	memcpy(acct, p, 12);
	acct[12] = '\0';
	if (!is_account(acct))
		return -EINVAL;
	const char *n = slash + 1;
	size_t len = strcspn(n, "/?#");
	if (len == 0 || len >= 96 || n[len] == '/' || n[len] == '?' || n[len] == '#')
		return -EINVAL;
	for (size_t i = 0; i < len; i++) {
		char c = n[i];
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_' || c == '.'))
			return -EINVAL;
	}
	snprintf(region, 64, "%s", r);
	memcpy(account, acct, 13);
	memcpy(name, n, len);
	name[len] = '\0';
	return 0;
}

/* The last '/'-separated part of an ARN, or s itself when it is a plain name. */
static const char *short_name(const char *s)
{
	const char *slash;

	if (strncmp(s, "arn:", 4) != 0)
		return s;
	slash = strrchr(s, '/');
	return slash != NULL ? slash + 1 : s;
}

/* Emit a JSON string. */
static void gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

/* One Allow statement: Sid, Action (string or list) and Resource (list, or "*"). */
static void gen_statement(yajl_gen g, const char *sid, const char *const *actions, size_t n_actions,
	const struct str_list *resources)
{
	yajl_gen_map_open(g);
	gen_str(g, "Sid");
	gen_str(g, sid);
	gen_str(g, "Effect");
	gen_str(g, "Allow");
	gen_str(g, "Action");
	if (n_actions == 1) {
		gen_str(g, actions[0]);
	} else {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < n_actions; i++)
			gen_str(g, actions[i]);
		yajl_gen_array_close(g);
	}
	gen_str(g, "Resource");
	if (resources == NULL) {
		gen_str(g, "*");
	} else {
		yajl_gen_array_open(g);
		for (size_t i = 0; i < resources->n; i++)
			gen_str(g, resources->items[i]);
		yajl_gen_array_close(g);
	}
	yajl_gen_map_close(g);
}

/* An IAM policy document up to its Statement list, pretty-printed. */
static yajl_gen document_open(void)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	yajl_gen_config(g, yajl_gen_beautify, 1);
	yajl_gen_config(g, yajl_gen_indent_string, "  ");
	yajl_gen_map_open(g);
	gen_str(g, "Version");
	gen_str(g, "2012-10-17");
	gen_str(g, "Statement");
	yajl_gen_array_open(g);
	return g;
}

/* The document's text, closed and freed. */
static char *document_close(yajl_gen g)
{
	const unsigned char *buf;
	size_t len;
	char *text;

	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &buf, &len);
	/* yajl's beautifier already ends the document with a newline. */
	text = xasprintf("%.*s", (int)len, (const char *)buf);
	yajl_gen_free(g);
	return text;
}

/* The ECS account: the configured one, else the one every queue URL names. */
static int ecs_account(const struct iam_policy_input *in, const struct str_list *accounts,
	const char **out, char error[IAM_POLICY_ERROR_MAX])
{
	const char *acct = in->account_id;

	if (acct == NULL && in->config->aws.account_id != NULL)
		acct = in->config->aws.account_id;
	if (acct != NULL) {
		if (!is_account(acct))
			return fail(error, "account id '%s' is not 12 digits", acct);
		*out = acct;
		return 0;
	}
	if (accounts->n != 1)
		return fail(error,
			"the queue URLs name %zu accounts; set aws.account_id (or --account-id) "
			"to the account of the ECS clusters",
			accounts->n);
	*out = accounts->items[0];
	return 0;
}

/* Collect the resource ARNs of every statement. */
static int collect(const struct iam_policy_input *in, struct str_list *queues,
	struct str_list *services, struct str_list *clusters, struct str_list *instances,
	struct str_list *tables, char error[IAM_POLICY_ERROR_MAX])
{
	const struct qscale_config *cfg = in->config;
	const char *part = iam_partition(in->region);
	struct str_list accounts = {0};
	const char *acct = NULL;
	int err;

	for (size_t i = 0; i < cfg->policy_count; i++) {
		const struct policy *p = &cfg->policies[i];
		char region[64], account[16], name[96];
		if (iam_queue_url_parts(p->queue.url, region, account, name) < 0) {
			list_free(&accounts);
			return fail(error,
				"policy %s: queue URL '%s' is not https://host/<account>/<name>",
				p->name, p->queue.url);
		}
		const char *qregion = region[0] != '\0' ? region : in->region;
		list_add(queues,
			xasprintf("arn:%s:sqs:%s:%s:%s", iam_partition(qregion), qregion, account,
				name));
		list_add(&accounts, xstrdup(account));
	}
	err = ecs_account(in, &accounts, &acct, error);
	if (err < 0) {
		list_free(&accounts);
		return err;
	}
	for (size_t i = 0; i < cfg->policy_count; i++) {
		const struct policy *p = &cfg->policies[i];
		const char *lc = short_name(p->local.cluster);
		list_add(services,
			xasprintf("arn:%s:ecs:%s:%s:service/%s/%s", part, in->region, acct, lc,
				short_name(p->local.service)));
		if (p->burst.present)
			list_add(services,
				xasprintf("arn:%s:ecs:%s:%s:service/%s/%s", part, in->region, acct,
					short_name(p->burst.cluster),
					short_name(p->burst.service)));
		list_add(clusters,
			xasprintf("arn:%s:ecs:%s:%s:cluster/%s", part, in->region, acct, lc));
		/* The lease table lives in the daemon's region and the ECS account. */
		if (cfg->ha.present)
			list_add(tables,
				xasprintf("arn:%s:dynamodb:%s:%s:table/%s", part, in->region, acct,
					cfg->ha.table));
		list_add(instances,
			xasprintf("arn:%s:ecs:%s:%s:container-instance/%s/*", part, in->region,
				acct, lc));
	}
	list_free(&accounts);
	return 0;
}

/* Collect the ARNs, then write the statements in a fixed order. */
int iam_policy_build(
	const struct iam_policy_input *in, char **out, char error[IAM_POLICY_ERROR_MAX])
{
	struct str_list queues = {0}, services = {0}, clusters = {0}, instances = {0}, tables = {0};
	static const char *const lease_actions[] = {"dynamodb:DescribeTable", "dynamodb:GetItem",
		"dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"};
	static const char *const read_write[] = {"ecs:DescribeServices", "ecs:UpdateService"};
	static const char *const sqs_actions[] = {"sqs:GetQueueAttributes"};
	static const char *const list_actions[] = {"ecs:ListContainerInstances"};
	static const char *const describe_actions[] = {"ecs:DescribeContainerInstances"};
	static const char *const taskdef_actions[] = {"ecs:DescribeTaskDefinition"};
	int err;

	if (in == NULL || in->config == NULL || out == NULL || error == NULL)
		return -EINVAL;
	error[0] = '\0';
	if (in->region == NULL || !is_region(in->region))
		return fail(error,
			"no valid region: set region in the config, AWS_REGION or "
			"AWS_DEFAULT_REGION");
	if (in->config->policy_count == 0)
		return fail(error, "no policies configured: nothing needs a permission");
	err = collect(in, &queues, &services, &clusters, &instances, &tables, error);
	if (err == 0) {
		yajl_gen g = document_open();

		gen_statement(g, "QscaleReadQueueDepth", sqs_actions, 1, &queues);
		gen_statement(g,
			in->read_only ? "QscaleReadServices" : "QscaleReadAndScaleServices",
			read_write, in->read_only ? 1 : 2, &services);
		gen_statement(g, "QscaleListLocalInstances", list_actions, 1, &clusters);
		gen_statement(g, "QscaleDescribeLocalInstances", describe_actions, 1, &instances);
		gen_statement(g, "QscaleDescribeTaskDefinitionHasNoResourceLevelPermissions",
			taskdef_actions, 1, NULL);
		if (tables.n > 0)
			gen_statement(g, "QscaleHaLease", lease_actions,
				in->read_only ? 2
					      : sizeof(lease_actions) / sizeof(lease_actions[0]),
				&tables);
		*out = document_close(g);
	}
	list_free(&queues);
	list_free(&services);
	list_free(&clusters);
	list_free(&instances);
	list_free(&tables);
	return err;
}

/* See qscale/iam_policy.h. */
int iam_policy_assume_role(const char *role_arn, char **out, char error[IAM_POLICY_ERROR_MAX])
{
	static const char *const actions[] = {"sts:AssumeRole"};
	struct str_list roles = {0};
	const char *p = role_arn != NULL && strncmp(role_arn, "arn:", 4) == 0 ? role_arn + 4 : NULL;
	const char *iam = p != NULL ? strstr(p, ":iam::") : NULL;

	error[0] = '\0';
	if (iam == NULL || iam == p || strspn(iam + 6, "0123456789") != 12 ||
		strncmp(iam + 18, ":role/", 6) != 0 || iam[24] == '\0' ||
		strspn(p, "abcdefghijklmnopqrstuvwxyz-") != (size_t)(iam - p))
		return fail(error, "'%s' is not a role ARN (arn:aws:iam::<account>:role/<name>)",
			role_arn != NULL ? role_arn : "");
	list_add(&roles, xstrdup(role_arn));
	yajl_gen g = document_open();

	gen_statement(g, "QscaleAssumeItsRole", actions, 1, &roles);
	*out = document_close(g);
	list_free(&roles);
	return 0;
}
