/* The files of a state dir; the daemon and every client agree on them here. */
#ifndef OPSDECK_STATE_H
#define OPSDECK_STATE_H

/* Each returns a new string the caller frees. */
char	*state_lock_path(const char *state_dir);	/* opsdeck.lock */
char	*state_socket_path(const char *state_dir);	/* opsdeck.sock */
char	*state_store_path(const char *state_dir);	/* opsdeck.db */
/* An app's machine logs: logs/APP/ (a machine's in ID.log, rotated ID.log.1, …). */
char	*state_log_dir(const char *state_dir, const char *app);

#endif
