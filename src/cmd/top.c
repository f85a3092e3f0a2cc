/* `opsdeck top [APP]`: the router's live per-route table, refreshed in place. */
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cmd/common.h"
#include "core/buf.h"
#include "core/json.h"

extern const struct cmd_entry cmd_top_entry;

static volatile sig_atomic_t top_stop;

static void
top_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

static void
num(const json_t *o, const char *key, const char *fmt, char *out, size_t len)
{
	const json_t *v = json_object_get(o, key);

	if (json_is_number(v))
		snprintf(out, len, fmt, json_number_value(v));
	else
		snprintf(out, len, "-");
}

static void
top_print(const json_t *j, const char *app, long window)
{
	static const char *const hdr[] = { "APP", "ROUTE", "RELEASE", "RPS",
	    "REQUESTS", "5XX%", "P50MS", "P95MS", "P99MS", "MAXMS" };
	const json_t *rows = json_object_get(j, "routes"), *r;
	struct table t;
	size_t i;

	printf("opsdeck top%s%s: last %lds, %zu route%s\n", app ? " " : "",
	    app ? app : "", window, json_array_size(rows),
	    json_array_size(rows) == 1 ? "" : "s");
	table_init(&t, 10, hdr);
	json_array_foreach(rows, i, r) {
		char v[10][64];
		const char *row[10];
		const json_t *rel = json_object_get(r, "release");
		double err = json_number_value(json_object_get(r, "error_rate"));
		size_t k;

		snprintf(v[0], sizeof(v[0]), "%s", json_str(r, "app"));
		snprintf(v[1], sizeof(v[1]), "%s", json_str(r, "route"));
		if (json_is_integer(rel) && json_integer_value(rel) > 0)
			snprintf(v[2], sizeof(v[2]), "v%lld",
			    (long long)json_integer_value(rel));
		else if (json_is_string(rel))
			snprintf(v[2], sizeof(v[2]), "%s", json_string_value(rel));
		else
			snprintf(v[2], sizeof(v[2]), "-");
		num(r, "rps", "%.1f", v[3], sizeof(v[3]));
		num(r, "requests", "%.0f", v[4], sizeof(v[4]));
		snprintf(v[5], sizeof(v[5]), "%.2f", err * 100);
		num(r, "p50_ms", "%.1f", v[6], sizeof(v[6]));
		num(r, "p95_ms", "%.1f", v[7], sizeof(v[7]));
		num(r, "p99_ms", "%.1f", v[8], sizeof(v[8]));
		num(r, "max_ms", "%.1f", v[9], sizeof(v[9]));
		for (k = 0; k < 10; k++)
			row[k] = v[k];
		table_add(&t, row);
	}
	table_print(&t);
	table_release(&t);
}

static int
cmd_top_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "interval", required_argument, NULL, 'i' },
		{ "window", required_argument, NULL, 'w' },
		{ "once", no_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *app = NULL;
	struct buf path = BUF_INIT;
	double interval = 1;
	long window = 60;
	bool once = false, tty = isatty(STDOUT_FILENO);
	char *end;
	json_t *j;
	int ch, code = EXIT_OK;

	while ((ch = getopt_long(argc, argv, "i:w:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'i':
			interval = strtod(optarg, &end);
			if (end == optarg || *end != '\0' || !(interval >= 0.1) ||
			    interval > 3600) {
				fprintf(stderr, "opsdeck top: --interval '%s': "
				    "give seconds 0.1..3600\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'w':
			window = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || window < 1 ||
			    window > 3600) {
				fprintf(stderr, "opsdeck top: --window '%s': "
				    "give whole seconds 1..3600\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'o':
			once = true;
			break;
		default:
			return cmd_usage(&cmd_top_entry);
		}
	}
	if (argc - optind > 1)
		return cmd_usage(&cmd_top_entry);
	if (argc - optind == 1) {
		app = argv[optind];
		if (cmd_check_name("top", "app name", app) < 0)
			return EXIT_USAGE;
	}
	buf_printf(&path, "/v1/metrics?window=%ld", window);
	if (app != NULL)
		buf_printf(&path, "&app=%s", app);
	/* Not a terminal, or --json: one snapshot. */
	if (ctx->json || !tty)
		once = true;
	signal(SIGINT, top_signal);
	signal(SIGTERM, top_signal);
	while (!top_stop) {
		struct timespec ts;

		if ((j = cmd_call(ctx, "top", "GET", buf_str(&path), &code)) ==
		    NULL)
			break;
		if (ctx->json)
			cmd_print_json(j);
		else {
			/* Home and clear: the table is redrawn where it was. */
			if (!once)
				fputs("\033[H\033[2J", stdout);
			top_print(j, app, window);
			fflush(stdout);
		}
		json_decref(j);
		if (once)
			break;
		ts.tv_sec = (time_t)interval;
		ts.tv_nsec = (long)((interval - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
	}
	buf_release(&path);
	return code;
}

const struct cmd_entry cmd_top_entry = {
	"top", "[APP] [--window S] [--interval S] [--once] [--json]",
	"live per-route requests from the router: rps, 5xx %, p50/p95/p99",
	CMD_NEEDS_DAEMON | CMD_JSON, cmd_top_exec,
};
