#include <stdio.h>

#include "cmd/common.h"

static int
cmd_version_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc != 1) {
		extern const struct cmd_entry cmd_version_entry;

		return cmd_usage(&cmd_version_entry);
	}
	if (ctx->json)
		printf("{\"version\": \"%s\"}\n", OPSDECK_VERSION);
	else
		printf("opsdeck %s\n", OPSDECK_VERSION);
	return EXIT_OK;
}

const struct cmd_entry cmd_version_entry = {
	"version", "[--json]", "print the version", CMD_JSON, cmd_version_exec,
};
