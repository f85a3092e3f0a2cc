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

/* Files larger than this are not digested: apply's own limit. */
#define SQL_DIGEST_FILE_MAX	((size_t)64 << 20)

/*
 * What a set of migrations is, by content: each file's base name (as apply records
 * it) and SHA-256, and one SHA-256 over the whole list. What an approval binds.
 */
struct sql_digest {
	char	*file;
	char	 sha256[65];
};

struct sql_digests {
	struct sql_digest *v;
	size_t		 n;
	char		 all[65];
};

/* Reads and digests every file of f: -1 naming the first that cannot be read. */
int	sql_files_digest(const struct sql_files *, struct sql_digests *,
	    struct err *);
/* A file's SHA-256 in the list, by base name, or NULL when it is not in it. */
const char *sql_digests_find(const struct sql_digests *, const char *file);
void	sql_digests_release(struct sql_digests *);

#endif
