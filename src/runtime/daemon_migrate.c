/*
 * The daemon's side of `migrate apply`: the action gate records who applied what, and
 * the migrations run on libuv's thread pool, since a migration can hold PostgreSQL for
 * minutes and the loop must go on supervising. One apply runs at a time; the CLI
 * follows it by polling its job for progress text and, at the end, its report.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "ledger/approvals.h"
#include "ledger/gate.h"
#include "migrate/apply.h"
#include "migrate/db.h"
#include "migrate/files.h"
#include "migrate/lint.h"
#include "runtime/daemon.h"
#include "runtime/daemon_int.h"

/* Progress text kept per job: a line per file, so this is thousands of files. */
#define JOB_PROGRESS_MAX	((size_t)4 << 20)
/* Finished jobs kept for their reports (the CLI reads one right after it ends). */
#define JOBS_KEPT		8

enum job_state { JOB_RUNNING, JOB_DONE };

struct migrate_job {
	uv_work_t		 work;
	struct daemon		*d;
	const struct migrate_db	*db;
	unsigned		 id;
	struct actor		 actor;
	struct gate_call	 call;		/* migrate.apply on target */
	char			*target;	/* what the evidence names */
	json_t			*args;		/* and what it was asked */
	struct sql_digests	 digests;	/* the only files it may apply */
	char			*path, *url, *override, *config_path;
	int64_t			 started_at, ended_at;
	/* written by the worker while it runs, read by the loop */
	pthread_mutex_t		 mu;
	struct buf		 progress;
	bool			 progress_cut;
	/* the worker's results, read by the loop once the work has ended */
	enum job_state		 state;
	int			 rc;		/* apply_run's: 0, 1, or -1 */
	json_t			*report;
	struct err		 err;
	struct migrate_job	*next;
};

static const char *const job_state_names[] = {
	[JOB_RUNNING] = "running",
	[JOB_DONE] = "done",
};

static const char *
job_state_str(enum job_state s)
{
	return job_state_names[s];
}

static void
job_free(struct migrate_job *j)
{
	pthread_mutex_destroy(&j->mu);
	buf_release(&j->progress);
	json_decref(j->report);
	json_decref(j->args);
	sql_digests_release(&j->digests);
	free(j->target);
	free(j->path);
	free(j->url);
	free(j->override);
	free(j->config_path);
	free(j);
}

/* apply_run's progress FILE writes here (fopencookie), under the job's lock. */
static ssize_t
progress_write(void *cookie, const char *data, size_t len)
{
	struct migrate_job *j = cookie;

	pthread_mutex_lock(&j->mu);
	/* past the cap the rest is dropped: the report still has every file */
	if (!j->progress_cut && buf_add(&j->progress, data, len) < 0)
		j->progress_cut = true;
	pthread_mutex_unlock(&j->mu);
	return (ssize_t)len;
}

/* The config's migrate: section, as `migrate lint` follows it: -1 with its first error. */
static int
job_lint_options(struct migrate_job *j, struct config *cfg,
    struct lint_options *lo, struct err *e)
{
	struct cfg_diags diags = { NULL, 0 };
	enum lint_severity fail_on;
	char *msg;
	int loaded;

	if ((loaded = config_load(j->config_path, false, cfg, &diags)) < 0 ||
	    lint_config_check(cfg, &diags) < 0) {
		msg = diags.n > 0 ? cfg_diag_format(&diags.items[0]) :
		    xstrdup("it does not load");
		err_setk(e, ERR_INVALID, "%s: fix it (opsdeck config check -c %s)",
		    msg, j->config_path);
		free(msg);
		cfg_diags_release(&diags);
		if (loaded == 0)
			config_release(cfg);
		return -1;
	}
	lint_options_from_config(&cfg->migrate, lo, &fail_on);
	return 0;
}

/*
 * apply's gate, before each file it would apply: the file's bytes must be those
 * digested when the apply was asked for (and approved), so what runs is what the
 * evidence and any approval name, even if a file changes or appears meanwhile.
 */
static int
job_file_allowed(void *ctx, const char *file, const char *sha256, struct err *e)
{
	struct migrate_job *j = ctx;
	const char *want = sql_digests_find(&j->digests, file);

	if (want == NULL)
		return err_set(e, "'%s' was not among the files when the apply was "
		    "asked for%s: ask again", file, j->actor.approval != 0 ?
		    " and approved" : "");
	if (strcmp(want, sha256) != 0)
		return err_set(e, "'%s' changed since the apply was asked for%s "
		    "(sha256 %.12s… then, %.12s… now): ask again", file,
		    j->actor.approval != 0 ? " and approved" : "", want, sha256);
	return 0;
}

/* On the thread pool: nothing here touches the store or the loop. */
static void
job_work(uv_work_t *w)
{
	static const cookie_io_functions_t io = { .write = progress_write };
	struct migrate_job *j = w->data;
	struct apply_options o = { 0 };
	struct apply_gate gate;
	struct lint_options lo = { 0 };
	struct sql_files files = SQL_FILES_INIT;
	struct config cfg;
	bool have_cfg = false;
	FILE *progress = NULL;

	j->rc = -1;
	if (j->config_path != NULL) {
		if (job_lint_options(j, &cfg, &lo, &j->err) < 0)
			goto out;
		have_cfg = true;
	}
	if (sql_files_add(&files, j->path, SQL_FILES_MIGRATIONS, &j->err) < 0)
		goto out;
	if ((progress = fopencookie(j, "w", io)) != NULL)
		setvbuf(progress, NULL, _IOLBF, 0);
	gate.approve = job_file_allowed;
	gate.ctx = j;
	o.gate = &gate;
	o.url = j->url;
	o.lint = &lo;
	o.override = j->override;
	o.actor = j->actor.name;
	o.progress = progress;
	j->rc = j->db->apply_run(&o, files.v, files.n, &j->report, &j->err);
out:
	if (progress != NULL)
		fclose(progress);
	sql_files_release(&files);
	if (have_cfg)
		config_release(&cfg);
}

/* The first file that was refused or failed, as "FILE: why", into e. */
static void
report_failure(const json_t *report, struct err *e)
{
	const json_t *f;
	size_t i;

	err_set(e, "apply stopped");
	json_array_foreach(json_object_get(report, "files"), i, f) {
		const char *st = json_str(f, "status");

		if (st != NULL && strcmp(st, "applied") != 0 &&
		    strcmp(st, "skipped") != 0) {
			err_set(e, "%s: %s", json_str(f, "file") ? json_str(f,
			    "file") : "?", json_str(f, "error") ? json_str(f,
			    "error") : st);
			return;
		}
	}
}

/* Back on the loop: the result goes into evidence before anyone can read it. */
static void
job_after(uv_work_t *w, int status)
{
	struct migrate_job *j = w->data, **p;
	struct daemon *d = j->d;
	struct err failure;
	char detail[128];
	size_t applied = 0, skipped = 0, i, kept = 0;
	const json_t *f;

	if (status != 0 && j->rc == 0)
		j->rc = -1, err_set(&j->err, "the apply was cancelled");
	if (j->rc == 0) {
		json_array_foreach(json_object_get(j->report, "files"), i, f) {
			if (strcmp(json_str(f, "status"), "applied") == 0)
				applied++;
			else
				skipped++;
		}
		snprintf(detail, sizeof(detail), "%zu applied, %zu skipped",
		    applied, skipped);
		gate_end(&d->store, &j->actor, &j->call, NULL, detail);
	} else {
		if (j->rc == 1)
			report_failure(j->report, &failure);
		else
			failure = j->err;
		gate_end(&d->store, &j->actor, &j->call, &failure, NULL);
	}
	j->ended_at = wall_ms();
	pthread_mutex_lock(&j->mu);
	j->state = JOB_DONE;
	pthread_mutex_unlock(&j->mu);
	d->migrate_running = NULL;
	log_info("migrate apply %u by %s ended: %s", j->id, j->actor.name,
	    j->rc == 0 ? "ok" : "failed");
	/* Only the newest finished jobs are kept. */
	for (p = &d->migrate_jobs; *p != NULL;) {
		if ((*p)->state == JOB_DONE && ++kept > JOBS_KEPT) {
			struct migrate_job *old = *p;

			*p = old->next;
			job_free(old);
		} else
			p = &(*p)->next;
	}
	daemon_exit_when_idle(d);
}

static int
body_string(const json_t *body, const char *key, bool required, char **out,
    struct err *e)
{
	const json_t *v = json_object_get(body, key);

	*out = NULL;
	if (v == NULL || json_is_null(v)) {
		if (required)
			return err_setk(e, ERR_INVALID, "'%s' is required", key);
		return 0;
	}
	if (!json_is_string(v) || json_string_length(v) == 0)
		return err_setk(e, ERR_INVALID, "'%s' must be a non-empty string",
		    key);
	*out = xstrdup(json_string_value(v));
	return 0;
}

/* Files listed by name up to this many in the evidence; the digest covers all. */
#define ARGS_FILES_NAMED	50

/*
 * The files apply will run, by content, into j->digests, and what the evidence and
 * any approval record of them: their number, one SHA-256 over all, and their names
 * and digests while they are few. On the loop: one read of each file.
 */
static int
job_digest(struct migrate_job *j, struct err *e)
{
	struct sql_files files = SQL_FILES_INIT;
	json_t *named;
	size_t i;
	int r;

	if ((r = sql_files_add(&files, j->path, SQL_FILES_MIGRATIONS, e)) == 0)
		r = sql_files_digest(&files, &j->digests, e);
	sql_files_release(&files);
	if (r < 0)
		return -1;
	j->args = json_pack("{s:s, s:I, s:s, s:s?, s:s?}", "path", j->path,
	    "files", (json_int_t)j->digests.n, "sha256", j->digests.all,
	    "override", j->override, "config", j->config_path);
	if (j->digests.n <= ARGS_FILES_NAMED) {
		named = json_object();
		for (i = 0; i < j->digests.n; i++)
			json_object_set_new(named, j->digests.v[i].file,
			    json_string(j->digests.v[i].sha256));
		json_object_set_new(j->args, "named", named);
	}
	return 0;
}

json_t *
daemon_migrate_apply(struct daemon *d, const struct actor *actor,
    const json_t *body, struct err *e)
{
	struct migrate_job *j = xcalloc(1, sizeof(*j));
	const char *redacted = NULL;
	char *safe = NULL;
	json_t *replay;

	pthread_mutex_init(&j->mu, NULL);
	buf_init(&j->progress, JOB_PROGRESS_MAX);
	if (body_string(body, "path", true, &j->path, e) < 0 ||
	    body_string(body, "db", true, &j->url, e) < 0 ||
	    body_string(body, "override", false, &j->override, e) < 0 ||
	    body_string(body, "config", false, &j->config_path, e) < 0)
		goto fail;
	if (j->path[0] != '/' || (j->config_path != NULL &&
	    j->config_path[0] != '/')) {
		err_setk(e, ERR_INVALID, "'path' and 'config' must be absolute: "
		    "the daemon does not share the caller's working directory");
		goto fail;
	}
	if (d->stopping) {
		err_setk(e, ERR_CONFLICT, "the daemon is stopping: apply once it "
		    "runs again");
		goto fail;
	}
	if (d->migrate_running != NULL) {
		err_setk(e, ERR_CONFLICT, "migrate apply %u by %s is running: wait "
		    "for it to end", d->migrate_running->id,
		    d->migrate_running->actor.name);
		goto fail;
	}
	/* The module is loaded here, on the loop, so the worker only calls into it. */
	if ((j->db = migrate_db(e)) == NULL)
		goto fail;
	safe = j->db->url_redact(j->url);
	redacted = safe != NULL ? safe : "?";
	j->target = xasprintf("%s on %s", j->path, redacted);
	free(safe);
	if (job_digest(j, e) < 0)
		goto fail;
	j->actor = *actor;
	j->call.action = "migrate.apply";
	j->call.target = j->target;
	j->call.args = j->args;
	/* Once approved, it runs again as asked, with the URL kept out of sight. */
	replay = json_pack("{s:s, s:{s:s, s:s?, s:s?}, s:{s:s}}", "op",
	    "migrate_apply", "body", "path", j->path, "override", j->override,
	    "config", j->config_path, "private", "db", j->url);
	j->call.replay = replay;
	if (gate_begin(&d->store, actor, &j->call, e) < 0) {
		json_decref(replay);
		/* Not refused: the answer is the request that waits. */
		if (e->kind == ERR_PENDING) {
			json_t *out = approval_pending_json(&d->store,
			    j->call.approval, e);

			job_free(j);
			return out;
		}
		goto fail;
	}
	json_decref(replay);
	j->call.replay = NULL;
	j->d = d;
	j->id = ++d->migrate_last_id;
	j->started_at = wall_ms();
	j->state = JOB_RUNNING;
	j->work.data = j;
	if (uv_queue_work(&d->loop, &j->work, job_work, job_after) != 0) {
		err_set(e, "cannot queue the apply on the thread pool");
		gate_end(&d->store, actor, &j->call, e, NULL);
		goto fail;
	}
	j->next = d->migrate_jobs;
	d->migrate_jobs = j;
	d->migrate_running = j;
	log_info("migrate apply %u by %s: %s", j->id, actor->name, j->target);
	return json_pack("{s:I, s:s}", "id", (json_int_t)j->id, "state",
	    job_state_str(j->state));
fail:
	job_free(j);
	return NULL;
}

json_t *
daemon_migrate_job(struct daemon *d, const char *id, const char *from,
    struct err *e)
{
	struct migrate_job *j;
	unsigned long n;
	size_t off = 0;
	char *end;
	json_t *out;

	n = strtoul(id, &end, 10);
	for (j = d->migrate_jobs; j != NULL; j = j->next)
		if (*id != '\0' && *end == '\0' && j->id == n)
			break;
	if (j == NULL) {
		err_setk(e, ERR_NOT_FOUND, "no migrate apply job '%s' (finished jobs "
		    "are kept for the %d newest)", id, JOBS_KEPT);
		return NULL;
	}
	if (from != NULL)
		off = strtoull(from, NULL, 10);
	out = json_pack("{s:I, s:s, s:s, s:I}", "id", (json_int_t)j->id,
	    "actor", j->actor.name, "target", j->target, "started_at",
	    (json_int_t)j->started_at);
	pthread_mutex_lock(&j->mu);
	if (off > j->progress.len)
		off = j->progress.len;
	json_object_set_new(out, "progress", json_stringn(j->progress.len > 0 ?
	    j->progress.data + off : "", j->progress.len - off));
	json_object_set_new(out, "next", json_integer((json_int_t)j->progress.len));
	json_object_set_new(out, "state", json_string(job_state_str(j->state)));
	pthread_mutex_unlock(&j->mu);
	if (j->state != JOB_DONE)
		return out;
	json_object_set_new(out, "ended_at", json_integer(j->ended_at));
	json_object_set_new(out, "result", json_integer(j->rc));
	if (j->rc < 0)
		json_object_set_new(out, "error", json_pack("{s:s, s:s}",
		    "message", j->err.msg, "kind", err_kind_str(j->err.kind)));
	if (j->report != NULL)
		json_object_set(out, "report", j->report);
	return out;
}

void
daemon_migrate_release(struct daemon *d)
{
	struct migrate_job *j;

	while ((j = d->migrate_jobs) != NULL) {
		d->migrate_jobs = j->next;
		job_free(j);
	}
}
