/* `opsdeck deploy APP --artifact DIR|FILE.tar.gz`: import, create a release, follow it. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "core/json.h"
#include "core/xmalloc.h"
#include "deploy/artifact.h"

extern const struct cmd_entry cmd_deploy_entry;

static int
cmd_deploy_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "artifact", required_argument, NULL, 'a' },
		{ "message", required_argument, NULL, 'm' },
		{ "detach", no_argument, NULL, 'd' },
		{ "canary", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 },
	};
	const char *src = NULL, *message = NULL, *app;
	struct artifact art;
	struct err e;
	json_t *body, *rel;
	char *path;
	int ch, detach = 0, canary = 0, code = EXIT_FAILED;
	char *end;
	long v;

	while ((ch = getopt_long(argc, argv, "a:m:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			src = optarg;
			break;
		case 'm':
			message = optarg;
			break;
		case 'd':
			detach = 1;
			break;
		case 'c':
			v = strtol(optarg, &end, 10);
			if (end == optarg || (*end != '\0' && strcmp(end, "%")) ||
			    v < 1 || v > 99) {
				fprintf(stderr, "opsdeck deploy: --canary '%s': "
				    "give the new release's share of the traffic "
				    "as a percent 1..99, like --canary 10\n",
				    optarg);
				return EXIT_USAGE;
			}
			canary = (int)v;
			break;
		default:
			return cmd_usage(&cmd_deploy_entry);
		}
	}
	if (argc - optind != 1 || src == NULL)
		return cmd_usage(&cmd_deploy_entry);
	app = argv[optind];
	if (cmd_check_name("deploy", "app name", app) < 0)
		return EXIT_USAGE;
	/*
	 * Nothing is written to the state dir for a daemon that is not there, nor
	 * for an app it does not know.
	 */
	path = xasprintf("/v1/apps/%s/releases", app);
	rel = cmd_call(ctx, "deploy", "GET", path, &code);
	free(path);
	if (rel == NULL)
		return code;
	json_decref(rel);
	/* The CLI imports the artifact: the daemon's loop never copies files. */
	memset(&art, 0, sizeof(art));
	if (artifact_import(ctx->state_dir, src, &art, &e) < 0) {
		artifact_release(&art);
		fprintf(stderr, "opsdeck deploy: %s\n", e.msg);
		return e.kind == ERR_INVALID || e.kind == ERR_NOT_FOUND ?
		    EXIT_USAGE : EXIT_FAILED;
	}
	if (!ctx->json)
		printf("artifact %.12s (%s, %lld bytes)%s\n", art.digest,
		    art.kind, (long long)art.size, art.existed ?
		    ", already stored" : "");
	body = json_pack("{s:s, s:s, s:I}", "artifact", art.digest, "kind",
	    art.kind, "size", (json_int_t)art.size);
	if (message != NULL)
		json_object_set_new(body, "message", json_string(message));
	if (canary > 0)
		json_object_set_new(body, "canary", json_integer(canary));
	path = xasprintf("/v1/apps/%s/deploys", app);
	rel = cmd_call_body(ctx, "deploy", "POST", path, body, &code);
	free(path);
	json_decref(body);
	artifact_release(&art);
	if (rel == NULL)
		return code;
	if (detach) {
		if (ctx->json)
			cmd_print_json(rel);
		else
			printf("%s %s: deploying (follow it with `opsdeck "
			    "release %s %s`)\n", app, json_str(rel, "version"),
			    app, json_str(rel, "version"));
		json_decref(rel);
		return EXIT_OK;
	}
	if (!ctx->json)
		printf("%s %s: deploying\n", app, json_str(rel, "version"));
	code = cmd_follow_release(ctx, "deploy", app, json_str(rel, "version"));
	json_decref(rel);
	return code;
}

const struct cmd_entry cmd_deploy_entry = {
	"deploy", "APP --artifact DIR|FILE.tar.gz [--message TEXT] [--canary PERCENT] "
	"[--detach] "
	"[--json]",
	"make a new release of an app live, health-gated, with automatic rollback",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, cmd_deploy_exec,
};
