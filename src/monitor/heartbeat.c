#include <stddef.h>

#include "monitor/heartbeat.h"

const char *
hb_status_name(enum hb_status s)
{
	static const char *const names[] = { "new", "up", "late", "down",
	    "paused" };

	return names[s];
}

void
hb_ping(const struct hb_conf *conf, struct hb_state *st, enum hb_signal sig,
    enum hb_report report, int64_t now)
{
	(void)conf;
	st->paused = false;
	if (sig == HB_START) {
		st->last_start_ms = now;
		if (report != HB_REPORT_NONE)
			st->report = report;
		return;
	}
	st->last_run_ms = sig == HB_SUCCESS && st->last_start_ms > 0 ?
	    now - st->last_start_ms : -1;
	st->last_start_ms = 0;
	st->last_ping_ms = now;
	st->failed = sig == HB_FAIL;
	st->report = report;
}

/* When the next ping is due after the last one; -1 never. */
static int64_t
due(const struct hb_conf *conf, const struct hb_state *st)
{
	int64_t next;

	if (st->report == HB_REPORT_DONE)
		return -1;
	if (st->report == HB_REPORT_DOING)
		return st->last_ping_ms + conf->doing_stale_ms;
	if (conf->schedule == NULL)
		return st->last_ping_ms + conf->period_ms;
	next = cron_next(conf->schedule, conf->tz, st->last_ping_ms / 1000);
	return next < 0 ? -1 : next * 1000;
}

enum hb_status
hb_status(const struct hb_conf *conf, const struct hb_state *st, int64_t now,
    int64_t *next_ms)
{
	int64_t d, start_limit = -1;

	*next_ms = -1;
	if (st->paused)
		return HB_PAUSED;
	if (st->last_start_ms > 0) {
		/* A run is open: it must end within the grace time. */
		start_limit = st->last_start_ms + conf->grace_ms;
		if (now >= start_limit)
			return HB_DOWN;
	}
	if (st->last_ping_ms == 0) {
		*next_ms = start_limit;
		return HB_NEW;
	}
	if (st->failed) {
		*next_ms = -1;
		return HB_DOWN;
	}
	if ((d = due(conf, st)) < 0) {
		*next_ms = start_limit;
		return HB_UP;
	}
	if (now < d) {
		*next_ms = start_limit > 0 && start_limit < d ? start_limit : d;
		return HB_UP;
	}
	if (now < d + conf->grace_ms) {
		*next_ms = start_limit > 0 && start_limit < d + conf->grace_ms ?
		    start_limit : d + conf->grace_ms;
		return HB_LATE;
	}
	return HB_DOWN;
}
