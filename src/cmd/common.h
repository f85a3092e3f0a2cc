/* What every command shares: dispatch, global options, the state dir, tables. */
#ifndef OPSDECK_CMD_COMMON_H
#define OPSDECK_CMD_COMMON_H

#include <signal.h>
#include <stdbool.h>

#include <jansson.h>

#include "cmd/cmd.h"
#include "core/err.h"

extern const struct cmd_entry *const cmd_table[];

/* Parses global options, finds the command, sets up what its flags ask for, runs it. */
int	 cmd_main(const struct cmd_entry *const *, int argc, char **argv);
/* The config file: -c, $OPSDECK_CONFIG, or ./opsdeck.yaml. */
const char *cmd_config_path(const struct cmd_ctx *);
struct config;
struct cfg_diags;
/*
 * Loads the config for its migrate: section (rule ids checked), which migrate lint and
 * migrate apply both follow: -c FILE, $OPSDECK_CONFIG, or ./opsdeck.yaml when it
 * exists. *have is false when there is none; -1 (after printing its errors) when it
 * has errors, since its settings would be silently lost. config_release when *have.
 */
int	 cmd_migrate_config(struct cmd_ctx *, const char *name, struct config *,
	    bool *have);
/*
 * Loads FILE as `opsdeck config check` does: as the daemon would (command binaries
 * included), the migrate: rule ids, the route templates and the watch: section. 0
 * with cfg filled (config_release it), or -1 with every problem in diags (cfg then
 * released; diags as well need cfg_diags_release either way).
 */
int	 cmd_config_validate(const char *file, struct config *,
	    struct cfg_diags *);
/* Prints "opsdeck NAME: message" to stderr and returns the exit code for e's kind. */
int	 cmd_fail(const char *name, const struct err *);
/* Calls the daemon; on failure prints the error. NULL then, with *code set. */
json_t	*cmd_call(struct cmd_ctx *, const char *name, const char *method,
	    const char *path, int *code);
json_t	*cmd_call_body(struct cmd_ctx *, const char *name, const char *method,
	    const char *path, const json_t *body, int *code);
/*
 * Follows release VERSION of app until it is live (0), or failed or rolled back (1),
 * printing each step of its timeline as it is recorded; --json prints the final record.
 */
int	 cmd_follow_release(struct cmd_ctx *, const char *name, const char *app,
	    const char *version);
/*
 * While the CLI follows an action that goes on in the daemon: Ctrl-C prints note and
 * the process dies of SIGINT (exit 130). Returns the handler to put back after.
 */
sighandler_t cmd_follow_interruptible(const char *note);
/*
 * For --offline: false (after saying so, naming what with "so that the daemon's gate
 * records WHAT") when a daemon runs on the state dir, whose gate must record the
 * action; otherwise fills actor as the local user, who owns the state dir as the
 * daemon's socket is its owner's (admin).
 */
struct actor;
bool	cmd_offline_actor(struct cmd_ctx *, const char *cmd, const char *what,
	    struct actor *);
/*
 * Checks an app name or machine id before it goes into an API path: -1 (after saying
 * what is wrong) for anything but [a-z0-9][a-z0-9_-]*, so nothing can be injected.
 */
int	 cmd_check_name(const char *cmd, const char *what, const char *value);
/*
 * --pubkey KEY as `evidence verify` and the guards take it: the 64 hex digits, or a
 * file holding them first (`opsdeck evidence key > F`); anything else as given, for
 * the caller to refuse. The caller frees.
 */
char	*cmd_pubkey_arg(const char *);
/* Prints a JSON value the way every --json output is printed: indented, key order kept. */
void	 cmd_print_json(const json_t *);
/* A string member of an answer, or "-" when it is absent or not a string. */
const char *cmd_text(const json_t *, const char *key);

/* An aligned text table for people. */
struct table {
	size_t	  ncols;
	size_t	  nrows;
	char	**cells;	/* nrows × ncols, row 0 the header */
};

void	 table_init(struct table *, size_t ncols, const char *const *header);
void	 table_add(struct table *, const char *const *row);
void	 table_print(const struct table *);
void	 table_release(struct table *);

#endif
