/* opsdeck migrate apply FILE|DIR --db URL: apply migrations, recorded in a ledger. */
#include <getopt.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd/common.h"
#include "config/config.h"
#include "migrate/lint.h"
#include "migrate/db.h"
#include "migrate/files.h"

extern const struct cmd_entry cmd_migrate_apply_entry;

static int
cmd_migrate_apply_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "override", required_argument, NULL, 'o' },
		{ "actor", required_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	struct apply_options o = { 0 };
	struct lint_options lo = { 0 };
	enum lint_severity fail_on = LINT_ERROR;
	struct config cfg;
	bool have_cfg = false;
	struct sql_files files = SQL_FILES_INIT;
	struct err e = { 0 };
	const struct migrate_db *db;
	struct passwd *pw;
	json_t *rep = NULL;
	int ch, r, ret = EXIT_FAILED;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o.url = optarg;
			break;
		case 'o':
			if (*optarg == '\0') {
				fprintf(stderr, "opsdeck migrate apply: --override needs a reason\n");
				return EXIT_USAGE;
			}
			o.override = optarg;
			break;
		case 'a':
			o.actor = optarg;
			break;
		default:
			return cmd_usage(&cmd_migrate_apply_entry);
		}
	}
	if (argc - optind != 1 || o.url == NULL)
		return cmd_usage(&cmd_migrate_apply_entry);
	/*
	 * Lint errors block with the rules and policy migrate lint follows, so apply
	 * refuses exactly what `migrate lint FILE` reports (its fail_on sets lint's exit
	 * status only: apply blocks on errors).
	 */
	if (cmd_migrate_config(ctx, "migrate apply", &cfg, &have_cfg) < 0)
		return EXIT_USAGE;
	if (have_cfg)
		lint_options_from_config(&cfg.migrate, &lo, &fail_on);
	o.lint = &lo;
	if (o.actor == NULL)
		o.actor = getenv("USER");
	if ((o.actor == NULL || *o.actor == '\0') &&
	    (pw = getpwuid(getuid())) != NULL)
		o.actor = pw->pw_name;
	if (o.actor == NULL || *o.actor == '\0')
		o.actor = "unknown";
	/* the approval gate of the account issue goes here (o.gate) */
	o.progress = ctx->json ? NULL : stdout;
	if ((db = migrate_db(&e)) == NULL ||
	    sql_files_add(&files, argv[optind], SQL_FILES_MIGRATIONS, &e) < 0 ||
	    (r = db->apply_run(&o, files.v, files.n, &rep, &e)) < 0) {
		ret = cmd_fail("migrate apply", &e);
		goto out;
	}
	if (ctx->json)
		cmd_print_json(rep);
	ret = r == 0 ? EXIT_OK : EXIT_FAILED;
out:
	json_decref(rep);
	sql_files_release(&files);
	if (have_cfg)
		config_release(&cfg);
	return ret;
}

const struct cmd_entry cmd_migrate_apply_entry = {
	"migrate apply",
	"FILE|DIR --db URL [--override REASON] [--actor NAME] [-c FILE] [--json]",
	"apply migrations in name order, each in its own transaction, recorded in a ledger",
	CMD_JSON, cmd_migrate_apply_exec,
};
