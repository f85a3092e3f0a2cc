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

static void
test_hostport(void **state)
{
	char host[16];
	const char *port;

	(void)state;
	assert_int_equal(hostport_split("127.0.0.1:7480", host, sizeof(host),
	    &port), 0);
	assert_string_equal(host, "127.0.0.1");
	assert_string_equal(port, "7480");
	assert_int_equal(hostport_split("[::1]:80", host, sizeof(host), &port), 0);
	assert_string_equal(host, "::1");
	assert_string_equal(port, "80");
	assert_int_equal(hostport_split("localhost", host, sizeof(host), &port),
	    -1);
	assert_int_equal(hostport_split(":80", host, sizeof(host), &port), -1);
	assert_int_equal(hostport_split("a:", host, sizeof(host), &port), -1);
	assert_int_equal(hostport_split("a-very-long-host-name:1", host,
	    sizeof(host), &port), -1);
}

static void
test_time_parse(void **state)
{
	int64_t ms;

	(void)state;
	assert_int_equal(time_parse("2026-12-07T02:10:00Z", 0, &ms), 0);
	assert_int_equal(ms, 1796609400000LL);
	assert_int_equal(time_parse("2026-12-07T02:10:00.25Z", 0, &ms), 0);
	assert_int_equal(ms, 1796609400250LL);
	assert_int_equal(time_parse("2026-12-07", 0, &ms), 0);
	assert_int_equal(ms, 1796601600000LL);
	assert_int_equal(time_parse("2h", 10000000, &ms), 0);
	assert_int_equal(ms, 10000000 - 7200000);
	assert_int_equal(time_parse("2026-12-07T02:10:00", 0, &ms), -1);
	assert_int_equal(time_parse("yesterday", 0, &ms), -1);
	assert_int_equal(time_parse("2026-12-07Tnoon", 0, &ms), -1);
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
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_time_parse),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
