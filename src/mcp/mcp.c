#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/json.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "mcp/mcp.h"
#include "mcp/tools.h"
#include "runtime/ops.h"

/* JSON-RPC 2.0's error codes */
enum {
	RPC_PARSE_ERROR = -32700,
	RPC_INVALID_REQUEST = -32600,
	RPC_METHOD_NOT_FOUND = -32601,
	RPC_INVALID_PARAMS = -32602,
};

static const char instructions[] =
    "opsdeck runs, ships and watches this host's web apps. Read with status, "
    "machines, releases, incidents and route_metrics; act with deploy, rollback, "
    "promote, machine_* and secrets_*. Every call is recorded as evidence under "
    "your token's actor. An action your role may only request (a production "
    "deploy as an agent, a migration) answers with approval_pending: it runs "
    "once another actor approves it; do not retry it.";

bool
mcp_version_supported(const char *v)
{
	static const char *const versions[] = MCP_VERSIONS;
	size_t i;

	for (i = 0; v != NULL && i < sizeof(versions) / sizeof(versions[0]); i++)
		if (strcmp(v, versions[i]) == 0)
			return true;
	return false;
}

static void
reply_json(struct mcp_reply *r, unsigned int status, json_t *j)
{
	r->status = status;
	r->body = json_dumps(j, JSON_COMPACT);
	json_decref(j);
}

/* A JSON-RPC error answer to id (NULL: null, when the id is unknown). */
static void
reply_error(struct mcp_reply *r, unsigned int status, const json_t *id,
    int code, const char *msg)
{
	reply_json(r, status, json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc",
	    "2.0", "id", id != NULL ? id : json_null(), "error", "code", code,
	    "message", msg));
}

static void
reply_result(struct mcp_reply *r, const json_t *id, json_t *result)
{
	reply_json(r, 200, json_pack("{s:s, s:O, s:o}", "jsonrpc", "2.0", "id",
	    id, "result", result));
}

static json_t *
initialize(const json_t *params)
{
	const char *asked = json_str(params, "protocolVersion");

	return json_pack("{s:s, s:{s:{s:b}}, s:{s:s, s:s, s:s}, s:s}",
	    "protocolVersion", mcp_version_supported(asked) ? asked : MCP_LATEST,
	    "capabilities", "tools", "listChanged", 0,
	    "serverInfo", "name", "opsdeck", "title", "opsdeck", "version",
	    OPSDECK_VERSION, "instructions", instructions);
}

static json_t *
tools_list(void)
{
	const struct mcp_tool *t;
	json_t *tools = json_array();
	size_t n, i;

	t = mcp_tools(&n);
	for (i = 0; i < n; i++) {
		json_t *schema = json_loads(t[i].schema, 0, NULL);

		if (schema == NULL)
			BUG("tool %s: its schema is not JSON", t[i].name);
		json_array_append_new(tools, json_pack("{s:s, s:s, s:s, s:o, "
		    "s:{s:s, s:b, s:b, s:b, s:b}}", "name", t[i].name, "title",
		    t[i].title, "description", t[i].description, "inputSchema",
		    schema, "annotations", "title", t[i].title, "readOnlyHint",
		    t[i].read_only, "destructiveHint", t[i].destructive,
		    "idempotentHint", t[i].idempotent, "openWorldHint", 0));
	}
	return json_pack("{s:o}", "tools", tools);
}

/* A tool's failure, as the result an agent reads and acts on (not a protocol error). */
static json_t *
tool_error(const char *msg, const char *kind, const char *field)
{
	return json_pack("{s:[{s:s, s:s}], s:{s:{s:s, s:s, s:s?}}, s:b}",
	    "content", "type", "text", "text", msg, "structuredContent", "error",
	    "kind", kind, "message", msg, "field", field, "isError", 1);
}

/*
 * A tool's answer: the object as structured content and, as the spec advises for
 * clients without it, the same JSON as text; a request that now waits for an
 * approval says so in words first.
 */
static json_t *
tool_result(json_t *out)
{
	const json_t *ap = json_object_get(out, "approval_pending");
	char *text = json_dumps(out, JSON_COMPACT | JSON_SORT_KEYS), *said;
	json_t *content = json_array();

	if (ap != NULL) {
		said = xasprintf("%s on '%s' waits for approval #%lld (until %s): "
		    "another actor with the approver role grants it with `opsdeck "
		    "approve %lld`; it then runs once, as you. Do not retry.",
		    json_str(ap, "action") ? json_str(ap, "action") : "?",
		    json_str(ap, "target") ? json_str(ap, "target") : "?",
		    json_int(ap, "id", 0), json_str(ap, "expires_at") ?
		    json_str(ap, "expires_at") : "?", json_int(ap, "id", 0));
		json_array_append_new(content, json_pack("{s:s, s:s}", "type",
		    "text", "text", said));
		free(said);
	}
	/* a report reads as its markdown; the JSON follows as for every tool */
	if (json_str(out, "markdown") != NULL)
		json_array_append_new(content, json_pack("{s:s, s:s}", "type",
		    "text", "text", json_str(out, "markdown")));
	json_array_append_new(content, json_pack("{s:s, s:s}", "type", "text",
	    "text", text));
	free(text);
	return json_pack("{s:o, s:o, s:b}", "content", content,
	    "structuredContent", out, "isError", 0);
}

struct tool_req {
	const struct daemon_ops	*ops;
	const struct actor	*a;
	const struct mcp_tool	*tool;
	const json_t		*args;
	char			 field[128];	/* the argument at fault */
};

/* Inside the recorded call: arguments that do not fit are evidence too. */
static json_t *
tool_run(void *arg, struct err *e)
{
	struct tool_req *q = arg;
	json_t *schema = json_loads(q->tool->schema, 0, NULL);
	int r = mcp_args_check(schema, q->args, q->field, sizeof(q->field), e);

	json_decref(schema);
	if (r < 0)
		return NULL;
	q->field[0] = '\0';
	return q->tool->run(q->ops, q->a, q->args, e);
}

/* One tool call, recorded through the gate as mcp.call on the tool's name. */
static void
tools_call(const struct daemon_ops *ops, const struct actor *a,
    const json_t *id, const json_t *params, struct mcp_reply *r)
{
	const char *name = json_str(params, "name");
	const json_t *args = json_object_get(params, "arguments");
	const struct mcp_tool *t;
	json_t *empty = NULL, *out, *recorded;
	char msg[512];
	struct tool_req q;
	struct err e;

	if (name == NULL) {
		reply_error(r, 200, id, RPC_INVALID_PARAMS, "tools/call needs "
		    "params.name, a tool from tools/list");
		return;
	}
	if ((t = mcp_tool_find(name)) == NULL) {
		snprintf(msg, sizeof(msg), "unknown tool '%.64s': tools/list names "
		    "the tools", name);
		reply_error(r, 200, id, RPC_INVALID_PARAMS, msg);
		return;
	}
	if (args == NULL || json_is_null(args))
		args = empty = json_object();
	memset(&q, 0, sizeof(q));
	q.ops = ops;
	q.a = a;
	q.tool = t;
	q.args = args;
	recorded = mcp_args_recorded(t, args);
	out = ops->recorded_call(ops->d, a, t->name, recorded, tool_run, &q, &e);
	json_decref(recorded);
	json_decref(empty);
	reply_result(r, id, out != NULL ? tool_result(out) :
	    tool_error(e.msg, err_kind_str(e.kind), q.field[0] != '\0' ?
	    q.field : NULL));
}

/* A JSON-RPC id is a string or an integer (MCP: never null). */
static bool
id_valid(const json_t *id)
{
	return json_is_string(id) || json_is_integer(id);
}

void
mcp_handle(const struct daemon_ops *ops, const struct actor *a,
    const char *text, size_t len, const char *version, struct mcp_reply *r)
{
	json_error_t jerr;
	json_t *msg;
	const json_t *id, *params;
	const char *method;
	char why[256];

	r->status = 202;
	r->body = NULL;
	if (len > MCP_MESSAGE_MAX) {
		reply_error(r, 413, NULL, RPC_INVALID_REQUEST, "message larger than "
		    "1 MiB");
		return;
	}
	if (version != NULL && !mcp_version_supported(version)) {
		snprintf(why, sizeof(why), "MCP-Protocol-Version '%.40s' is not "
		    "served: use one of 2025-11-25, 2025-06-18, 2025-03-26",
		    version);
		reply_error(r, 400, NULL, RPC_INVALID_REQUEST, why);
		return;
	}
	if ((msg = json_loadb(text, len, JSON_REJECT_DUPLICATES, &jerr)) == NULL) {
		snprintf(why, sizeof(why), "not JSON (line %d, column %d): %s",
		    jerr.line, jerr.column, jerr.text);
		reply_error(r, 400, NULL, RPC_PARSE_ERROR, why);
		return;
	}
	if (json_is_array(msg)) {
		reply_error(r, 400, NULL, RPC_INVALID_REQUEST, "a batch (JSON array) "
		    "is not accepted: MCP 2025-06-18 removed JSON-RPC batching; "
		    "send one message per request");
		goto out;
	}
	id = json_object_get(msg, "id");
	method = json_str(msg, "method");
	if (!json_is_object(msg) || json_str(msg, "jsonrpc") == NULL ||
	    strcmp(json_str(msg, "jsonrpc"), "2.0") != 0) {
		reply_error(r, 400, id_valid(id) ? id : NULL, RPC_INVALID_REQUEST,
		    "not a JSON-RPC 2.0 message: an object with \"jsonrpc\": "
		    "\"2.0\" is expected");
		goto out;
	}
	/* A client's notification, or its answer to a request: taken, not answered. */
	if (id == NULL && (method != NULL || json_object_get(msg, "result") ||
	    json_object_get(msg, "error")))
		goto out;
	if (!id_valid(id) || method == NULL) {
		reply_error(r, 400, NULL, RPC_INVALID_REQUEST, "a request needs an "
		    "id (a string or an integer) and a method (a string)");
		goto out;
	}
	params = json_object_get(msg, "params");
	if (params != NULL && !json_is_object(params)) {
		reply_error(r, 200, id, RPC_INVALID_PARAMS, "params must be an "
		    "object");
		goto out;
	}
	if (strcmp(method, "initialize") == 0)
		reply_result(r, id, initialize(params));
	else if (strcmp(method, "ping") == 0)
		reply_result(r, id, json_object());
	else if (strcmp(method, "tools/list") == 0)
		reply_result(r, id, tools_list());
	else if (strcmp(method, "tools/call") == 0)
		tools_call(ops, a, id, params, r);
	else {
		snprintf(why, sizeof(why), "method '%.64s' is not served: opsdeck "
		    "offers initialize, ping, tools/list and tools/call", method);
		reply_error(r, 200, id, RPC_METHOD_NOT_FOUND, why);
	}
out:
	json_decref(msg);
}
