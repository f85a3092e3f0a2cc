/*
 * Route templates group request paths: "/api/tiles/:id" matches /api/tiles/3, and
 * a template whose last segment is "*" matches the rest of the path ("/static/" and
 * a star: anything under /static/). A path no template matches is its own route, with segments that look like ids (digits, hex of 8+, UUIDs) written ":id",
 * so that the number of routes follows the app's shape, not its traffic.
 */
#ifndef OPSDECK_ROUTE_H
#define OPSDECK_ROUTE_H

#include <stdbool.h>
#include <stddef.h>

#include "core/err.h"

#define ROUTE_MAX_LEN	256
#define ROUTE_MAX_SEGS	32

struct route {
	char	*tmpl;
	size_t	 nsegs;
	struct {
		const char	*s;	/* into tmpl */
		size_t		 len;
		bool		 param;	/* ":name" */
		bool		 rest;	/* "*": the rest of the path */
	} segs[ROUTE_MAX_SEGS];
};

/* Compiles tmpl; on error e names the column (1-based) and what is wrong. */
int	 route_compile(const char *tmpl, struct route *, struct err *);
void	 route_release(struct route *);
bool	 route_match(const struct route *, const char *path, size_t len);
/*
 * The group of a path no template matched, into out (at most outlen - 1 bytes):
 * its segments with id-like ones replaced by ":id".
 */
void	 route_normalize(const char *path, size_t len, char *out, size_t outlen);

#endif
