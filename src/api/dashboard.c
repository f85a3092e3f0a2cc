#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "api/dashboard.h"
#include "api/dashboard_assets.h"
#include "api/web.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/path_match.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "runtime/ops.h"

#define RELEASES_SHOWN 5
#define INCIDENTS_SHOWN 20
#define EVIDENCE_SHOWN 15
#define METRICS_WINDOW_MS 60000

/* What one rendering needs: the daemon, who is looking, and their session. */
struct view {
	const struct daemon_ops *ops;
	const struct actor *actor;
	struct session	*session;
	struct buf	*b;
};

bool
dash_path(const char *path)
{
	return strcmp(path, "/") == 0 || strcmp(path, "/login") == 0 ||
	    strcmp(path, "/logout") == 0 || strncmp(path, "/ui/", 4) == 0;
}

/* ---- pieces of HTML ---------------------------------------------------------------- */

static const char *
str_or(const json_t *o, const char *key, const char *none)
{
	const char *s = json_str(o, key);

	return s != NULL ? s : none;
}

static void
cell(struct buf *b, const char *text)
{
	buf_addstr(b, "<td>");
	html_esc(b, text);
	buf_addstr(b, "</td>");
}

/* A time from the API (RFC 3339): the clock time shown, the whole one on hover. */
static void
cell_time(struct buf *b, const char *iso)
{
	if (iso == NULL || strlen(iso) < 19) {
		buf_addstr(b, "<td>—</td>");
		return;
	}
	buf_addstr(b, "<td><time datetime=\"");
	html_esc(b, iso);
	buf_addstr(b, "\" title=\"");
	html_esc(b, iso);
	buf_addstr(b, "\">");
	buf_add(b, iso + 11, 8);	/* HH:MM:SS, */
	buf_addstr(b, "</time></td>");
}

/* A status word as a badge whose class (ok, warn, bad) colours it. */
static void
badge(struct buf *b, const char *word)
{
	static const char *const ok[] = { "live", "ok", "started", "passing",
	    "up", "resolved", "granted", "done" };
	static const char *const bad[] = { "failed", "crashed", "critical",
	    "down", "open", "rolled_back", "denied", "late", "crashloop" };
	const char *cls = "warn";
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++)
		if (strcmp(word, ok[i]) == 0)
			cls = "ok";
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		if (strcmp(word, bad[i]) == 0)
			cls = "bad";
	buf_printf(b, "<span class=\"badge %s\">", cls);
	html_esc(b, word);
	buf_addstr(b, "</span>");
}

static void
cell_badge(struct buf *b, const char *word)
{
	buf_addstr(b, "<td>");
	badge(b, word);
	buf_addstr(b, "</td>");
}

static void
section_open(struct buf *b, const char *id, const char *title)
{
	buf_printf(b, "<section id=\"%s\"><h2>%s</h2>", id, title);
}

static void
table_open(struct buf *b, const char *const *heads)
{
	buf_addstr(b, "<table><thead><tr>");
	for (; *heads != NULL; heads++)
		buf_printf(b, "<th>%s</th>", *heads);
	buf_addstr(b, "</tr></thead><tbody>");
}

static void
none_yet(struct buf *b, const char *what)
{
	buf_printf(b, "<p class=\"none\">%s</p>", what);
}

static bool
may(const struct view *v, const char *action)
{
	const struct action_def *def = action_find(action);

	return def != NULL && gate_decide(def, v->actor->role, NULL, false) !=
	    GATE_DENY;
}

/* A POST form of one button, with the session's CSRF token. */
static void
button_form(const struct view *v, const char *action, const char *label,
    const char *cls, bool comment)
{
	buf_addstr(v->b, "<form method=\"post\" class=\"inline\" action=\"");
	html_esc(v->b, action);
	buf_printf(v->b, "\"><input type=\"hidden\" name=\"csrf\" value=\"%s\">",
	    v->session->csrf);
	if (comment)
		buf_addstr(v->b, "<input name=\"comment\" placeholder=\"comment\" "
		    "maxlength=\"200\">");
	buf_printf(v->b, "<button class=\"%s\">%s</button></form>", cls, label);
}

/* ---- the sections ------------------------------------------------------------------ */

static void
render_apps(const struct view *v, const json_t *status)
{
	static const char *const heads[] = { "App", "Stage", "Live release",
	    "Machines", "Health", NULL };
	const json_t *app, *m;
	size_t i, j;

	section_open(v->b, "apps", "Apps");
	table_open(v->b, heads);
	json_array_foreach(json_object_get(status, "apps"), i, app) {
		int passing = 0, checked = 0;

		json_array_foreach(json_object_get(app, "machines"), j, m) {
			const char *h = str_or(m, "health", "unknown");

			if (strcmp(h, "unknown") == 0)
				continue;
			checked++;
			passing += strcmp(h, "passing") == 0;
		}
		buf_addstr(v->b, "<tr data-app=\"");
		html_esc(v->b, str_or(app, "name", ""));
		buf_addstr(v->b, "\">");
		cell(v->b, str_or(app, "name", "?"));
		cell(v->b, str_or(app, "stage", "—"));
		cell(v->b, str_or(app, "release", "none yet"));
		buf_printf(v->b, "<td>%lld of %lld started</td>",
		    json_int(app, "machines_started", 0),
		    json_int(app, "machines_total", 0));
		if (checked == 0)
			cell(v->b, "no health check");
		else {
			buf_addstr(v->b, "<td>");
			badge(v->b, passing == checked ? "passing" : "failing");
			buf_printf(v->b, " %d of %d</td>", passing, checked);
		}
		buf_addstr(v->b, "</tr>");
	}
	buf_addstr(v->b, "</tbody></table></section>");
}

static void
render_approvals(const struct view *v)
{
	static const char *const heads[] = { "#", "Action", "Target", "Stage",
	    "Requested by", "Why", "Expires", "", NULL };
	const json_t *a;
	json_t *list;
	struct err e;
	size_t i;

	section_open(v->b, "approvals", "Approvals waiting");
	if ((list = v->ops->approvals_json(v->ops->d, false, &e)) == NULL) {
		none_yet(v->b, "approvals cannot be read now");
		buf_addstr(v->b, "</section>");
		return;
	}
	if (json_array_size(json_object_get(list, "approvals")) == 0)
		none_yet(v->b, "nothing waits for an approval");
	else {
		table_open(v->b, heads);
		json_array_foreach(json_object_get(list, "approvals"), i, a) {
			long long id = json_int(a, "id", 0);
			const char *who = str_or(a, "requester", "?");
			char path[64];

			buf_printf(v->b, "<tr data-approval=\"%lld\"><td>%lld</td>",
			    id, id);
			cell(v->b, str_or(a, "action", "?"));
			cell(v->b, str_or(a, "target", "—"));
			cell(v->b, str_or(a, "stage", "—"));
			buf_addstr(v->b, "<td>");
			html_esc(v->b, who);
			buf_addstr(v->b, " <small>(");
			html_esc(v->b, str_or(a, "role", "?"));
			buf_addstr(v->b, ", ");
			html_esc(v->b, str_or(a, "via", "?"));
			buf_addstr(v->b, ")</small></td>");
			cell(v->b, str_or(a, "why", "—"));
			cell_time(v->b, json_str(a, "expires_at"));
			buf_addstr(v->b, "<td class=\"actions\">");
			if (!may(v, "approval.grant") && !may(v, "approval.deny"))
				buf_addstr(v->b, "<small>an approver decides</small>");
			else if (strcmp(who, v->actor->name) == 0)
				buf_addstr(v->b, "<small>your request: another "
				    "approver decides</small>");
			else {
				snprintf(path, sizeof(path),
				    "/ui/approvals/%lld/approve", id);
				if (may(v, "approval.grant"))
					button_form(v, path, "Approve", "approve",
					    true);
				snprintf(path, sizeof(path), "/ui/approvals/%lld/deny",
				    id);
				if (may(v, "approval.deny"))
					button_form(v, path, "Deny", "deny", false);
			}
			buf_addstr(v->b, "</td></tr>");
		}
		buf_addstr(v->b, "</tbody></table>");
	}
	json_decref(list);
	buf_addstr(v->b, "</section>");
}

static void
render_timeline(const struct view *v, const char *app, const char *version)
{
	const json_t *step;
	json_t *rel;
	struct err e;
	size_t i;

	if ((rel = v->ops->release(v->ops->d, app, version, &e)) == NULL)
		return;
	buf_addstr(v->b, "<ol class=\"timeline\" data-release=\"");
	html_esc(v->b, app);
	buf_addch(v->b, '/');
	html_esc(v->b, version);
	buf_addstr(v->b, "\">");
	json_array_foreach(json_object_get(rel, "timeline"), i, step) {
		const char *st = str_or(step, "status", "?");
		long long ms = json_int(step, "duration_ms", -1);

		buf_addstr(v->b, "<li class=\"step ");
		html_esc(v->b, st);
		buf_addstr(v->b, "\"><b>");
		html_esc(v->b, str_or(step, "step", "?"));
		buf_addstr(v->b, "</b> ");
		badge(v->b, st);
		if (ms >= 0) {
			char d[32];

			duration_format(ms, d);
			buf_printf(v->b, " <small>%s</small>", d);
		}
		if (json_str(step, "detail") != NULL) {
			buf_addstr(v->b, "<br><small>");
			html_esc(v->b, json_str(step, "detail"));
			buf_addstr(v->b, "</small>");
		}
		buf_addstr(v->b, "</li>");
	}
	buf_addstr(v->b, "</ol>");
	json_decref(rel);
}

static void
render_releases(const struct view *v, const json_t *status)
{
	static const char *const heads[] = { "Release", "Status", "By", "Started",
	    "Took", "Reason", NULL };
	const json_t *app, *r;
	size_t i, j;
	int shown = 0;

	section_open(v->b, "releases", "Releases");
	json_array_foreach(json_object_get(status, "apps"), i, app) {
		const char *name = str_or(app, "name", "?");
		json_t *list;
		struct err e;

		if ((list = v->ops->releases(v->ops->d, name, &e)) == NULL)
			continue;
		if (json_array_size(json_object_get(list, "releases")) == 0) {
			json_decref(list);
			continue;
		}
		shown++;
		buf_addstr(v->b, "<div class=\"app-releases\"><h3>");
		html_esc(v->b, name);
		buf_addstr(v->b, "</h3>");
		table_open(v->b, heads);
		json_array_foreach(json_object_get(list, "releases"), j, r) {
			long long ms = json_int(r, "duration_ms", -1);
			char d[32];

			if (j == RELEASES_SHOWN)
				break;
			buf_addstr(v->b, "<tr>");
			cell(v->b, str_or(r, "version", "?"));
			cell_badge(v->b, str_or(r, "status", "?"));
			cell(v->b, str_or(r, "actor", "—"));
			cell_time(v->b, json_str(r, "created_at"));
			if (ms >= 0)
				duration_format(ms, d);
			cell(v->b, ms >= 0 ? d : "—");
			cell(v->b, str_or(r, "reason", ""));
			buf_addstr(v->b, "</tr>");
		}
		buf_addstr(v->b, "</tbody></table>");
		r = json_array_get(json_object_get(list, "releases"), 0);
		render_timeline(v, name, str_or(r, "version", ""));
		buf_addstr(v->b, "</div>");
		json_decref(list);
	}
	if (shown == 0)
		none_yet(v->b, "no release yet: <code>opsdeck deploy APP "
		    "--artifact DIR</code>");
	buf_addstr(v->b, "</section>");
}

static void
render_machines(const struct view *v, const json_t *status)
{
	static const char *const heads[] = { "Machine", "App", "Process", "State",
	    "Health", "Release", "Port", "Restarts", NULL };
	const json_t *app, *m;
	size_t i, j;

	section_open(v->b, "machines", "Machines");
	table_open(v->b, heads);
	json_array_foreach(json_object_get(status, "apps"), i, app)
		json_array_foreach(json_object_get(app, "machines"), j, m) {
			long long port = json_int(m, "port", -1);

			buf_addstr(v->b, "<tr>");
			cell(v->b, str_or(m, "id", "?"));
			cell(v->b, str_or(m, "app", "?"));
			buf_printf(v->b, "<td>");
			html_esc(v->b, str_or(m, "process", "?"));
			buf_printf(v->b, "[%lld]</td>", json_int(m, "index", 0));
			cell_badge(v->b, str_or(m, "state", "?"));
			cell_badge(v->b, str_or(m, "health", "unknown"));
			cell(v->b, str_or(m, "release", "—"));
			if (port > 0)
				buf_printf(v->b, "<td>%lld</td>", port);
			else
				cell(v->b, "—");
			buf_printf(v->b, "<td>%lld</td></tr>",
			    json_int(m, "restart_count", 0));
		}
	buf_addstr(v->b, "</tbody></table></section>");
}

static void
render_incidents(const struct view *v)
{
	static const char *const heads[] = { "#", "State", "Severity", "What",
	    "App", "Opened", "Acknowledged", "", NULL };
	const json_t *inc;
	json_t *list = v->ops->incidents_json(v->ops->d, true);
	size_t i;

	section_open(v->b, "incidents", "Incidents");
	if (json_array_size(json_object_get(list, "incidents")) == 0)
		none_yet(v->b, "no incident");
	else {
		table_open(v->b, heads);
		json_array_foreach(json_object_get(list, "incidents"), i, inc) {
			long long id = json_int(inc, "id", 0);
			const char *state = str_or(inc, "state", "?");
			char path[64];

			if (i == INCIDENTS_SHOWN)
				break;
			buf_printf(v->b, "<tr data-incident=\"%lld\"><td>%lld</td>",
			    id, id);
			cell_badge(v->b, state);
			cell(v->b, str_or(inc, "severity", "?"));
			cell(v->b, str_or(inc, "title", "?"));
			cell(v->b, str_or(inc, "app", "—"));
			cell_time(v->b, json_str(inc, "opened_at"));
			cell(v->b, str_or(inc, "acked_by", "—"));
			buf_addstr(v->b, "<td class=\"actions\">");
			if (strcmp(state, "open") == 0 && may(v, "incident.ack")) {
				snprintf(path, sizeof(path), "/ui/incidents/%lld/ack",
				    id);
				button_form(v, path, "Acknowledge", "ack", false);
			}
			buf_addstr(v->b, "</td></tr>");
		}
		buf_addstr(v->b, "</tbody></table>");
	}
	json_decref(list);
	buf_addstr(v->b, "</section>");
}

/* p50, p95 and p99 as three bars on the scale of the slowest route's p99. */
static void
latency_svg(struct buf *b, const json_t *row, double scale_ms)
{
	static const char *const q[] = { "p50_ms", "p95_ms", "p99_ms" };
	int k;

	buf_printf(b, "<svg class=\"lat\" width=\"160\" height=\"30\" "
	    "viewBox=\"0 0 160 30\" role=\"img\" aria-label=\"p50 %.1f ms, p95 "
	    "%.1f ms, p99 %.1f ms\">",
	    json_real_value(json_object_get(row, "p50_ms")),
	    json_real_value(json_object_get(row, "p95_ms")),
	    json_real_value(json_object_get(row, "p99_ms")));
	for (k = 0; k < 3; k++) {
		double ms = json_real_value(json_object_get(row, q[k]));
		double w = scale_ms > 0 ? ms / scale_ms * 158 : 0;

		buf_printf(b, "<rect class=\"q%d\" x=\"1\" y=\"%d\" width=\"%.1f\" "
		    "height=\"8\"/>", k, 1 + k * 10, w < 1 ? 1 : w);
	}
	buf_addstr(b, "</svg>");
}

static void
render_routes(const struct view *v)
{
	static const char *const heads[] = { "Route", "App", "Release", "req/s",
	    "5xx", "p50", "p95", "p99", "Latency (1 min)", NULL };
	const json_t *row;
	json_t *m;
	struct err e;
	double scale = 0;
	size_t i;

	section_open(v->b, "routes", "Per-route latency, last minute");
	m = v->ops->metrics_json(v->ops->d, NULL, METRICS_WINDOW_MS, &e);
	if (m == NULL || json_array_size(json_object_get(m, "routes")) == 0) {
		none_yet(v->b, "no request through the router in the last "
		    "minute (routes are measured for process groups with a "
		    "<code>public</code> address)");
		json_decref(m);
		buf_addstr(v->b, "</section>");
		return;
	}
	json_array_foreach(json_object_get(m, "routes"), i, row) {
		double p99 = json_real_value(json_object_get(row, "p99_ms"));

		if (p99 > scale)
			scale = p99;
	}
	table_open(v->b, heads);
	json_array_foreach(json_object_get(m, "routes"), i, row) {
		buf_addstr(v->b, "<tr>");
		cell(v->b, str_or(row, "route", "?"));
		cell(v->b, str_or(row, "app", "?"));
		buf_printf(v->b, "<td>v%lld</td>", json_int(row, "release", 0));
		buf_printf(v->b, "<td>%.1f</td><td>%.2f %%</td>",
		    json_real_value(json_object_get(row, "rps")),
		    json_real_value(json_object_get(row, "error_rate")) * 100);
		buf_printf(v->b, "<td>%.1f ms</td><td>%.1f ms</td><td>%.1f ms</td>",
		    json_real_value(json_object_get(row, "p50_ms")),
		    json_real_value(json_object_get(row, "p95_ms")),
		    json_real_value(json_object_get(row, "p99_ms")));
		buf_addstr(v->b, "<td>");
		latency_svg(v->b, row, scale);
		buf_addstr(v->b, "</td></tr>");
	}
	buf_addstr(v->b, "</tbody></table></section>");
	json_decref(m);
}

static void
render_heartbeats(const struct view *v)
{
	static const char *const heads[] = { "Heartbeat", "Status", "Last ping",
	    "Task", "Message", NULL };
	const json_t *h;
	json_t *list = v->ops->heartbeats_json(v->ops->d);
	size_t i;

	section_open(v->b, "heartbeats", "Heartbeats");
	if (json_array_size(json_object_get(list, "heartbeats")) == 0)
		none_yet(v->b, "no heartbeat configured");
	else {
		table_open(v->b, heads);
		json_array_foreach(json_object_get(list, "heartbeats"), i, h) {
			buf_addstr(v->b, "<tr>");
			cell(v->b, str_or(h, "name", "?"));
			cell_badge(v->b, str_or(h, "status", "?"));
			cell_time(v->b, json_str(h, "last_ping"));
			cell(v->b, str_or(h, "task", ""));
			cell(v->b, str_or(h, "message", ""));
			buf_addstr(v->b, "</tr>");
		}
		buf_addstr(v->b, "</tbody></table>");
	}
	json_decref(list);
	buf_addstr(v->b, "</section>");
}

/*
 * The work ledger: progress per direction (done of total, blocked on whom, time
 * spent against the estimates), then the tasks being done or blocked.
 */
static void
render_tasks(const struct view *v)
{
	static const char *const heads[] = { "Task", "Status", "Owner",
	    "Direction", "Spent / estimate", "Title", "Waits for", NULL };
	const json_t *t, *r;
	struct err e;
	json_t *list = v->ops->tasks_json(v->ops->d, NULL, NULL, NULL, &e);
	size_t i, shown = 0;
	char spent[80];

	section_open(v->b, "tasks", "Work");
	if (list == NULL || json_array_size(json_object_get(list, "tasks")) == 0) {
		none_yet(v->b, "no tasks: opsdeck task import FILE, or task add");
		json_decref(list);
		buf_addstr(v->b, "</section>");
		return;
	}
	buf_addstr(v->b, "<ul class=\"progress\">");
	json_array_foreach(json_object_get(json_object_get(list, "progress"),
	    "directions"), i, r) {
		buf_printf(v->b, "<li data-direction=\"");
		html_esc(v->b, str_or(r, "direction", "-"));
		buf_addstr(v->b, "\"><b>");
		html_esc(v->b, str_or(r, "direction", "-"));
		buf_printf(v->b, "</b> %lld/%lld done (%.0f %%), %lld doing, %lld "
		    "blocked</li>", json_int(r, "done", 0), json_int(r, "total", 0),
		    json_real_value(json_object_get(r, "percent")), json_int(r,
		    "doing", 0), json_int(r, "blocked", 0));
	}
	buf_addstr(v->b, "</ul>");
	table_open(v->b, heads);
	json_array_foreach(json_object_get(list, "tasks"), i, t) {
		const char *st = str_or(t, "status", "?");

		if (strcmp(st, "doing") != 0 && strcmp(st, "blocked") != 0)
			continue;
		shown++;
		buf_addstr(v->b, "<tr data-task=\"");
		html_esc(v->b, str_or(t, "id", "?"));
		buf_addstr(v->b, "\">");
		cell(v->b, str_or(t, "id", "?"));
		cell_badge(v->b, st);
		cell(v->b, str_or(t, "owner", "?"));
		cell(v->b, str_or(t, "direction", "—"));
		snprintf(spent, sizeof(spent), "%s / %s", str_or(t, "actual", "?"),
		    str_or(t, "estimate", "—"));
		cell(v->b, spent);
		cell(v->b, str_or(t, "title", ""));
		if (json_str(t, "blocked_on") != NULL) {
			snprintf(spent, sizeof(spent), "%s: ", json_str(t,
			    "blocked_on"));
			buf_addstr(v->b, "<td>");
			html_esc(v->b, spent);
			html_esc(v->b, str_or(t, "reason", ""));
			buf_addstr(v->b, "</td>");
		} else
			cell(v->b, "");
		buf_addstr(v->b, "</tr>");
	}
	buf_addstr(v->b, "</tbody></table>");
	if (shown == 0)
		none_yet(v->b, "nothing is being done or blocked now");
	json_decref(list);
	buf_addstr(v->b, "</section>");
}

static void
render_evidence(const struct view *v)
{
	static const char *const heads[] = { "Seq", "When", "Actor", "Via",
	    "Action", "Target", "Outcome", "Approval", NULL };
	const json_t *en;
	json_t *list;
	struct err e;
	size_t i;

	section_open(v->b, "evidence", "Evidence, newest first");
	if ((list = v->ops->evidence_json(v->ops->d, NULL, 0, EVIDENCE_SHOWN,
	    &e)) == NULL) {
		none_yet(v->b, "the ledger cannot be read now");
		buf_addstr(v->b, "</section>");
		return;
	}
	table_open(v->b, heads);
	/* The ledger lists oldest first; the dashboard shows the newest on top. */
	for (i = json_array_size(json_object_get(list, "entries")); i-- > 0;) {
		long long ap;

		en = json_array_get(json_object_get(list, "entries"), i);
		ap = json_int(en, "approval", 0);
		buf_printf(v->b, "<tr><td>%lld</td>", json_int(en, "seq", 0));
		cell_time(v->b, json_str(en, "at"));
		cell(v->b, str_or(en, "actor", "?"));
		cell(v->b, str_or(en, "via", "?"));
		cell(v->b, str_or(en, "action", "?"));
		cell(v->b, str_or(en, "target", "—"));
		cell_badge(v->b, str_or(en, "outcome", "?"));
		if (ap > 0)
			buf_printf(v->b, "<td>#%lld</td></tr>", ap);
		else
			buf_addstr(v->b, "<td>—</td></tr>");
	}
	buf_addstr(v->b, "</tbody></table>");
	buf_addstr(v->b, "<p class=\"hint\">Export and verify offline: <code>opsdeck "
	    "evidence export &gt; ev.jsonl; opsdeck evidence verify ev.jsonl"
	    "</code></p>");
	json_decref(list);
	buf_addstr(v->b, "</section>");
}

/* The page's body: everything that the live feed makes the page fetch again. */
static void
render_main(const struct view *v)
{
	struct err e;
	json_t *status = v->ops->status_json(v->ops->d, NULL, &e);

	if (v->session->flash[0] != '\0') {
		buf_addstr(v->b, "<p class=\"flash\" role=\"status\">");
		html_esc(v->b, v->session->flash);
		buf_addstr(v->b, "</p>");
		v->session->flash[0] = '\0';
	}
	if (status == NULL) {
		buf_addstr(v->b, "<p class=\"flash bad\">");
		html_esc(v->b, e.msg);
		buf_addstr(v->b, "</p>");
		return;
	}
	render_apps(v, status);
	render_approvals(v);
	render_releases(v, status);
	render_machines(v, status);
	render_incidents(v);
	render_routes(v);
	render_heartbeats(v);
	render_tasks(v);
	render_evidence(v);
	json_decref(status);
}

static void
page_head(struct buf *b, const char *title)
{
	buf_addstr(b, "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
	    "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">"
	    "<title>");
	html_esc(b, title);
	buf_addstr(b, "</title><link rel=\"stylesheet\" href=\"/ui/app.css\"></head>");
}

static void
render_page(const struct view *v)
{
	page_head(v->b, "opsdeck");
	buf_printf(v->b, "<body><header><h1>opsdeck</h1><span id=\"live\" "
	    "class=\"live off\">connecting…</span><span class=\"who\">");
	html_esc(v->b, v->actor->name);
	buf_addstr(v->b, " <small>(");
	buf_addstr(v->b, role_str(v->actor->role));
	buf_addstr(v->b, ")</small></span>");
	buf_printf(v->b, "<form method=\"post\" action=\"/logout\" class=\"inline\">"
	    "<input type=\"hidden\" name=\"csrf\" value=\"%s\"><button>Log out"
	    "</button></form></header><main id=\"main\">", v->session->csrf);
	render_main(v);
	buf_addstr(v->b, "</main><script src=\"/ui/app.js\"></script></body></html>");
}

static void
render_login(struct buf *b, const char *problem)
{
	page_head(b, "opsdeck: log in");
	buf_addstr(b, "<body class=\"login\"><main><h1>opsdeck</h1>");
	if (problem != NULL) {
		buf_addstr(b, "<p class=\"flash bad\" role=\"alert\">");
		html_esc(b, problem);
		buf_addstr(b, "</p>");
	}
	buf_addstr(b, "<form method=\"post\" action=\"/login\"><label for=\"token\">"
	    "Token</label><input id=\"token\" name=\"token\" type=\"password\" "
	    "autocomplete=\"current-password\" required autofocus><button>Log in"
	    "</button></form><p class=\"hint\">An admin makes one with <code>opsdeck "
	    "actor add NAME --role ROLE</code>.</p></main></body></html>");
}

/* ---- requests ---------------------------------------------------------------------- */

static void
answer_html(struct dash_response *res, unsigned int status, struct buf *b)
{
	res->status = status;
	res->content_type = "text/html; charset=utf-8";
	res->body = buf_detach(b);
}

static void
answer_text(struct dash_response *res, unsigned int status, const char *text)
{
	res->status = status;
	res->content_type = "text/plain; charset=utf-8";
	res->body = xasprintf("%s\n", text);
}

static void
redirect(struct dash_response *res, const char *to)
{
	res->status = 303;
	res->content_type = "text/plain; charset=utf-8";
	res->body = xstrdup("");
	snprintf(res->location, sizeof(res->location), "%s", to);
}

/*
 * A form posted from another site: the browser names where it came from. The
 * cookie is SameSite=Strict already; this refuses what an old browser would send.
 */
static bool
origin_ok(const struct dash_request *req)
{
	char want[160];

	if (req->origin == NULL)
		return true;
	if (req->host == NULL)
		return false;
	snprintf(want, sizeof(want), "http://%s", req->host);
	return strcmp(req->origin, want) == 0;
}

/* The session of the request's cookie and its actor; NULL when not logged in. */
static struct session *
logged_in(const struct daemon_ops *ops, struct sessions *t, const char *cookie,
    struct actor *a)
{
	struct session *s;
	struct err e;

	if (cookie == NULL || (s = session_find(t, cookie, wall_ms())) == NULL)
		return NULL;
	if (ops->actor_auth_hash(ops->d, s->token_hash, a, &e) < 0) {
		/* revoked since: the session ends with the token */
		session_close(t, cookie);
		return NULL;
	}
	a->via = VIA_DASHBOARD;
	return s;
}

static void
do_login(const struct daemon_ops *ops, struct sessions *t,
    const struct dash_request *req, struct dash_response *res, struct buf *b)
{
	const struct session *s;
	struct actor a;
	struct err e;
	char token[256], hash[65];

	if (form_value(req->body, "token", token, sizeof(token)) < 0 ||
	    token[0] == '\0') {
		/* a value cut short by a bad escape is still part of a token */
		explicit_bzero(token, sizeof(token));
		render_login(b, "give a token (the form's field 'token')");
		answer_html(res, 400, b);
		return;
	}
	if (ops->actor_auth(ops->d, token, &a, &e) < 0) {
		explicit_bzero(token, sizeof(token));
		render_login(b, e.msg);
		answer_html(res, 401, b);
		return;
	}
	/* A session id the browser had before is never carried over. */
	if (req->cookie != NULL)
		session_close(t, req->cookie);
	sha256_hex(token, strlen(token), hash);
	explicit_bzero(token, sizeof(token));
	s = session_open(t, hash, a.name, wall_ms());
	snprintf(res->cookie, sizeof(res->cookie), DASH_COOKIE "=%s; Path=/; "
	    "HttpOnly; SameSite=Strict; Max-Age=%d", s->id, SESSION_TTL_MS / 1000);
	redirect(res, "/");
}

/* An approve, deny or ack button: through the daemon's operations, as the gate says. */
static void
do_action(const struct view *v, const struct dash_request *req,
    struct dash_response *res)
{
	char segs[PATH_PARAMS_MAX][PATH_PARAM_LEN], comment[256] = "";
	const struct daemon_ops *ops = v->ops;
	struct err e;
	long long id;
	char *end;

	if (path_match("/ui/approvals/:id/:what", req->path, segs) == 0) {
		bool grant = strcmp(segs[1], "approve") == 0;
		json_t *body, *out;

		errno = 0;
		id = strtoll(segs[0], &end, 10);
		if (errno != 0 || *end != '\0' || id < 1 ||
		    (!grant && strcmp(segs[1], "deny") != 0)) {
			answer_text(res, 404, "no such dashboard action");
			return;
		}
		if (form_value(req->body, "comment", comment, sizeof(comment)) ==
		    -2) {
			snprintf(v->session->flash, sizeof(v->session->flash),
			    "approval #%lld: nothing decided: the comment is longer "
			    "than %zu bytes or badly encoded", id, sizeof(comment) - 1);
			redirect(res, "/");
			return;
		}
		body = json_pack("{ss?}", "comment", comment[0] != '\0' ? comment :
		    NULL);
		out = ops->approval_decide(ops->d, v->actor, id, grant, body, &e);
		json_decref(body);
		if (out == NULL)
			snprintf(v->session->flash, sizeof(v->session->flash),
			    "approval #%lld: %s", id, e.msg);
		else {
			const char *err = json_str(out, "error");

			snprintf(v->session->flash, sizeof(v->session->flash),
			    "approval #%lld %s%s%s", id, grant ? "granted" :
			    "denied", err != NULL ? "; the action then failed: " :
			    "", err != NULL ? err : "");
			json_decref(out);
		}
		redirect(res, "/");
		return;
	}
	if (path_match("/ui/incidents/:id/ack", req->path, segs) == 0) {
		errno = 0;
		id = strtoll(segs[0], &end, 10);
		if (errno != 0 || *end != '\0' || id < 1) {
			answer_text(res, 404, "no such dashboard action");
			return;
		}
		if (ops->incident_ack(ops->d, v->actor, id, &e) < 0)
			snprintf(v->session->flash, sizeof(v->session->flash),
			    "incident #%lld: %s", id, e.msg);
		else
			snprintf(v->session->flash, sizeof(v->session->flash),
			    "incident #%lld acknowledged", id);
		redirect(res, "/");
		return;
	}
	answer_text(res, 404, "no such dashboard action");
}

void
dash_serve(const struct daemon_ops *ops, struct sessions *t,
    const struct dash_request *req, struct dash_response *res)
{
	/* no cap: every section is bounded (RELEASES_SHOWN, ...) or by the config */
	struct buf b = BUF_INIT;
	bool get = strcmp(req->method, "GET") == 0;
	bool post = strcmp(req->method, "POST") == 0;
	struct session *s;
	struct actor a;
	struct view v;
	char csrf[SESSION_ID_LEN + 1];

	memset(res, 0, sizeof(*res));
	if (get && strcmp(req->path, "/ui/app.css") == 0) {
		res->status = 200;
		res->content_type = "text/css; charset=utf-8";
		res->body = xstrdup(dash_css);
		return;
	}
	if (get && strcmp(req->path, "/ui/app.js") == 0) {
		res->status = 200;
		res->content_type = "text/javascript; charset=utf-8";
		res->body = xstrdup(dash_js);
		return;
	}
	if (!get && !post) {
		answer_text(res, 405, "method not allowed: the dashboard takes GET "
		    "and POST");
		return;
	}
	if (post && !origin_ok(req)) {
		answer_text(res, 403, "a form from another site (its Origin is not "
		    "this dashboard's): refused");
		return;
	}
	if (strcmp(req->path, "/login") == 0) {
		if (post)
			do_login(ops, t, req, res, &b);
		else {
			render_login(&b, NULL);
			answer_html(res, 200, &b);
		}
		return;
	}
	memset(&a, 0, sizeof(a));
	if ((s = logged_in(ops, t, req->cookie, &a)) == NULL) {
		if (get && strcmp(req->path, "/") == 0)
			redirect(res, "/login");
		else
			answer_text(res, 401, "not logged in (or the session "
			    "ended): log in at /login with a token");
		return;
	}
	v.ops = ops;
	v.actor = &a;
	v.session = s;
	v.b = &b;
	if (post) {
		if (form_value(req->body, "csrf", csrf, sizeof(csrf)) < 0 ||
		    !session_csrf_ok(s, csrf)) {
			answer_text(res, 403, "the form's CSRF token is missing or "
			    "wrong: reload the dashboard and try again");
			return;
		}
		if (strcmp(req->path, "/logout") == 0) {
			session_close(t, req->cookie);
			snprintf(res->cookie, sizeof(res->cookie), DASH_COOKIE "=; "
			    "Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
			redirect(res, "/login");
			return;
		}
		do_action(&v, req, res);
		return;
	}
	if (strcmp(req->path, "/") == 0)
		render_page(&v);
	else if (strcmp(req->path, "/ui/main") == 0)
		render_main(&v);
	else {
		answer_text(res, 404, "no such dashboard page");
		return;
	}
	answer_html(res, 200, &b);
}

int
dash_cookie_actor(const struct daemon_ops *ops, struct sessions *t,
    const char *cookie, const char *method, const char *csrf_header,
    struct actor *a, struct err *e)
{
	const struct session *s;

	if ((s = logged_in(ops, t, cookie, a)) == NULL)
		return err_setk(e, ERR_INVALID, "the dashboard session ended: log "
		    "in again at /login");
	if (strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	    !session_csrf_ok(s, csrf_header)) {
		return err_setk(e, ERR_DENIED, "a dashboard request that changes "
		    "anything needs the session's CSRF token in the X-CSRF-Token "
		    "header");
	}
	return 0;
}
