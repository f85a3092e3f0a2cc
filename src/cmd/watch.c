/*
 * The watch commands: checks, check run, incidents, ack, heartbeats, heartbeat ping,
 * maintenance add|list|end. One file, a row of the table each; all but check run
 * ask the daemon (check run runs the check here, on a loop of its own).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "config/config.h"
#include "core/json.h"
#include "core/module.h"
#include "core/xmalloc.h"
#include "monitor/cond.h"
#include "monitor/watch_check.h"

extern const struct cmd_entry cmd_checks_entry;
extern const struct cmd_entry cmd_check_run_entry;
extern const struct cmd_entry cmd_incidents_entry;
extern const struct cmd_entry cmd_ack_entry;
extern const struct cmd_entry cmd_heartbeats_entry;
extern const struct cmd_entry cmd_heartbeat_ping_entry;
extern const struct cmd_entry cmd_maintenance_add_entry;
extern const struct cmd_entry cmd_maintenance_list_entry;
extern const struct cmd_entry cmd_maintenance_end_entry;

/* A GET whose answer is printed as JSON or by print; the exit code. */
static int
show(struct cmd_ctx *ctx, const char *name, const char *path,
    void (*print)(const json_t *))
{
	int code = EXIT_OK;
	json_t *j = cmd_call(ctx, name, "GET", path, &code);

	if (j == NULL)
		return code;
	if (ctx->json)
		cmd_print_json(j);
	else
		print(j);
	json_decref(j);
	return EXIT_OK;
}

static void
print_checks(const json_t *j)
{
	static const char *const hdr[] = { "CHECK", "STATUS", "UPTIME", "RUNS",
	    "LAST", "INCIDENT", "DETAIL" };
	const json_t *c;
	struct table t;
	size_t i;

	table_init(&t, 7, hdr);
	json_array_foreach(json_object_get(j, "checks"), i, c) {
		char v[7][160];
		const char *row[7];
		const json_t *up = json_object_get(c, "uptime");
		const json_t *last = json_array_get(json_object_get(c, "recent"), 0);
		const json_t *inc = json_object_get(c, "incident");
		size_t k;

		snprintf(v[0], sizeof(v[0]), "%s", cmd_text(c, "name"));
		snprintf(v[1], sizeof(v[1]), "%s%s%s", cmd_text(c, "status"),
		    json_is_true(json_object_get(c, "flapping")) ? ",flapping" :
		    "", json_is_string(json_object_get(c, "maintenance")) ?
		    ",maintenance" : "");
		if (json_is_number(up))
			snprintf(v[2], sizeof(v[2]), "%.1f%%", 100 *
			    json_number_value(up));
		else
			snprintf(v[2], sizeof(v[2]), "-");
		snprintf(v[3], sizeof(v[3]), "%lld", (long long)
		    json_integer_value(json_object_get(c, "runs")));
		if (last != NULL)
			snprintf(v[4], sizeof(v[4]), "%lldms", (long long)
			    json_integer_value(json_object_get(last, "ms")));
		else
			snprintf(v[4], sizeof(v[4]), "-");
		if (json_is_integer(inc))
			snprintf(v[5], sizeof(v[5]), "#%lld", (long long)
			    json_integer_value(inc));
		else
			snprintf(v[5], sizeof(v[5]), "-");
		snprintf(v[6], sizeof(v[6]), "%.100s", cmd_text(c, "detail"));
		for (k = 0; k < 7; k++)
			row[k] = v[k];
		table_add(&t, row);
	}
	table_print(&t);
	table_release(&t);
}

static int
checks_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return cmd_usage(&cmd_checks_entry);
	return show(ctx, "checks", "/v1/checks", print_checks);
}

typedef json_t *(*run_once_fn)(const struct cfg_check *);

static int
check_run_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char *file = cmd_config_path(ctx);
	const struct cfg_check *cc;
	struct config cfg;
	struct cfg_diags diags;
	run_once_fn run;
	struct err e;
	json_t *r, *c;
	size_t i;
	int code;

	if (argc != 2 || argv[1][0] == '-')
		return cmd_usage(&cmd_check_run_entry);
	if (config_load(file, false, &cfg, &diags) < 0) {
		cfg_diags_print(stderr, &diags);
		cfg_diags_release(&diags);
		return EXIT_USAGE;
	}
	if (watch_config_check(&cfg, &diags) < 0) {
		cfg_diags_print(stderr, &diags);
		cfg_diags_release(&diags);
		config_release(&cfg);
		return EXIT_USAGE;
	}
	cfg_diags_release(&diags);
	if ((cc = config_check(&cfg, argv[1])) == NULL) {
		if (strchr(argv[1], '/') != NULL)
			fprintf(stderr, "opsdeck check run: '%s' is not in %s's "
			    "checks:; an APP/PROCESS check is the daemon's view of "
			    "its machines' health checks: see `opsdeck checks` and "
			    "`opsdeck machines`\n", argv[1], file);
		else
			fprintf(stderr, "opsdeck check run: no check '%s' in %s: "
			    "list them with `opsdeck checks`\n", argv[1], file);
		config_release(&cfg);
		return EXIT_USAGE;
	}
	if (cc->kind == CFG_CHECK_ROUTE) {
		fprintf(stderr, "opsdeck check run: '%s' is a route check: it judges "
		    "the daemon's request metrics of %s %s, not one probe; see "
		    "`opsdeck checks` and `opsdeck top %s`\n", cc->name, cc->app,
		    cc->target, cc->app);
		config_release(&cfg);
		return EXIT_USAGE;
	}
	if ((run = (run_once_fn)module_symbol("opsdeck-daemon.so",
	    "watch_run_once", &e)) == NULL) {
		fprintf(stderr, "opsdeck check run: %s\n", e.msg);
		config_release(&cfg);
		return EXIT_FAILED;
	}
	r = run(cc);
	code = json_is_true(json_object_get(r, "ok")) ? EXIT_OK : EXIT_FAILED;
	if (ctx->json)
		cmd_print_json(r);
	else {
		printf("check %s (%s): %s in %lld ms", cc->name, cc->target,
		    code == EXIT_OK ? "ok" : "FAILED", (long long)
		    json_integer_value(json_object_get(r, "ms")));
		if (json_integer_value(json_object_get(r, "status")) > 0)
			printf(", status %lld", (long long)json_integer_value(
			    json_object_get(r, "status")));
		printf("\n");
		if (json_is_string(json_object_get(r, "error")))
			printf("  error: %s\n", cmd_text(r, "error"));
		json_array_foreach(json_object_get(r, "conditions"), i, c)
			printf("  %s  %s\n", json_is_true(json_object_get(c, "ok")) ?
			    "ok  " : "FAIL", cmd_text(c, "detail"));
		if (json_array_size(json_object_get(r, "conditions")) == 0)
			printf("  %s  %s\n", code == EXIT_OK ? "ok  " : "FAIL",
			    cmd_text(r, "detail"));
	}
	json_decref(r);
	config_release(&cfg);
	return code;
}

static void
print_incidents(const json_t *j)
{
	static const char *const hdr[] = { "ID", "SEVERITY", "STATE", "OPENED",
	    "TITLE" };
	const json_t *inc;
	struct table t;
	size_t i;

	table_init(&t, 5, hdr);
	json_array_foreach(json_object_get(j, "incidents"), i, inc) {
		char v[5][200];
		const char *row[5];
		size_t k;

		snprintf(v[0], sizeof(v[0]), "%lld", (long long)json_integer_value(
		    json_object_get(inc, "id")));
		snprintf(v[1], sizeof(v[1]), "%s", cmd_text(inc, "severity"));
		snprintf(v[2], sizeof(v[2]), "%s%s%s", cmd_text(inc, "state"),
		    json_is_true(json_object_get(inc, "held")) ? ",held" : "",
		    json_is_true(json_object_get(inc, "maintenance")) ?
		    ",maintenance" : "");
		snprintf(v[3], sizeof(v[3]), "%s", cmd_text(inc, "opened_at"));
		snprintf(v[4], sizeof(v[4]), "%.150s", cmd_text(inc, "title"));
		for (k = 0; k < 5; k++)
			row[k] = v[k];
		table_add(&t, row);
	}
	table_print(&t);
	table_release(&t);
}

static int
incidents_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ NULL, 0, NULL, 0 },
	};
	bool all = false;
	int ch;

	while ((ch = getopt_long(argc, argv, "a", longopts, NULL)) != -1) {
		if (ch != 'a')
			return cmd_usage(&cmd_incidents_entry);
		all = true;
	}
	if (optind != argc)
		return cmd_usage(&cmd_incidents_entry);
	return show(ctx, "incidents", all ? "/v1/incidents?all=1" :
	    "/v1/incidents", print_incidents);
}

/* A positive decimal id, or 0 after saying what is wrong. */
static long long
id_arg(const char *cmd, const char *what, const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	if (*s == '#')
		v = strtoll(s + 1, &end, 10);
	if (end == s || *end != '\0' || v <= 0) {
		fprintf(stderr, "opsdeck %s: '%s' is not %s id (a number like "
		    "12)\n", cmd, s, what);
		return 0;
	}
	return v;
}

static int
ack_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	long long id;
	char *path;
	json_t *j;
	int code = EXIT_OK;

	if (argc != 2)
		return cmd_usage(&cmd_ack_entry);
	if ((id = id_arg("ack", "an incident", argv[1])) == 0)
		return EXIT_USAGE;
	path = xasprintf("/v1/incidents/%lld/ack", id);
	j = cmd_call(ctx, "ack", "POST", path, &code);
	free(path);
	if (j == NULL)
		return code;
	if (ctx->json)
		cmd_print_json(j);
	else
		printf("incident #%lld acknowledged\n", id);
	json_decref(j);
	return EXIT_OK;
}

static void
print_heartbeats(const json_t *j)
{
	static const char *const hdr[] = { "HEARTBEAT", "STATUS", "LAST PING",
	    "CHANGES AT", "PINGS", "REPORT", "TASK", "MESSAGE" };
	const json_t *h;
	struct table t;
	size_t i;

	table_init(&t, 8, hdr);
	json_array_foreach(json_object_get(j, "heartbeats"), i, h) {
		char v[8][160];
		const char *row[8];
		size_t k;

		snprintf(v[0], sizeof(v[0]), "%s", cmd_text(h, "name"));
		snprintf(v[1], sizeof(v[1]), "%s%s", cmd_text(h, "status"),
		    json_is_true(json_object_get(h, "running")) ? ",running" : "");
		snprintf(v[2], sizeof(v[2]), "%s", cmd_text(h, "last_ping"));
		snprintf(v[3], sizeof(v[3]), "%s", cmd_text(h, "changes_at"));
		snprintf(v[4], sizeof(v[4]), "%lld", (long long)json_integer_value(
		    json_object_get(h, "pings")));
		snprintf(v[5], sizeof(v[5]), "%s", cmd_text(h, "report"));
		snprintf(v[6], sizeof(v[6]), "%s", cmd_text(h, "task"));
		snprintf(v[7], sizeof(v[7]), "%.80s", cmd_text(h, "message"));
		for (k = 0; k < 8; k++)
			row[k] = v[k];
		table_add(&t, row);
	}
	table_print(&t);
	table_release(&t);
}

static int
heartbeats_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return cmd_usage(&cmd_heartbeats_entry);
	return show(ctx, "heartbeats", "/v1/heartbeats", print_heartbeats);
}

static int
heartbeat_ping_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "message", required_argument, NULL, 'm' },
		{ "start", no_argument, NULL, 'S' },
		{ "fail", no_argument, NULL, 'F' },
		{ "exit-code", required_argument, NULL, 'x' },
		{ "task", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *body = json_object(), *j;
	char *path, *end;
	long v;
	int ch, code = EXIT_OK;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (strcmp(optarg, "doing") != 0 && strcmp(optarg, "done")
			    != 0) {
				fprintf(stderr, "opsdeck heartbeat ping: --status "
				    "'%s': give doing or done\n", optarg);
				json_decref(body);
				return EXIT_USAGE;
			}
			json_object_set_new(body, "status", json_string(optarg));
			break;
		case 'm':
			json_object_set_new(body, "message", json_string(optarg));
			break;
		case 't':
			json_object_set_new(body, "task", json_string(optarg));
			break;
		case 'S':
		case 'F':
			json_object_set_new(body, "signal", json_string(ch == 'S' ?
			    "start" : "fail"));
			break;
		case 'x':
			v = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || v < 0 || v > 255) {
				fprintf(stderr, "opsdeck heartbeat ping: --exit-code "
				    "'%s': give 0..255\n", optarg);
				json_decref(body);
				return EXIT_USAGE;
			}
			json_object_set_new(body, "exit_code", json_integer(v));
			break;
		default:
			json_decref(body);
			return cmd_usage(&cmd_heartbeat_ping_entry);
		}
	}
	if (argc - optind != 1) {
		json_decref(body);
		return cmd_usage(&cmd_heartbeat_ping_entry);
	}
	if (cmd_check_name("heartbeat ping", "heartbeat name", argv[optind]) < 0) {
		json_decref(body);
		return EXIT_USAGE;
	}
	path = xasprintf("/v1/heartbeats/%s/ping", argv[optind]);
	j = cmd_call_body(ctx, "heartbeat ping", "POST", path, body, &code);
	free(path);
	json_decref(body);
	if (j == NULL)
		return code;
	if (ctx->json)
		cmd_print_json(j);
	else
		printf("heartbeat %s: %s\n", cmd_text(j, "name"), cmd_text(j, "status"));
	json_decref(j);
	return EXIT_OK;
}

static int
maintenance_add_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "check", required_argument, NULL, 'c' },
		{ "app", required_argument, NULL, 'a' },
		{ "all", no_argument, NULL, 'A' },
		{ "duration", required_argument, NULL, 'd' },
		{ "reason", required_argument, NULL, 'r' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *body = json_object(), *j;
	int64_t ms = -1;
	int ch, code = EXIT_OK;
	char *target = NULL;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'c':
		case 'a':
			free(target);
			target = xasprintf("%s:%s", ch == 'c' ? "check" : "app",
			    optarg);
			break;
		case 'A':
			free(target);
			target = xstrdup("all");
			break;
		case 'd':
			if ((ms = cond_duration_ms(optarg)) < 1000) {
				fprintf(stderr, "opsdeck maintenance add: --duration "
				    "'%s': give a duration like 30m or 2h\n",
				    optarg);
				json_decref(body);
				free(target);
				return EXIT_USAGE;
			}
			break;
		case 'r':
			json_object_set_new(body, "reason", json_string(optarg));
			break;
		default:
			json_decref(body);
			free(target);
			return cmd_usage(&cmd_maintenance_add_entry);
		}
	}
	if (optind != argc || ms < 0 || target == NULL) {
		if (optind == argc)
			fprintf(stderr, "opsdeck maintenance add: give "
			    "--check NAME, --app NAME or --all, and --duration\n");
		json_decref(body);
		free(target);
		return cmd_usage(&cmd_maintenance_add_entry);
	}
	json_object_set_new(body, "target", json_string(target));
	json_object_set_new(body, "duration_ms", json_integer(ms));
	j = cmd_call_body(ctx, "maintenance add", "POST", "/v1/maintenance", body,
	    &code);
	json_decref(body);
	if (j != NULL) {
		if (ctx->json)
			cmd_print_json(j);
		else
			printf("maintenance #%lld on %s for %llds\n", (long long)
			    json_integer_value(json_object_get(j, "id")), target,
			    (long long)(ms / 1000));
		json_decref(j);
	}
	free(target);
	return j != NULL ? EXIT_OK : code;
}

static void
print_maintenance(const json_t *j)
{
	static const char *const hdr[] = { "ID", "TARGET", "STARTS", "ENDS",
	    "ACTIVE", "BY", "REASON" };
	const json_t *m;
	struct table t;
	size_t i;

	table_init(&t, 7, hdr);
	json_array_foreach(json_object_get(j, "maintenance"), i, m) {
		char v[7][160];
		const char *row[7];
		size_t k;

		snprintf(v[0], sizeof(v[0]), "%lld", (long long)json_integer_value(
		    json_object_get(m, "id")));
		snprintf(v[1], sizeof(v[1]), "%s", cmd_text(m, "target"));
		snprintf(v[2], sizeof(v[2]), "%s", cmd_text(m, "starts_at"));
		snprintf(v[3], sizeof(v[3]), "%s", json_is_string(json_object_get(m,
		    "ended_at")) ? cmd_text(m, "ended_at") : cmd_text(m, "ends_at"));
		snprintf(v[4], sizeof(v[4]), "%s", json_is_true(json_object_get(m,
		    "active")) ? "yes" : "no");
		snprintf(v[5], sizeof(v[5]), "%s", cmd_text(m, "created_by"));
		snprintf(v[6], sizeof(v[6]), "%.80s", cmd_text(m, "reason"));
		for (k = 0; k < 7; k++)
			row[k] = v[k];
		table_add(&t, row);
	}
	table_print(&t);
	table_release(&t);
	json_array_foreach(json_object_get(j, "windows"), i, m)
		printf("window %s: '%s' (%s) for %llds, next %s\n", cmd_text(m, "name"),
		    cmd_text(m, "schedule"), cmd_text(m, "tz"), (long long)
		    json_integer_value(json_object_get(m, "duration_ms")) / 1000,
		    cmd_text(m, "next_start"));
}

static int
maintenance_list_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	(void)argv;
	if (argc != 1)
		return cmd_usage(&cmd_maintenance_list_entry);
	return show(ctx, "maintenance list", "/v1/maintenance", print_maintenance);
}

static int
maintenance_end_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	long long id;
	char *path;
	json_t *j;
	int code = EXIT_OK;

	if (argc != 2)
		return cmd_usage(&cmd_maintenance_end_entry);
	if ((id = id_arg("maintenance end", "a maintenance", argv[1])) == 0)
		return EXIT_USAGE;
	path = xasprintf("/v1/maintenance/%lld/end", id);
	j = cmd_call(ctx, "maintenance end", "POST", path, &code);
	free(path);
	if (j == NULL)
		return code;
	if (ctx->json)
		cmd_print_json(j);
	else
		printf("maintenance #%lld ended\n", id);
	json_decref(j);
	return EXIT_OK;
}

const struct cmd_entry cmd_checks_entry = {
	"checks", "[--json]",
	"checks: status, uptime of the last runs, the last result",
	CMD_NEEDS_DAEMON | CMD_JSON, checks_exec,
};
const struct cmd_entry cmd_check_run_entry = {
	"check run", "NAME [-c FILE] [--json]",
	"run one check now and print each condition's result",
	CMD_JSON, check_run_exec,
};
const struct cmd_entry cmd_incidents_entry = {
	"incidents", "[--all] [--json]",
	"open and acknowledged incidents (--all: resolved too), with timelines",
	CMD_NEEDS_DAEMON | CMD_JSON, incidents_exec,
};
const struct cmd_entry cmd_ack_entry = {
	"ack", "ID [--json]", "acknowledge an incident: reminders stop",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, ack_exec,
};
const struct cmd_entry cmd_heartbeats_entry = {
	"heartbeats", "[--json]",
	"heartbeats: new, up, late, down or paused, and when that changes",
	CMD_NEEDS_DAEMON | CMD_JSON, heartbeats_exec,
};
const struct cmd_entry cmd_heartbeat_ping_entry = {
	"heartbeat ping", "NAME [--start|--fail|--exit-code N] [--status doing|done] "
	"[--message TEXT] [--task ID] [--json]",
	"report a run to a heartbeat", CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON,
	heartbeat_ping_exec,
};
const struct cmd_entry cmd_maintenance_add_entry = {
	"maintenance add", "--check NAME|--app NAME|--all --duration D "
	"[--reason TEXT] [--json]",
	"silence notices for a while, starting now",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, maintenance_add_exec,
};
const struct cmd_entry cmd_maintenance_list_entry = {
	"maintenance list", "[--json]",
	"one-off maintenance and the config's recurring windows",
	CMD_NEEDS_DAEMON | CMD_JSON, maintenance_list_exec,
};
const struct cmd_entry cmd_maintenance_end_entry = {
	"maintenance end", "ID [--json]", "end a maintenance window now",
	CMD_NEEDS_DAEMON | CMD_MUTATES | CMD_JSON, maintenance_end_exec,
};
