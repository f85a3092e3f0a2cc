#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <microhttpd.h>

#include "api/routes.h"
#include "core/path_match.h"
#include "core/xmalloc.h"
#include "runtime/ops.h"

typedef void (*route_fn)(const struct daemon_ops *, struct api_request *,
    struct api_response *);

static void route_ping(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_status(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_machines(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_machine_action(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_deploy(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_rollback(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_releases(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_release(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_secrets(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_secrets_change(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_secrets_deploy(const struct daemon_ops *,
    struct api_request *, struct api_response *);

static void route_migrate_apply(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_migrate_job(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_gc(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_gc_job(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_metrics(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_prometheus(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_checks(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_incidents(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_incident_ack(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_heartbeats(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_heartbeat_ping(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_ping_url(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_maintenance(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_maintenance_add(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_maintenance_end(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_notifications(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_clock(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_promote(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_events(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_apps(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_actors(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_actor_add(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_actor_revoke(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_approvals(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_approval(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_approval_approve(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_approval_deny(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_evidence(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_evidence_export(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_evidence_key(const struct daemon_ops *,
    struct api_request *, struct api_response *);

static void route_tasks(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_task_add(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_task_import(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_task(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_task_move(const struct daemon_ops *,
    struct api_request *, struct api_response *);
static void route_report(const struct daemon_ops *,
    struct api_request *, struct api_response *);

static const struct route {
	const char	*method;
	const char	*pattern;
	route_fn	 fn;
} routes[] = {
	{ "GET", "/v1/ping", route_ping },
	{ "GET", "/v1/status", route_status },
	{ "GET", "/v1/apps", route_apps },
	{ "GET", "/v1/machines", route_machines },
	{ "POST", "/v1/machines/:id/:action", route_machine_action },
	{ "POST", "/v1/apps/:app/deploys", route_deploy },
	{ "POST", "/v1/apps/:app/rollback", route_rollback },
	{ "POST", "/v1/apps/:app/promote", route_promote },
	{ "GET", "/v1/apps/:app/releases", route_releases },
	{ "GET", "/v1/apps/:app/releases/:version", route_release },
	{ "GET", "/v1/apps/:app/secrets", route_secrets },
	{ "POST", "/v1/apps/:app/secrets", route_secrets_change },
	{ "POST", "/v1/apps/:app/secrets/deploy", route_secrets_deploy },
	{ "POST", "/v1/migrations/apply", route_migrate_apply },
	{ "GET", "/v1/migrations/apply/:id", route_migrate_job },
	{ "POST", "/v1/gc", route_gc },
	{ "GET", "/v1/gc/:id", route_gc_job },
	{ "GET", "/v1/metrics", route_metrics },
	{ "GET", "/metrics", route_prometheus },
	{ "GET", "/v1/checks", route_checks },
	{ "GET", "/v1/incidents", route_incidents },
	{ "POST", "/v1/incidents/:id/ack", route_incident_ack },
	{ "GET", "/v1/heartbeats", route_heartbeats },
	{ "POST", "/v1/heartbeats/:name/ping", route_heartbeat_ping },
	/* Healthchecks.io's ping URLs: /ping/NAME[/start|/fail|/EXITCODE] */
	{ "POST", "/ping/:name", route_ping_url },
	{ "GET", "/ping/:name", route_ping_url },
	{ "HEAD", "/ping/:name", route_ping_url },
	{ "POST", "/ping/:name/:what", route_ping_url },
	{ "GET", "/ping/:name/:what", route_ping_url },
	{ "HEAD", "/ping/:name/:what", route_ping_url },
	{ "GET", "/v1/maintenance", route_maintenance },
	{ "POST", "/v1/maintenance", route_maintenance_add },
	{ "POST", "/v1/maintenance/:id/end", route_maintenance_end },
	{ "GET", "/v1/notifications", route_notifications },
	{ "GET", "/v1/actors", route_actors },
	{ "POST", "/v1/actors", route_actor_add },
	{ "POST", "/v1/actors/:name/revoke", route_actor_revoke },
	{ "GET", "/v1/approvals", route_approvals },
	{ "GET", "/v1/approvals/:id", route_approval },
	{ "POST", "/v1/approvals/:id/approve", route_approval_approve },
	{ "POST", "/v1/approvals/:id/deny", route_approval_deny },
	{ "GET", "/v1/events", route_events },
	{ "GET", "/v1/evidence", route_evidence },
	{ "GET", "/v1/evidence/export", route_evidence_export },
	{ "GET", "/v1/evidence/key", route_evidence_key },
	{ "GET", "/v1/tasks", route_tasks },
	{ "POST", "/v1/tasks", route_task_add },
	{ "POST", "/v1/tasks/import", route_task_import },
	{ "GET", "/v1/tasks/:id", route_task },
	{ "POST", "/v1/tasks/:id/:move", route_task_move },
	{ "GET", "/v1/report", route_report },
	{ "POST", "/v1/test/clock", route_clock },
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
		[ERR_INVALID] = 400, [ERR_CONFLICT] = 409, [ERR_PENDING] = 202,
	};

	return status[e->kind];
}

json_t *
api_error_json(unsigned int status, const char *message, const char *field)
{
	static const struct {
		unsigned int	 status;
		const char	*code;
	} codes[] = {
		{ 400, "invalid" }, { 401, "unauthorized" }, { 403, "forbidden" },
		{ 404, "not_found" }, { 405, "method_not_allowed" },
		{ 409, "conflict" }, { 413, "too_large" }, { 500, "failed" },
	};
	const char *code = "failed";
	size_t i;

	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (codes[i].status == status)
			code = codes[i].code;
	return json_pack("{s:{s:s, s:s, s:s?}}", "error", "code", code, "message",
	    message, "field", field);
}

/* Answers status with message about field (NULL: the request as a whole). */
static void
fail_field(struct api_response *res, unsigned int status, const char *msg,
    const char *field)
{
	res->status = status;
	res->body = api_error_json(status, msg, field);
}

static void
fail(struct api_response *res, unsigned int status, const char *msg)
{
	fail_field(res, status, msg, NULL);
}

void
api_dispatch(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	char segs[PATH_PARAMS_MAX][PATH_PARAM_LEN];
	size_t i;
	int path_known = 0, k;

	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (path_match(routes[i].pattern, req->path, segs) < 0)
			continue;
		for (k = 0; k < PATH_PARAMS_MAX; k++)
			req->params[k] = segs[k][0] != '\0' ? segs[k] : NULL;
		path_known = 1;
		if (strcmp(routes[i].method, req->method) != 0)
			continue;
		res->status = 200;
		routes[i].fn(ops, req, res);
		return;
	}
	if (path_known)
		fail(res, 405, "method not allowed");
	else
		fail(res, 404, "no such API route");
}

static void
route_ping(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	(void)req;
	res->body = ops->info_json(ops->d);
}

static void
route_status(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	if ((res->body = ops->status_json(ops->d, api_query(req, "app"),
	    &e)) == NULL)
		fail(res, err_http_status(&e), e.msg);
}

static void
route_machines(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	if ((res->body = ops->machines_json(ops->d, api_query(req, "app"),
	    &e)) == NULL)
		fail(res, err_http_status(&e), e.msg);
}

static void
route_machine_action(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	struct err e;
	json_t *m;

	if (ops->machine_action(ops->d, &req->actor, req->params[0],
	    req->params[1], &e) < 0) {
		fail(res, err_http_status(&e), e.msg);
		return;
	}
	m = ops->machine_json(ops->d, req->params[0]);
	res->body = m != NULL ? m : json_object();
}

/* The request's JSON body; an empty body is {}. NULL (answered) when it is not JSON. */
static json_t *
body_json(struct api_request *req, struct api_response *res)
{
	json_error_t jerr;
	json_t *j;

	if (req->body == NULL || *req->body == '\0')
		return json_object();
	if ((j = json_loads(req->body, 0, &jerr)) == NULL || !json_is_object(j)) {
		char msg[256];

		/* jansson's text quotes the body: it may hold a secret's value. */
		snprintf(msg, sizeof(msg), "request body is not a JSON object "
		    "(line %d, column %d)", jerr.line, jerr.column);
		json_decref(j);
		fail(res, 400, msg);
		return NULL;
	}
	return j;
}

/* Answers with out, or with e's failure when out is NULL. */
static void
answer(struct api_response *res, json_t *out, const struct err *e,
    unsigned int ok)
{
	if (out == NULL) {
		fail(res, err_http_status(e), e->msg);
		return;
	}
	/* An action that now waits for an approval was accepted, not done. */
	res->status = json_object_get(out, "approval_pending") != NULL ? 202 : ok;
	res->body = out;
}

static void
route_deploy(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	json_t *body = body_json(req, res);
	struct err e;

	if (body == NULL)
		return;
	answer(res, ops->deploy(ops->d, &req->actor, req->params[0], body, &e),
	    &e, 201);
	json_decref(body);
}

static void
route_rollback(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	json_t *body = body_json(req, res);
	struct err e;

	if (body == NULL)
		return;
	answer(res, ops->rollback(ops->d, &req->actor, req->params[0], body, &e),
	    &e, 201);
	json_decref(body);
}

static void
route_releases(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	answer(res, ops->releases(ops->d, req->params[0], &e), &e, 200);
}

static void
route_release(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	answer(res, ops->release(ops->d, req->params[0], req->params[1], &e), &e,
	    200);
}

static void
route_secrets(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	answer(res, ops->secrets_list(ops->d, req->params[0], &e), &e, 200);
}

static void
route_secrets_change(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	json_t *body = body_json(req, res), *v;
	const char *name;
	struct err e;

	if (body == NULL)
		return;
	answer(res, ops->secrets_change(ops->d, &req->actor, req->params[0], body,
	    &e), &e, 200);
	/* The body held secret values: wipe them before the memory is reused. */
	json_object_foreach(json_object_get(body, "set"), name, v)
		if (json_is_string(v))
			explicit_bzero((char *)json_string_value(v),
			    json_string_length(v));
	json_decref(body);
}

static void
route_secrets_deploy(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	answer(res, ops->secrets_deploy(ops->d, &req->actor, req->params[0], &e),
	    &e, 201);
}

static void
route_migrate_apply(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	json_t *body = body_json(req, res);
	struct err e;

	if (body == NULL)
		return;
	answer(res, ops->migrate_apply(ops->d, &req->actor, body, &e), &e, 202);
	json_decref(body);
}

static void
route_migrate_job(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	answer(res, ops->migrate_job(ops->d, req->params[0], api_query(req, "from"),
	    &e), &e, 200);
}

static void
route_gc(const struct daemon_ops *ops, struct api_request *req, struct api_response *res)
{
	json_t *body = body_json(req, res);
	struct err e;

	if (body == NULL)
		return;
	answer(res, ops->gc(ops->d, &req->actor, body, &e), &e, 202);
	json_decref(body);
}

static void
route_gc_job(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	answer(res, ops->gc_job(ops->d, req->params[0], &e), &e, 200);
}

/* Per-route request metrics of the last ?window= seconds (default 60), for `top`. */
static void
route_metrics(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	const char *w = api_query(req, "window");
	long long secs = 60;
	char *end = NULL;
	struct err e;

	if (w != NULL && ((secs = strtoll(w, &end, 10)) < 1 || secs > 3600 ||
	    *end != '\0')) {
		fail(res, 400, "window must be seconds 1..3600");
		return;
	}
	if ((res->body = ops->metrics_json(ops->d, api_query(req, "app"),
	    (int64_t)secs * 1000, &e)) == NULL)
		fail(res, err_http_status(&e), e.msg);
}

/* Prometheus text exposition format 0.0.4. */
static void
route_prometheus(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	(void)req;
	res->text = ops->metrics_text(ops->d);
	res->content_type = "text/plain; version=0.0.4; charset=utf-8";
}

/* ---- watch --------------------------------------------------------------- */

static void
route_checks(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	(void)req;
	res->body = ops->checks_json(ops->d);
}

static void
route_incidents(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	const char *all = api_query(req, "all");

	res->body = ops->incidents_json(ops->d, all != NULL &&
	    strcmp(all, "0") != 0);
}

/* A positive decimal id from a path segment; 0 when it is not one. */
static int64_t
path_id(const char *s)
{
	char *end;
	long long v;

	if (s == NULL || *s < '1' || *s > '9')
		return 0;
	v = strtoll(s, &end, 10);
	return *end == '\0' && v > 0 ? v : 0;
}

static void
route_incident_ack(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	int64_t id = path_id(req->params[0]);
	struct err e;

	if (id == 0) {
		fail(res, 400, "an incident id is a positive number");
		return;
	}
	if (ops->incident_ack(ops->d, &req->actor, id, &e) < 0)
		fail(res, err_http_status(&e), e.msg);
	else
		res->body = json_pack("{s:I, s:s}", "id", (json_int_t)id, "state",
		    "acknowledged");
}

static void
route_heartbeats(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	(void)req;
	res->body = ops->heartbeats_json(ops->d);
}

static void
route_heartbeat_ping(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	json_t *body = body_json(req, res);
	struct err e;

	if (body == NULL)
		return;
	answer(res, ops->heartbeat_ping(ops->d, &req->actor, req->params[0], body,
	    &e), &e, 200);
	json_decref(body);
}

/* /ping/NAME, /ping/NAME/start, /ping/NAME/fail, /ping/NAME/EXITCODE: the body,
 * if any, is the run's message (its first 1 KiB). */
static void
route_ping_url(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	const char *what = req->params[1];
	json_t *body = json_object();
	struct err e;
	char *end;

	if (what == NULL)
		;
	else if (strcmp(what, "start") == 0 || strcmp(what, "fail") == 0)
		json_object_set_new(body, "signal", json_string(what));
	else if (*what >= '0' && *what <= '9' && strtol(what, &end, 10) <= 255 &&
	    *end == '\0' && strlen(what) <= 3)
		json_object_set_new(body, "exit_code", json_integer(strtol(what,
		    NULL, 10)));
	else {
		json_decref(body);
		fail(res, 404, "a ping URL is /ping/NAME, /ping/NAME/start, "
		    "/ping/NAME/fail or /ping/NAME/EXITCODE (0-255)");
		return;
	}
	if (req->body != NULL && *req->body != '\0')
		json_object_set_new(body, "message", json_stringn(req->body,
		    strnlen(req->body, 1024)));
	answer(res, ops->heartbeat_ping(ops->d, &req->actor, req->params[0], body,
	    &e), &e, 200);
	json_decref(body);
}

static void
route_maintenance(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	(void)req;
	res->body = ops->maintenance_json(ops->d);
}

static void
route_maintenance_add(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	json_t *body = body_json(req, res);
	struct err e;

	if (body == NULL)
		return;
	answer(res, ops->maintenance_add(ops->d, &req->actor, body, &e), &e, 201);
	json_decref(body);
}

static void
route_maintenance_end(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	int64_t id = path_id(req->params[0]);
	struct err e;

	if (id == 0) {
		fail(res, 400, "a maintenance id is a positive number");
		return;
	}
	if (ops->maintenance_end(ops->d, &req->actor, id, &e) < 0)
		fail(res, err_http_status(&e), e.msg);
	else
		res->body = json_pack("{s:I, s:b}", "id", (json_int_t)id, "ended",
		    1);
}

static void
route_notifications(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	(void)req;
	res->body = ops->notifications_json(ops->d);
}

static void
route_clock(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	json_t *body = body_json(req, res);
	const json_t *ms;
	struct err e;

	if (body == NULL)
		return;
	ms = json_object_get(body, "advance_ms");
	if (!json_is_integer(ms)) {
		fail_field(res, 400, "give {\"advance_ms\": N}", "advance_ms");
		json_decref(body);
		return;
	}
	answer(res, ops->clock_advance(ops->d, json_integer_value(ms), &e), &e,
	    200);
	json_decref(body);
}

/* An integer query argument: def when absent, -1 (after answering 400) when bad. */
static int
query_int(const struct api_request *req, struct api_response *res,
    const char *name, long long def, long long *out)
{
	const char *v = api_query(req, name);
	char *end;

	*out = def;
	if (v == NULL)
		return 0;
	errno = 0;
	*out = strtoll(v, &end, 10);
	if (errno != 0 || end == v || *end != '\0' || *out < 0) {
		char msg[160];

		snprintf(msg, sizeof(msg), "query argument '%s': '%.64s' is not a "
		    "whole number of 0 or more", name, v);
		fail_field(res, 400, msg, name);
		return -1;
	}
	return 0;
}

static void
route_evidence(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	long long since, limit;
	struct err e;

	if (query_int(req, res, "since_ms", 0, &since) < 0 ||
	    query_int(req, res, "limit", 0, &limit) < 0)
		return;
	/* Bounded, whatever is asked: the loop builds it. */
	if (limit == 0 || limit > 100000)
		limit = 100000;
	answer(res, ops->evidence_json(ops->d, api_query(req, "actor"), since,
	    (int)limit, &e), &e, 200);
}

static void
route_evidence_export(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	long long since;
	struct err e;

	if (query_int(req, res, "since_ms", 0, &since) < 0)
		return;
	answer(res, ops->evidence_export(ops->d, since, &e), &e, 200);
}

static void
route_evidence_key(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	(void)req;
	answer(res, ops->evidence_key(ops->d, &e), &e, 200);
}

static void
route_actors(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	(void)req;
	answer(res, ops->actors_json(ops->d, &e), &e, 200);
}

static void
route_actor_add(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	json_t *body = body_json(req, res);
	struct err e;

	if (body == NULL)
		return;
	answer(res, ops->actor_add(ops->d, &req->actor, body, &e), &e, 201);
	json_decref(body);
}

static void
route_actor_revoke(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	if (ops->actor_revoke(ops->d, &req->actor, req->params[0], &e) < 0)
		fail(res, err_http_status(&e), e.msg);
	else
		res->body = json_pack("{s:s, s:b}", "name", req->params[0],
		    "revoked", 1);
}

static void
route_approvals(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	const char *all = api_query(req, "all");
	struct err e;

	answer(res, ops->approvals_json(ops->d, all != NULL &&
	    strcmp(all, "0") != 0, &e), &e, 200);
}

static void
route_approval(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	int64_t id = path_id(req->params[0]);
	struct err e;

	if (id == 0) {
		fail(res, 400, "an approval id is a positive number");
		return;
	}
	answer(res, ops->approval_json(ops->d, id, &e), &e, 200);
}

static void
approval_decide(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res, bool grant)
{
	int64_t id = path_id(req->params[0]);
	json_t *body;
	struct err e;

	if (id == 0) {
		fail(res, 400, "an approval id is a positive number");
		return;
	}
	if ((body = body_json(req, res)) == NULL)
		return;
	answer(res, ops->approval_decide(ops->d, &req->actor, id, grant, body, &e),
	    &e, 200);
	json_decref(body);
}

static void
route_approval_approve(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	approval_decide(ops, req, res, true);
}

static void
route_approval_deny(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	approval_decide(ops, req, res, false);
}

/* The apps, each with its stage, live release, machines and their health. */
static void
route_apps(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	(void)req;
	res->text = ops->apps_text(ops->d);
	res->content_type = "application/json";
}

static void
route_promote(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	json_t *body = body_json(req, res);
	struct err e;

	if (body == NULL)
		return;
	answer(res, ops->promote(ops->d, &req->actor, req->params[0], body, &e),
	    &e, 201);
	json_decref(body);
}

/* Server-sent events: the transport is api.c's, the feed the daemon's. */
static void
route_events(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	(void)ops;
	(void)req;
	res->stream = true;
}

static void
route_tasks(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	answer(res, ops->tasks_json(ops->d, api_query(req, "owner"),
	    api_query(req, "direction"), api_query(req, "status"), &e), &e, 200);
}

static void
route_task_add(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	json_t *body = body_json(req, res);
	struct err e;

	if (body == NULL)
		return;
	answer(res, ops->task_add(ops->d, &req->actor, body, &e), &e, 201);
	json_decref(body);
}

static void
route_task_import(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	json_t *body = body_json(req, res);
	struct err e;

	if (body == NULL)
		return;
	answer(res, ops->task_import(ops->d, &req->actor, body, &e), &e, 200);
	json_decref(body);
}

static void
route_task(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	struct err e;

	answer(res, ops->task_json(ops->d, req->params[0], &e), &e, 200);
}

static void
route_task_move(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	json_t *body = body_json(req, res);
	struct err e;

	if (body == NULL)
		return;
	answer(res, ops->task_move(ops->d, &req->actor, req->params[0],
	    req->params[1], body, &e), &e, 200);
	json_decref(body);
}

static void
route_report(const struct daemon_ops *ops, struct api_request *req,
    struct api_response *res)
{
	long long since;
	const char *actor = api_query(req, "actor");
	struct err e;

	if (query_int(req, res, "since_ms", 0, &since) < 0)
		return;
	answer(res, ops->report_json(ops->d, actor ? actor : req->actor.name,
	    since, &e), &e, 200);
}
