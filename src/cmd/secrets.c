/* `opsdeck secrets set|list|unset|deploy APP`: values go to the daemon, never back. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/xmalloc.h"
#include "deploy/secrets.h"

extern const struct cmd_entry cmd_secrets_set_entry;
extern const struct cmd_entry cmd_secrets_list_entry;
extern const struct cmd_entry cmd_secrets_unset_entry;
extern const struct cmd_entry cmd_secrets_deploy_entry;

static int
print_list(struct cmd_ctx *ctx, json_t *j)
{
	static const char *const hdr[] = { "NAME", "STATE", "DIGEST" };
	struct table t;
	json_t *s;
	size_t i;

	if (ctx->json) {
		cmd_print_json(j);
		return EXIT_OK;
	}
	if (json_is_integer(json_object_get(j, "live_version")) &&
	    json_int(j, "live_version", 0) != json_int(j, "version", 0))
		printf("secrets version %lld; the live release runs version "
		    "%lld (after a failed deploy or a rollback)\n",
		    json_int(j, "version", 0), json_int(j, "live_version", 0));
	table_init(&t, 3, hdr);
	json_array_foreach(json_object_get(j, "secrets"), i, s) {
		char dig[16];

		snprintf(dig, sizeof(dig), "%.12s", json_str(s, "digest") ?
		    json_str(s, "digest") : "-");
		const char *row[] = { json_str(s, "name"), json_str(s, "state"),
		    dig };
		table_add(&t, row);
	}
	table_print(&t);
	table_release(&t);
	return EXIT_OK;
}

/* NAME=VALUE into obj; the value never reaches a message. */
static int
add_pair(json_t *obj, const char *pair, const char *where)
{
	const char *eq = strchr(pair, '=');
	char *name;
	json_t *v;

	if (eq == NULL || eq == pair) {
		fprintf(stderr, "opsdeck secrets set: %s: expected NAME=VALUE\n",
		    where);
		return -1;
	}
	name = xstrndup(pair, (size_t)(eq - pair));
	if (!secrets_name_valid(name)) {
		fprintf(stderr, "opsdeck secrets set: %s: '%s' is not a secret "
		    "name: use A-Z, 0-9 and '_', not starting with a digit\n",
		    where, name);
		free(name);
		return -1;
	}
	if ((v = json_string(eq + 1)) == NULL) {
		fprintf(stderr, "opsdeck secrets set: %s: the value of %s is not "
		    "UTF-8 text: encode binary values (base64)\n", where, name);
		free(name);
		return -1;
	}
	json_object_set_new(obj, name, v);
	free(name);
	return 0;
}

static json_t *
secrets_post(struct cmd_ctx *ctx, const char *name, const char *app,
    json_t *body, int *code)
{
	char *path = xasprintf("/v1/apps/%s/secrets", app);
	json_t *j = cmd_call_body(ctx, name, "POST", path, body, code);

	free(path);
	return j;
}

static int
set_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "stdin", no_argument, NULL, 's' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *set = json_object(), *body, *j, *v;
	const char *name;
	char line[SECRETS_VALUE_MAX + 512], where[64], *pair;
	int ch, from_stdin = 0, code = EXIT_USAGE, n = 0, i;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		if (ch != 's') {
			json_decref(set);
			return cmd_usage(&cmd_secrets_set_entry);
		}
		from_stdin = 1;
	}
	if (argc - optind < 1 || cmd_check_name("secrets set", "app name",
	    argv[optind]) < 0) {
		json_decref(set);
		return argc - optind < 1 ? cmd_usage(&cmd_secrets_set_entry) :
		    EXIT_USAGE;
	}
	if (!from_stdin && argc - optind < 2) {
		fprintf(stderr, "opsdeck secrets set: no NAME=VALUE given: name "
		    "them after the app, or pass --stdin and write one per "
		    "line\n");
		json_decref(set);
		return EXIT_USAGE;
	}
	for (i = optind + 1; i < argc; i++) {
		snprintf(where, sizeof(where), "argument %d", i - optind + 1);
		if (add_pair(set, argv[i], where) < 0)
			goto out;
	}
	/* --stdin: NAME=VALUE lines, so values stay out of shell history. */
	while (from_stdin && fgets(line, sizeof(line), stdin) != NULL) {
		size_t len = strlen(line);

		snprintf(where, sizeof(where), "stdin line %d", ++n);
		/* Never split a value: a too-long line is refused, not echoed. */
		if (len == sizeof(line) - 1 && line[len - 1] != '\n') {
			fprintf(stderr, "opsdeck secrets set: %s: longer than %d "
			    "bytes\n", where, SECRETS_VALUE_MAX);
			goto out;
		}
		if ((pair = secrets_env_line(line)) != NULL &&
		    add_pair(set, pair, where) < 0)
			goto out;
	}
	if (json_object_size(set) == 0) {
		fprintf(stderr, "opsdeck secrets set: nothing to set\n");
		goto out;
	}
	body = json_pack("{s:O}", "set", set);
	j = secrets_post(ctx, "secrets set", argv[optind], body, &code);
	json_decref(body);
	if (j != NULL) {
		if (!ctx->json)
			printf("staged for the next deploy (opsdeck secrets "
			    "deploy %s):\n", argv[optind]);
		code = print_list(ctx, j);
		json_decref(j);
	}
out:
	explicit_bzero(line, sizeof(line));
	json_object_foreach(set, name, v)
		explicit_bzero((char *)json_string_value(v),
		    json_string_length(v));
	json_decref(set);
	return code;
}

static int
unset_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	json_t *names = json_array(), *body, *j;
	int code = EXIT_USAGE, i;

	if (argc < 3 || cmd_check_name("secrets unset", "app name",
	    argv[1]) < 0) {
		json_decref(names);
		return argc < 3 ? cmd_usage(&cmd_secrets_unset_entry) :
		    EXIT_USAGE;
	}
	for (i = 2; i < argc; i++)
		json_array_append_new(names, json_string(argv[i]));
	body = json_pack("{s:o}", "unset", names);
	j = secrets_post(ctx, "secrets unset", argv[1], body, &code);
	json_decref(body);
	if (j != NULL) {
		code = print_list(ctx, j);
		json_decref(j);
	}
	return code;
}

static int
list_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	char *path;
	json_t *j;
	int code = EXIT_OK;

	if (argc != 2 || cmd_check_name("secrets list", "app name",
	    argv[1]) < 0)
		return argc != 2 ? cmd_usage(&cmd_secrets_list_entry) :
		    EXIT_USAGE;
	path = xasprintf("/v1/apps/%s/secrets", argv[1]);
	j = cmd_call(ctx, "secrets list", "GET", path, &code);
	free(path);
	if (j == NULL)
		return code;
	code = print_list(ctx, j);
	json_decref(j);
	return code;
}

static int
deploy_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	char *path;
	json_t *rel;
	int code = EXIT_OK;

	if (argc != 2 || cmd_check_name("secrets deploy", "app name",
	    argv[1]) < 0)
		return argc != 2 ? cmd_usage(&cmd_secrets_deploy_entry) :
		    EXIT_USAGE;
	path = xasprintf("/v1/apps/%s/secrets/deploy", argv[1]);
	rel = cmd_call_body(ctx, "secrets deploy", "POST", path, NULL, &code);
	free(path);
	if (rel == NULL)
		return code;
	if (!ctx->json)
		printf("%s %s: deploying the staged secrets\n", argv[1],
		    json_str(rel, "version"));
	code = cmd_follow_release(ctx, "secrets deploy", argv[1],
	    json_str(rel, "version"));
	json_decref(rel);
	return code;
}

const struct cmd_entry cmd_secrets_set_entry = {
	"secrets set", "APP NAME=VALUE... | APP --stdin",
	"stage secret values (encrypted at rest) for the app's next deploy",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, set_exec,
};
const struct cmd_entry cmd_secrets_list_entry = {
	"secrets list", "APP [--json]",
	"secret names, digests and whether staged or deployed (never values)",
	CMD_NEEDS_DAEMON | CMD_JSON, list_exec,
};
const struct cmd_entry cmd_secrets_unset_entry = {
	"secrets unset", "APP NAME...",
	"stage the removal of secrets for the app's next deploy",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, unset_exec,
};
const struct cmd_entry cmd_secrets_deploy_entry = {
	"secrets deploy", "APP [--json]",
	"a new release with the live artifact and the staged secrets",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, deploy_exec,
};
