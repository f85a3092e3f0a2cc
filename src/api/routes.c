#include <string.h>

#include <microhttpd.h>

#include "api/routes.h"
#include "core/xmalloc.h"
#include "runtime/daemon.h"

typedef void (*route_fn)(struct daemon *, struct api_request *,
    struct api_response *);

static void route_ping(struct daemon *, struct api_request *,
    struct api_response *);
static void route_status(struct daemon *, struct api_request *,
    struct api_response *);
static void route_machines(struct daemon *, struct api_request *,
    struct api_response *);
static void route_machine_action(struct daemon *, struct api_request *,
    struct api_response *);

static const struct route {
	const char	*method;
	const char	*pattern;
	route_fn	 fn;
} routes[] = {
	{ "GET", "/v1/ping", route_ping },
	{ "GET", "/v1/status", route_status },
	{ "GET", "/v1/machines", route_machines },
	{ "POST", "/v1/machines/:id/:action", route_machine_action },
};

const char *
api_query(const struct api_request *req, const char *name)
{
	return MHD_lookup_connection_value(req->conn, MHD_GET_ARGUMENT_KIND,
	    name);
}

static unsigned int
err_http_status(const struct err *e)
{
	static const unsigned int status[] = {
		[ERR_FAILED] = 500, [ERR_NOT_FOUND] = 404, [ERR_DENIED] = 403,
		[ERR_INVALID] = 400, [ERR_CONFLICT] = 409,
	};

	return status[e->kind];
}

static void
fail(struct api_response *res, unsigned int status, const char *msg)
{
	res->status = status;
	res->body = json_pack("{s:s}", "error", msg);
}

/* Matches path against pattern segment by segment; :x segments are captured. */
static int
route_match(const char *pattern, const char *path, struct api_request *req,
    char segs[4][128])
{
	int n = 0;

	while (*pattern != '\0' && *path != '\0') {
		size_t pl = strcspn(pattern + 1, "/") + 1;
		size_t ql = strcspn(path + 1, "/") + 1;

		if (*pattern != '/' || *path != '/')
			return -1;
		if (pattern[1] == ':') {
			if (n == 4 || ql < 2 || ql > 127)
				return -1;
			memcpy(segs[n], path + 1, ql - 1);
			segs[n][ql - 1] = '\0';
			req->params[n] = segs[n];
			n++;
		} else if (pl != ql || memcmp(pattern, path, pl) != 0)
			return -1;
		pattern += pl;
		path += ql;
	}
	return *pattern == '\0' && *path == '\0' ? 0 : -1;
}

void
api_dispatch(struct daemon *d, struct api_request *req,
    struct api_response *res)
{
	char segs[4][128];
	size_t i;
	int path_known = 0;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (route_match(routes[i].pattern, req->path, req, segs) < 0)
			continue;
		path_known = 1;
		if (strcmp(routes[i].method, req->method) != 0)
			continue;
		res->status = 200;
		routes[i].fn(d, req, res);
		return;
	}
	if (path_known)
		fail(res, 405, "method not allowed");
	else
		fail(res, 404, "no such API route");
}

static void
route_ping(struct daemon *d, struct api_request *req,
    struct api_response *res)
{
	(void)req;
	res->body = daemon_info_json(d);
}

static void
route_status(struct daemon *d, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	if ((res->body = daemon_status_json(d, api_query(req, "app"),
	    &e)) == NULL)
		fail(res, err_http_status(&e), e.msg);
}

static void
route_machines(struct daemon *d, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	if ((res->body = daemon_machines_json(d, api_query(req, "app"),
	    &e)) == NULL)
		fail(res, err_http_status(&e), e.msg);
}

static void
route_machine_action(struct daemon *d, struct api_request *req,
    struct api_response *res)
{
	struct err e;
	json_t *m;

	if (daemon_machine_action(d, &req->actor, req->params[0],
	    req->params[1], &e) < 0) {
		fail(res, err_http_status(&e), e.msg);
		return;
	}
	m = daemon_machine_json(d, req->params[0]);
	res->body = m != NULL ? m : json_object();
}
