/*
 * opsdeck doctor: the startup checklist as a command. Each check is a row of the
 * table below and says ok, warn or fail, with the fix for the last two. It changes
 * nothing, works without a daemon (those lines warn) and on a bad config or a
 * missing state dir; it exits 1 when any check fails.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "client/client.h"
#include "cmd/common.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/proc.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "ledger/evidence.h"
#include "migrate/db.h"
#include "router/version.h"
#include "store/state.h"
#include "store/store.h"

extern const struct cmd_entry cmd_doctor_entry;

/* How far the daemon's clock may be from ours before it is worth a line. */
#define CLOCK_SKEW_MAX_MS 5000

enum verdict { VERDICT_OK, VERDICT_WARN, VERDICT_FAIL };

/* A detail as JSON: a path or a program's output that is not UTF-8 keeps its
 * valid bytes, the others as '?', rather than losing the key. */
static json_t *
text_json(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s), i = 0, k;
	json_t *j = json_string(s);
	char *copy;

	if (j != NULL)
		return j;
	copy = xstrdup(s);
	while (i < n) {
		k = u[i] < 0x80 ? 1 : utf8_seq(u + i, n - i);
		if (k == 0) {
			copy[i] = '?';
			k = 1;
		}
		i += k;
	}
	j = json_string(copy);
	free(copy);
	return j;
}

static const char *
verdict_str(enum verdict v)
{
	static const char *const names[] = { "ok", "warn", "fail" };

	return names[v];
}

struct finding {
	char		*check;	/* "daemon", or "app" with app set */
	char		*app;
	enum verdict	 verdict;
	char		*detail;
	char		*fix;	/* NULL when ok */
};

/* What the checks found, and what some of them pass on to the later ones. */
struct doctor {
	struct cmd_ctx	*ctx;
	struct finding	*items;
	size_t		 n;
	struct config	 cfg;
	bool		 have_cfg;
	int64_t		 evidence_seq;	/* the newest entry, 0 when none */
	int64_t		 evidence_at;
	struct client	*client;	/* NULL when no daemon answers */
	json_t		*info;		/* GET /v1/ping */
	json_t		*status;	/* GET /v1/status */
	int64_t		 info_sent, info_got;	/* our clock around the call */
};

static void
found(struct doctor *d, const char *check, const char *app, enum verdict v,
    const char *fix, const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static void
found(struct doctor *d, const char *check, const char *app, enum verdict v,
    const char *fix, const char *fmt, ...)
{
	struct finding *f;
	va_list ap;

	d->items = xreallocarray(d->items, d->n + 1, sizeof(*d->items));
	f = &d->items[d->n++];
	f->check = xstrdup(check);
	f->app = app != NULL ? xstrdup(app) : NULL;
	f->verdict = v;
	va_start(ap, fmt);
	if (vasprintf(&f->detail, fmt, ap) < 0)
		fatal("doctor: cannot format a finding");
	va_end(ap);
	f->fix = v != VERDICT_OK && fix != NULL ? xstrdup(fix) : NULL;
}

static void
check_config(struct doctor *d)
{
	const char *file = cmd_config_path(d->ctx);
	struct cfg_diags diags = { NULL, 0 };
	char *first, *fix;

	if (access(file, F_OK) < 0) {
		fix = xasprintf("write one (see opsdeck.yaml(5)), or name it with "
		    "-c FILE or $OPSDECK_CONFIG");
		found(d, "config", NULL, VERDICT_FAIL, fix, "no config at '%s'",
		    file);
		free(fix);
		return;
	}
	if (cmd_config_validate(file, &d->cfg, &diags) < 0) {
		first = diags.n > 0 ? cfg_diag_format(&diags.items[0]) :
		    xasprintf("%s: cannot be loaded", file);
		fix = xasprintf("fix it, then `opsdeck config check -c %s` lists "
		    "every problem", file);
		found(d, "config", NULL, VERDICT_FAIL, fix, "%s%s", first,
		    diags.n > 1 ? " (and more)" : "");
		free(first);
		free(fix);
		cfg_diags_release(&diags);
		return;
	}
	cfg_diags_release(&diags);
	d->have_cfg = true;
	found(d, "config", NULL, VERDICT_OK, NULL, "'%s' is valid (%zu app%s)",
	    file, d->cfg.napps, d->cfg.napps == 1 ? "" : "s");
}

/* Does the config put any process group behind HAProxy? */
static bool
needs_haproxy(const struct config *cfg)
{
	size_t i, j;

	if (cfg->router.driver != CFG_ROUTER_HAPROXY)
		return false;
	for (i = 0; i < cfg->napps; i++)
		for (j = 0; j < cfg->apps[i].nprocs; j++)
			if (cfg_process_routed(cfg, &cfg->apps[i].procs[j]))
				return true;
	return false;
}

static void
check_haproxy(struct doctor *d)
{
	const char *bin = d->have_cfg && d->cfg.router.haproxy != NULL ?
	    d->cfg.router.haproxy : "haproxy";
	bool needed = d->have_cfg && needs_haproxy(&d->cfg);
	const char *why = !d->have_cfg ? "the config did not load" :
	    d->cfg.router.driver == CFG_ROUTER_NONE ? "router: {driver: none}" :
	    "no process group has a public: address";
	char version[64], *fix, *path;
	int major, minor;
	struct err e;

	if (router_haproxy_version(bin, version, sizeof(version), &major,
	    &minor, &e) < 0) {
		fix = xasprintf("install Debian's haproxy (apt-get install "
		    "haproxy), or name the binary with router: {haproxy: PATH}%s",
		    needed ? ", or use router: {driver: none}" : "");
		if (needed)
			found(d, "haproxy", NULL, VERDICT_FAIL, fix, "%s: the "
			    "router needs it for the apps' public: addresses",
			    e.msg);
		else
			found(d, "haproxy", NULL, VERDICT_WARN, fix, "%s (not "
			    "needed now: %s)", e.msg, why);
		free(fix);
		return;
	}
	if (!router_haproxy_supported(major, minor)) {
		fix = xasprintf("install HAProxy %d.%d or later",
		    ROUTER_HAPROXY_MIN_MAJOR, ROUTER_HAPROXY_MIN_MINOR);
		found(d, "haproxy", NULL, needed ? VERDICT_FAIL : VERDICT_WARN,
		    fix, "'%s' is version %s, older than the %d.%d whose runtime "
		    "API the router drives", bin, version,
		    ROUTER_HAPROXY_MIN_MAJOR, ROUTER_HAPROXY_MIN_MINOR);
		free(fix);
		return;
	}
	path = exec_find(bin);
	found(d, "haproxy", NULL, VERDICT_OK, NULL, "'%s' version %s%s%s%s",
	    path != NULL ? path : bin, version, needed ? "" : " (not used now: ",
	    needed ? "" : why, needed ? "" : ")");
	free(path);
}

static void
check_postgresql(struct doctor *d)
{
	const struct migrate_db *db;
	char *argv[] = { "psql", "--version", NULL };
	char out[256], libpq[32];
	struct err e = { 0 };
	int v, r;

	if ((db = migrate_db(&e)) == NULL) {
		found(d, "postgresql", NULL, VERDICT_WARN, "reinstall opsdeck "
		    "with its modules beside the binary (make build), with "
		    "Debian's libpq5", "%s: `opsdeck migrate dryrun|apply|status|"
		    "verify` need it", e.msg);
		return;
	}
	v = db->lib_version();
	/* 10 and later: major * 10000 + minor */
	if (v >= 100000)
		snprintf(libpq, sizeof(libpq), "%d.%d", v / 10000, v % 10000);
	else
		snprintf(libpq, sizeof(libpq), "%d.%d.%d", v / 10000,
		    v / 100 % 100, v % 100);
	if ((r = proc_output(argv, out, sizeof(out), &e)) != 0) {
		/* r < 0: it did not run (e says why); r > 0: it ran and failed */
		if (r > 0)
			snprintf(e.msg, sizeof(e.msg), "exited with status %d", r);
		found(d, "postgresql", NULL, VERDICT_WARN, "install Debian's "
		    "postgresql-client (apt-get install postgresql-client): "
		    "opsdeck does not need it, but manual work on a database "
		    "does", "libpq %s; psql: %s", libpq, r < 0 && e.kind ==
		    ERR_NOT_FOUND ? "not found on PATH" : out[0] ? out : e.msg);
		return;
	}
	out[strcspn(out, "\n")] = '\0';
	found(d, "postgresql", NULL, VERDICT_OK, NULL, "libpq %s; %s", libpq,
	    out);
}

/* The nearest folder of path that exists, for a state dir not made yet. */
static char *
existing_parent(const char *path)
{
	char *p = xstrdup(path), *up;
	struct stat st;

	while (stat(p, &st) < 0 && errno == ENOENT && strcmp(p, "/") != 0 &&
	    strcmp(p, ".") != 0) {
		up = path_dir(p);
		free(p);
		p = up;
	}
	return p;
}

static void
check_state_dir(struct doctor *d)
{
	const char *dir = d->ctx->state_dir;
	char *parent, *fix;
	struct stat st;
	struct err e = { 0 };

	fix = xasprintf("fix the permissions of '%s', or choose another with "
	    "--state DIR (or state_dir: in the config)", dir);
	if (stat(dir, &st) == 0 && !S_ISDIR(st.st_mode))
		found(d, "state-dir", NULL, VERDICT_FAIL, fix, "'%s' is not a "
		    "directory", dir);
	else if (stat(dir, &st) == 0) {
		if (dir_writable(dir, &e) < 0)
			found(d, "state-dir", NULL, VERDICT_FAIL, fix, "%s", e.msg);
		else
			found(d, "state-dir", NULL, VERDICT_OK, NULL, "'%s' is "
			    "writable", dir);
	} else if (errno != ENOENT)
		found(d, "state-dir", NULL, VERDICT_FAIL, fix, "'%s': %s", dir,
		    strerror(errno));
	else {
		/* `opsdeck up` makes it: can it? */
		parent = existing_parent(dir);
		if (stat(parent, &st) == 0 && S_ISDIR(st.st_mode) &&
		    dir_writable(parent, &e) == 0)
			found(d, "state-dir", NULL, VERDICT_WARN, "`opsdeck up` "
			    "creates it", "'%s' does not exist yet", dir);
		else if (stat(parent, &st) == 0 && !S_ISDIR(st.st_mode))
			found(d, "state-dir", NULL, VERDICT_FAIL, fix, "'%s' "
			    "cannot be created: '%s' is not a directory", dir,
			    parent);
		else if (stat(parent, &st) < 0)
			found(d, "state-dir", NULL, VERDICT_FAIL, fix, "'%s' "
			    "cannot be created: '%s': %s", dir, parent,
			    strerror(errno));
		else
			found(d, "state-dir", NULL, VERDICT_FAIL, fix, "'%s' "
			    "cannot be created: %s", dir, e.msg);
		free(parent);
	}
	free(fix);
}

static void
check_store(struct doctor *d)
{
	char *path = state_store_path(d->ctx->state_dir);
	struct store s;
	struct err e;

	if (access(path, F_OK) < 0) {
		found(d, "store", NULL, VERDICT_WARN, "run `opsdeck up`: it "
		    "creates the store", "'%s' does not exist yet", path);
		goto out;
	}
	if (store_open_readonly(&s, path, &e) < 0) {
		found(d, "store", NULL, VERDICT_FAIL, "see the message: it says "
		    "what to do", "%s", e.msg);
		goto out;
	}
	if (evidence_last(&s, &d->evidence_seq, &d->evidence_at, &e) < 0)
		found(d, "store", NULL, VERDICT_FAIL, "restore it from a backup "
		    "or move it away", "cannot read its evidence: %s", e.msg);
	else
		found(d, "store", NULL, VERDICT_OK, NULL, "'%s': schema version "
		    "%d, quick_check ok, evidence up to seq %lld", path,
		    store_schema_version(), (long long)d->evidence_seq);
	store_close(&s);
out:
	free(path);
}

static void
check_daemon(struct doctor *d)
{
	const char *v;
	char *fix;
	struct err e;

	fix = xasprintf("start it: `opsdeck up -c %s --state %s`", d->have_cfg ?
	    cmd_config_path(d->ctx) : "FILE", d->ctx->state_dir);
	if ((d->client = client_open(d->ctx->state_dir, &e)) == NULL) {
		if (e.kind == ERR_NOT_FOUND)
			found(d, "daemon", NULL, VERDICT_WARN, fix, "not running "
			    "on state dir '%s'", d->ctx->state_dir);
		else
			found(d, "daemon", NULL, VERDICT_FAIL, fix, "%s", e.msg);
		goto out;
	}
	d->info_sent = wall_ms();
	d->info = client_call(d->client, "GET", "/v1/ping", NULL, &e);
	d->info_got = wall_ms();
	if (d->info == NULL) {
		found(d, "daemon", NULL, VERDICT_FAIL, "see its log; stop it and "
		    "start it again with `opsdeck up`", "its socket does not "
		    "answer: %s", e.msg);
		goto out;
	}
	if ((d->status = client_call(d->client, "GET", "/v1/status", NULL,
	    &e)) == NULL) {
		found(d, "daemon", NULL, VERDICT_FAIL, "see its log", "it "
		    "answers, but not its status: %s", e.msg);
		goto out;
	}
	v = json_str(d->info, "version") ? json_str(d->info, "version") : "?";
	if (strcmp(v, OPSDECK_VERSION) != 0)
		found(d, "daemon", NULL, VERDICT_FAIL, "restart it with this "
		    "opsdeck (stop it, then `opsdeck up`), or run the opsdeck "
		    "it was started from", "pid %lld runs opsdeck %s, this is %s",
		    json_int(d->info, "pid", 0), v, OPSDECK_VERSION);
	else
		found(d, "daemon", NULL, VERDICT_OK, NULL, "pid %lld, opsdeck %s, "
		    "up since %s", json_int(d->info, "pid", 0), v,
		    json_str(d->info, "started_at") ? json_str(d->info,
		    "started_at") : "?");
out:
	free(fix);
}

static void
check_router(struct doctor *d)
{
	const json_t *r = json_object_get(d->status, "router");
	const char *driver = json_str(r, "driver");

	if (d->status == NULL) {
		found(d, "router", NULL, VERDICT_WARN, "start the daemon (see "
		    "its line above)", "not known: the daemon does not answer");
		return;
	}
	if (driver == NULL || strcmp(driver, "none") == 0) {
		found(d, "router", NULL, VERDICT_OK, NULL, "driver none: apps "
		    "are reached on their own ports");
		return;
	}
	if (!json_is_integer(json_object_get(r, "pid"))) {
		/* started only for groups with a public: address */
		if (json_array_size(json_object_get(r, "backends")) == 0)
			found(d, "router", NULL, VERDICT_OK, NULL, "haproxy: "
			    "nothing to route (no public: address)");
		else
			found(d, "router", NULL, VERDICT_FAIL, "see the "
			    "daemon's log for HAProxy's alerts; it restarts "
			    "HAProxy with a backoff", "haproxy is not running "
			    "(%lld restarts)", json_int(r, "restarts", 0));
		return;
	}
	found(d, "router", NULL, VERDICT_OK, NULL, "haproxy %s up, pid %lld, "
	    "%zu frontend%s, %lld restart%s", json_str(r, "haproxy") ?
	    json_str(r, "haproxy") : "?", json_int(r, "pid", 0),
	    json_array_size(json_object_get(r, "backends")),
	    json_array_size(json_object_get(r, "backends")) == 1 ? "" : "s",
	    json_int(r, "restarts", 0), json_int(r, "restarts", 0) == 1 ? "" :
	    "s");
}

/* Whether the config gives app's process group proc a health check. */
static bool
health_checked(const struct doctor *d, const char *app, const char *proc)
{
	const struct cfg_app *a;
	const struct cfg_process *p;

	return d->have_cfg && (a = config_app(&d->cfg, app)) != NULL &&
	    (p = cfg_app_process(a, proc)) != NULL && p->health.enabled &&
	    p->port_mode != CFG_PORT_NONE;
}

/* One app of /v1/status: ok when every machine runs and passes its checks. */
static void
check_app(struct doctor *d, const json_t *a)
{
	const char *name = json_str(a, "name") ? json_str(a, "name") : "?";
	const json_t *ms = json_object_get(a, "machines"), *m;
	size_t i, total = json_array_size(ms), started = 0, failing = 0,
	    unknown = 0;
	struct buf other = BUF_INIT;
	char *fix;

	json_array_foreach(ms, i, m) {
		const char *st = json_str(m, "state") ? json_str(m, "state") :
		    "?", *h = json_str(m, "health") ? json_str(m, "health") : "";

		if (strcmp(st, "started") != 0) {
			buf_printf(&other, "%s%s %s", other.len ? ", " : "",
			    json_str(m, "id") ? json_str(m, "id") : "?", st);
			continue;
		}
		started++;
		if (strcmp(h, "failing") == 0)
			failing++;
		else if (strcmp(h, "passing") != 0 && health_checked(d, name,
		    json_str(m, "process") ? json_str(m, "process") : ""))
			unknown++;
	}
	fix = xasprintf("see why: `opsdeck logs %s` and `opsdeck machines %s`",
	    name, name);
	if (total == 0)
		found(d, "app", name, VERDICT_OK, NULL, "%s: no machines (count "
		    "0)", name);
	else if (started == 0)
		found(d, "app", name, VERDICT_FAIL, fix, "%s: none of %zu "
		    "machine%s running (%s)", name, total, total == 1 ? "" : "s",
		    buf_str(&other));
	else if (started < total || failing > 0 || unknown > 0) {
		struct buf why = BUF_INIT;

		if (failing > 0)
			buf_printf(&why, ", %zu failing health", failing);
		if (unknown > 0)
			buf_printf(&why, ", %zu not yet checked", unknown);
		if (other.len > 0)
			buf_printf(&why, " (%s)", buf_str(&other));
		found(d, "app", name, VERDICT_WARN, fix, "%s: %zu/%zu started%s",
		    name, started, total, buf_str(&why));
		buf_release(&why);
	} else
		found(d, "app", name, VERDICT_OK, NULL, "%s: %zu/%zu started, "
		    "health passing%s", name, started, total,
		    json_is_true(json_object_get(a, "needs_deploy")) ?
		    "; config changed: needs a deploy" : "");
	free(fix);
	buf_release(&other);
}

static void
check_apps(struct doctor *d)
{
	const json_t *apps = json_object_get(d->status, "apps"), *a;
	size_t i;

	if (d->status == NULL) {
		found(d, "app", NULL, VERDICT_WARN, "start the daemon (see its "
		    "line above)", "not known: the daemon does not answer%s",
		    d->have_cfg && d->cfg.napps > 0 ? " (the config has apps)" :
		    "");
		return;
	}
	if (json_array_size(apps) == 0)
		found(d, "app", NULL, VERDICT_OK, NULL, "the config has no apps");
	json_array_foreach(apps, i, a)
		check_app(d, a);
}

/* One line: the clock against the evidence, the daemon's and NTP; every fix it needs. */
static void
check_clock(struct doctor *d)
{
	int64_t now = wall_ms(), daemon_now;
	const char *dn = json_str(d->info, "now");
	int synced = clock_synced();
	enum verdict v = VERDICT_OK;
	struct buf detail = BUF_INIT, fix = BUF_INIT;
	char ts[32], ev[32], skew[32];

	format_time(now, ts);
	buf_addstr(&detail, ts);
	/* the store's clock went on: ours went back, and evidence would go backwards */
	if (d->evidence_seq > 0 && d->evidence_at > now + 1000) {
		format_time(d->evidence_at, ev);
		duration_format(d->evidence_at - now, skew);
		buf_printf(&detail, " is %s before the newest evidence entry (seq "
		    "%lld at %s)", skew, (long long)d->evidence_seq, ev);
		buf_addstr(&fix, "set the clock right (NTP: systemd-timesyncd or "
		    "chrony) before acting: new evidence would be dated before "
		    "the old");
		v = VERDICT_FAIL;
	} else if (d->evidence_seq > 0)
		buf_printf(&detail, ", after the newest evidence entry (seq %lld)",
		    (long long)d->evidence_seq);
	if (dn != NULL && time_parse(dn, now, &daemon_now) == 0) {
		if (daemon_now < d->info_sent - CLOCK_SKEW_MAX_MS ||
		    daemon_now > d->info_got + CLOCK_SKEW_MAX_MS) {
			duration_format(daemon_now < d->info_sent ? d->info_sent -
			    daemon_now : daemon_now - d->info_got, skew);
			buf_printf(&detail, "; the daemon's clock (%s) is %s off",
			    dn, skew);
			buf_printf(&fix, "%srun the daemon where the clock is the "
			    "CLI's, or synchronize both", fix.len ? "; " : "");
			if (v == VERDICT_OK)
				v = VERDICT_WARN;
		} else
			buf_printf(&detail, "; the daemon's clock agrees (within "
			    "%ds)", CLOCK_SKEW_MAX_MS / 1000);
	}
	if (synced == 0) {
		buf_addstr(&detail, "; not synchronized (the kernel reports "
		    "STA_UNSYNC)");
		buf_printf(&fix, "%senable NTP (apt-get install systemd-timesyncd, "
		    "or chrony): times in evidence and logs drift otherwise",
		    fix.len ? "; " : "");
		if (v == VERDICT_OK)
			v = VERDICT_WARN;
	} else
		buf_addstr(&detail, synced == 1 ? "; synchronized" :
		    "; synchronization not known");
	found(d, "clock", NULL, v, buf_str(&fix), "%s", buf_str(&detail));
	buf_release(&detail);
	buf_release(&fix);
}

/* In this order: the daemon's checks use what the config and store ones found. */
static void (*const checks[])(struct doctor *) = {
	check_config,
	check_haproxy,
	check_postgresql,
	check_state_dir,
	check_store,
	check_daemon,
	check_router,
	check_apps,
	check_clock,
};

static void
print_text(const struct doctor *d)
{
	size_t i, w = 0, n;

	for (i = 0; i < d->n; i++) {
		n = strlen(d->items[i].check) + (d->items[i].app ?
		    strlen(d->items[i].app) + 1 : 0);
		if (n > w)
			w = n;
	}
	for (i = 0; i < d->n; i++) {
		const struct finding *f = &d->items[i];
		char *name = f->app ? xasprintf("%s %s", f->check, f->app) :
		    xstrdup(f->check);
		/* the app's line names it in the name column already */
		const char *detail = f->detail;

		if (f->app != NULL && strncmp(detail, f->app, strlen(f->app)) ==
		    0 && detail[strlen(f->app)] == ':')
			detail += strlen(f->app) + 2;
		printf("%-4s  %-*s  %s\n", verdict_str(f->verdict), (int)w, name,
		    detail);
		if (f->fix != NULL)
			printf("      %-*s  fix: %s\n", (int)w, "", f->fix);
		free(name);
	}
}

static void
print_json(const struct doctor *d)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < d->n; i++) {
		const struct finding *f = &d->items[i];
		json_t *o = json_pack("{s:s}", "check", f->check);

		if (f->app != NULL)
			json_object_set_new(o, "app", json_string(f->app));
		json_object_set_new(o, "status", json_string(verdict_str(
		    f->verdict)));
		json_object_set_new(o, "detail", text_json(f->detail));
		json_object_set_new(o, "fix", f->fix ? json_string(f->fix) :
		    json_null());
		json_array_append_new(a, o);
	}
	cmd_print_json(a);
	json_decref(a);
}

static int
cmd_doctor_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct doctor d;
	size_t i;
	int code = EXIT_OK;

	if (argc > 1)
		return argv[1][0] == '-' ? cmd_bad_option(&cmd_doctor_entry,
		    argv[1]) : cmd_usage(&cmd_doctor_entry);
	memset(&d, 0, sizeof(d));
	d.ctx = ctx;
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		checks[i](&d);
	if (ctx->json)
		print_json(&d);
	else
		print_text(&d);
	for (i = 0; i < d.n; i++) {
		if (d.items[i].verdict == VERDICT_FAIL)
			code = EXIT_FAILED;
		free(d.items[i].check);
		free(d.items[i].app);
		free(d.items[i].detail);
		free(d.items[i].fix);
	}
	free(d.items);
	if (d.have_cfg)
		config_release(&d.cfg);
	json_decref(d.info);
	json_decref(d.status);
	client_free(d.client);
	return code;
}

const struct cmd_entry cmd_doctor_entry = {
	"doctor", "[--json]",
	"check dependencies, config, state dir, store, daemon, router, apps and "
	"clock, each with its fix", CMD_JSON, cmd_doctor_exec,
};
