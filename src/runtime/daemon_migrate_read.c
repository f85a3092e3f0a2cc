/*
 * migrate lint, dryrun and status for MCP: a dry run or status holds a PostgreSQL
 * connection for as long as the database takes, and a lint of a large tree parses
 * for a while, so each runs on libuv's thread pool and the agent reads the result by
 * id (the migrate_result tool). One at a time: the thread pool is the applies' and
 * gc's too, and a dry run keeps its cancel handle in the module's globals.
 *
 * Only .sql files are read (a path that is a file must end in .sql; a directory's
 * *.sql files); what an MCP caller may run them as is decided by the tools (role
 * agent and above). A dry run's SQL runs in a transaction that is rolled back; the
 * MCP call that starts one is evidence (mcp.call), with the database's host only.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "migrate/db.h"
#include "migrate/files.h"
#include "migrate/lint.h"
#include "migrate/report.h"
#include "migrate/sql.h"
#include "runtime/daemon_int.h"

#define READS_KEPT	16	/* finished reads kept for their results */

enum read_kind { READ_LINT, READ_DRYRUN, READ_STATUS };
static const char *const read_kinds[] = { "lint", "dryrun", "status" };

struct migrate_read {
	uv_work_t		 work;
	struct daemon		*d;
	const struct migrate_db	*db;
	unsigned		 id;
	enum read_kind		 kind;
	char			*path, *url, *target;
	/* lint: the config's options, copied (a reload may free the config) */
	struct lint_options	 lo;
	char			*exclude, *include;
	enum lint_severity	 fail_on;
	int64_t			 started_at, ended_at;
	/* the worker's, read by the loop once the work has ended */
	bool			 done;
	int			 rc;
	json_t			*report;
	struct err		 err;
	struct migrate_read	*next;
};

static void
read_free(struct migrate_read *r)
{
	json_decref(r->report);
	free(r->path);
	free(r->url);
	free(r->target);
	free(r->exclude);
	free(r->include);
	free(r);
}

/* On the thread pool: nothing here touches the store or the loop. */
static void
read_work(uv_work_t *w)
{
	struct migrate_read *r = w->data;
	struct dryrun_options o = {
		.url = r->url, .lock_timeout_ms = 2000,
		.statement_timeout_ms = 60000, .keep_signals = true,
	};
	struct sql_files files = SQL_FILES_INIT;
	struct buf text = BUF_INIT;
	char *sink = NULL;
	size_t sinklen = 0;
	FILE *out;
	int worst = -1;

	r->rc = -1;
	switch (r->kind) {
	case READ_DRYRUN:
		if (sql_file_read(r->path, &text, &r->err) == 0)
			r->rc = r->db->dryrun_run(&o, r->path, buf_str(&text),
			    text.len, &r->report, &r->err);
		break;
	case READ_STATUS:
		if (sql_files_add(&files, r->path, SQL_FILES_MIGRATIONS,
		    &r->err) == 0)
			r->rc = r->db->apply_status(r->url, r->path, files.v,
			    files.n, &r->report, &r->err);
		break;
	case READ_LINT:
		/* the json document goes to report; out gets nothing */
		if ((out = open_memstream(&sink, &sinklen)) == NULL)
			fatal("open_memstream");
		if (sql_files_add(&files, r->path, 0, &r->err) == 0 &&
		    lint_paths(&r->lo, files.v, files.n, 1, LINT_FORMAT_JSON,
		    out, &r->report, &worst, &r->err) == 0)
			r->rc = worst >= (int)r->fail_on ? 1 : 0;
		fclose(out);
		free(sink);
		break;
	}
	buf_release(&text);
	sql_files_release(&files);
}

static void
read_after(uv_work_t *w, int status)
{
	struct migrate_read *r = w->data, **p;
	struct daemon *d = r->d;
	size_t kept = 0;

	if (status != 0 && r->rc >= 0)
		r->rc = -1, err_set(&r->err, "the %s was cancelled",
		    read_kinds[r->kind]);
	r->ended_at = wall_ms();
	r->done = true;
	d->migrate_reads_running--;
	log_info("migrate %s %u of %s ended: %s", read_kinds[r->kind], r->id,
	    r->target, r->rc == 0 ? "ok" : r->rc > 0 ?
	    "findings" : "failed");
	for (p = &d->migrate_reads; *p != NULL;) {
		if ((*p)->done && ++kept > READS_KEPT) {
			struct migrate_read *old = *p;

			*p = old->next;
			read_free(old);
		} else
			p = &(*p)->next;
	}
	daemon_exit_when_idle(d);
}

/* A path an MCP caller may have read: absolute, and a .sql file or a directory. */
static int
path_ok(const char *path, struct err *e)
{
	struct stat st;
	size_t n = path != NULL ? strlen(path) : 0;

	if (n == 0)
		return err_setk(e, ERR_INVALID, "'path' is required");
	if (path[0] != '/')
		return err_setk(e, ERR_INVALID, "'path' must be absolute: the daemon "
		    "does not share the caller's working directory");
	if (stat(path, &st) < 0)
		return err_errno(e, "'%s'", path);
	if (!S_ISDIR(st.st_mode) && (n < 5 || strcmp(path + n - 4, ".sql") != 0))
		return err_setk(e, ERR_INVALID, "'%s' is not a .sql file or a "
		    "directory of them", path);
	return 0;
}

json_t *
daemon_migrate_read(struct daemon *d, const char *kind, const json_t *body,
    struct err *e)
{
	const char *path = json_str(body, "path"), *url = json_str(body, "db");
	const struct config *cfg = d->nconfigs > 0 ? d->configs[d->nconfigs - 1] :
	    NULL;
	struct migrate_read *r, *running;
	const struct migrate_db *db = NULL;
	int k = str_index(kind, read_kinds, 3);
	char *safe;

	if (k < 0)
		return err_set(e, "no migrate read '%s'", kind), NULL;
	if (path_ok(path, e) < 0)
		return NULL;
	if (k != READ_LINT && (url == NULL || *url == '\0'))
		return err_setk(e, ERR_INVALID, "'db' is required"), NULL;
	if (d->stopping)
		return err_setk(e, ERR_CONFLICT, "the daemon is stopping"), NULL;
	for (running = d->migrate_reads; running != NULL && running->done;
	    running = running->next)
		;
	if (running != NULL)
		return err_setk(e, ERR_CONFLICT, "migrate %s %u is running (one at a "
		    "time): read it with migrate_result, then ask again",
		    read_kinds[running->kind], running->id), NULL;
	if (k != READ_LINT && (db = migrate_db(e)) == NULL)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->d = d;
	r->db = db;
	r->kind = (enum read_kind)k;
	r->id = ++d->migrate_read_seq;
	r->path = xstrdup(path);
	if (k == READ_LINT) {
		r->fail_on = LINT_ERROR;
		if (cfg != NULL)
			lint_options_from_config(&cfg->migrate, &r->lo, &r->fail_on);
		r->exclude = r->lo.exclude ? xstrdup(r->lo.exclude) : NULL;
		r->include = r->lo.include ? xstrdup(r->lo.include) : NULL;
		r->lo.exclude = r->exclude;
		r->lo.include = r->include;
		r->target = xstrdup(path);
	} else {
		r->url = xstrdup(url);
		safe = db->url_redact(url);
		r->target = xasprintf("%s on %s", path, safe != NULL ? safe : "?");
		free(safe);
	}
	r->started_at = wall_ms();
	r->work.data = r;
	if (uv_queue_work(&d->loop, &r->work, read_work, read_after) != 0) {
		read_free(r);
		return err_set(e, "cannot queue the %s", kind), NULL;
	}
	d->migrate_reads_running++;
	r->next = d->migrate_reads;
	d->migrate_reads = r;
	return json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)r->id, "kind",
	    read_kinds[r->kind], "target", r->target, "state", "running");
}

json_t *
daemon_migrate_read_job(struct daemon *d, int64_t id, struct err *e)
{
	struct migrate_read *r;
	json_t *out;

	for (r = d->migrate_reads; r != NULL && r->id != id; r = r->next)
		;
	if (r == NULL)
		return err_setk(e, ERR_NOT_FOUND, "no migrate lint, dryrun or status %lld "
		    "(the %d newest finished are kept)", (long long)id,
		    READS_KEPT), NULL;
	out = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)r->id, "kind",
	    read_kinds[r->kind], "target", r->target, "state", r->done ? "done" :
	    "running");
	if (!r->done)
		return out;
	json_object_set_new(out, "result", json_integer(r->rc < 0 ? -1 :
	    r->rc > 0 ? 1 : 0));
	if (r->rc < 0)
		json_object_set_new(out, "error", json_pack("{s:s, s:s}",
		    "message", r->err.msg, "kind", err_kind_str(r->err.kind)));
	if (r->report != NULL)
		json_object_set(out, "report", r->report);
	return out;
}

void
daemon_migrate_read_release(struct daemon *d)
{
	struct migrate_read *r;

	while ((r = d->migrate_reads) != NULL) {
		d->migrate_reads = r->next;
		read_free(r);
	}
}
