/*
 * Unit tests of the ECS throttling table and its token bucket (AWS.md 2.7).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "qscale/ecs_throttle.h"

static void test_token_bucket(void **state)
{
	struct ecs_token_bucket b;

	(void)state;
	/* UpdateService at 80% of 50 burst / 5 per second: 40 burst, 4 per second. */
	ecs_token_bucket_init(&b, 40, 4, 1000);
	for (int i = 0; i < 40; i++)
		assert_int_equal(ecs_token_bucket_take(&b, 1000), 0);
	/* Empty: the next token is 250 ms away. */
	assert_int_equal(ecs_token_bucket_take(&b, 1000), 250);
	assert_int_equal(ecs_token_bucket_take(&b, 1100), 150);
	assert_int_equal(ecs_token_bucket_take(&b, 1250), 0);
	assert_int_equal(ecs_token_bucket_take(&b, 1250), 250);
	/* Refill never exceeds the burst. */
	assert_int_equal(ecs_token_bucket_take(&b, 1000000), 0);
	assert_true(b.tokens <= 39.0 + 1e-9);
	/* Time going backwards does not add tokens. */
	ecs_token_bucket_init(&b, 1, 1, 5000);
	assert_int_equal(ecs_token_bucket_take(&b, 5000), 0);
	assert_true(ecs_token_bucket_take(&b, 4000) > 0);
}

static void test_categories(void **state)
{
	double burst, refill;

	(void)state;
	assert_int_equal(ecs_throttle_category_of("DescribeServices"), ECS_THROTTLE_SERVICE_READ);
	assert_int_equal(ecs_throttle_category_of("UpdateService"), ECS_THROTTLE_SERVICE_MODIFY);
	assert_int_equal(ecs_throttle_category_of("ListContainerInstances"),
		ECS_THROTTLE_CLUSTER_RESOURCE_READ);
	assert_int_equal(ecs_throttle_category_of("DescribeContainerInstances"),
		ECS_THROTTLE_CLUSTER_RESOURCE_READ);
	assert_int_equal(ecs_throttle_category_of("DescribeTaskDefinition"),
		ECS_THROTTLE_TASK_DEFINITION_READ);
	assert_int_equal(ecs_throttle_category_of("GetQueueAttributes"), ECS_THROTTLE_NONE);
	assert_int_equal(ecs_throttle_category_of("Nope"), ECS_THROTTLE_NONE);
	ecs_throttle_limits(ECS_THROTTLE_SERVICE_MODIFY, &burst, &refill);
	assert_true(burst == 50 && refill == 5);
	ecs_throttle_limits(ECS_THROTTLE_CLUSTER_RESOURCE_READ, &burst, &refill);
	assert_true(burst == 100 && refill == 20);
	ecs_throttle_limits(ECS_THROTTLE_NONE, &burst, &refill);
	assert_true(burst == 0 && refill == 0);
}

/* The simulated cloud reports the same categories by the same names. */
static void test_category_names(void **state)
{
	(void)state;
	assert_string_equal(ecs_throttle_category_name(ECS_THROTTLE_SERVICE_READ), "service read");
	assert_string_equal(ecs_throttle_category_name(ECS_THROTTLE_TASK_DEFINITION_READ),
		"task definition read");
	assert_string_equal(ecs_throttle_category_name(ECS_THROTTLE_NONE), "?");
	assert_string_equal(ecs_throttle_category_name(ECS_THROTTLE_CATEGORY_COUNT), "?");
	assert_int_equal(ecs_throttle_category_of(NULL), ECS_THROTTLE_NONE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_bucket),
		cmocka_unit_test(test_categories),
		cmocka_unit_test(test_category_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
