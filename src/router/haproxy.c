/*
 * The haproxy driver. HAProxy runs as opsdeck's child in master-worker mode (-W -db),
 * in its own process group, from a config opsdeck writes to STATE/router/haproxy.cfg:
 * one frontend per public address, one backend per routed process group, each with
 * a fixed set of server slots (2 per machine, so a release can start beside the live
 * one, and 1 backup per machine, for the warm previous release). Slots are re-pointed
 * and switched between ready, drain and maint through the runtime API on
 * STATE/router/admin.sock; the config is rewritten and HAProxy reloaded (SIGUSR2,
 * listeners passed on) only when the slots or addresses themselves change.
 *
 * HAProxy's request log (`option httplog` on stdout) comes back through a pipe and
 * feeds the metrics store; the server slot of each line names the machine, hence the
 * release.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "router/router.h"
#include "router/router_int.h"
#include "router/version.h"
#include "stats/haplog.h"
#include "stats/check.h"
#include "stats/metrics.h"

#define SYNC_MS		500	/* reconcile at least this often */
#define RETRY_MS	100	/* while HAProxy is not answering yet */
#define STAT_MS		100	/* drain polls */
#define INFO_MS		2000	/* reads of HAProxy's dropped log lines */

#define RESTART_MIN_MS	200
#define LOG_BATCH_MS	20	/* the log reader reads at most this often */
#define LOG_PIPE_SIZE	(1 << 20)	/* 1 MiB of lines: about 7000 */
#define RESTART_MAX_MS	5000


enum slot_state { SLOT_MAINT, SLOT_READY, SLOT_DRAIN };

static const char *const slot_state_names[] = { "maint", "ready", "drain" };

struct slot {
	char		 name[8];	/* "s0", "b1" */
	bool		 backup;
	char		 machine[16];	/* the machine it serves, "" when free */
	int		 port;
	int		 version;	/* the machine's release, for the log's lines */
	/* what it should be, and what HAProxy was last told */
	enum slot_state	 want;
	int		 want_weight;
	bool		 known;
	enum slot_state	 state;
	int		 weight;
	int		 applied_port;
	/* what the API call in flight asks */
	bool		 sending;
	enum slot_state	 want_sent;
	int		 weight_sent;
	int		 port_sent;
};

struct backend {
	char		*app;
	char		*proc;
	char		*name;		/* "app.proc" */
	char		*host;		/* public address */
	int		 port;
	int		 count;		/* machines per release */
	struct slot	*slots;		/* 2 * count active, then count backup */
	size_t		 nslots;
};

struct drain_wait {
	char		(*ids)[16];
	size_t		 n;
	uint64_t	 deadline;
	void		(*cb)(void *, bool);
	void		*arg;
	struct drain_wait *next;
};

/* One runtime API exchange: connect, write the line, read to EOF. */
struct api_call {
	uv_pipe_t	 pipe;
	uv_connect_t	 connect;
	uv_write_t	 write;
	struct buf	 out;
	char		*line;
	struct router	*r;
	void		(*done)(struct router *, int status, const char *out);
	bool		 failed;
};

static void router_tick(uv_timer_t *);
static void haproxy_spawn(struct router *);
static void api_send(struct router *, char *line,
    void (*done)(struct router *, int, const char *));

static void
handle_free(uv_handle_t *h)
{
	free(h);
}

/* ---- backends from the config --------------------------------------------- */

static void
backends_free(struct backend *bs, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(bs[i].app);
		free(bs[i].proc);
		free(bs[i].name);
		free(bs[i].host);
		free(bs[i].slots);
	}
	free(bs);
}

static void
backend_slots(struct backend *b)
{
	size_t i, active = (size_t)b->count * 2;

	b->nslots = active + (size_t)b->count;
	b->slots = xcalloc(b->nslots, sizeof(*b->slots));
	for (i = 0; i < b->nslots; i++) {
		struct slot *s = &b->slots[i];

		s->backup = i >= active;
		snprintf(s->name, sizeof(s->name), "%c%zu", s->backup ? 'b' :
		    's', s->backup ? i - active : i);
		s->want = SLOT_MAINT;
	}
}

static struct backend *
backends_of(const struct config *cfg, size_t *np)
{
	struct backend *bs = NULL;
	size_t n = 0, i, j;

	for (i = 0; i < cfg->napps; i++)
		for (j = 0; j < cfg->apps[i].nprocs; j++) {
			const struct cfg_process *p = &cfg->apps[i].procs[j];
			struct backend *b;

			if (!cfg_process_routed(cfg, p))
				continue;
			bs = xreallocarray(bs, n + 1, sizeof(*bs));
			b = &bs[n++];
			memset(b, 0, sizeof(*b));
			b->app = xstrdup(cfg->apps[i].name);
			b->proc = xstrdup(p->name);
			b->name = xasprintf("%s.%s", b->app, b->proc);
			b->host = xstrdup(p->public_host);
			b->port = p->public_port;
			b->count = p->count;
			backend_slots(b);
		}
	*np = n;
	return bs;
}

static struct backend *
backend_named(struct router *r, const char *name, size_t len)
{
	size_t i;

	for (i = 0; i < r->nbackends; i++)
		if (strlen(r->backends[i].name) == len &&
		    memcmp(r->backends[i].name, name, len) == 0)
			return &r->backends[i];
	return NULL;
}

/* ---- desired state -------------------------------------------------------- */

static enum machine_route
effective_route(const struct machine *m)
{
	if (m->route != MACHINE_ROUTE_AUTO)
		return m->route;
	if (m->retired)
		return MACHINE_ROUTE_OFF;
	if (m->deploying)
		return MACHINE_ROUTE_STAGED;
	switch (m->state) {
	case MACHINE_STARTING:
	case MACHINE_STARTED:
	case MACHINE_RESTARTING:
		return MACHINE_ROUTE_LIVE;
	default:
		return MACHINE_ROUTE_OFF;
	}
}

static struct machine *
machine_of(struct router *r, const char *id)
{
	struct machine *m;

	for (m = r->env.machines(r->env.ctx); m != NULL; m = m->next)
		if (strcmp(m->id, id) == 0)
			return m;
	return NULL;
}

static struct slot *
slot_of(struct backend *b, const char *id, bool backup)
{
	size_t i;

	for (i = 0; i < b->nslots; i++)
		if (b->slots[i].backup == backup &&
		    strcmp(b->slots[i].machine, id) == 0)
			return &b->slots[i];
	return NULL;
}

/*
 * A free slot for m: one HAProxy already holds in maintenance first, so that a slot
 * just freed (maybe still ready there) is not re-pointed while it takes traffic.
 */
static struct slot *
slot_take(struct backend *b, const struct machine *m, bool backup)
{
	size_t i;
	int pass;

	for (pass = 0; pass < 2; pass++)
	for (i = 0; i < b->nslots; i++) {
		struct slot *s = &b->slots[i];

		if (s->backup != backup || s->machine[0] != '\0')
			continue;
		if (pass == 0 && (!s->known || s->state != SLOT_MAINT ||
		    s->sending))
			continue;
		snprintf(s->machine, sizeof(s->machine), "%s", m->id);
		s->port = m->port;
		s->version = m->release.version;
		return s;
	}
	return NULL;
}

/* Which slots serve which machines, and in what state: a pure function of the fleet. */
static bool
backend_plan(struct router *r, struct backend *b)
{
	struct machine *m;
	bool fits = true;
	size_t i;

	/* Free the slots of machines that left, or that need no such slot now. */
	for (i = 0; i < b->nslots; i++) {
		struct slot *s = &b->slots[i];
		enum machine_route rt;

		if (s->machine[0] == '\0')
			continue;
		m = machine_of(r, s->machine);
		rt = m != NULL ? effective_route(m) : MACHINE_ROUTE_OFF;
		if (m == NULL || rt == MACHINE_ROUTE_OFF || m->port != s->port ||
		    (s->backup && rt != MACHINE_ROUTE_WARM &&
		    rt != MACHINE_ROUTE_DRAIN))
			s->machine[0] = '\0';
	}
	for (m = r->env.machines(r->env.ctx); m != NULL; m = m->next) {
		enum machine_route rt;
		struct slot *s;

		if (m->port <= 0 || strcmp(m->app, b->app) != 0 ||
		    strcmp(m->process, b->proc) != 0)
			continue;
		if ((rt = effective_route(m)) == MACHINE_ROUTE_OFF)
			continue;
		if ((s = slot_of(b, m->id, false)) == NULL &&
		    (s = slot_take(b, m, false)) == NULL) {
			fits = false;
			continue;
		}
		s->version = m->release.version;
		switch (rt) {
		case MACHINE_ROUTE_STAGED:
			s->want = SLOT_MAINT;
			break;
		case MACHINE_ROUTE_LIVE:
			s->want = SLOT_READY;
			s->want_weight = m->route_weight > 0 ? m->route_weight :
			    ROUTER_WEIGHT;
			break;
		default:
			s->want = SLOT_DRAIN;
			break;
		}
		if (rt != MACHINE_ROUTE_WARM && rt != MACHINE_ROUTE_DRAIN)
			continue;
		/* The backup slot of a warm machine; a draining one keeps its own. */
		if ((s = slot_of(b, m->id, true)) == NULL &&
		    (rt != MACHINE_ROUTE_WARM ||
		    (s = slot_take(b, m, true)) == NULL))
			continue;
		s->version = m->release.version;
		s->want = rt == MACHINE_ROUTE_WARM ? SLOT_READY : SLOT_DRAIN;
		s->want_weight = ROUTER_WEIGHT;
	}
	for (i = 0; i < b->nslots; i++)
		if (b->slots[i].machine[0] == '\0')
			b->slots[i].want = SLOT_MAINT;
	return fits;
}

/* ---- HAProxy's config ----------------------------------------------------- */

/* Two descriptors a connection (client and server) within what HAProxy may open. */
static int
maxconn(void)
{
	struct rlimit rl;
	long n = 4096;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_max != RLIM_INFINITY &&
	    (long)(rl.rlim_max - 64) / 2 < n)
		n = (long)(rl.rlim_max - 64) / 2;
	return n < 64 ? 64 : (int)n;
}

static char *
render_config(const struct router *r)
{
	struct buf b = BUF_INIT;
	size_t i, j;

	buf_printf(&b, "# written by opsdeck: changes here are lost at its next "
	    "start\nglobal\n"
	    "\tstats socket %s mode 600 level admin expose-fd listeners\n"
	    "\tstats timeout 10s\n"
	    "\tlog stdout format raw local0\n"
	    "\tmaxconn %d\n"
	    "\t# one thread: HAProxy drops a log line that finds another thread\n"
	    "\t# writing to the log pipe\n"
	    "\tnbthread 1\n"
	    "\n"
	    "defaults\n"
	    "\tmode http\n"
	    "\tlog global\n"
	    "\toption httplog\n"
	    "\toption dontlognull\n"
	    "\t# a request a dead or dying server refused goes to another\n"
	    "\tretries 3\n"
	    "\toption redispatch 1\n"
	    "\tretry-on conn-failure empty-response response-timeout\n"
	    "\ttimeout connect 2s\n"
	    "\ttimeout client 60s\n"
	    "\ttimeout server 60s\n"
	    "\ttimeout http-request 10s\n"
	    "\ttimeout http-keep-alive 10s\n"
	    "\ttimeout queue 10s\n", r->socket_path, maxconn());
	for (i = 0; i < r->nbackends; i++) {
		const struct backend *be = &r->backends[i];
		bool v6 = strchr(be->host, ':') != NULL;

		buf_printf(&b, "\nfrontend fe.%s\n\tbind %s%s%s:%d\n"
		    "\tdefault_backend %s\n", be->name, v6 ? "[" : "",
		    be->host, v6 ? "]" : "", be->port, be->name);
		buf_printf(&b, "\nbackend %s\n\tbalance roundrobin\n"
		    "\t# a connection error marks a server down at once; the\n"
		    "\t# retry then finds a live one (or the warm backup)\n"
		    "\tdefault-server check inter 1s fall 2 rise 1 observe layer4 "
		    "error-limit 1 on-error mark-down\n", be->name);
		for (j = 0; j < be->nslots; j++) {
			const struct slot *s = &be->slots[j];
			int weight = s->want == SLOT_READY ? s->want_weight :
			    ROUTER_WEIGHT;

			buf_printf(&b, "\tserver %s 127.0.0.1:%d weight %d%s%s\n",
			    s->name, s->machine[0] ? s->port : 1,
			    s->want == SLOT_DRAIN ? 0 : weight,
			    s->backup ? " backup" : "",
			    s->want == SLOT_MAINT ? " disabled" : "");
		}
	}
	return buf_detach(&b);
}

static int
write_config(struct router *r, struct err *e)
{
	char *text = render_config(r);
	int ret = file_write_atomic(r->config_path, text, strlen(text), 0600, e);

	free(text);
	return ret;
}

/* ---- runtime API ---------------------------------------------------------- */

static void
api_closed(uv_handle_t *h)
{
	struct api_call *c = h->data;

	buf_release(&c->out);
	free(c->line);
	free(c);
}

static void
api_finish(struct api_call *c, int status)
{
	struct router *r = c->r;

	r->api_busy = false;
	if (c->done != NULL)
		c->done(r, status, buf_str(&c->out));
	uv_close((uv_handle_t *)&c->pipe, api_closed);
}

static void
api_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	struct api_call *c = h->data;

	(void)suggested;
	if (c->out.cap - c->out.len < 4096) {
		c->out.cap = c->out.cap * 2 + 65536;
		c->out.data = xreallocarray(c->out.data, c->out.cap, 1);
	}
	b->base = c->out.data + c->out.len;
	b->len = c->out.cap - c->out.len - 1;
}

static void
api_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	struct api_call *c = s->data;

	(void)b;
	if (n > 0) {
		c->out.len += (size_t)n;
		c->out.data[c->out.len] = '\0';
		return;
	}
	if (n < 0) {
		uv_read_stop(s);
		api_finish(c, n == UV_EOF ? 0 : (int)n);
	}
}

static void
api_written(uv_write_t *w, int status)
{
	struct api_call *c = w->data;

	if (status < 0) {
		api_finish(c, status);
		return;
	}
	uv_read_start((uv_stream_t *)&c->pipe, api_alloc, api_read);
}

static void
api_connected(uv_connect_t *req, int status)
{
	struct api_call *c = req->data;
	uv_buf_t b;

	if (status < 0) {
		api_finish(c, status);
		return;
	}
	b = uv_buf_init(c->line, (unsigned)strlen(c->line));
	c->write.data = c;
	uv_write(&c->write, (uv_stream_t *)&c->pipe, &b, 1, api_written);
}

/* One line of commands (";"-separated) on a new connection; done gets the answer. */
static void
api_send(struct router *r, char *line,
    void (*done)(struct router *, int, const char *))
{
	struct api_call *c = xcalloc(1, sizeof(*c));

	c->out.cap = 65536;
	c->out.data = xmalloc(c->out.cap);
	c->out.data[0] = '\0';
	c->line = line;
	c->r = r;
	c->done = done;
	r->api_busy = true;
	uv_pipe_init(r->env.loop, &c->pipe, 0);
	c->pipe.data = c;
	c->connect.data = c;
	uv_pipe_connect(&c->connect, &c->pipe, r->socket_path, api_connected);
}

/* ---- reconcile ------------------------------------------------------------ */

static void
sync_done(struct router *r, int status, const char *out)
{
	size_t i, j;

	if (status < 0) {
		log_debug("router: runtime API: %s", uv_strerror(status));
		r->dirty = true;
		return;
	}
	/* Told: what was asked is now what HAProxy has. */
	for (i = 0; i < r->nbackends; i++)
		for (j = 0; j < r->backends[i].nslots; j++) {
			struct slot *s = &r->backends[i].slots[j];

			if (!s->sending)
				continue;
			s->sending = false;
			s->known = true;
			s->state = s->want_sent;
			s->weight = s->weight_sent;
			s->applied_port = s->port_sent;
		}
	if (strstr(out, "No such") != NULL || strstr(out, "Require") != NULL)
		log_warnx("router: HAProxy refused a change: %s", out);
	if (r->dirty)
		router_sync(r);
}

void
router_sync(struct router *r)
{
	struct buf cmd = BUF_INIT;
	bool grow = false;
	size_t i, j;
	int pass;

	if (r->driver_none || r->nbackends == 0)
		return;
	for (i = 0; i < r->nbackends; i++)
		if (!backend_plan(r, &r->backends[i]))
			grow = true;
	if (grow && !r->grow_warned) {
		/* more machines than slots: a config with more, at the next apply */
		log_warnx("router: more machines than server slots; they get "
		    "slots once the others leave");
		r->grow_warned = true;
	}
	if (r->api_busy || !r->running) {
		r->dirty = true;
		return;
	}
	r->dirty = false;
	/* Addresses and weights first, then ready, then drain, then maint: no gap. */
	for (pass = 0; pass < 4; pass++)
		for (i = 0; i < r->nbackends; i++)
			for (j = 0; j < r->backends[i].nslots; j++) {
				struct backend *b = &r->backends[i];
				struct slot *s = &b->slots[j];
				bool port = s->machine[0] && (!s->known ||
				    s->applied_port != s->port);
				bool change = !s->known || s->state != s->want ||
				    (s->want == SLOT_READY && s->weight !=
				    s->want_weight) || port;

				if (!change)
					continue;
				s->sending = true;
				s->want_sent = s->want;
				s->weight_sent = s->want_weight;
				s->port_sent = s->machine[0] ? s->port :
				    s->applied_port;
				if (pass == 0 && port)
					buf_printf(&cmd, "set server %s/%s addr "
					    "127.0.0.1 port %d;", b->name,
					    s->name, s->port);
				if (pass == 0 && s->want == SLOT_READY)
					buf_printf(&cmd, "set weight %s/%s %d;",
					    b->name, s->name, s->want_weight);
				if (pass == (s->want == SLOT_MAINT ? 3 :
				    (int)s->want))
					buf_printf(&cmd, "set server %s/%s "
					    "state %s;", b->name, s->name,
					    slot_state_names[s->want]);
			}
	if (cmd.len == 0) {
		buf_release(&cmd);
		return;
	}
	cmd.data[cmd.len - 1] = '\n';
	log_debug("router: %s", cmd.data);
	api_send(r, buf_detach(&cmd), sync_done);
}

/* ---- drains --------------------------------------------------------------- */

/* "show stat" CSV: the scur of each server slot named by a waited-for machine. */
static void
stat_done(struct router *r, int status, const char *out)
{
	struct drain_wait **pp, *w;
	uint64_t now = mono_ms();

	r->stat_busy = false;
	for (pp = &r->drains; (w = *pp) != NULL;) {
		long busy = status < 0 ? 1 : 0;
		size_t i, k;

		for (i = 0; i < w->n && status >= 0; i++)
			for (k = 0; k < r->nbackends; k++) {
				struct backend *b = &r->backends[k];
				size_t j;

				for (j = 0; j < b->nslots; j++) {
					char key[256];
					const char *p;

					if (strcmp(b->slots[j].machine, w->ids[i]))
						continue;
					snprintf(key, sizeof(key), "\n%s,%s,",
					    b->name, b->slots[j].name);
					if ((p = strstr(out, key)) == NULL)
						continue;
					/* pxname,svname,qcur,qmax,scur */
					p += strlen(key);
					p = strchr(p, ',');
					p = p ? strchr(p + 1, ',') : NULL;
					if (p != NULL)
						busy += strtol(p + 1, NULL, 10);
				}
			}
		if (busy == 0 || now >= w->deadline) {
			*pp = w->next;
			w->cb(w->arg, busy != 0);
			free(w->ids);
			free(w);
			continue;
		}
		pp = &w->next;
	}
}

static void
drains_poll(struct router *r)
{
	if (r->drains == NULL || r->stat_busy || r->api_busy)
		return;
	if (!r->running) {
		/* Nothing serves: nothing is in flight. */
		stat_done(r, 0, "");
		return;
	}
	r->stat_busy = true;
	api_send(r, xstrdup("show stat -1 4 -1\n"), stat_done);
}

/* "show info": DroppedLogs counts the lines HAProxy found no room for in the pipe. */
static void
info_done(struct router *r, int status, const char *out)
{
	const char *p;

	if (status >= 0 && (p = strstr(out, "\nDroppedLogs: ")) != NULL)
		r->log_dropped = strtoull(p + 14, NULL, 10);
}

static void
info_poll(struct router *r)
{
	uint64_t now = mono_ms();

	if (!r->running || r->api_busy || now - r->info_mono < INFO_MS)
		return;
	r->info_mono = now;
	api_send(r, xstrdup("show info\n"), info_done);
}

void
router_drained(struct router *r, struct machine *const *ms, size_t n,
    uint64_t timeout_ms, void (*cb)(void *, bool), void *arg)
{
	struct drain_wait *w;
	size_t i;

	if (r == NULL || r->driver_none || n == 0) {
		cb(arg, false);
		return;
	}
	router_sync(r);
	w = xcalloc(1, sizeof(*w));
	w->ids = xcalloc(n, sizeof(*w->ids));
	for (i = 0; i < n; i++)
		snprintf(w->ids[i], sizeof(w->ids[i]), "%s", ms[i]->id);
	w->n = n;
	w->deadline = mono_ms() + timeout_ms;
	w->cb = cb;
	w->arg = arg;
	w->next = r->drains;
	r->drains = w;
}

void
router_drained_cancel(struct router *r, void *arg)
{
	struct drain_wait **pp, *w;

	if (r == NULL)
		return;
	for (pp = &r->drains; (w = *pp) != NULL;) {
		if (w->arg == arg) {
			*pp = w->next;
			free(w->ids);
			free(w);
			continue;
		}
		pp = &w->next;
	}
}

/* ---- the request log ------------------------------------------------------ */

static void
log_line(struct router *r, const char *line, size_t len)
{
	struct haplog_rec rec;
	struct backend *b;
	size_t i;
	int version = 0;

	if (len == 0)
		return;
	r->log_lines++;
	if (haplog_parse(line, len, &rec) < 0) {
		r->log_bad++;
		return;
	}
	if ((b = backend_named(r, rec.backend, rec.backend_len)) == NULL)
		return;
	for (i = 0; i < b->nslots; i++)
		if (strlen(b->slots[i].name) == rec.server_len &&
		    memcmp(b->slots[i].name, rec.server, rec.server_len) == 0) {
			version = b->slots[i].version;
			break;
		}
	if (r->env.metrics != NULL)
		metrics_add(r->env.metrics, b->app, version, rec.path,
		    rec.path_len, rec.status, rec.ta_ms < 0 ? 0 :
		    rec.ta_ms * 1000, wall_ms());
}

/* Splits what the log pipe gave into lines; keeps a partial one for the next read. */
static void
log_chunk(struct router *r, size_t n)
{
	char *p, *end, *nl;

	r->line_len += n;
	p = r->line;
	end = r->line + r->line_len;
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (r->line_skip)
			r->line_skip = false;
		else
			log_line(r, p, (size_t)(nl - p));
		p = nl + 1;
	}
	r->line_len = (size_t)(end - p);
	memmove(r->line, p, r->line_len);
	if (r->line_len == sizeof(r->line)) {
		/* No end in sight: count it once, and skip to its end. */
		r->log_lines++;
		r->log_bad++;
		r->line_len = 0;
		r->line_skip = true;
	}
}

static void log_ready(uv_poll_t *, int, int);

static void
log_resume(uv_timer_t *t)
{
	struct router *r = t->data;

	if (r->log_open)
		uv_poll_start(&r->out, UV_READABLE, log_ready);
}

/* HAProxy writes a line a request: waking for each would cost more than parsing it.
 * So read all there is, then pause LOG_BATCH_MS while the pipe gathers more. */
static void
log_ready(uv_poll_t *h, int status, int events)
{
	struct router *r = h->data;
	ssize_t n;
	int i;

	(void)events;
	for (i = 0; status == 0 && i < 256; i++) {
		n = read(r->log_fd, r->line + r->line_len,
		    sizeof(r->line) - r->line_len);
		if (n > 0) {
			log_chunk(r, (size_t)n);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0 || (errno != EAGAIN && errno != EWOULDBLOCK))
			r->log_open = false;	/* HAProxy is gone */
		break;
	}
	uv_poll_stop(h);
	if (r->log_open)
		uv_timer_start(r->log_timer, log_resume, LOG_BATCH_MS, 0);
}

static void proc_closed(uv_handle_t *);

/* The poll handle stops at once; the pipe is ours to close. */
static void
log_close(struct router *r)
{
	r->log_open = false;
	uv_close((uv_handle_t *)&r->out, proc_closed);
	close(r->log_fd);
	r->log_fd = -1;
}

static void
err_read(uv_stream_t *s, ssize_t n, const uv_buf_t *b)
{
	char *p, *nl;

	(void)s;
	if (n <= 0)
		return;
	for (p = b->base; p < b->base + n; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(b->base + n - p))) == NULL)
			nl = b->base + n;
		if (nl > p)
			log_info("haproxy: %.*s", (int)(nl - p), p);
	}
}

static void
err_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *b)
{
	static char chunk[8192];

	(void)h;
	(void)suggested;
	b->base = chunk;
	b->len = sizeof(chunk);
}

/* ---- the HAProxy process -------------------------------------------------- */

static void
proc_closed(uv_handle_t *h)
{
	struct router *r = h->data;

	if (--r->proc_open > 0)
		return;
	if (r->stopping && r->freeing)
		router_free_now(r);
}

static void
slots_unknown(struct router *r)
{
	size_t i, j;

	for (i = 0; i < r->nbackends; i++)
		for (j = 0; j < r->backends[i].nslots; j++) {
			r->backends[i].slots[j].known = false;
			r->backends[i].slots[j].sending = false;
		}
}

static void
restart_due(uv_timer_t *t)
{
	haproxy_spawn(t->data);
}

static void
proc_exited(uv_process_t *p, int64_t status, int sig)
{
	struct router *r = p->data;
	uint64_t up = mono_ms() - r->started_mono;

	/* Its workers may outlive the master: the whole group goes. */
	kill(-r->pid, SIGKILL);
	r->running = false;
	r->pid = 0;
	slots_unknown(r);
	unlink(r->pid_path);
	uv_close((uv_handle_t *)&r->proc, proc_closed);
	log_close(r);
	uv_close((uv_handle_t *)&r->err, proc_closed);
	if (r->stopping)
		return;
	r->restarts++;
	if (up > 10000)
		r->backoff_ms = RESTART_MIN_MS;
	log_warnx("router: haproxy exited (%s %d) after %llums; restarting in "
	    "%llums with the routing as it is now", sig ? "signal" : "status",
	    sig ? sig : (int)status, (unsigned long long)up,
	    (unsigned long long)r->backoff_ms);
	uv_timer_start(r->restart_timer, restart_due, r->backoff_ms, 0);
	r->backoff_ms = r->backoff_ms * 2 > RESTART_MAX_MS ? RESTART_MAX_MS :
	    r->backoff_ms * 2;
}

static void
haproxy_spawn(struct router *r)
{
	uv_process_options_t opt;
	uv_stdio_container_t stdio[3];
	char *argv[7];
	struct err e;
	char pid[32];
	int rc, logfd[2];

	if (r->stopping || r->running || r->proc_open > 0)
		return;
	for (size_t i = 0; i < r->nbackends; i++)
		backend_plan(r, &r->backends[i]);
	if (write_config(r, &e) < 0) {
		log_warnx("router: %s", e.msg);
		uv_timer_start(r->restart_timer, restart_due, r->backoff_ms, 0);
		return;
	}
	argv[0] = r->binary;
	argv[1] = "-W";
	argv[2] = "-db";
	argv[3] = "-f";
	argv[4] = r->config_path;
	argv[5] = NULL;
	/* The log comes through a pipe of our own, so that it can be made large:
	 * HAProxy drops lines it cannot write at once. */
	if (pipe2(logfd, O_CLOEXEC) < 0) {
		log_warnx("router: pipe: %s", strerror(errno));
		uv_timer_start(r->restart_timer, restart_due, r->backoff_ms, 0);
		return;
	}
	(void)fcntl(logfd[0], F_SETPIPE_SZ, LOG_PIPE_SIZE);
	(void)fcntl(logfd[0], F_SETFL, O_NONBLOCK);
	r->log_fd = logfd[0];
	uv_poll_init(r->env.loop, &r->out, logfd[0]);
	uv_pipe_init(r->env.loop, &r->err, 0);
	r->out.data = r;
	r->err.data = r;
	r->proc.data = r;
	memset(&opt, 0, sizeof(opt));
	memset(stdio, 0, sizeof(stdio));
	stdio[0].flags = UV_IGNORE;
	stdio[1].flags = UV_INHERIT_FD;
	stdio[1].data.fd = logfd[1];
	stdio[2].flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE;
	stdio[2].data.stream = (uv_stream_t *)&r->err;
	opt.file = r->binary;
	opt.args = argv;
	opt.flags = UV_PROCESS_DETACHED;
	opt.exit_cb = proc_exited;
	opt.stdio = stdio;
	opt.stdio_count = 3;
	r->proc_open = 3;
	r->line_len = 0;
	r->line_skip = false;
	rc = uv_spawn(r->env.loop, &r->proc, &opt);
	close(logfd[1]);
	if (rc != 0) {
		log_warnx("router: cannot run '%s': %s", r->binary,
		    uv_strerror(rc));
		uv_close((uv_handle_t *)&r->proc, proc_closed);
		log_close(r);
		uv_close((uv_handle_t *)&r->err, proc_closed);
		uv_timer_start(r->restart_timer, restart_due, r->backoff_ms, 0);
		return;
	}
	r->pid = r->proc.pid;
	r->running = true;
	r->log_dropped_before += r->log_dropped;	/* the new one counts from 0 */
	r->log_dropped = 0;
	r->started_mono = mono_ms();
	slots_unknown(r);
	snprintf(pid, sizeof(pid), "%d\n", r->pid);
	if (file_write_atomic(r->pid_path, pid, strlen(pid), 0600, &e) < 0)
		log_warnx("router: %s", e.msg);
	r->log_open = true;
	uv_poll_start(&r->out, UV_READABLE, log_ready);
	uv_read_start((uv_stream_t *)&r->err, err_alloc, err_read);
	log_info("router: haproxy %s pid %d serving %zu frontend%s", r->version,
	    r->pid, r->nbackends, r->nbackends == 1 ? "" : "s");
	r->dirty = true;
}

/* A HAProxy the last daemon left (killed with it): its group goes, ports with it. */
static void
stale_kill(const char *pid_path, const char *config_path)
{
	char buf[64], cmdline[4096], path[64];
	struct timespec ts = { 0, 20 * 1000 * 1000 };
	ssize_t n;
	long pid;
	int fd, i;

	if ((fd = open(pid_path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	unlink(pid_path);
	if (n <= 0)
		return;
	buf[n] = '\0';
	if ((pid = strtol(buf, NULL, 10)) <= 1)
		return;
	snprintf(path, sizeof(path), "/proc/%ld/cmdline", pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return;
	n = read(fd, cmdline, sizeof(cmdline) - 1);
	close(fd);
	if (n <= 0)
		return;
	cmdline[n] = '\0';
	for (i = 0; i < n; i++)
		if (cmdline[i] == '\0')
			cmdline[i] = ' ';
	if (strstr(cmdline, config_path) == NULL)
		return;
	log_warnx("router: stopping haproxy pid %ld left by an earlier opsdeck",
	    pid);
	kill(-(pid_t)pid, SIGKILL);
	kill((pid_t)pid, SIGKILL);
	for (i = 0; i < 100 && kill((pid_t)pid, 0) == 0; i++)
		nanosleep(&ts, NULL);
}

/* ---- checks at startup ---------------------------------------------------- */

/* Is HOST:PORT free to listen on? */
static int
address_free(const char *host, int port, struct err *e)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, one = 1;

	memset(&ss, 0, sizeof(ss));
	if (strchr(host, ':') != NULL) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host, &s6->sin6_addr) != 1)
			return err_set(e, "'%s' is not an IPv6 address", host);
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1)
			return err_set(e, "'%s' is not an IPv4 address", host);
		sl = sizeof(*s4);
	}
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return err_errno(e, "socket");
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) < 0) {
		int saved = errno;

		close(fd);
		errno = saved;
		if (saved == EADDRINUSE)
			return err_set(e, "%s:%d is already in use by another "
			    "program: stop it or choose another address", host,
			    port);
		return err_errno(e, "cannot listen on %s:%d", host, port);
	}
	close(fd);
	return 0;
}

static const struct cfg_process *
routed_at(const struct config *cfg, size_t *ai, size_t *pi, bool first)
{
	if (first) {
		*ai = 0;
		*pi = 0;
	} else
		(*pi)++;
	for (; *ai < cfg->napps; (*ai)++, *pi = 0)
		for (; *pi < cfg->apps[*ai].nprocs; (*pi)++)
			if (cfg_process_routed(cfg, &cfg->apps[*ai].procs[*pi]))
				return &cfg->apps[*ai].procs[*pi];
	return NULL;
}

static int
check_haproxy(const struct config *cfg, struct cfg_diags *diags,
    char *version, size_t vlen)
{
	const char *bin = cfg->router.haproxy ? cfg->router.haproxy : "haproxy";
	struct err e;
	int major = 0, minor = 0;

	if (router_haproxy_version(bin, version, vlen, &major, &minor,
	    &e) < 0) {
		cfg_diags_add(diags, cfg->path, cfg->router.pos, "router.haproxy",
		    "HAProxy: %s: install Debian's haproxy package (apt-get install "
		    "haproxy), name it with router: {haproxy: PATH}, or use "
		    "router: {driver: none}", e.msg);
		return -1;
	}
	if (!router_haproxy_supported(major, minor)) {
		cfg_diags_add(diags, cfg->path, cfg->router.pos, "router.haproxy",
		    "HAProxy '%s' is version %s, older than %d.%d: opsdeck needs "
		    "its runtime API of 2.4 or later; install a newer haproxy",
		    bin, version, ROUTER_HAPROXY_MIN_MAJOR,
		    ROUTER_HAPROXY_MIN_MINOR);
		return -1;
	}
	return 0;
}

/* ---- lifecycle ------------------------------------------------------------ */

static void
router_tick(uv_timer_t *t)
{
	struct router *r = t->data;

	router_sync(r);
	drains_poll(r);
	info_poll(r);
	uv_timer_start(t, router_tick, r->drains != NULL ? STAT_MS :
	    r->dirty ? RETRY_MS : SYNC_MS, 0);
}

struct router *
router_start(const struct config *cfg, const struct router_env *env,
    struct cfg_diags *diags)
{
	struct router *r;
	const struct cfg_process *p;
	size_t n0 = diags->n, ai, pi;
	struct err e;
	char *dir;

	r = xcalloc(1, sizeof(*r));
	r->env = *env;
	r->driver_none = cfg->router.driver == CFG_ROUTER_NONE;
	r->drain_ms = cfg->router.drain_ms;
	routes_config_check(cfg, diags);
	router_set_routes(r, cfg);
	dir = xasprintf("%s/router", env->state_dir);
	r->config_path = xasprintf("%s/haproxy.cfg", dir);
	r->socket_path = xasprintf("%s/admin.sock", dir);
	r->pid_path = xasprintf("%s/haproxy.pid", dir);
	r->binary = xstrdup(cfg->router.haproxy ? cfg->router.haproxy :
	    "haproxy");
	if (!r->driver_none && (p = routed_at(cfg, &ai, &pi, true)) != NULL) {
		if (mkdir_p(dir, 0700, &e) < 0)
			cfg_diags_add(diags, cfg->path, cfg->router.pos, "router",
			    "%s", e.msg);
		stale_kill(r->pid_path, r->config_path);
		check_haproxy(cfg, diags, r->version, sizeof(r->version));
		for (; p != NULL; p = routed_at(cfg, &ai, &pi, false))
			if (address_free(p->public_host, p->public_port, &e) < 0) {
				char *kp = xasprintf("apps.%s.processes.%s."
				    "public", cfg->apps[ai].name, p->name);

				cfg_diags_add(diags, cfg->path, p->public_at, kp,
				    "%s", e.msg);
				free(kp);
			}
	}
	free(dir);
	if (diags->n > n0) {
		router_free_now(r);
		return NULL;
	}
	r->backends = backends_of(cfg, &r->nbackends);
	r->backoff_ms = RESTART_MIN_MS;
	r->timer = xcalloc(1, sizeof(*r->timer));
	uv_timer_init(env->loop, r->timer);
	r->timer->data = r;
	r->restart_timer = xcalloc(1, sizeof(*r->restart_timer));
	uv_timer_init(env->loop, r->restart_timer);
	r->restart_timer->data = r;
	r->log_timer = xcalloc(1, sizeof(*r->log_timer));
	uv_timer_init(env->loop, r->log_timer);
	r->log_timer->data = r;
	if (!r->driver_none && r->nbackends > 0)
		haproxy_spawn(r);
	uv_timer_start(r->timer, router_tick, RETRY_MS, 0);
	return r;
}

/* Backends keep their slots (and so their machines) across a reload when unchanged. */
static bool
backend_same(const struct backend *a, const struct backend *b)
{
	return strcmp(a->name, b->name) == 0 && strcmp(a->host, b->host) == 0 &&
	    a->port == b->port && a->count == b->count;
}

int
router_apply(struct router *r, const struct config *cfg, struct err *e)
{
	struct backend *nb;
	size_t n, i, k;
	bool changed;

	if (r->driver_none)
		return 0;
	router_set_routes(r, cfg);
	nb = backends_of(cfg, &n);
	changed = n != r->nbackends;
	for (i = 0; i < n; i++) {
		for (k = 0; k < r->nbackends; k++)
			if (backend_same(&nb[i], &r->backends[k]))
				break;
		if (k == r->nbackends) {
			changed = true;
			continue;
		}
		free(nb[i].slots);
		nb[i].slots = r->backends[k].slots;
		r->backends[k].slots = NULL;
	}
	backends_free(r->backends, r->nbackends);
	r->backends = nb;
	r->nbackends = n;
	if (!changed)
		return 0;
	if (r->nbackends > 0 && r->version[0] == '\0') {
		struct cfg_diags diags = { NULL, 0 };

		if (check_haproxy(cfg, &diags, r->version, sizeof(r->version)) <
		    0) {
			err_set(e, "%s", diags.items[0].msg);
			cfg_diags_release(&diags);
			return -1;
		}
	}
	for (i = 0; i < r->nbackends; i++)
		backend_plan(r, &r->backends[i]);
	if (!r->running) {
		haproxy_spawn(r);
		return 0;
	}
	if (r->nbackends == 0) {
		uv_process_kill(&r->proc, SIGTERM);
		return 0;
	}
	if (write_config(r, e) < 0)
		return -1;
	/* The master starts new workers, which take the listeners over. */
	log_info("router: public addresses changed: reloading haproxy");
	slots_unknown(r);
	uv_process_kill(&r->proc, SIGUSR2);
	r->dirty = true;
	return 0;
}

bool
router_routes(const struct router *r, const char *app, const char *proc)
{
	size_t i;

	if (r == NULL || r->driver_none)
		return false;
	for (i = 0; i < r->nbackends; i++)
		if (strcmp(r->backends[i].app, app) == 0 &&
		    strcmp(r->backends[i].proc, proc) == 0)
			return true;
	return false;
}

const char *
router_driver(const struct router *r)
{
	return r == NULL || r->driver_none ? "none" : "haproxy";
}

json_t *
router_json(const struct router *r)
{
	json_t *o = json_object(), *bs = json_array();
	size_t i, j;

	json_object_set_new(o, "driver", json_string(router_driver(r)));
	if (r == NULL)
		return o;
	json_object_set_new(o, "haproxy", r->version[0] ?
	    json_string(r->version) : json_null());
	json_object_set_new(o, "pid", r->running ? json_integer(r->pid) :
	    json_null());
	json_object_set_new(o, "restarts", json_integer(r->restarts));
	json_object_set_new(o, "log_lines", json_integer((json_int_t)
	    r->log_lines));
	json_object_set_new(o, "log_unparsed", json_integer((json_int_t)
	    r->log_bad));
	json_object_set_new(o, "log_dropped", json_integer((json_int_t)
	    (r->log_dropped_before + r->log_dropped)));
	for (i = 0; i < r->nbackends; i++) {
		const struct backend *b = &r->backends[i];
		json_t *bo = json_object(), *ss = json_array();
		char addr[96];

		snprintf(addr, sizeof(addr), "%s:%d", b->host, b->port);
		json_object_set_new(bo, "app", json_string(b->app));
		json_object_set_new(bo, "process", json_string(b->proc));
		json_object_set_new(bo, "public", json_string(addr));
		for (j = 0; j < b->nslots; j++) {
			const struct slot *s = &b->slots[j];

			if (s->machine[0] == '\0')
				continue;
			json_array_append_new(ss, json_pack("{s:s, s:s, s:i, "
			    "s:b, s:s, s:i}", "server", s->name, "machine",
			    s->machine, "port", s->port, "backup", s->backup,
			    "state", slot_state_names[s->want], "weight",
			    s->want == SLOT_READY ? s->want_weight : 0));
		}
		json_object_set_new(bo, "servers", ss);
		json_array_append_new(bs, bo);
	}
	json_object_set_new(o, "backends", bs);
	return o;
}

void
router_prometheus(const struct router *r, struct buf *b)
{
	if (r == NULL)
		return;
	buf_printf(b, "# HELP opsdeck_router_log_lines_total HAProxy request "
	    "log lines read\n# TYPE opsdeck_router_log_lines_total counter\n"
	    "opsdeck_router_log_lines_total %llu\n"
	    "# HELP opsdeck_router_log_unparsed_total log lines that did not "
	    "parse (counted and skipped)\n"
	    "# TYPE opsdeck_router_log_unparsed_total counter\n"
	    "opsdeck_router_log_unparsed_total %llu\n"
	    "# HELP opsdeck_router_log_dropped_total log lines HAProxy dropped "
	    "(the pipe was full), read every 2 s\n"
	    "# TYPE opsdeck_router_log_dropped_total counter\n"
	    "opsdeck_router_log_dropped_total %llu\n"
	    "# HELP opsdeck_router_restarts_total HAProxy restarts by opsdeck\n"
	    "# TYPE opsdeck_router_restarts_total counter\n"
	    "opsdeck_router_restarts_total %d\n",
	    (unsigned long long)r->log_lines, (unsigned long long)r->log_bad,
	    (unsigned long long)(r->log_dropped_before + r->log_dropped),
	    r->restarts);
}

void
router_free_now(struct router *r)
{
	struct drain_wait *w, *next;

	for (w = r->drains; w != NULL; w = next) {
		next = w->next;
		free(w->ids);
		free(w);
	}
	backends_free(r->backends, r->nbackends);
	router_routes_release(r);
	free(r->config_path);
	free(r->socket_path);
	free(r->pid_path);
	free(r->binary);
	free(r);
}

void
router_stop(struct router *r)
{
	if (r == NULL)
		return;
	r->stopping = true;
	r->freeing = true;
	if (r->timer != NULL) {
		uv_close((uv_handle_t *)r->timer, handle_free);
		uv_close((uv_handle_t *)r->restart_timer, handle_free);
		uv_close((uv_handle_t *)r->log_timer, handle_free);
		r->timer = NULL;
	}
	if (r->running) {
		/* SIGUSR1 would wait for every client; a stopping daemon cuts them. */
		uv_process_kill(&r->proc, SIGTERM);
		return;
	}
	if (r->proc_open == 0)
		router_free_now(r);
}
