/*
 * SQL files as statements, parsed by PostgreSQL's own grammar (libpg_query 15).
 * A file is split first (the scanner tolerates errors), then each statement is parsed
 * on its own, so one bad statement does not hide the rest of the file.
 */
#ifndef OPSDECK_SQL_H
#define OPSDECK_SQL_H

#include <stddef.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

/* The largest SQL file read or parsed (libpg_query's offsets are ints). */
#define SQL_FILE_MAX ((size_t)1 << 31)

struct sql_stmt {
	char	*text;		/* the statement without leading comments/blank lines */
	size_t	 offset;	/* byte offset of its first token in the file */
	int	 line, col;	/* 1-based position of its first token */
	json_t	*tree;		/* the "stmt" object of pg_query_parse, or NULL */
	char	*error;		/* parse error message, or NULL */
	int	 error_line, error_col;	/* position of the error in the file */
	char	*ignore;	/* rules named by "-- opsdeck-ignore A, B" before it, or NULL */
};

struct sql_file {
	char		*path;
	struct sql_stmt	*stmts;
	size_t		 n;
	char		*ignore_file;	/* rules of "-- opsdeck-ignore-file", or NULL */
};

/* Splits and parses text (named path in messages). -1 only when nothing can be read. */
int	sql_file_parse(const char *path, const char *text, size_t len,
	    struct sql_file *out, struct err *);
/*
 * Streams text: calls fn for each statement as soon as it is parsed, then frees it,
 * so memory stays bounded by one statement. out gets path and ignore_file (found
 * by a scan before the first call); out->stmts stays NULL and out->n counts the
 * statements. fn returning -1 stops the walk.
 */
int	sql_file_each(const char *path, const char *text, size_t len,
	    struct sql_file *out,
	    int (*fn)(const struct sql_file *, const struct sql_stmt *, void *),
	    void *arg, struct err *);
/* Reads and parses a file (statement by statement, so large files are fine). */
int	sql_file_load(const char *path, struct sql_file *out, struct err *);
void	sql_file_release(struct sql_file *);
/* The node type of a parsed statement: "CreateStmt", "AlterTableStmt", … or NULL. */
const char *sql_stmt_type(const struct sql_stmt *);

/*
 * Appends an identifier double-quoted only when PostgreSQL 15 needs it, as its
 * quote_ident() does: for SQL people read (rollback-sql).
 */
void	sql_quote_ident(struct buf *, const char *);
/* Appends an identifier always double-quoted: for SQL sent to a server of any
 * version, whose keywords may be more than 15's. */
void	sql_quote_ident_always(struct buf *, const char *);
/* Appends a string literal, as E'…' when it holds a backslash (as quote_literal()
 * does), so it reads the same whatever standard_conforming_strings says. */
void	sql_quote_literal(struct buf *, const char *);

#endif
