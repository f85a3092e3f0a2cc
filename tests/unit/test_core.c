/* core/: durations, the capped buffer, paths, names. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/util.h"

static void
test_duration_parse(void **state)
{
	static const struct {
		const char *in;
		int64_t ms;
	} good[] = {
		{ "250ms", 250 }, { "2s", 2000 }, { "1.5s", 1500 },
		{ "1m", 60000 }, { "2h", 7200000 }, { "3", 3000 },
		{ "0", 0 }, { "0.25", 250 },
	};
	static const char *const bad[] = {
		"", "s", "-1s", " 1s", "1 s", "5 parsecs", "0x10", "nan",
		"inf", "1e3", "1.2.3s", "1s ", "ms",
	};
	int64_t ms;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_int_equal(duration_parse(good[i].in, &ms), 0);
		assert_int_equal(ms, good[i].ms);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(duration_parse(bad[i], &ms), -1);
}

static void
test_buf_cap(void **state)
{
	struct buf b = BUF_INIT_MAX(8);

	(void)state;
	assert_int_equal(buf_addstr(&b, "12345"), 0);
	assert_int_equal(buf_addstr(&b, "6789"), -1);
	/* A refused append leaves the contents as they were. */
	assert_string_equal(buf_str(&b), "12345");
	assert_int_equal(buf_printf(&b, "%d", 678), 0);
	assert_string_equal(buf_str(&b), "12345678");
	assert_int_equal(buf_addch(&b, 'x'), -1);
	buf_release(&b);
	assert_string_equal(buf_str(&b), "");
}

static void
test_paths(void **state)
{
	char *p;

	(void)state;
	p = path_join("/a/b", "c");
	assert_string_equal(p, "/a/b/c");
	free(p);
	p = path_join("/a/b/", "/abs");
	assert_string_equal(p, "/abs");
	free(p);
	p = path_dir("/a/b/c.yaml");
	assert_string_equal(p, "/a/b");
	free(p);
	p = path_dir("c.yaml");
	assert_string_equal(p, ".");
	free(p);
}

static void
test_names(void **state)
{
	(void)state;
	assert_true(name_valid("hotdash-staging"));
	assert_true(name_valid("web_2"));
	assert_false(name_valid("Web"));
	assert_false(name_valid("-web"));
	assert_false(name_valid("a b"));
	assert_false(name_valid(""));
	assert_false(name_valid(
	    "a234567890123456789012345678901234567890123456789012345678901234"));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_duration_parse),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
