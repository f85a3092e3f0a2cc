/*
 * Table-level locks per statement, from the PostgreSQL 15 documentation:
 * https://www.postgresql.org/docs/15/explicit-locking.html#LOCKING-TABLES
 * The statement table maps a parse-tree node type to the function that names its
 * relations; ALTER TABLE takes the strongest lock of its subcommands.
 */
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/xmalloc.h"
#include "migrate/locks.h"

#define M(x) (1u << (x))

static const struct {
	const char	*name;
	unsigned	 conflicts;	/* bit per enum lock_mode */
	const char	*blocks;
} modes[LOCK_MODE_COUNT] = {
	[LOCK_NONE] = { "", 0, "nothing" },
	[LOCK_ACCESS_SHARE] = { "ACCESS SHARE",
	    M(LOCK_ACCESS_EXCLUSIVE),
	    "only ACCESS EXCLUSIVE (ALTER TABLE, DROP, TRUNCATE, VACUUM FULL)" },
	[LOCK_ROW_SHARE] = { "ROW SHARE",
	    M(LOCK_EXCLUSIVE) | M(LOCK_ACCESS_EXCLUSIVE),
	    "EXCLUSIVE and ACCESS EXCLUSIVE locks" },
	[LOCK_ROW_EXCLUSIVE] = { "ROW EXCLUSIVE",
	    M(LOCK_SHARE) | M(LOCK_SHARE_ROW_EXCLUSIVE) | M(LOCK_EXCLUSIVE) |
	    M(LOCK_ACCESS_EXCLUSIVE),
	    "CREATE INDEX (non-concurrent) and schema changes; not reads or "
	    "other writes" },
	[LOCK_SHARE_UPDATE_EXCLUSIVE] = { "SHARE UPDATE EXCLUSIVE",
	    M(LOCK_SHARE_UPDATE_EXCLUSIVE) | M(LOCK_SHARE) |
	    M(LOCK_SHARE_ROW_EXCLUSIVE) | M(LOCK_EXCLUSIVE) |
	    M(LOCK_ACCESS_EXCLUSIVE),
	    "VACUUM, ANALYZE, concurrent index builds and schema changes; not "
	    "reads or writes" },
	[LOCK_SHARE] = { "SHARE",
	    M(LOCK_ROW_EXCLUSIVE) | M(LOCK_SHARE_UPDATE_EXCLUSIVE) |
	    M(LOCK_SHARE_ROW_EXCLUSIVE) | M(LOCK_EXCLUSIVE) |
	    M(LOCK_ACCESS_EXCLUSIVE),
	    "writes (INSERT, UPDATE, DELETE) and schema changes; reads go on" },
	[LOCK_SHARE_ROW_EXCLUSIVE] = { "SHARE ROW EXCLUSIVE",
	    M(LOCK_ROW_EXCLUSIVE) | M(LOCK_SHARE_UPDATE_EXCLUSIVE) |
	    M(LOCK_SHARE) | M(LOCK_SHARE_ROW_EXCLUSIVE) | M(LOCK_EXCLUSIVE) |
	    M(LOCK_ACCESS_EXCLUSIVE),
	    "writes (INSERT, UPDATE, DELETE) and schema changes; reads go on" },
	[LOCK_EXCLUSIVE] = { "EXCLUSIVE",
	    M(LOCK_ROW_SHARE) | M(LOCK_ROW_EXCLUSIVE) |
	    M(LOCK_SHARE_UPDATE_EXCLUSIVE) | M(LOCK_SHARE) |
	    M(LOCK_SHARE_ROW_EXCLUSIVE) | M(LOCK_EXCLUSIVE) |
	    M(LOCK_ACCESS_EXCLUSIVE),
	    "writes and SELECT FOR UPDATE/SHARE; plain reads go on" },
	[LOCK_ACCESS_EXCLUSIVE] = { "ACCESS EXCLUSIVE",
	    M(LOCK_ACCESS_SHARE) | M(LOCK_ROW_SHARE) | M(LOCK_ROW_EXCLUSIVE) |
	    M(LOCK_SHARE_UPDATE_EXCLUSIVE) | M(LOCK_SHARE) |
	    M(LOCK_SHARE_ROW_EXCLUSIVE) | M(LOCK_EXCLUSIVE) |
	    M(LOCK_ACCESS_EXCLUSIVE),
	    "all reads and writes" },
};

const char *
lock_mode_str(enum lock_mode m)
{
	return m < LOCK_MODE_COUNT ? modes[m].name : "";
}

const char *
lock_mode_blocks(enum lock_mode m)
{
	return m < LOCK_MODE_COUNT ? modes[m].blocks : "";
}

bool
lock_conflicts(enum lock_mode a, enum lock_mode b)
{
	if (a >= LOCK_MODE_COUNT || b >= LOCK_MODE_COUNT)
		return false;
	return (modes[a].conflicts & M(b)) != 0;
}

bool
lock_blocks_writes(enum lock_mode m)
{
	return lock_conflicts(m, LOCK_ROW_EXCLUSIVE);
}

static void
lock_add(struct lock_list *l, char *relation, enum lock_mode mode)
{
	size_t i;

	if (relation == NULL || mode == LOCK_NONE) {
		free(relation);
		return;
	}
	for (i = 0; i < l->n; i++) {
		if (strcmp(l->v[i].relation, relation) == 0) {
			if (mode > l->v[i].mode)
				l->v[i].mode = mode;
			free(relation);
			return;
		}
	}
	if (l->n == l->cap) {
		l->cap = l->cap == 0 ? 4 : l->cap * 2;
		l->v = xreallocarray(l->v, l->cap, sizeof(*l->v));
	}
	l->v[l->n].relation = relation;
	l->v[l->n].mode = mode;
	l->n++;
}

void
lock_list_release(struct lock_list *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i].relation);
	free(l->v);
	memset(l, 0, sizeof(*l));
}

char *
lock_rangevar_name(const json_t *rv)
{
	const char *schema, *rel;

	if (json_object_get(rv, "RangeVar") != NULL)
		rv = json_object_get(rv, "RangeVar");
	rel = json_string_value(json_object_get(rv, "relname"));
	if (rel == NULL)
		return NULL;
	schema = json_string_value(json_object_get(rv, "schemaname"));
	return schema != NULL ? xasprintf("%s.%s", schema, rel) : xstrdup(rel);
}

/* A qualified name given as a list of String nodes; skip_last drops the object
 * itself (a trigger's or a column's name). */
static char *
names_join(const json_t *list, int skip_last)
{
	struct buf b = BUF_INIT;
	size_t i, n;

	if (json_object_get(list, "List") != NULL)
		list = json_object_get(json_object_get(list, "List"), "items");
	n = json_array_size(list);
	if (n <= (size_t)skip_last)
		return NULL;
	n -= (size_t)skip_last;
	for (i = 0; i < n; i++) {
		const char *s = json_string_value(json_object_get(
		    json_object_get(json_array_get(list, i), "String"), "sval"));

		if (s == NULL)
			continue;
		if (b.len > 0)
			buf_addch(&b, '.');
		buf_addstr(&b, s);
	}
	if (b.len == 0)
		return NULL;
	return buf_detach(&b);
}

static void
locks_rel(const json_t *node, const char *key, enum lock_mode mode,
    struct lock_list *l)
{
	lock_add(l, lock_rangevar_name(json_object_get(node, key)), mode);
}

/* Foreign keys lock the referenced table too (SHARE ROW EXCLUSIVE). */
static void
locks_fk(const json_t *constraint, struct lock_list *l)
{
	const json_t *c = json_object_get(constraint, "Constraint");
	const char *t = json_string_value(json_object_get(c, "contype"));

	if (t != NULL && strcmp(t, "CONSTR_FOREIGN") == 0)
		locks_rel(c, "pktable", LOCK_SHARE_ROW_EXCLUSIVE, l);
}

static void
locks_coldef_fks(const json_t *coldef, struct lock_list *l)
{
	size_t i;
	json_t *c;

	json_array_foreach(json_object_get(coldef, "constraints"), i, c)
		locks_fk(c, l);
}

/* ALTER TABLE subcommands that take less than ACCESS EXCLUSIVE. */
static const struct {
	const char	*subtype;
	enum lock_mode	 mode;
} alter_modes[] = {
	{ "AT_ValidateConstraint", LOCK_SHARE_UPDATE_EXCLUSIVE },
	{ "AT_SetStatistics", LOCK_SHARE_UPDATE_EXCLUSIVE },
	{ "AT_SetOptions", LOCK_SHARE_UPDATE_EXCLUSIVE },
	{ "AT_ResetOptions", LOCK_SHARE_UPDATE_EXCLUSIVE },
	{ "AT_ClusterOn", LOCK_SHARE_UPDATE_EXCLUSIVE },
	{ "AT_DropCluster", LOCK_SHARE_UPDATE_EXCLUSIVE },
	{ "AT_AttachPartition", LOCK_SHARE_UPDATE_EXCLUSIVE },
	{ "AT_EnableTrig", LOCK_SHARE_ROW_EXCLUSIVE },
	{ "AT_EnableAlwaysTrig", LOCK_SHARE_ROW_EXCLUSIVE },
	{ "AT_EnableReplicaTrig", LOCK_SHARE_ROW_EXCLUSIVE },
	{ "AT_DisableTrig", LOCK_SHARE_ROW_EXCLUSIVE },
	{ "AT_EnableTrigAll", LOCK_SHARE_ROW_EXCLUSIVE },
	{ "AT_DisableTrigAll", LOCK_SHARE_ROW_EXCLUSIVE },
	{ "AT_EnableTrigUser", LOCK_SHARE_ROW_EXCLUSIVE },
	{ "AT_DisableTrigUser", LOCK_SHARE_ROW_EXCLUSIVE },
};

static enum lock_mode
alter_cmd_mode(const json_t *cmd)
{
	const char *st = json_string_value(json_object_get(cmd, "subtype"));
	const json_t *def = json_object_get(cmd, "def");
	const char *ct;
	size_t i;

	if (st == NULL)
		return LOCK_ACCESS_EXCLUSIVE;
	if (strcmp(st, "AT_AddConstraint") == 0) {
		ct = json_string_value(json_object_get(
		    json_object_get(def, "Constraint"), "contype"));
		if (ct != NULL && strcmp(ct, "CONSTR_FOREIGN") == 0)
			return LOCK_SHARE_ROW_EXCLUSIVE;
		return LOCK_ACCESS_EXCLUSIVE;
	}
	if (strcmp(st, "AT_DetachPartition") == 0)
		return json_bool(json_object_get(def, "PartitionCmd"), "concurrent") ?
		    LOCK_SHARE_UPDATE_EXCLUSIVE : LOCK_ACCESS_EXCLUSIVE;
	for (i = 0; i < sizeof(alter_modes) / sizeof(alter_modes[0]); i++)
		if (strcmp(st, alter_modes[i].subtype) == 0)
			return alter_modes[i].mode;
	return LOCK_ACCESS_EXCLUSIVE;
}

static void
locks_alter_table(const json_t *n, struct lock_list *l)
{
	enum lock_mode mode = LOCK_NONE, m;
	const json_t *cmd, *def;
	const char *st;
	size_t i;

	json_array_foreach(json_object_get(n, "cmds"), i, cmd) {
		cmd = json_object_get(cmd, "AlterTableCmd");
		if ((m = alter_cmd_mode(cmd)) > mode)
			mode = m;
		def = json_object_get(cmd, "def");
		st = json_string_value(json_object_get(cmd, "subtype"));
		if (st == NULL)
			continue;
		if (strcmp(st, "AT_AddConstraint") == 0)
			locks_fk(def, l);
		else if (strcmp(st, "AT_AddColumn") == 0)
			locks_coldef_fks(json_object_get(def, "ColumnDef"), l);
		else if (strcmp(st, "AT_AttachPartition") == 0)
			locks_rel(json_object_get(def, "PartitionCmd"), "name",
			    LOCK_ACCESS_EXCLUSIVE, l);
	}
	if (mode == LOCK_NONE)
		mode = LOCK_ACCESS_EXCLUSIVE;
	/* the altered table first */
	lock_add(l, lock_rangevar_name(json_object_get(n, "relation")), mode);
	if (l->n > 1) {
		struct lock_use last = l->v[l->n - 1];

		memmove(l->v + 1, l->v, (l->n - 1) * sizeof(*l->v));
		l->v[0] = last;
	}
}

static void
locks_create_table(const json_t *n, struct lock_list *l)
{
	const json_t *e;
	size_t i;

	json_array_foreach(json_object_get(n, "tableElts"), i, e) {
		if (json_object_get(e, "ColumnDef") != NULL)
			locks_coldef_fks(json_object_get(e, "ColumnDef"), l);
		else
			locks_fk(e, l);
	}
	/* CREATE TABLE … PARTITION OF locks the parent */
	if (json_object_get(n, "partbound") != NULL)
		json_array_foreach(json_object_get(n, "inhRelations"), i, e)
			lock_add(l, lock_rangevar_name(e), LOCK_ACCESS_EXCLUSIVE);
}

static void
locks_index(const json_t *n, struct lock_list *l)
{
	locks_rel(n, "relation", json_bool(n, "concurrent") ?
	    LOCK_SHARE_UPDATE_EXCLUSIVE : LOCK_SHARE, l);
}

static const char *const drop_relation_types[] = {
	"OBJECT_TABLE", "OBJECT_VIEW", "OBJECT_MATVIEW", "OBJECT_SEQUENCE",
	"OBJECT_FOREIGN_TABLE", "OBJECT_INDEX",
};

static void
locks_drop(const json_t *n, struct lock_list *l)
{
	const char *t = json_string_value(json_object_get(n, "removeType"));
	const json_t *o;
	int on_table = 0;
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < sizeof(drop_relation_types) /
	    sizeof(drop_relation_types[0]); i++)
		if (strcmp(t, drop_relation_types[i]) == 0)
			on_table = -1;
	if (strcmp(t, "OBJECT_TRIGGER") == 0 || strcmp(t, "OBJECT_POLICY") == 0 ||
	    strcmp(t, "OBJECT_RULE") == 0)
		on_table = 1;	/* the list is table…, object */
	if (on_table == 0)
		return;
	json_array_foreach(json_object_get(n, "objects"), i, o)
		lock_add(l, names_join(o, on_table > 0 ? 1 : 0),
		    strcmp(t, "OBJECT_INDEX") == 0 && json_bool(n, "concurrent") ?
		    LOCK_SHARE_UPDATE_EXCLUSIVE : LOCK_ACCESS_EXCLUSIVE);
}

static void
locks_rename(const json_t *n, struct lock_list *l)
{
	const char *t = json_string_value(json_object_get(n, "renameType"));

	if (json_object_get(n, "relation") == NULL || t == NULL)
		return;
	/* since PostgreSQL 12, renaming an index takes SHARE UPDATE EXCLUSIVE */
	locks_rel(n, "relation", strcmp(t, "OBJECT_INDEX") == 0 ?
	    LOCK_SHARE_UPDATE_EXCLUSIVE : LOCK_ACCESS_EXCLUSIVE, l);
}

static void
locks_truncate(const json_t *n, struct lock_list *l)
{
	const json_t *r;
	size_t i;

	json_array_foreach(json_object_get(n, "relations"), i, r)
		lock_add(l, lock_rangevar_name(r), LOCK_ACCESS_EXCLUSIVE);
}

static void
locks_vacuum(const json_t *n, struct lock_list *l)
{
	enum lock_mode mode = LOCK_SHARE_UPDATE_EXCLUSIVE;
	const json_t *o, *r;
	const char *name;
	size_t i;

	json_array_foreach(json_object_get(n, "options"), i, o) {
		name = json_string_value(json_object_get(
		    json_object_get(o, "DefElem"), "defname"));
		if (name != NULL && strcmp(name, "full") == 0)
			mode = LOCK_ACCESS_EXCLUSIVE;
	}
	json_array_foreach(json_object_get(n, "rels"), i, r)
		locks_rel(json_object_get(r, "VacuumRelation"), "relation", mode,
		    l);
}

static void
locks_reindex(const json_t *n, struct lock_list *l)
{
	const char *kind = json_string_value(json_object_get(n, "kind"));
	const json_t *o;
	const char *name;
	bool conc = false;
	size_t i;

	json_array_foreach(json_object_get(n, "params"), i, o) {
		name = json_string_value(json_object_get(
		    json_object_get(o, "DefElem"), "defname"));
		if (name != NULL && strcmp(name, "concurrently") == 0)
			conc = true;
	}
	if (conc)
		locks_rel(n, "relation", LOCK_SHARE_UPDATE_EXCLUSIVE, l);
	else if (kind != NULL && strcmp(kind, "REINDEX_OBJECT_INDEX") == 0)
		locks_rel(n, "relation", LOCK_ACCESS_EXCLUSIVE, l);
	else
		locks_rel(n, "relation", LOCK_SHARE, l);
}

static void
locks_dml(const json_t *n, struct lock_list *l)
{
	locks_rel(n, "relation", LOCK_ROW_EXCLUSIVE, l);
}

static void
locks_select(const json_t *n, struct lock_list *l)
{
	const json_t *f;
	size_t i;

	json_array_foreach(json_object_get(n, "fromClause"), i, f)
		if (json_object_get(f, "RangeVar") != NULL)
			lock_add(l, lock_rangevar_name(f), LOCK_ACCESS_SHARE);
}

static void
locks_lock(const json_t *n, struct lock_list *l)
{
	/* LOCK TABLE's mode numbers are PostgreSQL's, which our enum follows */
	long long m = json_integer_value(json_object_get(n, "mode"));
	const json_t *r;
	size_t i;

	if (m <= 0 || m >= LOCK_MODE_COUNT)
		m = LOCK_ACCESS_EXCLUSIVE;
	json_array_foreach(json_object_get(n, "relations"), i, r)
		lock_add(l, lock_rangevar_name(r), (enum lock_mode)m);
}

static void
locks_trigger(const json_t *n, struct lock_list *l)
{
	locks_rel(n, "relation", LOCK_SHARE_ROW_EXCLUSIVE, l);
}

static void
locks_refresh(const json_t *n, struct lock_list *l)
{
	locks_rel(n, "relation", json_bool(n, "concurrent") ? LOCK_EXCLUSIVE :
	    LOCK_ACCESS_EXCLUSIVE, l);
}

static void
locks_cluster(const json_t *n, struct lock_list *l)
{
	locks_rel(n, "relation", LOCK_ACCESS_EXCLUSIVE, l);
}

static void
locks_view(const json_t *n, struct lock_list *l)
{
	if (json_bool(n, "replace"))
		locks_rel(n, "view", LOCK_ACCESS_EXCLUSIVE, l);
}

static void
locks_policy(const json_t *n, struct lock_list *l)
{
	locks_rel(n, "table", LOCK_ACCESS_EXCLUSIVE, l);
}

static void
locks_comment(const json_t *n, struct lock_list *l)
{
	const char *t = json_string_value(json_object_get(n, "objtype"));

	if (t == NULL)
		return;
	if (strcmp(t, "OBJECT_TABLE") == 0)
		lock_add(l, names_join(json_object_get(n, "object"), 0),
		    LOCK_SHARE_UPDATE_EXCLUSIVE);
	else if (strcmp(t, "OBJECT_COLUMN") == 0)
		lock_add(l, names_join(json_object_get(n, "object"), 1),
		    LOCK_SHARE_UPDATE_EXCLUSIVE);
}

static const struct {
	const char	*kind;
	void		(*fn)(const json_t *, struct lock_list *);
} stmt_locks[] = {
	{ "AlterTableStmt", locks_alter_table },
	{ "CreateStmt", locks_create_table },
	{ "IndexStmt", locks_index },
	{ "DropStmt", locks_drop },
	{ "RenameStmt", locks_rename },
	{ "TruncateStmt", locks_truncate },
	{ "VacuumStmt", locks_vacuum },
	{ "ReindexStmt", locks_reindex },
	{ "ClusterStmt", locks_cluster },
	{ "InsertStmt", locks_dml },
	{ "UpdateStmt", locks_dml },
	{ "DeleteStmt", locks_dml },
	{ "MergeStmt", locks_dml },
	{ "SelectStmt", locks_select },
	{ "LockStmt", locks_lock },
	{ "CreateTrigStmt", locks_trigger },
	{ "RefreshMatViewStmt", locks_refresh },
	{ "ViewStmt", locks_view },
	{ "CreatePolicyStmt", locks_policy },
	{ "AlterPolicyStmt", locks_policy },
	{ "CommentStmt", locks_comment },
};

void
lock_statement(const char *kind, const json_t *node, struct lock_list *l)
{
	size_t i;

	if (kind == NULL)
		return;
	for (i = 0; i < sizeof(stmt_locks) / sizeof(stmt_locks[0]); i++) {
		if (strcmp(kind, stmt_locks[i].kind) == 0) {
			stmt_locks[i].fn(node, l);
			return;
		}
	}
}
