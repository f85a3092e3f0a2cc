/* The daemon's watch operations: its ops table's entries, handed to monitor/watch. */
#include <stdbool.h>
#include <string.h>

#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "ledger/actors.h"

#include "core/util.h"
#include "monitor/watch.h"
#include "runtime/daemon_int.h"
#include "stats/metrics.h"

/* Route checks read the router's request metrics, every release of the app. */
static int
route_query(void *ctx, const char *app, const char *route, int64_t window_ms,
    struct watch_route_sum *out)
{
	struct daemon *d = ctx;
	struct metrics_sum s;

	if (d->metrics == NULL)
		return -1;
	memset(&s, 0, sizeof(s));
	if (metrics_query(d->metrics, app, 0, strcmp(route, "*") == 0 ? NULL :
	    route, window_ms, wall_ms(), &s) < 0)
		return -1;
	out->requests = s.requests;
	out->errors = s.by_class[5];
	out->rps = s.rps;
	out->p50_ms = s.p50 / 1000.0;
	out->p95_ms = s.p95 / 1000.0;
	out->p99_ms = s.p99 / 1000.0;
	out->max_ms = s.max / 1000.0;
	return 0;
}

/*
 * Health checks read the app's machines: those meant to run, a deploy's new
 * (not yet the app's) and retired ones aside. Starting, or not yet judged by their
 * health check, they count neither way.
 */
static int
health_query(void *ctx, const char *app, const char *process,
    struct watch_health_sum *out)
{
	struct daemon *d = ctx;
	const struct machine *m;

	memset(out, 0, sizeof(*out));
	for (m = d->sv.machines; m != NULL; m = m->next) {
		const char *why = NULL;

		if (strcmp(m->app, app) != 0 || strcmp(m->process, process) != 0 ||
		    !m->want_running || m->deploying || m->retired ||
		    m->cfg == NULL)
			continue;
		out->machines++;
		if (m->state == MACHINE_STARTED && strcmp(m->health, "passing") == 0)
			out->passing++;
		else if (m->state == MACHINE_STARTED &&
		    strcmp(m->health, "failing") == 0) {
			out->failing++;
			why = m->health_detail[0] ? m->health_detail : "failing";
		} else if (m->state == MACHINE_FAILED ||
		    m->state == MACHINE_RESTARTING || m->state == MACHINE_STOPPED) {
			out->down++;
			why = m->why[0] ? m->why : machine_state_str(m->state);
		}
		if (why != NULL && out->detail[0] == '\0')	/* cut if long */
			snprintf(out->detail, sizeof(out->detail), "%s %s: %.200s",
			    m->id, out->failing ? "failing" :
			    machine_state_str(m->state), why);
	}
	return 0;
}

struct watch *
daemon_watch_new(struct daemon *d, const struct config *cfg)
{
	struct watch_metrics m = { .query = route_query, .health = health_query,
	    .ctx = d };

	return watch_new(&d->loop, &d->store, cfg, &m);
}

/* While the daemon stops, watch is gone: the calls say so. */
static int
gone(struct err *e)
{
	return err_setk(e, ERR_CONFLICT, "opsdeck is stopping: checks and "
	    "heartbeats have stopped");
}

static json_t *
stopped_json(void)
{
	return json_pack("{s:b}", "stopping", 1);
}

static json_t *
checks_json(struct daemon *d)
{
	return d->watch ? watch_checks_json(d->watch) : stopped_json();
}

static json_t *
incidents_json(struct daemon *d, bool all)
{
	return d->watch ? watch_incidents_json(d->watch, all) : stopped_json();
}

static int
incident_ack(struct daemon *d, const struct actor *a, int64_t id, struct err *e)
{
	return d->watch ? watch_ack(d->watch, a, id, e) : gone(e);
}

static json_t *
heartbeats_json(struct daemon *d)
{
	return d->watch ? watch_heartbeats_json(d->watch) : stopped_json();
}

static json_t *
heartbeat_ping(struct daemon *d, const struct actor *a, const char *name,
    const json_t *body, struct err *e)
{
	if (d->watch == NULL) {
		gone(e);
		return NULL;
	}
	return watch_ping(d->watch, a, name, body, e);
}

static json_t *
maintenance_json(struct daemon *d)
{
	return d->watch ? watch_maintenance_json(d->watch) : stopped_json();
}

static json_t *
maintenance_add(struct daemon *d, const struct actor *a, const json_t *body,
    struct err *e)
{
	if (d->watch == NULL) {
		gone(e);
		return NULL;
	}
	return watch_maintenance_add(d->watch, a, body, e);
}

static int
maintenance_end(struct daemon *d, const struct actor *a, int64_t id,
    struct err *e)
{
	return d->watch ? watch_maintenance_end(d->watch, a, id, e) : gone(e);
}

static json_t *
notifications_json(struct daemon *d)
{
	return d->watch ? watch_notifications_json(d->watch) : stopped_json();
}

static json_t *
clock_advance(struct daemon *d, int64_t ms, struct err *e)
{
	if (d->watch == NULL) {
		gone(e);
		return NULL;
	}
	return watch_clock_advance(d->watch, ms, e);
}

/* An agent's own heartbeat is never due by its period: only doing goes stale. */
#define AGENT_PERIOD_MS	(100LL * 366 * 24 * 3600 * 1000)

/* Whether a heartbeat of cfg other than the daemon's own names agent as its actor,
 * or is called name. */
static bool
agent_covered(const struct config *cfg, const char *agent, const char *name)
{
	const struct cfg_heartbeat *h;
	size_t i;

	for (i = 0; i < cfg->watch.nheartbeats; i++) {
		h = &cfg->watch.heartbeats[i];
		if (!h->implicit && ((h->actor != NULL && strcmp(h->actor, agent) ==
		    0) || strcmp(h->name, name) == 0))
			return true;
	}
	return false;
}

void
daemon_agent_heartbeats(struct daemon *d, struct config *cfg)
{
	struct cfg_watch *w = &cfg->watch;
	const struct cfg_agents *ag = &w->agents;
	struct cfg_heartbeat *h;
	json_t *actors;
	const json_t *a;
	struct err e;
	size_t i, n, k;
	char name[80];

	/* the ones made before go: actors come and go */
	for (i = n = 0; i < w->nheartbeats; i++) {
		h = &w->heartbeats[i];
		if (!h->implicit) {
			w->heartbeats[n++] = *h;
			continue;
		}
		free(h->name);
		free(h->actor);
		for (k = 0; k < h->nchannels; k++)
			free(h->channels[k]);
		free(h->channels);
	}
	w->nheartbeats = n;
	if ((actors = actors_json(&d->store, &e)) == NULL) {
		log_warnx("agents' heartbeats: %s", e.msg);
		return;
	}
	json_array_foreach(json_object_get(actors, "actors"), i, a) {
		const char *who = json_str(a, "name"), *role = json_str(a, "role");

		if (who == NULL || role == NULL || strcmp(role, "agent") != 0 ||
		    !json_is_null(json_object_get(a, "revoked_at")))
			continue;
		snprintf(name, sizeof(name), "agent-%s", who);
		if (agent_covered(cfg, who, name))
			continue;
		w->heartbeats = xreallocarray(w->heartbeats, w->nheartbeats + 1,
		    sizeof(*w->heartbeats));
		h = &w->heartbeats[w->nheartbeats++];
		memset(h, 0, sizeof(*h));
		h->name = xstrdup(name);
		h->actor = xstrdup(who);
		h->implicit = true;
		h->period_ms = AGENT_PERIOD_MS;
		h->grace_ms = 3600 * 1000;
		h->doing_stale_ms = ag->doing_stale_ms;
		h->severity = CFG_SEV_WARNING;
		if (ag->nchannels > 0) {
			h->channels = xcalloc(ag->nchannels + 1, sizeof(char *));
			for (k = 0; k < ag->nchannels; k++)
				h->channels[k] = xstrdup(ag->channels[k]);
			h->nchannels = ag->nchannels;
		}
	}
	json_decref(actors);
}

void
daemon_agents_changed(struct daemon *d)
{
	struct config *cfg;

	if (d->nconfigs == 0 || d->watch == NULL)
		return;
	cfg = d->configs[d->nconfigs - 1];
	daemon_agent_heartbeats(d, cfg);
	watch_apply(d->watch, cfg);
}

void
daemon_watch_ops(struct daemon_ops *ops)
{
	ops->checks_json = checks_json;
	ops->incidents_json = incidents_json;
	ops->incident_ack = incident_ack;
	ops->heartbeats_json = heartbeats_json;
	ops->heartbeat_ping = heartbeat_ping;
	ops->maintenance_json = maintenance_json;
	ops->maintenance_add = maintenance_add;
	ops->maintenance_end = maintenance_end;
	ops->notifications_json = notifications_json;
	ops->clock_advance = clock_advance;
}
