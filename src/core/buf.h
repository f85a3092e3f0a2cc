/*
 * A growable byte buffer with an optional hard cap (git's strbuf, curl's dynbuf).
 * data is always NUL-terminated once anything was added. Anything fed from outside
 * gets a max; going past it is an error (-1), never a crash.
 */
#ifndef OPSDECK_BUF_H
#define OPSDECK_BUF_H

#include <stdarg.h>
#include <stddef.h>

struct buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
	size_t	 max;	/* 0: no cap */
};

#define BUF_INIT { NULL, 0, 0, 0 }
#define BUF_INIT_MAX(m) { NULL, 0, 0, (m) }

void	 buf_init(struct buf *, size_t max);
/* Appends; -1 when the cap would be exceeded (nothing is appended then). */
int	 buf_add(struct buf *, const void *, size_t);
int	 buf_addstr(struct buf *, const char *);
int	 buf_addch(struct buf *, char);
int	 buf_printf(struct buf *, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
int	 buf_vprintf(struct buf *, const char *, va_list);
/* Empties without freeing. */
void	 buf_reset(struct buf *);
/* The contents as a string ("" when empty); never NULL. */
const char *buf_str(const struct buf *);
/* Hands the string to the caller and empties the buffer. */
char	*buf_detach(struct buf *);
void	 buf_release(struct buf *);

#endif
