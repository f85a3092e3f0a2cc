/*
 * Parse-tree names in SQL words, for every message a person reads: libpg_query's node
 * types ("AlterTableStmt"), ALTER TABLE subcommands ("AT_AlterColumnType") and object
 * types ("OBJECT_INDEX"), each one table covering all of PostgreSQL 15's values. The
 * node names themselves only appear in JSON fields that say they are node names.
 */
#include <stdbool.h>
#include <string.h>

#include "core/json.h"
#include "migrate/sql.h"

struct words {
	const char	*name;	/* the parse tree's */
	const char	*sql;	/* a person's */
};

/* Node types that cover several statements are refined in sql_stmt_words. */
static const struct words stmt_words[] = {
	{ "AlterCollationStmt", "ALTER COLLATION" },
	{ "AlterDatabaseRefreshCollStmt", "ALTER DATABASE" },
	{ "AlterDatabaseSetStmt", "ALTER DATABASE" },
	{ "AlterDatabaseStmt", "ALTER DATABASE" },
	{ "AlterDefaultPrivilegesStmt", "ALTER DEFAULT PRIVILEGES" },
	{ "AlterDomainStmt", "ALTER DOMAIN" },
	{ "AlterEnumStmt", "ALTER TYPE" },
	{ "AlterEventTrigStmt", "ALTER EVENT TRIGGER" },
	{ "AlterExtensionContentsStmt", "ALTER EXTENSION" },
	{ "AlterExtensionStmt", "ALTER EXTENSION" },
	{ "AlterFdwStmt", "ALTER FOREIGN DATA WRAPPER" },
	{ "AlterForeignServerStmt", "ALTER SERVER" },
	{ "AlterFunctionStmt", "ALTER FUNCTION" },
	{ "AlterObjectDependsStmt", "ALTER … DEPENDS ON EXTENSION" },
	{ "AlterObjectSchemaStmt", "ALTER … SET SCHEMA" },
	{ "AlterOpFamilyStmt", "ALTER OPERATOR FAMILY" },
	{ "AlterOperatorStmt", "ALTER OPERATOR" },
	{ "AlterOwnerStmt", "ALTER … OWNER TO" },
	{ "AlterPolicyStmt", "ALTER POLICY" },
	{ "AlterPublicationStmt", "ALTER PUBLICATION" },
	{ "AlterRoleSetStmt", "ALTER ROLE" },
	{ "AlterRoleStmt", "ALTER ROLE" },
	{ "AlterSeqStmt", "ALTER SEQUENCE" },
	{ "AlterStatsStmt", "ALTER STATISTICS" },
	{ "AlterSubscriptionStmt", "ALTER SUBSCRIPTION" },
	{ "AlterSystemStmt", "ALTER SYSTEM" },
	{ "AlterTSConfigurationStmt", "ALTER TEXT SEARCH CONFIGURATION" },
	{ "AlterTSDictionaryStmt", "ALTER TEXT SEARCH DICTIONARY" },
	{ "AlterTableMoveAllStmt", "ALTER … ALL IN TABLESPACE" },
	{ "AlterTableSpaceOptionsStmt", "ALTER TABLESPACE" },
	{ "AlterTableStmt", "ALTER TABLE" },
	{ "AlterTypeStmt", "ALTER TYPE" },
	{ "AlterUserMappingStmt", "ALTER USER MAPPING" },
	{ "CallStmt", "CALL" },
	{ "CheckPointStmt", "CHECKPOINT" },
	{ "ClosePortalStmt", "CLOSE" },
	{ "ClusterStmt", "CLUSTER" },
	{ "CommentStmt", "COMMENT" },
	{ "CompositeTypeStmt", "CREATE TYPE" },
	{ "ConstraintsSetStmt", "SET CONSTRAINTS" },
	{ "CopyStmt", "COPY" },
	{ "CreateAmStmt", "CREATE ACCESS METHOD" },
	{ "CreateCastStmt", "CREATE CAST" },
	{ "CreateConversionStmt", "CREATE CONVERSION" },
	{ "CreateDomainStmt", "CREATE DOMAIN" },
	{ "CreateEnumStmt", "CREATE TYPE … AS ENUM" },
	{ "CreateEventTrigStmt", "CREATE EVENT TRIGGER" },
	{ "CreateExtensionStmt", "CREATE EXTENSION" },
	{ "CreateFdwStmt", "CREATE FOREIGN DATA WRAPPER" },
	{ "CreateForeignServerStmt", "CREATE SERVER" },
	{ "CreateForeignTableStmt", "CREATE FOREIGN TABLE" },
	{ "CreateFunctionStmt", "CREATE FUNCTION" },
	{ "CreateOpClassStmt", "CREATE OPERATOR CLASS" },
	{ "CreateOpFamilyStmt", "CREATE OPERATOR FAMILY" },
	{ "CreatePLangStmt", "CREATE LANGUAGE" },
	{ "CreatePolicyStmt", "CREATE POLICY" },
	{ "CreatePublicationStmt", "CREATE PUBLICATION" },
	{ "CreateRangeStmt", "CREATE TYPE … AS RANGE" },
	{ "CreateRoleStmt", "CREATE ROLE" },
	{ "CreateSchemaStmt", "CREATE SCHEMA" },
	{ "CreateSeqStmt", "CREATE SEQUENCE" },
	{ "CreateStatsStmt", "CREATE STATISTICS" },
	{ "CreateStmt", "CREATE TABLE" },
	{ "CreateSubscriptionStmt", "CREATE SUBSCRIPTION" },
	{ "CreateTableAsStmt", "CREATE TABLE AS" },
	{ "CreateTableSpaceStmt", "CREATE TABLESPACE" },
	{ "CreateTransformStmt", "CREATE TRANSFORM" },
	{ "CreateTrigStmt", "CREATE TRIGGER" },
	{ "CreateUserMappingStmt", "CREATE USER MAPPING" },
	{ "CreatedbStmt", "CREATE DATABASE" },
	{ "DeallocateStmt", "DEALLOCATE" },
	{ "DeclareCursorStmt", "DECLARE" },
	{ "DefineStmt", "CREATE" },
	{ "DeleteStmt", "DELETE" },
	{ "DiscardStmt", "DISCARD" },
	{ "DoStmt", "DO" },
	{ "DropOwnedStmt", "DROP OWNED" },
	{ "DropRoleStmt", "DROP ROLE" },
	{ "DropStmt", "DROP" },
	{ "DropSubscriptionStmt", "DROP SUBSCRIPTION" },
	{ "DropTableSpaceStmt", "DROP TABLESPACE" },
	{ "DropUserMappingStmt", "DROP USER MAPPING" },
	{ "DropdbStmt", "DROP DATABASE" },
	{ "ExecuteStmt", "EXECUTE" },
	{ "ExplainStmt", "EXPLAIN" },
	{ "FetchStmt", "FETCH" },
	{ "GrantRoleStmt", "GRANT" },
	{ "GrantStmt", "GRANT" },
	{ "ImportForeignSchemaStmt", "IMPORT FOREIGN SCHEMA" },
	{ "IndexStmt", "CREATE INDEX" },
	{ "InsertStmt", "INSERT" },
	{ "ListenStmt", "LISTEN" },
	{ "LoadStmt", "LOAD" },
	{ "LockStmt", "LOCK" },
	{ "MergeStmt", "MERGE" },
	{ "NotifyStmt", "NOTIFY" },
	{ "PrepareStmt", "PREPARE" },
	{ "ReassignOwnedStmt", "REASSIGN OWNED" },
	{ "RefreshMatViewStmt", "REFRESH MATERIALIZED VIEW" },
	{ "ReindexStmt", "REINDEX" },
	{ "RenameStmt", "RENAME" },
	{ "ReplicaIdentityStmt", "REPLICA IDENTITY" },
	{ "RuleStmt", "CREATE RULE" },
	{ "SecLabelStmt", "SECURITY LABEL" },
	{ "SelectStmt", "SELECT" },
	{ "TransactionStmt", "TRANSACTION" },
	{ "TruncateStmt", "TRUNCATE" },
	{ "UnlistenStmt", "UNLISTEN" },
	{ "UpdateStmt", "UPDATE" },
	{ "VacuumStmt", "VACUUM" },
	{ "VariableSetStmt", "SET" },
	{ "VariableShowStmt", "SHOW" },
	{ "ViewStmt", "CREATE VIEW" },
};

/* "…" stands for the column, constraint or trigger the subcommand names. */
static const struct words alter_words[] = {
	{ "AT_AddColumn", "ADD COLUMN" },
	{ "AT_AddColumnRecurse", "ADD COLUMN" },
	{ "AT_AddColumnToView", "ADD COLUMN" },
	{ "AT_ColumnDefault", "ALTER COLUMN … SET DEFAULT" },
	{ "AT_CookedColumnDefault", "ALTER COLUMN … SET DEFAULT" },
	{ "AT_DropNotNull", "ALTER COLUMN … DROP NOT NULL" },
	{ "AT_SetNotNull", "ALTER COLUMN … SET NOT NULL" },
	{ "AT_DropExpression", "ALTER COLUMN … DROP EXPRESSION" },
	{ "AT_CheckNotNull", "ALTER COLUMN … SET NOT NULL" },
	{ "AT_SetStatistics", "ALTER COLUMN … SET STATISTICS" },
	{ "AT_SetOptions", "ALTER COLUMN … SET (attribute options)" },
	{ "AT_ResetOptions", "ALTER COLUMN … RESET (attribute options)" },
	{ "AT_SetStorage", "ALTER COLUMN … SET STORAGE" },
	{ "AT_SetCompression", "ALTER COLUMN … SET COMPRESSION" },
	{ "AT_DropColumn", "DROP COLUMN" },
	{ "AT_DropColumnRecurse", "DROP COLUMN" },
	{ "AT_AddIndex", "ADD INDEX" },
	{ "AT_ReAddIndex", "ADD INDEX" },
	{ "AT_AddConstraint", "ADD CONSTRAINT" },
	{ "AT_AddConstraintRecurse", "ADD CONSTRAINT" },
	{ "AT_ReAddConstraint", "ADD CONSTRAINT" },
	{ "AT_ReAddDomainConstraint", "ADD CONSTRAINT" },
	{ "AT_AlterConstraint", "ALTER CONSTRAINT" },
	{ "AT_ValidateConstraint", "VALIDATE CONSTRAINT" },
	{ "AT_ValidateConstraintRecurse", "VALIDATE CONSTRAINT" },
	{ "AT_AddIndexConstraint", "ADD CONSTRAINT … USING INDEX" },
	{ "AT_DropConstraint", "DROP CONSTRAINT" },
	{ "AT_DropConstraintRecurse", "DROP CONSTRAINT" },
	{ "AT_ReAddComment", "COMMENT" },
	{ "AT_AlterColumnType", "ALTER COLUMN … TYPE" },
	{ "AT_AlterColumnGenericOptions", "ALTER COLUMN … OPTIONS" },
	{ "AT_ChangeOwner", "OWNER TO" },
	{ "AT_ClusterOn", "CLUSTER ON" },
	{ "AT_DropCluster", "SET WITHOUT CLUSTER" },
	{ "AT_SetLogged", "SET LOGGED" },
	{ "AT_SetUnLogged", "SET UNLOGGED" },
	{ "AT_DropOids", "SET WITHOUT OIDS" },
	{ "AT_SetAccessMethod", "SET ACCESS METHOD" },
	{ "AT_SetTableSpace", "SET TABLESPACE" },
	{ "AT_SetRelOptions", "SET (storage parameters)" },
	{ "AT_ResetRelOptions", "RESET (storage parameters)" },
	{ "AT_ReplaceRelOptions", "SET (storage parameters)" },
	{ "AT_EnableTrig", "ENABLE TRIGGER" },
	{ "AT_EnableAlwaysTrig", "ENABLE ALWAYS TRIGGER" },
	{ "AT_EnableReplicaTrig", "ENABLE REPLICA TRIGGER" },
	{ "AT_DisableTrig", "DISABLE TRIGGER" },
	{ "AT_EnableTrigAll", "ENABLE TRIGGER ALL" },
	{ "AT_DisableTrigAll", "DISABLE TRIGGER ALL" },
	{ "AT_EnableTrigUser", "ENABLE TRIGGER USER" },
	{ "AT_DisableTrigUser", "DISABLE TRIGGER USER" },
	{ "AT_EnableRule", "ENABLE RULE" },
	{ "AT_EnableAlwaysRule", "ENABLE ALWAYS RULE" },
	{ "AT_EnableReplicaRule", "ENABLE REPLICA RULE" },
	{ "AT_DisableRule", "DISABLE RULE" },
	{ "AT_AddInherit", "INHERIT" },
	{ "AT_DropInherit", "NO INHERIT" },
	{ "AT_AddOf", "OF" },
	{ "AT_DropOf", "NOT OF" },
	{ "AT_ReplicaIdentity", "REPLICA IDENTITY" },
	{ "AT_EnableRowSecurity", "ENABLE ROW LEVEL SECURITY" },
	{ "AT_DisableRowSecurity", "DISABLE ROW LEVEL SECURITY" },
	{ "AT_ForceRowSecurity", "FORCE ROW LEVEL SECURITY" },
	{ "AT_NoForceRowSecurity", "NO FORCE ROW LEVEL SECURITY" },
	{ "AT_GenericOptions", "OPTIONS" },
	{ "AT_AttachPartition", "ATTACH PARTITION" },
	{ "AT_DetachPartition", "DETACH PARTITION" },
	{ "AT_DetachPartitionFinalize", "DETACH PARTITION … FINALIZE" },
	{ "AT_AddIdentity", "ALTER COLUMN … ADD GENERATED AS IDENTITY" },
	{ "AT_SetIdentity", "ALTER COLUMN … SET (identity option)" },
	{ "AT_DropIdentity", "ALTER COLUMN … DROP IDENTITY" },
	{ "AT_ReAddStatistics", "ADD STATISTICS" },
};

static const struct words object_words[] = {
	{ "OBJECT_ACCESS_METHOD", "ACCESS METHOD" },
	{ "OBJECT_AGGREGATE", "AGGREGATE" },
	{ "OBJECT_AMOP", "OPERATOR FAMILY OPERATOR" },
	{ "OBJECT_AMPROC", "OPERATOR FAMILY FUNCTION" },
	{ "OBJECT_ATTRIBUTE", "ATTRIBUTE" },
	{ "OBJECT_CAST", "CAST" },
	{ "OBJECT_COLUMN", "COLUMN" },
	{ "OBJECT_COLLATION", "COLLATION" },
	{ "OBJECT_CONVERSION", "CONVERSION" },
	{ "OBJECT_DATABASE", "DATABASE" },
	{ "OBJECT_DEFAULT", "DEFAULT" },
	{ "OBJECT_DEFACL", "DEFAULT PRIVILEGES" },
	{ "OBJECT_DOMAIN", "DOMAIN" },
	{ "OBJECT_DOMCONSTRAINT", "DOMAIN CONSTRAINT" },
	{ "OBJECT_EVENT_TRIGGER", "EVENT TRIGGER" },
	{ "OBJECT_EXTENSION", "EXTENSION" },
	{ "OBJECT_FDW", "FOREIGN DATA WRAPPER" },
	{ "OBJECT_FOREIGN_SERVER", "SERVER" },
	{ "OBJECT_FOREIGN_TABLE", "FOREIGN TABLE" },
	{ "OBJECT_FUNCTION", "FUNCTION" },
	{ "OBJECT_INDEX", "INDEX" },
	{ "OBJECT_LANGUAGE", "LANGUAGE" },
	{ "OBJECT_LARGEOBJECT", "LARGE OBJECT" },
	{ "OBJECT_MATVIEW", "MATERIALIZED VIEW" },
	{ "OBJECT_OPCLASS", "OPERATOR CLASS" },
	{ "OBJECT_OPERATOR", "OPERATOR" },
	{ "OBJECT_OPFAMILY", "OPERATOR FAMILY" },
	{ "OBJECT_PARAMETER_ACL", "PARAMETER" },
	{ "OBJECT_POLICY", "POLICY" },
	{ "OBJECT_PROCEDURE", "PROCEDURE" },
	{ "OBJECT_PUBLICATION", "PUBLICATION" },
	{ "OBJECT_PUBLICATION_NAMESPACE", "PUBLICATION SCHEMA" },
	{ "OBJECT_PUBLICATION_REL", "PUBLICATION TABLE" },
	{ "OBJECT_ROLE", "ROLE" },
	{ "OBJECT_ROUTINE", "ROUTINE" },
	{ "OBJECT_RULE", "RULE" },
	{ "OBJECT_SCHEMA", "SCHEMA" },
	{ "OBJECT_SEQUENCE", "SEQUENCE" },
	{ "OBJECT_SUBSCRIPTION", "SUBSCRIPTION" },
	{ "OBJECT_STATISTIC_EXT", "STATISTICS" },
	{ "OBJECT_TABCONSTRAINT", "CONSTRAINT" },
	{ "OBJECT_TABLE", "TABLE" },
	{ "OBJECT_TABLESPACE", "TABLESPACE" },
	{ "OBJECT_TRANSFORM", "TRANSFORM" },
	{ "OBJECT_TRIGGER", "TRIGGER" },
	{ "OBJECT_TSCONFIGURATION", "TEXT SEARCH CONFIGURATION" },
	{ "OBJECT_TSDICTIONARY", "TEXT SEARCH DICTIONARY" },
	{ "OBJECT_TSPARSER", "TEXT SEARCH PARSER" },
	{ "OBJECT_TSTEMPLATE", "TEXT SEARCH TEMPLATE" },
	{ "OBJECT_TYPE", "TYPE" },
	{ "OBJECT_USER_MAPPING", "USER MAPPING" },
	{ "OBJECT_VIEW", "VIEW" },
};

static const char *
lookup(const struct words *table, size_t n, const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < n; i++)
		if (strcmp(table[i].name, name) == 0)
			return table[i].sql;
	return NULL;
}

#define LOOKUP(table, name) \
	lookup(table, sizeof(table) / sizeof(table[0]), name)

const char *
sql_node_words(const char *type)
{
	const char *w = LOOKUP(stmt_words, type);

	if (w != NULL)
		return w;
	return type == NULL ? "(does not parse)" : "statement";
}

const char *
sql_object_words(const char *objtype)
{
	const char *w = LOOKUP(object_words, objtype);

	return w != NULL ? w : "object";
}

const char *
sql_alter_words(const char *subtype)
{
	const char *w = LOOKUP(alter_words, subtype);

	return w != NULL ? w : "ALTER TABLE subcommand";
}

static bool
is(const json_t *n, const char *key, const char *want)
{
	const char *s = json_str(n, key);

	return s != NULL && strcmp(s, want) == 0;
}

const char *
sql_stmt_words(const char *type, const json_t *node)
{
	static const struct {
		const char *objtype, *sql;
	} drops[] = {
		{ "OBJECT_TABLE", "DROP TABLE" }, { "OBJECT_INDEX", "DROP INDEX" },
		{ "OBJECT_VIEW", "DROP VIEW" },
		{ "OBJECT_MATVIEW", "DROP MATERIALIZED VIEW" },
		{ "OBJECT_SEQUENCE", "DROP SEQUENCE" },
		{ "OBJECT_TYPE", "DROP TYPE" }, { "OBJECT_DOMAIN", "DROP DOMAIN" },
		{ "OBJECT_SCHEMA", "DROP SCHEMA" },
		{ "OBJECT_FUNCTION", "DROP FUNCTION" },
		{ "OBJECT_PROCEDURE", "DROP PROCEDURE" },
		{ "OBJECT_TRIGGER", "DROP TRIGGER" },
		{ "OBJECT_EXTENSION", "DROP EXTENSION" },
		{ "OBJECT_POLICY", "DROP POLICY" },
		{ "OBJECT_FOREIGN_TABLE", "DROP FOREIGN TABLE" },
	};
	size_t i;

	if (type == NULL || node == NULL)
		return sql_node_words(type);
	if (strcmp(type, "DropStmt") == 0) {
		for (i = 0; i < sizeof(drops) / sizeof(drops[0]); i++)
			if (is(node, "removeType", drops[i].objtype))
				return drops[i].sql;
	} else if (strcmp(type, "GrantStmt") == 0 ||
	    strcmp(type, "GrantRoleStmt") == 0) {
		return json_is_true(json_object_get(node, "is_grant")) ?
		    "GRANT" : "REVOKE";
	} else if (strcmp(type, "VacuumStmt") == 0) {
		return json_is_true(json_object_get(node, "is_vacuumcmd")) ?
		    "VACUUM" : "ANALYZE";
	} else if (strcmp(type, "CreateTableAsStmt") == 0) {
		if (is(node, "objtype", "OBJECT_MATVIEW"))
			return "CREATE MATERIALIZED VIEW";
	} else if (strcmp(type, "AlterTableStmt") == 0) {
		if (is(node, "objtype", "OBJECT_INDEX"))
			return "ALTER INDEX";
		if (is(node, "objtype", "OBJECT_SEQUENCE"))
			return "ALTER SEQUENCE";
		if (is(node, "objtype", "OBJECT_VIEW"))
			return "ALTER VIEW";
		if (is(node, "objtype", "OBJECT_MATVIEW"))
			return "ALTER MATERIALIZED VIEW";
		if (is(node, "objtype", "OBJECT_FOREIGN_TABLE"))
			return "ALTER FOREIGN TABLE";
		if (is(node, "objtype", "OBJECT_TYPE"))
			return "ALTER TYPE";
	} else if (strcmp(type, "TransactionStmt") == 0) {
		static const struct {
			const char *kind, *sql;
		} tx[] = {
			{ "TRANS_STMT_BEGIN", "BEGIN" },
			{ "TRANS_STMT_START", "START TRANSACTION" },
			{ "TRANS_STMT_COMMIT", "COMMIT" },
			{ "TRANS_STMT_ROLLBACK", "ROLLBACK" },
			{ "TRANS_STMT_SAVEPOINT", "SAVEPOINT" },
			{ "TRANS_STMT_RELEASE", "RELEASE SAVEPOINT" },
			{ "TRANS_STMT_ROLLBACK_TO", "ROLLBACK TO SAVEPOINT" },
			{ "TRANS_STMT_PREPARE", "PREPARE TRANSACTION" },
			{ "TRANS_STMT_COMMIT_PREPARED", "COMMIT PREPARED" },
			{ "TRANS_STMT_ROLLBACK_PREPARED", "ROLLBACK PREPARED" },
		};

		for (i = 0; i < sizeof(tx) / sizeof(tx[0]); i++)
			if (is(node, "kind", tx[i].kind))
				return tx[i].sql;
	} else if (strcmp(type, "VariableSetStmt") == 0) {
		if (is(node, "kind", "VAR_RESET") ||
		    is(node, "kind", "VAR_RESET_ALL"))
			return "RESET";
	}
	return sql_node_words(type);
}

/* The name a subcommand acts on: a column, constraint or trigger; NULL if none. */
static const char *
alter_cmd_name(const json_t *cmd)
{
	const json_t *def = json_object_get(cmd, "def");
	const char *s;

	if ((s = json_str(cmd, "name")) != NULL)
		return s;
	if ((s = json_str(json_object_get(def, "ColumnDef"), "colname")) != NULL)
		return s;
	return json_str(json_object_get(def, "Constraint"), "conname");
}

void
sql_alter_cmd_words(struct buf *b, const json_t *cmd)
{
	const char *sub = json_str(cmd, "subtype");
	const char *words = sql_alter_words(sub), *name = alter_cmd_name(cmd);
	const char *gap;

	if (sub != NULL && strcmp(sub, "AT_ColumnDefault") == 0 &&
	    json_object_get(cmd, "def") == NULL)
		words = "ALTER COLUMN … DROP DEFAULT";
	if ((gap = strstr(words, "…")) != NULL && name != NULL) {
		buf_add(b, words, (size_t)(gap - words));
		sql_quote_ident(b, name);
		buf_addstr(b, gap + strlen("…"));
	} else {
		buf_addstr(b, words);
		if (name != NULL && gap == NULL) {
			buf_addch(b, ' ');
			sql_quote_ident(b, name);
		}
	}
}
