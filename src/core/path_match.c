#include <string.h>

#include "core/path_match.h"

int
path_match(const char *pattern, const char *path,
    char params[PATH_PARAMS_MAX][PATH_PARAM_LEN])
{
	int n = 0, i;

	for (i = 0; i < PATH_PARAMS_MAX; i++)
		params[i][0] = '\0';
	while (*pattern != '\0' && *path != '\0') {
		size_t pl = strcspn(pattern + 1, "/") + 1;
		size_t ql = strcspn(path + 1, "/") + 1;

		if (*pattern != '/' || *path != '/')
			return -1;
		if (pattern[1] == ':') {
			if (n == PATH_PARAMS_MAX || ql < 2 || ql > PATH_PARAM_LEN - 1)
				return -1;
			memcpy(params[n], path + 1, ql - 1);
			params[n][ql - 1] = '\0';
			n++;
		} else if (pl != ql || memcmp(pattern, path, pl) != 0)
			return -1;
		pattern += pl;
		path += ql;
	}
	return *pattern == '\0' && *path == '\0' ? 0 : -1;
}
