/*
 * The daemon's work-ledger and report calls: ledger/tasks.h and ledger/report.h on
 * the daemon's store, on the wall clock as evidence is (the test clock does not
 * shift them: a report puts task moves and evidence side by side).
 */
#include "core/util.h"
#include "ledger/report.h"
#include "ledger/tasks.h"
#include "monitor/watch.h"
#include "runtime/daemon_int.h"

static int64_t
now_of(struct daemon *d)
{
	(void)d;
	return wall_ms();
}

static json_t *
tasks_json(struct daemon *d, const char *owner, const char *direction,
    const char *status, struct err *e)
{
	return tasks_list(&d->store, owner, direction, status, now_of(d), e);
}

static json_t *
task_json(struct daemon *d, const char *id, struct err *e)
{
	return tasks_show(&d->store, id, now_of(d), e);
}

static json_t *
task_add(struct daemon *d, const struct actor *a, const json_t *body,
    struct err *e)
{
	return tasks_add(&d->store, a, body, now_of(d), e);
}

static json_t *
task_move(struct daemon *d, const struct actor *a, const char *id,
    const char *move, const json_t *body, struct err *e)
{
	return tasks_move(&d->store, a, id, move, body, now_of(d), e);
}

static json_t *
task_import(struct daemon *d, const struct actor *a, const json_t *body,
    struct err *e)
{
	return tasks_import(&d->store, a, body, now_of(d), e);
}

static json_t *
report_json(struct daemon *d, const char *actor, int64_t since_ms,
    struct err *e)
{
	json_t *inc = d->watch != NULL ? watch_incidents_json(d->watch, true) :
	    NULL, *out;

	out = report_build(&d->store, actor, since_ms, now_of(d), inc, e);
	json_decref(inc);
	return out;
}

void
daemon_tasks_ops(struct daemon_ops *ops)
{
	ops->tasks_json = tasks_json;
	ops->task_json = task_json;
	ops->task_add = task_add;
	ops->task_move = task_move;
	ops->task_import = task_import;
	ops->report_json = report_json;
}
