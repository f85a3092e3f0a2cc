/* Cron schedules and time zones: next times in UTC and in zones across DST changes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "monitor/cron.h"

/* "2026-12-05T10:00" (UTC) in Unix seconds. */
static int64_t
utc(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (strptime(s, "%Y-%m-%dT%H:%M", &tm) == NULL)
		fail_msg("bad time in the test: %s", s);
	return (int64_t)timegm(&tm);
}

static const char *
iso(int64_t t)
{
	static char buf[4][32];
	static int k;
	time_t tt = (time_t)t;
	struct tm tm;
	char *b = buf[k++ % 4];

	if (t < 0)
		return "none";
	gmtime_r(&tt, &tm);
	strftime(b, 32, "%Y-%m-%dT%H:%M", &tm);
	return b;
}

static void
test_next(void **state)
{
	static const struct {
		const char	*expr, *zone, *after, *want;
	} cases[] = {
		{ "0 3 * * *", NULL, "2026-12-05T10:00", "2026-12-06T03:00" },
		{ "*/15 * * * *", NULL, "2026-12-05T10:07", "2026-12-05T10:15" },
		{ "*/15 * * * *", NULL, "2026-12-05T10:15", "2026-12-05T10:30" },
		{ "0 9 * * mon-fri", NULL, "2026-12-05T10:00", "2026-12-07T09:00" },
		{ "0 0 1 * *", NULL, "2026-12-05T10:00", "2027-01-01T00:00" },
		{ "0 0 29 2 *", NULL, "2026-03-01T00:00", "2028-02-29T00:00" },
		{ "0 0 31 2 *", NULL, "2026-03-01T00:00", "none" },
		/* both day fields restricted: either (the 13th, or a Friday) */
		{ "0 12 13 * 5", NULL, "2026-12-05T13:00", "2026-12-11T12:00" },
		{ "0 12 13 * 5", NULL, "2026-12-11T13:00", "2026-12-13T12:00" },
		{ "0 0 * * 7", NULL, "2026-12-05T10:00", "2026-12-06T00:00" },
		{ "5,35 1-2 * jan,dec *", NULL, "2026-12-05T02:40", "2026-12-06T01:05" },
		{ "@hourly", NULL, "2026-12-05T10:00", "2026-12-05T11:00" },
		{ "@weekly", NULL, "2026-12-05T10:00", "2026-12-06T00:00" },
		{ "10/20 * * * *", NULL, "2026-12-05T10:31", "2026-12-05T10:50" },
		{ "0 3 * * *", "Europe/Berlin", "2026-12-05T00:00", "2026-12-05T02:00" },
		{ "0 3 * * *", "Europe/Berlin", "2026-07-01T00:00", "2026-07-01T01:00" },
		/* Berlin goes 02:00 CET -> 03:00 CEST at 01:00Z on 2026-03-29: runs at the change */
		{ "30 2 * * *", "Europe/Berlin", "2026-03-28T12:00", "2026-03-29T01:00" },
		{ "30 2 * * *", "Europe/Berlin", "2026-03-29T01:00", "2026-03-30T00:30" },
		/* and 03:00 CEST -> 02:00 CET at 01:00Z on 2026-10-25: 02:30 runs once */
		{ "30 2 * * *", "Europe/Berlin", "2026-10-24T12:00", "2026-10-25T00:30" },
		{ "30 2 * * *", "Europe/Berlin", "2026-10-25T00:30", "2026-10-26T01:30" },
		/* an hourly schedule follows real time through the repeated hour */
		{ "0 * * * *", "Europe/Berlin", "2026-10-25T00:30", "2026-10-25T01:00" },
		{ "0 * * * *", "Europe/Berlin", "2026-03-29T00:30", "2026-03-29T01:00" },
		{ "30 2 * * *", "America/New_York", "2026-03-07T12:00", "2026-03-08T07:00" },
		{ "0 9 * * *", "Asia/Kolkata", "2026-12-05T00:00", "2026-12-05T03:30" },
		/* past the zone file's transitions: its POSIX rule */
		{ "0 3 * * *", "Europe/Berlin", "2040-07-01T00:00", "2040-07-01T01:00" },
		{ "0 3 * * *", "Europe/Berlin", "2040-12-01T00:00", "2040-12-01T02:00" },
		{ "30 2 * * *", "Europe/Berlin", "2045-03-25T12:00", "2045-03-26T01:00" },
		{ "0 9 * * *", "Australia/Sydney", "2040-07-01T00:00", "2040-07-01T23:00" },
		{ "0 9 * * *", "Australia/Sydney", "2040-01-10T00:00", "2040-01-10T22:00" },
		{ "0 9 * * *", "UTC", "2026-12-05T10:00", "2026-12-06T09:00" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cron c;
		struct tz *z = NULL;
		struct err e;
		const char *got;

		if (cron_parse(cases[i].expr, &c, &e) < 0)
			fail_msg("'%s': %s", cases[i].expr, e.msg);
		if (cases[i].zone && (z = tz_load(cases[i].zone, &e)) == NULL)
			fail_msg("%s", e.msg);
		got = iso(cron_next(&c, z, utc(cases[i].after)));
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("'%s' in %s after %s: got %s, want %s",
			    cases[i].expr, cases[i].zone ? cases[i].zone : "UTC",
			    cases[i].after, got, cases[i].want);
		tz_free(z);
	}
}

static void
test_offsets(void **state)
{
	struct err e;
	struct tz *z = tz_load("America/New_York", &e);

	(void)state;
	assert_non_null(z);
	assert_int_equal(tz_offset(z, utc("2026-01-15T12:00")), -5 * 3600);
	assert_int_equal(tz_offset(z, utc("2026-07-15T12:00")), -4 * 3600);
	assert_int_equal(tz_offset(z, utc("2050-07-15T12:00")), -4 * 3600);
	assert_int_equal(tz_offset(z, utc("2050-12-15T12:00")), -5 * 3600);
	tz_free(z);
}

static void
test_errors(void **state)
{
	static const struct {
		const char	*expr, *want;
	} cases[] = {
		{ "61 * * * *", "column 1: minute out of 0-59" },
		{ "* 24 * * *", "column 3: hour out of 0-23" },
		{ "* * * *", "4 fields, want five" },
		{ "0 3 * * * *", "column 11: more than five fields" },
		{ "0 3 * * foo", "column 9: the day of week field takes" },
		{ "0 3 * xyz *", "column 7: the month field takes numbers 1-12 or names" },
		{ "*/0 * * * *", "column 3: a step is a number 1-60" },
		{ "5-1 * * * *", "column 1: the range 5-1 goes backwards" },
		{ "1- * * * *", "column 3: a range needs an end" },
		{ "1, * * * *", "column 2: a list ends with ','" },
		{ "1x * * * *", "column 2: 'x' is not allowed in the minute field" },
		{ "0 0 0 * *", "column 5: day of month out of 1-31" },
		{ "@every 5m", "column 1: unknown macro" },
		{ "", "0 fields" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cron c;
		struct err e;

		if (cron_parse(cases[i].expr, &c, &e) == 0)
			fail_msg("'%s' parsed", cases[i].expr);
		if (strstr(e.msg, cases[i].want) == NULL)
			fail_msg("'%s': got \"%s\", want \"%s\"", cases[i].expr,
			    e.msg, cases[i].want);
	}
}

static void
test_zone_errors(void **state)
{
	struct err e;

	(void)state;
	assert_null(tz_load("Mars/Olympus", &e));
	assert_non_null(strstr(e.msg, "time zone 'Mars/Olympus': not in"));
	assert_null(tz_load("../etc/passwd", &e));
	assert_non_null(strstr(e.msg, "give a tz database name"));
	assert_null(tz_load("/etc/passwd", &e));
	assert_null(tz_load("", &e));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_next),
		cmocka_unit_test(test_offsets),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_zone_errors),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
