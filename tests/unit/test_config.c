/*
 * opsdeck.yaml loading. tests/data/configs/good.yaml must load to the values below;
 * each tests/data/configs/bad/NAME.yaml must fail with exactly the diagnostics in
 * NAME.expected (one per line, as `opsdeck config check` prints them).
 * OPSDECK_REGEN=1 rewrites the .expected files (review the diff).
 */
#include <dirent.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/util.h"
#include "core/xmalloc.h"

#define BAD_DIR "tests/data/configs/bad"

/* Messages name files relative to the repository root: run from there. */
static int
setup(void **state)
{
	const char *src = getenv("OPSDECK_SRC");

	(void)state;
	if (src != NULL && chdir(src) < 0)
		return -1;
	unsetenv("OPSDECK_TEST_UNSET_VAR");
	unsetenv("OPSDECK_TEST_UNSET_OTHER");
	return 0;
}

static char *
cwd_join(const char *rel)
{
	char *cwd = getcwd(NULL, 0), *p;

	assert_non_null(cwd);
	p = xasprintf("%s/%s", cwd, rel);
	free(cwd);
	return p;
}

/* All diagnostics, formatted, one per line. */
static char *
diags_text(const struct cfg_diags *d)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < d->n; i++) {
		char *line = cfg_diag_format(&d->items[i]);

		buf_printf(&b, "%s\n", line);
		free(line);
	}
	return buf_detach(&b);
}

/* Loads text and returns its diagnostics ("" when it loads). */
static char *
load_errors(const char *text, bool check_commands)
{
	struct config cfg;
	struct cfg_diags d;
	char *out;
	int r;

	r = config_load_string("t.yaml", text, strlen(text), check_commands,
	    &cfg, &d);
	out = diags_text(&d);
	assert_int_equal(r, d.n == 0 ? 0 : -1);
	if (r == 0)
		config_release(&cfg);
	cfg_diags_release(&d);
	return out;
}

static const char *
env_get(const struct cfg_process *p, const char *key)
{
	size_t i;

	for (i = 0; i < p->nenv; i++)
		if (strcmp(p->env[i].key, key) == 0)
			return p->env[i].value;
	return NULL;
}

static void
test_good_config(void **state)
{
	struct config cfg;
	struct cfg_diags d;
	const struct cfg_app *app;
	const struct cfg_process *web, *worker, *fixed;
	char *dir = cwd_join("tests/data/configs");
	char *var = cwd_join("var");
	char *bin = cwd_join("build/examples/demo-app/demo-app");
	char *work = cwd_join("tests/data");
	char *sh = exec_find("sh");
	char *errs;

	(void)state;
	setenv("OPSDECK_TEST_OWNER", "ops team", 1);
	unsetenv("OPSDECK_TEST_GREETING");
	if (config_load("tests/data/configs/good.yaml", false, &cfg, &d) < 0) {
		errs = diags_text(&d);
		fail_msg("good.yaml did not load:\n%s", errs);
	}
	assert_int_equal(d.n, 0);
	assert_string_equal(cfg.path, "tests/data/configs/good.yaml");
	assert_string_equal(cfg.dir, dir);
	assert_string_equal(cfg.state_dir, var);
	assert_int_equal(cfg.port_from, 4100);
	assert_int_equal(cfg.port_to, 4199);
	assert_int_equal(cfg.log_max_bytes, 2 * 1024 * 1024);
	assert_int_equal(cfg.log_keep, 5);
	assert_int_equal(cfg.retain.releases, 5);
	assert_int_equal(cfg.retain.logs_ms, 36LL * 3600 * 1000);
	assert_int_equal(cfg.napps, 2);

	app = config_app(&cfg, "hotdash-staging");
	assert_non_null(app);
	assert_ptr_equal(app, &cfg.apps[0]);
	assert_string_equal(app->stage, "staging");
	assert_int_equal(app->pos.line, 12);
	assert_int_equal(app->pos.col, 3);
	assert_int_equal(app->nprocs, 2);

	web = cfg_app_process(app, "web");
	assert_non_null(web);
	assert_int_equal(web->pos.line, 20);
	assert_int_equal(web->argc, 3);
	assert_string_equal(web->argv[0], bin);
	assert_string_equal(web->argv[1], "--health-json");
	assert_string_equal(web->argv[2], "--greeting=hello");
	assert_null(web->argv[3]);
	assert_int_equal(web->count, 2);
	assert_int_equal(web->port_mode, CFG_PORT_AUTO);
	assert_string_equal(web->workdir, work);
	/* App env overlaid by the group's own, sorted by name. */
	assert_int_equal(web->nenv, 6);
	assert_string_equal(web->env[0].key, "DEMO_DEBUG");
	assert_string_equal(web->env[1].key, "DEMO_LEVEL");
	assert_string_equal(web->env[5].key, "PRICE");
	assert_string_equal(env_get(web, "DEMO_NAME"), "hotdash");
	assert_string_equal(env_get(web, "DEMO_LEVEL"), "4");
	assert_string_equal(env_get(web, "DEMO_DEBUG"), "true");
	assert_string_equal(env_get(web, "DEMO_OWNER"), "ops team");
	assert_string_equal(env_get(web, "DEMO_TILE_MS"), "20");
	assert_string_equal(env_get(web, "PRICE"), "$5");
	/* Health: the group's keys over defaults.health. */
	assert_true(web->health.enabled);
	assert_string_equal(web->health.path, "/healthz");
	assert_int_equal(web->health.interval_ms, 500);
	assert_int_equal(web->health.timeout_ms, 1000);
	assert_int_equal(web->health.grace_ms, 5000);
	assert_int_equal(web->health.passes, 1);
	assert_int_equal(web->health.failures, 3);
	/* Restart: backoff_max from the group, the rest from defaults.restart. */
	assert_int_equal(web->restart.backoff_min_ms, 250);
	assert_int_equal(web->restart.backoff_max_ms, 10000);
	assert_int_equal(web->restart.crashloop_limit, 4);
	assert_int_equal(web->restart.crashloop_window_ms, 120000);
	assert_int_equal(web->restart.stop_timeout_ms, 5000);

	worker = cfg_app_process(app, "worker");
	assert_non_null(worker);
	assert_non_null(sh);
	assert_string_equal(worker->argv[0], sh);	/* found in PATH */
	assert_string_equal(worker->argv[2], "exec sleep 3600");
	assert_int_equal(worker->count, 1);
	assert_int_equal(worker->port_mode, CFG_PORT_NONE);
	assert_false(worker->health.enabled);	/* no port, no checks */
	assert_string_equal(worker->workdir, dir);
	assert_string_equal(env_get(worker, "DEMO_LEVEL"), "3");
	assert_null(env_get(worker, "DEMO_TILE_MS"));
	assert_int_equal(worker->restart.backoff_max_ms, 20000);
	assert_int_equal(worker->restart.stop_timeout_ms, 8000);

	app = config_app(&cfg, "hotdash");
	assert_non_null(app);
	assert_string_equal(app->stage, "production");
	fixed = cfg_app_process(app, "web");
	assert_non_null(fixed);
	assert_string_equal(fixed->argv[0], "/bin/sh");
	assert_int_equal(fixed->port_mode, CFG_PORT_FIXED);
	assert_int_equal(fixed->port, 8080);
	assert_false(fixed->health.enabled);	/* health: false */
	assert_null(cfg_app_process(app, "worker"));
	assert_null(config_app(&cfg, "nope"));

	config_release(&cfg);
	assert_null(cfg.apps);
	cfg_diags_release(&d);
	free(dir);
	free(var);
	free(bin);
	free(work);
	free(sh);
	unsetenv("OPSDECK_TEST_OWNER");
}

static void
test_good_config_needs_its_variable(void **state)
{
	struct config cfg;
	struct cfg_diags d;

	(void)state;
	unsetenv("OPSDECK_TEST_OWNER");
	assert_int_equal(config_load("tests/data/configs/good.yaml", false,
	    &cfg, &d), -1);
	assert_int_equal(d.n, 1);
	assert_int_equal(d.items[0].pos.line, 18);
	assert_string_equal(d.items[0].keypath,
	    "apps.hotdash-staging.env.DEMO_OWNER");
	assert_null(cfg.apps);
	cfg_diags_release(&d);
}

static void
test_defaults(void **state)
{
	static const char text[] =
	    "apps:\n"
	    "  a:\n"
	    "    processes:\n"
	    "      web: {command: [/bin/sh], port: auto}\n"
	    "      worker: {command: [/bin/sh]}\n";
	const struct cfg_process *web, *worker;
	struct config cfg;
	struct cfg_diags d;
	char *cwd = getcwd(NULL, 0);

	(void)state;
	assert_int_equal(config_load_string("t.yaml", text, sizeof(text) - 1,
	    true, &cfg, &d), 0);
	assert_string_equal(cfg.dir, cwd);
	assert_null(cfg.state_dir);
	assert_int_equal(cfg.port_from, 4100);
	assert_int_equal(cfg.port_to, 4999);
	assert_int_equal(cfg.log_max_bytes, 10 * 1024 * 1024);
	assert_int_equal(cfg.log_keep, 3);
	assert_int_equal(cfg.retain.releases, 10);
	assert_int_equal(cfg.retain.logs_ms, 14LL * 24 * 3600 * 1000);
	assert_string_equal(cfg.apps[0].stage, "production");
	web = &cfg.apps[0].procs[0];
	assert_int_equal(web->count, 1);
	assert_int_equal(web->nenv, 0);
	assert_string_equal(web->workdir, cwd);
	assert_true(web->health.enabled);
	assert_string_equal(web->health.path, "/health");
	assert_int_equal(web->health.interval_ms, 2000);
	assert_int_equal(web->health.timeout_ms, 1000);
	assert_int_equal(web->health.grace_ms, 5000);
	assert_int_equal(web->health.passes, 1);
	assert_int_equal(web->health.failures, 3);
	assert_int_equal(web->restart.backoff_min_ms, 500);
	assert_int_equal(web->restart.backoff_max_ms, 30000);
	assert_int_equal(web->restart.crashloop_limit, 5);
	assert_int_equal(web->restart.crashloop_window_ms, 60000);
	assert_int_equal(web->restart.stop_timeout_ms, 10000);
	worker = &cfg.apps[0].procs[1];
	assert_int_equal(worker->port_mode, CFG_PORT_NONE);
	assert_false(worker->health.enabled);
	config_release(&cfg);
	cfg_diags_release(&d);
	free(cwd);
}

/* defaults: applies to every group; a group overrides key by key. */
static void
test_defaults_section(void **state)
{
	static const char text[] =
	    "defaults:\n"
	    "  health: false\n"
	    "  restart: {crashloop_limit: 9}\n"
	    "  stop_timeout: 0\n"
	    "apps:\n"
	    "  a:\n"
	    "    processes:\n"
	    "      off: {command: [/bin/sh], port: auto}\n"
	    "      on: {command: [/bin/sh], port: auto, health: {grace: 0}}\n"
	    "      mine: {command: [/bin/sh], restart: {crashloop_limit: 2}}\n"
	    "      empty: {command: [/bin/sh], restart: ~, env: ~}\n";
	struct config cfg;
	struct cfg_diags d;
	const struct cfg_app *a;

	(void)state;
	assert_int_equal(config_load_string("t.yaml", text, sizeof(text) - 1,
	    true, &cfg, &d), 0);
	a = &cfg.apps[0];
	assert_false(cfg_app_process(a, "off")->health.enabled);
	assert_true(cfg_app_process(a, "on")->health.enabled);
	assert_int_equal(cfg_app_process(a, "on")->health.grace_ms, 0);
	assert_string_equal(cfg_app_process(a, "on")->health.path, "/health");
	assert_int_equal(cfg_app_process(a, "off")->restart.crashloop_limit, 9);
	assert_int_equal(cfg_app_process(a, "mine")->restart.crashloop_limit,
	    2);
	assert_int_equal(cfg_app_process(a, "mine")->restart.backoff_min_ms,
	    500);
	assert_int_equal(cfg_app_process(a, "empty")->restart.crashloop_limit,
	    9);
	assert_int_equal(cfg_app_process(a, "empty")->restart.stop_timeout_ms,
	    0);
	config_release(&cfg);
	cfg_diags_release(&d);
}

static void
test_expand(void **state)
{
	static const char text[] =
	    "apps:\n"
	    "  a:\n"
	    "    processes:\n"
	    "      web:\n"
	    "        command: [/bin/sh, '${OPSDECK_T_A}/x', '$${OPSDECK_T_A}']\n"
	    "        count: ${OPSDECK_T_COUNT:-3}\n"
	    "        env:\n"
	    "          SET: ${OPSDECK_T_A}\n"
	    "          SET_DEFAULT: ${OPSDECK_T_A:-unused}\n"
	    "          UNSET_DEFAULT: ${OPSDECK_T_UNSET:-a default, with spaces}\n"
	    "          EMPTY_DEFAULT: ${OPSDECK_T_EMPTY:-used}\n"
	    "          EMPTY: \"[${OPSDECK_T_EMPTY}]\"\n"
	    "          NO_DEFAULT: \"[${OPSDECK_T_UNSET:-}]\"\n"
	    "          TWO: ${OPSDECK_T_A}${OPSDECK_T_A}\n"
	    "          DOLLARS: $$ $$$$ $HOME a$ $5\n"
	    "          PLAIN: no variables here\n";
	const struct cfg_process *p;
	struct config cfg;
	struct cfg_diags d;

	(void)state;
	setenv("OPSDECK_T_A", "alpha", 1);
	setenv("OPSDECK_T_EMPTY", "", 1);
	unsetenv("OPSDECK_T_UNSET");
	unsetenv("OPSDECK_T_COUNT");
	assert_int_equal(config_load_string("t.yaml", text, sizeof(text) - 1,
	    false, &cfg, &d), 0);
	p = &cfg.apps[0].procs[0];
	assert_string_equal(p->argv[1], "alpha/x");
	assert_string_equal(p->argv[2], "${OPSDECK_T_A}");
	assert_int_equal(p->count, 3);
	assert_string_equal(env_get(p, "SET"), "alpha");
	assert_string_equal(env_get(p, "SET_DEFAULT"), "alpha");
	assert_string_equal(env_get(p, "UNSET_DEFAULT"),
	    "a default, with spaces");
	assert_string_equal(env_get(p, "EMPTY_DEFAULT"), "used");
	assert_string_equal(env_get(p, "EMPTY"), "[]");
	assert_string_equal(env_get(p, "NO_DEFAULT"), "[]");
	assert_string_equal(env_get(p, "TWO"), "alphaalpha");
	assert_string_equal(env_get(p, "DOLLARS"), "$ $$ $HOME a$ $5");
	assert_string_equal(env_get(p, "PLAIN"), "no variables here");
	config_release(&cfg);
	cfg_diags_release(&d);
	unsetenv("OPSDECK_T_A");
	unsetenv("OPSDECK_T_EMPTY");
}

static void
test_expand_errors(void **state)
{
	char *errs;

	(void)state;
	unsetenv("OPSDECK_T_UNSET");
	errs = load_errors("apps: {a: {processes: {w: {command: [/bin/sh], "
	    "count: '${OPSDECK_T_UNSET}'}}}}\n", false);
	assert_string_equal(errs, "t.yaml:1:55: apps.a.processes.w.count: "
	    "undefined variable 'OPSDECK_T_UNSET': set it in the environment "
	    "or write ${OPSDECK_T_UNSET:-default}\n");
	free(errs);
	errs = load_errors("apps: {a: {processes: {w: {command: [/bin/sh, "
	    "'${A'], env: {X: '${1X}', Y: '${A:-x'}}}}}\n", false);
	assert_string_equal(errs,
	    "t.yaml:1:47: apps.a.processes.w.command[1]: unclosed '${': add "
	    "the '}', or write '$$' for a literal '$'\n"
	    "t.yaml:1:64: apps.a.processes.w.env.X: invalid variable name "
	    "'1X': use letters, digits and '_', like ${APP_PORT} or "
	    "${APP_PORT:-8080}\n"
	    "t.yaml:1:76: apps.a.processes.w.env.Y: unclosed '${': add the "
	    "'}', or write '$$' for a literal '$'\n");
	free(errs);
}

/* retain: counts and retention ages, at their limits and past them. */
static void
test_retain(void **state)
{
	static const char app[] = "apps: {a: {processes: {w: {command: "
	    "[/bin/sh]}}}}\n";
	static const struct {
		const char	*value;		/* of retain.logs */
		int64_t		 ms;		/* 0: an error */
	} ages[] = {
		{ "90m", 90LL * 60000 }, { "36h", 36LL * 3600000 },
		{ "3650d", 3650LL * 86400000 }, { "1m", 60000 },
		{ "3651d", 0 }, { "0m", 0 }, { "14", 0 }, { "1.5d", 0 },
		{ "d", 0 }, { "-1d", 0 }, { "2w", 0 }, { "1d ", 0 },
		{ "99999999999999999999d", 0 },
	};
	struct config cfg;
	struct cfg_diags d;
	size_t i;
	char *text, *errs;

	(void)state;
	for (i = 0; i < sizeof(ages) / sizeof(ages[0]); i++) {
		text = xasprintf("retain: {releases: 0, logs: '%s'}\n%s",
		    ages[i].value, app);
		if (ages[i].ms == 0) {
			errs = load_errors(text, false);
			if (strncmp(errs, "t.yaml:1:", 9) != 0 ||
			    strstr(errs, "retain.logs: expected a duration") ==
			    NULL)
				fail_msg("'%s': %s", ages[i].value, errs);
			free(errs);
		} else {
			assert_int_equal(config_load_string("t.yaml", text,
			    strlen(text), false, &cfg, &d), 0);
			assert_int_equal(cfg.retain.logs_ms, ages[i].ms);
			assert_int_equal(cfg.retain.releases, 0);
			config_release(&cfg);
			cfg_diags_release(&d);
		}
		free(text);
	}
	text = xasprintf("retain: {releases: 1001}\n%s", app);
	errs = load_errors(text, false);
	assert_string_equal(errs, "t.yaml:1:20: retain.releases: expected an "
	    "integer 0..1000, got '1001'\n");
	free(errs);
	free(text);
}

/* Every .yaml under bad/ against its .expected, byte for byte. */
static void
test_bad_configs(void **state)
{
	bool regen = getenv("OPSDECK_REGEN") != NULL;
	struct dirent **ents;
	int n, i, checked = 0, failed = 0;

	(void)state;
	n = scandir(BAD_DIR, &ents, NULL, alphasort);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		const char *name = ents[i]->d_name;
		size_t len = strlen(name);
		struct buf want = BUF_INIT;
		struct config cfg;
		struct cfg_diags d;
		struct err e;
		char *yaml, *exp, *got;
		size_t j;
		int r;

		if (len < 6 || strcmp(name + len - 5, ".yaml") != 0)
			goto next;
		yaml = xasprintf("%s/%s", BAD_DIR, name);
		exp = xasprintf("%s/%.*s.expected", BAD_DIR, (int)(len - 5),
		    name);
		r = config_load(yaml, true, &cfg, &d);
		got = diags_text(&d);
		if (r != -1 || d.n == 0) {
			print_error("%s: loaded, but should fail\n", yaml);
			failed++;
		}
		for (j = 1; j < d.n; j++) {
			const struct cfg_pos *a = &d.items[j - 1].pos;
			const struct cfg_pos *b = &d.items[j].pos;

			if (a->line > b->line ||
			    (a->line == b->line && a->col > b->col)) {
				print_error("%s: diagnostics out of order\n",
				    yaml);
				failed++;
			}
		}
		if (cfg.apps != NULL || cfg.path != NULL) {
			print_error("%s: config not released on error\n", yaml);
			failed++;
		}
		if (regen) {
			assert_int_equal(file_write_atomic(exp, got,
			    strlen(got), 0644, &e), 0);
		} else if (file_read(exp, 0, &want, &e) < 0) {
			print_error("%s\n", e.msg);
			failed++;
		} else if (strcmp(buf_str(&want), got) != 0) {
			print_error("%s: diagnostics differ\n--- expected\n%s"
			    "--- got\n%s", yaml, buf_str(&want), got);
			failed++;
		}
		checked++;
		buf_release(&want);
		cfg_diags_release(&d);
		free(got);
		free(exp);
		free(yaml);
next:
		free(ents[i]);
	}
	free(ents);
	assert_true(checked >= 25);
	assert_int_equal(failed, 0);
}

static void
test_missing_file(void **state)
{
	struct config cfg;
	struct cfg_diags d;
	char *line;

	(void)state;
	assert_int_equal(config_load("tests/data/configs/nope.yaml", true,
	    &cfg, &d), -1);
	assert_int_equal(d.n, 1);
	line = cfg_diag_format(&d.items[0]);
	assert_string_equal(line, "tests/data/configs/nope.yaml: cannot open "
	    "'tests/data/configs/nope.yaml': No such file or directory: name "
	    "the config with -c FILE or $OPSDECK_CONFIG (opsdeck.yaml(5) "
	    "describes it)");
	free(line);
	cfg_diags_release(&d);
	assert_int_equal(d.n, 0);
}

/* Found in walking order, printed in file order, none dropped. */
static void
test_all_errors_sorted(void **state)
{
	char *errs;

	(void)state;
	errs = load_errors(
	    "apps:\n"
	    "  b:\n"
	    "    processes:\n"
	    "      w: {command: [/bin/sh], port: 9000}\n"
	    "  a:\n"
	    "    processes:\n"
	    "      w: {command: [/bin/sh], port: 9000, count: x}\n"
	    "ports: {from: 9000, to: 9010, form: 1}\n", false);
	assert_string_equal(errs,
	    "t.yaml:4:37: apps.b.processes.w.port: port 9000 is inside the "
	    "auto range 9000..9010: choose a port outside it or move 'ports'\n"
	    "t.yaml:7:37: apps.a.processes.w.port: port 9000 is already used "
	    "by apps.b.processes.w.port: choose another\n"
	    "t.yaml:7:50: apps.a.processes.w.count: expected an integer "
	    "1..64, got 'x'\n"
	    "t.yaml:8:31: ports.form: unknown key 'form' (did you mean "
	    "'from'?)\n");
	free(errs);
}

static void
test_command_resolution(void **state)
{
	static const char text[] =
	    "apps: {a: {processes: {\n"
	    "  rel: {command: [./bin/../bin/app, x], workdir: ../w},\n"
	    "  abs: {command: [/opt/./app//run]},\n"
	    "  bare: {command: [opsdeck-no-such-program]}}}}\n";
	struct config cfg;
	struct cfg_diags d;
	const struct cfg_app *a;

	(void)state;
	assert_int_equal(config_load_string("/srv/fleet/opsdeck.yaml", text,
	    sizeof(text) - 1, false, &cfg, &d), 0);
	assert_string_equal(cfg.dir, "/srv/fleet");
	a = &cfg.apps[0];
	assert_string_equal(cfg_app_process(a, "rel")->argv[0],
	    "/srv/fleet/bin/app");
	assert_string_equal(cfg_app_process(a, "rel")->workdir, "/srv/w");
	assert_string_equal(cfg_app_process(a, "abs")->argv[0], "/opt/app/run");
	/* Not checked, not found: left for PATH at spawn time. */
	assert_string_equal(cfg_app_process(a, "bare")->argv[0],
	    "opsdeck-no-such-program");
	config_release(&cfg);
	cfg_diags_release(&d);
}

static void
test_digest(void **state)
{
	static const char one[] =
	    "apps:\n  a:\n    processes:\n      w: {command: [/bin/sh], "
	    "port: auto}\n  b:\n    processes:\n      w: {command: [/bin/sh]}\n";
	static const char moved[] =
	    "# a comment moves every line\napps:\n  a:\n    processes:\n"
	    "      w:\n        command: [/bin/sh]\n        port: auto\n"
	    "  b:\n    processes:\n      w: {command: [/bin/sh]}\n";
	static const char env_ab[] =
	    "apps: {a: {env: {A: 1, B: 2}, processes: {w: {command: [/bin/sh]}}}}";
	static const char env_ba[] =
	    "apps: {a: {env: {B: 2, A: 1}, processes: {w: {command: [/bin/sh]}}}}";
	static const char changed[] =
	    "apps:\n  a:\n    processes:\n      w: {command: [/bin/sh], "
	    "port: auto, count: 2}\n  b:\n    processes:\n"
	    "      w: {command: [/bin/sh]}\n";
	struct config c1, c2, c3;
	struct cfg_diags d;
	char a1[65], a2[65], a3[65], b1[65], b3[65];
	size_t i;

	(void)state;
	assert_int_equal(config_load_string("t.yaml", one, sizeof(one) - 1,
	    false, &c1, &d), 0);
	assert_int_equal(config_load_string("t.yaml", moved, sizeof(moved) - 1,
	    false, &c2, &d), 0);
	assert_int_equal(config_load_string("t.yaml", changed,
	    sizeof(changed) - 1, false, &c3, &d), 0);
	cfg_app_digest(&c1.apps[0], a1);
	cfg_app_digest(&c2.apps[0], a2);
	cfg_app_digest(&c3.apps[0], a3);
	cfg_app_digest(&c1.apps[1], b1);
	cfg_app_digest(&c3.apps[1], b3);
	assert_int_equal(strlen(a1), 64);
	for (i = 0; i < 64; i++)
		assert_non_null(strchr("0123456789abcdef", a1[i]));
	assert_string_equal(a1, a2);	/* positions are not config */
	assert_string_not_equal(a1, a3);	/* count changed */
	assert_string_equal(b1, b3);	/* the other app did not */
	assert_string_not_equal(a1, b1);
	config_release(&c1);
	config_release(&c2);
	config_release(&c3);
	/* Reordered variables are the same config. */
	assert_int_equal(config_load_string("t.yaml", env_ab, sizeof(env_ab) - 1,
	    false, &c1, &d), 0);
	assert_int_equal(config_load_string("t.yaml", env_ba, sizeof(env_ba) - 1,
	    false, &c2, &d), 0);
	cfg_app_digest(&c1.apps[0], a1);
	cfg_app_digest(&c2.apps[0], a2);
	assert_string_equal(a1, a2);
	config_release(&c1);
	config_release(&c2);
}

static void
test_diag_format(void **state)
{
	struct cfg_diag full = { "f.yaml", { 3, 7 }, "apps.a", "bad" };
	struct cfg_diag nopath = { "f.yaml", { 1, 1 }, "", "empty config" };
	struct cfg_diag nopos = { "f.yaml", { 0, 0 }, "", "cannot open" };
	char *s;

	(void)state;
	s = cfg_diag_format(&full);
	assert_string_equal(s, "f.yaml:3:7: apps.a: bad");
	free(s);
	s = cfg_diag_format(&nopath);
	assert_string_equal(s, "f.yaml:1:1: empty config");
	free(s);
	s = cfg_diag_format(&nopos);
	assert_string_equal(s, "f.yaml: cannot open");
	free(s);
}

/* Inputs a fuzzer found or could: they must fail cleanly, not crash. */
static void
test_hostile_input(void **state)
{
	struct buf deep = BUF_INIT;
	char *errs;
	int i;

	(void)state;
	for (i = 0; i < 10000; i++)
		buf_addch(&deep, '[');
	errs = load_errors(buf_str(&deep), false);
	assert_string_equal(errs, "t.yaml:1:65: nested deeper than 64 levels: "
	    "flatten it\n");
	free(errs);
	buf_release(&deep);
	errs = load_errors("apps: {a: {processes: {w: {command: [/bin/sh], "
	    "stop_timeout: nan}}}}\n", false);
	assert_non_null(strstr(errs, "got 'nan'"));
	free(errs);
	errs = load_errors("apps: {a: {processes: {w: {command: [/bin/sh], "
	    "stop_timeout: 0x10}}}}\n", false);
	assert_non_null(strstr(errs, "got '0x10'"));
	free(errs);
	errs = load_errors("apps: {a: {processes: {w: {command: [\"/bin/sh\\0x\"]"
	    "}}}}\n", false);
	assert_non_null(strstr(errs, "NUL character"));
	free(errs);
	errs = load_errors("logs: {max_size: 17179869184GiB}\n"
	    "apps: {a: {processes: {w: {command: [/bin/sh], "
	    "count: 99999999999999999999}}}}\n", false);
	assert_non_null(strstr(errs, "got '17179869184GiB'"));
	assert_non_null(strstr(errs, "got '99999999999999999999'"));
	free(errs);
	errs = load_errors("? [a, b]\n: c\n", false);
	assert_non_null(strstr(errs, "expected a key name, got a list"));
	free(errs);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good_config),
		cmocka_unit_test(test_good_config_needs_its_variable),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_defaults_section),
		cmocka_unit_test(test_expand),
		cmocka_unit_test(test_expand_errors),
		cmocka_unit_test(test_retain),
		cmocka_unit_test(test_bad_configs),
		cmocka_unit_test(test_missing_file),
		cmocka_unit_test(test_all_errors_sorted),
		cmocka_unit_test(test_command_resolution),
		cmocka_unit_test(test_digest),
		cmocka_unit_test(test_diag_format),
		cmocka_unit_test(test_hostile_input),
	};

	return cmocka_run_group_tests(tests, setup, NULL);
}
