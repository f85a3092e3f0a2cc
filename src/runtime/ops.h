/*
 * The daemon's operations, as its front ends (the control API; MCP later) call them:
 * a table the daemon fills and hands to the front end it starts, so that api/ calls
 * down into the daemon through it and the daemon never names api/. All run on the
 * loop thread. NULL (or -1) with e set on an unknown app, machine or job.
 */
#ifndef OPSDECK_OPS_H
#define OPSDECK_OPS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "config/config.h"
#include "core/err.h"
#include "ledger/gate.h"

struct daemon;

struct daemon_ops {
	struct daemon	*d;	/* the first argument of every call */
	json_t	*(*info_json)(struct daemon *);
	json_t	*(*status_json)(struct daemon *, const char *app, struct err *);
	/* {"apps": [...]} of status, as JSON text (kept until the fleet changes) */
	char	*(*apps_text)(struct daemon *);
	json_t	*(*machines_json)(struct daemon *, const char *app,
		    struct err *);
	json_t	*(*machine_json)(struct daemon *, const char *id);
	/* the last lines of app's (or one machine's) logs: {app, machines, text} */
	json_t	*(*logs_json)(struct daemon *, const char *app,
		    const char *machine, long lines, struct err *);
	/* start|stop|restart a machine as actor, through the action gate */
	int	 (*machine_action)(struct daemon *, const struct actor *,
		    const char *id, const char *action, struct err *);
	/* releases: each mutating one goes through the action gate */
	json_t	*(*deploy)(struct daemon *, const struct actor *, const char *app,
		    const json_t *body, struct err *);
	json_t	*(*rollback)(struct daemon *, const struct actor *,
		    const char *app, const json_t *body, struct err *);
	/* body {from, to, message}: see daemon_promote */
	json_t	*(*promote)(struct daemon *, const struct actor *,
		    const char *app, const json_t *body, struct err *);
	json_t	*(*releases)(struct daemon *, const char *app, struct err *);
	json_t	*(*release)(struct daemon *, const char *app,
		    const char *version, struct err *);
	json_t	*(*secrets_list)(struct daemon *, const char *app, struct err *);
	json_t	*(*secrets_change)(struct daemon *, const struct actor *,
		    const char *app, const json_t *body, struct err *);
	json_t	*(*secrets_deploy)(struct daemon *, const struct actor *,
		    const char *app, struct err *);
	/*
	 * migrate apply: body {path, db, override, config}, absolute paths; through
	 * the gate, then on the thread pool. Answers {id, state}. A job's state, its
	 * progress text from byte offset from (NULL: 0) and, once done, result
	 * (apply_run's 0, 1 or -1), error {message, kind} and report.
	 */
	json_t	*(*migrate_apply)(struct daemon *, const struct actor *,
		    const json_t *body, struct err *);
	json_t	*(*migrate_job)(struct daemon *, const char *id,
		    const char *from, struct err *);
	/*
	 * migrate lint (kind "lint", body {path}), dryrun ("dryrun", {path, db})
	 * or status ("status") on the thread pool, one at a time: {id, kind,
	 * state}; then the read by id, with its result, report and error once done
	 */
	json_t	*(*migrate_read)(struct daemon *, const char *kind,
		    const json_t *body, struct err *);
	json_t	*(*migrate_read_job)(struct daemon *, int64_t id, struct err *);
	/*
	 * gc: body {dry_run}; through the gate, planned on the loop, swept on the
	 * thread pool after any run before it. Answers {id, state}; a run's state
	 * and, once done, its report and error {message, kind}.
	 */
	json_t	*(*gc)(struct daemon *, const struct actor *, const json_t *body,
		    struct err *);
	json_t	*(*gc_job)(struct daemon *, const char *id, struct err *);
	/* request metrics per app, release and route over window_ms; app NULL: all */
	json_t	*(*metrics_json)(struct daemon *, const char *app,
		    int64_t window_ms, struct err *);
	/* everything as Prometheus text (the caller frees) */
	char	*(*metrics_text)(struct daemon *);
	/* watch (monitor/watch.h): checks, incidents, heartbeats, maintenance */
	json_t	*(*checks_json)(struct daemon *);
	json_t	*(*incidents_json)(struct daemon *, bool all);
	int	 (*incident_ack)(struct daemon *, const struct actor *, int64_t id,
		    struct err *);
	json_t	*(*heartbeats_json)(struct daemon *);
	json_t	*(*heartbeat_ping)(struct daemon *, const struct actor *,
		    const char *name, const json_t *body, struct err *);
	json_t	*(*maintenance_json)(struct daemon *);
	json_t	*(*maintenance_add)(struct daemon *, const struct actor *,
		    const json_t *body, struct err *);
	int	 (*maintenance_end)(struct daemon *, const struct actor *,
		    int64_t id, struct err *);
	json_t	*(*notifications_json)(struct daemon *);
	json_t	*(*clock_advance)(struct daemon *, int64_t ms, struct err *);
	/*
	 * evidence (ledger/evidence.h): entries of actor (NULL: all) since since_ms,
	 * the newest limit; an export {jsonl, count}; the public key {pubkey, key}
	 */
	json_t	*(*evidence_json)(struct daemon *, const char *actor,
		    int64_t since_ms, int limit, struct err *);
	json_t	*(*evidence_export)(struct daemon *, int64_t since_ms,
		    struct err *);
	json_t	*(*evidence_key)(struct daemon *, struct err *);
	/*
	 * The live feed: what happened since cursor (NULL: start now, no backlog):
	 * {cursor, events: [{type: machine|deploy|incident|action, data}]}; the
	 * next call passes the cursor it got.
	 */
	json_t	*(*events_since)(struct daemon *, const json_t *cursor,
		    struct err *);
	/* actors (ledger/actors.h): who a bearer token is; list, add, revoke */
	int	 (*actor_auth)(struct daemon *, const char *token, struct actor *,
		    struct err *);
	/* actor_auth by the token's SHA-256 (lowercase hex): dashboard sessions */
	int	 (*actor_auth_hash)(struct daemon *, const char *hash,
		    struct actor *, struct err *);
	/* the live actor called name (api.local_users maps OS users to it) */
	int	 (*actor_named)(struct daemon *, const char *name, struct actor *,
		    struct err *);
	json_t	*(*actors_json)(struct daemon *, struct err *);
	json_t	*(*actor_add)(struct daemon *, const struct actor *,
		    const json_t *body, struct err *);
	int	 (*actor_revoke)(struct daemon *, const struct actor *,
		    const char *name, struct err *);
	/*
	 * approvals (ledger/approvals.h): pending ones (all: every one), one, and a
	 * grant or denial; a grant runs the request as its requester and answers
	 * {approval, result, error}
	 */
	json_t	*(*approvals_json)(struct daemon *, bool all, struct err *);
	/*
	 * An MCP tool call as evidence: fn(arg) run as actor through the gate, as
	 * action mcp.call on tool with args (what fn does that changes anything is
	 * recorded again by its own action); fn's answer, or NULL with e.
	 */
	json_t	*(*recorded_call)(struct daemon *, const struct actor *,
		    const char *tool, const json_t *args,
		    json_t *(*fn)(void *arg, struct err *), void *arg, struct err *);
	/*
	 * the work ledger (ledger/tasks.h): tasks matching owner, direction and
	 * status (each NULL: any) with progress; one with its history; add; a move
	 * (start|block|done); a direction file's import {file, text}
	 */
	json_t	*(*tasks_json)(struct daemon *, const char *owner,
		    const char *direction, const char *status, struct err *);
	json_t	*(*task_json)(struct daemon *, const char *id, struct err *);
	json_t	*(*task_add)(struct daemon *, const struct actor *,
		    const json_t *body, struct err *);
	json_t	*(*task_move)(struct daemon *, const struct actor *,
		    const char *id, const char *move, const json_t *body,
		    struct err *);
	json_t	*(*task_import)(struct daemon *, const struct actor *,
		    const json_t *body, struct err *);
	/* actor's report since since_ms (ledger/report.h) */
	json_t	*(*report_json)(struct daemon *, const char *actor,
		    int64_t since_ms, struct err *);
	json_t	*(*approval_json)(struct daemon *, int64_t id, struct err *);
	json_t	*(*approval_decide)(struct daemon *, const struct actor *,
		    int64_t id, bool grant, const json_t *body, struct err *);
};

/*
 * A front end the daemon starts once its store and supervisor are up, and stops
 * first when it stops: start binds socket_path (and api's listen) and serves ops
 * on loop.
 */
struct daemon_frontend {
	void	*(*start)(uv_loop_t *, const char *socket_path,
		    const struct cfg_api *api, const struct daemon_ops *,
		    struct err *);
	void	 (*stop)(void *);
};

#endif
