/* opsdeck migrate status FILE|DIR --db URL: applied, pending and changed files. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/common.h"
#include "migrate/db.h"
#include "migrate/files.h"

extern const struct cmd_entry cmd_migrate_status_entry;

static int
cmd_migrate_status_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct sql_files files = SQL_FILES_INIT;
	struct err e = { 0 };
	json_t *rep = NULL;
	const char *url = NULL;
	const struct migrate_db *db = NULL;
	int ch, r, ret = EXIT_FAILED;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'd')
			url = optarg;
		else
			return cmd_usage(&cmd_migrate_status_entry);
	}
	if (argc - optind != 1 || url == NULL)
		return cmd_usage(&cmd_migrate_status_entry);
	if ((db = migrate_db(&e)) == NULL ||
	    sql_files_add(&files, argv[optind], SQL_FILES_MIGRATIONS, &e) < 0 ||
	    (r = db->apply_status(url, argv[optind], files.v, files.n, &rep,
	    &e)) < 0) {
		ret = cmd_fail("migrate status", &e);
		goto out;
	}
	if (ctx->json)
		cmd_print_json(rep);
	else
		db->apply_status_print(rep, stdout);
	ret = r == 0 ? EXIT_OK : EXIT_FAILED;
out:
	json_decref(rep);
	sql_files_release(&files);
	return ret;
}

const struct cmd_entry cmd_migrate_status_entry = {
	"migrate status", "FILE|DIR --db URL [--json]",
	"list applied, pending and changed migrations (exit 1 if one changed)",
	CMD_JSON, cmd_migrate_status_exec,
};
