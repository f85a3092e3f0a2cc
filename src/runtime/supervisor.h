/*
 * The supervisor: one machine per (app, process group, index), each its own process
 * group, restarted with backoff, failed on a crash loop. Every transition is written to
 * the store before it is acted on, so a daemon killed at any point can reconcile: on
 * start it finds the machines it left (by recorded pid/pgid and by the OPSDECK_MACHINE_ID
 * in their environment) and stops them before starting fresh ones.
 */
#ifndef OPSDECK_SUPERVISOR_H
#define OPSDECK_SUPERVISOR_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "config/config.h"
#include "monitor/probe.h"
#include "core/err.h"
#include "runtime/logsink.h"
#include "runtime/policy.h"
#include "store/store.h"

enum machine_state {
	MACHINE_CREATED,
	MACHINE_STARTING,
	MACHINE_STARTED,
	MACHINE_STOPPING,
	MACHINE_STOPPED,
	MACHINE_FAILED,
	MACHINE_RESTARTING,
};

const char *machine_state_str(enum machine_state);

/*
 * What the router does with a machine's port. Deploys set it on the machines they
 * move; the others are MACHINE_ROUTE_AUTO: served while they run, unless a deploy
 * still gates them (staged) or retired them (off).
 */
enum machine_route {
	MACHINE_ROUTE_AUTO,
	MACHINE_ROUTE_OFF,	/* no server */
	MACHINE_ROUTE_STAGED,	/* a server in maintenance: no traffic yet */
	MACHINE_ROUTE_LIVE,	/* ready, with route_weight */
	MACHINE_ROUTE_WARM,	/* draining, and a backup if the live ones fail */
	MACHINE_ROUTE_DRAIN,	/* leaving: in-flight requests finish */
};

const char *machine_route_str(enum machine_route);

struct run;
struct supervisor;
struct machine;

/* What a deploy watching a machine hears about it. */
enum machine_event {
	MACHINE_EV_EXITED,		/* the process ended */
	MACHINE_EV_HEALTH_PASS,		/* one health check passed */
	MACHINE_EV_HEALTH_FAIL,		/* one failed (grace is the hook's business) */
};

/*
 * A hook a deploy sets on the machines it starts or watches. For MACHINE_EV_EXITED it
 * returns true when it takes over (no restart); otherwise the restart policy applies.
 */
typedef bool (*machine_hook)(struct machine *, enum machine_event,
    const char *detail, void *arg);

/* The release a machine runs, when it runs one (not just the config). */
struct machine_release {
	int64_t	 id;		/* releases.id; 0: from the config */
	int	 version;
	char	*dir;		/* the artifact's tree: cwd and ${OPSDECK_RELEASE_DIR} */
	int	 secrets_version;
};

struct machine {
	char		 id[16];
	char		*app;
	char		*process;
	int		 idx;
	const struct cfg_process *cfg;	/* NULL once the app left the config */
	const struct cfg_process *prev_cfg;	/* during supervisor_apply only */
	int		 port;		/* 0: none */
	enum machine_state state;
	char		 why[512];	/* the detail of its last transition */
	bool		 want_running;	/* what the operator asked for */
	bool		 restart_after_stop;
	int		 pid;
	int		 pgid;
	int64_t		 proc_start;	/* /proc starttime, against pid reuse */
	bool		 has_exit;
	int		 exit_code;
	int		 term_signal;
	int		 restart_count;
	int		 consecutive;	/* restarts since the last long run */
	struct crashloop crashloop;
	char		 health[16];
	int64_t		 created_at;
	int64_t		 updated_at;
	uint64_t	 started_mono;
	struct run	*run;		/* the live process, or NULL */
	int		 runs_open;	/* runs whose handles still point here */
	int		 orphan_pgid;	/* a group left by an earlier daemon */
	uint64_t	 stop_deadline;
	uv_timer_t	*timer;		/* backoff, kill escalation, orphan poll */
	uv_timer_t	*health_timer;
	struct probe	*probe;		/* the health check in flight */
	int		 health_passes;	/* consecutive */
	int		 health_fails;	/* consecutive */
	char		 health_detail[256];	/* why it is failing, or "" */
	struct logsink	 log;
	struct machine_release release;
	machine_hook	 hook;
	void		*hook_arg;
	bool		 deploying;	/* started by a deploy, not yet its app's fleet */
	bool		 retired;	/* being stopped for good by a deploy */
	enum machine_route route;
	int		 route_weight;	/* 1..256 while live; 0: the default */
	struct supervisor *sv;
	struct machine	*next;
};

/* Decrypted secrets for a machine's environment; the daemon provides it. */
typedef int (*secrets_env_fn)(void *arg, const char *app, int version,
    struct cfg_env **env, size_t *n, struct err *);
typedef void (*secrets_env_free_fn)(struct cfg_env *, size_t);
/* The release an app runs (its live one), or NULL for apps run from the config. */
typedef const struct cfg_app *(*live_release_fn)(void *arg, const char *app,
    struct machine_release *out);

struct supervisor {
	uv_loop_t	*loop;
	struct store	*store;
	const struct config *cfg;
	char		*state_dir;
	struct machine	*machines;
	struct prober	*prober;
	bool		 shutting_down;
	secrets_env_fn	 secrets_env;
	secrets_env_free_fn secrets_env_free;
	live_release_fn	 live_release;
	void		*release_arg;
	void		(*on_stopped)(struct supervisor *);
};

void	supervisor_init(struct supervisor *, uv_loop_t *, struct store *,
	    const char *state_dir);
/*
 * Makes the fleet match cfg: adopts rows from the store, stops processes an earlier
 * daemon left, creates missing machines, removes machines of apps no longer in cfg,
 * and starts every machine the operator wants running. Also used on reload.
 */
int	supervisor_apply(struct supervisor *, const struct config *,
	    struct err *);
/* True when a machine still runs on a process group of cfg. */
bool	supervisor_uses(const struct supervisor *, const struct config *);
/* Operator actions; -1 with a message when the machine is unknown. */
int	supervisor_machine_start(struct supervisor *, const char *id,
	    struct err *);
int	supervisor_machine_stop(struct supervisor *, const char *id,
	    struct err *);
int	supervisor_machine_restart(struct supervisor *, const char *id,
	    struct err *);
struct machine *supervisor_find(struct supervisor *, const char *id);
/* A machine for a deploy: release rel of app, group p, index idx, on a new port. */
struct machine *supervisor_machine_add(struct supervisor *, const char *app,
	    const struct cfg_process *p, int idx,
	    const struct machine_release *rel, struct err *);
/* Starts, stops (SIGTERM, then SIGKILL) and forgets machines of a deploy. */
void	supervisor_machine_spawn(struct machine *);
void	supervisor_machine_retire(struct machine *);
/* The same after delay_ms, so clients that still use it finish (a drain). */
void	supervisor_machine_retire_in(struct machine *, uint64_t delay_ms);
/* Makes a deploy's machine part of its app's fleet (restart policy applies). */
void	supervisor_machine_adopt(struct machine *);
/*
 * Takes a retirement back while the machine still exists: it serves again, at once
 * if it still runs, or started anew once a stop under way is over.
 */
void	supervisor_machine_revive(struct machine *);
/* Stops every machine (SIGTERM, then SIGKILL); calls cb once all are gone. */
void	supervisor_shutdown(struct supervisor *,
	    void (*cb)(struct supervisor *));
void	supervisor_release(struct supervisor *);
/* The machine as the API and `--json` show it. */
json_t	*machine_json(const struct machine *);
/* Records a fleet event (crash loop, reload, adoption). */
void	supervisor_event(struct supervisor *, const char *kind,
	    const char *app, const char *machine_id, const char *detail);

#endif
