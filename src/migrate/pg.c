#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/xmalloc.h"
#include "migrate/pg.h"

/* What went wrong on connecting, from libpq's message, and what to do about it. */
static const struct {
	const char	*match;
	const char	*what;
	const char	*hint;
} connect_errors[] = {
	{ "password authentication failed", "wrong credentials",
	    "check the user and password in the URL (or ~/.pgpass)" },
	{ "no password supplied", "wrong credentials",
	    "the server wants a password: put it in the URL, PGPASSWORD or ~/.pgpass" },
	{ "authentication failed", "wrong credentials",
	    "check the user and its authentication method in pg_hba.conf" },
	{ "role \"", "wrong credentials",
	    "create the role or use an existing user in the URL" },
	{ "does not exist", "no such database",
	    "create it (createdb) or fix the database name in the URL" },
	{ "permission denied", "missing permission",
	    "GRANT CONNECT ON DATABASE to the role, or connect as another one" },
	{ "no pg_hba.conf entry", "connection not allowed",
	    "add a pg_hba.conf entry for this host and user, or connect as another one" },
	{ "could not translate host name", "unreachable server",
	    "check the host name in the URL" },
	{ "timeout expired", "unreachable server",
	    "check that the server is up and the host and port are right" },
	{ "Connection refused", "unreachable server",
	    "start the server or fix the host and port in the URL" },
	{ "No such file or directory", "unreachable server",
	    "start the server or fix the socket directory (host=) in the URL" },
	{ "Is the server running", "unreachable server",
	    "start the server or fix the host and port in the URL" },
	{ "", "cannot connect", "check the URL and that the server is up" },
};

/* Hints for statement errors by SQLSTATE. */
static const struct {
	const char	*state;
	const char	*hint;
} exec_hints[] = {
	{ "42501", "connect as a role that owns the objects, or GRANT it the privilege" },
	{ "55P03", "another session holds a conflicting lock: retry when it is idle or raise --lock-timeout" },
	{ "57014", "the statement was cancelled (statement_timeout?): raise the timeout or retry" },
	{ "25001", "this statement cannot run inside a transaction block" },
};

static bool
is_uri(const char *s)
{
	return strncmp(s, "postgresql://", 13) == 0 ||
	    strncmp(s, "postgres://", 11) == 0;
}

/*
 * A key=value string libpq cannot parse, as given but for the value of any
 * "password" key, masked by hand as well as its quoting can be followed.
 */
static char *
conninfo_mask(const char *s)
{
	struct buf b = BUF_INIT;
	const char *p = s, *key, *eq;
	size_t klen;

	while (*p != '\0') {
		if (*p == ' ' || *p == '\t' || *p == '\n') {
			buf_addch(&b, *p++);
			continue;
		}
		key = p;
		while (*p != '\0' && *p != '=' && *p != ' ' && *p != '\t')
			p++;
		klen = (size_t)(p - key);
		buf_add(&b, key, klen);
		eq = p;
		while (*p == ' ' || *p == '\t')
			p++;
		if (*p != '=') {
			buf_add(&b, eq, (size_t)(p - eq));
			continue;
		}
		p++;
		while (*p == ' ' || *p == '\t')
			p++;
		buf_addch(&b, '=');
		if (klen == 8 && strncmp(key, "password", 8) == 0) {
			buf_addstr(&b, "***");
			if (*p == '\'') {
				for (p++; *p != '\0' && *p != '\''; p++)
					if (*p == '\\' && p[1] != '\0')
						p++;
				if (*p == '\'')
					p++;
			} else
				while (*p != '\0' && *p != ' ' && *p != '\t')
					p++;
		} else {
			const char *v = p;

			if (*p == '\'') {
				for (p++; *p != '\0' && *p != '\''; p++)
					if (*p == '\\' && p[1] != '\0')
						p++;
				if (*p == '\'')
					p++;
			} else
				while (*p != '\0' && *p != ' ' && *p != '\t')
					p++;
			buf_add(&b, v, (size_t)(p - v));
		}
	}
	return buf_detach(&b);
}

char *
pg_url_redact(const char *url)
{
	struct buf b = BUF_INIT;
	const char *auth, *end, *at, *colon, *q, *p;
	PQconninfoOption *opts, *o;
	char *msg = NULL;

	if (url == NULL)
		return xstrdup("");
	if (!is_uri(url)) {
		if ((opts = PQconninfoParse(url, &msg)) == NULL) {
			PQfreemem(msg);
			return conninfo_mask(url);
		}
		for (o = opts; o->keyword != NULL; o++) {
			if (o->val == NULL || strcmp(o->keyword, "password") == 0)
				continue;
			buf_printf(&b, "%s%s=%s", b.len > 0 ? " " : "", o->keyword,
			    o->val);
		}
		PQconninfoFree(opts);
		return buf_detach(&b);
	}
	auth = strstr(url, "://") + 3;
	/* as libpq reads it, user:password ends at the last '@' before the path's
	 * '/' (a password may hold '?'), and the host at '/' or '?' after it */
	end = auth + strcspn(auth, "/");
	at = NULL;
	for (p = auth; p < end; p++)
		if (*p == '@')
			at = p;
	end = (at != NULL ? at + 1 : auth) + strcspn(at != NULL ? at + 1 : auth,
	    "/?");
	buf_add(&b, url, (size_t)(auth - url));
	if (at != NULL) {
		colon = memchr(auth, ':', (size_t)(at - auth));
		buf_add(&b, auth, (size_t)((colon != NULL ? colon : at) - auth));
		buf_add(&b, at, (size_t)(end - at));
	} else
		buf_add(&b, auth, (size_t)(end - auth));
	p = end;
	if ((q = strchr(p, '?')) == NULL) {
		buf_addstr(&b, p);
		return buf_detach(&b);
	}
	buf_add(&b, p, (size_t)(q - p));
	/* the query part, without password=… */
	{
		const char *s = q + 1;
		bool first = true;

		while (*s != '\0') {
			size_t n = strcspn(s, "&");

			if (strncmp(s, "password=", 9) != 0) {
				buf_addch(&b, first ? '?' : '&');
				buf_add(&b, s, n);
				first = false;
			}
			s += n;
			if (*s == '&')
				s++;
		}
	}
	return buf_detach(&b);
}

/* msg with every copy of url written as safe (libpq quotes the URL it refuses). */
static char *
url_replaced(const char *msg, const char *url, const char *safe)
{
	struct buf b = BUF_INIT;
	const char *p = msg, *hit;
	size_t n = strlen(url);

	while (n > 0 && (hit = strstr(p, url)) != NULL) {
		buf_add(&b, p, (size_t)(hit - p));
		buf_addstr(&b, safe);
		p = hit + n;
	}
	buf_addstr(&b, p);
	return buf_detach(&b);
}

int
pg_connect(const char *url, const char *dbname, PGconn **out, struct err *e)
{
	const char *keys[5], *vals[5];
	PQconninfoOption *opts;
	char *msg = NULL, *safe, *m, *nl;
	PGconn *c = NULL;
	size_t i, n = 0;
	int ret = -1;

	*out = NULL;
	safe = pg_url_redact(url);
	if (url == NULL || *url == '\0') {
		err_set(e, "no database URL: pass --db postgresql://USER@HOST/DB");
		goto out;
	}
	if ((opts = PQconninfoParse(url, &msg)) == NULL) {
		if (msg != NULL && (nl = strchr(msg, '\n')) != NULL)
			*nl = '\0';
		/* the password must not reach the message through libpq's quote */
		m = url_replaced(msg != NULL ? msg : "cannot parse", url, safe);
		err_setk(e, ERR_INVALID, "invalid database URL '%s': %s; use "
		    "postgresql://USER@HOST:PORT/DB or key=value pairs such as "
		    "'host=HOST dbname=DB'", safe, m);
		free(m);
		PQfreemem(msg);
		goto out;
	}
	PQconninfoFree(opts);
	keys[n] = "connect_timeout", vals[n++] = "10";
	keys[n] = "fallback_application_name", vals[n++] = "opsdeck";
	keys[n] = "dbname", vals[n++] = url;
	if (dbname != NULL)
		keys[n] = "dbname", vals[n++] = dbname;
	keys[n] = NULL, vals[n] = NULL;
	c = PQconnectdbParams(keys, vals, 1);
	if (PQstatus(c) != CONNECTION_OK) {
		m = xstrdup(PQerrorMessage(c));
		/* libpq's message is several lines; keep it on one */
		{
			char *r, *w;

			for (r = w = m; *r != '\0'; r++) {
				char ch = (*r == '\n' || *r == '\t') ? ' ' : *r;

				if (ch == ' ' && (w == m || w[-1] == ' '))
					continue;
				*w++ = ch;
			}
			*w = '\0';
		}
		for (i = strlen(m); i > 0 && m[i - 1] == ' '; i--)
			m[i - 1] = '\0';
		for (i = 0; i < sizeof(connect_errors) / sizeof(connect_errors[0]); i++)
			if (strstr(m, connect_errors[i].match) != NULL)
				break;
		err_set(e, "%s: cannot connect to '%s'%s%s%s: %s; %s",
		    connect_errors[i].what, safe,
		    dbname != NULL ? " (database '" : "",
		    dbname != NULL ? dbname : "", dbname != NULL ? "')" : "",
		    m, connect_errors[i].hint);
		free(m);
		goto out;
	}
	*out = c;
	c = NULL;
	ret = 0;
out:
	if (c != NULL)
		PQfinish(c);
	free(safe);
	return ret;
}

const char *
pg_sqlstate(const PGresult *r)
{
	const char *s = r != NULL ? PQresultErrorField(r, PG_DIAG_SQLSTATE) : NULL;

	return s != NULL ? s : "";
}

int
pg_result_err(const PGresult *r, PGconn *c, const char *what, struct err *e)
{
	struct buf b = BUF_INIT;
	const char *msg, *detail, *hint, *state;
	size_t i;

	msg = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	if (msg == NULL)
		msg = PQerrorMessage(c);
	detail = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_DETAIL) : NULL;
	hint = r != NULL ? PQresultErrorField(r, PG_DIAG_MESSAGE_HINT) : NULL;
	state = pg_sqlstate(r);
	buf_printf(&b, "%s: %s", what, msg);
	while (b.len > 0 && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	if (*state != '\0')
		buf_printf(&b, " (SQLSTATE %s)", state);
	if (detail != NULL)
		buf_printf(&b, "; %s", detail);
	if (hint != NULL)
		buf_printf(&b, "; hint: %s", hint);
	for (i = 0; i < sizeof(exec_hints) / sizeof(exec_hints[0]); i++)
		if (strcmp(state, exec_hints[i].state) == 0)
			buf_printf(&b, "; %s", exec_hints[i].hint);
	err_set(e, "%s", buf_str(&b));
	buf_release(&b);
	return -1;
}

int
pg_exec(PGconn *c, const char *sql, const char *what, struct err *e)
{
	PGresult *r;
	int ret = -1;

	r = PQexec(c, sql);
	if (PQresultStatus(r) != PGRES_COMMAND_OK &&
	    PQresultStatus(r) != PGRES_TUPLES_OK) {
		pg_result_err(r, c, what, e);
		goto out;
	}
	ret = 0;
out:
	PQclear(r);
	return ret;
}

PGresult *
pg_query(PGconn *c, const char *sql, int nparams, const char *const *params,
    const char *what, struct err *e)
{
	PGresult *r;

	r = PQexecParams(c, sql, nparams, NULL, params, NULL, NULL, 0);
	if (PQresultStatus(r) != PGRES_TUPLES_OK &&
	    PQresultStatus(r) != PGRES_COMMAND_OK) {
		pg_result_err(r, c, what, e);
		PQclear(r);
		return NULL;
	}
	return r;
}

static int
has_concurrent_param(const json_t *node)
{
	const json_t *params = json_object_get(node, "params");
	size_t i;

	for (i = 0; i < json_array_size(params); i++) {
		const json_t *d = json_object_get(json_array_get(params, i),
		    "DefElem");
		const char *name = json_str(d, "defname");

		if (name != NULL && strcmp(name, "concurrently") == 0)
			return 1;
	}
	return 0;
}

static int
dumps_has(const json_t *node, const char *needle)
{
	char *s = json_dumps(node, JSON_COMPACT);
	int r = s != NULL && strstr(s, needle) != NULL;

	free(s);
	return r;
}

/* Statement kinds PostgreSQL refuses inside a transaction block. */
static const struct {
	const char	*node;
	const char	*what;
	int		 (*when)(const json_t *node);	/* NULL: always */
} nontransactional[] = {
	{ "IndexStmt", "CREATE INDEX CONCURRENTLY", NULL },
	{ "DropStmt", "DROP INDEX CONCURRENTLY", NULL },
	{ "ReindexStmt", "REINDEX CONCURRENTLY", has_concurrent_param },
	{ "VacuumStmt", "VACUUM", NULL },
	{ "AlterTableStmt", "DETACH PARTITION CONCURRENTLY", NULL },
	{ "CreatedbStmt", "CREATE DATABASE", NULL },
	{ "DropdbStmt", "DROP DATABASE", NULL },
	{ "AlterSystemStmt", "ALTER SYSTEM", NULL },
	{ "CreateTableSpaceStmt", "CREATE TABLESPACE", NULL },
	{ "DropTableSpaceStmt", "DROP TABLESPACE", NULL },
};

const char *
pg_stmt_nontransactional(const struct sql_stmt *st)
{
	const char *type = sql_stmt_type(st);
	const json_t *node;
	size_t i;

	if (type == NULL)
		return NULL;
	node = json_object_get(st->tree, type);
	for (i = 0; i < sizeof(nontransactional) / sizeof(nontransactional[0]); i++) {
		if (strcmp(nontransactional[i].node, type) != 0)
			continue;
		if (nontransactional[i].when != NULL) {
			if (nontransactional[i].when(node))
				return nontransactional[i].what;
			continue;
		}
		/* these three only when concurrent; VACUUM only when not ANALYZE */
		if (strcmp(type, "IndexStmt") == 0 || strcmp(type, "DropStmt") == 0) {
			if (json_is_true(json_object_get(node, "concurrent")))
				return nontransactional[i].what;
			continue;
		}
		if (strcmp(type, "AlterTableStmt") == 0) {
			if (dumps_has(node, "\"concurrent\":true"))
				return nontransactional[i].what;
			continue;
		}
		if (strcmp(type, "VacuumStmt") == 0 &&
		    !json_is_true(json_object_get(node, "is_vacuumcmd")))
			continue;
		return nontransactional[i].what;
	}
	return NULL;
}

int
pg_stmt_txn_control(const struct sql_stmt *st)
{
	static const struct {
		const char	*kind;
		int		 action;
	} kinds[] = {
		{ "TRANS_STMT_BEGIN", 1 },
		{ "TRANS_STMT_START", 1 },
		{ "TRANS_STMT_COMMIT", 1 },
		{ "TRANS_STMT_SAVEPOINT", 0 },
		{ "TRANS_STMT_RELEASE", 0 },
		{ "TRANS_STMT_ROLLBACK_TO", 0 },
	};
	const char *type = sql_stmt_type(st), *kind;
	size_t i;

	if (type == NULL || strcmp(type, "TransactionStmt") != 0)
		return 0;
	kind = json_str(json_object_get(st->tree, type), "kind");
	for (i = 0; kind != NULL && i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(kinds[i].kind, kind) == 0)
			return kinds[i].action;
	return -1;
}
