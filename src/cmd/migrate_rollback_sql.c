/* opsdeck migrate rollback-sql FILE: down SQL for an up migration. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/common.h"
#include "migrate/rollback.h"
#include "migrate/sql.h"

extern const struct cmd_entry cmd_migrate_rollback_sql_entry;

static int
cmd_migrate_rollback_sql_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ NULL, 0, NULL, 0 },
	};
	struct buf text = BUF_INIT;
	struct rollback rb = { 0 };
	const char *path;
	struct err e = { 0 };
	json_t *j = NULL;
	int ret = EXIT_FAILED;

	optind = 0;
	if (getopt_long(argc, argv, "", longopts, NULL) != -1)
		return cmd_usage(&cmd_migrate_rollback_sql_entry);
	if (argc - optind != 1)
		return cmd_usage(&cmd_migrate_rollback_sql_entry);
	path = argv[optind];
	if (sql_file_read(path, &text, &e) < 0 ||
	    rollback_generate(path, buf_str(&text), text.len, &rb, &e) < 0) {
		ret = cmd_fail("migrate rollback-sql", &e);
		goto out;
	}
	if (ctx->json) {
		j = rollback_json(path, &rb);
		cmd_print_json(j);
	} else
		fputs(rb.sql, stdout);
	if (rb.irreversible > 0 && !ctx->json)
		fprintf(stderr, "opsdeck migrate rollback-sql: %s: %zu statement%s cannot be undone (listed at the top of the script)\n",
		    path, rb.irreversible, rb.irreversible == 1 ? "" : "s");
	if (rb.conditional > 0 && !ctx->json)
		fprintf(stderr, "opsdeck migrate rollback-sql: %s: %zu statement%s IF NOT EXISTS: the down drops what may have existed before (listed at the top of the script)\n",
		    path, rb.conditional, rb.conditional == 1 ? " uses" : "s use");
	/* 1 tells CI the file is not fully reversible; the script is printed anyway */
	ret = rb.irreversible > 0 || rb.conditional > 0 ? EXIT_FAILED : EXIT_OK;
out:
	json_decref(j);
	rollback_release(&rb);
	buf_release(&text);
	return ret;
}

const struct cmd_entry cmd_migrate_rollback_sql_entry = {
	"migrate rollback-sql", "FILE [--json]",
	"print down SQL for an up migration (exit 1 if some of it is irreversible or conditional)",
	CMD_JSON, cmd_migrate_rollback_sql_exec,
};
