/*
 * migrate dryrun: runs a file on a real PostgreSQL inside one transaction that is
 * rolled back, and reports what each statement really did: the relation locks it
 * took (pg_locks of this backend), the tables it rewrote (pg_class.relfilenode
 * changed) and how long it ran. Statements that cannot run in a transaction are
 * reported; with allow_nontransactional the whole file runs on a temporary copy of
 * the database (CREATE DATABASE … TEMPLATE) that is dropped afterwards, and the
 * locks of those statements are sampled from a second session while they run.
 * Every statement runs under lock_timeout and statement_timeout, so a dry run on a
 * busy database neither queues behind a lock nor holds its own for long.
 */
#ifndef OPSDECK_DRYRUN_H
#define OPSDECK_DRYRUN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "core/err.h"
#include "migrate/sql.h"

struct dryrun_options {
	const char	*url;
	int64_t		 lock_timeout_ms;	/* SET LOCAL lock_timeout */
	int64_t		 statement_timeout_ms;	/* SET LOCAL statement_timeout */
	bool		 allow_nontransactional;
	bool		 keep_signals;		/* install no SIGINT/SIGTERM handler
						 * (the daemon: libuv owns them) */
};

/* dryrun_run's result when SIGINT or SIGTERM stopped it (report "signal" says which) */
#define DRYRUN_INTERRUPTED	2

/*
 * Runs the SQL text of path, statement by statement (no parse tree is kept), and
 * fills *report (the --json shape). 0 when every statement that can ran
 * (those that cannot run in a transaction are counted in "not_run"), 1 when one
 * failed (the report says which), -1 when it could not run at all (err), and
 * DRYRUN_INTERRUPTED after SIGINT/SIGTERM: the running statement is cancelled and
 * rolled back or the copy dropped; the caller re-raises the signal.
 */
int	dryrun_run(const struct dryrun_options *, const char *path,
	    const char *text, size_t len, json_t **report, struct err *);
/* The report for people. */
void	dryrun_print(const json_t *report, FILE *);

#endif
