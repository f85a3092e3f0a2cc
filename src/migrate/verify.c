/*
 * The file is read in order into a list of expectations (a table made, a column
 * added, an index built…); a later DROP or RENAME in the same file updates the list.
 * What belongs to a table (columns, indexes, constraints, triggers) records the
 * table, so dropping or renaming the table takes it along. Each expectation is then
 * checked by one query.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libpq-fe.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "migrate/pg.h"
#include "migrate/verify.h"

enum expect_kind {
	EX_RELATION,	/* table, view, sequence, materialized view */
	EX_COLUMN,
	EX_INDEX,
	EX_UNNAMED_INDEX,	/* found by table, key columns and uniqueness */
	EX_CONSTRAINT,
	EX_UNNAMED_CONSTRAINT,	/* found by table, type and columns */
	EX_TRIGGER,
	EX_TYPE,
	EX_SCHEMA,
	EX_EXTENSION,
	EX_FUNCTION,
};

#define KIND(k)		(1u << (k))
/* Kinds whose rel is the relation itself, not the table they belong to. */
#define RELATION_KINDS	(KIND(EX_RELATION) | KIND(EX_INDEX))
/* Kinds whose rel is a bare name, not a quoted, qualified one. */
#define BARE_KINDS	(KIND(EX_SCHEMA) | KIND(EX_EXTENSION) | KIND(EX_FUNCTION))

/*
 * Constraint types an unnamed constraint is found by (with its columns): the name
 * PostgreSQL gives it is not in the file. An unnamed EXCLUDE is not looked for.
 */
static const struct con_type {
	const char	*node;		/* Constraint.contype in the parse tree */
	const char	*contype;	/* pg_constraint.contype */
	const char	*words;
} con_types[] = {
	{ "CONSTR_CHECK", "c", "CHECK" },
	{ "CONSTR_FOREIGN", "f", "FOREIGN KEY" },
	{ "CONSTR_PRIMARY", "p", "PRIMARY KEY" },
	{ "CONSTR_UNIQUE", "u", "UNIQUE" },
};

struct expect {
	enum expect_kind kind;
	/*
	 * What the check looks up: the table of a column, constraint, trigger or
	 * unnamed index; a relation, named index or type (all quoted, qualified as
	 * the file writes them); the bare name of a schema, extension or function.
	 */
	char	*rel;
	/* the quoted, qualified table it belongs to, or NULL when it stands alone */
	char	*table;
	char	*sub;		/* column, constraint or trigger name, or NULL */
	/*
	 * An index's or constraint's columns, NULL for an expression: the key an
	 * unnamed one is found by, and for all what DROP COLUMN takes along.
	 */
	char	**cols;
	size_t	 ncols;
	const struct con_type *con;	/* unnamed constraint: its type */
	int	 unique;	/* index: CREATE UNIQUE INDEX */
	char	*nsp;		/* function: the schema the file names, or NULL */
	int	 line;
	/*
	 * Later expectations of the file with the same table, type and columns.
	 * PostgreSQL made those after this one, so it comes after them among the
	 * matches, newest first (the lookup's OFFSET).
	 */
	int	 later_twins;
	int	 dropped;
	int	 disabled_ok;	/* trigger: the file itself disables it */
};

struct expects {
	struct expect	*v;
	size_t		 n, cap;
};

/* ALTER TABLE … ENABLE/DISABLE TRIGGER: whether the file leaves a trigger off. */
static const struct {
	const char	*subtype;
	int		 all;	/* ALL or USER: every trigger of the table */
	int		 disabled;
} trigger_switches[] = {
	{ "AT_EnableTrig", 0, 0 },
	{ "AT_EnableAlwaysTrig", 0, 0 },
	{ "AT_EnableReplicaTrig", 0, 0 },
	{ "AT_DisableTrig", 0, 1 },
	{ "AT_EnableTrigAll", 1, 0 },
	{ "AT_DisableTrigAll", 1, 1 },
	{ "AT_EnableTrigUser", 1, 0 },
	{ "AT_DisableTrigUser", 1, 1 },
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

static const char *
names_item(const json_t *items, size_t i)
{
	return json_str(json_object_get(json_array_get(items, i), "String"), "sval");
}

/*
 * schema.name from a list of String nodes (or a {"List":…}), without its last skip
 * items (DROP TRIGGER's list ends with the trigger, after the table).
 */
static char *
qualify_names(const json_t *names, size_t skip)
{
	const json_t *items = names, *l;
	size_t n;

	if (json_is_object(names) && (l = json_object_get(names, "List")) != NULL)
		items = json_object_get(l, "items");
	n = json_array_size(items);
	if (n <= skip)
		return xstrdup("");
	n -= skip;
	return qualify(n >= 2 ? names_item(items, n - 2) : NULL,
	    names_item(items, n - 1));
}

static int
str_eq(const char *a, const char *b)
{
	return a == NULL || b == NULL ? a == b : strcmp(a, b) == 0;
}

/* The new expectation, valid until the next expect_add. */
static struct expect *
expect_add(struct expects *x, enum expect_kind k, char *rel, const char *sub,
    int line)
{
	struct expect *e;

	if (x->n == x->cap) {
		x->cap = x->cap == 0 ? 16 : x->cap * 2;
		x->v = xreallocarray(x->v, x->cap, sizeof(*x->v));
	}
	e = &x->v[x->n++];
	memset(e, 0, sizeof(*e));
	e->kind = k;
	e->rel = rel;
	e->sub = sub != NULL ? xstrdup(sub) : NULL;
	e->line = line;
	return e;
}

/* An expectation on a table: a column, index, constraint or trigger of it. */
static struct expect *
expect_add_on(struct expects *x, enum expect_kind k, const char *table,
    const char *sub, int line)
{
	struct expect *e = expect_add(x, k, xstrdup(table), sub, line);

	e->table = xstrdup(table);
	return e;
}

static void
expects_release(struct expects *x)
{
	size_t i, j;

	for (i = 0; i < x->n; i++) {
		free(x->v[i].rel);
		free(x->v[i].table);
		free(x->v[i].sub);
		free(x->v[i].nsp);
		for (j = 0; j < x->v[i].ncols; j++)
			free(x->v[i].cols[j]);
		free(x->v[i].cols);
	}
	free(x->v);
}

static void
cols_add(struct expect *e, const char *col)
{
	e->cols = xreallocarray(e->cols, e->ncols + 1, sizeof(*e->cols));
	e->cols[e->ncols++] = col != NULL ? xstrdup(col) : NULL;
}

static int
cols_has(const struct expect *e, const char *col)
{
	size_t i;

	for (i = 0; i < e->ncols; i++)
		if (str_eq(e->cols[i], col))
			return 1;
	return 0;
}

static int
cols_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Marks expectations of the kinds named rel (and sub, when given) as dropped later. */
static void
expect_drop(struct expects *x, unsigned kinds, const char *rel, const char *sub)
{
	size_t i;

	for (i = 0; i < x->n; i++)
		if ((kinds & KIND(x->v[i].kind)) && strcmp(x->v[i].rel, rel) == 0 &&
		    (sub == NULL || str_eq(x->v[i].sub, sub)))
			x->v[i].dropped = 1;
}

/* A relation dropped: it, and all that belongs to it. */
static void
expect_drop_relation(struct expects *x, const char *rel)
{
	struct expect *e;
	size_t i;

	for (i = 0; i < x->n; i++) {
		e = &x->v[i];
		if (str_eq(e->table, rel) || ((RELATION_KINDS & KIND(e->kind)) &&
		    strcmp(e->rel, rel) == 0))
			e->dropped = 1;
	}
}

/*
 * A relation renamed (ALTER TABLE/INDEX/VIEW … RENAME TO): what was expected of it
 * is expected under the new name. A named index of a renamed table keeps its name.
 */
static void
expect_rename_relation(struct expects *x, const char *from, const char *to)
{
	struct expect *e;
	size_t i;

	for (i = 0; i < x->n; i++) {
		e = &x->v[i];
		if (str_eq(e->table, from)) {
			free(e->table);
			e->table = xstrdup(to);
		}
		if ((e->table != NULL || (RELATION_KINDS & KIND(e->kind))) &&
		    strcmp(e->rel, from) == 0) {
			free(e->rel);
			e->rel = xstrdup(to);
		}
	}
}

/*
 * DROP SCHEMA (CASCADE, or of a schema already empty): it and what the file names
 * in it. What the file names unqualified is taken to be elsewhere.
 */
static void
expect_drop_schema(struct expects *x, const char *schema)
{
	struct buf prefix = BUF_INIT;
	struct expect *e;
	size_t i;

	/* a quoted identifier ends at a lone '"': "s". is the start of no other name */
	sql_quote_ident_always(&prefix, schema);
	buf_addch(&prefix, '.');
	for (i = 0; i < x->n; i++) {
		e = &x->v[i];
		if (BARE_KINDS & KIND(e->kind)) {
			if ((e->kind == EX_SCHEMA && strcmp(e->rel, schema) == 0) ||
			    (e->kind == EX_FUNCTION && str_eq(e->nsp, schema)))
				e->dropped = 1;
		} else if (strncmp(e->rel, buf_str(&prefix), prefix.len) == 0)
			e->dropped = 1;	/* a named index is in its table's schema */
	}
	buf_release(&prefix);
}

/* DROP COLUMN also drops the indexes and constraints that involve the column. */
static void
expect_drop_column(struct expects *x, const char *table, const char *col)
{
	struct expect *e;
	size_t i;

	for (i = 0; i < x->n; i++) {
		e = &x->v[i];
		if (str_eq(e->table, table) && ((e->kind == EX_COLUMN &&
		    str_eq(e->sub, col)) || cols_has(e, col)))
			e->dropped = 1;
	}
}

/*
 * The column is no longer expected under its old name, but an unnamed index or
 * constraint on it stays, now over the new name.
 */
static void
expect_rename_column(struct expects *x, const char *table, const char *from,
    const char *to)
{
	struct expect *e;
	size_t i, j;

	for (i = 0; i < x->n; i++) {
		e = &x->v[i];
		if (!str_eq(e->table, table) || from == NULL || to == NULL)
			continue;
		if (e->kind == EX_COLUMN && str_eq(e->sub, from))
			e->dropped = 1;
		for (j = 0; j < e->ncols; j++)
			if (str_eq(e->cols[j], from)) {
				free(e->cols[j]);
				e->cols[j] = xstrdup(to);
			}
	}
}

/* Columns an expression names, once each: what pg_constraint.conkey holds for a CHECK. */
static void
expr_columns(struct expect *e, json_t *n)
{
	json_t *v, *f;
	const char *k;
	size_t i;

	if (json_is_array(n)) {
		json_array_foreach(n, i, v)
			expr_columns(e, v);
		return;
	}
	if ((f = json_object_get(n, "ColumnRef")) != NULL) {
		f = json_object_get(f, "fields");
		k = names_item(f, json_array_size(f) - 1);	/* NULL for t.* */
		if (k != NULL && !cols_has(e, k))
			cols_add(e, k);
		return;
	}
	json_object_foreach(n, k, v)
		expr_columns(e, v);
}

/* col: the column of a column constraint, NULL for a table constraint. */
static void
constraint_columns(struct expect *e, const struct con_type *ct, const json_t *con,
    const char *col)
{
	const json_t *l;
	size_t i;

	if (strcmp(ct->contype, "c") == 0) {
		expr_columns(e, json_object_get(con, "raw_expr"));
		if (e->ncols > 1)	/* a set: twins compare equal in any order */
			qsort(e->cols, e->ncols, sizeof(*e->cols), cols_cmp);
		return;
	}
	l = json_object_get(con, strcmp(ct->contype, "f") == 0 ? "fk_attrs" :
	    "keys");
	if (json_array_size(l) == 0 && col != NULL)
		cols_add(e, col);
	for (i = 0; i < json_array_size(l); i++)
		cols_add(e, names_item(l, i));
}

static void
constraint_expect(struct expects *x, const char *table, const json_t *con,
    const char *col, int line)
{
	const char *name = json_str(con, "conname"), *t = json_str(con, "contype");
	const struct con_type *ct = NULL;
	struct expect *e;
	size_t i;

	if (t == NULL || strcmp(t, "CONSTR_NOTNULL") == 0 ||
	    strcmp(t, "CONSTR_DEFAULT") == 0 || strcmp(t, "CONSTR_NULL") == 0)
		return;
	for (i = 0; i < sizeof(con_types) / sizeof(con_types[0]); i++)
		if (strcmp(t, con_types[i].node) == 0)
			ct = &con_types[i];
	if (name == NULL)	/* ADD UNIQUE USING INDEX i: the constraint is named i */
		name = json_str(con, "indexname");
	if (name != NULL)
		e = expect_add_on(x, EX_CONSTRAINT, table, name, line);
	else if (ct != NULL) {
		e = expect_add_on(x, EX_UNNAMED_CONSTRAINT, table, NULL, line);
		e->con = ct;
	} else
		return;
	if (ct != NULL)
		constraint_columns(e, ct, con, col);
}

/* A column of CREATE TABLE or ADD COLUMN, with the constraints written on it. */
static void
column_expect(struct expects *x, const char *rel, const json_t *cd, int line)
{
	const json_t *cons = json_object_get(cd, "constraints");
	const char *col = json_str(cd, "colname");
	size_t i;

	expect_add_on(x, EX_COLUMN, rel, col, line);
	for (i = 0; i < json_array_size(cons); i++)
		constraint_expect(x, rel, json_object_get(json_array_get(cons, i),
		    "Constraint"), col, line);
}

static void
collect_create(struct expects *x, const json_t *n, int line)
{
	const json_t *elts = json_object_get(n, "tableElts"), *el;
	char *rel = qualify_rv(json_object_get(n, "relation"));
	size_t i;

	expect_add(x, EX_RELATION, xstrdup(rel), NULL, line);
	for (i = 0; i < json_array_size(elts); i++) {
		el = json_array_get(elts, i);
		if (json_object_get(el, "ColumnDef") != NULL)
			column_expect(x, rel, json_object_get(el, "ColumnDef"), line);
		else if (json_object_get(el, "Constraint") != NULL)
			constraint_expect(x, rel, json_object_get(el, "Constraint"),
			    NULL, line);
	}
	free(rel);
}

/* A trigger the file disables is expected to exist, not to be enabled. */
static void
trigger_switch(struct expects *x, const char *rel, const char *sub,
    const char *name)
{
	size_t i, j;

	for (i = 0; i < sizeof(trigger_switches) / sizeof(trigger_switches[0]); i++) {
		if (strcmp(sub, trigger_switches[i].subtype) != 0)
			continue;
		for (j = 0; j < x->n; j++)
			if (x->v[j].kind == EX_TRIGGER && str_eq(x->v[j].table, rel) &&
			    (trigger_switches[i].all || str_eq(x->v[j].sub, name)))
				x->v[j].disabled_ok = trigger_switches[i].disabled;
		return;
	}
}

static void
collect_alter_cmd(struct expects *x, const char *rel, const json_t *c, int line)
{
	const char *sub = json_str(c, "subtype"), *name = json_str(c, "name");
	const json_t *def = json_object_get(c, "def");

	if (sub == NULL)
		return;
	if (strcmp(sub, "AT_AddColumn") == 0)
		column_expect(x, rel, json_object_get(def, "ColumnDef"), line);
	else if (strcmp(sub, "AT_AddConstraint") == 0)
		constraint_expect(x, rel, json_object_get(def, "Constraint"), NULL,
		    line);
	else if (strcmp(sub, "AT_ValidateConstraint") == 0 && name != NULL)
		expect_add_on(x, EX_CONSTRAINT, rel, name, line);
	else if (strcmp(sub, "AT_DropColumn") == 0)
		expect_drop_column(x, rel, name);
	else if (strcmp(sub, "AT_DropConstraint") == 0)
		expect_drop(x, KIND(EX_CONSTRAINT), rel, name);
	else
		trigger_switch(x, rel, sub, name);
}

static void
collect_alter(struct expects *x, const json_t *n, int line)
{
	const json_t *cmds = json_object_get(n, "cmds");
	char *rel = qualify_rv(json_object_get(n, "relation"));
	size_t i;

	for (i = 0; i < json_array_size(cmds); i++)
		collect_alter_cmd(x, rel, json_object_get(json_array_get(cmds, i),
		    "AlterTableCmd"), line);
	free(rel);
}

static void
collect_index(struct expects *x, const json_t *n, int line)
{
	const json_t *rv = json_object_get(n, "relation");
	const json_t *params = json_object_get(n, "indexParams");
	char *table = qualify_rv(rv);
	struct expect *e;
	size_t i;

	if (json_str(n, "idxname") != NULL) {
		/* the index lives in its table's schema */
		e = expect_add(x, EX_INDEX, qualify(json_str(rv, "schemaname"),
		    json_str(n, "idxname")), NULL, line);
		e->table = table;
		e->unique = json_bool(n, "unique");
	} else {
		/* PostgreSQL names it (with a suffix when taken): found by what
		 * it indexes */
		e = expect_add_on(x, EX_UNNAMED_INDEX, table, NULL, line);
		e->unique = json_bool(n, "unique");
		free(table);
	}
	for (i = 0; i < json_array_size(params); i++)
		cols_add(e, json_str(json_object_get(json_array_get(params, i),
		    "IndexElem"), "name"));
}

/* DROP TABLE/VIEW/INDEX/SEQUENCE …: [schema,] name */
static void
drop_relation(struct expects *x, const json_t *o)
{
	char *rel = qualify_names(o, 0);

	expect_drop_relation(x, rel);
	free(rel);
}

/* DROP TRIGGER: [schema,] table, trigger */
static void
drop_trigger(struct expects *x, const json_t *o)
{
	const json_t *items = json_object_get(json_object_get(o, "List"), "items");
	char *table = qualify_names(o, 1);

	expect_drop(x, KIND(EX_TRIGGER), table, names_item(items,
	    json_array_size(items) - 1));
	free(table);
}

static void
drop_type(struct expects *x, const json_t *o)
{
	char *type = qualify_names(json_object_get(json_object_get(o, "TypeName"),
	    "names"), 0);

	expect_drop(x, KIND(EX_TYPE), type, NULL);
	free(type);
}

static void
drop_schema(struct expects *x, const json_t *o)
{
	const char *name = json_str(json_object_get(o, "String"), "sval");

	if (name != NULL)
		expect_drop_schema(x, name);
}

static void
drop_extension(struct expects *x, const json_t *o)
{
	const char *name = json_str(json_object_get(o, "String"), "sval");

	if (name != NULL)
		expect_drop(x, KIND(EX_EXTENSION), name, NULL);
}

/*
 * A function is expected by its name (and schema, when the file gives one), so DROP
 * of one overload ends it. Where only one of the two names a schema, it is taken
 * to be the same function.
 */
static void
drop_function(struct expects *x, const json_t *o)
{
	const json_t *fn = json_object_get(json_object_get(o, "ObjectWithArgs"),
	    "objname");
	size_t n = json_array_size(fn), i;
	const char *name = n > 0 ? names_item(fn, n - 1) : NULL;
	const char *nsp = n >= 2 ? names_item(fn, n - 2) : NULL;
	struct expect *e;

	for (i = 0; name != NULL && i < x->n; i++) {
		e = &x->v[i];
		if (e->kind == EX_FUNCTION && strcmp(e->rel, name) == 0 &&
		    (nsp == NULL || e->nsp == NULL || strcmp(e->nsp, nsp) == 0))
			e->dropped = 1;
	}
}

/* DropStmt.removeType: how one of its objects names what it drops. */
static const struct {
	const char	*remove_type;
	void		(*drop)(struct expects *, const json_t *);
} drop_types[] = {
	{ "OBJECT_TABLE", drop_relation },
	{ "OBJECT_VIEW", drop_relation },
	{ "OBJECT_MATVIEW", drop_relation },
	{ "OBJECT_FOREIGN_TABLE", drop_relation },
	{ "OBJECT_SEQUENCE", drop_relation },
	{ "OBJECT_INDEX", drop_relation },
	{ "OBJECT_TRIGGER", drop_trigger },
	{ "OBJECT_TYPE", drop_type },
	{ "OBJECT_DOMAIN", drop_type },
	{ "OBJECT_SCHEMA", drop_schema },
	{ "OBJECT_EXTENSION", drop_extension },
	{ "OBJECT_FUNCTION", drop_function },
	{ "OBJECT_PROCEDURE", drop_function },
	{ "OBJECT_ROUTINE", drop_function },
};

static void
collect_drop(struct expects *x, const json_t *n)
{
	const json_t *objs = json_object_get(n, "objects");
	const char *rt = json_str(n, "removeType");
	size_t i, j;

	for (i = 0; i < sizeof(drop_types) / sizeof(drop_types[0]); i++) {
		if (!str_eq(rt, drop_types[i].remove_type))
			continue;
		for (j = 0; j < json_array_size(objs); j++)
			drop_types[i].drop(x, json_array_get(objs, j));
		return;
	}
}

static void
collect_rename(struct expects *x, const json_t *n)
{
	const json_t *rv = json_object_get(n, "relation");
	const char *rt = json_str(n, "renameType"), *sub = json_str(n, "subname");
	const char *to = json_str(n, "newname");
	char *rel = qualify_rv(rv), *newrel;

	if (str_eq(rt, "OBJECT_COLUMN"))
		expect_rename_column(x, rel, sub, to);
	else if (str_eq(rt, "OBJECT_TABCONSTRAINT"))
		expect_drop(x, KIND(EX_CONSTRAINT), rel, sub);
	else if (str_eq(rt, "OBJECT_TRIGGER"))
		expect_drop(x, KIND(EX_TRIGGER), rel, sub);
	else if (sub == NULL && to != NULL) {
		/* the relation (a policy or rule has a subname), in its schema */
		newrel = qualify(json_str(rv, "schemaname"), to);
		expect_rename_relation(x, rel, newrel);
		free(newrel);
	}
	free(rel);
}

/* A walk of verify_run: what each statement creates, or the first syntax error. */
struct collect_walk {
	struct expects	*x;
	struct err	*e;
	bool		 failed;
};

static int
collect(const struct sql_file *f, const struct sql_stmt *st, void *arg)
{
	struct collect_walk *w = arg;
	struct expects *x = w->x;
	const char *type = sql_stmt_type(st);
	const json_t *n = type != NULL ? json_object_get(st->tree, type) : NULL;
	int line = st->line;

	if (st->error != NULL) {
		err_set(w->e, "%s:%d:%d: %s: fix the syntax first", f->path,
		    st->error_line, st->error_col, st->error);
		w->failed = true;
		return -1;
	}
	if (type == NULL)
		return 0;
	if (strcmp(type, "CreateStmt") == 0)
		collect_create(x, n, line);
	else if (strcmp(type, "AlterTableStmt") == 0)
		collect_alter(x, n, line);
	else if (strcmp(type, "IndexStmt") == 0)
		collect_index(x, n, line);
	else if (strcmp(type, "CreateTrigStmt") == 0) {
		char *table = qualify_rv(json_object_get(n, "relation"));

		expect_add_on(x, EX_TRIGGER, table, json_str(n, "trigname"),
		    line);
		free(table);
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
		    "typeName"), 0), NULL, line);
	else if (strcmp(type, "CreateDomainStmt") == 0)
		expect_add(x, EX_TYPE, qualify_names(json_object_get(n,
		    "domainname"), 0), NULL, line);
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
		size_t nn = json_array_size(fn);
		struct expect *e;

		e = expect_add(x, EX_FUNCTION, xstrdup(names_item(fn,
		    nn - 1)), NULL, line);
		if (nn >= 2 && names_item(fn, nn - 2) != NULL)
			e->nsp = xstrdup(names_item(fn, nn - 2));
	} else if (strcmp(type, "DropStmt") == 0)
		collect_drop(x, n);
	else if (strcmp(type, "RenameStmt") == 0 &&
	    json_object_get(n, "relation") != NULL)
		collect_rename(x, n);
	return 0;
}

/* Two unnamed expectations the catalog cannot tell apart. */
static int
same_key(const struct expect *a, const struct expect *b)
{
	size_t i;

	if (a->kind != b->kind || a->con != b->con || a->unique != b->unique ||
	    a->ncols != b->ncols || strcmp(a->rel, b->rel) != 0)
		return 0;
	for (i = 0; i < a->ncols; i++)
		if (!str_eq(a->cols[i], b->cols[i]))
			return 0;
	return 1;
}

static void
count_twins(struct expects *x)
{
	size_t i, j;

	for (i = 0; i < x->n; i++) {
		if (x->v[i].dropped || (x->v[i].kind != EX_UNNAMED_INDEX &&
		    x->v[i].kind != EX_UNNAMED_CONSTRAINT))
			continue;
		for (j = i + 1; j < x->n; j++)
			if (!x->v[j].dropped && same_key(&x->v[i], &x->v[j]))
				x->v[i].later_twins++;
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
	"pg_get_expr(i.indpred, i.indrelid), ' ' || quote_ident(ic.relname) || ' ' " \
	"FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid " \
	"JOIN pg_attribute ia ON ia.attrelid = i.indexrelid AND ia.attnum = 1 " \
	"LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = i.indkey[0] " \
	"WHERE i.indexrelid = $1::regclass"
/*
 * A named index against the file: $1 the index, $2 the file's table, $3 its key
 * columns (a JSON array of strings, null when one is an expression). Returns
 * whether the table is that one, the table, whether the key columns are those,
 * the key as PostgreSQL has it "(a, lower(b))", and indisunique.
 */
#define INDEX_SHAPE_SQL \
	"SELECT i.indrelid = to_regclass($2), i.indrelid::regclass::text, " \
	"$3::json IS NULL OR ARRAY(SELECT a.attname::text " \
	"FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o) " \
	"LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n " \
	"WHERE k.o <= i.indnkeyatts ORDER BY k.o) = " \
	"ARRAY(SELECT c FROM json_array_elements_text($3::json) WITH ORDINALITY j(c, o) ORDER BY o), " \
	"'(' || (SELECT string_agg(CASE WHEN k.n = 0 " \
	"THEN pg_get_indexdef(i.indexrelid, k.o::int, true) ELSE quote_ident(a.attname) END, " \
	"', ' ORDER BY k.o) FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o) " \
	"LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n " \
	"WHERE k.o <= i.indnkeyatts) || ')', i.indisunique " \
	"FROM pg_index i WHERE i.indexrelid = $1::regclass"
/* $1 the function's name, $2 the schema the file names it in, or NULL for any */
#define FUNCTION_SQL \
	"SELECT EXISTS (SELECT FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace " \
	"WHERE p.proname = $1 AND ($2::text IS NULL OR n.nspname = $2))"
/*
 * The unnamed lookups take $1 table, $2 uniqueness or contype, $3 columns (a JSON
 * array of strings, null for an expression), $4 how many newer matches to pass over.
 * Indexes of constraints are left out: those are the constraints' own, not the
 * file's CREATE INDEX.
 */
#define UNNAMED_INDEX_SQL \
	"SELECT i.indexrelid::regclass::text FROM pg_index i " \
	"WHERE i.indrelid = to_regclass($1) AND i.indisunique = $2::boolean " \
	"AND ARRAY(SELECT a.attname::text FROM unnest(i.indkey::int2[]) WITH ORDINALITY k(n, o) " \
	"LEFT JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.n " \
	"WHERE k.o <= i.indnkeyatts ORDER BY k.o) = " \
	"ARRAY(SELECT c FROM json_array_elements_text($3::json) WITH ORDINALITY j(c, o) ORDER BY o) " \
	"AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid " \
	"AND c.conrelid = i.indrelid AND c.contype IN ('p', 'u', 'x')) " \
	"ORDER BY i.indexrelid DESC OFFSET $4::int LIMIT 1"
/* Columns compared as sets: a CHECK's conkey lists them in attnum order. */
#define UNNAMED_CONSTRAINT_SQL \
	"SELECT c.conname, c.convalidated FROM pg_constraint c " \
	"WHERE c.conrelid = to_regclass($1) AND c.contype = $2::\"char\" " \
	"AND ARRAY(SELECT a.attname::text FROM pg_attribute a WHERE a.attrelid = c.conrelid " \
	"AND a.attnum = ANY (c.conkey) ORDER BY 1) = " \
	"ARRAY(SELECT json_array_elements_text($3::json) ORDER BY 1) " \
	"ORDER BY c.oid DESC OFFSET $4::int LIMIT 1"
/* The same columns as the unnamed lookup returns, for a constraint the file names. */
#define CONSTRAINT_SQL \
	"SELECT conname, convalidated FROM pg_constraint " \
	"WHERE conrelid = to_regclass($1) AND conname = $2"
#define TRIGGER_SQL \
	"SELECT tgenabled <> 'D' FROM pg_trigger WHERE tgrelid = to_regclass($1) " \
	"AND tgname = $2 AND NOT tgisinternal"

/* The columns as a JSON array, the form the unnamed lookups take them in. */
static char *
cols_json(const struct expect *x)
{
	json_t *a = json_array();
	char *s;
	size_t i;

	for (i = 0; i < x->ncols; i++)
		json_array_append_new(a, x->cols[i] != NULL ?
		    json_string(x->cols[i]) : json_null());
	if ((s = json_dumps(a, JSON_COMPACT)) == NULL)
		fatalx("verify: out of memory");
	json_decref(a);
	return s;
}

/* One of the UNNAMED_*_SQL queries for x; NULL when it failed. */
static PGresult *
find_unnamed(PGconn *c, const struct expect *x, const char *sql, const char *type,
    struct err *e)
{
	char *cols = cols_json(x), skip[16];
	const char *p[4] = { x->rel, type, cols, skip };
	PGresult *r;

	snprintf(skip, sizeof(skip), "%d", x->later_twins);
	r = pg_query(c, sql, 4, p, "verify query", e);
	free(cols);
	return r;
}

static void
not_validated(const char *rel, const char *name, const char **status,
    struct buf *detail)
{
	*status = "not-validated";
	buf_printf(detail, "added NOT VALID and not validated yet: run ALTER TABLE %s "
	    "VALIDATE CONSTRAINT ", rel);
	sql_quote_ident(detail, name);
}

/*
 * EXPLAIN of a query on the index's leading column, as a generic plan. The plan
 * names the index unqualified, between spaces, so that is what is looked for.
 */
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

/*
 * A named index that is not what the file builds: on another table, other key
 * columns (when the file's are plain columns: an expression is not compared), or
 * uniqueness. Sets status "different" and says what differs.
 */
static int
compare_index(PGconn *c, const struct expect *x, const char **status,
    struct buf *detail, struct err *e)
{
	struct buf want = BUF_INIT;
	char *cols = NULL;
	const char *p[3] = { x->rel, x->table, NULL };
	PGresult *r = NULL;
	size_t i, nd = 0;
	int ret = -1;

	for (i = 0; i < x->ncols && x->cols[i] != NULL; i++)
		;
	if (x->ncols > 0 && i == x->ncols)
		p[2] = cols = cols_json(x);
	if ((r = pg_query(c, INDEX_SHAPE_SQL, 3, p, "verify query", e)) == NULL)
		goto out;
	ret = 0;
	if (PQntuples(r) == 0)
		goto out;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		buf_printf(detail, "%son table %s, the file says %s", nd++ ? "; " : "",
		    PQgetvalue(r, 0, 1), x->table);
	if (strcmp(PQgetvalue(r, 0, 2), "t") != 0) {
		buf_addch(&want, '(');
		for (i = 0; i < x->ncols; i++) {
			if (i > 0)
				buf_addstr(&want, ", ");
			sql_quote_ident(&want, x->cols[i]);
		}
		buf_addch(&want, ')');
		buf_printf(detail, "%son %s, the file says %s", nd++ ? "; " : "",
		    PQgetvalue(r, 0, 3), buf_str(&want));
	}
	if ((strcmp(PQgetvalue(r, 0, 4), "t") == 0) != (x->unique != 0))
		buf_printf(detail, "%s%s", nd++ ? "; " : "", x->unique ?
		    "not unique, the file says UNIQUE" :
		    "unique, the file does not say UNIQUE");
	if (nd > 0) {
		*status = "different";
		buf_addstr(detail, ": DROP INDEX it and build it as the file says, "
		    "or correct the file");
	}
out:
	PQclear(r);
	free(cols);
	buf_release(&want);
	return ret;
}

/* An index, found first by what it indexes when the file gave it no name. */
static int
check_index(PGconn *c, const struct expect *x, json_t *o, const char **status,
    struct buf *detail, struct err *e)
{
	PGresult *r = NULL;
	const char *name = x->rel;
	int ret = -1;

	if (x->kind == EX_UNNAMED_INDEX) {
		if ((r = find_unnamed(c, x, UNNAMED_INDEX_SQL, x->unique ? "t" : "f",
		    e)) == NULL)
			goto out;
		if (PQntuples(r) == 0)
			goto missing;
		json_object_set_new(o, "index", json_string(PQgetvalue(r, 0, 0)));
		name = json_str(o, "index");
		PQclear(r);
	}
	if ((r = q(c, "SELECT to_regclass($1) IS NOT NULL", name, NULL, e)) == NULL)
		goto out;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		goto missing;
	PQclear(r);
	if ((r = q(c, INDEX_SQL, name, NULL, e)) == NULL)
		goto out;
	if (PQntuples(r) == 0)
		goto missing;	/* a relation of that name, but no index */
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0 ||
	    strcmp(PQgetvalue(r, 0, 1), "t") != 0) {
		*status = "invalid";
		buf_addstr(detail, "the index is not valid or not ready (a failed CREATE INDEX CONCURRENTLY?): DROP INDEX CONCURRENTLY it and build it again");
		ret = 0;
		goto out;
	}
	if (x->kind == EX_INDEX && x->table != NULL &&
	    compare_index(c, x, status, detail, e) < 0)
		goto out;
	if (strcmp(*status, "ok") == 0)
		explain_index(c, r, o);
	ret = 0;
	goto out;
missing:
	*status = "missing";
	ret = 0;
out:
	PQclear(r);
	return ret;
}

/* A constraint, found by its type and columns when the file gave it no name. */
static int
check_constraint(PGconn *c, const struct expect *x, json_t *o,
    const char **status, struct buf *detail, struct err *e)
{
	PGresult *r;

	if (x->kind == EX_UNNAMED_CONSTRAINT)
		r = find_unnamed(c, x, UNNAMED_CONSTRAINT_SQL, x->con->contype, e);
	else
		r = q(c, CONSTRAINT_SQL, x->rel, x->sub, e);
	if (r == NULL)
		return -1;
	if (PQntuples(r) == 0)
		*status = "missing";
	else {
		if (x->kind == EX_UNNAMED_CONSTRAINT)
			json_object_set_new(o, "constraint",
			    json_string(PQgetvalue(r, 0, 0)));
		if (strcmp(PQgetvalue(r, 0, 1), "t") != 0)
			not_validated(x->rel, PQgetvalue(r, 0, 0), status, detail);
	}
	PQclear(r);
	return 0;
}

static int
check_trigger(PGconn *c, const struct expect *x, json_t *o, const char **status,
    struct buf *detail, struct err *e)
{
	PGresult *r;
	int enabled;

	if ((r = q(c, TRIGGER_SQL, x->rel, x->sub, e)) == NULL)
		return -1;
	if (PQntuples(r) == 0) {
		*status = "missing";
		PQclear(r);
		return 0;
	}
	enabled = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	json_object_set_new(o, "enabled", json_boolean(enabled));
	if (!enabled && !x->disabled_ok) {
		*status = "disabled";
		buf_printf(detail, "the trigger does not fire: run ALTER TABLE %s "
		    "ENABLE TRIGGER ", x->rel);
		sql_quote_ident(detail, x->sub);
	}
	PQclear(r);
	return 0;
}

/* A function by name, in the schema the file names when it names one. */
static int
check_function(PGconn *c, const struct expect *x, json_t *o,
    const char **status, struct buf *detail, struct err *e)
{
	const char *p[2] = { x->rel, x->nsp };
	PGresult *r;

	(void)o;
	(void)detail;
	if ((r = pg_query(c, FUNCTION_SQL, 2, p, "verify query", e)) == NULL)
		return -1;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		*status = "missing";
	PQclear(r);
	return 0;
}

static int check_exists(PGconn *, const struct expect *, json_t *,
    const char **, struct buf *, struct err *);

/*
 * Each kind: its name in the report, and how it is checked: by a function, or by
 * check_exists with a query of $1 (expect.rel) and $2 (expect.sub, when it has one)
 * that says whether the object is there.
 */
static const struct kind_check {
	const char	*name;
	int		(*check)(PGconn *, const struct expect *, json_t *,
			    const char **status, struct buf *detail,
			    struct err *);
	const char	*exists_sql;
} kind_checks[] = {
	[EX_RELATION] = { "relation", check_exists,
	    "SELECT to_regclass($1) IS NOT NULL" },
	[EX_COLUMN] = { "column", check_exists,
	    "SELECT EXISTS (SELECT FROM pg_attribute WHERE attrelid = to_regclass($1) "
	    "AND attname = $2 AND attnum > 0 AND NOT attisdropped)" },
	[EX_INDEX] = { "index", check_index, NULL },
	[EX_UNNAMED_INDEX] = { "index", check_index, NULL },
	[EX_CONSTRAINT] = { "constraint", check_constraint, NULL },
	[EX_UNNAMED_CONSTRAINT] = { "constraint", check_constraint, NULL },
	[EX_TRIGGER] = { "trigger", check_trigger, NULL },
	[EX_TYPE] = { "type", check_exists, "SELECT to_regtype($1) IS NOT NULL" },
	[EX_SCHEMA] = { "schema", check_exists,
	    "SELECT EXISTS (SELECT FROM pg_namespace WHERE nspname = $1)" },
	[EX_EXTENSION] = { "extension", check_exists,
	    "SELECT EXISTS (SELECT FROM pg_extension WHERE extname = $1)" },
	[EX_FUNCTION] = { "function", check_function, NULL },
};

static int
check_exists(PGconn *c, const struct expect *x, json_t *o, const char **status,
    struct buf *detail, struct err *e)
{
	PGresult *r;

	(void)o;
	(void)detail;
	if ((r = q(c, kind_checks[x->kind].exists_sql, x->rel, x->sub, e)) == NULL)
		return -1;
	if (strcmp(PQgetvalue(r, 0, 0), "t") != 0)
		*status = "missing";
	PQclear(r);
	return 0;
}

/*
 * Checks one expectation; sets "status" (ok, missing, invalid, different,
 * not-validated, disabled).
 */
static int
check(PGconn *c, const struct expect *x, json_t *o, struct err *e)
{
	struct buf detail = BUF_INIT;
	const char *status = "ok";
	int ret;

	ret = kind_checks[x->kind].check(c, x, o, &status, &detail, e);
	if (ret == 0) {
		json_object_set_new(o, "status", json_string(status));
		if (detail.len > 0)
			json_object_set_new(o, "detail", json_string(buf_str(&detail)));
		ret = strcmp(status, "ok") == 0 ? 0 : 1;
	}
	buf_release(&detail);
	return ret;
}

/* What the file names: the object, and a name or a type and columns. */
static json_t *
expect_json(const struct expect *x)
{
	json_t *o = json_object(), *cols;
	size_t i;

	json_object_set_new(o, "line", json_integer(x->line));
	json_object_set_new(o, "kind", json_string(kind_checks[x->kind].name));
	if (x->nsp != NULL) {	/* a function the file qualifies: s.f */
		struct buf b = BUF_INIT;

		buf_printf(&b, "%s.%s", x->nsp, x->rel);
		json_object_set_new(o, "object", json_string(buf_str(&b)));
		buf_release(&b);
	} else
		json_object_set_new(o, "object", json_string(x->rel));
	if (x->kind == EX_INDEX && x->table != NULL)	/* the index's own name above */
		json_object_set_new(o, "table", json_string(x->table));
	if (x->sub != NULL)
		json_object_set_new(o, "name", json_string(x->sub));
	if (x->con != NULL)
		json_object_set_new(o, "constraint_type", json_string(x->con->words));
	if (x->kind == EX_UNNAMED_INDEX)
		json_object_set_new(o, "unique", json_boolean(x->unique));
	if (x->kind == EX_UNNAMED_INDEX || x->kind == EX_UNNAMED_CONSTRAINT) {
		cols = json_array();
		for (i = 0; i < x->ncols; i++)
			json_array_append_new(cols, x->cols[i] != NULL ?
			    json_string(x->cols[i]) : json_null());
		json_object_set_new(o, "columns", cols);
	}
	return o;
}

int
verify_run(const char *url, const char *path, const char *text, size_t len,
    json_t **report, struct err *e)
{
	struct expects x = { NULL, 0, 0 };
	struct collect_walk w = { &x, e, false };
	struct sql_file f = { 0 };
	PGconn *c = NULL;
	json_t *rep = json_object(), *checks = json_array();
	char *safe = pg_url_redact(url);
	size_t i, problems = 0;
	int in_tx = 0, ret = -1;

	*report = NULL;
	json_object_set_new(rep, "checks", checks);
	/* statement by statement: only the expectations are kept, never the trees */
	if (sql_file_each_window(path, text, len, 0, &f, collect, &w, e) < 0 ||
	    w.failed)
		goto out;
	count_twins(&x);
	json_object_set_new(rep, "file", json_string(path));
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
		o = expect_json(&x.v[i]);
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
	sql_file_release(&f);
	free(safe);
	if (ret >= 0)
		*report = rep;
	else
		json_decref(rep);
	return ret;
}

/*
 * trg of "t", FOREIGN KEY (a) of "t": t_a_fkey, UNIQUE (a, b) of "t": t_a_b_idx,
 * "t_a" on "t"
 */
static void
print_subject(const json_t *o, FILE *out)
{
	const json_t *cols = json_object_get(o, "columns"), *col;
	const char *found = json_str(o, "index") != NULL ? json_str(o, "index") :
	    json_str(o, "constraint");
	size_t i;

	if (json_str(o, "name") != NULL)
		fprintf(out, "%s of ", json_str(o, "name"));
	if (json_str(o, "constraint_type") != NULL)
		fprintf(out, "%s ", json_str(o, "constraint_type"));
	if (json_bool(o, "unique"))
		fputs("UNIQUE ", out);
	if (cols != NULL) {
		fputc('(', out);
		json_array_foreach(cols, i, col)
			fprintf(out, "%s%s", i > 0 ? ", " : "", json_is_string(col) ?
			    json_string_value(col) : "(expression)");
		fputs(") of ", out);
	}
	fputs(json_str(o, "object"), out);
	if (json_str(o, "table") != NULL)
		fprintf(out, " on %s", json_str(o, "table"));
	if (found != NULL)
		fprintf(out, ": %s", found);
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
		print_subject(o, out);
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
