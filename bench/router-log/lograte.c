/*
 * The router's metrics reader on its own: reads HAProxy httplog lines from a file,
 * parses each (stats/haplog.c) and counts it into the metrics store
 * (stats/metrics.c), as the daemon does with HAProxy's stdout. Prints lines/s.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "core/buf.h"
#include "core/util.h"
#include "stats/haplog.h"
#include "stats/metrics.h"

int
main(int argc, char **argv)
{
	const char *const tmpl[] = { "/api/tiles/:id", "/api/orders/:id",
	    "/static/*" };
	struct metrics *m = metrics_new();
	struct timespec t0, t1;
	struct err e;
	char *line = NULL;
	size_t cap = 0, n = 0, bad = 0;
	ssize_t len;
	FILE *f;
	double secs;

	if (argc != 2 || (f = fopen(argv[1], "r")) == NULL) {
		fprintf(stderr, "usage: lograte FILE\n");
		return 2;
	}
	metrics_set_routes(m, "app1", tmpl, 3, &e);
	metrics_set_routes(m, "app2", tmpl, 3, &e);
	/* the file is read once before the clock starts: the reader is measured */
	{
		char **lines = NULL;
		size_t *lens = NULL, nl = 0, i;

		while ((len = getline(&line, &cap, f)) > 0) {
			lines = realloc(lines, (nl + 1) * sizeof(*lines));
			lens = realloc(lens, (nl + 1) * sizeof(*lens));
			lines[nl] = strndup(line, (size_t)len);
			lens[nl++] = (size_t)len - 1;
		}
		clock_gettime(CLOCK_MONOTONIC, &t0);
		for (i = 0; i < nl; i++) {
			struct haplog_rec r;
			char app[64];
			const char *dot;

			n++;
			if (haplog_parse(lines[i], lens[i], &r) < 0 ||
			    r.path == NULL) {
				bad++;
				continue;
			}
			dot = memchr(r.backend, '.', r.backend_len);
			snprintf(app, sizeof(app), "%.*s", (int)(dot ? (size_t)(
			    dot - r.backend) : r.backend_len), r.backend);
			metrics_add(m, app, r.server[1] - '0', r.path, r.path_len,
			    r.status, r.ta_ms * 1000, 1000000 + (int64_t)i);
		}
		clock_gettime(CLOCK_MONOTONIC, &t1);
		for (i = 0; i < nl; i++)
			free(lines[i]);
		free(lines);
		free(lens);
	}
	secs = (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec -
	    t0.tv_nsec) / 1e9;
	printf("%zu %zu %.6f\n", n, bad, secs);
	metrics_free(m);
	free(line);
	fclose(f);
	return 0;
}
