/*
 * Unit tests of the task reservation rule (AWS.md 2.5) on hand-built task
 * definitions; the parsed fixtures of tests/data/aws go through it in
 * test_ecs.c.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "qscale/ecs_task.h"

/* A hand-built definition for the reservation rules alone. */
static void test_reservation_rules(void **state)
{
	struct ecs_port_mapping maps[] = {
		{.container_port = 80, .host_port = 8080},
		{.container_port = 53, .host_port = 53, .udp = true},
		{.container_port = 81, .host_port = 0},
	};
	struct ecs_container_def c[] = {
		{.cpu_units = 100, .memory_mib = 300, .port_mappings = maps, .n_port_mappings = 3},
		{.cpu_units = 0, .memory_mib = 200, .memory_reservation_mib = 50},
		{.memory_reservation_mib = 0, .memory_mib = 0},
	};
	struct ecs_task_definition td = {.containers = c, .n_containers = 3};
	struct ecs_task_reservation r;
	char awsvpc[] = "awsvpc";

	(void)state;
	assert_int_equal(ecs_task_reservation_compute(&td, &r), 0);
	assert_int_equal(r.cpu_units, 100);
	assert_int_equal(r.memory_mib, 350);
	assert_int_equal(r.n_tcp_ports, 1);
	assert_int_equal(r.tcp_ports[0], 8080);
	assert_int_equal(r.n_udp_ports, 1);
	assert_int_equal(r.udp_ports[0], 53);
	ecs_task_reservation_finish(&r);

	td.cpu_units = 2048;
	td.memory_mib = 4096;
	td.network_mode = awsvpc;
	assert_int_equal(ecs_task_reservation_compute(&td, &r), 0);
	assert_int_equal(r.cpu_units, 2048);
	assert_int_equal(r.memory_mib, 4096);
	assert_int_equal(r.n_tcp_ports + r.n_udp_ports, 0);
	ecs_task_reservation_finish(&r);

	c[0].cpu_units = INT64_MAX;
	assert_int_equal(ecs_task_reservation_compute(&td, &r), -EOVERFLOW);
	assert_int_equal(ecs_task_reservation_compute(NULL, &r), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reservation_rules),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
