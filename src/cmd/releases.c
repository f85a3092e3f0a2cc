/* `opsdeck releases APP` and `opsdeck release APP vN`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "core/json.h"
#include "core/xmalloc.h"

extern const struct cmd_entry cmd_releases_entry;
extern const struct cmd_entry cmd_release_entry;

static const char *
or_dash(const char *s)
{
	return s != NULL ? s : "-";
}

static void
duration(const json_t *ms, char out[32])
{
	if (json_is_integer(ms))
		snprintf(out, 32, "%.1fs", (double)json_integer_value(ms) /
		    1000);
	else
		snprintf(out, 32, "-");
}

static int
cmd_releases_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const char *const hdr[] = { "VERSION", "STATUS", "ARTIFACT",
	    "SECRETS", "ACTOR", "CREATED", "DURATION", "MESSAGE / REASON" };
	struct table t;
	json_t *j, *r;
	char *path;
	size_t i;
	int code = EXIT_OK;

	if (argc == 2 && argv[1][0] == '-')
		return cmd_bad_option(&cmd_releases_entry, argv[1]);
	if (argc != 2)
		return cmd_usage(&cmd_releases_entry);
	if (cmd_check_name("releases", "app name", argv[1]) < 0)
		return EXIT_USAGE;
	path = xasprintf("/v1/apps/%s/releases", argv[1]);
	j = cmd_call(ctx, "releases", "GET", path, &code);
	free(path);
	if (j == NULL)
		return code;
	if (ctx->json) {
		cmd_print_json(j);
		json_decref(j);
		return EXIT_OK;
	}
	table_init(&t, 8, hdr);
	json_array_foreach(json_object_get(j, "releases"), i, r) {
		char art[16], sec[16], dur[32];
		const char *note = json_str(r, "reason") ? json_str(r, "reason") :
		    json_str(r, "message");

		snprintf(art, sizeof(art), "%.12s", json_str(r, "artifact"));
		snprintf(sec, sizeof(sec), "v%lld",
		    json_int(r, "secrets_version", 0));
		duration(json_object_get(r, "duration_ms"), dur);
		const char *row[] = { json_str(r, "version"),
		    json_str(r, "status"), art, sec, json_str(r, "actor"),
		    json_str(r, "created_at"), dur, or_dash(note) };
		table_add(&t, row);
	}
	table_print(&t);
	table_release(&t);
	json_decref(j);
	return EXIT_OK;
}

static int
cmd_release_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const char *const hdr[] = { "STEP", "STATUS", "STARTED",
	    "DURATION", "DETAIL" };
	struct table t;
	json_t *j, *s, *d2r;
	char *path;
	size_t i;
	int code = EXIT_OK;

	if (argc >= 2 && argv[argc - 1][0] == '-')
		return cmd_bad_option(&cmd_release_entry, argv[argc - 1]);
	if (argc != 3)
		return cmd_usage(&cmd_release_entry);
	if (cmd_check_name("release", "app name", argv[1]) < 0 ||
	    cmd_check_name("release", "version", argv[2]) < 0)
		return EXIT_USAGE;
	path = xasprintf("/v1/apps/%s/releases/%s", argv[1], argv[2]);
	j = cmd_call(ctx, "release", "GET", path, &code);
	free(path);
	if (j == NULL)
		return code;
	if (ctx->json) {
		cmd_print_json(j);
		json_decref(j);
		return EXIT_OK;
	}
	printf("%s %s: %s\nartifact %s, secrets v%lld, by %s at %s\n",
	    json_str(j, "app"), json_str(j, "version"), json_str(j, "status"),
	    json_str(j, "artifact"), json_int(j, "secrets_version", 0),
	    json_str(j, "actor"), json_str(j, "created_at"));
	if (json_str(j, "message") != NULL)
		printf("message: %s\n", json_str(j, "message"));
	if (json_str(j, "reason") != NULL)
		printf("%s at %s: %s\n", json_str(j, "status"),
		    or_dash(json_str(j, "failed_step")), json_str(j, "reason"));
	d2r = json_object_get(j, "detection_to_recovery_ms");
	if (json_is_integer(d2r))
		printf("detection to recovery: %.1fs\n",
		    (double)json_integer_value(d2r) / 1000);
	printf("\n");
	table_init(&t, 5, hdr);
	json_array_foreach(json_object_get(j, "timeline"), i, s) {
		char dur[32];

		duration(json_object_get(s, "duration_ms"), dur);
		const char *row[] = { json_str(s, "step"), json_str(s, "status"),
		    json_str(s, "started_at"), dur,
		    or_dash(json_str(s, "detail")) };
		table_add(&t, row);
	}
	table_print(&t);
	table_release(&t);
	if (json_object_get(j, "evidence") != NULL) {
		printf("\nevidence:\n");
		cmd_print_json(json_object_get(j, "evidence"));
	}
	json_decref(j);
	return EXIT_OK;
}

const struct cmd_entry cmd_releases_entry = {
	"releases", "APP [--json]",
	"list an app's releases: status, artifact, who, when, how long, why",
	CMD_NEEDS_DAEMON | CMD_JSON, cmd_releases_exec,
};
const struct cmd_entry cmd_release_entry = {
	"release", "APP vN [--json]",
	"one release's timeline, failure evidence and detection-to-recovery time",
	CMD_NEEDS_DAEMON | CMD_JSON, cmd_release_exec,
};
