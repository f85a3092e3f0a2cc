/*
 * SQL files as statements, parsed by PostgreSQL's own grammar (libpg_query 15).
 * A file is split first (the scanner tolerates syntax errors), then each statement is
 * parsed on its own, so one bad statement does not hide the rest of the file. What
 * does not parse is a statement with an error, never a failure of the whole file:
 * only an unterminated quote or comment hides what follows it (as it does from
 * PostgreSQL).
 */
#ifndef OPSDECK_SQL_H
#define OPSDECK_SQL_H

#include <stdbool.h>
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
	char	*error;		/* parse error message (one printable line), or NULL */
	int	 error_line, error_col;	/* position of the error in the file */
	/* when the error is a known shape of newer PostgreSQL syntax, what it is */
	const char *error_newer;
	/* the error is an unterminated quote, comment or dollar quote, which takes in
	 * the rest of the file: nothing after it was split */
	bool	 error_rest;
	char	*ignore;	/* rules named by "-- opsdeck-ignore A, B" before it, or NULL */
};

struct sql_file {
	char		*path;
	struct sql_stmt	*stmts;
	size_t		 n;
	char		*ignore_file;	/* rules of "-- opsdeck-ignore-file", or NULL */
	int		*ignore_file_lines;	/* the line of each of its names */
};

/* Splits and parses text (named path in messages). -1 only when it is too large. */
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
/*
 * sql_file_each, splitting at most window bytes at a time (0: SQL_WINDOW; wider for
 * a statement that does not fit), so memory stays bounded by the window and one
 * statement whatever the file's size: splitting the whole text at once costs about
 * four times its size. The statements and their positions are sql_file_each's.
 */
#define SQL_WINDOW ((size_t)1 << 20)
int	sql_file_each_window(const char *path, const char *text, size_t len,
	    size_t window, struct sql_file *out,
	    int (*fn)(const struct sql_file *, const struct sql_stmt *, void *),
	    void *arg, struct err *);
/* Reads a file whole (up to SQL_FILE_MAX) for sql_file_each. */
int	sql_file_read(const char *path, struct buf *, struct err *);
void	sql_file_release(struct sql_file *);
/*
 * Appends len bytes of s for a message on one line: newline, tab and CR as \n, \t,
 * \r, other control characters and bytes that are not UTF-8 as \xNN, and only the
 * first max characters, then "...".
 */
void	sql_excerpt(struct buf *, const char *s, size_t len, size_t max);
/* The node type of a parsed statement: "CreateStmt", "AlterTableStmt", … or NULL. */
const char *sql_stmt_type(const struct sql_stmt *);

/*
 * Parse-tree names in SQL words for messages (words.c), so libpg_query's node names
 * never reach a person. A statement's node type ("AlterTableStmt" → "ALTER TABLE";
 * "(does not parse)" for NULL):
 */
const char *sql_node_words(const char *type);
/* The same, refined by the node where one type covers several statements
 * (DropStmt → "DROP INDEX", GrantStmt → "REVOKE", VacuumStmt → "ANALYZE"). */
const char *sql_stmt_words(const char *type, const json_t *node);
/* An ALTER TABLE subtype: "AT_AlterColumnType" → "ALTER COLUMN … TYPE". */
const char *sql_alter_words(const char *subtype);
/* An object type: "OBJECT_INDEX" → "INDEX". */
const char *sql_object_words(const char *objtype);
/* Appends one AlterTableCmd in words with its column, constraint or trigger name
 * ("ALTER COLUMN age TYPE", "VALIDATE CONSTRAINT fk", "DISABLE TRIGGER ALL"). */
void	sql_alter_cmd_words(struct buf *, const json_t *cmd);

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
