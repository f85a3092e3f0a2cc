#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "stats/hist.h"
#include "stats/metrics.h"
#include "stats/route.h"

#define NRINGS		3
#define TABLE_CAP	(2 * METRICS_KEYS_MAX)	/* a power of two */
#define OTHER		"(other)"

static const int64_t ring_width[NRINGS] = { 1000, 10000, 60000 };
static const int ring_len[NRINGS] = { 60, 30, 60 };

/* Prometheus bucket bounds, in seconds and in µs. */
static const char *const prom_le[] = { "0.005", "0.01", "0.025", "0.05",
    "0.1", "0.25", "0.5", "1", "2.5", "5", "10" };
static const int64_t prom_us[] = { 5000, 10000, 25000, 50000, 100000, 250000,
    500000, 1000000, 2500000, 5000000, 10000000 };
#define NPROM (sizeof(prom_us) / sizeof(prom_us[0]))

struct wslot {
	int64_t		 id;		/* now_ms / width of what it holds */
	uint64_t	 by_class[6];
	struct hist	 h;
};

struct key {
	char		*app;
	int		 release;
	char		*route;
	struct wslot	*rings[NRINGS];
	uint64_t	 life_class[6];
	uint64_t	 life_le[NPROM];	/* not cumulative */
	uint64_t	 life_count;
	uint64_t	 life_sum_us;
	bool		 dead;		/* forgotten: skipped, its slot kept */
};

struct app_routes {
	char		*app;
	struct route	*routes;
	size_t		 n;
	size_t		 nkeys;		/* its keys, against METRICS_ROUTES_MAX */
};

struct metrics {
	struct key	*keys;
	size_t		 nkeys;
	int		 table[TABLE_CAP];	/* key index + 1, 0: empty */
	struct app_routes *apps;
	size_t		 napps;
};

struct metrics *
metrics_new(void)
{
	struct metrics *m = xcalloc(1, sizeof(*m));

	m->keys = xcalloc(METRICS_KEYS_MAX, sizeof(*m->keys));
	return m;
}

static void
app_routes_release(struct app_routes *a)
{
	size_t i;

	for (i = 0; i < a->n; i++)
		route_release(&a->routes[i]);
	free(a->routes);
	a->routes = NULL;
	a->n = 0;
}

void
metrics_free(struct metrics *m)
{
	size_t i, k;
	int r;

	if (m == NULL)
		return;
	for (i = 0; i < m->nkeys; i++) {
		for (r = 0; r < NRINGS; r++) {
			if (m->keys[i].rings[r] == NULL)
				continue;
			for (k = 0; k < (size_t)ring_len[r]; k++)
				hist_release(&m->keys[i].rings[r][k].h);
			free(m->keys[i].rings[r]);
		}
		free(m->keys[i].app);
		free(m->keys[i].route);
	}
	for (i = 0; i < m->napps; i++) {
		app_routes_release(&m->apps[i]);
		free(m->apps[i].app);
	}
	free(m->apps);
	free(m->keys);
	free(m);
}

static struct app_routes *
app_of(struct metrics *m, const char *app, bool create)
{
	size_t i;

	for (i = 0; i < m->napps; i++)
		if (strcmp(m->apps[i].app, app) == 0)
			return &m->apps[i];
	if (!create)
		return NULL;
	m->apps = xreallocarray(m->apps, m->napps + 1, sizeof(*m->apps));
	memset(&m->apps[m->napps], 0, sizeof(m->apps[0]));
	m->apps[m->napps].app = xstrdup(app);
	return &m->apps[m->napps++];
}

int
metrics_set_routes(struct metrics *m, const char *app,
    const char *const *templates, size_t n, struct err *e)
{
	struct route *rs = xcalloc(n + 1, sizeof(*rs));
	struct app_routes *a;
	size_t i;

	for (i = 0; i < n; i++)
		if (route_compile(templates[i], &rs[i], e) < 0) {
			while (i-- > 0)
				route_release(&rs[i]);
			free(rs);
			return -1;
		}
	a = app_of(m, app, true);
	app_routes_release(a);
	a->routes = rs;
	a->n = n;
	return 0;
}

static uint32_t
key_hash(const char *app, int release, const char *route, size_t rlen)
{
	uint32_t h = 2166136261u;
	const unsigned char *p;
	size_t i;

	for (p = (const unsigned char *)app; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	h = (h ^ 0) * 16777619u;
	for (i = 0; i < rlen; i++)
		h = (h ^ (unsigned char)route[i]) * 16777619u;
	h = (h ^ (uint32_t)release) * 16777619u;
	return h;
}

/* The key, created when missing and room is left; NULL when the store is full. */
static struct key *
key_get(struct metrics *m, const char *app, int release, const char *route,
    size_t rlen, bool create)
{
	uint32_t h = key_hash(app, release, route, rlen) & (TABLE_CAP - 1);
	struct key *k;

	for (;; h = (h + 1) & (TABLE_CAP - 1)) {
		int slot = m->table[h];

		if (slot == 0)
			break;
		k = &m->keys[slot - 1];
		if (k->release == release && strcmp(k->app, app) == 0 &&
		    strlen(k->route) == rlen && memcmp(k->route, route,
		    rlen) == 0)
			return k;
	}
	if (!create || m->nkeys == METRICS_KEYS_MAX)
		return NULL;
	k = &m->keys[m->nkeys];
	k->app = xstrdup(app);
	k->release = release;
	k->route = xstrndup(route, rlen);
	m->table[h] = (int)++m->nkeys;
	return k;
}

static int
status_class(int status)
{
	return status >= 100 && status < 600 ? status / 100 : 0;
}

static void
key_add(struct key *k, int cls, int64_t lat, int64_t now)
{
	size_t i;
	int r;

	for (r = 0; r < NRINGS; r++) {
		int64_t id = now / ring_width[r];
		struct wslot *s;

		if (k->rings[r] == NULL) {
			k->rings[r] = xcalloc((size_t)ring_len[r],
			    sizeof(*k->rings[r]));
			for (i = 0; i < (size_t)ring_len[r]; i++)
				k->rings[r][i].id = -1;
		}
		s = &k->rings[r][id % ring_len[r]];
		/* A clock gone back counts in the newer slot it finds. */
		if (s->id < id) {
			memset(s->by_class, 0, sizeof(s->by_class));
			hist_reset(&s->h);
			s->id = id;
		}
		s->by_class[cls]++;
		hist_add(&s->h, (uint64_t)lat);
	}
	k->life_class[cls]++;
	k->life_count++;
	k->life_sum_us += (uint64_t)lat;
	for (i = 0; i < NPROM; i++)
		if (lat <= prom_us[i]) {
			k->life_le[i]++;
			break;
		}
}

void
metrics_add(struct metrics *m, const char *app, int release,
    const char *path, size_t pathlen, int status, int64_t lat, int64_t now)
{
	struct app_routes *a = app_of(m, app, true);
	char norm[ROUTE_MAX_LEN + 1];
	const char *route = NULL;
	size_t rlen = 0, i;
	struct key *k;

	if (lat < 0)
		lat = 0;
	if (now < 0)
		now = 0;
	for (i = 0; i < a->n; i++)
		if (route_match(&a->routes[i], path, pathlen)) {
			route = a->routes[i].tmpl;
			rlen = strlen(route);
			break;
		}
	if (route == NULL) {
		route_normalize(path, pathlen, norm, sizeof(norm));
		route = norm;
		rlen = strlen(norm);
	}
	if ((k = key_get(m, app, release, route, rlen, false)) == NULL) {
		if (a->nkeys >= METRICS_ROUTES_MAX) {
			route = OTHER;
			rlen = strlen(OTHER);
		}
		if ((k = key_get(m, app, release, route, rlen, true)) == NULL)
			return;	/* full: bounded memory wins over this request */
		if (k->life_count == 0 && strcmp(k->route, OTHER) != 0)
			a->nkeys++;
	}
	if (k->dead)
		return;
	key_add(k, status_class(status), lat, now);
}

/* The ring that covers window_ms, and how many of its slots it takes. */
static int
ring_for(int64_t window_ms, int *nslots)
{
	int r;

	for (r = 0; r < NRINGS - 1; r++)
		if (window_ms <= ring_width[r] * ring_len[r])
			break;
	*nslots = (int)((window_ms + ring_width[r] - 1) / ring_width[r]);
	if (*nslots > ring_len[r])
		*nslots = ring_len[r];
	if (*nslots < 1)
		*nslots = 1;
	return r;
}

static void
key_window(const struct key *k, int64_t window_ms, int64_t now,
    uint64_t by_class[6], struct hist *h)
{
	int n, r = ring_for(window_ms, &n), j, c;
	int64_t cur = now / ring_width[r];

	if (k->rings[r] == NULL)
		return;
	for (j = 0; j < n; j++) {
		const struct wslot *s;

		if (cur - j < 0)
			break;
		s = &k->rings[r][(cur - j) % ring_len[r]];
		if (s->id != cur - j)
			continue;
		for (c = 0; c < 6; c++)
			by_class[c] += s->by_class[c];
		hist_merge(h, &s->h);
	}
}

static void
sum_fill(struct metrics_sum *out, const uint64_t by_class[6],
    const struct hist *h, int64_t window_ms)
{
	int c;

	memset(out, 0, sizeof(*out));
	for (c = 0; c < 6; c++) {
		out->by_class[c] = by_class[c];
		out->requests += by_class[c];
	}
	out->rate_5xx = out->requests ? (double)by_class[5] /
	    (double)out->requests : 0;
	out->rps = (double)out->requests * 1000.0 / (double)window_ms;
	out->p50 = hist_quantile(h, 0.50);
	out->p95 = hist_quantile(h, 0.95);
	out->p99 = hist_quantile(h, 0.99);
	out->max = (double)h->max;
}

int
metrics_query(struct metrics *m, const char *app, int release,
    const char *route, int64_t window_ms, int64_t now,
    struct metrics_sum *out)
{
	uint64_t by_class[6] = { 0 };
	struct hist h;
	size_t i;

	if (window_ms < 1)
		window_ms = 1;
	hist_init(&h);
	for (i = 0; i < m->nkeys; i++) {
		const struct key *k = &m->keys[i];

		if (k->dead || strcmp(k->app, app) != 0 ||
		    (release != 0 && k->release != release) ||
		    (route != NULL && strcmp(k->route, route) != 0))
			continue;
		key_window(k, window_ms, now, by_class, &h);
	}
	sum_fill(out, by_class, &h, window_ms);
	hist_release(&h);
	return 0;
}

static int
row_cmp(const void *a, const void *b)
{
	const json_t *x = *(json_t *const *)a, *y = *(json_t *const *)b;
	int c;

	if ((c = strcmp(json_string_value(json_object_get(x, "app")),
	    json_string_value(json_object_get(y, "app")))) != 0)
		return c;
	if ((c = strcmp(json_string_value(json_object_get(x, "route")),
	    json_string_value(json_object_get(y, "route")))) != 0)
		return c;
	return (int)(json_integer_value(json_object_get(x, "release")) -
	    json_integer_value(json_object_get(y, "release")));
}

json_t *
metrics_json(struct metrics *m, const char *app, int64_t window_ms,
    int64_t now)
{
	json_t **rows = xcalloc(m->nkeys + 1, sizeof(*rows)), *arr;
	static const char *const cls[6] = { "other", "1xx", "2xx", "3xx",
	    "4xx", "5xx" };
	size_t i, n = 0;
	int c;

	if (window_ms < 1)
		window_ms = 1;
	for (i = 0; i < m->nkeys; i++) {
		const struct key *k = &m->keys[i];
		uint64_t by_class[6] = { 0 };
		struct metrics_sum s;
		struct hist h;
		json_t *st;

		if (k->dead || (app != NULL && strcmp(k->app, app) != 0))
			continue;
		hist_init(&h);
		key_window(k, window_ms, now, by_class, &h);
		sum_fill(&s, by_class, &h, window_ms);
		hist_release(&h);
		if (s.requests == 0)
			continue;
		st = json_object();
		for (c = 0; c < 6; c++)
			if (s.by_class[c] > 0)
				json_object_set_new(st, cls[c], json_integer(
				    (json_int_t)s.by_class[c]));
		rows[n++] = json_pack("{s:s, s:i, s:s, s:I, s:f, s:o, s:f, "
		    "s:f, s:f, s:f, s:f}", "app", k->app, "release", k->release,
		    "route", k->route, "requests", (json_int_t)s.requests, "rps",
		    s.rps, "status", st, "error_rate", s.rate_5xx, "p50_ms",
		    s.p50 / 1000, "p95_ms", s.p95 / 1000, "p99_ms", s.p99 / 1000,
		    "max_ms", s.max / 1000);
	}
	qsort(rows, n, sizeof(*rows), row_cmp);
	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, rows[i]);
	free(rows);
	return arr;
}

void
metrics_prom_label(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++)
		if (*s == '\\' || *s == '"')
			buf_printf(b, "\\%c", *s);
		else if (*s == '\n')
			buf_addstr(b, "\\n");
		else
			buf_addch(b, *s);
}

static void
labels(struct buf *b, const struct key *k)
{
	buf_addstr(b, "app=\"");
	metrics_prom_label(b, k->app);
	buf_addstr(b, "\",release=\"");
	if (k->release > 0)
		buf_printf(b, "v%d", k->release);
	buf_addstr(b, "\",route=\"");
	metrics_prom_label(b, k->route);
	buf_addch(b, '"');
}

void
metrics_prometheus(struct metrics *m, struct buf *b)
{
	static const char *const cls[6] = { "other", "1xx", "2xx", "3xx",
	    "4xx", "5xx" };
	size_t i, j;
	int c;

	buf_addstr(b, "# HELP opsdeck_http_requests_total requests through the "
	    "router, by status class\n"
	    "# TYPE opsdeck_http_requests_total counter\n");
	for (i = 0; i < m->nkeys; i++)
		for (c = 0; c < 6; c++) {
			if (m->keys[i].dead || m->keys[i].life_class[c] == 0)
				continue;
			buf_addstr(b, "opsdeck_http_requests_total{");
			labels(b, &m->keys[i]);
			buf_printf(b, ",class=\"%s\"} %llu\n", cls[c],
			    (unsigned long long)m->keys[i].life_class[c]);
		}
	buf_addstr(b, "# HELP opsdeck_http_request_duration_seconds total time "
	    "of requests through the router\n"
	    "# TYPE opsdeck_http_request_duration_seconds histogram\n");
	for (i = 0; i < m->nkeys; i++) {
		const struct key *k = &m->keys[i];
		uint64_t cum = 0;

		if (k->dead)
			continue;
		for (j = 0; j < NPROM; j++) {
			cum += k->life_le[j];
			buf_addstr(b, "opsdeck_http_request_duration_seconds_bucket{");
			labels(b, k);
			buf_printf(b, ",le=\"%s\"} %llu\n", prom_le[j],
			    (unsigned long long)cum);
		}
		buf_addstr(b, "opsdeck_http_request_duration_seconds_bucket{");
		labels(b, k);
		buf_printf(b, ",le=\"+Inf\"} %llu\n",
		    (unsigned long long)k->life_count);
		buf_addstr(b, "opsdeck_http_request_duration_seconds_sum{");
		labels(b, k);
		buf_printf(b, "} %.6f\n", (double)k->life_sum_us / 1e6);
		buf_addstr(b, "opsdeck_http_request_duration_seconds_count{");
		labels(b, k);
		buf_printf(b, "} %llu\n", (unsigned long long)k->life_count);
	}
}

void
metrics_forget_release(struct metrics *m, const char *app, int release)
{
	size_t i;

	for (i = 0; i < m->nkeys; i++)
		if (m->keys[i].release == release &&
		    strcmp(m->keys[i].app, app) == 0)
			m->keys[i].dead = true;
}
