/*
 * The daemon's evidence calls, the ledger on the daemon's store, and the live feed
 * of /v1/events, read from the store's own records (machine transitions, deploy
 * steps, incident timelines, evidence), so nothing else has to publish to it.
 */
#include <stdlib.h>

#include "core/json.h"
#include "core/log.h"
#include "core/util.h"
#include "ledger/evidence.h"
#include "runtime/daemon_int.h"

static json_t *
evidence_json(struct daemon *d, const char *actor, int64_t since_ms, int limit,
    struct err *e)
{
	return evidence_list(&d->store, actor, since_ms, limit, e);
}

static json_t *
evidence_export_json(struct daemon *d, int64_t since_ms, struct err *e)
{
	char *text = evidence_export(&d->store, since_ms, e);
	json_t *out;

	if (text == NULL)
		return NULL;
	out = json_pack("{ss}", "jsonl", text);
	free(text);
	return out;
}

static json_t *
evidence_key_json(struct daemon *d, struct err *e)
{
	char hex[EVIDENCE_PUBKEY_HEX], fp[EVIDENCE_FP_LEN];

	if (evidence_pubkey(&d->store, hex, fp, e) < 0)
		return NULL;
	return json_pack("{ss ss}", "pubkey", hex, "key", fp);
}

static json_t *events_since(struct daemon *, const json_t *, struct err *);

void
daemon_evidence_ops(struct daemon_ops *ops)
{
	ops->events_since = events_since;
	ops->evidence_json = evidence_json;
	ops->evidence_export = evidence_export_json;
	ops->evidence_key = evidence_key_json;
}

/* ---- the live feed (/v1/events) ---------------------------------------------- */

/* The newest id of table, for a cursor that starts now. */
static int64_t
max_id(struct daemon *d, const char *sql)
{
	sqlite3_stmt *st = NULL;
	struct err e;
	int64_t v = 0;

	if (store_prepare(&d->store, &st, sql, &e) < 0)
		return 0;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

static json_t *
col(sqlite3_stmt *st, int i)
{
	return sqlite3_column_type(st, i) == SQLITE_NULL ? json_null() :
	    sqlite3_column_type(st, i) == SQLITE_INTEGER ?
	    json_integer(sqlite3_column_int64(st, i)) :
	    json_string((const char *)sqlite3_column_text(st, i));
}

/*
 * Appends {type, data} for each row of sql (bound to after, then since) to events;
 * the row's first column is its id, the rest are named by names. The highest id
 * seen into *last.
 */
static void
feed(struct daemon *d, json_t *events, const char *type, const char *sql,
    int64_t after, int64_t since, const char *const *names, int64_t *last)
{
	sqlite3_stmt *st = NULL;
	struct err e;
	int i;

	if (store_prepare(&d->store, &st, sql, &e) < 0) {
		log_warnx("events: %s", e.msg);
		return;
	}
	sqlite3_bind_int64(st, 1, after);
	if (sqlite3_bind_parameter_count(st) > 1)
		sqlite3_bind_int64(st, 2, since);
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *data = json_object();
		int64_t id = sqlite3_column_int64(st, 0);

		for (i = 1; names[i - 1] != NULL; i++)
			json_object_set_new(data, names[i - 1], col(st, i));
		json_array_append_new(events, json_pack("{ss so}", "type", type,
		    "data", data));
		if (id > *last)
			*last = id;
	}
	sqlite3_finalize(st);
}

static json_t *
events_since(struct daemon *d, const json_t *cursor, struct err *e)
{
	static const char *const machine_cols[] = { "machine", "app", "state",
	    "detail", "at_ms", NULL };
	static const char *const step_cols[] = { "app", "version", "step",
	    "status", "detail", NULL };
	static const char *const incident_cols[] = { "incident", "name", "title",
	    "kind", "detail", NULL };
	static const char *const action_cols[] = { "seq", "actor", "via", "action",
	    "target", "outcome", "detail", "approval", NULL };
	int64_t m, s, i, a, t = wall_ms(), since;
	json_t *events = json_array();

	(void)e;
	if (cursor == NULL || !json_is_object(cursor)) {
		/* A new subscriber starts at now: no backlog. */
		return json_pack("{s{sI sI sI sI sI} so}", "cursor",
		    "m", (json_int_t)max_id(d, "SELECT max(id) FROM machine_events"),
		    "s", (json_int_t)max_id(d, "SELECT max(id) FROM release_steps"),
		    "i", (json_int_t)max_id(d, "SELECT max(id) FROM incident_events"),
		    "a", (json_int_t)max_id(d, "SELECT max(id) FROM evidence"),
		    "t", (json_int_t)t, "events", events);
	}
	m = json_int(cursor, "m", 0);
	s = json_int(cursor, "s", 0);
	i = json_int(cursor, "i", 0);
	a = json_int(cursor, "a", 0);
	since = json_int(cursor, "t", t);
	feed(d, events, "machine", "SELECT e.id, e.machine_id, m.app, e.state, "
	    "e.detail, e.at FROM machine_events e LEFT JOIN machines m ON m.id = "
	    "e.machine_id WHERE e.id > ?1 ORDER BY e.id LIMIT 500", m, 0,
	    machine_cols, &m);
	/* A deploy's steps: new ones, and earlier ones that ended since. */
	{
		int64_t last = s;

		feed(d, events, "deploy", "SELECT s.id, r.app, 'v' || r.version, "
		    "s.step, s.status, s.detail FROM release_steps s JOIN releases r "
		    "ON r.id = s.release_id WHERE s.id > ?1 OR (s.ended_at >= ?2 "
		    "AND s.id <= ?1) ORDER BY s.id LIMIT 500", s, since, step_cols,
		    &last);
		s = last;
	}
	feed(d, events, "incident", "SELECT e.id, e.incident, i.name, i.title, "
	    "e.kind, e.detail FROM incident_events e JOIN incidents i ON i.id = "
	    "e.incident WHERE e.id > ?1 ORDER BY e.id LIMIT 500", i, 0,
	    incident_cols, &i);
	feed(d, events, "action", "SELECT id, id, actor, via, action, target, "
	    "result, detail, approval_id FROM evidence WHERE id > ?1 ORDER BY id "
	    "LIMIT 500",
	    a, 0, action_cols, &a);
	return json_pack("{s{sI sI sI sI sI} so}", "cursor", "m", (json_int_t)m,
	    "s", (json_int_t)s, "i", (json_int_t)i, "a", (json_int_t)a,
	    "t", (json_int_t)t, "events", events);
}
