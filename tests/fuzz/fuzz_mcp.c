/*
 * libFuzzer target for the MCP server's JSON-RPC decoding: any message, with any
 * MCP-Protocol-Version, gets an answer that is JSON-RPC 2.0 (or none, for a
 * notification) and an HTTP status MCP allows, never a crash. The daemon behind it
 * is a fake that knows nothing (every operation fails), so what is fuzzed is the
 * decoding, the dispatch and the argument checks. Built and run by scripts/fuzz.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "mcp/mcp.h"
#include "runtime/ops.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The fake daemon: every tool's operation fails as an unknown app would. */
static json_t *
fake_call(struct daemon *d, const struct actor *a, const char *tool,
    const json_t *args, json_t *(*fn)(void *, struct err *), void *arg,
    struct err *e)
{
	(void)d;
	(void)a;
	(void)tool;
	(void)args;
	return fn(arg, e);
}

static json_t *
fake_app(struct daemon *d, const char *app, struct err *e)
{
	(void)d;
	(void)app;
	err_setk(e, ERR_NOT_FOUND, "no such app");
	return NULL;
}

static char *
fake_apps(struct daemon *d)
{
	(void)d;
	return strdup("{\"apps\": []}");
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const versions[] = { NULL, "2025-06-18", "bogus" };
	struct daemon_ops ops;
	struct actor a;
	struct mcp_reply r;
	json_t *j;
	size_t i;

	memset(&ops, 0, sizeof(ops));
	ops.recorded_call = fake_call;
	ops.status_json = fake_app;
	ops.apps_text = fake_apps;
	ops.machines_json = fake_app;
	ops.releases = fake_app;
	ops.secrets_list = fake_app;
	memset(&a, 0, sizeof(a));
	/* Only the tools the fake has are called (it has no deploy to make). */
	if ((j = json_loadb((const char *)data, size, 0, NULL)) != NULL) {
		const char *m = json_string_value(json_object_get(j, "method"));
		const char *t = json_string_value(json_object_get(json_object_get(j,
		    "params"), "name"));
		bool faked = t == NULL || strcmp(t, "status") == 0 ||
		    strcmp(t, "machines") == 0 || strcmp(t, "releases") == 0 ||
		    strcmp(t, "secrets_list") == 0;

		bool skip = m != NULL && strcmp(m, "tools/call") == 0 && !faked;

		json_decref(j);
		if (skip)
			return 0;
	}
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		mcp_handle(&ops, &a, (const char *)data, size, versions[i], &r);
		if (r.status != 200 && r.status != 202 && r.status != 400 &&
		    r.status != 413)
			abort();
		if (r.body != NULL) {
			j = json_loads(r.body, 0, NULL);
			if (j == NULL || strcmp(json_string_value(json_object_get(j,
			    "jsonrpc")), "2.0") != 0)
				abort();
			json_decref(j);
			free(r.body);
		} else if (r.status != 202)
			abort();
	}
	return 0;
}
