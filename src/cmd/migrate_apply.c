/*
 * opsdeck migrate apply FILE|DIR --db URL: apply migrations, recorded in the database's
 * ledger and, through the action gate, in opsdeck's evidence: by the daemon, or by this
 * process with --offline where no daemon runs.
 */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/common.h"
#include "config/config.h"
#include "core/json.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "ledger/gate.h"
#include "migrate/lint.h"
#include "migrate/db.h"
#include "migrate/files.h"
#include "store/state.h"
#include "store/store.h"

extern const struct cmd_entry cmd_migrate_apply_entry;

struct apply_args {
	struct cmd_ctx		*ctx;
	struct apply_options	 o;
	struct sql_files	 files;
	const char		*path;		/* the FILE|DIR argument */
	const char		*config_path;	/* the config followed, or NULL */
	int			 rc;		/* apply_run's */
	json_t			*report;
};

/* The exit code for apply_run's result, printing the report for --json. */
static int
apply_exit(struct cmd_ctx *ctx, int rc, const json_t *report)
{
	if (ctx->json && report != NULL)
		cmd_print_json(report);
	return rc == 0 ? EXIT_OK : EXIT_FAILED;
}

/*
 * Through the daemon's action gate: it records who applied what and runs the files
 * on its thread pool; this follows the job, printing its progress as it comes.
 */
static int
apply_via_daemon(struct apply_args *a)
{
	struct cmd_ctx *ctx = a->ctx;
	char *abs_path = NULL, *abs_cfg = NULL, *path = NULL, note[256];
	json_t *body, *job = NULL, *err;
	struct err e;
	const char *progress;
	json_int_t id, next = 0;
	sighandler_t before;
	int code = EXIT_FAILED;

	if ((abs_path = realpath(a->path, NULL)) == NULL ||
	    (a->config_path != NULL &&
	    (abs_cfg = realpath(a->config_path, NULL)) == NULL)) {
		err_errno(&e, "'%s'", abs_path == NULL ? a->path : a->config_path);
		code = cmd_fail("migrate apply", &e);
		goto out;
	}
	body = json_pack("{s:s, s:s}", "path", abs_path, "db", a->o.url);
	if (a->o.override != NULL)
		json_object_set_new(body, "override", json_string(a->o.override));
	if (abs_cfg != NULL)
		json_object_set_new(body, "config", json_string(abs_cfg));
	job = cmd_call_body(ctx, "migrate apply", "POST", "/v1/migrations/apply",
	    body, &code);
	json_decref(body);
	if (job == NULL) {
		if (code == EXIT_NO_DAEMON)
			fprintf(stderr, "opsdeck migrate apply: or apply without it "
			    "with --offline (recorded in the state dir's store)\n");
		goto out;
	}
	id = json_integer_value(json_object_get(job, "id"));
	snprintf(note, sizeof(note), "\nopsdeck migrate apply: stopped "
	    "following; apply %lld goes on in the daemon: `opsdeck migrate "
	    "status` shows how it ended\n", (long long)id);
	before = cmd_follow_interruptible(note);
	for (;;) {
		json_decref(job);
		free(path);
		path = xasprintf("/v1/migrations/apply/%lld?from=%lld",
		    (long long)id, (long long)next);
		if ((job = cmd_call(ctx, "migrate apply", "GET", path,
		    &code)) == NULL)
			break;
		progress = json_str(job, "progress");
		if (!ctx->json && progress != NULL) {
			fputs(progress, stdout);
			fflush(stdout);
		}
		next = json_integer_value(json_object_get(job, "next"));
		if (strcmp(json_str(job, "state"), "done") == 0)
			break;
		usleep(50 * 1000);
	}
	signal(SIGINT, before);
	if (job == NULL)
		goto out;
	if ((err = json_object_get(job, "error")) != NULL) {
		err_setk(&e, err_kind_parse(json_str(err, "kind")), "%s",
		    json_str(err, "message"));
		code = cmd_fail("migrate apply", &e);
		goto out;
	}
	code = apply_exit(ctx, (int)json_integer_value(json_object_get(job,
	    "result")), json_object_get(job, "report"));
out:
	json_decref(job);
	free(path);
	free(abs_path);
	free(abs_cfg);
	return code;
}

static int
apply_here(void *arg, struct err *e)
{
	struct apply_args *a = arg;
	const struct migrate_db *db;

	if ((db = migrate_db(e)) == NULL)
		return -1;
	a->rc = db->apply_run(&a->o, a->files.v, a->files.n, &a->report, e);
	if (a->rc == 1)
		return err_set(e, "a file was refused or failed: see the report");
	return a->rc;
}

/*
 * --offline: no daemon runs (a CI job, a migrate-only project), so this process runs
 * the files itself, through the same gate, recording to the state dir's store.
 */
static int
apply_offline(struct apply_args *a)
{
	struct cmd_ctx *ctx = a->ctx;
	struct store st;
	struct actor actor;
	struct gate_call call = { .action = "migrate.apply" };
	const struct migrate_db *db;
	char *dbpath = NULL, *safe = NULL, *target = NULL;
	struct err e;
	int code = EXIT_FAILED;

	if (!cmd_offline_actor(ctx, "migrate apply", "apply", &actor))
		return EXIT_USAGE;
	if (a->o.actor == NULL)
		a->o.actor = actor.name;
	if ((db = migrate_db(&e)) == NULL)
		return cmd_fail("migrate apply", &e);
	safe = db->url_redact(a->o.url);
	target = xasprintf("%s on %s", a->path, safe != NULL ? safe : "?");
	dbpath = state_store_path(ctx->state_dir);
	if (mkdir_p(ctx->state_dir, 0700, &e) < 0 ||
	    store_open(&st, dbpath, &e) < 0) {
		code = cmd_fail("migrate apply", &e);
		goto out;
	}
	call.target = target;
	if (gate_run(&st, &actor, &call, apply_here, a, &e) < 0 && a->rc != 1) {
		store_close(&st);
		code = cmd_fail("migrate apply", &e);
		goto out;
	}
	store_close(&st);
	code = apply_exit(ctx, a->rc, a->report);
out:
	free(dbpath);
	free(safe);
	free(target);
	return code;
}

static int
cmd_migrate_apply_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "override", required_argument, NULL, 'o' },
		{ "actor", required_argument, NULL, 'a' },
		{ "offline", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct apply_args a = { .ctx = ctx, .files = SQL_FILES_INIT };
	struct lint_options lo = { 0 };
	enum lint_severity fail_on = LINT_ERROR;
	struct config cfg;
	bool have_cfg = false, offline = false;
	struct err e = { 0 };
	int ch, ret = EXIT_FAILED;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			a.o.url = optarg;
			break;
		case 'o':
			if (*optarg == '\0') {
				fprintf(stderr, "opsdeck migrate apply: --override needs a reason\n");
				return EXIT_USAGE;
			}
			a.o.override = optarg;
			break;
		case 'a':
			a.o.actor = optarg;
			break;
		case 'f':
			offline = true;
			break;
		default:
			return cmd_usage(&cmd_migrate_apply_entry);
		}
	}
	if (argc - optind != 1 || a.o.url == NULL)
		return cmd_usage(&cmd_migrate_apply_entry);
	if (a.o.actor != NULL && !offline) {
		fprintf(stderr, "opsdeck migrate apply: --actor goes with --offline: "
		    "through the daemon, the actor is who calls it\n");
		return EXIT_USAGE;
	}
	a.path = argv[optind];
	/*
	 * Lint errors block with the rules and policy migrate lint follows, so apply
	 * refuses exactly what `migrate lint FILE` reports (its fail_on sets lint's exit
	 * status only: apply blocks on errors).
	 */
	if (cmd_migrate_config(ctx, "migrate apply", &cfg, &have_cfg) < 0)
		return EXIT_USAGE;
	if (have_cfg) {
		lint_options_from_config(&cfg.migrate, &lo, &fail_on);
		a.config_path = cmd_config_path(ctx);
	}
	a.o.lint = &lo;
	a.o.progress = ctx->json ? NULL : stdout;
	/* A path with no migrations is a usage error before anything is asked. */
	if (sql_files_add(&a.files, a.path, SQL_FILES_MIGRATIONS, &e) < 0) {
		ret = cmd_fail("migrate apply", &e);
		goto out;
	}
	ret = offline ? apply_offline(&a) : apply_via_daemon(&a);
out:
	json_decref(a.report);
	sql_files_release(&a.files);
	if (have_cfg)
		config_release(&cfg);
	return ret;
}

const struct cmd_entry cmd_migrate_apply_entry = {
	"migrate apply",
	"FILE|DIR --db URL [--override REASON] [--offline [--actor NAME]] [-c FILE] "
	"[--json]",
	"apply migrations in name order, each in its own transaction, through the "
	"daemon's gate",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, cmd_migrate_apply_exec,
};
