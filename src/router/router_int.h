/* Inside router/: the router's state, shared by the driver and the route sets. */
#ifndef OPSDECK_ROUTER_INT_H
#define OPSDECK_ROUTER_INT_H

#include "router/router.h"

#define ROUTER_WEIGHT	100	/* a live server's weight outside a canary */

struct backend;
struct drain_wait;

struct router {
	struct router_env env;
	bool		 driver_none;
	int64_t		 drain_ms;
	char		*binary;
	char		 version[64];	/* "2.6.12-1+deb12u4" once checked */
	char		*config_path;
	char		*socket_path;
	char		*pid_path;
	struct backend	*backends;
	size_t		 nbackends;
	/* the HAProxy master, our child */
	uv_process_t	 proc;
	uv_poll_t	 out;		/* its request log: a pipe, log_fd */
	int		 log_fd;
	uv_pipe_t	 err;		/* its notices and alerts */
	int		 proc_open;	/* handles not yet closed */
	bool		 running;
	int		 pid;
	uint64_t	 started_mono;
	int		 restarts;
	uint64_t	 backoff_ms;
	uv_timer_t	*timer;		/* reconcile and drain polls */
	uv_timer_t	*restart_timer;
	uv_timer_t	*log_timer;	/* resumes the log reader: see log_ready */
	bool		 log_open;	/* out can be read */
	bool		 api_busy;	/* one runtime API call at a time */
	bool		 stat_busy;
	bool		 dirty;		/* a change waits for the API */
	bool		 grow_warned;
	bool		 stopping;
	bool		 freeing;
	struct drain_wait *drains;
	/* the log reader: a partial line, or the rest of one too long to keep */
	char		 line[16384];
	size_t		 line_len;
	bool		 line_skip;
	uint64_t	 log_lines;
	uint64_t	 log_bad;
	/* lines HAProxy could not write (its DroppedLogs), of this process and of
	 * those before it; read every INFO_MS */
	uint64_t	 log_dropped, log_dropped_before;
	uint64_t	 info_mono;
};

void	router_free_now(struct router *);
/* Each app's route templates, compiled: errors with their place go to diags. */
void	router_set_routes(struct router *, const struct config *);
void	router_routes_release(struct router *);

#endif
