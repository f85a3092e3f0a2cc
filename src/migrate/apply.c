#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <sodium.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "migrate/apply.h"
#include "migrate/lint.h"
#include "migrate/pg.h"
#include "migrate/sql.h"

/*
 * The largest migration apply runs, well under SQL_FILE_MAX: apply holds the file's
 * text (for its checksum and its three walks: checks, lint, run) and sends each
 * statement to the server whole, but keeps no parse tree past its statement.
 */
#define APPLY_FILE_MAX (64u << 20)

#define LEDGER_CREATE \
	"CREATE TABLE IF NOT EXISTS public.opsdeck_migrations (" \
	"file text PRIMARY KEY, sha256 text NOT NULL, " \
	"applied_at timestamptz NOT NULL DEFAULT now(), " \
	"applied_by text NOT NULL, duration_ms bigint NOT NULL, " \
	"override_reason text)"
#define LEDGER_EXISTS \
	"SELECT to_regclass('public.opsdeck_migrations') IS NOT NULL"
#define LEDGER_ALL \
	"SELECT file, sha256, applied_at::text, applied_by, duration_ms, " \
	"override_reason FROM public.opsdeck_migrations ORDER BY file"
#define LEDGER_INSERT \
	"INSERT INTO public.opsdeck_migrations " \
	"(file, sha256, applied_by, duration_ms, override_reason) " \
	"VALUES ($1, $2, $3, $4, $5)"
/*
 * Before each file: the session as it was at connect time, so what a file SETs
 * (search_path, role, timeouts) cannot change where or how the next one runs.
 * RESET ALL leaves role and session authorization alone, hence the other two.
 */
#define SESSION_RESET \
	"RESET SESSION AUTHORIZATION; RESET ROLE; RESET ALL"
/* one apply at a time per database */
#define APPLY_LOCK "SELECT pg_try_advisory_lock(hashtext('opsdeck_migrations'))"

int
migrate_sha256(const char *path, char hex[65], struct err *e)
{
	struct buf b = BUF_INIT;

	if (file_read(path, APPLY_FILE_MAX, &b, e) < 0)
		return -1;
	sha256_hex(b.data != NULL ? b.data : "", b.len, hex);
	buf_release(&b);
	return 0;
}

static const char *
base_name(const char *path)
{
	const char *s = strrchr(path, '/');

	return s != NULL ? s + 1 : path;
}

/* The ledger as {file: row}; an empty object when there is no ledger yet. */
static int
ledger_load(PGconn *c, json_t **out, struct err *e)
{
	PGresult *r;
	json_t *o = json_object();
	int i;

	*out = o;
	if ((r = pg_query(c, LEDGER_EXISTS, 0, NULL, "reading the ledger", e)) == NULL)
		return -1;
	i = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!i)
		return 0;
	if ((r = pg_query(c, LEDGER_ALL, 0, NULL,
	    "reading public.opsdeck_migrations", e)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(r); i++) {
		json_t *row = json_object();

		json_object_set_new(row, "sha256", json_string(PQgetvalue(r, i, 1)));
		json_object_set_new(row, "applied_at", json_string(PQgetvalue(r, i, 2)));
		json_object_set_new(row, "applied_by", json_string(PQgetvalue(r, i, 3)));
		json_object_set_new(row, "duration_ms",
		    json_integer(strtoll(PQgetvalue(r, i, 4), NULL, 10)));
		json_object_set_new(row, "override_reason", PQgetisnull(r, i, 5) ?
		    json_null() : json_string(PQgetvalue(r, i, 5)));
		json_object_set_new(o, PQgetvalue(r, i, 0), row);
	}
	PQclear(r);
	return 0;
}

/*
 * Server NOTICE/WARNING messages: kept in the current file's "notices" (printed after
 * its status line), or printed on their own line when no file is running, instead of
 * libpq's default of writing them raw to stderr in the middle of apply's output.
 */
struct notice_ctx {
	json_t	*fj;		/* the file running, or NULL */
	FILE	*out;		/* for messages outside a file */
};

static void
notice_receive(void *arg, const PGresult *r)
{
	struct notice_ctx *nc = arg;
	const char *sev = PQresultErrorField(r, PG_DIAG_SEVERITY);
	const char *msg = PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY);
	json_t *a, *o;
	char lower[32];
	size_t i;

	if (msg == NULL)
		msg = PQresultErrorMessage(r);
	if (sev == NULL)
		sev = "notice";
	for (i = 0; sev[i] != '\0' && i < sizeof(lower) - 1; i++)
		lower[i] = (char)(sev[i] >= 'A' && sev[i] <= 'Z' ?
		    sev[i] - 'A' + 'a' : sev[i]);
	lower[i] = '\0';
	if (nc->fj == NULL) {
		fprintf(nc->out, "  %s: %s\n", lower, msg);
		fflush(nc->out);
		return;
	}
	if ((a = json_object_get(nc->fj, "notices")) == NULL) {
		a = json_array();
		json_object_set_new(nc->fj, "notices", a);
	}
	o = json_object();
	json_object_set_new(o, "severity", json_string(lower));
	json_object_set_new(o, "message", json_string(msg));
	json_array_append_new(a, o);
}

static void
add_findings(json_t *fj, const struct lint_report *rep, const char *path)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < rep->nfindings; i++) {
		const struct lint_finding *lf = &rep->findings[i];
		json_t *o;

		if (lf->severity != LINT_ERROR)
			continue;
		o = json_object();
		json_object_set_new(o, "rule", json_string(lf->rule->id));
		json_object_set_new(o, "where", json_sprintf("%s:%d:%d", path,
		    lf->line, lf->col));
		json_object_set_new(o, "message", json_string(lf->message));
		json_array_append_new(a, o);
	}
	json_object_set_new(fj, "lint_errors", a);
}

/* A walk of apply_file: runs each statement, or stops at the first that fails. */
struct run_walk {
	PGconn		*c;
	bool		 in_tx, any_committed;
	bool		 failed;	/* e says why */
	struct err	*e;
};

static int
run_stmt(const struct sql_file *f, const struct sql_stmt *st, void *arg)
{
	struct run_walk *w = arg;
	const char *nt = pg_stmt_nontransactional(st);
	char *what;
	int r;

	if (pg_stmt_txn_control(st) != 0)
		return 0;	/* BEGIN/COMMIT: the file runs in our transaction */
	if (nt != NULL && w->in_tx) {
		if (pg_exec(w->c, "COMMIT", "commit", w->e) < 0)
			goto fail;
		w->in_tx = false;
		w->any_committed = true;
	} else if (nt == NULL && !w->in_tx) {
		if (pg_exec(w->c, "BEGIN", "begin", w->e) < 0)
			goto fail;
		w->in_tx = true;
	}
	what = xasprintf("%s:%d:%d", f->path, st->line, st->col);
	r = pg_exec(w->c, st->text, what, w->e);
	free(what);
	if (r < 0) {
		if (nt != NULL && strstr(nt, "CREATE INDEX") != NULL) {
			size_t n = strlen(w->e->msg);

			snprintf(w->e->msg + n, sizeof(w->e->msg) - n,
			    "; a failed %s can leave an INVALID index: drop it (DROP INDEX CONCURRENTLY) before retrying", nt);
		}
		goto fail;
	}
	if (nt != NULL)
		w->any_committed = true;
	return 0;
fail:
	w->failed = true;
	return -1;
}

/*
 * Runs the statements of one file, as they are read. Transactional statements run
 * inside a transaction, nontransactional ones on their own between them; the ledger
 * row goes into the last transaction, so the file is recorded only if all of it
 * committed.
 */
static int
apply_file(PGconn *c, const struct apply_options *o, const char *path,
    const struct buf *text, const char *sha, const char *override, json_t *fj,
    struct err *e)
{
	struct run_walk w = { c, false, false, false, e };
	struct sql_file f = { 0 };
	const char *params[5];
	char ms[32];
	uint64_t t0 = mono_ms();
	int ret = -1;

	if (pg_exec(c, SESSION_RESET, "resetting the session before the file",
	    e) < 0)
		goto fail;
	if (sql_file_each_window(path, buf_str(text), text->len, 0, &f, run_stmt,
	    &w, e) < 0 || w.failed)
		goto fail;
	if (!w.in_tx && pg_exec(c, "BEGIN", "begin", e) < 0)
		goto fail;
	w.in_tx = true;
	snprintf(ms, sizeof(ms), "%llu", (unsigned long long)(mono_ms() - t0));
	params[0] = base_name(path);
	params[1] = sha;
	params[2] = o->actor;
	params[3] = ms;
	params[4] = override;
	/* the ledger row is written as the connecting user, whatever role the file set */
	if (pg_exec(c, "RESET SESSION AUTHORIZATION; RESET ROLE",
	    "resetting the role for the ledger", e) < 0)
		goto fail;
	{
		PGresult *r = pg_query(c, LEDGER_INSERT, 5, params,
		    "recording the file in public.opsdeck_migrations", e);

		if (r == NULL)
			goto fail;
		PQclear(r);
	}
	if (pg_exec(c, "COMMIT", "commit", e) < 0) {
		w.in_tx = false;
		goto fail;
	}
	w.in_tx = false;
	json_object_set_new(fj, "duration_ms", json_integer(
	    (json_int_t)strtoll(ms, NULL, 10)));
	ret = 0;
	sql_file_release(&f);
	return ret;
fail:
	sql_file_release(&f);
	if (w.in_tx)
		PQclear(PQexec(c, "ROLLBACK"));
	{
		size_t n = strlen(e->msg);

		snprintf(e->msg + n, sizeof(e->msg) - n, w.any_committed ?
		    "; statements before it that cannot run in a transaction were committed, but the file is NOT recorded as applied: fix it and apply again" :
		    "; nothing of the file was applied (rolled back)");
	}
	return ret;
}

/*
 * What apply checks before it lints or runs a file, in a first walk: a statement that
 * does not parse or transaction control it refuses (the first, in err), and whether
 * some statement cannot run in a transaction.
 */
struct check_walk {
	bool		 nontx;
	bool		 refused;
	struct err	*e;
};

static int
check_stmt(const struct sql_file *f, const struct sql_stmt *st, void *arg)
{
	struct check_walk *w = arg;

	if (st->error != NULL) {
		err_set(w->e, "%s:%d:%d: %s: fix the syntax (opsdeck migrate lint %s)",
		    f->path, st->error_line, st->error_col, st->error, f->path);
		w->refused = true;
		return -1;
	}
	if (pg_stmt_txn_control(st) < 0) {
		err_set(w->e, "%s:%d:%d: transaction control other than BEGIN/COMMIT: remove it; opsdeck runs each file in its own transaction",
		    f->path, st->line, st->col);
		w->refused = true;
		return -1;
	}
	if (pg_stmt_nontransactional(st) != NULL)
		w->nontx = true;
	return 0;
}

int
apply_run(const struct apply_options *o, char *const *paths, size_t n,
    json_t **report, struct err *e)
{
	PGconn *c = NULL;
	PGresult *r = NULL;
	json_t *rep = json_object(), *files = json_array(), *ledger = NULL;
	struct notice_ctx nc = { NULL, o->progress != NULL ? o->progress : stderr };
	char *safe = pg_url_redact(o->url);
	size_t i;
	int failed = 0, ret = -1;

	*report = NULL;
	if (sodium_init() < 0) {
		err_set(e, "libsodium failed to initialise");
		goto out;
	}
	json_object_set_new(rep, "database", json_string(safe));
	json_object_set_new(rep, "actor", json_string(o->actor));
	json_object_set_new(rep, "files", files);
	if (pg_connect(o->url, NULL, &c, e) < 0)
		goto out;
	PQsetNoticeReceiver(c, notice_receive, &nc);
	if ((r = pg_query(c, APPLY_LOCK, 0, NULL, "taking the apply lock", e)) == NULL)
		goto out;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
		err_set(e, "another opsdeck migrate apply is running on '%s': wait for it to finish",
		    safe);
		goto out;
	}
	if (ledger_load(c, &ledger, e) < 0)
		goto out;
	if (json_object_size(ledger) == 0 && pg_exec(c, LEDGER_CREATE,
	    "creating the ledger table public.opsdeck_migrations", e) < 0)
		goto out;
	for (i = 0; i < n && !failed; i++) {
		struct sql_file f = { 0 };
		struct check_walk cw = { false, false, NULL };
		struct lint_report lr;
		struct lint_options lo = { 0 };
		struct buf text = BUF_INIT;
		struct err fe = { 0 };
		const json_t *row;
		json_t *fj = json_object();
		const char *name = base_name(paths[i]), *status = "failed";
		const char *override = NULL;
		int applied;
		char sha[65] = "";

		memset(&lr, 0, sizeof(lr));
		if (o->lint != NULL)
			lo = *o->lint;
		/* apply wraps each file in a transaction, whatever the config says */
		lo.assume_in_transaction = true;
		json_array_append_new(files, fj);
		json_object_set_new(fj, "file", json_string(name));
		if (file_read(paths[i], APPLY_FILE_MAX, &text, &fe) < 0)
			goto next;
		sha256_hex(text.data != NULL ? text.data : "", text.len, sha);
		json_object_set_new(fj, "sha256", json_string(sha));
		if ((row = json_object_get(ledger, name)) != NULL) {
			if (strcmp(json_str(row, "sha256"), sha) == 0) {
				status = "skipped";
				json_object_set_new(fj, "applied_at", json_string(
				    json_str(row, "applied_at")));
				goto next;
			}
			status = "changed";
			err_set(&fe, "'%s' changed since it was applied on %s (sha256 %.12s… now %.12s…): never edit an applied migration, add a new one",
			    paths[i], json_str(row, "applied_at"),
			    json_str(row, "sha256"), sha);
			goto next;
		}
		cw.e = &fe;
		if (sql_file_each_window(paths[i], buf_str(&text), text.len, 0, &f,
		    check_stmt, &cw, &fe) < 0)
			goto next;
		if (cw.refused) {
			status = "refused";
			goto next;
		}
		if (f.n == 0)	/* comments only (Prisma's empty migration): nothing to run */
			json_object_set_new(fj, "note", json_string(
			    "no SQL statement: recorded as applied"));
		/* a file with CONCURRENTLY runs statement by statement, others in one transaction */
		if (cw.nontx)
			lo.assume_in_transaction = false;
		if (lint_text(&lo, paths[i], buf_str(&text), text.len, &lr, &fe) < 0)
			goto next;
		if (lint_report_worst(&lr) == LINT_ERROR) {
			add_findings(fj, &lr, paths[i]);
			if (o->override == NULL) {
				status = "blocked";
				err_set(&fe, "'%s' has lint errors (opsdeck migrate lint %s): fix them, or apply with --override \"reason\" to record why they are acceptable",
				    paths[i], paths[i]);
				goto next;
			}
			override = o->override;
			json_object_set_new(fj, "override_reason",
			    json_string(override));
		}
		if (o->gate != NULL && o->gate->approve != NULL &&
		    o->gate->approve(o->gate->ctx, name, sha, &fe) < 0) {
			status = "refused";
			goto next;
		}
		nc.fj = fj;
		applied = apply_file(c, o, paths[i], &text, sha, override, fj,
		    &fe);
		nc.fj = NULL;
		if (applied < 0)
			goto next;
		json_object_set_new(fj, "statements", json_integer((json_int_t)f.n));
		status = "applied";
next:
		json_object_set_new(fj, "status", json_string(status));
		if (strcmp(status, "applied") != 0 && strcmp(status, "skipped") != 0) {
			json_object_set_new(fj, "error", json_string(fe.msg));
			failed = 1;
		}
		if (o->progress != NULL) {
			json_t *one = json_object();

			json_object_set_new(one, "files", json_pack("[O]", fj));
			apply_print(one, o->progress);
			json_decref(one);
		}
		lint_report_release(&lr);
		sql_file_release(&f);
		buf_release(&text);
	}
	json_object_set_new(rep, "ok", json_boolean(!failed));
	ret = failed ? 1 : 0;
out:
	PQclear(r);
	if (c != NULL)
		PQfinish(c);
	json_decref(ledger);
	free(safe);
	if (ret >= 0)
		*report = rep;
	else
		json_decref(rep);
	return ret;
}

void
apply_print(const json_t *rep, FILE *out)
{
	const json_t *fj, *le, *x;
	size_t i, j;

	le = NULL;
	json_array_foreach(json_object_get(rep, "files"), i, fj) {
		const char *st = json_str(fj, "status");

		fprintf(out, "%-8s %s", st, json_str(fj, "file"));
		if (strcmp(st, "applied") == 0)
			fprintf(out, " (%lld ms)", json_int(fj, "duration_ms", 0));
		else if (strcmp(st, "skipped") == 0)
			fprintf(out, " (applied %s)", json_str(fj, "applied_at"));
		if (json_str(fj, "override_reason") != NULL)
			fprintf(out, " [lint errors overridden: %s]",
			    json_str(fj, "override_reason"));
		fputc('\n', out);
		if (json_str(fj, "note") != NULL)
			fprintf(out, "         %s\n", json_str(fj, "note"));
		json_array_foreach(json_object_get(fj, "notices"), j, x)
			fprintf(out, "  %s (%s): %s\n", json_str(x, "severity"),
			    json_str(fj, "file"), json_str(x, "message"));
		if (json_str(fj, "error") != NULL)
			fprintf(out, "         %s\n", json_str(fj, "error"));
		le = json_object_get(fj, "lint_errors");
		json_array_foreach(le, j, x)
			fprintf(out, "         %s: %s: %s\n", json_str(x, "where"),
			    json_str(x, "rule"), json_str(x, "message"));
	}
}

int
apply_status(const char *url, const char *path, char *const *paths, size_t n,
    json_t **report, struct err *e)
{
	struct stat st;
	PGconn *c = NULL;
	json_t *rep = json_object(), *files = json_array(), *ledger = NULL;
	json_t *seen = json_object();
	char *safe = pg_url_redact(url);
	const char *key;
	json_t *row;
	size_t i;
	int changed = 0, ret = -1;

	*report = NULL;
	json_object_set_new(rep, "database", json_string(safe));
	json_object_set_new(rep, "files", files);
	if (pg_connect(url, NULL, &c, e) < 0 || ledger_load(c, &ledger, e) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		const char *name = base_name(paths[i]);
		json_t *fj = json_object();
		char sha[65];

		json_array_append_new(files, fj);
		json_object_set_new(fj, "file", json_string(name));
		json_object_set_new(seen, name, json_true());
		if (migrate_sha256(paths[i], sha, e) < 0)
			goto out;
		json_object_set_new(fj, "sha256", json_string(sha));
		if ((row = json_object_get(ledger, name)) == NULL) {
			json_object_set_new(fj, "status", json_string("pending"));
			continue;
		}
		json_object_set_new(fj, "applied_at",
		    json_string(json_str(row, "applied_at")));
		json_object_set_new(fj, "applied_by",
		    json_string(json_str(row, "applied_by")));
		json_object_set(fj, "override_reason",
		    json_object_get(row, "override_reason"));
		if (strcmp(json_str(row, "sha256"), sha) == 0)
			json_object_set_new(fj, "status", json_string("applied"));
		else {
			json_object_set_new(fj, "status", json_string("changed"));
			json_object_set_new(fj, "recorded_sha256",
			    json_string(json_str(row, "sha256")));
			changed++;
		}
	}
	/* listing a directory, the ledger's other rows are files that went missing */
	if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		json_object_foreach(ledger, key, row) {
			json_t *fj;

			if (json_object_get(seen, key) != NULL)
				continue;
			fj = json_object();
			json_object_set_new(fj, "file", json_string(key));
			json_object_set_new(fj, "status", json_string("missing"));
			json_object_set_new(fj, "applied_at",
			    json_string(json_str(row, "applied_at")));
			json_object_set_new(fj, "applied_by",
			    json_string(json_str(row, "applied_by")));
			json_array_append_new(files, fj);
		}
	}
	ret = changed > 0 ? 1 : 0;
out:
	if (c != NULL)
		PQfinish(c);
	json_decref(ledger);
	json_decref(seen);
	free(safe);
	if (ret >= 0)
		*report = rep;
	else
		json_decref(rep);
	return ret;
}

void
apply_status_print(const json_t *rep, FILE *out)
{
	const json_t *fj;
	size_t i;

	json_array_foreach(json_object_get(rep, "files"), i, fj) {
		const char *st = json_str(fj, "status");

		fprintf(out, "%-8s %s", st, json_str(fj, "file"));
		if (json_str(fj, "applied_at") != NULL)
			fprintf(out, "  %s by %s", json_str(fj, "applied_at"),
			    json_str(fj, "applied_by"));
		if (strcmp(st, "changed") == 0)
			fprintf(out, "  (sha256 now %.12s…, recorded %.12s…)",
			    json_str(fj, "sha256"), json_str(fj, "recorded_sha256"));
		else if (strcmp(st, "missing") == 0)
			fprintf(out, "  (recorded, but no such file here)");
		fputc('\n', out);
	}
}
