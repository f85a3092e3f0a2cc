/*
 * Who may act: `opsdeck actor add|list|revoke` (tokens), `opsdeck approvals`,
 * `opsdeck approve ID` and `opsdeck deny ID` (four eyes).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "core/json.h"
#include "core/xmalloc.h"

extern const struct cmd_entry cmd_actor_add_entry;
extern const struct cmd_entry cmd_actor_list_entry;
extern const struct cmd_entry cmd_actor_revoke_entry;
extern const struct cmd_entry cmd_approvals_entry;
extern const struct cmd_entry cmd_approve_entry;
extern const struct cmd_entry cmd_deny_entry;

static int
actor_add_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	const char *role = NULL;
	json_t *body, *j;
	int ch, code = EXIT_OK;

	while ((ch = getopt_long(argc, argv, "r:", longopts, NULL)) != -1) {
		if (ch != 'r')
			return cmd_usage(&cmd_actor_add_entry);
		role = optarg;
	}
	if (optind != argc - 1 || role == NULL)
		return cmd_usage(&cmd_actor_add_entry);
	if (cmd_check_name("actor add", "actor name", argv[optind]) < 0)
		return EXIT_USAGE;
	body = json_pack("{ss ss}", "name", argv[optind], "role", role);
	j = cmd_call_body(ctx, "actor add", "POST", "/v1/actors", body, &code);
	json_decref(body);
	if (j == NULL)
		return code;
	if (ctx->json)
		cmd_print_json(j);
	else {
		printf("%s\n", cmd_text(j, "token"));
		fprintf(stderr, "actor '%s' (%s) added; its token is above and is "
		    "not shown again: give it as OPSDECK_TOKEN or as "
		    "\"Authorization: Bearer TOKEN\"\n", cmd_text(j, "name"),
		    cmd_text(j, "role"));
	}
	json_decref(j);
	return EXIT_OK;
}

static int
actor_list_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const char *const hdr[] = { "NAME", "ROLE", "CREATED", "BY",
	    "REVOKED" };
	const json_t *a;
	struct table t;
	json_t *j;
	size_t i;
	int code = EXIT_OK;

	(void)argv;
	if (argc != 1)
		return cmd_usage(&cmd_actor_list_entry);
	if ((j = cmd_call(ctx, "actor list", "GET", "/v1/actors", &code)) == NULL)
		return code;
	if (ctx->json) {
		cmd_print_json(j);
		json_decref(j);
		return EXIT_OK;
	}
	table_init(&t, 5, hdr);
	json_array_foreach(json_object_get(j, "actors"), i, a) {
		const char *row[5] = { cmd_text(a, "name"), cmd_text(a, "role"),
		    cmd_text(a, "created_at"), cmd_text(a, "created_by"),
		    cmd_text(a, "revoked_at") };

		table_add(&t, row);
	}
	table_print(&t);
	table_release(&t);
	json_decref(j);
	return EXIT_OK;
}

static int
actor_revoke_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	char *path;
	json_t *j;
	int code = EXIT_OK;

	if (argc != 2 || argv[1][0] == '-')
		return cmd_usage(&cmd_actor_revoke_entry);
	if (cmd_check_name("actor revoke", "actor name", argv[1]) < 0)
		return EXIT_USAGE;
	path = xasprintf("/v1/actors/%s/revoke", argv[1]);
	j = cmd_call_body(ctx, "actor revoke", "POST", path, NULL, &code);
	free(path);
	if (j == NULL)
		return code;
	if (ctx->json)
		cmd_print_json(j);
	else
		printf("actor '%s': token revoked\n", argv[1]);
	json_decref(j);
	return EXIT_OK;
}

static void
print_approvals(const json_t *j)
{
	static const char *const hdr[] = { "ID", "STATE", "ACTION", "TARGET",
	    "STAGE", "REQUESTER", "WHY", "EXPIRES", "DECIDED BY" };
	const json_t *a;
	struct table t;
	size_t i;

	table_init(&t, 9, hdr);
	json_array_foreach(json_object_get(j, "approvals"), i, a) {
		char id[24];
		const char *row[9];

		snprintf(id, sizeof(id), "%lld", json_int(a, "id", 0));
		row[0] = id;
		row[1] = cmd_text(a, "state");
		row[2] = cmd_text(a, "action");
		row[3] = cmd_text(a, "target");
		row[4] = cmd_text(a, "stage");
		row[5] = cmd_text(a, "requester");
		row[6] = cmd_text(a, "why");
		row[7] = cmd_text(a, "expires_at");
		row[8] = cmd_text(a, "decided_by");
		table_add(&t, row);
	}
	table_print(&t);
	table_release(&t);
}

static int
approvals_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false;
	json_t *j;
	int ch, code = EXIT_OK;

	while ((ch = getopt_long(argc, argv, "a", longopts, NULL)) != -1) {
		if (ch != 'a')
			return cmd_usage(&cmd_approvals_entry);
		all = true;
	}
	if (optind != argc)
		return cmd_usage(&cmd_approvals_entry);
	if ((j = cmd_call(ctx, "approvals", "GET", all ? "/v1/approvals?all=1" :
	    "/v1/approvals", &code)) == NULL)
		return code;
	if (ctx->json)
		cmd_print_json(j);
	else
		print_approvals(j);
	json_decref(j);
	return EXIT_OK;
}

/* approve|deny ID [--comment TEXT] */
static int
decide(struct cmd_ctx *ctx, const struct cmd_entry *entry, const char *verb,
    int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "comment", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	const char *comment = NULL;
	const json_t *ap, *res;
	json_t *body, *j;
	char *end, *path;
	long long id;
	int ch, code = EXIT_OK;

	while ((ch = getopt_long(argc, argv, "m:", longopts, NULL)) != -1) {
		if (ch != 'm')
			return cmd_usage(entry);
		comment = optarg;
	}
	if (optind != argc - 1)
		return cmd_usage(entry);
	id = strtoll(argv[optind] + (argv[optind][0] == '#'), &end, 10);
	if (*end != '\0' || id <= 0) {
		fprintf(stderr, "opsdeck %s: '%s' is not an approval id (a number "
		    "like 3, from `opsdeck approvals`)\n", verb, argv[optind]);
		return EXIT_USAGE;
	}
	body = comment != NULL ? json_pack("{ss}", "comment", comment) :
	    json_object();
	path = xasprintf("/v1/approvals/%lld/%s", id, verb);
	j = cmd_call_body(ctx, verb, "POST", path, body, &code);
	free(path);
	json_decref(body);
	if (j == NULL)
		return code;
	ap = json_object_get(j, "approval");
	res = json_object_get(j, "result");
	if (ctx->json)
		cmd_print_json(j);
	else if (strcmp(verb, "deny") == 0)
		printf("#%lld denied: %s on '%s' will not run\n", id,
		    cmd_text(ap, "action"), cmd_text(ap, "target"));
	else if (json_is_object(res) && json_str(res, "version") != NULL)
		printf("#%lld approved: %s on '%s' runs as %s, release %s\n", id,
		    cmd_text(ap, "action"), cmd_text(ap, "target"),
		    cmd_text(ap, "requester"), json_str(res, "version"));
	else if (json_is_object(res) && strcmp(cmd_text(ap, "action"),
	    "migrate.apply") == 0)
		printf("#%lld approved: %s on '%s' runs as %s, apply job %lld "
		    "(`opsdeck migrate status` shows how it ends)\n", id,
		    cmd_text(ap, "action"), cmd_text(ap, "target"),
		    cmd_text(ap, "requester"), json_int(res, "id", 0));
	else if (json_is_object(res))
		printf("#%lld approved: %s on '%s' runs as %s\n", id,
		    cmd_text(ap, "action"), cmd_text(ap, "target"),
		    cmd_text(ap, "requester"));
	else
		fprintf(stderr, "opsdeck approve: #%lld approved, but it could "
		    "not run: %s\n", id, cmd_text(j, "error"));
	code = strcmp(verb, "approve") == 0 && !json_is_object(res) ?
	    EXIT_FAILED : EXIT_OK;
	json_decref(j);
	return code;
}

static int
approve_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	return decide(ctx, &cmd_approve_entry, "approve", argc, argv);
}

static int
deny_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	return decide(ctx, &cmd_deny_entry, "deny", argc, argv);
}

const struct cmd_entry cmd_actor_add_entry = {
	"actor add", "NAME --role viewer|agent|operator|approver|admin [--json]",
	"add an actor; prints its bearer token, once",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, actor_add_exec,
};
const struct cmd_entry cmd_actor_list_entry = {
	"actor list", "[--json]", "the actors, their roles and revocations",
	CMD_NEEDS_DAEMON | CMD_JSON, actor_list_exec,
};
const struct cmd_entry cmd_actor_revoke_entry = {
	"actor revoke", "NAME [--json]", "revoke an actor's token",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, actor_revoke_exec,
};
const struct cmd_entry cmd_approvals_entry = {
	"approvals", "[--all] [--json]",
	"requests waiting for an approver (--all: decided ones too)",
	CMD_NEEDS_DAEMON | CMD_JSON, approvals_exec,
};
const struct cmd_entry cmd_approve_entry = {
	"approve", "ID [--comment TEXT] [--json]",
	"grant another actor's request; it runs at once, as them, once",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, approve_exec,
};
const struct cmd_entry cmd_deny_entry = {
	"deny", "ID [--comment TEXT] [--json]", "deny another actor's request",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, deny_exec,
};
