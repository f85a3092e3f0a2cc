#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

#include <uv.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "ledger/evidence.h"
#include "ledger/gate.h"
#include "deploy/release.h"
#include "runtime/daemon.h"
#include "runtime/daemon_int.h"
#include "runtime/logread.h"
#include "runtime/supervisor.h"
#include "router/router.h"
#include "monitor/watch.h"
#include "monitor/watch_check.h"
#include "stats/metrics.h"
#include "store/state.h"
#include "store/store.h"

static struct config *
daemon_load_config(const char *path)
{
	struct config *cfg = xcalloc(1, sizeof(*cfg));
	struct cfg_diags diags = { NULL, 0 };

	int loaded = config_load(path, true, cfg, &diags);

	if (loaded < 0 || watch_config_check(cfg, &diags) < 0) {
		if (loaded == 0)
			config_release(cfg);
		cfg_diags_print(stderr, &diags);
		fprintf(stderr, "%s: %zu error%s: fix %s and run `opsdeck "
		    "config check -c %s`\n", path, diags.n, diags.n == 1 ? "" :
		    "s", diags.n == 1 ? "it" : "them", path);
		cfg_diags_release(&diags);
		free(cfg);
		return NULL;
	}
	return cfg;
}

/* Takes the state dir's lock, or says which daemon holds it. */
static int
daemon_lock(struct daemon *d, struct err *e)
{
	char *path = state_lock_path(d->state_dir), pidtext[32];
	ssize_t n;
	int fd, ret = -1;

	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		err_errno(e, "cannot open lock file '%s': check that the state "
		    "dir is writable", path);
		goto out;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		n = pread(fd, pidtext, sizeof(pidtext) - 1, 0);
		pidtext[n > 0 ? n : 0] = '\0';
		pidtext[strcspn(pidtext, "\n")] = '\0';
		err_set(e, "opsdeck is already running on state dir '%s' "
		    "(pid %s): stop it first (kill -TERM %s) or use another "
		    "--state", d->state_dir, pidtext[0] ? pidtext : "unknown",
		    pidtext[0] ? pidtext : "PID");
		close(fd);
		goto out;
	}
	snprintf(pidtext, sizeof(pidtext), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) < 0 ||
	    pwrite(fd, pidtext, strlen(pidtext), 0) < 0) {
		err_errno(e, "cannot write lock file '%s'", path);
		close(fd);
		goto out;
	}
	d->lock_fd = fd;
	ret = 0;
out:
	free(path);
	return ret;
}

static void
daemon_closed_all(struct supervisor *sv)
{
	struct daemon *d = (struct daemon *)((char *)sv -
	    offsetof(struct daemon, sv));

	log_info("all machines stopped; exiting");
	watch_free(d->watch);
	d->watch = NULL;
	router_stop(d->router);
	d->router = NULL;
	d->denv.router = NULL;
	daemon_deploy_release(d);
	d->frontend->stop(d->front);
	d->front = NULL;
	uv_close((uv_handle_t *)&d->reload_timer, NULL);
	uv_close((uv_handle_t *)&d->gc_timer, NULL);
	supervisor_release(&d->sv);
	d->machines_gone = true;
	daemon_exit_when_idle(d);
}

void
daemon_exit_when_idle(struct daemon *d)
{
	int i;

	/*
	 * The signal handles are the last: closed while a migrate apply or a gc run
	 * still ends on the thread pool, SIGTERM would kill the process again, with
	 * its default action, in the middle of it.
	 */
	if (!d->machines_gone || d->signals_closed || d->migrate_running != NULL ||
	    d->gc_running != NULL || d->migrate_reads_running > 0)
		return;
	d->signals_closed = true;
	for (i = 0; i < 3; i++)
		uv_close((uv_handle_t *)&d->sig[i], NULL);
}

static struct machine *
daemon_machines_of(void *ctx)
{
	struct daemon *d = ctx;

	return d->sv.machines;
}

static void
daemon_add_config(struct daemon *d, struct config *cfg)
{
	d->configs = xreallocarray(d->configs, (size_t)d->nconfigs + 1,
	    sizeof(*d->configs));
	d->configs[d->nconfigs++] = cfg;
}

static int
do_reload(void *arg, struct err *e)
{
	struct daemon *d = arg;
	struct config *cfg;
	int i, n;

	/* SIGHUP puts a reload off during deploys; this holds for any caller. */
	if (d->ndeploys > 0)
		return err_setk(e, ERR_CONFLICT, "a deploy of '%s' is running: "
		    "reload once it has ended", deploy_app(d->deploys[0]));
	if ((cfg = daemon_load_config(d->config_path)) == NULL)
		return err_setk(e, ERR_INVALID, "'%s' has errors: kept the "
		    "running config", d->config_path);
	daemon_add_config(d, cfg);
	if (daemon_access_apply(d, cfg, e) < 0 ||
	    supervisor_apply(&d->sv, cfg, e) < 0)
		return -1;
	if (router_apply(d->router, cfg, e) < 0)
		return -1;
	daemon_agent_heartbeats(d, cfg);
	watch_apply(d->watch, cfg);
	/* Drop the configs no machine runs on any more. */
	for (i = n = 0; i < d->nconfigs; i++) {
		if (i == d->nconfigs - 1 || supervisor_uses(&d->sv,
		    d->configs[i]))
			d->configs[n++] = d->configs[i];
		else {
			config_release(d->configs[i]);
			free(d->configs[i]);
		}
	}
	d->nconfigs = n;
	return 0;
}

static void
daemon_reload(struct daemon *d)
{
	struct actor a = { "signal:SIGHUP", ROLE_ADMIN, VIA_SYSTEM, 0 };
	struct gate_call call = { .action = "daemon.reload",
	    .target = d->config_path };
	struct err e;

	log_info("reloading '%s'", d->config_path);
	if (gate_run(&d->store, &a, &call, do_reload, d, &e) < 0)
		log_warnx("reload: %s", e.msg);
}

static void
reload_due(uv_timer_t *t)
{
	struct daemon *d = t->data;

	if (!d->reload_pending || d->stopping || d->ndeploys > 0)
		return;
	d->reload_pending = false;
	daemon_reload(d);
}

void
daemon_deploys_idle(struct daemon *d)
{
	/* On the next loop turn: the deploy that ended is still unwinding. */
	if (d->reload_pending)
		uv_timer_start(&d->reload_timer, reload_due, 0, 0);
}

static void
daemon_signal(uv_signal_t *s, int signum)
{
	struct daemon *d = s->data;

	if (signum == SIGHUP) {
		if (d->stopping)
			return;
		/* A reload would change the machines under a running deploy. */
		if (d->ndeploys > 0) {
			d->reload_pending = true;
			log_info("SIGHUP: a deploy of '%s' is running: reloading "
			    "'%s' once it has ended", deploy_app(d->deploys[0]),
			    d->config_path);
			return;
		}
		daemon_reload(d);
		return;
	}
	if (d->stopping++) {
		log_info("%s again: still stopping%s", strsignal(signum),
		    d->migrate_running != NULL ? " (a migrate apply is running)" :
		    " machines");
		return;
	}
	log_info("%s: stopping all machines", strsignal(signum));
	/* A migration is not cut off halfway: the loop ends when it has. */
	if (d->migrate_running != NULL)
		log_info("migrate apply is running: exiting once it has ended");
	/* Deploys stop where they are; the next start recovers them (their locks). */
	daemon_deploy_stop(d);
	/* Checks stop first: the fleet going down is not an incident. */
	watch_free(d->watch);
	d->watch = NULL;
	supervisor_shutdown(&d->sv, daemon_closed_all);
}

static void
daemon_announce(struct daemon *d)
{
	char *sock = state_socket_path(d->state_dir), exe[4096];
	struct machine *m;
	ssize_t n;

	printf("opsdeck %s: pid %ld, state dir %s\n", OPSDECK_VERSION,
	    (long)getpid(), d->state_dir);
	printf("control socket: %s\n", sock);
	for (m = d->sv.machines; m != NULL; m = m->next) {
		if (m->port > 0)
			printf("  %s/%s[%d] machine %s: http://127.0.0.1:%d\n",
			    m->app, m->process, m->idx, m->id, m->port);
		else
			printf("  %s/%s[%d] machine %s: no port\n", m->app,
			    m->process, m->idx, m->id);
	}
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	exe[n > 0 ? n : 0] = '\0';
	printf("try: %s --state %s status\n", n > 0 ? exe : "opsdeck",
	    d->state_dir);
	fflush(stdout);
	free(sock);
}

static json_t *daemon_logs_json(struct daemon *, const char *, const char *,
    long, struct err *);

/* The table the front end calls the daemon through. */
static void
daemon_ops_fill(struct daemon *d)
{
	d->ops = (struct daemon_ops){
		.d = d,
		.info_json = daemon_info_json,
		.status_json = daemon_status_json,
		.apps_text = daemon_apps_text,
		.machines_json = daemon_machines_json,
		.machine_json = daemon_machine_json,
		.logs_json = daemon_logs_json,
		.machine_action = daemon_machine_action,
		.deploy = daemon_deploy,
		.rollback = daemon_rollback,
		.promote = daemon_promote,
		.releases = daemon_releases,
		.release = daemon_release,
		.secrets_list = daemon_secrets_list,
		.secrets_change = daemon_secrets_change,
		.secrets_deploy = daemon_secrets_deploy,
		.migrate_apply = daemon_migrate_apply,
		.migrate_job = daemon_migrate_job,
		.migrate_read = daemon_migrate_read,
		.migrate_read_job = daemon_migrate_read_job,
		.gc = daemon_gc,
		.gc_job = daemon_gc_job,
		.metrics_json = daemon_metrics_json,
		.metrics_text = daemon_metrics_text,
	};
	daemon_watch_ops(&d->ops);
	daemon_tasks_ops(&d->ops);
	daemon_evidence_ops(&d->ops);
	daemon_access_ops(&d->ops);
}

int
daemon_run(const struct daemon_options *o)
{
	struct daemon *d = xcalloc(1, sizeof(*d));
	int signums[3] = { SIGTERM, SIGINT, SIGHUP };
	struct config *cfg;
	struct cfg_diags diags = { NULL, 0 };
	char *sock = NULL, *dbpath = NULL;
	struct err e;
	int i, ret = EXIT_FAILURE;

	d->config_path = o->config_path;
	d->state_dir = o->state_dir;
	d->lock_fd = -1;
	d->started_at = wall_ms();
	d->metrics = metrics_new();
	/* Never start half-configured: the whole config validates first. */
	if ((cfg = daemon_load_config(o->config_path)) == NULL) {
		ret = 2;
		goto out;
	}
	daemon_add_config(d, cfg);
	if (mkdir_p(d->state_dir, 0700, &e) < 0 ||
	    (access(d->state_dir, W_OK) < 0 && err_errno(&e, "state dir '%s' "
	    "is not writable", d->state_dir) < 0)) {
		fprintf(stderr, "opsdeck up: %s: fix its permissions or choose "
		    "another with --state DIR\n", e.msg);
		goto out;
	}
	if (daemon_lock(d, &e) < 0) {
		fprintf(stderr, "opsdeck up: %s\n", e.msg);
		goto out;
	}
	dbpath = state_store_path(d->state_dir);
	if (store_open(&d->store, dbpath, &e) < 0) {
		fprintf(stderr, "opsdeck up: %s\n", e.msg);
		goto out;
	}
	/* No action runs without evidence: the signing key must be there first. */
	if (evidence_seal(&d->store, &e) < 0 ||
	    daemon_access_apply(d, cfg, &e) < 0) {
		fprintf(stderr, "opsdeck up: %s\n", e.msg);
		goto out;
	}
	signal(SIGPIPE, SIG_IGN);
	uv_loop_init(&d->loop);
	sock = state_socket_path(d->state_dir);
	daemon_ops_fill(d);
	d->frontend = o->frontend;
	if ((d->front = d->frontend->start(&d->loop, sock, &cfg->api,
	    &d->ops, &e)) == NULL) {
		fprintf(stderr, "opsdeck up: %s\n", e.msg);
		goto out_loop;
	}
	supervisor_init(&d->sv, &d->loop, &d->store, d->state_dir);
	if (daemon_deploy_init(d, &e) < 0) {
		fprintf(stderr, "opsdeck up: %s\n", e.msg);
		supervisor_release(&d->sv);
		d->frontend->stop(d->front);
		uv_run(&d->loop, UV_RUN_DEFAULT);
		goto out_loop;
	}
	uv_timer_init(&d->loop, &d->reload_timer);
	d->reload_timer.data = d;
	daemon_gc_init(d);
	for (i = 0; i < 3; i++) {
		uv_signal_init(&d->loop, &d->sig[i]);
		d->sig[i].data = d;
		uv_signal_start(&d->sig[i], daemon_signal, signums[i]);
	}
	/* HAProxy missing or too old, a public address taken: refused here. */
	if ((d->router = router_start(cfg, &(struct router_env){
	    .loop = &d->loop, .state_dir = d->state_dir,
	    .machines = daemon_machines_of, .ctx = d, .metrics = d->metrics },
	    &diags)) == NULL) {
		cfg_diags_print(stderr, &diags);
		fprintf(stderr, "opsdeck up: the router cannot start: fix the "
		    "config or the host as said above\n");
		cfg_diags_release(&diags);
		d->stopping = 1;
		supervisor_shutdown(&d->sv, daemon_closed_all);
		uv_run(&d->loop, UV_RUN_DEFAULT);
		ret = 2;
		goto out_loop;
	}
	d->denv.router = d->router;
	d->denv.metrics = d->metrics;
	d->denv.drain_ms = cfg->router.drain_ms;
	if (supervisor_apply(&d->sv, cfg, &e) < 0) {
		fprintf(stderr, "opsdeck up: %s\n", e.msg);
		d->stopping = 1;
		supervisor_shutdown(&d->sv, daemon_closed_all);
		uv_run(&d->loop, UV_RUN_DEFAULT);
		goto out_loop;
	}
	daemon_agent_heartbeats(d, cfg);
	d->watch = daemon_watch_new(d, cfg);
	daemon_announce(d);
	daemon_gc_start(d);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	ret = 0;
out_loop:
	daemon_migrate_release(d);
	daemon_migrate_read_release(d);
	daemon_gc_release(d);
	/* Handles a failed start closed (the API's) finish closing. */
	uv_run(&d->loop, UV_RUN_NOWAIT);
	uv_loop_close(&d->loop);
	store_close(&d->store);
out:
	for (i = 0; i < d->nconfigs; i++) {
		config_release(d->configs[i]);
		free(d->configs[i]);
	}
	free(d->configs);
	free(d->apps_text);
	d->apps_text = NULL;
	if (d->lock_fd >= 0)
		close(d->lock_fd);
	free(sock);
	free(dbpath);
	metrics_free(d->metrics);
	free(d);
	return ret;
}

static int
machine_cmp(const void *a, const void *b)
{
	const struct machine *x = *(struct machine *const *)a;
	const struct machine *y = *(struct machine *const *)b;
	int c;

	if ((c = strcmp(x->app, y->app)) != 0)
		return c;
	if ((c = strcmp(x->process, y->process)) != 0)
		return c;
	return x->idx - y->idx;
}

/* The machines of app (all when NULL), in app, process, index order. */
static json_t *
machines_array(struct daemon *d, const char *app)
{
	struct machine *m, **v;
	json_t *arr = json_array();
	size_t n = 0, i;

	for (m = d->sv.machines; m != NULL; m = m->next)
		n++;
	v = xcalloc(n, sizeof(*v));
	n = 0;
	for (m = d->sv.machines; m != NULL; m = m->next)
		if (app == NULL || strcmp(m->app, app) == 0)
			v[n++] = m;
	qsort(v, n, sizeof(*v), machine_cmp);
	for (i = 0; i < n; i++)
		json_array_append_new(arr, machine_json(v[i]));
	free(v);
	return arr;
}

static int
app_check(struct daemon *d, const char *app, struct err *e)
{
	if (app == NULL || config_app(d->sv.cfg, app) != NULL)
		return 0;
	return err_setk(e, ERR_NOT_FOUND, "no app '%s' in '%s': list apps with "
	    "`opsdeck status`", app, d->config_path);
}

json_t *
daemon_info_json(struct daemon *d)
{
	char ts[32], now[32];

	format_time(d->started_at, ts);
	/* the real clock, not a test's advanced one: `opsdeck doctor` compares it */
	format_time(wall_ms(), now);
	return json_pack("{s:s, s:i, s:s, s:s, s:s, s:s}", "version",
	    OPSDECK_VERSION, "pid", (int)getpid(), "state_dir", d->state_dir,
	    "config", d->config_path, "started_at", ts, "now", now);
}

/* {key: value} from a two-column query (text, or integers as booleans). */
static json_t *
query_map(struct daemon *d, const char *sql)
{
	json_t *map = json_object();
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(&d->store, &st, sql, &e) < 0)
		return map;
	while (sqlite3_step(st) == SQLITE_ROW)
		json_object_set_new(map, (const char *)sqlite3_column_text(st, 0),
		    sqlite3_column_type(st, 1) == SQLITE_INTEGER ?
		    json_boolean(sqlite3_column_int(st, 1)) :
		    json_string((const char *)sqlite3_column_text(st, 1)));
	sqlite3_finalize(st);
	return map;
}

static int
app_cmp(const void *a, const void *b)
{
	return strcmp((*(const struct cfg_app *const *)a)->name,
	    (*(const struct cfg_app *const *)b)->name);
}

/* The apps (app NULL: all; else that one, checked), each with its machines. */
static json_t *
apps_json(struct daemon *d, const char *app)
{
	const struct config *cfg = d->sv.cfg;
	const struct cfg_app **sorted = xcalloc(cfg->napps + 1, sizeof(*sorted));
	json_t *apps = json_array();
	size_t i;

	/* Two queries for the whole fleet, not two per app: status is called often. */
	json_t *live = query_map(d, "SELECT app, 'v' || version FROM releases "
	    "WHERE status = 'live'");
	json_t *needs = query_map(d, "SELECT name, needs_deploy FROM apps");

	for (i = 0; i < cfg->napps; i++)
		sorted[i] = &cfg->apps[i];
	qsort(sorted, cfg->napps, sizeof(*sorted), app_cmp);
	for (i = 0; i < cfg->napps; i++) {
		const struct cfg_app *a = sorted[i];
		json_t *ms, *m;
		size_t j;
		int started = 0;

		if (app != NULL && strcmp(app, a->name) != 0)
			continue;
		ms = machines_array(d, a->name);
		json_array_foreach(ms, j, m)
			if (strcmp(json_str(m, "state"), "started") == 0)
				started++;
		json_t *rel = json_object_get(live, a->name);

		json_array_append_new(apps, json_pack("{s:s, s:s, s:O, s:b, "
		    "s:i, s:i, s:o}", "name", a->name, "stage", a->stage,
		    "release", rel != NULL ? rel : json_null(),
		    "needs_deploy", json_is_true(json_object_get(needs,
		    a->name)),
		    "machines_total", (int)json_array_size(ms),
		    "machines_started", started, "machines", ms));
	}
	free(sorted);
	json_decref(live);
	json_decref(needs);
	return apps;
}

json_t *
daemon_status_json(struct daemon *d, const char *app, struct err *e)
{
	if (app_check(d, app, e) < 0)
		return NULL;
	return json_pack("{s:o, s:o, s:o, s:o}", "daemon", daemon_info_json(d),
	    "apps", apps_json(d, app), "housekeeping", daemon_gc_status_json(d),
	    "router", router_json(d->router));
}

static uint64_t
fnv(uint64_t h, const void *p, size_t n)
{
	const unsigned char *c = p;

	while (n-- > 0)
		h = (h ^ *c++) * 1099511628211ULL;
	return h;
}

#define FNV_VAL(h, v) fnv((h), &(v), sizeof(v))
#define FNV_STR(h, s) ((s) != NULL ? fnv((h), (s), strlen(s) + 1) : fnv((h), "", 1))

/*
 * A digest of everything apps_json reads: each machine's fields that machine_json
 * shows, the config (a reload makes a new one), and the store's count of changed
 * rows (releases going live, apps needing a deploy are rows of this connection).
 */
static uint64_t
apps_key(struct daemon *d)
{
	uint64_t h = 14695981039346656037ULL;
	const struct machine *m;
	sqlite3_int64 changes = sqlite3_total_changes64(d->store.db) -
	    d->store.evidence_changes;
	const void *cfg = d->sv.cfg;

	h = FNV_VAL(h, cfg);
	h = FNV_VAL(h, d->nconfigs);
	h = FNV_VAL(h, changes);
	for (m = d->sv.machines; m != NULL; m = m->next) {
		h = FNV_STR(h, m->id);
		h = FNV_STR(h, m->app);
		h = FNV_STR(h, m->process);
		h = FNV_VAL(h, m->idx);
		h = FNV_VAL(h, m->state);
		h = FNV_VAL(h, m->want_running);
		h = FNV_VAL(h, m->pid);
		h = FNV_VAL(h, m->port);
		h = FNV_VAL(h, m->restart_count);
		h = FNV_VAL(h, m->has_exit);
		h = FNV_VAL(h, m->exit_code);
		h = FNV_VAL(h, m->term_signal);
		h = FNV_STR(h, m->health);
		h = FNV_VAL(h, m->release.id);
		h = FNV_VAL(h, m->release.version);
		h = FNV_VAL(h, m->created_at);
		h = FNV_VAL(h, m->updated_at);
		h = FNV_STR(h, m->log.path);
	}
	return h;
}

/*
 * GET /v1/apps as text: rendered again only when apps_key changes, so that agents
 * and dashboards polling it cost a digest of the machines, not a JSON tree.
 */
char *
daemon_apps_text(struct daemon *d)
{
	uint64_t key = apps_key(d);

	if (d->apps_text == NULL || key != d->apps_key) {
		json_t *o = json_pack("{so}", "apps", apps_json(d, NULL));
		char *text = json_dump_compact(o);
		size_t n = strlen(text);

		json_decref(o);
		free(d->apps_text);
		d->apps_text = xreallocarray(text, n + 2, 1);
		memcpy(d->apps_text + n, "\n", 2);
		d->apps_key = key;
	}
	return xstrdup(d->apps_text);
}

json_t *
daemon_machines_json(struct daemon *d, const char *app, struct err *e)
{
	if (app_check(d, app, e) < 0)
		return NULL;
	return json_pack("{s:o}", "machines", machines_array(d, app));
}

/*
 * The last lines of app's machine logs (one machine's, when given), merged by time,
 * as text: for MCP's logs tool. Bounded reads of local files on the loop.
 */
static json_t *
daemon_logs_json(struct daemon *d, const char *app, const char *machine,
    long lines, struct err *e)
{
	struct logread_file *files;
	struct machine *m;
	size_t n = 0, i, len = 0;
	char *text = NULL;
	FILE *out;
	json_t *j;

	if (app_check(d, app, e) < 0)
		return NULL;
	for (m = d->sv.machines; m != NULL; m = m->next)
		n++;
	files = xcalloc(n + 1, sizeof(*files));
	n = 0;
	for (m = d->sv.machines; m != NULL; m = m->next) {
		if (strcmp(m->app, app) != 0 || m->log.path == NULL ||
		    (machine != NULL && strcmp(m->id, machine) != 0))
			continue;
		files[n].path = xstrdup(m->log.path);
		files[n].label = xasprintf("%s[%s]", m->process, m->id);
		n++;
	}
	if (machine != NULL && n == 0) {
		free(files);
		err_setk(e, ERR_NOT_FOUND, "app '%s' has no machine '%s': list them "
		    "with the machines tool", app, machine);
		return NULL;
	}
	if ((out = open_memstream(&text, &len)) == NULL)
		fatal("open_memstream");
	logread_tail(files, n, lines, out);
	fclose(out);
	for (i = 0; i < n; i++) {
		free(files[i].path);
		free(files[i].label);
	}
	free(files);
	j = json_pack("{s:s, s:I, s:s}", "app", app, "machines", (json_int_t)n,
	    "text", text);
	free(text);
	if (j == NULL)
		err_set(e, "the logs of '%s' are not UTF-8 text", app);
	return j;
}

json_t *
daemon_machine_json(struct daemon *d, const char *id)
{
	struct machine *m = supervisor_find(&d->sv, id);

	return m != NULL ? machine_json(m) : NULL;
}

struct machine_action {
	struct supervisor *sv;
	const char	*id;
	int		(*fn)(struct supervisor *, const char *, struct err *);
};

static int
run_machine_action(void *arg, struct err *e)
{
	struct machine_action *ma = arg;

	return ma->fn(ma->sv, ma->id, e);
}

int
daemon_machine_action(struct daemon *d, const struct actor *actor,
    const char *id, const char *action, struct err *e)
{
	static const struct {
		const char *verb, *gate_action;
		int (*fn)(struct supervisor *, const char *, struct err *);
	} verbs[] = {
		{ "start", "machine.start", supervisor_machine_start },
		{ "stop", "machine.stop", supervisor_machine_stop },
		{ "restart", "machine.restart", supervisor_machine_restart },
	};
	struct machine_action ma = { &d->sv, id, NULL };
	struct gate_call call = { .action = NULL };
	size_t i;

	if (d->stopping)
		return err_setk(e, ERR_CONFLICT, "opsdeck is shutting down");
	for (i = 0; i < sizeof(verbs) / sizeof(verbs[0]); i++) {
		if (strcmp(verbs[i].verb, action) != 0)
			continue;
		if (supervisor_find(&d->sv, id) == NULL)
			return err_setk(e, ERR_NOT_FOUND, "no machine '%s': "
			    "list them with `opsdeck machines`", id);
		ma.fn = verbs[i].fn;
		call.action = verbs[i].gate_action;
		call.target = id;
		return gate_run(&d->store, actor, &call, run_machine_action, &ma,
		    e);
	}
	return err_setk(e, ERR_INVALID, "unknown machine action '%s': use "
	    "start, stop or restart", action);
}

json_t *
daemon_metrics_json(struct daemon *d, const char *app, int64_t window_ms,
    struct err *e)
{
	if (app != NULL && app_check(d, app, e) < 0)
		return NULL;
	return json_pack("{s:I, s:o, s:o}", "window_s",
	    (json_int_t)(window_ms / 1000), "routes", metrics_json(d->metrics,
	    app, window_ms, wall_ms()), "router", router_json(d->router));
}

char *
daemon_metrics_text(struct daemon *d)
{
	struct buf b = BUF_INIT;
	struct machine *m;
	int pass;

	metrics_prometheus(d->metrics, &b);
	router_prometheus(d->router, &b);
	for (pass = 0; pass < 2; pass++) {
		buf_addstr(&b, pass == 0 ? "# HELP opsdeck_machine_state a "
		    "machine's state (1 for the one it is in)\n# TYPE "
		    "opsdeck_machine_state gauge\n" : "# HELP "
		    "opsdeck_machine_restarts_total restarts by the "
		    "supervisor\n# TYPE opsdeck_machine_restarts_total "
		    "counter\n");
		for (m = d->sv.machines; m != NULL; m = m->next) {
			buf_addstr(&b, pass == 0 ? "opsdeck_machine_state{app=\"" :
			    "opsdeck_machine_restarts_total{app=\"");
			metrics_prom_label(&b, m->app);
			buf_addstr(&b, "\",process=\"");
			metrics_prom_label(&b, m->process);
			buf_printf(&b, "\",machine=\"%s\",release=\"", m->id);
			if (m->release.id > 0)
				buf_printf(&b, "v%d", m->release.version);
			if (pass == 0)
				buf_printf(&b, "\",state=\"%s\"} 1\n",
				    machine_state_str(m->state));
			else
				buf_printf(&b, "\"} %d\n", m->restart_count);
		}
	}
	return buf_detach(&b);
}
