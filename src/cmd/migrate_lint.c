/*
 * opsdeck migrate lint FILE|DIR…: every statement parsed by PostgreSQL's grammar,
 * checked against the rule catalogue, with the locks it takes. Files are linted by
 * --jobs workers and printed in the order given (json and sarif collect results, not
 * parse trees), the same bytes whatever the number of workers.
 */
#include <errno.h>
#include <getopt.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "cmd/common.h"
#include "config/config.h"
#include "migrate/files.h"
#include "migrate/lint.h"
#include "migrate/report.h"

extern const struct cmd_entry cmd_migrate_lint_entry;

#define NAME "migrate lint"

/* "13" or "13.4": the major version. */
static int
pg_version_parse(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || (*end != '\0' && *end != '.') || v < 9 ||
	    v > 99)
		return -1;
	*out = (int)v;
	return 0;
}

#define JOBS_MAX	256

/* "4": a number of workers, 1 to JOBS_MAX. */
static int
jobs_parse(const char *s, int *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < 1 || v > JOBS_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

/* The CPUs this process may run on (taskset, cgroup cpusets), else those online. */
static int
jobs_default(void)
{
	cpu_set_t set;
	long n;

	if (sched_getaffinity(0, sizeof(set), &set) == 0 &&
	    (n = CPU_COUNT(&set)) > 0)
		return n < JOBS_MAX ? (int)n : JOBS_MAX;
	n = sysconf(_SC_NPROCESSORS_ONLN);
	return n < 1 ? 1 : n < JOBS_MAX ? (int)n : JOBS_MAX;
}

static int
cmd_migrate_lint_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "fail-on", required_argument, NULL, 'F' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "include", required_argument, NULL, 'i' },
		{ "policy", required_argument, NULL, 'p' },
		{ "pg-version", required_argument, NULL, 'v' },
		{ "assume-in-transaction", no_argument, NULL, 't' },
		{ "jobs", required_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct lint_options opts = { 0 };
	enum lint_format format = ctx->json ? LINT_FORMAT_JSON : LINT_FORMAT_TTY;
	enum lint_severity fail_on = LINT_ERROR;
	struct sql_files files = SQL_FILES_INIT;
	struct err e = { 0 };
	json_t *doc = NULL;
	struct config cfg;
	bool have_cfg = false;
	int ch, i, worst, jobs = 0, ret = EXIT_USAGE;

	/* The config's migrate: section first; flags override it. */
	if (cmd_migrate_config(ctx, NAME, &cfg, &have_cfg) < 0)
		return EXIT_USAGE;
	if (have_cfg)
		lint_options_from_config(&cfg.migrate, &opts, &fail_on);
	optind = 0;
	while ((ch = getopt_long(argc, argv, "j:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			if (lint_format_parse(optarg, &format) < 0) {
				fprintf(stderr, "opsdeck %s: unknown format '%s' "
				    "(tty, json, gcc, sarif, github)\n", NAME,
				    optarg);
				goto out;
			}
			break;
		case 'F':
			if (lint_severity_parse(optarg, &fail_on) < 0) {
				fprintf(stderr, "opsdeck %s: --fail-on '%s': "
				    "expected error, warning or info\n", NAME,
				    optarg);
				goto out;
			}
			break;
		case 'x':
			if (lint_rules_check(optarg, "--exclude", &e) < 0) {
				cmd_fail(NAME, &e);
				goto out;
			}
			opts.exclude = optarg;
			break;
		case 'i':
			if (lint_include_check(optarg, "--include", &e) < 0) {
				cmd_fail(NAME, &e);
				goto out;
			}
			opts.include = optarg;
			break;
		case 'p':
			if (lint_policy_parse(optarg, &opts.policy) < 0) {
				fprintf(stderr, "opsdeck %s: unknown policy '%s' "
				    "(additive-only, none)\n", NAME, optarg);
				goto out;
			}
			break;
		case 'v':
			if (pg_version_parse(optarg, &opts.pg_version) < 0) {
				fprintf(stderr, "opsdeck %s: --pg-version '%s': "
				    "expected a major version such as 15\n", NAME,
				    optarg);
				goto out;
			}
			break;
		case 't':
			opts.assume_in_transaction = true;
			break;
		case 'j':
			if (jobs_parse(optarg, &jobs) < 0) {
				fprintf(stderr, "opsdeck %s: --jobs '%s': expected "
				    "a number of workers from 1 to %d\n", NAME,
				    optarg, JOBS_MAX);
				goto out;
			}
			break;
		default:
			ret = cmd_usage(&cmd_migrate_lint_entry);
			goto out;
		}
	}
	if (argc - optind < 1) {
		ret = cmd_usage(&cmd_migrate_lint_entry);
		goto out;
	}
	for (i = optind; i < argc; i++) {
		if (sql_files_add(&files, argv[i], 0, &e) < 0) {
			cmd_fail(NAME, &e);
			goto out;
		}
	}
	if (jobs == 0)
		jobs = jobs_default();
	if (lint_paths(&opts, files.v, files.n, jobs, format, stdout, &doc,
	    &worst, &e) < 0) {
		cmd_fail(NAME, &e);
		goto out;
	}
	if (doc != NULL)
		cmd_print_json(doc);
	ret = worst >= (int)fail_on ? EXIT_FAILED : EXIT_OK;
out:
	json_decref(doc);
	sql_files_release(&files);
	if (have_cfg)
		config_release(&cfg);
	return ret;
}

const struct cmd_entry cmd_migrate_lint_entry = {
	"migrate lint",
	"FILE|DIR... [--format tty|json|gcc|sarif|github] "
	"[--fail-on error|warning|info] [--exclude RULE,...] "
	"[--include RULE,...] "
	"[--policy additive-only] [--pg-version N] [--assume-in-transaction] "
	"[-j|--jobs N] [-c FILE]",
	"check migrations for locking, rewrites and data loss (exit 1 on findings)",
	CMD_JSON, cmd_migrate_lint_exec,
};
