#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/log.h"
#include "core/json.h"

static enum log_format log_fmt = LOG_FORMAT_TEXT;
static bool log_debugging;

void
log_init(enum log_format fmt, bool debug)
{
	log_fmt = fmt;
	log_debugging = debug;
}

int
log_format_parse(const char *s, enum log_format *out)
{
	if (strcmp(s, "text") == 0)
		*out = LOG_FORMAT_TEXT;
	else if (strcmp(s, "json") == 0)
		*out = LOG_FORMAT_JSON;
	else
		return -1;
	return 0;
}

static void
vlog(const char *level, const char *fmt, va_list ap, const char *suffix)
{
	char msg[2048], ts[40];
	struct timespec now;
	struct tm tm;

	vsnprintf(msg, sizeof(msg), fmt, ap);
	clock_gettime(CLOCK_REALTIME, &now);
	gmtime_r(&now.tv_sec, &tm);
	strftime(ts, sizeof(ts), "%Y-%m-%dT%H:%M:%S", &tm);
	if (log_fmt == LOG_FORMAT_JSON) {
		char *line = json_log_line(ts, (int)(now.tv_nsec / 1000000),
		    level, msg, suffix);

		fprintf(stderr, "%s\n", line);
		free(line);
	} else if (suffix != NULL)
		fprintf(stderr, "%s.%03dZ %s %s: %s\n", ts,
		    (int)(now.tv_nsec / 1000000), level, msg, suffix);
	else
		fprintf(stderr, "%s.%03dZ %s %s\n", ts,
		    (int)(now.tv_nsec / 1000000), level, msg);
	fflush(stderr);
}

#define LOGFN(name, level, cond, withErrno)			\
void								\
name(const char *fmt, ...)					\
{								\
	int saved = errno;					\
	va_list ap;						\
								\
	if (!(cond))						\
		return;						\
	va_start(ap, fmt);					\
	vlog(level, fmt, ap, withErrno ? strerror(saved) : NULL); \
	va_end(ap);						\
	errno = saved;						\
}

LOGFN(log_info, "info", true, false)
LOGFN(log_debug, "debug", log_debugging, false)
LOGFN(log_warn, "warn", true, true)
LOGFN(log_warnx, "warn", true, false)

void
fatal(const char *fmt, ...)
{
	int saved = errno;
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, strerror(saved));
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vlog("fatal", fmt, ap, NULL);
	va_end(ap);
	exit(1);
}
