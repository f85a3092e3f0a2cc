/* The CLI's side of the control API: HTTP/JSON over the state dir's unix socket. */
#ifndef OPSDECK_CLIENT_H
#define OPSDECK_CLIENT_H

#include <jansson.h>

#include "core/err.h"

struct client;

/* Prepares a client for the daemon of state_dir; fails (ERR_NOT_FOUND) if none runs. */
struct client *client_open(const char *state_dir, struct err *);
void	 client_free(struct client *);
/*
 * One request; on 2xx returns the decoded body. On an error answer returns NULL with
 * the daemon's message in e (kind from the HTTP status).
 */
json_t	*client_call(struct client *, const char *method, const char *path,
	    const json_t *body, struct err *);
/*
 * A POST of body (text) whose answer is taken as it is, whatever its status: the
 * body into *out (the caller frees), the HTTP status into *status. -1 with e when
 * there is no answer.
 */
int	 client_post_text(struct client *, const char *path, const char *body,
	    long *status, char **out, struct err *);

#endif
