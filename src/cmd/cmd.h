/*
 * The command table (tmux cmd-*.c, git builtin/): each src/cmd/NAME.c exports one
 * const struct cmd_entry; src/main.c lists them, finds one by name and handles the
 * flags once. `opsdeck help` and the man page's synopsis come from the same rows.
 */
#ifndef OPSDECK_CMD_H
#define OPSDECK_CMD_H

#include <stdbool.h>

/* Exit codes, the same for every command. */
enum exit_code {
	EXIT_OK = 0,
	EXIT_FAILED = 1,
	EXIT_USAGE = 2,		/* usage or config error */
	EXIT_NO_DAEMON = 3,	/* the command needs `opsdeck up` running */
	EXIT_PENDING = 4,	/* accepted: the action waits for an approval */
};

#define CMD_NEEDS_DAEMON 0x1	/* talks to the control socket */
#define CMD_MUTATES	 0x2	/* reaches an action through the action gate */
#define CMD_JSON	 0x4	/* accepts --json */

struct client;

struct cmd_ctx {
	const char	*config_path;	/* -c FILE, or NULL */
	const char	*state_dir;	/* resolved state dir */
	bool		 json;		/* --json */
	struct client	*client;	/* connected when CMD_NEEDS_DAEMON */
};

struct cmd_entry {
	const char	*name;		/* "status", or "machine start" */
	const char	*usage;		/* "[APP] [--json]" */
	const char	*summary;	/* one line for `opsdeck help` */
	int		 flags;
	/* argv[0] is the last word of the name; returns an enum exit_code. */
	int		(*exec)(struct cmd_ctx *, int argc, char **argv);
};

/* Prints "usage: opsdeck NAME USAGE" to stderr and returns EXIT_USAGE. */
int	cmd_usage(const struct cmd_entry *);
/* `opsdeck help NAME` for one command: its usage and summary, on stdout. */
void	cmd_help_command(const struct cmd_entry *);
/* "opsdeck NAME: unknown option 'X'" and the usage; returns EXIT_USAGE. */
int	cmd_bad_option(const struct cmd_entry *, const char *opt);

#endif
