#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/json.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "ledger/report.h"
#include "mcp/tools.h"
#include "runtime/ops.h"

/* The schemas' recurring parts, as JSON text. */
#define S_APP	"\"app\": {\"type\": \"string\", \"minLength\": 1, \"maxLength\": 63, " \
		"\"description\": \"an app of the fleet, as status lists them\"}"
#define S_MACHINE "\"machine\": {\"type\": \"string\", \"minLength\": 1, " \
		"\"maxLength\": 64, \"description\": \"a machine id, as machines lists them\"}"
#define S_TASK	"\"id\": {\"type\": \"string\", \"minLength\": 3, \"maxLength\": 31, " \
		"\"description\": \"a task id of the work ledger, e.g. DEVOPS-014\"}"
#define S_NOTE	"\"note\": {\"type\": \"string\", \"maxLength\": 1024}"
#define OBJ(props, req) "{\"type\": \"object\", \"properties\": {" props "}, " \
		"\"required\": [" req "], \"additionalProperties\": false}"

/* ---- reads ---- */

static json_t *
tool_status(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	char *text;
	json_t *out;

	(void)a;
	if (json_str(args, "app") != NULL)
		return ops->status_json(ops->d, json_str(args, "app"), e);
	/* The whole fleet: the API's kept answer, not one built anew per call. */
	text = ops->apps_text(ops->d);
	out = json_loads(text, 0, NULL);
	free(text);
	if (out == NULL)
		err_set(e, "the fleet's status is not JSON: a bug");
	return out;
}

static json_t *
tool_machines(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	(void)a;
	return ops->machines_json(ops->d, json_str(args, "app"), e);
}

static json_t *
tool_releases(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	(void)a;
	return ops->releases(ops->d, json_str(args, "app"), e);
}

static json_t *
tool_release(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	char v[32];

	(void)a;
	snprintf(v, sizeof(v), "v%lld", json_int(args, "version", 0));
	return ops->release(ops->d, json_str(args, "app"), v, e);
}

static json_t *
tool_secrets_list(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	(void)a;
	return ops->secrets_list(ops->d, json_str(args, "app"), e);
}

static json_t *
tool_checks(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	(void)a;
	(void)args;
	(void)e;
	return ops->checks_json(ops->d);
}

static json_t *
tool_incidents(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	(void)a;
	(void)e;
	return ops->incidents_json(ops->d, json_is_true(json_object_get(args,
	    "all")));
}

static json_t *
tool_heartbeats(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	(void)a;
	(void)args;
	(void)e;
	return ops->heartbeats_json(ops->d);
}

static json_t *
tool_route_metrics(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	(void)a;
	return ops->metrics_json(ops->d, json_str(args, "app"),
	    json_int(args, "window", 60) * 1000, e);
}

static json_t *
tool_approvals(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	(void)a;
	return ops->approvals_json(ops->d, json_is_true(json_object_get(args,
	    "all")), e);
}

static json_t *
tool_evidence(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	(void)a;
	return ops->evidence_json(ops->d, json_str(args, "actor"), 0,
	    (int)json_int(args, "limit", 50), e);
}

static json_t *
tool_approval(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	(void)a;
	return ops->approval_json(ops->d, json_int(args, "id", 0), e);
}

static json_t *
tool_logs(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	(void)a;
	return ops->logs_json(ops->d, json_str(args, "app"), json_str(args,
	    "machine"), (long)json_int(args, "lines", 100), e);
}

/*
 * The migration reads run the caller's files (a dry run: as SQL on a database it
 * names), so they are an agent's or above, not a viewer's.
 */
static json_t *
migrate_read(const struct daemon_ops *ops, const struct actor *a,
    const char *kind, const json_t *args, struct err *e)
{
	if (a->role < ROLE_AGENT)
		return err_setk(e, ERR_DENIED, "%s '%s' may not run migrate %s over "
		    "MCP (needs role agent)", role_str(a->role), a->name, kind),
		    NULL;
	return ops->migrate_read(ops->d, kind, args, e);
}

static json_t *
tool_migrate_lint(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	return migrate_read(ops, a, "lint", args, e);
}

static json_t *
tool_tasks(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	(void)a;
	return ops->tasks_json(ops->d, json_str(args, "owner"), json_str(args,
	    "direction"), json_str(args, "status"), e);
}

static json_t *
tool_task(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	(void)a;
	return ops->task_json(ops->d, json_str(args, "id"), e);
}

/* The report and, for the text rendering, its markdown. */
static json_t *
tool_report(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	const char *actor = json_str(args, "actor");
	int64_t since = wall_ms() - json_int(args, "hours", 24) * 3600 * 1000;
	json_t *out;
	char *md;

	if ((out = ops->report_json(ops->d, actor ? actor : a->name, since,
	    e)) == NULL)
		return NULL;
	md = report_markdown(out);
	json_object_set_new(out, "markdown", json_string(md));
	free(md);
	return out;
}

static json_t *
tool_migrate_dryrun(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	return migrate_read(ops, a, "dryrun", args, e);
}

static json_t *
tool_migrate_status(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	return migrate_read(ops, a, "status", args, e);
}

static json_t *
tool_migrate_result(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	(void)a;
	return ops->migrate_read_job(ops->d, json_int(args, "id", 0), e);
}

/* ---- actions: each operation passes the gate itself ---- */

static json_t *
task_do(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, const char *move, struct err *e)
{
	json_t *body = json_deep_copy(args), *out;

	json_object_del(body, "id");
	out = ops->task_move(ops->d, a, json_str(args, "id"), move, body, e);
	json_decref(body);
	return out;
}

static json_t *
tool_task_start(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	return task_do(ops, a, args, "start", e);
}

static json_t *
tool_task_block(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	return task_do(ops, a, args, "block", e);
}

static json_t *
tool_task_done(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	return task_do(ops, a, args, "done", e);
}

static json_t *
tool_task_add(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	return ops->task_add(ops->d, a, args, e);
}

static json_t *
tool_deploy(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	json_t *body = json_deep_copy(args), *out;

	json_object_del(body, "app");
	out = ops->deploy(ops->d, a, json_str(args, "app"), body, e);
	json_decref(body);
	return out;
}

static json_t *
tool_rollback(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	json_t *body = json_pack("{s:I}", "version",
	    (json_int_t)json_int(args, "version", 0)), *out;

	out = ops->rollback(ops->d, a, json_str(args, "app"), body, e);
	json_decref(body);
	return out;
}

static json_t *
tool_promote(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	json_t *body = json_deep_copy(args), *out;

	json_object_del(body, "app");
	out = ops->promote(ops->d, a, json_str(args, "app"), body, e);
	json_decref(body);
	return out;
}

static json_t *
machine_do(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, const char *action, struct err *e)
{
	const char *id = json_str(args, "machine");
	json_t *m;

	if (ops->machine_action(ops->d, a, id, action, e) < 0)
		return NULL;
	m = ops->machine_json(ops->d, id);
	return json_pack("{s:s, s:s, s:o}", "machine", id, "action", action,
	    "now", m != NULL ? m : json_null());
}

static json_t *
tool_machine_start(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	return machine_do(ops, a, args, "start", e);
}

static json_t *
tool_machine_stop(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	return machine_do(ops, a, args, "stop", e);
}

static json_t *
tool_machine_restart(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	return machine_do(ops, a, args, "restart", e);
}

static json_t *
tool_secrets_set(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	json_t *body = json_pack("{s:O}", "set", json_object_get(args, "values"));
	json_t *out = ops->secrets_change(ops->d, a, json_str(args, "app"), body,
	    e);

	json_decref(body);
	return out;
}

static json_t *
tool_secrets_unset(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	json_t *body = json_pack("{s:O}", "unset", json_object_get(args,
	    "names"));
	json_t *out = ops->secrets_change(ops->d, a, json_str(args, "app"), body,
	    e);

	json_decref(body);
	return out;
}

static json_t *
tool_secrets_deploy(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	return ops->secrets_deploy(ops->d, a, json_str(args, "app"), e);
}

static json_t *
tool_incident_ack(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	int64_t id = json_int(args, "id", 0);

	if (ops->incident_ack(ops->d, a, id, e) < 0)
		return NULL;
	return json_pack("{s:I, s:b}", "incident", (json_int_t)id, "acked", 1);
}

static json_t *
tool_heartbeat_ping(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	json_t *body = json_deep_copy(args), *out;

	json_object_del(body, "name");
	out = ops->heartbeat_ping(ops->d, a, json_str(args, "name"), body, e);
	json_decref(body);
	return out;
}

static json_t *
tool_migrate_apply(const struct daemon_ops *ops, const struct actor *a,
    const json_t *args, struct err *e)
{
	return ops->migrate_apply(ops->d, a, args, e);
}

static const struct mcp_tool tools[] = {
	{ "status", "Fleet status", "Each app with its live release, its "
	    "machines and their health. Give app for one.",
	    OBJ(S_APP, ""), true, false, true, tool_status },
	{ "machines", "Machines", "Every supervised process: app, process, "
	    "state, pid, port, restarts, health. Give app for one app's.",
	    OBJ(S_APP, ""), true, false, true, tool_machines },
	{ "releases", "Releases of an app", "An app's releases, newest first: "
	    "version, status (live, previous, failed, rolled back), artifact "
	    "digest, actor, time.", OBJ(S_APP, "\"app\""), true, false, true,
	    tool_releases },
	{ "release", "One release", "One release with its timeline (build, "
	    "start, health, smoke, cutover, watch) and why it ended as it did.",
	    OBJ(S_APP ", \"version\": {\"type\": \"integer\", \"minimum\": 1, "
	    "\"description\": \"the release number: 3 for v3\"}",
	    "\"app\", \"version\""), true, false, true, tool_release },
	{ "deploy", "Deploy", "Deploy a new release of app from an artifact "
	    "already imported (its SHA-256 digest, as `opsdeck deploy` and "
	    "releases show it), health-gated, blue/green. On production an "
	    "agent's deploy waits for an approval: the answer is "
	    "approval_pending.",
	    OBJ(S_APP ", \"artifact\": {\"type\": \"string\", \"minLength\": 64, "
	    "\"maxLength\": 64, \"description\": \"the artifact's SHA-256, "
	    "64 hex digits\"}, \"message\": {\"type\": \"string\", \"maxLength\": "
	    "1024}, \"canary\": {\"type\": \"integer\", \"minimum\": 0, "
	    "\"maximum\": 100, \"description\": \"percent of traffic to the new "
	    "release first; 0: none\"}", "\"app\", \"artifact\""),
	    false, true, false, tool_deploy },
	{ "rollback", "Roll back", "Make an earlier release of app live again "
	    "(health-gated); without version, the one before the live one.",
	    OBJ(S_APP ", \"version\": {\"type\": \"integer\", \"minimum\": 1}",
	    "\"app\""), false, true, false, tool_rollback },
	{ "promote", "Promote", "Deploy the artifact live on stage from to the "
	    "app of stage to, by digest (no rebuild), after a smoke check of "
	    "the source.", OBJ(S_APP ", \"from\": {\"type\": \"string\", "
	    "\"minLength\": 1}, \"to\": {\"type\": \"string\", \"minLength\": 1}, "
	    "\"message\": {\"type\": \"string\", \"maxLength\": 1024}",
	    "\"app\", \"from\", \"to\""), false, true, false, tool_promote },
	{ "machine_start", "Start a machine", "Start a stopped or failed "
	    "machine.", OBJ(S_MACHINE, "\"machine\""), false, false, true,
	    tool_machine_start },
	{ "machine_stop", "Stop a machine", "Stop a machine (SIGTERM, then "
	    "SIGKILL after its grace).", OBJ(S_MACHINE, "\"machine\""), false,
	    true, true, tool_machine_stop },
	{ "machine_restart", "Restart a machine", "Stop and start a machine.",
	    OBJ(S_MACHINE, "\"machine\""), false, true, false,
	    tool_machine_restart },
	{ "secrets_list", "Secrets of an app", "The names of app's secrets, "
	    "live and staged, with their versions; never a value.",
	    OBJ(S_APP, "\"app\""), true, false, true, tool_secrets_list },
	{ "secrets_set", "Stage secrets", "Stage secret values for app; they "
	    "go live with secrets_deploy or the next deploy.",
	    OBJ(S_APP ", \"values\": {\"type\": \"object\", "
	    "\"additionalProperties\": {\"type\": \"string\"}, \"description\": "
	    "\"NAME: value\"}", "\"app\", \"values\""), false, false, true,
	    tool_secrets_set },
	{ "secrets_unset", "Stage secret removals", "Stage the removal of "
	    "secrets of app.", OBJ(S_APP ", \"names\": {\"type\": \"array\", "
	    "\"items\": {\"type\": \"string\"}}", "\"app\", \"names\""), false,
	    true, true, tool_secrets_unset },
	{ "secrets_deploy", "Deploy staged secrets", "A new release of app "
	    "with its live artifact and the staged secrets.",
	    OBJ(S_APP, "\"app\""), false, true, false, tool_secrets_deploy },
	{ "checks", "Checks", "HTTP and TCP checks with their state and last "
	    "result.", OBJ("", ""), true, false, true, tool_checks },
	{ "incidents", "Incidents", "Open incidents (all: closed ones too).",
	    OBJ("\"all\": {\"type\": \"boolean\"}", ""), true, false, true,
	    tool_incidents },
	{ "incident_ack", "Acknowledge an incident", "Acknowledge an open "
	    "incident: reminders stop.", OBJ("\"id\": {\"type\": \"integer\", "
	    "\"minimum\": 1}", "\"id\""), false, false, true, tool_incident_ack },
	{ "heartbeats", "Heartbeats", "Heartbeats with their state, last ping, "
	    "and an agent's reported status and task.", OBJ("", ""), true,
	    false, true, tool_heartbeats },
	{ "heartbeat_ping", "Ping a heartbeat", "Report a run (signal success, "
	    "start or fail), or an agent's status (doing or done) with a "
	    "message.", OBJ("\"name\": {\"type\": \"string\", \"minLength\": 1}, "
	    "\"signal\": {\"type\": \"string\", \"enum\": [\"success\", \"start\", "
	    "\"fail\"]}, \"status\": {\"type\": \"string\", \"enum\": [\"doing\", "
	    "\"done\"]}, \"exit_code\": {\"type\": \"integer\", \"minimum\": 0, "
	    "\"maximum\": 255}, \"message\": {\"type\": \"string\", "
	    "\"maxLength\": 1024}", "\"name\""), false, false, false,
	    tool_heartbeat_ping },
	{ "route_metrics", "Route latency", "Requests, errors and p50/p95/p99 "
	    "per app, release and route over the last window seconds.",
	    OBJ(S_APP ", \"window\": {\"type\": \"integer\", \"minimum\": 1, "
	    "\"maximum\": 3600}", ""), true, false, true, tool_route_metrics },
	{ "approvals", "Approvals", "Requests waiting for an approval (all: "
	    "decided ones too): action, target, digest, requester, expiry.",
	    OBJ("\"all\": {\"type\": \"boolean\"}", ""), true, false, true,
	    tool_approvals },
	{ "evidence", "Evidence", "The newest evidence entries (of actor, when "
	    "given): who did what, through what, and how it ended.",
	    OBJ("\"actor\": {\"type\": \"string\", \"minLength\": 1}, \"limit\": "
	    "{\"type\": \"integer\", \"minimum\": 1, \"maximum\": 1000}", ""),
	    true, false, true, tool_evidence },
	{ "migrate_apply", "Apply migrations", "Apply the migration files in "
	    "path (absolute) to the database at db. An agent's apply, and any "
	    "under an approvals: rule, waits for an approval "
	    "(approval_pending); the files are bound by their SHA-256.",
	    OBJ("\"path\": {\"type\": \"string\", \"minLength\": 2}, \"db\": "
	    "{\"type\": \"string\", \"minLength\": 1}, \"override\": {\"type\": "
	    "\"string\", \"minLength\": 1}", "\"path\", \"db\""), false, true,
	    false, tool_migrate_apply },
	{ "migrate_lint", "Lint migrations", "Check the SQL migration files at "
	    "path (absolute: a .sql file or a directory of them) with "
	    "PostgreSQL's own parser for locks, rewrites and data loss, with "
	    "the config's migrate: options. Runs in the background: the answer "
	    "is its id; read the report with migrate_result (result 1: a "
	    "finding at or above the config's fail_on).", OBJ("\"path\": {\"type\": \"string\", "
	    "\"minLength\": 2}", "\"path\""), true, false, true,
	    tool_migrate_lint },
	{ "migrate_dryrun", "Dry-run a migration", "Run one migration file "
	    "(path, absolute) on the database at db inside a transaction that "
	    "is rolled back, and report each statement's locks, rewrites and "
	    "time. Runs in the background: the answer is its id; read the "
	    "report with migrate_result.", OBJ("\"path\": {\"type\": "
	    "\"string\", \"minLength\": 2}, \"db\": {\"type\": \"string\", "
	    "\"minLength\": 1}", "\"path\", \"db\""), true, false, true,
	    tool_migrate_dryrun },
	{ "migrate_status", "Migration status", "Which migration files at "
	    "path (absolute) are applied to the database at db, pending, or "
	    "changed since they were applied. Runs in the background: the "
	    "answer is its id; read it with migrate_result.",
	    OBJ("\"path\": {\"type\": \"string\", \"minLength\": 2}, "
	    "\"db\": {\"type\": \"string\", \"minLength\": 1}",
	    "\"path\", \"db\""), true, false, true, tool_migrate_status },
	{ "migrate_result", "Lint, dry-run or status result", "A migrate_lint's, "
	    "migrate_dryrun's or migrate_status's state (running, done) and, once done, result (0 "
	    "ok, 1 findings, -1 failed), report and error.",
	    OBJ("\"id\": {\"type\": \"integer\", \"minimum\": 1}", "\"id\""),
	    true, false, true, tool_migrate_result },
	{ "approval", "One approval", "One approval request by id: its action, "
	    "target, state (pending, approved, denied, expired, ran, failed), "
	    "who decided and the result. Requests are made by calling the "
	    "action (deploy, migrate_apply, ...): one that needs approval "
	    "answers approval_pending with the id to watch here.",
	    OBJ("\"id\": {\"type\": \"integer\", \"minimum\": 1}", "\"id\""),
	    true, false, true, tool_approval },
	{ "logs", "Logs", "The last lines of app's machine logs, merged by "
	    "time (one machine's, when given).", OBJ(S_APP ", \"machine\": "
	    "{\"type\": \"string\", \"minLength\": 1, \"maxLength\": 64}, "
	    "\"lines\": {\"type\": \"integer\", \"minimum\": 1, "
	    "\"maximum\": 1000}", "\"app\""), true, false, true, tool_logs },
	{ "tasks", "Tasks", "The work ledger's tasks (of owner, direction or "
	    "status, when given) with progress per direction and owner: done of "
	    "total, what is blocked on whom, estimate against actual time.",
	    OBJ("\"owner\": {\"type\": \"string\", \"minLength\": 1}, "
	    "\"direction\": {\"type\": \"string\", \"minLength\": 1}, "
	    "\"status\": {\"type\": \"string\", \"enum\": [\"todo\", "
	    "\"doing\", \"blocked\", \"done\"]}", ""), true, false, true,
	    tool_tasks },
	{ "task", "One task", "One task with its status history: who moved it "
	    "when.", OBJ(S_TASK, "\"id\""), true, false, true, tool_task },
	{ "task_add", "Add a task", "Add a task to the work ledger (an agent: "
	    "owned by itself).", OBJ(S_TASK ", \"title\": {\"type\": "
	    "\"string\", \"minLength\": 1, \"maxLength\": 200}, \"owner\": "
	    "{\"type\": \"string\", \"minLength\": 1}, \"direction\": "
	    "{\"type\": \"string\", \"minLength\": 1, \"maxLength\": 32}, "
	    "\"estimate\": {\"type\": \"string\", \"minLength\": 2, "
	    "\"description\": \"a duration: 45m, 2h\"}", "\"id\", \"title\""),
	    false, false, false, tool_task_add },
	{ "task_start", "Start a task", "Start one of your tasks (or resume a "
	    "blocked one): its time counts from now.", OBJ(S_TASK ", " S_NOTE,
	    "\"id\""), false, false, false, tool_task_start },
	{ "task_block", "Block a task", "Mark one of your tasks blocked on a "
	    "task or an actor (e.g. manager), saying why.", OBJ(S_TASK ", "
	    "\"on\": {\"type\": \"string\", \"minLength\": 1, "
	    "\"description\": \"the task id or actor it waits for\"}, "
	    "\"reason\": {\"type\": \"string\", \"minLength\": 1, "
	    "\"maxLength\": 1024}", "\"id\", \"on\", \"reason\""), false, false,
	    true, tool_task_block },
	{ "task_done", "Finish a task", "Mark one of your tasks done.",
	    OBJ(S_TASK ", " S_NOTE, "\"id\""), false, false, false,
	    tool_task_done },
	{ "report", "Report", "An actor's report (yours, without actor) over the "
	    "last hours (default 24), written from the evidence and work "
	    "ledgers: working on, tasks moved, actions with evidence seq, "
	    "counts per action and MCP tool, deploys, incidents, blockers, "
	    "next. The text is its markdown.", OBJ("\"actor\": {\"type\": "
	    "\"string\", \"minLength\": 1}, \"hours\": {\"type\": "
	    "\"integer\", \"minimum\": 1, \"maximum\": 8760}", ""), true,
	    false, true, tool_report },
};

/*
 * A database URL as evidence: its scheme and host only, no user, password,
 * database or options (the URL may hold a password); key=value conninfo as a word.
 */
static json_t *
db_recorded(const char *url)
{
	const char *p = strstr(url, "://"), *end, *at;

	if (p == NULL)
		return json_string("(conninfo, not recorded)");
	p += 3;
	/* the user and password end at the last '@' before the path's '/' (a
	 * password may hold '?'); the host at '/' or '?' */
	end = p + strcspn(p, "/");
	at = memrchr(p, '@', (size_t)(end - p));
	if (at != NULL)
		p = at + 1;
	end = p + strcspn(p, "/?");
	return json_sprintf("%.*s%.*s", (int)(strstr(url, "://") + 3 - url), url,
	    (int)(end - p), p);
}

json_t *
mcp_args_recorded(const struct mcp_tool *t, const json_t *args)
{
	json_t *out = json_deep_copy(args), *names;
	const char *name;
	json_t *v;

	/* a database URL's password is never evidence */
	if (json_str(args, "db") != NULL)
		json_object_set_new(out, "db", db_recorded(json_str(args, "db")));

	/* secret values are never evidence: their names are */
	if (strcmp(t->name, "secrets_set") == 0) {
		names = json_array();
		json_object_foreach(json_object_get(args, "values"), name, v)
			json_array_append_new(names, json_string(name));
		json_object_set_new(out, "values", names);
	}
	return out;
}

const struct mcp_tool *
mcp_tools(size_t *n)
{
	*n = sizeof(tools) / sizeof(tools[0]);
	return tools;
}

const struct mcp_tool *
mcp_tool_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(tools) / sizeof(tools[0]); i++)
		if (strcmp(tools[i].name, name) == 0)
			return &tools[i];
	return NULL;
}

/* ---- the arguments' schema check ---- */

static const char *
type_of(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "an array";
	case JSON_STRING:
		return "a string";
	case JSON_INTEGER:
		return "an integer";
	case JSON_REAL:
		return "a number";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	default:
		return "null";
	}
}

static bool
type_is(const json_t *v, const char *type)
{
	if (strcmp(type, "object") == 0)
		return json_is_object(v);
	if (strcmp(type, "array") == 0)
		return json_is_array(v);
	if (strcmp(type, "string") == 0)
		return json_is_string(v);
	if (strcmp(type, "integer") == 0)
		return json_is_integer(v);
	if (strcmp(type, "boolean") == 0)
		return json_is_boolean(v);
	return false;
}

static int
check(const json_t *schema, const json_t *v, const char *path, char *field,
    size_t fieldsz, struct err *e)
{
	const char *type = json_str(schema, "type"), *key;
	const json_t *props = json_object_get(schema, "properties"), *sub, *req;
	const json_t *extra = json_object_get(schema, "additionalProperties");
	const json_t *en = json_object_get(schema, "enum");
	char *kp;
	size_t i;
	int r;

	snprintf(field, fieldsz, "%s", path);
	if (type != NULL && !type_is(v, type))
		return err_setk(e, ERR_INVALID, "argument '%s' must be %s%s, got "
		    "%s", path[0] != '\0' ? path : "arguments", strcmp(type,
		    "integer") == 0 ? "an " : "a", strcmp(type, "integer") == 0 ?
		    "integer" : type, type_of(v));
	if (json_is_string(v)) {
		size_t len = json_string_length(v);

		if (len < (size_t)json_int(schema, "minLength", 0) ||
		    len > (size_t)json_int(schema, "maxLength", 1 << 20))
			return err_setk(e, ERR_INVALID, "argument '%s' must be "
			    "%lld to %lld characters long, got %zu", path,
			    json_int(schema, "minLength", 0),
			    json_int(schema, "maxLength", 1 << 20), len);
		if (strlen(json_string_value(v)) != len)
			return err_setk(e, ERR_INVALID, "argument '%s' holds a NUL "
			    "character", path);
	}
	if (json_is_integer(v) && ((json_object_get(schema, "minimum") &&
	    json_integer_value(v) < json_int(schema, "minimum", 0)) ||
	    (json_object_get(schema, "maximum") &&
	    json_integer_value(v) > json_int(schema, "maximum", 0))))
		return err_setk(e, ERR_INVALID, "argument '%s' is %lld: give "
		    "%lld..%lld", path, (long long)json_integer_value(v),
		    json_int(schema, "minimum", 0), json_int(schema, "maximum",
		    (long long)1 << 62));
	if (en != NULL) {
		for (i = 0; i < json_array_size(en); i++)
			if (json_equal(json_array_get(en, i), (json_t *)v))
				break;
		if (i == json_array_size(en)) {
			char *list = json_dumps(en, JSON_COMPACT);

			r = err_setk(e, ERR_INVALID, "argument '%s' must be one of "
			    "%s", path, list);
			free(list);
			return r;
		}
	}
	if (json_is_array(v) && (sub = json_object_get(schema, "items")) != NULL)
		for (i = 0; i < json_array_size(v); i++) {
			kp = xasprintf("%s[%zu]", path, i);
			r = check(sub, json_array_get(v, i), kp, field, fieldsz, e);
			free(kp);
			if (r < 0)
				return -1;
		}
	if (!json_is_object(v))
		return 0;
	json_array_foreach(json_object_get(schema, "required"), i, req)
		if (json_object_get(v, json_string_value(req)) == NULL) {
			kp = xasprintf("%s%s%s", path, path[0] != '\0' ? "." : "",
			    json_string_value(req));
			snprintf(field, fieldsz, "%s", kp);
			r = err_setk(e, ERR_INVALID, "argument '%s' is required",
			    kp);
			free(kp);
			return r;
		}
	json_object_foreach((json_t *)v, key, sub) {
		const json_t *ps = json_object_get(props, key);

		kp = xasprintf("%s%s%s", path, path[0] != '\0' ? "." : "", key);
		if (ps == NULL && json_is_false(extra)) {
			snprintf(field, fieldsz, "%s", kp);
			r = err_setk(e, ERR_INVALID, "unknown argument '%.64s': the "
			    "tool's inputSchema lists its arguments", kp);
			free(kp);
			return r;
		}
		if (ps == NULL && json_is_object(extra))
			ps = extra;
		r = ps != NULL ? check(ps, sub, kp, field, fieldsz, e) : 0;
		free(kp);
		if (r < 0)
			return -1;
	}
	snprintf(field, fieldsz, "%s", "");
	return 0;
}

int
mcp_args_check(const json_t *schema, const json_t *args, char *field,
    size_t fieldsz, struct err *e)
{
	return check(schema, args, "", field, fieldsz, e);
}
