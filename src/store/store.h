/*
 * The store: SQLite in WAL mode in the state dir, the truth the daemon reconciles
 * from. One writer connection, owned by the loop thread. Schema changes are numbered
 * migrations: an older file is upgraded in place, a newer or foreign one refused.
 */
#ifndef OPSDECK_STORE_H
#define OPSDECK_STORE_H

#include <stdbool.h>
#include <stdint.h>

#include <sqlite3.h>

#include "core/err.h"

#define STORE_APPLICATION_ID 0x6f707364	/* "opsd" */

struct store {
	sqlite3	*db;
	char	*path;
	/* rows the evidence ledger changed: a cache keyed on the connection's changes
	 * (the daemon's /v1/apps) leaves them out, as it shows no evidence */
	int64_t	 evidence_changes;
};

/* The schema version this build writes. */
int	 store_schema_version(void);
/* Opens (creating if needed) PATH; upgrades an older schema; refuses newer/foreign. */
int	 store_open(struct store *, const char *path, struct err *);
/* Opens read-only, for standalone readers; refuses any schema but the current one. */
int	 store_open_readonly(struct store *, const char *path, struct err *);
void	 store_close(struct store *);
/* Runs one or more statements without results; -1 with the SQLite message. */
int	 store_exec(struct store *, const char *sql, struct err *);
int	 store_prepare(struct store *, sqlite3_stmt **, const char *sql,
	    struct err *);
/* BEGIN IMMEDIATE / COMMIT / ROLLBACK. */
int	 store_begin(struct store *, struct err *);
int	 store_commit(struct store *, struct err *);
void	 store_rollback(struct store *);
/* Upgrades a database file from version `from` (for tests of old state dirs). */
int	 store_migrate_to(struct store *, int to, struct err *);

#endif
