/*
 * Housekeeping's decisions on a made-up state dir: releases in the store, trees and
 * logs on disk with the ages gc judges them by, then what gc_plan lists and what
 * gc_sweep leaves.
 */
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/util.h"
#include "core/xmalloc.h"
#include "deploy/gc.h"
#include "store/store.h"

#define DAY_MS	(24LL * 3600 * 1000)

struct fixture {
	char		 dir[64];
	struct store	 store;
	int64_t		 now;
};

static char *
digest_of(char c)
{
	char *d = xcalloc(1, 65);

	memset(d, c, 64);
	return d;
}

static void
age(const char *path, int64_t ms_ago, int64_t now)
{
	struct timespec ts[2];
	int64_t at = now - ms_ago;

	ts[0].tv_sec = ts[1].tv_sec = at / 1000;
	ts[0].tv_nsec = ts[1].tv_nsec = (at % 1000) * 1000000;
	assert_int_equal(utimensat(AT_FDCWD, path, ts, AT_SYMLINK_NOFOLLOW), 0);
}

/* A stored tree of digest c...c holding one file of size bytes, ms_ago old. */
static void
tree(struct fixture *f, char c, size_t size, int64_t ms_ago)
{
	char *d = digest_of(c), *dir = xasprintf("%s/artifacts/%s", f->dir, d);
	char *file = xasprintf("%s/start.sh", dir), *blob = xcalloc(1, size + 1);
	struct err e;

	memset(blob, 'x', size);
	assert_int_equal(mkdir_p(dir, 0755, &e), 0);
	assert_int_equal(file_write_atomic(file, blob, size, 0555, &e), 0);
	/* As an import leaves it: read-only. */
	assert_int_equal(chmod(dir, 0555), 0);
	age(dir, ms_ago, f->now);
	free(blob);
	free(file);
	free(dir);
	free(d);
}

static void
release(struct fixture *f, int id, const char *app, int version, char c,
    const char *status)
{
	char *d = digest_of(c), *sql;
	struct err e;

	sql = xasprintf("INSERT INTO releases (id, app, version, artifact_digest, "
	    "config_digest, config_snapshot, secrets_version, actor, status, "
	    "created_at) VALUES (%d, '%s', %d, '%s', 'x', '{}', 0, 't', '%s', "
	    "%lld)", id, app, version, d, status,
	    (long long)(f->now - 10 * DAY_MS + version));
	assert_int_equal(store_exec(&f->store, sql, &e), 0);
	free(sql);
	free(d);
}

static void
log_file(struct fixture *f, const char *name, int64_t ms_ago)
{
	char *dir = xasprintf("%s/logs/web", f->dir);
	char *path = xasprintf("%s/%s", dir, name);
	struct err e;

	assert_int_equal(mkdir_p(dir, 0750, &e), 0);
	assert_int_equal(file_write_atomic(path, "line\n", 5, 0640, &e), 0);
	age(path, ms_ago, f->now);
	free(path);
	free(dir);
}

static bool
exists(struct fixture *f, const char *rel)
{
	char *path = xasprintf("%s/%s", f->dir, rel);
	bool ok = access(path, F_OK) == 0;

	free(path);
	return ok;
}

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	char *db;
	struct err e;

	snprintf(f->dir, sizeof(f->dir), "/tmp/opsdeck-gc.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	db = xasprintf("%s/opsdeck.db", f->dir);
	if (store_open(&f->store, db, &e) < 0)
		return -1;
	free(db);
	f->now = wall_ms();
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("chmod -R u+w '%s' && rm -rf '%s'", f->dir, f->dir);

	store_close(&f->store);
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	free(f);
	return 0;
}

static const struct gc_item *
find(const struct gc_run *run, const char *name)
{
	size_t i;

	for (i = 0; i < run->nitems; i++)
		if (strcmp(run->items[i].name, name) == 0)
			return &run->items[i];
	return NULL;
}

static void
test_plan_and_sweep(void **state)
{
	struct fixture *f = *state;
	struct cfg_retain retain = { 2, 14 * DAY_MS };
	struct gc_run run;
	struct err e;
	char *d[8], *rel;
	int i;

	for (i = 0; i < 8; i++)
		d[i] = digest_of((char)('1' + i));
	/* web: v1 still runs a machine, v2's tree was imported again just now, v3
	 * only old releases use (twice), v4 is the rollback target, v5 is live. */
	release(f, 1, "web", 1, '1', "superseded");
	release(f, 2, "web", 2, '2', "superseded");
	release(f, 3, "web", 3, '3', "superseded");
	release(f, 4, "web", 4, '3', "rolled_back");
	release(f, 5, "web", 5, '4', "superseded");
	release(f, 6, "web", 6, '5', "live");
	/* api: one failed release, the newest of its app. */
	release(f, 7, "api", 1, '6', "failed");
	assert_int_equal(store_exec(&f->store, "INSERT INTO machines (id, app, "
	    "process, idx, release_id, state, created_at, updated_at) VALUES "
	    "('aaaa', 'web', 'web', 0, 1, 'stopping', 0, 0)", &e), 0);
	tree(f, '1', 10, 10 * DAY_MS);
	tree(f, '2', 10, 0);
	tree(f, '3', 100, 10 * DAY_MS);
	tree(f, '4', 10, 10 * DAY_MS);
	tree(f, '5', 10, 10 * DAY_MS);
	tree(f, '6', 10, 10 * DAY_MS);
	tree(f, '7', 7, 2 * GC_IMPORT_GRACE_MS);	/* no release: stale */
	tree(f, '8', 10, 60 * 1000);		/* no release yet: a deploy's */
	log_file(f, "aaaa.log", 30 * DAY_MS);		/* in the fleet */
	log_file(f, "bbbb.log", 20 * DAY_MS);		/* gone, old */
	log_file(f, "bbbb.log.1", 21 * DAY_MS);
	log_file(f, "cccc.log", 13 * DAY_MS);		/* gone, recent */
	log_file(f, "notes.txt", 30 * DAY_MS);		/* not a machine's */

	assert_int_equal(gc_plan(&f->store, f->dir, &retain, true, &run, &e), 0);
	assert_int_equal(run.nitems, 3);
	assert_non_null(find(&run, d[2]));
	assert_string_equal(find(&run, d[2])->why,
	    "web v3, v4: older than the 2 kept");
	assert_non_null(find(&run, d[6]));
	assert_string_equal(find(&run, d[6])->why, "no release uses it");
	assert_non_null(find(&run, "bbbb"));
	assert_int_equal(find(&run, "bbbb")->nfiles, 2);
	assert_int_equal(run.artifacts_kept, 6);
	assert_true(gc_removes_artifact(&run, d[2]));
	assert_false(gc_removes_artifact(&run, d[3]));
	gc_sweep(f->dir, &run);
	assert_int_equal(run.artifacts_removed, 2);
	assert_int_equal(run.logs_removed, 1);
	assert_int_equal(run.bytes, 100 + 7 + 10);
	assert_int_equal(run.failed, 0);
	/* A dry run removes nothing. */
	rel = xasprintf("artifacts/%s", d[2]);
	assert_true(exists(f, rel));
	assert_true(exists(f, "logs/web/bbbb.log.1"));
	gc_run_release(&run);

	assert_int_equal(gc_plan(&f->store, f->dir, &retain, false, &run, &e), 0);
	gc_sweep(f->dir, &run);
	assert_int_equal(run.artifacts_removed, 2);
	assert_int_equal(run.bytes, 117);
	assert_false(exists(f, rel));
	assert_false(exists(f, "logs/web/bbbb.log"));
	assert_false(exists(f, "logs/web/bbbb.log.1"));
	for (i = 0; i < 8; i++) {
		char *p = xasprintf("artifacts/%s", d[i]);

		assert_int_equal(exists(f, p), i != 2 && i != 6);
		free(p);
	}
	assert_true(exists(f, "logs/web/aaaa.log"));
	assert_true(exists(f, "logs/web/cccc.log"));
	assert_true(exists(f, "logs/web/notes.txt"));
	assert_int_equal(gc_record(&f->store, "t", &run, &e), 0);
	gc_run_release(&run);

	/* Nothing is left to remove; the run was recorded. */
	assert_int_equal(gc_plan(&f->store, f->dir, &retain, false, &run, &e), 0);
	assert_int_equal(run.nitems, 0);
	gc_run_release(&run);
	json_t *last = gc_last_json(&f->store);

	assert_int_equal(json_integer_value(json_object_get(last,
	    "artifacts_removed")), 2);
	assert_int_equal(json_integer_value(json_object_get(last,
	    "bytes_freed")), 117);
	json_decref(last);
	free(rel);
	for (i = 0; i < 8; i++)
		free(d[i]);
}

/* A removal cut short leaves .gc-DIGEST: the next run finishes it. */
static void
test_interrupted_removal(void **state)
{
	struct fixture *f = *state;
	struct cfg_retain retain = { 10, 14 * DAY_MS };
	struct gc_run run;
	struct err e;
	char *d = digest_of('a'), *from, *to;

	tree(f, 'a', 5, 0);
	from = xasprintf("%s/artifacts/%s", f->dir, d);
	to = xasprintf("%s/artifacts/.gc-%s", f->dir, d);
	assert_int_equal(rename(from, to), 0);
	assert_int_equal(gc_plan(&f->store, f->dir, &retain, false, &run, &e), 0);
	assert_int_equal(run.nitems, 1);
	gc_sweep(f->dir, &run);
	assert_int_equal(run.artifacts_removed, 1);
	assert_int_equal(access(to, F_OK), -1);
	gc_run_release(&run);
	free(from);
	free(to);
	free(d);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_plan_and_sweep, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_interrupted_removal, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
