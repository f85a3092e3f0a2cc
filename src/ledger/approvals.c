#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/util.h"
#include "ledger/approvals.h"

static const char *const state_names[] = {
	[APPROVAL_PENDING] = "pending",
	[APPROVAL_APPROVED] = "approved",
	[APPROVAL_DENIED] = "denied",
	[APPROVAL_EXPIRED] = "expired",
	[APPROVAL_RAN] = "ran",
	[APPROVAL_FAILED] = "failed",
};

const char *
approval_state_str(enum approval_state s)
{
	return state_names[s];
}

int
approval_rules_set(struct store *s, const struct approval_rule *rules, size_t n,
    int64_t expire_ms, struct err *e)
{
	sqlite3_stmt *st = NULL;
	size_t i;

	if (store_begin(s, e) < 0)
		return -1;
	if (store_exec(s, "DELETE FROM approval_rules", e) < 0 ||
	    store_prepare(s, &st, "INSERT INTO approval_rules (action, stage, "
	    "expire_ms) VALUES (?, ?, ?)", e) < 0)
		goto fail;
	/* A row with no action keeps the expiry when no rule is set. */
	sqlite3_bind_text(st, 1, "", -1, SQLITE_STATIC);
	sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, expire_ms);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto step;
	for (i = 0; i < n; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, rules[i].action, -1, SQLITE_STATIC);
		if (rules[i].stage != NULL)
			sqlite3_bind_text(st, 2, rules[i].stage, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(st, 2);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto step;
	}
	sqlite3_finalize(st);
	return store_commit(s, e);
step:
	err_set(e, "store: cannot write the approval rules: %s",
	    sqlite3_errmsg(s->db));
fail:
	sqlite3_finalize(st);
	store_rollback(s);
	return -1;
}

int
approval_required(struct store *s, const char *action, const char *stage,
    int64_t *expire_ms, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int r, found = 0;

	*expire_ms = APPROVAL_EXPIRE_MS;
	if (store_prepare(s, &st, "SELECT action, expire_ms FROM approval_rules "
	    "WHERE action = '' OR (action = ?1 AND (stage IS NULL OR stage = "
	    "?2))", e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, stage != NULL ? stage : "", -1, SQLITE_STATIC);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		*expire_ms = sqlite3_column_int64(st, 1);
		if (sqlite3_column_bytes(st, 0) > 0)
			found = 1;
	}
	if (r != SQLITE_DONE)
		found = err_set(e, "store: cannot read the approval rules: %s",
		    sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return found;
}

int
approval_request(struct store *s, const struct approval_req *q, int64_t *id,
    struct err *e)
{
	sqlite3_stmt *st = NULL;
	char *replay = q->replay != NULL ? json_dump_compact(q->replay) : NULL;
	int64_t now = wall_ms(), expire;
	int ret = -1;

	if (approval_required(s, q->action, q->stage, &expire, e) < 0)
		goto out;
	if (store_prepare(s, &st, "INSERT INTO approvals (action, target, stage, "
	    "digest, replay, requester, role, via, why, created_at, expires_at, "
	    "state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'pending')", e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, q->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, q->target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, q->stage, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, q->digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, replay, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, q->requester, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, q->role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, q->via, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, q->why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, now);
	sqlite3_bind_int64(st, 11, now + expire);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err_set(e, "store: cannot record the approval request: %s",
		    sqlite3_errmsg(s->db));
		goto out;
	}
	*id = sqlite3_last_insert_rowid(s->db);
	ret = 0;
out:
	sqlite3_finalize(st);
	free(replay);
	return ret;
}

/* A replay's private part (a password) is kept only while the request may run. */
static void
forget_private(struct store *s)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(s, &st, "UPDATE approvals SET replay = json_remove("
	    "replay, '$.private') WHERE state NOT IN ('pending', 'approved') AND "
	    "json_type(replay, '$.private') IS NOT NULL", &e) < 0)
		return;
	sqlite3_step(st);
	sqlite3_finalize(st);
}

/* Marks pending requests past their expiry as expired. */
static void
expire_due(struct store *s)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(s, &st, "UPDATE approvals SET state = 'expired' WHERE "
	    "state IN ('pending', 'approved') AND expires_at <= ?", &e) < 0)
		return;
	sqlite3_bind_int64(st, 1, wall_ms());
	sqlite3_step(st);
	sqlite3_finalize(st);
	forget_private(s);
}

int
approval_decide(struct store *s, int64_t id, const char *approver, bool grant,
    const char *comment, struct err *e)
{
	sqlite3_stmt *st = NULL;
	const char *state, *requester;
	int ret = -1;

	expire_due(s);
	if (store_prepare(s, &st, "SELECT state, requester FROM approvals WHERE "
	    "id = ?", e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		err_setk(e, ERR_NOT_FOUND, "no approval request #%lld: list them "
		    "with `opsdeck approvals`", (long long)id);
		goto out;
	}
	state = (const char *)sqlite3_column_text(st, 0);
	requester = (const char *)sqlite3_column_text(st, 1);
	if (strcmp(requester, approver) == 0) {
		err_setk(e, ERR_DENIED, "'%s' requested #%lld and may not %s it: "
		    "another approver must (four eyes)", approver, (long long)id,
		    grant ? "approve" : "deny");
		goto out;
	}
	if (strcmp(state, "pending") != 0) {
		static const struct {
			const char *state, *says;
		} says[] = {
			{ "approved", "was approved already" },
			{ "denied", "was denied" },
			{ "expired", "has expired: request the action again" },
			{ "ran", "has run already: an approval runs once" },
			{ "failed", "was approved but could not run: request the "
			    "action again" },
		};
		const char *why = state;
		size_t i;

		for (i = 0; i < sizeof(says) / sizeof(says[0]); i++)
			if (strcmp(says[i].state, state) == 0)
				why = says[i].says;
		err_setk(e, ERR_CONFLICT, "approval request #%lld %s", (long long)id,
		    why);
		goto out;
	}
	sqlite3_finalize(st);
	if (store_prepare(s, &st, "UPDATE approvals SET state = ?, decided_by = ?, "
	    "decided_at = ?, comment = ? WHERE id = ? AND state = 'pending'",
	    e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, grant ? "approved" : "denied", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, approver, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, wall_ms());
	sqlite3_bind_text(st, 4, comment, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, id);
	if (sqlite3_step(st) != SQLITE_DONE || sqlite3_changes(s->db) != 1) {
		err_set(e, "store: cannot decide #%lld: %s", (long long)id,
		    sqlite3_errmsg(s->db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	forget_private(s);
	return ret;
}

int
approval_claim(struct store *s, int64_t id, const char *action,
    const char *requester, const char *digest, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (store_prepare(s, &st, "UPDATE approvals SET state = 'ran', ran_at = ?1 "
	    "WHERE id = ?2 AND state = 'approved' AND expires_at > ?1 AND action = "
	    "?3 AND requester = ?4 AND digest = ?5", e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, wall_ms());
	sqlite3_bind_int64(st, 2, id);
	sqlite3_bind_text(st, 3, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, requester, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, digest, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err_set(e, "store: cannot claim approval #%lld: %s", (long long)id,
		    sqlite3_errmsg(s->db));
		goto out;
	}
	if (sqlite3_changes(s->db) != 1) {
		err_setk(e, ERR_DENIED, "approval #%lld does not allow this run: it "
		    "is not granted, already ran, has expired, or was for other "
		    "arguments (a changed config or artifact): request it again",
		    (long long)id);
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	forget_private(s);
	return ret;
}

void
approval_fail(struct store *s, int64_t id, const char *why)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(s, &st, "UPDATE approvals SET state = 'failed', "
	    "comment = coalesce(comment || '; ', '') || ? WHERE id = ? AND "
	    "state = 'approved'", &e) < 0)
		return;
	sqlite3_bind_text(st, 1, why, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, id);
	sqlite3_step(st);
	sqlite3_finalize(st);
	forget_private(s);
}

#define APPROVAL_SELECT "id, action, target, stage, digest, replay, requester, " \
	"role, via, why, created_at, expires_at, state, decided_by, decided_at, " \
	"comment, ran_at"

static json_t *
col_text(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null() :
	    json_string((const char *)sqlite3_column_text(st, i));
}

static json_t *
col_time(sqlite3_stmt *st, int i)
{
	char t[32];

	if (sqlite3_column_type(st, i) == SQLITE_NULL)
		return json_null();
	format_time(sqlite3_column_int64(st, i), t);
	return json_string(t);
}

static json_t *
row_json(sqlite3_stmt *st, bool keep_private)
{
	const char *replay = (const char *)sqlite3_column_text(st, 5);
	json_t *r = replay != NULL ? json_loads(replay, 0, NULL) : NULL;

	if (r != NULL && !keep_private)
		json_object_del(r, "private");

	return json_pack("{sI so so so so so so so so so so so so so so so so}",
	    "id", (json_int_t)sqlite3_column_int64(st, 0),
	    "action", col_text(st, 1), "target", col_text(st, 2),
	    "stage", col_text(st, 3), "digest", col_text(st, 4),
	    "request", r != NULL ? r : json_null(),
	    "requester", col_text(st, 6), "role", col_text(st, 7),
	    "via", col_text(st, 8), "why", col_text(st, 9),
	    "created_at", col_time(st, 10), "expires_at", col_time(st, 11),
	    "state", col_text(st, 12), "decided_by", col_text(st, 13),
	    "decided_at", col_time(st, 14), "comment", col_text(st, 15),
	    "ran_at", col_time(st, 16));
}

static json_t *
approval_get(struct store *s, int64_t id, bool keep_private, struct err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *out = NULL;

	expire_due(s);
	if (store_prepare(s, &st, "SELECT " APPROVAL_SELECT " FROM approvals "
	    "WHERE id = ?", e) < 0)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		out = row_json(st, keep_private);
	else
		err_setk(e, ERR_NOT_FOUND, "no approval request #%lld: list them "
		    "with `opsdeck approvals`", (long long)id);
	sqlite3_finalize(st);
	return out;
}

json_t *
approval_json(struct store *s, int64_t id, struct err *e)
{
	return approval_get(s, id, false, e);
}

json_t *
approval_run_json(struct store *s, int64_t id, struct err *e)
{
	return approval_get(s, id, true, e);
}

json_t *
approvals_json(struct store *s, bool all, struct err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *arr = json_array();
	int r;

	expire_due(s);
	if (store_prepare(s, &st, all ? "SELECT " APPROVAL_SELECT " FROM "
	    "approvals ORDER BY id" : "SELECT " APPROVAL_SELECT " FROM approvals "
	    "WHERE state = 'pending' ORDER BY id", e) < 0) {
		json_decref(arr);
		return NULL;
	}
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(arr, row_json(st, false));
	sqlite3_finalize(st);
	if (r != SQLITE_DONE) {
		json_decref(arr);
		err_set(e, "store: cannot list approvals: %s", sqlite3_errmsg(s->db));
		return NULL;
	}
	return json_pack("{so}", "approvals", arr);
}

json_t *
approval_pending_json(struct store *s, int64_t id, struct err *e)
{
	json_t *a = approval_json(s, id, e);

	return a != NULL ? json_pack("{so}", "approval_pending", a) : NULL;
}
