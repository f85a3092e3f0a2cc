#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "monitor/cond.h"
#include "monitor/cron.h"
#include "monitor/heartbeat.h"
#include "monitor/notify.h"
#include "monitor/probe.h"
#include "monitor/sched.h"
#include "ledger/tasks.h"
#include "monitor/watch.h"

#define RING		64		/* results kept per check */
#define TICK_MS		1000
#define RETAIN_MINUTES_MS (7LL * 24 * 3600 * 1000)
#define DETAIL_MAX	300
/*
 * Checks' probes in flight at once: a due check past it waits its turn. Below the
 * prober's connection cache (1024), so every connection of a full flight is kept;
 * fewer connections to one host make each of curl's lookups for one shorter
 * (256 sustains about 12 % more probes/s than 512: bench/README.md).
 */
#define WATCH_MAX_INFLIGHT 256

enum wstatus { W_UNKNOWN, W_UP, W_DOWN };

struct wresult {
	int64_t		 at;		/* wall ms */
	int32_t		 ms;
	int16_t		 status;
	bool		 ok;
};

struct wminute {
	int64_t		 minute;	/* wall ms of its start */
	uint32_t	 runs, failures;
	uint64_t	 sum_ms;
	uint32_t	 max_ms;
};

struct wcheck {
	struct watch	*w;
	const struct cfg_check *cc;
	char		*name;
	struct cond	*conds;
	size_t		 nconds;
	char		*url;
	char		**headers;	/* "Name: value", NULL-terminated */
	uv_timer_t	 timer;
	int64_t		 base, phase;	/* monotonic ms */
	int64_t		 due;
	struct probe	*running;
	struct wcheck	*wait_next, *wait_prev;	/* in w->waiting */
	bool		 waiting;	/* due, for a free place in flight */
	uint64_t	 runs, skipped;
	enum wstatus	 status;
	int		 fails_in_row, oks_in_row;
	uint64_t	 outcomes;	/* bit i: run (runs-1-i) failed */
	bool		 flapping;
	int64_t		 incident;	/* open, 0 none */
	struct wresult	 ring[RING];
	char		 detail[DETAIL_MAX];	/* the last run's */
	struct wminute	 cur;
	bool		 gone;		/* removed by a reload: freed once closed */
};

struct wheart {
	const struct cfg_heartbeat *hc;
	char		*name;
	struct cron	 cron;
	struct tz	*tz;
	struct hb_state	 st;
	enum hb_status	 status;
	int64_t		 incident;
	char		*message;
	char		*task;		/* the task an agent reported doing */
	int64_t		 pings;
};

struct wmaint {
	const struct cfg_maintenance *mc;
	struct cron	 cron;
	struct tz	*tz;
};

struct watch {
	uv_loop_t	*loop;
	struct store	*store;
	const struct config *cfg;
	struct prober	*pr;
	struct notifier	*nt;
	struct watch_metrics metrics;	/* for route and health checks */
	struct cfg_check *health;	/* the apps' health checks, made from cfg */
	size_t		 nhealth;
	struct wcheck	**checks;
	size_t		 nchecks;
	struct wheart	*hbs;
	size_t		 nhbs;
	struct wmaint	*maint;
	size_t		 nmaint;
	uv_timer_t	 tick;
	int64_t		 clock_offset;
	bool		 test_clock;
	struct wminute	*flush;		/* finished minutes to write */
	char		**flush_names;
	size_t		 nflush;
	int64_t		 last_retention;
	size_t		 inflight;	/* checks' probes running */
	struct wcheck	*wait_head, *wait_tail;	/* due, first come first */
	size_t		 nwaiting;
	uint64_t	 waited;	/* runs that waited their turn */
	uint64_t	 waited_said;	/* w->waited when last logged */
	int64_t		 waited_at;	/* monotonic ms of that log, or -1 */
	int		 open_handles;
	bool		 freeing;
};

static void watch_tick(uv_timer_t *);
static void heartbeats_eval(struct watch *);

int64_t
watch_now(const struct watch *w)
{
	return wall_ms() + w->clock_offset;
}

static int64_t
now_cb(void *ctx)
{
	return watch_now(ctx);
}

static void
iso(int64_t ms, char out[32])
{
	format_time(ms, out);
}

/* ---- the store: incidents, their events, maintenance -------------------- */

static void
sql_step(struct watch *w, sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		log_warnx("watch: store: %s", sqlite3_errmsg(w->store->db));
	sqlite3_finalize(st);
}

static void
event_add(struct watch *w, int64_t inc, const char *kind, const char *detail)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(w->store, &st, "INSERT INTO incident_events (incident, "
	    "at, kind, detail) VALUES (?, ?, ?, ?)", &e) < 0) {
		log_warnx("watch: %s", e.msg);
		return;
	}
	sqlite3_bind_int64(st, 1, inc);
	sqlite3_bind_int64(st, 2, watch_now(w));
	sqlite3_bind_text(st, 3, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, detail ? detail : "", -1, SQLITE_TRANSIENT);
	sql_step(w, st);
}

static json_t *
time_or_null(sqlite3_stmt *st, int col)
{
	char ts[32];

	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return json_null();
	iso(sqlite3_column_int64(st, col), ts);
	return json_string(ts);
}

#define INCIDENT_COLS "id, source, name, app, severity, title, state, " \
	"opened_at, acked_at, acked_by, resolved_at, held, maintenance"

static json_t *
incident_row(sqlite3_stmt *st)
{
	const char *app = (const char *)sqlite3_column_text(st, 3);
	const char *by = (const char *)sqlite3_column_text(st, 9);

	return json_pack("{s:I, s:s, s:s, s:o, s:s, s:s, s:s, s:o, s:o, s:o, s:o, "
	    "s:b, s:b}", "id", (json_int_t)sqlite3_column_int64(st, 0), "source",
	    sqlite3_column_text(st, 1), "name", sqlite3_column_text(st, 2), "app",
	    app ? json_string(app) : json_null(), "severity",
	    sqlite3_column_text(st, 4), "title", sqlite3_column_text(st, 5),
	    "state", sqlite3_column_text(st, 6), "opened_at", time_or_null(st, 7),
	    "acked_at", time_or_null(st, 8), "acked_by", by ? json_string(by) :
	    json_null(), "resolved_at", time_or_null(st, 10), "held",
	    sqlite3_column_int(st, 11) != 0, "maintenance",
	    sqlite3_column_int(st, 12) != 0);
}

static json_t *
incident_get(struct watch *w, int64_t id)
{
	sqlite3_stmt *st = NULL;
	struct err e;
	json_t *j = NULL;

	if (store_prepare(w->store, &st, "SELECT " INCIDENT_COLS " FROM incidents "
	    "WHERE id = ?", &e) < 0)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	if (sqlite3_step(st) == SQLITE_ROW)
		j = incident_row(st);
	sqlite3_finalize(st);
	return j;
}

static void
notice(struct watch *w, int64_t id, const char *event, const char *detail)
{
	json_t *inc = incident_get(w, id);
	sqlite3_stmt *st = NULL;
	struct err e;

	if (inc == NULL)
		return;
	if (notify_queue(w->nt, inc, event, detail) > 0)
		event_add(w, id, "notified", event);
	json_decref(inc);
	if (store_prepare(w->store, &st, "UPDATE incidents SET last_notice_at = ? "
	    "WHERE id = ?", &e) == 0) {
		sqlite3_bind_int64(st, 1, watch_now(w));
		sqlite3_bind_int64(st, 2, id);
		sql_step(w, st);
	}
}

/* The maintenance window over check or heartbeat name of app now, or NULL. */
static const char *
in_maintenance(struct watch *w, const char *name, const char *app, char *buf,
    size_t cap)
{
	int64_t now = watch_now(w);
	sqlite3_stmt *st = NULL;
	struct err e;
	size_t i, j;
	bool found = false;

	for (i = 0; i < w->nmaint; i++) {
		const struct cfg_maintenance *m = w->maint[i].mc;
		bool covers = m->nchecks == 0 && m->napps == 0;
		int64_t start;

		for (j = 0; j < m->nchecks && !covers; j++)
			covers = strcmp(m->checks[j], name) == 0;
		for (j = 0; j < m->napps && !covers && app; j++)
			covers = strcmp(m->apps[j], app) == 0;
		if (!covers)
			continue;
		/* The last start at or before now, if the window is still on. */
		start = cron_next(&w->maint[i].cron, w->maint[i].tz,
		    (now - m->duration_ms) / 1000 - 1);
		if (start >= 0 && start * 1000 <= now && now < start * 1000 +
		    m->duration_ms) {
			snprintf(buf, cap, "%s", m->name);
			return buf;
		}
	}
	if (store_prepare(w->store, &st, "SELECT id, target FROM maintenance WHERE "
	    "ended_at IS NULL AND starts_at <= ?1 AND ends_at > ?1", &e) < 0)
		return NULL;
	sqlite3_bind_int64(st, 1, now);
	while (!found && sqlite3_step(st) == SQLITE_ROW) {
		const char *t = (const char *)sqlite3_column_text(st, 1);

		if (strcmp(t, "all") == 0 || (strncmp(t, "check:", 6) == 0 &&
		    strcmp(t + 6, name) == 0) || (strncmp(t, "app:", 4) == 0 &&
		    app != NULL && strcmp(t + 4, app) == 0)) {
			snprintf(buf, cap, "#%lld", (long long)sqlite3_column_int64(st,
			    0));
			found = true;
		}
	}
	sqlite3_finalize(st);
	return found ? buf : NULL;
}

/* An incident's id, open or acknowledged, for source and name; 0 when none. */
static int64_t
incident_open_id(struct watch *w, const char *source, const char *name)
{
	sqlite3_stmt *st = NULL;
	struct err e;
	int64_t id = 0;

	if (store_prepare(w->store, &st, "SELECT id FROM incidents WHERE source = ? "
	    "AND name = ? AND state != 'resolved' ORDER BY id DESC LIMIT 1", &e) < 0)
		return 0;
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return id;
}

static int64_t
incident_open(struct watch *w, const char *source, const char *name,
    const char *app, enum cfg_severity sev, const char *title,
    const char *detail, const char *held_by)
{
	sqlite3_stmt *st = NULL;
	struct err e;
	char mbuf[80], *why;
	const char *maint = in_maintenance(w, name, app, mbuf, sizeof(mbuf));
	int64_t id;

	if (store_prepare(w->store, &st, "INSERT INTO incidents (source, name, app, "
	    "severity, title, state, opened_at, held, maintenance) VALUES (?, ?, ?, "
	    "?, ?, 'open', ?, ?, ?)", &e) < 0) {
		log_warnx("watch: %s", e.msg);
		return 0;
	}
	sqlite3_bind_text(st, 1, source, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	if (app != NULL)
		sqlite3_bind_text(st, 3, app, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, cfg_severity_str(sev), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, title, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 6, watch_now(w));
	sqlite3_bind_int(st, 7, held_by != NULL);
	sqlite3_bind_int(st, 8, maint != NULL);
	sql_step(w, st);
	id = sqlite3_last_insert_rowid(w->store->db);
	event_add(w, id, "opened", detail);
	log_info("incident #%lld opened: %s", (long long)id, title);
	if (held_by != NULL) {
		why = xasprintf("held: its parent '%s' is down", held_by);
		event_add(w, id, "held", why);
		free(why);
	} else if (maint != NULL) {
		why = xasprintf("silenced by maintenance %s", maint);
		event_add(w, id, "maintenance", why);
		free(why);
	} else
		notice(w, id, "opened", detail);
	return id;
}

static void
incident_resolve(struct watch *w, int64_t id, const char *detail)
{
	sqlite3_stmt *st = NULL;
	struct err e;
	json_t *inc = incident_get(w, id);
	bool maint;

	if (inc == NULL)
		return;
	maint = json_is_true(json_object_get(inc, "maintenance"));
	json_decref(inc);
	if (store_prepare(w->store, &st, "UPDATE incidents SET state = 'resolved', "
	    "resolved_at = ? WHERE id = ?", &e) < 0)
		return;
	sqlite3_bind_int64(st, 1, watch_now(w));
	sqlite3_bind_int64(st, 2, id);
	sql_step(w, st);
	event_add(w, id, "resolved", detail);
	log_info("incident #%lld resolved", (long long)id);
	/* A held incident's resolve still goes out; a silenced one's does not. */
	if (!maint)
		notice(w, id, "resolved", detail);
}

/* ---- checks -------------------------------------------------------------- */

static struct wcheck *
check_find(struct watch *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->nchecks; i++)
		if (strcmp(w->checks[i]->name, name) == 0)
			return w->checks[i];
	return NULL;
}

static unsigned
popcount64(uint64_t v)
{
	unsigned n = 0;

	for (; v; v &= v - 1)
		n++;
	return n;
}

static void
minute_add(struct watch *w, struct wcheck *c, int64_t at, bool ok, int64_t ms)
{
	int64_t minute = at - at % 60000;

	if (c->cur.runs > 0 && c->cur.minute != minute) {
		w->flush = xreallocarray(w->flush, w->nflush + 1, sizeof(*w->flush));
		w->flush_names = xreallocarray(w->flush_names, w->nflush + 1,
		    sizeof(*w->flush_names));
		w->flush[w->nflush] = c->cur;
		w->flush_names[w->nflush++] = xstrdup(c->name);
		memset(&c->cur, 0, sizeof(c->cur));
	}
	c->cur.minute = minute;
	c->cur.runs++;
	c->cur.failures += !ok;
	c->cur.sum_ms += (uint64_t)(ms > 0 ? ms : 0);
	if (ms > (int64_t)c->cur.max_ms)
		c->cur.max_ms = (uint32_t)ms;
}

static void
check_title(const struct wcheck *c, const char *what, char *out, size_t cap)
{
	snprintf(out, cap, "check %s %s", c->name, what);
}

/* The state after one run: thresholds, flapping, the incident. */
static void
check_judge(struct watch *w, struct wcheck *c, bool ok)
{
	const struct cfg_check *cc = c->cc;
	unsigned recent = 0;
	char title[DETAIL_MAX + 64];

	c->outcomes = c->outcomes << 1 | !ok;
	if (ok) {
		c->oks_in_row++;
		c->fails_in_row = 0;
	} else {
		c->fails_in_row++;
		c->oks_in_row = 0;
	}
	if (cc->flap_runs > 0) {
		uint64_t mask = cc->flap_runs >= 64 ? ~0ULL :
		    (1ULL << cc->flap_runs) - 1;

		recent = popcount64(c->outcomes & mask);
	}
	if (c->status != W_DOWN && c->fails_in_row >= cc->failures) {
		const struct wcheck *parent = cc->depends_on ?
		    check_find(w, cc->depends_on) : NULL;

		c->status = W_DOWN;
		if (c->incident == 0) {
			check_title(c, "down", title, sizeof(title));
			/* held while the parent is down, or failing on its way there */
			c->incident = incident_open(w, "check", c->name, cc->app,
			    cc->severity, title, c->detail, parent != NULL &&
			    (parent->status == W_DOWN || parent->fails_in_row > 0) ?
			    parent->name : NULL);
		}
		c->flapping = false;
		return;
	}
	if (c->status == W_DOWN && c->oks_in_row >= cc->successes) {
		c->status = W_UP;
		if (c->incident != 0 && !c->flapping) {
			incident_resolve(w, c->incident, "passed again");
			c->incident = 0;
		}
	} else if (c->status == W_UNKNOWN && ok)
		c->status = W_UP;
	if (cc->flap_failures > 0 && c->status != W_DOWN) {
		if (!c->flapping && recent >= (unsigned)cc->flap_failures) {
			char d[64];

			c->flapping = true;
			snprintf(d, sizeof(d), "flapping: %u of the last %d runs "
			    "failed", recent, cc->flap_runs);
			snprintf(title, sizeof(title), "check %s %s", c->name, d);
			if (c->incident == 0)
				c->incident = incident_open(w, "check", c->name,
				    cc->app, cc->severity, title, c->detail, NULL);
		} else if (c->flapping && recent < (unsigned)cc->flap_failures &&
		    ok) {
			c->flapping = false;
			if (c->incident != 0) {
				incident_resolve(w, c->incident, "no longer flapping");
				c->incident = 0;
			}
		}
	}
}

/* Whether r passes c's conditions; the first failure (or all) into detail. */
static bool
check_eval(const struct cfg_check *cc, const struct cond *conds, size_t nconds,
    const struct probe_result *r, char *detail, size_t cap, json_t *each)
{
	struct cond_input in = { .status = (int)r->status, .response_ms =
	    r->elapsed_ms, .body = r->body, .body_len = r->body_len, .connected =
	    r->connected, .cert_expiry_ms = r->cert_expiry_ms, .ip = r->ip };
	void *cache = NULL;
	bool ok = true;
	size_t i;

	detail[0] = '\0';
	if (r->error != NULL && (cc->kind == CFG_CHECK_TCP || r->status == 0)) {
		snprintf(detail, cap, "%s", r->error);
		ok = nconds > 0 ? ok : false;
	}
	if (nconds == 0) {
		bool pass = cc->kind == CFG_CHECK_TCP ? r->connected && r->error ==
		    NULL : r->status > 0 && r->status < 400;

		if (!pass && detail[0] == '\0')
			snprintf(detail, cap, "[STATUS] (%ld) < 400", r->status);
		else if (pass)
			snprintf(detail, cap, "%s", cc->kind == CFG_CHECK_TCP ?
			    "[CONNECTED] == true" : "[STATUS] < 400");
		return pass;
	}
	for (i = 0; i < nconds; i++) {
		char d[DETAIL_MAX];
		bool pass = cond_eval(&conds[i], &in, &cache, d, sizeof(d));

		if (each != NULL)
			json_array_append_new(each, json_pack("{s:s, s:b, s:s}",
			    "condition", conds[i].text, "ok", pass, "detail", d));
		if (!pass && ok) {
			if (detail[0] == '\0' || r->status > 0)
				snprintf(detail, cap, "%s", d);
			ok = false;
		} else if (ok && i == 0 && detail[0] == '\0')
			snprintf(detail, cap, "%s", d);
	}
	cond_body_release(cache);
	if (r->error != NULL && r->status == 0)
		ok = false;
	return ok;
}

static void check_schedule(struct wcheck *);
static void waiting_start(struct watch *);

/* One run's outcome into the ring, the minute and the check's state. */
static void
check_record(struct wcheck *c, bool ok, int64_t ms, long status)
{
	struct watch *w = c->w;
	struct wresult *res;
	int64_t at = watch_now(w);

	res = &c->ring[c->runs % RING];
	res->at = at;
	res->ms = (int32_t)ms;
	res->status = (int16_t)status;
	res->ok = ok;
	c->runs++;
	minute_add(w, c, at, ok, ms);
	check_judge(w, c, ok);
}

static void
check_done(void *arg, const struct probe_result *r)
{
	struct wcheck *c = arg;
	bool ok;

	c->running = NULL;
	c->w->inflight--;
	ok = check_eval(c->cc, c->conds, c->nconds, r, c->detail,
	    sizeof(c->detail), NULL);
	check_record(c, ok, r->elapsed_ms, r->status);
	waiting_start(c->w);
}

/*
 * A route check: the conditions on the router's metrics of the app's route over the
 * window. Fewer than min_requests requests is not judged: no traffic is no failure.
 */
static void
route_run(struct wcheck *c)
{
	const struct cfg_check *cc = c->cc;
	struct watch_route_sum sum;
	struct cond_input in;
	void *cache = NULL;
	bool ok = true;
	size_t i;

	memset(&sum, 0, sizeof(sum));
	if (c->w->metrics.query == NULL || c->w->metrics.query(c->w->metrics.ctx,
	    cc->app, cc->target, cc->window_ms, &sum) < 0) {
		c->skipped++;
		snprintf(c->detail, sizeof(c->detail), "no request metrics for app "
		    "%s (is it behind the router?): not judged", cc->app);
		return;
	}
	if (sum.requests < (uint64_t)cc->min_requests) {
		snprintf(c->detail, sizeof(c->detail), "%llu requests in the last "
		    "%llds, fewer than min_requests %d: not judged",
		    (unsigned long long)sum.requests, (long long)(cc->window_ms /
		    1000), cc->min_requests);
		check_record(c, true, 0, 0);
		return;
	}
	memset(&in, 0, sizeof(in));
	in.has_route = true;
	in.p50_ms = sum.p50_ms;
	in.p95_ms = sum.p95_ms;
	in.p99_ms = sum.p99_ms;
	in.max_ms = sum.max_ms;
	in.requests = sum.requests;
	in.error_pct = 100.0 * (double)sum.errors / (double)sum.requests;
	in.rps = sum.rps;
	c->detail[0] = '\0';
	for (i = 0; i < c->nconds; i++) {
		char d[DETAIL_MAX];
		bool pass = cond_eval(&c->conds[i], &in, &cache, d, sizeof(d));

		if ((!pass && ok) || (i == 0 && pass))
			snprintf(c->detail, sizeof(c->detail), "%s", d);
		ok = ok && pass;
	}
	cond_body_release(cache);
	check_record(c, ok, (int64_t)sum.p95_ms, 0);
}

/* A check whose runs are probes (not route or health checks, judged in place). */
static bool
check_probes(const struct cfg_check *cc)
{
	return cc->kind == CFG_CHECK_HTTP || cc->kind == CFG_CHECK_TCP;
}

/*
 * A health check: an app process group's machines by their own health checks
 * (run by the supervisor). It fails while one that should run fails its check or
 * is not running; with no machine meant to run (stopped by the operator), it is
 * not judged.
 */
static void
health_run(struct wcheck *c)
{
	const struct cfg_check *cc = c->cc;
	struct watch_health_sum sum;

	if (c->w->metrics.health == NULL || c->w->metrics.health(c->w->metrics.ctx,
	    cc->app, cc->process, &sum) < 0) {
		c->skipped++;
		snprintf(c->detail, sizeof(c->detail), "no fleet: not judged");
		return;
	}
	if (sum.machines == 0) {
		snprintf(c->detail, sizeof(c->detail), "no machine of %s/%s meant to "
		    "run: not judged", cc->app, cc->process);
		check_record(c, true, 0, 0);
		return;
	}
	if (sum.failing + sum.down == 0)
		snprintf(c->detail, sizeof(c->detail), "%d of %d machines passing",
		    sum.passing, sum.machines);
	else
		snprintf(c->detail, sizeof(c->detail), "%d of %d machines failing "
		    "or down; %s", sum.failing + sum.down, sum.machines, sum.detail);
	check_record(c, sum.failing + sum.down == 0, 0, 0);
}

static void
probe_begin(struct wcheck *c)
{
	const struct cfg_check *cc = c->cc;
	struct probe_req req = { .tcp = cc->kind == CFG_CHECK_TCP, .url = c->url,
	    .method = cc->method, .headers = (const char *const *)c->headers,
	    .body = cc->body, .timeout_ms = cc->timeout_ms, .max_body =
	    (size_t)cc->max_body, .reuse = true };

	c->w->inflight++;
	c->running = probe_start(c->w->pr, &req, check_done, c);
}

static void
waiting_remove(struct wcheck *c)
{
	struct watch *w = c->w;

	if (!c->waiting)
		return;
	if (c->wait_prev != NULL)
		c->wait_prev->wait_next = c->wait_next;
	else
		w->wait_head = c->wait_next;
	if (c->wait_next != NULL)
		c->wait_next->wait_prev = c->wait_prev;
	else
		w->wait_tail = c->wait_prev;
	c->wait_next = c->wait_prev = NULL;
	c->waiting = false;
	w->nwaiting--;
}

/*
 * More checks due than the prober answers: starting them all would put thousands
 * of connections in flight, slow every answer past its timeout and open an incident
 * for each. A due check waits its turn, first come first served, so every check
 * still runs, less often; said at most once a minute.
 */
static void
waiting_add(struct wcheck *c)
{
	struct watch *w = c->w;
	int64_t now = (int64_t)uv_now(w->loop);

	c->waiting = true;
	c->wait_prev = w->wait_tail;
	if (w->wait_tail != NULL)
		w->wait_tail->wait_next = c;
	else
		w->wait_head = c;
	w->wait_tail = c;
	w->nwaiting++;
	w->waited++;
	if (w->waited_at >= 0 && now - w->waited_at < 60000)
		return;
	log_warnx("watch: %zu probes in flight, the most opsdeck starts at once: "
	    "%llu runs waited their turn since the last such notice (check '%s' "
	    "and others); fewer checks or longer intervals", w->inflight,
	    (unsigned long long)(w->waited - w->waited_said), c->name);
	w->waited_said = w->waited;
	w->waited_at = now;
}

static void
waiting_start(struct watch *w)
{
	while (w->wait_head != NULL && w->inflight < WATCH_MAX_INFLIGHT) {
		struct wcheck *c = w->wait_head;

		waiting_remove(c);
		if (check_probes(c->cc))	/* still one after a reload */
			probe_begin(c);
	}
}

static void
check_run(uv_timer_t *t)
{
	struct wcheck *c = t->data;

	if (c->cc->kind == CFG_CHECK_ROUTE)
		route_run(c);
	else if (c->cc->kind == CFG_CHECK_HEALTH)
		health_run(c);
	else if (c->running != NULL || c->waiting)
		c->skipped++;	/* still running or waiting: this slot is skipped */
	else if (c->w->inflight >= WATCH_MAX_INFLIGHT)
		waiting_add(c);
	else
		probe_begin(c);
	check_schedule(c);
}

static void
check_schedule(struct wcheck *c)
{
	int64_t now = (int64_t)uv_now(c->w->loop);

	c->due = sched_next(c->base, c->phase, c->cc->interval_ms, now);
	uv_timer_start(&c->timer, check_run, (uint64_t)(c->due - now), 0);
}

static void
check_closed(uv_handle_t *h)
{
	struct wcheck *c = h->data;
	struct watch *w = c->w;
	size_t i;

	for (i = 0; i < c->nconds; i++)
		cond_release(&c->conds[i]);
	free(c->conds);
	for (i = 0; c->headers && c->headers[i]; i++)
		free(c->headers[i]);
	free(c->headers);
	free(c->url);
	free(c->name);
	free(c);
	if (--w->open_handles == 0 && w->freeing)
		free(w);
}

/* The parts of a check made from its config (again on a reload). */
static void
check_setup(struct wcheck *c, const struct cfg_check *cc)
{
	size_t i;

	for (i = 0; i < c->nconds; i++)
		cond_release(&c->conds[i]);
	free(c->conds);
	for (i = 0; c->headers && c->headers[i]; i++)
		free(c->headers[i]);
	free(c->headers);
	free(c->url);
	c->cc = cc;
	c->conds = xcalloc(cc->nconds + 1, sizeof(*c->conds));
	c->nconds = 0;
	for (i = 0; i < cc->nconds; i++) {
		struct err e;

		/* checked at load (watch_config_check) */
		if (cond_parse(cc->conds[i].text, &c->conds[c->nconds], &e) == 0)
			c->nconds++;
	}
	c->headers = xcalloc(cc->nheaders + 1, sizeof(*c->headers));
	for (i = 0; i < cc->nheaders; i++)
		c->headers[i] = xasprintf("%s: %s", cc->headers[i].name,
		    cc->headers[i].value);
	c->url = cc->kind == CFG_CHECK_TCP ? xasprintf("http://%s/", cc->target) :
	    xstrdup(cc->target);
	c->phase = sched_phase(cc->name, cc->interval_ms);
}

/* ---- heartbeats ---------------------------------------------------------- */

static void
hb_conf_of(const struct wheart *h, struct hb_conf *hc)
{
	hc->period_ms = h->hc->period_ms;
	hc->grace_ms = h->hc->grace_ms;
	hc->schedule = h->hc->schedule ? &h->cron : NULL;
	hc->tz = h->tz;
	hc->doing_stale_ms = h->hc->doing_stale_ms;
}

static void
hb_load(struct watch *w, struct wheart *h)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	h->st.last_run_ms = -1;
	if (store_prepare(w->store, &st, "SELECT last_ping, last_start, "
	    "last_run_ms, failed, paused, report, message, pings, task FROM "
	    "heartbeats "
	    "WHERE name = ?", &e) < 0)
		return;
	sqlite3_bind_text(st, 1, h->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW) {
		const char *rep = (const char *)sqlite3_column_text(st, 5);
		const char *msg = (const char *)sqlite3_column_text(st, 6);

		h->st.last_ping_ms = sqlite3_column_int64(st, 0);
		h->st.last_start_ms = sqlite3_column_int64(st, 1);
		h->st.last_run_ms = sqlite3_column_int64(st, 2);
		h->st.failed = sqlite3_column_int(st, 3) != 0;
		h->st.paused = sqlite3_column_int(st, 4) != 0;
		h->st.report = rep == NULL ? HB_REPORT_NONE : strcmp(rep, "doing") ==
		    0 ? HB_REPORT_DOING : HB_REPORT_DONE;
		h->message = msg ? xstrdup(msg) : NULL;
		h->pings = sqlite3_column_int64(st, 7);
		if (sqlite3_column_type(st, 8) != SQLITE_NULL)
			h->task = xstrdup((const char *)sqlite3_column_text(st, 8));
	}
	sqlite3_finalize(st);
	h->incident = incident_open_id(w, "heartbeat", h->name);
}

static void
hb_save(struct watch *w, const struct wheart *h)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(w->store, &st, "INSERT OR REPLACE INTO heartbeats (name, "
	    "last_ping, last_start, last_run_ms, failed, paused, report, message, "
	    "pings, task) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", &e) < 0) {
		log_warnx("watch: %s", e.msg);
		return;
	}
	sqlite3_bind_text(st, 1, h->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, h->st.last_ping_ms);
	sqlite3_bind_int64(st, 3, h->st.last_start_ms);
	sqlite3_bind_int64(st, 4, h->st.last_run_ms);
	sqlite3_bind_int(st, 5, h->st.failed);
	sqlite3_bind_int(st, 6, h->st.paused);
	if (h->st.report != HB_REPORT_NONE)
		sqlite3_bind_text(st, 7, h->st.report == HB_REPORT_DOING ? "doing" :
		    "done", -1, SQLITE_STATIC);
	if (h->message != NULL)
		sqlite3_bind_text(st, 8, h->message, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 9, h->pings);
	if (h->task != NULL)
		sqlite3_bind_text(st, 10, h->task, -1, SQLITE_STATIC);
	sql_step(w, st);
}

/*
 * Whether status s of h is an incident: down; or, for an agent's heartbeat, late
 * while doing (it is stale: doing_stale is the agent's grace).
 */
static bool
hb_alarming(const struct wheart *h, enum hb_status s)
{
	return s == HB_DOWN || (s == HB_LATE && h->hc->actor != NULL &&
	    h->st.report == HB_REPORT_DOING);
}

static void
hb_eval(struct watch *w, struct wheart *h)
{
	struct hb_conf hc;
	enum hb_status s;
	int64_t next, now = watch_now(w);
	char title[200], ts[32];

	hb_conf_of(h, &hc);
	s = hb_status(&hc, &h->st, now, &next);
	if (s == h->status)
		return;
	log_info("heartbeat '%s': %s -> %s", h->name, hb_status_name(h->status),
	    hb_status_name(s));
	h->status = s;
	snprintf(ts, sizeof(ts), "never");
	if (hb_alarming(h, s) && h->incident == 0) {
		if (h->st.last_ping_ms > 0)
			iso(h->st.last_ping_ms, ts);
		if (h->st.report == HB_REPORT_DOING && !h->st.failed)
			snprintf(title, sizeof(title), "heartbeat %s stale: %s%s "
			    "doing %s and no ping since", h->name, h->hc->actor ?
			    "agent " : "", h->hc->actor ? h->hc->actor : "",
			    h->task ? h->task : "its work");
		else
			snprintf(title, sizeof(title), "heartbeat %s down: %s",
			    h->name, h->st.failed ? "the last run failed" :
			    h->st.last_start_ms > 0 ? "a run started and did not "
			    "end" : "no ping in time");
		if (h->st.report == HB_REPORT_DOING && !h->st.failed) {
			size_t l = strlen(title);

			snprintf(title + l, sizeof(title) - l, " %s", ts);
		} else if (h->st.last_ping_ms > 0 && !h->st.failed) {
			size_t l = strlen(title);

			snprintf(title + l, sizeof(title) - l, " (last %s)", ts);
		}
		h->incident = incident_open(w, "heartbeat", h->name, h->hc->app,
		    h->hc->severity, title, h->message, NULL);
	} else if ((s == HB_UP || s == HB_PAUSED) && h->incident != 0) {
		incident_resolve(w, h->incident, s == HB_UP ? "pinged again" :
		    "paused");
		h->incident = 0;
	}
}

static void
heartbeats_eval(struct watch *w)
{
	size_t i;

	for (i = 0; i < w->nhbs; i++)
		hb_eval(w, &w->hbs[i]);
}

static void
heartbeats_setup(struct watch *w, const struct config *cfg)
{
	size_t i;

	for (i = 0; i < w->nhbs; i++) {
		free(w->hbs[i].name);
		free(w->hbs[i].message);
		free(w->hbs[i].task);
		tz_free(w->hbs[i].tz);
	}
	free(w->hbs);
	w->hbs = xcalloc(cfg->watch.nheartbeats + 1, sizeof(*w->hbs));
	w->nhbs = cfg->watch.nheartbeats;
	for (i = 0; i < w->nhbs; i++) {
		struct wheart *h = &w->hbs[i];
		struct err e;

		h->hc = &cfg->watch.heartbeats[i];
		h->name = xstrdup(h->hc->name);
		/* checked at load (watch_config_check) */
		if (h->hc->schedule != NULL)
			cron_parse(h->hc->schedule, &h->cron, &e);
		if (h->hc->tz != NULL)
			h->tz = tz_load(h->hc->tz, &e);
		hb_load(w, h);
		{
			struct hb_conf hc;
			int64_t next;

			hb_conf_of(h, &hc);
			h->status = hb_status(&hc, &h->st, watch_now(w), &next);
			/* A heartbeat down (an agent's: stale) when the daemon
			 * starts or reloads keeps its incident. */
			if (!hb_alarming(h, h->status) && h->incident != 0) {
				incident_resolve(w, h->incident, "up at start");
				h->incident = 0;
			} else if (hb_alarming(h, h->status) && h->incident == 0)
				h->status = HB_UP;	/* hb_eval opens it */
		}
	}
	for (i = 0; i < w->nmaint; i++)
		tz_free(w->maint[i].tz);
	free(w->maint);
	w->maint = xcalloc(cfg->watch.nmaint + 1, sizeof(*w->maint));
	w->nmaint = cfg->watch.nmaint;
	for (i = 0; i < w->nmaint; i++) {
		struct err e;

		w->maint[i].mc = &cfg->watch.maint[i];
		cron_parse(w->maint[i].mc->schedule, &w->maint[i].cron, &e);
		if (w->maint[i].mc->tz != NULL)
			w->maint[i].tz = tz_load(w->maint[i].mc->tz, &e);
	}
}

/* ---- the tick: aggregates, reminders, maintenance ends, deliveries ------- */

static void
flush_minutes(struct watch *w)
{
	sqlite3_stmt *st = NULL;
	struct err e;
	size_t i;

	if (w->nflush == 0)
		return;
	if (store_begin(w->store, &e) < 0 || store_prepare(w->store, &st,
	    "INSERT INTO check_minutes (name, minute, runs, failures, sum_ms, "
	    "max_ms) VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name, minute) DO "
	    "UPDATE SET runs = runs + excluded.runs, failures = failures + "
	    "excluded.failures, sum_ms = sum_ms + excluded.sum_ms, max_ms = "
	    "max(max_ms, excluded.max_ms)", &e) < 0) {
		log_warnx("watch: %s", e.msg);
		store_rollback(w->store);
		return;
	}
	for (i = 0; i < w->nflush; i++) {
		sqlite3_reset(st);
		sqlite3_bind_text(st, 1, w->flush_names[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 2, w->flush[i].minute);
		sqlite3_bind_int64(st, 3, w->flush[i].runs);
		sqlite3_bind_int64(st, 4, w->flush[i].failures);
		sqlite3_bind_int64(st, 5, (sqlite3_int64)w->flush[i].sum_ms);
		sqlite3_bind_int64(st, 6, w->flush[i].max_ms);
		if (sqlite3_step(st) != SQLITE_DONE)
			log_warnx("watch: %s", sqlite3_errmsg(w->store->db));
		free(w->flush_names[i]);
	}
	sqlite3_finalize(st);
	if (store_commit(w->store, &e) < 0) {
		log_warnx("watch: %s", e.msg);
		store_rollback(w->store);
	}
	w->nflush = 0;
}

static void
retention(struct watch *w)
{
	int64_t now = watch_now(w);
	sqlite3_stmt *st = NULL;
	struct err e;

	if (now - w->last_retention < 3600 * 1000)
		return;
	w->last_retention = now;
	if (store_prepare(w->store, &st, "DELETE FROM check_minutes WHERE minute < "
	    "?", &e) == 0) {
		sqlite3_bind_int64(st, 1, now - RETAIN_MINUTES_MS);
		sql_step(w, st);
	}
}

/* Incidents silenced by maintenance or held by a parent, when that has ended. */
static void
release_incidents(struct watch *w)
{
	sqlite3_stmt *st = NULL;
	struct err e;
	struct {
		int64_t	 id;
		char	*name, *app, *source;
		bool	 held;
	} v[64];
	size_t n = 0, i;
	int64_t remind = w->cfg->watch.remind_ms, now = watch_now(w);

	if (store_prepare(w->store, &st, "SELECT id, source, name, app, held, "
	    "maintenance, state, last_notice_at FROM incidents WHERE state != "
	    "'resolved' AND (held OR maintenance OR (state = 'open' AND ?1 > 0 AND "
	    "coalesce(last_notice_at, opened_at) + ?1 <= ?2)) LIMIT 64", &e) < 0)
		return;
	sqlite3_bind_int64(st, 1, remind);
	sqlite3_bind_int64(st, 2, now);
	while (sqlite3_step(st) == SQLITE_ROW && n < 64) {
		const char *app = (const char *)sqlite3_column_text(st, 3);

		v[n].id = sqlite3_column_int64(st, 0);
		v[n].source = xstrdup((const char *)sqlite3_column_text(st, 1));
		v[n].name = xstrdup((const char *)sqlite3_column_text(st, 2));
		v[n].app = app ? xstrdup(app) : NULL;
		v[n].held = sqlite3_column_int(st, 4) != 0;
		/* neither held nor silenced: a reminder is due */
		if (!v[n].held && sqlite3_column_int(st, 5) == 0) {
			free(v[n].source);
			v[n].source = NULL;
		}
		n++;
	}
	sqlite3_finalize(st);
	for (i = 0; i < n; i++) {
		char mbuf[80];
		struct wcheck *parent = NULL;
		const char *clear = NULL;

		if (v[i].source == NULL) {
			if (in_maintenance(w, v[i].name, v[i].app, mbuf,
			    sizeof(mbuf)) == NULL) {
				event_add(w, v[i].id, "reminder", "still open");
				notice(w, v[i].id, "reminder", "still open");
			}
		} else if (v[i].held) {
			struct wcheck *c = strcmp(v[i].source, "check") == 0 ?
			    check_find(w, v[i].name) : NULL;

			parent = c && c->cc->depends_on ? check_find(w,
			    c->cc->depends_on) : NULL;
			if (parent == NULL || (parent->status != W_DOWN &&
			    parent->fails_in_row == 0))
				clear = "held";
		} else if (in_maintenance(w, v[i].name, v[i].app, mbuf,
		    sizeof(mbuf)) == NULL)
			clear = "maintenance";
		if (clear != NULL) {
			char *sql = xasprintf("UPDATE incidents SET %s = 0 WHERE id = "
			    "?", clear);

			if (store_prepare(w->store, &st, sql, &e) == 0) {
				sqlite3_bind_int64(st, 1, v[i].id);
				sql_step(w, st);
			}
			free(sql);
			event_add(w, v[i].id, "released", strcmp(clear, "held") == 0 ?
			    "its parent is up again and it is still down" :
			    "the maintenance ended and it is still open");
			notice(w, v[i].id, "opened", "still open");
		}
		free(v[i].source);
		free(v[i].name);
		free(v[i].app);
	}
}

static void
watch_tick(uv_timer_t *t)
{
	struct watch *w = t->data;

	flush_minutes(w);
	heartbeats_eval(w);
	release_incidents(w);
	retention(w);
	notifier_kick(w->nt);
}

/* ---- life ---------------------------------------------------------------- */

static void
health_free(struct cfg_check *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		free(v[i].target);
		free(v[i].app);
		free(v[i].process);
	}
	free(v);
}

/*
 * Each app process group with a health check is a check named APP/PROCESS, run at
 * the health check's interval: the supervisor judges each machine (after its
 * `failures` in a row), and two failing runs of the group open an incident.
 * A check of the config by the same name comes first.
 */
static void
health_make(struct watch *w, const struct config *cfg)
{
	size_t i, j, k;

	w->health = NULL;
	w->nhealth = 0;
	for (i = 0; i < cfg->napps; i++)
		for (j = 0; j < cfg->apps[i].nprocs; j++) {
			const struct cfg_app *a = &cfg->apps[i];
			const struct cfg_process *p = &a->procs[j];
			char *name = xasprintf("%s/%s", a->name, p->name);
			struct cfg_check *c;

			for (k = 0; k < cfg->watch.nchecks; k++)
				if (strcmp(cfg->watch.checks[k].name, name) == 0)
					break;
			if (!p->health.enabled || k < cfg->watch.nchecks) {
				free(name);
				continue;
			}
			w->health = xreallocarray(w->health, w->nhealth + 1,
			    sizeof(*w->health));
			c = &w->health[w->nhealth++];
			memset(c, 0, sizeof(*c));
			c->name = name;
			c->kind = CFG_CHECK_HEALTH;
			c->target = xstrdup(p->health.path);
			c->interval_ms = p->health.interval_ms;
			c->timeout_ms = p->health.timeout_ms;
			c->failures = 2;
			c->successes = 1;
			c->severity = CFG_SEV_CRITICAL;
			c->app = xstrdup(a->name);
			c->process = xstrdup(p->name);
			c->pos = a->pos;
		}
}

static void
checks_setup(struct watch *w, const struct config *cfg)
{
	struct cfg_check *old = w->health;
	size_t nold = w->nhealth, total, i, n = 0;
	struct wcheck **next;

	health_make(w, cfg);
	total = cfg->watch.nchecks + w->nhealth;
	next = xcalloc(total + 1, sizeof(*next));
	for (i = 0; i < total; i++) {
		const struct cfg_check *cc = i < cfg->watch.nchecks ?
		    &cfg->watch.checks[i] : &w->health[i - cfg->watch.nchecks];
		struct wcheck *c = check_find(w, cc->name);
		bool fresh = c == NULL;

		if (fresh) {
			c = xcalloc(1, sizeof(*c));
			c->w = w;
			c->name = xstrdup(cc->name);
			uv_timer_init(w->loop, &c->timer);
			c->timer.data = c;
			w->open_handles++;
			c->base = sched_base((int64_t)uv_now(w->loop));
			c->incident = incident_open_id(w, "check", c->name);
			if (c->incident != 0)
				c->status = W_DOWN;
		} else
			c->gone = false;
		check_setup(c, cc);
		next[n++] = c;
		check_schedule(c);
	}
	/* Checks the new config does not have: stopped, their incidents stay. */
	for (i = 0; i < w->nchecks; i++) {
		struct wcheck *c = w->checks[i];
		size_t k;

		for (k = 0; k < n; k++)
			if (next[k] == c)
				break;
		if (k < n)
			continue;
		if (c->running != NULL) {
			probe_cancel(c->running);
			w->inflight--;
		}
		waiting_remove(c);
		uv_timer_stop(&c->timer);
		uv_close((uv_handle_t *)&c->timer, check_closed);
	}
	free(w->checks);
	w->checks = next;
	w->nchecks = n;
	health_free(old, nold);
	waiting_start(w);	/* places the removed checks held */
}

struct watch *
watch_new(uv_loop_t *loop, struct store *store, const struct config *cfg,
    const struct watch_metrics *metrics)
{
	struct watch *w = xcalloc(1, sizeof(*w));
	const char *tc = getenv("OPSDECK_TEST_CLOCK");

	if (metrics != NULL)
		w->metrics = *metrics;
	w->loop = loop;
	w->store = store;
	w->cfg = cfg;
	w->waited_at = -1;
	w->test_clock = tc != NULL && strcmp(tc, "1") == 0;
	w->pr = prober_new(loop);
	w->nt = notifier_new(loop, store, w->pr, now_cb, w);
	notifier_config(w->nt, cfg);
	uv_timer_init(loop, &w->tick);
	w->tick.data = w;
	w->open_handles = 1;
	uv_timer_start(&w->tick, watch_tick, TICK_MS, TICK_MS);
	heartbeats_setup(w, cfg);
	checks_setup(w, cfg);
	heartbeats_eval(w);
	notifier_kick(w->nt);
	return w;
}

void
watch_apply(struct watch *w, const struct config *cfg)
{
	if (w == NULL)
		return;
	w->cfg = cfg;
	notifier_config(w->nt, cfg);
	checks_setup(w, cfg);
	heartbeats_setup(w, cfg);
	heartbeats_eval(w);
}

static void
tick_closed(uv_handle_t *h)
{
	struct watch *w = h->data;

	if (--w->open_handles == 0 && w->freeing)
		free(w);
}

void
watch_free(struct watch *w)
{
	size_t i;

	if (w == NULL)
		return;
	flush_minutes(w);
	for (i = 0; i < w->nchecks; i++) {
		struct wcheck *c = w->checks[i];

		if (c->cur.runs > 0) {
			w->flush = xreallocarray(w->flush, w->nflush + 1,
			    sizeof(*w->flush));
			w->flush_names = xreallocarray(w->flush_names, w->nflush + 1,
			    sizeof(*w->flush_names));
			w->flush[w->nflush] = c->cur;
			w->flush_names[w->nflush++] = xstrdup(c->name);
		}
		c->running = NULL;	/* the prober frees it */
		waiting_remove(c);
		uv_timer_stop(&c->timer);
		uv_close((uv_handle_t *)&c->timer, check_closed);
	}
	flush_minutes(w);
	free(w->flush);
	free(w->flush_names);
	notifier_free(w->nt);
	prober_free(w->pr);
	free(w->checks);
	w->checks = NULL;
	w->nchecks = 0;
	health_free(w->health, w->nhealth);
	w->health = NULL;
	w->nhealth = 0;
	for (i = 0; i < w->nhbs; i++) {
		free(w->hbs[i].name);
		free(w->hbs[i].message);
		free(w->hbs[i].task);
		tz_free(w->hbs[i].tz);
	}
	free(w->hbs);
	for (i = 0; i < w->nmaint; i++)
		tz_free(w->maint[i].tz);
	free(w->maint);
	w->freeing = true;
	uv_timer_stop(&w->tick);
	uv_close((uv_handle_t *)&w->tick, tick_closed);
}

/* ---- views and actions --------------------------------------------------- */

static const char *
wstatus_name(enum wstatus s)
{
	return s == W_UP ? "up" : s == W_DOWN ? "down" : "unknown";
}

json_t *
watch_checks_json(struct watch *w)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < w->nchecks; i++) {
		const struct wcheck *c = w->checks[i];
		size_t n = c->runs < RING ? (size_t)c->runs : RING, k, oks = 0;
		json_t *o, *recent = json_array();
		char mbuf[80];
		const char *maint = in_maintenance(w, c->name, c->cc->app, mbuf,
		    sizeof(mbuf));

		for (k = 0; k < n; k++) {
			const struct wresult *r = &c->ring[(c->runs - 1 - k) % RING];
			char ts[32];

			oks += r->ok;
			if (k < 10) {
				iso(r->at, ts);
				json_array_append_new(recent, json_pack("{s:s, s:b, "
				    "s:i, s:i}", "at", ts, "ok", r->ok, "ms", r->ms,
				    "status", r->status));
			}
		}
		o = json_pack("{s:s, s:s, s:s, s:I, s:s, s:s, s:b, s:i, s:i, s:I, "
		    "s:I, s:s, s:o, s:o, s:o}", "name", c->name, "kind",
		    c->cc->kind == CFG_CHECK_TCP ? "tcp" : c->cc->kind ==
		    CFG_CHECK_ROUTE ? "route" : c->cc->kind == CFG_CHECK_HEALTH ?
		    "health" : "http", "target",
		    c->cc->target, "interval_ms", (json_int_t)c->cc->interval_ms,
		    "severity", cfg_severity_str(c->cc->severity), "status",
		    wstatus_name(c->status), "flapping", c->flapping,
		    "failures_in_row", c->fails_in_row, "successes_in_row",
		    c->oks_in_row, "runs", (json_int_t)c->runs, "skipped",
		    (json_int_t)c->skipped, "detail", c->detail, "incident",
		    c->incident ? json_integer(c->incident) : json_null(),
		    "maintenance", maint ? json_string(maint) : json_null(),
		    "recent", recent);
		json_object_set_new(o, "uptime", n ? json_real((double)oks /
		    (double)n) : json_null());
		json_array_append_new(arr, o);
	}
	return json_pack("{s:o, s:I, s:I, s:I}", "checks", arr, "probes_running",
	    (json_int_t)probe_running(w->pr), "probes_waiting",
	    (json_int_t)w->nwaiting, "runs_waited", (json_int_t)w->waited);
}

json_t *
watch_incidents_json(struct watch *w, bool all)
{
	sqlite3_stmt *st = NULL, *ev = NULL;
	struct err e;
	json_t *arr = json_array();

	if (store_prepare(w->store, &st, all ? "SELECT " INCIDENT_COLS " FROM "
	    "incidents ORDER BY id DESC LIMIT 500" : "SELECT " INCIDENT_COLS
	    " FROM incidents WHERE state != 'resolved' ORDER BY id DESC", &e) < 0 ||
	    store_prepare(w->store, &ev, "SELECT at, kind, detail FROM "
	    "incident_events WHERE incident = ? ORDER BY id", &e) < 0) {
		sqlite3_finalize(st);
		return json_pack("{s:o}", "incidents", arr);
	}
	while (sqlite3_step(st) == SQLITE_ROW) {
		json_t *inc = incident_row(st), *tl = json_array();

		sqlite3_reset(ev);
		sqlite3_bind_int64(ev, 1, sqlite3_column_int64(st, 0));
		while (sqlite3_step(ev) == SQLITE_ROW)
			json_array_append_new(tl, json_pack("{s:o, s:s, s:s}", "at",
			    time_or_null(ev, 0), "kind", sqlite3_column_text(ev, 1),
			    "detail", sqlite3_column_text(ev, 2)));
		json_object_set_new(inc, "timeline", tl);
		json_array_append_new(arr, inc);
	}
	sqlite3_finalize(st);
	sqlite3_finalize(ev);
	return json_pack("{s:o}", "incidents", arr);
}

struct ack_arg {
	struct watch	*w;
	const struct actor *actor;
	int64_t		 id;
};

static int
do_ack(void *arg, struct err *e)
{
	struct ack_arg *a = arg;
	json_t *inc = incident_get(a->w, a->id);
	sqlite3_stmt *st = NULL;
	const char *state;
	char *detail;

	if (inc == NULL)
		return err_setk(e, ERR_NOT_FOUND, "no incident #%lld: list them "
		    "with `opsdeck incidents --all`", (long long)a->id);
	state = json_string_value(json_object_get(inc, "state"));
	if (strcmp(state, "open") != 0) {
		err_setk(e, ERR_CONFLICT, "incident #%lld is %s: only an open one "
		    "is acknowledged", (long long)a->id, state);
		json_decref(inc);
		return -1;
	}
	json_decref(inc);
	if (store_prepare(a->w->store, &st, "UPDATE incidents SET state = "
	    "'acknowledged', acked_at = ?, acked_by = ? WHERE id = ?", e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, watch_now(a->w));
	sqlite3_bind_text(st, 2, a->actor->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, a->id);
	sql_step(a->w, st);
	detail = xasprintf("by %s", a->actor->name);
	event_add(a->w, a->id, "acknowledged", detail);
	notice(a->w, a->id, "acknowledged", detail);
	free(detail);
	return 0;
}

int
watch_ack(struct watch *w, const struct actor *actor, int64_t id, struct err *e)
{
	struct ack_arg a = { w, actor, id };
	struct gate_call call = { .action = "incident.ack" };
	char target[32];

	snprintf(target, sizeof(target), "incident:%lld", (long long)id);
	call.target = target;
	return gate_run(w->store, actor, &call, do_ack, &a, e);
}

static struct wheart *
hb_find(struct watch *w, const char *name)
{
	size_t i;

	for (i = 0; i < w->nhbs; i++)
		if (strcmp(w->hbs[i].name, name) == 0)
			return &w->hbs[i];
	return NULL;
}

static json_t *
hb_json(struct watch *w, const struct wheart *h)
{
	struct hb_conf hc;
	int64_t next;
	enum hb_status s;
	char ts[32];
	json_t *o;

	hb_conf_of(h, &hc);
	s = hb_status(&hc, &h->st, watch_now(w), &next);
	o = json_pack("{s:s, s:s, s:I, s:I}", "name", h->name, "status",
	    hb_status_name(s), "pings", (json_int_t)h->pings, "grace_ms",
	    (json_int_t)h->hc->grace_ms);
	if (h->hc->schedule != NULL) {
		json_object_set_new(o, "schedule", json_string(h->hc->schedule));
		json_object_set_new(o, "tz", json_string(h->hc->tz ? h->hc->tz :
		    "UTC"));
	} else
		json_object_set_new(o, "period_ms", json_integer(h->hc->period_ms));
	if (h->st.last_ping_ms > 0) {
		iso(h->st.last_ping_ms, ts);
		json_object_set_new(o, "last_ping", json_string(ts));
	} else
		json_object_set_new(o, "last_ping", json_null());
	json_object_set_new(o, "running", json_boolean(h->st.last_start_ms > 0));
	json_object_set_new(o, "last_run_ms", h->st.last_run_ms >= 0 ?
	    json_integer(h->st.last_run_ms) : json_null());
	json_object_set_new(o, "report", h->st.report == HB_REPORT_NONE ?
	    json_null() : json_string(h->st.report == HB_REPORT_DOING ? "doing" :
	    "done"));
	json_object_set_new(o, "message", h->message ? json_string(h->message) :
	    json_null());
	json_object_set_new(o, "task", h->task ? json_string(h->task) :
	    json_null());
	json_object_set_new(o, "actor", h->hc->actor ? json_string(h->hc->actor) :
	    json_null());
	if (next >= 0) {
		iso(next, ts);
		json_object_set_new(o, "changes_at", json_string(ts));
	} else
		json_object_set_new(o, "changes_at", json_null());
	json_object_set_new(o, "incident", h->incident ? json_integer(h->incident) :
	    json_null());
	return o;
}

json_t *
watch_heartbeats_json(struct watch *w)
{
	json_t *arr = json_array();
	size_t i;

	for (i = 0; i < w->nhbs; i++)
		json_array_append_new(arr, hb_json(w, &w->hbs[i]));
	return json_pack("{s:o}", "heartbeats", arr);
}

struct ping_arg {
	struct watch	*w;
	const struct actor *actor;
	struct wheart	*h;
	enum hb_signal	 sig;
	enum hb_report	 report;
	const char	*message;
	const char	*task;
};

static int
do_ping(void *arg, struct err *e)
{
	struct ping_arg *p = arg;
	struct hb_conf hc;

	/* an agent's heartbeat is its own: another agent cannot ping it alive */
	if (p->h->hc->actor != NULL && p->actor->role < ROLE_OPERATOR &&
	    strcmp(p->actor->name, p->h->hc->actor) != 0)
		return err_setk(e, ERR_DENIED, "heartbeat '%s' is agent %s's: only "
		    "it (or an operator) pings it", p->h->name, p->h->hc->actor);
	hb_conf_of(p->h, &hc);
	hb_ping(&hc, &p->h->st, p->sig, p->report, watch_now(p->w));
	p->h->pings++;
	if (p->message != NULL) {
		free(p->h->message);
		p->h->message = xstrdup(p->message);
	}
	/* a task comes with doing; done clears it, as does a new status without one */
	if (p->task != NULL || p->report != HB_REPORT_NONE) {
		free(p->h->task);
		p->h->task = p->task != NULL && p->report != HB_REPORT_DONE ?
		    xstrdup(p->task) : NULL;
	}
	hb_save(p->w, p->h);
	hb_eval(p->w, p->h);
	return 0;
}

json_t *
watch_ping(struct watch *w, const struct actor *actor, const char *name,
    const json_t *body, struct err *e)
{
	struct ping_arg p = { w, actor, hb_find(w, name), HB_SUCCESS,
	    HB_REPORT_NONE, NULL, NULL };
	struct gate_call call = { .action = "heartbeat.ping" };
	json_t *args;
	int r;
	const char *sig = json_string_value(json_object_get(body, "signal"));
	const char *rep = json_string_value(json_object_get(body, "status"));
	const json_t *code = json_object_get(body, "exit_code");
	const json_t *msg = json_object_get(body, "message");
	const json_t *task = json_object_get(body, "task");
	char target[80];

	if (p.h == NULL) {
		err_setk(e, ERR_NOT_FOUND, "no heartbeat '%s': list them with "
		    "`opsdeck heartbeats`", name);
		return NULL;
	}
	if (sig == NULL || strcmp(sig, "success") == 0)
		p.sig = HB_SUCCESS;
	else if (strcmp(sig, "start") == 0)
		p.sig = HB_START;
	else if (strcmp(sig, "fail") == 0)
		p.sig = HB_FAIL;
	else {
		err_setk(e, ERR_INVALID, "signal '%s': use success, start or fail",
		    sig);
		return NULL;
	}
	if (code != NULL) {
		if (!json_is_integer(code) || json_integer_value(code) < 0 ||
		    json_integer_value(code) > 255) {
			err_setk(e, ERR_INVALID, "exit_code: give 0..255");
			return NULL;
		}
		p.sig = json_integer_value(code) == 0 ? HB_SUCCESS : HB_FAIL;
	}
	if (rep != NULL) {
		if (strcmp(rep, "doing") == 0)
			p.report = HB_REPORT_DOING;
		else if (strcmp(rep, "done") == 0)
			p.report = HB_REPORT_DONE;
		else {
			err_setk(e, ERR_INVALID, "status '%s': use doing or done", rep);
			return NULL;
		}
	}
	if (msg != NULL && (!json_is_string(msg) || json_string_length(msg) > 1024)) {
		err_setk(e, ERR_INVALID, "message: a string of at most 1024 bytes");
		return NULL;
	}
	p.message = msg ? json_string_value(msg) : NULL;
	if (task != NULL && (!json_is_string(task) ||
	    !task_id_valid(json_string_value(task)))) {
		err_setk(e, ERR_INVALID, "task: give a task id, e.g. DEVOPS-014");
		return NULL;
	}
	p.task = task ? json_string_value(task) : NULL;
	snprintf(target, sizeof(target), "heartbeat:%s", name);
	call.target = target;
	/* What the ping said, checked above; never the rest of the body. */
	args = json_pack("{s:s?, s:s?, s:O?, s:s?, s:s?}", "signal", sig, "status",
	    rep, "exit_code", code, "message", p.message, "task", p.task);
	call.args = args;
	r = gate_run(w->store, actor, &call, do_ping, &p, e);
	json_decref(args);
	if (r < 0)
		return NULL;
	return hb_json(w, p.h);
}

json_t *
watch_maintenance_json(struct watch *w)
{
	json_t *arr = json_array(), *win = json_array();
	sqlite3_stmt *st = NULL;
	struct err e;
	int64_t now = watch_now(w);
	size_t i;

	if (store_prepare(w->store, &st, "SELECT id, target, starts_at, ends_at, "
	    "reason, created_by, ended_at FROM maintenance ORDER BY id DESC LIMIT "
	    "200", &e) == 0) {
		while (sqlite3_step(st) == SQLITE_ROW) {
			bool active = sqlite3_column_type(st, 6) == SQLITE_NULL &&
			    sqlite3_column_int64(st, 2) <= now &&
			    sqlite3_column_int64(st, 3) > now;

			json_array_append_new(arr, json_pack("{s:I, s:s, s:o, s:o, "
			    "s:s, s:s, s:o, s:b}", "id",
			    (json_int_t)sqlite3_column_int64(st, 0), "target",
			    sqlite3_column_text(st, 1), "starts_at",
			    time_or_null(st, 2), "ends_at", time_or_null(st, 3),
			    "reason", sqlite3_column_text(st, 4), "created_by",
			    sqlite3_column_text(st, 5), "ended_at",
			    time_or_null(st, 6), "active", active));
		}
		sqlite3_finalize(st);
	}
	for (i = 0; i < w->nmaint; i++) {
		const struct cfg_maintenance *m = w->maint[i].mc;
		int64_t next = cron_next(&w->maint[i].cron, w->maint[i].tz,
		    now / 1000);
		char ts[32] = "";

		if (next >= 0)
			iso(next * 1000, ts);
		json_array_append_new(win, json_pack("{s:s, s:s, s:s, s:I, s:s}",
		    "name", m->name, "schedule", m->schedule, "tz", m->tz ? m->tz :
		    "UTC", "duration_ms", (json_int_t)m->duration_ms, "next_start",
		    ts));
	}
	return json_pack("{s:o, s:o}", "maintenance", arr, "windows", win);
}

struct maint_arg {
	struct watch	*w;
	const struct actor *actor;
	const char	*target, *reason;
	int64_t		 starts, ends, id;
};

static int
do_maint_add(void *arg, struct err *e)
{
	struct maint_arg *m = arg;
	sqlite3_stmt *st = NULL;

	if (store_prepare(m->w->store, &st, "INSERT INTO maintenance (target, "
	    "starts_at, ends_at, reason, created_by) VALUES (?, ?, ?, ?, ?)", e) < 0)
		return -1;
	sqlite3_bind_text(st, 1, m->target, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, m->starts);
	sqlite3_bind_int64(st, 3, m->ends);
	sqlite3_bind_text(st, 4, m->reason, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, m->actor->name, -1, SQLITE_STATIC);
	sql_step(m->w, st);
	m->id = sqlite3_last_insert_rowid(m->w->store->db);
	return 0;
}

json_t *
watch_maintenance_add(struct watch *w, const struct actor *actor,
    const json_t *body, struct err *e)
{
	struct maint_arg m = { w, actor, NULL, NULL, 0, 0, 0 };
	struct gate_call call = { .action = "maintenance.add" };
	json_t *args;
	int r;
	const json_t *dur = json_object_get(body, "duration_ms");
	const json_t *start = json_object_get(body, "starts_at");
	const char *t = json_string_value(json_object_get(body, "target"));

	m.target = t ? t : "all";
	m.reason = json_string_value(json_object_get(body, "reason"));
	if (m.reason == NULL)
		m.reason = "";
	if (strcmp(m.target, "all") != 0 && !(strncmp(m.target, "check:", 6) == 0 &&
	    (check_find(w, m.target + 6) || hb_find(w, m.target + 6))) &&
	    !(strncmp(m.target, "app:", 4) == 0 && config_app(w->cfg, m.target +
	    4))) {
		err_setk(e, ERR_INVALID, "target '%s': give all, check:NAME (a check "
		    "or heartbeat) or app:NAME of the config", m.target);
		return NULL;
	}
	if (!json_is_integer(dur) || json_integer_value(dur) < 1000 ||
	    json_integer_value(dur) > 31LL * 24 * 3600 * 1000) {
		err_setk(e, ERR_INVALID, "duration_ms: give 1 s to 31 days");
		return NULL;
	}
	if (start != NULL && !json_is_integer(start)) {
		err_setk(e, ERR_INVALID, "starts_at: milliseconds since the epoch");
		return NULL;
	}
	m.starts = start ? json_integer_value(start) : watch_now(w);
	m.ends = m.starts + json_integer_value(dur);
	call.target = m.target;
	args = json_pack("{s:I, s:I, s:s}", "starts_at", (json_int_t)m.starts,
	    "ends_at", (json_int_t)m.ends, "reason", m.reason);
	call.args = args;
	r = gate_run(w->store, actor, &call, do_maint_add, &m, e);
	json_decref(args);
	if (r < 0)
		return NULL;
	return json_pack("{s:I, s:s}", "id", (json_int_t)m.id, "target", m.target);
}

static int
do_maint_end(void *arg, struct err *e)
{
	struct maint_arg *m = arg;
	sqlite3_stmt *st = NULL;

	if (store_prepare(m->w->store, &st, "UPDATE maintenance SET ended_at = ? "
	    "WHERE id = ? AND ended_at IS NULL", e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, watch_now(m->w));
	sqlite3_bind_int64(st, 2, m->id);
	sql_step(m->w, st);
	if (sqlite3_changes(m->w->store->db) == 0)
		return err_setk(e, ERR_NOT_FOUND, "no running maintenance #%lld: "
		    "list them with `opsdeck maintenance list`", (long long)m->id);
	release_incidents(m->w);
	return 0;
}

int
watch_maintenance_end(struct watch *w, const struct actor *actor, int64_t id,
    struct err *e)
{
	struct maint_arg m = { w, actor, NULL, NULL, 0, 0, id };
	struct gate_call call = { .action = "maintenance.end" };
	char target[32];

	snprintf(target, sizeof(target), "maintenance:%lld", (long long)id);
	call.target = target;
	return gate_run(w->store, actor, &call, do_maint_end, &m, e);
}

json_t *
watch_notifications_json(struct watch *w)
{
	sqlite3_stmt *st = NULL;
	struct err e;
	json_t *arr = json_array();

	if (store_prepare(w->store, &st, "SELECT id, incident, event, channel, "
	    "state, attempts, next_at, last_error, created_at, sent_at FROM outbox "
	    "ORDER BY id DESC LIMIT 500", &e) < 0)
		return json_pack("{s:o}", "notifications", arr);
	while (sqlite3_step(st) == SQLITE_ROW) {
		const char *err = (const char *)sqlite3_column_text(st, 7);

		json_array_append_new(arr, json_pack("{s:I, s:I, s:s, s:s, s:s, s:i, "
		    "s:o, s:o, s:o, s:o}", "id", (json_int_t)sqlite3_column_int64(st,
		    0), "incident", (json_int_t)sqlite3_column_int64(st, 1), "event",
		    sqlite3_column_text(st, 2), "channel", sqlite3_column_text(st, 3),
		    "state", sqlite3_column_text(st, 4), "attempts",
		    sqlite3_column_int(st, 5), "next_at", time_or_null(st, 6),
		    "last_error", err ? json_string(err) : json_null(), "created_at",
		    time_or_null(st, 8), "sent_at", time_or_null(st, 9)));
	}
	sqlite3_finalize(st);
	return json_pack("{s:o, s:I}", "notifications", arr, "delivering",
	    (json_int_t)notifier_busy(w->nt));
}

json_t *
watch_clock_advance(struct watch *w, int64_t ms, struct err *e)
{
	char ts[32];

	if (!w->test_clock) {
		err_setk(e, ERR_DENIED, "the test clock is off: start the daemon "
		    "with OPSDECK_TEST_CLOCK=1 (for tests only)");
		return NULL;
	}
	if (ms < 0 || ms > 366LL * 24 * 3600 * 1000) {
		err_setk(e, ERR_INVALID, "advance_ms: 0 to a year");
		return NULL;
	}
	w->clock_offset += ms;
	watch_tick(&w->tick);
	iso(watch_now(w), ts);
	return json_pack("{s:s, s:I}", "now", ts, "offset_ms",
	    (json_int_t)w->clock_offset);
}

/* ---- check run ----------------------------------------------------------- */

struct once {
	const struct cfg_check *cc;
	json_t		*out;
};

static void
once_done(void *arg, const struct probe_result *r)
{
	struct once *o = arg;
	struct cond *conds = xcalloc(o->cc->nconds + 1, sizeof(*conds));
	size_t i, n = 0;
	json_t *each = json_array();
	char detail[DETAIL_MAX];
	bool ok;

	for (i = 0; i < o->cc->nconds; i++) {
		struct err e;

		if (cond_parse(o->cc->conds[i].text, &conds[n], &e) == 0)
			n++;
	}
	ok = check_eval(o->cc, conds, n, r, detail, sizeof(detail), each);
	o->out = json_pack("{s:s, s:s, s:b, s:I, s:I, s:o, s:s, s:o, s:b}", "name",
	    o->cc->name, "target", o->cc->target, "ok", ok, "status",
	    (json_int_t)r->status, "ms", (json_int_t)r->elapsed_ms, "error",
	    r->error ? json_string(r->error) : json_null(), "detail", detail,
	    "conditions", each, "truncated", r->truncated);
	for (i = 0; i < n; i++)
		cond_release(&conds[i]);
	free(conds);
}

json_t *
watch_run_once(const struct cfg_check *cc)
{
	uv_loop_t loop;
	struct prober *pr;
	struct once o = { cc, NULL };
	struct wcheck c;
	struct probe_req req;

	memset(&c, 0, sizeof(c));
	check_setup(&c, cc);
	memset(&req, 0, sizeof(req));
	req.tcp = cc->kind == CFG_CHECK_TCP;
	req.url = c.url;
	req.method = cc->method;
	req.headers = (const char *const *)c.headers;
	req.body = cc->body;
	req.timeout_ms = cc->timeout_ms;
	req.max_body = (size_t)cc->max_body;
	uv_loop_init(&loop);
	pr = prober_new(&loop);
	probe_start(pr, &req, once_done, &o);
	uv_run(&loop, UV_RUN_DEFAULT);
	prober_free(pr);
	uv_run(&loop, UV_RUN_DEFAULT);
	uv_loop_close(&loop);
	{
		size_t i;

		for (i = 0; i < c.nconds; i++)
			cond_release(&c.conds[i]);
		free(c.conds);
		for (i = 0; c.headers && c.headers[i]; i++)
			free(c.headers[i]);
		free(c.headers);
		free(c.url);
	}
	return o.out;
}
