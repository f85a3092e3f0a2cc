/*
 * Which HAProxy the router would run, and whether it is new enough. Outside the
 * daemon module, so that `opsdeck doctor` can ask without loading the daemon.
 */
#ifndef OPSDECK_ROUTER_VERSION_H
#define OPSDECK_ROUTER_VERSION_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

/* The oldest HAProxy whose runtime API the router drives. */
#define ROUTER_HAPROXY_MIN_MAJOR 2
#define ROUTER_HAPROXY_MIN_MINOR 4

/*
 * Runs `BINARY -v` and reads "HAProxy version 2.6.12-1+deb12u4 ...": the version into
 * out ("2.6.12-1+deb12u4"), its first two numbers into major and minor. -1 with e
 * (ERR_NOT_FOUND when there is no such program). Waits for its own child only: call
 * it before an event loop runs.
 */
int	 router_haproxy_version(const char *binary, char *out, size_t outlen,
	    int *major, int *minor, struct err *);
/* True when major.minor is at least ROUTER_HAPROXY_MIN_MAJOR.MINOR. */
bool	 router_haproxy_supported(int major, int minor);

#endif
