/*
 * libpq for the migrate commands: one connection, errors a user can act on.
 * Every message names the database by its URL with the password taken out.
 */
#ifndef OPSDECK_MIGRATE_PG_H
#define OPSDECK_MIGRATE_PG_H

#include <libpq-fe.h>

#include "core/err.h"
#include "migrate/sql.h"

/* The URL (or key=value conninfo) without its password; the caller frees. */
char	*pg_url_redact(const char *url);
/*
 * Connects; dbname, when not NULL, replaces the URL's database. On failure err says
 * which case it is (bad URL, unreachable, wrong credentials, no database, no
 * permission) and what to do.
 */
int	 pg_connect(const char *url, const char *dbname, PGconn **out,
	    struct err *);
/* Runs a command; -1 with "what: server message" (and a hint for known cases). */
int	 pg_exec(PGconn *, const char *sql, const char *what, struct err *);
/* Runs a query with text parameters; NULL on error. The caller PQclears. */
PGresult *pg_query(PGconn *, const char *sql, int nparams,
	    const char *const *params, const char *what, struct err *);
/* Formats a failed result: "message (SQLSTATE) detail/hint"; what prefixes it. */
int	 pg_result_err(const PGresult *, PGconn *, const char *what,
	    struct err *);
/* The SQLSTATE of a failed result, "" when none. */
const char *pg_sqlstate(const PGresult *);

/*
 * Why a statement cannot run inside a transaction block ("CREATE INDEX
 * CONCURRENTLY", "VACUUM", …), or NULL when it can.
 */
const char *pg_stmt_nontransactional(const struct sql_stmt *);
/*
 * Transaction control in a file: 1 for BEGIN/START/COMMIT/END (opsdeck runs each file
 * in its own transaction, so these are skipped), -1 for ROLLBACK/PREPARE and the like
 * (refused), 0 for anything else (SAVEPOINT runs as written).
 */
int	 pg_stmt_txn_control(const struct sql_stmt *);

#endif
