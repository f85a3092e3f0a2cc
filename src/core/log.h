/*
 * Logging (OpenBSD log.c): log_warn appends strerror(errno), log_warnx does not.
 * fatal/fatalx are for broken invariants and unrecoverable states; they exit 1.
 */
#ifndef OPSDECK_LOG_H
#define OPSDECK_LOG_H

#include <stdbool.h>

enum log_format {
	LOG_FORMAT_TEXT,
	LOG_FORMAT_JSON,
};

void	log_init(enum log_format, bool debug);
/* Parses "text" or "json"; -1 on anything else. */
int	log_format_parse(const char *, enum log_format *);
void	log_info(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_debug(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warn(const char *, ...) __attribute__((format(printf, 1, 2)));
void	log_warnx(const char *, ...) __attribute__((format(printf, 1, 2)));
void	fatal(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));
void	fatalx(const char *, ...)
	    __attribute__((format(printf, 1, 2), noreturn));

#define BUG(...) fatalx("BUG: " __VA_ARGS__)

#endif
