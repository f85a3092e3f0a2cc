/*
 * Housekeeping. The store says which releases use which artifact and which machines
 * are in the fleet; STATE/artifacts and STATE/logs say what is on disk. Anything on
 * disk the store knows nothing of is judged by its age only, so a tree or a log that
 * another opsdeck wrote a moment ago is never taken for garbage.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "deploy/artifact.h"
#include "deploy/gc.h"
#include "store/state.h"

static const char *const kind_names[] = {
	[GC_ARTIFACT] = "artifact",
	[GC_LOG] = "log",
};

const char *
gc_kind_str(enum gc_kind k)
{
	return kind_names[k];
}

/* What the releases say of one artifact. */
struct artifact_use {
	char		 digest[65];
	const char	*kept;		/* why it is kept ("live", ...), or NULL */
	int64_t		 newest;	/* the creation of the newest release using it */
	struct buf	 users;		/* "web-app v1, v2; other v3" */
};

struct names {
	char	**v;
	size_t	  n;
};

static int
cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int
cmp_use(const void *a, const void *b)
{
	return strcmp(((const struct artifact_use *)a)->digest,
	    ((const struct artifact_use *)b)->digest);
}

static void
names_release(struct names *n)
{
	while (n->n > 0)
		free(n->v[--n->n]);
	free(n->v);
	n->v = NULL;
}

static bool
names_has(const struct names *n, const char *s)
{
	return n->n > 0 && bsearch(&s, n->v, n->n, sizeof(*n->v), cmp_str) != NULL;
}

/* The entries of dir but . and .., byte-sorted; none when it does not exist. */
static int
names_read(const char *dir, struct names *out, struct err *e)
{
	struct dirent *d;
	DIR *dp;

	out->v = NULL;
	out->n = 0;
	if ((dp = opendir(dir)) == NULL) {
		if (errno == ENOENT)
			return 0;
		return err_errno(e, "cannot read '%s'", dir);
	}
	while ((errno = 0, d = readdir(dp)) != NULL) {
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		out->v = xreallocarray(out->v, out->n + 1, sizeof(*out->v));
		out->v[out->n++] = xstrdup(d->d_name);
	}
	closedir(dp);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), cmp_str);
	return 0;
}

static int64_t
mtime_ms(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000 + st->st_mtim.tv_nsec / 1000000;
}

static struct gc_item *
item_add(struct gc_run *run, enum gc_kind kind, const char *name)
{
	struct gc_item *it;

	run->items = xreallocarray(run->items, run->nitems + 1,
	    sizeof(*run->items));
	it = &run->items[run->nitems++];
	memset(it, 0, sizeof(*it));
	it->kind = kind;
	it->name = xstrdup(name);
	return it;
}

/*
 * Every release's artifact, and whether that release is kept: a live, pending or
 * deploying one, one a deploy holds or a machine runs, the one `opsdeck rollback`
 * returns to (the newest superseded below the live one), or one of the newest
 * `releases` of its app. Sorted by digest, one entry per artifact.
 */
static int
uses_load(struct store *s, int releases, struct artifact_use **out, size_t *nout,
    struct err *e)
{
	static const char sql[] =
	    "WITH r AS (SELECT id, app, version, artifact_digest, status, "
	    "  created_at, row_number() OVER (PARTITION BY app ORDER BY version "
	    "  DESC) AS newest FROM releases), "
	    "live AS (SELECT app, max(version) AS v FROM releases WHERE "
	    "  status = 'live' GROUP BY app), "
	    "prev AS (SELECT p.app, max(p.version) AS v FROM releases p JOIN "
	    "  live l ON l.app = p.app WHERE p.status = 'superseded' AND "
	    "  p.version < l.v GROUP BY p.app) "
	    "SELECT r.artifact_digest, r.app, r.version, r.created_at, CASE "
	    "  WHEN r.status IN ('live', 'pending', 'deploying') THEN r.status "
	    "  WHEN r.id IN (SELECT release_id FROM deploy_locks) THEN 'deploying' "
	    "  WHEN r.id IN (SELECT release_id FROM machines WHERE release_id IS "
	    "    NOT NULL) THEN 'running' "
	    "  WHEN EXISTS (SELECT 1 FROM prev WHERE prev.app = r.app AND "
	    "    prev.v = r.version) THEN 'rollback' "
	    "  WHEN r.newest <= ?1 THEN 'recent' "
	    "  END FROM r ORDER BY r.artifact_digest, r.app, r.version";
	static const char *const reasons[] = { "live", "pending", "deploying",
	    "running", "rollback", "recent" };
	struct artifact_use *v = NULL, *u = NULL;
	char prev_app[64] = "";
	sqlite3_stmt *st = NULL;
	size_t n = 0, i;
	int rc, ret = -1;

	if (store_prepare(s, &st, sql, e) < 0)
		goto out;
	sqlite3_bind_int(st, 1, releases);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *digest = (const char *)sqlite3_column_text(st, 0);
		const char *app = (const char *)sqlite3_column_text(st, 1);
		const char *kept = (const char *)sqlite3_column_text(st, 4);

		if (u == NULL || strcmp(u->digest, digest) != 0) {
			v = xreallocarray(v, n + 1, sizeof(*v));
			u = &v[n++];
			memset(u, 0, sizeof(*u));
			snprintf(u->digest, sizeof(u->digest), "%s", digest);
			buf_init(&u->users, 0);
			prev_app[0] = '\0';
		}
		/* "web-app v1, v2": the app once per artifact (rows come by app). */
		if (strcmp(prev_app, app) == 0)
			buf_printf(&u->users, ", v%d", sqlite3_column_int(st, 2));
		else
			buf_printf(&u->users, "%s%s v%d", u->users.len ? "; " : "",
			    app, sqlite3_column_int(st, 2));
		snprintf(prev_app, sizeof(prev_app), "%s", app);
		for (i = 0; kept != NULL && i < sizeof(reasons) /
		    sizeof(reasons[0]); i++)
			if (strcmp(kept, reasons[i]) == 0 && u->kept == NULL)
				u->kept = reasons[i];
		if (sqlite3_column_int64(st, 3) > u->newest)
			u->newest = sqlite3_column_int64(st, 3);
	}
	if (rc != SQLITE_DONE) {
		err_set(e, "store '%s': %s", s->path, sqlite3_errmsg(s->db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	if (ret < 0) {
		for (i = 0; i < n; i++)
			buf_release(&v[i].users);
		free(v);
		v = NULL;
		n = 0;
	}
	*out = v;
	*nout = n;
	return ret;
}

static bool
is_digest(const char *s)
{
	return strlen(s) == 64 && strspn(s, "0123456789abcdef") == 64;
}

static int
plan_artifacts(struct store *s, const char *state_dir,
    const struct cfg_retain *retain, struct gc_run *run, struct err *e)
{
	char *dir = path_join(state_dir, "artifacts");
	struct artifact_use *uses = NULL, key, *u;
	struct names ents = { NULL, 0 };
	struct gc_item *it;
	struct stat st;
	size_t nuses = 0, i;
	int64_t at;
	int ret = -1;

	if (uses_load(s, retain->releases, &uses, &nuses, e) < 0 ||
	    names_read(dir, &ents, e) < 0)
		goto out;
	for (i = 0; i < ents.n; i++) {
		const char *name = ents.v[i];
		char *path = path_join(dir, name);
		bool removing = strncmp(name, ARTIFACT_REMOVING,
		    strlen(ARTIFACT_REMOVING)) == 0;
		const char *digest = removing ? name + strlen(ARTIFACT_REMOVING) :
		    name;

		if (!is_digest(digest) || lstat(path, &st) < 0 ||
		    !S_ISDIR(st.st_mode)) {
			free(path);
			continue;
		}
		free(path);
		at = mtime_ms(&st);
		snprintf(key.digest, sizeof(key.digest), "%s", digest);
		u = nuses > 0 ? bsearch(&key, uses, nuses, sizeof(*uses),
		    cmp_use) : NULL;
		if (removing) {
			it = item_add(run, GC_ARTIFACT, digest);
			it->why = xstrdup("left by a removal that was cut short");
		} else if (u != NULL && u->kept != NULL) {
			run->artifacts_kept++;
			continue;
		} else if (run->at - at < GC_IMPORT_GRACE_MS &&
		    (u == NULL || at > u->newest)) {
			/* Imported (again) since its last release: one is coming. */
			run->artifacts_kept++;
			continue;
		} else {
			it = item_add(run, GC_ARTIFACT, digest);
			if (u != NULL)
				it->why = xasprintf("%s: older than the %d kept",
				    buf_str(&u->users), retain->releases);
			else
				it->why = xstrdup("no release uses it");
		}
		it->entry = xstrdup(name);
		it->last_ms = at;
	}
	ret = 0;
out:
	for (i = 0; i < nuses; i++)
		buf_release(&uses[i].users);
	free(uses);
	names_release(&ents);
	free(dir);
	return ret;
}

static int
machines_load(struct store *s, struct names *ids, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int rc;

	ids->v = NULL;
	ids->n = 0;
	if (store_prepare(s, &st, "SELECT id FROM machines", e) < 0)
		return -1;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		ids->v = xreallocarray(ids->v, ids->n + 1, sizeof(*ids->v));
		ids->v[ids->n++] = xstrdup((const char *)sqlite3_column_text(st,
		    0));
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		names_release(ids);
		return err_set(e, "store '%s': %s", s->path,
		    sqlite3_errmsg(s->db));
	}
	if (ids->n > 1)
		qsort(ids->v, ids->n, sizeof(*ids->v), cmp_str);
	return 0;
}

/* The machine id of a log file, ID.log or ID.log.N, into id[64]; -1 for others. */
static int
log_machine(const char *file, char id[64])
{
	const char *dot = strstr(file, ".log");
	size_t n;

	if (dot == NULL || (n = (size_t)(dot - file)) == 0 || n >= 64)
		return -1;
	if (dot[4] != '\0' && (dot[4] != '.' || dot[5] == '\0' ||
	    strspn(dot + 5, "0123456789") != strlen(dot + 5)))
		return -1;
	memcpy(id, file, n);
	id[n] = '\0';
	return name_valid(id) ? 0 : -1;
}

/* One app's log dir: the files of each machine not in the fleet, grouped. */
static int
plan_app_logs(const char *state_dir, const char *app, const struct names *fleet,
    const struct cfg_retain *retain, struct gc_run *run, struct err *e)
{
	char *dir = state_log_dir(state_dir, app), id[64], next[64], ts[32];
	struct names files = { NULL, 0 };
	struct stat st;
	size_t i, j, k;
	int64_t newest, bytes;
	int ret = -1;

	if (names_read(dir, &files, e) < 0)
		goto out;
	for (i = 0; i < files.n; i = j) {
		struct gc_item *it;

		j = i + 1;
		if (log_machine(files.v[i], id) < 0)
			continue;
		while (j < files.n && log_machine(files.v[j], next) == 0 &&
		    strcmp(id, next) == 0)
			j++;
		if (names_has(fleet, id))
			continue;
		newest = 0;
		bytes = 0;
		for (k = i; k < j; k++) {
			char *path = path_join(dir, files.v[k]);

			if (lstat(path, &st) == 0 && S_ISREG(st.st_mode)) {
				if (mtime_ms(&st) > newest)
					newest = mtime_ms(&st);
				bytes += st.st_size;
			}
			free(path);
		}
		if (newest == 0 || run->at - newest < retain->logs_ms)
			continue;
		it = item_add(run, GC_LOG, id);
		it->app = xstrdup(app);
		it->files = xcalloc(j - i, sizeof(*it->files));
		for (k = i; k < j; k++)
			it->files[it->nfiles++] = path_join(dir, files.v[k]);
		it->last_ms = newest;
		it->bytes = bytes;
		format_time(newest, ts);
		it->why = xasprintf("machine %s is gone from the fleet; its log "
		    "was last written %s", id, ts);
	}
	ret = 0;
out:
	names_release(&files);
	free(dir);
	return ret;
}

static int
plan_logs(struct store *s, const char *state_dir,
    const struct cfg_retain *retain, struct gc_run *run, struct err *e)
{
	char *dir = path_join(state_dir, "logs");
	struct names apps = { NULL, 0 }, fleet = { NULL, 0 };
	size_t i;
	int ret = -1;

	if (machines_load(s, &fleet, e) < 0 || names_read(dir, &apps, e) < 0)
		goto out;
	for (i = 0; i < apps.n; i++)
		if (name_valid(apps.v[i]) && plan_app_logs(state_dir, apps.v[i],
		    &fleet, retain, run, e) < 0)
			goto out;
	ret = 0;
out:
	names_release(&apps);
	names_release(&fleet);
	free(dir);
	return ret;
}

int
gc_plan(struct store *s, const char *state_dir, const struct cfg_retain *retain,
    bool dry_run, struct gc_run *run, struct err *e)
{
	memset(run, 0, sizeof(*run));
	run->dry_run = dry_run;
	run->at = wall_ms();
	if (plan_artifacts(s, state_dir, retain, run, e) < 0 ||
	    plan_logs(s, state_dir, retain, run, e) < 0) {
		gc_run_release(run);
		return -1;
	}
	return 0;
}

static void
sweep_log(struct gc_item *it)
{
	struct buf why = BUF_INIT;
	size_t i;

	for (i = 0; i < it->nfiles; i++)
		if (unlink(it->files[i]) < 0 && errno != ENOENT)
			buf_printf(&why, "%scannot remove '%s': %s", why.len ?
			    "; " : "", it->files[i], strerror(errno));
	if (why.len > 0)
		it->error = buf_detach(&why);
}

void
gc_sweep(const char *state_dir, struct gc_run *run)
{
	struct gc_item *it;
	struct err e;
	size_t i;

	for (i = 0; i < run->nitems; i++) {
		it = &run->items[i];
		if (it->kind == GC_ARTIFACT) {
			if (run->dry_run)
				it->bytes = artifact_size(state_dir, it->entry);
			else if (artifact_remove(state_dir, it->entry, &it->bytes,
			    &e) < 0)
				it->error = xstrdup(e.msg);
		} else if (!run->dry_run)
			sweep_log(it);
		run->bytes += it->bytes;
		if (it->error != NULL)
			run->failed++;
		else if (it->kind == GC_ARTIFACT)
			run->artifacts_removed++;
		else
			run->logs_removed++;
	}
}

int
gc_collect(struct store *s, const char *state_dir,
    const struct cfg_retain *retain, bool dry_run, const char *actor,
    struct gc_run *run, struct err *e)
{
	if (gc_plan(s, state_dir, retain, dry_run, run, e) < 0)
		return -1;
	gc_sweep(state_dir, run);
	return gc_record(s, actor, run, e);
}

bool
gc_removes_artifact(const struct gc_run *run, const char *digest)
{
	size_t i;

	for (i = 0; run != NULL && i < run->nitems; i++)
		if (run->items[i].kind == GC_ARTIFACT &&
		    strcmp(run->items[i].name, digest) == 0)
			return true;
	return false;
}

int
gc_record(struct store *s, const char *actor, const struct gc_run *run,
    struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (run->dry_run)
		return 0;
	if (store_prepare(s, &st, "INSERT INTO gc_runs (at, actor, "
	    "artifacts_kept, artifacts_removed, logs_removed, bytes_freed, "
	    "failed) VALUES (?, ?, ?, ?, ?, ?, ?)", e) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, run->at);
	sqlite3_bind_text(st, 2, actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (int64_t)run->artifacts_kept);
	sqlite3_bind_int64(st, 4, (int64_t)run->artifacts_removed);
	sqlite3_bind_int64(st, 5, (int64_t)run->logs_removed);
	sqlite3_bind_int64(st, 6, run->bytes);
	sqlite3_bind_int64(st, 7, (int64_t)run->failed);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err_set(e, "store: cannot record the gc run: %s",
		    sqlite3_errmsg(s->db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

char *
gc_summary(const struct gc_run *run)
{
	char size[32];
	struct buf b = BUF_INIT;
	const char *verb = run->dry_run ? "would remove" : "removed";

	size_format(run->bytes, size);
	buf_printf(&b, "%s %zu artifact%s and %zu log%s (%s), kept %zu "
	    "artifact%s", verb, run->artifacts_removed,
	    run->artifacts_removed == 1 ? "" : "s", run->logs_removed,
	    run->logs_removed == 1 ? "" : "s", size, run->artifacts_kept,
	    run->artifacts_kept == 1 ? "" : "s");
	if (run->failed > 0)
		buf_printf(&b, "; %zu could not be removed", run->failed);
	return buf_detach(&b);
}

json_t *
gc_run_json(const struct gc_run *run)
{
	json_t *items = json_array(), *o, *files, *out;
	char ts[32], *summary = gc_summary(run);
	size_t i, j;

	for (i = 0; i < run->nitems; i++) {
		const struct gc_item *it = &run->items[i];

		format_time(it->last_ms, ts);
		if (it->kind == GC_ARTIFACT)
			o = json_pack("{s:s, s:s}", "kind", "artifact", "digest",
			    it->name);
		else {
			files = json_array();
			for (j = 0; j < it->nfiles; j++)
				json_array_append_new(files,
				    json_string(it->files[j]));
			o = json_pack("{s:s, s:s, s:s, s:o}", "kind", "log", "app",
			    it->app, "machine", it->name, "files", files);
		}
		json_object_set_new(o, "why", json_string(it->why));
		json_object_set_new(o, "last_written", json_string(ts));
		json_object_set_new(o, "bytes", json_integer(it->bytes));
		if (it->error != NULL)
			json_object_set_new(o, "error", json_string(it->error));
		json_array_append_new(items, o);
	}
	format_time(run->at, ts);
	out = json_pack("{s:b, s:s, s:s, s:I, s:I, s:I, s:I, s:I, s:o}",
	    "dry_run", run->dry_run, "at", ts, "summary", summary,
	    "artifacts_kept",
	    (json_int_t)run->artifacts_kept, "artifacts_removed",
	    (json_int_t)run->artifacts_removed, "logs_removed",
	    (json_int_t)run->logs_removed, "bytes_freed", (json_int_t)run->bytes,
	    "failed", (json_int_t)run->failed, "removed", items);
	free(summary);
	return out;
}

json_t *
gc_last_json(struct store *s)
{
	sqlite3_stmt *st = NULL;
	json_t *out = NULL;
	struct err e;
	char ts[32];

	if (store_prepare(s, &st, "SELECT at, actor, artifacts_kept, "
	    "artifacts_removed, logs_removed, bytes_freed, failed FROM gc_runs "
	    "ORDER BY id DESC LIMIT 1", &e) == 0 &&
	    sqlite3_step(st) == SQLITE_ROW) {
		format_time(sqlite3_column_int64(st, 0), ts);
		out = json_pack("{s:s, s:s, s:I, s:I, s:I, s:I, s:I}", "at", ts,
		    "actor", (const char *)sqlite3_column_text(st, 1),
		    "artifacts_kept", (json_int_t)sqlite3_column_int64(st, 2),
		    "artifacts_removed", (json_int_t)sqlite3_column_int64(st, 3),
		    "logs_removed", (json_int_t)sqlite3_column_int64(st, 4),
		    "bytes_freed", (json_int_t)sqlite3_column_int64(st, 5),
		    "failed", (json_int_t)sqlite3_column_int64(st, 6));
	}
	sqlite3_finalize(st);
	return out != NULL ? out : json_null();
}

void
gc_run_release(struct gc_run *run)
{
	size_t i, j;

	for (i = 0; i < run->nitems; i++) {
		struct gc_item *it = &run->items[i];

		for (j = 0; j < it->nfiles; j++)
			free(it->files[j]);
		free(it->files);
		free(it->name);
		free(it->entry);
		free(it->app);
		free(it->why);
		free(it->error);
	}
	free(run->items);
	memset(run, 0, sizeof(*run));
}
