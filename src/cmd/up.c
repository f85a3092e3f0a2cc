#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#include "cmd/common.h"
#include "config/config.h"
#include "core/log.h"
#include "core/module.h"
#include "api/api.h"

/*
 * A config with a migrate: section and no apps, checks or heartbeats (a project that
 * uses opsdeck for its migrations only): true after saying there is nothing to run. A config that does
 * not load is left to the daemon, which reports it.
 */
static bool
nothing_to_run(const char *file)
{
	struct config cfg;
	struct cfg_diags diags;
	bool none = false;

	if (config_load(file, false, &cfg, &diags) == 0 && cfg.napps == 0 &&
	    cfg.watch.nchecks == 0 && cfg.watch.nheartbeats == 0) {
		none = true;
		printf("%s has no apps: nothing to run (its migrate: section is "
		    "used by `opsdeck migrate`)\n", file);
	}
	config_release(&cfg);
	cfg_diags_release(&diags);
	return none;
}

static int
cmd_up_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "log-format", required_argument, NULL, 'l' },
		{ "debug", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 },
	};
	extern const struct cmd_entry cmd_up_entry;
	enum log_format fmt = LOG_FORMAT_TEXT;
	struct daemon_options o;
	api_daemon_run_fn run;
	char *abs;
	int ret;
	struct err e;
	int ch, debug = 0;

	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			if (log_format_parse(optarg, &fmt) < 0) {
				fprintf(stderr, "opsdeck up: --log-format: "
				    "'%s' is not text or json\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'd':
			debug = 1;
			break;
		default:
			return cmd_usage(&cmd_up_entry);
		}
	}
	if (optind != argc)
		return cmd_usage(&cmd_up_entry);
	if (nothing_to_run(cmd_config_path(ctx)))
		return EXIT_OK;
	log_init(fmt, debug);
	if ((run = (api_daemon_run_fn)module_symbol("opsdeck-daemon.so",
	    "api_daemon_run", &e)) == NULL) {
		fprintf(stderr, "opsdeck up: %s\n", e.msg);
		return EXIT_FAILED;
	}
	/* Absolute, so messages and `status` name it wherever they are read. */
	if ((o.config_path = abs = realpath(cmd_config_path(ctx), NULL)) == NULL)
		o.config_path = cmd_config_path(ctx);
	o.state_dir = ctx->state_dir;
	o.frontend = NULL;	/* the API's, set by api_daemon_run */
	ret = run(&o);
	free(abs);
	return ret;
}

const struct cmd_entry cmd_up_entry = {
	"up", "[-c FILE] [--state DIR] [--log-format text|json] [--debug]",
	"run the daemon in the foreground and supervise the fleet",
	0, cmd_up_exec,
};
