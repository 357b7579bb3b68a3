/*
 * SQS GetQueueAttributes (AWS JSON 1.0): the request body for the three
 * approximate counts, the strict response parser, and the queue-URL helpers
 * that pick the signing region and endpoint. Pure: no I/O, no logging.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "qscale/sqs.h"
#include "qscale/xalloc.h"
#include "json_priv.h"

#define HOST_MAX 253
/* Counts above this are no approximate queue depth but junk. */
#define COUNT_MAX ((int64_t)1 << 53)

static const char *const count_names[] = {
	"ApproximateNumberOfMessages",
	"ApproximateNumberOfMessagesNotVisible",
	"ApproximateNumberOfMessagesDelayed",
};

/* What the body holds after the queue URL: the same for every queue. */
static const char counts_tail[] = "\",\"AttributeNames\":[\"ApproximateNumberOfMessages\","
				  "\"ApproximateNumberOfMessagesNotVisible\","
				  "\"ApproximateNumberOfMessagesDelayed\"]}";

/*
 * The body of a URL that JSON needs no escape for (printable ASCII without
 * quote or backslash, as every queue URL is), written as yajl's generator
 * writes it, without it: every policy sends one a cycle, and the generator
 * cost 7 k instructions a body. NULL for any other URL.
 */
static char *counts_body_plain(const char *queue_url, size_t *out_len)
{
	static const char head[] = "{\"QueueUrl\":\"";
	size_t n = 0;

	for (; queue_url[n] != '\0'; n++) {
		unsigned char c = (unsigned char)queue_url[n];

		if (c < 0x20 || c > 0x7e || c == '"' || c == '\\')
			return NULL;
	}
	size_t len = sizeof(head) - 1 + n + sizeof(counts_tail) - 1;
	char *body = xmalloc(len + 1);

	memcpy(body, head, sizeof(head) - 1);
	memcpy(body + sizeof(head) - 1, queue_url, n);
	memcpy(body + sizeof(head) - 1 + n, counts_tail, sizeof(counts_tail));
	*out_len = len;
	return body;
}

/* See sqs.h. */
int sqs_queue_counts_request(const char *queue_url, char **out_body, size_t *out_len)
{
	char *plain;
	size_t plain_len;

	if (queue_url == NULL || queue_url[0] == '\0')
		return -EINVAL;
	plain = counts_body_plain(queue_url, &plain_len);
	if (plain != NULL) {
		*out_body = plain;
		*out_len = plain_len;
		return 0;
	}
	yajl_gen g = aws_json_gen_create();
	int r = yajl_gen_map_open(g) == yajl_gen_status_ok ? 0 : -EINVAL;

	if (r == 0)
		r = aws_json_gen_kv_str(g, "QueueUrl", queue_url);
	if (r == 0)
		r = aws_json_gen_str(g, "AttributeNames");
	if (r == 0 && yajl_gen_array_open(g) != yajl_gen_status_ok)
		r = -EINVAL;
	for (size_t i = 0; r == 0 && i < sizeof(count_names) / sizeof(count_names[0]); i++)
		r = aws_json_gen_str(g, count_names[i]);
	if (r == 0 &&
		(yajl_gen_array_close(g) != yajl_gen_status_ok ||
			yajl_gen_map_close(g) != yajl_gen_status_ok))
		r = -EINVAL;
	if (r < 0) {
		yajl_gen_free(g);
		return r;
	}
	return aws_json_gen_finish(g, out_body, out_len);
}

/* Read one count attribute; absent leaves *have false. */
static int read_count(
	yajl_val attrs, const char *name, int64_t *value, bool *have, struct aws_error *diag)
{
	const char *text;
	int r = aws_json_string(attrs, name, false, &text, diag);

	if (r < 0)
		return r;
	*have = false;
	if (text == NULL)
		return 0;
	if (aws_json_decimal(text, 0, COUNT_MAX, value) < 0)
		return aws_json_fail(diag,
			"attribute %s is not a non-negative decimal string: \"%.40s\"", name, text);
	*have = true;
	return 0;
}

/* See sqs.h. */
int sqs_queue_counts_parse(
	const char *body, size_t len, struct sqs_queue_counts *out, struct aws_error *diag)
{
	yajl_val tree;
	int r = aws_json_parse(body, len, &tree, diag);

	if (r < 0)
		return r;
	struct sqs_queue_counts c = {0};
	yajl_val attrs;

	/* SQS answers {} when it has no attribute to report. */
	r = aws_json_object(tree, "Attributes", false, &attrs, diag);
	if (r == 0)
		r = read_count(attrs, count_names[0], &c.visible, &c.have_visible, diag);
	if (r == 0)
		r = read_count(attrs, count_names[1], &c.in_flight, &c.have_in_flight, diag);
	if (r == 0)
		r = read_count(attrs, count_names[2], &c.delayed, &c.have_delayed, diag);
	json_tree_free(tree);
	if (r == 0)
		*out = c;
	return r;
}

/* The parts of an http(s) URL that matter here. */
struct url_parts {
	const char *origin_end; /* end of scheme://authority */
	char host[HOST_MAX + 1]; /* lowercase, without port */
};

/* Split url; -EINVAL unless it is http(s)://host[:port][/...]. */
static int split_url(const char *url, struct url_parts *p)
{
	const char *s;

	if (url == NULL)
		return -EINVAL;
	if (strncasecmp(url, "https://", 8) == 0)
		s = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		s = url + 7;
	else
		return -EINVAL;
	size_t auth_len = strcspn(s, "/?#");
	size_t host_len;

	if (memchr(s, '@', auth_len) != NULL)
		return -EINVAL; /* no credentials in queue URLs */
	if (s[0] == '[') {
		const char *close = memchr(s, ']', auth_len);

		if (close == NULL)
			return -EINVAL;
		host_len = (size_t)(close - s) + 1;
	} else {
		host_len = strcspn(s, ":/?#");
	}
	if (host_len == 0 || host_len > HOST_MAX)
		return -EINVAL;
	for (size_t i = 0; i < host_len; i++) {
		char c = s[i];

		if (c >= 'A' && c <= 'Z')
			c = (char)(c - 'A' + 'a');
		if ((unsigned char)c <= ' ' || c == 0x7f)
			return -EINVAL;
		p->host[i] = c;
	}
	p->host[host_len] = '\0';
	p->origin_end = s + auth_len;
	return 0;
}

/* Whether label [s, s+n) looks like a region name (us-east-1, cn-north-1). */
static bool region_label(const char *s, size_t n)
{
	if (n == 0 || n > SQS_REGION_MAX || s[0] < 'a' || s[0] > 'z' || memchr(s, '-', n) == NULL)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
			return false;
	}
	return s[n - 1] != '-';
}

/* Whether s is one of the DNS suffixes of the AWS partitions SQS lives in. */
static bool aws_suffix(const char *s)
{
	return strcmp(s, "amazonaws.com") == 0 || strcmp(s, "amazonaws.com.cn") == 0 ||
		strcmp(s, "api.aws") == 0;
}

enum host_kind {
	HOST_CUSTOM,
	HOST_REGIONAL, /* sqs.<r>.<suffix>: the endpoint the client resolves itself */
	HOST_OTHER_AWS, /* FIPS, VPC endpoint, legacy: must be called at the URL's origin */
};

/* Classify host and copy the region it names into region. */
static enum host_kind classify_host(const char *host, char region[SQS_REGION_MAX + 1])
{
	const char *label = host;
	enum host_kind kind = HOST_REGIONAL;

	if (strcmp(host, "queue.amazonaws.com") == 0) {
		strcpy(region, "us-east-1");
		return HOST_OTHER_AWS;
	}
	/* vpce-<id>.sqs[-fips].<region>.vpce.amazonaws.com[.cn] */
	if (strncmp(label, "vpce-", 5) == 0) {
		const char *dot = strchr(label, '.');

		if (dot == NULL)
			return HOST_CUSTOM;
		label = dot + 1;
		kind = HOST_OTHER_AWS;
	}
	const char *dot = strchr(label, '.');

	if (dot == NULL)
		return HOST_CUSTOM;
	size_t first = (size_t)(dot - label);
	const char *rest = dot + 1;

	if ((first == 3 && strncmp(label, "sqs", 3) == 0) ||
		(first == 8 && strncmp(label, "sqs-fips", 8) == 0)) {
		if (first == 8)
			kind = HOST_OTHER_AWS;
		const char *rdot = strchr(rest, '.');

		if (rdot == NULL || !region_label(rest, (size_t)(rdot - rest)))
			return HOST_CUSTOM;
		const char *suffix = rdot + 1;

		if (kind == HOST_OTHER_AWS && host != label) {
			if (strncmp(suffix, "vpce.", 5) != 0)
				return HOST_CUSTOM;
			suffix += 5;
		}
		if (!aws_suffix(suffix))
			return HOST_CUSTOM;
		memcpy(region, rest, (size_t)(rdot - rest));
		region[rdot - rest] = '\0';
		return kind;
	}
	/* <region>.queue.amazonaws.com */
	if (host == label && strcmp(rest, "queue.amazonaws.com") == 0 &&
		region_label(label, first)) {
		memcpy(region, label, first);
		region[first] = '\0';
		return HOST_OTHER_AWS;
	}
	return HOST_CUSTOM;
}

/* See sqs.h. */
int sqs_queue_url_region(const char *url, char out[SQS_REGION_MAX + 1])
{
	struct url_parts p;
	char region[SQS_REGION_MAX + 1];

	if (split_url(url, &p) < 0)
		return -EINVAL;
	if (classify_host(p.host, region) == HOST_CUSTOM)
		return -ENOENT;
	memcpy(out, region, strlen(region) + 1);
	return 0;
}

/* See sqs.h. */
int sqs_queue_url_endpoint(const char *url, char **out)
{
	struct url_parts p;
	char region[SQS_REGION_MAX + 1];

	if (split_url(url, &p) < 0)
		return -EINVAL;
	if (classify_host(p.host, region) != HOST_OTHER_AWS)
		return -ENOENT;
	*out = xstrndup(url, (size_t)(p.origin_end - url));
	return 0;
}
