#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "monitor/notify.h"

#define BACKOFF_MIN_MS	2000
#define BACKOFF_MAX_MS	(10 * 60 * 1000)
#define SEND_TIMEOUT_MS	30000

struct delivery;

struct notifier {
	uv_loop_t	*loop;
	struct store	*store;
	struct prober	*pr;
	const struct config *cfg;
	notify_now_fn	 now;
	void		*ctx;
	struct delivery	*running;
	size_t		 nrunning;
	bool		 freeing;
};

struct delivery {
	struct notifier	*n;
	int64_t		 id;
	char		*channel;
	int64_t		 started;
	/* command */
	uv_process_t	 proc;
	uv_pipe_t	 in;
	uv_write_t	 wr;
	uv_timer_t	 kill;
	char		*payload;
	int		 open_handles;
	int64_t		 exit_status;
	int		 term_signal;
	bool		 exited;
	char		 spawn_error[300];
	struct probe	*probe;
	struct delivery	*next;
};

static const struct cfg_channel *
channel_find(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; cfg != NULL && i < cfg->watch.nchannels; i++)
		if (strcmp(cfg->watch.channels[i].name, name) == 0)
			return &cfg->watch.channels[i];
	return NULL;
}

struct notifier *
notifier_new(uv_loop_t *loop, struct store *store, struct prober *pr,
    notify_now_fn now, void *ctx)
{
	struct notifier *n = xcalloc(1, sizeof(*n));

	n->loop = loop;
	n->store = store;
	n->pr = pr;
	n->now = now;
	n->ctx = ctx;
	return n;
}

void
notifier_config(struct notifier *n, const struct config *cfg)
{
	n->cfg = cfg;
}

size_t
notifier_busy(const struct notifier *n)
{
	return n->nrunning;
}

static bool
route_picks(const struct cfg_notify_route *r, const char *severity,
    const char *app)
{
	enum cfg_severity s;
	int i;

	for (i = 0; i < 3; i++)
		if (strcmp(cfg_severity_str((enum cfg_severity)i), severity) == 0)
			break;
	s = (enum cfg_severity)(i < 3 ? i : CFG_SEV_CRITICAL);
	if (r->severities != 0 && !(r->severities & (1u << s)))
		return false;
	return r->app == NULL || (app != NULL && strcmp(r->app, app) == 0);
}

static char *
text_of(const json_t *inc, const char *event, const char *detail)
{
	return xasprintf("[%s] %s: #%lld %s%s%s", json_string_value(
	    json_object_get(inc, "severity")), event, (long long)json_integer_value(
	    json_object_get(inc, "id")), json_string_value(json_object_get(inc,
	    "title")), detail && *detail ? ": " : "", detail ? detail : "");
}

int
notify_queue(struct notifier *n, const json_t *inc, const char *event,
    const char *detail)
{
	const struct cfg_watch *w = &n->cfg->watch;
	const char *sev = json_string_value(json_object_get(inc, "severity"));
	const char *app = json_string_value(json_object_get(inc, "app"));
	char **picked = xcalloc(w->nchannels + 1, sizeof(*picked));
	size_t npicked = 0, i, j, k;
	char at[32], *text;
	json_t *payload;
	char *body;
	int64_t now = n->now(n->ctx);
	struct err e;

	const char *src = json_string_value(json_object_get(inc, "source"));
	const struct cfg_heartbeat *hb = src != NULL && strcmp(src, "heartbeat") ==
	    0 ? config_heartbeat(n->cfg, json_string_value(json_object_get(inc,
	    "name"))) : NULL;

	/* An agent's heartbeat names its channels (the manager's): only those. */
	for (i = 0; hb != NULL && i < hb->nchannels && npicked < w->nchannels; i++)
		picked[npicked++] = hb->channels[i];
	/* No routes: every channel gets everything. */
	for (i = 0; i < w->nchannels && w->nroutes == 0 && npicked == 0; i++)
		picked[npicked++] = w->channels[i].name;
	for (i = 0; i < w->nroutes && (hb == NULL || hb->nchannels == 0); i++) {
		if (!route_picks(&w->routes[i], sev ? sev : "critical", app))
			continue;
		for (j = 0; j < w->routes[i].nchannels; j++) {
			for (k = 0; k < npicked; k++)
				if (strcmp(picked[k], w->routes[i].channels[j]) == 0)
					break;
			if (k == npicked && npicked < w->nchannels)
				picked[npicked++] = w->routes[i].channels[j];
		}
	}
	format_time(now, at);
	text = text_of(inc, event, detail);
	payload = json_pack("{s:s, s:O, s:s, s:s, s:s}", "event", event,
	    "incident", inc, "detail", detail ? detail : "", "at", at, "text",
	    text);
	body = json_dumps(payload, JSON_COMPACT | JSON_PRESERVE_ORDER);
	for (i = 0; i < npicked; i++) {
		sqlite3_stmt *st = NULL;

		if (store_prepare(n->store, &st, "INSERT INTO outbox (incident, "
		    "event, channel, payload, state, next_at, created_at) VALUES "
		    "(?, ?, ?, ?, 'pending', ?, ?)", &e) < 0) {
			log_warnx("notify: %s", e.msg);
			continue;
		}
		sqlite3_bind_int64(st, 1, json_integer_value(json_object_get(inc,
		    "id")));
		sqlite3_bind_text(st, 2, event, -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 3, picked[i], -1, SQLITE_STATIC);
		sqlite3_bind_text(st, 4, body, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, now);
		sqlite3_bind_int64(st, 6, now);
		if (sqlite3_step(st) != SQLITE_DONE)
			log_warnx("notify: cannot queue a notice: %s",
			    sqlite3_errmsg(n->store->db));
		sqlite3_finalize(st);
	}
	free(body);
	free(text);
	json_decref(payload);
	free(picked);
	if (npicked > 0)
		notifier_kick(n);
	return (int)npicked;
}

static void
delivery_done(struct delivery *dv, const char *error)
{
	struct notifier *n = dv->n;
	struct delivery **pp;
	sqlite3_stmt *st = NULL;
	int64_t now = n->now(n->ctx);
	struct err e;

	for (pp = &n->running; *pp != NULL; pp = &(*pp)->next)
		if (*pp == dv) {
			*pp = dv->next;
			break;
		}
	n->nrunning--;
	if (store_prepare(n->store, &st, error == NULL ?
	    "UPDATE outbox SET state = 'sent', sent_at = ?1, attempts = "
	    "attempts + 1, last_error = NULL WHERE id = ?2" :
	    "UPDATE outbox SET attempts = attempts + 1, last_error = ?3, next_at "
	    "= ?1 + min(?4 << min(attempts, 20), ?5) WHERE id = ?2", &e) == 0) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_bind_int64(st, 2, dv->id);
		if (error != NULL) {
			sqlite3_bind_text(st, 3, error, -1, SQLITE_TRANSIENT);
			sqlite3_bind_int64(st, 4, BACKOFF_MIN_MS);
			sqlite3_bind_int64(st, 5, BACKOFF_MAX_MS);
		}
		if (sqlite3_step(st) != SQLITE_DONE)
			log_warnx("notify: %s", sqlite3_errmsg(n->store->db));
		sqlite3_finalize(st);
	} else
		log_warnx("notify: %s", e.msg);
	if (error != NULL)
		log_info("notify: notice %lld to '%s' failed: %s; retried later",
		    (long long)dv->id, dv->channel, error);
	free(dv->channel);
	free(dv->payload);
	free(dv);
	if (n->freeing) {
		if (n->nrunning == 0)
			free(n);
		return;
	}
	notifier_kick(n);
}

static void
http_done(void *arg, const struct probe_result *r)
{
	struct delivery *dv = arg;
	char why[300];

	dv->probe = NULL;
	if (r->error != NULL)
		snprintf(why, sizeof(why), "%s", r->error);
	else if (r->status < 200 || r->status > 299)
		snprintf(why, sizeof(why), "answered %ld", r->status);
	else {
		delivery_done(dv, NULL);
		return;
	}
	delivery_done(dv, why);
}

/* The part after @ of an address, for Message-ID. */
static const char *
mail_domain(const char *addr)
{
	const char *at = strrchr(addr, '@');

	return at != NULL && at[1] != '\0' ? at + 1 : "opsdeck.invalid";
}

static char *
strv_join(char *const *v, size_t n, const char *sep)
{
	struct buf b;
	size_t i;

	buf_init(&b, 0);
	for (i = 0; i < n; i++) {
		if (i > 0)
			buf_addstr(&b, sep);
		buf_addstr(&b, v[i]);
	}
	return buf_detach(&b);
}

static void
smtp_done(void *arg, const struct probe_result *r)
{
	struct delivery *dv = arg;

	dv->probe = NULL;
	delivery_done(dv, r->error);
}

static void
cmd_closed(uv_handle_t *h)
{
	struct delivery *dv = h->data;
	char why[128];

	if (--dv->open_handles > 0)
		return;
	if (dv->spawn_error[0] != '\0') {
		delivery_done(dv, dv->spawn_error);
		return;
	}
	if (dv->term_signal != 0)
		snprintf(why, sizeof(why), "killed by signal %d", dv->term_signal);
	else
		snprintf(why, sizeof(why), "exited %lld", (long long)dv->exit_status);
	delivery_done(dv, dv->exit_status == 0 && dv->term_signal == 0 ? NULL :
	    why);
}

static void
cmd_exit(uv_process_t *p, int64_t status, int sig)
{
	struct delivery *dv = p->data;

	dv->exited = true;
	dv->exit_status = status;
	dv->term_signal = sig;
	uv_timer_stop(&dv->kill);
	uv_close((uv_handle_t *)&dv->kill, cmd_closed);
	uv_close((uv_handle_t *)p, cmd_closed);
}

static void
cmd_timeout(uv_timer_t *t)
{
	struct delivery *dv = t->data;

	if (!dv->exited)
		uv_process_kill(&dv->proc, SIGKILL);
}

static void
cmd_written(uv_write_t *w, int status)
{
	struct delivery *dv = w->data;

	(void)status;
	uv_close((uv_handle_t *)&dv->in, cmd_closed);
}

static void
start_command(struct delivery *dv, const struct cfg_channel *ch)
{
	uv_process_options_t o;
	uv_stdio_container_t io[3];
	uv_buf_t b;
	int rc;

	memset(&o, 0, sizeof(o));
	uv_pipe_init(dv->n->loop, &dv->in, 0);
	dv->in.data = dv;
	io[0].flags = UV_CREATE_PIPE | UV_READABLE_PIPE;
	io[0].data.stream = (uv_stream_t *)&dv->in;
	io[1].flags = UV_INHERIT_FD;
	io[1].data.fd = 2;
	io[2].flags = UV_INHERIT_FD;
	io[2].data.fd = 2;
	o.file = ch->argv[0];
	o.args = ch->argv;
	o.stdio = io;
	o.stdio_count = 3;
	o.exit_cb = cmd_exit;
	dv->proc.data = dv;
	if ((rc = uv_spawn(dv->n->loop, &dv->proc, &o)) != 0) {
		/* Both handles were initialized: they close before dv is freed. */
		snprintf(dv->spawn_error, sizeof(dv->spawn_error), "cannot run "
		    "'%s': %s", ch->argv[0], uv_strerror(rc));
		dv->exited = true;
		dv->open_handles = 2;
		uv_close((uv_handle_t *)&dv->in, cmd_closed);
		uv_close((uv_handle_t *)&dv->proc, cmd_closed);
		return;
	}
	dv->open_handles = 3;
	uv_timer_init(dv->n->loop, &dv->kill);
	dv->kill.data = dv;
	uv_timer_start(&dv->kill, cmd_timeout, SEND_TIMEOUT_MS, 0);
	b = uv_buf_init(dv->payload, (unsigned)strlen(dv->payload));
	dv->wr.data = dv;
	if (uv_write(&dv->wr, (uv_stream_t *)&dv->in, &b, 1, cmd_written) != 0)
		uv_close((uv_handle_t *)&dv->in, cmd_closed);
}

static void
start(struct notifier *n, int64_t id, const char *channel, const char *payload)
{
	const struct cfg_channel *ch = channel_find(n->cfg, channel);
	struct delivery *dv = xcalloc(1, sizeof(*dv));
	char *why;

	dv->n = n;
	dv->id = id;
	dv->channel = xstrdup(channel);
	dv->payload = xstrdup(payload);
	dv->started = n->now(n->ctx);
	dv->next = n->running;
	n->running = dv;
	n->nrunning++;
	if (ch == NULL) {
		why = xasprintf("no channel '%s' in the config: it stays queued "
		    "until there is one", channel);
		delivery_done(dv, why);
		free(why);
		return;
	}
	if (ch->kind == CFG_CHANNEL_WEBHOOK) {
		static const char *const headers[] = {
			"Content-Type: application/json", NULL };
		struct probe_req req = { .url = ch->url, .method = "POST",
		    .headers = headers, .timeout_ms = SEND_TIMEOUT_MS,
		    .max_body = 1024 };
		json_t *j = NULL;
		char *slack = NULL;

		if (ch->slack) {
			j = json_loads(payload, 0, NULL);
			slack = json_dumps(json_pack("{s:O}", "text",
			    json_object_get(j, "text")), JSON_COMPACT);
		}
		req.body = slack ? slack : payload;
		dv->probe = probe_start(n->pr, &req, http_done, dv);
		free(slack);
		json_decref(j);
	} else if (ch->kind == CFG_CHANNEL_EMAIL) {
		struct probe_req req = { .url = ch->url, .timeout_ms =
		    SEND_TIMEOUT_MS, .mail_from = ch->from, .mail_rcpt =
		    (const char *const *)ch->to };
		json_t *j = json_loads(payload, 0, NULL);
		const char *text = json_string_value(json_object_get(j, "text"));
		char date[64], *to = strv_join(ch->to, ch->nto, ", "), *subject;
		/* indented: SMTP lines stay under 1000 characters (RFC 5321) */
		char *body = j ? json_dumps(j, JSON_INDENT(2)) : xstrdup(payload);
		time_t now = time(NULL);
		struct tm tm;
		char *msg;

		/* A line break from a probed answer would start a header of its own. */
		subject = xstrdup(text ? text : "opsdeck");
		subject[strcspn(subject, "\r\n")] = '\0';
		/* RFC 5322: Date and From are required; one Message-ID per notice. */
		strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S +0000",
		    gmtime_r(&now, &tm));
		msg = xasprintf("Date: %s\r\nFrom: %s\r\nTo: %s\r\nSubject: %s"
		    "\r\nMessage-ID: <opsdeck.%lld.%lld@%s>\r\nContent-Type: "
		    "text/plain; charset=utf-8\r\n\r\n%s\r\n\r\n%s\r\n", date,
		    ch->from, to, subject, (long long)dv->id, (long long)now,
		    mail_domain(ch->from), text ? text : "", body);
		req.upload = msg;
		dv->probe = probe_start(n->pr, &req, smtp_done, dv);
		free(msg);
		free(body);
		free(subject);
		free(to);
		json_decref(j);
	} else
		start_command(dv, ch);
}

static bool
channel_busy(const struct notifier *n, const char *channel)
{
	const struct delivery *dv;

	for (dv = n->running; dv != NULL; dv = dv->next)
		if (strcmp(dv->channel, channel) == 0)
			return true;
	return false;
}

void
notifier_kick(struct notifier *n)
{
	sqlite3_stmt *st = NULL;
	struct err e;
	int64_t now = n->now(n->ctx);
	struct {
		int64_t	 id;
		char	*channel, *payload;
	} due[64];
	size_t ndue = 0, i;

	if (n->cfg == NULL || n->freeing)
		return;
	/* Each channel's oldest pending notice: a channel gets them in order. */
	if (store_prepare(n->store, &st, "SELECT o.id, o.channel, o.payload, "
	    "o.next_at FROM outbox o WHERE o.state = 'pending' AND o.id = (SELECT "
	    "min(id) FROM outbox p WHERE p.state = 'pending' AND p.channel = "
	    "o.channel) LIMIT 64", &e) < 0) {
		log_warnx("notify: %s", e.msg);
		return;
	}
	while (sqlite3_step(st) == SQLITE_ROW && ndue < 64) {
		const char *channel = (const char *)sqlite3_column_text(st, 1);

		if (sqlite3_column_int64(st, 3) > now || channel_busy(n, channel))
			continue;
		due[ndue].id = sqlite3_column_int64(st, 0);
		due[ndue].channel = xstrdup(channel);
		due[ndue].payload = xstrdup((const char *)sqlite3_column_text(st,
		    2));
		ndue++;
	}
	sqlite3_finalize(st);
	for (i = 0; i < ndue; i++) {
		start(n, due[i].id, due[i].channel, due[i].payload);
		free(due[i].channel);
		free(due[i].payload);
	}
}

void
notifier_free(struct notifier *n)
{
	struct delivery *dv, *next;

	if (n == NULL)
		return;
	n->freeing = true;
	/*
	 * HTTP and SMTP deliveries end here (retried after a restart, as they
	 * are still pending); a command is killed, and n is freed once the last
	 * one's handles have closed.
	 */
	for (dv = n->running; dv != NULL; dv = next) {
		next = dv->next;
		if (dv->probe != NULL) {
			bool last = n->nrunning == 1;

			probe_cancel(dv->probe);
			dv->probe = NULL;
			delivery_done(dv, "opsdeck stopped during the delivery");
			if (last)
				return;	/* n was freed */
		} else if (!dv->exited)
			uv_process_kill(&dv->proc, SIGKILL);
	}
	if (n->nrunning == 0)
		free(n);
}
