/*
 * The router: the stable address in front of an app's machines. Each process group
 * with a `public:` address gets a frontend there and a backend of server slots; the
 * machines' route (struct machine.route, set by deploys) says which slot is ready,
 * draining, a backup or in maintenance. The router reconciles HAProxy with that
 * desired state through its runtime API, and turns HAProxy's per-request log into
 * request metrics (stats/metrics.h) per app, release and route.
 *
 * Drivers: haproxy (default) runs HAProxy as a supervised child; none routes nothing
 * (apps are reached on their own ports, and deploys of bluegreen groups degrade to
 * immediate). Everything runs on the daemon's loop and never blocks it.
 */
#ifndef OPSDECK_ROUTER_H
#define OPSDECK_ROUTER_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "config/config.h"
#include "core/err.h"
#include "runtime/supervisor.h"

struct router;
struct metrics;

struct router_env {
	uv_loop_t	*loop;
	const char	*state_dir;
	/* the machines the supervisor runs, as a list through machine.next */
	struct machine	*(*machines)(void *ctx);
	void		*ctx;
	struct metrics	*metrics;	/* where request metrics go */
};

/*
 * Checks what the config's router needs (HAProxy present and at least 2.4, the
 * public addresses free, the route templates valid) and starts it. diags gets
 * each problem with its place in the config; NULL is returned then.
 */
struct router *router_start(const struct config *, const struct router_env *,
	    struct cfg_diags *);
/*
 * After a config reload: new, changed or removed public addresses and slot counts
 * rewrite HAProxy's config and reload it gracefully (no connection dropped).
 */
int	 router_apply(struct router *, const struct config *, struct err *);
/* Applies the machines' routes now (it also does so on its own, every 500 ms). */
void	 router_sync(struct router *);
/* True when app's process group proc is served through the router. */
bool	 router_routes(const struct router *, const char *app, const char *proc);
/* The configured driver ("haproxy", "none"). */
const char *router_driver(const struct router *);
/*
 * Calls cb once the servers of machines ms[0..n-1] have no request in flight, or
 * after timeout_ms: the end of a drain. cb may come before this returns.
 */
void	 router_drained(struct router *, struct machine *const *ms, size_t n,
	    uint64_t timeout_ms, void (*cb)(void *arg, bool timed_out),
	    void *arg);
/* Forgets a pending router_drained (its caller is going away). */
void	 router_drained_cancel(struct router *, void *arg);
/* State for status and /metrics: driver, HAProxy pid, restarts, log lines. */
json_t	*router_json(const struct router *);
/* Prometheus text of the router itself (log lines read, unparseable, restarts). */
void	 router_prometheus(const struct router *, struct buf *);
/* Stops HAProxy (its clients are cut) and frees the router once it is gone. */
void	 router_stop(struct router *);

#endif
