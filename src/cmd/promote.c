/* `opsdeck promote APP --from STAGE --to STAGE`: the same artifact, one stage on. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/common.h"
#include "core/json.h"
#include "core/xmalloc.h"

extern const struct cmd_entry cmd_promote_entry;

static int
cmd_promote_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "from", required_argument, NULL, 'f' },
		{ "to", required_argument, NULL, 't' },
		{ "message", required_argument, NULL, 'm' },
		{ "detach", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	const char *from = NULL, *to = NULL, *message = NULL, *app, *dst;
	json_t *body, *rel;
	char *path;
	int ch, detach = 0, code = EXIT_FAILED;

	while ((ch = getopt_long(argc, argv, "m:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			from = optarg;
			break;
		case 't':
			to = optarg;
			break;
		case 'm':
			message = optarg;
			break;
		case 'd':
			detach = 1;
			break;
		default:
			return cmd_usage(&cmd_promote_entry);
		}
	}
	if (argc - optind != 1 || from == NULL || to == NULL)
		return cmd_usage(&cmd_promote_entry);
	app = argv[optind];
	if (cmd_check_name("promote", "app name", app) < 0 ||
	    cmd_check_name("promote", "stage", from) < 0 ||
	    cmd_check_name("promote", "stage", to) < 0)
		return EXIT_USAGE;
	body = json_pack("{ss ss}", "from", from, "to", to);
	if (message != NULL)
		json_object_set_new(body, "message", json_string(message));
	path = xasprintf("/v1/apps/%s/promote", app);
	rel = cmd_call_body(ctx, "promote", "POST", path, body, &code);
	free(path);
	json_decref(body);
	if (rel == NULL)
		return code;
	dst = json_str(rel, "app");
	if (detach) {
		if (ctx->json)
			cmd_print_json(rel);
		else
			printf("%s %s: deploying artifact %.12s (follow it with "
			    "`opsdeck release %s %s`)\n", dst, json_str(rel,
			    "version"), json_str(rel, "artifact"), dst,
			    json_str(rel, "version"));
		json_decref(rel);
		return EXIT_OK;
	}
	if (!ctx->json)
		printf("%s %s: deploying artifact %.12s from %s\n", dst,
		    json_str(rel, "version"), json_str(rel, "artifact"), from);
	code = cmd_follow_release(ctx, "promote", dst, json_str(rel, "version"));
	json_decref(rel);
	return code;
}

const struct cmd_entry cmd_promote_entry = {
	"promote", "APP --from STAGE --to STAGE [--message TEXT] [--detach] [--json]",
	"deploy the artifact live on one stage to the next: same digest, no rebuild, "
	"after a health check of the source",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, cmd_promote_exec,
};
