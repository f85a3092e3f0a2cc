/* The daemon's state, shared by daemon.c and daemon_deploy.c only. */
#ifndef OPSDECK_DAEMON_INT_H
#define OPSDECK_DAEMON_INT_H

#include <jansson.h>
#include <uv.h>

#include "config/config.h"
#include "deploy/deploy.h"
#include "deploy/secrets.h"
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
	struct api	*api;
	uv_signal_t	 sig[3];
	/* SIGHUP during a deploy: the reload runs once the last deploy has ended. */
	bool		 reload_pending;
	uv_timer_t	 reload_timer;
	int		 lock_fd;
	int64_t		 started_at;
	int		 stopping;
	struct secrets_key key;
	struct deploy_env denv;
	struct deploy	**deploys;	/* running, one per app at most */
	size_t		 ndeploys;
	struct release_config *release_configs;
	/* migrate apply jobs (daemon_migrate.c), newest first; one runs at a time */
	struct migrate_job *migrate_jobs, *migrate_running;
	unsigned	 migrate_last_id;
	/* gc runs (daemon_gc.c), newest first; one runs at a time, the rest wait */
	struct gc_job	*gc_jobs, *gc_running;
	unsigned	 gc_last_id;
	uv_timer_t	 gc_timer;
};

/* Wires releases, secrets and deploys into the supervisor (before its first apply). */
int	daemon_deploy_init(struct daemon *, struct err *);
void	daemon_deploy_release(struct daemon *);
/* Stops every running deploy where it is (daemon shutdown). */
void	daemon_deploy_stop(struct daemon *);
/* Called when the last deploy has ended: runs a reload that was put off. */
void	daemon_deploys_idle(struct daemon *);

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
