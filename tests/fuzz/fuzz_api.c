/*
 * libFuzzer target for what the control API reads from a request before any handler
 * runs: the path against every route pattern, and the JSON body (as the secrets route
 * walks it). Built and run by scripts/fuzz.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/path_match.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char *const patterns[] = {
	"/v1/ping", "/v1/status", "/v1/machines", "/v1/machines/:id/:action",
	"/v1/apps/:app/deploys", "/v1/apps/:app/rollback",
	"/v1/apps/:app/releases", "/v1/apps/:app/releases/:version",
	"/v1/apps/:app/secrets", "/v1/apps/:app/secrets/deploy",
	"/v1/migrations/apply", "/v1/migrations/apply/:id", "/v1/gc",
	"/v1/gc/:id", "/v1/apps/:app/promote", "/v1/actors",
	"/v1/actors/:name/revoke", "/v1/approvals/:id",
	"/v1/approvals/:id/approve", "/v1/evidence/export",
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char params[PATH_PARAMS_MAX][PATH_PARAM_LEN];
	char *text = malloc(size + 1);
	const char *name;
	json_t *j, *v;
	size_t i;
	int k;

	memcpy(text, data, size);
	text[size] = '\0';
	for (i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++) {
		if (path_match(patterns[i], text, params) < 0)
			continue;
		/* A match captures only what the path held, NUL-terminated. */
		for (k = 0; k < PATH_PARAMS_MAX; k++)
			if (strlen(params[k]) >= PATH_PARAM_LEN ||
			    (params[k][0] != '\0' && strstr(text, params[k]) == NULL))
				abort();
	}
	if ((j = json_loadb((const char *)data, size, 0, NULL)) != NULL) {
		json_object_foreach(json_object_get(j, "set"), name, v)
			if (json_is_string(v))
				memset((char *)json_string_value(v), 0,
				    json_string_length(v));
		json_decref(j);
	}
	free(text);
	return 0;
}
