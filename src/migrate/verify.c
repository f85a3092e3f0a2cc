/*
 * The file is read in order into a list of expectations (a table made, a column
 * added, an index built…); a later DROP or RENAME in the same file updates the list.
 * Each expectation is then checked by one query of the table below.
 */
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/xmalloc.h"
#include "migrate/pg.h"
#include "migrate/verify.h"

enum expect_kind {
	EX_RELATION,	/* table, view, sequence, materialized view */
	EX_COLUMN,
	EX_INDEX,
	EX_CONSTRAINT,
	EX_TYPE,
	EX_SCHEMA,
	EX_EXTENSION,
	EX_FUNCTION,
};

struct expect {
	enum expect_kind kind;
	char	*rel;		/* quoted, qualified relation, or the object's name */
	char	*sub;		/* column, constraint or index column, or NULL */
	int	 line;
	int	 dropped;
};

struct expects {
	struct expect	*v;
	size_t		 n, cap;
};

static const char *const kind_names[] = {
	[EX_RELATION] = "relation",
	[EX_COLUMN] = "column",
	[EX_INDEX] = "index",
	[EX_CONSTRAINT] = "constraint",
	[EX_TYPE] = "type",
	[EX_SCHEMA] = "schema",
	[EX_EXTENSION] = "extension",
	[EX_FUNCTION] = "function",
};

static char *
qualify(const char *schema, const char *name)
{
	struct buf b = BUF_INIT;

	if (schema != NULL) {
		sql_quote_ident_always(&b, schema);
		buf_addch(&b, '.');
	}
	sql_quote_ident_always(&b, name != NULL ? name : "");
	return buf_detach(&b);
}

static char *
qualify_rv(const json_t *rv)
{
	return qualify(json_str(rv, "schemaname"), json_str(rv, "relname"));
}

/* schema.name from a list of String nodes (or a {"List":…}). */
static char *
qualify_names(const json_t *names)
{
	const json_t *items = names, *l;
	size_t n;

	if (json_is_object(names) && (l = json_object_get(names, "List")) != NULL)
		items = json_object_get(l, "items");
	n = json_array_size(items);
	if (n == 0)
		return xstrdup("");
	return qualify(n >= 2 ? json_str(json_object_get(json_array_get(items,
	    n - 2), "String"), "sval") : NULL, json_str(json_object_get(
	    json_array_get(items, n - 1), "String"), "sval"));
}

static void
expect_add(struct expects *x, enum expect_kind k, char *rel, const char *sub,
    int line)
{
	struct expect *e;

	if (x->n == x->cap) {
		x->cap = x->cap == 0 ? 16 : x->cap * 2;
		x->v = xreallocarray(x->v, x->cap, sizeof(*x->v));
	}
	e = &x->v[x->n++];
	e->kind = k;
	e->rel = rel;
	e->sub = sub != NULL ? xstrdup(sub) : NULL;
	e->line = line;
	e->dropped = 0;
}

static void
expects_release(struct expects *x)
{
	size_t i;

	for (i = 0; i < x->n; i++) {
		free(x->v[i].rel);
		free(x->v[i].sub);
	}
	free(x->v);
}

/* Marks expectations on rel (and sub, when given) as dropped by a later statement. */
static void
expect_drop(struct expects *x, const char *rel, const char *sub)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if (strcmp(x->v[i].rel, rel) == 0 && (sub == NULL ||
		    (x->v[i].sub != NULL && strcmp(x->v[i].sub, sub) == 0)))
			x->v[i].dropped = 1;
}

static void
constraint_expect(struct expects *x, const char *rel, const json_t *con, int line)
{
	const char *name = json_str(con, "conname"), *t = json_str(con, "contype");

	if (name == NULL || t == NULL || strcmp(t, "CONSTR_NOTNULL") == 0 ||
	    strcmp(t, "CONSTR_DEFAULT") == 0 || strcmp(t, "CONSTR_NULL") == 0)
		return;
	expect_add(x, EX_CONSTRAINT, xstrdup(rel), name, line);
}

static void
collect(const struct sql_file *f, struct expects *x)
{
	size_t i, j, k;

	for (i = 0; i < f->n; i++) {
		const struct sql_stmt *st = &f->stmts[i];
		const char *type = sql_stmt_type(st);
		const json_t *n = type != NULL ? json_object_get(st->tree, type) : NULL;
		int line = st->line;
		char *rel;

		if (type == NULL)
			continue;
		if (strcmp(type, "CreateStmt") == 0) {
			const json_t *elts = json_object_get(n, "tableElts");

			rel = qualify_rv(json_object_get(n, "relation"));
			expect_add(x, EX_RELATION, xstrdup(rel), NULL, line);
			for (j = 0; j < json_array_size(elts); j++) {
				const json_t *el = json_array_get(elts, j);
				const json_t *cd = json_object_get(el, "ColumnDef");
				const json_t *cons;

				if (cd != NULL) {
					expect_add(x, EX_COLUMN, xstrdup(rel),
					    json_str(cd, "colname"), line);
					cons = json_object_get(cd, "constraints");
					for (k = 0; k < json_array_size(cons); k++)
						constraint_expect(x, rel, json_object_get(
						    json_array_get(cons, k), "Constraint"),
						    line);
				} else if (json_object_get(el, "Constraint") != NULL)
					constraint_expect(x, rel, json_object_get(el,
					    "Constraint"), line);
			}
			free(rel);
		} else if (strcmp(type, "AlterTableStmt") == 0) {
			const json_t *cmds = json_object_get(n, "cmds");

			rel = qualify_rv(json_object_get(n, "relation"));
			for (j = 0; j < json_array_size(cmds); j++) {
				const json_t *c = json_object_get(json_array_get(cmds, j),
				    "AlterTableCmd");
				const char *sub = json_str(c, "subtype");
				const json_t *def = json_object_get(c, "def");

				if (sub == NULL)
					continue;
				if (strcmp(sub, "AT_AddColumn") == 0)
					expect_add(x, EX_COLUMN, xstrdup(rel), json_str(
					    json_object_get(def, "ColumnDef"), "colname"),
					    line);
				else if (strcmp(sub, "AT_AddConstraint") == 0)
					constraint_expect(x, rel, json_object_get(def,
					    "Constraint"), line);
				else if (strcmp(sub, "AT_ValidateConstraint") == 0 &&
				    json_str(c, "name") != NULL)
					expect_add(x, EX_CONSTRAINT, xstrdup(rel),
					    json_str(c, "name"), line);
				else if (strcmp(sub, "AT_DropColumn") == 0 ||
				    strcmp(sub, "AT_DropConstraint") == 0)
					expect_drop(x, rel, json_str(c, "name"));
			}
			free(rel);
		} else if (strcmp(type, "IndexStmt") == 0) {
			const json_t *rv = json_object_get(n, "relation");
			const json_t *first = json_object_get(json_array_get(
			    json_object_get(n, "indexParams"), 0), "IndexElem");

			if (json_str(n, "idxname") != NULL)
				expect_add(x, EX_INDEX, qualify(json_str(rv,
				    "schemaname"), json_str(n, "idxname")), NULL, line);
			else if (json_str(first, "name") != NULL) {
				/* unnamed: found by its table and first column */
				expect_add(x, EX_INDEX, qualify_rv(rv),
				    json_str(first, "name"), line);
			}
		} else if (strcmp(type, "ViewStmt") == 0)
			expect_add(x, EX_RELATION, qualify_rv(json_object_get(n,
			    "view")), NULL, line);
		else if (strcmp(type, "CreateTableAsStmt") == 0)
			expect_add(x, EX_RELATION, qualify_rv(json_object_get(
			    json_object_get(n, "into"), "rel")), NULL, line);
		else if (strcmp(type, "CreateSeqStmt") == 0)
			expect_add(x, EX_RELATION, qualify_rv(json_object_get(n,
			    "sequence")), NULL, line);
		else if (strcmp(type, "CreateEnumStmt") == 0 ||
		    strcmp(type, "CreateRangeStmt") == 0)
			expect_add(x, EX_TYPE, qualify_names(json_object_get(n,
			    "typeName")), NULL, line);
		else if (strcmp(type, "CreateDomainStmt") == 0)
			expect_add(x, EX_TYPE, qualify_names(json_object_get(n,
			    "domainname")), NULL, line);
		else if (strcmp(type, "CompositeTypeStmt") == 0)
			expect_add(x, EX_TYPE, qualify_rv(json_object_get(n,
			    "typevar")), NULL, line);
		else if (strcmp(type, "CreateSchemaStmt") == 0 &&
		    json_str(n, "schemaname") != NULL)
			expect_add(x, EX_SCHEMA, xstrdup(json_str(n, "schemaname")),
			    NULL, line);
		else if (strcmp(type, "CreateExtensionStmt") == 0)
			expect_add(x, EX_EXTENSION, xstrdup(json_str(n, "extname")),
			    NULL, line);
		else if (strcmp(type, "CreateFunctionStmt") == 0) {
			const json_t *fn = json_object_get(n, "funcname");

			expect_add(x, EX_FUNCTION, xstrdup(json_str(json_object_get(
			    json_array_get(fn, json_array_size(fn) - 1), "String"),
			    "sval")), NULL, line);
		} else if (strcmp(type, "DropStmt") == 0) {
			const json_t *objs = json_object_get(n, "objects");

			for (j = 0; j < json_array_size(objs); j++) {
				char *q = qualify_names(json_array_get(objs, j));

				expect_drop(x, q, NULL);
				free(q);
			}
		} else if (strcmp(type, "RenameStmt") == 0 &&
		    json_object_get(n, "relation") != NULL) {
			const char *rt = json_str(n, "renameType");

			rel = qualify_rv(json_object_get(n, "relation"));
			if (rt != NULL && strcmp(rt, "OBJECT_COLUMN") == 0)
				expect_drop(x, rel, json_str(n, "subname"));
			else
				expect_drop(x, rel, NULL);
			free(rel);
		}
	}
}

/* Runs one parameterised check; NULL (and a problem) when the query failed. */
static PGresult *
q(PGconn *c, const char *sql, const char *a, const char *b, struct err *e)
{
	const char *p[2] = { a, b };

	return pg_query(c, sql, b != NULL ? 2 : 1, p, "verify query", e);
}

#define INDEX_SQL \
	"SELECT i.indisvalid, i.indisready, i.indrelid::regclass::text, " \
	"CASE WHEN i.indkey[0] = 0 THEN '(' || pg_get_indexdef(i.indexrelid, 1, true) || ')' " \
	"ELSE quote_ident(a.attname) END, " \
	"COALESCE(format_type(a.atttypid, a.atttypmod), format_type(ia.atttypid, ia.atttypmod)), " \
	"pg_get_expr(i.indpred, i.indrelid), i.indexrelid::regclass::text " \
	"FROM pg_index i JOIN pg_attribute ia ON ia.attrelid = i.indexrelid AND ia.attnum = 1 " \
	"LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] " \
	"WHERE i.indexrelid = $1::regclass"
#define UNNAMED_INDEX_SQL \
	"SELECT i.indexrelid::regclass::text FROM pg_index i " \
	"JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] " \
	"WHERE i.indrelid = to_regclass($1) AND a.attname = $2 " \
	"ORDER BY i.indexrelid DESC LIMIT 1"

/* EXPLAIN of a query on the index's leading column, as a generic plan. */
static void
explain_index(PGconn *c, PGresult *ir, json_t *o)
{
	struct buf sql = BUF_INIT, plan = BUF_INIT, query = BUF_INIT;
	PGresult *r = NULL;
	struct err e;
	int i;

	buf_printf(&query, "SELECT * FROM %s WHERE %s = $1", PQgetvalue(ir, 0, 2),
	    PQgetvalue(ir, 0, 3));
	if (!PQgetisnull(ir, 0, 5))
		buf_printf(&query, " AND (%s)", PQgetvalue(ir, 0, 5));
	buf_printf(&sql, "PREPARE opsdeck_verify(%s) AS %s", PQgetvalue(ir, 0, 4),
	    buf_str(&query));
	json_object_set_new(o, "query", json_string(buf_str(&query)));
	if (pg_exec(c, "SAVEPOINT opsdeck_explain", "savepoint", &e) < 0 ||
	    pg_exec(c, buf_str(&sql), "preparing the query", &e) < 0 ||
	    (r = pg_query(c, "EXPLAIN EXECUTE opsdeck_verify(NULL)", 0, NULL,
	    "EXPLAIN", &e)) == NULL) {
		json_object_set_new(o, "explain_error", json_string(e.msg));
		PQclear(PQexec(c, "ROLLBACK TO SAVEPOINT opsdeck_explain"));
		goto out;
	}
	for (i = 0; i < PQntuples(r); i++)
		buf_printf(&plan, "%s\n", PQgetvalue(r, i, 0));
	json_object_set_new(o, "plan", json_string(buf_str(&plan)));
	json_object_set_new(o, "uses_index", json_boolean(
	    strstr(buf_str(&plan), PQgetvalue(ir, 0, 6)) != NULL));
	PQclear(PQexec(c, "DEALLOCATE opsdeck_verify"));
out:
	PQclear(r);
	buf_release(&sql);
	buf_release(&query);
	buf_release(&plan);
}

/* Checks one expectation; sets "status" (ok, missing, invalid, not-validated). */
static int
check(PGconn *c, const struct expect *x, json_t *o, struct err *e)
{
	PGresult *r = NULL;
	const char *status = "ok", *detail = NULL;
	char *idx = NULL;
	int ret = -1;

	switch (x->kind) {
	case EX_RELATION:
		r = q(c, "SELECT to_regclass($1) IS NOT NULL", x->rel, NULL, e);
		if (r != NULL && strcmp(PQgetvalue(r, 0, 0), "t") != 0)
			status = "missing";
		break;
	case EX_COLUMN:
		r = q(c, "SELECT count(*) FROM pg_attribute WHERE attrelid = to_regclass($1) "
		    "AND attname = $2 AND attnum > 0 AND NOT attisdropped",
		    x->rel, x->sub, e);
		if (r != NULL && strcmp(PQgetvalue(r, 0, 0), "0") == 0)
			status = "missing";
		break;
	case EX_CONSTRAINT:
		r = q(c, "SELECT convalidated FROM pg_constraint WHERE "
		    "conrelid = to_regclass($1) AND conname = $2", x->rel, x->sub, e);
		if (r != NULL && PQntuples(r) == 0)
			status = "missing";
		else if (r != NULL && strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
			status = "not-validated";
			detail = "added NOT VALID and not validated yet: run ALTER TABLE … VALIDATE CONSTRAINT";
		}
		break;
	case EX_INDEX:
		if (x->sub != NULL) {
			r = q(c, UNNAMED_INDEX_SQL, x->rel, x->sub, e);
			if (r == NULL)
				break;
			if (PQntuples(r) == 0) {
				status = "missing";
				break;
			}
			idx = xstrdup(PQgetvalue(r, 0, 0));
			PQclear(r);
			json_object_set_new(o, "index", json_string(idx));
		}
		r = q(c, "SELECT to_regclass($1) IS NOT NULL", idx != NULL ? idx :
		    x->rel, NULL, e);
		if (r == NULL)
			break;
		if (strcmp(PQgetvalue(r, 0, 0), "t") != 0) {
			status = "missing";
			break;
		}
		PQclear(r);
		r = q(c, INDEX_SQL, idx != NULL ? idx : x->rel, NULL, e);
		if (r == NULL || PQntuples(r) == 0) {
			status = "missing";
			break;
		}
		if (strcmp(PQgetvalue(r, 0, 0), "t") != 0 ||
		    strcmp(PQgetvalue(r, 0, 1), "t") != 0) {
			status = "invalid";
			detail = "the index is not valid or not ready (a failed CREATE INDEX CONCURRENTLY?): DROP INDEX CONCURRENTLY it and build it again";
		} else
			explain_index(c, r, o);
		break;
	case EX_TYPE:
		r = q(c, "SELECT to_regtype($1) IS NOT NULL", x->rel, NULL, e);
		if (r != NULL && strcmp(PQgetvalue(r, 0, 0), "t") != 0)
			status = "missing";
		break;
	case EX_SCHEMA:
		r = q(c, "SELECT count(*) FROM pg_namespace WHERE nspname = $1",
		    x->rel, NULL, e);
		if (r != NULL && strcmp(PQgetvalue(r, 0, 0), "0") == 0)
			status = "missing";
		break;
	case EX_EXTENSION:
		r = q(c, "SELECT count(*) FROM pg_extension WHERE extname = $1",
		    x->rel, NULL, e);
		if (r != NULL && strcmp(PQgetvalue(r, 0, 0), "0") == 0)
			status = "missing";
		break;
	case EX_FUNCTION:
		r = q(c, "SELECT count(*) FROM pg_proc WHERE proname = $1",
		    x->rel, NULL, e);
		if (r != NULL && strcmp(PQgetvalue(r, 0, 0), "0") == 0)
			status = "missing";
		break;
	}
	if (r == NULL && strcmp(status, "missing") != 0)
		goto out;
	json_object_set_new(o, "status", json_string(status));
	if (detail != NULL)
		json_object_set_new(o, "detail", json_string(detail));
	ret = strcmp(status, "ok") == 0 ? 0 : 1;
out:
	PQclear(r);
	free(idx);
	return ret;
}

int
verify_run(const char *url, const struct sql_file *f, json_t **report,
    struct err *e)
{
	struct expects x = { NULL, 0, 0 };
	PGconn *c = NULL;
	json_t *rep = json_object(), *checks = json_array();
	char *safe = pg_url_redact(url);
	size_t i, problems = 0;
	int in_tx = 0, ret = -1;

	*report = NULL;
	json_object_set_new(rep, "checks", checks);
	for (i = 0; i < f->n; i++)
		if (f->stmts[i].error != NULL) {
			err_set(e, "%s:%d:%d: %s: fix the syntax first",
			    f->path, f->stmts[i].error_line,
			    f->stmts[i].error_col, f->stmts[i].error);
			goto out;
		}
	collect(f, &x);
	json_object_set_new(rep, "file", json_string(f->path));
	json_object_set_new(rep, "database", json_string(safe));
	if (pg_connect(url, NULL, &c, e) < 0)
		goto out;
	if (pg_exec(c, "BEGIN READ ONLY", "begin", e) < 0 ||
	    pg_exec(c, "SET LOCAL plan_cache_mode = force_generic_plan",
	    "setting plan_cache_mode", e) < 0)
		goto out;
	in_tx = 1;
	for (i = 0; i < x.n; i++) {
		json_t *o;
		int r;

		if (x.v[i].dropped)
			continue;	/* a later statement of the file drops or renames it */
		o = json_object();
		json_object_set_new(o, "line", json_integer(x.v[i].line));
		json_object_set_new(o, "kind", json_string(kind_names[x.v[i].kind]));
		json_object_set_new(o, "object", json_string(x.v[i].rel));
		if (x.v[i].sub != NULL)
			json_object_set_new(o, x.v[i].kind == EX_INDEX ? "column" :
			    "name", json_string(x.v[i].sub));
		json_array_append_new(checks, o);
		if ((r = check(c, &x.v[i], o, e)) < 0)
			goto out;
		if (r > 0)
			problems++;
	}
	json_object_set_new(rep, "problems", json_integer((json_int_t)problems));
	ret = problems > 0 ? 1 : 0;
out:
	if (c != NULL && in_tx)
		PQclear(PQexec(c, "ROLLBACK"));
	if (c != NULL)
		PQfinish(c);
	expects_release(&x);
	free(safe);
	if (ret >= 0)
		*report = rep;
	else
		json_decref(rep);
	return ret;
}

void
verify_print(const json_t *rep, FILE *out)
{
	const json_t *o;
	size_t i;

	fprintf(out, "verify %s on %s\n", json_str(rep, "file"),
	    json_str(rep, "database"));
	json_array_foreach(json_object_get(rep, "checks"), i, o) {
		const char *plan = json_str(o, "plan"), *p;

		fprintf(out, "%-13s %s:%lld: %s ", json_str(o, "status"),
		    json_str(rep, "file"), json_int(o, "line", 0),
		    json_str(o, "kind"));
		if (json_str(o, "name") != NULL)
			fprintf(out, "%s of ", json_str(o, "name"));
		fputs(json_str(o, "object"), out);
		if (json_str(o, "index") != NULL)
			fprintf(out, " (index %s on column %s)",
			    json_str(o, "index"), json_str(o, "column"));
		fputc('\n', out);
		if (json_str(o, "detail") != NULL)
			fprintf(out, "              %s\n", json_str(o, "detail"));
		if (json_str(o, "query") != NULL)
			fprintf(out, "              EXPLAIN %s%s\n", json_str(o, "query"),
			    json_is_false(json_object_get(o, "uses_index")) ?
			    "  (the planner does not pick this index for it)" : "");
		if (json_str(o, "explain_error") != NULL)
			fprintf(out, "              %s\n", json_str(o, "explain_error"));
		for (p = plan; p != NULL && *p != '\0';) {
			size_t n = strcspn(p, "\n");

			fprintf(out, "                %.*s\n", (int)n, p);
			p += n + (p[n] == '\n');
		}
	}
	fprintf(out, "%lld problem%s\n", json_int(rep, "problems", 0),
	    json_int(rep, "problems", 0) == 1 ? "" : "s");
}
