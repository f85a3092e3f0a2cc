/*
 * The work-ledger commands (ledger/tasks.h): task add, start, block, done, list,
 * show and import, each a call to the daemon.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "ledger/report.h"
#include "ledger/tasks.h"

#define DIRECTION_FILE_MAX	(1 << 20)

extern const struct cmd_entry cmd_task_add_entry;
extern const struct cmd_entry cmd_task_start_entry;
extern const struct cmd_entry cmd_task_block_entry;
extern const struct cmd_entry cmd_task_done_entry;
extern const struct cmd_entry cmd_task_list_entry;
extern const struct cmd_entry cmd_task_show_entry;
extern const struct cmd_entry cmd_task_import_entry;

static int
check_id(const char *cmd, const char *id)
{
	if (task_id_valid(id))
		return 0;
	fprintf(stderr, "opsdeck %s: task id '%s': give letters, '-' and digits, "
	    "e.g. DEVOPS-014\n", cmd, id);
	return -1;
}

/* A filter value goes into a query string as it is: a label's characters only. */
static int
check_label(const char *cmd, const char *what, const char *v)
{
	if (v[0] != '\0' && strlen(v) <= 32 && strspn(v, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") == strlen(v))
		return 0;
	fprintf(stderr, "opsdeck %s: %s '%s': letters, digits, '.', '_' and '-', "
	    "at most 32\n", cmd, what, v);
	return -1;
}

static void
print_task_line(const json_t *t)
{
	printf("%s %s [%s]", cmd_text(t, "id"), cmd_text(t, "title"), cmd_text(t,
	    "status"));
	if (json_str(t, "blocked_on"))
		printf(" on %s: %s", cmd_text(t, "blocked_on"), cmd_text(t, "reason"));
	printf(" (owner %s, %s spent of %s estimated)\n", cmd_text(t, "owner"),
	    cmd_text(t, "actual"), cmd_text(t, "estimate"));
}

/* POST body to path and print the task it answers. */
static int
post_task(struct cmd_ctx *ctx, const char *name, const char *path,
    const json_t *body)
{
	int code = EXIT_OK;
	json_t *j = cmd_call_body(ctx, name, "POST", path, body, &code);

	if (j == NULL)
		return code;
	if (ctx->json)
		cmd_print_json(j);
	else
		print_task_line(j);
	json_decref(j);
	return EXIT_OK;
}

static int
task_add_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "title", required_argument, NULL, 't' },
		{ "owner", required_argument, NULL, 'o' },
		{ "direction", required_argument, NULL, 'd' },
		{ "estimate", required_argument, NULL, 'e' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *body = json_object();
	int64_t ms;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 't':
			json_object_set_new(body, "title", json_string(optarg));
			break;
		case 'o':
			json_object_set_new(body, "owner", json_string(optarg));
			break;
		case 'd':
			json_object_set_new(body, "direction", json_string(optarg));
			break;
		case 'e':
			if (duration_parse(optarg, &ms) < 0) {
				fprintf(stderr, "opsdeck task add: --estimate '%s': "
				    "give a duration, e.g. 45m or 2h\n", optarg);
				json_decref(body);
				return EXIT_USAGE;
			}
			json_object_set_new(body, "estimate", json_string(optarg));
			break;
		default:
			json_decref(body);
			return cmd_usage(&cmd_task_add_entry);
		}
	}
	if (argc - optind != 1 || json_object_get(body, "title") == NULL) {
		json_decref(body);
		return cmd_usage(&cmd_task_add_entry);
	}
	if (check_id("task add", argv[optind]) < 0) {
		json_decref(body);
		return EXIT_USAGE;
	}
	json_object_set_new(body, "id", json_string(argv[optind]));
	r = post_task(ctx, "task add", "/v1/tasks", body);
	json_decref(body);
	return r;
}

/* start, block and done: ID and, for block, --on and --reason. */
static int
task_move(struct cmd_ctx *ctx, int argc, char **argv,
    const struct cmd_entry *entry, const char *move)
{
	static const struct option longopts[] = {
		{ "on", required_argument, NULL, 'o' },
		{ "reason", required_argument, NULL, 'r' },
		{ "note", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *body = json_object();
	bool block = strcmp(move, "block") == 0;
	char *path;
	int ch, r;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if ((ch == 'o' || ch == 'r') && !block)
			ch = '?';
		switch (ch) {
		case 'o':
			json_object_set_new(body, "on", json_string(optarg));
			break;
		case 'r':
			json_object_set_new(body, "reason", json_string(optarg));
			break;
		case 'n':
			json_object_set_new(body, "note", json_string(optarg));
			break;
		default:
			json_decref(body);
			return cmd_usage(entry);
		}
	}
	if (argc - optind != 1 || (block && (json_object_get(body, "on") == NULL ||
	    json_object_get(body, "reason") == NULL))) {
		json_decref(body);
		return cmd_usage(entry);
	}
	if (check_id(entry->name, argv[optind]) < 0) {
		json_decref(body);
		return EXIT_USAGE;
	}
	path = xasprintf("/v1/tasks/%s/%s", argv[optind], move);
	r = post_task(ctx, entry->name, path, body);
	free(path);
	json_decref(body);
	return r;
}

static int
task_start_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	return task_move(ctx, argc, argv, &cmd_task_start_entry, "start");
}

static int
task_block_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	return task_move(ctx, argc, argv, &cmd_task_block_entry, "block");
}

static int
task_done_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	return task_move(ctx, argc, argv, &cmd_task_done_entry, "done");
}

static int
task_list_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "owner", required_argument, NULL, 'o' },
		{ "direction", required_argument, NULL, 'd' },
		{ "status", required_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const hdr[] = { "TASK", "STATUS", "OWNER",
	    "DIRECTION", "ESTIMATE", "ACTUAL", "TITLE", "BLOCKED ON" };
	struct buf path;
	const char *sep = "?";
	const json_t *t;
	struct table tab;
	json_t *j;
	size_t i;
	int ch, code = EXIT_OK;

	buf_init(&path, 0);
	buf_addstr(&path, "/v1/tasks");
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		const char *key = ch == 'o' ? "owner" : ch == 'd' ? "direction" :
		    "status";

		if (ch == '?' || (ch == 'o' ? cmd_check_name("task list",
		    "owner", optarg) : check_label("task list", key, optarg)) < 0) {
			buf_release(&path);
			return ch == '?' ? cmd_usage(&cmd_task_list_entry) :
			    EXIT_USAGE;
		}
		buf_printf(&path, "%s%s=%s", sep, key, optarg);
		sep = "&";
	}
	if (argc != optind) {
		buf_release(&path);
		return cmd_usage(&cmd_task_list_entry);
	}
	j = cmd_call(ctx, "task list", "GET", buf_str(&path), &code);
	buf_release(&path);
	if (j == NULL)
		return code;
	if (ctx->json) {
		cmd_print_json(j);
		json_decref(j);
		return EXIT_OK;
	}
	table_init(&tab, 8, hdr);
	json_array_foreach(json_object_get(j, "tasks"), i, t) {
		char on[160];
		const char *row[8] = { cmd_text(t, "id"), cmd_text(t, "status"),
		    cmd_text(t, "owner"), cmd_text(t, "direction"), cmd_text(t, "estimate"),
		    cmd_text(t, "actual"), cmd_text(t, "title"), on };

		snprintf(on, sizeof(on), "%s", json_str(t, "blocked_on") ?
		    json_str(t, "blocked_on") : "");
		table_add(&tab, row);
	}
	table_print(&tab);
	table_release(&tab);
	printf("\n");
	buf_init(&path, 0);
	report_progress(&path, json_object_get(json_object_get(j, "progress"),
	    "directions"), "direction", "");
	report_progress(&path, json_object_get(json_object_get(j, "progress"),
	    "owners"), "owner", "");
	fputs(buf_str(&path), stdout);
	buf_release(&path);
	json_decref(j);
	return EXIT_OK;
}

static int
task_show_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	const json_t *h;
	json_t *j;
	char *path;
	size_t i;
	int code = EXIT_OK;

	if (argc != 2)
		return cmd_usage(&cmd_task_show_entry);
	if (check_id("task show", argv[1]) < 0)
		return EXIT_USAGE;
	path = xasprintf("/v1/tasks/%s", argv[1]);
	j = cmd_call(ctx, "task show", "GET", path, &code);
	free(path);
	if (j == NULL)
		return code;
	if (ctx->json) {
		cmd_print_json(j);
		json_decref(j);
		return EXIT_OK;
	}
	print_task_line(j);
	printf("direction %s, created by %s at %s\n", cmd_text(j, "direction"),
	    cmd_text(j, "created_by"), cmd_text(j, "created_at"));
	json_array_foreach(json_object_get(j, "history"), i, h) {
		printf("  %s  %-7s  by %s", cmd_text(h, "at"), cmd_text(h, "status"),
		    cmd_text(h, "actor"));
		if (json_str(h, "on"))
			printf("  on %s: %s", cmd_text(h, "on"), cmd_text(h, "reason"));
		if (json_str(h, "note"))
			printf("  (%s)", cmd_text(h, "note"));
		printf("\n");
	}
	json_decref(j);
	return EXIT_OK;
}

static int
task_import_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct buf text;
	struct err e;
	json_t *body, *j;
	int code = EXIT_OK;

	if (argc != 2)
		return cmd_usage(&cmd_task_import_entry);
	buf_init(&text, DIRECTION_FILE_MAX);
	if (file_read(argv[1], DIRECTION_FILE_MAX, &text, &e) < 0) {
		fprintf(stderr, "opsdeck task import: %s\n", e.msg);
		buf_release(&text);
		return EXIT_USAGE;
	}
	/* parsed here first: a bad file is named before anything is sent */
	if ((j = tasks_parse(buf_str(&text), text.len, argv[1], &e)) == NULL) {
		fprintf(stderr, "opsdeck task import: %s\n", e.msg);
		buf_release(&text);
		return EXIT_USAGE;
	}
	json_decref(j);
	body = json_pack("{s:s, s:s}", "file", argv[1], "text", buf_str(&text));
	buf_release(&text);
	j = cmd_call_body(ctx, "task import", "POST", "/v1/tasks/import", body,
	    &code);
	json_decref(body);
	if (j == NULL)
		return code;
	if (ctx->json)
		cmd_print_json(j);
	else
		printf("%s: %lld tasks added, %lld updated, %lld unchanged\n",
		    cmd_text(j, "file"), json_int(j, "added", 0), json_int(j,
		    "updated", 0), json_int(j, "unchanged", 0));
	json_decref(j);
	return EXIT_OK;
}

#define MUTATES (CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON)

const struct cmd_entry cmd_task_add_entry = {
	"task add", "ID --title TEXT [--owner ACTOR] [--direction LABEL] "
	"[--estimate DURATION] [--json]",
	"add a task to the work ledger", MUTATES, task_add_exec,
};
const struct cmd_entry cmd_task_start_entry = {
	"task start", "ID [--note TEXT] [--json]",
	"start a task (or resume a blocked one)", MUTATES, task_start_exec,
};
const struct cmd_entry cmd_task_block_entry = {
	"task block", "ID --on TASK|ACTOR --reason TEXT [--json]",
	"mark a task blocked on a task or an actor", MUTATES, task_block_exec,
};
const struct cmd_entry cmd_task_done_entry = {
	"task done", "ID [--note TEXT] [--json]", "finish a task", MUTATES,
	task_done_exec,
};
const struct cmd_entry cmd_task_list_entry = {
	"task list", "[--owner ACTOR] [--direction LABEL] "
	"[--status todo|doing|blocked|done] [--json]",
	"tasks with progress per direction and owner",
	CMD_NEEDS_DAEMON | CMD_JSON, task_list_exec,
};
const struct cmd_entry cmd_task_show_entry = {
	"task show", "ID [--json]", "one task with its status history",
	CMD_NEEDS_DAEMON | CMD_JSON, task_show_exec,
};
const struct cmd_entry cmd_task_import_entry = {
	"task import", "FILE [--json]",
	"add and update tasks from a direction file (markdown)", MUTATES,
	task_import_exec,
};
