/*
 * Reading the machines' captured logs (written by logsink.c): the last lines of
 * several files merged by their timestamps, and following them across rotation.
 * Used by the CLI, so it is part of the executable, not the daemon module.
 */
#ifndef OPSDECK_LOGREAD_H
#define OPSDECK_LOGREAD_H

#include <stdio.h>
#include <sys/types.h>

#include <jansson.h>

#include "core/err.h"

struct logread_file {
	char	*path;		/* the current file; rotated ones are PATH.1, PATH.2… */
	char	*label;		/* printed before each of its lines */
	FILE	*fp;		/* while following */
	ino_t	 ino;
};

/* Where logs are: STATE/logs/APP/, a machine's in ID.log (rotated: ID.log.1, …). */
char	*logread_dir(const char *state_dir, const char *app);
char	*logread_path(const char *state_dir, const char *app, const char *id);
/*
 * The app's machines as the store a stopped daemon left records them, in the shape
 * of the API's /v1/machines: {"machines": [{id, process, log}]}, empty for an app
 * it does not know. NULL with e set (ERR_NOT_FOUND: opsdeck never ran there).
 */
json_t	*logread_machines(const char *state_dir, const char *app, struct err *);

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
