#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "migrate/dryrun.h"
#include "migrate/locks.h"
#include "migrate/pg.h"

/*
 * Relations that existed before the file ran (oid >= FirstNormalObjectId: catalogs
 * are left out, and with them the AccessShare locks of our own pg_locks/pg_class
 * queries). Locks on relations the file itself created are not reported: no other
 * session can see those yet, so nobody can wait on them.
 */
#define SNAP_SQL \
	"SELECT oid::int8, relfilenode::int8, relkind, oid::regclass::text " \
	"FROM pg_class WHERE oid >= 16384 AND relkind IN ('r', 'm', 'i') " \
	"ORDER BY 1"
/* both in ms, the unit pg_settings reports them in */
#define TIMEOUTS_SQL \
	"SELECT name, setting::int8 FROM pg_settings " \
	"WHERE name IN ('lock_timeout', 'statement_timeout') ORDER BY 1"
/* nextval is not transactional: what advanced is left advanced by the rollback */
#define SEQS_SQL \
	"SELECT c.oid::int8, c.oid::regclass::text, s.last_value::text " \
	"FROM pg_sequences s JOIN pg_namespace n ON n.nspname = s.schemaname " \
	"JOIN pg_class c ON c.relnamespace = n.oid AND c.relname = s.sequencename " \
	"ORDER BY 1"
#define LOCKS_SQL \
	"SELECT l.relation::int8, l.mode, l.relation::regclass::text " \
	"FROM pg_locks l WHERE l.pid = $1::int AND l.locktype = 'relation' " \
	"AND l.granted AND l.relation >= 16384 ORDER BY 1, 2"

struct rel {
	long long	 oid, node;
	char		 kind;
	char		*name;
};

struct snap {
	struct rel	*v;
	size_t		 n;
};

struct held {
	long long	 oid;
	char		*mode;	/* pg_locks' name, "AccessExclusiveLock" */
	char		*name;
};

struct lockset {
	struct held	*v;
	size_t		 n, cap;
};

struct dr {
	const struct dryrun_options *o;
	PGconn		*c;		/* runs the statements */
	PGconn		*watch;		/* samples pg_locks (copy mode) */
	struct snap	 base;		/* relations before the first statement */
	struct lockset	 held;		/* locks held by the open transaction */
	struct err	*e;
};

/*
 * SIGINT/SIGTERM while a statement runs: the handler cancels it (PQcancel on a
 * PGcancel made beforehand is async-signal-safe) and dryrun_run cleans up
 * through its normal path: ROLLBACK, or DROP DATABASE of the copy.
 */
static volatile sig_atomic_t dr_signal;
static PGcancel *volatile dr_cancel;

static void
dr_on_signal(int sig)
{
	char errbuf[256];
	PGcancel *c = dr_cancel;

	dr_signal = sig;
	if (c != NULL)
		(void)PQcancel(c, errbuf, sizeof(errbuf));
}

/* Makes the handler cancel what runs on c (NULL: nothing). */
static void
dr_cancel_on(PGconn *c)
{
	PGcancel *old = dr_cancel;

	dr_cancel = c != NULL ? PQgetCancel(c) : NULL;
	if (old != NULL)
		PQfreeCancel(old);
}

static const struct {
	const char	*pg;
	enum lock_mode	 mode;
} pg_modes[] = {
	{ "AccessShareLock", LOCK_ACCESS_SHARE },
	{ "RowShareLock", LOCK_ROW_SHARE },
	{ "RowExclusiveLock", LOCK_ROW_EXCLUSIVE },
	{ "ShareUpdateExclusiveLock", LOCK_SHARE_UPDATE_EXCLUSIVE },
	{ "ShareLock", LOCK_SHARE },
	{ "ShareRowExclusiveLock", LOCK_SHARE_ROW_EXCLUSIVE },
	{ "ExclusiveLock", LOCK_EXCLUSIVE },
	{ "AccessExclusiveLock", LOCK_ACCESS_EXCLUSIVE },
};

static enum lock_mode
mode_of(const char *pg)
{
	size_t i;

	for (i = 0; i < sizeof(pg_modes) / sizeof(pg_modes[0]); i++)
		if (strcmp(pg_modes[i].pg, pg) == 0)
			return pg_modes[i].mode;
	return LOCK_NONE;
}

static const char *
relkind_str(char k)
{
	return k == 'i' ? "index" : k == 'm' ? "materialized view" : "table";
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1000.0 + (double)ts.tv_nsec / 1e6;
}

static void
snap_release(struct snap *s)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		free(s->v[i].name);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static int
snap_take(PGconn *c, struct snap *s, struct err *e)
{
	PGresult *r;
	int i;

	if ((r = pg_query(c, SNAP_SQL, 0, NULL, "reading pg_class", e)) == NULL)
		return -1;
	s->n = (size_t)PQntuples(r);
	s->v = xcalloc(s->n + 1, sizeof(*s->v));
	for (i = 0; i < PQntuples(r); i++) {
		s->v[i].oid = strtoll(PQgetvalue(r, i, 0), NULL, 10);
		s->v[i].node = strtoll(PQgetvalue(r, i, 1), NULL, 10);
		s->v[i].kind = PQgetvalue(r, i, 2)[0];
		s->v[i].name = xstrdup(PQgetvalue(r, i, 3));
	}
	PQclear(r);
	return 0;
}

static const struct rel *
snap_find(const struct snap *s, long long oid)
{
	size_t lo = 0, hi = s->n;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (s->v[mid].oid == oid)
			return &s->v[mid];
		if (s->v[mid].oid < oid)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}

static void
lockset_release(struct lockset *l)
{
	size_t i;

	for (i = 0; i < l->n; i++) {
		free(l->v[i].mode);
		free(l->v[i].name);
	}
	free(l->v);
	memset(l, 0, sizeof(*l));
}

static int
lockset_has(const struct lockset *l, long long oid, const char *mode)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (l->v[i].oid == oid && strcmp(l->v[i].mode, mode) == 0)
			return 1;
	return 0;
}

static void
lockset_add(struct lockset *l, long long oid, const char *mode,
    const char *name)
{
	if (lockset_has(l, oid, mode))
		return;
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 16 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].oid = oid;
	l->v[l->n].mode = xstrdup(mode);
	l->v[l->n].name = xstrdup(name);
	l->n++;
}

/* Adds the relation locks backend pid holds now to l. */
static int
locks_sample(PGconn *c, int pid, struct lockset *l, struct err *e)
{
	char pidbuf[16];
	const char *params[1] = { pidbuf };
	PGresult *r;
	int i;

	snprintf(pidbuf, sizeof(pidbuf), "%d", pid);
	if ((r = pg_query(c, LOCKS_SQL, 1, params, "reading pg_locks", e)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(r); i++)
		lockset_add(l, strtoll(PQgetvalue(r, i, 0), NULL, 10),
		    PQgetvalue(r, i, 1), PQgetvalue(r, i, 2));
	PQclear(r);
	return 0;
}

/* Runs sql in autocommit while a second session samples its locks into l. */
static PGresult *
exec_sampled(struct dr *d, const char *sql, struct lockset *l)
{
	PGresult *r, *last = NULL;
	int pid = PQbackendPID(d->c);
	struct pollfd p;

	if (!PQsendQuery(d->c, sql))
		return NULL;
	for (;;) {
		if (!PQconsumeInput(d->c))
			break;
		if (!PQisBusy(d->c))
			break;
		if (locks_sample(d->watch, pid, l, d->e) < 0)
			break;
		p.fd = PQsocket(d->c);
		p.events = POLLIN;
		p.revents = 0;
		poll(&p, 1, 2);
	}
	while ((r = PQgetResult(d->c)) != NULL) {
		PQclear(last);
		last = r;
	}
	return last;
}

static char *
command_kind(PGresult *r)
{
	char *k = xstrdup(PQcmdStatus(r));
	size_t n = strlen(k);

	/* "INSERT 0 5" → "INSERT" */
	while (n > 0 && (k[n - 1] == ' ' || (k[n - 1] >= '0' && k[n - 1] <= '9')))
		k[--n] = '\0';
	return k;
}

/* Runs one statement and fills s with what it did; 1 when it failed. */
static int
run_stmt(struct dr *d, const struct sql_stmt *st, const char *nontx,
    json_t *s)
{
	struct snap before = { NULL, 0 }, after = { NULL, 0 };
	struct lockset seen = { NULL, 0, 0 };
	json_t *locks = json_array(), *rewrites = json_array();
	PGresult *r = NULL;
	struct err se;
	double t0;
	size_t i;
	int ret = -1;

	json_object_set_new(s, "locks", locks);
	json_object_set_new(s, "rewrites", rewrites);
	if (snap_take(d->c, &before, d->e) < 0)
		goto out;
	t0 = now_ms();
	if (nontx != NULL)
		r = exec_sampled(d, st->text, &seen);
	else
		r = PQexec(d->c, st->text);
	json_object_set_new(s, "duration_ms",
	    json_real((double)(long long)((now_ms() - t0) * 100.0) / 100.0));
	if (r == NULL || (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK)) {
		pg_result_err(r, d->c, "statement failed", &se);
		json_object_set_new(s, "status", json_string("error"));
		json_object_set_new(s, "error", json_string(se.msg));
		ret = 1;
		goto out;
	}
	if (nontx == NULL) {
		/* the parse tree names it as lint does; the command tag says SELECT for CREATE TABLE AS */
		if (strcmp(json_str(s, "kind"), "?") == 0) {
			char *k = command_kind(r);

			json_object_set_new(s, "kind", json_string(k));
			free(k);
		}
		if (locks_sample(d->c, PQbackendPID(d->c), &seen, d->e) < 0)
			goto out;
	}
	for (i = 0; i < seen.n; i++) {
		const struct held *h = &seen.v[i];
		const struct rel *b = snap_find(&d->base, h->oid);
		enum lock_mode m = mode_of(h->mode);
		json_t *o;

		if (lockset_has(&d->held, h->oid, h->mode) || b == NULL)
			continue;
		if (nontx == NULL)
			lockset_add(&d->held, h->oid, h->mode, h->name);
		o = json_object();
		/*
		 * The name from before the file ran: once the statement drops or
		 * replaces the relation, pg_locks' oid::regclass is only a number.
		 */
		json_object_set_new(o, "relation", json_string(b->name));
		json_object_set_new(o, "mode", json_string(m != LOCK_NONE ?
		    lock_mode_str(m) : h->mode));
		json_object_set_new(o, "blocks", json_string(m != LOCK_NONE ?
		    lock_mode_blocks(m) : ""));
		json_array_append_new(locks, o);
	}
	if (nontx != NULL && json_array_size(locks) == 0)
		json_object_set_new(s, "note", json_string("locks are sampled from a second session while the statement runs: it finished before a sample saw one"));
	if (snap_take(d->c, &after, d->e) < 0)
		goto out;
	for (i = 0; i < after.n; i++) {
		const struct rel *b = snap_find(&before, after.v[i].oid);
		json_t *o;

		if (b == NULL || b->node == after.v[i].node ||
		    snap_find(&d->base, after.v[i].oid) == NULL)
			continue;
		o = json_object();
		json_object_set_new(o, "relation", json_string(after.v[i].name));
		json_object_set_new(o, "kind",
		    json_string(relkind_str(after.v[i].kind)));
		json_array_append_new(rewrites, o);
	}
	json_object_set_new(s, "status", json_string("ok"));
	ret = 0;
out:
	PQclear(r);
	snap_release(&before);
	snap_release(&after);
	lockset_release(&seen);
	return ret;
}

/* SET [LOCAL] lock_timeout and statement_timeout on d->c. */
static int
set_timeouts(struct dr *d, const char *scope)
{
	char *sql;
	int r;

	sql = xasprintf("SET %slock_timeout = '%lldms'", scope,
	    (long long)d->o->lock_timeout_ms);
	r = pg_exec(d->c, sql, "setting lock_timeout", d->e);
	free(sql);
	if (r < 0)
		return -1;
	sql = xasprintf("SET %sstatement_timeout = '%lldms'", scope,
	    (long long)d->o->statement_timeout_ms);
	r = pg_exec(d->c, sql, "setting statement_timeout", d->e);
	free(sql);
	return r;
}

/*
 * After a statement of the file: a lock_timeout or statement_timeout it turned off
 * or raised above the dry run's is set back (a stricter one stays, as the file
 * means it), and s says so. scope is "LOCAL " in the rolled-back transaction, ""
 * on the copy, where it must outlast a COMMIT.
 */
static int
timeouts_keep(struct dr *d, const char *scope, json_t *s, json_t *rep)
{
	PGresult *r;
	struct buf note = BUF_INIT;
	int i, ret = -1;

	if ((r = pg_query(d->c, TIMEOUTS_SQL, 0, NULL, "reading the timeouts",
	    d->e)) == NULL)
		return -1;
	for (i = 0; i < PQntuples(r); i++) {
		const char *name = PQgetvalue(r, i, 0);
		long long v = strtoll(PQgetvalue(r, i, 1), NULL, 10);
		long long want = strcmp(name, "lock_timeout") == 0 ?
		    (long long)d->o->lock_timeout_ms :
		    (long long)d->o->statement_timeout_ms;
		char was[32], keep[32], *sql;
		int x;

		if (v > 0 && v <= want)
			continue;
		sql = xasprintf("SET %s%s = '%lldms'", scope, name, want);
		x = pg_exec(d->c, sql, "keeping the dry run's timeout", d->e);
		free(sql);
		if (x < 0)
			goto out;
		duration_format(want, keep);
		if (v > 0)
			duration_format(v, was);
		else
			snprintf(was, sizeof(was), "0 (none)");
		buf_printf(&note, "%sthe file's %s %s is overridden: the dry run keeps --%s %s",
		    note.len > 0 ? "; " : "", name, was,
		    strcmp(name, "lock_timeout") == 0 ? "lock-timeout" :
		    "statement-timeout", keep);
	}
	if (note.len > 0) {
		json_object_set_new(s, "timeout_override", json_string(buf_str(&note)));
		json_object_set_new(rep, "timeouts_overridden", json_true());
	}
	ret = 0;
out:
	PQclear(r);
	buf_release(&note);
	return ret;
}

/* The sequences that exist now and their last_value, as [oid, name, value]. */
static json_t *
seqs_take(PGconn *c, struct err *e)
{
	PGresult *r;
	json_t *a;
	int i;

	if ((r = pg_query(c, SEQS_SQL, 0, NULL, "reading pg_sequences", e)) == NULL)
		return NULL;
	a = json_array();
	for (i = 0; i < PQntuples(r); i++)
		json_array_append_new(a, json_pack("{s:I, s:s, s:s?}", "oid",
		    (json_int_t)strtoll(PQgetvalue(r, i, 0), NULL, 10), "sequence",
		    PQgetvalue(r, i, 1), "value", PQgetisnull(r, i, 2) ? NULL :
		    PQgetvalue(r, i, 2)));
	PQclear(r);
	return a;
}

/* The sequences of before whose last_value is not what it was, with both values. */
static json_t *
seqs_advanced(const json_t *before, const json_t *after)
{
	const json_t *b, *a;
	json_t *out = json_array();
	size_t i, j;

	json_array_foreach(before, i, b) {
		json_array_foreach(after, j, a) {
			const char *bv = json_str(b, "value"), *av = json_str(a, "value");

			if (json_int(a, "oid", 0) != json_int(b, "oid", 0))
				continue;
			if (av != NULL && (bv == NULL || strcmp(av, bv) != 0))
				json_array_append_new(out, json_pack("{s:s, s:s?, s:s}",
				    "sequence", json_str(b, "sequence"), "from", bv,
				    "to", av));
			break;
		}
	}
	return out;
}

static int
begin_tx(struct dr *d)
{
	lockset_release(&d->held);
	if (pg_exec(d->c, "BEGIN", "starting the dry-run transaction", d->e) < 0)
		return -1;
	return set_timeouts(d, "LOCAL ");
}

static json_t *
stmt_json(const struct sql_stmt *st, const char *kind)
{
	json_t *s = json_object();

	json_object_set_new(s, "line", json_integer(st->line));
	json_object_set_new(s, "col", json_integer(st->col));
	json_object_set_new(s, "kind", json_string(kind != NULL ? kind : "?"));
	return s;
}

static void
skip(json_t *s, const char *status, const char *note)
{
	json_object_set_new(s, "status", json_string(status));
	json_object_set_new(s, "note", json_string(note));
}

/* Makes the temporary copy and connects d->c and d->watch to it. */
static int
copy_open(struct dr *d, PGconn **maint, char **copyname, json_t *rep)
{
	struct buf sql = BUF_INIT;
	char *db = NULL;
	PGresult *r;
	int ret = -1;

	if ((r = pg_query(d->c, "SELECT current_database()", 0, NULL,
	    "reading the database name", d->e)) == NULL)
		goto out;
	db = xstrdup(PQgetvalue(r, 0, 0));
	PQclear(r);
	PQfinish(d->c);
	d->c = NULL;
	/* CREATE DATABASE … TEMPLATE needs no session on the source, ours included */
	if (pg_connect(d->o->url, strcmp(db, "postgres") == 0 ? "template1" :
	    "postgres", maint, d->e) < 0)
		goto out;
	*copyname = xasprintf("opsdeck_dryrun_%ld", (long)getpid());
	buf_addstr(&sql, "CREATE DATABASE ");
	sql_quote_ident_always(&sql, *copyname);
	buf_addstr(&sql, " TEMPLATE ");
	sql_quote_ident_always(&sql, db);
	dr_cancel_on(*maint);
	r = PQexec(*maint, buf_str(&sql));
	dr_cancel_on(NULL);
	if (PQresultStatus(r) != PGRES_COMMAND_OK) {
		struct err ce;

		pg_result_err(r, *maint, "cannot copy the database", &ce);
		PQclear(r);
		free(*copyname);
		*copyname = NULL;
		err_set(d->e, "%s; --allow-nontransactional runs the file on a copy made with CREATE DATABASE … TEMPLATE '%s', which needs the CREATEDB privilege and no other session on '%s': run it against a staging database",
		    ce.msg, db, db);
		goto out;
	}
	PQclear(r);
	json_object_set_new(rep, "copy", json_string(*copyname));
	if (pg_connect(d->o->url, *copyname, &d->c, d->e) < 0 ||
	    pg_connect(d->o->url, *copyname, &d->watch, d->e) < 0)
		goto out;
	dr_cancel_on(d->c);
	/* statements that cannot run in a transaction get them for the session */
	if (set_timeouts(d, "") < 0)
		goto out;
	ret = 0;
out:
	free(db);
	buf_release(&sql);
	return ret;
}

/*
 * Drops the temporary copy; -1 when it could not, after a warning on stderr naming
 * the database to drop by hand (the dry run's own result stands either way).
 */
static int
copy_drop(PGconn *maint, const char *copyname)
{
	struct buf sql = BUF_INIT, q = BUF_INIT;
	struct err de;
	int ret;

	sql_quote_ident_always(&q, copyname);
	buf_printf(&sql, "DROP DATABASE IF EXISTS %s WITH (FORCE)", buf_str(&q));
	ret = pg_exec(maint, buf_str(&sql), "dropping the temporary copy", &de);
	if (ret < 0)
		fprintf(stderr, "opsdeck migrate dryrun: warning: %s: the temporary "
		    "database '%s' is left behind: drop it by hand (DROP DATABASE "
		    "%s)\n", de.msg, copyname, buf_str(&q));
	buf_release(&q);
	buf_release(&sql);
	return ret;
}

static const char *
signal_str(int sig)
{
	return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

/*
 * The file is walked twice, statement by statement, so that no parse tree is kept:
 * first for what must be known before anything runs (a syntax error, statements
 * that cannot run in a transaction), then to run each statement.
 */
struct dr_facts {
	size_t		 nontx;		/* statements that cannot run in a transaction */
	struct err	*e;
	bool		 failed;	/* a syntax error, in e */
};

static int
facts_stmt(const struct sql_file *f, const struct sql_stmt *st, void *arg)
{
	struct dr_facts *x = arg;

	if (st->error != NULL) {
		err_set(x->e, "%s:%d:%d: %s: fix the syntax first (opsdeck migrate lint %s lists every error)",
		    f->path, st->error_line, st->error_col, st->error, f->path);
		x->failed = true;
		return -1;
	}
	if (pg_stmt_nontransactional(st) != NULL)
		x->nontx++;
	return 0;
}

struct dr_walk {
	struct dr	*d;
	json_t		*rep, *stmts;
	size_t		 not_run;
	int		 copy, in_tx, failed;
	bool		 broken;	/* could not go on: d->e says why */
};

static int
run_each(const struct sql_file *f, const struct sql_stmt *st, void *arg)
{
	struct dr_walk *w = arg;
	struct dr *d = w->d;
	const char *nt = pg_stmt_nontransactional(st);
	const char *type = sql_stmt_type(st);
	json_t *s = stmt_json(st, nt != NULL ? nt : sql_stmt_words(type,
	    type != NULL ? json_object_get(st->tree, type) : NULL));
	int r;

	(void)f;
	json_array_append_new(w->stmts, s);
	if (dr_signal != 0) {
		skip(s, "not-run", "interrupted before it ran");
		return 0;
	}
	if (w->failed) {
		skip(s, "not-run", "an earlier statement failed");
		return 0;
	}
	if (pg_stmt_txn_control(st) != 0) {
		skip(s, "skipped", "transaction control: the dry run runs the file in its own transaction");
		return 0;
	}
	if (nt != NULL && !w->copy) {
		skip(s, "not-run", "cannot run inside a transaction block: --allow-nontransactional runs the file on a temporary copy of the database");
		w->not_run++;
		return 0;
	}
	if (w->copy && nt != NULL && w->in_tx) {
		if (pg_exec(d->c, "COMMIT", "committing on the copy", d->e) < 0)
			goto broken;
		w->in_tx = 0;
	} else if (w->copy && nt == NULL && !w->in_tx) {
		if (begin_tx(d) < 0)
			goto broken;
		w->in_tx = 1;
	}
	if ((r = run_stmt(d, st, nt, s)) < 0)
		goto broken;
	if (dr_signal != 0) {
		/* its error is the cancel's: say what happened instead */
		json_object_del(s, "error");
		skip(s, "interrupted", r == 1 ? "cancelled by the interrupt" :
		    "ran to its end; the interrupt stopped the dry run after it");
		w->failed = 1;
		return 0;
	}
	if (r == 1)
		w->failed = 1;
	else if (timeouts_keep(d, w->copy ? "" : "LOCAL ", s, w->rep) < 0)
		goto broken;
	return 0;
broken:
	w->broken = true;
	return -1;
}

int
dryrun_run(const struct dryrun_options *o, const char *path, const char *text,
    size_t len, json_t **report, struct err *e)
{
	struct dr d;
	struct dr_facts facts = { 0, e, false };
	struct dr_walk w;
	struct sql_file f = { 0 };
	PGconn *maint = NULL;
	char *copyname = NULL, *safe = pg_url_redact(o->url);
	json_t *rep = json_object(), *stmts = json_array(), *seqs = NULL;
	struct sigaction sa, old_int, old_term;
	bool handlers = false;
	int copy, ret = -1;

	json_object_set_new(rep, "statements", stmts);
	memset(&d, 0, sizeof(d));
	d.o = o;
	d.e = e;
	memset(&w, 0, sizeof(w));
	w.d = &d;
	w.rep = rep;
	w.stmts = stmts;
	*report = NULL;
	dr_signal = 0;
	/* as reading the file did before: a signal while it is read ends the process */
	if (sql_file_each_window(path, text, len, 0, &f, facts_stmt, &facts,
	    e) < 0 || facts.failed)
		goto out;
	if (f.n == 0) {
		err_set(e, "%s: no SQL statements in the file", path);
		goto out;
	}
	sql_file_release(&f);
	/* the daemon's libuv owns its signals: its dry runs install nothing */
	if (!o->keep_signals) {
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = dr_on_signal;
		sigemptyset(&sa.sa_mask);
		sigaction(SIGINT, &sa, &old_int);
		sigaction(SIGTERM, &sa, &old_term);
		handlers = true;
		/* started with SIGINT ignored (a background job): leave it so */
		if (old_int.sa_handler == SIG_IGN)
			sigaction(SIGINT, &old_int, NULL);
	}
	copy = o->allow_nontransactional && facts.nontx > 0;
	w.copy = copy;
	json_object_set_new(rep, "file", json_string(path));
	json_object_set_new(rep, "database", json_string(safe));
	json_object_set_new(rep, "mode", json_string(copy ? "copy" : "transaction"));
	json_object_set_new(rep, "lock_timeout_ms",
	    json_integer((json_int_t)o->lock_timeout_ms));
	json_object_set_new(rep, "statement_timeout_ms",
	    json_integer((json_int_t)o->statement_timeout_ms));
	if (pg_connect(o->url, NULL, &d.c, e) < 0)
		goto out;
	if (copy) {
		if (copy_open(&d, &maint, &copyname, rep) < 0)
			goto out;
	} else {
		dr_cancel_on(d.c);
		if ((seqs = seqs_take(d.c, e)) == NULL)
			goto out;
		if (begin_tx(&d) < 0)
			goto out;
		w.in_tx = 1;
	}
	if (snap_take(d.c, &d.base, e) < 0)
		goto out;
	if (sql_file_each_window(path, text, len, 0, &f, run_each, &w, e) < 0 ||
	    w.broken)
		goto out;
	if (w.in_tx && pg_exec(d.c, "ROLLBACK", "rolling back", e) < 0)
		goto out;
	w.in_tx = 0;
	if (seqs != NULL) {
		json_t *now = seqs_take(d.c, e);

		if (now == NULL)
			goto out;
		json_object_set_new(rep, "sequences_advanced",
		    seqs_advanced(seqs, now));
		json_decref(now);
	}
	json_object_set_new(rep, "ok", json_boolean(!w.failed));
	json_object_set_new(rep, "not_run", json_integer((json_int_t)w.not_run));
	json_object_set_new(rep, "rolled_back", json_true());
	ret = w.failed ? 1 : 0;
out:
	if (d.c != NULL && w.in_tx)
		PQclear(PQexec(d.c, "ROLLBACK"));
	dr_cancel_on(NULL);
	if (d.c != NULL)
		PQfinish(d.c);
	if (d.watch != NULL)
		PQfinish(d.watch);
	if (maint != NULL && copyname != NULL)
		json_object_set_new(rep, "copy_dropped",
		    json_boolean(copy_drop(maint, copyname) == 0));
	if (maint != NULL)
		PQfinish(maint);
	if (handlers) {
		sigaction(SIGINT, &old_int, NULL);
		sigaction(SIGTERM, &old_term, NULL);
	}
	if (dr_signal != 0) {
		json_object_set_new(rep, "interrupted",
		    json_string(signal_str(dr_signal)));
		json_object_set_new(rep, "signal", json_integer(dr_signal));
		json_object_set_new(rep, "ok", json_false());
		ret = DRYRUN_INTERRUPTED;
	}
	json_decref(seqs);
	snap_release(&d.base);
	lockset_release(&d.held);
	sql_file_release(&f);
	free(copyname);
	free(safe);
	if (ret >= 0)
		*report = rep;
	else
		json_decref(rep);
	return ret;
}

void
dryrun_print(const json_t *rep, FILE *out)
{
	const json_t *stmts = json_object_get(rep, "statements"), *s;
	const char *mode = json_str(rep, "mode");
	bool copy = mode != NULL && strcmp(mode, "copy") == 0;
	char lock_timeout[32], statement_timeout[32];
	size_t i, j;

	duration_format(json_int(rep, "lock_timeout_ms", 0), lock_timeout);
	duration_format(json_int(rep, "statement_timeout_ms", 0),
	    statement_timeout);
	fprintf(out, "dry run of %s on %s", json_str(rep, "file"),
	    json_str(rep, "database"));
	if (copy)
		fprintf(out, " (on temporary copy '%s'%s)", json_str(rep, "copy"),
		    json_bool(rep, "copy_dropped") ? ", dropped afterwards" : "");
	else
		fprintf(out, " (one transaction, rolled back)");
	fprintf(out, ", lock_timeout %s, statement_timeout %s\n", lock_timeout,
	    statement_timeout);
	if (copy)
		fprintf(out, "locks listed are those each statement newly took; a statement that cannot run in a transaction holds its locks while it runs, the others hold theirs until the next such statement or the end of the file\n");
	else
		fprintf(out, "locks listed are those each statement newly took; all are held until the end of the transaction\n");
	json_array_foreach(stmts, i, s) {
		const json_t *locks = json_object_get(s, "locks");
		const json_t *rw = json_object_get(s, "rewrites"), *x;
		const char *st = json_str(s, "status");

		fprintf(out, "%4lld:%-3lld %s", json_int(s, "line", 0),
		    json_int(s, "col", 0), json_str(s, "kind"));
		if (json_object_get(s, "duration_ms") != NULL)
			fprintf(out, "  %.2f ms", json_real_value(
			    json_object_get(s, "duration_ms")));
		if (st != NULL && strcmp(st, "ok") != 0)
			fprintf(out, "  [%s]", st);
		fputc('\n', out);
		if (json_str(s, "note") != NULL)
			fprintf(out, "           %s\n", json_str(s, "note"));
		if (json_str(s, "error") != NULL)
			fprintf(out, "           error: %s\n", json_str(s, "error"));
		if (json_str(s, "timeout_override") != NULL)
			fprintf(out, "           %s\n", json_str(s, "timeout_override"));
		json_array_foreach(locks, j, x)
			fprintf(out, "           lock %s on %s (blocks %s)\n",
			    json_str(x, "mode"), json_str(x, "relation"),
			    json_str(x, "blocks"));
		json_array_foreach(rw, j, x)
			fprintf(out, "           rewrite of %s %s\n",
			    json_str(x, "kind"), json_str(x, "relation"));
	}
	if (json_int(rep, "not_run", 0) > 0)
		fprintf(out, "warning: %lld statement%s not run: %s cannot run inside a transaction block; run again with --allow-nontransactional to try %s on a temporary copy of the database\n",
		    json_int(rep, "not_run", 0), json_int(rep, "not_run", 0) == 1 ?
		    " was" : "s were", json_int(rep, "not_run", 0) == 1 ? "it" :
		    "they", json_int(rep, "not_run", 0) == 1 ? "it" : "them");
	if (json_str(rep, "interrupted") != NULL) {
		if (copy && !json_bool(rep, "copy_dropped"))
			fprintf(out, "interrupted by %s: the temporary copy '%s' is left behind: drop it by hand\n",
			    json_str(rep, "interrupted"), json_str(rep, "copy"));
		else
			fprintf(out, "interrupted by %s: %s\n",
			    json_str(rep, "interrupted"), copy ?
			    "the temporary copy was dropped" :
			    "the statement was cancelled and the transaction rolled back");
		return;
	}
	if (copy && !json_bool(rep, "copy_dropped"))
		fprintf(out, "the database was not changed, but the temporary copy '%s' "
		    "is left behind: drop it by hand\n", json_str(rep, "copy"));
	else if (copy)
		fprintf(out, "the temporary copy was dropped: the database was not changed\n");
	else if (json_array_size(json_object_get(rep, "sequences_advanced")) > 0) {
		const json_t *x;

		fprintf(out, "rolled back: the database was not changed, except that sequences are not rolled back (nextval is not transactional):");
		json_array_foreach(json_object_get(rep, "sequences_advanced"), j, x)
			fprintf(out, "%s %s %s -> %s", j > 0 ? "," : "",
			    json_str(x, "sequence"), json_str(x, "from") != NULL ?
			    json_str(x, "from") : "unused", json_str(x, "to"));
		fputc('\n', out);
	} else
		fprintf(out, "rolled back: the database was not changed\n");
}
