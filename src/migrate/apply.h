/*
 * migrate apply and status: files applied in name order to a PostgreSQL database,
 * each recorded in the ledger table public.opsdeck_migrations (file, sha256,
 * applied_at, applied_by, duration_ms, override_reason) of that database.
 *
 * A file runs in one transaction with its ledger row, so it is recorded exactly when
 * all of it committed. A file with statements that cannot run in a transaction
 * (CREATE INDEX CONCURRENTLY, …) runs statement by statement and is recorded, in the
 * transaction of its last part, only when every statement succeeded. Applied files
 * are skipped; a file whose SHA-256 differs from the ledger's is refused; lint errors
 * (with the rules and policy migrate lint follows) block unless an override reason is
 * given, recorded on the files whose errors it overrode. Each file starts from a clean
 * session (RESET ALL, ROLE, SESSION AUTHORIZATION), so what one file SETs does not
 * reach the next. A file with no statement (comments only) is recorded as applied.
 */
#ifndef OPSDECK_APPLY_H
#define OPSDECK_APPLY_H

#include <stddef.h>
#include <stdio.h>

#include <jansson.h>

#include "core/err.h"

/*
 * The approval gate: called before each file that would be applied, after the
 * checksum and lint checks. This is where the account issue's approvals plug in
 * (a required approver, a signed approval for this sha256, …): return 0 to let the
 * file run, -1 with err set to refuse it (apply then stops, nothing of it runs).
 * NULL approve: every file is allowed.
 */
struct apply_gate {
	int	(*approve)(void *ctx, const char *file, const char *sha256,
		    struct err *);
	void	*ctx;
};

struct lint_options;

struct apply_options {
	const char		*url;
	/* exclude, include, policy, pg_version as migrate lint has them (the config's
	 * migrate: section), or NULL for the defaults; assume_in_transaction is apply's */
	const struct lint_options *lint;
	const char		*override;	/* reason lint errors are accepted, or NULL */
	const char		*actor;		/* applied_by */
	const struct apply_gate	*gate;		/* NULL: no gate */
	FILE			*progress;	/* one line per file as it goes, or NULL */
};

/* SHA-256 of a file's bytes in hex. */
int	migrate_sha256(const char *path, char hex[65], struct err *);

/*
 * Applies the files in order and fills *report. 0 when all were applied or skipped,
 * 1 when one was refused or failed (apply stops there; the report says why),
 * -1 when nothing could be done (err: bad URL, unreachable, no permission…).
 */
int	apply_run(const struct apply_options *, char *const *paths, size_t n,
	    json_t **report, struct err *);
/*
 * Fills *report with the state against the ledger of paths, the files of path (the
 * FILE|DIR argument): applied, pending or changed, and, when path is a directory,
 * "missing" for recorded files not in it. Read-only. 0, or 1 when a file changed,
 * -1 on error.
 */
int	apply_status(const char *url, const char *path, char *const *paths,
	    size_t n, json_t **report, struct err *);
void	apply_print(const json_t *report, FILE *);
void	apply_status_print(const json_t *report, FILE *);

#endif
