/* `opsdeck machine start|stop|restart ID`: one file, three rows of the table. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "core/json.h"
#include "core/xmalloc.h"

static int
machine_action(struct cmd_ctx *ctx, const struct cmd_entry *entry, int argc,
    char **argv)
{
	char *path;
	json_t *j;
	int code = EXIT_OK;

	if (argc >= 2 && argv[argc - 1][0] == '-' && argv[argc - 1][1] != '\0')
		return cmd_bad_option(entry, argv[argc - 1]);
	if (argc != 2 || argv[1][0] == '-')
		return cmd_usage(entry);
	if (cmd_check_name(entry->name, "machine id", argv[1]) < 0)
		return EXIT_USAGE;
	path = xasprintf("/v1/machines/%s/%s", argv[1],
	    strrchr(entry->name, ' ') + 1);
	j = cmd_call(ctx, entry->name, "POST", path, &code);
	free(path);
	if (j == NULL)
		return code;
	if (ctx->json)
		cmd_print_json(j);
	else
		printf("machine %s (%s/%s): %s requested, now %s\n",
		    json_str(j, "id"), json_str(j, "app"), json_str(j, "process"),
		    strrchr(entry->name, ' ') + 1, json_str(j, "state"));
	json_decref(j);
	return EXIT_OK;
}

extern const struct cmd_entry cmd_machine_start_entry;
extern const struct cmd_entry cmd_machine_stop_entry;
extern const struct cmd_entry cmd_machine_restart_entry;

static int
start_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	return machine_action(ctx, &cmd_machine_start_entry, argc, argv);
}

static int
stop_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	return machine_action(ctx, &cmd_machine_stop_entry, argc, argv);
}

static int
restart_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	return machine_action(ctx, &cmd_machine_restart_entry, argc, argv);
}

#define MACHINE_FLAGS (CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON)

const struct cmd_entry cmd_machine_start_entry = {
	"machine start", "ID [--json]",
	"start a stopped or failed machine (clears its crash-loop count)",
	MACHINE_FLAGS, start_exec,
};
const struct cmd_entry cmd_machine_stop_entry = {
	"machine stop", "ID [--json]",
	"stop a machine (SIGTERM to its process group, SIGKILL after the timeout)",
	MACHINE_FLAGS, stop_exec,
};
const struct cmd_entry cmd_machine_restart_entry = {
	"machine restart", "ID [--json]",
	"stop a machine and start it again",
	MACHINE_FLAGS, restart_exec,
};
