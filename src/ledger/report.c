/*
 * An actor's report from the ledgers (ledger/report.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "ledger/evidence.h"
#include "ledger/report.h"
#include "ledger/tasks.h"

#define REPORT_ENTRIES	5000	/* evidence entries one report reads */

static int
is_deploy(const char *action)
{
	return action != NULL && (strncmp(action, "deploy.", 7) == 0 ||
	    strcmp(action, "secrets.deploy") == 0);
}

static int64_t
ms_of(const json_t *v)
{
	int64_t ms = 0;

	if (!json_is_string(v) || time_parse(json_string_value(v), 0, &ms) < 0)
		return 0;
	return ms;
}

/* The entries' final steps (not "requested"), oldest first, and their counts. */
static void
evidence_part(const json_t *entries, json_t *rep)
{
	json_t *actions = json_array(), *by_action = json_object();
	json_t *by_tool = json_object(), *deploys = json_array(), *ent, *row;
	size_t i;

	for (i = 0; i < json_array_size(entries); i++) {
		const char *action, *outcome;

		ent = json_array_get(entries, i);
		action = json_str(ent, "action");
		outcome = json_str(ent, "outcome");
		if (action == NULL || outcome == NULL ||
		    strcmp(outcome, "requested") == 0)
			continue;
		json_array_append_new(actions, json_pack("{s:O, s:O, s:O, s:O, "
		    "s:O, s:O, s:O, s:O}", "seq", json_object_get(ent, "seq"), "at",
		    json_object_get(ent, "at"), "action", json_object_get(ent,
		    "action"), "target", json_object_get(ent, "target"), "via",
		    json_object_get(ent, "via"), "outcome", json_object_get(ent,
		    "outcome"), "detail", json_object_get(ent, "detail"),
		    "approval", json_object_get(ent, "approval")));
		if ((row = json_object_get(by_action, action)) == NULL) {
			row = json_pack("{s:i}", "total", 0);
			json_object_set_new(by_action, action, row);
		}
		json_object_set_new(row, "total", json_integer(json_int(row,
		    "total", 0) + 1));
		json_object_set_new(row, outcome, json_integer(json_int(row,
		    outcome, 0) + 1));
		if (strcmp(action, "mcp.call") == 0 && json_str(ent, "target"))
			json_object_set_new(by_tool, json_str(ent, "target"),
			    json_integer(json_int(by_tool, json_str(ent,
			    "target"), 0) + 1));
		if (is_deploy(action))
			json_array_append(deploys, json_array_get(actions,
			    json_array_size(actions) - 1));
	}
	json_object_set_new(rep, "actions", actions);
	json_object_set_new(rep, "by_action", by_action);
	json_object_set_new(rep, "by_tool", by_tool);
	json_object_set_new(rep, "deploys", deploys);
}

/*
 * Incidents the actor touched: those it acknowledged in the window, and those that
 * opened in the window on an app it deployed to in it.
 */
static json_t *
incidents_part(const json_t *incidents, const char *actor, int64_t since,
    const json_t *deploys)
{
	json_t *out = json_array(), *inc, *d;
	size_t i, j;

	json_array_foreach(json_object_get(incidents, "incidents"), i, inc) {
		const char *how = NULL, *app = json_str(inc, "app");
		int64_t acked = ms_of(json_object_get(inc, "acked_at"));

		if (json_str(inc, "acked_by") != NULL && strcmp(json_str(inc,
		    "acked_by"), actor) == 0 && acked >= since)
			how = "acknowledged";
		else if (app != NULL && ms_of(json_object_get(inc, "opened_at")) >=
		    since)
			json_array_foreach(deploys, j, d)
				if (json_str(d, "target") != NULL &&
				    strcmp(json_str(d, "target"), app) == 0)
					how = "opened on an app it deployed";
		if (how == NULL)
			continue;
		json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:O, s:O, "
		    "s:O, s:O, s:s}", "id", json_object_get(inc, "id"), "title",
		    json_object_get(inc, "title"), "app", json_object_get(inc,
		    "app"), "severity", json_object_get(inc, "severity"), "state",
		    json_object_get(inc, "state"), "opened_at",
		    json_object_get(inc, "opened_at"), "acked_at",
		    json_object_get(inc, "acked_at"), "how", how));
	}
	return out;
}

/* The actor's tasks by status: working on (doing), blocked, next (todo). */
static void
tasks_part(struct store *s, const char *actor, int64_t now, json_t *rep,
    struct err *e)
{
	json_t *list = tasks_list(s, actor, NULL, NULL, now, e), *t;
	json_t *doing = json_array(), *blocked = json_array(), *next = json_array();
	size_t i;

	json_array_foreach(json_object_get(list, "tasks"), i, t) {
		const char *st = json_str(t, "status");

		if (strcmp(st, "doing") == 0)
			json_array_append(doing, t);
		else if (strcmp(st, "blocked") == 0)
			json_array_append(blocked, t);
		else if (strcmp(st, "todo") == 0)
			json_array_append(next, t);
	}
	json_object_set_new(rep, "working_on", doing);
	json_object_set_new(rep, "blockers", blocked);
	json_object_set_new(rep, "next", next);
	json_object_set(rep, "progress", list != NULL ?
	    json_object_get(list, "progress") : json_null());
	json_decref(list);
}

/*
 * How the actor's deploys ended: the daemon's deploy.receipt entries (actor
 * opsdeck) of the releases it deployed, each with the release's status.
 */
static json_t *
receipts_part(struct store *s, const char *actor, int64_t since, struct err *e)
{
	json_t *all = evidence_list(s, NULL, since, REPORT_ENTRIES, e), *ent;
	json_t *out = json_array();
	const json_t *args;
	size_t i;

	json_array_foreach(json_object_get(all, "entries"), i, ent) {
		args = json_object_get(ent, "args");
		if (json_str(ent, "action") == NULL ||
		    strcmp(json_str(ent, "action"), "deploy.receipt") != 0 ||
		    json_str(args, "deployed_by") == NULL ||
		    strcmp(json_str(args, "deployed_by"), actor) != 0)
			continue;
		json_array_append_new(out, json_pack("{s:O, s:O, s:O, s:O, s:O, "
		    "s:O}", "seq", json_object_get(ent, "seq"), "at",
		    json_object_get(ent, "at"), "target", json_object_get(ent,
		    "target"), "status", json_object_get(args, "status"), "outcome",
		    json_object_get(ent, "outcome"), "detail", json_object_get(ent,
		    "detail")));
	}
	json_decref(all);
	return out;
}

json_t *
report_build(struct store *s, const char *actor, int64_t since,
    int64_t now, const json_t *incidents, struct err *e)
{
	json_t *ev, *rep, *moves;
	char from[32], to[32];

	if (!name_valid(actor))
		return err_setk(e, ERR_INVALID, "actor '%.64s': give an actor's "
		    "name", actor ? actor : ""), NULL;
	if ((ev = evidence_list(s, actor, since, REPORT_ENTRIES, e)) == NULL)
		return NULL;
	if ((moves = tasks_moves(s, actor, since, e)) == NULL) {
		json_decref(ev);
		return NULL;
	}
	format_time(since, from);
	format_time(now, to);
	rep = json_pack("{s:s, s:s, s:s, s:O, s:o}", "actor", actor, "since",
	    from, "until", to, "key", json_object_get(ev, "key"), "moves", moves);
	evidence_part(json_object_get(ev, "entries"), rep);
	json_object_set_new(rep, "receipts", receipts_part(s, actor, since, e));
	json_object_set_new(rep, "incidents", incidents_part(incidents, actor,
	    since, json_object_get(rep, "deploys")));
	tasks_part(s, actor, now, rep, e);
	json_decref(ev);
	return rep;
}

/* ---- markdown ---- */

/* A string of the report, or "?": the CLI renders what a daemon sent. */
static const char *
jt(const json_t *o, const char *key)
{
	const char *s = json_str(o, key);

	return s != NULL ? s : "?";
}

/* A time spent or estimated, to the minute: "45m", "3h05m". */
static void
minutes(int64_t ms, char out[32])
{
	long long m = (long long)((ms + 30000) / 60000);

	if (m >= 60)
		snprintf(out, 32, "%lldh%02lldm", m / 60, m % 60);
	else
		snprintf(out, 32, "%lldm", m);
}

/* "HH:MM:SSZ" of an ISO time, the day being the report's heading. */
static const char *
clock_of(const json_t *v, char out[16])
{
	const char *s = json_string_value(v), *t;

	if (s == NULL || (t = strchr(s, 'T')) == NULL || strlen(t) < 9)
		return "?";
	snprintf(out, 16, "%.8sZ", t + 1);
	return out;
}

static void
task_line(struct buf *b, const json_t *t)
{
	char act[32], est[32];
	int has_est = json_is_integer(json_object_get(t, "estimate_ms"));

	minutes(json_int(t, "actual_ms", 0), act);
	minutes(json_int(t, "estimate_ms", 0), est);
	buf_printf(b, "- %s %s", jt(t, "id"), jt(t, "title"));
	if (json_str(t, "direction"))
		buf_printf(b, " (%s)", jt(t, "direction"));
	if (json_int(t, "actual_ms", 0) == 0 && strcmp(jt(t, "status"),
	    "todo") == 0)
		buf_printf(b, "%s%s%s", has_est ? ": " : "", has_est ? est : "",
		    has_est ? " estimated" : "");
	else
		buf_printf(b, ": %s spent%s%s%s", act, has_est ? " of " : "",
		    has_est ? est : "", has_est ? " estimated" : "");
}

void
report_progress(struct buf *b, const json_t *rows, const char *key,
    const char *bullet)
{
	const json_t *r, *bl;
	size_t i, j;
	char est[32], act[32];

	json_array_foreach(rows, i, r) {
		minutes(json_int(r, "estimate_ms", 0), est);
		minutes(json_int(r, "actual_ms", 0), act);
		buf_printf(b, "%s%s %s: %lld/%lld done (%.1f %%), %lld doing, %lld "
		    "blocked, %lld to do; %s spent of %s estimated\n", bullet, key,
		    jt(r, key), json_int(r, "done", 0), json_int(r, "total", 0),
		    json_real_value(json_object_get(r, "percent")), json_int(r,
		    "doing", 0), json_int(r, "blocked", 0), json_int(r, "todo", 0),
		    act, est);
		json_array_foreach(json_object_get(r, "blocked_on"), j, bl)
			buf_printf(b, "  %s%s blocked on %s: %s\n", bullet, jt(bl,
			    "task"), jt(bl, "on"), jt(bl, "reason"));
	}
}

/* A table cell after the row's last "|": " s |", s cut at max bytes and kept to
 * one line without '|'. */
static void
cell(struct buf *b, const char *s, size_t max)
{
	size_t i;

	buf_addch(b, ' ');
	for (i = 0; s != NULL && s[i] != '\0' && i < max; i++)
		buf_addch(b, s[i] == '|' ? '/' : (s[i] == '\n' || s[i] == '\r') ?
		    ' ' : s[i]);
	if (s != NULL && strlen(s) > max)
		buf_addstr(b, "...");
	buf_addstr(b, " |");
}

static void
section(struct buf *b, const char *title, size_t n)
{
	buf_printf(b, "\n## %s\n\n", title);
	if (n == 0)
		buf_addstr(b, "None.\n");
}

char *
report_markdown(const json_t *rep)
{
	struct buf b;
	const json_t *v, *arr, *prog = json_object_get(rep, "progress");
	const char *name;
	size_t i, n;
	char hm[16];

	buf_init(&b, 0);
	buf_printf(&b, "# Report: %s, %s to %s\n\n", jt(rep, "actor"),
	    jt(rep, "since"), jt(rep, "until"));
	buf_printf(&b, "Written by opsdeck from the evidence ledger (key %s) and "
	    "the work ledger; each line names its evidence seq or task move. "
	    "Times are UTC.\n", jt(rep, "key"));

	arr = json_object_get(rep, "working_on");
	section(&b, "Working on", json_array_size(arr));
	json_array_foreach(arr, i, v) {
		task_line(&b, v);
		buf_printf(&b, "; doing since %s\n", json_str(v, "started_at") ?
		    jt(v, "started_at") : "?");
	}

	arr = json_object_get(rep, "moves");
	n = json_array_size(arr) + json_array_size(json_object_get(prog,
	    "directions"));
	section(&b, "Progress", n);
	json_array_foreach(arr, i, v) {
		buf_printf(&b, "- %s %s %s: %s → %s", clock_of(json_object_get(v,
		    "at"), hm), jt(v, "task"), jt(v, "title"),
		    json_str(v, "from") ? jt(v, "from") : "new",
		    jt(v, "to"));
		if (json_str(v, "on"))
			buf_printf(&b, " on %s (%s)", jt(v, "on"), json_str(v,
			    "reason"));
		buf_addch(&b, '\n');
	}
	if (json_array_size(arr) > 0 && n > json_array_size(arr))
		buf_addch(&b, '\n');
	report_progress(&b, json_object_get(prog, "directions"), "direction",
	    "- ");

	arr = json_object_get(rep, "actions");
	section(&b, "Evidence", json_array_size(arr));
	if (json_array_size(arr) > 0)
		buf_addstr(&b, "| seq | time | action | target | via | outcome | "
		    "detail |\n|---:|---|---|---|---|---|---|\n");
	json_array_foreach(arr, i, v) {
		buf_printf(&b, "| %lld | %s |", json_int(v, "seq", 0),
		    clock_of(json_object_get(v, "at"), hm));
		cell(&b, jt(v, "action"), 64);
		cell(&b, jt(v, "target"), 80);
		cell(&b, jt(v, "via"), 16);
		cell(&b, jt(v, "outcome"), 16);
		/* why it failed or waits; an ok step's detail is in the ledger */
		cell(&b, strcmp(jt(v, "outcome"), "ok") != 0 ? json_str(v,
		    "detail") : NULL, 160);
		buf_addch(&b, '\n');
	}
	if (json_object_size(json_object_get(rep, "by_action")) > 0) {
		buf_addstr(&b, "\nPer action:");
		i = 0;
		json_object_foreach(json_object_get(rep, "by_action"), name, v) {
			const char *k;
			const json_t *c;
			int first = 1;

			buf_printf(&b, "%s %s %lld (", i++ ? ";" : "", name,
			    json_int(v, "total", 0));
			json_object_foreach((json_t *)v, k, c) {
				if (strcmp(k, "total") == 0)
					continue;
				buf_printf(&b, "%s%s %lld", first ? "" : ", ", k,
				    (long long)json_integer_value(c));
				first = 0;
			}
			buf_addch(&b, ')');
		}
		buf_addstr(&b, ".\n");
	}
	if (json_object_size(json_object_get(rep, "by_tool")) > 0) {
		buf_addstr(&b, "\nPer MCP tool:");
		i = 0;
		json_object_foreach(json_object_get(rep, "by_tool"), name, v)
			buf_printf(&b, "%s %s %lld", i++ ? "," : "", name,
			    (long long)json_integer_value(v));
		buf_addstr(&b, ".\n");
	}

	arr = json_object_get(rep, "deploys");
	section(&b, "Deploys", json_array_size(arr) + json_array_size(
	    json_object_get(rep, "receipts")));
	json_array_foreach(arr, i, v) {
		buf_printf(&b, "- seq %lld, %s: %s of %s: %s", json_int(v, "seq", 0),
		    clock_of(json_object_get(v, "at"), hm), jt(v, "action"),
		    jt(v, "target"), jt(v, "outcome"));
		if (json_int(v, "approval", 0) > 0)
			buf_printf(&b, " (approval #%lld)", json_int(v, "approval",
			    0));
		if (json_str(v, "detail") && *jt(v, "detail"))
			buf_printf(&b, ": %s", jt(v, "detail"));
		buf_addch(&b, '\n');
	}

	json_array_foreach(json_object_get(rep, "receipts"), i, v) {
		buf_printf(&b, "- seq %lld, %s: %s ended %s", json_int(v, "seq", 0),
		    clock_of(json_object_get(v, "at"), hm), jt(v, "target"),
		    json_str(v, "status") ? jt(v, "status") : "?");
		if (json_str(v, "detail") && *jt(v, "detail"))
			buf_printf(&b, ": %s", jt(v, "detail"));
		buf_addstr(&b, " (the daemon's receipt)\n");
	}

	arr = json_object_get(rep, "incidents");
	section(&b, "Incidents", json_array_size(arr));
	json_array_foreach(arr, i, v)
		buf_printf(&b, "- #%lld %s (%s, %s): %s; %s\n", json_int(v, "id", 0),
		    jt(v, "title"), jt(v, "severity"), json_str(v,
		    "app") ? jt(v, "app") : "no app", jt(v, "state"),
		    jt(v, "how"));

	arr = json_object_get(rep, "blockers");
	section(&b, "Blockers", json_array_size(arr));
	json_array_foreach(arr, i, v)
		buf_printf(&b, "- %s %s: blocked on %s: %s\n", jt(v, "id"),
		    jt(v, "title"), jt(v, "blocked_on"), json_str(v,
		    "reason"));

	arr = json_object_get(rep, "next");
	section(&b, "Next", json_array_size(arr));
	json_array_foreach(arr, i, v) {
		task_line(&b, v);
		buf_addch(&b, '\n');
	}
	return buf_detach(&b);
}
