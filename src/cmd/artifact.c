/*
 * opsdeck artifact import DIR|FILE.tar.gz: store an artifact in the state dir and
 * print its digest, for a deploy by digest later (an agent's deploy tool over MCP,
 * a CI job that builds on one step and deploys on another).
 */
#include <stdio.h>
#include <string.h>

#include <jansson.h>

#include "cmd/common.h"
#include "deploy/artifact.h"

extern const struct cmd_entry cmd_artifact_import_entry;

static int
cmd_artifact_import_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	struct artifact art;
	struct err e;
	json_t *j;

	if (argc != 2 || argv[1][0] == '-')
		return cmd_usage(&cmd_artifact_import_entry);
	memset(&art, 0, sizeof(art));
	if (artifact_import(ctx->state_dir, argv[1], &art, &e) < 0) {
		artifact_release(&art);
		fprintf(stderr, "opsdeck artifact import: %s\n", e.msg);
		return e.kind == ERR_INVALID || e.kind == ERR_NOT_FOUND ?
		    EXIT_USAGE : EXIT_FAILED;
	}
	if (ctx->json) {
		j = json_pack("{s:s, s:s, s:I, s:b}", "digest", art.digest, "kind",
		    art.kind, "size", (json_int_t)art.size, "existed",
		    art.existed);
		cmd_print_json(j);
		json_decref(j);
	} else
		printf("%s\n", art.digest);
	artifact_release(&art);
	return EXIT_OK;
}

const struct cmd_entry cmd_artifact_import_entry = {
	"artifact import", "DIR|FILE.tar.gz [--json]",
	"store an artifact in the state dir and print its digest", CMD_JSON,
	cmd_artifact_import_exec,
};
