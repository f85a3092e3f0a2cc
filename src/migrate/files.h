/*
 * The *.sql files a migrate command works on, from the FILE|DIR arguments: one
 * walker for lint (every file, recursing) and apply/status (one folder's migrations).
 */
#ifndef OPSDECK_MIGRATE_FILES_H
#define OPSDECK_MIGRATE_FILES_H

#include <stddef.h>

#include "core/err.h"

/*
 * A directory's own *.sql files only, without the rollbacks (names ending in
 * "down.sql": lemmy's __down.sql, golang-migrate's .down.sql), and a directory with
 * none is an error: what apply and status run. Without it: every *.sql file,
 * recursing into folders (what lint checks).
 */
#define SQL_FILES_MIGRATIONS	0x01

struct sql_files {
	char	**v;		/* paths, in the order they are to be run or printed */
	size_t	  n, cap;
};

#define SQL_FILES_INIT { NULL, 0, 0 }

/*
 * Appends path when it is a file (whatever its name), or the *.sql files under it
 * when it is a directory, in byte order of their names (a folder's files and
 * subfolders sorted together, names starting with '.' skipped). A directory without
 * any is an error (ERR_INVALID, a usage error, when recursing).
 */
int	sql_files_add(struct sql_files *, const char *path, int flags,
	    struct err *);
void	sql_files_release(struct sql_files *);

#endif
