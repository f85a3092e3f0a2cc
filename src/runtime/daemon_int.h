/* The daemon's state, shared by daemon.c and daemon_deploy.c only. */
#ifndef OPSDECK_DAEMON_INT_H
#define OPSDECK_DAEMON_INT_H

#include <jansson.h>
#include <uv.h>

#include "config/config.h"
#include "deploy/deploy.h"
#include "deploy/secrets.h"
#include "runtime/ops.h"
#include "runtime/supervisor.h"
#include "store/store.h"

/* A release's config, parsed from its snapshot once and kept while the daemon runs. */
struct release_config {
	int64_t		 id;
	struct config	*cfg;
	char		*dir;		/* its artifact's tree */
	struct release_config *next;
};

struct daemon {
	uv_loop_t	 loop;
	struct store	 store;
	struct supervisor sv;
	/*
	 * The current config and older ones machines still run on (a changed app keeps
	 * its deployed config until a deploy); configs[nconfigs - 1] is the current one.
	 */
	struct config	**configs;
	int		 nconfigs;
	const char	*config_path;
	const char	*state_dir;
	/* GET /v1/apps, rendered, and the digest of what it was rendered from */
	char		*apps_text;
	uint64_t	 apps_key;
	/* the front end serving d->ops (the control API) */
	const struct daemon_frontend *frontend;
	void		*front;
	struct daemon_ops ops;
	uv_signal_t	 sig[3];
	/* SIGHUP during a deploy: the reload runs once the last deploy has ended. */
	bool		 reload_pending;
	uv_timer_t	 reload_timer;
	int		 lock_fd;
	int64_t		 started_at;
	int		 stopping;
	bool		 machines_gone;	/* stopping, every machine stopped */
	bool		 signals_closed;
	struct secrets_key key;
	struct router	*router;	/* HAProxy in front of the public groups */
	struct metrics	*metrics;	/* request metrics from the router's log */
	struct deploy_env denv;
	struct deploy	**deploys;	/* running, one per app at most */
	size_t		 ndeploys;
	struct release_config *release_configs;
	/* migrate apply jobs (daemon_migrate.c), newest first; one runs at a time */
	struct migrate_job *migrate_jobs, *migrate_running;
	unsigned	 migrate_last_id;
	/* gc runs (daemon_gc.c), newest first; one runs at a time, the rest wait */
	struct gc_job	*gc_jobs, *gc_running;
	/* migrate dryrun and status for MCP: on the thread pool, newest first */
	struct migrate_read *migrate_reads;
	unsigned	 migrate_read_seq;
	int		 migrate_reads_running;
	unsigned	 gc_last_id;
	/*
	 * Bearer tokens seen, by SHA-256, and whose they are (daemon_access.c): a
	 * request then costs no store lookup. Emptied whenever an actor is added or
	 * revoked, which only this daemon does.
	 */
	struct {
		char		 hash[65];
		struct actor	 actor;
	}		 tokens[32];
	int		 ntokens;
	uv_timer_t	 gc_timer;
	struct watch	*watch;		/* checks, incidents, heartbeats */
};

/*
 * The operations of struct daemon_ops (daemon_ops_fill puts them in the table), loop
 * thread only. NULL with e set on unknown app/machine.
 */
json_t	*daemon_info_json(struct daemon *);
json_t	*daemon_status_json(struct daemon *, const char *app, struct err *);
/* GET /v1/apps as JSON text, kept until a machine, the store or the config changes. */
char	*daemon_apps_text(struct daemon *);
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
/* The watch, with the router's request metrics for its route checks. */
struct watch *daemon_watch_new(struct daemon *, const struct config *);
json_t	*daemon_metrics_json(struct daemon *, const char *app,
	    int64_t window_ms, struct err *);
char	*daemon_metrics_text(struct daemon *);
int	 daemon_machine_action(struct daemon *, const struct actor *,
	    const char *id, const char *action, struct err *);

/*
 * Each live agent actor's own heartbeat "agent-NAME" (config agents:), unless a
 * heartbeat of the config names it as actor: into cfg's heartbeats, replacing the
 * ones made before (daemon_watch.c). agents_changed does it for the running config
 * and hands it to the watch again (an actor was added or revoked).
 */
void	daemon_agent_heartbeats(struct daemon *, struct config *);
void	daemon_agents_changed(struct daemon *);
/* Fills the watch entries of the ops table (daemon_watch.c). */
void	daemon_watch_ops(struct daemon_ops *);
/*
 * promote: body {from, to, message}: the artifact of APP's live release on stage
 * from (APP, or APP-FROM), once its machines pass their health checks, deployed to
 * APP's app on stage to, through the gate as deploy.promote.
 */
json_t	*daemon_promote(struct daemon *, const struct actor *, const char *app,
	    const json_t *body, struct err *);
/* Fills ops' actor and approval calls (daemon_access.c). */
void	daemon_access_ops(struct daemon_ops *);
/* Copies cfg's approvals: rules into the store, where the gate reads them. */
struct config;
int	daemon_access_apply(struct daemon *, const struct config *, struct err *);
/* Fills ops' evidence calls (daemon_evidence.c). */
void	daemon_evidence_ops(struct daemon_ops *);
/*
 * migrate lint (kind "lint": body {path}, with the config's migrate: options),
 * dryrun ("dryrun": {path, db}, one file) and status ("status": {path, db}) on the
 * thread pool, one at a time, for MCP: {id, kind, state}; the
 * read's state and, once done, result (0 ok, 1 findings or stopped, -1 failed),
 * report and error (daemon_migrate_read.c).
 */
json_t	*daemon_migrate_read(struct daemon *, const char *kind,
	    const json_t *body, struct err *);
json_t	*daemon_migrate_read_job(struct daemon *, int64_t id, struct err *);
void	 daemon_migrate_read_release(struct daemon *);
/* Fills ops' work-ledger and report calls (daemon_tasks.c). */
void	daemon_tasks_ops(struct daemon_ops *);

/* Wires releases, secrets and deploys into the supervisor (before its first apply). */
int	daemon_deploy_init(struct daemon *, struct err *);
void	daemon_deploy_release(struct daemon *);
/* Stops every running deploy where it is (daemon shutdown). */
void	daemon_deploy_stop(struct daemon *);
/* Called when the last deploy has ended: runs a reload that was put off. */
void	daemon_deploys_idle(struct daemon *);

/*
 * Once stopping has stopped every machine and no migrate apply or gc run is left on
 * the thread pool: closes the last handles, so the loop ends. Called again by them.
 */
void	daemon_exit_when_idle(struct daemon *);

/* Frees the migrate apply jobs (at exit, once the loop has ended). */
void	daemon_migrate_release(struct daemon *);

/* The gc timer: set up with the loop's other handles, started once the fleet runs. */
void	daemon_gc_init(struct daemon *);
void	daemon_gc_start(struct daemon *);
/* Frees the gc runs (at exit, once the loop has ended). */
void	daemon_gc_release(struct daemon *);
/* True while a gc run removes the artifact digest: a deploy of it must wait. */
bool	daemon_gc_removing(struct daemon *, const char *digest);
/* For status: {last_gc, running, next_gc}. */
json_t	*daemon_gc_status_json(struct daemon *);

#endif
