/* Matching a request path against a route pattern such as "/v1/apps/:app/releases". */
#ifndef OPSDECK_PATH_MATCH_H
#define OPSDECK_PATH_MATCH_H

#define PATH_PARAMS_MAX	4
#define PATH_PARAM_LEN	128

/*
 * 0 when path matches pattern segment by segment; each ":name" segment is copied
 * into params in order (the rest are ""). -1 otherwise, also for an empty segment
 * or one longer than PATH_PARAM_LEN - 1 where a parameter stands.
 */
int	path_match(const char *pattern, const char *path,
	    char params[PATH_PARAMS_MAX][PATH_PARAM_LEN]);

#endif
