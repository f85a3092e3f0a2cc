/* `opsdeck rollback APP [vN]`: run an earlier release again, through the same gate. */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/common.h"
#include "core/json.h"
#include "core/util.h"
#include "core/xmalloc.h"

extern const struct cmd_entry cmd_rollback_entry;

static int
cmd_rollback_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	json_t *body, *rel;
	char *path;
	int v = 0;
	int code = EXIT_FAILED;

	if (argc >= 2 && argv[argc - 1][0] == '-')
		return cmd_bad_option(&cmd_rollback_entry, argv[argc - 1]);
	if (argc < 2 || argc > 3)
		return cmd_usage(&cmd_rollback_entry);
	if (cmd_check_name("rollback", "app name", argv[1]) < 0)
		return EXIT_USAGE;
	if (argc == 3) {
		if (release_version_parse(argv[2], &v) < 0) {
			fprintf(stderr, "opsdeck rollback: '%s' is not a "
			    "release: write it like v3\n", argv[2]);
			return EXIT_USAGE;
		}
	}
	body = v > 0 ? json_pack("{s:i}", "version", v) : json_object();
	path = xasprintf("/v1/apps/%s/rollback", argv[1]);
	rel = cmd_call_body(ctx, "rollback", "POST", path, body, &code);
	free(path);
	json_decref(body);
	if (rel == NULL)
		return code;
	if (!ctx->json)
		printf("%s %s: %s\n", argv[1], json_str(rel, "version"),
		    json_str(rel, "message"));
	code = cmd_follow_release(ctx, "rollback", argv[1],
	    json_str(rel, "version"));
	json_decref(rel);
	return code;
}

const struct cmd_entry cmd_rollback_entry = {
	"rollback", "APP [vN] [--json]",
	"make an earlier release live again: its artifact, config and secrets",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, cmd_rollback_exec,
};
