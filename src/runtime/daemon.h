/*
 * `opsdeck up`: the daemon. Loads and validates the config, takes the state dir's lock,
 * opens the store, serves the control API and runs the supervisor on one libuv loop.
 * Foreground only (systemd-friendly): SIGTERM/SIGINT stop the fleet and exit 0,
 * SIGHUP reloads the config.
 */
#ifndef OPSDECK_DAEMON_H
#define OPSDECK_DAEMON_H

#include <jansson.h>

#include "runtime/ops.h"

struct daemon_options {
	const char	*config_path;
	const char	*state_dir;	/* resolved, absolute */
	/* serves the daemon's operations (struct daemon_ops) on its control socket */
	const struct daemon_frontend *frontend;
};

/*
 * Runs until stopped; returns the process exit code (0, 1, or 2 for config errors).
 * It lives in the opsdeck-daemon module with everything only the daemon needs (libuv,
 * libmicrohttpd, libcurl), so the CLI does not pay for loading them: see core/module.h.
 */
int	daemon_run(const struct daemon_options *);

#endif
