/*
 * Unit tests of configuration and policy loading: a corpus of bad files, each
 * naming the line, column and message it must be rejected with; good files
 * and the values they must load to (every default included); hostile input
 * generated here (deep nesting, huge values, node floods, alias bombs, binary
 * junk, FIFOs); policies_dir; and docs/configuration.md checked against the
 * key tables the loader applies.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "config.h"
#include "qscale/ecs_filter.h"
#include "qscale/policy.h"
#include "qscale/xalloc.h"
#include "tmpdir_fixture.h"
#include "policy_priv.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The tests/data folder. */
static const char *data_dir(void)
{
	const char *d = getenv("QSCALE_TEST_DATA");

	if (d == NULL)
		fail_msg("QSCALE_TEST_DATA is not set");
	return d;
}

/* A whole file into fresh memory (not inlined: GCC then mistakes its result for a local). */
static char *slurp(const char *path, size_t *len) __attribute__((noinline));

static char *slurp(const char *path, size_t *len)
{
	char *text;
	struct diag diag;

	if (policy_read_file(path, &text, len, &diag) < 0)
		fail_msg("cannot read %s: %s", path, diag.message);
	return text;
}

/* Write text to path. */
static void spew(const char *path, const char *text, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(text, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Whether a test-data file is a main file (config-*.yaml) rather than a policy. */
static bool is_config_file(const char *base)
{
	return strncmp(base, "config-", 7) == 0;
}

/* Parse a file as what its name says it is; returns the status, diag filled. */
static int parse_as(const char *base, const char *name, const char *text, size_t len,
	struct qscale_config **cfg, struct policy *p, struct diag *diag)
{
	if (is_config_file(base))
		return qscale_config_parse(
			name, text, len, QSCALE_CONFIG_NO_POLICIES_DIR, cfg, diag);
	return policy_parse(name, text, len, NULL, p, diag);
}

/* The sorted *.yaml names of a test-data folder. */
static char **list_yaml(const char *sub, size_t *count)
{
	char *dir = xasprintf("%s/%s", data_dir(), sub);
	char **files;
	struct diag diag;

	if (policy_list_dir(dir, &files, count, &diag) < 0)
		fail_msg("cannot list %s: %s", dir, diag.message);
	free(dir);
	return files;
}

/* Every file of tests/data/policy/bad fails where and how its first line says. */
static void test_bad_corpus(void **state)
{
	(void)state;
	size_t count, failures = 0;
	char **files = list_yaml("policy/bad", &count);

	assert_true(count >= 60);
	for (size_t i = 0; i < count; i++) {
		const char *base = strrchr(files[i], '/') + 1;
		char *name = xasprintf("tests/data/policy/bad/%s", base);
		size_t len;
		char *text = slurp(files[i], &len);
		unsigned line, column;
		int used = 0;
		char fragment[DIAG_MESSAGE_MAX];
		struct qscale_config *cfg = NULL;
		struct policy p = {0};
		struct diag diag = {0};
		int r;

		if (sscanf(text, "# expect: %u:%u %n", &line, &column, &used) != 2 || used == 0)
			fail_msg("%s: no '# expect: LINE:COLUMN message' first line", base);
		snprintf(fragment, sizeof(fragment), "%.*s", (int)strcspn(text + used, "\n"),
			text + used);
		r = parse_as(base, name, text, len, &cfg, &p, &diag);
		if (r >= 0) {
			print_error("%s: accepted\n", base);
			failures++;
			qscale_config_destroy(cfg);
			policy_finish(&p);
		} else if (diag.line != line || diag.column != column ||
			strstr(diag.message, fragment) == NULL || strcmp(diag.file, name) != 0) {
			print_error("%s: got %s:%u:%u: %s\n      want %u:%u: ...%s...\n", base,
				diag.file, diag.line, diag.column, diag.message, line, column,
				fragment);
			failures++;
		}
		free(text);
		free(name);
	}
	policy_free_list(files);
	assert_int_equal(failures, 0);
}

/* A good file and a check of the values it loads to. */
struct good_case {
	const char *file;
	void (*check)(const struct qscale_config *cfg, const struct policy *p);
};

/* The behaviour defaults every policy without a behavior block gets. */
static void assert_default_behavior(const struct engine_policy *s)
{
	assert_true(s->scale_out.stabilization_ms == 15000);
	assert_true(s->scale_out.period_ms == 15000);
	assert_int_equal(s->scale_out.max_tasks, 4);
	assert_int_equal(s->scale_out.max_percent, 100);
	assert_true(s->scale_in.stabilization_ms == 300000);
	assert_true(s->scale_in.period_ms == 15000);
	assert_int_equal(s->scale_in.max_tasks, 0);
	assert_int_equal(s->scale_in.max_percent, 100);
}

/* minimal.yaml: the required keys, everything else the documented default. */
static void check_minimal(const struct qscale_config *cfg, const struct policy *p)
{
	const struct engine_policy *s = &p->scaling;

	(void)cfg;
	assert_string_equal(p->name, "minimal");
	assert_true(p->interval_ms == 10000);
	assert_string_equal(p->queue.url, "https://sqs.eu-west-1.amazonaws.com/123456789012/jobs");
	assert_string_equal(p->local.cluster, "onprem");
	assert_string_equal(p->local.service, "worker");
	assert_null(p->local.instance_filter.text);
	assert_null(p->local.instance_filter.compiled);
	assert_false(p->burst.present);
	assert_null(p->burst.cluster);
	assert_null(p->burst.service);
	assert_true(s->backlog_per_task == 10);
	assert_true(s->activation_backlog == 0);
	assert_true(s->tolerance == 0.1);
	assert_false(s->include_in_flight);
	assert_false(s->include_delayed);
	assert_int_equal(s->local_min_tasks, 0);
	assert_int_equal(s->local_max_tasks, 5);
	assert_false(s->has_burst);
	assert_int_equal(s->burst_max_tasks, 0);
	assert_int_equal(s->reserve_cpu_units, 0);
	assert_int_equal(s->reserve_memory_mib, 0);
	assert_int_equal(s->priority, 0);
	assert_true(s->max_observation_age_ms == 30000);
	assert_default_behavior(s);
}

/* orders.yaml (the example of DESIGN.md), with its filter compiled. */
static void check_orders(const struct qscale_config *cfg, const struct policy *p)
{
	const struct engine_policy *s = &p->scaling;
	const struct ecs_filter_attribute dc1[] = {{"site", "dc1"}};
	const struct ecs_filter_attribute dc2[] = {{"site", "dc2"}};
	const struct ecs_filter_instance in_dc1 = {dc1, 1, true, "mi-1"};
	const struct ecs_filter_instance in_dc2 = {dc2, 1, true, "mi-2"};

	(void)cfg;
	assert_string_equal(p->name, "orders");
	assert_true(p->interval_ms == 5000);
	assert_true(s->max_observation_age_ms == 15000);
	assert_string_equal(
		p->queue.url, "https://sqs.us-east-1.amazonaws.com/123456789012/orders");
	assert_string_equal(p->local.cluster, "onprem");
	assert_string_equal(p->local.service, "order-processor");
	assert_string_equal(p->local.instance_filter.text, "attribute:site == dc1");
	assert_true(ecs_filter_match(p->local.instance_filter.compiled, &in_dc1));
	assert_false(ecs_filter_match(p->local.instance_filter.compiled, &in_dc2));
	assert_true(p->burst.present);
	assert_string_equal(p->burst.cluster, "cloud");
	assert_string_equal(p->burst.service, "order-processor-fargate");
	assert_true(s->backlog_per_task == 50);
	assert_true(s->activation_backlog == 0);
	assert_true(s->tolerance == 0.1);
	assert_false(s->include_in_flight);
	assert_false(s->include_delayed);
	assert_int_equal(s->local_min_tasks, 1);
	assert_int_equal(s->local_max_tasks, 20);
	assert_true(s->has_burst);
	assert_int_equal(s->burst_max_tasks, 40);
	assert_int_equal(s->reserve_cpu_units, 0);
	assert_int_equal(s->reserve_memory_mib, 256);
	assert_int_equal(s->priority, 100);
	assert_true(s->scale_out.stabilization_ms == 0);
	assert_true(s->scale_out.period_ms == 15000);
	assert_int_equal(s->scale_out.max_tasks, 10);
	assert_int_equal(s->scale_out.max_percent, 100);
	assert_true(s->scale_in.stabilization_ms == 300000);
	assert_true(s->scale_in.period_ms == 60000);
	/* max_tasks set alone: HPA-style, the percent limit of that direction is off */
	assert_int_equal(s->scale_in.max_tasks, 5);
	assert_int_equal(s->scale_in.max_percent, 0);
	assert_int_equal(s->concurrency, 1);
	assert_int_equal(s->utilization_percent, 80);
}

/* The shipped orders.yaml: sized for the work in progress, HPA's behaviour written out. */
static void check_shipped(const struct qscale_config *cfg, const struct policy *p)
{
	const struct engine_policy *s = &p->scaling;

	(void)cfg;
	assert_string_equal(p->name, "orders");
	assert_true(s->backlog_per_task == 50);
	assert_int_equal(s->concurrency, 1);
	assert_int_equal(s->utilization_percent, 80);
	assert_int_equal(s->local_max_tasks, 20);
	assert_int_equal(s->burst_max_tasks, 40);
	assert_true(s->has_burst_stabilization);
	assert_true(s->burst_stabilization_ms == 60000);
	/* HPA's defaults, written out */
	assert_default_behavior(s);
}

/* every-key.yaml: each key set, most at the edge of its range. */
static void check_everything(const struct qscale_config *cfg, const struct policy *p)
{
	const struct engine_policy *s = &p->scaling;

	(void)cfg;
	assert_string_equal(p->name, "every.key_set-1");
	assert_true(p->interval_ms == 90000);
	assert_true(s->max_observation_age_ms == 600000);
	assert_string_equal(p->queue.url, "http://127.0.0.1:4566/000000000000/q");
	assert_true(s->include_in_flight);
	assert_true(s->include_delayed);
	assert_true(s->backlog_per_task == 1000000000);
	assert_true(s->activation_backlog == 7);
	assert_true(s->tolerance == 0.25);
	/* A cluster given as an ARN is known by its name. */
	assert_string_equal(p->local.cluster, "dc");
	assert_string_equal(p->local.service, "svc 'quoted'");
	assert_int_equal(s->local_min_tasks, 3);
	assert_int_equal(s->local_max_tasks, 3);
	assert_string_equal(p->local.instance_filter.text,
		"attribute:ecs.os-type == linux and agentConnected == true");
	assert_int_equal(s->reserve_cpu_units, 512);
	assert_int_equal(s->reserve_memory_mib, 1024);
	assert_int_equal(s->priority, -5);
	assert_true(p->burst.present);
	assert_int_equal(s->burst_max_tasks, 100000);
	assert_true(s->scale_out.stabilization_ms == 1500);
	assert_true(s->scale_out.period_ms == 1000);
	assert_int_equal(s->scale_out.max_tasks, 0);
	assert_int_equal(s->scale_out.max_percent, 0);
	assert_true(s->scale_in.stabilization_ms == 3600000);
	assert_true(s->scale_in.period_ms == 3600000);
	assert_int_equal(s->scale_in.max_tasks, 100000);
	assert_int_equal(s->scale_in.max_percent, 10000);
}

/* config-empty.yaml: a main file with every default. */
static void check_config_empty(const struct qscale_config *cfg, const struct policy *p)
{
	(void)p;
	assert_null(cfg->region);
	assert_true(cfg->interval_ms == 10000);
	assert_false(cfg->dry_run);
	assert_string_equal(cfg->metrics.listen, "127.0.0.1:9464");
	assert_int_equal(cfg->log.format, LOG_FORMAT_TEXT);
	assert_int_equal(cfg->log.level, LOG_LEVEL_INFO);
	assert_null(cfg->aws.profile);
	assert_null(cfg->aws.endpoints.sqs);
	assert_null(cfg->aws.endpoints.ecs);
	assert_true(cfg->aws.timeout_ms == 5000);
	assert_string_equal(cfg->policies_dir, QSCALE_SYSCONFDIR "/policies.d");
	assert_false(cfg->policies_dir_explicit);
	assert_int_equal(cfg->policy_count, 0);
}

/* config-full.yaml: every main key set, and two inline policies. */
static void check_config_full(const struct qscale_config *cfg, const struct policy *p)
{
	(void)p;
	assert_string_equal(cfg->region, "eu-central-1");
	assert_true(cfg->interval_ms == 2500);
	assert_true(cfg->dry_run);
	assert_string_equal(cfg->metrics.listen, "");
	assert_int_equal(cfg->log.format, LOG_FORMAT_JSON);
	assert_int_equal(cfg->log.level, LOG_LEVEL_DEBUG);
	assert_string_equal(cfg->aws.profile, "ops");
	assert_string_equal(cfg->aws.endpoints.sqs, "http://127.0.0.1:4566");
	assert_string_equal(cfg->aws.endpoints.ecs, "https://ecs.eu-central-1.amazonaws.com");
	assert_true(cfg->aws.timeout_ms == 750);
	/* Relative to the main file's folder. */
	assert_string_equal(cfg->policies_dir, "tests/data/policy/good/../policies.d");
	assert_true(cfg->policies_dir_explicit);
	assert_int_equal(cfg->policy_count, 2);
	/* The first takes the main file's interval, the second its own. */
	assert_string_equal(cfg->policies[0].name, "a");
	assert_true(cfg->policies[0].interval_ms == 2500);
	assert_true(cfg->policies[0].scaling.max_observation_age_ms == 7500);
	assert_int_equal(cfg->policies[0].line, 18);
	assert_string_equal(cfg->policies[1].name, "b");
	assert_true(cfg->policies[1].interval_ms == 1000);
	assert_true(cfg->policies[1].burst.present);
	assert_string_equal(cfg->policies[1].file, "tests/data/policy/good/config-full.yaml");
}

static const struct good_case good_cases[] = {
	{"minimal.yaml", check_minimal},
	{"orders.yaml", check_orders},
	{"every-key.yaml", check_everything},
	{"config-empty.yaml", check_config_empty},
	{"config-full.yaml", check_config_full},
};

/* Every good file loads, to exactly the values its case lists. */
static void test_good_files(void **state)
{
	(void)state;
	size_t count;
	char **files = list_yaml("policy/good", &count);

	/* Each good file has a case, and each case a file. */
	assert_int_equal(count, N(good_cases));
	for (size_t i = 0; i < N(good_cases); i++) {
		const char *base = good_cases[i].file;
		char *path = xasprintf("%s/policy/good/%s", data_dir(), base);
		char *name = xasprintf("tests/data/policy/good/%s", base);
		size_t len;
		char *text = slurp(path, &len);
		struct qscale_config *cfg = NULL;
		struct policy p = {0};
		struct diag diag = {0};

		if (parse_as(base, name, text, len, &cfg, &p, &diag) < 0)
			fail_msg("%s rejected: %s:%u:%u: %s", base, diag.file, diag.line,
				diag.column, diag.message);
		good_cases[i].check(cfg, &p);
		qscale_config_destroy(cfg);
		policy_finish(&p);
		free(text);
		free(name);
		free(path);
	}
	policy_free_list(files);
}

/* The shipped example (config/qscale.yaml with config/policies.d) is valid. */
static void test_shipped_example(void **state)
{
	(void)state;
	char *path = xasprintf("%s/../../config/qscale.yaml", data_dir());
	struct qscale_config *cfg = NULL;
	struct diag diag = {0};

	if (qscale_config_load(path, &cfg, &diag) < 0)
		fail_msg("%s:%u:%u: %s", diag.file, diag.line, diag.column, diag.message);
	assert_int_equal(cfg->policy_count, 1);
	check_shipped(cfg, &cfg->policies[0]);
	qscale_config_destroy(cfg);
	free(path);
}

/* Drop the comment lines (they name where each policy came from) in place. */
static void strip_comments(char *s)
{
	char *out = s;

	for (char *line = s; *line != '\0';) {
		size_t len = strcspn(line, "\n");
		size_t lead = strspn(line, " ");
		bool comment = line[lead] == '#';

		if (line[len] == '\n')
			len++;
		if (!comment) {
			memmove(out, line, len);
			out += len;
		}
		line += len;
	}
	*out = '\0';
}

/* What check prints loads back to the same values (printed again, identically). */
static void test_print_round_trip(void **state)
{
	(void)state;
	char *path = xasprintf("%s/policy/good/config-full.yaml", data_dir());
	size_t len, len1, len2;
	char *text = slurp(path, &len);
	char *out1 = NULL, *out2 = NULL;
	struct qscale_config *a = NULL, *b = NULL;
	struct diag diag = {0};
	FILE *f;

	assert_int_equal(
		qscale_config_parse("x.yaml", text, len, QSCALE_CONFIG_NO_POLICIES_DIR, &a, &diag),
		0);
	f = open_memstream(&out1, &len1);
	qscale_config_print(a, f);
	fclose(f);
	if (qscale_config_parse("x.yaml", out1, len1, QSCALE_CONFIG_NO_POLICIES_DIR, &b, &diag) < 0)
		fail_msg("printed config rejected: %u:%u: %s\n%s", diag.line, diag.column,
			diag.message, out1);
	f = open_memstream(&out2, &len2);
	qscale_config_print(b, f);
	fclose(f);
	strip_comments(out1);
	strip_comments(out2);
	assert_string_equal(out1, out2);
	assert_int_equal(b->policy_count, 2);
	assert_memory_equal(&a->policies[1].scaling, &b->policies[1].scaling,
		offsetof(struct engine_policy, max_observation_age_ms));
	qscale_config_destroy(a);
	qscale_config_destroy(b);
	free(out1);
	free(out2);
	free(text);
	free(path);
}

/* A policy to drop into a folder. */
static char *policy_text(const char *name, const char *service)
{
	return xasprintf("name: %s\n"
			 "queue: {url: \"https://sqs.us-east-1.amazonaws.com/1/%s\"}\n"
			 "target: {backlog_per_task: 5}\n"
			 "local: {cluster: onprem, service: %s, max_tasks: 3}\n",
		name, name, service);
}

/* Write a policy file into dir. */
static void put_policy(const char *dir, const char *file, const char *name, const char *service)
{
	char *path = xasprintf("%s/%s", dir, file);
	char *text = policy_text(name, service);

	spew(path, text, strlen(text));
	free(text);
	free(path);
}

/*
 * A reload may not drop every policy, nor lose the folder they came from: the
 * running set is kept and the reason says why. Policies moved from the folder
 * into the main file, or a new folder, are fine.
 */
static void test_reload_check(void **state)
{
	(void)state;
	char *dir = fixture_tmpdir("policy");
	char *pdir = xasprintf("%s/p.d", dir);
	char *main_file = xasprintf("%s/qscale.yaml", dir);
	const char *with_dir = "policies_dir: p.d\n";
	const char *inline_only =
		"policies_dir: p.d\n"
		"policies:\n"
		"  - name: inline\n"
		"    queue: {url: \"https://sqs.us-east-1.amazonaws.com/1/q\"}\n"
		"    target: {backlog_per_task: 5}\n"
		"    local: {cluster: onprem, service: svc-inline, max_tasks: 3}\n";
	struct qscale_config *running = NULL, *next = NULL;
	struct diag diag = {0};
	char why[256] = "";

	assert_int_equal(mkdir(pdir, 0700), 0);
	put_policy(pdir, "a.yaml", "a", "svc-a");
	spew(main_file, with_dir, strlen(with_dir));
	assert_int_equal(qscale_config_load(main_file, &running, &diag), 0);
	assert_true(running->policies_dir_found);
	assert_int_equal(qscale_config_reload_check(NULL, running, why, sizeof(why)), 0);
	assert_int_equal(qscale_config_reload_check(running, running, why, sizeof(why)), 0);

	/* No policy at all: what SIGHUP with the default folder missing loaded. */
	assert_int_equal(qscale_config_parse(main_file, "region: us-east-1\n", 18,
				 QSCALE_CONFIG_NO_POLICIES_DIR, &next, &diag),
		0);
	assert_int_equal(qscale_config_reload_check(running, next, why, sizeof(why)), -ENOENT);
	assert_string_equal(why, "the new configuration has no policy, 1 running");
	qscale_config_destroy(next);

	/* An inline policy, but the folder of the running one not found. */
	assert_int_equal(qscale_config_parse(main_file, inline_only, strlen(inline_only),
				 QSCALE_CONFIG_NO_POLICIES_DIR, &next, &diag),
		0);
	assert_false(next->policies_dir_found);
	assert_int_equal(qscale_config_reload_check(running, next, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "is missing, 1 running policies came from"));
	qscale_config_destroy(next);

	/* The same with the folder there (now empty): a deliberate move, accepted. */
	char *gone = xasprintf("%s/a.yaml", pdir);
	assert_int_equal(unlink(gone), 0);
	free(gone);
	spew(main_file, inline_only, strlen(inline_only));
	assert_int_equal(qscale_config_load(main_file, &next, &diag), 0);
	assert_true(next->policies_dir_found);
	assert_int_equal(qscale_config_reload_check(running, next, why, sizeof(why)), 0);
	qscale_config_destroy(next);
	qscale_config_destroy(running);
	free(pdir);
	free(main_file);
	fixture_remove_tree(dir);
}

/* policies_dir: *.yaml only, no hidden files, sorted, after the inline ones. */
static void test_policies_dir(void **state)
{
	(void)state;
	char *dir = fixture_tmpdir("policy");
	char *pdir = xasprintf("%s/p.d", dir);
	char *main_file = xasprintf("%s/qscale.yaml", dir);
	char *main_text =
		xstrdup("policies_dir: p.d\n"
			"policies:\n"
			"  - name: inline\n"
			"    queue: {url: \"https://sqs.us-east-1.amazonaws.com/1/q\"}\n"
			"    target: {backlog_per_task: 5}\n"
			"    local: {cluster: onprem, service: svc-inline, max_tasks: 3}\n");
	struct qscale_config *cfg = NULL;
	struct diag diag = {0};

	spew(main_file, main_text, strlen(main_text));
	assert_int_equal(mkdir(pdir, 0700), 0);
	put_policy(pdir, "b.yaml", "b", "svc-b");
	put_policy(pdir, "a2.yaml", "a2", "svc-a2");
	put_policy(pdir, ".hidden.yaml", "hidden", "svc-hidden");
	put_policy(pdir, "c.yml", "c", "svc-c");
	put_policy(pdir, "notes.txt", "d", "svc-d");

	if (qscale_config_load(main_file, &cfg, &diag) < 0)
		fail_msg("%s:%u:%u: %s", diag.file, diag.line, diag.column, diag.message);
	assert_int_equal(cfg->policy_count, 3);
	assert_string_equal(cfg->policies[0].name, "inline");
	assert_string_equal(cfg->policies[1].name, "a2");
	assert_string_equal(cfg->policies[2].name, "b");
	assert_string_equal(cfg->policies_dir, pdir);
	qscale_config_destroy(cfg);
	cfg = NULL;

	/* A policy in the folder that repeats a service of the main file. */
	put_policy(pdir, "z.yaml", "z", "svc-inline");
	assert_int_equal(qscale_config_load(main_file, &cfg, &diag), -EINVAL);
	assert_null(cfg);
	assert_true(strstr(diag.file, "/p.d/z.yaml") != NULL);
	assert_int_equal(diag.line, 4);
	assert_non_null(strstr(diag.message, "already driven by policy 'inline'"));

	/* A folder named in the file must exist. */
	free(main_text);
	main_text = xstrdup("interval: 5s\npolicies_dir: missing.d\n");
	spew(main_file, main_text, strlen(main_text));
	assert_int_equal(qscale_config_load(main_file, &cfg, &diag), -ENOENT);
	assert_null(cfg);
	assert_string_equal(diag.file, main_file);
	assert_int_equal(diag.line, 2);
	assert_int_equal(diag.column, 15);
	assert_non_null(strstr(diag.message, "missing.d': No such file or directory"));

	free(main_text);
	free(main_file);
	free(pdir);
	fixture_remove_tree(dir);
}

/* -c, then QSCALE_CONFIG (when not empty), then the built-in path. */
static void test_config_path(void **state)
{
	(void)state;
	assert_string_equal(qscale_config_path("/x/y.yaml"), "/x/y.yaml");
	setenv("QSCALE_CONFIG", "/from/env.yaml", 1);
	assert_string_equal(qscale_config_path(NULL), "/from/env.yaml");
	assert_string_equal(qscale_config_path("/x/y.yaml"), "/x/y.yaml");
	setenv("QSCALE_CONFIG", "", 1);
	assert_string_equal(qscale_config_path(NULL), QSCALE_SYSCONFDIR "/qscale.yaml");
	unsetenv("QSCALE_CONFIG");
	assert_string_equal(qscale_config_path(NULL), QSCALE_SYSCONFDIR "/qscale.yaml");
}

/* Parse text as a policy; it must fail with a message containing fragment. */
static void expect_reject(
	const char *what, const char *text, size_t len, int err, const char *fragment)
{
	struct policy p = {0};
	struct diag diag = {0};
	int r = policy_parse("hostile.yaml", text, len, NULL, &p, &diag);

	if (r != err || strstr(diag.message, fragment) == NULL)
		fail_msg("%s: got %d %u:%u: %s; want %d ...%s...", what, r, diag.line, diag.column,
			diag.message, err, fragment);
}

/* Text of n copies of unit between head and tail. */
static char *repeat(const char *head, const char *unit, size_t n, const char *tail, size_t *len)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *s = xmalloc(hl + ul * n + tl + 1);
	char *p = s;

	memcpy(p, head, hl);
	p += hl;
	for (size_t i = 0; i < n; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl);
	p += tl;
	*p = '\0';
	*len = (size_t)(p - s);
	return s;
}

/* Hostile text made here: deep, huge, numerous, self-referencing. */
static void test_hostile_generated(void **state)
{
	(void)state;
	size_t len;
	char *s;

	expect_reject("empty", "", 0, -EINVAL, "empty file");
	expect_reject("blank", "  \n\n  \n", 7, -EINVAL, "empty file");
	expect_reject("bare document", "---\n", 4, -EINVAL, "found nothing");
	expect_reject("NUL bytes", "\0\0\0\0", 4, -EINVAL, "not valid YAML text");

	s = repeat("", "[", 20000, "", &len);
	expect_reject("20000 [", s, len, -EINVAL, "nested deeper than 32 levels");
	free(s);
	s = repeat("", "{a: ", 20000, "", &len);
	expect_reject("20000 {a:", s, len, -EINVAL, "nested deeper than 32 levels");
	free(s);
	s = repeat("", "- ", 20000, "x\n", &len);
	expect_reject("20000 - ", s, len, -EINVAL, "nested deeper than 32 levels");
	free(s);

	s = repeat("name: ", "a", 8 * 1024 * 1024, "\n", &len);
	expect_reject("8 MiB scalar", s, len, -EFBIG, "file larger than 1048576 bytes");
	free(s);
	s = repeat("name: ", "a", 64 * 1024, "\n", &len);
	expect_reject("64 KiB scalar", s, len, -EINVAL, "value longer than 4096 bytes");
	free(s);
	s = repeat("name: ", "a", 64 * 1024, "\n", &len);
	s[3] = '\0';
	expect_reject("64 KiB with a NUL", s, len, -EINVAL, "not valid YAML text");
	free(s);
	s = repeat("[", "1,", 150000, "1]", &len);
	expect_reject("150000 nodes", s, len, -EINVAL, "more than 100000 YAML nodes");
	free(s);

	/* A billion laughs: refused at its first anchor, before any expansion. */
	s = repeat("a: &a [x", ",x", 9, "]\n", &len);
	{
		char *bomb = xasprintf("%sb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n"
				       "c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\n"
				       "d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n"
				       "e: &e [*d,*d,*d,*d,*d,*d,*d,*d,*d]\n"
				       "f: &f [*e,*e,*e,*e,*e,*e,*e,*e,*e]\n"
				       "g: &g [*f,*f,*f,*f,*f,*f,*f,*f,*f]\n"
				       "h: &h [*g,*g,*g,*g,*g,*g,*g,*g,*g]\n"
				       "i: [*h,*h,*h,*h,*h,*h,*h,*h,*h]\n",
			s);

		expect_reject("alias bomb", bomb, strlen(bomb), -EINVAL, "anchors and aliases");
		free(bomb);
	}
	free(s);
}

/* Pseudo-random bytes, the same on every run. */
static void junk(uint32_t seed, unsigned char *out, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		seed = seed * 1664525u + 1013904223u;
		out[i] = (unsigned char)(seed >> 24);
	}
}

/* Binary junk of many shapes is rejected, never accepted or crashed on. */
static void test_hostile_junk(void **state)
{
	(void)state;
	unsigned char buf[4096];

	for (uint32_t seed = 1; seed <= 200; seed++) {
		size_t len = 1 + seed * 20;
		struct policy p = {0};
		struct diag diag = {0};
		struct qscale_config *cfg = NULL;

		junk(seed, buf, len);
		assert_true(policy_parse("junk", (const char *)buf, len, NULL, &p, &diag) < 0);
		assert_true(diag.message[0] != '\0');
		diag.message[0] = '\0';
		assert_true(qscale_config_parse("junk", (const char *)buf, len,
				    QSCALE_CONFIG_NO_POLICIES_DIR, &cfg, &diag) < 0);
		assert_null(cfg);
		assert_true(diag.message[0] != '\0');
	}
}

/* Files that are not regular files, too big, or missing fail without reading forever. */
static void test_hostile_files(void **state)
{
	(void)state;
	char *dir = fixture_tmpdir("policy");
	char *fifo = xasprintf("%s/fifo.yaml", dir);
	char *big = xasprintf("%s/big.yaml", dir);
	char *missing = xasprintf("%s/missing.yaml", dir);
	struct qscale_config *cfg = NULL;
	struct diag diag = {0};
	FILE *f;

	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_int_equal(qscale_config_load(fifo, &cfg, &diag), -EINVAL);
	assert_string_equal(diag.message, "not a regular file (a FIFO)");
	assert_int_equal(diag.line, 0);

	assert_int_equal(qscale_config_load(dir, &cfg, &diag), -EISDIR);
	assert_int_equal(qscale_config_load("/dev/zero", &cfg, &diag), -EINVAL);
	assert_int_equal(qscale_config_load(missing, &cfg, &diag), -ENOENT);
	assert_string_equal(diag.file, missing);
	assert_non_null(strstr(diag.message, "No such file"));

	/* 8 MiB on disk: refused from its size, not read. */
	f = fopen(big, "wb");
	assert_non_null(f);
	fputs("name: ", f);
	assert_int_equal(fseek(f, 8 * 1024 * 1024, SEEK_SET), 0);
	fputs("x\n", f);
	fclose(f);
	assert_int_equal(qscale_config_load(big, &cfg, &diag), -EFBIG);
	assert_null(cfg);
	assert_non_null(strstr(diag.message, "file larger than"));

	free(fifo);
	free(big);
	free(missing);
	fixture_remove_tree(dir);
	qscale_config_destroy(NULL);
	policy_finish(NULL);
}

/* The suggestion distance: swaps of neighbours count once. */
static void test_suggest(void **state)
{
	(void)state;
	static const struct {
		const char *a, *b;
		size_t d;
	} distances[] = {
		{"", "", 0},
		{"", "abc", 3},
		{"abc", "abc", 0},
		{"bakclog_per_task", "backlog_per_task", 1},
		{"intervall", "interval", 1},
		{"max_taks", "max_tasks", 1},
		{"sclae_in", "scale_in", 1},
		{"kitten", "sitting", 3},
		{"ca", "abc", 3},
	};
	static const char *const keys[] = {"interval", "max_tasks", "min_tasks", "name", NULL};

	for (size_t i = 0; i < N(distances); i++) {
		size_t d = suggest_distance(distances[i].a, distances[i].b, 10);

		if (d != distances[i].d)
			fail_msg("%s/%s: %zu, want %zu", distances[i].a, distances[i].b, d,
				distances[i].d);
	}
	assert_int_equal(suggest_distance("abcdefgh", "a", 2), 3);
	assert_string_equal(suggest_key("intreval", keys), "interval");
	assert_string_equal(suggest_key("max_task", keys), "max_tasks");
	assert_string_equal(suggest_key("nmae", keys), "name");
	assert_null(suggest_key("colour", keys));
	assert_null(suggest_key("x", keys));
}

/* One row of a key table in docs/configuration.md. */
struct doc_row {
	char key[96];
	char type[96];
	char def[160];
	bool matched;
};

/* Trim spaces at both ends of s in place. */
static char *trim(char *s)
{
	char *end;

	while (*s == ' ')
		s++;
	end = s + strlen(s);
	while (end > s && end[-1] == ' ')
		*--end = '\0';
	return s;
}

/* Read the rows of the key table after marker in the document. */
static size_t read_doc_rows(const char *doc, const char *marker, struct doc_row *rows, size_t max)
{
	const char *p = strstr(doc, marker);
	size_t n = 0;

	if (p == NULL)
		fail_msg("docs/configuration.md lacks %s", marker);
	p = strchr(p, '\n') + 1;
	/* Skip blank lines, the header and the separator. */
	while (*p == '\n')
		p++;
	for (int skip = 0; skip < 2; skip++)
		p = strchr(p, '\n') + 1;
	while (p[0] == '|' && n < max) {
		size_t line_len = strcspn(p, "\n");
		char *line = xstrndup(p, line_len);
		char *cells[5] = {0};
		char *cur = line + 1;

		for (int c = 0; c < 4; c++) {
			char *bar = strchr(cur, '|');

			if (bar == NULL)
				fail_msg("doc row has fewer than 4 cells: %s", line);
			*bar = '\0';
			cells[c] = trim(cur);
			cur = bar + 1;
		}
		if (cells[0][0] != '`' || cells[0][strlen(cells[0]) - 1] != '`')
			fail_msg("doc key not in backquotes: %s", cells[0]);
		snprintf(rows[n].key, sizeof(rows[n].key), "%.*s", (int)strlen(cells[0]) - 2,
			cells[0] + 1);
		snprintf(rows[n].type, sizeof(rows[n].type), "%s", cells[1]);
		snprintf(rows[n].def, sizeof(rows[n].def), "%s", cells[2]);
		rows[n].matched = false;
		n++;
		free(line);
		p += line_len + (p[line_len] == '\n');
	}
	return n;
}

/* Check every leaf of a schema against the document's rows; count mismatches. */
static size_t compare_schema(
	const struct schema_field *fields, const char *path, struct doc_row *rows, size_t nrows)
{
	size_t bad = 0;

	for (const struct schema_field *f = fields; f->key != NULL; f++) {
		char key[96], type[96], def[160];
		size_t i;

		snprintf(key, sizeof(key), "%s%s%s", path, path[0] ? "." : "", f->key);
		if (f->type == SCHEMA_MAP) {
			bad += compare_schema(f->sub, key, rows, nrows);
			continue;
		}
		schema_type_text(f, type, sizeof(type));
		if (f->def != NULL &&
			strncmp(f->def, QSCALE_SYSCONFDIR "/", strlen(QSCALE_SYSCONFDIR "/")) == 0)
			/* Paths are documented as a package installs them. */
			snprintf(def, sizeof(def), "`/etc/qscale/%s`",
				f->def + strlen(QSCALE_SYSCONFDIR "/"));
		else if (f->def != NULL)
			snprintf(def, sizeof(def), "`%s`", f->def);
		else
			snprintf(def, sizeof(def), "%s", f->def_doc != NULL ? f->def_doc : "?");
		for (i = 0; i < nrows; i++) {
			if (strcmp(rows[i].key, key) == 0)
				break;
		}
		if (i == nrows) {
			print_error("doc lacks: | `%s` | %s | %s | ... |\n", key, type, def);
			bad++;
			continue;
		}
		rows[i].matched = true;
		if (strcmp(rows[i].type, type) != 0 || strcmp(rows[i].def, def) != 0) {
			print_error(
				"doc row differs: | `%s` | %s | %s |\n          want: | `%s` | %s "
				"| %s |\n",
				key, rows[i].type, rows[i].def, key, type, def);
			bad++;
		}
	}
	return bad;
}

/* docs/configuration.md lists exactly the keys, types and defaults the loader applies. */
static void test_docs_match_schema(void **state)
{
	(void)state;
	char *path = xasprintf("%s/../../docs/configuration.md", data_dir());
	size_t len, bad = 0;
	char *doc = slurp(path, &len);
	struct doc_row rows[64];
	static const struct {
		const char *marker;
		const struct schema_field *schema;
	} tables[] = {
		{"<!-- keys: main -->", config_schema},
		{"<!-- keys: policy -->", policy_schema},
	};

	for (size_t t = 0; t < N(tables); t++) {
		size_t n = read_doc_rows(doc, tables[t].marker, rows, N(rows));

		bad += compare_schema(tables[t].schema, "", rows, n);
		for (size_t i = 0; i < n; i++) {
			if (!rows[i].matched) {
				print_error("doc has a key the loader does not: %s\n", rows[i].key);
				bad++;
			}
		}
	}
	assert_int_equal(bad, 0);
	free(doc);
	free(path);
}

/* Every default in the tables is accepted by its own parser (else loading aborts). */
static void test_defaults_apply(void **state)
{
	(void)state;
	struct qscale_config cfg = {0};
	struct policy p = {0};

	schema_apply_defaults(config_schema, &cfg);
	schema_apply_defaults(policy_schema, &p);
	assert_true(cfg.interval_ms == 10000);
	assert_default_behavior(&p.scaling);
	schema_free(config_schema, &cfg);
	schema_free(policy_schema, &p);
}

/* A limit set for a direction replaces that direction's defaults (HPA); both set, both apply. */
static void test_explicit_limits(void **state)
{
	static const char head[] =
		"name: orders\nqueue: {url: https://sqs.us-east-1.amazonaws.com/123456789012/q}\n"
		"target: {backlog_per_task: 50}\nlocal: {cluster: c, service: s, max_tasks: 20}\n";
	static const struct {
		const char *behavior;
		int32_t out_tasks, out_percent, in_tasks, in_percent;
	} rows[] = {
		{"", 4, 100, 0, 100},
		{"behavior: {scale_in: {max_tasks: 5}}\n", 4, 100, 5, 0},
		{"behavior: {scale_in: {max_percent: 10}}\n", 4, 100, 0, 10},
		{"behavior: {scale_out: {max_tasks: 10}}\n", 10, 0, 0, 100},
		{"behavior: {scale_out: {max_percent: 50}}\n", 0, 50, 0, 100},
		{"behavior: {scale_out: {max_tasks: 2, max_percent: 50}}\n", 2, 50, 0, 100},
		{"behavior: {scale_in: {stabilization: 60s}}\n", 4, 100, 0, 100},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *text = xasprintf("%s%s", head, rows[i].behavior);
		struct policy p = {0};
		struct diag diag = {0};

		if (policy_parse("limits.yaml", text, strlen(text), NULL, &p, &diag) < 0)
			fail_msg("row %zu: %u:%u: %s", i, diag.line, diag.column, diag.message);
		assert_int_equal(p.scaling.scale_out.max_tasks, rows[i].out_tasks);
		assert_int_equal(p.scaling.scale_out.max_percent, rows[i].out_percent);
		assert_int_equal(p.scaling.scale_in.max_tasks, rows[i].in_tasks);
		assert_int_equal(p.scaling.scale_in.max_percent, rows[i].in_percent);
		policy_finish(&p);
		free(text);
	}
}

/* check says how a policy sizes, and falls back to the backlog alone when in flight is backlog. */
static void test_sizing_describe(void **state)
{
	static const char base[] =
		"name: orders\nqueue: {url: https://sqs.us-east-1.amazonaws.com/123456789012/q%s}\n"
		"target: {backlog_per_task: 50%s}\nlocal: {cluster: c, service: s, max_tasks: "
		"20}\n";
	static const struct {
		const char *queue, *target, *want;
	} rows[] = {
		{"", "", "work in progress ceil(in flight / (1 x 80%)) + ceil(backlog / 50)"},
		{"", ", concurrency: 4, utilization: 90", "ceil(in flight / (4 x 90%))"},
		{", include_in_flight: true", "",
			"backlog alone, ceil(backlog / 50): queue.include_in_flight"},
		{"", ", concurrency: 0",
			"backlog alone, ceil(backlog / 50) (target.concurrency is 0)"},
	};
	(void)state;
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++) {
		char *text = xasprintf(base, rows[i].queue, rows[i].target);
		struct policy p = {0};
		struct diag diag = {0};
		char line[256];

		if (policy_parse("sizing.yaml", text, strlen(text), NULL, &p, &diag) < 0)
			fail_msg("row %zu: %u:%u: %s", i, diag.line, diag.column, diag.message);
		policy_sizing_describe(&p, line, sizeof(line));
		if (strstr(line, rows[i].want) == NULL)
			fail_msg("row %zu: \"%s\" lacks \"%s\"", i, line, rows[i].want);
		policy_finish(&p);
		free(text);
	}
}

/* The cases, run as TAP. */
int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad_corpus),
		cmocka_unit_test(test_good_files),
		cmocka_unit_test(test_shipped_example),
		cmocka_unit_test(test_print_round_trip),
		cmocka_unit_test(test_policies_dir),
		cmocka_unit_test(test_reload_check),
		cmocka_unit_test(test_config_path),
		cmocka_unit_test(test_hostile_generated),
		cmocka_unit_test(test_hostile_junk),
		cmocka_unit_test(test_hostile_files),
		cmocka_unit_test(test_suggest),
		cmocka_unit_test(test_docs_match_schema),
		cmocka_unit_test(test_defaults_apply),
		cmocka_unit_test(test_explicit_limits),
		cmocka_unit_test(test_sizing_describe),
	};

	return cmocka_run_group_tests_name("policy", tests, NULL, NULL);
}
