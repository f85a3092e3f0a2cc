/*
 * migrate dryrun and migrate status for MCP: they hold a PostgreSQL connection for as
 * long as the database takes, so they run on libuv's thread pool and the agent reads
 * the result by id (the migrate_result tool). A dry run rolls back what it ran; a
 * status only reads. Neither changes anything, so neither is an action of the gate:
 * the MCP call that starts one is evidence (mcp.call).
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "migrate/db.h"
#include "migrate/files.h"
#include "migrate/sql.h"
#include "runtime/daemon_int.h"

#define READS_KEPT	16	/* finished reads kept for their results */

struct migrate_read {
	uv_work_t		 work;
	struct daemon		*d;
	const struct migrate_db	*db;
	unsigned		 id;
	bool			 dryrun;	/* else status */
	char			*path, *url, *target;
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

	r->rc = -1;
	if (r->dryrun) {
		if (sql_file_read(r->path, &text, &r->err) == 0)
			r->rc = r->db->dryrun_run(&o, r->path, buf_str(&text),
			    text.len, &r->report, &r->err);
	} else if (sql_files_add(&files, r->path, SQL_FILES_MIGRATIONS,
	    &r->err) == 0)
		r->rc = r->db->apply_status(r->url, r->path, files.v, files.n,
		    &r->report, &r->err);
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
		r->rc = -1, err_set(&r->err, "the %s was cancelled", r->dryrun ?
		    "dry run" : "status");
	r->ended_at = wall_ms();
	r->done = true;
	d->migrate_reads_running--;
	log_info("migrate %s %u of %s ended: %s", r->dryrun ? "dryrun" :
	    "status", r->id, r->target, r->rc == 0 ? "ok" : r->rc > 0 ?
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

json_t *
daemon_migrate_read(struct daemon *d, const char *kind, const json_t *body,
    struct err *e)
{
	const char *path = json_str(body, "path"), *url = json_str(body, "db");
	struct migrate_read *r;
	const struct migrate_db *db;
	char *safe;

	if (path == NULL || url == NULL || *url == '\0')
		return err_setk(e, ERR_INVALID, "'path' and 'db' are required"),
		    NULL;
	if (path[0] != '/')
		return err_setk(e, ERR_INVALID, "'path' must be absolute: the "
		    "daemon does not share the caller's working directory"), NULL;
	if (d->stopping)
		return err_setk(e, ERR_CONFLICT, "the daemon is stopping"), NULL;
	if ((db = migrate_db(e)) == NULL)
		return NULL;
	r = xcalloc(1, sizeof(*r));
	r->d = d;
	r->db = db;
	r->dryrun = strcmp(kind, "dryrun") == 0;
	r->id = ++d->migrate_read_seq;
	r->path = xstrdup(path);
	r->url = xstrdup(url);
	safe = db->url_redact(url);
	r->target = xasprintf("%s on %s", path, safe != NULL ? safe : "?");
	free(safe);
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
	    r->dryrun ? "dryrun" : "status", "target", r->target, "state",
	    "running");
}

json_t *
daemon_migrate_read_job(struct daemon *d, int64_t id, struct err *e)
{
	struct migrate_read *r;
	json_t *out;

	for (r = d->migrate_reads; r != NULL && r->id != id; r = r->next)
		;
	if (r == NULL)
		return err_setk(e, ERR_NOT_FOUND, "no migrate dryrun or status %lld "
		    "(the %d newest finished are kept)", (long long)id,
		    READS_KEPT), NULL;
	out = json_pack("{s:I, s:s, s:s, s:s}", "id", (json_int_t)r->id, "kind",
	    r->dryrun ? "dryrun" : "status", "target", r->target, "state",
	    r->done ? "done" : "running");
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
