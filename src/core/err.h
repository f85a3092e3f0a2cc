/*
 * The recoverable-error channel: a function that fails fills a struct err and returns -1
 * (git's "return error(...)"). Messages name the thing, the place and what to do.
 */
#ifndef OPSDECK_ERR_H
#define OPSDECK_ERR_H

/* What kind of failure, so an API can answer 404 or 403 without reading the text. */
enum err_kind {
	ERR_FAILED,
	ERR_NOT_FOUND,
	ERR_DENIED,
	ERR_INVALID,
	ERR_CONFLICT,
	ERR_PENDING,	/* not refused: it waits for an approval */
};

struct err {
	enum err_kind	kind;
	char		msg[1024];
};

/* Sets the message and returns -1, for "return err_set(e, ...)". */
int	err_set(struct err *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
/* Like err_set, with ": strerror(errno)" appended. */
int	err_errno(struct err *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));

/* Like err_set with a kind other than ERR_FAILED. */
int	err_setk(struct err *, enum err_kind, const char *, ...)
	    __attribute__((format(printf, 3, 4)));

/* The kind's name for JSON ("not_found"), and back (ERR_FAILED for any other). */
const char *err_kind_str(enum err_kind);
enum err_kind err_kind_parse(const char *);

#endif
