#include <stdlib.h>

#include "core/json.h"
#include "core/xmalloc.h"

char *
json_log_line(const char *ts, int ms, const char *level, const char *msg,
    const char *error)
{
	json_t *o = json_object();
	char stamp[64];
	char *s;

	snprintf(stamp, sizeof(stamp), "%s.%03dZ", ts, ms);
	json_object_set_new(o, "ts", json_string(stamp));
	json_object_set_new(o, "level", json_string(level));
	json_object_set_new(o, "msg", json_string(msg));
	if (error != NULL)
		json_object_set_new(o, "error", json_string(error));
	s = json_dump_compact(o);
	json_decref(o);
	return s;
}

char *
json_dump_compact(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);

	return s != NULL ? s : xstrdup("null");
}

const char *
json_str(const json_t *obj, const char *key)
{
	json_t *v = json_object_get(obj, key);

	return json_is_string(v) ? json_string_value(v) : NULL;
}

long long
json_int(const json_t *obj, const char *key, long long def)
{
	json_t *v = json_object_get(obj, key);

	return json_is_integer(v) ? json_integer_value(v) : def;
}

bool
json_bool(const json_t *obj, const char *key)
{
	return json_is_true(json_object_get(obj, key));
}
