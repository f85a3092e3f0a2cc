/*
 * The control API: HTTP/JSON over a unix socket in the state dir, served by
 * libmicrohttpd in external-select epoll mode on the daemon's one libuv loop.
 * Routes are rows in a table; each handler parses, calls one domain function, renders.
 */
#ifndef OPSDECK_API_H
#define OPSDECK_API_H

#include <uv.h>

#include "core/err.h"

struct daemon;
struct api;

/* Binds SOCKET_PATH (removing a stale socket) and starts serving on loop. */
struct api *api_start(uv_loop_t *, const char *socket_path, struct daemon *,
	    struct err *);
/* Stops serving and removes the socket; the handles close on the loop. */
void	api_stop(struct api *);

#endif
