/* The files of a state dir; the daemon and every client agree on them here. */
#ifndef OPSDECK_STATE_H
#define OPSDECK_STATE_H

/* Each returns a new string the caller frees. */
char	*state_lock_path(const char *state_dir);	/* opsdeck.lock */
char	*state_socket_path(const char *state_dir);	/* opsdeck.sock */
char	*state_store_path(const char *state_dir);	/* opsdeck.db */

#endif
