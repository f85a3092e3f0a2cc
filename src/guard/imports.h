/*
 * `opsdeck guard imports`: the imports of source files that a deny list bans, by
 * file, line and column. Recognized: Python (import X, from X import), JavaScript and
 * TypeScript (import ... from 'X', import 'X', require('X'), import('X')), Go
 * (import "X", and the lines of an import ( ... ) block) and C (#include <X>, "X").
 * A pattern is a shell glob (fnmatch) matched against the imported name, and also
 * against its first component (Python's "a" of "a.b", the package of "pkg/sub").
 */
#ifndef OPSDECK_GUARD_IMPORTS_H
#define OPSDECK_GUARD_IMPORTS_H

#include <stddef.h>
#include <stdio.h>

#include "core/err.h"

struct import_hit {
	const char	*file;
	size_t		 line, col;	/* 1-based, col in bytes */
	char		 name[256];	/* what is imported */
	const char	*pattern;	/* the deny pattern it matched */
};

/* Called for each denied import found; return -1 to stop the walk. */
typedef int (*import_hit_fn)(const struct import_hit *, void *arg);

/*
 * Scans path (a file, or a directory recursively, skipping names that start with
 * '.' and node_modules) for imports matching one of the n patterns. The number of
 * hits, or -1 with e for a path that cannot be read.
 */
long	guard_imports(const char *path, char *const *patterns, size_t n,
	    import_hit_fn, void *arg, struct err *);
/* The same for one file's text (NUL-terminated, cut into lines in place). */
long	guard_imports_text(const char *path, char *text, char *const *patterns,
	    size_t n, import_hit_fn, void *arg);

#endif
