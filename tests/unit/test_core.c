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

/* A typo never names another release: no wrap-around, sign or blank. */
static void
test_release_version(void **state)
{
	static const char *const bad[] = {
		"", "v", "v0", "0", "-1", "v-1", "+3", " 3", "3 ", "v3x", "vv3",
		"03", "v4294967301", "2147483648", "99999999999999999999999",
	};
	size_t i;
	int v;

	(void)state;
	assert_int_equal(release_version_parse("v3", &v), 0);
	assert_int_equal(v, 3);
	assert_int_equal(release_version_parse("12", &v), 0);
	assert_int_equal(v, 12);
	assert_int_equal(release_version_parse("v2147483647", &v), 0);
	assert_int_equal(v, 2147483647);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(release_version_parse(bad[i], &v), -1);
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
		cmocka_unit_test(test_release_version),
		cmocka_unit_test(test_buf_cap),
		cmocka_unit_test(test_paths),
		cmocka_unit_test(test_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
