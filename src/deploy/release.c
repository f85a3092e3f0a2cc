#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "deploy/release.h"

static const char *const status_names[] = {
	[RELEASE_PENDING] = "pending",
	[RELEASE_DEPLOYING] = "deploying",
	[RELEASE_LIVE] = "live",
	[RELEASE_FAILED] = "failed",
	[RELEASE_ROLLED_BACK] = "rolled_back",
	[RELEASE_SUPERSEDED] = "superseded",
};

#define RELEASE_COLUMNS "id, app, version, artifact_digest, config_digest, " \
	"config_snapshot, secrets_version, actor, message, status, " \
	"failed_step, reason, created_at, finished_at"

const char *
release_status_str(enum release_status s)
{
	return status_names[s];
}

static enum release_status
status_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(status_names) / sizeof(status_names[0]); i++)
		if (strcmp(status_names[i], s) == 0)
			return (enum release_status)i;
	return RELEASE_FAILED;
}

static char *
col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);

	return t != NULL ? xstrdup((const char *)t) : NULL;
}

/* The snapshot is {"path": config file, "text": its text}. */
static void
release_from_row(sqlite3_stmt *st, struct release *r)
{
	json_t *snap;

	memset(r, 0, sizeof(*r));
	r->id = sqlite3_column_int64(st, 0);
	r->app = col_dup(st, 1);
	r->version = sqlite3_column_int(st, 2);
	snprintf(r->artifact, sizeof(r->artifact), "%s",
	    (const char *)sqlite3_column_text(st, 3));
	snprintf(r->config_digest, sizeof(r->config_digest), "%s",
	    (const char *)sqlite3_column_text(st, 4));
	snap = json_loads((const char *)sqlite3_column_text(st, 5), 0, NULL);
	r->config_path = xstrdup(json_str(snap, "path") ?
	    json_str(snap, "path") : "");
	r->config_text = xstrdup(json_str(snap, "text") ?
	    json_str(snap, "text") : "");
	json_decref(snap);
	r->secrets_version = sqlite3_column_int(st, 6);
	r->actor = col_dup(st, 7);
	r->message = col_dup(st, 8);
	r->status = status_parse((const char *)sqlite3_column_text(st, 9));
	r->failed_step = col_dup(st, 10);
	r->reason = col_dup(st, 11);
	r->created_at = sqlite3_column_int64(st, 12);
	r->finished_at = sqlite3_column_int64(st, 13);
}

void
release_release(struct release *r)
{
	free(r->app);
	free(r->config_path);
	free(r->config_text);
	free(r->actor);
	free(r->message);
	free(r->failed_step);
	free(r->reason);
	memset(r, 0, sizeof(*r));
}

int
release_create(struct store *s, struct release *r, struct err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *snap = json_pack("{s:s, s:s}", "path", r->config_path, "text",
	    r->config_text);
	char *text = json_dump_compact(snap);
	int ret = -1;

	json_decref(snap);
	r->created_at = wall_ms();
	r->status = RELEASE_PENDING;
	if (store_prepare(s, &st, "INSERT INTO releases (app, version, "
	    "artifact_digest, config_digest, config_snapshot, secrets_version, "
	    "actor, message, status, created_at) VALUES (?1, (SELECT "
	    "ifnull(max(version), 0) + 1 FROM releases WHERE app = ?1), ?2, "
	    "?3, ?4, ?5, ?6, ?7, 'pending', ?8) RETURNING id, version", e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, r->app, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, r->artifact, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, r->config_digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, text, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 5, r->secrets_version);
	sqlite3_bind_text(st, 6, r->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, r->message, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, r->created_at);
	if (sqlite3_step(st) != SQLITE_ROW) {
		err_set(e, "store: cannot create a release of '%s': %s", r->app,
		    sqlite3_errmsg(s->db));
		goto out;
	}
	r->id = sqlite3_column_int64(st, 0);
	r->version = sqlite3_column_int(st, 1);
	ret = 0;
out:
	sqlite3_finalize(st);
	free(text);
	return ret;
}

static int
release_query(struct store *s, const char *where, const char *app,
    int64_t n, struct release *r, struct err *e, const char *what)
{
	sqlite3_stmt *st = NULL;
	char sql[512];
	int ret = -1;

	snprintf(sql, sizeof(sql), "SELECT " RELEASE_COLUMNS " FROM releases "
	    "WHERE %s", where);
	if (store_prepare(s, &st, sql, e) < 0)
		goto out;
	if (app != NULL)
		sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	if (n >= 0)
		sqlite3_bind_int64(st, app != NULL ? 2 : 1, n);
	if (sqlite3_step(st) != SQLITE_ROW) {
		err_setk(e, ERR_NOT_FOUND, "%s", what);
		goto out;
	}
	release_from_row(st, r);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
release_load(struct store *s, const char *app, int version, struct release *r,
    struct err *e)
{
	char what[256];

	snprintf(what, sizeof(what), "'%s' has no release v%d: list them with "
	    "`opsdeck releases %s`", app, version, app);
	return release_query(s, "app = ?1 AND version = ?2", app, version, r, e,
	    what);
}

int
release_load_id(struct store *s, int64_t id, struct release *r, struct err *e)
{
	return release_query(s, "id = ?1", NULL, id, r, e, "no such release");
}

int
release_live(struct store *s, const char *app, struct release *r,
    struct err *e)
{
	char what[256];

	snprintf(what, sizeof(what), "'%s' has no live release: deploy it "
	    "with `opsdeck deploy %s --artifact DIR`", app, app);
	return release_query(s, "app = ?1 AND status = 'live' ORDER BY version "
	    "DESC LIMIT 1", app, -1, r, e, what);
}

int
release_set_status(struct store *s, int64_t id, enum release_status status,
    const char *step, const char *reason, const char *evidence,
    struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;
	bool final = status != RELEASE_PENDING && status != RELEASE_DEPLOYING;

	if (store_prepare(s, &st, "UPDATE releases SET status = ?2, "
	    "failed_step = coalesce(?3, failed_step), reason = coalesce(?4, "
	    "reason), evidence = coalesce(?5, evidence), finished_at = CASE "
	    "WHEN ?6 AND finished_at IS NULL THEN ?7 ELSE finished_at END "
	    "WHERE id = ?1", e) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, release_status_str(status), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, step, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, evidence, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 6, final);
	sqlite3_bind_int64(st, 7, wall_ms());
	if (sqlite3_step(st) != SQLITE_DONE) {
		err_set(e, "store: cannot update release %lld: %s",
		    (long long)id, sqlite3_errmsg(s->db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int64_t
release_step_begin(struct store *s, int64_t release_id, const char *step,
    const char *detail)
{
	sqlite3_stmt *st = NULL;
	struct err e;
	int64_t id;

	if (store_prepare(s, &st, "INSERT INTO release_steps (release_id, step, "
	    "status, started_at, detail) VALUES (?, ?, 'running', ?, ?)", &e) < 0)
		fatalx("%s", e.msg);
	sqlite3_bind_int64(st, 1, release_id);
	sqlite3_bind_text(st, 2, step, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, wall_ms());
	sqlite3_bind_text(st, 4, detail, -1, SQLITE_STATIC);
	/* The timeline is the recovery's map: without it, stop. */
	if (sqlite3_step(st) != SQLITE_DONE)
		fatalx("store: cannot record step %s: %s", step,
		    sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	id = sqlite3_last_insert_rowid(s->db);
	return id;
}

void
release_steps_interrupt(struct store *s, int64_t release_id)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(s, &st, "UPDATE release_steps SET status = "
	    "'interrupted', ended_at = ? WHERE release_id = ? AND status = "
	    "'running'", &e) < 0)
		fatalx("%s", e.msg);
	sqlite3_bind_int64(st, 1, wall_ms());
	sqlite3_bind_int64(st, 2, release_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		fatalx("store: cannot end steps: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
}

void
release_step_end(struct store *s, int64_t step_id, bool ok, const char *detail)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(s, &st, "UPDATE release_steps SET status = ?, "
	    "ended_at = ?, detail = coalesce(?, detail) WHERE id = ?", &e) < 0)
		fatalx("%s", e.msg);
	sqlite3_bind_text(st, 1, ok ? "ok" : "failed", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, wall_ms());
	sqlite3_bind_text(st, 3, detail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, step_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		fatalx("store: cannot end step: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
}

int
deploy_lock_take(struct store *s, const char *app, int64_t release_id,
    struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	if (store_prepare(s, &st, "INSERT INTO deploy_locks (app, release_id, "
	    "started_at) VALUES (?, ?, ?)", e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, release_id);
	sqlite3_bind_int64(st, 3, wall_ms());
	rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc == SQLITE_DONE)
		return 0;
	if (deploy_lock_check(s, app, e) < 0)
		return -1;
	return err_set(e, "store: cannot lock deploys of '%s': %s", app,
	    sqlite3_errmsg(s->db));
}

int
deploy_lock_check(struct store *s, const char *app, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ret = 0;

	/* A live release still holds the lock in its watch window. */
	if (store_prepare(s, &st, "SELECT r.version, l.started_at, r.status, "
	    "(SELECT max(started_at) FROM release_steps WHERE release_id = r.id "
	    "AND step = 'watch') FROM deploy_locks l JOIN releases r ON "
	    "r.id = l.release_id WHERE l.app = ?", e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		int v = sqlite3_column_int(st, 0);
		char ts[32];

		if (strcmp((const char *)sqlite3_column_text(st, 2), "live") == 0 &&
		    sqlite3_column_type(st, 3) != SQLITE_NULL) {
			format_time(sqlite3_column_int64(st, 3), ts);
			ret = err_setk(e, ERR_CONFLICT, "'%s' v%d is live and in "
			    "its watch window since %s (the previous release is "
			    "kept warm until it ends): deploy once it is over; "
			    "`opsdeck release %s v%d` shows it", app, v, ts, app,
			    v);
		} else {
			format_time(sqlite3_column_int64(st, 1), ts);
			ret = err_setk(e, ERR_CONFLICT, "'%s' is already "
			    "deploying v%d (since %s): wait for it, or follow it "
			    "with `opsdeck release %s v%d`", app, v, ts, app, v);
		}
	}
	sqlite3_finalize(st);
	return ret;
}

void
deploy_lock_drop(struct store *s, const char *app)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(s, &st, "DELETE FROM deploy_locks WHERE app = ?",
	    &e) < 0)
		fatalx("%s", e.msg);
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		fatalx("store: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
}

static json_t *
time_json(int64_t ms)
{
	char ts[32];

	if (ms == 0)
		return json_null();
	format_time(ms, ts);
	return json_string(ts);
}

/* Steps, and the detection-to-recovery time when the timeline has both marks. */
static json_t *
timeline_json(struct store *s, int64_t id, json_t *rel)
{
	sqlite3_stmt *st = NULL;
	json_t *steps = json_array();
	int64_t detect = 0, recover = 0;
	struct err e;

	if (store_prepare(s, &st, "SELECT step, status, started_at, ended_at, "
	    "detail FROM release_steps WHERE release_id = ? ORDER BY id",
	    &e) < 0)
		return steps;
	sqlite3_bind_int64(st, 1, id);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *step = (const char *)sqlite3_column_text(st, 0);
		int64_t a = sqlite3_column_int64(st, 2);
		int64_t b = sqlite3_column_int64(st, 3);

		json_array_append_new(steps, json_pack("{s:s, s:s, s:o, s:o, "
		    "s:o, s:o}", "step", step, "status",
		    (const char *)sqlite3_column_text(st, 1), "started_at",
		    time_json(a), "ended_at", time_json(b), "duration_ms",
		    b ? json_integer(b - a) : json_null(), "detail",
		    sqlite3_column_type(st, 4) == SQLITE_NULL ? json_null() :
		    json_string((const char *)sqlite3_column_text(st, 4))));
		if (strcmp(step, "detected") == 0 && detect == 0)
			detect = a;
		if (strcmp(step, "recovered") == 0 && recover == 0)
			recover = a;
	}
	sqlite3_finalize(st);
	json_object_set_new(rel, "detection_to_recovery_ms",
	    detect && recover ? json_integer(recover - detect) : json_null());
	return steps;
}

json_t *
release_json(struct store *s, const struct release *r, bool full)
{
	json_t *o = json_object();
	char version[16];

	snprintf(version, sizeof(version), "v%d", r->version);
	json_object_set_new(o, "app", json_string(r->app));
	json_object_set_new(o, "version", json_string(version));
	json_object_set_new(o, "status", json_string(release_status_str(
	    r->status)));
	json_object_set_new(o, "artifact", json_string(r->artifact));
	json_object_set_new(o, "config_digest", json_string(r->config_digest));
	json_object_set_new(o, "secrets_version",
	    json_integer(r->secrets_version));
	json_object_set_new(o, "actor", json_string(r->actor));
	json_object_set_new(o, "message", r->message ? json_string(r->message) :
	    json_null());
	json_object_set_new(o, "created_at", time_json(r->created_at));
	json_object_set_new(o, "finished_at", time_json(r->finished_at));
	json_object_set_new(o, "duration_ms", r->finished_at ?
	    json_integer(r->finished_at - r->created_at) : json_null());
	json_object_set_new(o, "failed_step", r->failed_step ?
	    json_string(r->failed_step) : json_null());
	json_object_set_new(o, "reason", r->reason ? json_string(r->reason) :
	    json_null());
	if (full) {
		sqlite3_stmt *st = NULL;
		struct err e;

		json_object_set_new(o, "timeline", timeline_json(s, r->id, o));
		if (store_prepare(s, &st, "SELECT evidence FROM releases WHERE "
		    "id = ?", &e) == 0) {
			sqlite3_bind_int64(st, 1, r->id);
			if (sqlite3_step(st) == SQLITE_ROW &&
			    sqlite3_column_type(st, 0) != SQLITE_NULL)
				json_object_set_new(o, "evidence", json_loads(
				    (const char *)sqlite3_column_text(st, 0), 0,
				    NULL));
			sqlite3_finalize(st);
		}
	}
	return o;
}

json_t *
releases_json(struct store *s, const char *app, struct err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array();
	struct release r;

	if (store_prepare(s, &st, "SELECT " RELEASE_COLUMNS " FROM releases "
	    "WHERE app = ? ORDER BY version DESC", e) < 0) {
		json_decref(arr);
		return NULL;
	}
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW) {
		release_from_row(st, &r);
		json_array_append_new(arr, release_json(s, &r, false));
		release_release(&r);
	}
	sqlite3_finalize(st);
	return json_pack("{s:s, s:o}", "app", app, "releases", arr);
}
