#include <stdio.h>
#include <string.h>

#include <sodium.h>

#include "core/util.h"
#include "ledger/actors.h"

int
role_parse(const char *s, enum role *r)
{
	static const enum role all[] = { ROLE_VIEWER, ROLE_AGENT, ROLE_OPERATOR,
	    ROLE_APPROVER, ROLE_ADMIN };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(all[0]); i++)
		if (strcmp(s, role_str(all[i])) == 0) {
			*r = all[i];
			return 0;
		}
	return -1;
}

int
actor_add(struct store *s, const char *name, enum role role, const char *by,
    char token[ACTOR_TOKEN_LEN], struct err *e)
{
	unsigned char raw[32];
	char hash[65];
	sqlite3_stmt *st = NULL;
	int r, ret = -1;

	if (!name_valid(name))
		return err_setk(e, ERR_INVALID, "actor name '%s': use a-z, 0-9, "
		    "'-' and '_', starting with a letter or digit, at most 63 "
		    "bytes", name);
	/* Names evidence gives to opsdeck itself and to the local superuser. */
	if (strcmp(name, "opsdeck") == 0 || strcmp(name, "root") == 0)
		return err_setk(e, ERR_INVALID, "actor name '%s' is taken by "
		    "opsdeck's own evidence: choose another", name);
	if (sodium_init() < 0)
		return err_set(e, "libsodium failed to initialise");
	randombytes_buf(raw, sizeof(raw));
	memcpy(token, ACTOR_TOKEN_PREFIX, 4);
	sodium_bin2hex(token + 4, ACTOR_TOKEN_LEN - 4, raw, sizeof(raw));
	sodium_memzero(raw, sizeof(raw));
	sha256_hex(token, strlen(token), hash);
	/* A revoked name may be given a new token; a live one may not. */
	if (store_prepare(s, &st, "INSERT INTO actors (name, role, token_hash, "
	    "created_at, created_by) VALUES (?1, ?2, ?3, ?4, ?5) ON CONFLICT "
	    "(name) DO UPDATE SET role = ?2, token_hash = ?3, created_at = ?4, "
	    "created_by = ?5, revoked_at = NULL WHERE "
	    "revoked_at IS NOT NULL", e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, role_str(role), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, wall_ms());
	sqlite3_bind_text(st, 5, by, -1, SQLITE_STATIC);
	if ((r = sqlite3_step(st)) != SQLITE_DONE) {
		err_set(e, "store: cannot add actor '%s': %s", name,
		    sqlite3_errmsg(s->db));
		goto out;
	}
	if (sqlite3_changes(s->db) == 0) {
		err_setk(e, ERR_CONFLICT, "actor '%s' exists: revoke it first "
		    "(`opsdeck actor revoke %s`) to give it a new token", name,
		    name);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	if (ret < 0)
		sodium_memzero(token, ACTOR_TOKEN_LEN);
	return ret;
}

int
actor_live(struct store *s, const char *name, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ret = 0;

	if (store_prepare(s, &st, "SELECT revoked_at FROM actors WHERE name = ?",
	    e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL)
		ret = err_setk(e, ERR_DENIED, "the token of actor '%s' was revoked",
		    name);
	sqlite3_finalize(st);
	return ret;
}

int
actor_revoke(struct store *s, const char *name, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (store_prepare(s, &st, "UPDATE actors SET revoked_at = ? WHERE name = ? "
	    "AND revoked_at IS NULL", e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, wall_ms());
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err_set(e, "store: cannot revoke '%s': %s", name,
		    sqlite3_errmsg(s->db));
		goto out;
	}
	if (sqlite3_changes(s->db) == 0) {
		err_setk(e, ERR_NOT_FOUND, "no actor '%s' with a live token: list "
		    "them with `opsdeck actor list`", name);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static json_t *
time_or_null(sqlite3_stmt *st, int col)
{
	char t[32];

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	format_time(sqlite3_column_int64(st, col), t);
	return json_string(t);
}

json_t *
actors_json(struct store *s, struct err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array();
	int r;

	if (store_prepare(s, &st, "SELECT name, role, created_at, created_by, "
	    "revoked_at FROM actors ORDER BY name", e) < 0) {
		json_decref(arr);
		return NULL;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(arr, json_pack("{ss ss so ss so}",
		    "name", sqlite3_column_text(st, 0),
		    "role", sqlite3_column_text(st, 1),
		    "created_at", time_or_null(st, 2),
		    "created_by", sqlite3_column_text(st, 3),
		    "revoked_at", time_or_null(st, 4)));
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		json_decref(arr);
		err_set(e, "store: cannot list actors: %s", sqlite3_errmsg(s->db));
		return NULL;
	}
	return json_pack("{so}", "actors", arr);
}

int
actor_by_name(struct store *s, const char *name, struct actor *a, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (store_prepare(s, &st, "SELECT role, revoked_at FROM actors WHERE "
	    "name = ? ORDER BY rowid DESC LIMIT 1", e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		err_setk(e, ERR_DENIED, "there is no actor '%s': add it (`opsdeck "
		    "actor add %s --role ROLE`) or fix api.local_users", name, name);
	else if (sqlite3_column_type(st, 1) != SQLITE_NULL)
		err_setk(e, ERR_DENIED, "actor '%s' was revoked: add it again or "
		    "fix api.local_users", name);
	else if (role_parse((const char *)sqlite3_column_text(st, 0), &a->role) <
	    0)
		err_setk(e, ERR_DENIED, "actor '%s' has an unknown role '%s'", name,
		    sqlite3_column_text(st, 0));
	else {
		snprintf(a->name, sizeof(a->name), "%s", name);
		ret = 0;
	}
	sqlite3_finalize(st);
	return ret;
}

int
actor_token_check(const char *token, struct err *e)
{
	if (strlen(token) != ACTOR_TOKEN_LEN - 1 ||
	    strncmp(token, ACTOR_TOKEN_PREFIX, 4) != 0 ||
	    strspn(token + 4, "0123456789abcdef") != ACTOR_TOKEN_LEN - 5)
		return err_setk(e, ERR_DENIED, "the bearer token is not an opsdeck "
		    "token (odt_ and 64 hex digits): use the one `opsdeck actor "
		    "add` printed");
	return 0;
}

int
actor_by_token(struct store *s, const char *token, struct actor *a,
    struct err *e)
{
	char hash[65];

	if (actor_token_check(token, e) < 0)
		return -1;
	sha256_hex(token, strlen(token), hash);
	return actor_by_hash(s, hash, a, e);
}

int
actor_by_hash(struct store *s, const char *hash, struct actor *a, struct err *e)
{
	sqlite3_stmt *st = NULL;
	const char *role;
	int ret = -1;

	if (store_prepare(s, &st, "SELECT name, role, revoked_at FROM actors "
	    "WHERE token_hash = ?", e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		err_setk(e, ERR_DENIED, "the bearer token is unknown: ask an admin "
		    "for a token (`opsdeck actor add`)");
		goto out;
	}
	if (sqlite3_column_type(st, 2) != SQLITE_NULL) {
		err_setk(e, ERR_DENIED, "the token of actor '%s' was revoked: ask "
		    "an admin for a new one", sqlite3_column_text(st, 0));
		goto out;
	}
	role = (const char *)sqlite3_column_text(st, 1);
	snprintf(a->name, sizeof(a->name), "%s", sqlite3_column_text(st, 0));
	if (role_parse(role, &a->role) < 0) {
		err_setk(e, ERR_DENIED, "actor '%s' has an unknown role '%s'",
		    a->name, role);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}
