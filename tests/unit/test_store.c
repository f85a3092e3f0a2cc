/* The store's schema: fresh, upgraded in place, refused when newer or foreign. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "core/util.h"
#include "store/store.h"

static char dir[] = "/tmp/opsdeck-store-XXXXXX";
static char path[256];

static int
setup(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/opsdeck-store-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/opsdeck.db", dir);
	return 0;
}

static int
teardown(void **state)
{
	char p[300];

	(void)state;
	unlink(path);
	snprintf(p, sizeof(p), "%s-wal", path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", path);
	unlink(p);
	rmdir(dir);
	return 0;
}

static int
query_int(struct store *s, const char *sql)
{
	sqlite3_stmt *st = NULL;
	struct err e;
	int v = -1;

	assert_int_equal(store_prepare(s, &st, sql, &e), 0);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static void
test_fresh_store_is_current(void **state)
{
	struct store s;
	struct err e;

	(void)state;
	assert_int_equal(store_open(&s, path, &e), 0);
	assert_int_equal(query_int(&s, "PRAGMA user_version"),
	    store_schema_version());
	assert_int_equal(query_int(&s, "PRAGMA application_id"),
	    STORE_APPLICATION_ID);
	store_close(&s);
}

static void
test_old_store_is_upgraded_in_place(void **state)
{
	struct store s;
	struct err e;

	(void)state;
	/* A version-1 store with a machine in it, as an older opsdeck left it. */
	s.db = NULL;
	assert_int_equal(sqlite3_open(path, &s.db), SQLITE_OK);
	s.path = strdup(path);
	assert_int_equal(store_exec(&s, "PRAGMA application_id = 1869640548",
	    &e), 0);
	assert_int_equal(store_migrate_to(&s, 1, &e), 0);
	assert_int_equal(store_exec(&s, "INSERT INTO machines (id, app, "
	    "process, idx, state, created_at, updated_at) VALUES "
	    "('abc', 'web-app', 'web', 0, 'started', 1, 1)", &e), 0);
	store_close(&s);

	assert_int_equal(store_open(&s, path, &e), 0);
	assert_int_equal(query_int(&s, "PRAGMA user_version"),
	    store_schema_version());
	/* Recorded state survives the upgrade, and the new tables exist. */
	assert_int_equal(query_int(&s, "SELECT count(*) FROM machines "
	    "WHERE id = 'abc'"), 1);
	assert_int_equal(query_int(&s, "SELECT count(*) FROM apps"), 0);
	assert_int_equal(query_int(&s, "SELECT count(*) FROM evidence"), 0);
	store_close(&s);
}

static void
test_newer_store_is_refused(void **state)
{
	struct store s;
	struct err e;

	(void)state;
	assert_int_equal(store_open(&s, path, &e), 0);
	assert_int_equal(store_exec(&s, "PRAGMA user_version = 999", &e), 0);
	store_close(&s);
	assert_int_equal(store_open(&s, path, &e), -1);
	assert_non_null(strstr(e.msg, "schema version 999, newer"));
	assert_non_null(strstr(e.msg, path));
}

static void
test_foreign_store_is_refused(void **state)
{
	sqlite3 *db;
	struct store s;
	struct err e;

	(void)state;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "CREATE TABLE t (x)", NULL, NULL,
	    NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(&s, path, &e), -1);
	assert_non_null(strstr(e.msg, "did not create"));
}

static void
test_other_application_is_refused(void **state)
{
	sqlite3 *db;
	struct store s;
	struct err e;

	(void)state;
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, "PRAGMA application_id = 42", NULL,
	    NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	assert_int_equal(store_open(&s, path, &e), -1);
	assert_non_null(strstr(e.msg, "another program"));
}

static void
test_garbage_is_refused(void **state)
{
	struct store s;
	struct err e;
	FILE *f = fopen(path, "w");

	(void)state;
	assert_non_null(f);
	for (int i = 0; i < 512; i++)
		fputs("this is not a database ", f);
	fclose(f);
	assert_int_equal(store_open(&s, path, &e), -1);
	assert_non_null(strstr(e.msg, path));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_fresh_store_is_current,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_old_store_is_upgraded_in_place, setup, teardown),
		cmocka_unit_test_setup_teardown(test_newer_store_is_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_foreign_store_is_refused,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_other_application_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_is_refused, setup,
		    teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
