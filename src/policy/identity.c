/*
 * One spelling per ECS cluster and service. A policy may name its clusters
 * and services by name or by ARN (arn:PARTITION:ecs:REGION:ACCOUNT:cluster/NAME,
 * ...:service/NAME, ...:service/CLUSTER/NAME); everything after loading sees
 * the name only, so that two spellings of one service are one service (the
 * check that no two policies drive it, capacity shared per real cluster). An
 * ARN that names another region or account than the configuration, another
 * resource type, or a service of another cluster than the section's, is an
 * error at its position. The region is the file's `region`, else the queue
 * URL's; the account is aws.account_id, else the queue URL's.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "policy_priv.h"
#include "qscale/xalloc.h"

/* The six parts of an ARN; the resource keeps any further ':'. */
struct arn {
	char text[POLICY_ID_MAX + 1];
	const char *partition, *service, *region, *account, *resource;
};

/* Split text into an ARN; false when it is not one. */
static bool arn_split(const char *text, struct arn *a)
{
	char *parts[6];
	char *p;

	if (strlen(text) > POLICY_ID_MAX)
		return false;
	snprintf(a->text, sizeof(a->text), "%s", text);
	p = a->text;
	for (int i = 0; i < 5; i++) {
		char *colon = strchr(p, ':');

		if (colon == NULL)
			return false;
		*colon = '\0';
		parts[i] = p;
		p = colon + 1;
	}
	parts[5] = p;
	if (strcmp(parts[0], "arn") != 0)
		return false;
	a->partition = parts[1];
	a->service = parts[2];
	a->region = parts[3];
	a->account = parts[4];
	a->resource = parts[5];
	return true;
}

/* The account a queue URL names (the first path segment, 12 digits), or "". */
static void url_account(const char *url, char out[16])
{
	const char *p = url != NULL ? strstr(url, "://") : NULL;
	size_t n = 0;

	out[0] = '\0';
	if (p == NULL || (p = strchr(p + 3, '/')) == NULL)
		return;
	p++;
	while (p[n] >= '0' && p[n] <= '9')
		n++;
	if (n == 12 && p[n] == '/') {
		memcpy(out, p, 12);
		out[12] = '\0';
	}
}

/* The region of an AWS queue URL (https://sqs.REGION.amazonaws.com/...), or "". */
static void url_region(const char *url, char out[64])
{
	const char *host = url != NULL ? strstr(url, "://") : NULL;
	const char *dot;
	size_t n;

	out[0] = '\0';
	if (host == NULL || strncmp(host + 3, "sqs.", 4) != 0)
		return;
	host += 7;
	dot = strchr(host, '.');
	n = dot != NULL ? (size_t)(dot - host) : 0;
	if (n == 0 || n >= 64 || strncmp(dot, ".amazonaws.com", 14) != 0)
		return;
	memcpy(out, host, n);
	out[n] = '\0';
}

/* The region and account an ARN must name, "" where the configuration does not say. */
struct expect {
	char region[64];
	const char *region_from; /* "the configuration" or "the queue URL" */
	char account[16];
	const char *account_from; /* "aws.account_id" or "the queue URL" */
};

/* Check an ECS ARN's region and account against what the configuration says. */
static int check_arn(const struct schema_walk *w, const struct ynode *node, const struct arn *a,
	const struct expect *e, struct diag *diag)
{
	if (strcmp(a->service, "ecs") != 0 || a->partition[0] == '\0')
		return diag_at(diag, w->file, node, "'%s' is not an ECS ARN", node->value);
	if (e->region[0] != '\0' && strcmp(a->region, e->region) != 0)
		return diag_at(diag, w->file, node, "the ARN names region '%s', %s region '%s'",
			a->region, e->region_from, e->region);
	if (e->account[0] != '\0' && strcmp(a->account, e->account) != 0)
		return diag_at(diag, w->file, node, "the ARN names account '%s', %s account '%s'",
			a->account, e->account_from, e->account);
	return 0;
}

/* Replace *id by name (a part of an ARN being read). */
static void set_id(char **id, const char *name)
{
	char *copy = xstrdup(name);

	free(*id);
	*id = copy;
}

/* A cluster given as an ARN becomes its name. */
static int normalise_cluster(const struct schema_walk *w, const char *path, char **cluster,
	const struct expect *e, struct diag *diag)
{
	const struct ynode *node = schema_seen_value(w, path);
	struct arn a;
	int r;

	if (*cluster == NULL || strncmp(*cluster, "arn:", 4) != 0 || node == NULL)
		return 0;
	if (!arn_split(*cluster, &a))
		return diag_at(diag, w->file, node, "'%s' is not an ECS ARN", *cluster);
	if ((r = check_arn(w, node, &a, e, diag)) < 0)
		return r;
	if (strncmp(a.resource, "cluster/", 8) != 0 || a.resource[8] == '\0' ||
		strchr(a.resource + 8, '/') != NULL)
		return diag_at(diag, w->file, node, "'%s' is not a cluster ARN (...:cluster/NAME)",
			*cluster);
	set_id(cluster, a.resource + 8);
	return 0;
}

/* A service given as an ARN becomes its name; its cluster part must be the section's. */
static int normalise_service(const struct schema_walk *w, const char *path, char **service,
	const char *cluster, const struct expect *e, struct diag *diag)
{
	const struct ynode *node = schema_seen_value(w, path);
	const char *name, *slash;
	struct arn a;
	int r;

	if (*service == NULL || strncmp(*service, "arn:", 4) != 0 || node == NULL)
		return 0;
	if (!arn_split(*service, &a))
		return diag_at(diag, w->file, node, "'%s' is not an ECS ARN", *service);
	if ((r = check_arn(w, node, &a, e, diag)) < 0)
		return r;
	if (strncmp(a.resource, "service/", 8) != 0 || a.resource[8] == '\0')
		return diag_at(diag, w->file, node,
			"'%s' is not a service ARN (...:service/CLUSTER/NAME)", *service);
	name = a.resource + 8;
	slash = strchr(name, '/');
	if (slash != NULL) {
		size_t n = (size_t)(slash - name);

		if (slash[1] == '\0' || strchr(slash + 1, '/') != NULL)
			return diag_at(diag, w->file, node,
				"'%s' is not a service ARN (...:service/CLUSTER/NAME)", *service);
		if (cluster == NULL || strlen(cluster) != n || strncmp(name, cluster, n) != 0)
			return diag_at(diag, w->file, node,
				"the service ARN names cluster '%.*s', the section cluster '%s'",
				(int)n, name, cluster != NULL ? cluster : "");
		name = slash + 1;
	}
	set_id(service, name);
	return 0;
}

int policy_normalise_ids(const struct schema_walk *w, struct policy *p,
	const struct qscale_config *config, struct diag *diag)
{
	struct expect e = {.region_from = "the configuration"};
	int r;

	/* Without region in the file, the queue URL's (AWS_REGION is for the run). */
	if (config->region != NULL) {
		snprintf(e.region, sizeof(e.region), "%.63s", config->region);
	} else {
		url_region(p->queue.url, e.region);
		e.region_from = "the queue URL";
	}

	if (config->aws.account_id != NULL) {
		snprintf(e.account, sizeof(e.account), "%.12s", config->aws.account_id);
		e.account_from = "aws.account_id";
	} else {
		url_account(p->queue.url, e.account);
		e.account_from = "the queue URL";
	}
	if ((r = normalise_cluster(w, "local.cluster", &p->local.cluster, &e, diag)) < 0 ||
		(r = normalise_service(
			 w, "local.service", &p->local.service, p->local.cluster, &e, diag)) < 0)
		return r;
	if (!p->burst.present)
		return 0;
	if ((r = normalise_cluster(w, "burst.cluster", &p->burst.cluster, &e, diag)) < 0 ||
		(r = normalise_service(
			 w, "burst.service", &p->burst.service, p->burst.cluster, &e, diag)) < 0)
		return r;
	return 0;
}
