/*
 * `opsdeck logs APP`: the daemon (or, when it is down, the store it left) says which
 * machines the app has and where their logs are; runtime/logread.c reads them.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"
#include "cmd/common.h"
#include "core/json.h"
#include "core/xmalloc.h"
#include "runtime/logread.h"

/*
 * The app's machines and their log files: from the daemon, or, when it is not running,
 * from the store it left, so the logs of a stopped or crashed fleet can still be read.
 */
static json_t *
machines_of(struct cmd_ctx *ctx, const char *app, int *code)
{
	char *path;
	json_t *j;
	struct err e;

	if ((ctx->client = client_open(ctx->state_dir, &e)) != NULL) {
		path = xasprintf("/v1/machines?app=%s", app);
		j = cmd_call(ctx, "logs", "GET", path, code);
		free(path);
		return j;
	}
	if (e.kind != ERR_NOT_FOUND) {
		*code = cmd_fail("logs", &e);
		return NULL;
	}
	if ((j = logread_machines(ctx->state_dir, app, &e)) == NULL) {
		fprintf(stderr, "opsdeck logs: %s\n", e.msg);
		*code = EXIT_NO_DAEMON;
		return NULL;
	}
	if (json_array_size(json_object_get(j, "machines")) == 0) {
		fprintf(stderr, "opsdeck logs: no app '%s' in the store of '%s'\n",
		    app, ctx->state_dir);
		json_decref(j);
		*code = EXIT_FAILED;
		return NULL;
	}
	fprintf(stderr, "opsdeck logs: the daemon is not running; reading the "
	    "logs it left in '%s'\n", ctx->state_dir);
	return j;
}

static int
cmd_logs_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "machine", required_argument, NULL, 'm' },
		{ "lines", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	extern const struct cmd_entry cmd_logs_entry;
	struct logread_file *files = NULL;
	const char *machine = NULL;
	size_t nfiles = 0, nalloc, i;
	json_t *j, *m;
	size_t width = 0;
	char *end;
	long n = 100;
	int ch, follow_flag = 0, code = EXIT_OK;

	while ((ch = getopt_long(argc, argv, "m:n:f", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			machine = optarg;
			break;
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 0) {
				fprintf(stderr, "opsdeck logs: -n: '%s' is not "
				    "a number of lines\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			follow_flag = 1;
			break;
		default:
			return cmd_usage(&cmd_logs_entry);
		}
	}
	if (argc - optind != 1)
		return cmd_usage(&cmd_logs_entry);
	if (cmd_check_name("logs", "app name", argv[optind]) < 0 ||
	    (machine != NULL && cmd_check_name("logs", "machine id",
	    machine) < 0))
		return EXIT_USAGE;
	if ((j = machines_of(ctx, argv[optind], &code)) == NULL)
		return code;
	nalloc = json_array_size(json_object_get(j, "machines")) + 1;
	files = xcalloc(nalloc, sizeof(*files));
	json_array_foreach(json_object_get(j, "machines"), i, m) {
		if (machine != NULL && strcmp(machine, json_str(m, "id")) != 0)
			continue;
		if (json_str(m, "log") == NULL)
			continue;
		files[nfiles].path = xstrdup(json_str(m, "log"));
		files[nfiles].label = xasprintf("%s[%s]", json_str(m, "process"),
		    json_str(m, "id"));
		if (strlen(files[nfiles].label) > width)
			width = strlen(files[nfiles].label);
		nfiles++;
	}
	/* One width for every label, so the timestamps line up. */
	for (i = 0; i < nfiles; i++) {
		char *padded = xasprintf("%-*s", (int)width, files[i].label);

		free(files[i].label);
		files[i].label = padded;
	}
	json_decref(j);
	/* A machine a deploy retired is gone from the fleet; its log stays. */
	if (machine != NULL && nfiles == 0) {
		files[0].path = logread_path(ctx->state_dir, argv[optind],
		    machine);
		files[0].label = xstrdup(machine);
		nfiles = 1;
		if (access(files[0].path, R_OK) == 0)
			fprintf(stderr, "opsdeck logs: machine %s is no longer "
			    "in the fleet; reading the log it left\n", machine);
		else
			nfiles = 0;
	}
	if (machine != NULL && nfiles == 0) {
		fprintf(stderr, "opsdeck logs: app '%s' has no machine '%s': "
		    "list them with `opsdeck machines %s`\n", argv[optind],
		    machine, argv[optind]);
		code = EXIT_FAILED;
		goto out;
	}
	logread_tail(files, nfiles, n, stdout);
	if (follow_flag)
		logread_follow(files, nfiles, stdout);
out:
	for (i = 0; i < nalloc; i++) {
		free(files[i].path);
		free(files[i].label);
	}
	free(files);
	return code;
}

const struct cmd_entry cmd_logs_entry = {
	"logs", "APP [--machine ID] [-n N] [-f]",
	"print an app's machine logs, merged by time; -f follows them",
	0, cmd_logs_exec,
};
