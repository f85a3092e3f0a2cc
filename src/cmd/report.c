/*
 * opsdeck report --actor A [--since T] [--format md|json]: an actor's report,
 * written by the daemon from the evidence and work ledgers (ledger/report.h).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "ledger/report.h"

#define REPORT_DEFAULT_SINCE_MS	(24LL * 3600 * 1000)

extern const struct cmd_entry cmd_report_entry;

static int
report_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "actor", required_argument, NULL, 'a' },
		{ "since", required_argument, NULL, 's' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	const char *actor = NULL, *format = ctx->json ? "json" : "md";
	int64_t since = wall_ms() - REPORT_DEFAULT_SINCE_MS;
	char *path, *md;
	json_t *j;
	int ch, code = EXIT_OK;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			actor = optarg;
			break;
		case 's':
			if (time_parse(optarg, wall_ms(), &since) < 0) {
				fprintf(stderr, "opsdeck report: --since '%s': give "
				    "a time (2026-12-07T09:00:00Z) or a duration "
				    "back from now (2h)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			if (strcmp(optarg, "md") != 0 && strcmp(optarg, "json") != 0) {
				fprintf(stderr, "opsdeck report: --format '%s': give "
				    "md or json\n", optarg);
				return EXIT_USAGE;
			}
			format = optarg;
			break;
		default:
			return cmd_usage(&cmd_report_entry);
		}
	}
	if (argc != optind || actor == NULL)
		return cmd_usage(&cmd_report_entry);
	if (cmd_check_name("report", "actor", actor) < 0)
		return EXIT_USAGE;
	path = xasprintf("/v1/report?actor=%s&since_ms=%lld", actor,
	    (long long)(since > 0 ? since : 0));
	j = cmd_call(ctx, "report", "GET", path, &code);
	free(path);
	if (j == NULL)
		return code;
	if (strcmp(format, "json") == 0)
		cmd_print_json(j);
	else {
		md = report_markdown(j);
		fputs(md, stdout);
		free(md);
	}
	json_decref(j);
	return EXIT_OK;
}

const struct cmd_entry cmd_report_entry = {
	"report", "--actor ACTOR [--since TIME|DURATION] [--format md|json]",
	"an actor's report, written from the evidence and work ledgers",
	CMD_NEEDS_DAEMON | CMD_JSON, report_exec,
};
