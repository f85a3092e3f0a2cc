/* opsdeck migrate dryrun FILE --db URL: run a migration and roll it back, reporting locks. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/common.h"
#include "core/json.h"
#include "core/util.h"
#include "migrate/db.h"
#include "migrate/sql.h"

extern const struct cmd_entry cmd_migrate_dryrun_entry;

/* A positive duration for --NAME; -1 after saying what is wrong. */
static int
timeout_parse(const char *name, const char *arg, int64_t *ms)
{
	if (duration_parse(arg, ms) < 0 || *ms <= 0) {
		fprintf(stderr, "opsdeck migrate dryrun: invalid --%s '%s': use 500ms, 2s, 1m\n",
		    name, arg);
		return -1;
	}
	return 0;
}

static int
cmd_migrate_dryrun_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "lock-timeout", required_argument, NULL, 't' },
		{ "statement-timeout", required_argument, NULL, 's' },
		{ "allow-nontransactional", no_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct dryrun_options o = {
		.lock_timeout_ms = 2000,
		.statement_timeout_ms = 60000,
	};
	struct buf text = BUF_INIT;
	const struct migrate_db *db;
	struct err e = { 0 };
	json_t *rep = NULL;
	int ch, r, ret = EXIT_FAILED;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			o.url = optarg;
			break;
		case 't':
			if (timeout_parse("lock-timeout", optarg,
			    &o.lock_timeout_ms) < 0)
				return EXIT_USAGE;
			break;
		case 's':
			if (timeout_parse("statement-timeout", optarg,
			    &o.statement_timeout_ms) < 0)
				return EXIT_USAGE;
			break;
		case 'n':
			o.allow_nontransactional = true;
			break;
		default:
			return cmd_usage(&cmd_migrate_dryrun_entry);
		}
	}
	if (argc - optind != 1 || o.url == NULL)
		return cmd_usage(&cmd_migrate_dryrun_entry);
	if ((db = migrate_db(&e)) == NULL ||
	    sql_file_read(argv[optind], &text, &e) < 0) {
		ret = cmd_fail("migrate dryrun", &e);
		goto out;
	}
	if ((r = db->dryrun_run(&o, argv[optind], buf_str(&text), text.len, &rep,
	    &e)) < 0) {
		ret = cmd_fail("migrate dryrun", &e);
		goto out;
	}
	if (ctx->json)
		cmd_print_json(rep);
	else
		db->dryrun_print(rep, stdout);
	if (r == DRYRUN_INTERRUPTED) {
		int sig = (int)json_int(rep, "signal", SIGINT);

		/* die of it, so that a shell loop running dry runs stops too */
		fflush(stdout);
		json_decref(rep);
		buf_release(&text);
		signal(sig, SIG_DFL);
		raise(sig);
		return 128 + sig;
	}
	ret = r == 0 ? EXIT_OK : EXIT_FAILED;
out:
	json_decref(rep);
	buf_release(&text);
	return ret;
}

const struct cmd_entry cmd_migrate_dryrun_entry = {
	"migrate dryrun",
	"FILE --db URL [--lock-timeout 2s] [--statement-timeout 60s] "
	"[--allow-nontransactional] [--json]",
	"run a migration in a rolled-back transaction and report its locks and rewrites",
	CMD_JSON, cmd_migrate_dryrun_exec,
};
