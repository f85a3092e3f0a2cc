#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "runtime/logread.h"
#include "runtime/supervisor.h"

#define ORPHAN_POLL_MS 50

/* One spawned process and its output pipes; freed once all three handles closed. */
struct run {
	uv_process_t	 proc;
	uv_pipe_t	 pipes[2];
	int		 open;
	struct machine	*m;
};

static const char *const state_names[] = {
	[MACHINE_CREATED] = "created",
	[MACHINE_STARTING] = "starting",
	[MACHINE_STARTED] = "started",
	[MACHINE_STOPPING] = "stopping",
	[MACHINE_STOPPED] = "stopped",
	[MACHINE_FAILED] = "failed",
	[MACHINE_RESTARTING] = "restarting",
};

static void machine_spawn(struct machine *);
static void health_stop(struct machine *);
static void machine_stop_begin(struct machine *, int sig);
static void supervisor_check_done(struct supervisor *);

const char *
machine_state_str(enum machine_state s)
{
	return state_names[s];
}

const char *
machine_route_str(enum machine_route r)
{
	static const char *const names[] = {
		[MACHINE_ROUTE_AUTO] = "auto",
		[MACHINE_ROUTE_OFF] = "off",
		[MACHINE_ROUTE_STAGED] = "staged",
		[MACHINE_ROUTE_LIVE] = "live",
		[MACHINE_ROUTE_WARM] = "warm",
		[MACHINE_ROUTE_DRAIN] = "drain",
	};

	return names[r];
}

static int
machine_state_parse(const char *s)
{
	size_t i;

	for (i = 0; i < sizeof(state_names) / sizeof(state_names[0]); i++)
		if (strcmp(state_names[i], s) == 0)
			return (int)i;
	return MACHINE_STOPPED;
}

void
supervisor_init(struct supervisor *sv, uv_loop_t *loop, struct store *store,
    const char *state_dir)
{
	memset(sv, 0, sizeof(*sv));
	sv->loop = loop;
	sv->store = store;
	sv->state_dir = xstrdup(state_dir);
	sv->prober = prober_new(loop);
}

void
supervisor_event(struct supervisor *sv, const char *kind, const char *app,
    const char *machine_id, const char *detail)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(sv->store, &st, "INSERT INTO events (at, kind, app, "
	    "machine_id, detail) VALUES (?, ?, ?, ?, ?)", &e) < 0) {
		log_warnx("%s", e.msg);
		return;
	}
	sqlite3_bind_int64(st, 1, wall_ms());
	sqlite3_bind_text(st, 2, kind, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, app, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, machine_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, detail, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		log_warnx("store: cannot record event '%s': %s", kind,
		    sqlite3_errmsg(sv->store->db));
	sqlite3_finalize(st);
}

/* Writes the machine's row and one transition event in one transaction. */
static void
machine_persist(struct machine *m, const char *detail)
{
	struct store *s = m->sv->store;
	sqlite3_stmt *up = NULL, *ev = NULL;
	struct err e;

	if (store_begin(s, &e) < 0)
		goto fail;
	if (store_prepare(s, &up, "INSERT INTO machines (id, app, process, "
	    "idx, port, state, desired, pid, pgid, proc_start, exit_code, "
	    "signal, restart_count, health, created_at, updated_at, "
	    "release_id) VALUES "
	    "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, "
	    "?15, ?16, ?17) ON CONFLICT (id) DO UPDATE SET port = ?5, state = ?6, "
	    "desired = ?7, pid = ?8, pgid = ?9, proc_start = ?10, "
	    "exit_code = ?11, signal = ?12, restart_count = ?13, "
	    "health = ?14, updated_at = ?16", &e) < 0)
		goto fail;
	sqlite3_bind_text(up, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 2, m->app, -1, SQLITE_STATIC);
	sqlite3_bind_text(up, 3, m->process, -1, SQLITE_STATIC);
	sqlite3_bind_int(up, 4, m->idx);
	if (m->port > 0)
		sqlite3_bind_int(up, 5, m->port);
	sqlite3_bind_text(up, 6, machine_state_str(m->state), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(up, 7, m->want_running ? "running" : "stopped", -1,
	    SQLITE_STATIC);
	if (m->pid > 0) {
		sqlite3_bind_int(up, 8, m->pid);
		sqlite3_bind_int(up, 9, m->pgid);
		sqlite3_bind_int64(up, 10, m->proc_start);
	}
	if (m->has_exit) {
		sqlite3_bind_int(up, 11, m->exit_code);
		sqlite3_bind_int(up, 12, m->term_signal);
	}
	sqlite3_bind_int(up, 13, m->restart_count);
	sqlite3_bind_text(up, 14, m->health, -1, SQLITE_STATIC);
	sqlite3_bind_int64(up, 15, m->created_at);
	sqlite3_bind_int64(up, 16, m->updated_at);
	if (m->release.id > 0)
		sqlite3_bind_int64(up, 17, m->release.id);
	if (sqlite3_step(up) != SQLITE_DONE) {
		err_set(&e, "%s", sqlite3_errmsg(s->db));
		goto fail;
	}
	if (store_prepare(s, &ev, "INSERT INTO machine_events (machine_id, at, "
	    "state, detail) VALUES (?, ?, ?, ?)", &e) < 0)
		goto fail;
	sqlite3_bind_text(ev, 1, m->id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ev, 2, m->updated_at);
	sqlite3_bind_text(ev, 3, machine_state_str(m->state), -1,
	    SQLITE_STATIC);
	sqlite3_bind_text(ev, 4, detail, -1, SQLITE_STATIC);
	if (sqlite3_step(ev) != SQLITE_DONE) {
		err_set(&e, "%s", sqlite3_errmsg(s->db));
		goto fail;
	}
	if (store_commit(s, &e) < 0)
		goto fail;
	sqlite3_finalize(up);
	sqlite3_finalize(ev);
	return;
fail:
	store_rollback(s);
	sqlite3_finalize(up);
	sqlite3_finalize(ev);
	/* The store is the truth; acting without it would let the two drift. */
	fatalx("store: cannot record machine %s: %s", m->id, e.msg);
}

static void
machine_transition(struct machine *m, enum machine_state state,
    const char *detail)
{
	char note[512];

	m->state = state;
	m->updated_at = wall_ms();
	snprintf(m->why, sizeof(m->why), "%s", detail != NULL ? detail : "");
	machine_persist(m, detail);
	snprintf(note, sizeof(note), "machine %s %s%s%s", m->id,
	    machine_state_str(state), detail ? ": " : "", detail ? detail : "");
	if (m->log.fd >= 0)
		logsink_note(&m->log, note);
	log_info("%s/%s[%d] %s", m->app, m->process, m->idx, note);
}

static void
machine_timer(struct machine *m, uint64_t ms, uv_timer_cb cb)
{
	uv_timer_stop(m->timer);
	uv_timer_start(m->timer, cb, ms, 0);
}

/* The kernel's start time of pid (field 22 of /proc/pid/stat), or -1. */
static int64_t
proc_starttime(int pid)
{
	char path[64], data[1024], *p;
	long long start = -1;
	ssize_t n;
	int fd, field;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return -1;
	n = read(fd, data, sizeof(data) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	data[n] = '\0';
	/* The command name may hold spaces: count fields after its ')'. */
	if ((p = strrchr(data, ')')) == NULL)
		return -1;
	for (field = 2; *p != '\0' && field < 22; p++)
		if (*p == ' ')
			field++;
	if (sscanf(p, "%lld", &start) != 1)
		return -1;
	return start;
}

static bool
group_alive(int pgid)
{
	return pgid > 0 && (kill(-pgid, 0) == 0 || errno == EPERM);
}

static void
run_closed(uv_handle_t *h)
{
	struct run *r = h->data;
	struct machine *m = r->m;

	if (--r->open > 0)
		return;
	if (m != NULL) {
		if (m->run == r)
			m->run = NULL;
		m->runs_open--;
		supervisor_check_done(m->sv);
	}
	free(r);
}

static void
run_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	static char chunk[65536];

	(void)h;
	(void)suggested;
	b->base = chunk;
	b->len = sizeof(chunk);
}

static void
run_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct run *r = s->data;
	int stream = s == (uv_stream_t *)&r->pipes[0] ? 0 : 1;

	if (n > 0 && r->m != NULL)
		logsink_write(&r->m->log, stream, b->base, (size_t)n);
	if (n < 0 && !uv_is_closing((uv_handle_t *)s))
		uv_close((uv_handle_t *)s, run_closed);
}

static void
machine_restart_due(uv_timer_t *t)
{
	struct machine *m = t->data;

	if (m->state != MACHINE_RESTARTING || m->sv->shutting_down)
		return;
	m->restart_count++;
	machine_spawn(m);
}

/* The machine's process ended without being asked to: restart, or fail on a loop. */
static void
machine_crashed(struct machine *m, const char *why)
{
	const struct cfg_restart *rp = &m->cfg->restart;
	int64_t now = (int64_t)mono_ms();
	char detail[512];
	int64_t delay;

	if (m->started_mono != 0 &&
	    (int64_t)(mono_ms() - m->started_mono) >= backoff_reset_after(rp))
		m->consecutive = 0;
	if (crashloop_should_fail(&m->crashloop, rp, now)) {
		snprintf(detail, sizeof(detail), "%s; crash loop: %d restarts "
		    "within %llds, not restarting: fix the app and run "
		    "`opsdeck machine start %s`", why,
		    crashloop_count(&m->crashloop, rp, now),
		    (long long)(rp->crashloop_window_ms / 1000), m->id);
		machine_transition(m, MACHINE_FAILED, detail);
		supervisor_event(m->sv, "crash-loop", m->app, m->id, detail);
		return;
	}
	delay = backoff_delay(rp, ++m->consecutive);
	snprintf(detail, sizeof(detail), "%s; restart in %lldms", why,
	    (long long)delay);
	machine_transition(m, MACHINE_RESTARTING, detail);
	machine_timer(m, (uint64_t)delay, machine_restart_due);
}

/* The process and (if the group is gone) the machine are down; decide what is next. */
static void
machine_down(struct machine *m)
{
	uv_timer_stop(m->timer);
	m->pid = 0;
	m->pgid = 0;
	if (m->sv->shutting_down || m->cfg == NULL || m->retired) {
		machine_transition(m, MACHINE_STOPPED, m->sv->shutting_down ?
		    "daemon stopping" : m->retired ? "retired by a deploy" :
		    "app removed from config");
		supervisor_check_done(m->sv);
		return;
	}
	if (m->restart_after_stop || m->want_running) {
		m->restart_after_stop = false;
		machine_spawn(m);
		return;
	}
	machine_transition(m, MACHINE_STOPPED, "stopped by operator");
}

/*
 * The process is gone: take what its pipes hold now and close them. Waiting for EOF
 * could wait forever, for a child that left the group (setsid) keeps them open.
 */
static void
run_drain(struct run *r)
{
	char chunk[65536];
	uv_os_fd_t fd;
	ssize_t n;
	int i;

	for (i = 0; i < 2; i++) {
		uv_handle_t *h = (uv_handle_t *)&r->pipes[i];

		if (uv_is_closing(h))
			continue;
		if (uv_fileno(h, &fd) == 0)
			while ((n = read(fd, chunk, sizeof(chunk))) > 0)
				if (r->m != NULL)
					logsink_write(&r->m->log, i, chunk,
					    (size_t)n);
		uv_read_stop((uv_stream_t *)h);
		uv_close(h, run_closed);
	}
}

static void
run_exited(uv_process_t *p, int64_t status, int sig)
{
	struct run *r = p->data;
	struct machine *m = r->m;
	char why[128];

	uv_close((uv_handle_t *)p, run_closed);
	run_drain(r);
	if (m == NULL)
		return;
	m->run = NULL;
	health_stop(m);
	/* The leader is gone; nothing it started may outlive it. */
	if (m->pgid > 0)
		kill(-m->pgid, SIGKILL);
	m->has_exit = true;
	m->exit_code = sig ? 128 + sig : (int)status;
	m->term_signal = sig;
	if (sig)
		snprintf(why, sizeof(why), "killed by signal %d (%s)", sig,
		    strsignal(sig));
	else
		snprintf(why, sizeof(why), "exited with code %lld",
		    (long long)status);
	if (m->state == MACHINE_STOPPING) {
		if (m->log.fd >= 0)
			logsink_note(&m->log, why);
		machine_down(m);
		return;
	}
	m->pid = m->pgid = 0;
	if (m->sv->shutting_down) {
		machine_down(m);
		return;
	}
	/* A deploy watching this machine decides what its exit means. */
	if (m->hook != NULL && m->hook(m, MACHINE_EV_EXITED, why, m->hook_arg)) {
		machine_transition(m, MACHINE_STOPPED, why);
		return;
	}
	machine_crashed(m, why);
}

/* NULL with e set when the release's secrets cannot be read. */
static char **
machine_env(struct machine *m, struct err *e)
{
	static const char *const inherit[] = { "PATH", "HOME", "LANG", "TZ",
	    "USER", "LOGNAME", "TMPDIR" };
	const struct cfg_process *c = m->cfg;
	struct cfg_env *sec = NULL;
	size_t n = 0, i, nsec = 0, cap;
	char **env;
	const char *v;

	if (m->release.id > 0 && m->release.secrets_version > 0 &&
	    m->sv->secrets_env != NULL &&
	    m->sv->secrets_env(m->sv->release_arg, m->app,
	    m->release.secrets_version, &sec, &nsec, e) < 0)
		return NULL;
	cap = c->nenv + nsec + 16;
	env = xcalloc(cap, sizeof(char *));

	for (i = 0; i < sizeof(inherit) / sizeof(inherit[0]); i++)
		if ((v = getenv(inherit[i])) != NULL)
			env[n++] = xasprintf("%s=%s", inherit[i], v);
	for (i = 0; i < c->nenv; i++)
		env[n++] = xasprintf("%s=%s", c->env[i].key, c->env[i].value);
	/* Secrets reach apps only here, as variables; the copies are wiped. */
	for (i = 0; i < nsec; i++)
		env[n++] = xasprintf("%s=%s", sec[i].key, sec[i].value);
	if (sec != NULL) {
		const char **names = xcalloc(nsec + 1, sizeof(char *));
		const char **values = xcalloc(nsec + 1, sizeof(char *));

		for (i = 0; i < nsec; i++) {
			names[i] = sec[i].key;
			values[i] = sec[i].value;
		}
		logsink_mask(&m->log, names, values, nsec);
		free(names);
		free(values);
		m->sv->secrets_env_free(sec, nsec);
	}
	if (m->port > 0)
		env[n++] = xasprintf("PORT=%d", m->port);
	env[n++] = xasprintf("OPSDECK_APP=%s", m->app);
	env[n++] = xasprintf("OPSDECK_PROCESS=%s", m->process);
	env[n++] = xasprintf("OPSDECK_MACHINE_ID=%s", m->id);
	env[n++] = xasprintf("OPSDECK_STATE_DIR=%s", m->sv->state_dir);
	if (m->release.id > 0) {
		env[n++] = xasprintf("OPSDECK_RELEASE=v%d", m->release.version);
		env[n++] = xasprintf("OPSDECK_RELEASE_DIR=%s", m->release.dir);
	}
	env[n] = NULL;
	return env;
}

static void
env_free(char **env)
{
	size_t i;

	for (i = 0; env[i] != NULL; i++) {
		explicit_bzero(env[i], strlen(env[i]));
		free(env[i]);
	}
	free(env);
}

static void health_due(uv_timer_t *);

static void
health_set(struct machine *m, const char *health, const char *detail)
{
	char note[512];

	if (strcmp(m->health, health) == 0)
		return;
	snprintf(m->health, sizeof(m->health), "%s", health);
	snprintf(m->health_detail, sizeof(m->health_detail), "%s",
	    detail ? detail : "");
	m->updated_at = wall_ms();
	snprintf(note, sizeof(note), "health %s%s%s", health,
	    detail ? ": " : "", detail ? detail : "");
	machine_persist(m, note);
	if (m->log.fd >= 0)
		logsink_note(&m->log, note);
	log_info("%s/%s[%d] machine %s %s", m->app, m->process, m->idx,
	    m->id, note);
}

static void
health_stop(struct machine *m)
{
	if (m->probe != NULL)
		probe_cancel(m->probe);
	m->probe = NULL;
	uv_timer_stop(m->health_timer);
	m->health_passes = m->health_fails = 0;
	snprintf(m->health, sizeof(m->health), "unknown");
}

static void
health_answer(void *arg, const struct probe_result *r)
{
	struct machine *m = arg;
	const struct cfg_health *h = &m->cfg->health;
	bool in_grace = mono_ms() - m->started_mono < (uint64_t)h->grace_ms;
	bool passed = true;
	char detail[256];

	m->probe = NULL;
	if (r->status >= 200 && r->status < 400) {
		m->health_fails = 0;
		if (++m->health_passes >= h->passes)
			health_set(m, "passing", NULL);
		if (m->hook != NULL)
			m->hook(m, MACHINE_EV_HEALTH_PASS, NULL, m->hook_arg);
	} else {
		m->health_passes = 0;
		if (r->status != 0)
			snprintf(detail, sizeof(detail), "GET %s answered %ld",
			    h->path, r->status);
		else
			snprintf(detail, sizeof(detail), "GET %s: %s", h->path,
			    r->error != NULL ? r->error : "no answer");
		/* Failures inside the grace period are the app still booting. */
		if (!in_grace && ++m->health_fails >= h->failures)
			health_set(m, "failing", detail);
		passed = false;
		if (m->hook != NULL)
			m->hook(m, MACHINE_EV_HEALTH_FAIL, detail, m->hook_arg);
	}
	/* The hook may have stopped the machine. */
	if (m->run == NULL || m->state != MACHINE_STARTED)
		return;
	/*
	 * Until a machine first passes, look again soon (a deploy waits on it);
	 * after that, every interval.
	 */
	uv_timer_start(m->health_timer, health_due, !passed &&
	    strcmp(m->health, "unknown") == 0 && h->interval_ms > 100 ? 100 :
	    (uint64_t)h->interval_ms, 0);
}

static void
health_due(uv_timer_t *t)
{
	struct machine *m = t->data;
	char url[512];

	if (m->run == NULL || m->cfg == NULL || m->state != MACHINE_STARTED)
		return;
	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", m->port,
	    m->cfg->health.path);
	m->probe = probe_get(m->sv->prober, url, m->cfg->health.timeout_ms,
	    health_answer, m);
}

static void
health_start(struct machine *m)
{
	health_stop(m);
	if (m->port <= 0 || !m->cfg->health.enabled)
		return;
	/* A first look soon after start, then every interval. */
	uv_timer_start(m->health_timer, health_due, 20, 0);
}

/* argv with ${OPSDECK_RELEASE_DIR} replaced by the release's folder. */
static char **
machine_argv(struct machine *m)
{
	const struct cfg_process *c = m->cfg;
	size_t i, vl = strlen(CFG_RELEASE_DIR_VAR);
	char **argv = xcalloc(c->argc + 1, sizeof(char *));

	for (i = 0; i < c->argc; i++) {
		if (m->release.dir != NULL &&
		    strncmp(c->argv[i], CFG_RELEASE_DIR_VAR, vl) == 0)
			argv[i] = xasprintf("%s%s", m->release.dir,
			    c->argv[i] + vl);
		else
			argv[i] = xstrdup(c->argv[i]);
	}
	return argv;
}

static void
argv_free(char **argv, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(argv[i]);
	free(argv);
}

static void
machine_spawn(struct machine *m)
{
	uv_process_options_t opt;
	uv_stdio_container_t stdio[3];
	struct run *r;
	char detail[512], **env, **argv;
	struct err e;
	int rc;

	machine_transition(m, MACHINE_STARTING, NULL);
	if (m->cfg->from_release && m->release.id == 0) {
		m->want_running = false;
		snprintf(detail, sizeof(detail), "%s runs a program of its "
		    "release, and it has none: deploy it (opsdeck deploy %s "
		    "--artifact DIR)", m->app, m->app);
		machine_transition(m, MACHINE_FAILED, detail);
		return;
	}
	if ((env = machine_env(m, &e)) == NULL) {
		machine_transition(m, MACHINE_FAILED, e.msg);
		return;
	}
	r = xcalloc(1, sizeof(*r));
	r->m = m;
	uv_pipe_init(m->sv->loop, &r->pipes[0], 0);
	uv_pipe_init(m->sv->loop, &r->pipes[1], 0);
	r->pipes[0].data = r->pipes[1].data = r->proc.data = r;
	memset(&opt, 0, sizeof(opt));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[1].data.stream = (uv_stream_t *)&r->pipes[0];
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&r->pipes[1];
	argv = machine_argv(m);
	opt.file = argv[0];
	opt.args = argv;
	opt.env = env;
	opt.cwd = m->release.id > 0 ? m->release.dir : m->cfg->workdir;
	opt.flags = UV_PROCESS_DETACHED;	/* setsid: its own process group */
	opt.exit_cb = run_exited;
	opt.stdio = stdio;
	opt.stdio_count = 3;
	rc = uv_spawn(m->sv->loop, &r->proc, &opt);
	env_free(env);
	argv_free(argv, m->cfg->argc);
	if (rc != 0) {
		/* uv_spawn closes nothing on failure; the handles are ours. */
		r->m = NULL;
		r->open = 3;
		uv_close((uv_handle_t *)&r->proc, run_closed);
		uv_close((uv_handle_t *)&r->pipes[0], run_closed);
		uv_close((uv_handle_t *)&r->pipes[1], run_closed);
		m->has_exit = true;
		m->exit_code = 127;
		m->term_signal = 0;
		snprintf(detail, sizeof(detail), "cannot run '%s': %s",
		    m->cfg->argv[0], uv_strerror(rc));
		/* a deploy's new machine is not restarted: the deploy fails on it */
		if (m->deploying)
			machine_transition(m, MACHINE_FAILED, detail);
		else
			machine_crashed(m, detail);
		return;
	}
	r->open = 3;
	m->run = r;
	m->runs_open++;
	m->pid = r->proc.pid;
	m->pgid = r->proc.pid;
	m->proc_start = proc_starttime(m->pid);
	m->started_mono = mono_ms();
	uv_read_start((uv_stream_t *)&r->pipes[0], run_alloc, run_read);
	uv_read_start((uv_stream_t *)&r->pipes[1], run_alloc, run_read);
	snprintf(detail, sizeof(detail), "pid %d", m->pid);
	if (m->port > 0)
		snprintf(detail, sizeof(detail), "pid %d, port %d", m->pid,
		    m->port);
	machine_transition(m, MACHINE_STARTED, detail);
	health_start(m);
}

static void
machine_stop_due(uv_timer_t *t)
{
	struct machine *m = t->data;
	int pgid = m->run != NULL ? m->pgid : m->orphan_pgid;

	if (m->run == NULL && m->orphan_pgid != 0 &&
	    !group_alive(m->orphan_pgid)) {
		m->orphan_pgid = 0;
		machine_down(m);
		return;
	}
	if (mono_ms() >= m->stop_deadline && pgid > 0) {
		log_warnx("%s/%s[%d] machine %s: still running after stop "
		    "timeout, sending SIGKILL", m->app, m->process, m->idx,
		    m->id);
		kill(-pgid, SIGKILL);
		m->stop_deadline = UINT64_MAX;
	}
	if (m->run == NULL && m->orphan_pgid != 0)
		machine_timer(m, ORPHAN_POLL_MS, machine_stop_due);
	else if (m->run != NULL && m->stop_deadline != UINT64_MAX)
		/* The loop's clock lags ours: the timer can fire a little early. */
		machine_timer(m, m->stop_deadline - mono_ms() + 1,
		    machine_stop_due);
}

/* SIGTERM to the machine's group (or the group an earlier daemon left). */
static void
machine_stop_begin(struct machine *m, int sig)
{
	int pgid = m->run != NULL ? m->pgid : m->orphan_pgid;
	int64_t timeout = m->cfg ? m->cfg->restart.stop_timeout_ms : 10000;

	if (pgid <= 0) {
		machine_down(m);
		return;
	}
	machine_transition(m, MACHINE_STOPPING, m->run ? NULL :
	    "process group left by an earlier daemon");
	health_stop(m);
	kill(-pgid, sig);
	m->stop_deadline = mono_ms() + (uint64_t)timeout;
	if (m->run != NULL)
		machine_timer(m, (uint64_t)timeout, machine_stop_due);
	else
		machine_timer(m, ORPHAN_POLL_MS, machine_stop_due);
}

static struct machine *
machine_lookup(struct supervisor *sv, const char *app, const char *process,
    int idx, int64_t release_id)
{
	struct machine *m;

	for (m = sv->machines; m != NULL; m = m->next)
		if (strcmp(m->app, app) == 0 &&
		    strcmp(m->process, process) == 0 && m->idx == idx &&
		    m->release.id == release_id && !m->retired)
			return m;
	return NULL;
}

static void
machine_set_release(struct machine *m, const struct machine_release *rel)
{
	char *dir = rel->dir != NULL ? xstrdup(rel->dir) : NULL;

	free(m->release.dir);
	m->release = *rel;
	m->release.dir = dir;
}

struct machine *
supervisor_find(struct supervisor *sv, const char *id)
{
	struct machine *m;

	for (m = sv->machines; m != NULL; m = m->next)
		if (strcmp(m->id, id) == 0)
			return m;
	return NULL;
}

static struct machine *
machine_new(struct supervisor *sv, const char *app, const char *process,
    int idx)
{
	struct machine *m = xcalloc(1, sizeof(*m));
	unsigned char rnd[7];
	size_t i;

	if (getrandom(rnd, sizeof(rnd), 0) != sizeof(rnd))
		fatal("getrandom");
	for (i = 0; i < sizeof(rnd); i++)
		snprintf(m->id + 2 * i, 3, "%02x", rnd[i]);
	m->app = xstrdup(app);
	m->process = xstrdup(process);
	m->idx = idx;
	m->state = MACHINE_CREATED;
	m->want_running = true;
	m->created_at = m->updated_at = wall_ms();
	m->log.fd = -1;
	snprintf(m->health, sizeof(m->health), "unknown");
	m->sv = sv;
	m->timer = xcalloc(1, sizeof(*m->timer));
	uv_timer_init(sv->loop, m->timer);
	m->timer->data = m;
	m->health_timer = xcalloc(1, sizeof(*m->health_timer));
	uv_timer_init(sv->loop, m->health_timer);
	m->health_timer->data = m;
	m->next = sv->machines;
	sv->machines = m;
	return m;
}

static void
timer_free(uv_handle_t *h)
{
	free(h);
}

static void
machine_free(struct machine *m)
{
	if (m->probe != NULL)
		probe_cancel(m->probe);
	free(m->release.dir);
	logsink_close(&m->log);
	uv_close((uv_handle_t *)m->timer, timer_free);
	uv_close((uv_handle_t *)m->health_timer, timer_free);
	free(m->app);
	free(m->process);
	free(m);
}

/* Loads every machine row the store has, as the previous daemon left them. */
static int
supervisor_load_rows(struct supervisor *sv, struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct machine *m;
	int rc, ret = -1;

	if (store_prepare(sv->store, &st, "SELECT id, app, process, idx, "
	    "port, state, desired, pid, pgid, proc_start, exit_code, signal, "
	    "restart_count, health, created_at, release_id FROM machines "
	    "ORDER BY app, process, idx", e) < 0)
		goto out;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		m = machine_new(sv, (const char *)sqlite3_column_text(st, 1),
		    (const char *)sqlite3_column_text(st, 2),
		    sqlite3_column_int(st, 3));
		snprintf(m->id, sizeof(m->id), "%s",
		    (const char *)sqlite3_column_text(st, 0));
		m->port = sqlite3_column_int(st, 4);
		m->state = machine_state_parse(
		    (const char *)sqlite3_column_text(st, 5));
		m->want_running = strcmp((const char *)sqlite3_column_text(st,
		    6), "running") == 0;
		m->pid = sqlite3_column_int(st, 7);
		m->pgid = sqlite3_column_int(st, 8);
		m->proc_start = sqlite3_column_int64(st, 9);
		m->has_exit = sqlite3_column_type(st, 10) != SQLITE_NULL;
		m->exit_code = sqlite3_column_int(st, 10);
		m->term_signal = sqlite3_column_int(st, 11);
		m->restart_count = sqlite3_column_int(st, 12);
		m->created_at = sqlite3_column_int64(st, 14);
		/* Version and folder come from the release when it is live. */
		m->release.id = sqlite3_column_int64(st, 15);
	}
	if (rc != SQLITE_DONE) {
		err_set(e, "store: %s", sqlite3_errmsg(sv->store->db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Reads NAME=value from a NUL-separated environment block. */
static const char *
environ_get(const char *env, size_t len, const char *name)
{
	size_t nlen = strlen(name), off = 0;

	while (off < len) {
		const char *kv = env + off;
		size_t kvlen = strnlen(kv, len - off);

		if (kvlen > nlen && memcmp(kv, name, nlen) == 0 &&
		    kv[nlen] == '=')
			return kv + nlen + 1;
		off += kvlen + 1;
	}
	return NULL;
}

/*
 * Finds processes an earlier daemon on this state dir started, by the variables it put in
 * their environment: a recorded pid can be missing (killed between spawn and write) or
 * reused, the environment cannot lie about whose machine a process is.
 */
static void
supervisor_find_orphans(struct supervisor *sv)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (d == NULL) {
		log_warn("cannot scan /proc for machines of an earlier daemon");
		return;
	}
	while ((de = readdir(d)) != NULL) {
		char path[64], env[32768];
		const char *dir, *id;
		struct machine *m;
		int fd, pid = atoi(de->d_name), pgid;
		ssize_t n;

		if (pid <= 0 || pid == getpid())
			continue;
		snprintf(path, sizeof(path), "/proc/%d/environ", pid);
		if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
			continue;
		n = read(fd, env, sizeof(env) - 1);
		close(fd);
		if (n <= 0)
			continue;
		env[n] = '\0';
		dir = environ_get(env, (size_t)n, "OPSDECK_STATE_DIR");
		id = environ_get(env, (size_t)n, "OPSDECK_MACHINE_ID");
		if (dir == NULL || id == NULL || strcmp(dir, sv->state_dir) != 0)
			continue;
		if ((pgid = getpgid(pid)) <= 0)
			continue;
		m = supervisor_find(sv, id);
		if (m == NULL) {
			log_warnx("process %d belongs to unknown machine %s of "
			    "this state dir: killing its group %d", pid, id,
			    pgid);
			kill(-pgid, SIGKILL);
			continue;
		}
		if (m->orphan_pgid == 0 || pgid == pid)
			m->orphan_pgid = pgid;
	}
	closedir(d);
}

static bool
port_taken(struct supervisor *sv, struct machine *self, int port)
{
	struct machine *m;

	for (m = sv->machines; m != NULL; m = m->next)
		if (m != self && m->port == port)
			return true;
	return false;
}

static bool
port_bindable(int port)
{
	struct sockaddr_in sa;
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1, ok;

	if (fd < 0)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ok = bind(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
	close(fd);
	return ok;
}

static int
machine_assign_port(struct supervisor *sv, struct machine *m,
    const struct config *cfg, struct err *e)
{
	int p;

	switch (m->cfg->port_mode) {
	case CFG_PORT_NONE:
		m->port = 0;
		return 0;
	case CFG_PORT_FIXED:
		m->port = m->cfg->port;
		return 0;
	case CFG_PORT_AUTO:
		/* Keep the port it had: an adopted process may still hold it. */
		if (m->port >= cfg->port_from && m->port <= cfg->port_to &&
		    !port_taken(sv, m, m->port))
			return 0;
		for (p = cfg->port_from; p <= cfg->port_to; p++) {
			if (!port_taken(sv, m, p) && port_bindable(p)) {
				m->port = p;
				return 0;
			}
		}
		return err_set(e, "apps.%s.processes.%s: no free port in "
		    "%d..%d: widen ports.from/ports.to", m->app, m->process,
		    cfg->port_from, cfg->port_to);
	}
	return 0;
}

static void
machine_open_log(struct supervisor *sv, struct machine *m,
    const struct config *cfg)
{
	char *dir, *path;
	struct err e;

	if (m->log.fd >= 0)
		return;
	dir = logread_dir(sv->state_dir, m->app);
	if (mkdir_p(dir, 0750, &e) < 0)
		log_warnx("%s", e.msg);
	path = logread_path(sv->state_dir, m->app, m->id);
	logsink_open(&m->log, path, (size_t)cfg->log_max_bytes, cfg->log_keep);
	free(path);
	free(dir);
}

static void
app_record(struct supervisor *sv, const struct cfg_app *a, bool initial)
{
	sqlite3_stmt *st = NULL;
	char digest[65], note[512];
	const char *old = NULL;
	struct err e;
	bool changed;

	cfg_app_digest(a, digest);
	if (store_prepare(sv->store, &st, "SELECT config_digest FROM apps "
	    "WHERE name = ?", &e) < 0)
		fatalx("%s", e.msg);
	sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		old = (const char *)sqlite3_column_text(st, 0);
	changed = old != NULL && strcmp(old, digest) != 0;
	sqlite3_finalize(st);
	st = NULL;
	if (changed && !initial) {
		snprintf(note, sizeof(note), "config of '%s' changed: marked "
		    "as needing a deploy; its machines keep running as they "
		    "were until then (a restart of opsdeck up starts them from "
		    "the new config)", a->name);
		supervisor_event(sv, "config-changed", a->name, NULL, note);
		log_info("%s", note);
		if (store_prepare(sv->store, &st, "UPDATE apps SET "
		    "needs_deploy = 1, updated_at = ? WHERE name = ?", &e) < 0)
			fatalx("%s", e.msg);
		sqlite3_bind_int64(st, 1, wall_ms());
		sqlite3_bind_text(st, 2, a->name, -1, SQLITE_STATIC);
	} else {
		if (store_prepare(sv->store, &st, "INSERT INTO apps (name, "
		    "stage, config_digest, needs_deploy, updated_at) VALUES "
		    "(?1, ?2, ?3, 0, ?4) ON CONFLICT (name) DO UPDATE SET "
		    "stage = ?2, config_digest = ?3, needs_deploy = 0, "
		    "updated_at = ?4", &e) < 0)
			fatalx("%s", e.msg);
		sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 2, a->stage, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, digest, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 4, wall_ms());
	}
	if (sqlite3_step(st) != SQLITE_DONE)
		fatalx("store: cannot record app %s: %s", a->name,
		    sqlite3_errmsg(sv->store->db));
	sqlite3_finalize(st);
}

static bool
app_changed(struct supervisor *sv, const struct cfg_app *a)
{
	sqlite3_stmt *st = NULL;
	char digest[65];
	struct err e;
	bool changed = false;

	cfg_app_digest(a, digest);
	if (store_prepare(sv->store, &st, "SELECT config_digest FROM apps "
	    "WHERE name = ?", &e) < 0)
		fatalx("%s", e.msg);
	sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		changed = strcmp((const char *)sqlite3_column_text(st, 0),
		    digest) != 0;
	sqlite3_finalize(st);
	return changed;
}

static void
machine_delete_row(struct supervisor *sv, struct machine *m)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(sv->store, &st, "DELETE FROM machines WHERE id = ?",
	    &e) < 0)
		fatalx("%s", e.msg);
	sqlite3_bind_text(st, 1, m->id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		fatalx("store: %s", sqlite3_errmsg(sv->store->db));
	sqlite3_finalize(st);
}

/* Drops machines that are gone from the config and have no process left. */
static void
supervisor_reap_removed(struct supervisor *sv)
{
	struct machine **pp = &sv->machines, *m;

	while ((m = *pp) != NULL) {
		if ((m->cfg == NULL || m->retired) && m->run == NULL &&
		    m->orphan_pgid == 0 && m->runs_open == 0 &&
		    m->state != MACHINE_STOPPING) {
			machine_delete_row(sv, m);
			*pp = m->next;
			machine_free(m);
		} else
			pp = &m->next;
	}
}

int
supervisor_apply(struct supervisor *sv, const struct config *cfg,
    struct err *e)
{
	bool initial = sv->cfg == NULL;
	struct machine *m;
	size_t i, j;
	int k;

	if (initial) {
		if (supervisor_load_rows(sv, e) < 0)
			return -1;
		supervisor_find_orphans(sv);
	}
	for (m = sv->machines; m != NULL; m = m->next) {
		if (m->deploying || m->retired)
			continue;
		m->prev_cfg = m->cfg;
		m->cfg = NULL;
	}
	for (i = 0; i < cfg->napps; i++) {
		const struct cfg_app *a = &cfg->apps[i], *ra;
		struct machine_release rel = { 0, 0, NULL, 0 };
		/* A changed app runs on as deployed until a deploy applies it. */
		bool keep_old = !initial && config_app(sv->cfg, a->name) != NULL &&
		    app_changed(sv, a);

		app_record(sv, a, initial);
		/* A deployed app runs its live release's config, whatever the file says. */
		ra = sv->live_release != NULL ? sv->live_release(sv->release_arg,
		    a->name, &rel) : NULL;
		if (ra != NULL) {
			for (j = 0; j < ra->nprocs; j++) {
				const struct cfg_process *p = &ra->procs[j];

				for (k = 0; k < p->count; k++) {
					m = machine_lookup(sv, a->name, p->name, k,
					    rel.id);
					if (m == NULL)
						m = machine_new(sv, a->name,
						    p->name, k);
					machine_set_release(m, &rel);
					m->cfg = p;
				}
			}
			continue;
		}
		if (keep_old) {
			for (m = sv->machines; m != NULL; m = m->next)
				if (strcmp(m->app, a->name) == 0 &&
				    !m->deploying && !m->retired)
					m->cfg = m->prev_cfg;
			continue;
		}
		for (j = 0; j < a->nprocs; j++) {
			const struct cfg_process *p = &a->procs[j];

			for (k = 0; k < p->count; k++) {
				m = machine_lookup(sv, a->name, p->name, k, 0);
				if (m == NULL)
					m = machine_new(sv, a->name, p->name, k);
				m->cfg = p;
			}
		}
	}
	for (m = sv->machines; m != NULL; m = m->next) {
		if (m->cfg == NULL)
			continue;
		machine_open_log(sv, m, cfg);
		/* One machine without a port must not leave the fleet half-applied. */
		if (machine_assign_port(sv, m, cfg, e) < 0) {
			m->port = 0;
			machine_transition(m, MACHINE_FAILED, e->msg);
			supervisor_event(sv, "no-port", m->app, m->id, e->msg);
		}
	}
	sv->cfg = cfg;
	for (m = sv->machines; m != NULL; m = m->next) {
		/* A deploy's machines are the deploy's to start and stop. */
		if (m->deploying || m->retired)
			continue;
		if (m->cfg == NULL) {
			if (m->run != NULL || m->orphan_pgid != 0)
				machine_stop_begin(m, SIGTERM);
			continue;
		}
		bool fresh = m->state == MACHINE_CREATED;

		if (fresh)
			machine_transition(m, MACHINE_CREATED, NULL);
		if (m->orphan_pgid != 0 && m->run == NULL) {
			char note[128];

			snprintf(note, sizeof(note), "found process group %d "
			    "of machine %s left by an earlier daemon",
			    m->orphan_pgid, m->id);
			supervisor_event(sv, "orphan", m->app, m->id, note);
			machine_stop_begin(m, SIGTERM);
			continue;
		}
		if (m->state == MACHINE_FAILED && m->port == 0 &&
		    m->cfg->port_mode != CFG_PORT_NONE)
			continue;
		if ((initial || fresh) && m->run == NULL) {
			if (m->want_running)
				machine_spawn(m);
			else if (m->state != MACHINE_STOPPED)
				machine_transition(m, MACHINE_STOPPED,
				    "stopped by operator");
		}
	}
	supervisor_reap_removed(sv);
	return 0;
}

struct machine *
supervisor_machine_add(struct supervisor *sv, const char *app,
    const struct cfg_process *p, int idx, const struct machine_release *rel,
    struct err *e)
{
	struct machine *m = machine_new(sv, app, p->name, idx);

	machine_set_release(m, rel);
	m->cfg = p;
	m->deploying = true;
	machine_open_log(sv, m, sv->cfg);
	if (machine_assign_port(sv, m, sv->cfg, e) < 0) {
		m->retired = true;
		machine_transition(m, MACHINE_FAILED, e->msg);
		supervisor_reap_removed(sv);
		return NULL;
	}
	machine_transition(m, MACHINE_CREATED, rel->id > 0 ? "for a deploy" :
	    NULL);
	return m;
}

void
supervisor_machine_spawn(struct machine *m)
{
	/* Never a second process for one machine, nor a start while stopping. */
	if (m->run != NULL || m->sv->shutting_down)
		return;
	m->want_running = true;
	memset(&m->crashloop, 0, sizeof(m->crashloop));
	m->consecutive = 0;
	machine_spawn(m);
}

void
supervisor_machine_retire(struct machine *m)
{
	m->hook = NULL;
	m->deploying = false;
	m->retired = true;
	m->want_running = false;
	if (m->run != NULL) {
		/* Already stopping: its SIGKILL timer must stay armed. */
		if (m->state != MACHINE_STOPPING)
			machine_stop_begin(m, SIGTERM);
		return;
	}
	uv_timer_stop(m->timer);
	if (m->state != MACHINE_STOPPED)
		machine_transition(m, MACHINE_STOPPED, "retired by a deploy");
	supervisor_reap_removed(m->sv);
}

static void
retire_due(uv_timer_t *t)
{
	supervisor_machine_retire(t->data);
}

void
supervisor_machine_retire_in(struct machine *m, uint64_t delay_ms)
{
	m->hook = NULL;
	m->deploying = false;
	m->retired = true;	/* out of the fleet now; its process a little later */
	m->want_running = false;
	if (m->state != MACHINE_STOPPING)
		machine_timer(m, delay_ms, retire_due);
}

void
supervisor_machine_adopt(struct machine *m)
{
	m->deploying = false;
	m->hook = NULL;
	m->hook_arg = NULL;
}

void
supervisor_machine_revive(struct machine *m)
{
	supervisor_machine_adopt(m);
	m->retired = false;
	m->want_running = true;
	/* a fresh start, as supervisor_machine_spawn gives */
	memset(&m->crashloop, 0, sizeof(m->crashloop));
	m->consecutive = 0;
	if (m->state == MACHINE_STOPPING)
		return;		/* machine_down starts it again */
	if (m->run != NULL) {
		uv_timer_stop(m->timer);	/* a drain's retire_due */
		return;
	}
	supervisor_machine_spawn(m);
}

bool
supervisor_uses(const struct supervisor *sv, const struct config *cfg)
{
	const struct machine *m;
	size_t i;

	for (m = sv->machines; m != NULL; m = m->next)
		for (i = 0; m->cfg != NULL && i < cfg->napps; i++)
			if ((uintptr_t)m->cfg >= (uintptr_t)cfg->apps[i].procs &&
			    (uintptr_t)m->cfg < (uintptr_t)(cfg->apps[i].procs +
			    cfg->apps[i].nprocs))
				return true;
	return false;
}

static struct machine *
machine_get(struct supervisor *sv, const char *id, struct err *e)
{
	struct machine *m = supervisor_find(sv, id);

	if (m == NULL) {
		err_setk(e, ERR_NOT_FOUND, "no machine '%s': list them with "
		    "`opsdeck machines`",
		    id);
		return NULL;
	}
	if (m->cfg == NULL) {
		err_setk(e, ERR_CONFLICT, "machine '%s' is being removed", id);
		return NULL;
	}
	return m;
}

int
supervisor_machine_start(struct supervisor *sv, const char *id, struct err *e)
{
	struct machine *m = machine_get(sv, id, e);

	if (m == NULL)
		return -1;
	m->want_running = true;
	if (m->run != NULL || m->state == MACHINE_STOPPING)
		return 0;
	uv_timer_stop(m->timer);
	memset(&m->crashloop, 0, sizeof(m->crashloop));
	m->consecutive = 0;
	machine_spawn(m);
	return 0;
}

int
supervisor_machine_stop(struct supervisor *sv, const char *id, struct err *e)
{
	struct machine *m = machine_get(sv, id, e);

	if (m == NULL)
		return -1;
	m->want_running = false;
	m->restart_after_stop = false;
	if (m->run != NULL) {
		if (m->state != MACHINE_STOPPING)
			machine_stop_begin(m, SIGTERM);
		return 0;
	}
	uv_timer_stop(m->timer);
	if (m->state != MACHINE_STOPPED && m->state != MACHINE_STOPPING)
		machine_transition(m, MACHINE_STOPPED, "stopped by operator");
	return 0;
}

int
supervisor_machine_restart(struct supervisor *sv, const char *id,
    struct err *e)
{
	struct machine *m = machine_get(sv, id, e);

	if (m == NULL)
		return -1;
	m->want_running = true;
	memset(&m->crashloop, 0, sizeof(m->crashloop));
	m->consecutive = 0;
	if (m->run == NULL) {
		uv_timer_stop(m->timer);
		machine_spawn(m);
		return 0;
	}
	m->restart_after_stop = true;
	if (m->state != MACHINE_STOPPING)
		machine_stop_begin(m, SIGTERM);
	return 0;
}

static void
supervisor_check_done(struct supervisor *sv)
{
	struct machine *m;

	if (!sv->shutting_down) {
		supervisor_reap_removed(sv);
		return;
	}
	for (m = sv->machines; m != NULL; m = m->next)
		if (m->run != NULL || m->orphan_pgid != 0 ||
		    m->runs_open > 0 || m->state == MACHINE_STOPPING)
			return;
	if (sv->on_stopped != NULL) {
		void (*cb)(struct supervisor *) = sv->on_stopped;

		sv->on_stopped = NULL;
		cb(sv);
	}
}

void
supervisor_shutdown(struct supervisor *sv, void (*cb)(struct supervisor *))
{
	struct machine *m;

	sv->shutting_down = true;
	sv->on_stopped = cb;
	for (m = sv->machines; m != NULL; m = m->next) {
		uv_timer_stop(m->timer);
		if (m->run != NULL || m->orphan_pgid != 0) {
			if (m->state != MACHINE_STOPPING)
				machine_stop_begin(m, SIGTERM);
		} else if (m->state == MACHINE_RESTARTING ||
		    m->state == MACHINE_STARTING)
			machine_transition(m, MACHINE_STOPPED,
			    "daemon stopping");
	}
	supervisor_check_done(sv);
}

void
supervisor_release(struct supervisor *sv)
{
	struct machine *m, *next;

	for (m = sv->machines; m != NULL; m = next) {
		next = m->next;
		machine_free(m);
	}
	sv->machines = NULL;
	prober_free(sv->prober);
	sv->prober = NULL;
	free(sv->state_dir);
	sv->state_dir = NULL;
}

json_t *
machine_json(const struct machine *m)
{
	json_t *o = json_object();
	char ts[32];

	json_object_set_new(o, "id", json_string(m->id));
	json_object_set_new(o, "app", json_string(m->app));
	json_object_set_new(o, "process", json_string(m->process));
	json_object_set_new(o, "index", json_integer(m->idx));
	json_object_set_new(o, "state", json_string(machine_state_str(m->state)));
	json_object_set_new(o, "desired", json_string(m->want_running ?
	    "running" : "stopped"));
	json_object_set_new(o, "pid", m->pid > 0 ? json_integer(m->pid) :
	    json_null());
	json_object_set_new(o, "port", m->port > 0 ? json_integer(m->port) :
	    json_null());
	json_object_set_new(o, "restart_count", json_integer(m->restart_count));
	json_object_set_new(o, "exit_code", m->has_exit ?
	    json_integer(m->exit_code) : json_null());
	json_object_set_new(o, "signal", m->has_exit && m->term_signal ?
	    json_integer(m->term_signal) : json_null());
	json_object_set_new(o, "health", json_string(m->health));
	if (m->release.id > 0) {
		char v[16];

		snprintf(v, sizeof(v), "v%d", m->release.version);
		json_object_set_new(o, "release", json_string(v));
	} else
		json_object_set_new(o, "release", json_null());
	format_time(m->created_at, ts);
	json_object_set_new(o, "created_at", json_string(ts));
	format_time(m->updated_at, ts);
	json_object_set_new(o, "updated_at", json_string(ts));
	json_object_set_new(o, "log", m->log.path ? json_string(m->log.path) :
	    json_null());
	return o;
}
