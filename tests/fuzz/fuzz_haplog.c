/*
 * libFuzzer target for the router's request log: any bytes, as HAProxy log lines,
 * are parsed and, when they parse, counted into a metrics store with route
 * templates; the same bytes are also tried as a route template. No crash, hang or
 * leak, and every slice points inside the input. Built and run by scripts/fuzz.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/buf.h"
#include "stats/haplog.h"
#include "stats/metrics.h"
#include "stats/route.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
inside(const char *p, size_t n, const char *base, size_t size)
{
	return p == NULL || (p >= base && p + n <= base + size);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const tmpl[] = { "/api/tiles/:id", "/static/*" };
	char *line = malloc(size + 1), *nul;
	struct metrics *m = metrics_new();
	struct haplog_rec r;
	struct route rt;
	struct buf b = BUF_INIT;
	struct err e;

	memcpy(line, data, size);
	line[size] = '\0';
	metrics_set_routes(m, "a", tmpl, 2, &e);
	if (haplog_parse(line, size, &r) == 0) {
		if (!inside(r.backend, r.backend_len, line, size) ||
		    !inside(r.server, r.server_len, line, size) ||
		    !inside(r.path, r.path_len, line, size) ||
		    !inside(r.method, r.method_len, line, size))
			abort();
		if (r.path != NULL)
			metrics_add(m, "a", 1, r.path, r.path_len, r.status,
			    r.ta_ms * 1000, (int64_t)size * 997);
	}
	metrics_prometheus(m, &b);
	json_decref(metrics_json(m, NULL, 60000, (int64_t)size * 997));
	/* as a template: up to the first NUL */
	if ((nul = memchr(line, '\0', size)) == NULL &&
	    route_compile(line, &rt, &e) == 0) {
		route_match(&rt, line, size);
		route_release(&rt);
	}
	buf_release(&b);
	metrics_free(m);
	free(line);
	return 0;
}
