#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/util.h"
#include "core/xmalloc.h"

/* The last gc run and the next, below the table. */
static void
housekeeping_print(const json_t *h)
{
	const json_t *last = json_object_get(h, "last_gc");
	const char *next = json_str(h, "next_gc");
	char size[32];

	if (h == NULL)
		return;
	printf("\nhousekeeping: ");
	if (json_is_object(last)) {
		size_format(json_int(last, "bytes_freed", 0), size);
		printf("last gc %s by %s: %lld artifact%s kept, %lld removed, "
		    "%lld log%s removed, %s freed", json_str(last, "at"),
		    json_str(last, "actor"), json_int(last, "artifacts_kept", 0),
		    json_int(last, "artifacts_kept", 0) == 1 ? "" : "s",
		    json_int(last, "artifacts_removed", 0),
		    json_int(last, "logs_removed", 0),
		    json_int(last, "logs_removed", 0) == 1 ? "" : "s", size);
		if (json_int(last, "failed", 0) > 0)
			printf(", %lld could not be removed", json_int(last,
			    "failed", 0));
	} else
		printf("no gc has run yet");
	if (json_is_true(json_object_get(h, "running")))
		printf("; a gc is running");
	else if (next != NULL)
		printf("; next %s", next);
	printf("\n");
}

static int
cmd_status_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	extern const struct cmd_entry cmd_status_entry;
	static const char *const hdr[] = { "APP", "STAGE", "RELEASE",
	    "MACHINES", "STATES", "RESTARTS", "NOTE" };
	struct buf path = BUF_INIT;
	struct table t;
	json_t *j, *apps, *a;
	size_t i;
	int code = EXIT_OK;

	if (argc == 2 && argv[1][0] == '-')
		return cmd_bad_option(&cmd_status_entry, argv[1]);
	if (argc > 2)
		return cmd_usage(&cmd_status_entry);
	if (argc == 2 && cmd_check_name("status", "app name", argv[1]) < 0)
		return EXIT_USAGE;
	buf_addstr(&path, "/v1/status");
	if (argc == 2) {
		buf_printf(&path, "?app=%s", argv[1]);
	}
	j = cmd_call(ctx, "status", "GET", buf_str(&path), &code);
	buf_release(&path);
	if (j == NULL)
		return code;
	if (ctx->json) {
		cmd_print_json(j);
		json_decref(j);
		return EXIT_OK;
	}
	apps = json_object_get(j, "apps");
	table_init(&t, 7, hdr);
	json_array_foreach(apps, i, a) {
		json_t *ms = json_object_get(a, "machines"), *m;
		struct buf states = BUF_INIT, note = BUF_INIT;
		int failed = 0;
		char count[32], restarts[16];
		long total_restarts = 0;
		size_t k;

		json_array_foreach(ms, k, m) {
			buf_printf(&states, "%s%s", k ? "," : "",
			    json_str(m, "state"));
			total_restarts += (long)json_int(m, "restart_count", 0);
			if (strcmp(json_str(m, "state"), "failed") == 0)
				failed++;
		}
		if (failed > 0)
			buf_printf(&note, "%d failed: see `opsdeck logs %s`", failed,
			    json_str(a, "name"));
		if (json_is_true(json_object_get(a, "needs_deploy")))
			buf_printf(&note, "%sconfig changed: needs deploy",
			    note.len ? "; " : "");
		snprintf(count, sizeof(count), "%lld/%lld started",
		    json_int(a, "machines_started", 0),
		    json_int(a, "machines_total", 0));
		snprintf(restarts, sizeof(restarts), "%ld", total_restarts);
		const char *row[] = { json_str(a, "name"), json_str(a, "stage"),
		    json_str(a, "release") ? json_str(a, "release") : "-", count, buf_str(&states), restarts, buf_str(&note) };
		table_add(&t, row);
		buf_release(&states);
		buf_release(&note);
	}
	table_print(&t);
	table_release(&t);
	housekeeping_print(json_object_get(j, "housekeeping"));
	json_decref(j);
	return EXIT_OK;
}

const struct cmd_entry cmd_status_entry = {
	"status", "[APP] [--json]",
	"show apps, their machines and what needs attention",
	CMD_NEEDS_DAEMON | CMD_JSON, cmd_status_exec,
};
