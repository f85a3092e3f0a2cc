/*
 * Reading the machines' captured logs (written by logsink.c): the last lines of
 * several files merged by their timestamps, and following them across rotation.
 * Used by the CLI, so it is part of the executable, not the daemon module.
 */
#ifndef OPSDECK_LOGREAD_H
#define OPSDECK_LOGREAD_H

#include <stdio.h>
#include <sys/types.h>

struct logread_file {
	char	*path;		/* the current file; rotated ones are PATH.1, PATH.2… */
	char	*label;		/* printed before each of its lines */
	FILE	*fp;		/* while following */
	ino_t	 ino;
};

/*
 * Writes the last n lines (n < 0: all) of the files to out, merged by time, each
 * after its file's label. A file holding fewer than n lines (it was just rotated)
 * is topped up from its rotated files.
 */
void	logread_tail(struct logread_file *, size_t nfiles, long n, FILE *out);
/* Writes the lines added to the files from now on; reopens rotated ones. Never returns. */
void	logread_follow(struct logread_file *, size_t nfiles, FILE *out)
	    __attribute__((noreturn));

#endif
