/* A machine's captured output: timestamped lines in a file with size-based rotation. */
#ifndef OPSDECK_LOGSINK_H
#define OPSDECK_LOGSINK_H

#include <stddef.h>

#include "core/buf.h"

struct logsink {
	char		*path;		/* state/logs/APP/MACHINE.log */
	int		 fd;
	size_t		 size;
	size_t		 max_size;
	int		 keep;		/* rotated files kept: .1 … .keep */
	struct buf	 partial[2];	/* an unfinished line per stream */
	char		**mask;		/* secret values written as [secret NAME] */
	char		**mask_names;
	size_t		 nmask;
};

int	logsink_open(struct logsink *, const char *path, size_t max_size,
	    int keep);
/* Appends output of stream 0 (stdout) or 1 (stderr), split into lines. */
void	logsink_write(struct logsink *, int stream, const char *, size_t);
/* Writes one line the supervisor itself says about the machine. */
void	logsink_note(struct logsink *, const char *line);
/*
 * The machine's secrets: an app that prints one must not put it on disk. Copies are
 * kept (and wiped when replaced or closed).
 */
void	logsink_mask(struct logsink *, const char *const *names,
	    const char *const *values, size_t n);
/* Flushes unfinished lines (at EOF) and closes the file. */
void	logsink_close(struct logsink *);

#endif
