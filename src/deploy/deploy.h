/*
 * A deploy: the persisted state machine that makes a release live. Steps, each
 * recorded before it runs: prepare → release_command → start → health → cutover →
 * watch → stop_old. A failure before cutover stops the new machines and leaves the
 * previous release serving; a failure inside the watch window flips back to it.
 * Runs on the daemon's loop; never blocks it.
 */
#ifndef OPSDECK_DEPLOY_H
#define OPSDECK_DEPLOY_H

#include <uv.h>

#include "config/config.h"
#include "deploy/release.h"
#include "runtime/supervisor.h"

struct deploy;
struct router;
struct metrics;

/*
 * What a deploy asks of the runtime, filled in by the daemon: the only way deploy/
 * reaches the supervisor (it reads the machine records it is given, and calls
 * nothing of runtime/ by name). ctx is the first argument of the calls that take it.
 */
struct deploy_runtime {
	void		*ctx;
	/* the machines the supervisor runs, as a list through machine.next */
	struct machine	*(*machines)(void *ctx);
	struct machine	*(*find)(void *ctx, const char *id);
	/* a machine for release rel of app, group p, index idx, on a new port */
	struct machine	*(*add)(void *ctx, const char *app,
			    const struct cfg_process *p, int idx,
			    const struct machine_release *rel, struct err *);
	void		 (*spawn)(struct machine *);
	/* stop (SIGTERM, then SIGKILL) and forget, now or after delay_ms */
	void		 (*retire)(struct machine *);
	void		 (*retire_in)(struct machine *, uint64_t delay_ms);
	/* make it part of its app's fleet; take a retirement back */
	void		 (*adopt)(struct machine *);
	void		 (*revive)(struct machine *);
	/* the secrets a machine of app's release gets, for redacting its logs */
	int		 (*secrets_env)(void *ctx, const char *app, int version,
			    struct cfg_env **env, size_t *n, struct err *);
	void		 (*secrets_env_free)(struct cfg_env *, size_t);
};

struct deploy_env {
	uv_loop_t	*loop;
	struct store	*store;
	struct deploy_runtime rt;
	const char	*state_dir;
	/* The router (NULL: none) and the request metrics its log feeds (or NULL). */
	struct router	*router;
	struct metrics	*metrics;
	int64_t		 drain_ms;	/* router.drain_timeout */
	/* The parsed config of a release (the daemon keeps it alive). */
	const struct cfg_app *(*release_app)(void *arg, const struct release *);
	/* Called once the deploy has ended (live after its watch, failed, rolled back). */
	void		(*finished)(struct deploy *, void *arg);
	void		*arg;
};

/*
 * Starts deploying rel (pending, its lock held) over prev (the live release, or NULL
 * when the app runs from its config). Takes rel and prev; returns NULL with e set
 * when it cannot even begin (the release is then marked failed and unlocked).
 * canary (1..99, 0: none) is the share of the routed traffic the new release gets
 * for a watch window before the full cutover.
 */
struct deploy *deploy_start(struct deploy_env *, struct release *rel,
	    struct release *prev, int canary, struct err *);
const char *deploy_app(const struct deploy *);
/* The release's row id, for its receipt once the deploy has ended. */
int64_t	 deploy_release_id(const struct deploy *);
/*
 * Stops a deploy where it is, for a daemon shutdown: no more steps, its release
 * command killed, its lock left for deploy_recover at the next start.
 */
void	deploy_abort(struct deploy *);
void	deploy_free(struct deploy *);
/*
 * After a daemon restart: ends the deploys the last daemon left (their locks) so that
 * each app has exactly one live release; the timeline says what happened.
 */
void	deploy_recover(struct store *);

#endif
