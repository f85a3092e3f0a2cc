/*
 * libFuzzer target for `opsdeck logstat`'s line parsers: any bytes, split into lines,
 * are parsed in every format (the slices must point inside the line or the record's
 * scratch) and fed to a report with a route template and a slow threshold, whose
 * JSON is built at the end. No crash, hang or leak. Built and run by scripts/fuzz.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stats/accesslog.h"
#include "stats/logstat.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int
inside(const char *p, size_t n, const char *line, size_t len,
    const struct alog_rec *r)
{
	return p == NULL || (p >= line && p + n <= line + len) ||
	    (p >= r->scratch && p + n <= r->scratch + sizeof(r->scratch));
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum alog_format fmts[] = { ALOG_COMBINED, ALOG_COMMON,
	    ALOG_JSON, ALOG_HAPROXY };
	char *copy = malloc(size + 1);
	struct route rt;
	struct err e;
	struct logstat_opts opts = { .top = 3, .slow_us = 1000, .verbose = true,
	    .max_routes = 8 };
	struct logstat *ls;
	struct logstat_src src = { .name = "fuzz", .fmt = ALOG_AUTO };
	const char *p, *end, *nl;
	json_t *j;

	memcpy(copy, data, size);
	copy[size] = '\0';
	if (route_compile("/api/tiles/:id", &rt, &e) < 0)
		abort();
	opts.tmpls = &rt;
	opts.ntmpls = 1;
	ls = logstat_new(&opts);
	for (p = copy, end = copy + size; p < end; p = nl + 1) {
		struct alog_rec r;
		const char *why;
		size_t len, i;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		len = (size_t)(nl - p);
		for (i = 0; i < sizeof(fmts) / sizeof(fmts[0]); i++)
			if (alog_parse(fmts[i], p, len, &r, &why) == 0 &&
			    (!inside(r.method, r.method_len, p, len, &r) ||
			    !inside(r.target, r.target_len, p, len, &r) ||
			    r.path_len > r.target_len ||
			    !inside(r.when, r.when_len, p, len, &r)))
				abort();
		logstat_feed(ls, &src, p, len);
	}
	logstat_end_source(ls, &src);
	j = logstat_json(ls);
	json_decref(j);
	logstat_free(ls);
	route_release(&rt);
	free(copy);
	return 0;
}
