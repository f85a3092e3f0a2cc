/* opsdeck migrate status FILE|DIR --db URL: applied, pending and changed files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "cmd/common.h"
#include "migrate/db.h"

extern const struct cmd_entry cmd_migrate_status_entry;

static int
cmd_migrate_status_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct err e = { 0 };
	struct stat sb;
	json_t *rep = NULL;
	const char *url = NULL;
	char **paths = NULL;
	const struct migrate_db *db = NULL;
	size_t n = 0, i;
	int ch, json = ctx->json, r, ret = EXIT_FAILED;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'd')
			url = optarg;
		else if (ch == 'j')
			json = 1;
		else
			return cmd_usage(&cmd_migrate_status_entry);
	}
	if (argc - optind != 1 || url == NULL)
		return cmd_usage(&cmd_migrate_status_entry);
	if ((db = migrate_db(&e)) == NULL ||
	    db->files(argv[optind], &paths, &n, &e) < 0 ||
	    (r = db->apply_status(url, stat(argv[optind], &sb) == 0 &&
	    S_ISDIR(sb.st_mode) ? argv[optind] : NULL, paths, n, &rep, &e)) < 0) {
		ret = cmd_fail("migrate status", &e);
		goto out;
	}
	if (json)
		cmd_print_json(rep);
	else
		db->apply_status_print(rep, stdout);
	ret = r == 0 ? EXIT_OK : EXIT_FAILED;
out:
	json_decref(rep);
	for (i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
	return ret;
}

const struct cmd_entry cmd_migrate_status_entry = {
	"migrate status", "FILE|DIR --db URL [--json]",
	"list applied, pending and changed migrations (exit 1 if one changed)",
	CMD_JSON, cmd_migrate_status_exec,
};
