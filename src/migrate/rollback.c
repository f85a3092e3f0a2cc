/*
 * Down SQL from up SQL. A table maps each statement's node type to its inverse
 * builder; builders write SQL text themselves, quoting with sql_quote_ident(), so
 * the 4.0.0 deparser's quoting bugs cannot reach the output, and the whole script
 * is re-parsed at the end.
 *
 * What the file itself created is remembered (tables, views, columns, other named
 * objects): later statements that only touch those (an ALTER of a new column, an
 * INSERT into a new table, a COMMENT on it) need no inverse of their own, because
 * the down drops the object they touched ("subsumed").
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/xmalloc.h"
#include "migrate/rollback.h"

#define NAMEDATALEN 64

struct rb_name {
	char	*schema;	/* NULL when the file did not say */
	char	*name;
	char	*sub;		/* column, or NULL for the object itself */
};

struct rb_ctx {
	struct rb_name	*made;		/* what this file created so far */
	size_t		 n, cap;
};

typedef void (*rb_builder)(struct rb_ctx *, const json_t *node,
    struct rb_item *, struct buf *down);

const char *
rb_status_str(enum rb_status s)
{
	static const char *const names[] = {
		[RB_REVERSED] = "reversed",
		[RB_NOOP] = "noop",
		[RB_SUBSUMED] = "subsumed",
		[RB_IRREVERSIBLE] = "irreversible",
		[RB_CONDITIONAL] = "conditional",
	};

	return names[s];
}

/* The only key of a node object ({"RangeVar": {...}} → "RangeVar"). */
static const char *
node_type(const json_t *node, const json_t **inner)
{
	const char *key;
	json_t *v;

	json_object_foreach((json_t *)node, key, v) {
		if (inner != NULL)
			*inner = v;
		return key;
	}
	return NULL;
}

static const char *
sval(const json_t *string_node)
{
	json_t *s = json_object_get(string_node, "String");

	return json_str(s, "sval");
}

/* Items of a name list: [{"String":…}, …] or {"List":{"items":[…]}}. */
static const json_t *
name_items(const json_t *names)
{
	const json_t *list;

	if (json_is_object(names) &&
	    (list = json_object_get(names, "List")) != NULL)
		return json_object_get(list, "items");
	return names;
}

static void
rb_rangevar(struct buf *b, const json_t *rv)
{
	const char *schema = json_str(rv, "schemaname");

	if (schema != NULL) {
		sql_quote_ident(b, schema);
		buf_addch(b, '.');
	}
	sql_quote_ident(b, json_str(rv, "relname") != NULL ? json_str(rv, "relname") : "");
}

/* A qualified name from a list of String nodes, skipping the last skip items. */
static void
rb_names(struct buf *b, const json_t *names, size_t skip)
{
	const json_t *items = name_items(names);
	size_t i, n = json_array_size(items);

	for (i = 0; i + skip < n; i++) {
		if (i > 0)
			buf_addch(b, '.');
		sql_quote_ident(b, sval(json_array_get(items, i)) != NULL ?
		    sval(json_array_get(items, i)) : "");
	}
}

/* A type name for a signature (typmods do not matter to DROP FUNCTION). */
static void
rb_typename(struct buf *b, const json_t *tn)
{
	size_t i;

	if (json_is_true(json_object_get(tn, "setof")))
		buf_addstr(b, "SETOF ");
	rb_names(b, json_object_get(tn, "names"), 0);
	for (i = 0; i < json_array_size(json_object_get(tn, "arrayBounds")); i++)
		buf_addstr(b, "[]");
}

/* Remembering what the file made, and asking about it. */

static void
made_add(struct rb_ctx *c, const char *schema, const char *name,
    const char *sub)
{
	struct rb_name *m;

	if (name == NULL)
		return;
	if (c->n == c->cap) {
		c->cap = c->cap == 0 ? 16 : c->cap * 2;
		c->made = xreallocarray(c->made, c->cap, sizeof(*c->made));
	}
	m = &c->made[c->n++];
	m->schema = schema != NULL ? xstrdup(schema) : NULL;
	m->name = xstrdup(name);
	m->sub = sub != NULL ? xstrdup(sub) : NULL;
}

static int
made_has(const struct rb_ctx *c, const char *schema, const char *name,
    const char *sub)
{
	size_t i;

	if (name == NULL)
		return 0;
	for (i = 0; i < c->n; i++) {
		const struct rb_name *m = &c->made[i];

		if (strcmp(m->name, name) != 0)
			continue;
		if (schema != NULL && m->schema != NULL &&
		    strcmp(schema, m->schema) != 0)
			continue;
		/* a whole object made here covers its columns too */
		if (m->sub == NULL)
			return 1;
		if (sub != NULL && strcmp(m->sub, sub) == 0)
			return 1;
	}
	return 0;
}

static int
made_has_rv(const struct rb_ctx *c, const json_t *rv, const char *sub)
{
	return made_has(c, json_str(rv, "schemaname"), json_str(rv, "relname"),
	    sub);
}

static void
made_add_rv(struct rb_ctx *c, const json_t *rv, const char *sub)
{
	made_add(c, json_str(rv, "schemaname"), json_str(rv, "relname"), sub);
}

/* Whether a name list (schema.obj or schema.table.column) is something made here. */
static int
made_has_names(const struct rb_ctx *c, const json_t *names, int column)
{
	const json_t *items = name_items(names);
	size_t n = json_array_size(items);
	const char *schema = NULL, *obj, *sub = NULL;

	if (n == 0)
		return 0;
	if (column) {
		if (n < 2)
			return 0;
		sub = sval(json_array_get(items, n - 1));
		obj = sval(json_array_get(items, n - 2));
		if (n >= 3)
			schema = sval(json_array_get(items, n - 3));
	} else {
		obj = sval(json_array_get(items, n - 1));
		if (n >= 2)
			schema = sval(json_array_get(items, n - 2));
	}
	return made_has(c, schema, obj, sub);
}

static void
made_add_names(struct rb_ctx *c, const json_t *names)
{
	const json_t *items = name_items(names);
	size_t n = json_array_size(items);

	if (n == 0)
		return;
	made_add(c, n >= 2 ? sval(json_array_get(items, n - 2)) : NULL,
	    sval(json_array_get(items, n - 1)), NULL);
}

static void irreversible(struct rb_item *, const char *, ...)
    __attribute__((format(printf, 2, 3)));

static void
irreversible(struct rb_item *it, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	it->status = RB_IRREVERSIBLE;
	free(it->reason);
	it->reason = buf_detach(&b);
}

static void
caveat(struct rb_item *it, const char *text)
{
	free(it->reason);
	it->reason = xstrdup(text);
}

#define IF_MISSING_NOTE \
	"created only if missing: the down drops it even if it existed before"

/* IF NOT EXISTS: the inverse is right only if the object did not exist before. */
static void
conditional(struct rb_item *it, const char *text)
{
	caveat(it, text);
	it->status = RB_CONDITIONAL;
}

/* SQL words in lower case for a sentence ("INDEX" → "index"); the caller frees. */
static char *
lowercase(const char *words)
{
	char *s = xstrdup(words), *p;

	for (p = s; *p != '\0'; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	return s;
}

/* "a" or "an" before a lower-case noun of the object table ("an index", "a user
 * mapping": no object name starts with a vowel sound spelt otherwise). */
static const char *
article(const char *noun)
{
	return noun[0] != '\0' && strchr("aeio", noun[0]) != NULL ? "an" : "a";
}

/* PostgreSQL's makeObjectName(): name1_name2_label cut to fit 63 bytes. */
static char *
object_name(const char *name1, const char *name2, const char *label)
{
	size_t n1 = strlen(name1), n2 = name2 != NULL ? strlen(name2) : 0;
	size_t overhead = 0, avail;
	struct buf b = BUF_INIT;

	if (name2 != NULL)
		overhead++;
	if (label != NULL)
		overhead += strlen(label) + 1;
	avail = NAMEDATALEN - 1 - overhead;
	while (n1 + n2 > avail) {
		if (n1 > n2)
			n1--;
		else
			n2--;
	}
	buf_add(&b, name1, n1);
	if (name2 != NULL) {
		buf_addch(&b, '_');
		buf_add(&b, name2, n2);
	}
	if (label != NULL)
		buf_printf(&b, "_%s", label);
	return buf_detach(&b);
}

/* Column names joined with "_" as ChooseIndexNameAddition() does. */
static char *
column_addition(const json_t *cols)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < json_array_size(cols); i++) {
		const char *s = sval(json_array_get(cols, i));

		if (s == NULL)
			continue;
		if (b.len > 0)
			buf_addch(&b, '_');
		buf_addstr(&b, s);
		if (b.len >= NAMEDATALEN)
			break;
	}
	return buf_detach(&b);
}

/* The name PostgreSQL gives a constraint added without one, or NULL if unsure. */
static char *
constraint_name(const char *relname, const json_t *con)
{
	const char *type = json_str(con, "contype");
	char *add, *name = NULL;

	if (json_str(con, "conname") != NULL)
		return xstrdup(json_str(con, "conname"));
	if (relname == NULL || type == NULL)
		return NULL;
	if (strcmp(type, "CONSTR_PRIMARY") == 0)
		return object_name(relname, NULL, "pkey");
	if (strcmp(type, "CONSTR_UNIQUE") == 0) {
		add = column_addition(json_object_get(con, "keys"));
		if (*add != '\0')
			name = object_name(relname, add, "key");
		free(add);
	} else if (strcmp(type, "CONSTR_FOREIGN") == 0) {
		add = column_addition(json_object_get(con, "fk_attrs"));
		if (*add != '\0')
			name = object_name(relname, add, "fkey");
		free(add);
	}
	return name;
}

/* Builders: one per statement kind. */

static void
drop_rangevar(const char *what, const json_t *rv, const json_t *stmt,
    struct rb_item *it, struct buf *d)
{
	buf_printf(d, "DROP %s ", what);
	rb_rangevar(d, rv);
	buf_addch(d, ';');
	if (json_is_true(json_object_get(stmt, "if_not_exists")))
		conditional(it, IF_MISSING_NOTE);
}

static void
b_create_table(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	const json_t *rv = json_object_get(n, "relation");

	drop_rangevar("TABLE", rv, n, it, d);
	made_add_rv(c, rv, NULL);
}

static void
b_create_table_as(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	const json_t *rv = json_object_get(json_object_get(n, "into"), "rel");
	const char *ot = json_str(n, "objtype");

	if (ot != NULL && strcmp(ot, "OBJECT_MATVIEW") == 0) {
		drop_rangevar("MATERIALIZED VIEW", rv, n, it, d);
	} else
		drop_rangevar("TABLE", rv, n, it, d);
	made_add_rv(c, rv, NULL);
}

static void
b_create_view(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	const json_t *rv = json_object_get(n, "view");

	if (json_is_true(json_object_get(n, "replace")))
		irreversible(it, "CREATE OR REPLACE VIEW: the previous definition, if any, is not in the file");
	else
		drop_rangevar("VIEW", rv, n, it, d);
	made_add_rv(c, rv, NULL);
}

static void
b_create_index(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	const json_t *rv = json_object_get(n, "relation");
	const char *name = json_str(n, "idxname");

	if (name == NULL) {
		if (made_has_rv(c, rv, NULL))
			it->status = RB_SUBSUMED;
		else
			irreversible(it, "the index has no name and PostgreSQL picks one: name it to make it reversible");
		return;
	}
	buf_addstr(d, "DROP INDEX ");
	if (json_is_true(json_object_get(n, "concurrent")))
		buf_addstr(d, "CONCURRENTLY ");
	if (json_str(rv, "schemaname") != NULL) {
		sql_quote_ident(d, json_str(rv, "schemaname"));
		buf_addch(d, '.');
	}
	sql_quote_ident(d, name);
	buf_addch(d, ';');
	if (json_is_true(json_object_get(n, "if_not_exists")))
		conditional(it, IF_MISSING_NOTE);
	made_add(c, json_str(rv, "schemaname"), name, NULL);
}

static void
b_create_sequence(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	const json_t *rv = json_object_get(n, "sequence");

	drop_rangevar("SEQUENCE", rv, n, it, d);
	made_add_rv(c, rv, NULL);
}

static void
drop_names(struct rb_ctx *c, const char *what, const json_t *names,
    struct buf *d)
{
	buf_printf(d, "DROP %s ", what);
	rb_names(d, names, 0);
	buf_addch(d, ';');
	made_add_names(c, names);
}

static void
b_create_enum(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	(void)it;
	drop_names(c, "TYPE", json_object_get(n, "typeName"), d);
}

static void
b_create_range(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	(void)it;
	drop_names(c, "TYPE", json_object_get(n, "typeName"), d);
}

static void
b_create_domain(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	(void)it;
	drop_names(c, "DOMAIN", json_object_get(n, "domainname"), d);
}

static void
b_create_composite(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	(void)it;
	buf_addstr(d, "DROP TYPE ");
	rb_rangevar(d, json_object_get(n, "typevar"));
	buf_addch(d, ';');
	made_add_rv(c, json_object_get(n, "typevar"), NULL);
}

static void
b_create_function(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	const json_t *params = json_object_get(n, "parameters");
	size_t i, nargs = 0;

	if (json_is_true(json_object_get(n, "replace"))) {
		irreversible(it, "CREATE OR REPLACE: the previous definition, if any, is not in the file");
		made_add_names(c, json_object_get(n, "funcname"));
		return;
	}
	buf_printf(d, "DROP %s ",
	    json_is_true(json_object_get(n, "is_procedure")) ? "PROCEDURE" :
	    "FUNCTION");
	rb_names(d, json_object_get(n, "funcname"), 0);
	buf_addch(d, '(');
	for (i = 0; i < json_array_size(params); i++) {
		const json_t *p = json_object_get(json_array_get(params, i),
		    "FunctionParameter");
		const char *mode = json_str(p, "mode");

		/* OUT and TABLE parameters are not part of the signature */
		if (mode != NULL && (strcmp(mode, "FUNC_PARAM_OUT") == 0 ||
		    strcmp(mode, "FUNC_PARAM_TABLE") == 0))
			continue;
		if (nargs++ > 0)
			buf_addstr(d, ", ");
		if (mode != NULL && strcmp(mode, "FUNC_PARAM_VARIADIC") == 0)
			buf_addstr(d, "VARIADIC ");
		rb_typename(d, json_object_get(p, "argType"));
	}
	buf_addstr(d, ");");
	made_add_names(c, json_object_get(n, "funcname"));
}

static void
b_create_schema(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	buf_addstr(d, "DROP SCHEMA ");
	sql_quote_ident(d, json_str(n, "schemaname") != NULL ?
	    json_str(n, "schemaname") : "");
	if (json_array_size(json_object_get(n, "schemaElts")) > 0)
		buf_addstr(d, " CASCADE");
	buf_addch(d, ';');
	if (json_is_true(json_object_get(n, "if_not_exists")))
		conditional(it, IF_MISSING_NOTE);
	made_add(c, NULL, json_str(n, "schemaname"), NULL);
}

static void
b_create_extension(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	buf_addstr(d, "DROP EXTENSION ");
	sql_quote_ident(d, json_str(n, "extname") != NULL ? json_str(n, "extname") : "");
	buf_addch(d, ';');
	if (json_is_true(json_object_get(n, "if_not_exists")))
		conditional(it, IF_MISSING_NOTE);
	made_add(c, NULL, json_str(n, "extname"), NULL);
}

/* DROP TRIGGER/POLICY/RULE name ON table, for the statements that have those keys. */
static void
drop_on(struct rb_item *it, const char *what, const char *name,
    const json_t *rv, int replace, struct buf *d)
{
	if (replace) {
		irreversible(it, "CREATE OR REPLACE: the previous definition, if any, is not in the file");
		return;
	}
	buf_printf(d, "DROP %s ", what);
	sql_quote_ident(d, name != NULL ? name : "");
	buf_addstr(d, " ON ");
	rb_rangevar(d, rv);
	buf_addch(d, ';');
}

static void
b_create_trigger(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	(void)c;
	drop_on(it, "TRIGGER", json_str(n, "trigname"),
	    json_object_get(n, "relation"),
	    json_is_true(json_object_get(n, "replace")), d);
}

static void
b_create_policy(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	(void)c;
	drop_on(it, "POLICY", json_str(n, "policy_name"),
	    json_object_get(n, "table"), 0, d);
}

static void
b_create_rule(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	(void)c;
	drop_on(it, "RULE", json_str(n, "rulename"),
	    json_object_get(n, "relation"),
	    json_is_true(json_object_get(n, "replace")), d);
}

/* Object types whose ALTER … and RENAME the builders know how to write. */
static const char *const alterable[] = {
	"OBJECT_TABLE", "OBJECT_INDEX", "OBJECT_VIEW", "OBJECT_MATVIEW",
	"OBJECT_SEQUENCE", "OBJECT_FOREIGN_TABLE", "OBJECT_TYPE", "OBJECT_DOMAIN",
	"OBJECT_SCHEMA", "OBJECT_TRIGGER", "OBJECT_FUNCTION", "OBJECT_COLUMN",
	"OBJECT_TABCONSTRAINT",
};

/* The SQL words of an alterable object type ("MATERIALIZED VIEW"), else NULL. */
static const char *
objtype_words(const char *objtype)
{
	size_t i;

	for (i = 0; objtype != NULL &&
	    i < sizeof(alterable) / sizeof(alterable[0]); i++)
		if (strcmp(alterable[i], objtype) == 0)
			return sql_object_words(objtype);
	return NULL;
}

/* ALTER TABLE subcommands on an existing relation that touch one column. */
static const struct {
	const char	*subtype;
	const char	*reason;
} column_changes[] = {
	{ "AT_ColumnDefault", "the column's previous default is not in the file" },
	{ "AT_SetNotNull", "the column's previous nullability is not in the file" },
	{ "AT_DropNotNull", "the column's previous nullability is not in the file" },
	{ "AT_AlterColumnType", "type change: the previous type is not in the file and data may not convert back" },
	{ "AT_SetStatistics", "the column's previous statistics target is not in the file" },
	{ "AT_SetStorage", "the column's previous storage is not in the file" },
	{ "AT_SetCompression", "the column's previous compression is not in the file" },
	{ "AT_AddIdentity", "identity added to an existing column: its previous default is not in the file" },
	{ "AT_DropIdentity", "the identity's sequence is dropped with its values" },
	{ "AT_DropColumn", "drops a column and its data" },
};

/* Trigger switches and their inverse, assuming the previous state was the other. */
static const struct {
	const char	*subtype;
	const char	*inverse;
	const char	*note;
} trigger_switches[] = {
	{ "AT_EnableTrig", "DISABLE TRIGGER", "assumes the trigger was disabled before" },
	{ "AT_DisableTrig", "ENABLE TRIGGER", "assumes the trigger was enabled before" },
	{ "AT_EnableTrigAll", "DISABLE TRIGGER ALL", "assumes the triggers were disabled before" },
	{ "AT_DisableTrigAll", "ENABLE TRIGGER ALL", "assumes the triggers were enabled before" },
	{ "AT_EnableTrigUser", "DISABLE TRIGGER USER", "assumes the triggers were disabled before" },
	{ "AT_DisableTrigUser", "ENABLE TRIGGER USER", "assumes the triggers were enabled before" },
};

/* What alter_cmd made of one subcommand. */
enum cmd_undo {
	CMD_INVERSE,		/* its inverse is in inv */
	CMD_SUBSUMED,		/* dropping what the file made undoes it */
	CMD_NOTHING,		/* there is nothing to undo; *note says why */
	CMD_CONDITIONAL,	/* its inverse is in inv, right only if it was missing */
};

/* Whether every column of a key list was added by this file (dropped with it). */
static int
key_columns_made(const struct rb_ctx *c, const json_t *rv, const json_t *keys)
{
	size_t i;

	for (i = 0; i < json_array_size(keys); i++)
		if (!made_has_rv(c, rv, sval(json_array_get(keys, i))))
			return 0;
	return 1;
}

/*
 * One ALTER TABLE subcommand: appends its inverse to inv (or says in *undo that none
 * is needed, with a note for the script in *note), or returns why it is irreversible.
 */
static const char *
alter_cmd(struct rb_ctx *c, const json_t *rv, const json_t *cmd,
    struct buf *inv, enum cmd_undo *undo, const char **note)
{
	const char *sub = json_str(cmd, "subtype"), *type, *col;
	const json_t *def = json_object_get(cmd, "def"), *inner = NULL;
	char *name;
	size_t i;

	*undo = CMD_INVERSE;
	*note = NULL;
	if (sub == NULL)
		return "unknown ALTER TABLE subcommand";
	col = json_str(cmd, "name");
	if (strcmp(sub, "AT_ValidateConstraint") == 0) {
		*undo = CMD_NOTHING;
		*note = "nothing to undo: the constraint stays validated (a "
		    "valid constraint cannot be made NOT VALID again)";
		return NULL;
	}
	for (i = 0; i < sizeof(trigger_switches) / sizeof(trigger_switches[0]); i++) {
		if (strcmp(sub, trigger_switches[i].subtype) != 0)
			continue;
		buf_addstr(inv, trigger_switches[i].inverse);
		if (col != NULL) {
			buf_addch(inv, ' ');
			sql_quote_ident(inv, col);
		}
		*note = trigger_switches[i].note;
		return NULL;
	}
	if (strcmp(sub, "AT_AddColumn") == 0) {
		const json_t *cd = json_object_get(def, "ColumnDef");

		buf_addstr(inv, "DROP COLUMN ");
		sql_quote_ident(inv, json_str(cd, "colname") != NULL ?
		    json_str(cd, "colname") : "");
		if (json_is_true(json_object_get(cmd, "missing_ok"))) {
			/* the column may be an old one, with data: not "made here"
			 * either, so later changes to it are not taken as undone */
			*undo = CMD_CONDITIONAL;
			*note = "added only if missing: the down drops the column "
			    "(and its data) even if it existed before";
			return NULL;
		}
		made_add_rv(c, rv, json_str(cd, "colname"));
		return NULL;
	}
	if (strcmp(sub, "AT_AddConstraint") == 0) {
		type = node_type(def, &inner);
		if (type == NULL || strcmp(type, "Constraint") != 0)
			return "unknown constraint form";
		if (json_str(inner, "indexname") != NULL)
			return "constraint built on an existing index: dropping it drops the index too";
		type = json_str(inner, "contype");
		/*
		 * Unnamed, PostgreSQL picks a name that is not taken (t_email_key, else
		 * t_email_key1, …), which the file cannot tell. A table has one primary
		 * key, so t_pkey is only wrong when a relation of that name exists.
		 */
		if (json_str(inner, "conname") == NULL &&
		    (type == NULL || strcmp(type, "CONSTR_PRIMARY") != 0))
			return "the constraint has no name and PostgreSQL picks one not taken: name the constraint so it can be dropped";
		if ((name = constraint_name(json_str(rv, "relname"), inner)) == NULL)
			return "the constraint has no name and PostgreSQL picks one: name the constraint so it can be dropped";
		buf_addstr(inv, "DROP CONSTRAINT ");
		sql_quote_ident(inv, name);
		free(name);
		if (type != NULL && strcmp(type, "CONSTR_PRIMARY") == 0 &&
		    !key_columns_made(c, rv, json_object_get(inner, "keys")))
			*note = "the columns of the key stay NOT NULL: if they "
			    "were nullable before, add ALTER COLUMN … DROP NOT "
			    "NULL for them";
		return NULL;
	}
	if (col != NULL && made_has_rv(c, rv, col)) {
		/* the column is new in this file: the down drops it anyway */
		for (i = 0; i < sizeof(column_changes) / sizeof(column_changes[0]); i++)
			if (strcmp(column_changes[i].subtype, sub) == 0 &&
			    strcmp(sub, "AT_DropColumn") != 0) {
				*undo = CMD_SUBSUMED;
				return NULL;
			}
	}
	for (i = 0; i < sizeof(column_changes) / sizeof(column_changes[0]); i++)
		if (strcmp(column_changes[i].subtype, sub) == 0)
			return column_changes[i].reason;
	if (strcmp(sub, "AT_DropConstraint") == 0)
		return "drops a constraint whose definition is not in the file";
	return "no inverse known for this ALTER subcommand";
}

static void
b_alter_table(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	const json_t *rv = json_object_get(n, "relation");
	const json_t *cmds = json_object_get(n, "cmds");
	const char *words = objtype_words(json_str(n, "objtype"));
	struct buf one = BUF_INIT, all = BUF_INIT, notes = BUF_INIT;
	char **parts;
	size_t i, k = 0, nsub = 0, ncond = 0;
	enum cmd_undo undo;
	const char *note;

	if (words == NULL)
		words = "TABLE";
	if (made_has_rv(c, rv, NULL)) {
		/* ALTERs of a relation made in this file go with its DROP */
		it->status = RB_SUBSUMED;
		return;
	}
	parts = xcalloc(json_array_size(cmds) + 1, sizeof(*parts));
	for (i = 0; i < json_array_size(cmds); i++) {
		const json_t *cmd = json_object_get(json_array_get(cmds, i),
		    "AlterTableCmd");
		const char *why;

		buf_reset(&one);
		if ((why = alter_cmd(c, rv, cmd, &one, &undo, &note)) != NULL) {
			buf_reset(&one);
			sql_alter_cmd_words(&one, cmd);
			buf_printf(&one, ": %s", why);
			free(it->reason);
			it->status = RB_IRREVERSIBLE;
			it->reason = buf_detach(&one);
			goto out;
		}
		if (note != NULL) {
			if (notes.len > 0)
				buf_addstr(&notes, "; ");
			sql_alter_cmd_words(&notes, cmd);
			buf_printf(&notes, ": %s", note);
		}
		if (undo == CMD_SUBSUMED)
			nsub++;
		if (undo == CMD_CONDITIONAL)
			ncond++;
		else if (undo != CMD_INVERSE)
			continue;
		parts[k++] = buf_detach(&one);
	}
	if (notes.len > 0)
		caveat(it, buf_str(&notes));
	if (k == 0) {
		it->status = nsub > 0 ? RB_SUBSUMED : RB_NOOP;
		goto out;
	}
	buf_printf(&all, "ALTER %s ", words);
	rb_rangevar(&all, rv);
	/* subcommands undone in reverse order too */
	for (i = k; i > 0; i--)
		buf_printf(&all, "%s %s", i == k ? "" : ",", parts[i - 1]);
	buf_addch(&all, ';');
	buf_addstr(d, buf_str(&all));
	if (ncond > 0)
		it->status = RB_CONDITIONAL;
out:
	for (i = 0; i < k; i++)
		free(parts[i]);
	free(parts);
	buf_release(&one);
	buf_release(&all);
	buf_release(&notes);
}

static void
b_rename(struct rb_ctx *c, const json_t *n, struct rb_item *it, struct buf *d)
{
	const char *rt = json_str(n, "renameType");
	const char *newname = json_str(n, "newname");
	const char *sub = json_str(n, "subname");
	const json_t *rv = json_object_get(n, "relation");
	const json_t *obj = json_object_get(n, "object");
	const char *words = objtype_words(rt);
	char *lower;

	if (rt == NULL || newname == NULL || words == NULL)
		goto unknown;
	if (strcmp(rt, "OBJECT_COLUMN") == 0 ||
	    strcmp(rt, "OBJECT_TABCONSTRAINT") == 0) {
		const char *rel = objtype_words(json_str(n, "relationType"));

		if (rel == NULL || strcmp(rt, "OBJECT_TABCONSTRAINT") == 0)
			rel = "TABLE";
		buf_printf(d, "ALTER %s ", rel);
		rb_rangevar(d, rv);
		buf_printf(d, " RENAME %s ", words);
		sql_quote_ident(d, newname);
		buf_addstr(d, " TO ");
		sql_quote_ident(d, sub != NULL ? sub : "");
		buf_addch(d, ';');
		if (strcmp(rt, "OBJECT_COLUMN") == 0 && made_has_rv(c, rv, sub))
			made_add_rv(c, rv, newname);
		return;
	}
	if (strcmp(rt, "OBJECT_TRIGGER") == 0) {
		buf_addstr(d, "ALTER TRIGGER ");
		sql_quote_ident(d, newname);
		buf_addstr(d, " ON ");
		rb_rangevar(d, rv);
		buf_addstr(d, " RENAME TO ");
		sql_quote_ident(d, sub != NULL ? sub : "");
		buf_addch(d, ';');
		return;
	}
	if (strcmp(rt, "OBJECT_SCHEMA") == 0) {
		buf_addstr(d, "ALTER SCHEMA ");
		sql_quote_ident(d, newname);
		buf_addstr(d, " RENAME TO ");
		sql_quote_ident(d, sub != NULL ? sub : "");
		buf_addch(d, ';');
		return;
	}
	if (rv != NULL) {
		/* a relation: ALTER KIND schema.new RENAME TO old */
		buf_printf(d, "ALTER %s ", words);
		if (json_str(rv, "schemaname") != NULL) {
			sql_quote_ident(d, json_str(rv, "schemaname"));
			buf_addch(d, '.');
		}
		sql_quote_ident(d, newname);
		buf_addstr(d, " RENAME TO ");
		sql_quote_ident(d, json_str(rv, "relname") != NULL ?
		    json_str(rv, "relname") : "");
		buf_addch(d, ';');
		if (made_has_rv(c, rv, NULL))
			made_add(c, json_str(rv, "schemaname"), newname, NULL);
		return;
	}
	if ((strcmp(rt, "OBJECT_TYPE") == 0 || strcmp(rt, "OBJECT_DOMAIN") == 0) &&
	    json_array_size(name_items(obj)) > 0) {
		const json_t *items = name_items(obj);

		buf_printf(d, "ALTER %s ", words);
		rb_names(d, obj, 1);
		if (json_array_size(items) > 1)
			buf_addch(d, '.');
		sql_quote_ident(d, newname);
		buf_addstr(d, " RENAME TO ");
		sql_quote_ident(d, sval(json_array_get(items, json_array_size(items) - 1)));
		buf_addch(d, ';');
		return;
	}
unknown:
	lower = lowercase(sql_object_words(rt));
	irreversible(it, "no inverse known for renaming %s %s", article(lower),
	    lower);
	free(lower);
}

static void
b_alter_enum(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	(void)c;
	if (json_str(n, "oldVal") == NULL) {
		irreversible(it, "enum value '%s' added: PostgreSQL cannot remove enum values",
		    json_str(n, "newVal"));
		return;
	}
	buf_addstr(d, "ALTER TYPE ");
	rb_names(d, json_object_get(n, "typeName"), 0);
	buf_addstr(d, " RENAME VALUE ");
	sql_quote_literal(d, json_str(n, "newVal") != NULL ? json_str(n, "newVal") : "");
	buf_addstr(d, " TO ");
	sql_quote_literal(d, json_str(n, "oldVal"));
	buf_addch(d, ';');
}

static void
b_comment(struct rb_ctx *c, const json_t *n, struct rb_item *it, struct buf *d)
{
	const char *ot = json_str(n, "objtype");

	(void)d;
	if (made_has_names(c, json_object_get(n, "object"),
	    ot != NULL && strcmp(ot, "OBJECT_COLUMN") == 0)) {
		it->status = RB_SUBSUMED;
		return;
	}
	irreversible(it, "the previous comment is not in the file");
}

/* INSERT/UPDATE/DELETE: only undone when the table is new in this file. */
static void
b_dml(struct rb_ctx *c, const json_t *n, struct rb_item *it, struct buf *d)
{
	const json_t *rv = json_object_get(n, "relation");
	const json_t *targets = json_object_get(n, "targetList");
	size_t i;

	(void)d;
	if (made_has_rv(c, rv, NULL)) {
		it->status = RB_SUBSUMED;
		return;
	}
	if (strcmp(it->kind, "UPDATE") == 0 && json_array_size(targets) > 0) {
		/* an UPDATE that only fills columns added by this file */
		for (i = 0; i < json_array_size(targets); i++) {
			const json_t *t = json_object_get(
			    json_array_get(targets, i), "ResTarget");

			if (!made_has_rv(c, rv, json_str(t, "name")))
				break;
		}
		if (i == json_array_size(targets)) {
			it->status = RB_SUBSUMED;
			return;
		}
	}
	irreversible(it, "%s changes data: the previous rows are not in the file",
	    it->kind);
}

static int
calls_function(const json_t *node)
{
	char *s = json_dumps(node, JSON_COMPACT);
	int r = s != NULL && strstr(s, "\"FuncCall\"") != NULL;

	free(s);
	return r;
}

static void
b_select(struct rb_ctx *c, const json_t *n, struct rb_item *it, struct buf *d)
{
	const json_t *into = json_object_get(n, "intoClause");

	if (into != NULL) {
		drop_rangevar("TABLE", json_object_get(into, "rel"), n, it, d);
		made_add_rv(c, json_object_get(into, "rel"), NULL);
		return;
	}
	if (calls_function(n)) {
		irreversible(it, "calls functions whose effects are unknown");
		return;
	}
	it->status = RB_NOOP;
}

static void
b_noop(struct rb_ctx *c, const json_t *n, struct rb_item *it, struct buf *d)
{
	(void)c;
	(void)n;
	(void)d;
	it->status = RB_NOOP;
}

static void
b_drop(struct rb_ctx *c, const json_t *n, struct rb_item *it, struct buf *d)
{
	char *lower = lowercase(sql_object_words(json_str(n, "removeType")));

	(void)c;
	(void)d;
	irreversible(it, "drops %s %s: its definition (and any data) is not in the file",
	    article(lower), lower);
	free(lower);
}

static void
b_irreversible(struct rb_ctx *c, const json_t *n, struct rb_item *it,
    struct buf *d)
{
	(void)c;
	(void)n;
	(void)d;
	irreversible(it, "%s: no inverse known", it->kind);
}

/* Statement node type → inverse builder. Unlisted types are irreversible. */
static const struct {
	const char	*node;
	rb_builder	 build;
} builders[] = {
	{ "CreateStmt", b_create_table },
	{ "CreateTableAsStmt", b_create_table_as },
	{ "ViewStmt", b_create_view },
	{ "IndexStmt", b_create_index },
	{ "CreateSeqStmt", b_create_sequence },
	{ "CreateEnumStmt", b_create_enum },
	{ "CreateRangeStmt", b_create_range },
	{ "CompositeTypeStmt", b_create_composite },
	{ "CreateDomainStmt", b_create_domain },
	{ "CreateFunctionStmt", b_create_function },
	{ "CreateSchemaStmt", b_create_schema },
	{ "CreateExtensionStmt", b_create_extension },
	{ "CreateTrigStmt", b_create_trigger },
	{ "CreatePolicyStmt", b_create_policy },
	{ "RuleStmt", b_create_rule },
	{ "AlterTableStmt", b_alter_table },
	{ "RenameStmt", b_rename },
	{ "AlterEnumStmt", b_alter_enum },
	{ "CommentStmt", b_comment },
	{ "InsertStmt", b_dml },
	{ "UpdateStmt", b_dml },
	{ "DeleteStmt", b_dml },
	{ "SelectStmt", b_select },
	{ "DropStmt", b_drop },
	{ "TransactionStmt", b_noop },
	{ "VariableSetStmt", b_noop },
	{ "VariableShowStmt", b_noop },
	{ "VacuumStmt", b_noop },
	{ "ReindexStmt", b_noop },
	{ "RefreshMatViewStmt", b_noop },
	{ "LockStmt", b_noop },
	{ "CheckPointStmt", b_noop },
	{ "NotifyStmt", b_noop },
	{ "ExplainStmt", b_noop },
	{ "DoStmt", b_irreversible },
	{ "TruncateStmt", b_irreversible },
};

static void
ctx_release(struct rb_ctx *c)
{
	size_t i;

	for (i = 0; i < c->n; i++) {
		free(c->made[i].schema);
		free(c->made[i].name);
		free(c->made[i].sub);
	}
	free(c->made);
}

/* Text inside a "--" comment: on one line whatever names it quotes. */
static void
comment_text(struct buf *s, const char *text)
{
	for (; *text != '\0'; text++)
		buf_addch(s, *text == '\n' || *text == '\r' ? ' ' : *text);
}

static void
build_script(const char *path, struct rollback *rb, struct buf *s)
{
	size_t i;

	buf_printf(s, "-- down migration for %s, generated by opsdeck migrate rollback-sql\n",
	    path);
	buf_addstr(s, "-- statements are undone in reverse order\n");
	if (rb->irreversible > 0) {
		buf_printf(s, "-- WARNING: %zu statement%s cannot be undone by this script:\n",
		    rb->irreversible, rb->irreversible == 1 ? "" : "s");
		for (i = 0; i < rb->n; i++) {
			const struct rb_item *it = &rb->v[i];

			if (it->status != RB_IRREVERSIBLE)
				continue;
			buf_addstr(s, "--   ");
			comment_text(s, path);
			buf_printf(s, ":%d: %s: ", it->line, it->kind);
			comment_text(s, it->reason);
			buf_addch(s, '\n');
		}
	}
	if (rb->conditional > 0) {
		buf_printf(s, "-- WARNING: %zu statement%s created only if missing: the script undoes %s even if %s existed before the up:\n",
		    rb->conditional, rb->conditional == 1 ? " was" : "s were",
		    rb->conditional == 1 ? "it" : "them",
		    rb->conditional == 1 ? "it" : "they");
		for (i = 0; i < rb->n; i++) {
			const struct rb_item *it = &rb->v[i];

			if (it->status != RB_CONDITIONAL)
				continue;
			buf_addstr(s, "--   ");
			comment_text(s, path);
			buf_printf(s, ":%d: %s: ", it->line, it->kind);
			comment_text(s, it->reason);
			buf_addch(s, '\n');
		}
	}
	for (i = rb->n; i > 0; i--) {
		const struct rb_item *it = &rb->v[i - 1];

		if (it->status == RB_NOOP && it->reason != NULL) {
			/* reversible with nothing to undo, and why */
			buf_printf(s, "\n-- line %d (%s): ", it->line, it->kind);
			comment_text(s, it->reason);
			buf_addch(s, '\n');
			continue;
		}
		if (it->status != RB_REVERSED && it->status != RB_CONDITIONAL)
			continue;
		buf_printf(s, "\n-- undoes line %d (%s)", it->line, it->kind);
		if (it->reason != NULL) {
			buf_addstr(s, "; note: ");
			comment_text(s, it->reason);
		}
		buf_printf(s, "\n%s\n", it->down);
	}
}

/* A walk of rollback_generate: one statement's item, or the first syntax error. */
struct rb_walk {
	struct rb_ctx	 ctx;
	struct rollback	*rb;
	struct buf	 d;
	struct err	*e;
	bool		 failed;
};

static int
rb_stmt(const struct sql_file *f, const struct sql_stmt *st, void *arg)
{
	struct rb_walk *w = arg;
	struct rollback *rb = w->rb;
	struct rb_item *it;
	const char *type = sql_stmt_type(st);
	const json_t *node = type != NULL ? json_object_get(st->tree, type) : NULL;
	size_t j;

	if (st->error != NULL) {
		if (st->error_newer != NULL)
			err_set(w->e, "%s:%d:%d: %s: %s, which opsdeck's PostgreSQL 15 grammar cannot read yet: write the down SQL by hand",
			    f->path, st->error_line, st->error_col, st->error,
			    st->error_newer);
		else
			err_set(w->e, "%s:%d:%d: %s: fix the syntax first (opsdeck migrate lint shows every error)",
			    f->path, st->error_line, st->error_col, st->error);
		w->failed = true;
		return -1;
	}
	if (rb->n % 64 == 0)
		rb->v = xreallocarray(rb->v, rb->n + 64, sizeof(*rb->v));
	it = &rb->v[rb->n++];
	memset(it, 0, sizeof(*it));
	it->line = st->line;
	it->col = st->col;
	it->status = RB_REVERSED;
	it->kind = type != NULL ? sql_stmt_words(type, node) : "empty";
	buf_reset(&w->d);
	for (j = 0; type != NULL &&
	    j < sizeof(builders) / sizeof(builders[0]); j++)
		if (strcmp(builders[j].node, type) == 0)
			break;
	if (type == NULL) {
		it->status = RB_NOOP;
		return 0;
	}
	if (j == sizeof(builders) / sizeof(builders[0])) {
		irreversible(it, "no inverse known for %s", it->kind);
		return 0;
	}
	builders[j].build(&w->ctx, node, it, &w->d);
	if (it->status == RB_REVERSED || it->status == RB_CONDITIONAL)
		it->down = xstrdup(buf_str(&w->d));
	return 0;
}

int
rollback_generate(const char *path, const char *text, size_t len,
    struct rollback *rb, struct err *e)
{
	struct rb_walk w;
	struct sql_file f;
	struct buf script = BUF_INIT;
	PgQueryParseResult pr = { NULL, NULL, NULL };
	size_t i;
	int ret = -1;

	memset(rb, 0, sizeof(*rb));
	memset(&w, 0, sizeof(w));
	w.rb = rb;
	w.d = (struct buf)BUF_INIT;
	w.e = e;
	/* statement by statement: only the items are kept, never the trees */
	if (sql_file_each_window(path, text, len, 0, &f, rb_stmt, &w, e) < 0 ||
	    w.failed)
		goto out;
	for (i = 0; i < rb->n; i++) {
		if (rb->v[i].status == RB_IRREVERSIBLE)
			rb->irreversible++;
		else if (rb->v[i].status == RB_CONDITIONAL)
			rb->conditional++;
	}
	build_script(path, rb, &script);
	/* prove the script is SQL PostgreSQL's grammar accepts */
	pr = pg_query_parse(buf_str(&script));
	if (pr.error != NULL) {
		err_set(e, "%s: the generated down SQL does not parse (%s at byte %d): this is a bug in opsdeck, please report it",
		    path, pr.error->message, pr.error->cursorpos);
		goto out;
	}
	rb->sql = buf_detach(&script);
	ret = 0;
out:
	pg_query_free_parse_result(pr);
	ctx_release(&w.ctx);
	sql_file_release(&f);
	buf_release(&w.d);
	buf_release(&script);
	return ret;
}

json_t *
rollback_json(const char *path, const struct rollback *rb)
{
	json_t *o = json_object(), *a = json_array();
	size_t i;

	json_object_set_new(o, "file", json_string(path));
	json_object_set_new(o, "reversible", json_boolean(rb->irreversible == 0 &&
	    rb->conditional == 0));
	json_object_set_new(o, "irreversible", json_integer((json_int_t)rb->irreversible));
	json_object_set_new(o, "conditional", json_integer((json_int_t)rb->conditional));
	for (i = 0; i < rb->n; i++) {
		const struct rb_item *it = &rb->v[i];
		json_t *s = json_object();

		json_object_set_new(s, "line", json_integer(it->line));
		json_object_set_new(s, "kind", json_string(it->kind));
		json_object_set_new(s, "status",
		    json_string(rb_status_str(it->status)));
		json_object_set_new(s, "down",
		    it->down != NULL ? json_string(it->down) : json_null());
		json_object_set_new(s, "reason", it->reason != NULL ?
		    json_string(it->reason) : json_null());
		json_array_append_new(a, s);
	}
	json_object_set_new(o, "statements", a);
	json_object_set_new(o, "sql", json_string(rb->sql != NULL ? rb->sql : ""));
	return o;
}

void
rollback_release(struct rollback *rb)
{
	size_t i;

	for (i = 0; i < rb->n; i++) {
		free(rb->v[i].down);
		free(rb->v[i].reason);
	}
	free(rb->v);
	free(rb->sql);
	memset(rb, 0, sizeof(*rb));
}
