/* opsdeck migrate verify FILE --db URL: check that what a migration creates is there and usable. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/common.h"
#include "migrate/sql.h"
#include "migrate/db.h"

extern const struct cmd_entry cmd_migrate_verify_entry;

static int
cmd_migrate_verify_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	struct buf text = BUF_INIT;
	const struct migrate_db *db;
	struct err e = { 0 };
	json_t *rep = NULL;
	const char *url = NULL;
	int ch, r, ret = EXIT_FAILED;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch == 'd')
			url = optarg;
		else
			return cmd_usage(&cmd_migrate_verify_entry);
	}
	if (argc - optind != 1 || url == NULL)
		return cmd_usage(&cmd_migrate_verify_entry);
	if ((db = migrate_db(&e)) == NULL ||
	    sql_file_read(argv[optind], &text, &e) < 0 ||
	    (r = db->verify_run(url, argv[optind], buf_str(&text), text.len,
	    &rep, &e)) < 0) {
		ret = cmd_fail("migrate verify", &e);
		goto out;
	}
	if (ctx->json)
		cmd_print_json(rep);
	else
		db->verify_print(rep, stdout);
	ret = r == 0 ? EXIT_OK : EXIT_FAILED;
out:
	json_decref(rep);
	buf_release(&text);
	return ret;
}

const struct cmd_entry cmd_migrate_verify_entry = {
	"migrate verify", "FILE --db URL [--json]",
	"check that what a migration creates exists and is usable, with EXPLAIN for new indexes",
	CMD_JSON, cmd_migrate_verify_exec,
};
