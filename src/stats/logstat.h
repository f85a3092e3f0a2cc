/*
 * Access-log analysis (`opsdeck logstat`): per route hits, status classes, 5xx rate
 * and latency quantiles from a log-linear histogram (stats/hist.h, within 1 %), the
 * slowest requests and the most frequent errors. Memory follows the number of routes
 * (at most max_routes; the rest are counted as "(other routes)"), never the lines.
 */
#ifndef OPSDECK_LOGSTAT_H
#define OPSDECK_LOGSTAT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "stats/accesslog.h"
#include "stats/route.h"

#define LOGSTAT_MALFORMED_LIST	1000	/* malformed lines listed under verbose */

struct logstat_opts {
	const struct route *tmpls;	/* tried in order before normalizing */
	size_t		 ntmpls;
	unsigned	 top;		/* slowest requests and errors kept, 10 */
	int64_t		 slow_us;	/* a request this slow counts as slow; 0 off */
	bool		 verbose;	/* list malformed lines */
	size_t		 max_routes;	/* 5000 */
};

/* One input: its name (kept by the caller) and its format, detected if ALOG_AUTO. */
struct logstat_src {
	const char	*name;
	enum alog_format fmt;
	uint64_t	 lineno;
	uint64_t	 malformed;
};

struct logstat;

struct logstat *logstat_new(const struct logstat_opts *);
void	 logstat_free(struct logstat *);
/* One line of src without its newline; counts it as parsed or malformed. */
void	 logstat_feed(struct logstat *, struct logstat_src *, const char *line,
	    size_t len);
/* Counts the next line of src as malformed for why (a static string). */
void	 logstat_malformed(struct logstat *, struct logstat_src *, const char *line,
	    size_t len, const char *why);
/* Ends a source: its counts go into the report's "files". */
void	 logstat_end_source(struct logstat *, const struct logstat_src *);
/*
 * The report: {lines, parsed, malformed, without_time, files[], routes[] (by hits),
 * slowest[], errors[], malformed_lines[] (verbose)}. Latencies in ms.
 */
json_t	*logstat_json(const struct logstat *);

#endif
