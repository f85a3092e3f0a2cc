#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client/client.h"
#include "cmd/common.h"
#include "config/config.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "ledger/gate.h"
#include "migrate/lint.h"
#include "monitor/watch_check.h"
#include "stats/check.h"

int
cmd_usage(const struct cmd_entry *c)
{
	fprintf(stderr, "usage: opsdeck %s %s\n", c->name, c->usage);
	return EXIT_USAGE;
}

int
cmd_bad_option(const struct cmd_entry *c, const char *opt)
{
	fprintf(stderr, "opsdeck %s: unknown option '%s'\n", c->name, opt);
	return cmd_usage(c);
}

int
cmd_fail(const char *name, const struct err *e)
{
	fprintf(stderr, "opsdeck %s: %s\n", name, e->msg);
	switch (e->kind) {
	case ERR_INVALID:
		return EXIT_USAGE;
	default:
		return EXIT_FAILED;
	}
}

const char *
cmd_config_path(const struct cmd_ctx *ctx)
{
	const char *p;

	if (ctx->config_path != NULL)
		return ctx->config_path;
	if ((p = getenv("OPSDECK_CONFIG")) != NULL && *p != '\0')
		return p;
	return "opsdeck.yaml";
}

static char *
absolute(const char *path)
{
	char cwd[PATH_MAX];

	if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
		return xstrdup(path);
	if (strcmp(path, ".") == 0)
		return xstrdup(cwd);
	return path_join(cwd, path[0] == '.' && path[1] == '/' ? path + 2 :
	    path);
}

/*
 * --state, $OPSDECK_STATE_DIR, the config's state_dir, then $XDG_STATE_HOME/opsdeck:
 * the same order for the daemon and every client, so they meet at one socket.
 */
static char *
state_dir_resolve(const char *flag, const char *config_path)
{
	struct config cfg;
	struct cfg_diags diags = { NULL, 0 };
	const char *v;
	char *dir = NULL;

	if (flag != NULL)
		return absolute(flag);
	if ((v = getenv("OPSDECK_STATE_DIR")) != NULL && *v != '\0')
		return absolute(v);
	if (access(config_path, R_OK) == 0 &&
	    config_load(config_path, false, &cfg, &diags) == 0) {
		if (cfg.state_dir != NULL)
			dir = xstrdup(cfg.state_dir);
		config_release(&cfg);
	}
	cfg_diags_release(&diags);
	if (dir != NULL)
		return dir;
	if ((v = getenv("XDG_STATE_HOME")) != NULL && *v == '/')
		return path_join(v, "opsdeck");
	if ((v = getenv("HOME")) != NULL && *v == '/')
		return xasprintf("%s/.local/state/opsdeck", v);
	return absolute("opsdeck-state");
}

/* Takes -c/--config, --state and --json out of argv, wherever they stand before "--". */
static int
strip_globals(int *argc, char **argv, const char **config, const char **state,
    int *json)
{
	int i, j = 1;

	for (i = 1; i < *argc; i++) {
		const char *a = argv[i];

		if (strcmp(a, "--") == 0) {
			while (i < *argc)
				argv[j++] = argv[i++];
			break;
		}
		if (strcmp(a, "-c") == 0 || strcmp(a, "--config") == 0 ||
		    strcmp(a, "--state") == 0) {
			if (i + 1 >= *argc) {
				fprintf(stderr, "opsdeck: option '%s' needs a "
				    "value\n", a);
				return -1;
			}
			if (strcmp(a, "--state") == 0)
				*state = argv[++i];
			else
				*config = argv[++i];
		} else if (strncmp(a, "--config=", 9) == 0)
			*config = a + 9;
		else if (strncmp(a, "--state=", 8) == 0)
			*state = a + 8;
		else if (strcmp(a, "--json") == 0)
			*json = 1;
		else
			argv[j++] = argv[i];
	}
	*argc = j;
	argv[j] = NULL;
	return 0;
}

/* The longest row whose words match argv; *nwords says how many words it took. */
static const struct cmd_entry *
cmd_find(const struct cmd_entry *const *table, int argc, char **argv,
    int *nwords)
{
	const struct cmd_entry *best = NULL;
	size_t i;

	*nwords = 0;
	for (i = 0; table[i] != NULL; i++) {
		const char *p = table[i]->name;
		int w = 0;

		while (*p != '\0' && 1 + w < argc) {
			size_t n = strcspn(p, " ");

			if (strlen(argv[1 + w]) != n ||
			    strncmp(argv[1 + w], p, n) != 0)
				break;
			w++;
			p += n;
			if (*p == ' ')
				p++;
			else
				break;
		}
		if (*p == '\0' && w > *nwords) {
			best = table[i];
			*nwords = w;
		}
	}
	return best;
}

/* No command matched: name the group's subcommands when the first word is a group. */
static int
cmd_unknown(const struct cmd_entry *const *table, int argc, char **argv)
{
	size_t i, n = strlen(argv[1]);
	int found = 0;
	bool help = argc > 2 && (strcmp(argv[2], "--help") == 0 ||
	    strcmp(argv[2], "-h") == 0);

	for (i = 0; table[i] != NULL; i++) {
		const char *name = table[i]->name;

		if (strncmp(name, argv[1], n) != 0 || name[n] != ' ')
			continue;
		/* `opsdeck migrate --help`: every command of the group */
		if (help) {
			cmd_help_command(table[i]);
			found++;
			continue;
		}
		if (!found++)
			fprintf(stderr, "opsdeck %s: %s%s%s: use one of:", argv[1],
			    argc > 2 ? "unknown subcommand '" : "needs a "
			    "subcommand", argc > 2 ? argv[2] : "",
			    argc > 2 ? "'" : "");
		fprintf(stderr, " %s", name + n + 1);
	}
	if (found && help)
		return EXIT_OK;
	if (found)
		fprintf(stderr, "\n");
	else
		fprintf(stderr, "opsdeck: unknown command '%s': run `opsdeck "
		    "help` for the list\n", argv[1]);
	return EXIT_USAGE;
}

int
cmd_main(const struct cmd_entry *const *table, int argc, char **argv)
{
	const struct cmd_entry *c;
	struct cmd_ctx ctx;
	char *state = NULL, *full;
	const char *state_flag = NULL;
	int json = 0, nwords, ret, i;

	memset(&ctx, 0, sizeof(ctx));
	if (strip_globals(&argc, argv, &ctx.config_path, &state_flag,
	    &json) < 0)
		return EXIT_USAGE;
	if (argc < 2) {
		fprintf(stderr, "usage: opsdeck [-c FILE] [--state DIR] COMMAND "
		    "[ARGS]\nrun `opsdeck help` for the commands\n");
		return EXIT_USAGE;
	}
	/* What people type out of habit from other tools. */
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0)
		argv[1] = "help";
	else if (strcmp(argv[1], "--version") == 0 || strcmp(argv[1], "-V") == 0)
		argv[1] = "version";
	if ((c = cmd_find(table, argc, argv, &nwords)) == NULL)
		return cmd_unknown(table, argc, argv);
	/*
	 * `opsdeck deploy --help` is `opsdeck help deploy`; not the value of an
	 * option (`--message -h`), so not after an argument starting with '-'.
	 */
	for (i = nwords + 1; i < argc && strcmp(argv[i], "--") != 0; i++)
		if ((strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") ==
		    0) && (i == nwords + 1 || argv[i - 1][0] != '-')) {
			cmd_help_command(c);
			return EXIT_OK;
		}
	if (ctx.config_path != NULL && access(ctx.config_path, R_OK) < 0) {
		fprintf(stderr, "opsdeck: -c '%s': %s\n", ctx.config_path,
		    strerror(errno));
		return EXIT_USAGE;
	}
	/* The gate lives in the daemon: a command that changes state must go there. */
	if ((c->flags & CMD_MUTATES) && !(c->flags & CMD_NEEDS_DAEMON))
		BUG("command '%s' mutates without the daemon's gate", c->name);
	if (json && !(c->flags & CMD_JSON)) {
		fprintf(stderr, "opsdeck %s: --json is not supported by this "
		    "command: see `opsdeck help %s`\n", c->name, c->name);
		return EXIT_USAGE;
	}
	ctx.json = json;
	state = state_dir_resolve(state_flag, cmd_config_path(&ctx));
	ctx.state_dir = state;
	optind = 0;
	/* getopt names the program in its messages: make that the command. */
	argv[nwords] = full = xasprintf("opsdeck %s", c->name);
	ret = c->exec(&ctx, argc - nwords, argv + nwords);
	free(full);
	client_free(ctx.client);
	free(state);
	return ret;
}

json_t *
cmd_call(struct cmd_ctx *ctx, const char *name, const char *method,
    const char *path, int *code)
{
	return cmd_call_body(ctx, name, method, path, NULL, code);
}

json_t *
cmd_call_body(struct cmd_ctx *ctx, const char *name, const char *method,
    const char *path, const json_t *body, int *code)
{
	struct err e;
	json_t *j, *ap;

	/* Connected on first use, so usage errors come before "not running". */
	if (ctx->client == NULL &&
	    (ctx->client = client_open(ctx->state_dir, &e)) == NULL) {
		fprintf(stderr, "opsdeck %s: %s\n", name, e.msg);
		*code = e.kind == ERR_NOT_FOUND ? EXIT_NO_DAEMON : EXIT_FAILED;
		return NULL;
	}
	if ((j = client_call(ctx->client, method, path, body, &e)) == NULL) {
		fprintf(stderr, "opsdeck %s: %s\n", name, e.msg);
		*code = e.kind == ERR_INVALID ? EXIT_USAGE : EXIT_FAILED;
		return NULL;
	}
	/* Accepted, not done: every command says so the same way. */
	if ((ap = json_object_get(j, "approval_pending")) != NULL) {
		if (ctx->json)
			cmd_print_json(j);
		fprintf(stderr, "opsdeck %s: %s on '%s' waits for approval #%lld "
		    "(until %s): another actor with the approver role runs "
		    "`opsdeck approve %lld`\n", name, json_str(ap, "action"),
		    json_str(ap, "target"), json_int(ap, "id", 0),
		    json_str(ap, "expires_at"), json_int(ap, "id", 0));
		json_decref(j);
		*code = EXIT_PENDING;
		return NULL;
	}
	return j;
}

int
cmd_check_name(const char *cmd, const char *what, const char *value)
{
	if (name_valid(value))
		return 0;
	fprintf(stderr, "opsdeck %s: '%s' is not a valid %s: lowercase letters, "
	    "digits, '-' and '_', at most 63\n", cmd, value, what);
	return -1;
}

void
cmd_print_json(const json_t *j)
{
	char *s = json_dumps(j, JSON_INDENT(2) | JSON_PRESERVE_ORDER |
	    JSON_REAL_PRECISION(12));

	if (s != NULL)
		printf("%s\n", s);
	free(s);
}

void
table_init(struct table *t, size_t ncols, const char *const *header)
{
	t->ncols = ncols;
	t->nrows = 0;
	t->cells = NULL;
	table_add(t, header);
}

void
table_add(struct table *t, const char *const *row)
{
	size_t i;

	t->cells = xreallocarray(t->cells, (t->nrows + 1) * t->ncols,
	    sizeof(char *));
	for (i = 0; i < t->ncols; i++)
		t->cells[t->nrows * t->ncols + i] = xstrdup(row[i] ? row[i] :
		    "-");
	t->nrows++;
}

void
table_print(const struct table *t)
{
	size_t *w = xcalloc(t->ncols, sizeof(size_t)), r, c;

	for (r = 0; r < t->nrows; r++)
		for (c = 0; c < t->ncols; c++) {
			size_t n = strlen(t->cells[r * t->ncols + c]);

			if (n > w[c])
				w[c] = n;
		}
	for (r = 0; r < t->nrows; r++) {
		struct buf line = BUF_INIT;

		for (c = 0; c < t->ncols; c++)
			buf_printf(&line, "%-*s  ", (int)w[c],
			    t->cells[r * t->ncols + c]);
		while (line.len > 0 && line.data[line.len - 1] == ' ')
			line.len--;
		printf("%.*s\n", (int)line.len, buf_str(&line));
		buf_release(&line);
	}
	free(w);
}

void
table_release(struct table *t)
{
	size_t i;

	for (i = 0; i < t->nrows * t->ncols; i++)
		free(t->cells[i]);
	free(t->cells);
	t->cells = NULL;
	t->nrows = 0;
}

static bool
release_final(const char *status)
{
	return strcmp(status, "live") == 0 || strcmp(status, "failed") == 0 ||
	    strcmp(status, "rolled_back") == 0;
}

/* Said on Ctrl-C while following: the deploy is the daemon's, it goes on. */
static char follow_note[256];

/*
 * Dies of SIGINT after saying so, so that a shell loop running deploys stops too
 * (a plain exit would tell it the command handled the interrupt).
 */
static void
follow_interrupted(int sig)
{
	ssize_t n = write(STDERR_FILENO, follow_note, strlen(follow_note));

	(void)n;	/* nothing more can be said */
	signal(sig, SIG_DFL);
	raise(sig);
	_exit(130);
}

sighandler_t
cmd_follow_interruptible(const char *note)
{
	sighandler_t before;

	snprintf(follow_note, sizeof(follow_note), "%s", note);
	/* Started with SIGINT ignored (a background job): leave it so. */
	if ((before = signal(SIGINT, follow_interrupted)) == SIG_IGN)
		signal(SIGINT, SIG_IGN);
	return before;
}

int
cmd_follow_release(struct cmd_ctx *ctx, const char *name, const char *app,
    const char *version)
{
	char *path = xasprintf("/v1/apps/%s/releases/%s", app, version);
	uint64_t t0 = mono_ms();
	size_t shown = 0, i;
	json_t *j = NULL, *step;
	int code = EXIT_FAILED;
	const char *status;
	sighandler_t before;
	char note[256];

	snprintf(note, sizeof(note), "\nopsdeck %s: stopped following; the "
	    "deploy of %s %s goes on in the daemon: `opsdeck release %s %s` "
	    "shows it\n", name, app, version, app, version);
	before = cmd_follow_interruptible(note);
	for (;;) {
		json_decref(j);
		if ((j = cmd_call(ctx, name, "GET", path, &code)) == NULL)
			goto out;
		json_array_foreach(json_object_get(j, "timeline"), i, step) {
			const char *st = json_str(step, "status");

			if (i < shown || (strcmp(st, "running") == 0 &&
			    i + 1 == json_array_size(json_object_get(j,
			    "timeline")) && !release_final(json_str(j,
			    "status"))))
				continue;
			shown = i + 1;
			if (ctx->json)
				continue;
			printf("%7.1fs  %-16s %-7s %s\n", (double)(mono_ms() -
			    t0) / 1000, json_str(step, "step"), st,
			    json_str(step, "detail") ? json_str(step,
			    "detail") : "");
			fflush(stdout);
		}
		status = json_str(j, "status");
		if (release_final(status))
			break;
		usleep(25 * 1000);
	}
	if (ctx->json)
		cmd_print_json(j);
	else if (strcmp(status, "live") == 0)
		printf("%s %s is live\n", app, version);
	else
		fprintf(stderr, "opsdeck %s: %s %s %s at %s: %s\n", name, app,
		    version, strcmp(status, "failed") == 0 ? "failed" :
		    "was rolled back", json_str(j, "failed_step") ?
		    json_str(j, "failed_step") : "?", json_str(j, "reason") ?
		    json_str(j, "reason") : "");
	code = strcmp(status, "live") == 0 ? EXIT_OK : EXIT_FAILED;
out:
	signal(SIGINT, before);
	json_decref(j);
	free(path);
	return code;
}

int
cmd_migrate_config(struct cmd_ctx *ctx, const char *name, struct config *cfg,
    bool *have)
{
	const char *path = cmd_config_path(ctx);
	struct cfg_diags diags = { NULL, 0 };
	int loaded;

	*have = false;
	if (ctx->config_path == NULL && getenv("OPSDECK_CONFIG") == NULL &&
	    access(path, F_OK) < 0)
		return 0;
	if ((loaded = config_load(path, false, cfg, &diags)) < 0 ||
	    lint_config_check(cfg, &diags) < 0) {
		cfg_diags_print(stderr, &diags);
		fprintf(stderr, "opsdeck %s: '%s' has errors: fix them (opsdeck "
		    "config check -c %s) or run without -c\n", name, path,
		    path);
		cfg_diags_release(&diags);
		if (loaded == 0)
			config_release(cfg);
		return -1;
	}
	*have = true;
	return 0;
}

int
cmd_config_validate(const char *file, struct config *cfg,
    struct cfg_diags *diags)
{
	/* the migrate: section's rule ids are checked by migrate/, which has the rules */
	if (config_load(file, true, cfg, diags) < 0)
		return -1;
	if (lint_config_check(cfg, diags) < 0 ||
	    routes_config_check(cfg, diags) < 0 ||
	    watch_config_check(cfg, diags) < 0) {
		config_release(cfg);
		return -1;
	}
	return 0;
}

bool
cmd_offline_actor(struct cmd_ctx *ctx, const char *cmd, const char *what,
    struct actor *actor)
{
	struct passwd *pw;
	struct client *c;
	struct err e;

	if ((c = client_open(ctx->state_dir, &e)) != NULL) {
		client_free(c);
		fprintf(stderr, "opsdeck %s: a daemon runs on state dir '%s': drop "
		    "--offline, so that its gate records the %s\n", cmd,
		    ctx->state_dir, what);
		return false;
	}
	memset(actor, 0, sizeof(*actor));
	if ((pw = getpwuid(geteuid())) != NULL)
		snprintf(actor->name, sizeof(actor->name), "%s", pw->pw_name);
	else
		snprintf(actor->name, sizeof(actor->name), "uid:%u",
		    (unsigned)geteuid());
	actor->role = ROLE_ADMIN;
	actor->via = VIA_CLI;
	return true;
}

char *
cmd_pubkey_arg(const char *arg)
{
	struct buf b = BUF_INIT_MAX(4096);
	struct err e;
	char *s;
	size_t n;

	if (strlen(arg) == 64 && strspn(arg, "0123456789abcdef") == 64)
		return xstrdup(arg);
	if (file_read(arg, 4096, &b, &e) < 0) {
		buf_release(&b);
		return xstrdup(arg);	/* the caller says it is no key */
	}
	s = buf_detach(&b);
	/* The first word of the file: `opsdeck evidence key` prints the key first. */
	n = strspn(s, " \t\n");
	memmove(s, s + n, strlen(s + n) + 1);
	s[strcspn(s, " \t\n")] = '\0';
	return s;
}

const char *
cmd_text(const json_t *o, const char *key)
{
	const json_t *v = json_object_get(o, key);

	return json_is_string(v) ? json_string_value(v) : "-";
}
