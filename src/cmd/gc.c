/*
 * opsdeck gc [--dry-run] [--offline]: remove the artifacts and logs the config's
 * retain: section no longer keeps (deploy/gc.h), through the action gate: the daemon's,
 * or with --offline, where no daemon runs, this process's on the state dir's store.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd/common.h"
#include "config/config.h"
#include "core/json.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "deploy/gc.h"
#include "ledger/gate.h"
#include "store/state.h"
#include "store/store.h"

extern const struct cmd_entry cmd_gc_entry;

/* What was removed (or would be), as a table, then the summary line. */
static void
report_print(const json_t *report)
{
	static const char *const hdr[] = { "KIND", "NAME", "SIZE", "WHY" };
	bool dry = json_bool(report, "dry_run");
	struct table t;
	const json_t *it;
	char size[32], *name;
	size_t i;

	table_init(&t, 4, hdr);
	json_array_foreach(json_object_get(report, "removed"), i, it) {
		if (strcmp(json_str(it, "kind"), "artifact") == 0)
			name = xasprintf("%.12s", json_str(it, "digest"));
		else
			name = xasprintf("%s/%s.log", json_str(it, "app"),
			    json_str(it, "machine"));
		size_format(json_int(it, "bytes", 0), size);
		const char *row[] = { json_str(it, "kind"), name, size,
		    json_str(it, "why") };

		table_add(&t, row);
		free(name);
	}
	if (t.nrows > 1)
		table_print(&t);
	table_release(&t);
	json_array_foreach(json_object_get(report, "removed"), i, it)
		if (json_str(it, "error") != NULL)
			fprintf(stderr, "opsdeck gc: %s\n", json_str(it, "error"));
	if (json_array_size(json_object_get(report, "removed")) == 0)
		printf("nothing to remove%s; kept %lld artifact%s\n", dry ?
		    " (dry run)" : "", json_int(report, "artifacts_kept", 0),
		    json_int(report, "artifacts_kept", 0) == 1 ? "" : "s");
	else
		printf("%s\n", json_str(report, "summary"));
}

static int
report_exit(struct cmd_ctx *ctx, const json_t *report)
{
	if (ctx->json)
		cmd_print_json(report);
	else
		report_print(report);
	return json_int(report, "failed", 0) > 0 ? EXIT_FAILED : EXIT_OK;
}

/* The daemon runs it through its gate (after any run before it); this follows it. */
static int
gc_via_daemon(struct cmd_ctx *ctx, bool dry_run)
{
	json_t *body, *job, *err;
	char *path = NULL, note[256];
	sighandler_t before;
	struct err e;
	int code = EXIT_FAILED;

	body = json_pack("{s:b}", "dry_run", dry_run);
	job = cmd_call_body(ctx, "gc", "POST", "/v1/gc", body, &code);
	json_decref(body);
	if (job == NULL) {
		if (code == EXIT_NO_DAEMON)
			fprintf(stderr, "opsdeck gc: or run it without the daemon "
			    "with --offline (recorded in the state dir's store)\n");
		return code;
	}
	path = xasprintf("/v1/gc/%lld",
	    (long long)json_integer_value(json_object_get(job, "id")));
	snprintf(note, sizeof(note), "\nopsdeck gc: stopped following; the run "
	    "goes on in the daemon: `opsdeck status` shows how it ended\n");
	before = cmd_follow_interruptible(note);
	for (;;) {
		json_decref(job);
		if ((job = cmd_call(ctx, "gc", "GET", path, &code)) == NULL)
			break;
		if (strcmp(json_str(job, "state"), "done") == 0)
			break;
		usleep(20 * 1000);
	}
	signal(SIGINT, before);
	if (job == NULL)
		goto out;
	if ((err = json_object_get(job, "error")) != NULL &&
	    json_object_get(job, "report") == NULL) {
		err_setk(&e, err_kind_parse(json_str(err, "kind")), "%s",
		    json_str(err, "message"));
		code = cmd_fail("gc", &e);
		goto out;
	}
	code = report_exit(ctx, json_object_get(job, "report"));
out:
	json_decref(job);
	free(path);
	return code;
}

/*
 * --offline: no daemon runs, so this process plans and removes, through the same gate,
 * recording to the state dir's store. It follows the config's retain: section, so the
 * config must load: a default would keep less than the file says.
 */
static int
gc_offline(struct cmd_ctx *ctx, bool dry_run)
{
	const char *cfg_path = cmd_config_path(ctx);
	struct cfg_diags diags = { NULL, 0 };
	struct config cfg;
	struct store st = { NULL, NULL, 0 };
	struct actor actor;
	struct gate_call call = { .action = "gc.run" };
	struct gc_run run;
	struct err e;
	char *dbpath = NULL, *target = NULL, *summary;
	json_t *report, *args = NULL;
	int code = EXIT_FAILED;

	if (!cmd_offline_actor(ctx, "gc", "run", &actor))
		return EXIT_USAGE;
	if (config_load(cfg_path, false, &cfg, &diags) < 0) {
		cfg_diags_print(stderr, &diags);
		fprintf(stderr, "opsdeck gc: --offline follows the retain: section "
		    "of '%s': fix it (opsdeck config check -c %s) or name the "
		    "config with -c FILE\n", cfg_path, cfg_path);
		cfg_diags_release(&diags);
		return EXIT_USAGE;
	}
	dbpath = state_store_path(ctx->state_dir);
	if (access(dbpath, F_OK) < 0) {
		fprintf(stderr, "opsdeck gc: opsdeck has never run on state dir "
		    "'%s': nothing to collect (pass --state DIR)\n",
		    ctx->state_dir);
		goto out;
	}
	if (store_open(&st, dbpath, &e) < 0) {
		code = cmd_fail("gc", &e);
		goto out;
	}
	target = xasprintf("%s%s", ctx->state_dir, dry_run ? " (dry run)" : "");
	call.target = target;
	call.args = args = json_pack("{sb sb}", "dry_run", dry_run, "offline", 1);
	if (gate_begin(&st, &actor, &call, &e) < 0) {
		code = cmd_fail("gc", &e);
		goto out;
	}
	if (gc_collect(&st, ctx->state_dir, &cfg.retain, dry_run, actor.name,
	    &run, &e) < 0) {
		gate_end(&st, &actor, &call, &e, NULL);
		gc_run_release(&run);
		code = cmd_fail("gc", &e);
		goto out;
	}
	if (run.failed > 0) {
		err_set(&e, "%zu of %zu could not be removed", run.failed,
		    run.nitems);
		gate_end(&st, &actor, &call, &e, NULL);
	} else {
		summary = gc_summary(&run);
		gate_end(&st, &actor, &call, NULL, summary);
		free(summary);
	}
	report = gc_run_json(&run);
	gc_run_release(&run);
	code = report_exit(ctx, report);
	json_decref(report);
out:
	if (st.db != NULL)
		store_close(&st);
	config_release(&cfg);
	free(dbpath);
	free(target);
	json_decref(args);
	return code;
}

static int
cmd_gc_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dry-run", no_argument, NULL, 'n' },
		{ "offline", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	bool dry_run = false, offline = false;
	int ch;

	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'n':
			dry_run = true;
			break;
		case 'f':
			offline = true;
			break;
		default:
			return cmd_usage(&cmd_gc_entry);
		}
	}
	if (optind != argc)
		return cmd_usage(&cmd_gc_entry);
	return offline ? gc_offline(ctx, dry_run) : gc_via_daemon(ctx, dry_run);
}

const struct cmd_entry cmd_gc_entry = {
	"gc", "[--dry-run] [--offline] [--json]",
	"remove the artifacts and logs retain: no longer keeps (--dry-run lists "
	"them)",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, cmd_gc_exec,
};
