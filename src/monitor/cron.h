/*
 * Cron schedules in a time zone, for heartbeats and maintenance windows.
 *
 * Five fields, minute hour day-of-month month day-of-week, each '*', a number, a
 * range a-b, a list a,b,c and a step a-b/n (a star and /n: every n); months and days may be named
 * (jan, mon); 7 is Sunday too; @hourly @daily @weekly @monthly @yearly. When both
 * day fields are restricted, either matches (as Vixie cron).
 *
 * Across daylight-saving changes, as cronie does: a schedule with a fixed hour whose
 * time is skipped when the clocks go forward runs at the change; one whose time
 * happens twice when they go back runs the first time only. A schedule whose hour is
 * '*' follows real time (every hour still runs once an hour).
 *
 * Time zones come from the system's tz database (/usr/share/zoneinfo, TZif files),
 * read here: the process's TZ is never changed.
 */
#ifndef OPSDECK_CRON_H
#define OPSDECK_CRON_H

#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"

struct cron {
	uint64_t	 minute;	/* bit n: minute n */
	uint32_t	 hour, dom;	/* dom bit 1..31 */
	uint16_t	 month;		/* bit 1..12 */
	uint8_t		 dow;		/* bit 0..6, Sunday 0 */
	bool		 dom_star, dow_star, hour_star;
};

struct tz;

/* Parses expr; on error e names the field, its column and what is allowed. */
int	 cron_parse(const char *expr, struct cron *, struct err *e);
/*
 * The first time after `after` (Unix seconds) the schedule fires in tz (NULL for
 * UTC), or -1 when there is none within 5 years (Feb 30).
 */
int64_t	 cron_next(const struct cron *, const struct tz *, int64_t after);

/* Loads zone NAME ("Europe/Berlin", "UTC"); NULL and e when unknown or unreadable. */
struct tz *tz_load(const char *name, struct err *e);
void	 tz_free(struct tz *);
/* The zone's offset from UTC at instant t, in seconds (east positive). */
int32_t	 tz_offset(const struct tz *, int64_t t);

#endif
