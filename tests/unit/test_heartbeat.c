/* Heartbeat states against a table of (pings, clock) -> state, cron across DST. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "monitor/heartbeat.h"
#include "monitor/sched.h"

#define S	1000LL
#define M	(60 * S)
#define H	(60 * M)

/* One step: a ping at `at` (kind 'p' success, 's' start, 'f' fail, 'd' doing,
 * 'D' done, 'P' pause), or a look ('?') that must see `want` and next. */
struct step {
	char		 kind;
	int64_t		 at;
	const char	*want;
	int64_t		 next;		/* -2: not checked */
};

static void
run(const char *name, const struct hb_conf *conf, const struct step *steps,
    int64_t base)
{
	struct hb_state st = { .last_run_ms = -1 };
	size_t i;

	for (i = 0; steps[i].kind; i++) {
		const struct step *s = &steps[i];
		int64_t next;
		const char *got;

		switch (s->kind) {
		case 'p':
			hb_ping(conf, &st, HB_SUCCESS, HB_REPORT_NONE, base + s->at);
			break;
		case 's':
			hb_ping(conf, &st, HB_START, HB_REPORT_NONE, base + s->at);
			break;
		case 'f':
			hb_ping(conf, &st, HB_FAIL, HB_REPORT_NONE, base + s->at);
			break;
		case 'd':
			hb_ping(conf, &st, HB_SUCCESS, HB_REPORT_DOING, base + s->at);
			break;
		case 'D':
			hb_ping(conf, &st, HB_SUCCESS, HB_REPORT_DONE, base + s->at);
			break;
		case 'P':
			st.paused = true;
			break;
		case '?':
			got = hb_status_name(hb_status(conf, &st, base + s->at, &next));
			if (strcmp(got, s->want) != 0)
				fail_msg("%s: step %zu at +%llds: got %s, want %s",
				    name, i, (long long)(s->at / S), got, s->want);
			if (s->next != -2 && next != (s->next < 0 ? -1 : base + s->next))
				fail_msg("%s: step %zu: next change at %lld, want "
				    "+%llds", name, i, (long long)next,
				    (long long)(s->next / S));
			break;
		}
	}
}

static void
test_period(void **state)
{
	const struct hb_conf conf = { .period_ms = 60 * S, .grace_ms = 30 * S,
	    .doing_stale_ms = 15 * M };
	const struct step steps[] = {
		{ '?', 0, "new", -1 },
		{ '?', 10 * H, "new", -2 },
		{ 'p', 0, NULL, 0 },
		{ '?', 59 * S, "up", 60 * S },
		{ '?', 60 * S, "late", 90 * S },
		{ '?', 89 * S, "late", -2 },
		{ '?', 90 * S, "down", -1 },
		{ 'p', 100 * S, NULL, 0 },
		{ '?', 101 * S, "up", 160 * S },
		{ 'f', 110 * S, NULL, 0 },
		{ '?', 111 * S, "down", -1 },
		{ 'p', 120 * S, NULL, 0 },
		{ '?', 121 * S, "up", -2 },
		{ 'P', 0, NULL, 0 },
		{ '?', 10 * H, "paused", -1 },
		{ 'p', 10 * H, NULL, 0 },
		{ '?', 10 * H + S, "up", -2 },
		{ 0, 0, NULL, 0 },
	};

	(void)state;
	run("period", &conf, steps, 1000 * H);
}

static void
test_start(void **state)
{
	const struct hb_conf conf = { .period_ms = 1 * H, .grace_ms = 5 * M };
	struct hb_state st = { .last_run_ms = -1 };
	int64_t next, base = 1000 * H;
	const struct step steps[] = {
		{ 's', 0, NULL, 0 },
		{ '?', 1 * M, "new", 5 * M },
		{ '?', 5 * M, "down", -2 },	/* started, never ended */
		{ 'p', 6 * M, NULL, 0 },
		{ '?', 7 * M, "up", 66 * M },
		{ 's', 60 * M, NULL, 0 },
		{ '?', 61 * M, "up", 65 * M },	/* the run's end is due first */
		{ '?', 65 * M, "down", -2 },
		{ 0, 0, NULL, 0 },
	};

	(void)state;
	run("start", &conf, steps, base);
	hb_ping(&conf, &st, HB_START, HB_REPORT_NONE, base);
	hb_ping(&conf, &st, HB_SUCCESS, HB_REPORT_NONE, base + 42 * S);
	assert_int_equal(st.last_run_ms, 42 * S);
	assert_int_equal(hb_status(&conf, &st, base + 43 * S, &next), HB_UP);
	hb_ping(&conf, &st, HB_SUCCESS, HB_REPORT_NONE, base + 50 * S);
	assert_int_equal(st.last_run_ms, -1);	/* no start before it */
}

static void
test_doing_done(void **state)
{
	const struct hb_conf conf = { .period_ms = 1 * H, .grace_ms = 5 * M,
	    .doing_stale_ms = 15 * M };
	const struct step steps[] = {
		{ 'd', 0, NULL, 0 },
		{ '?', 14 * M, "up", 15 * M },
		{ '?', 15 * M, "late", 20 * M },
		{ '?', 20 * M, "down", -1 },
		{ 'D', 21 * M, NULL, 0 },
		{ '?', 240 * H, "up", -1 },	/* done is never stale */
		{ 'd', 241 * H, NULL, 0 },
		{ '?', 241 * H + 16 * M, "late", -2 },
		{ 0, 0, NULL, 0 },
	};

	(void)state;
	run("doing/done", &conf, steps, 1000 * H);
}

static int64_t
utc_ms(const char *s)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	strptime(s, "%Y-%m-%dT%H:%M", &tm);
	return (int64_t)timegm(&tm) * 1000;
}

static void
test_schedule_dst(void **state)
{
	struct cron c;
	struct err e;
	struct tz *z = tz_load("Europe/Berlin", &e);
	struct hb_conf conf = { .grace_ms = 30 * M, .schedule = &c };
	int64_t base;

	(void)state;
	assert_non_null(z);
	conf.tz = z;
	assert_int_equal(cron_parse("0 3 * * *", &c, &e), 0);
	/* 03:00 CET on 2026-03-28 is 02:00Z; the next 03:00 is CEST, 01:00Z: 23 h */
	base = utc_ms("2026-03-28T02:00");
	{
		const struct step steps[] = {
			{ 'p', 0, NULL, 0 },
			{ '?', 22 * H + 59 * M, "up", 23 * H },
			{ '?', 23 * H + 10 * M, "late", 23 * H + 30 * M },
			{ '?', 23 * H + 30 * M, "down", -1 },
			{ 0, 0, NULL, 0 },
		};

		run("cron, clocks forward", &conf, steps, base);
	}
	/* 03:00 CEST on 2026-10-24 is 01:00Z; the next 03:00 is CET, 02:00Z: 25 h */
	base = utc_ms("2026-10-24T01:00");
	{
		const struct step steps[] = {
			{ 'p', 0, NULL, 0 },
			{ '?', 24 * H + 30 * M, "up", 25 * H },
			{ '?', 25 * H + 29 * M, "late", -2 },
			{ '?', 25 * H + 30 * M, "down", -2 },
			{ 0, 0, NULL, 0 },
		};

		run("cron, clocks back", &conf, steps, base);
	}
	tz_free(z);
}

/* A million runs, each woken up late by a varying amount: the slots never drift. */
static void
test_sched_drift(void **state)
{
	int64_t base = 5000, interval = 10000, phase = sched_phase("api", interval);
	int64_t due = sched_next(base, phase, interval, base - 1), k, skipped = 0;

	(void)state;
	assert_true(phase >= 0 && phase < interval);
	assert_int_equal(phase, sched_phase("api", interval));	/* stable */
	assert_int_equal(phase % SCHED_GRID_MS, 0);		/* on the grid */
	assert_int_equal(sched_base(12345), 12340);
	assert_true(sched_phase("a", 7) < 7);	/* off the grid: still in range */
	assert_int_equal(due, base + phase);
	for (k = 1; k <= 1000000; k++) {
		/* woken 0..2.9 s late, and once in a while a whole 25 s late */
		int64_t late = (k * 7919) % 2900 + (k % 100000 == 0 ? 25000 : 0);
		int64_t next = sched_next(base, phase, interval, due + late);

		assert_int_equal((next - base - phase) % interval, 0);
		skipped += (next - due) / interval - 1;
		due = next;
	}
	/* every slot is base + phase + n * interval: no drift after a million */
	assert_int_equal(due, base + phase + (1000000 + skipped) * interval);
	/* the late wakeups of 25 s skipped two slots each, ten times */
	assert_int_equal(skipped, 20);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_period),
		cmocka_unit_test(test_start),
		cmocka_unit_test(test_doing_done),
		cmocka_unit_test(test_schedule_dst),
		cmocka_unit_test(test_sched_drift),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
