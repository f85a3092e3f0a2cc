/*
 * A reader for the JSON libpg_query writes, several times faster than json_loads
 * on it. It takes a subset of JSON (no reals, no \u0000, depth as jansson's at
 * most) and builds the tree json_loads would; on anything else it returns NULL
 * and the caller uses json_loads, whose error message is the one to show.
 */
#ifndef OPSDECK_PGJSON_H
#define OPSDECK_PGJSON_H

#include <jansson.h>

/* The tree of the NUL-terminated JSON text s, or NULL (see above). */
json_t	*pgjson_load(const char *s);

#endif
