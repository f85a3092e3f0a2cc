/*
 * Watch: the daemon's checks, incidents, notifications, heartbeats and maintenance
 * windows, on its loop.
 *
 * Checks run on a fixed rate (monitor/sched.h) through one libcurl multi handle
 * (monitor/probe.h): no thread per check. Each keeps its last results in a ring in
 * memory and per-minute aggregates in the store. A check that fails `failures` runs
 * in a row, or `flap.failures` of the last `flap.runs`, opens an incident; one that
 * passes `successes` in a row resolves it. An incident's notices go to the channels
 * the notify routes pick, through the store's outbox: a notice waits there, retried
 * with backoff, until its channel takes it.
 *
 * A child check's incident is held (no notice) while its parent is down; its
 * resolve is still sent. Maintenance windows (config, recurring; or one-off from the
 * API) silence notices; what opens in one is shown as maintenance.
 *
 * Wall-clock times may be shifted by a test clock (OPSDECK_TEST_CLOCK=1 in the
 * daemon's environment enables POST /v1/test/clock); checks keep real intervals.
 */
#ifndef OPSDECK_WATCH_H
#define OPSDECK_WATCH_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "config/config.h"
#include "core/err.h"
#include "ledger/gate.h"
#include "store/store.h"

struct watch;

/* What a route check judges: the router's requests of an app's route over a window. */
struct watch_route_sum {
	uint64_t	 requests;
	uint64_t	 errors;		/* 5xx */
	double		 rps;
	double		 p50_ms, p95_ms, p99_ms, max_ms;
};

/*
 * What a health check judges: an app process group's machines that should run
 * (a deploy's new and retired ones aside) by their own health checks.
 */
struct watch_health_sum {
	int	 machines;
	int	 passing;
	int	 failing;	/* running, their health check failing */
	int	 down;		/* meant to run, not running (restarting, failed) */
	char	 detail[256];	/* the first failing or down machine and why */
};

/*
 * What the daemon hands in (monitor/ knows nothing of the router or the
 * supervisor). query: where route checks read the request metrics; route "*" is
 * every route of the app; -1 when the app has no metrics (no router): the run is
 * not judged. health: the machines of an app's process group; NULL, or -1, when
 * there is no fleet: not judged.
 */
struct watch_metrics {
	int	(*query)(void *ctx, const char *app, const char *route,
		    int64_t window_ms, struct watch_route_sum *);
	int	(*health)(void *ctx, const char *app, const char *process,
		    struct watch_health_sum *);
	void	*ctx;
};

struct watch *watch_new(uv_loop_t *, struct store *, const struct config *,
	    const struct watch_metrics *);
/* The config after a reload: checks by the same name keep their state. */
void	 watch_apply(struct watch *, const struct config *);
/* Stops every timer and probe and frees w once its handles are closed. */
void	 watch_free(struct watch *);
/* Wall-clock milliseconds, with the test clock's shift. */
int64_t	 watch_now(const struct watch *);

json_t	*watch_checks_json(struct watch *);
/* Open and acknowledged incidents, or all of them (newest first), with timelines. */
json_t	*watch_incidents_json(struct watch *, bool all);
int	 watch_ack(struct watch *, const struct actor *, int64_t id,
	    struct err *);
json_t	*watch_heartbeats_json(struct watch *);
/*
 * A ping of heartbeat name: body {signal: success|start|fail, exit_code, status:
 * doing|done, message}. Through the gate (heartbeat.ping).
 */
json_t	*watch_ping(struct watch *, const struct actor *, const char *name,
	    const json_t *body, struct err *);
json_t	*watch_maintenance_json(struct watch *);
/* body {target: all|check:NAME|app:NAME, duration_ms, starts_at, reason}. */
json_t	*watch_maintenance_add(struct watch *, const struct actor *,
	    const json_t *body, struct err *);
int	 watch_maintenance_end(struct watch *, const struct actor *, int64_t id,
	    struct err *);
/* The outbox: every notice, its channel, state and attempts (newest first). */
json_t	*watch_notifications_json(struct watch *);
/* Shifts the test clock by ms; ERR_DENIED unless OPSDECK_TEST_CLOCK=1. */
json_t	*watch_clock_advance(struct watch *, int64_t ms, struct err *);

/*
 * `opsdeck check run NAME`: runs one check now on a loop of its own and answers
 * {name, ok, status, ms, error, conditions: [{condition, ok, detail}]}.
 */
json_t	*watch_run_once(const struct cfg_check *);

#endif
