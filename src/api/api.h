/*
 * The control API: HTTP/JSON over a unix socket in the state dir, served by
 * libmicrohttpd in external-select epoll mode on the daemon's one libuv loop.
 * Routes are rows in a table; each handler parses, calls one domain function, renders.
 */
#ifndef OPSDECK_API_H
#define OPSDECK_API_H

#include <uv.h>

#include "core/err.h"
#include "runtime/daemon.h"

struct api;

/*
 * Binds SOCKET_PATH (removing a stale socket) and, when cfg->listen is set,
 * HOST:PORT on TCP, where every request needs a bearer token or a dashboard
 * session; serves ops on loop. The OS users of cfg->local_users are looked up now
 * (an unknown one fails the start).
 */
struct api *api_start(uv_loop_t *, const char *socket_path,
	    const struct cfg_api *cfg, const struct daemon_ops *, struct err *);
/* Stops serving and removes the socket; the handles close on the loop. */
void	api_stop(struct api *);
/*
 * `opsdeck up`: runs the daemon (daemon_run) with the API as its front end. The
 * entry point of the opsdeck-daemon module (see core/module.h).
 */
int	api_daemon_run(const struct daemon_options *);
typedef int (*api_daemon_run_fn)(const struct daemon_options *);

#endif
