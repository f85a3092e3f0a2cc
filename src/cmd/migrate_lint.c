/*
 * opsdeck migrate lint FILE|DIR…: every statement parsed by PostgreSQL's grammar,
 * checked against the rule catalogue, with the locks it takes. Files are linted and
 * printed one at a time (json and sarif collect results, not parse trees).
 */
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>

#include "cmd/common.h"
#include "config/config.h"
#include "core/xmalloc.h"
#include "migrate/lint.h"
#include "migrate/sql.h"

extern const struct cmd_entry cmd_migrate_lint_entry;

#define NAME "migrate lint"

enum format {
	FORMAT_TTY,
	FORMAT_JSON,
	FORMAT_GCC,
	FORMAT_SARIF,
	FORMAT_GITHUB,
};

static const char *const formats[] = {
	[FORMAT_TTY] = "tty",
	[FORMAT_JSON] = "json",
	[FORMAT_GCC] = "gcc",
	[FORMAT_SARIF] = "sarif",
	[FORMAT_GITHUB] = "github",
};

struct paths {
	char	**v;
	size_t	  n, cap;
};

struct totals {
	size_t	 files, statements, findings, parse_errors;
	size_t	 by_severity[3];
	size_t	*by_rule;	/* indexed like lint_rules */
};

static void
paths_add(struct paths *p, char *path)
{
	if (p->n == p->cap) {
		p->cap = p->cap == 0 ? 64 : p->cap * 2;
		p->v = xreallocarray(p->v, p->cap, sizeof(*p->v));
	}
	p->v[p->n++] = path;
}

static void
paths_release(struct paths *p)
{
	size_t i;

	for (i = 0; i < p->n; i++)
		free(p->v[i]);
	free(p->v);
}

static int
sql_entry(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

/* Adds the *.sql files under dir, in name order, recursing into folders. */
static int
paths_walk(struct paths *p, const char *dir)
{
	struct dirent **ents = NULL;
	struct stat st;
	size_t len;
	char *path;
	int n, i, ret = -1;

	if ((n = scandir(dir, &ents, sql_entry, alphasort)) < 0) {
		fprintf(stderr, "opsdeck %s: '%s': %s\n", NAME, dir,
		    strerror(errno));
		return -1;
	}
	for (i = 0; i < n; i++) {
		path = xasprintf("%s/%s", dir, ents[i]->d_name);
		len = strlen(ents[i]->d_name);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (paths_walk(p, path) < 0) {
				free(path);
				goto out;
			}
			free(path);
		} else if (len > 4 &&
		    strcmp(ents[i]->d_name + len - 4, ".sql") == 0)
			paths_add(p, path);
		else
			free(path);
	}
	ret = 0;
out:
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return ret;
}

static int
paths_collect(struct paths *p, int argc, char **argv)
{
	struct stat st;
	int i;

	for (i = 0; i < argc; i++) {
		if (stat(argv[i], &st) < 0) {
			fprintf(stderr, "opsdeck %s: '%s': %s\n", NAME, argv[i],
			    strerror(errno));
			return -1;
		}
		if (S_ISDIR(st.st_mode)) {
			if (paths_walk(p, argv[i]) < 0)
				return -1;
		} else
			paths_add(p, xstrdup(argv[i]));
	}
	return 0;
}

/* Findings in file order: by position, then as found. */
static int
finding_cmp(const void *a, const void *b)
{
	const struct lint_finding *x = *(const struct lint_finding *const *)a;
	const struct lint_finding *y = *(const struct lint_finding *const *)b;

	if (x->line != y->line)
		return x->line < y->line ? -1 : 1;
	if (x->col != y->col)
		return x->col < y->col ? -1 : 1;
	return x < y ? -1 : x > y;
}

static const struct lint_finding **
findings_sorted(const struct lint_report *r)
{
	const struct lint_finding **v;
	size_t i;

	v = xreallocarray(NULL, r->nfindings + 1, sizeof(*v));
	for (i = 0; i < r->nfindings; i++)
		v[i] = &r->findings[i];
	qsort(v, r->nfindings, sizeof(*v), finding_cmp);
	return v;
}

static bool
pos_before(int l1, int c1, int l2, int c2)
{
	return l1 < l2 || (l1 == l2 && c1 < c2);
}

static void
print_tty_finding(const struct lint_finding *f)
{
	printf("  %d:%d  %s %s: %s\n        fix: %s\n", f->line, f->col,
	    lint_severity_str(f->severity), f->rule->id, f->message,
	    f->rule->fix);
}

static void
print_tty(const struct lint_report *r)
{
	const struct lint_finding **v = findings_sorted(r);
	size_t i, j = 0, k;

	printf("%s\n", r->path);
	for (i = 0; i < r->nstmts; i++) {
		const struct lint_stmt *s = &r->stmts[i];

		/* findings placed before this statement (e.g. a parse error) */
		while (j < r->nfindings && pos_before(v[j]->line, v[j]->col,
		    s->line, s->col))
			print_tty_finding(v[j++]);
		printf("  %d:%d  %s", s->line, s->col, lint_kind_sql(s->kind));
		for (k = 0; k < s->locks.n; k++)
			printf("%s%s on '%s' (blocks %s)", k == 0 ? "  locks " :
			    "; ", lock_mode_str(s->locks.v[k].mode),
			    s->locks.v[k].relation,
			    lock_mode_blocks(s->locks.v[k].mode));
		printf("\n");
		while (j < r->nfindings && (i + 1 == r->nstmts ||
		    pos_before(v[j]->line, v[j]->col, r->stmts[i + 1].line,
		    r->stmts[i + 1].col)))
			print_tty_finding(v[j++]);
	}
	while (j < r->nfindings)
		print_tty_finding(v[j++]);
	free(v);
}

static void
print_gcc(const struct lint_report *r)
{
	const struct lint_finding **v = findings_sorted(r);
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		printf("%s:%d:%d: %s: %s [%s]\n", r->path, v[i]->line, v[i]->col,
		    lint_severity_str(v[i]->severity), v[i]->message,
		    v[i]->rule->id);
	free(v);
}

/* GitHub workflow commands: ',' ':' '%' and newlines must be escaped. */
static void
gh_escape(const char *s, bool property)
{
	for (; *s != '\0'; s++) {
		if (*s == '%')
			fputs("%25", stdout);
		else if (*s == '\r')
			fputs("%0D", stdout);
		else if (*s == '\n')
			fputs("%0A", stdout);
		else if (property && *s == ':')
			fputs("%3A", stdout);
		else if (property && *s == ',')
			fputs("%2C", stdout);
		else
			putchar(*s);
	}
}

static void
print_github(const struct lint_report *r)
{
	static const char *const level[] = { "notice", "warning", "error" };
	const struct lint_finding **v = findings_sorted(r);
	size_t i;

	for (i = 0; i < r->nfindings; i++) {
		printf("::%s file=", level[v[i]->severity]);
		gh_escape(r->path, true);
		printf(",line=%d,col=%d,title=%s::", v[i]->line, v[i]->col,
		    v[i]->rule->id);
		gh_escape(v[i]->message, false);
		fputs(" (fix: ", stdout);
		gh_escape(v[i]->rule->fix, false);
		fputs(")\n", stdout);
	}
	free(v);
}

static json_t *
report_json(const struct lint_report *r)
{
	const struct lint_finding **v = findings_sorted(r);
	json_t *o = json_object(), *stmts = json_array(), *fs = json_array();
	size_t i, k;

	for (i = 0; i < r->nstmts; i++) {
		const struct lint_stmt *s = &r->stmts[i];
		json_t *j = json_object(), *locks = json_array();

		json_object_set_new(j, "line", json_integer(s->line));
		json_object_set_new(j, "col", json_integer(s->col));
		json_object_set_new(j, "kind", s->kind != NULL ?
		    json_string(lint_kind_sql(s->kind)) : json_null());
		json_object_set_new(j, "node", s->kind != NULL ?
		    json_string(s->kind) : json_null());
		for (k = 0; k < s->locks.n; k++)
			json_array_append_new(locks, json_pack("{s:s, s:s, s:s}",
			    "relation", s->locks.v[k].relation,
			    "mode", lock_mode_str(s->locks.v[k].mode),
			    "blocks", lock_mode_blocks(s->locks.v[k].mode)));
		json_object_set_new(j, "locks", locks);
		json_array_append_new(stmts, j);
	}
	for (i = 0; i < r->nfindings; i++)
		json_array_append_new(fs, json_pack(
		    "{s:s, s:s, s:i, s:i, s:s, s:s}",
		    "rule", v[i]->rule->id,
		    "severity", lint_severity_str(v[i]->severity),
		    "line", v[i]->line, "col", v[i]->col,
		    "message", v[i]->message, "fix", v[i]->rule->fix));
	json_object_set_new(o, "path", json_string(r->path));
	json_object_set_new(o, "statements", stmts);
	json_object_set_new(o, "findings", fs);
	free(v);
	return o;
}

static const char *
sarif_level(enum lint_severity s)
{
	return s == LINT_ERROR ? "error" : s == LINT_WARNING ? "warning" :
	    "note";
}

static void
sarif_results(const struct lint_report *r, json_t *results)
{
	const struct lint_finding **v = findings_sorted(r);
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		json_array_append_new(results, json_pack(
		    "{s:s, s:i, s:s, s:{s:s}, s:[{s:{s:{s:s}, s:{s:i, s:i}}}]}",
		    "ruleId", v[i]->rule->id,
		    "ruleIndex", (int)(v[i]->rule - lint_rules),
		    "level", sarif_level(v[i]->severity),
		    "message", "text", v[i]->message,
		    "locations", "physicalLocation", "artifactLocation", "uri",
		    r->path, "region", "startLine", v[i]->line, "startColumn",
		    v[i]->col));
	free(v);
}

static json_t *
sarif_doc(json_t *results)
{
	json_t *rules = json_array();
	size_t i;

	for (i = 0; i < lint_rules_count; i++)
		json_array_append_new(rules, json_pack(
		    "{s:s, s:{s:s}, s:{s:s}, s:{s:s}}",
		    "id", lint_rules[i].id,
		    "shortDescription", "text", lint_rules[i].summary,
		    "help", "text", lint_rules[i].fix,
		    "defaultConfiguration", "level",
		    sarif_level(lint_rules[i].severity)));
	return json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:o}]}",
	    "$schema", "https://json.schemastore.org/sarif-2.1.0.json",
	    "version", "2.1.0",
	    "runs", "tool", "driver", "name", "opsdeck",
	    "version", OPSDECK_VERSION,
	    "informationUri", "https://github.com/opsdeck/opsdeck",
	    "rules", rules, "results", results);
}

static void
totals_add(struct totals *t, const struct lint_report *r)
{
	size_t i;

	t->files++;
	t->statements += r->nstmts;
	for (i = 0; i < r->nfindings; i++) {
		t->findings++;
		t->by_severity[r->findings[i].severity]++;
		t->by_rule[r->findings[i].rule - lint_rules]++;
		if (strcmp(r->findings[i].rule->id, "parse-error") == 0)
			t->parse_errors++;
	}
}

static json_t *
totals_json(const struct totals *t)
{
	json_t *rules = json_object();
	size_t i;

	for (i = 0; i < lint_rules_count; i++)
		if (t->by_rule[i] > 0)
			json_object_set_new(rules, lint_rules[i].id,
			    json_integer((json_int_t)t->by_rule[i]));
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
	    "files", (json_int_t)t->files,
	    "statements", (json_int_t)t->statements,
	    "findings", (json_int_t)t->findings,
	    "errors", (json_int_t)t->by_severity[LINT_ERROR],
	    "warnings", (json_int_t)t->by_severity[LINT_WARNING],
	    "info", (json_int_t)t->by_severity[LINT_INFO],
	    "parse_errors", (json_int_t)t->parse_errors,
	    "rules", rules);
}

/* Every name in the comma-separated list must be a rule. */
static int
rules_check(const char *list)
{
	char *copy = xstrdup(list), *p = copy, *tok;
	int ret = 0;

	while ((tok = strsep(&p, ",")) != NULL) {
		while (*tok == ' ')
			tok++;
		if (*tok != '\0' && lint_rule_find(tok) == NULL) {
			fprintf(stderr, "opsdeck %s: unknown rule '%s' in "
			    "--exclude; `opsdeck migrate rules` lists them\n",
			    NAME, tok);
			ret = -1;
		}
	}
	free(copy);
	return ret;
}

/*
 * Reads the migrate: section of -c FILE (or $OPSDECK_CONFIG, or ./opsdeck.yaml when it
 * exists). A config with errors stops the lint: its settings would be silently lost.
 */
static int
load_migrate_config(struct cmd_ctx *ctx, struct config *cfg, bool *have)
{
	const char *path = cmd_config_path(ctx);
	struct cfg_diags diags = { NULL, 0 };
	size_t i;

	*have = false;
	if (ctx->config_path == NULL && getenv("OPSDECK_CONFIG") == NULL &&
	    access(path, F_OK) < 0)
		return 0;
	if (config_load(path, false, cfg, &diags) < 0) {
		for (i = 0; i < diags.n; i++) {
			char *line = cfg_diag_format(&diags.items[i]);

			fprintf(stderr, "%s\n", line);
			free(line);
		}
		fprintf(stderr, "opsdeck %s: '%s' has errors: fix them (opsdeck "
		    "config check -c %s) or lint without -c\n", NAME, path,
		    path);
		cfg_diags_release(&diags);
		return -1;
	}
	*have = true;
	return 0;
}

static int
cmd_migrate_lint_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "fail-on", required_argument, NULL, 'F' },
		{ "exclude", required_argument, NULL, 'x' },
		{ "policy", required_argument, NULL, 'p' },
		{ "pg-version", required_argument, NULL, 'v' },
		{ "assume-in-transaction", no_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ NULL, 0, NULL, 0 },
	};
	struct lint_options opts = { 0 };
	enum format format = ctx->json ? FORMAT_JSON : FORMAT_TTY;
	enum lint_severity fail_on = LINT_ERROR;
	struct totals t = { 0 };
	struct paths paths = { 0 };
	json_t *files = NULL, *results = NULL, *doc = NULL;
	char *end;
	long v;
	size_t i, k;
	struct config cfg;
	bool have_cfg = false;
	int ch, worst = -1, ret = EXIT_USAGE;

	/* The config's migrate: section first; flags override it. */
	if (load_migrate_config(ctx, &cfg, &have_cfg) < 0)
		return EXIT_USAGE;
	if (have_cfg && (cfg.migrate.exclude != NULL &&
	    rules_check(cfg.migrate.exclude) < 0))
		goto out;
	if (have_cfg) {
		opts.exclude = cfg.migrate.exclude;
		opts.pg_version = cfg.migrate.pg_version;
		opts.assume_in_transaction = cfg.migrate.assume_in_transaction;
		if (cfg.migrate.policy != NULL &&
		    strcmp(cfg.migrate.policy, "additive-only") == 0)
			opts.policy = LINT_POLICY_ADDITIVE_ONLY;
		if (cfg.migrate.fail_on != NULL)
			lint_severity_parse(cfg.migrate.fail_on, &fail_on);
	}
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'f':
			for (k = 0; k < sizeof(formats) / sizeof(formats[0]); k++)
				if (strcmp(optarg, formats[k]) == 0)
					break;
			if (k == sizeof(formats) / sizeof(formats[0])) {
				fprintf(stderr, "opsdeck %s: unknown format '%s' "
				    "(tty, json, gcc, sarif, github)\n", NAME,
				    optarg);
				goto out;
			}
			format = (enum format)k;
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
			if (rules_check(optarg) < 0)
				goto out;
			opts.exclude = optarg;
			break;
		case 'p':
			if (strcmp(optarg, "additive-only") == 0)
				opts.policy = LINT_POLICY_ADDITIVE_ONLY;
			else if (strcmp(optarg, "none") == 0)
				opts.policy = LINT_POLICY_NONE;
			else {
				fprintf(stderr, "opsdeck %s: unknown policy '%s' "
				    "(additive-only, none)\n", NAME, optarg);
				goto out;
			}
			break;
		case 'v':
			errno = 0;
			v = strtol(optarg, &end, 10);
			/* "13", "13.4" */
			if (errno != 0 || end == optarg || (*end != '\0' &&
			    *end != '.') || v < 9 || v > 99) {
				fprintf(stderr, "opsdeck %s: --pg-version '%s': "
				    "expected a major version such as 15\n", NAME,
				    optarg);
				goto out;
			}
			opts.pg_version = (int)v;
			break;
		case 't':
			opts.assume_in_transaction = true;
			break;
		case 'j':
			format = FORMAT_JSON;
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
	if (paths_collect(&paths, argc - optind, argv + optind) < 0)
		goto out;

	t.by_rule = xcalloc(lint_rules_count, sizeof(*t.by_rule));
	files = json_array();
	results = json_array();
	for (i = 0; i < paths.n; i++) {
		struct lint_report r;
		struct err e;

		if (lint_path(&opts, paths.v[i], &r, &e) < 0) {
			lint_report_release(&r);
			cmd_fail(NAME, &e);
			ret = EXIT_USAGE;
			goto out;
		}
		totals_add(&t, &r);
		if (lint_report_worst(&r) > worst)
			worst = lint_report_worst(&r);
		switch (format) {
		case FORMAT_TTY:
			print_tty(&r);
			break;
		case FORMAT_GCC:
			print_gcc(&r);
			break;
		case FORMAT_GITHUB:
			print_github(&r);
			break;
		case FORMAT_JSON:
			json_array_append_new(files, report_json(&r));
			break;
		case FORMAT_SARIF:
			sarif_results(&r, results);
			break;
		}
		lint_report_release(&r);
	}
	if (format == FORMAT_JSON) {
		doc = json_pack("{s:O, s:o}", "files", files, "summary",
		    totals_json(&t));
		cmd_print_json(doc);
	} else if (format == FORMAT_SARIF) {
		doc = sarif_doc(json_incref(results));
		cmd_print_json(doc);
	} else if (format == FORMAT_TTY)
		printf("%zu file%s, %zu statement%s: %zu error%s, %zu warning%s, "
		    "%zu info\n", t.files, t.files == 1 ? "" : "s",
		    t.statements, t.statements == 1 ? "" : "s",
		    t.by_severity[LINT_ERROR],
		    t.by_severity[LINT_ERROR] == 1 ? "" : "s",
		    t.by_severity[LINT_WARNING],
		    t.by_severity[LINT_WARNING] == 1 ? "" : "s",
		    t.by_severity[LINT_INFO]);
	ret = worst >= (int)fail_on ? EXIT_FAILED : EXIT_OK;
out:
	json_decref(doc);
	json_decref(files);
	json_decref(results);
	free(t.by_rule);
	paths_release(&paths);
	if (have_cfg)
		config_release(&cfg);
	return ret;
}

const struct cmd_entry cmd_migrate_lint_entry = {
	"migrate lint",
	"FILE|DIR... [--format tty|json|gcc|sarif|github] "
	"[--fail-on error|warning|info] [--exclude RULE,...] "
	"[--policy additive-only] [--pg-version N] [--assume-in-transaction] "
	"[-c FILE]",
	"check migrations for locking, rewrites and data loss (exit 1 on findings)",
	CMD_JSON, cmd_migrate_lint_exec,
};
