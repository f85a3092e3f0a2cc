#include <errno.h>
#include <pwd.h>
#include <malloc.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netdb.h>
#include <unistd.h>

#include <jansson.h>
#include <microhttpd.h>

#include "api/api.h"
#include "api/dashboard.h"
#include "mcp/mcp.h"
#include "api/routes.h"
#include "api/session.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"

#define BODY_MAX (1024 * 1024)
#define FEED_MS 250		/* how often /v1/events looks for news */
#define FEED_BEAT_MS 15000	/* a comment line keeps idle streams open */
#define FEED_BACKLOG (1024 * 1024)	/* a subscriber this far behind is dropped */
#define TRIM_AFTER (256 * 1024)	/* bytes of an answer */

/* One listening socket served by its own libmicrohttpd daemon. */
struct listener {
	struct api	*api;
	struct MHD_Daemon *mhd;
	uv_poll_t	 poll;
	bool		 tcp;		/* every request needs a bearer token */
};

/*
 * A client of /v1/events (server-sent events): the text queued for it, and whether
 * its connection is suspended for want of any.
 */
struct sub {
	struct api	*api;
	struct MHD_Connection *conn;
	struct buf	 out;
	size_t		 sent;		/* of out */
	bool		 suspended;
	bool		 dropped;	/* fell too far behind: its stream ends */
	struct sub	*next;
};

struct api {
	struct listener	 l[2];		/* the unix socket, then TCP (api.listen) */
	int		 nl;
	uv_timer_t	 timer;
	/* the live feed: its subscribers, the daemon's cursor, a poll every FEED_MS */
	struct sub	*subs;
	json_t		*cursor;
	uv_timer_t	 feed_timer;
	uint64_t	 last_beat;
	char		*socket_path;
	struct sessions	*sessions;	/* the dashboard's logins */
	/* api.local_users, their names looked up at start */
	struct local_user {
		uid_t	 uid;
		char	 actor[64];
	}		*local;
	size_t		 nlocal;
	const struct daemon_ops *ops;
	int		 closing;
};

struct request {
	struct buf	 body;
	int		 too_large;
};

static void api_run(struct api *);
static void api_closed(uv_handle_t *);

static char owner_name[64] = "unknown";

/*
 * Who is on the other end of the unix socket: the actor api.local_users maps the
 * local user to, else the daemon's owner or root (the socket is 0600, so no one
 * else reaches it) as admin under their login name. -1 with e when the mapped
 * actor is unknown or revoked: such a user is not let in as anyone else.
 */
static int
request_actor(struct api *api, struct MHD_Connection *c, struct actor *a,
    struct err *e)
{
	const union MHD_ConnectionInfo *ci;
	struct ucred cred;
	socklen_t len = sizeof(cred);
	const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_USER_AGENT);
	size_t i;

	memset(a, 0, sizeof(*a));
	snprintf(a->name, sizeof(a->name), "unknown");
	a->role = ROLE_VIEWER;
	ci = MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (ci == NULL || getsockopt(ci->connect_fd, SOL_SOCKET, SO_PEERCRED,
	    &cred, &len) < 0)
		goto via;
	for (i = 0; i < api->nlocal; i++)
		if (api->local[i].uid == cred.uid) {
			if (api->ops->actor_named(api->ops->d, api->local[i].actor, a,
			    e) < 0)
				return -1;
			goto via;
		}
	/* Names were looked up at start: getpwuid may ask NSS (LDAP) and block. */
	if (cred.uid == geteuid())
		snprintf(a->name, sizeof(a->name), "%s", owner_name);
	else if (cred.uid == 0)
		snprintf(a->name, sizeof(a->name), "root");
	else
		snprintf(a->name, sizeof(a->name), "uid:%u", (unsigned)cred.uid);
	if (cred.uid == 0 || cred.uid == geteuid())
		a->role = ROLE_ADMIN;
via:
	/* The CLI says who it is; anything else on the socket is an API client. */
	a->via = ua != NULL && strcmp(ua, CLI_USER_AGENT) == 0 ? VIA_CLI :
	    VIA_API;
	return 0;
}

static enum MHD_Result
respond(struct MHD_Connection *c, unsigned int status, json_t *body)
{
	struct MHD_Response *r;
	enum MHD_Result ret;
	char *text = json_dump_compact(body);
	size_t len = strlen(text);

	json_decref(body);
	/*
	 * A big answer (10 000 checks) built a tree of as many small objects: hand
	 * their pages back, or the daemon keeps them as its size from then on.
	 */
	if (len > TRIM_AFTER)
		malloc_trim(0);
	text = xreallocarray(text, len + 2, 1);
	text[len++] = '\n';
	r = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", "application/json");
	ret = MHD_queue_response(c, status, r);
	MHD_destroy_response(r);
	return ret;
}

/* ---- /v1/events ----------------------------------------------------------------- */

static ssize_t
sse_read(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct sub *s = cls;
	size_t n;

	(void)pos;
	if (s->dropped)
		return MHD_CONTENT_READER_END_WITH_ERROR;
	if (s->out.len > s->sent) {
		n = s->out.len - s->sent < max ? s->out.len - s->sent : max;
		memcpy(buf, s->out.data + s->sent, n);
		s->sent += n;
		if (s->sent == s->out.len) {
			buf_reset(&s->out);
			s->sent = 0;
		}
		return (ssize_t)n;
	}
	if (s->api->closing)
		return MHD_CONTENT_READER_END_OF_STREAM;
	/* Nothing to say: park the connection until the feed has news. */
	s->suspended = true;
	MHD_suspend_connection(s->conn);
	return 0;
}

static void
sse_free(void *cls)
{
	struct sub *s = cls, **pp;

	for (pp = &s->api->subs; *pp != NULL; pp = &(*pp)->next)
		if (*pp == s) {
			*pp = s->next;
			break;
		}
	if (s->api->subs == NULL) {
		uv_timer_stop(&s->api->feed_timer);
		json_decref(s->api->cursor);
		s->api->cursor = NULL;
	}
	buf_release(&s->out);
	free(s);
}

static void
sse_wake(struct sub *s)
{
	if (s->suspended) {
		s->suspended = false;
		MHD_resume_connection(s->conn);
	}
}

/* Queues text for every subscriber; one that is too far behind is dropped. */
static void
sse_broadcast(struct api *api, const char *text)
{
	struct sub *s;

	for (s = api->subs; s != NULL; s = s->next) {
		if (s->dropped)
			continue;
		if (s->out.len + strlen(text) > FEED_BACKLOG) {
			log_warnx("api: an events subscriber fell %d bytes behind: "
			    "dropped", FEED_BACKLOG);
			s->dropped = true;
		} else
			buf_addstr(&s->out, text);
		sse_wake(s);
	}
}

/* Hands what happened since the cursor to the subscribers. */
static void
feed_flush(struct api *api)
{
	json_t *r, *ev;
	struct err e;
	size_t i;

	if (api->closing || api->subs == NULL)
		return;
	if ((r = api->ops->events_since(api->ops->d, api->cursor, &e)) == NULL)
		return;
	json_decref(api->cursor);
	api->cursor = json_incref(json_object_get(r, "cursor"));
	json_array_foreach(json_object_get(r, "events"), i, ev) {
		char *data = json_dump_compact(json_object_get(ev, "data"));
		char *line = xasprintf("event: %s\ndata: %s\n\n",
		    json_string_value(json_object_get(ev, "type")), data);

		sse_broadcast(api, line);
		free(line);
		free(data);
	}
	json_decref(r);
	if (mono_ms() - api->last_beat >= FEED_BEAT_MS) {
		api->last_beat = mono_ms();
		sse_broadcast(api, ": keepalive\n\n");
	}
}

static void
feed_poll(uv_timer_t *t)
{
	struct api *api = t->data;

	feed_flush(api);
	api_run(api);
}

static enum MHD_Result
sse_start(struct api *api, struct MHD_Connection *c)
{
	struct sub *s = xcalloc(1, sizeof(*s));
	struct MHD_Response *r;
	enum MHD_Result ret;
	json_t *first;
	struct err e;

	s->api = api;
	s->conn = c;
	buf_init(&s->out, 0);
	/* The first subscriber fixes the cursor at now: no backlog. */
	if (api->cursor == NULL) {
		if ((first = api->ops->events_since(api->ops->d, NULL, &e)) ==
		    NULL) {
			free(s);
			return respond(c, 500, api_error_json(500, e.msg, NULL));
		}
		api->cursor = json_incref(json_object_get(first, "cursor"));
		json_decref(first);
		api->last_beat = mono_ms();
		uv_timer_start(&api->feed_timer, feed_poll, FEED_MS, FEED_MS);
	} else {
		/* What happened before it joined goes to the others, not to it. */
		feed_flush(api);
	}
	buf_addstr(&s->out, "retry: 2000\nevent: hello\ndata: {}\n\n");
	if ((r = MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 4096,
	    sse_read, s, sse_free)) == NULL) {
		buf_release(&s->out);
		free(s);
		return MHD_NO;
	}
	s->next = api->subs;
	api->subs = s;
	MHD_add_response_header(r, "Content-Type", "text/event-stream");
	MHD_add_response_header(r, "Cache-Control", "no-cache");
	ret = MHD_queue_response(c, 200, r);
	MHD_destroy_response(r);
	return ret;
}

/* The dashboard's pages and forms (api/dashboard.h), with the headers a browser heeds. */
static enum MHD_Result
dash_answer(struct api *api, struct MHD_Connection *c, const char *url,
    const char *method, struct request *rq)
{
	struct dash_request req;
	struct dash_response res;
	struct MHD_Response *r;
	enum MHD_Result ret;

	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = url;
	req.body = buf_str(&rq->body);
	req.cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, DASH_COOKIE);
	req.origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Origin");
	req.host = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_HOST);
	dash_serve(api->ops, api->sessions, &req, &res);
	r = MHD_create_response_from_buffer(strlen(res.body), res.body,
	    MHD_RESPMEM_MUST_FREE);
	MHD_add_response_header(r, "Content-Type", res.content_type);
	if (res.location[0] != '\0')
		MHD_add_response_header(r, "Location", res.location);
	if (res.cookie[0] != '\0')
		MHD_add_response_header(r, "Set-Cookie", res.cookie);
	MHD_add_response_header(r, "Cache-Control", "no-store");
	MHD_add_response_header(r, "Content-Security-Policy", "default-src 'none'; "
	    "script-src 'self'; style-src 'self'; connect-src 'self'; "
	    "img-src 'self'; form-action 'self'; frame-ancestors 'none'; "
	    "base-uri 'none'");
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(r, "X-Frame-Options", "DENY");
	/* same-origin, not no-referrer: with that, a browser posts forms as Origin: null */
	MHD_add_response_header(r, "Referrer-Policy", "same-origin");
	ret = MHD_queue_response(c, res.status, r);
	MHD_destroy_response(r);
	return ret;
}

/*
 * An Origin a page on this host sent: http(s)://127.0.0.1, localhost, [::1] or a
 * name under .localhost, any port. Anything else is another site's page reaching
 * in (DNS rebinding), which MCP's transport says to refuse.
 */
static bool
loopback_origin(const char *origin)
{
	const char *h = strstr(origin, "://"), *end;
	size_t n;

	if (h == NULL || (strncmp(origin, "http://", 7) != 0 &&
	    strncmp(origin, "https://", 8) != 0))
		return false;
	h += 3;
	if (strncmp(h, "[::1]", 5) == 0)
		end = h + 5;
	else
		end = h + strcspn(h, ":/");
	if (*end != '\0' && *end != ':')
		return false;
	n = (size_t)(end - h);
	return (n == 9 && strncmp(h, "127.0.0.1", 9) == 0) ||
	    (n == 9 && strncmp(h, "localhost", 9) == 0) ||
	    (n == 5 && strncmp(h, "[::1]", 5) == 0) ||
	    (n > 10 && strncmp(end - 10, ".localhost", 10) == 0);
}

/* POST /mcp: one JSON-RPC message for mcp/, as actor (via mcp). */
static enum MHD_Result
mcp_answer(struct api *api, struct MHD_Connection *c, const char *method,
    struct request *rq, struct actor *actor)
{
	struct mcp_reply reply;
	struct MHD_Response *r;
	enum MHD_Result ret;

	if (strcmp(method, "POST") != 0) {
		r = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
		MHD_add_response_header(r, "Allow", "POST");
		ret = MHD_queue_response(c, 405, r);
		MHD_destroy_response(r);
		return ret;
	}
	actor->via = VIA_MCP;
	mcp_handle(api->ops, actor, rq->body.data != NULL ? rq->body.data : "",
	    rq->body.len, MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "MCP-Protocol-Version"), &reply);
	if (reply.body == NULL)
		r = MHD_create_response_from_buffer(0, (void *)"",
		    MHD_RESPMEM_PERSISTENT);
	else {
		r = MHD_create_response_from_buffer(strlen(reply.body),
		    reply.body, MHD_RESPMEM_MUST_FREE);
		MHD_add_response_header(r, "Content-Type", "application/json");
	}
	ret = MHD_queue_response(c, reply.status, r);
	MHD_destroy_response(r);
	return ret;
}

static enum MHD_Result
handle(void *cls, struct MHD_Connection *c, const char *url,
    const char *method, const char *version, const char *upload,
    size_t *upload_size, void **con_cls)
{
	struct listener *l = cls;
	struct api *api = l->api;
	struct request *rq = *con_cls;
	struct api_request req;
	struct api_response res;
	const char *auth, *cookie, *origin;
	bool is_mcp;

	(void)version;
	if (rq == NULL) {
		rq = xcalloc(1, sizeof(*rq));
		buf_init(&rq->body, BODY_MAX);
		*con_cls = rq;
		return MHD_YES;
	}
	if (*upload_size > 0) {
		if (buf_add(&rq->body, upload, *upload_size) < 0)
			rq->too_large = 1;
		*upload_size = 0;
		return MHD_YES;
	}
	if (rq->too_large)
		return respond(c, 413, api_error_json(413, "request body larger "
		    "than 1 MiB", NULL));
	/* The dashboard logs in by its own form and cookie, on either listener. */
	if (dash_path(url))
		return dash_answer(api, c, url, method, rq);
	is_mcp = strcmp(url, "/mcp") == 0;
	if (is_mcp && (origin = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    "Origin")) != NULL && !loopback_origin(origin))
		return respond(c, 403, api_error_json(403, "Origin is not this "
		    "host's: /mcp answers clients on loopback only", NULL));
	memset(&req, 0, sizeof(req));
	req.method = method;
	req.path = url;
	req.body = buf_str(&rq->body);
	req.conn = c;
	auth = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
	    MHD_HTTP_HEADER_AUTHORIZATION);
	cookie = MHD_lookup_connection_value(c, MHD_COOKIE_KIND, DASH_COOKIE);
	if (auth == NULL && cookie != NULL && strncmp(url, "/v1/", 4) == 0) {
		/*
		 * The dashboard's script (its live feed): the session's actor, on
		 * /v1/ only (GET /ping/NAME records a ping: not for a cookie).
		 */
		struct err e;

		if (dash_cookie_actor(api->ops, api->sessions, cookie, method,
		    MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    "X-CSRF-Token"), &req.actor, &e) < 0) {
			unsigned int st = e.kind == ERR_DENIED ? 403 : 401;

			return respond(c, st, api_error_json(st, e.msg, NULL));
		}
	} else if (!l->tcp && auth == NULL) {
		struct err e;

		if (request_actor(api, c, &req.actor, &e) < 0)
			return respond(c, 401, api_error_json(401, e.msg, NULL));
	} else if (auth == NULL)
		return respond(c, 401, api_error_json(401, "the API on "
		    "TCP needs a bearer token: send 'Authorization: Bearer TOKEN' "
		    "(from `opsdeck actor add`; the CLI sends $OPSDECK_TOKEN)",
		    NULL));
	else {
		const char *ua = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		    MHD_HTTP_HEADER_USER_AGENT);

		memset(&req.actor, 0, sizeof(req.actor));
		req.actor.via = ua != NULL && strcmp(ua, CLI_USER_AGENT) == 0 ?
		    VIA_CLI : VIA_API;
	}
	/* A bearer token names the actor, whoever is on the other end. */
	if (auth != NULL) {
		struct err e;

		if (strncmp(auth, "Bearer ", 7) != 0)
			return respond(c, 401, api_error_json(401, "the "
			    "Authorization header must be 'Bearer TOKEN'", NULL));
		if (api->ops->actor_auth(api->ops->d, auth + 7, &req.actor,
		    &e) < 0)
			return respond(c, 401, api_error_json(401, e.msg,
			    NULL));
	}
	if (is_mcp)
		return mcp_answer(api, c, method, rq, &req.actor);
	memset(&res, 0, sizeof(res));
	api_dispatch(api->ops, &req, &res);
	if (res.stream)
		return sse_start(api, c);
	if (res.text != NULL) {
		struct MHD_Response *r = MHD_create_response_from_buffer(
		    strlen(res.text), res.text, MHD_RESPMEM_MUST_FREE);
		enum MHD_Result ret;

		json_decref(res.body);
		MHD_add_response_header(r, "Content-Type", res.content_type);
		ret = MHD_queue_response(c, res.status, r);
		MHD_destroy_response(r);
		return ret;
	}
	return respond(c, res.status, res.body);
}

static void
request_done(void *cls, struct MHD_Connection *c, void **con_cls,
    enum MHD_RequestTerminationCode toe)
{
	struct request *rq = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (rq == NULL)
		return;
	/* Bodies carry secret values (secrets set): leave no copy behind. */
	if (rq->body.data != NULL)
		explicit_bzero(rq->body.data, rq->body.cap);
	buf_release(&rq->body);
	free(rq);
	*con_cls = NULL;
}

static void
api_on_timer(uv_timer_t *t)
{
	api_run(t->data);
}

static void
api_on_poll(uv_poll_t *p, int status, int events)
{
	struct listener *l = p->data;

	(void)status;
	(void)events;
	api_run(l->api);
}

/* Lets libmicrohttpd do its work, then arms the timer for its next deadline. */
static void
api_run(struct api *api)
{
	MHD_UNSIGNED_LONG_LONG timeout, next = 1000;
	int i;

	if (api->closing)
		return;
	for (i = 0; i < api->nl; i++) {
		MHD_run(api->l[i].mhd);
		if (MHD_get_timeout(api->l[i].mhd, &timeout) == MHD_YES &&
		    timeout < next)
			next = timeout;
	}
	uv_timer_start(&api->timer, api_on_timer, next, 0);
}

static int
listen_unix(const char *path, struct err *e)
{
	struct sockaddr_un sa;
	mode_t old;
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, "control socket path '%s' is longer than %zu "
		    "bytes: use a shorter --state directory", path,
		    sizeof(sa.sun_path) - 1);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return err_errno(e, "cannot create the control socket '%s'",
		    path);
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	/* The lock file proves no other daemon owns this socket: a leftover is stale. */
	unlink(path);
	/* Created 0600 from the start: a chmod after bind leaves a window. */
	old = umask(0177);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	umask(old);
	if (rc < 0 || listen(fd, 64) < 0) {
		err_errno(e, "cannot listen on '%s': check the state dir's "
		    "permissions", path);
		close(fd);
		return -1;
	}
	return fd;
}

/* HOST:PORT (checked by the config) on TCP; -1 with a message naming it. */
static int
listen_tcp(const char *addr, struct err *e)
{
	struct addrinfo hints, *res = NULL;
	const char *port;
	char host[64];
	int fd, one = 1, r;

	if (hostport_split(addr, host, sizeof(host), &port) < 0)
		return err_set(e, "api.listen '%s': give HOST:PORT", addr);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV | AI_PASSIVE;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		return err_set(e, "api.listen '%s': %s", addr, gai_strerror(r));
	if ((fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0) {
		freeaddrinfo(res);
		return err_errno(e, "api.listen '%s': socket", addr);
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, res->ai_addr, res->ai_addrlen) < 0 || listen(fd, 128) < 0) {
		err_errno(e, "cannot listen on %s (api.listen)%s", addr,
		    errno == EADDRINUSE ? ": another program holds it; choose "
		    "another port" : "");
		close(fd);
		freeaddrinfo(res);
		return -1;
	}
	freeaddrinfo(res);
	return fd;
}

static int
listener_start(struct api *api, uv_loop_t *loop, int fd, bool tcp,
    const char *where, struct err *e)
{
	struct listener *l = &api->l[api->nl];
	const union MHD_DaemonInfo *info;

	l->api = api;
	l->tcp = tcp;
	l->mhd = MHD_start_daemon(MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	    MHD_ALLOW_SUSPEND_RESUME, 0,
	    NULL, NULL, handle, l,
	    MHD_OPTION_LISTEN_SOCKET, fd,
	    MHD_OPTION_NOTIFY_COMPLETED, request_done, NULL,
	    MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)30,
	    MHD_OPTION_END);
	if (l->mhd == NULL) {
		close(fd);
		return err_set(e, "cannot start the control API on '%s'", where);
	}
	info = MHD_get_daemon_info(l->mhd, MHD_DAEMON_INFO_EPOLL_FD);
	uv_poll_init(loop, &l->poll, info->epoll_fd);
	l->poll.data = l;
	uv_poll_start(&l->poll, UV_READABLE, api_on_poll);
	api->nl++;
	return 0;
}

struct api *
api_start(uv_loop_t *loop, const char *socket_path, const struct cfg_api *cfg,
    const struct daemon_ops *ops, struct err *e)
{
	struct api *api = xcalloc(1, sizeof(*api));
	const char *tcp_listen = cfg->listen;
	struct passwd *pw;
	size_t i;
	int fd;

	api->ops = ops;
	api->socket_path = xstrdup(socket_path);
	api->sessions = sessions_new();
	api->local = xcalloc(cfg->nlocal_users + 1, sizeof(*api->local));
	for (i = 0; i < cfg->nlocal_users; i++) {
		const struct cfg_local_user *u = &cfg->local_users[i];

		if ((pw = getpwnam(u->user)) == NULL) {
			err_set(e, "api.local_users.%s: there is no OS user '%s' on "
			    "this host: remove the line or add the user", u->user,
			    u->user);
			goto fail;
		}
		api->local[api->nlocal].uid = pw->pw_uid;
		snprintf(api->local[api->nlocal++].actor, sizeof(api->local->actor),
		    "%s", u->actor);
	}
	if ((pw = getpwuid(geteuid())) != NULL)
		snprintf(owner_name, sizeof(owner_name), "%s", pw->pw_name);
	else
		snprintf(owner_name, sizeof(owner_name), "uid:%u",
		    (unsigned)geteuid());
	if ((fd = listen_unix(socket_path, e)) < 0 ||
	    listener_start(api, loop, fd, false, socket_path, e) < 0)
		goto fail;
	if (tcp_listen != NULL && ((fd = listen_tcp(tcp_listen, e)) < 0 ||
	    listener_start(api, loop, fd, true, tcp_listen, e) < 0)) {
		uv_poll_stop(&api->l[0].poll);
		MHD_stop_daemon(api->l[0].mhd);
		unlink(socket_path);
		/* The poll handle closes on the loop; the api struct goes with it. */
		api->closing = 1;
		api->l[0].poll.data = &api->l[0];
		uv_close((uv_handle_t *)&api->l[0].poll, api_closed);
		return NULL;
	}
	uv_timer_init(loop, &api->timer);
	api->timer.data = api;
	uv_timer_init(loop, &api->feed_timer);
	api->feed_timer.data = api;
	api_run(api);
	return api;
fail:
	free(api->local);
	sessions_free(api->sessions);
	free(api->socket_path);
	free(api);
	return NULL;
}

static void
api_closed(uv_handle_t *h)
{
	struct api *api = h->type == UV_POLL ?
	    ((struct listener *)h->data)->api : h->data;

	if (--api->closing == 0) {
		free(api->local);
		sessions_free(api->sessions);
		free(api->socket_path);
		free(api);
	}
}

void
api_stop(struct api *api)
{
	if (api == NULL)
		return;
	struct sub *s;
	int i;

	uv_timer_stop(&api->timer);
	uv_timer_stop(&api->feed_timer);
	/* libmicrohttpd stops only with no connection suspended: end the streams. */
	api->closing = 1;
	for (s = api->subs; s != NULL; s = s->next)
		sse_wake(s);
	for (i = 0; i < api->nl; i++)
		MHD_run(api->l[i].mhd);
	for (i = 0; i < api->nl; i++) {
		uv_poll_stop(&api->l[i].poll);
		MHD_stop_daemon(api->l[i].mhd);
	}
	unlink(api->socket_path);
	api->closing = api->nl + 2;
	json_decref(api->cursor);
	api->cursor = NULL;
	for (i = 0; i < api->nl; i++)
		uv_close((uv_handle_t *)&api->l[i].poll, api_closed);
	uv_close((uv_handle_t *)&api->timer, api_closed);
	uv_close((uv_handle_t *)&api->feed_timer, api_closed);
}

static void *
front_start(uv_loop_t *loop, const char *socket_path, const struct cfg_api *cfg,
    const struct daemon_ops *ops, struct err *e)
{
	return api_start(loop, socket_path, cfg, ops, e);
}

static void
front_stop(void *api)
{
	api_stop(api);
}

int
api_daemon_run(const struct daemon_options *o)
{
	static const struct daemon_frontend front = { front_start, front_stop };
	struct daemon_options with = *o;

	with.frontend = &front;
	return daemon_run(&with);
}
