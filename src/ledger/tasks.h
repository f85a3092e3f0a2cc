/*
 * The work ledger: tasks (an id like DEVOPS-014, a title, an owner actor, a
 * direction label like v7.0, an estimate) moving todo → doing → blocked → done, each
 * move a row of the task's history with who made it and when. The actual time of a
 * task is the time it spent doing, from that history; nothing is self-reported.
 *
 * A direction file (markdown, docs/opsdeck.1 TASK FILES) plans tasks: headings
 * "# Direction v6.0 - title", an "Owner: NAME" line, then "- [ ] ID title [2h]"
 * items ("[x]": already done). tasks_parse reads one without a store; tasks_import
 * adds what is new and updates titles, owners and estimates of what is there,
 * leaving every status as the ledger has it.
 *
 * Every change goes through the action gate (task.add, task.start, task.block,
 * task.done, task.import). An agent moves only the tasks it owns; an operator or
 * above moves any. Times are the caller's clock (the daemon's, in milliseconds).
 */
#ifndef OPSDECK_TASKS_H
#define OPSDECK_TASKS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "ledger/gate.h"
#include "store/store.h"

#define TASK_ID_MAX	32
#define TASK_TITLE_MAX	200

/* Whether s is a task id: letters, then '-', then digits ("DEVOPS-014"). */
int	 task_id_valid(const char *s);

/*
 * body {id, title, owner (default: actor), direction, estimate ("2h", or ms as an
 * integer estimate_ms)}. Answers the task.
 */
json_t	*tasks_add(struct store *, const struct actor *, const json_t *body,
	    int64_t now_ms, struct err *);
/*
 * move is start, block or done; body {on, reason} for block (on: a task id or an
 * actor), {note} otherwise (may be NULL). Answers the task.
 */
json_t	*tasks_move(struct store *, const struct actor *, const char *id,
	    const char *move, const json_t *body, int64_t now_ms, struct err *);
/*
 * {tasks: [...], progress: {owners: [...], directions: [...]}} of the tasks that
 * match owner, direction and status (each NULL: any). Progress rows: {owner or
 * direction, total, todo, doing, blocked, done, percent, estimate_ms, actual_ms,
 * blocked_on: [{task, on, reason}]}.
 */
json_t	*tasks_list(struct store *, const char *owner, const char *direction,
	    const char *status, int64_t now_ms, struct err *);
/* One task with its history [{at, actor, status, on, reason, note}]. */
json_t	*tasks_show(struct store *, const char *id, int64_t now_ms,
	    struct err *);
/*
 * The moves of tasks made by actor at or after since_ms, oldest first:
 * [{task, title, at, from, to, on, reason}], for reports.
 */
json_t	*tasks_moves(struct store *, const char *actor, int64_t since_ms,
	    struct err *);

/*
 * Parses a direction file: the planned tasks [{id, title, owner, direction,
 * estimate_ms, done, line}]; NULL with "file:line:col: problem" in e.
 */
json_t	*tasks_parse(const char *text, size_t len, const char *file,
	    struct err *);
/*
 * body {file, text}: parses and imports in one transaction. Answers {file,
 * added, updated, unchanged, tasks: [ids]}.
 */
json_t	*tasks_import(struct store *, const struct actor *, const json_t *body,
	    int64_t now_ms, struct err *);

#endif
