/*
 * Down SQL generated from an up migration: each statement's inverse (CREATE → DROP,
 * ADD COLUMN → DROP COLUMN, RENAME → rename back, …) in reverse order. Statements
 * whose previous state is not in the file are listed as irreversible with the reason;
 * those made only if missing (IF NOT EXISTS) are undone conditionally: the down drops
 * the object even if it existed before the up, so they too are not fully reversible.
 * The script is built as text with quoted identifiers (not the 4.0.0 deparser) and
 * re-parsed with libpg_query before it is returned.
 */
#ifndef OPSDECK_ROLLBACK_H
#define OPSDECK_ROLLBACK_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "core/err.h"
#include "migrate/sql.h"

enum rb_status {
	RB_REVERSED,		/* down SQL undoes it */
	RB_NOOP,		/* changes no schema (SET, ANALYZE, BEGIN…) */
	RB_SUBSUMED,		/* undone by dropping what the same file created */
	RB_IRREVERSIBLE,	/* cannot be undone from what the file says */
	RB_CONDITIONAL,		/* IF NOT EXISTS: the down is right only if it was missing */
};

struct rb_item {
	int		 line, col;
	const char	*kind;		/* "CREATE TABLE", "ALTER TABLE", … */
	enum rb_status	 status;
	char		*down;		/* the inverse SQL (RB_REVERSED), or NULL */
	char		*reason;	/* why irreversible, or a caveat, or NULL */
};

struct rollback {
	struct rb_item	*v;
	size_t		 n;
	size_t		 irreversible;	/* count of RB_IRREVERSIBLE items */
	size_t		 conditional;	/* count of RB_CONDITIONAL items */
	char		*sql;		/* the whole down script, comments included */
};

/* "reversed", "noop", "subsumed", "irreversible", "conditional". */
const char *rb_status_str(enum rb_status);
/*
 * Builds the down script of the SQL text of path, statement by statement (only the
 * items are kept, not the parse trees). -1 when the file has a syntax error
 * (nothing can be said about it) or when the script does not re-parse (a bug).
 */
int	rollback_generate(const char *path, const char *text, size_t len,
	    struct rollback *, struct err *);
/*
 * The result as {"file","reversible","irreversible","conditional","statements":[…],
 * "sql"}; reversible is false when any statement is irreversible or conditional.
 */
json_t	*rollback_json(const char *path, const struct rollback *);
void	rollback_release(struct rollback *);

#endif
