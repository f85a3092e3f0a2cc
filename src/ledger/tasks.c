/*
 * The work ledger (ledger/tasks.h): tasks and their status history in the store.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "ledger/tasks.h"

#define IMPORT_MAX	500	/* tasks in one direction file */

static const char *const statuses[] = { "todo", "doing", "blocked", "done" };
enum { ST_TO_DO, ST_DOING, ST_BLOCKED, ST_DONE, NSTATUS };

int
task_id_valid(const char *s)
{
	const char *p = s;

	if (s == NULL || strlen(s) >= TASK_ID_MAX || !isupper((unsigned char)*p))
		return 0;
	while (isupper((unsigned char)*p) || isdigit((unsigned char)*p))
		p++;
	if (*p++ != '-' || !isdigit((unsigned char)*p))
		return 0;
	while (isdigit((unsigned char)*p))
		p++;
	return *p == '\0';
}

static int
status_of(const char *s)
{
	return s != NULL ? str_index(s, statuses, NSTATUS) : -1;
}

/* A title or reason: printable, one line, bounded. */
static int
text_ok(const char *s, size_t max)
{
	const unsigned char *p;

	if (s == NULL || *s == '\0' || strlen(s) > max)
		return 0;
	for (p = (const unsigned char *)s; *p != '\0'; p++)
		if (*p < 0x20 || *p == 0x7f)
			return 0;
	return 1;
}

static json_t *
text_col(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	return json_string((const char *)sqlite3_column_text(st, col));
}

static json_t *
time_json(int64_t ms)
{
	char at[32];

	if (ms <= 0)
		return json_null();
	format_time(ms, at);
	return json_string(at);
}

/* ---- time from history ---- */

struct spent {
	int64_t	 actual_ms;	/* time in doing */
	int64_t	 started_at;	/* the first move to doing, 0 none */
	int64_t	 done_at;	/* the last move to done, 0 none */
};

/* Folds one history row (in order) into sp; doing_since tracks an open stretch. */
static void
spent_step(struct spent *sp, int64_t *doing_since, int status, int64_t at)
{
	if (*doing_since > 0 && status != ST_DOING) {
		sp->actual_ms += at - *doing_since;
		*doing_since = 0;
	}
	if (status == ST_DOING) {
		if (*doing_since == 0)
			*doing_since = at;
		if (sp->started_at == 0)
			sp->started_at = at;
	}
	if (status == ST_DONE)
		sp->done_at = at;
}

static int
spent_of(struct store *s, const char *id, int64_t now, struct spent *sp,
    struct err *e)
{
	sqlite3_stmt *st = NULL;
	int64_t since = 0;

	memset(sp, 0, sizeof(*sp));
	if (store_prepare(s, &st, "SELECT status, at FROM task_events WHERE "
	    "task = ? ORDER BY id", e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	while (sqlite3_step(st) == SQLITE_ROW)
		spent_step(sp, &since, status_of((const char *)
		    sqlite3_column_text(st, 0)), sqlite3_column_int64(st, 1));
	sqlite3_finalize(st);
	if (since > 0 && now > since)
		sp->actual_ms += now - since;
	return 0;
}

#define TASK_COLS "id, title, owner, direction, estimate_ms, status, " \
	"blocked_on, reason, created_at, updated_at, created_by"

static json_t *
task_row(sqlite3_stmt *st, const struct spent *sp)
{
	char est[32], act[32];
	int64_t estimate = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 :
	    sqlite3_column_int64(st, 4);

	duration_format(estimate > 0 ? estimate : 0, est);
	duration_format(sp->actual_ms, act);
	return json_pack("{s:s, s:s, s:s, s:o, s:o, s:o, s:s, s:o, s:o, s:o, "
	    "s:o, s:s, s:I, s:s, s:o, s:o}",
	    "id", sqlite3_column_text(st, 0),
	    "title", sqlite3_column_text(st, 1),
	    "owner", sqlite3_column_text(st, 2),
	    "direction", text_col(st, 3),
	    "estimate_ms", estimate >= 0 ? json_integer(estimate) : json_null(),
	    "estimate", estimate >= 0 ? json_string(est) : json_null(),
	    "status", sqlite3_column_text(st, 5),
	    "blocked_on", text_col(st, 6),
	    "reason", text_col(st, 7),
	    "created_at", time_json(sqlite3_column_int64(st, 8)),
	    "updated_at", time_json(sqlite3_column_int64(st, 9)),
	    "created_by", sqlite3_column_text(st, 10),
	    "actual_ms", (json_int_t)sp->actual_ms,
	    "actual", act,
	    "started_at", time_json(sp->started_at),
	    "done_at", time_json(sp->done_at));
}

/* The task id, or NULL with ERR_NOT_FOUND. */
static json_t *
task_get(struct store *s, const char *id, int64_t now, struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct spent sp;
	json_t *out = NULL;

	if (spent_of(s, id, now, &sp, e) < 0 || store_prepare(s, &st,
	    "SELECT " TASK_COLS " FROM tasks WHERE id = ?", e) < 0)
		return NULL;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		out = task_row(st, &sp);
	else
		err_setk(e, ERR_NOT_FOUND, "no task '%s': list them with "
		    "`opsdeck task list`", id);
	sqlite3_finalize(st);
	return out;
}

static int
event_add(struct store *s, const char *id, int64_t at, const char *actor,
    const char *status, const char *on, const char *reason, const char *note,
    struct err *e)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (store_prepare(s, &st, "INSERT INTO task_events (task, at, actor, "
	    "status, blocked_on, reason, note) VALUES (?, ?, ?, ?, ?, ?, ?)",
	    e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, at);
	sqlite3_bind_text(st, 3, actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, status, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, on, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, note, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = err_set(e, "store: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	return r;
}

/* COMMIT, or ROLLBACK when it fails: the one connection is never left in a
 * transaction. */
static int
commit(struct store *s, struct err *e)
{
	if (store_commit(s, e) == 0)
		return 0;
	store_rollback(s);
	return -1;
}

/*
 * An optional string field of body into *out (NULL when absent); -1 naming it
 * when it is there but not a string.
 */
static int
opt_str(const json_t *body, const char *key, const char **out, struct err *e)
{
	const json_t *v = json_object_get(body, key);

	*out = NULL;
	if (v == NULL || json_is_null(v))
		return 0;
	if (!json_is_string(v))
		return err_setk(e, ERR_INVALID, "%s: must be a string", key);
	*out = json_string_value(v);
	return 0;
}

/* An agent moves only its own tasks. */
static int
may_touch(const struct actor *a, const char *owner, const char *id,
    struct err *e)
{
	if (a->role >= ROLE_OPERATOR || strcmp(a->name, owner) == 0)
		return 0;
	return err_setk(e, ERR_DENIED, "%s is owned by %s: an agent moves only "
	    "its own tasks; ask %s or an operator", id, owner, owner);
}

/* ---- add ---- */

struct planned {
	const char	*id, *title, *owner, *direction;
	int64_t		 estimate_ms;	/* -1: none */
	int		 done;
};

struct add_arg {
	struct store		*s;
	const struct actor	*a;
	const struct planned	*t;
	int64_t			 now;
};

static int
insert_task(struct store *s, const struct actor *a, const struct planned *t,
    int64_t now, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int r = 0;

	if (store_prepare(s, &st, "INSERT INTO tasks (id, title, owner, "
	    "direction, estimate_ms, status, created_at, updated_at, created_by) "
	    "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, t->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t->title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t->owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t->direction, -1, SQLITE_STATIC);
	if (t->estimate_ms >= 0)
		sqlite3_bind_int64(st, 5, t->estimate_ms);
	sqlite3_bind_text(st, 6, t->done ? "done" : "todo", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, now);
	sqlite3_bind_int64(st, 8, now);
	sqlite3_bind_text(st, 9, a->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		r = sqlite3_extended_errcode(s->db) ==
		    SQLITE_CONSTRAINT_PRIMARYKEY ? err_setk(e, ERR_CONFLICT,
		    "task %s exists: show it with `opsdeck task show %s`", t->id,
		    t->id) : err_set(e, "store: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
	if (r == 0)
		r = event_add(s, t->id, now, a->name, "todo", NULL, NULL, NULL, e);
	if (r == 0 && t->done)
		r = event_add(s, t->id, now, a->name, "done", NULL, NULL,
		    "planned as done", e);
	return r;
}

static int
do_add(void *arg, struct err *e)
{
	struct add_arg *p = arg;

	if (may_touch(p->a, p->t->owner, p->t->id, e) < 0 ||
	    store_begin(p->s, e) < 0)
		return -1;
	if (insert_task(p->s, p->a, p->t, p->now, e) < 0) {
		store_rollback(p->s);
		return -1;
	}
	return commit(p->s, e);
}

/* The fields of an add body, checked; each error names its field. */
static int
planned_from(const json_t *body, const struct actor *a, struct planned *t,
    struct err *e)
{
	const json_t *est = json_object_get(body, "estimate");
	const json_t *est_ms = json_object_get(body, "estimate_ms");

	memset(t, 0, sizeof(*t));
	t->estimate_ms = -1;
	if (opt_str(body, "id", &t->id, e) < 0 || opt_str(body, "title",
	    &t->title, e) < 0 || opt_str(body, "owner", &t->owner, e) < 0 ||
	    opt_str(body, "direction", &t->direction, e) < 0)
		return -1;
	if (t->owner == NULL)
		t->owner = a->name;
	if (!task_id_valid(t->id))
		return err_setk(e, ERR_INVALID, "id '%.40s': give letters, '-' and "
		    "digits, e.g. DEVOPS-014", t->id ? t->id : "");
	if (!text_ok(t->title, TASK_TITLE_MAX))
		return err_setk(e, ERR_INVALID, "title: give one line of 1 to %d "
		    "characters", TASK_TITLE_MAX);
	if (!name_valid(t->owner))
		return err_setk(e, ERR_INVALID, "owner '%.64s': give an actor's "
		    "name (lowercase letters, digits, '-' and '_')", t->owner);
	if (t->direction != NULL && !text_ok(t->direction, 32))
		return err_setk(e, ERR_INVALID, "direction: a label of at most 32 "
		    "characters, e.g. v7.0");
	if (est != NULL && (!json_is_string(est) || duration_parse(
	    json_string_value(est), &t->estimate_ms) < 0))
		return err_setk(e, ERR_INVALID, "estimate '%.32s': give a "
		    "duration, e.g. 45m or 2h", json_is_string(est) ?
		    json_string_value(est) : "?");
	if (est_ms != NULL) {
		if (!json_is_integer(est_ms) || json_integer_value(est_ms) < 0)
			return err_setk(e, ERR_INVALID, "estimate_ms: give a "
			    "number of milliseconds");
		t->estimate_ms = json_integer_value(est_ms);
	}
	return 0;
}

json_t *
tasks_add(struct store *s, const struct actor *a, const json_t *body,
    int64_t now, struct err *e)
{
	struct planned t;
	struct add_arg p = { s, a, &t, now };
	struct gate_call call = { .action = "task.add" };
	json_t *args;
	int r;

	if (planned_from(body, a, &t, e) < 0)
		return NULL;
	call.target = t.id;
	args = json_pack("{s:s, s:s, s:s?, s:I}", "title", t.title, "owner",
	    t.owner, "direction", t.direction, "estimate_ms",
	    (json_int_t)t.estimate_ms);
	call.args = args;
	r = gate_run(s, a, &call, do_add, &p, e);
	json_decref(args);
	return r < 0 ? NULL : task_get(s, t.id, now, e);
}

/* ---- moves ---- */

struct move_arg {
	struct store		*s;
	const struct actor	*a;
	const char		*id;
	int			 to;
	const char		*on, *reason, *note;
	int64_t			 now;
};

static int
do_move(void *arg, struct err *e)
{
	struct move_arg *p = arg;
	sqlite3_stmt *st = NULL;
	char owner[64] = "";
	int from = -1, r = -1;

	if (store_begin(p->s, e) < 0)
		return -1;
	if (store_prepare(p->s, &st, "SELECT owner, status FROM tasks WHERE "
	    "id = ?", e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, p->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		snprintf(owner, sizeof(owner), "%s", sqlite3_column_text(st, 0));
		from = status_of((const char *)sqlite3_column_text(st, 1));
	}
	sqlite3_finalize(st);
	st = NULL;
	if (from < 0) {
		err_setk(e, ERR_NOT_FOUND, "no task '%s': list them with "
		    "`opsdeck task list`", p->id);
		goto out;
	}
	if (may_touch(p->a, owner, p->id, e) < 0)
		goto out;
	if (from == ST_DONE) {
		err_setk(e, ERR_CONFLICT, "%s is done: add a new task for more "
		    "work on it", p->id);
		goto out;
	}
	if (from == p->to && p->to != ST_BLOCKED) {
		err_setk(e, ERR_CONFLICT, "%s is %s already", p->id,
		    statuses[from]);
		goto out;
	}
	if (p->to == ST_BLOCKED && task_id_valid(p->on)) {
		if (strcmp(p->on, p->id) == 0) {
			err_setk(e, ERR_INVALID, "on: %s cannot wait for itself",
			    p->id);
			goto out;
		}
		if (store_prepare(p->s, &st, "SELECT 1 FROM tasks WHERE id = ?",
		    e) < 0)
			goto out;
		sqlite3_bind_text(st, 1, p->on, -1, SQLITE_STATIC);
		r = sqlite3_step(st) == SQLITE_ROW ? 0 : -1;
		sqlite3_finalize(st);
		st = NULL;
		if (r < 0) {
			err_setk(e, ERR_INVALID, "on: no task '%s' to wait for: "
			    "name a task of `opsdeck task list` or an actor",
			    p->on);
			goto out;
		}
		r = -1;
	}
	if (store_prepare(p->s, &st, "UPDATE tasks SET status = ?, blocked_on "
	    "= ?, reason = ?, updated_at = ? WHERE id = ?", e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, statuses[p->to], -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, p->to == ST_BLOCKED ? p->on : NULL, -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(st, 3, p->to == ST_BLOCKED ? p->reason : NULL, -1,
	    SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, p->now);
	sqlite3_bind_text(st, 5, p->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err_set(e, "store: %s", sqlite3_errmsg(p->s->db));
		goto out;
	}
	if (event_add(p->s, p->id, p->now, p->a->name, statuses[p->to],
	    p->to == ST_BLOCKED ? p->on : NULL, p->to == ST_BLOCKED ?
	    p->reason : NULL, p->note, e) < 0)
		goto out;
	r = 0;
out:
	sqlite3_finalize(st);
	if (r < 0) {
		store_rollback(p->s);
		return -1;
	}
	return commit(p->s, e);
}

json_t *
tasks_move(struct store *s, const struct actor *a, const char *id,
    const char *move, const json_t *body, int64_t now, struct err *e)
{
	static const char *const moves[] = { "start", "block", "done" };
	static const int to[] = { ST_DOING, ST_BLOCKED, ST_DONE };
	struct move_arg p = { s, a, id, 0, NULL, NULL, NULL, now };
	struct gate_call call = { 0 };
	char action[32];
	json_t *args;
	int m = str_index(move, moves, 3), r;

	if (m < 0)
		return err_setk(e, ERR_NOT_FOUND, "no task move '%s': use start, "
		    "block or done", move), NULL;
	/* checked before the gate: evidence names only what could be a task */
	if (!task_id_valid(id))
		return err_setk(e, ERR_NOT_FOUND, "no task '%.40s': a task id is "
		    "letters, '-' and digits, e.g. DEVOPS-014", id ? id : ""), NULL;
	p.to = to[m];
	if (opt_str(body, "on", &p.on, e) < 0 || opt_str(body, "reason",
	    &p.reason, e) < 0 || opt_str(body, "note", &p.note, e) < 0)
		return NULL;
	if (p.to == ST_BLOCKED) {
		if (!task_id_valid(p.on) && !name_valid(p.on))
			return err_setk(e, ERR_INVALID, "on: give the task or the "
			    "actor it waits for, e.g. DEVOPS-007 or manager"), NULL;
		if (!text_ok(p.reason, 1024))
			return err_setk(e, ERR_INVALID, "reason: say in one line "
			    "what it waits for"), NULL;
	}
	if (p.note != NULL && !text_ok(p.note, 1024))
		return err_setk(e, ERR_INVALID, "note: one line of at most 1024 "
		    "characters"), NULL;
	snprintf(action, sizeof(action), "task.%s", move);
	call.action = action;
	call.target = id;
	args = json_pack("{s:s?, s:s?, s:s?}", "on", p.on, "reason", p.reason,
	    "note", p.note);
	call.args = json_object_size(args) > 0 ? args : NULL;
	r = gate_run(s, a, &call, do_move, &p, e);
	json_decref(args);
	return r < 0 ? NULL : task_get(s, id, now, e);
}

/* ---- listing and progress ---- */

struct tally {
	char		*key;
	int		 n[NSTATUS];
	int64_t		 estimate_ms, actual_ms;
	json_t		*blocked;
};

static struct tally *
tally_of(struct tally **v, size_t *n, const char *key)
{
	size_t i;

	for (i = 0; i < *n; i++)
		if (strcmp((*v)[i].key, key) == 0)
			return &(*v)[i];
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	memset(&(*v)[*n], 0, sizeof(**v));
	(*v)[*n].key = xstrdup(key);
	(*v)[*n].blocked = json_array();
	return &(*v)[(*n)++];
}

static void
tally_add(struct tally *t, const json_t *task)
{
	int st = status_of(json_str(task, "status"));

	if (st >= 0)
		t->n[st]++;
	t->estimate_ms += json_int(task, "estimate_ms", 0);
	t->actual_ms += json_int(task, "actual_ms", 0);
	if (st == ST_BLOCKED)
		json_array_append_new(t->blocked, json_pack("{s:s, s:s?, s:s?}",
		    "task", json_str(task, "id"), "on", json_str(task,
		    "blocked_on"), "reason", json_str(task, "reason")));
}

static json_t *
tallies_json(struct tally *v, size_t n, const char *keyname)
{
	json_t *arr = json_array();
	size_t i;
	int total, k;

	for (i = 0; i < n; i++) {
		for (total = 0, k = 0; k < NSTATUS; k++)
			total += v[i].n[k];
		json_array_append_new(arr, json_pack("{s:s, s:i, s:i, s:i, s:i, "
		    "s:i, s:f, s:I, s:I, s:o}", keyname, v[i].key, "total", total,
		    "todo", v[i].n[ST_TO_DO], "doing", v[i].n[ST_DOING], "blocked",
		    v[i].n[ST_BLOCKED], "done", v[i].n[ST_DONE], "percent",
		    total > 0 ? 100.0 * v[i].n[ST_DONE] / total : 0.0,
		    "estimate_ms", (json_int_t)v[i].estimate_ms, "actual_ms",
		    (json_int_t)v[i].actual_ms, "blocked_on", v[i].blocked));
		free(v[i].key);
	}
	free(v);
	return arr;
}

/* Time spent per task, in one pass over the history. */
static json_t *
spent_all(struct store *s, int64_t now, struct err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *out = json_object();
	char cur[TASK_ID_MAX] = "";
	struct spent sp = { 0 };
	int64_t since = 0;

	if (store_prepare(s, &st, "SELECT task, status, at FROM task_events "
	    "ORDER BY task, id", e) < 0) {
		json_decref(out);
		return NULL;
	}
	for (;;) {
		int row = sqlite3_step(st) == SQLITE_ROW;
		const char *id = row ? (const char *)sqlite3_column_text(st, 0) :
		    "";

		if (cur[0] != '\0' && (!row || strcmp(id, cur) != 0)) {
			if (since > 0 && now > since)
				sp.actual_ms += now - since;
			json_object_set_new(out, cur, json_pack("[I, I, I]",
			    (json_int_t)sp.actual_ms, (json_int_t)sp.started_at,
			    (json_int_t)sp.done_at));
			memset(&sp, 0, sizeof(sp));
			since = 0;
		}
		if (!row)
			break;
		snprintf(cur, sizeof(cur), "%s", id);
		spent_step(&sp, &since, status_of((const char *)
		    sqlite3_column_text(st, 1)), sqlite3_column_int64(st, 2));
	}
	sqlite3_finalize(st);
	return out;
}

json_t *
tasks_list(struct store *s, const char *owner, const char *direction,
    const char *status, int64_t now, struct err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *tasks, *spent, *sv;
	struct tally *owners = NULL, *dirs = NULL;
	size_t nowners = 0, ndirs = 0, i;
	json_t *t;

	if (status != NULL && status_of(status) < 0)
		return err_setk(e, ERR_INVALID, "status '%.16s': use todo, doing, "
		    "blocked or done", status), NULL;
	if ((spent = spent_all(s, now, e)) == NULL)
		return NULL;
	if (store_prepare(s, &st, "SELECT " TASK_COLS " FROM tasks WHERE "
	    "(?1 IS NULL OR owner = ?1) AND (?2 IS NULL OR direction = ?2) AND "
	    "(?3 IS NULL OR status = ?3) ORDER BY direction, id LIMIT "
	    "10000", e) < 0) {
		json_decref(spent);
		return NULL;
	}
	sqlite3_bind_text(st, 1, owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, direction, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, status, -1, SQLITE_STATIC);
	tasks = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		struct spent sp = { 0 };

		sv = json_object_get(spent, (const char *)sqlite3_column_text(st,
		    0));
		sp.actual_ms = json_integer_value(json_array_get(sv, 0));
		sp.started_at = json_integer_value(json_array_get(sv, 1));
		sp.done_at = json_integer_value(json_array_get(sv, 2));
		json_array_append_new(tasks, task_row(st, &sp));
	}
	sqlite3_finalize(st);
	json_decref(spent);
	json_array_foreach(tasks, i, t) {
		tally_add(tally_of(&owners, &nowners, json_str(t, "owner")), t);
		tally_add(tally_of(&dirs, &ndirs, json_str(t, "direction") ?
		    json_str(t, "direction") : "-"), t);
	}
	return json_pack("{s:o, s:{s:o, s:o}}", "tasks", tasks, "progress",
	    "owners", tallies_json(owners, nowners, "owner"), "directions",
	    tallies_json(dirs, ndirs, "direction"));
}

json_t *
tasks_show(struct store *s, const char *id, int64_t now, struct err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *t = task_get(s, id, now, e), *hist;

	if (t == NULL)
		return NULL;
	if (store_prepare(s, &st, "SELECT at, actor, status, blocked_on, "
	    "reason, note FROM task_events WHERE task = ? ORDER BY id", e) < 0) {
		json_decref(t);
		return NULL;
	}
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	hist = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(hist, json_pack("{s:o, s:s, s:s, s:o, s:o, "
		    "s:o}", "at", time_json(sqlite3_column_int64(st, 0)), "actor",
		    sqlite3_column_text(st, 1), "status", sqlite3_column_text(st,
		    2), "on", text_col(st, 3), "reason", text_col(st, 4), "note",
		    text_col(st, 5)));
	sqlite3_finalize(st);
	json_object_set_new(t, "history", hist);
	return t;
}

json_t *
tasks_moves(struct store *s, const char *actor, int64_t since, struct err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *out;

	/* from: the status before this move (the row before it of its task) */
	if (store_prepare(s, &st, "SELECT ev.task, t.title, ev.at, (SELECT "
	    "p.status FROM task_events p WHERE p.task = ev.task AND p.id < ev.id "
	    "ORDER BY p.id DESC LIMIT 1), ev.status, ev.blocked_on, ev.reason "
	    "FROM task_events ev JOIN tasks t ON t.id = ev.task WHERE ev.actor "
	    "= ? AND ev.at >= ? ORDER BY ev.id LIMIT 10000", e) < 0)
		return NULL;
	sqlite3_bind_text(st, 1, actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since);
	out = json_array();
	while (sqlite3_step(st) == SQLITE_ROW)
		json_array_append_new(out, json_pack("{s:s, s:s, s:o, s:I, s:o, "
		    "s:s, s:o, s:o}", "task", sqlite3_column_text(st, 0), "title",
		    sqlite3_column_text(st, 1), "at", time_json(
		    sqlite3_column_int64(st, 2)), "at_ms", (json_int_t)
		    sqlite3_column_int64(st, 2), "from", text_col(st, 3), "to",
		    sqlite3_column_text(st, 4), "on", text_col(st, 5), "reason",
		    text_col(st, 6)));
	sqlite3_finalize(st);
	return out;
}

/* ---- direction files ---- */

struct parser {
	const char	*file;
	long		 line;
	struct err	*e;
};

static int
perr(struct parser *p, size_t col, const char *msg, const char *what)
{
	return err_setk(p->e, ERR_INVALID, "%s:%ld:%zu: %s%s%.60s%s", p->file,
	    p->line, col, msg, what ? " '" : "", what ? what : "", what ? "'" :
	    "");
}

static const char *
skip_ws(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	return s;
}

/*
 * A markdown heading: its level (the number of '#', 1 to 6), 0 for other lines;
 * for "# Direction v6.0 - title" (level 1 to 3) its label into label, *is_dir set.
 * -1 for a Direction heading whose label is empty, too long or not printable.
 */
static int
heading(const char *line, char *label, size_t labelsz, bool *is_dir)
{
	const char *p = line, *q;
	size_t n;
	int level;

	*is_dir = false;
	while (*p == '#')
		p++;
	level = (int)(p - line);
	if (level == 0 || level > 6 || (*p != ' ' && *p != '\t'))
		return 0;
	p = skip_ws(p);
	if (level > 3 || strncasecmp(p, "direction", 9) != 0 ||
	    (p[9] != ' ' && p[9] != '\t'))
		return level;
	p = skip_ws(p + 9);
	for (q = p; *q != '\0' && *q != ' ' && *q != '\t' && *q != ':'; q++)
		if ((unsigned char)*q < 0x20 || *q == 0x7f)
			return -1;
	n = (size_t)(q - p);
	if (n == 0 || n >= labelsz)
		return -1;
	memcpy(label, p, n);
	label[n] = '\0';
	*is_dir = true;
	return level;
}

/* 0 when text is UTF-8; else -1 naming the line and column of the first bad byte. */
static int
utf8_check(struct parser *p, const char *text, size_t len)
{
	const unsigned char *u = (const unsigned char *)text;
	size_t i = 0, col = 1, k;

	p->line = 1;
	while (i < len) {
		if (u[i] == '\n') {
			p->line++;
			col = 1;
			i++;
			continue;
		}
		k = u[i] < 0x80 ? 1 : utf8_seq(u + i, len - i);
		if (k == 0) {
			perr(p, col, "not UTF-8 text: save the file as UTF-8", NULL);
			p->line = 0;
			return -1;
		}
		i += k;
		col++;
	}
	p->line = 0;
	return 0;
}

/*
 * "- [ ] ID title [2h] @owner": into t (pointing into buf, which it edits); 0, or
 * -1 with the error at its column.
 */
static int
task_line(struct parser *p, char *buf, const char *line0, struct planned *t)
{
	char *s = buf, *id, *end, *est, *at;
	size_t n;

	s = (char *)skip_ws(s + 1);	/* past "-" or "*" */
	if (s[0] != '[' || (s[1] != ' ' && s[1] != 'x' && s[1] != 'X') ||
	    s[2] != ']')
		return perr(p, (size_t)(s - line0) + 1, "a task starts with "
		    "\"- [ ] \" (to do) or \"- [x] \" (done)", NULL);
	t->done = s[1] != ' ';
	s = (char *)skip_ws(s + 3);
	id = s;
	while (*s != '\0' && *s != ' ' && *s != '\t' && *s != ':')
		s++;
	if (*s != '\0')
		*s++ = '\0';
	if (!task_id_valid(id))
		return perr(p, (size_t)(id - line0) + 1, "a task id is letters, '-' "
		    "and digits, e.g. DEVOPS-014; got", id);
	t->id = id;
	s = (char *)skip_ws(s);
	/* trailing "@owner", then "[estimate]" */
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r'))
		*--end = '\0';
	if ((at = strrchr(s, '@')) != NULL && (at == s || at[-1] == ' ') &&
	    strchr(at, ' ') == NULL) {
		if (!name_valid(at + 1))
			return perr(p, (size_t)(at - line0) + 1, "an owner is an "
			    "actor's name (lowercase letters, digits, '-' and '_'); "
			    "got", at);
		t->owner = at + 1;
		*at = '\0';
		end = at;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
	}
	/* "[2h]": a duration with its unit ("[7231]" is part of the title) */
	if (end > s && end[-1] == ']' && (est = strrchr(s, '[')) != NULL &&
	    end - est > 2 && isalpha((unsigned char)end[-2])) {
		end[-1] = '\0';
		if (duration_parse(est + 1, &t->estimate_ms) < 0)
			return perr(p, (size_t)(est - line0) + 2, "an estimate is a "
			    "duration like 45m or 2h; got", est + 1);
		*est = '\0';
		end = est;
		while (end > s && (end[-1] == ' ' || end[-1] == '\t'))
			*--end = '\0';
	}
	if (*s == '-' && (s[1] == ' ' || s[1] == '\0'))
		s = (char *)skip_ws(s + 1);
	n = strlen(s);
	if (n == 0 || !text_ok(s, TASK_TITLE_MAX))
		return perr(p, (size_t)(s - line0) + 1, "give the task a title of "
		    "one line (at most 200 characters) after its id", NULL);
	t->title = s;
	return 0;
}

json_t *
tasks_parse(const char *text, size_t len, const char *file, struct err *e)
{
	struct parser p = { file, 0, e };
	json_t *out = json_array(), *seen = json_object();
	char label[33] = "", owner[64] = "", *buf = NULL;
	const char *line = text, *nl, *s, *endp = text + len;
	int r, dir_level = 0;
	bool is_dir;

	if (memchr(text, '\0', len) != NULL) {
		err_setk(e, ERR_INVALID, "%s: holds a NUL byte: a direction file "
		    "is markdown text", file);
		goto fail;
	}
	if (utf8_check(&p, text, len) < 0)
		goto fail;
	for (; line < endp; line = nl < endp ? nl + 1 : endp) {
		size_t n;
		struct planned t = { .estimate_ms = -1 };

		nl = memchr(line, '\n', (size_t)(endp - line));
		if (nl == NULL)
			nl = endp;
		n = (size_t)(nl - line);
		p.line++;
		free(buf);
		buf = xmalloc(n + 1);
		memcpy(buf, line, n);
		buf[n] = '\0';
		if (n > 0 && buf[n - 1] == '\r')
			buf[--n] = '\0';
		s = skip_ws(buf);
		if ((r = heading(s, label, sizeof(label), &is_dir)) < 0) {
			perr(&p, 1, "a direction's label is 1 to 32 printable "
			    "characters, e.g. \"# Direction v6.0\"", NULL);
			goto fail;
		}
		if (is_dir) {
			dir_level = r;
			owner[0] = '\0';
			continue;
		}
		/* a heading as high as the direction's ends it; a lower one is
		 * a part of it */
		if (r > 0 && dir_level > 0 && r <= dir_level) {
			label[0] = '\0';
			owner[0] = '\0';
			dir_level = 0;
		}
		if (r > 0)
			continue;
		if (strncasecmp(s, "owner:", 6) == 0) {
			const char *o = skip_ws(s + 6);

			if (!name_valid(o) || strlen(o) >= sizeof(owner)) {
				perr(&p, (size_t)(o - buf) + 1, "an owner is an "
				    "actor's name (lowercase letters, digits, '-' and "
				    "'_'); got", o);
				goto fail;
			}
			snprintf(owner, sizeof(owner), "%s", o);
			continue;
		}
		if (!((*s == '-' || *s == '*') && s[1] == ' ' && s[2] == '['))
			continue;	/* prose */
		if (label[0] == '\0') {
			perr(&p, 1, "a task before any \"# Direction LABEL\" "
			    "heading: add one above it", NULL);
			goto fail;
		}
		if (task_line(&p, buf + (s - buf), buf, &t) < 0) {
			/* columns count from the line's start */
			goto fail;
		}
		if (t.owner == NULL && owner[0] == '\0') {
			perr(&p, 1, "no owner for", t.id);
			snprintf(e->msg + strlen(e->msg), sizeof(e->msg) -
			    strlen(e->msg), ": add \"Owner: NAME\" under the "
			    "heading, or end the line with @NAME");
			goto fail;
		}
		if (json_object_get(seen, t.id) != NULL) {
			perr(&p, (size_t)(strstr(buf, t.id) - buf) + 1, "a second "
			    "task with id", t.id);
			snprintf(e->msg + strlen(e->msg), sizeof(e->msg) -
			    strlen(e->msg), " (the first is at line %lld)",
			    json_integer_value(json_object_get(seen, t.id)));
			goto fail;
		}
		if (json_array_size(out) >= IMPORT_MAX) {
			perr(&p, 1, "more than 500 tasks in one file: split it",
			    NULL);
			goto fail;
		}
		json_object_set_new(seen, t.id, json_integer(p.line));
		json_array_append_new(out, json_pack("{s:s, s:s, s:s, s:s, s:o, "
		    "s:b, s:I}", "id", t.id, "title", t.title, "owner", t.owner ?
		    t.owner : owner, "direction", label, "estimate_ms",
		    t.estimate_ms >= 0 ? json_integer(t.estimate_ms) : json_null(),
		    "done", t.done, "line", (json_int_t)p.line));
	}
	free(buf);
	json_decref(seen);
	if (json_array_size(out) == 0) {
		json_decref(out);
		err_setk(e, ERR_INVALID, "%s: no tasks: write a \"# Direction "
		    "LABEL\" heading, an \"Owner: NAME\" line and \"- [ ] ID "
		    "title [estimate]\" items (docs/opsdeck.1, TASK FILES)", file);
		return NULL;
	}
	return out;
fail:
	free(buf);
	json_decref(seen);
	json_decref(out);
	return NULL;
}

struct import_arg {
	struct store		*s;
	const struct actor	*a;
	const json_t		*plan;
	int64_t			 now;
	int			 added, updated, unchanged;
};

static int
import_one(struct import_arg *p, const json_t *pt, struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct planned t = {
		json_str(pt, "id"), json_str(pt, "title"), json_str(pt, "owner"),
		json_str(pt, "direction"), json_is_integer(json_object_get(pt,
		"estimate_ms")) ? json_int(pt, "estimate_ms", -1) : -1,
		json_bool(pt, "done"),
	};
	int r;

	/* a task there is moved only by its owner (or an operator): the file's
	 * owner may not take it over */
	if (store_prepare(p->s, &st, "SELECT owner FROM tasks WHERE id = ?", e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, t.id, -1, SQLITE_STATIC);
	r = sqlite3_step(st) == SQLITE_ROW ? may_touch(p->a, (const char *)
	    sqlite3_column_text(st, 0), t.id, e) : 0;
	sqlite3_finalize(st);
	if (r < 0)
		return -1;
	if (store_prepare(p->s, &st, "UPDATE tasks SET title = ?2, owner = ?3, "
	    "direction = ?4, estimate_ms = ?5, updated_at = ?6 WHERE id = ?1 AND "
	    "(title IS NOT ?2 OR owner IS NOT ?3 OR direction IS NOT ?4 OR "
	    "estimate_ms IS NOT ?5)", e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, t.id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, t.title, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, t.owner, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, t.direction, -1, SQLITE_STATIC);
	if (t.estimate_ms >= 0)
		sqlite3_bind_int64(st, 5, t.estimate_ms);
	sqlite3_bind_int64(st, 6, p->now);
	r = sqlite3_step(st) == SQLITE_DONE ? 0 : err_set(e, "store: %s",
	    sqlite3_errmsg(p->s->db));
	sqlite3_finalize(st);
	if (r < 0)
		return -1;
	if (sqlite3_changes(p->s->db) > 0) {
		p->updated++;
		return 0;
	}
	if (store_prepare(p->s, &st, "SELECT 1 FROM tasks WHERE id = ?", e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, t.id, -1, SQLITE_STATIC);
	r = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_finalize(st);
	if (r) {
		p->unchanged++;
		return 0;
	}
	p->added++;
	return insert_task(p->s, p->a, &t, p->now, e);
}

static int
do_import(void *arg, struct err *e)
{
	struct import_arg *p = arg;
	const json_t *pt;
	size_t i;

	json_array_foreach(p->plan, i, pt)
		if (may_touch(p->a, json_str(pt, "owner"), json_str(pt, "id"),
		    e) < 0)
			return -1;
	if (store_begin(p->s, e) < 0)
		return -1;
	json_array_foreach(p->plan, i, pt)
		if (import_one(p, pt, e) < 0) {
			store_rollback(p->s);
			return -1;
		}
	return commit(p->s, e);
}

json_t *
tasks_import(struct store *s, const struct actor *a, const json_t *body,
    int64_t now, struct err *e)
{
	const char *file, *text;
	struct import_arg p = { s, a, NULL, now, 0, 0, 0 };
	struct gate_call call = { .action = "task.import" };
	json_t *plan, *args, *ids, *pt;
	char digest[65];
	size_t i;
	int r;

	if (opt_str(body, "file", &file, e) < 0 || opt_str(body, "text", &text,
	    e) < 0)
		return NULL;
	if (text == NULL)
		return err_setk(e, ERR_INVALID, "text: give the direction file's "
		    "text"), NULL;
	if (file == NULL)
		file = "directions.md";
	if ((plan = tasks_parse(text, json_string_length(json_object_get(body,
	    "text")), file, e)) == NULL)
		return NULL;
	sha256_hex(text, strlen(text), digest);
	p.plan = plan;
	call.target = file;
	args = json_pack("{s:I, s:s}", "tasks", (json_int_t)json_array_size(plan),
	    "sha256", digest);
	call.args = args;
	r = gate_run(s, a, &call, do_import, &p, e);
	json_decref(args);
	if (r < 0) {
		json_decref(plan);
		return NULL;
	}
	ids = json_array();
	json_array_foreach(plan, i, pt)
		json_array_append_new(ids, json_string(json_str(pt, "id")));
	json_decref(plan);
	return json_pack("{s:s, s:i, s:i, s:i, s:o}", "file", file, "added",
	    p.added, "updated", p.updated, "unchanged", p.unchanged, "tasks",
	    ids);
}
