#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "deploy/deploy.h"
#include "router/router.h"
#include "stats/metrics.h"

#define OUTPUT_KEEP 4096
#define DRAIN_MS 1000		/* a machine leaving the fleet serves this long */
#define RULES_MS 200		/* rollback_on is judged this often */

enum phase {
	PHASE_RELEASE_COMMAND,
	PHASE_GATE,
	PHASE_SMOKE,
	PHASE_CANARY,
	PHASE_WATCH,
	PHASE_DRAIN,
	PHASE_DONE,
};

/* One new machine under the health gate. */
struct gated {
	struct machine	*m;
	struct deploy	*dp;
	int		 passes;
	int		 fails;
	int		 checks;	/* health answers seen, passing or not */
	bool		 healthy;
	int		 old_idx;	/* the old machine it replaces (rolling), or -1 */
};

/* A machine of the previous release, and what is needed to start it again. */
struct old {
	struct machine	*m;		/* NULL once retired */
	char		 id[16];	/* to find it while its retirement ends */
	const struct cfg_process *cfg;
	int		 idx;
	struct machine_release rel;
};

struct deploy {
	struct deploy_env *env;
	struct release	 rel;
	struct release	 prev;
	bool		 has_prev;
	const struct cfg_app *app;
	const struct cfg_app *prev_app;
	struct machine_release mrel;
	enum phase	 phase;
	int64_t		 step;		/* the running step's row */
	struct gated	*gated;
	size_t		 ngated;
	size_t		 batch_from, batch_to;	/* the gate's current batch */
	struct old	*old;
	size_t		 nold;
	uv_timer_t	*timer;
	uv_timer_t	*rules_timer;	/* rollback_on, in the canary and watch */
	int		 canary;	/* percent of the routed traffic, 0: none */
	bool		 routed;	/* a group of the app is behind the router */
	struct rc	*rc;		/* the release command, while it runs */
	bool		 detected;	/* the watch's first failure is recorded */
	bool		 ended;
};

struct rc;
static void deploy_next_batch(struct deploy *);
static void deploy_start_machines(struct deploy *);
static void rc_detach(struct deploy *);
static void deploy_fail(struct deploy *, const char *step, const char *reason,
    json_t *evidence);

/* For tests of crash safety: die right after a step is recorded. */
static void
crash_point(const char *step)
{
	const char *at = getenv("OPSDECK_TEST_CRASH_AFTER");

	if (at != NULL && getenv("OPSDECK_TEST_HOOKS") != NULL &&
	    strcmp(at, step) == 0) {
		log_warnx("test hook: dying after step %s", step);
		_exit(137);
	}
}

static void
step_begin(struct deploy *dp, const char *step, const char *detail)
{
	dp->step = release_step_begin(dp->env->store, dp->rel.id, step, detail);
	log_info("%s v%d: %s%s%s", dp->rel.app, dp->rel.version, step,
	    detail ? ": " : "", detail ? detail : "");
	crash_point(step);
}

static void
step_end(struct deploy *dp, bool ok, const char *detail)
{
	if (dp->step != 0)
		release_step_end(dp->env->store, dp->step, ok, detail);
	dp->step = 0;
}

/* A mark in the timeline with no duration (detected, recovered, failed). */
static void
step_mark(struct deploy *dp, const char *step, const char *detail)
{
	int64_t id = release_step_begin(dp->env->store, dp->rel.id, step,
	    detail);

	release_step_end(dp->env->store, id, strcmp(step, "failed") != 0, NULL);
	crash_point(step);
}

void
deploy_abort(struct deploy *dp)
{
	size_t i;

	dp->ended = true;
	dp->phase = PHASE_DONE;
	uv_timer_stop(dp->timer);
	uv_timer_stop(dp->rules_timer);
	router_drained_cancel(dp->env->router, dp);
	rc_detach(dp);
	for (i = 0; i < dp->ngated; i++)
		if (dp->gated[i].m != NULL) {
			dp->gated[i].m->hook = NULL;
			dp->gated[i].m = NULL;
		}
	log_warnx("%s v%d: deploy stopped by a shutdown at its current step; the "
	    "next start recovers it", dp->rel.app, dp->rel.version);
}

const char *
deploy_app(const struct deploy *dp)
{
	return dp->rel.app;
}

int64_t
deploy_release_id(const struct deploy *dp)
{
	return dp->rel.id;
}

static void
timer_free(uv_handle_t *h)
{
	free(h);
}

void
deploy_free(struct deploy *dp)
{
	size_t i;

	if (dp == NULL)
		return;
	for (i = 0; i < dp->nold; i++)
		free(dp->old[i].rel.dir);
	free(dp->old);
	for (i = 0; i < dp->ngated; i++)
		if (dp->gated[i].m != NULL)
			dp->gated[i].m->hook = NULL;
	free(dp->gated);
	rc_detach(dp);
	router_drained_cancel(dp->env->router, dp);
	uv_close((uv_handle_t *)dp->timer, timer_free);
	uv_close((uv_handle_t *)dp->rules_timer, timer_free);
	free(dp->mrel.dir);
	release_release(&dp->rel);
	release_release(&dp->prev);
	free(dp);
}

/* On the next turn of the loop: the deploy may have ended inside deploy_start. */
static void
deploy_finish(uv_timer_t *t)
{
	struct deploy *dp = t->data;

	dp->env->finished(dp, dp->env->arg);
}

static void
deploy_end(struct deploy *dp)
{
	size_t i;

	dp->ended = true;
	dp->phase = PHASE_DONE;
	uv_timer_stop(dp->timer);
	uv_timer_stop(dp->rules_timer);
	for (i = 0; i < dp->ngated; i++)
		if (dp->gated[i].m != NULL) {
			dp->gated[i].m->hook = NULL;
			dp->gated[i].m = NULL;
		}
	deploy_lock_drop(dp->env->store, dp->rel.app);
	uv_timer_start(dp->timer, deploy_finish, 0, 0);
}

/* The last lines of a machine's log, for a failure's evidence. */
static json_t *
log_tail(const struct machine *m, int lines)
{
	char chunk[4096];
	json_t *arr = json_array();
	off_t size;
	ssize_t n;
	int fd, count = 0;
	char *p, *end;

	if (m->log.path == NULL ||
	    (fd = open(m->log.path, O_RDONLY | O_CLOEXEC)) < 0)
		return arr;
	size = lseek(fd, 0, SEEK_END);
	n = pread(fd, chunk, sizeof(chunk) - 1, size > (off_t)sizeof(chunk) -
	    1 ? size - (off_t)sizeof(chunk) + 1 : 0);
	close(fd);
	if (n <= 0)
		return arr;
	chunk[n] = '\0';
	end = chunk + n;
	for (p = end - 1; p > chunk && count <= lines; p--)
		if (*p == '\n')
			count++;
	if (count > lines)
		p += 2;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));

		if (nl == NULL)
			nl = end;
		if (nl > p)
			json_array_append_new(arr, json_stringn(p,
			    (size_t)(nl - p)));
		p = nl + 1;
	}
	return arr;
}

/*
 * An app may print a secret when it fails (a connection string): evidence is served by
 * the API, so the values of the machine's secrets are replaced by their names.
 */
static void
redact(const struct deploy_runtime *rt, const struct machine *m, json_t *lines)
{
	struct cfg_env *env = NULL;
	size_t n = 0, i, k;
	json_t *line;
	struct err e;

	if (m->release.secrets_version <= 0 || rt->secrets_env == NULL ||
	    rt->secrets_env(rt->ctx, m->app, m->release.secrets_version,
	    &env, &n, &e) < 0)
		return;
	json_array_foreach(lines, i, line) {
		struct buf out = BUF_INIT;

		for (k = 0; k < n; k++) {
			const char *p = json_string_value(line), *hit;
			size_t vl = strlen(env[k].value);

			if (vl < 3 || strstr(p, env[k].value) == NULL)
				continue;
			buf_reset(&out);
			while ((hit = strstr(p, env[k].value)) != NULL) {
				buf_add(&out, p, (size_t)(hit - p));
				buf_printf(&out, "[secret %s]", env[k].key);
				p = hit + vl;
			}
			buf_addstr(&out, p);
			json_string_set(line, buf_str(&out));
		}
		buf_release(&out);
	}
	rt->secrets_env_free(env, n);
}

static json_t *
machine_evidence(const struct deploy *dp, const struct machine *m,
    const char *what)
{
	json_t *o = json_pack("{s:s, s:s, s:s}", "machine", m->id, "process",
	    m->process, "what", what);
	json_t *lines;

	if (m->has_exit) {
		json_object_set_new(o, "exit_code", json_integer(m->exit_code));
		if (m->term_signal)
			json_object_set_new(o, "signal",
			    json_integer(m->term_signal));
	}
	lines = log_tail(m, 20);
	redact(&dp->env->rt, m, lines);
	json_object_set_new(o, "last_log_lines", lines);
	return o;
}

/* ---- router ------------------------------------------------------------- */

static bool
machine_routed(const struct deploy *dp, const struct machine *m)
{
	return router_routes(dp->env->router, m->app, m->process);
}

/* Sets the route of the new (or the old) release's routed machines. */
static void
routes_set(struct deploy *dp, bool new_side, enum machine_route rt, int weight)
{
	size_t i, n = new_side ? dp->ngated : dp->nold;

	for (i = 0; i < n; i++) {
		struct machine *m = new_side ? dp->gated[i].m : dp->old[i].m;

		if (m == NULL || !machine_routed(dp, m))
			continue;
		m->route = rt;
		m->route_weight = weight;
	}
}

static void
routes_sync(struct deploy *dp)
{
	if (dp->env->router != NULL)
		router_sync(dp->env->router);
}

/* Starts the previous release's machines again where a deploy had replaced them. */
static void
restore_old(struct deploy *dp)
{
	struct err e;
	size_t i;

	for (i = 0; i < dp->nold; i++) {
		struct old *o = &dp->old[i];
		struct machine *m;

		if (o->m != NULL)
			continue;
		/*
		 * A retired machine stays in the fleet, row and slot included, until
		 * its process and pipes are gone: then it is taken back, not doubled.
		 */
		if ((m = dp->env->rt.find(dp->env->rt.ctx, o->id)) != NULL &&
		    m->retired) {
			dp->env->rt.revive(m);
			o->m = m;
			continue;
		}
		if ((m = dp->env->rt.add(dp->env->rt.ctx, dp->rel.app,
		    o->cfg, o->idx, &o->rel, &e)) == NULL) {
			log_warnx("%s: cannot restore machine %s[%d]: %s",
			    dp->rel.app, o->cfg->name, o->idx, e.msg);
			continue;
		}
		dp->env->rt.adopt(m);
		dp->env->rt.spawn(m);
		o->m = m;
		snprintf(o->id, sizeof(o->id), "%s", m->id);
	}
}

static void
retire_new(struct deploy *dp)
{
	size_t i;

	for (i = 0; i < dp->ngated; i++) {
		if (dp->gated[i].m == NULL)
			continue;
		dp->env->rt.retire(dp->gated[i].m);
		dp->gated[i].m = NULL;
	}
}

static void
deploy_fail(struct deploy *dp, const char *step, const char *reason,
    json_t *evidence)
{
	char *text = evidence ? json_dump_compact(evidence) : NULL;
	struct err e;

	if (dp->ended) {
		json_decref(evidence);
		return;
	}
	step_end(dp, false, reason);
	log_warnx("%s v%d failed at %s: %s", dp->rel.app, dp->rel.version, step,
	    reason);
	/* The previous release takes all the traffic again before the new goes. */
	routes_set(dp, false, MACHINE_ROUTE_AUTO, 0);
	routes_set(dp, true, MACHINE_ROUTE_OFF, 0);
	routes_sync(dp);
	retire_new(dp);
	restore_old(dp);
	if (release_set_status(dp->env->store, dp->rel.id, RELEASE_FAILED, step,
	    reason, text, &e) < 0)
		log_warnx("%s", e.msg);
	step_mark(dp, "failed", reason);
	free(text);
	json_decref(evidence);
	deploy_end(dp);
}

/* ---- watch window -------------------------------------------------------- */

static void
flip_back(struct deploy *dp, const char *why, json_t *evidence)
{
	char *text = json_dump_compact(evidence);
	struct err e;
	size_t i;

	step_end(dp, false, why);
	/*
	 * The previous release's machines were kept warm: it serves again at once.
	 * The new ones get a drain before they stop, for clients still using them.
	 */
	routes_set(dp, false, MACHINE_ROUTE_AUTO, 0);
	routes_set(dp, true, MACHINE_ROUTE_OFF, 0);
	routes_sync(dp);
	for (i = 0; i < dp->ngated; i++)
		if (dp->gated[i].m != NULL) {
			dp->env->rt.retire_in(dp->gated[i].m, DRAIN_MS);
			dp->gated[i].m = NULL;
		}
	restore_old(dp);
	for (i = 0; i < dp->nold; i++)
		if (dp->old[i].m != NULL)
			dp->env->rt.adopt(dp->old[i].m);
	routes_sync(dp);
	if (store_begin(dp->env->store, &e) < 0 ||
	    release_set_status(dp->env->store, dp->rel.id, RELEASE_ROLLED_BACK,
	    "watch", why, text, &e) < 0 || (dp->has_prev &&
	    release_set_status(dp->env->store, dp->prev.id, RELEASE_LIVE, NULL,
	    NULL, NULL, &e) < 0) || store_commit(dp->env->store, &e) < 0)
		fatalx("%s", e.msg);
	step_mark(dp, "recovered", dp->has_prev ? "the previous release serves "
	    "again" : "the app runs from its config again");
	log_warnx("%s v%d rolled back: %s", dp->rel.app, dp->rel.version, why);
	free(text);
	json_decref(evidence);
	deploy_end(dp);
}

static bool
watch_hook(struct machine *m, enum machine_event ev, const char *detail,
    void *arg)
{
	struct gated *g = arg;
	struct deploy *dp = g->dp;
	char why[512];

	if (dp->phase != PHASE_WATCH)
		return false;
	/* Each machine counts its own failures: another's pass must not hide them. */
	if (ev == MACHINE_EV_HEALTH_PASS) {
		g->fails = 0;
		return false;
	}
	if (!dp->detected) {
		dp->detected = true;
		step_mark(dp, "detected", detail);
	}
	if (ev == MACHINE_EV_HEALTH_FAIL &&
	    ++g->fails < dp->app->deploy.watch_failures)
		return false;
	snprintf(why, sizeof(why), "machine %s %s during the watch window: %s",
	    m->id, ev == MACHINE_EV_EXITED ? "exited" : "failed its health "
	    "checks", detail ? detail : "");
	flip_back(dp, why, json_pack("{s:[o]}", "machines",
	    machine_evidence(dp, m, ev == MACHINE_EV_EXITED ? "exited" :
	    "health failing")));
	return ev == MACHINE_EV_EXITED;
}

static void
stop_old(struct deploy *dp)
{
	size_t i;

	for (i = 0; i < dp->nold; i++) {
		if (dp->old[i].m != NULL)
			dp->env->rt.retire(dp->old[i].m);
		dp->old[i].m = NULL;
	}
	routes_set(dp, true, MACHINE_ROUTE_AUTO, 0);
	routes_sync(dp);
}

/* The old servers have no request in flight (or the drain timeout passed). */
static void
old_drained(void *arg, bool timed_out)
{
	struct deploy *dp = arg;
	char detail[128];

	if (dp->ended)
		return;
	if (timed_out)
		snprintf(detail, sizeof(detail), "drain timed out after %llds: "
		    "requests still in flight were cut",
		    (long long)(dp->env->drain_ms / 1000));
	else
		snprintf(detail, sizeof(detail), "drained: no request in "
		    "flight");
	stop_old(dp);
	step_end(dp, true, detail);
	deploy_end(dp);
}

static void
watch_over(uv_timer_t *t)
{
	struct deploy *dp = t->data;
	struct machine **ms = xcalloc(dp->nold + 1, sizeof(*ms));
	char detail[128];
	size_t i, n = 0;

	step_end(dp, true, NULL);
	dp->phase = PHASE_DRAIN;
	uv_timer_stop(dp->rules_timer);
	for (i = 0; i < dp->ngated; i++)
		if (dp->gated[i].m != NULL) {
			dp->gated[i].m->hook = NULL;
			dp->env->rt.adopt(dp->gated[i].m);
		}
	/* Routed old machines leave once their in-flight requests are done. */
	for (i = 0; i < dp->nold; i++)
		if (dp->old[i].m != NULL && machine_routed(dp, dp->old[i].m))
			ms[n++] = dp->old[i].m;
	routes_set(dp, false, MACHINE_ROUTE_DRAIN, 0);
	if (n > 0) {
		snprintf(detail, sizeof(detail), "draining %zu server%s, at most "
		    "%llds", n, n == 1 ? "" : "s",
		    (long long)(dp->env->drain_ms / 1000));
		step_begin(dp, "stop_old", detail);
		router_drained(dp->env->router, ms, n,
		    (uint64_t)dp->env->drain_ms, old_drained, dp);
		free(ms);
		return;
	}
	free(ms);
	step_begin(dp, "stop_old", NULL);
	stop_old(dp);
	step_end(dp, true, NULL);
	deploy_end(dp);
}

/* ---- rollback_on: the new release's own traffic, from the router's log ---- */

static void
rules_check(uv_timer_t *t)
{
	struct deploy *dp = t->data;
	const struct cfg_rollback_on *rb = &dp->app->rollback_on;
	struct metrics_sum m;
	json_t *ev;
	char why[384];
	const char *rule;

	if (dp->env->metrics == NULL || (dp->phase != PHASE_WATCH &&
	    dp->phase != PHASE_CANARY))
		return;
	if (metrics_query(dp->env->metrics, dp->rel.app, dp->rel.version, NULL,
	    rb->window_ms, wall_ms(), &m) < 0 ||
	    m.requests < (uint64_t)rb->min_requests)
		return;
	if (rb->error_rate >= 0 && m.rate_5xx > rb->error_rate) {
		rule = "error_rate";
		snprintf(why, sizeof(why), "5xx rate %.1f%% of v%d's %llu "
		    "requests in the last %llds is above rollback_on.error_rate "
		    "%.1f%%", m.rate_5xx * 100, dp->rel.version,
		    (unsigned long long)m.requests,
		    (long long)(rb->window_ms / 1000), rb->error_rate * 100);
	} else if (rb->p95_ms > 0 && m.p95 > (double)rb->p95_ms * 1000) {
		rule = "p95";
		snprintf(why, sizeof(why), "p95 latency %.0fms of v%d's %llu "
		    "requests in the last %llds is above rollback_on.p95 %lldms",
		    m.p95 / 1000, dp->rel.version,
		    (unsigned long long)m.requests,
		    (long long)(rb->window_ms / 1000), (long long)rb->p95_ms);
	} else
		return;
	ev = json_pack("{s:{s:s, s:f, s:I, s:I, s:I}, s:{s:I, s:I, s:f, "
	    "s:f, s:f, s:f}}", "rule", "name", rule, "error_rate",
	    rb->error_rate, "p95_ms", (json_int_t)rb->p95_ms, "window_ms",
	    (json_int_t)rb->window_ms, "min_requests",
	    (json_int_t)rb->min_requests, "measured", "requests",
	    (json_int_t)m.requests, "errors_5xx", (json_int_t)m.by_class[5],
	    "rate_5xx", m.rate_5xx, "p50_ms", m.p50 / 1000, "p95_ms",
	    m.p95 / 1000, "p99_ms", m.p99 / 1000);
	uv_timer_stop(dp->rules_timer);
	step_mark(dp, "detected", why);
	if (dp->phase == PHASE_CANARY)
		deploy_fail(dp, "canary", why, ev);
	else
		flip_back(dp, why, ev);
}

/* ---- cutover ------------------------------------------------------------- */

static void
app_deployed(struct store *s, const char *app, const char *digest)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(s, &st, "UPDATE apps SET config_digest = ?, "
	    "needs_deploy = 0, updated_at = ? WHERE name = ?", &e) < 0)
		fatalx("%s", e.msg);
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, wall_ms());
	sqlite3_bind_text(st, 3, app, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		fatalx("store: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
}

static void
cutover(struct deploy *dp)
{
	struct store *s = dp->env->store;
	struct err e;
	size_t i;
	char detail[64];

	step_begin(dp, "cutover", NULL);
	/* One transaction: there is never a moment with two live releases or none. */
	if (store_begin(s, &e) < 0 ||
	    (dp->has_prev && release_set_status(s, dp->prev.id,
	    RELEASE_SUPERSEDED, NULL, NULL, NULL, &e) < 0) ||
	    release_set_status(s, dp->rel.id, RELEASE_LIVE, NULL, NULL, NULL,
	    &e) < 0)
		fatalx("%s", e.msg);
	app_deployed(s, dp->rel.app, dp->rel.config_digest);
	if (store_commit(s, &e) < 0)
		fatalx("%s", e.msg);
	for (i = 0; i < dp->ngated; i++)
		if (dp->gated[i].m != NULL) {
			dp->gated[i].m->hook = watch_hook;
			dp->gated[i].m->deploying = false;
		}
	/*
	 * Behind the router: the new servers go ready as the old ones drain, and
	 * the old stay as backups, so a new server that fails sends its requests
	 * to them at once.
	 */
	routes_set(dp, true, MACHINE_ROUTE_LIVE, 0);
	routes_set(dp, false, MACHINE_ROUTE_WARM, 0);
	routes_sync(dp);
	step_end(dp, true, dp->routed ? "router: new servers ready, previous "
	    "ones draining and kept as backups" : NULL);
	dp->phase = PHASE_WATCH;
	for (i = 0; i < dp->ngated; i++)
		dp->gated[i].fails = 0;
	snprintf(detail, sizeof(detail), "%llds; previous machines kept warm",
	    (long long)(dp->app->deploy.watch_ms / 1000));
	step_begin(dp, "watch", detail);
	uv_timer_start(dp->timer, watch_over, (uint64_t)dp->app->deploy.watch_ms,
	    0);
	if (dp->routed)
		uv_timer_start(dp->rules_timer, rules_check, RULES_MS, RULES_MS);
}

/* ---- canary -------------------------------------------------------------- */

static void
canary_over(uv_timer_t *t)
{
	struct deploy *dp = t->data;
	struct metrics_sum m;
	char detail[160] = "";

	if (dp->env->metrics != NULL && metrics_query(dp->env->metrics,
	    dp->rel.app, dp->rel.version, NULL, dp->app->deploy.watch_ms,
	    wall_ms(), &m) == 0)
		snprintf(detail, sizeof(detail), "%llu requests, 5xx %.1f%%, "
		    "p95 %.0fms", (unsigned long long)m.requests,
		    m.rate_5xx * 100, m.p95 / 1000);
	uv_timer_stop(dp->rules_timer);
	step_end(dp, true, detail[0] ? detail : NULL);
	routes_set(dp, false, MACHINE_ROUTE_AUTO, 0);
	cutover(dp);
}

/* Weights that give n servers share percent of the traffic, out of 200. */
static int
canary_weight(int percent, size_t n)
{
	long w = n > 0 ? lround(2.0 * percent / (double)n) : 1;

	return (int)(w < 1 ? 1 : w > 256 ? 256 : w);
}

static void
canary_start(struct deploy *dp)
{
	size_t i, nnew = 0, nold = 0;
	char detail[96];

	for (i = 0; i < dp->ngated; i++)
		if (dp->gated[i].m != NULL && machine_routed(dp, dp->gated[i].m))
			nnew++;
	for (i = 0; i < dp->nold; i++)
		if (dp->old[i].m != NULL && machine_routed(dp, dp->old[i].m))
			nold++;
	dp->phase = PHASE_CANARY;
	routes_set(dp, true, MACHINE_ROUTE_LIVE, canary_weight(dp->canary,
	    nnew));
	routes_set(dp, false, MACHINE_ROUTE_LIVE, canary_weight(100 -
	    dp->canary, nold));
	routes_sync(dp);
	snprintf(detail, sizeof(detail), "%d%% of the traffic for %llds",
	    dp->canary, (long long)(dp->app->deploy.watch_ms / 1000));
	step_begin(dp, "canary", detail);
	uv_timer_start(dp->timer, canary_over, (uint64_t)dp->app->deploy.watch_ms,
	    0);
	uv_timer_start(dp->rules_timer, rules_check, RULES_MS, RULES_MS);
}

static bool
has_routed_old(const struct deploy *dp)
{
	size_t i;

	for (i = 0; i < dp->nold; i++)
		if (dp->old[i].m != NULL && machine_routed(dp, dp->old[i].m))
			return true;
	return false;
}

/* ---- health gate --------------------------------------------------------- */

static void smoke_over(uv_timer_t *);

/* What the gate saw of each machine: "web[0] 3 passes in a row, 4 checks". */
static char *
gate_detail(const struct deploy *dp)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = dp->batch_from; i < dp->batch_to; i++) {
		const struct gated *g = &dp->gated[i];

		if (g->m == NULL)
			continue;
		buf_printf(&b, "%s%s[%d] ", b.len ? "; " : "", g->m->process,
		    g->m->idx);
		if (g->checks == 0)
			buf_addstr(&b, "started (no health check)");
		else
			buf_printf(&b, "%d pass%s in a row, %d check%s", g->passes,
			    g->passes == 1 ? "" : "es", g->checks,
			    g->checks == 1 ? "" : "s");
	}
	return buf_detach(&b);
}

static void
gate_check(struct deploy *dp)
{
	char *detail;
	size_t i;

	for (i = dp->batch_from; i < dp->batch_to; i++)
		if (!dp->gated[i].healthy)
			return;
	detail = gate_detail(dp);
	step_end(dp, true, detail);
	free(detail);
	dp->phase = PHASE_SMOKE;
	step_begin(dp, "smoke", NULL);
	uv_timer_start(dp->timer, smoke_over, (uint64_t)dp->app->deploy.smoke_ms,
	    0);
}

static bool
gate_hook(struct machine *m, enum machine_event ev, const char *detail,
    void *arg)
{
	struct gated *g = arg;
	struct deploy *dp = g->dp;
	const struct cfg_health *h = &m->cfg->health;
	char why[512];

	if (dp->phase != PHASE_GATE && dp->phase != PHASE_SMOKE &&
	    dp->phase != PHASE_CANARY)
		return false;
	switch (ev) {
	case MACHINE_EV_EXITED:
		snprintf(why, sizeof(why), "machine %s (%s) %s before it was "
		    "live", m->id, m->process, detail);
		deploy_fail(dp, dp->phase == PHASE_GATE ? "health" :
		    dp->phase == PHASE_SMOKE ? "smoke" : "canary",
		    why, json_pack("{s:[o]}", "machines",
		    machine_evidence(dp, m, "exited")));
		return true;
	case MACHINE_EV_HEALTH_PASS:
		g->checks++;
		g->fails = 0;
		if (++g->passes >= h->passes && !g->healthy) {
			g->healthy = true;
			gate_check(dp);
		}
		return false;
	case MACHINE_EV_HEALTH_FAIL:
		g->checks++;
		g->passes = 0;
		if (mono_ms() - m->started_mono < (uint64_t)h->grace_ms)
			return false;
		if (++g->fails >= h->failures && dp->phase == PHASE_GATE) {
			json_t *ev = machine_evidence(dp, m, "health failing");

			json_object_set_new(ev, "check", json_string(detail));
			snprintf(why, sizeof(why), "machine %s (%s) failed %d "
			    "health checks: %s", m->id, m->process, g->fails,
			    detail);
			deploy_fail(dp, "health", why, json_pack("{s:[o]}",
			    "machines", ev));
		}
		return false;
	}
	return false;
}

static void
gate_timeout(uv_timer_t *t)
{
	struct deploy *dp = t->data;
	json_t *ms = json_array();
	char why[256];
	size_t i;

	for (i = dp->batch_from; i < dp->batch_to; i++)
		if (!dp->gated[i].healthy && dp->gated[i].m != NULL)
			json_array_append_new(ms, machine_evidence(dp, 
			    dp->gated[i].m, "not healthy"));
	snprintf(why, sizeof(why), "not healthy within %llds",
	    (long long)(dp->app->deploy.timeout_ms / 1000));
	deploy_fail(dp, "health", why, json_pack("{s:o}", "machines", ms));
}

static void
smoke_over(uv_timer_t *t)
{
	struct deploy *dp = t->data;
	size_t i;

	step_end(dp, true, NULL);
	/* Rolling: a healthy replacement retires the machine it replaces. */
	for (i = dp->batch_from; i < dp->batch_to; i++) {
		int oi = dp->gated[i].old_idx;
		struct machine *m = dp->gated[i].m;

		if (oi < 0)
			continue;
		if (m != NULL && machine_routed(dp, m))
			m->route = MACHINE_ROUTE_LIVE;
		if (dp->old[oi].m != NULL) {
			dp->env->rt.retire(dp->old[oi].m);
			dp->old[oi].m = NULL;
		}
	}
	routes_sync(dp);
	dp->batch_from = dp->batch_to;
	if (dp->batch_from < dp->ngated) {
		deploy_next_batch(dp);
		return;
	}
	if (dp->canary > 0 && dp->routed && has_routed_old(dp)) {
		canary_start(dp);
		return;
	}
	if (dp->canary > 0)
		step_mark(dp, "warning", dp->routed ? "canary skipped: no "
		    "previous release serves behind the router" : "canary "
		    "skipped: no process group of the app has a public "
		    "address");
	cutover(dp);
}

/* Starts the machines of the next batch and puts them under the gate. */
static void
deploy_next_batch(struct deploy *dp)
{
	int64_t longest_grace = 0;
	struct buf started = BUF_INIT;
	size_t i;
	bool rolling = dp->gated[dp->batch_from].old_idx >= 0;

	dp->batch_to = rolling ? dp->batch_from + 1 : dp->ngated;
	if (!rolling)
		for (i = dp->batch_from; i < dp->ngated; i++)
			if (dp->gated[i].old_idx >= 0) {
				dp->batch_to = i;
				break;
			}
	step_begin(dp, "start", NULL);
	for (i = dp->batch_from; i < dp->batch_to; i++) {
		struct machine *m = dp->gated[i].m;

		m->hook = gate_hook;
		m->hook_arg = &dp->gated[i];
		dp->env->rt.spawn(m);
		if (m->state != MACHINE_STARTED) {
			char *why = xasprintf("machine %s (%s) did not start: %s",
			    m->id, m->process, m->why);

			deploy_fail(dp, "start", why, json_pack("{s:[o]}",
			    "machines", machine_evidence(dp, m, m->why)));
			free(why);
			buf_release(&started);
			return;
		}
		/* "web[0] pid 4242, port 4101" */
		buf_printf(&started, "%s%s[%d] %s", started.len ? "; " : "",
		    m->process, m->idx, m->why);
		if (m->port <= 0 || !m->cfg->health.enabled)
			dp->gated[i].healthy = true;
		if (m->cfg->health.grace_ms > longest_grace)
			longest_grace = m->cfg->health.grace_ms;
	}
	step_end(dp, true, buf_str(&started));
	buf_release(&started);
	dp->phase = PHASE_GATE;
	step_begin(dp, "health", NULL);
	uv_timer_start(dp->timer, gate_timeout, (uint64_t)(longest_grace +
	    dp->app->deploy.timeout_ms), 0);
	gate_check(dp);
}

/* Creates the new machines, and retires the old ones of immediate groups first. */
static int
deploy_create_machines(struct deploy *dp, struct err *e)
{
	const struct deploy_runtime *rt = &dp->env->rt;
	struct machine *m;
	size_t i, j, n = 0;
	int k;

	for (i = 0; i < dp->app->nprocs; i++)
		n += (size_t)dp->app->procs[i].count;
	dp->gated = xcalloc(n + 1, sizeof(*dp->gated));
	/* Bluegreen and immediate groups first (one batch), then rolling ones. */
	for (int pass = 0; pass < 2; pass++) {
		for (i = 0; i < dp->app->nprocs; i++) {
			const struct cfg_process *p = &dp->app->procs[i];
			enum cfg_strategy s = p->strategy;

			if (s == CFG_STRATEGY_DEFAULT)
				s = p->port_mode == CFG_PORT_NONE ?
				    CFG_STRATEGY_IMMEDIATE :
				    CFG_STRATEGY_BLUEGREEN;
			if ((s == CFG_STRATEGY_ROLLING) != (pass == 1))
				continue;
			if (s == CFG_STRATEGY_BLUEGREEN &&
			    p->port_mode != CFG_PORT_NONE &&
			    strcmp(router_driver(dp->env->router), "none") == 0) {
				char *w = xasprintf("router: none: %s is "
				    "deployed immediate, not bluegreen (without "
				    "a router its clients cannot follow a new "
				    "port)", p->name);

				step_mark(dp, "warning", w);
				free(w);
				s = CFG_STRATEGY_IMMEDIATE;
			}
			if (s == CFG_STRATEGY_IMMEDIATE)
				for (j = 0; j < dp->nold; j++)
					if (dp->old[j].m != NULL && strcmp(
					    dp->old[j].cfg->name, p->name) == 0) {
						dp->env->rt.retire(
						    dp->old[j].m);
						dp->old[j].m = NULL;
					}
			for (k = 0; k < p->count; k++) {
				struct gated *g = &dp->gated[dp->ngated];

				if ((m = rt->add(rt->ctx, dp->rel.app,
				    p, k, &dp->mrel, e)) == NULL)
					return -1;
				g->m = m;
				g->dp = dp;
				g->old_idx = -1;
				if (s == CFG_STRATEGY_ROLLING)
					for (j = 0; j < dp->nold; j++)
						if (dp->old[j].idx == k &&
						    strcmp(dp->old[j].cfg->name,
						    p->name) == 0)
							g->old_idx = (int)j;
				dp->ngated++;
			}
		}
	}
	return 0;
}

static void
deploy_start_machines(struct deploy *dp)
{
	struct err e;

	if (deploy_create_machines(dp, &e) < 0) {
		step_begin(dp, "start", NULL);
		deploy_fail(dp, "start", e.msg, NULL);
		return;
	}
	dp->batch_from = 0;
	if (dp->ngated == 0) {
		cutover(dp);
		return;
	}
	deploy_next_batch(dp);
}

/* ---- release command ----------------------------------------------------- */

/*
 * The release command's process and pipes live on their own: a deploy aborted or freed
 * while it runs detaches (dp = NULL) and the handles free themselves when closed.
 */
struct rc {
	uv_process_t	 proc;
	uv_pipe_t	 out[2];		/* stdout, stderr */
	int		 open;
	bool		 timed_out;
	struct buf	 output;		/* the last OUTPUT_KEEP bytes */
	struct deploy	*dp;
};

static void
rc_closed(uv_handle_t *h)
{
	struct rc *r = h->data;

	if (--r->open == 0) {
		buf_release(&r->output);
		free(r);
	}
}

static void
rc_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	static char chunk[4096];

	(void)h;
	(void)suggested;
	b->base = chunk;
	b->len = sizeof(chunk);
}

static void
rc_append(struct rc *r, const char *p, size_t n)
{
	buf_add(&r->output, p, n);
	/* Keep the end: that is where the error is. */
	if (r->output.len > OUTPUT_KEEP) {
		size_t cut = r->output.len - OUTPUT_KEEP;

		memmove(r->output.data, r->output.data + cut, OUTPUT_KEEP + 1);
		r->output.len = OUTPUT_KEEP;
	}
}

static void
rc_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct rc *r = s->data;

	if (n > 0)
		rc_append(r, b->base, (size_t)n);
	if (n < 0)
		uv_read_stop(s);
}

static void
rc_exited(uv_process_t *p, int64_t status, int sig)
{
	struct rc *r = p->data;
	struct deploy *dp = r->dp;
	char why[256];
	int i;

	/* The exit can come before the pipes' last bytes: take them now. */
	for (i = 0; i < 2; i++) {
		char chunk[4096];
		uv_os_fd_t fd;
		ssize_t n;

		if (uv_fileno((uv_handle_t *)&r->out[i], &fd) == 0)
			while ((n = read(fd, chunk, sizeof(chunk))) > 0)
				rc_append(r, chunk, (size_t)n);
	}
	if (dp == NULL)
		goto close;
	dp->rc = NULL;
	uv_timer_stop(dp->timer);
	if (status == 0 && sig == 0) {
		step_end(dp, true, NULL);
		deploy_start_machines(dp);
		goto close;
	}
	if (r->timed_out)
		snprintf(why, sizeof(why), "release_command did not finish "
		    "within %llds", (long long)(dp->app->release_timeout_ms /
		    1000));
	else if (sig)
		snprintf(why, sizeof(why), "release_command killed by signal "
		    "%d", sig);
	else
		snprintf(why, sizeof(why), "release_command exited with code "
		    "%lld", (long long)status);
	deploy_fail(dp, "release_command", why, json_pack("{s:I, s:s}",
	    "exit_code", (json_int_t)(sig ? 128 + sig : status), "output",
	    buf_str(&r->output)));
close:
	uv_close((uv_handle_t *)&r->proc, rc_closed);
	uv_close((uv_handle_t *)&r->out[0], rc_closed);
	uv_close((uv_handle_t *)&r->out[1], rc_closed);
}

static void
rc_timeout(uv_timer_t *t)
{
	struct deploy *dp = t->data;

	if (dp->rc != NULL) {
		dp->rc->timed_out = true;
		kill(-dp->rc->proc.pid, SIGKILL);
	}
}

/* Leaves the command to end on its own (killed), its handles to close themselves. */
static void
rc_detach(struct deploy *dp)
{
	if (dp->rc == NULL)
		return;
	dp->rc->dp = NULL;
	kill(-dp->rc->proc.pid, SIGKILL);
	dp->rc = NULL;
}

static void
run_release_command(struct deploy *dp)
{
	const struct cfg_app *a = dp->app;
	uv_process_options_t opt;
	uv_stdio_container_t stdio[3];
	size_t i, vl = strlen(CFG_RELEASE_DIR_VAR);
	char **argv = xcalloc(a->release_argc + 1, sizeof(char *));
	struct rc *r = xcalloc(1, sizeof(*r));
	char *envv[8];
	const char *v;
	int rc, n = 0;

	step_begin(dp, "release_command", a->release_command[0]);
	for (i = 0; i < a->release_argc; i++)
		argv[i] = strncmp(a->release_command[i], CFG_RELEASE_DIR_VAR,
		    vl) == 0 ? xasprintf("%s%s", dp->mrel.dir,
		    a->release_command[i] + vl) : xstrdup(a->release_command[i]);
	if ((v = getenv("PATH")) != NULL)
		envv[n++] = xasprintf("PATH=%s", v);
	envv[n++] = xasprintf("OPSDECK_APP=%s", dp->rel.app);
	envv[n++] = xasprintf("OPSDECK_RELEASE=v%d", dp->rel.version);
	envv[n++] = xasprintf("OPSDECK_RELEASE_DIR=%s", dp->mrel.dir);
	envv[n] = NULL;
	buf_init(&r->output, 0);
	r->dp = dp;
	r->proc.data = r;
	for (i = 0; i < 2; i++) {
		uv_pipe_init(dp->env->loop, &r->out[i], 0);
		r->out[i].data = r;
	}
	memset(&opt, 0, sizeof(opt));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&r->out[0];
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&r->out[1];
	opt.file = argv[0];
	opt.args = argv;
	opt.env = envv;
	opt.cwd = dp->mrel.dir;
	opt.flags = UV_PROCESS_DETACHED;
	opt.exit_cb = rc_exited;
	opt.stdio = stdio;
	opt.stdio_count = 3;
	rc = uv_spawn(dp->env->loop, &r->proc, &opt);
	for (i = 0; argv[i] != NULL; i++)
		free(argv[i]);
	free(argv);
	for (i = 0; envv[i] != NULL; i++)
		free(envv[i]);
	r->open = 3;
	if (rc != 0) {
		char why[512];

		snprintf(why, sizeof(why), "cannot run release_command '%s': %s",
		    a->release_command[0], uv_strerror(rc));
		r->dp = NULL;
		uv_close((uv_handle_t *)&r->proc, rc_closed);
		uv_close((uv_handle_t *)&r->out[0], rc_closed);
		uv_close((uv_handle_t *)&r->out[1], rc_closed);
		deploy_fail(dp, "release_command", why, NULL);
		return;
	}
	dp->rc = r;
	uv_read_start((uv_stream_t *)&r->out[0], rc_alloc, rc_read);
	uv_read_start((uv_stream_t *)&r->out[1], rc_alloc, rc_read);
	uv_timer_start(dp->timer, rc_timeout, (uint64_t)a->release_timeout_ms,
	    0);
}

/* ---- start --------------------------------------------------------------- */

struct deploy *
deploy_start(struct deploy_env *env, struct release *rel,
    struct release *prev, int canary, struct err *e)
{
	struct deploy *dp = xcalloc(1, sizeof(*dp));
	struct machine *m;
	char detail[256];

	dp->env = env;
	dp->rel = *rel;
	memset(rel, 0, sizeof(*rel));
	if (prev != NULL) {
		dp->prev = *prev;
		dp->has_prev = true;
		memset(prev, 0, sizeof(*prev));
	}
	dp->timer = xcalloc(1, sizeof(*dp->timer));
	uv_timer_init(env->loop, dp->timer);
	dp->timer->data = dp;
	dp->rules_timer = xcalloc(1, sizeof(*dp->rules_timer));
	uv_timer_init(env->loop, dp->rules_timer);
	dp->rules_timer->data = dp;
	dp->canary = canary;
	dp->mrel.id = dp->rel.id;
	dp->mrel.version = dp->rel.version;
	dp->mrel.dir = xasprintf("%s/artifacts/%s", env->state_dir,
	    dp->rel.artifact);
	dp->mrel.secrets_version = dp->rel.secrets_version;
	if (release_set_status(env->store, dp->rel.id, RELEASE_DEPLOYING, NULL,
	    NULL, NULL, e) < 0)
		goto fail;
	snprintf(detail, sizeof(detail), "artifact %.12s, secrets v%d",
	    dp->rel.artifact, dp->rel.secrets_version);
	step_begin(dp, "prepare", detail);
	if ((dp->app = env->release_app(env->arg, &dp->rel)) == NULL) {
		err_set(e, "the config snapshot of %s v%d has no app '%s'",
		    dp->rel.app, dp->rel.version, dp->rel.app);
		goto fail_step;
	}
	if (access(dp->mrel.dir, R_OK | X_OK) < 0) {
		err_errno(e, "artifact '%s' is not in the state dir", dp->rel.artifact);
		goto fail_step;
	}
	dp->prev_app = dp->has_prev ? env->release_app(env->arg, &dp->prev) :
	    NULL;
	for (size_t i = 0; i < dp->app->nprocs; i++)
		if (router_routes(env->router, dp->rel.app,
		    dp->app->procs[i].name))
			dp->routed = true;
	/* What runs now, so it can be kept warm, replaced, or started again. */
	for (m = env->rt.machines(env->rt.ctx); m != NULL; m = m->next) {
		struct old *o;

		if (strcmp(m->app, dp->rel.app) != 0 || m->retired ||
		    m->deploying || m->cfg == NULL)
			continue;
		dp->old = xreallocarray(dp->old, dp->nold + 1, sizeof(*dp->old));
		o = &dp->old[dp->nold++];
		o->m = m;
		snprintf(o->id, sizeof(o->id), "%s", m->id);
		o->cfg = m->cfg;
		o->idx = m->idx;
		o->rel = m->release;
		o->rel.dir = m->release.dir ? xstrdup(m->release.dir) : NULL;
	}
	step_end(dp, true, NULL);
	if (dp->app->release_command != NULL) {
		dp->phase = PHASE_RELEASE_COMMAND;
		run_release_command(dp);
	} else
		deploy_start_machines(dp);
	return dp;
fail_step:
	step_end(dp, false, e->msg);
fail:
	release_set_status(env->store, dp->rel.id, RELEASE_FAILED, "prepare",
	    e->msg, NULL, e);
	deploy_lock_drop(env->store, dp->rel.app);
	dp->ended = true;
	deploy_free(dp);
	return NULL;
}

/* Marks the app's machines of the live side as wanted running again. */
static void
machines_wanted(struct store *s, const char *app, int64_t release_id,
    bool of_release)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(s, &st, of_release ? "UPDATE machines SET desired = "
	    "'running' WHERE app = ? AND release_id = ?" : "UPDATE machines SET "
	    "desired = 'running' WHERE app = ? AND ifnull(release_id, 0) != ?",
	    &e) < 0)
		fatalx("%s", e.msg);
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, release_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		fatalx("store: %s", sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
}

void
deploy_recover(struct store *s)
{
	sqlite3_stmt *st = NULL;
	struct release r;
	struct err e;
	char **apps = NULL;
	int64_t *ids = NULL;
	size_t n = 0, i;

	if (store_prepare(s, &st, "SELECT app, release_id FROM deploy_locks",
	    &e) < 0)
		fatalx("%s", e.msg);
	while (sqlite3_step(st) == SQLITE_ROW) {
		apps = xreallocarray(apps, n + 1, sizeof(*apps));
		ids = xreallocarray(ids, n + 1, sizeof(*ids));
		apps[n] = xstrdup((const char *)sqlite3_column_text(st, 0));
		ids[n++] = sqlite3_column_int64(st, 1);
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		int64_t step;

		if (release_load_id(s, ids[i], &r, &e) == 0) {
			bool live = r.status == RELEASE_LIVE;

			/*
			 * The machines the live release keeps were maybe retired
			 * (immediate, rolling) when the daemon died: run them.
			 */
			machines_wanted(s, r.app, r.id, live);
			release_steps_interrupt(s, r.id);
			/* Before cutover the previous release still is the live one. */
			if (!live && r.status != RELEASE_FAILED &&
			    r.status != RELEASE_ROLLED_BACK) {
				release_set_status(s, r.id, RELEASE_FAILED,
				    "interrupted", "opsdeck stopped during the "
				    "deploy; the previous release stays live",
				    NULL, &e);
				step = release_step_begin(s, r.id, "recovered",
				    "opsdeck restarted: new machines stopped, "
				    "previous release kept");
			} else if (live)
				step = release_step_begin(s, r.id, "recovered",
				    "opsdeck restarted after cutover: this "
				    "release stays live, previous machines "
				    "stopped");
			else
				step = release_step_begin(s, r.id, "recovered",
				    "opsdeck restarted after the deploy ended; "
				    "its lock is released");
			release_step_end(s, step, true, NULL);
			log_warnx("%s v%d: deploy interrupted by a restart; "
			    "recovered", r.app, r.version);
			release_release(&r);
		}
		deploy_lock_drop(s, apps[i]);
		free(apps[i]);
	}
	free(apps);
	free(ids);
}
