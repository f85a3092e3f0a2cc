#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "store/store.h"

/*
 * Each row upgrades the schema by one version. Never edit a row that has shipped:
 * add a new one, so every older state dir walks the same path.
 */
static const char *const migrations[] = {
	/* 1: machines and their transitions */
	"CREATE TABLE machines ("
	"  id TEXT PRIMARY KEY,"
	"  app TEXT NOT NULL,"
	"  process TEXT NOT NULL,"
	"  idx INTEGER NOT NULL,"
	"  port INTEGER,"
	"  state TEXT NOT NULL,"
	"  desired TEXT NOT NULL DEFAULT 'running',"
	"  pid INTEGER,"
	"  pgid INTEGER,"
	"  proc_start INTEGER,"
	"  exit_code INTEGER,"
	"  signal INTEGER,"
	"  restart_count INTEGER NOT NULL DEFAULT 0,"
	"  health TEXT NOT NULL DEFAULT 'unknown',"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  UNIQUE (app, process, idx));"
	"CREATE TABLE machine_events ("
	"  id INTEGER PRIMARY KEY,"
	"  machine_id TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  detail TEXT);"
	"CREATE INDEX machine_events_by_machine ON machine_events (machine_id, id);",

	/* 2: apps (to remember config digests across reloads) and fleet events */
	"CREATE TABLE apps ("
	"  name TEXT PRIMARY KEY,"
	"  stage TEXT NOT NULL,"
	"  config_digest TEXT NOT NULL,"
	"  needs_deploy INTEGER NOT NULL DEFAULT 0,"
	"  updated_at INTEGER NOT NULL);"
	"CREATE TABLE events ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  app TEXT,"
	"  machine_id TEXT,"
	"  detail TEXT);",

	/* 3: evidence of every action through the gate */
	"CREATE TABLE evidence ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  result TEXT NOT NULL,"
	"  detail TEXT);",

	/*
	 * 4: releases, their steps, deploy locks, artifacts and secrets. A machine now
	 * belongs to a release (NULL: started from the config before any deploy), and
	 * blue/green runs two machines with one index, so the key gains release_id.
	 */
	"CREATE TABLE machines4 ("
	"  id TEXT PRIMARY KEY,"
	"  app TEXT NOT NULL,"
	"  process TEXT NOT NULL,"
	"  idx INTEGER NOT NULL,"
	"  release_id INTEGER,"
	"  port INTEGER,"
	"  state TEXT NOT NULL,"
	"  desired TEXT NOT NULL DEFAULT 'running',"
	"  pid INTEGER,"
	"  pgid INTEGER,"
	"  proc_start INTEGER,"
	"  exit_code INTEGER,"
	"  signal INTEGER,"
	"  restart_count INTEGER NOT NULL DEFAULT 0,"
	"  health TEXT NOT NULL DEFAULT 'unknown',"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL);"
	"INSERT INTO machines4 (id, app, process, idx, port, state, desired, pid,"
	"  pgid, proc_start, exit_code, signal, restart_count, health,"
	"  created_at, updated_at) SELECT id, app, process, idx, port, state,"
	"  desired, pid, pgid, proc_start, exit_code, signal, restart_count,"
	"  health, created_at, updated_at FROM machines;"
	"DROP TABLE machines;"
	"ALTER TABLE machines4 RENAME TO machines;"
	"CREATE UNIQUE INDEX machines_slot ON machines (app, process, idx,"
	"  ifnull(release_id, 0));"
	"CREATE TABLE artifacts ("
	"  digest TEXT PRIMARY KEY,"
	"  kind TEXT NOT NULL,"
	"  size INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL);"
	"CREATE TABLE releases ("
	"  id INTEGER PRIMARY KEY,"
	"  app TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  artifact_digest TEXT NOT NULL,"
	"  config_digest TEXT NOT NULL,"
	"  config_snapshot TEXT NOT NULL,"
	"  secrets_version INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  message TEXT,"
	"  status TEXT NOT NULL,"
	"  failed_step TEXT,"
	"  reason TEXT,"
	"  evidence TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  finished_at INTEGER,"
	"  UNIQUE (app, version));"
	"CREATE TABLE release_steps ("
	"  id INTEGER PRIMARY KEY,"
	"  release_id INTEGER NOT NULL REFERENCES releases (id),"
	"  step TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  started_at INTEGER NOT NULL,"
	"  ended_at INTEGER,"
	"  detail TEXT);"
	"CREATE TABLE deploy_locks ("
	"  app TEXT PRIMARY KEY,"
	"  release_id INTEGER NOT NULL,"
	"  started_at INTEGER NOT NULL);"
	"CREATE TABLE secrets_staged ("
	"  app TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  op TEXT NOT NULL,"
	"  sealed BLOB,"
	"  digest TEXT,"
	"  updated_at INTEGER NOT NULL,"
	"  PRIMARY KEY (app, name));"
	"CREATE TABLE secret_versions ("
	"  app TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  PRIMARY KEY (app, version));"
	"CREATE TABLE secret_values ("
	"  app TEXT NOT NULL,"
	"  version INTEGER NOT NULL,"
	"  name TEXT NOT NULL,"
	"  sealed BLOB NOT NULL,"
	"  digest TEXT NOT NULL,"
	"  PRIMARY KEY (app, version, name));",

	/* 5: housekeeping runs (opsdeck gc), for status: what each one removed */
	"CREATE TABLE gc_runs ("
	"  id INTEGER PRIMARY KEY,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  artifacts_kept INTEGER NOT NULL,"
	"  artifacts_removed INTEGER NOT NULL,"
	"  logs_removed INTEGER NOT NULL,"
	"  bytes_freed INTEGER NOT NULL,"
	"  failed INTEGER NOT NULL);",

	/*
	 * 6: watch. Check results as per-minute aggregates (never a row per run),
	 * incidents and their timelines, the notification outbox (a notice waits
	 * here until a channel took it), heartbeats' state, one-off maintenance.
	 * Times in milliseconds since the epoch.
	 */
	"CREATE TABLE check_minutes ("
	"  name TEXT NOT NULL,"
	"  minute INTEGER NOT NULL,"
	"  runs INTEGER NOT NULL,"
	"  failures INTEGER NOT NULL,"
	"  sum_ms INTEGER NOT NULL,"
	"  max_ms INTEGER NOT NULL,"
	"  PRIMARY KEY (name, minute)) WITHOUT ROWID;"
	"CREATE TABLE incidents ("
	"  id INTEGER PRIMARY KEY,"
	"  source TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  app TEXT,"
	"  severity TEXT NOT NULL,"
	"  title TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  opened_at INTEGER NOT NULL,"
	"  acked_at INTEGER,"
	"  acked_by TEXT,"
	"  resolved_at INTEGER,"
	"  held INTEGER NOT NULL DEFAULT 0,"
	"  maintenance INTEGER NOT NULL DEFAULT 0,"
	"  last_notice_at INTEGER);"
	"CREATE INDEX incidents_state ON incidents (state, source, name);"
	"CREATE TABLE incident_events ("
	"  id INTEGER PRIMARY KEY,"
	"  incident INTEGER NOT NULL REFERENCES incidents (id),"
	"  at INTEGER NOT NULL,"
	"  kind TEXT NOT NULL,"
	"  detail TEXT NOT NULL);"
	"CREATE INDEX incident_events_of ON incident_events (incident);"
	"CREATE TABLE outbox ("
	"  id INTEGER PRIMARY KEY,"
	"  incident INTEGER,"
	"  event TEXT NOT NULL,"
	"  channel TEXT NOT NULL,"
	"  payload TEXT NOT NULL,"
	"  state TEXT NOT NULL,"
	"  attempts INTEGER NOT NULL DEFAULT 0,"
	"  next_at INTEGER NOT NULL,"
	"  last_error TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  sent_at INTEGER);"
	"CREATE INDEX outbox_due ON outbox (state, next_at);"
	"CREATE TABLE heartbeats ("
	"  name TEXT PRIMARY KEY,"
	"  last_ping INTEGER NOT NULL DEFAULT 0,"
	"  last_start INTEGER NOT NULL DEFAULT 0,"
	"  last_run_ms INTEGER NOT NULL DEFAULT -1,"
	"  failed INTEGER NOT NULL DEFAULT 0,"
	"  paused INTEGER NOT NULL DEFAULT 0,"
	"  report TEXT,"
	"  message TEXT,"
	"  pings INTEGER NOT NULL DEFAULT 0);"
	"CREATE TABLE maintenance ("
	"  id INTEGER PRIMARY KEY,"
	"  target TEXT NOT NULL,"
	"  starts_at INTEGER NOT NULL,"
	"  ends_at INTEGER NOT NULL,"
	"  reason TEXT NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  ended_at INTEGER);",

	/*
	 * 7: evidence becomes a signed hash chain (ledger/evidence.h): where an action
	 * came from, its arguments, how long it took, its approval, and each entry's
	 * prev hash, hash and signature. Entries written before have no hash; the
	 * ledger seals them, in order, before it appends the next one.
	 */
	"ALTER TABLE evidence ADD COLUMN via TEXT NOT NULL DEFAULT 'cli';"
	"UPDATE evidence SET via = 'system' WHERE actor IN ('opsdeck', "
	"  'signal:SIGHUP');"
	"ALTER TABLE evidence ADD COLUMN args TEXT;"
	"ALTER TABLE evidence ADD COLUMN duration_ms INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE evidence ADD COLUMN approval_id INTEGER;"
	"ALTER TABLE evidence ADD COLUMN prev TEXT;"
	"ALTER TABLE evidence ADD COLUMN hash TEXT;"
	"ALTER TABLE evidence ADD COLUMN sig TEXT;"
	"CREATE INDEX evidence_at ON evidence (at);"
	"CREATE INDEX evidence_unsealed ON evidence (id) WHERE hash IS NULL;",

	/*
	 * 8: actors with bearer tokens (only the token's SHA-256 is kept), the approval
	 * rules the daemon copies from the config, and approval requests.
	 */
	"CREATE TABLE actors ("
	"  name TEXT PRIMARY KEY,"
	"  role TEXT NOT NULL,"
	"  token_hash TEXT NOT NULL UNIQUE,"
	"  created_at INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL,"
	"  revoked_at INTEGER);"
	"CREATE TABLE approval_rules ("
	"  action TEXT NOT NULL,"
	"  stage TEXT,"
	"  expire_ms INTEGER NOT NULL);"
	"CREATE TABLE approvals ("
	"  id INTEGER PRIMARY KEY,"
	"  action TEXT NOT NULL,"
	"  target TEXT NOT NULL,"
	"  stage TEXT,"
	"  digest TEXT NOT NULL,"
	"  replay TEXT,"
	"  requester TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  via TEXT NOT NULL,"
	"  why TEXT NOT NULL,"
	"  created_at INTEGER NOT NULL,"
	"  expires_at INTEGER NOT NULL,"
	"  state TEXT NOT NULL,"
	"  decided_by TEXT,"
	"  decided_at INTEGER,"
	"  comment TEXT,"
	"  ran_at INTEGER);"
	"CREATE INDEX approvals_state ON approvals (state);"
	"CREATE INDEX release_steps_ended ON release_steps (ended_at);",

	/*
	 * 9: the work ledger (ledger/tasks.h): tasks and every move of their status,
	 * and the task an agent's heartbeat last reported.
	 */
	"CREATE TABLE tasks ("
	"  id TEXT PRIMARY KEY,"
	"  title TEXT NOT NULL,"
	"  owner TEXT NOT NULL,"
	"  direction TEXT,"
	"  estimate_ms INTEGER,"
	"  status TEXT NOT NULL,"
	"  blocked_on TEXT,"
	"  reason TEXT,"
	"  created_at INTEGER NOT NULL,"
	"  updated_at INTEGER NOT NULL,"
	"  created_by TEXT NOT NULL);"
	"CREATE TABLE task_events ("
	"  id INTEGER PRIMARY KEY,"
	"  task TEXT NOT NULL,"
	"  at INTEGER NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  blocked_on TEXT,"
	"  reason TEXT,"
	"  note TEXT);"
	"CREATE INDEX task_events_of ON task_events (task, id);"
	"CREATE INDEX task_events_by ON task_events (actor, at);"
	"ALTER TABLE heartbeats ADD COLUMN task TEXT;",
};

#define NMIGRATIONS ((int)(sizeof(migrations) / sizeof(migrations[0])))

int
store_schema_version(void)
{
	return NMIGRATIONS;
}

static int
pragma_int(struct store *s, const char *sql, int *out, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (store_prepare(s, &st, sql, e) < 0)
		goto out;
	if (sqlite3_step(st) != SQLITE_ROW) {
		err_set(e, "'%s': %s", s->path, sqlite3_errmsg(s->db));
		goto out;
	}
	*out = sqlite3_column_int(st, 0);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
store_exec(struct store *s, const char *sql, struct err *e)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		err_set(e, "store '%s': %s", s->path,
		    msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return -1;
	}
	return 0;
}

int
store_prepare(struct store *s, sqlite3_stmt **st, const char *sql,
    struct err *e)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return err_set(e, "store '%s': %s", s->path,
		    sqlite3_errmsg(s->db));
	return 0;
}

int
store_begin(struct store *s, struct err *e)
{
	return store_exec(s, "BEGIN IMMEDIATE", e);
}

int
store_commit(struct store *s, struct err *e)
{
	return store_exec(s, "COMMIT", e);
}

void
store_rollback(struct store *s)
{
	sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

int
store_migrate_to(struct store *s, int to, struct err *e)
{
	int version, v;
	char sql[64];

	if (pragma_int(s, "PRAGMA user_version", &version, e) < 0)
		return -1;
	for (v = version; v < to && v < NMIGRATIONS; v++) {
		if (store_begin(s, e) < 0)
			return -1;
		snprintf(sql, sizeof(sql), "PRAGMA user_version = %d", v + 1);
		if (store_exec(s, migrations[v], e) < 0 ||
		    store_exec(s, sql, e) < 0) {
			store_rollback(s);
			return -1;
		}
		if (store_commit(s, e) < 0)
			return -1;
		if (version > 0)
			log_info("store '%s': upgraded schema to version %d",
			    s->path, v + 1);
	}
	return 0;
}

/* Refuses a file that is not ours or is newer than this build understands. */
static int
store_check_identity(struct store *s, bool readonly, struct err *e)
{
	int appid, version, tables;

	if (pragma_int(s, "PRAGMA application_id", &appid, e) < 0)
		return err_set(e, "'%s' is not an opsdeck store (%s): move it "
		    "away or point --state at another directory", s->path,
		    sqlite3_errmsg(s->db));
	if (pragma_int(s, "PRAGMA user_version", &version, e) < 0 ||
	    pragma_int(s, "SELECT count(*) FROM sqlite_master", &tables,
	    e) < 0)
		return -1;
	if (appid != 0 && appid != STORE_APPLICATION_ID)
		return err_set(e, "'%s' belongs to another program "
		    "(application_id %#x): move it away or point --state at "
		    "another directory", s->path, (unsigned)appid);
	if (appid == 0 && tables > 0)
		return err_set(e, "'%s' is a SQLite database that opsdeck did "
		    "not create: move it away or point --state at another "
		    "directory", s->path);
	if (version > NMIGRATIONS)
		return err_set(e, "'%s' has schema version %d, newer than this "
		    "opsdeck understands (%d): run a newer opsdeck", s->path,
		    version, NMIGRATIONS);
	if (readonly && version != NMIGRATIONS)
		return err_set(e, "'%s' has schema version %d, expected %d: "
		    "start `opsdeck up` once to upgrade it", s->path, version,
		    NMIGRATIONS);
	return 0;
}

static int
store_quick_check(struct store *s, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (store_prepare(s, &st, "PRAGMA quick_check", e) < 0)
		return err_set(e, "'%s' is corrupt or not a database (%s): "
		    "restore it from a backup or move it away", s->path,
		    sqlite3_errmsg(s->db));
	if (sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		err_set(e, "'%s' is corrupt (quick_check: %s): restore it "
		    "from a backup or move it away", s->path,
		    sqlite3_errmsg(s->db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

static int
store_open_flags(struct store *s, const char *path, int flags, bool readonly,
    struct err *e)
{
	char sql[64];

	s->db = NULL;
	s->path = xstrdup(path);
	s->evidence_changes = 0;
	if (sqlite3_open_v2(path, &s->db, flags, NULL) != SQLITE_OK) {
		err_set(e, "cannot open store '%s': %s", path,
		    s->db ? sqlite3_errmsg(s->db) : "out of memory");
		goto fail;
	}
	sqlite3_busy_timeout(s->db, 5000);
	if (store_quick_check(s, e) < 0 ||
	    store_check_identity(s, readonly, e) < 0)
		goto fail;
	if (readonly)
		return store_exec(s, "PRAGMA foreign_keys = ON", e);
	snprintf(sql, sizeof(sql), "PRAGMA application_id = %d",
	    STORE_APPLICATION_ID);
	if (store_exec(s, "PRAGMA journal_mode = WAL", e) < 0 ||
	    store_exec(s, "PRAGMA synchronous = NORMAL", e) < 0 ||
	    store_exec(s, "PRAGMA foreign_keys = ON", e) < 0 ||
	    store_exec(s, sql, e) < 0 ||
	    store_migrate_to(s, NMIGRATIONS, e) < 0)
		goto fail;
	return 0;
fail:
	store_close(s);
	return -1;
}

int
store_open(struct store *s, const char *path, struct err *e)
{
	return store_open_flags(s, path,
	    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, false, e);
}

int
store_open_readonly(struct store *s, const char *path, struct err *e)
{
	if (access(path, R_OK) < 0)
		return err_errno(e, "cannot read store '%s'", path);
	return store_open_flags(s, path, SQLITE_OPEN_READONLY, true, e);
}

void
store_close(struct store *s)
{
	if (s->db != NULL)
		sqlite3_close(s->db);
	s->db = NULL;
	free(s->path);
	s->path = NULL;
}
