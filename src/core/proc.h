/* Running a short helper program and reading what it prints. */
#ifndef OPSDECK_PROC_H
#define OPSDECK_PROC_H

#include <stddef.h>

#include "core/err.h"

/*
 * Runs argv (argv[0] looked up on $PATH, stdin from /dev/null) with its stdout and
 * stderr into out (at most outlen - 1 bytes kept, NUL-terminated) and waits for that
 * child alone, so it is safe only where no event loop reaps children (the CLI, or a
 * daemon before its loop runs). Its exit status (128 + N when killed by signal N),
 * or -1 with e (ERR_NOT_FOUND when there is no such program).
 */
int	 proc_output(char *const argv[], char *out, size_t outlen, struct err *);

#endif
