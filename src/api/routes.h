/* The API's route table and the request/response shapes its handlers see. */
#ifndef OPSDECK_ROUTES_H
#define OPSDECK_ROUTES_H

#include <stdbool.h>

#include <jansson.h>

#include "ledger/gate.h"

struct MHD_Connection;
struct daemon_ops;

struct api_request {
	const char	*method;
	const char	*path;
	const char	*body;
	struct MHD_Connection *conn;
	struct actor	 actor;
	const char	*params[4];	/* the :name segments of the route, in order */
};

struct api_response {
	unsigned int	 status;
	json_t		*body;
	char		*text;		/* instead of body: plain text (/metrics) */
	bool		 stream;	/* the live feed: api.c answers it (SSE) */
	const char	*content_type;	/* of text */
};

/* Finds the route for req and runs it; always fills res. */
void	api_dispatch(const struct daemon_ops *, struct api_request *,
	    struct api_response *);
/*
 * The one error shape: {"error": {"code", "message", "field"}}. code names the
 * status ("not_found", "forbidden", "unauthorized", ...); field is the request's
 * field at fault, or null.
 */
json_t	*api_error_json(unsigned int status, const char *message,
	    const char *field);
/* The value of query argument name, or NULL. */
const char *api_query(const struct api_request *, const char *name);

#endif
