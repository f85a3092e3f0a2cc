/* Backoff and crash-loop arithmetic. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "runtime/policy.h"

static const struct cfg_restart rp = {
	.backoff_min_ms = 500,
	.backoff_max_ms = 30000,
	.crashloop_limit = 5,
	.crashloop_window_ms = 60000,
	.stop_timeout_ms = 10000,
};

static void
test_backoff_doubles_then_caps(void **state)
{
	(void)state;
	assert_int_equal(backoff_delay(&rp, 1), 500);
	assert_int_equal(backoff_delay(&rp, 2), 1000);
	assert_int_equal(backoff_delay(&rp, 3), 2000);
	assert_int_equal(backoff_delay(&rp, 6), 16000);
	assert_int_equal(backoff_delay(&rp, 7), 30000);
	assert_int_equal(backoff_delay(&rp, 1000), 30000);
}

static void
test_backoff_min_equals_max(void **state)
{
	struct cfg_restart flat = rp;

	(void)state;
	flat.backoff_min_ms = flat.backoff_max_ms = 250;
	assert_int_equal(backoff_delay(&flat, 1), 250);
	assert_int_equal(backoff_delay(&flat, 9), 250);
}

static void
test_crashloop_trips_after_limit(void **state)
{
	struct crashloop c;
	int i;

	(void)state;
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 5; i++)
		assert_false(crashloop_should_fail(&c, &rp, 1000 + i * 100));
	assert_int_equal(crashloop_count(&c, &rp, 2000), 5);
	assert_true(crashloop_should_fail(&c, &rp, 2000));
}

static void
test_crashloop_window_slides(void **state)
{
	struct crashloop c;
	int i;

	(void)state;
	memset(&c, 0, sizeof(c));
	/* One crash every 20 s: never more than 3 inside a 60 s window. */
	for (i = 0; i < 50; i++)
		assert_false(crashloop_should_fail(&c, &rp, (int64_t)i * 20000));
	assert_int_equal(crashloop_count(&c, &rp, 49 * 20000), 3);
}

static void
test_crashloop_burst_after_quiet(void **state)
{
	struct crashloop c;
	int i;

	(void)state;
	memset(&c, 0, sizeof(c));
	for (i = 0; i < 4; i++)
		assert_false(crashloop_should_fail(&c, &rp, i));
	/* Long after: the old restarts no longer count. */
	for (i = 0; i < 5; i++)
		assert_false(crashloop_should_fail(&c, &rp, 100000 + i));
	assert_true(crashloop_should_fail(&c, &rp, 100010));
}

static void
test_reset_after(void **state)
{
	(void)state;
	assert_int_equal(backoff_reset_after(&rp), 30000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_backoff_doubles_then_caps),
		cmocka_unit_test(test_backoff_min_equals_max),
		cmocka_unit_test(test_crashloop_trips_after_limit),
		cmocka_unit_test(test_crashloop_window_slides),
		cmocka_unit_test(test_crashloop_burst_after_quiet),
		cmocka_unit_test(test_reset_after),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
