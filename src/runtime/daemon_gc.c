/*
 * The daemon's side of housekeeping: once at start and then hourly as "opsdeck", and
 * whenever `opsdeck gc` asks, each run through the action gate. The plan is made on
 * the loop (store reads and two directory listings); sizing and removing trees, which
 * can take a while for a big artifact, goes to the thread pool. One run at a time:
 * others wait their turn. While a run removes an artifact, a deploy of it is refused.
 */
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "deploy/gc.h"
#include "ledger/gate.h"
#include "runtime/daemon.h"
#include "runtime/daemon_int.h"

#define GC_PERIOD_MS	(60 * 60 * 1000)
/* Finished runs kept for the CLI that follows one (it reads it right after). */
#define GC_JOBS_KEPT	8

enum gc_job_state {
	GC_JOB_QUEUED,
	GC_JOB_RUNNING,
	GC_JOB_DONE,
};

static const char *const gc_job_state_names[] = {
	[GC_JOB_QUEUED] = "queued",
	[GC_JOB_RUNNING] = "running",
	[GC_JOB_DONE] = "done",
};

struct gc_job {
	uv_work_t	 work;
	struct daemon	*d;
	unsigned	 id;
	struct actor	 actor;
	struct gate_call call;		/* its evidence: gc.run on target */
	bool		 dry_run;
	char		*target;
	enum gc_job_state state;
	struct gc_run	 run;
	bool		 failed;	/* could not plan, or something stayed */
	struct err	 err;
	int64_t		 requested_at, ended_at;
	struct gc_job	*next;		/* newest first */
};

static const char *
gc_job_state_str(enum gc_job_state s)
{
	return gc_job_state_names[s];
}

static void
job_free(struct gc_job *j)
{
	gc_run_release(&j->run);
	free(j->target);
	free(j);
}

static void	job_start(struct daemon *, struct gc_job *);

/* The oldest queued run, which goes next. */
static struct gc_job *
job_next(struct daemon *d)
{
	struct gc_job *j, *next = NULL;

	for (j = d->gc_jobs; j != NULL; j = j->next)
		if (j->state == GC_JOB_QUEUED)
			next = j;
	return next;
}

/* Evidence of the result, then the next run; only the newest finished ones stay. */
static void
job_end(struct daemon *d, struct gc_job *j)
{
	struct gc_job **p, *next;
	char *summary;
	size_t kept = 0, i;

	if (!j->failed && j->run.failed > 0) {
		j->failed = true;
		for (i = 0; i < j->run.nitems; i++)
			if (j->run.items[i].error != NULL)
				break;
		err_set(&j->err, "%zu of %zu could not be removed (%s)",
		    j->run.failed, j->run.nitems, j->run.items[i].error);
	}
	if (j->failed)
		gate_end(&d->store, &j->actor, &j->call, &j->err, NULL);
	else {
		summary = gc_summary(&j->run);
		gate_end(&d->store, &j->actor, &j->call, NULL, summary);
		if (!j->dry_run)
			log_info("gc %u by %s: %s", j->id, j->actor.name, summary);
		free(summary);
	}
	if (j->failed)
		log_warnx("gc %u by %s: %s", j->id, j->actor.name, j->err.msg);
	j->state = GC_JOB_DONE;
	j->ended_at = wall_ms();
	if (d->gc_running == j)
		d->gc_running = NULL;
	for (p = &d->gc_jobs; *p != NULL;) {
		if ((*p)->state == GC_JOB_DONE && ++kept > GC_JOBS_KEPT) {
			struct gc_job *old = *p;

			*p = old->next;
			job_free(old);
		} else
			p = &(*p)->next;
	}
	if (d->gc_running == NULL && (next = job_next(d)) != NULL)
		job_start(d, next);
	daemon_exit_when_idle(d);
}

/* On the thread pool: files only, never the store. */
static void
job_work(uv_work_t *w)
{
	struct gc_job *j = w->data;

	gc_sweep(j->d->state_dir, &j->run);
}

static void
job_after(uv_work_t *w, int status)
{
	struct gc_job *j = w->data;
	struct daemon *d = j->d;

	if (status != 0 && !j->failed) {
		j->failed = true;
		err_set(&j->err, "the run was cancelled");
	}
	if (!j->failed && gc_record(&d->store, j->actor.name, &j->run,
	    &j->err) < 0)
		j->failed = true;
	job_end(d, j);
}

static void
job_start(struct daemon *d, struct gc_job *j)
{
	const struct config *cfg = d->configs[d->nconfigs - 1];

	j->state = GC_JOB_RUNNING;
	d->gc_running = j;
	/* Past shutdown nothing new starts: the loop is ending. */
	if (d->stopping) {
		j->failed = true;
		err_setk(&j->err, ERR_CONFLICT, "the daemon stopped before the "
		    "run began");
		job_end(d, j);
		return;
	}
	if (gc_plan(&d->store, d->state_dir, &cfg->retain, j->dry_run, &j->run,
	    &j->err) < 0) {
		j->failed = true;
		job_end(d, j);
		return;
	}
	j->work.data = j;
	if (uv_queue_work(&d->loop, &j->work, job_work, job_after) != 0) {
		j->failed = true;
		err_set(&j->err, "cannot queue the run on the thread pool");
		job_end(d, j);
	}
}

static struct gc_job *
job_request(struct daemon *d, const struct actor *actor, bool dry_run,
    struct err *e)
{
	struct gc_job *j = xcalloc(1, sizeof(*j));

	j->d = d;
	j->actor = *actor;
	j->dry_run = dry_run;
	j->target = xasprintf("%s%s", d->state_dir, dry_run ? " (dry run)" : "");
	j->requested_at = wall_ms();
	j->call.action = "gc.run";
	j->call.target = j->target;
	if (gate_begin(&d->store, actor, &j->call, e) < 0) {
		job_free(j);
		return NULL;
	}
	j->id = ++d->gc_last_id;
	j->state = GC_JOB_QUEUED;
	j->next = d->gc_jobs;
	d->gc_jobs = j;
	if (d->gc_running == NULL)
		job_start(d, j);
	return j;
}

json_t *
daemon_gc(struct daemon *d, const struct actor *actor, const json_t *body,
    struct err *e)
{
	const json_t *v = json_object_get(body, "dry_run");
	struct gc_job *j;
	const char *key;
	json_t *val;

	json_object_foreach((json_t *)body, key, val)
		if (strcmp(key, "dry_run") != 0) {
			err_setk(e, ERR_INVALID, "unknown key '%s': the body is "
			    "{\"dry_run\": true|false}", key);
			return NULL;
		}
	if (v != NULL && !json_is_boolean(v)) {
		err_setk(e, ERR_INVALID, "'dry_run' must be true or false");
		return NULL;
	}
	if (d->stopping) {
		err_setk(e, ERR_CONFLICT, "the daemon is stopping: run gc once it "
		    "runs again");
		return NULL;
	}
	if ((j = job_request(d, actor, json_is_true(v), e)) == NULL)
		return NULL;
	return json_pack("{s:I, s:s}", "id", (json_int_t)j->id, "state",
	    gc_job_state_str(j->state));
}

json_t *
daemon_gc_job(struct daemon *d, const char *id, struct err *e)
{
	struct gc_job *j;
	unsigned long n;
	char *end, ts[32];
	json_t *out;

	n = strtoul(id, &end, 10);
	for (j = d->gc_jobs; j != NULL; j = j->next)
		if (*id != '\0' && *end == '\0' && j->id == n)
			break;
	if (j == NULL) {
		err_setk(e, ERR_NOT_FOUND, "no gc run '%s' (finished runs are kept "
		    "for the %d newest)", id, GC_JOBS_KEPT);
		return NULL;
	}
	format_time(j->requested_at, ts);
	out = json_pack("{s:I, s:s, s:s, s:b, s:s}", "id", (json_int_t)j->id,
	    "state", gc_job_state_str(j->state), "actor", j->actor.name,
	    "dry_run", j->dry_run, "requested_at", ts);
	if (j->state != GC_JOB_DONE)
		return out;
	/* A run that could not even plan has no report. */
	if (j->run.at != 0)
		json_object_set_new(out, "report", gc_run_json(&j->run));
	if (j->failed)
		json_object_set_new(out, "error", json_pack("{s:s, s:s}",
		    "message", j->err.msg, "kind", err_kind_str(j->err.kind)));
	return out;
}

json_t *
daemon_gc_status_json(struct daemon *d)
{
	char ts[32];
	json_t *out = json_pack("{s:o, s:b}", "last_gc", gc_last_json(&d->store),
	    "running", d->gc_running != NULL);

	if (uv_is_active((uv_handle_t *)&d->gc_timer)) {
		format_time(wall_ms() + (int64_t)uv_timer_get_due_in(&d->gc_timer),
		    ts);
		json_object_set_new(out, "next_gc", json_string(ts));
	} else
		json_object_set_new(out, "next_gc", json_null());
	return out;
}

bool
daemon_gc_removing(struct daemon *d, const char *digest)
{
	return d->gc_running != NULL && !d->gc_running->dry_run &&
	    d->gc_running->state == GC_JOB_RUNNING &&
	    gc_removes_artifact(&d->gc_running->run, digest);
}

static void
gc_due(uv_timer_t *t)
{
	static const struct actor system = { "opsdeck", ROLE_ADMIN, VIA_SYSTEM, 0 };
	struct daemon *d = t->data;
	struct gc_job *j;
	struct err e;

	/* A run of its own still waiting: one is enough. */
	for (j = d->gc_jobs; j != NULL; j = j->next)
		if (j->state == GC_JOB_QUEUED && strcmp(j->actor.name,
		    system.name) == 0)
			return;
	if (!d->stopping && job_request(d, &system, false, &e) == NULL)
		log_warnx("gc: %s", e.msg);
}

void
daemon_gc_init(struct daemon *d)
{
	uv_timer_init(&d->loop, &d->gc_timer);
	d->gc_timer.data = d;
}

void
daemon_gc_start(struct daemon *d)
{
	uv_timer_start(&d->gc_timer, gc_due, 0, GC_PERIOD_MS);
}

void
daemon_gc_release(struct daemon *d)
{
	struct gc_job *j;

	while ((j = d->gc_jobs) != NULL) {
		d->gc_jobs = j->next;
		job_free(j);
	}
}
