/*
 * The dashboard at /: server-rendered HTML of the fleet (apps, machines, releases
 * with their timelines, approvals, incidents, per-route latency as small SVG charts,
 * heartbeats, evidence), built from the same daemon operations as the JSON API, with
 * a little JavaScript that re-fetches the page body whenever /v1/events has news.
 * Login by token into a session cookie (api/session.h); every form carries the
 * session's CSRF token; every action goes through the daemon's operations, hence the
 * action gate, as via dashboard.
 */
#ifndef OPSDECK_DASHBOARD_H
#define OPSDECK_DASHBOARD_H

#include <stdbool.h>

#include "api/session.h"
#include "core/err.h"
#include "ledger/gate.h"

struct daemon_ops;

#define DASH_COOKIE	"opsdeck_session"

struct dash_request {
	const char	*method;
	const char	*path;
	const char	*body;		/* a form, for POST */
	const char	*cookie;	/* DASH_COOKIE's value, or NULL */
	const char	*origin;	/* the Origin header, or NULL */
	const char	*host;		/* the Host header, or NULL */
};

struct dash_response {
	unsigned int	 status;
	char		*body;		/* the caller frees */
	const char	*content_type;
	char		 location[128];	/* a redirect's target, or "" */
	char		 cookie[256];	/* a Set-Cookie value, or "" */
};

/* True for the paths the dashboard answers: /, /login, /logout, /ui/... */
bool	dash_path(const char *path);
/* Answers req; always fills res. */
void	dash_serve(const struct daemon_ops *, struct sessions *,
	    const struct dash_request *, struct dash_response *);
/*
 * An API request (/v1/...) that came with the dashboard's cookie instead of a
 * bearer token: the session's actor, as via dashboard, into a. A request that
 * changes anything (not GET or HEAD) must carry the session's CSRF token in
 * csrf_header (X-CSRF-Token). 0, or -1 with e (ERR_DENIED: no CSRF token;
 * ERR_INVALID: no such session or its token no longer valid).
 */
int	dash_cookie_actor(const struct daemon_ops *, struct sessions *,
	    const char *cookie, const char *method, const char *csrf_header,
	    struct actor *a, struct err *e);

#endif
