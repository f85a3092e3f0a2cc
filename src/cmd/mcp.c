/*
 * opsdeck mcp: the MCP server on stdio, for clients that spawn it. Each line on
 * standard input is one JSON-RPC message (MCP's stdio transport); it is relayed to
 * the daemon's /mcp, where the server is, as the caller ($OPSDECK_TOKEN, or the
 * local user on the control socket), and the answer is written as one line on
 * standard output. Nothing else is written there; diagnostics go to stderr.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "client/client.h"
#include "cmd/common.h"
#include "core/xmalloc.h"
#include "mcp/mcp.h"

extern const struct cmd_entry cmd_mcp_entry;

/* JSON-RPC's code for an error of the server's own (not the protocol's) */
#define RPC_SERVER_ERROR	(-32000)

/* Says msg as a JSON-RPC error to the request in line, if it is one. */
static void
say_error(const char *line, size_t len, const char *msg)
{
	json_t *in = json_loadb(line, len, 0, NULL), *out;
	const json_t *id = json_object_get(in, "id");
	char *text;

	/* a notification gets no answer, not even an error */
	if (json_is_object(in) && id == NULL) {
		json_decref(in);
		return;
	}
	out = json_pack("{s:s, s:O, s:{s:i, s:s}}", "jsonrpc", "2.0", "id",
	    json_is_string(id) || json_is_integer(id) ? id : json_null(),
	    "error", "code", RPC_SERVER_ERROR, "message", msg);
	text = json_dumps(out, JSON_COMPACT);
	printf("%s\n", text);
	fflush(stdout);
	free(text);
	json_decref(out);
	json_decref(in);
}

/* The front end's own refusals (401, 403, 413) carry {"error": {message}}. */
static void
relay(const char *line, size_t len, long status, const char *body)
{
	json_t *j;
	const char *msg;

	if (status == 202 || body[0] == '\0')
		return;
	j = json_loads(body, 0, NULL);
	if (json_is_object(j) && json_object_get(j, "jsonrpc") != NULL) {
		printf("%s\n", body);
		fflush(stdout);
	} else {
		msg = json_string_value(json_object_get(json_object_get(j,
		    "error"), "message"));
		say_error(line, len, msg != NULL ? msg : "the daemon refused "
		    "the message");
	}
	json_decref(j);
}

static int
cmd_mcp_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct client *c = NULL;
	char *line = NULL, *body;
	size_t cap = 0;
	ssize_t n;
	long status;
	struct err e;

	(void)argv;
	if (argc != 1)
		return cmd_usage(&cmd_mcp_entry);
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		size_t len = (size_t)n;

		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0)
			continue;
		if (len > MCP_MESSAGE_MAX || strlen(line) != len) {
			say_error(line, len, len > MCP_MESSAGE_MAX ? "message "
			    "larger than 1 MiB" : "message holds a NUL byte");
			continue;
		}
		/* Connected per message: a daemon restarted meanwhile is found again. */
		if (c == NULL && (c = client_open(ctx->state_dir, &e)) == NULL) {
			say_error(line, len, e.msg);
			continue;
		}
		if (client_post_text(c, "/mcp", line, &status, &body, &e) < 0) {
			say_error(line, len, e.msg);
			client_free(c);
			c = NULL;
			continue;
		}
		relay(line, len, status, body);
		free(body);
	}
	free(line);
	if (c != NULL)
		client_free(c);
	return EXIT_OK;
}

const struct cmd_entry cmd_mcp_entry = {
	"mcp", "", "serve MCP on stdio for an agent's client, through the daemon",
	0, cmd_mcp_exec,
};
