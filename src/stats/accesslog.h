/*
 * One line of a web server's access log, in one of four formats:
 *
 *   common    127.0.0.1 - frank [10/Oct/2000:13:55:36 -0700] "GET /a.gif HTTP/1.0" 200 2326
 *   combined  the same and "referer" "user agent"
 *             Either may end with the request's time: a decimal is seconds (nginx's
 *             $request_time, GoAccess's %T), an integer microseconds (Apache's %D);
 *             "rt=0.123" or "request_time=0.123" are read the same.
 *   json      one object per line: method|request_method, path|uri|request_uri|url or
 *             request ("GET /x HTTP/1.1"), status|status_code, and the time as
 *             request_time|duration_s (seconds), duration_ms|response_time_ms|
 *             latency_ms|elapsed_ms (milliseconds) or duration_us|latency_us; the
 *             timestamp from time|timestamp|time_local|@timestamp|ts.
 *   haproxy   HAProxy's `option httplog` line (stats/haplog.h); the time is Ta.
 *
 * The fields are slices of the line, or of rec->scratch for JSON's unescaped strings.
 */
#ifndef OPSDECK_ACCESSLOG_H
#define OPSDECK_ACCESSLOG_H

#include <stddef.h>
#include <stdint.h>

enum alog_format {
	ALOG_AUTO,
	ALOG_COMBINED,
	ALOG_COMMON,
	ALOG_JSON,
	ALOG_HAPROXY,
};

struct alog_rec {
	const char	*method;	/* NULL when the request line is not one */
	size_t		 method_len;
	const char	*target;	/* the request target, query included */
	size_t		 target_len;
	size_t		 path_len;	/* of target, without the query */
	int		 status;	/* -1 when none */
	int64_t		 time_us;	/* -1 when the line has no time */
	const char	*when;		/* the timestamp's text, or NULL */
	size_t		 when_len;
	char		 scratch[1024];
};

/* "combined" and back; -1 for an unknown name. */
const char *alog_format_name(enum alog_format);
int	 alog_format_parse(const char *name, enum alog_format *);
/*
 * Parses line (len bytes, no newline) in fmt, which is not ALOG_AUTO. 0 and rec
 * filled, or -1 with *why set to what the line lacks.
 */
int	 alog_parse(enum alog_format fmt, const char *line, size_t len,
	    struct alog_rec *rec, const char **why);
/* The format a line is in, trying json, haproxy, combined, common; ALOG_AUTO if none. */
enum alog_format alog_detect(const char *line, size_t len);

#endif
