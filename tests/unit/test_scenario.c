/*
 * Scenario loader tests: the shipped scenarios load with what they say,
 * defaults and derived values (ARNs, instance ids, built-in attributes,
 * reservations) are right, traces read as documented, and every bad file
 * under tests/data/scenario/bad/ fails at the right line:column.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "qscale/scenario.h"

/* A path under QSCALE_TEST_DATA. */
static char *data_path(const char *rel)
{
	const char *dir = getenv("QSCALE_TEST_DATA");
	static char buf[4][1024];
	static int slot;
	char *out = buf[slot++ % 4];

	snprintf(out, sizeof(buf[0]), "%s/%s", dir ? dir : "tests/data", rel);
	return out;
}

/* Load a scenario from text, failing the test on error. */
static struct scenario *load_text_ok(const char *text)
{
	struct scenario *sc = NULL;
	struct diag d;
	char msg[700];
	int rc = scenario_load_text("inline.yaml", text, strlen(text), &sc, &d);

	if (rc < 0)
		fail_msg("unexpected error: %s", diag_format(&d, msg, sizeof(msg)));
	return sc;
}

/* Each shipped scenario loads and names what DESIGN.md's example names. */
static void test_shipped_scenarios_load(void **state)
{
	static const char *const names[] = {"steady.yaml", "spike.yaml", "spike-faults.yaml"};

	for (size_t i = 0; i < 3; i++) {
		char rel[256];
		struct scenario *sc = NULL;
		struct diag d;
		char msg[700];
		int rc;

		snprintf(rel, sizeof(rel), "../../config/scenarios/%s", names[i]);
		rc = scenario_load(data_path(rel), &sc, &d);
		if (rc < 0)
			fail_msg("%s", diag_format(&d, msg, sizeof(msg)));
		assert_string_equal(sc->region, "us-east-1");
		assert_string_equal(sc->account_id, "123456789012");
		assert_int_equal(scenario_find_queue(sc, "orders"), 0);
		assert_true(scenario_find_cluster(sc, "onprem") >= 0);
		assert_true(scenario_find_cluster(sc, "cloud") >= 0);
		assert_int_equal(sc->service_count, 2);
		assert_string_equal(sc->services[0].name, "order-processor");
		assert_int_equal(sc->services[0].launch_type, SCENARIO_LAUNCH_EXTERNAL);
		assert_string_equal(sc->services[1].name, "order-processor-fargate");
		assert_int_equal(sc->services[1].launch_type, SCENARIO_LAUNCH_FARGATE);
		assert_int_equal(sc->clusters[0].instance_count, 3);
		assert_non_null(sc->access_key_id);
		if (i == 2) {
			bool partition = false;

			assert_true(sc->fault_count >= 4);
			for (size_t k = 0; k < sc->fault_count; k++)
				if (sc->faults[k].kind == SCENARIO_FAULT_PARTITION)
					partition = sc->faults[k].end_ms - sc->faults[k].start_ms ==
						30000;
			assert_true(partition);
		}
		scenario_destroy(sc);
	}
}

/* Defaults and derived fields of a small scenario with a trace. */
static void test_minimal_defaults_and_derived(void **state)
{
	struct scenario *sc = NULL;
	struct diag d;
	const struct scenario_instance *in;
	bool external = false;

	assert_int_equal(scenario_load(data_path("scenario/minimal.yaml"), &sc, &d), 0);
	assert_string_equal(sc->region, "us-east-1");
	assert_string_equal(sc->account_id, "123456789012");
	assert_null(sc->access_key_id);
	assert_int_equal(sc->onprem_startup_ms, 5000);
	assert_int_equal(sc->fargate_startup_ms, 45000);
	in = &sc->clusters[0].instances[0];
	assert_string_equal(in->ec2_instance_id, "mi-0123456789abcdef0");
	assert_int_equal(strlen(in->container_instance_id), 32);
	assert_int_equal(in->reserved_ports_tcp_count, 5);
	assert_int_equal(in->reserved_ports_tcp[0], 22);
	assert_true(in->agent_connected);
	for (size_t i = 0; i < in->attribute_count; i++)
		if (strcmp(in->attributes[i].name, "ecs.capability.external") == 0)
			external = in->attributes[i].value == NULL;
	assert_true(external);
	assert_string_equal(sc->clusters[0].arn, "arn:aws:ecs:us-east-1:123456789012:cluster/dc");
	assert_string_equal(
		sc->services[0].arn, "arn:aws:ecs:us-east-1:123456789012:service/dc/worker");
	assert_string_equal(sc->task_definitions[0].arn,
		"arn:aws:ecs:us-east-1:123456789012:task-definition/worker:1");
	assert_string_equal(sc->task_definitions[0].network_mode, "bridge");
	assert_int_equal(
		sc->task_definitions[0].requires_compatibilities, SCENARIO_COMPAT_EXTERNAL);
	assert_true(sc->services[0].messages_per_task_s == 2.0);
	/* the trace: header and comment skipped, four rows */
	assert_int_equal(sc->queues[0].arrivals.trace_count, 4);
	assert_int_equal(sc->queues[0].arrivals.trace[2].at_ms, 2500);
	assert_int_equal(sc->queues[0].arrivals.trace[3].count, 30);
	assert_int_equal(sc->queues[0].arrivals.trace_last_span_ms, 7500);
	scenario_destroy(sc);
}

/* Generated instances get distinct ids, stable across loads. */
static void test_instance_count_expands(void **state)
{
	static const char text[] =
		"clusters:\n"
		"  - name: c\n"
		"    instances:\n"
		"      - {count: 3, cpu: 1024, memory: 2048, reserved_ports: []}\n"
		"      - {id: mi-00000000000000001, cpu: 2048, memory: 4096,\n"
		"         attributes: {site: dc2, gpu: null}, agent_connected: false,\n"
		"         status: DRAINING}\n";
	struct scenario *a = load_text_ok(text), *b = load_text_ok(text);
	const struct scenario_cluster *c = &a->clusters[0];

	assert_int_equal(c->instance_count, 4);
	for (size_t i = 0; i < 4; i++) {
		assert_string_equal(c->instances[i].ec2_instance_id,
			b->clusters[0].instances[i].ec2_instance_id);
		for (size_t k = 0; k < i; k++)
			assert_string_not_equal(c->instances[i].container_instance_id,
				c->instances[k].container_instance_id);
	}
	assert_int_equal(c->instances[0].reserved_ports_tcp_count, 0);
	assert_int_equal(strncmp(c->instances[1].ec2_instance_id, "mi-", 3), 0);
	assert_int_equal(strlen(c->instances[1].ec2_instance_id), 20);
	assert_false(c->instances[3].agent_connected);
	assert_int_equal(c->instances[3].status, SCENARIO_INSTANCE_DRAINING);
	assert_string_equal(c->instances[3].attributes[0].name, "site");
	assert_string_equal(c->instances[3].attributes[0].value, "dc2");
	assert_null(c->instances[3].attributes[1].value);
	scenario_destroy(a);
	scenario_destroy(b);
}

/* What a task reserves, as ECS computes it. */
static void test_reservation_table(void **state)
{
	static const struct {
		const char *yaml;
		uint32_t cpu, mem;
		size_t tcp, udp;
	} cases[] = {
		/* task level wins */
		{"    cpu: \"1 vCPU\"\n    memory: \"2GB\"\n"
		 "    containers: [{name: a, cpu: 10, memory: 100}]\n",
			1024, 2048, 0, 0},
		/* container sums; reservation before hard limit */
		{"    containers: [{name: a, cpu: 256, memory: 512, memory_reservation: 256},"
		 " {name: b, cpu: 128, memory: 300}]\n",
			384, 556, 0, 0},
		/* host ports reserved, dynamic ones not */
		{"    containers: [{name: a, memory: 64, port_mappings: [{container_port: 80, "
		 "host_port: 8080}, {container_port: 81}, {container_port: 53, host_port: 53, "
		 "protocol: udp}]}]\n",
			0, 64, 1, 1},
		/* awsvpc reserves no host ports */
		{"    network_mode: awsvpc\n    containers: [{name: a, memory: 64, port_mappings: "
		 "[{container_port: 80, host_port: 80}]}]\n",
			0, 64, 0, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[1024];
		struct scenario *sc;
		struct scenario_reservation r;

		snprintf(text, sizeof(text), "task_definitions:\n  - family: t\n%s", cases[i].yaml);
		sc = load_text_ok(text);
		scenario_task_definition_reservation(&sc->task_definitions[0], &r);
		assert_int_equal(r.cpu_units, cases[i].cpu);
		assert_int_equal(r.memory_mib, cases[i].mem);
		assert_int_equal(r.ports_tcp_count, cases[i].tcp);
		assert_int_equal(r.ports_udp_count, cases[i].udp);
		if (cases[i].tcp)
			assert_int_equal(r.ports_tcp[0], 8080);
		scenario_destroy(sc);
	}
}

/* Task definitions by family (latest), family:revision and ARN. */
static void test_find_task_definition(void **state)
{
	struct scenario *sc =
		load_text_ok("task_definitions:\n"
			     "  - {family: app, revision: 2, containers: [{name: a, "
			     "memory: 64}]}\n"
			     "  - {family: app, revision: 7, containers: [{name: a, "
			     "memory: 64}]}\n"
			     "  - {family: ap, containers: [{name: a, memory: 64}]}\n");

	assert_int_equal(scenario_find_task_definition(sc, "app"), 1);
	assert_int_equal(scenario_find_task_definition(sc, "app:2"), 0);
	assert_int_equal(scenario_find_task_definition(sc, "ap"), 2);
	assert_int_equal(scenario_find_task_definition(sc, "ap:2"), -ENOENT);
	assert_int_equal(scenario_find_task_definition(sc, "app:3"), -ENOENT);
	assert_int_equal(scenario_find_task_definition(
				 sc, "arn:aws:ecs:us-east-1:123456789012:task-definition/app:7"),
		1);
	assert_int_equal(scenario_find_task_definition(sc, "nope"), -ENOENT);
	scenario_destroy(sc);
}

/* Rates in every accepted spelling, and junk refused. */
static void test_rates(void **state)
{
	static const struct {
		const char *text;
		double per_s; /* < 0: rejected */
	} cases[] = {
		{"10/s", 10},
		{"600/m", 10},
		{"600/min", 10},
		{"36000/h", 10},
		{"2.5", 2.5},
		{"0/s", 0},
		{"10/week", -1},
		{"-1/s", -1},
		{"ten/s", -1},
		{"10/", -1},
		{"1e12/s", -1},
		{"10 /s", -1},
		{"nan", -1},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char text[256];
		struct scenario *sc = NULL;
		struct diag d;
		int rc;

		snprintf(text, sizeof(text),
			"queues:\n  - name: q\n    arrivals: {segments: [{at: 0s, rate: %s}]}\n",
			cases[i].text);
		rc = scenario_load_text("rates.yaml", text, strlen(text), &sc, &d);
		if (cases[i].per_s < 0) {
			assert_int_equal(rc, -EINVAL);
			assert_int_equal(d.line, 3);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_true(sc->queues[0].arrivals.segments[0].rate_per_s == cases[i].per_s);
		scenario_destroy(sc);
	}
}

/* Each bad file fails where it is wrong, saying what is wrong. */
static void test_bad_files(void **state)
{
	static const struct {
		const char *file;
		unsigned line, column;
		const char *words;
	} cases[] = {
		{"unknown-key.yaml", 3, 5, "did you mean 'reporting_lag'"},
		{"wrong-type.yaml", 5, 14, "cpu must be a whole number"},
		{"duplicate-key.yaml", 3, 1, "duplicate key 'region'"},
		{"bad-rate.yaml", 6, 27, "10/week"},
		{"unknown-cluster.yaml", 6, 14, "no cluster named 'nowhere'"},
		{"bad-duration.yaml", 2, 11, "must be a duration"},
		{"syntax.yaml", 3, 4, "expected"},
		{"fault-window.yaml", 2, 41, "end must come after start"},
		{"alias.yaml", 2, 5, "aliases"},
		{"bad-trace.yaml", 4, 14, "bad-trace.csv:3:3:"},
		{"segments-order.yaml", 6, 16, "must increase"},
		{"fargate-no-awsvpc.yaml", 2, 5, "awsvpc"},
		{"bad-event.yaml", 5, 60, "no instance '5'"},
		{"incompatible.yaml", 6, 72, "not compatible with FARGATE"},
		{"not-mapping.yaml", 1, 1, "must be a mapping"},
		{"probability.yaml", 2, 45, "between 0 and 1"},
		{"processing-time.yaml", 4, 64, "processing_time needs a queue"},
		{"processing-time-long.yaml", 5, 98, "processing_time is at most 1h"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char rel[256], msg[700], want[64];
		struct scenario *sc = NULL;
		struct diag d;
		int rc;

		snprintf(rel, sizeof(rel), "scenario/bad/%s", cases[i].file);
		rc = scenario_load(data_path(rel), &sc, &d);
		assert_int_equal(rc, -EINVAL);
		assert_null(sc);
		diag_format(&d, msg, sizeof(msg));
		snprintf(want, sizeof(want), "%s:%u:%u: ", cases[i].file, cases[i].line,
			cases[i].column);
		if (strstr(msg, want) == NULL || strstr(msg, cases[i].words) == NULL)
			fail_msg("%s: got '%s'", cases[i].file, msg);
	}
}

/* A missing file is ENOENT with the path in the message. */
static void test_missing_file(void **state)
{
	struct scenario *sc = NULL;
	struct diag d;
	char msg[700];

	assert_int_equal(scenario_load(data_path("scenario/none.yaml"), &sc, &d), -ENOENT);
	assert_null(sc);
	assert_non_null(strstr(diag_format(&d, msg, sizeof(msg)), "none.yaml: "));
}

/* Traces: rows in order, header optional, junk refused with line:column. */
static void test_trace_rows(void **state)
{
	static const struct {
		const char *text;
		int rc;
		unsigned line, column;
		size_t rows;
	} cases[] = {
		{"0,1\n1,2\n", 0, 0, 0, 2},
		{"t,c\r\n0,1\r\n\r\n# x\n5, 7\n", 0, 0, 0, 2},
		{"0,1\n0,2\n", -EINVAL, 2, 1, 0},
		{"0,1\n1,-2\n", -EINVAL, 2, 3, 0},
		{"-1,1\n", -EINVAL, 1, 1, 0},
		{"0,1,2\n", -EINVAL, 1, 3, 0},
		{"0;1\n", -EINVAL, 1, 1, 0},
		{"# only comments\n", -EINVAL, 0, 0, 0},
		{"0,1\nheader,late\n", -EINVAL, 2, 1, 0},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char path[] = "/tmp/qscale-trace-XXXXXX";
		int fd = mkstemp(path);
		FILE *f = fdopen(fd, "w");
		struct scenario_arrivals a = {0};
		struct diag d = {0};
		int rc;

		fputs(cases[i].text, f);
		fclose(f);
		rc = scenario_trace_load(path, &a, &d);
		unlink(path);
		assert_int_equal(rc, cases[i].rc);
		if (rc == 0) {
			assert_int_equal(a.trace_count, cases[i].rows);
		} else {
			assert_int_equal(d.line, cases[i].line);
			assert_int_equal(d.column, cases[i].column);
			assert_int_equal(a.trace_count, 0);
		}
		scenario_arrivals_finish(&a);
	}
}

/* Strictness details: quoted numbers, empty names, negative counts, secrets kept. */
static void test_strict_values(void **state)
{
	static const struct {
		const char *text;
		unsigned line;
	} bad[] = {
		{"seed: \"1\"\n", 1},
		{"seed: -1\n", 1},
		{"account_id: \"12345\"\n", 1},
		{"queues: [{name: \"\"}]\n", 1},
		{"queues: [{name: \"a b\"}]\n", 1},
		{"queues:\n  - {name: q, delay: 16m}\n", 2},
		{"clusters: [{name: c, instances: [{cpu: 1024}]}]\n", 1},
		{"clusters: [{name: c, instances: [{count: 2, id: mi-1, cpu: 1024, memory: "
		 "1024}]}]\n",
			1},
		{"task_definitions: [{family: t, containers: [{name: a}]}]\n", 1},
		{"task_definitions: [{family: t, containers: [{name: a, memory: 100, "
		 "memory_reservation: 200}]}]\n",
			1},
		{"faults: [{kind: latency, end: 1s}]\n", 1},
		{"faults: [{kind: drop, end: 1s, latency: 1s}]\n", 1},
		{"faults: [{kind: drop, end: 1s, every: 2, probability: 0.5}]\n", 1},
		{"faults: [{kind: drop, end: 1s, instance: mi-1}]\n", 1},
		{"faults: [{kind: instance_failure, end: 1s, resource: CPU}]\n", 1},
		{"faults: [{kind: missing_resource, end: 1s, resource: DISK}]\n", 1},
		{"faults: [{kind: missing_resource, end: 1s, reason: AGENT}]\n", 1},
		{"faults: [{kind: lost_answer, end: 1s, reason: AGENT}]\n", 1},
		{"events: [{at: 1s, kind: partition}]\n", 1},
		{"credentials: {access_key_id: A}\n", 1},
		{"duration: 1y\n", 1},
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct scenario *sc = NULL;
		struct diag d;
		int rc = scenario_load_text("s.yaml", bad[i].text, strlen(bad[i].text), &sc, &d);

		if (rc != -EINVAL)
			fail_msg("accepted: %s", bad[i].text);
		assert_int_equal(d.line, bad[i].line);
	}
}

/* The example trace shipped for simulate reads as a whole day. */
static void test_shipped_trace_loads(void **state)
{
	struct scenario_arrivals a = {0};
	struct diag d;
	uint64_t total = 0;

	assert_int_equal(
		scenario_trace_load(data_path("../../config/traces/orders-day.csv"), &a, &d), 0);
	assert_int_equal(a.trace_count, 1440);
	assert_int_equal(a.trace[1439].at_ms, 1439u * 60000);
	assert_int_equal(a.trace_last_span_ms, 60000);
	for (size_t i = 0; i < a.trace_count; i++)
		total += a.trace[i].count;
	assert_true(total > 1000000 && total < 1500000);
	scenario_arrivals_finish(&a);
}

/* Append text to a growing test buffer. */
static void grow_append(char **buf, size_t *len, const char *text)
{
	size_t n = strlen(text);

	*buf = realloc(*buf, *len + n + 1);
	assert_non_null(*buf);
	memcpy(*buf + *len, text, n + 1);
	*len += n;
}

/* A copy of len bytes that may hold a NUL. */
static char *bytes_copy(const char *bytes, size_t len)
{
	char *p = malloc(len + 1);

	assert_non_null(p);
	memcpy(p, bytes, len);
	p[len] = '\0';
	return p;
}

/* An alias bomb: nine levels, each a list of nine aliases of the one before. */
static char *alias_bomb_text(void)
{
	char *text = NULL, line[128];
	size_t len = 0;

	grow_append(&text, &len, "a: &a [\"lol\",\"lol\",\"lol\",\"lol\",\"lol\",\"lol\"]\n");
	for (char c = 'b'; c <= 'i'; c++) {
		snprintf(line, sizeof(line), "%c: &%c [*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c,*%c]\n", c,
			c, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1, c - 1);
		grow_append(&text, &len, line);
	}
	return text;
}

/* repeat copies of unit after head, then tail, in one allocation. */
static char *repeat_text(const char *head, const char *unit, size_t repeat, const char *tail)
{
	size_t hl = strlen(head), ul = strlen(unit), tl = strlen(tail);
	char *text = malloc(hl + ul * repeat + tl + 1), *p = text;

	assert_non_null(text);
	memcpy(p, head, hl);
	p += hl;
	for (size_t i = 0; i < repeat; i++, p += ul)
		memcpy(p, unit, ul);
	memcpy(p, tail, tl + 1);
	return text;
}

/*
 * Hostile or misspelt YAML is stopped by the shared YAML tree before the
 * scenario is read, at the right line:column and saying why.
 */
static void test_hostile_yaml(void **state)
{
	struct {
		char *text;
		size_t len; /* 0: strlen */
		unsigned line, column;
		const char *words;
	} cases[] = {
		{alias_bomb_text(), 0, 1, 4, "anchors and aliases are not supported"},
		{repeat_text("queues: ", "[", 40, ""), 0, 1, 24, "nested deeper than 16 levels"},
		{repeat_text("queues: [", "1,", 200001, "]\n"), 0, 1, 0,
			"more than 200000 YAML nodes"},
		{strdup("regoin: eu-west-1\n"), 0, 1, 1,
			"unknown key 'regoin' in the scenario (did you mean 'region'?)"},
		{strdup("clusters:\n  - name: c\n    instances:\n"
			"      - {count: 1, cpu: 1024, memroy: 1024}\n"),
			0, 4, 31,
			"unknown key 'memroy' in an instance entry (did you mean 'memory'?)"},
		{strdup("queues:\n  - name: q\n    colour: red\n"), 0, 3, 5,
			"unknown key 'colour' in a queue"},
		{strdup("seed: !!int 3\n"), 0, 1, 7, "tags are not supported"},
		{strdup("seed: 1\n---\nseed: 2\n"), 0, 2, 1, "more than one YAML document"},
		{strdup("region: \"us\\0east\"\n"), 0, 1, 9, "must not contain a NUL"},
		{bytes_copy("region: us-east-1\0\n", 19), 19, 1, 18, "not valid YAML text"},
		{strdup(""), 0, 1, 1, "empty file"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct scenario *sc = NULL;
		struct diag d;
		size_t len = cases[i].len != 0 ? cases[i].len : strlen(cases[i].text);
		char msg[700];
		int rc = scenario_load_text("s.yaml", cases[i].text, len, &sc, &d);

		free(cases[i].text);
		if (rc != -EINVAL)
			fail_msg("case %zu accepted", i);
		assert_null(sc);
		diag_format(&d, msg, sizeof(msg));
		if (d.line != cases[i].line ||
			(cases[i].column != 0 && d.column != cases[i].column) ||
			strstr(msg, cases[i].words) == NULL)
			fail_msg("case %zu: got '%s'", i, msg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_shipped_scenarios_load),
		cmocka_unit_test(test_minimal_defaults_and_derived),
		cmocka_unit_test(test_instance_count_expands),
		cmocka_unit_test(test_reservation_table),
		cmocka_unit_test(test_find_task_definition),
		cmocka_unit_test(test_rates),
		cmocka_unit_test(test_bad_files),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_trace_rows),
		cmocka_unit_test(test_strict_values),
		cmocka_unit_test(test_hostile_yaml),
		cmocka_unit_test(test_shipped_trace_loads),
	};

	return cmocka_run_group_tests_name("scenario", tests, NULL, NULL);
}
