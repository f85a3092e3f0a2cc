#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "core/buf.h"
#include "core/json.h"

/* A JSON scalar as table text ("-" for null). */
static void
cell(const json_t *o, const char *key, char *out, size_t len)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_string(v))
		snprintf(out, len, "%s", json_string_value(v));
	else if (json_is_integer(v))
		snprintf(out, len, "%lld", (long long)json_integer_value(v));
	else
		snprintf(out, len, "-");
}

static int
cmd_machines_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	extern const struct cmd_entry cmd_machines_entry;
	static const char *const hdr[] = { "ID", "APP", "PROCESS", "RELEASE",
	    "STATE", "PID", "PORT", "RESTARTS", "EXIT", "HEALTH", "UPDATED" };
	static const char *const keys[] = { "id", "app", "process", "release",
	    "state", "pid", "port", "restart_count", "exit_code", "health",
	    "updated_at" };
	struct buf path = BUF_INIT;
	struct table t;
	json_t *j, *m;
	size_t i, k;
	int code = EXIT_OK;

	if (argc == 2 && argv[1][0] == '-')
		return cmd_bad_option(&cmd_machines_entry, argv[1]);
	if (argc > 2)
		return cmd_usage(&cmd_machines_entry);
	if (argc == 2 && cmd_check_name("machines", "app name", argv[1]) < 0)
		return EXIT_USAGE;
	buf_addstr(&path, "/v1/machines");
	if (argc == 2)
		buf_printf(&path, "?app=%s", argv[1]);
	j = cmd_call(ctx, "machines", "GET", buf_str(&path), &code);
	buf_release(&path);
	if (j == NULL)
		return code;
	if (ctx->json) {
		cmd_print_json(j);
		json_decref(j);
		return EXIT_OK;
	}
	table_init(&t, 11, hdr);
	json_array_foreach(json_object_get(j, "machines"), i, m) {
		char vals[11][64];
		const char *row[11];

		for (k = 0; k < 11; k++) {
			cell(m, keys[k], vals[k], sizeof(vals[k]));
			row[k] = vals[k];
		}
		table_add(&t, row);
	}
	table_print(&t);
	table_release(&t);
	json_decref(j);
	return EXIT_OK;
}

const struct cmd_entry cmd_machines_entry = {
	"machines", "[APP] [--json]",
	"list machines: state, pid, port, restarts, exit code, health",
	CMD_NEEDS_DAEMON | CMD_JSON, cmd_machines_exec,
};
