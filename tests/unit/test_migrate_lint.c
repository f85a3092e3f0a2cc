/*
 * Migration lint, data-driven: each tests/migrate/cases/NAME.sql is linted and its
 * findings, in gcc format with the file's base name, must equal NAME.expected.
 * A first line "-- lint-options: policy=additive-only assume-in-transaction
 * pg-version=N include=RULE" sets options; prefer-robust-statement runs only in
 * the cases named after it. Every rule needs a case raising it and a RULE-ok case
 * that does not. OPSDECK_REGEN=1 rewrites the .expected files (review the diff).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>
#include <pg_query.h>

#include "core/buf.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "migrate/lint.h"
#include "migrate/locks.h"
#include "migrate/pgjson.h"
#include "migrate/sql.h"

static char *
cases_dir(void)
{
	const char *src = getenv("OPSDECK_SRC");

	return xasprintf("%s/tests/migrate/cases", src != NULL ? src : ".");
}

static void
options_from(const struct sql_file *f, const char *text,
    struct lint_options *o)
{
	static const char tag[] = "-- lint-options:";
	const char *p, *eol;

	memset(o, 0, sizeof(*o));
	/*
	 * Each case is about its own rule: prefer-robust-statement, which most
	 * multi-statement files outside a transaction raise, only in its cases.
	 */
	if (strncmp(f->path, "prefer-robust-statement",
	    strlen("prefer-robust-statement")) != 0)
		o->exclude = "prefer-robust-statement";
	if (strncmp(text, tag, sizeof(tag) - 1) != 0)
		return;
	eol = strchr(text, '\n');
	p = text + sizeof(tag) - 1;
	if (strstr(p, "policy=additive-only") != NULL &&
	    (eol == NULL || strstr(p, "policy=additive-only") < eol))
		o->policy = LINT_POLICY_ADDITIVE_ONLY;
	if (strstr(p, "assume-in-transaction") != NULL &&
	    (eol == NULL || strstr(p, "assume-in-transaction") < eol))
		o->assume_in_transaction = true;
	if ((p = strstr(text, "include=")) != NULL && (eol == NULL || p < eol)) {
		static char include[64];

		snprintf(include, sizeof(include), "%.*s",
		    (int)strcspn(p + strlen("include="), " \n"),
		    p + strlen("include="));
		o->include = include;
	}
	p = text + sizeof(tag) - 1;
	if ((p = strstr(p, "pg-version=")) != NULL && (eol == NULL || p < eol))
		o->pg_version = atoi(p + strlen("pg-version="));
}

/* Lints path and returns its findings in gcc format, named by base. */
static char *
lint_gcc(const char *path, const char *base)
{
	struct buf text = BUF_INIT, out = BUF_INIT;
	struct lint_options o;
	struct lint_report r;
	struct sql_file f;
	struct err e;
	size_t i;

	assert_int_equal(file_read(path, 0, &text, &e), 0);
	assert_int_equal(sql_file_parse(base, buf_str(&text), text.len, &f, &e),
	    0);
	options_from(&f, buf_str(&text), &o);
	lint_file(&o, &f, &r);
	for (i = 0; i < r.nfindings; i++)
		buf_printf(&out, "%s:%d:%d: %s: %s [%s]\n", base,
		    r.findings[i].line, r.findings[i].col,
		    lint_severity_str(r.findings[i].severity),
		    r.findings[i].message, r.findings[i].rule->id);
	lint_report_release(&r);
	sql_file_release(&f);
	buf_release(&text);
	return buf_detach(&out);
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
	struct dirent **ents = NULL;
	char *dir = cases_dir();
	bool regen = getenv("OPSDECK_REGEN") != NULL;
	int n, i, failed = 0;

	(void)state;
	n = scandir(dir, &ents, is_sql, alphasort);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		char *path = xasprintf("%s/%s", dir, ents[i]->d_name);
		char *exp_path = xasprintf("%.*s.expected",
		    (int)(strlen(path) - 4), path);
		struct buf want = BUF_INIT;
		struct err e;
		char *got = lint_gcc(path, ents[i]->d_name);

		if (regen) {
			assert_int_equal(file_write_atomic(exp_path, got,
			    strlen(got), 0644, &e), 0);
		} else if (file_read(exp_path, 0, &want, &e) < 0) {
			print_error("%s: missing\n", exp_path);
			failed++;
		} else if (strcmp(buf_str(&want), got) != 0) {
			print_error("%s:\n--- expected\n%s--- got\n%s",
			    ents[i]->d_name, buf_str(&want), got);
			failed++;
		}
		buf_release(&want);
		free(got);
		free(exp_path);
		free(path);
		free(ents[i]);
	}
	free(ents);
	free(dir);
	assert_int_equal(failed, 0);
}

/* Every rule has a positive case (some .expected raises it) and RULE-ok.sql. */
static void
test_every_rule_has_cases(void **state)
{
	char *dir = cases_dir();
	size_t i;
	int missing = 0;

	(void)state;
	for (i = 0; i < lint_rules_count; i++) {
		const char *id = lint_rules[i].id;
		char *pos = xasprintf("%s/%s.expected", dir, id);
		char *neg = xasprintf("%s/%s-ok.expected", dir, id);
		char *tag = xasprintf("[%s]", id);
		struct buf b = BUF_INIT;
		struct err e;

		if (file_read(pos, 0, &b, &e) < 0 ||
		    strstr(buf_str(&b), tag) == NULL) {
			print_error("rule %s: %s does not raise it\n", id, pos);
			missing++;
		}
		buf_reset(&b);
		if (file_read(neg, 0, &b, &e) < 0 ||
		    strstr(buf_str(&b), tag) != NULL) {
			print_error("rule %s: %s missing or raises it\n", id, neg);
			missing++;
		}
		buf_release(&b);
		free(pos);
		free(neg);
		free(tag);
	}
	free(dir);
	assert_int_equal(missing, 0);
}

static void
test_positions_and_ignores(void **state)
{
	static const char sql[] =
	    "-- opsdeck-ignore-file a, b\n"
	    "/* x /* nested */ y */ SELECT 1;\n"
	    "\t-- opsdeck-ignore drop-column,c\n"
	    "  ALTER TABLE t\n  DROP COLUMN x;;\n"
	    "SELECT 'é'; SELECT FROM WHERE;\n"
	    "-- opsdeck-ignore-file d\n";
	struct sql_file f;
	struct err e;

	(void)state;
	assert_int_equal(sql_file_parse("p.sql", sql, sizeof(sql) - 1, &f, &e),
	    0);
	assert_int_equal(f.n, 4);
	assert_int_equal(f.stmts[0].line, 2);
	assert_int_equal(f.stmts[0].col, 24);
	assert_null(f.stmts[0].ignore);
	assert_int_equal(f.stmts[1].line, 4);
	assert_int_equal(f.stmts[1].col, 3);
	assert_string_equal(f.stmts[1].ignore, "drop-column,c");
	assert_string_equal(sql_stmt_type(&f.stmts[1]), "AlterTableStmt");
	/* columns count characters: 'é' is one */
	assert_int_equal(f.stmts[3].line, 6);
	assert_int_equal(f.stmts[3].col, 13);
	assert_non_null(f.stmts[3].error);
	assert_null(f.stmts[3].tree);
	assert_int_equal(f.stmts[3].error_line, 6);
	assert_int_equal(f.stmts[3].error_col, 25);
	assert_string_equal(f.ignore_file, "a,b,d");
	sql_file_release(&f);
}

static void
test_nul_and_empty(void **state)
{
	static const char bin[] = "SELECT 1;\n\0\x01\x02garbage";
	struct sql_file f;
	struct err e;

	(void)state;
	assert_int_equal(sql_file_parse("b.sql", bin, sizeof(bin) - 1, &f, &e), 0);
	assert_int_equal(f.n, 2);
	assert_non_null(f.stmts[1].error);
	assert_int_equal(f.stmts[1].error_line, 2);
	sql_file_release(&f);
	assert_int_equal(sql_file_parse("e.sql", "", 0, &f, &e), 0);
	assert_int_equal(f.n, 0);
	sql_file_release(&f);
	assert_int_equal(sql_file_parse("c.sql", "  -- x\n/* y */\n", 15, &f,
	    &e), 0);
	assert_int_equal(f.n, 0);
	sql_file_release(&f);
}

/*
 * What the scanner cannot split is a statement with an error, never a failure: the
 * statements around it are kept, and an unterminated quote says it took in the rest.
 */
static void
test_scanner_errors(void **state)
{
	static const char typo[] = "SELEC 1;\nDROP TABLE x;\n";
	static const char junk[] = "DROP TABLE a; SELECT 1x;\nDROP TABLE b;";
	static const char open[] = "DROP TABLE a;\nUPDATE t SET s = 'x;\nDROP TABLE b;";
	struct sql_file f;
	struct err e;

	(void)state;
	assert_int_equal(sql_file_parse("t.sql", typo, strlen(typo), &f, &e), 0);
	assert_int_equal(f.n, 2);
	assert_non_null(f.stmts[0].error);
	assert_string_equal(sql_stmt_type(&f.stmts[1]), "DropStmt");
	assert_int_equal(f.stmts[1].line, 2);
	sql_file_release(&f);

	assert_int_equal(sql_file_parse("j.sql", junk, strlen(junk), &f, &e), 0);
	assert_int_equal(f.n, 3);
	assert_string_equal(f.stmts[1].error,
	    "trailing junk after numeric literal at or near \"1x\"");
	assert_int_equal(f.stmts[1].error_col, 22);
	assert_false(f.stmts[1].error_rest);
	assert_string_equal(sql_stmt_type(&f.stmts[2]), "DropStmt");
	sql_file_release(&f);

	assert_int_equal(sql_file_parse("o.sql", open, strlen(open), &f, &e), 0);
	assert_int_equal(f.n, 2);
	assert_string_equal(sql_stmt_type(&f.stmts[0]), "DropStmt");
	assert_string_equal(f.stmts[1].error, "unterminated quoted string at or "
	    "near \"'x;\\nDROP TABLE b;\"");
	assert_int_equal(f.stmts[1].error_line, 2);
	assert_int_equal(f.stmts[1].error_col, 18);
	assert_true(f.stmts[1].error_rest);
	sql_file_release(&f);
}

/* Messages quote the file as one printable line. */
static void
test_excerpt(void **state)
{
	static const char raw[] = "a\tb\nc\x01\x7f\xff\xc3\xa9\xc2\x85\xed\xa0\x80";
	struct buf b = BUF_INIT;

	(void)state;
	sql_excerpt(&b, raw, strlen(raw), SIZE_MAX);
	/* é stays; a C1 control, a lone byte and a surrogate do not */
	assert_string_equal(buf_str(&b),
	    "a\\tb\\nc\\x01\\x7f\\xff\xc3\xa9\\xc2\\x85\\xed\\xa0\\x80");
	buf_reset(&b);
	sql_excerpt(&b, "abc\xc3\xa9" "f", 6, 4);
	assert_string_equal(buf_str(&b), "abc\xc3\xa9...");
	buf_reset(&b);
	sql_excerpt(&b, "ab\n", 3, 3);
	assert_string_equal(buf_str(&b), "ab...");
	buf_release(&b);
}

/* A large file is linear: 20000 statements, each one parsed once. */
static void
test_large_file(void **state)
{
	struct buf b = BUF_INIT;
	/* the last finding is the file's own, not one about reruns */
	struct lint_options o = { .exclude = "prefer-robust-statement" };
	struct lint_report r;
	struct sql_file f;
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < 20000; i++)
		buf_printf(&b, "ALTER TABLE t%zu ADD COLUMN c bigint;\n", i % 50);
	buf_addstr(&b, "ALTER TABLE t1 DROP COLUMN c;\n");
	assert_int_equal(sql_file_parse("big.sql", buf_str(&b), b.len, &f, &e), 0);
	assert_int_equal(f.n, 20001);
	lint_file(&o, &f, &r);
	assert_int_equal(r.nstmts, 20001);
	assert_int_equal(r.stmts[20000].line, 20001);
	assert_string_equal(r.findings[r.nfindings - 1].rule->id, "drop-column");
	lint_report_release(&r);
	sql_file_release(&f);
	buf_release(&b);
}

/*
 * Broken statements split in linear time and the same way however many there are;
 * parentheses that balance far away (past the scanner's window) end one statement.
 */
static void
test_broken_many(void **state)
{
	static const char one[] = "DROP TABLE a;\nSELECT (1;\nSELECT (2 + 3);\n";
	struct buf b = BUF_INIT;
	struct sql_file small, f;
	struct err e;
	size_t i, k;

	(void)state;
	assert_int_equal(sql_file_parse("s.sql", one, strlen(one), &small, &e),
	    0);
	assert_int_equal(small.n, 3);
	assert_non_null(small.stmts[1].error);
	assert_null(small.stmts[2].error);
	for (i = 0; i < 10000; i++)
		buf_addstr(&b, one);
	assert_int_equal(sql_file_parse("m.sql", buf_str(&b), b.len, &f, &e), 0);
	assert_int_equal(f.n, 30000);
	for (i = 0; i < f.n; i++) {
		k = i % 3;
		assert_int_equal(f.stmts[i].line, small.stmts[k].line +
		    (int)(i / 3) * 3);
		assert_string_equal(f.stmts[i].text, small.stmts[k].text);
		if (small.stmts[k].error != NULL)
			assert_string_equal(f.stmts[i].error,
			    small.stmts[k].error);
		else
			assert_null(f.stmts[i].error);
	}
	sql_file_release(&f);
	sql_file_release(&small);

	buf_reset(&b);
	buf_addstr(&b, "SELECT (1");
	for (i = 0; i < 500; i++)
		buf_addstr(&b, "; x");
	buf_addstr(&b, ");\nDROP TABLE b;\n");
	assert_int_equal(sql_file_parse("p.sql", buf_str(&b), b.len, &f, &e), 0);
	assert_int_equal(f.n, 2);
	assert_non_null(f.stmts[0].error);
	assert_string_equal(sql_stmt_type(&f.stmts[1]), "DropStmt");
	assert_int_equal(f.stmts[1].line, 2);
	sql_file_release(&f);
	buf_release(&b);
}

/* The conflict matrix of the documentation is symmetric. */
static void
test_lock_matrix(void **state)
{
	int a, b;

	(void)state;
	for (a = LOCK_ACCESS_SHARE; a < LOCK_MODE_COUNT; a++)
		for (b = LOCK_ACCESS_SHARE; b < LOCK_MODE_COUNT; b++)
			assert_int_equal(lock_conflicts(a, b), lock_conflicts(b, a));
	assert_true(lock_conflicts(LOCK_SHARE, LOCK_ROW_EXCLUSIVE));
	assert_false(lock_conflicts(LOCK_SHARE, LOCK_SHARE));
	assert_false(lock_conflicts(LOCK_ACCESS_SHARE, LOCK_EXCLUSIVE));
	assert_true(lock_conflicts(LOCK_SHARE_UPDATE_EXCLUSIVE,
	    LOCK_SHARE_UPDATE_EXCLUSIVE));
	assert_false(lock_blocks_writes(LOCK_SHARE_UPDATE_EXCLUSIVE));
	assert_true(lock_blocks_writes(LOCK_SHARE));
}

static void
test_locks_per_statement(void **state)
{
	static const struct {
		const char *sql, *relation, *mode;
	} cases[] = {
		{ "ALTER TABLE s.t ADD COLUMN c text", "s.t", "ACCESS EXCLUSIVE" },
		{ "ALTER TABLE t VALIDATE CONSTRAINT k", "t",
		    "SHARE UPDATE EXCLUSIVE" },
		{ "ALTER TABLE t ADD CONSTRAINT k FOREIGN KEY (a) REFERENCES u",
		    "t", "SHARE ROW EXCLUSIVE" },
		{ "CREATE INDEX i ON t (a)", "t", "SHARE" },
		{ "CREATE INDEX CONCURRENTLY i ON t (a)", "t",
		    "SHARE UPDATE EXCLUSIVE" },
		{ "DROP TABLE a.b", "a.b", "ACCESS EXCLUSIVE" },
		{ "VACUUM FULL t", "t", "ACCESS EXCLUSIVE" },
		{ "ANALYZE t", "t", "SHARE UPDATE EXCLUSIVE" },
		{ "UPDATE t SET a = 1", "t", "ROW EXCLUSIVE" },
		{ "LOCK TABLE t IN SHARE ROW EXCLUSIVE MODE", "t",
		    "SHARE ROW EXCLUSIVE" },
		{ "CREATE TRIGGER g AFTER INSERT ON t FOR EACH ROW EXECUTE "
		    "FUNCTION f()", "t", "SHARE ROW EXCLUSIVE" },
		{ "REFRESH MATERIALIZED VIEW CONCURRENTLY m", "m", "EXCLUSIVE" },
		{ "ALTER INDEX i RENAME TO j", "i", "SHARE UPDATE EXCLUSIVE" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct lock_list l = { 0 };
		struct sql_file f;
		struct err e;

		assert_int_equal(sql_file_parse("l.sql", cases[i].sql,
		    strlen(cases[i].sql), &f, &e), 0);
		assert_int_equal(f.n, 1);
		lock_statement(sql_stmt_type(&f.stmts[0]), json_object_get(
		    f.stmts[0].tree, sql_stmt_type(&f.stmts[0])), &l);
		assert_true(l.n >= 1);
		assert_string_equal(l.v[0].relation, cases[i].relation);
		assert_string_equal(lock_mode_str(l.v[0].mode), cases[i].mode);
		lock_list_release(&l);
		sql_file_release(&f);
	}
}

/* Statements and ALTER subcommands in SQL words, never libpg_query's node names. */
static void
test_sql_words(void **state)
{
	static const struct {
		const char *sql, *words, *cmd;
	} cases[] = {
		{ "ALTER TABLE t ALTER COLUMN age TYPE bigint", "ALTER TABLE",
		    "ALTER COLUMN age TYPE" },
		{ "ALTER TABLE t DROP COLUMN \"Legacy\"", "ALTER TABLE",
		    "DROP COLUMN \"Legacy\"" },
		{ "ALTER TABLE t VALIDATE CONSTRAINT fk", "ALTER TABLE",
		    "VALIDATE CONSTRAINT fk" },
		{ "ALTER TABLE t DISABLE TRIGGER ALL", "ALTER TABLE",
		    "DISABLE TRIGGER ALL" },
		{ "ALTER TABLE t ALTER COLUMN c DROP DEFAULT", "ALTER TABLE",
		    "ALTER COLUMN c DROP DEFAULT" },
		{ "ALTER TABLE t ADD COLUMN c int", "ALTER TABLE", "ADD COLUMN c" },
		{ "ALTER INDEX i SET (fillfactor = 70)", "ALTER INDEX",
		    "SET (storage parameters)" },
		{ "DROP INDEX i", "DROP INDEX", NULL },
		{ "REVOKE SELECT ON t FROM r", "REVOKE", NULL },
		{ "ANALYZE t", "ANALYZE", NULL },
		{ "CREATE MATERIALIZED VIEW m AS SELECT 1", "CREATE MATERIALIZED VIEW",
		    NULL },
		{ "CREATE FOREIGN TABLE f (a int) SERVER s", "CREATE FOREIGN TABLE",
		    NULL },
		{ "COMMIT", "COMMIT", NULL },
	};
	size_t i;

	(void)state;
	assert_string_equal(sql_node_words(NULL), "(does not parse)");
	assert_string_equal(sql_alter_words("AT_SetNotNull"),
	    "ALTER COLUMN … SET NOT NULL");
	assert_string_equal(sql_object_words("OBJECT_MATVIEW"),
	    "MATERIALIZED VIEW");
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct buf b = BUF_INIT;
		struct sql_file f;
		struct err e;
		const char *type;
		const json_t *node;

		assert_int_equal(sql_file_parse("w.sql", cases[i].sql,
		    strlen(cases[i].sql), &f, &e), 0);
		type = sql_stmt_type(&f.stmts[0]);
		node = json_object_get(f.stmts[0].tree, type);
		assert_string_equal(sql_stmt_words(type, node), cases[i].words);
		if (cases[i].cmd != NULL) {
			sql_alter_cmd_words(&b, json_object_get(json_array_get(
			    json_object_get(node, "cmds"), 0), "AlterTableCmd"));
			assert_string_equal(buf_str(&b), cases[i].cmd);
		}
		buf_release(&b);
		sql_file_release(&f);
	}
}

/* pgjson_load builds json_loads's tree, keys in the same order, or leaves it. */
static void
assert_same_tree(const char *text, bool fast)
{
	json_t *a = pgjson_load(text), *b = json_loads(text, 0, NULL);
	char *sa, *sb;

	if (fast && a == NULL)
		fail_msg("pgjson_load refused %s", text);
	if (a == NULL) {
		json_decref(b);
		return;
	}
	if (b == NULL)
		fail_msg("pgjson_load took what json_loads refuses: %s", text);
	sa = json_dumps(a, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	sb = json_dumps(b, JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
	assert_string_equal(sa, sb);
	assert_true(json_equal(a, b));
	free(sa);
	free(sb);
	json_decref(a);
	json_decref(b);
}

static void
test_pgjson(void **state)
{
	static const char *const fast[] = {
		"{}", "[]", " { \"a\" : [ 1 , -2, 0, true, false, null ] } ",
		"{\"a\":\"x\\\"y\\\\z\\/\\b\\f\\n\\r\\t\"}",
		"{\"k\\n\":{\"k\\t\":\"v\"},\"k2\":1}",
		"{\"a\":\"\\u00e9\\u20ac\\ud83d\\ude00\\u001f\"}",
		"{\"a\":\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"}",
		"{\"a\":1,\"a\":2}", "{\"\":\"\"}",
		"[922337203685477580, -922337203685477580]",
	};
	static const char *const other[] = {
		"", "1", "\"s\"", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}",
		"[01]", "[1.5]", "[1e3]", "[-]", "[9223372036854775807]",
		"[99999999999999999999]", "[tru]", "[truex]", "{} x",
		"[\"\\u0000\"]", "[\"\\ud800\"]", "[\"\\udc00\"]",
		"[\"\\ud800\\u0041\"]", "[\"\\x\"]", "[\"\\u12\"]",
		"[\"\x01\"]", "[\"\xe9\"]", "[\"\xc0\xaf\"]", "[\"\xed\xa0\x80\"]",
		"[\"\xf4\x90\x80\x80\"]", "[\"abc", "{\"a\":\"\xe2\x82\"}",
	};
	static const char *const sql[] = {
		"CREATE TABLE t (id bigint PRIMARY KEY, name text DEFAULT 'a\"b\\\\c')",
		"ALTER TABLE \"we\"\"ird\" ADD COLUMN \"caf\xc3\xa9\" int NOT NULL "
		    "DEFAULT -1",
		"SELECT E'tab\\there\\nnew\\x01', $$dollar \"q\"$$, 1.5, "
		    "-9223372036854775808",
		"CREATE INDEX CONCURRENTLY i ON t USING gin (to_tsvector('english', "
		    "body)) WHERE NOT deleted",
	};
	struct buf deep = BUF_INIT;
	PgQueryParseResult r;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(fast) / sizeof(fast[0]); i++)
		assert_same_tree(fast[i], true);
	for (i = 0; i < sizeof(other) / sizeof(other[0]); i++) {
		assert_null(pgjson_load(other[i]));
		assert_same_tree(other[i], false);
	}
	for (i = 0; i < sizeof(sql) / sizeof(sql[0]); i++) {
		r = pg_query_parse(sql[i]);
		assert_null(r.error);
		assert_same_tree(r.parse_tree, true);
		pg_query_free_parse_result(r);
	}
	/* nesting as deep as json_loads reads, and deeper: left to it */
	for (i = 0; i < 2047; i++)
		buf_addch(&deep, '[');
	for (i = 0; i < 2047; i++)
		buf_addch(&deep, ']');
	assert_same_tree(buf_str(&deep), true);
	buf_reset(&deep);
	for (i = 0; i < 3000; i++)
		buf_addch(&deep, '[');
	for (i = 0; i < 3000; i++)
		buf_addch(&deep, ']');
	assert_null(pgjson_load(buf_str(&deep)));
	buf_release(&deep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_every_rule_has_cases),
		cmocka_unit_test(test_positions_and_ignores),
		cmocka_unit_test(test_nul_and_empty),
		cmocka_unit_test(test_scanner_errors),
		cmocka_unit_test(test_excerpt),
		cmocka_unit_test(test_large_file),
		cmocka_unit_test(test_broken_many),
		cmocka_unit_test(test_lock_matrix),
		cmocka_unit_test(test_locks_per_statement),
		cmocka_unit_test(test_sql_words),
		cmocka_unit_test(test_pgjson),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
