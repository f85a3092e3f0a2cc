#include <stdio.h>
#include <string.h>

#include "cmd/common.h"

static void
help_flags(const struct cmd_entry *c)
{
	if (c->flags & CMD_NEEDS_DAEMON)
		printf("  needs the daemon (`opsdeck up`) running: exits 3 "
		    "otherwise\n");
	if (c->flags & CMD_MUTATES)
		printf("  changes state: goes through the action gate and is "
		    "recorded as evidence\n");
}

void
cmd_help_command(const struct cmd_entry *c)
{
	printf("usage: opsdeck %s %s\n  %s\n", c->name, c->usage, c->summary);
	help_flags(c);
}

static int
cmd_help_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	const struct cmd_entry *const *c;
	size_t want = 0;
	char name[128] = "";
	int i;

	(void)ctx;
	for (i = 1; i < argc; i++) {
		size_t n = strlen(name);

		snprintf(name + n, sizeof(name) - n, "%s%s", n ? " " : "",
		    argv[i]);
	}
	want = strlen(name);
	if (want == 0) {
		printf("usage: opsdeck [-c FILE] [--state DIR] COMMAND [ARGS]"
		    "\n\ncommands:\n");
		for (c = cmd_table; *c != NULL; c++)
			printf("  %-22s %s\n", (*c)->name, (*c)->summary);
		printf("\nexit codes: 0 ok, 1 failed, 2 usage or config error, "
		    "3 daemon not running\nsee opsdeck(1) and opsdeck.yaml(5)\n");
		return EXIT_OK;
	}
	for (c = cmd_table; *c != NULL; c++) {
		/* "help machine" lists every "machine …" command. */
		if (strncmp((*c)->name, name, want) != 0 ||
		    ((*c)->name[want] != '\0' && (*c)->name[want] != ' '))
			continue;
		cmd_help_command(*c);
		i = -1;
	}
	if (i != -1) {
		fprintf(stderr, "opsdeck help: no command '%s': run `opsdeck "
		    "help` for the list\n", name);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

const struct cmd_entry cmd_help_entry = {
	"help", "[COMMAND]", "show the commands, or one command's usage", 0,
	cmd_help_exec,
};
