/*
 * The hardened file reader, and every reader of qscale going through it: a
 * FIFO, a directory or a device in place of the configuration, a policy, a
 * scenario, a trace, the AWS shared config or credentials file, the container
 * token file or the CA bundle is refused at once with a reason, never waited
 * on. alarm() turns a regression (a blocking open) into a failure, not a hang.
 */
#include <dirent.h>
#include <errno.h>
#include <event2/event.h>
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

#include "qscale/aws_ini.h"
#include "qscale/credentials.h"
#include "qscale/file.h"
#include "qscale/http.h"
#include "qscale/policy.h"
#include "qscale/scenario.h"
#include "qscale/xalloc.h"
#include "tmpdir_fixture.h"

/* Write text to path. */
static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* A FIFO at dir/name, returned (caller frees). */
static char *fifo_at(const char *dir, const char *name)
{
	char *path = xasprintf("%s/%s", dir, name);

	assert_int_equal(mkfifo(path, 0600), 0);
	return path;
}

/* Fresh per test: a folder and an alarm against a blocking open. */
static int setup(void **state)
{
	*state = fixture_tmpdir("file");
	alarm(30);
	return 0;
}

static int teardown(void **state)
{
	alarm(0);
	fixture_remove_tree(*state);
	return 0;
}

/* A regular file reads whole; its stat comes with it. */
static void test_read_ok(void **state)
{
	char *path = xasprintf("%s/ok", (char *)*state);
	struct file_data d;
	char why[FILE_WHY_MAX];

	write_file(path, "hello\n");
	assert_int_equal(file_read(path, 100, 0, &d, why, sizeof(why)), 0);
	assert_int_equal(d.len, 6);
	assert_string_equal(d.data, "hello\n");
	assert_true(S_ISREG(d.st.st_mode));
	file_data_finish(&d);
	assert_null(d.data);
	file_data_finish(&d);

	/* Empty is fine too; so is a secret. */
	write_file(path, "");
	assert_int_equal(file_read(path, 100, FILE_SECRET, &d, why, sizeof(why)), 0);
	assert_int_equal(d.len, 0);
	assert_string_equal(d.data, "");
	file_data_finish(&d);
	free(path);
}

/* What is not a regular file is refused with its kind named. */
static void test_read_refuses(void **state)
{
	char *dir = *state;
	char *fifo = fifo_at(dir, "fifo");
	char *missing = xasprintf("%s/missing", dir);
	char *big = xasprintf("%s/big", dir);
	struct file_data d;
	char why[FILE_WHY_MAX];
	int fd;

	assert_int_equal(file_read(fifo, 100, 0, &d, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "not a regular file (a FIFO)");
	assert_int_equal(file_open(fifo, 0, &fd, NULL, why, sizeof(why)), -EINVAL);
	assert_int_equal(file_read(dir, 100, 0, &d, why, sizeof(why)), -EISDIR);
	assert_int_equal(file_read("/dev/zero", 100, 0, &d, why, sizeof(why)), -EINVAL);
	assert_string_equal(why, "not a regular file (a character device)");
	assert_int_equal(file_read(missing, 100, 0, &d, why, sizeof(why)), -ENOENT);
	assert_non_null(strstr(why, "No such file"));
	assert_int_equal(file_read(missing, 100, 0, &d, NULL, 0), -ENOENT);

	write_file(big, "0123456789");
	assert_int_equal(file_read(big, 9, 0, &d, why, sizeof(why)), -EFBIG);
	assert_string_equal(why, "file larger than 9 bytes");
	assert_int_equal(file_read(big, 10, 0, &d, why, sizeof(why)), 0);
	file_data_finish(&d);
	/* Streamed files are opened without a size cap, still never a FIFO. */
	assert_int_equal(file_open(big, 0, &fd, NULL, why, sizeof(why)), 0);
	close(fd);
	free(fifo);
	free(missing);
	free(big);
}

/* The configuration, and a policy in policies_dir, may not be FIFOs. */
static void test_config_and_policy_fifo(void **state)
{
	char *dir = *state;
	char *fifo = fifo_at(dir, "qscale.yaml");
	char *sub = xasprintf("%s/policies.d", dir);
	char *main_file = xasprintf("%s/main.yaml", dir);
	char *policy_fifo;
	struct qscale_config *cfg = NULL;
	struct diag diag = {0};

	assert_int_equal(qscale_config_load(fifo, &cfg, &diag), -EINVAL);
	assert_string_equal(diag.file, fifo);
	assert_string_equal(diag.message, "not a regular file (a FIFO)");

	assert_int_equal(mkdir(sub, 0700), 0);
	policy_fifo = fifo_at(sub, "orders.yaml");
	write_file(main_file, "region: us-east-1\npolicies_dir: policies.d\n");
	assert_int_equal(qscale_config_load(main_file, &cfg, &diag), -EINVAL);
	assert_null(cfg);
	assert_string_equal(diag.file, policy_fifo);
	assert_string_equal(diag.message, "not a regular file (a FIFO)");
	free(fifo);
	free(sub);
	free(main_file);
	free(policy_fifo);
}

/* A scenario, and a trace (streamed), may not be FIFOs. */
static void test_scenario_and_trace_fifo(void **state)
{
	char *dir = *state;
	char *scen = fifo_at(dir, "scenario.yaml");
	char *trace = fifo_at(dir, "trace.csv");
	struct scenario *sc = NULL;
	struct scenario_arrivals arrivals = {0};
	struct diag diag = {0};

	assert_true(scenario_load(scen, &sc, &diag) < 0);
	assert_null(sc);
	assert_string_equal(diag.file, scen);
	assert_string_equal(diag.message, "not a regular file (a FIFO)");
	memset(&diag, 0, sizeof(diag));
	assert_int_equal(scenario_trace_load(trace, &arrivals, &diag), -EINVAL);
	assert_string_equal(diag.file, trace);
	assert_string_equal(diag.message, "not a regular file (a FIFO)");
	free(scen);
	free(trace);
}

/* The AWS shared files and the container token file may not be FIFOs. */
static void test_aws_files_fifo(void **state)
{
	char *dir = *state;
	char *ini_fifo = fifo_at(dir, "credentials");
	char *token = fifo_at(dir, "token");
	char *ok = xasprintf("%s/config", dir);
	struct aws_ini ini = {0};
	struct aws_ini_diag diag = {0};
	char *value = NULL;

	assert_int_equal(aws_ini_load(ini_fifo, false, &ini, &diag), -EINVAL);
	assert_int_equal(diag.line, 0);
	assert_string_equal(diag.message, "not a regular file (a FIFO)");
	assert_int_equal(aws_ini_load(dir, true, &ini, &diag), -EISDIR);
	assert_int_equal(credentials_container_token(token, NULL, &value), -EINVAL);
	assert_null(value);

	/* A good file carries what fstat said of it. */
	write_file(ok, "[default]\nregion = us-east-1\n");
	assert_int_equal(chmod(ok, 0640), 0);
	assert_int_equal(aws_ini_load(ok, true, &ini, &diag), 0);
	assert_int_equal(ini.mode & 07777, 0640);
	assert_int_equal(ini.uid, getuid());
	assert_true(ini.mtime_ns > 0);
	aws_ini_finish(&ini);
	free(ini_fifo);
	free(token);
	free(ok);
}

/* The request's callback: must not run when the start was refused. */
static void never_cb(const struct http_response *resp, void *arg)
{
	(void)resp;
	(void)arg;
	fail_msg("callback of a refused request");
}

/* A FIFO at AWS_CA_BUNDLE refuses https requests instead of freezing libcurl. */
static void test_ca_bundle_fifo(void **state)
{
	char *ca = fifo_at(*state, "ca.pem");
	struct event_base *base = event_base_new();
	struct http_client *client = NULL;
	struct http_request_opts opts = {.method = "GET", .url = "https://127.0.0.1:1/"};
	int r;

	assert_non_null(base);
	setenv("AWS_CA_BUNDLE", ca, 1);
	r = http_client_create(base, NULL, &client);
	unsetenv("AWS_CA_BUNDLE");
	if (r == -ENOTSUP) {
		event_base_free(base);
		free(ca);
		skip();
	}
	assert_int_equal(r, 0);
	assert_int_equal(http_request_start(client, &opts, never_cb, NULL, NULL), -EINVAL);
	http_client_destroy(client);
	event_base_free(base);
	free(ca);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_read_ok, setup, teardown),
		cmocka_unit_test_setup_teardown(test_read_refuses, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_and_policy_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scenario_and_trace_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aws_files_fifo, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ca_bundle_fifo, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
