/* Small helpers over jansson for the shapes opsdeck prints and reads. */
#ifndef OPSDECK_JSON_H
#define OPSDECK_JSON_H

#include <stdbool.h>

#include <jansson.h>

/* One structured log line: {"ts":..,"level":..,"msg":..,"error":..}. */
char	*json_log_line(const char *ts, int ms, const char *level,
	    const char *msg, const char *error);
/* Compact, key-ordered serialisation; the caller frees. */
char	*json_dump_compact(const json_t *);
/* String member or NULL; integer member or def; true only for a member that is true. */
const char *json_str(const json_t *obj, const char *key);
long long json_int(const json_t *obj, const char *key, long long def);
bool	 json_bool(const json_t *obj, const char *key);

#endif
