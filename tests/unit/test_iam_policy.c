/*
 * The IAM policy document: exact expected documents for a burst policy and
 * for two policies sharing a cluster, the account and region rules, and the
 * queue URL parts.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "qscale/iam_policy.h"
#include "qscale/policy.h"
#include "qscale/xalloc.h"

/* A config from the main-file text (inline policies only). */
static struct qscale_config *load(const char *text)
{
	struct qscale_config *cfg = NULL;
	struct diag diag;

	if (qscale_config_parse("test.yaml", text, strlen(text), QSCALE_CONFIG_NO_POLICIES_DIR,
		    &cfg, &diag) != 0) {
		diag_print(&diag, stderr);
		fail();
	}
	return cfg;
}

static const char orders_yaml[] =
	"region: us-east-1\n"
	"policies:\n"
	"  - name: orders\n"
	"    queue: {url: 'https://sqs.us-east-1.amazonaws.com/123456789012/orders'}\n"
	"    target: {backlog_per_task: 50}\n"
	"    local: {cluster: onprem, service: order-processor, min_tasks: 1, max_tasks: 20}\n"
	"    burst: {cluster: cloud, service: order-processor-fargate, max_tasks: 40}\n";

static const char orders_expected[] =
	"{\n"
	"  \"Version\": \"2012-10-17\",\n"
	"  \"Statement\": [\n"
	"    {\n"
	"      \"Sid\": \"QscaleReadQueueDepth\",\n"
	"      \"Effect\": \"Allow\",\n"
	"      \"Action\": \"sqs:GetQueueAttributes\",\n"
	"      \"Resource\": [\n"
	"        \"arn:aws:sqs:us-east-1:123456789012:orders\"\n"
	"      ]\n"
	"    },\n"
	"    {\n"
	"      \"Sid\": \"QscaleReadAndScaleServices\",\n"
	"      \"Effect\": \"Allow\",\n"
	"      \"Action\": [\n"
	"        \"ecs:DescribeServices\",\n"
	"        \"ecs:UpdateService\"\n"
	"      ],\n"
	"      \"Resource\": [\n"
	"        \"arn:aws:ecs:us-east-1:123456789012:service/onprem/order-processor\",\n"
	"        \"arn:aws:ecs:us-east-1:123456789012:service/cloud/order-processor-fargate\"\n"
	"      ]\n"
	"    },\n"
	"    {\n"
	"      \"Sid\": \"QscaleListLocalInstances\",\n"
	"      \"Effect\": \"Allow\",\n"
	"      \"Action\": \"ecs:ListContainerInstances\",\n"
	"      \"Resource\": [\n"
	"        \"arn:aws:ecs:us-east-1:123456789012:cluster/onprem\"\n"
	"      ]\n"
	"    },\n"
	"    {\n"
	"      \"Sid\": \"QscaleDescribeLocalInstances\",\n"
	"      \"Effect\": \"Allow\",\n"
	"      \"Action\": \"ecs:DescribeContainerInstances\",\n"
	"      \"Resource\": [\n"
	"        \"arn:aws:ecs:us-east-1:123456789012:container-instance/onprem/*\"\n"
	"      ]\n"
	"    },\n"
	"    {\n"
	"      \"Sid\": \"QscaleDescribeTaskDefinitionHasNoResourceLevelPermissions\",\n"
	"      \"Effect\": \"Allow\",\n"
	"      \"Action\": \"ecs:DescribeTaskDefinition\",\n"
	"      \"Resource\": \"*\"\n"
	"    }\n"
	"  ]\n"
	"}\n";

/* The documented example: one queue, a local and a burst service. */
static void test_orders_document(void **state)
{
	struct qscale_config *cfg = load(orders_yaml);
	struct iam_policy_input in = {.config = cfg, .region = "us-east-1"};
	char error[IAM_POLICY_ERROR_MAX];
	char *doc = NULL;

	(void)state;
	assert_int_equal(iam_policy_build(&in, &doc, error), 0);
	assert_string_equal(doc, orders_expected);
	free(doc);
	qscale_config_destroy(cfg);
}

/*
 * Two policies on one local cluster, one without burst, read-only: each ARN
 * once, in config order; no UpdateService; a queue in another region keeps
 * its own region; the ECS account comes from aws.account_id.
 */
static void test_shared_cluster_read_only(void **state)
{
	static const char yaml[] =
		"region: eu-west-1\n"
		"aws: {account_id: '210987654321'}\n"
		"policies:\n"
		"  - name: a\n"
		"    queue: {url: 'https://sqs.eu-west-1.amazonaws.com/210987654321/a'}\n"
		"    target: {backlog_per_task: 5}\n"
		"    local: {cluster: dc, service: a, max_tasks: 4}\n"
		"    burst: {cluster: cloud, service: a-burst, max_tasks: 4}\n"
		"  - name: b\n"
		"    queue: {url: 'https://sqs.us-east-2.amazonaws.com/111122223333/b'}\n"
		"    target: {backlog_per_task: 5}\n"
		"    local: {cluster: dc, service: b, max_tasks: 4}\n";
	static const char expected[] =
		"{\n"
		"  \"Version\": \"2012-10-17\",\n"
		"  \"Statement\": [\n"
		"    {\n"
		"      \"Sid\": \"QscaleReadQueueDepth\",\n"
		"      \"Effect\": \"Allow\",\n"
		"      \"Action\": \"sqs:GetQueueAttributes\",\n"
		"      \"Resource\": [\n"
		"        \"arn:aws:sqs:eu-west-1:210987654321:a\",\n"
		"        \"arn:aws:sqs:us-east-2:111122223333:b\"\n"
		"      ]\n"
		"    },\n"
		"    {\n"
		"      \"Sid\": \"QscaleReadServices\",\n"
		"      \"Effect\": \"Allow\",\n"
		"      \"Action\": \"ecs:DescribeServices\",\n"
		"      \"Resource\": [\n"
		"        \"arn:aws:ecs:eu-west-1:210987654321:service/dc/a\",\n"
		"        \"arn:aws:ecs:eu-west-1:210987654321:service/cloud/a-burst\",\n"
		"        \"arn:aws:ecs:eu-west-1:210987654321:service/dc/b\"\n"
		"      ]\n"
		"    },\n"
		"    {\n"
		"      \"Sid\": \"QscaleListLocalInstances\",\n"
		"      \"Effect\": \"Allow\",\n"
		"      \"Action\": \"ecs:ListContainerInstances\",\n"
		"      \"Resource\": [\n"
		"        \"arn:aws:ecs:eu-west-1:210987654321:cluster/dc\"\n"
		"      ]\n"
		"    },\n"
		"    {\n"
		"      \"Sid\": \"QscaleDescribeLocalInstances\",\n"
		"      \"Effect\": \"Allow\",\n"
		"      \"Action\": \"ecs:DescribeContainerInstances\",\n"
		"      \"Resource\": [\n"
		"        \"arn:aws:ecs:eu-west-1:210987654321:container-instance/dc/*\"\n"
		"      ]\n"
		"    },\n"
		"    {\n"
		"      \"Sid\": \"QscaleDescribeTaskDefinitionHasNoResourceLevelPermissions\",\n"
		"      \"Effect\": \"Allow\",\n"
		"      \"Action\": \"ecs:DescribeTaskDefinition\",\n"
		"      \"Resource\": \"*\"\n"
		"    }\n"
		"  ]\n"
		"}\n";
	struct qscale_config *cfg = load(yaml);
	struct iam_policy_input in = {.config = cfg, .region = "eu-west-1", .read_only = true};
	char error[IAM_POLICY_ERROR_MAX];
	char *doc = NULL;

	(void)state;
	assert_int_equal(iam_policy_build(&in, &doc, error), 0);
	assert_string_equal(doc, expected);
	free(doc);
	qscale_config_destroy(cfg);
}

/* Cases where the ECS account, the region or a queue URL cannot be right. */
static void test_errors(void **state)
{
	static const char two_accounts[] =
		"policies:\n"
		"  - name: a\n"
		"    queue: {url: 'https://sqs.us-east-1.amazonaws.com/111111111111/a'}\n"
		"    target: {backlog_per_task: 5}\n"
		"    local: {cluster: dc, service: a, max_tasks: 4}\n"
		"  - name: b\n"
		"    queue: {url: 'https://sqs.us-east-1.amazonaws.com/222222222222/b'}\n"
		"    target: {backlog_per_task: 5}\n"
		"    local: {cluster: dc, service: b, max_tasks: 4}\n";
	static const struct {
		const char *region;
		const char *account;
		int want;
		const char *error_has;
	} cases[] = {
		{"us-east-1", NULL, -EINVAL, "2 accounts"},
		{"us-east-1", "333333333333", 0, ""},
		{"us-east-1", "3333", -EINVAL, "not 12 digits"},
		{"us-east-1", "33333333333x", -EINVAL, "not 12 digits"},
		{NULL, "333333333333", -EINVAL, "region"},
		{"US_EAST", "333333333333", -EINVAL, "region"},
	};
	struct qscale_config *cfg = load(two_accounts);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct iam_policy_input in = {
			.config = cfg, .region = cases[i].region, .account_id = cases[i].account};
		char error[IAM_POLICY_ERROR_MAX];
		char *doc = NULL;
		int r = iam_policy_build(&in, &doc, error);
		assert_int_equal(r, cases[i].want);
		if (r == 0) {
			assert_non_null(
				strstr(doc, "arn:aws:ecs:us-east-1:333333333333:service/dc/b"));
			assert_non_null(strstr(doc, "arn:aws:sqs:us-east-1:222222222222:b"));
			free(doc);
		} else {
			assert_null(doc);
			assert_non_null(strstr(error, cases[i].error_has));
		}
	}
	qscale_config_destroy(cfg);
}

/* A queue on a custom endpoint takes the configured region; China uses aws-cn. */
static void test_partition_and_custom_endpoint(void **state)
{
	static const char yaml[] = "policies:\n"
				   "  - name: a\n"
				   "    queue: {url: 'http://127.0.0.1:4566/123456789012/a'}\n"
				   "    target: {backlog_per_task: 5}\n"
				   "    local: {cluster: dc, service: a, max_tasks: 4}\n";
	struct qscale_config *cfg = load(yaml);
	struct iam_policy_input in = {.config = cfg, .region = "cn-north-1"};
	char error[IAM_POLICY_ERROR_MAX];
	char *doc = NULL;

	(void)state;
	assert_int_equal(iam_policy_build(&in, &doc, error), 0);
	assert_non_null(strstr(doc, "\"arn:aws-cn:sqs:cn-north-1:123456789012:a\""));
	assert_non_null(strstr(doc, "\"arn:aws-cn:ecs:cn-north-1:123456789012:cluster/dc\""));
	free(doc);
	assert_string_equal(iam_partition("us-gov-west-1"), "aws-us-gov");
	assert_string_equal(iam_partition("eu-central-1"), "aws");
	qscale_config_destroy(cfg);
}

/* Queue URLs: region from the host, account and name from the path. */
static void test_queue_url_parts(void **state)
{
	static const struct {
		const char *url;
		int want;
		const char *region, *account, *name;
	} cases[] = {
		{"https://sqs.eu-west-1.amazonaws.com/123456789012/orders", 0, "eu-west-1",
			"123456789012", "orders"},
		{"https://sqs.us-east-1.amazonaws.com/123456789012/jobs.fifo", 0, "us-east-1",
			"123456789012", "jobs.fifo"},
		{"http://127.0.0.1:9324/123456789012/q_1", 0, "", "123456789012", "q_1"},
		{"https://sqs.eu-west-1.amazonaws.com/12345/orders", -EINVAL, NULL, NULL, NULL},
		{"https://sqs.eu-west-1.amazonaws.com/123456789012/", -EINVAL, NULL, NULL, NULL},
		{"https://sqs.eu-west-1.amazonaws.com/123456789012/a/b", -EINVAL, NULL, NULL, NULL},
		{"https://sqs.eu-west-1.amazonaws.com/123456789012/a b", -EINVAL, NULL, NULL, NULL},
		{"https://sqs.eu-west-1.amazonaws.com/orders", -EINVAL, NULL, NULL, NULL},
		{"sqs.eu-west-1.amazonaws.com/123456789012/orders", -EINVAL, NULL, NULL, NULL},
		{"", -EINVAL, NULL, NULL, NULL},
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char region[64] = "x", account[16] = "x", name[96] = "x";
		int r = iam_queue_url_parts(cases[i].url, region, account, name);
		assert_int_equal(r, cases[i].want);
		if (r == 0) {
			assert_string_equal(region, cases[i].region);
			assert_string_equal(account, cases[i].account);
			assert_string_equal(name, cases[i].name);
		} else {
			assert_string_equal(region, "x");
		}
	}
	assert_int_equal(
		iam_queue_url_parts(NULL, (char[64]){0}, (char[16]){0}, (char[96]){0}), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_orders_document),
		cmocka_unit_test(test_shared_cluster_read_only),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_partition_and_custom_endpoint),
		cmocka_unit_test(test_queue_url_parts),
	};

	return cmocka_run_group_tests_name("iam_policy", tests, NULL, NULL);
}
