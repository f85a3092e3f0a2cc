/* stats/: the histogram's error bound, windows, route templates, HAProxy log lines. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "stats/haplog.h"
#include "stats/hist.h"
#include "stats/metrics.h"
#include "stats/route.h"

static int
u64_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* Every quantile within 1 % of the exact order statistic, on several spreads. */
static void
test_hist_error(void **state)
{
	static const double qs[] = { 0.01, 0.1, 0.5, 0.9, 0.95, 0.99, 0.999 };
	enum { N = 20000 };
	uint64_t *v = malloc(N * sizeof(*v));
	unsigned seed;
	size_t i, k;

	(void)state;
	for (seed = 1; seed <= 6; seed++) {
		struct hist h, a, b;

		srand(seed);
		hist_init(&h);
		hist_init(&a);
		hist_init(&b);
		for (i = 0; i < N; i++) {
			/* log-uniform from 1 µs to 100 s, or clustered */
			double e = seed % 2 ? (double)rand() / RAND_MAX * 8 :
			    4 + (double)rand() / RAND_MAX * 0.5;

			v[i] = (uint64_t)pow(10, e);
			hist_add(&h, v[i]);
			hist_add(i % 2 ? &a : &b, v[i]);
		}
		hist_merge(&a, &b);
		qsort(v, N, sizeof(*v), u64_cmp);
		for (k = 0; k < sizeof(qs) / sizeof(qs[0]); k++) {
			size_t rank = (size_t)ceil(qs[k] * N);
			double exact = (double)v[rank - 1];
			double got = hist_quantile(&h, qs[k]);

			assert_true(fabs(got - exact) <= exact * 0.01);
			/* merged halves give the same answers as one */
			assert_true(hist_quantile(&a, qs[k]) == got);
		}
		assert_int_equal(h.count, N);
		assert_int_equal(a.count, N);
		assert_int_equal(h.max, v[N - 1]);
		assert_true(hist_quantile(&h, 1) == (double)v[N - 1]);
		hist_release(&h);
		hist_release(&a);
		hist_release(&b);
	}
	free(v);
}

static void
test_hist_count_le(void **state)
{
	struct hist h;
	uint64_t i;

	(void)state;
	hist_init(&h);
	for (i = 0; i < 100; i++)
		hist_add(&h, i * 1000);	/* 0 .. 99 ms */
	assert_int_equal(hist_count_le(&h, 63), 1);
	/* exact at a bucket's top edge */
	assert_true(hist_count_le(&h, 50000) >= 50 - 1 &&
	    hist_count_le(&h, 50000) <= 51);
	assert_int_equal(hist_count_le(&h, 1000000), 100);
	hist_release(&h);
}

static void
test_routes(void **state)
{
	static const struct {
		const char *tmpl, *err;
	} bad[] = {
		{ "api/x", "column 1" },
		{ "", "column 1" },
		{ "/api//x", "column 6" },
		{ "/api/x/", "column 8" },
		{ "/a/:/b", "column 4" },
		{ "/a/*/b", "column 4" },
		{ "/a/b*", "not allowed" },
		{ "/a/:id/:id", "named twice" },
		{ "/a/:i-d", "column 6" },
		{ "/a b", "column 3" },
	};
	static const struct {
		const char *tmpl, *path;
		bool match;
	} cases[] = {
		{ "/api/tiles/:id", "/api/tiles/3", true },
		{ "/api/tiles/:id", "/api/tiles/3/", true },
		{ "/api/tiles/:id", "/api/tiles", false },
		{ "/api/tiles/:id", "/api/tiles/3/x", false },
		{ "/api/tiles/:id", "/api/tile/3", false },
		{ "/static/*", "/static/a/b.css", true },
		{ "/static/*", "/static", false },
		{ "/", "/", true },
		{ "/", "/x", false },
	};
	struct route rt;
	struct err e;
	char out[64];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(route_compile(bad[i].tmpl, &rt, &e), -1);
		if (strstr(e.msg, bad[i].err) == NULL)
			fail_msg("%s: '%s' lacks '%s'", bad[i].tmpl, e.msg,
			    bad[i].err);
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(route_compile(cases[i].tmpl, &rt, &e), 0);
		if (route_match(&rt, cases[i].path, strlen(cases[i].path)) !=
		    cases[i].match)
			fail_msg("%s against %s", cases[i].tmpl, cases[i].path);
		route_release(&rt);
	}
	route_normalize("/users/42/orders/9f86d081884c", 29, out, sizeof(out));
	assert_string_equal(out, "/users/:id/orders/:id");
	route_normalize("/api/orders", 11, out, sizeof(out));
	assert_string_equal(out, "/api/orders");
}

static const char good_line[] = "127.0.0.1:52424 [04/Dec/2026:23:01:58.749] "
    "fe.web web-app.web/s1 0/0/1/3/4 200 209 - - ---- 1/1/0/0/0 0/0 "
    "\"GET /api/tiles/7?z=3 HTTP/1.1\"";

static void
test_haplog(void **state)
{
	static const char *const bad[] = {
		"", "hello", "127.0.0.1:1 [x] fe be/s 0/0/0 200",
		"127.0.0.1:1 [x] fe bes 0/0/0/0/0 200 1 - - ---- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"",
		"127.0.0.1:1 [x] fe be/s 0/0/0/0/0 2000 1 - - ---- 1/1/1/1/0 0/0 \"GET / HTTP/1.1\"",
		"Proxy fe.web started.",
	};
	struct haplog_rec r;
	size_t i;

	(void)state;
	assert_int_equal(haplog_parse(good_line, strlen(good_line), &r), 0);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.ta_ms, 4);
	assert_int_equal(r.tr_ms, 3);
	assert_true(r.backend_len == 11 && memcmp(r.backend, "web-app.web", 11) == 0);
	assert_true(r.server_len == 2 && memcmp(r.server, "s1", 2) == 0);
	assert_true(r.path_len == 12 && memcmp(r.path, "/api/tiles/7", 12) == 0);
	assert_true(r.method_len == 3 && memcmp(r.method, "GET", 3) == 0);
	/* with a syslog header, captured headers, an aborted request */
	{
		const char *l = "<134>Dec  4 23:01:58 haproxy[123]: 10.0.0.1:5 "
		    "[04/Dec/2026:23:01:58.749] fe be/<NOSRV> -1/-1/-1/-1/0 503 "
		    "217 - - SC-- 1/1/0/0/0 0/0 {host.example|curl} {} "
		    "\"POST http://h.example/x/y?a HTTP/1.1\"";

		assert_int_equal(haplog_parse(l, strlen(l), &r), 0);
		assert_int_equal(r.status, 503);
		assert_int_equal(r.tr_ms, -1);
		assert_true(r.server_len == 7);
		assert_true(r.path_len == 4 && memcmp(r.path, "/x/y", 4) == 0);
	}
	{
		const char *l = "1.2.3.4:5 [d] fe fe/<NOSRV> -1/-1/-1/-1/0 400 0 - "
		    "- PR-- 1/1/0/0/0 0/0 \"<BADREQ>\"";

		assert_int_equal(haplog_parse(l, strlen(l), &r), 0);
		assert_int_equal(r.status, 400);
		assert_null(r.method);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(haplog_parse(bad[i], strlen(bad[i]), &r), -1);
	/* every prefix of a good line: no read past it, and no bogus path */
	for (i = 0; i < strlen(good_line); i++) {
		char *cut = malloc(i + 1);

		memcpy(cut, good_line, i);
		if (haplog_parse(cut, i, &r) == 0 && r.path != NULL)
			assert_true(r.path + r.path_len <= cut + i);
		free(cut);
	}
}

static void
test_metrics(void **state)
{
	const char *const tmpl[] = { "/api/tiles/:id" };
	struct metrics *m = metrics_new();
	struct metrics_sum s;
	struct buf b = BUF_INIT;
	struct err e;
	json_t *rows;
	int i;

	(void)state;
	assert_int_equal(metrics_set_routes(m, "a", tmpl, 1, &e), 0);
	for (i = 0; i < 100; i++)
		metrics_add(m, "a", 2, "/api/tiles/9", 12, i < 10 ? 500 : 200,
		    (i + 1) * 1000, 100000 + i * 10);
	metrics_add(m, "a", 1, "/api/orders", 11, 200, 4000, 100500);
	assert_int_equal(metrics_query(m, "a", 2, NULL, 10000, 101000, &s), 0);
	assert_int_equal(s.requests, 100);
	assert_int_equal(s.by_class[5], 10);
	assert_true(fabs(s.rate_5xx - 0.1) < 1e-9);
	assert_true(fabs(s.p95 - 95000) <= 950);
	assert_int_equal(s.max, 100000);
	metrics_query(m, "a", 0, NULL, 10000, 101000, &s);
	assert_int_equal(s.requests, 101);
	metrics_query(m, "a", 0, "/api/orders", 10000, 101000, &s);
	assert_int_equal(s.requests, 1);
	/* out of the 10 s window a minute later, still in the 5 min one */
	metrics_query(m, "a", 2, NULL, 10000, 161000, &s);
	assert_int_equal(s.requests, 0);
	metrics_query(m, "a", 2, NULL, 300000, 161000, &s);
	assert_int_equal(s.requests, 100);
	/* a clock gone back does not lose or break anything */
	metrics_add(m, "a", 2, "/api/tiles/1", 12, 200, 1000, 50000);
	metrics_query(m, "a", 2, NULL, 3600000, 161000, &s);
	assert_int_equal(s.requests, 101);
	rows = metrics_json(m, "a", 3600000, 161000);
	assert_int_equal(json_array_size(rows), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    rows, 0), "route")), "/api/orders");
	json_decref(rows);
	/* lifetime counters: the 100 above and the one from the clock gone back */
	metrics_prometheus(m, &b);
	assert_non_null(strstr(b.data, "opsdeck_http_requests_total{app=\"a\","
	    "release=\"v2\",route=\"/api/tiles/:id\",class=\"5xx\"} 10\n"));
	assert_non_null(strstr(b.data, "opsdeck_http_request_duration_seconds_"
	    "bucket{app=\"a\",release=\"v2\",route=\"/api/tiles/:id\","
	    "le=\"0.01\"} 11\n"));
	assert_non_null(strstr(b.data, "le=\"+Inf\"} 101\n"));
	buf_release(&b);
	/* routes past the cap count as (other) */
	for (i = 0; i < METRICS_ROUTES_MAX + 50; i++) {
		char p[32];

		snprintf(p, sizeof(p), "/r%d", i);
		metrics_add(m, "b", 1, p, strlen(p), 200, 10, 200000);
	}
	metrics_query(m, "b", 0, "(other)", 10000, 200000, &s);
	assert_true(s.requests >= 50);
	metrics_free(m);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hist_error),
		cmocka_unit_test(test_hist_count_le),
		cmocka_unit_test(test_routes),
		cmocka_unit_test(test_haplog),
		cmocka_unit_test(test_metrics),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
