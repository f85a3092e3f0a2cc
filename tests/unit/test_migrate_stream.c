/*
 * sql_file_each_window splits a file a window at a time: whatever the window, it
 * must hand over the statements one walk of the whole file does, at the same
 * positions, with the same trees, errors and ignore directives. Checked on every
 * lint case (tests/migrate/cases) and on texts made to put window ends in quotes,
 * comments, dollar quotes, UTF-8 sequences and scanner errors.
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "migrate/sql.h"

static const size_t windows[] = { 1, 2, 3, 7, 16, 61, 256, 4096 };

struct seen {
	struct sql_stmt	*v;
	size_t		 n;
	const struct sql_file *file;	/* what fn was given */
};

static int
keep(const struct sql_file *f, const struct sql_stmt *st, void *arg)
{
	struct seen *s = arg;
	struct sql_stmt *c;

	s->file = f;
	s->v = xreallocarray(s->v, s->n + 1, sizeof(*s->v));
	c = &s->v[s->n++];
	*c = *st;
	c->text = xstrdup(st->text);
	c->tree = json_incref(st->tree);
	c->error = st->error != NULL ? xstrdup(st->error) : NULL;
	c->ignore = st->ignore != NULL ? xstrdup(st->ignore) : NULL;
	return 0;
}

static void
seen_release(struct seen *s)
{
	size_t i;

	for (i = 0; i < s->n; i++) {
		free(s->v[i].text);
		json_decref(s->v[i].tree);
		free(s->v[i].error);
		free(s->v[i].ignore);
	}
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static void
str_same(const char *a, const char *b, const char *what, const char *name,
    size_t window, size_t i)
{
	if ((a == NULL) != (b == NULL) || (a != NULL && strcmp(a, b) != 0))
		fail_msg("%s, window %zu, statement %zu: %s '%s' != '%s'", name,
		    window, i, what, a != NULL ? a : "(null)",
		    b != NULL ? b : "(null)");
}

/* Walks text whole and in each window size; every walk must agree. */
static void
same_walks(const char *name, const char *text, size_t len)
{
	struct sql_file whole, win;
	struct err e;
	size_t k, i;

	assert_int_equal(sql_file_parse(name, text, len, &whole, &e), 0);
	for (k = 0; k < sizeof(windows) / sizeof(windows[0]); k++) {
		struct seen s = { NULL, 0, NULL };

		assert_int_equal(sql_file_each_window(name, text, len, windows[k],
		    &win, keep, &s, &e), 0);
		if (s.n != whole.n || win.n != whole.n)
			fail_msg("%s, window %zu: %zu statements, not %zu", name,
			    windows[k], s.n, whole.n);
		if (s.n > 0)
			assert_ptr_equal(s.file, &win);
		str_same(win.ignore_file, whole.ignore_file, "ignore-file", name,
		    windows[k], 0);
		for (i = 0; i < s.n; i++) {
			const struct sql_stmt *a = &s.v[i], *b = &whole.stmts[i];

			str_same(a->text, b->text, "text", name, windows[k], i);
			str_same(a->error, b->error, "error", name, windows[k], i);
			str_same(a->ignore, b->ignore, "ignore", name, windows[k], i);
			if (a->offset != b->offset || a->line != b->line ||
			    a->col != b->col || a->error_line != b->error_line ||
			    a->error_col != b->error_col ||
			    a->error_rest != b->error_rest ||
			    a->error_newer != b->error_newer)
				fail_msg("%s, window %zu, statement %zu: at %zu "
				    "%d:%d (error %d:%d), not %zu %d:%d (%d:%d)",
				    name, windows[k], i, a->offset, a->line,
				    a->col, a->error_line, a->error_col,
				    b->offset, b->line, b->col, b->error_line,
				    b->error_col);
			if ((a->tree == NULL) != (b->tree == NULL) ||
			    (a->tree != NULL && !json_equal(a->tree, b->tree)))
				fail_msg("%s, window %zu, statement %zu: trees differ",
				    name, windows[k], i);
		}
		seen_release(&s);
		sql_file_release(&win);
	}
	sql_file_release(&whole);
}

static int
is_sql(const struct dirent *d)
{
	size_t n = strlen(d->d_name);

	return n > 4 && strcmp(d->d_name + n - 4, ".sql") == 0;
}

static void
test_cases(void **state)
{
	const char *src = getenv("OPSDECK_SRC");
	char *dir = xasprintf("%s/tests/migrate/cases", src != NULL ? src : ".");
	struct dirent **names;
	int i, n;

	(void)state;
	n = scandir(dir, &names, is_sql, alphasort);
	assert_true(n > 100);
	for (i = 0; i < n; i++) {
		struct buf text = BUF_INIT;
		struct err e;
		char *path = xasprintf("%s/%s", dir, names[i]->d_name);

		assert_int_equal(file_read(path, 0, &text, &e), 0);
		same_walks(names[i]->d_name, buf_str(&text), text.len);
		buf_release(&text);
		free(path);
		free(names[i]);
	}
	free(names);
	free(dir);
}

static void
test_edges(void **state)
{
	static const char *const texts[] = {
		"",
		"  -- only a comment\n/* and a block */\n",
		"SELECT 1",
		"SELECT 1;SELECT 2;;;SELECT 3",
		"-- opsdeck-ignore-file a, b\n/* x /* nested */ y */ SELECT 1;\n"
		    "\t-- opsdeck-ignore drop-column,c\n  ALTER TABLE t\n  DROP "
		    "COLUMN x;;\nSELECT 'é'; SELECT FROM WHERE;\n"
		    "-- opsdeck-ignore-file d\n",
		"SELEC 1;\nDROP TABLE x;\nFOO;\nBAR;\nSELECT 2;\n",
		"DROP TABLE a; SELECT 1x;\nDROP TABLE b; SELECT 1e5, 0x1f;\n",
		"DROP TABLE a;\nUPDATE t SET s = 'x;\nDROP TABLE b;",
		"DROP TABLE a;\n/* open comment; DROP TABLE b;",
		"CREATE FUNCTION f() RETURNS int LANGUAGE sql AS $body$ SELECT 1; "
		    "SELECT 2; $body$;\nCREATE FUNCTION g() RETURNS int AS $$ "
		    "SELECT ';' $$ LANGUAGE sql;\nDO $x$ BEGIN PERFORM 1; END $x$;",
		"INSERT INTO t VALUES ('a;b'), (E'c\\';d'), ($q$e;f$q$), "
		    "(U&'\\0041;'), (\"x;y\");\nSELECT 'ünï', 'çödé' ; SELECT 'ß';\n"
		    "SELECT 1 -- trailing; comment\n; SELECT (1; SELECT 2;\n",
		"CREATE TABLE t (a int, CONSTRAINT n NOT NULL a);\n"
		    "SELECT * FROM (SELECT 1);\nSELECT 1;\n",
		"SELECT 1;\r\n\r\n-- opsdeck-ignore x\r\nSELECT 2;\r\n\f\vSELECT 3;",
		"SELECT '\xff\xfe';\nSELECT 2;\n",
	};
	static const char nul[] = "SELECT 1;\nSELECT 2;\n\0\x01\x02garbage";
	struct buf big = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char name[32];

		snprintf(name, sizeof(name), "edge-%zu.sql", i);
		same_walks(name, texts[i], strlen(texts[i]));
	}
	same_walks("nul.sql", nul, sizeof(nul) - 1);
	/* a statement much larger than the window, among small ones */
	buf_addstr(&big, "CREATE TABLE t (a int);\nINSERT INTO t VALUES (0)");
	for (i = 1; i < 3000; i++)
		buf_printf(&big, ", (%zu)", i);
	buf_addstr(&big, ";\nALTER TABLE t ADD COLUMN b int;\n");
	same_walks("big.sql", buf_str(&big), big.len);
	buf_release(&big);
}

/* fn returning -1 stops the walk there, as sql_file_each's does. */
static int
stop_at_two(const struct sql_file *f, const struct sql_stmt *st, void *arg)
{
	size_t *n = arg;

	(void)f;
	(void)st;
	return ++*n == 2 ? -1 : 0;
}

static void
test_stop(void **state)
{
	static const char sql[] = "SELECT 1; SELECT 2; SELECT 3; SELECT 4;";
	struct sql_file f;
	struct err e;
	size_t n = 0;

	(void)state;
	assert_int_equal(sql_file_each_window("s.sql", sql, sizeof(sql) - 1, 4,
	    &f, stop_at_two, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_int_equal(f.n, 2);
	sql_file_release(&f);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_edges),
		cmocka_unit_test(test_stop),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
