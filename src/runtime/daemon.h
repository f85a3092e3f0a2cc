/*
 * `opsdeck up`: the daemon. Loads and validates the config, takes the state dir's lock,
 * opens the store, serves the control API and runs the supervisor on one libuv loop.
 * Foreground only (systemd-friendly): SIGTERM/SIGINT stop the fleet and exit 0,
 * SIGHUP reloads the config.
 */
#ifndef OPSDECK_DAEMON_H
#define OPSDECK_DAEMON_H

#include <jansson.h>

#include "core/err.h"
#include "ledger/gate.h"

struct daemon;

struct daemon_options {
	const char	*config_path;
	const char	*state_dir;	/* resolved, absolute */
};

/*
 * Runs until stopped; returns the process exit code (0, 1, or 2 for config errors).
 * It lives in the opsdeck-daemon module with everything only the daemon needs (libuv,
 * libmicrohttpd, libcurl), so the CLI does not pay for loading them: see core/module.h.
 */
int	daemon_run(const struct daemon_options *);
typedef int (*daemon_run_fn)(const struct daemon_options *);

/* For the API's handlers (loop thread only). NULL with e set on unknown app/machine. */
json_t	*daemon_info_json(struct daemon *);
json_t	*daemon_status_json(struct daemon *, const char *app, struct err *);
json_t	*daemon_machines_json(struct daemon *, const char *app, struct err *);
json_t	*daemon_machine_json(struct daemon *, const char *id);
/* Releases (daemon_deploy.c): each mutating one goes through the action gate. */
json_t	*daemon_deploy(struct daemon *, const struct actor *, const char *app,
	    const json_t *body, struct err *);
json_t	*daemon_rollback(struct daemon *, const struct actor *, const char *app,
	    const json_t *body, struct err *);
json_t	*daemon_releases(struct daemon *, const char *app, struct err *);
json_t	*daemon_release(struct daemon *, const char *app, const char *version,
	    struct err *);
json_t	*daemon_secrets_list(struct daemon *, const char *app, struct err *);
json_t	*daemon_secrets_change(struct daemon *, const struct actor *,
	    const char *app, const json_t *body, struct err *);
json_t	*daemon_secrets_deploy(struct daemon *, const struct actor *,
	    const char *app, struct err *);
/*
 * migrate apply (daemon_migrate.c): body {path, db, override, config}, with absolute
 * paths; through the gate, then on the thread pool. Answers {id, state}.
 */
json_t	*daemon_migrate_apply(struct daemon *, const struct actor *,
	    const json_t *body, struct err *);
/* A job's state, its progress text from byte offset from (NULL: 0) and, once done,
 * result (apply_run's 0, 1 or -1), error {message, kind} and report. */
json_t	*daemon_migrate_job(struct daemon *, const char *id, const char *from,
	    struct err *);
/*
 * gc (daemon_gc.c): body {dry_run}; through the gate, planned on the loop, swept on
 * the thread pool after any run before it. Answers {id, state}.
 */
json_t	*daemon_gc(struct daemon *, const struct actor *, const json_t *body,
	    struct err *);
/* A run's state and, once done, its report (gc_run_json) and error {message, kind}. */
json_t	*daemon_gc_job(struct daemon *, const char *id, struct err *);
/* start|stop|restart a machine as actor, through the action gate. */
int	 daemon_machine_action(struct daemon *, const struct actor *,
	    const char *id, const char *action, struct err *);


#endif
