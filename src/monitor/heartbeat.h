/*
 * Heartbeats, after Healthchecks.io: a job pings when it runs; the heartbeat is late
 * once a ping is due and has not come, and down after the grace time more. The ping
 * is due a period after the last one, or at the schedule's next time after it (cron
 * in a time zone), or - for a ping that reported status "doing" - after doing_stale;
 * one that reported "done" is never due (an agent that finished its work).
 *
 * A start signal measures the run: the next success gives its run time; a start with
 * no success or failure within the grace time is down. A failure signal (a fail ping
 * or a non-zero exit code) is down at once. A paused heartbeat stays paused until it
 * is pinged again.
 *
 * Pure functions of the configuration, the state and the clock (milliseconds), so
 * every state can be checked against a table.
 */
#ifndef OPSDECK_HEARTBEAT_H
#define OPSDECK_HEARTBEAT_H

#include <stdbool.h>
#include <stdint.h>

#include "monitor/cron.h"

enum hb_status { HB_NEW, HB_UP, HB_LATE, HB_DOWN, HB_PAUSED };
enum hb_signal { HB_SUCCESS, HB_START, HB_FAIL };
enum hb_report { HB_REPORT_NONE, HB_REPORT_DOING, HB_REPORT_DONE };

struct hb_conf {
	int64_t		 period_ms;	/* 0 with a schedule */
	int64_t		 grace_ms;
	const struct cron *schedule;	/* or NULL */
	const struct tz	*tz;		/* NULL: UTC */
	int64_t		 doing_stale_ms; /* 15 min */
};

struct hb_state {
	int64_t		 last_ping_ms;	/* the last success or failure; 0 never */
	int64_t		 last_start_ms;	/* 0 when none is open */
	int64_t		 last_run_ms;	/* start to success, -1 unknown */
	bool		 failed;	/* the last ping was a failure */
	bool		 paused;
	enum hb_report	 report;
};

/* Records a ping at now. */
void		 hb_ping(const struct hb_conf *, struct hb_state *, enum hb_signal,
		    enum hb_report, int64_t now_ms);
/*
 * The status at now, and into *next_ms the time it changes if no ping comes (-1 when
 * never), so a scheduler can wake then and not before.
 */
enum hb_status	 hb_status(const struct hb_conf *, const struct hb_state *,
		    int64_t now_ms, int64_t *next_ms);
const char	*hb_status_name(enum hb_status);

#endif
