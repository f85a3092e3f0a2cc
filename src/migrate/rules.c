/*
 * The rule catalogue. lint_rules[] at the bottom IS the catalogue: `opsdeck migrate
 * rules`, docs/migrate-rules.md, SARIF metadata and bench/README.md's squawk table
 * come from it. A check gets the node of one statement of its kind (the object
 * under "AlterTableStmt", …) and raises findings with lint_emit.
 *
 * Tables created earlier in the same file are exempt from the rules about locking
 * or rewriting an existing table (as squawk does): nobody else can see them yet.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "migrate/lint.h"

#define NAMEDATALEN_MAX 63	/* PostgreSQL truncates longer identifiers */

static bool
str_is(const json_t *n, const char *key, const char *want)
{
	const char *s = json_str(n, key);

	return s != NULL && strcmp(s, want) == 0;
}

/* The relation of a statement, for messages; the caller frees. */
static char *
relname(const json_t *n, const char *key)
{
	char *s = lock_rangevar_name(json_object_get(n, key));

	return s != NULL ? s : xstrdup("?");
}

/* Calls fn for each ALTER TABLE subcommand of subtype (NULL: all) on an existing
 * table; new tables are skipped unless all is set. */
static void
each_cmd(struct lint_ctx *c, const json_t *n, const char *subtype, bool all,
    void (*fn)(struct lint_ctx *, const char *rel, const json_t *cmd))
{
	const json_t *cmd;
	char *rel = lock_rangevar_name(json_object_get(n, "relation"));
	size_t i;

	/* as lint_is_new_rangevar and relname, with one name made */
	if (!all && lint_is_new_name(c, rel)) {
		free(rel);
		return;
	}
	if (rel == NULL)
		rel = xstrdup("?");
	json_array_foreach(json_object_get(n, "cmds"), i, cmd) {
		cmd = json_object_get(cmd, "AlterTableCmd");
		if (subtype == NULL || str_is(cmd, "subtype", subtype))
			fn(c, rel, cmd);
	}
	free(rel);
}

static const json_t *
cmd_constraint(const json_t *cmd)
{
	return json_object_get(json_object_get(cmd, "def"), "Constraint");
}

static const json_t *
coldef_constraint(const json_t *coldef, const char *contype)
{
	const json_t *k;
	size_t i;

	json_array_foreach(json_object_get(coldef, "constraints"), i, k) {
		k = json_object_get(k, "Constraint");
		if (str_is(k, "contype", contype))
			return k;
	}
	return NULL;
}

/* drop-* */

static void
check_drop(struct lint_ctx *c, const json_t *n)
{
	static const struct {
		const char *type, *rule, *what;
	} drops[] = {
		{ "OBJECT_TABLE", "drop-table", "table" },
		{ "OBJECT_SCHEMA", "drop-schema", "schema" },
	};
	const json_t *o;
	size_t i, k;

	for (k = 0; k < sizeof(drops) / sizeof(drops[0]); k++) {
		if (!str_is(n, "removeType", drops[k].type))
			continue;
		json_array_foreach(json_object_get(n, "objects"), i, o) {
			char *name = NULL;
			const json_t *items = json_object_get(json_object_get(o,
			    "List"), "items");
			size_t j;
			const json_t *it;

			if (items == NULL)	/* a schema is a bare String */
				name = xstrdup(json_str(json_object_get(o, "String"),
				    "sval") != NULL ? json_str(json_object_get(o,
				    "String"), "sval") : "?");
			else {
				struct buf b = BUF_INIT;

				json_array_foreach(items, j, it) {
					if (j > 0)
						buf_addch(&b, '.');
					buf_addstr(&b, json_str(json_object_get(it,
					    "String"), "sval") ?: "?");
				}
				name = buf_detach(&b);
			}
			if (!lint_is_new_name(c, name))
				lint_emit(c, drops[k].rule, "dropping %s '%s'%s",
				    drops[k].what, name,
				    str_is(n, "behavior", "DROP_CASCADE") ?
				    " with CASCADE" : "");
			free(name);
		}
	}
}

static void
check_drop_database(struct lint_ctx *c, const json_t *n)
{
	lint_emit(c, "drop-database", "dropping database '%s'",
	    json_str(n, "dbname") ?: "?");
}

static void
cmd_drop_column(struct lint_ctx *c, const char *rel, const json_t *cmd)
{
	lint_emit(c, "drop-column", "dropping column '%s' of '%s'",
	    json_str(cmd, "name") ?: "?", rel);
}

static void
check_drop_column(struct lint_ctx *c, const json_t *n)
{
	each_cmd(c, n, "AT_DropColumn", false, cmd_drop_column);
}

static void
cmd_drop_not_null(struct lint_ctx *c, const char *rel, const json_t *cmd)
{
	lint_emit(c, "drop-not-null", "dropping NOT NULL of column '%s' of '%s'",
	    json_str(cmd, "name") ?: "?", rel);
}

static void
check_drop_not_null(struct lint_ctx *c, const json_t *n)
{
	each_cmd(c, n, "AT_DropNotNull", false, cmd_drop_not_null);
}

/* rename-* */

static void
check_rename(struct lint_ctx *c, const json_t *n)
{
	char *rel;

	if (lint_is_new_rangevar(c, json_object_get(n, "relation")))
		return;
	rel = relname(n, "relation");
	if (str_is(n, "renameType", "OBJECT_COLUMN"))
		lint_emit(c, "rename-column",
		    "renaming column '%s' of '%s' to '%s'", json_str(n, "subname") ?: "?",
		    rel, json_str(n, "newname") ?: "?");
	else if (str_is(n, "renameType", "OBJECT_TABLE"))
		lint_emit(c, "rename-table", "renaming table '%s' to '%s'", rel,
		    json_str(n, "newname") ?: "?");
	free(rel);
}

/* column changes */

static void
cmd_type(struct lint_ctx *c, const char *rel, const json_t *cmd)
{
	lint_emit(c, "change-column-type",
	    "changing the type of column '%s' of '%s'", json_str(cmd, "name") ?: "?",
	    rel);
}

static void
check_column_type(struct lint_ctx *c, const json_t *n)
{
	each_cmd(c, n, "AT_AlterColumnType", false, cmd_type);
}

/* Functions known not to be volatile, so a default calling them does not rewrite. */
static const char *const stable_functions[] = {
	"now", "statement_timestamp", "transaction_timestamp", "lower", "upper",
	"jsonb_build_object", "json_build_object", "jsonb_build_array",
	"json_build_array", "to_jsonb", "to_json", "array_length", "length",
	"make_interval", "to_timestamp", "to_date", "concat", "btrim",
	"trim", "current_setting",
};

/* Finds the first FuncCall not known to be stable under expr; NULL if none. */
static const char *
volatile_call(const json_t *expr)
{
	const char *key, *name, *found;
	const json_t *v, *names;
	size_t i, k;

	if (json_is_array(expr)) {
		json_array_foreach(expr, i, v)
			if ((found = volatile_call(v)) != NULL)
				return found;
		return NULL;
	}
	if (!json_is_object(expr))
		return NULL;
	json_object_foreach((json_t *)expr, key, v) {
		if (strcmp(key, "FuncCall") == 0) {
			names = json_object_get(v, "funcname");
			name = json_str(json_object_get(json_array_get(names,
			    json_array_size(names) - 1), "String"), "sval");
			if (name == NULL)
				return "?";
			for (k = 0; k < sizeof(stable_functions) /
			    sizeof(stable_functions[0]); k++)
				if (strcmp(name, stable_functions[k]) == 0)
					break;
			if (k == sizeof(stable_functions) /
			    sizeof(stable_functions[0]))
				return name;
		}
		if ((found = volatile_call(v)) != NULL)
			return found;
	}
	return NULL;
}

static void
cmd_add_default(struct lint_ctx *c, const char *rel, const json_t *cmd)
{
	const json_t *col = json_object_get(json_object_get(cmd, "def"),
	    "ColumnDef");
	const json_t *def = coldef_constraint(col, "CONSTR_DEFAULT");
	const char *fn;
	int v = lint_opts(c)->pg_version;

	if (def == NULL)
		return;
	if (v != 0 && v < 11)
		lint_emit(c, "volatile-default",
		    "adding column '%s' to '%s' with a default rewrites the table "
		    "before PostgreSQL 11", json_str(col, "colname") ?: "?", rel);
	else if ((fn = volatile_call(json_object_get(def, "raw_expr"))) != NULL)
		lint_emit(c, "volatile-default",
		    "adding column '%s' to '%s' with default %s() (volatile or "
		    "unknown) rewrites the table", json_str(col, "colname") ?: "?",
		    rel, fn);
}

static void
check_volatile_default(struct lint_ctx *c, const json_t *n)
{
	each_cmd(c, n, "AT_AddColumn", false, cmd_add_default);
}

static void
cmd_generated(struct lint_ctx *c, const char *rel, const json_t *cmd)
{
	const json_t *col = json_object_get(json_object_get(cmd, "def"),
	    "ColumnDef");

	if (coldef_constraint(col, "CONSTR_GENERATED") != NULL)
		lint_emit(c, "generated-column",
		    "adding stored generated column '%s' to '%s' rewrites the table",
		    json_str(col, "colname") ?: "?", rel);
}

static void
check_generated(struct lint_ctx *c, const json_t *n)
{
	each_cmd(c, n, "AT_AddColumn", false, cmd_generated);
}

static void
cmd_required(struct lint_ctx *c, const char *rel, const json_t *cmd)
{
	const json_t *col = json_object_get(json_object_get(cmd, "def"),
	    "ColumnDef");

	if ((coldef_constraint(col, "CONSTR_NOTNULL") != NULL ||
	    coldef_constraint(col, "CONSTR_PRIMARY") != NULL) &&
	    coldef_constraint(col, "CONSTR_DEFAULT") == NULL &&
	    coldef_constraint(col, "CONSTR_GENERATED") == NULL &&
	    coldef_constraint(col, "CONSTR_IDENTITY") == NULL)
		lint_emit(c, "not-null-without-default",
		    "adding NOT NULL column '%s' to '%s' without a default fails "
		    "when the table has rows", json_str(col, "colname") ?: "?", rel);
}

static void
check_required(struct lint_ctx *c, const json_t *n)
{
	each_cmd(c, n, "AT_AddColumn", false, cmd_required);
}

static void
cmd_set_not_null(struct lint_ctx *c, const char *rel, const json_t *cmd)
{
	lint_emit(c, "set-not-null",
	    "setting NOT NULL on column '%s' of '%s' scans the table under "
	    "ACCESS EXCLUSIVE", json_str(cmd, "name") ?: "?", rel);
}

static void
check_set_not_null(struct lint_ctx *c, const json_t *n)
{
	each_cmd(c, n, "AT_SetNotNull", false, cmd_set_not_null);
}

/* constraints */

static const char *
conname(const json_t *k)
{
	return json_str(k, "conname") ?: "(unnamed)";
}

static void
cmd_fk(struct lint_ctx *c, const char *rel, const json_t *cmd)
{
	const json_t *k = cmd_constraint(cmd);

	if (str_is(k, "contype", "CONSTR_FOREIGN") && !json_bool(k, "skip_validation"))
		lint_emit(c, "foreign-key-not-valid",
		    "adding foreign key '%s' to '%s' validates all rows while "
		    "both tables are locked against writes", conname(k), rel);
}

static void
check_fk(struct lint_ctx *c, const json_t *n)
{
	each_cmd(c, n, "AT_AddConstraint", false, cmd_fk);
}

static void
cmd_check(struct lint_ctx *c, const char *rel, const json_t *cmd)
{
	const json_t *k = cmd_constraint(cmd);

	if (str_is(k, "contype", "CONSTR_CHECK") && !json_bool(k, "skip_validation"))
		lint_emit(c, "check-not-valid",
		    "adding check constraint '%s' to '%s' scans the table under "
		    "ACCESS EXCLUSIVE", conname(k), rel);
}

static void
check_check(struct lint_ctx *c, const json_t *n)
{
	each_cmd(c, n, "AT_AddConstraint", false, cmd_check);
}

static void
cmd_unique(struct lint_ctx *c, const char *rel, const json_t *cmd)
{
	const json_t *k = cmd_constraint(cmd);

	if (str_is(k, "contype", "CONSTR_UNIQUE") && json_str(k, "indexname") == NULL)
		lint_emit(c, "unique-without-index",
		    "adding unique constraint '%s' to '%s' builds its index under "
		    "ACCESS EXCLUSIVE", conname(k), rel);
}

static void
check_unique(struct lint_ctx *c, const json_t *n)
{
	each_cmd(c, n, "AT_AddConstraint", false, cmd_unique);
}

static void
cmd_pk(struct lint_ctx *c, const char *rel, const json_t *cmd)
{
	const json_t *k = cmd_constraint(cmd);
	const json_t *col;

	if (str_is(cmd, "subtype", "AT_AddConstraint")) {
		if (str_is(k, "contype", "CONSTR_PRIMARY") &&
		    json_str(k, "indexname") == NULL)
			lint_emit(c, "add-primary-key",
			    "adding primary key to '%s' builds its index under "
			    "ACCESS EXCLUSIVE", rel);
		return;
	}
	col = json_object_get(json_object_get(cmd, "def"), "ColumnDef");
	if (coldef_constraint(col, "CONSTR_PRIMARY") != NULL)
		lint_emit(c, "add-primary-key",
		    "adding primary key column '%s' to '%s' rewrites the table "
		    "and builds its index under ACCESS EXCLUSIVE",
		    json_str(col, "colname") ?: "?", rel);
}

static void
check_pk(struct lint_ctx *c, const json_t *n)
{
	each_cmd(c, n, "AT_AddConstraint", false, cmd_pk);
	each_cmd(c, n, "AT_AddColumn", false, cmd_pk);
}

static void
cmd_detach(struct lint_ctx *c, const char *rel, const json_t *cmd)
{
	const json_t *p = json_object_get(json_object_get(cmd, "def"),
	    "PartitionCmd");

	if (!json_bool(p, "concurrent") && lint_opts(c)->pg_version != 0 &&
	    lint_opts(c)->pg_version < 14)
		return;	/* no CONCURRENTLY before PostgreSQL 14 */
	if (!json_bool(p, "concurrent"))
		lint_emit(c, "detach-partition-concurrently",
		    "detaching a partition from '%s' takes ACCESS EXCLUSIVE", rel);
	else if (lint_in_transaction(c))
		lint_emit(c, "concurrently-in-transaction",
		    "DETACH PARTITION CONCURRENTLY on '%s' cannot run inside a "
		    "transaction", rel);
}

static void
check_detach(struct lint_ctx *c, const json_t *n)
{
	each_cmd(c, n, "AT_DetachPartition", true, cmd_detach);
}

/* indexes */

static void
check_create_index(struct lint_ctx *c, const json_t *n)
{
	char *rel;

	if (json_bool(n, "concurrent") ||
	    lint_is_new_rangevar(c, json_object_get(n, "relation")))
		return;
	rel = relname(n, "relation");
	lint_emit(c, "create-index-concurrently",
	    "creating index '%s' on '%s' without CONCURRENTLY blocks writes "
	    "while it builds", json_str(n, "idxname") ?: "(unnamed)", rel);
	free(rel);
}

static void
check_drop_index(struct lint_ctx *c, const json_t *n)
{
	const json_t *o;
	char *name;
	size_t i;

	if (!str_is(n, "removeType", "OBJECT_INDEX") || json_bool(n, "concurrent"))
		return;
	json_array_foreach(json_object_get(n, "objects"), i, o) {
		const json_t *items = json_object_get(json_object_get(o, "List"),
		    "items");

		name = xstrdup(json_str(json_object_get(json_array_get(items,
		    json_array_size(items) - 1), "String"), "sval") ?: "?");
		if (!lint_is_new_name(c, name))
			lint_emit(c, "drop-index-concurrently",
			    "dropping index '%s' without CONCURRENTLY takes ACCESS "
			    "EXCLUSIVE on its table", name);
		free(name);
	}
}

static bool
reindex_concurrent(const json_t *n)
{
	const json_t *o;
	size_t i;

	json_array_foreach(json_object_get(n, "params"), i, o)
		if (str_is(json_object_get(o, "DefElem"), "defname",
		    "concurrently"))
			return true;
	return false;
}

static void
check_reindex(struct lint_ctx *c, const json_t *n)
{
	char *rel;

	if (reindex_concurrent(n) || (lint_opts(c)->pg_version != 0 &&
	    lint_opts(c)->pg_version < 12))
		return;
	rel = json_object_get(n, "relation") != NULL ? relname(n, "relation") :
	    xstrdup(json_str(n, "name") ?: "?");
	lint_emit(c, "reindex-concurrently",
	    "reindexing '%s' without CONCURRENTLY blocks writes (and reads "
	    "using the index)", rel);
	free(rel);
}

static void
check_concurrently_in_tx(struct lint_ctx *c, const json_t *n)
{
	static const struct {
		const char *kind_key, *what;
	} w[] = {
		{ "indexParams", "CREATE INDEX CONCURRENTLY" },
		{ "removeType", "DROP INDEX CONCURRENTLY" },
		{ "kind", "REINDEX CONCURRENTLY" },
	};
	size_t i;

	if (!lint_in_transaction(c))
		return;
	for (i = 0; i < sizeof(w) / sizeof(w[0]); i++) {
		if (json_object_get(n, w[i].kind_key) == NULL)
			continue;
		if (json_bool(n, "concurrent") || (i == 2 && reindex_concurrent(n)))
			lint_emit(c, "concurrently-in-transaction",
			    "%s cannot run inside a transaction block", w[i].what);
		return;
	}
}

/* locks and timeouts */

/* The first lock of the statement that stops writes on an existing relation. */
static const struct lock_use *
blocking_lock(const struct lint_ctx *c)
{
	const struct lock_list *l = lint_locks(c);
	size_t i;

	for (i = 0; i < l->n; i++)
		if (lock_blocks_writes(l->v[i].mode) &&
		    !lint_is_new_name(c, l->v[i].relation))
			return &l->v[i];
	return NULL;
}

static void
check_lock_timeout(struct lint_ctx *c, const json_t *n)
{
	const struct lock_use *u;

	(void)n;
	if (lint_has_lock_timeout(c) || (u = blocking_lock(c)) == NULL ||
	    !lint_first(c, "lock-timeout"))
		return;
	lint_emit(c, "lock-timeout",
	    "%s on '%s' is requested without lock_timeout: while it waits, it "
	    "blocks %s", lock_mode_str(u->mode), u->relation,
	    lock_mode_blocks(u->mode));
}

static void
check_statement_timeout(struct lint_ctx *c, const json_t *n)
{
	const struct lock_use *u;

	(void)n;
	if (lint_has_statement_timeout(c) || (u = blocking_lock(c)) == NULL ||
	    !lint_first(c, "statement-timeout"))
		return;
	lint_emit(c, "statement-timeout",
	    "%s on '%s' is held without statement_timeout", lock_mode_str(u->mode),
	    u->relation);
}

/* transactions */

static void
check_tx_nesting(struct lint_ctx *c, const json_t *n)
{
	const char *k = json_str(n, "kind");

	if (k == NULL)
		return;
	if (strcmp(k, "TRANS_STMT_BEGIN") == 0 ||
	    strcmp(k, "TRANS_STMT_START") == 0) {
		if (lint_in_transaction(c))
			lint_emit(c, "transaction-nesting",
			    "BEGIN inside a transaction%s",
			    lint_opts(c)->assume_in_transaction ?
			    " (the runner already opens one)" : "");
	} else if (strcmp(k, "TRANS_STMT_COMMIT") == 0 ||
	    strcmp(k, "TRANS_STMT_ROLLBACK") == 0) {
		const char *what = strcmp(k, "TRANS_STMT_COMMIT") == 0 ?
		    "COMMIT" : "ROLLBACK";

		if (lint_in_begin(c))
			return;
		if (lint_opts(c)->assume_in_transaction)
			lint_emit(c, "transaction-nesting",
			    "%s ends the transaction the runner opened", what);
		else
			lint_emit(c, "transaction-nesting",
			    "%s without a transaction in progress", what);
	}
}

/* types */

#define IDENTITY "bigint generated always as identity"

/*
 * instead: what to use; key_instead, when set, what to use for a key column (a
 * PRIMARY KEY or a column named id), which is where identity belongs.
 */
static const struct {
	const char *type, *shown, *rule, *instead, *key_instead;
	bool needs_typmod;
} type_prefs[] = {
	{ "varchar", "varchar(n)", "prefer-text",
	    "text (with a CHECK on length if needed)", NULL, true },
	{ "bpchar", "char(n)", "char-field", "text", NULL, false },
	{ "int4", "integer", "prefer-bigint", "bigint", IDENTITY, false },
	{ "int2", "smallint", "prefer-bigint", "bigint", IDENTITY, false },
	{ "serial", "serial", "prefer-bigint", IDENTITY, NULL, false },
	{ "serial4", "serial", "prefer-bigint", IDENTITY, NULL, false },
	{ "smallserial", "smallserial", "prefer-bigint", IDENTITY, NULL, false },
	{ "serial2", "smallserial", "prefer-bigint", IDENTITY, NULL, false },
	{ "timestamp", "timestamp without time zone", "prefer-timestamptz",
	    "timestamptz", NULL, false },
	{ "serial8", "bigserial", "prefer-identity", IDENTITY, NULL, false },
	{ "bigserial", "bigserial", "prefer-identity", IDENTITY, NULL, false },
};

/* True when a name list (a constraint's keys) holds name. */
static bool
names_have(const json_t *names, const char *name)
{
	const json_t *k;
	size_t i;

	json_array_foreach(names, i, k)
		if (str_is(json_object_get(k, "String"), "sval", name))
			return true;
	return false;
}

/*
 * A key the database could number: a column named id, or the one column of the
 * PRIMARY KEY (not part of a composite key, not a foreign key).
 */
static bool
is_key(const json_t *stmt, const json_t *col, const char *colname)
{
	const json_t *e, *k, *keys;
	size_t i;

	if (colname == NULL || coldef_constraint(col, "CONSTR_FOREIGN") != NULL)
		return false;
	if (strcmp(colname, "id") == 0 ||
	    coldef_constraint(col, "CONSTR_PRIMARY") != NULL)
		return true;
	json_array_foreach(json_object_get(stmt, "tableElts"), i, e) {
		k = json_object_get(e, "Constraint");
		keys = json_object_get(k, "keys");
		if (str_is(k, "contype", "CONSTR_PRIMARY") &&
		    json_array_size(keys) == 1 && names_have(keys, colname))
			return true;
	}
	return false;
}

/* is_key is asked only of a column whose type a rule names. */
static void
coldef_types(struct lint_ctx *c, const char *rule, const char *rel,
    const json_t *stmt, const json_t *col, const char *colname)
{
	const json_t *tn = json_object_get(col, "typeName");
	const json_t *names = json_object_get(tn, "names");
	const char *t, *instead;
	size_t i;

	t = json_str(json_object_get(json_array_get(names, json_array_size(names) - 1),
	    "String"), "sval");
	if (t == NULL)
		return;
	/* a bare "char" (quoted) is the one-byte internal type, not bpchar */
	for (i = 0; i < sizeof(type_prefs) / sizeof(type_prefs[0]); i++) {
		if (strcmp(rule, type_prefs[i].rule) != 0 ||
		    strcmp(t, type_prefs[i].type) != 0)
			continue;
		if (type_prefs[i].needs_typmod &&
		    json_object_get(tn, "typmods") == NULL)
			continue;
		instead = type_prefs[i].key_instead != NULL &&
		    is_key(stmt, col, colname) ? type_prefs[i].key_instead :
		    type_prefs[i].instead;
		lint_emit_fix(c, rule, strcmp(instead, IDENTITY) == 0 ?
		    "use " IDENTITY : NULL, "column '%s' of '%s' is %s; prefer %s",
		    colname != NULL ? colname : "?", rel, type_prefs[i].shown,
		    instead);
	}
}

/* Runs the type preference rule over every column a statement defines. */
static void
types_rule(struct lint_ctx *c, const json_t *n, const char *rule)
{
	const json_t *e, *cmd, *col;
	const char *name;
	char *rel;
	size_t i;

	if (json_object_get(n, "tableElts") == NULL &&
	    json_object_get(n, "cmds") == NULL)
		return;
	rel = relname(n, "relation");
	json_array_foreach(json_object_get(n, "tableElts"), i, e)
		if ((col = json_object_get(e, "ColumnDef")) != NULL) {
			name = json_str(col, "colname");
			coldef_types(c, rule, rel, n, col, name);
		}
	json_array_foreach(json_object_get(n, "cmds"), i, cmd) {
		cmd = json_object_get(cmd, "AlterTableCmd");
		col = json_object_get(json_object_get(cmd, "def"), "ColumnDef");
		if (col == NULL)
			continue;
		name = json_str(cmd, "name") != NULL ? json_str(cmd, "name") :
		    json_str(col, "colname");
		coldef_types(c, rule, rel, n, col, name);
	}
	free(rel);
}

static void
check_prefer_text(struct lint_ctx *c, const json_t *n)
{
	types_rule(c, n, "prefer-text");
}

static void
check_char(struct lint_ctx *c, const json_t *n)
{
	types_rule(c, n, "char-field");
}

static void
check_bigint(struct lint_ctx *c, const json_t *n)
{
	types_rule(c, n, "prefer-bigint");
}

static void
check_timestamptz(struct lint_ctx *c, const json_t *n)
{
	types_rule(c, n, "prefer-timestamptz");
}

static void
check_identity(struct lint_ctx *c, const json_t *n)
{
	types_rule(c, n, "prefer-identity");
}

/* identifiers */

/*
 * The parser truncates identifiers to 63 bytes (with only a NOTICE), so the tree
 * never holds a longer one: a 63-byte name is looked up in the statement's text
 * to see whether it went on.
 */
static const char *const identifier_keys[] = {
	"relname", "colname", "idxname", "conname", "newname", "trigname",
	"schemaname", "policy_name", "extname", "sval", "name", "subname",
};

static bool
ident_char(char ch)
{
	return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
	    (ch >= '0' && ch <= '9') || ch == '_' || ch == '$' ||
	    (unsigned char)ch >= 0x80;
}

/* True when the 63-byte name s continues in the text (case-insensitively, as
 * unquoted names were folded). */
static bool
truncated(const char *text, const char *s)
{
	size_t n = strlen(s);
	const char *p;

	for (p = text; (p = strcasestr(p, s)) != NULL; p++)
		if (ident_char(p[n]) || (p[n] != '"' && p > text &&
		    p[-1] == '"' && strchr(p + n, '"') != NULL &&
		    strchr(p + n, '"') - (p + n) < 256 &&
		    memchr(p + n, '\n', (size_t)(strchr(p + n, '"') -
		    (p + n))) == NULL))
			return true;
	return false;
}

static void
identifiers_walk(struct lint_ctx *c, const json_t *v, int depth)
{
	const char *key, *s;
	const json_t *x;
	size_t i, k;

	if (depth > 64)
		return;
	if (json_is_array(v)) {
		json_array_foreach(v, i, x)
			identifiers_walk(c, x, depth + 1);
		return;
	}
	json_object_foreach((json_t *)v, key, x) {
		if (json_is_string(x)) {
			s = json_string_value(x);
			if (strlen(s) != NAMEDATALEN_MAX)
				continue;
			for (k = 0; k < sizeof(identifier_keys) /
			    sizeof(identifier_keys[0]); k++)
				if (strcmp(key, identifier_keys[k]) == 0 &&
				    truncated(lint_stmt_text(c), s)) {
					lint_emit(c, "identifier-too-long",
					    "identifier '%s…' is longer than %d "
					    "bytes; PostgreSQL truncates it", s,
					    NAMEDATALEN_MAX);
					break;
				}
		} else if (json_is_object(x) || json_is_array(x))
			identifiers_walk(c, x, depth + 1);
	}
}

static void
check_identifiers(struct lint_ctx *c, const json_t *n)
{
	identifiers_walk(c, n, 0);
}

/* enums and domains */

/* A qualified name from a list of String nodes ("s.t"); the caller frees. */
static char *
names_str(const json_t *names)
{
	struct buf b = BUF_INIT;
	const json_t *it;
	size_t i;

	json_array_foreach(names, i, it) {
		if (i > 0)
			buf_addch(&b, '.');
		buf_addstr(&b, json_str(json_object_get(it, "String"), "sval") ?:
		    "?");
	}
	return buf_detach(&b);
}

static void
check_enum_order(struct lint_ctx *c, const json_t *n)
{
	char *type;

	if (json_str(n, "newVal") == NULL || json_str(n, "newValNeighbor") != NULL)
		return;
	type = names_str(json_object_get(n, "typeName"));
	lint_emit(c, "enum-value-order",
	    "value '%s' sorts after every existing value of '%s': <, >, ORDER BY, "
	    "min() and max() on the enum follow that order", json_str(n, "newVal"),
	    type);
	free(type);
}

static void
check_domain_create(struct lint_ctx *c, const json_t *n)
{
	if (json_array_size(json_object_get(n, "constraints")) > 0)
		lint_emit(c, "domain-constraint",
		    "creating a domain with a constraint");
}

static void
check_domain_alter(struct lint_ctx *c, const json_t *n)
{
	if (str_is(n, "subtype", "C") && !json_bool(json_object_get(json_object_get(n,
	    "def"), "Constraint"), "skip_validation"))
		lint_emit(c, "domain-add-constraint",
		    "adding a constraint to a domain checks every column using it "
		    "under a lock");
}

/* destructive statements */

static void
check_truncate(struct lint_ctx *c, const json_t *n)
{
	const json_t *r;
	char *rel;
	size_t i;

	json_array_foreach(json_object_get(n, "relations"), i, r) {
		if (lint_is_new_rangevar(c, r))
			continue;
		rel = lock_rangevar_name(r);
		lint_emit(c, "truncate", "truncating '%s' deletes all its rows",
		    rel != NULL ? rel : "?");
		free(rel);
	}
	if (str_is(n, "behavior", "DROP_CASCADE"))
		lint_emit(c, "truncate-cascade",
		    "TRUNCATE … CASCADE also empties every table with a foreign "
		    "key to these");
}

static void
check_vacuum_full(struct lint_ctx *c, const json_t *n)
{
	const json_t *o;
	size_t i;

	json_array_foreach(json_object_get(n, "options"), i, o)
		if (str_is(json_object_get(o, "DefElem"), "defname", "full"))
			lint_emit(c, "vacuum-full",
			    "VACUUM FULL rewrites the table under ACCESS "
			    "EXCLUSIVE");
}

static void
check_cluster(struct lint_ctx *c, const json_t *n)
{
	char *rel = relname(n, "relation");

	lint_emit(c, "cluster",
	    "CLUSTER rewrites '%s' under ACCESS EXCLUSIVE", rel);
	free(rel);
}

static void
check_delete(struct lint_ctx *c, const json_t *n)
{
	char *rel;

	if (json_object_get(n, "whereClause") != NULL ||
	    lint_is_new_rangevar(c, json_object_get(n, "relation")))
		return;
	rel = relname(n, "relation");
	lint_emit(c, "delete-without-where",
	    "DELETE without WHERE removes every row of '%s'", rel);
	free(rel);
}

static void
check_update(struct lint_ctx *c, const json_t *n)
{
	char *rel;

	if (json_object_get(n, "whereClause") != NULL ||
	    lint_is_new_rangevar(c, json_object_get(n, "relation")))
		return;
	rel = relname(n, "relation");
	lint_emit(c, "update-without-where",
	    "UPDATE without WHERE rewrites every row of '%s' in one transaction",
	    rel);
	free(rel);
}

/* policy */

/* Statement kinds the additive-only policy allows (see also additive_ok). */
static const char *const additive_kinds[] = {
	"CreateStmt", "IndexStmt", "CommentStmt", "CreateSeqStmt",
	"CreateEnumStmt", "CreateSchemaStmt", "CreateExtensionStmt",
	"CreateTableAsStmt", "CreateStatsStmt", "CreateDomainStmt",
	"CompositeTypeStmt", "DefineStmt", "CreatePolicyStmt",
	"TransactionStmt", "VariableSetStmt", "CreateRangeStmt",
};

static const char *const additive_alter_cmds[] = {
	"AT_AddColumn", "AT_AddConstraint", "AT_ValidateConstraint",
	"AT_AddIndex", "AT_AddIndexConstraint", "AT_SetStatistics",
};

static bool
in_list(const char *s, const char *const *list, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(s, list[i]) == 0)
			return true;
	return false;
}

/* False when n is additive; else true with what is not, in words, in why. */
static bool
additive_violation(const char *kind, const json_t *n, struct buf *why)
{
	const json_t *cmd;
	const char *st;
	size_t i;

	if (in_list(kind, additive_kinds, sizeof(additive_kinds) /
	    sizeof(additive_kinds[0])))
		return false;
	if (strcmp(kind, "GrantStmt") == 0 && json_bool(n, "is_grant"))
		return false;
	if (strcmp(kind, "VacuumStmt") == 0 && !json_bool(n, "is_vacuumcmd"))
		return false;
	if (strcmp(kind, "ViewStmt") == 0 || strcmp(kind, "CreateFunctionStmt") == 0
	    || strcmp(kind, "CreateTrigStmt") == 0) {
		if (!json_bool(n, "replace"))
			return false;
		buf_printf(why, "CREATE OR REPLACE %s", sql_node_words(kind) +
		    strlen("CREATE "));
		return true;
	}
	if (strcmp(kind, "AlterEnumStmt") == 0) {
		if (json_str(n, "oldVal") == NULL)
			return false;
		buf_addstr(why, "ALTER TYPE … RENAME VALUE");
		return true;
	}
	if (strcmp(kind, "AlterTableStmt") == 0) {
		json_array_foreach(json_object_get(n, "cmds"), i, cmd) {
			cmd = json_object_get(cmd, "AlterTableCmd");
			st = json_str(cmd, "subtype");
			if (st != NULL && in_list(st, additive_alter_cmds,
			    sizeof(additive_alter_cmds) /
			    sizeof(additive_alter_cmds[0])))
				continue;
			buf_printf(why, "%s … ", sql_stmt_words(kind, n));
			sql_alter_cmd_words(why, cmd);
			return true;
		}
		return false;
	}
	if (strcmp(kind, "SelectStmt") == 0 &&
	    json_object_get(n, "fromClause") == NULL &&
	    json_object_get(n, "intoClause") == NULL)
		return false;	/* SELECT set_config(…) and the like */
	buf_addstr(why, sql_stmt_words(kind, n));
	return true;
}

static void
check_additive(struct lint_ctx *c, const json_t *n)
{
	const char *kind = lint_stmt_kind(c);
	struct buf why = BUF_INIT;

	if (lint_opts(c)->policy != LINT_POLICY_ADDITIVE_ONLY || kind == NULL)
		return;
	if (additive_violation(kind, n, &why))
		lint_emit(c, "additive-only",
		    "%s is not additive (policy additive-only allows only "
		    "creating and adding objects, indexes, comments, ANALYZE and "
		    "grants)", buf_str(&why));
	buf_release(&why);
}


/*
 * prefer-robust-statement: outside a transaction, a migration that fails part way
 * is run again from the top; each statement that fails on its second run (the
 * object is already there, or already gone) stops that rerun. Statements that
 * succeed again unchanged (SET NOT NULL, VALIDATE, a new type) are left alone.
 */

#define ROBUST "prefer-robust-statement"

static void
robust_missing(struct lint_ctx *c, const char *what, const char *guard)
{
	lint_emit(c, ROBUST, "%s without %s fails when the migration runs again "
	    "after failing part way", what, guard);
}

/* CREATE … without IF NOT EXISTS (OR REPLACE for views and functions). */
static void
robust_create(struct lint_ctx *c, const json_t *n)
{
	const char *kind = lint_stmt_kind(c);
	const json_t *rv = json_object_get(n, "relation");

	if (strcmp(kind, "CreateStmt") == 0) {
		if (str_is(rv, "relpersistence", "t"))
			return;		/* a temporary table: a new one per run */
	} else if (strcmp(kind, "IndexStmt") == 0) {
		if (json_str(n, "idxname") == NULL) {
			lint_emit_fix(c, ROBUST, "name the index and add IF NOT "
			    "EXISTS", "CREATE INDEX without a name builds a second "
			    "index when the migration runs again after failing "
			    "part way");
			return;
		}
	} else if (strcmp(kind, "ViewStmt") == 0 ||
	    strcmp(kind, "CreateFunctionStmt") == 0) {
		if (!json_bool(n, "replace"))
			robust_missing(c, lint_stmt_words(c), "OR REPLACE");
		return;
	}
	if (!json_bool(n, "if_not_exists"))
		robust_missing(c, lint_stmt_words(c), "IF NOT EXISTS");
}

static void
robust_alter_cmd(struct lint_ctx *c, const char *rel, const json_t *cmd)
{
	const char *name = json_str(cmd, "name");
	const json_t *con = cmd_constraint(cmd);
	char *key;

	if (str_is(cmd, "subtype", "AT_AddColumn")) {
		if (!json_bool(cmd, "missing_ok"))
			robust_missing(c, "ADD COLUMN", "IF NOT EXISTS");
	} else if (str_is(cmd, "subtype", "AT_DropColumn")) {
		if (!json_bool(cmd, "missing_ok"))
			robust_missing(c, "DROP COLUMN", "IF EXISTS");
	} else if (str_is(cmd, "subtype", "AT_DropConstraint")) {
		if (!json_bool(cmd, "missing_ok")) {
			robust_missing(c, "DROP CONSTRAINT", "IF EXISTS");
			return;
		}
		/* dropped IF EXISTS first, the constraint can be added again */
		key = xasprintf(ROBUST ":%s:%s", rel, name ?: "");
		lint_note(c, key);
		free(key);
	} else if (str_is(cmd, "subtype", "AT_AddConstraint")) {
		name = json_str(con, "conname");
		key = xasprintf(ROBUST ":%s:%s", rel, name ?: "");
		if (name == NULL || !lint_noted(c, key))
			lint_emit_fix(c, ROBUST, "run the file in one transaction, or "
			    "put ALTER TABLE … DROP CONSTRAINT IF EXISTS before it",
			    "ADD CONSTRAINT %s fails when the migration runs again "
			    "after failing part way", name ?: "(unnamed)");
		free(key);
	}
}

static void
check_robust(struct lint_ctx *c, const json_t *n)
{
	const char *kind = lint_stmt_kind(c);
	static const char *const creates[] = { "CreateStmt", "IndexStmt",
	    "CreateTableAsStmt", "CreateSeqStmt", "CreateSchemaStmt",
	    "CreateExtensionStmt", "ViewStmt", "CreateFunctionStmt" };

	if (lint_in_transaction(c))
		return;
	/* CONCURRENTLY is not atomic: even alone in its file, a failure leaves
	 * an INVALID index behind (see robust_finish). */
	if (json_bool(n, "concurrent"))
		lint_note(c, ROBUST ":concurrently");
	if (str_index(kind, creates, sizeof(creates) / sizeof(creates[0])) >= 0)
		robust_create(c, n);
	else if (strcmp(kind, "AlterTableStmt") == 0)
		each_cmd(c, n, NULL, true, robust_alter_cmd);
	else if (strcmp(kind, "DropStmt") == 0 && !json_bool(n, "missing_ok"))
		robust_missing(c, lint_stmt_words(c), "IF EXISTS");
	else if (strcmp(kind, "AlterEnumStmt") == 0 &&
	    json_str(n, "newVal") != NULL && !json_bool(n, "skipIfNewValExists"))
		robust_missing(c, "ALTER TYPE … ADD VALUE", "IF NOT EXISTS");
	else if (strcmp(kind, "RenameStmt") == 0 && !json_bool(n, "missing_ok"))
		lint_emit_fix(c, ROBUST, "run the file in one transaction, or rename "
		    "a table with ALTER TABLE IF EXISTS", "RENAME fails when the "
		    "migration runs again after failing part way");
}

/*
 * A file of one statement outside CONCURRENTLY applies whole or not at all: running
 * it again is safe, so what the check raised on it is dropped.
 */
static void
robust_finish(struct lint_ctx *c)
{
	if (lint_stmt_count(c) <= 1 && !lint_noted(c, ROBUST ":concurrently"))
		lint_drop(c, ROBUST);
}

/* require-table-schema (opt-in): a bare table name goes wherever search_path says. */

static void
schema_check_rv(struct lint_ctx *c, const json_t *rv)
{
	if (rv == NULL || json_str(rv, "schemaname") != NULL ||
	    str_is(rv, "relpersistence", "t"))
		return;
	lint_emit(c, "require-table-schema", "table '%s' is not schema-qualified",
	    json_str(rv, "relname") ?: "?");
}

static void
check_table_schema(struct lint_ctx *c, const json_t *n)
{
	const char *kind = lint_stmt_kind(c);
	const json_t *o;
	size_t i;

	if (strcmp(kind, "CreateStmt") == 0)
		schema_check_rv(c, json_object_get(n, "relation"));
	else if ((strcmp(kind, "AlterTableStmt") == 0 &&
	    str_is(n, "objtype", "OBJECT_TABLE")) ||
	    (strcmp(kind, "RenameStmt") == 0 &&
	    (str_is(n, "renameType", "OBJECT_TABLE") ||
	    str_is(n, "relationType", "OBJECT_TABLE"))))
		schema_check_rv(c, json_object_get(n, "relation"));
	else if (strcmp(kind, "DropStmt") == 0 &&
	    str_is(n, "removeType", "OBJECT_TABLE"))
		json_array_foreach(json_object_get(n, "objects"), i, o) {
			const json_t *items = json_object_get(json_object_get(o,
			    "List"), "items");

			if (json_array_size(items) == 1)
				lint_emit(c, "require-table-schema", "table '%s' is "
				    "not schema-qualified", json_str(json_object_get(
				    json_array_get(items, 0), "String"), "sval") ?: "?");
		}
}

#define R(id, sev, sum, fix, squawk, kind, fn) \
	{ id, LINT_##sev, sum, fix, squawk, kind, fn, false, NULL }
#define R_OPT_IN(id, sev, sum, fix, squawk, kind, fn) \
	{ id, LINT_##sev, sum, fix, squawk, kind, fn, true, NULL }
/* A rule with a finish hook, run once the file is read. */
#define R_FINISH(id, sev, sum, fix, squawk, kind, fn, finish) \
	{ id, LINT_##sev, sum, fix, squawk, kind, fn, false, finish }

const struct lint_rule lint_rules[] = {
R("parse-error", ERROR, "a statement does not parse with PostgreSQL 15's grammar",
    "fix the syntax error", NULL, NULL, NULL),
R("empty-file", WARNING, "the file has no SQL statements",
    "remove the file or add the migration's statements", NULL, NULL, NULL),
R("drop-table", ERROR, "DROP TABLE breaks readers and loses data",
    "stop using the table in the app first, deploy, then drop it in a later "
    "migration", "ban-drop-table", "DropStmt", check_drop),
R("drop-column", ERROR, "DROP COLUMN breaks code still reading the column",
    "stop reading the column in the app, deploy, then drop it later",
    "ban-drop-column", "AlterTableStmt", check_drop_column),
R("drop-database", ERROR, "DROP DATABASE in a migration",
    "drop databases by hand, never from a migration", "ban-drop-database",
    "DropdbStmt", check_drop_database),
R("drop-schema", ERROR, "DROP SCHEMA removes everything in it",
    "drop the objects one by one in separate, reviewed migrations", NULL,
    "DropStmt", NULL),
R("drop-not-null", WARNING, "DROP NOT NULL lets NULLs reach code that does "
    "not expect them", "make sure every reader handles NULL before dropping "
    "the constraint", "ban-drop-not-null", "AlterTableStmt",
    check_drop_not_null),
R("rename-column", ERROR, "renaming a column breaks running code",
    "add the new column, write both, backfill, switch readers, drop the old "
    "one", "renaming-column", "RenameStmt", check_rename),
R("rename-table", ERROR, "renaming a table breaks running code",
    "create the new table (or a view with the old name), migrate readers, "
    "then drop the old one", "renaming-table", "RenameStmt", NULL),
R("change-column-type", ERROR, "changing a column's type rewrites the table "
    "under ACCESS EXCLUSIVE", "add a new column of the new type, backfill in "
    "batches, switch readers, drop the old one", "changing-column-type",
    "AlterTableStmt", check_column_type),
R("volatile-default", ERROR, "a new column with a volatile default rewrites "
    "the table", "add the column without a default, set the default, backfill "
    "in batches", "adding-field-with-default", "AlterTableStmt",
    check_volatile_default),
R("generated-column", ERROR, "a new stored generated column rewrites the "
    "table", "add a plain column filled by a trigger and backfill in batches",
    "adding-field-with-default", "AlterTableStmt", check_generated),
R("not-null-without-default", ERROR, "a new NOT NULL column without a default "
    "fails on a table with rows", "add a default, or add it nullable, backfill, "
    "then add a NOT NULL check", "adding-required-field", "AlterTableStmt",
    check_required),
R("set-not-null", ERROR, "SET NOT NULL scans the whole table under ACCESS "
    "EXCLUSIVE", "add CHECK (col IS NOT NULL) NOT VALID, VALIDATE it, then SET "
    "NOT NULL (PostgreSQL 12+ skips the scan)", "adding-not-nullable-field",
    "AlterTableStmt", check_set_not_null),
R("foreign-key-not-valid", ERROR, "a foreign key without NOT VALID validates "
    "all rows while blocking writes on both tables", "add it NOT VALID, then "
    "VALIDATE CONSTRAINT in a separate statement",
    "adding-foreign-key-constraint", "AlterTableStmt", check_fk),
R("check-not-valid", ERROR, "a CHECK constraint without NOT VALID scans the "
    "table under ACCESS EXCLUSIVE", "add it NOT VALID, then VALIDATE "
    "CONSTRAINT in a separate statement", "constraint-missing-not-valid",
    "AlterTableStmt", check_check),
R("unique-without-index", ERROR, "a UNIQUE constraint builds its index under "
    "ACCESS EXCLUSIVE", "CREATE UNIQUE INDEX CONCURRENTLY, then ADD CONSTRAINT "
    "… UNIQUE USING INDEX", "disallowed-unique-constraint", "AlterTableStmt",
    check_unique),
R("add-primary-key", ERROR, "adding a primary key to an existing table builds "
    "its index under ACCESS EXCLUSIVE", "CREATE UNIQUE INDEX CONCURRENTLY, then "
    "ADD CONSTRAINT … PRIMARY KEY USING INDEX", "adding-serial-primary-key-field",
    "AlterTableStmt", check_pk),
R("create-index-concurrently", ERROR, "CREATE INDEX without CONCURRENTLY "
    "blocks writes while it builds", "use CREATE INDEX CONCURRENTLY (outside a "
    "transaction)", "require-concurrent-index-creation", "IndexStmt",
    check_create_index),
R("drop-index-concurrently", WARNING, "DROP INDEX without CONCURRENTLY takes "
    "ACCESS EXCLUSIVE on the table", "use DROP INDEX CONCURRENTLY (outside a "
    "transaction)", "require-concurrent-index-deletion", "DropStmt",
    check_drop_index),
R("reindex-concurrently", ERROR, "REINDEX without CONCURRENTLY blocks writes",
    "use REINDEX … CONCURRENTLY (PostgreSQL 12+)", "require-concurrent-reindex",
    "ReindexStmt", check_reindex),
R("detach-partition-concurrently", WARNING, "DETACH PARTITION without "
    "CONCURRENTLY takes ACCESS EXCLUSIVE on the parent", "use DETACH PARTITION "
    "… CONCURRENTLY (PostgreSQL 14+, outside a transaction)",
    "require-concurrent-partition-detach", "AlterTableStmt", check_detach),
R("concurrently-in-transaction", ERROR, "a CONCURRENTLY statement inside a "
    "transaction fails", "run it in its own file or outside BEGIN … COMMIT",
    "ban-concurrent-index-creation-in-transaction", NULL,
    check_concurrently_in_tx),
R("lock-timeout", WARNING, "a lock that blocks writes is requested without "
    "lock_timeout: queued behind a long query it blocks everyone",
    "SET lock_timeout = '2s' at the top of the file and retry on timeout",
    "require-lock-timeout", NULL, check_lock_timeout),
R("statement-timeout", INFO, "a blocking lock is held without "
    "statement_timeout", "SET statement_timeout at the top of the file",
    "require-statement-timeout", NULL, check_statement_timeout),
R("transaction-nesting", ERROR, "BEGIN inside a transaction, or COMMIT "
    "without one", "remove the inner BEGIN/COMMIT (or the runner's "
    "transaction)", "transaction-nesting", "TransactionStmt",
    check_tx_nesting),
R("uncommitted-transaction", ERROR, "BEGIN without COMMIT at the end of the "
    "file", "add COMMIT at the end of the file", "ban-uncommitted-transaction",
    NULL, NULL),
R("prefer-text", WARNING, "varchar(n): changing n later takes ACCESS "
    "EXCLUSIVE", "use text with a CHECK (length(col) <= n) if needed",
    "prefer-text-field", NULL, check_prefer_text),
R("char-field", WARNING, "char(n) pads with spaces and wastes space",
    "use text (or varchar)", "ban-char-field", NULL, check_char),
R("prefer-bigint", INFO, "32- and 16-bit integer columns run out",
    "use bigint",
    "prefer-bigint-over-int", NULL, check_bigint),
R("prefer-identity", INFO, "serial types have ownership and permission "
    "quirks", "use bigint generated always as identity", "prefer-identity",
    NULL, check_identity),
R("prefer-timestamptz", WARNING, "timestamp without time zone loses the "
    "offset", "use timestamptz", "prefer-timestamp-tz", NULL,
    check_timestamptz),
R("identifier-too-long", ERROR, "identifiers over 63 bytes are silently "
    "truncated", "use a name of at most 63 bytes", "identifier-too-long",
    NULL, check_identifiers),
R("enum-value-order", INFO, "ALTER TYPE … ADD VALUE without BEFORE/AFTER "
    "puts the value last in the enum's sort order", "if the order means "
    "something (a status that progresses, a level), place the value with "
    "BEFORE or AFTER; a plain append is fine otherwise",
    "require-enum-value-ordering", "AlterEnumStmt", check_enum_order),
R("domain-constraint", WARNING, "domain constraints are checked on every "
    "column of the domain under a lock", "put the CHECK on the tables' "
    "columns instead", "ban-create-domain-with-constraint", "CreateDomainStmt",
    check_domain_create),
R("domain-add-constraint", WARNING, "ALTER DOMAIN … ADD CONSTRAINT scans "
    "every column of the domain", "add it NOT VALID, then VALIDATE",
    "ban-alter-domain-with-add-constraint", "AlterDomainStmt",
    check_domain_alter),
R("truncate", WARNING, "TRUNCATE deletes every row and takes ACCESS "
    "EXCLUSIVE", "delete in batches, or make sure the data is disposable",
    NULL, "TruncateStmt", check_truncate),
R("truncate-cascade", ERROR, "TRUNCATE … CASCADE empties every referencing "
    "table too", "truncate the tables you mean, by name",
    "ban-truncate-cascade", "TruncateStmt", NULL),
R("vacuum-full", ERROR, "VACUUM FULL rewrites the table under ACCESS "
    "EXCLUSIVE", "use pg_repack or plain VACUUM", "prefer-repack",
    "VacuumStmt", check_vacuum_full),
R("cluster", ERROR, "CLUSTER rewrites the table under ACCESS EXCLUSIVE",
    "use pg_repack", "prefer-repack", "ClusterStmt", check_cluster),
R("delete-without-where", ERROR, "DELETE without WHERE removes every row",
    "add a WHERE clause, or TRUNCATE a table you mean to empty", NULL,
    "DeleteStmt", check_delete),
R("update-without-where", WARNING, "UPDATE without WHERE rewrites every row "
    "in one transaction", "backfill in batches with a WHERE on a key range",
    NULL, "UpdateStmt", check_update),
R_FINISH("prefer-robust-statement", WARNING, "outside a transaction, a "
    "statement that fails (or doubles) when run a second time spoils the rerun "
    "of a migration that failed part way", "add IF NOT EXISTS / IF EXISTS (OR "
    "REPLACE for views and functions), or run the file in one transaction",
    "prefer-robust-stmts", NULL, check_robust, robust_finish),
R_OPT_IN("require-table-schema", WARNING, "a table named without its schema "
    "lands wherever search_path points", "write "
    "schema.table, such as public.users", "require-table-schema", NULL,
    check_table_schema),
R("ignore-unknown-rule", WARNING, "an opsdeck-ignore comment names a rule that "
    "does not exist, so it ignores nothing", "correct the name (`opsdeck "
    "migrate rules` lists them)", "unused-ignore", NULL, NULL),
R("additive-only", ERROR, "under --policy additive-only, a statement that is "
    "not creating or adding", "move it to a reviewed, non-additive migration",
    NULL, NULL, check_additive),
};

const size_t lint_rules_count = sizeof(lint_rules) / sizeof(lint_rules[0]);

const struct lint_rule *
lint_rule_find(const char *id)
{
	size_t i;

	for (i = 0; i < lint_rules_count; i++)
		if (strcmp(lint_rules[i].id, id) == 0)
			return &lint_rules[i];
	return NULL;
}
