#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "stats/hist.h"
#include "stats/logstat.h"

#define OTHER_ROUTES	"(other routes)"
#define BAD_REQUEST	"(bad request)"

struct lroute {
	char		*name;
	uint32_t	 hash;
	uint64_t	 hits;
	uint64_t	 cls[6];	/* 1xx..5xx, then no status or another */
	uint64_t	 slow;
	struct hist	 h;
};

struct slow_req {
	int64_t		 time_us;
	int		 status;
	const char	*file;
	uint64_t	 line;
	char		 method[17];
	char		 target[161];
	char		 when[41];
};

struct err_key {
	uint32_t	 route;		/* index + 1; 0 for an empty slot */
	int		 status;
	uint64_t	 count;
};

struct malformed {
	const char	*file;
	uint64_t	 line;
	const char	*why;
	char		 text[121];
};

struct logstat {
	struct logstat_opts opts;
	uint64_t	 lines, parsed, malformed, untimed;
	struct lroute	*routes;
	size_t		 nroutes, routes_cap;
	uint32_t	*slots;		/* route index + 1, open addressing */
	size_t		 nslots;
	struct slow_req	*slowest;	/* a min-heap on time_us */
	size_t		 nslowest;
	struct err_key	*errs;
	size_t		 nerrs, errs_cap;
	struct malformed *bad;
	size_t		 nbad;
	json_t		*files;
};

static uint32_t
fnv(const char *s, size_t n)
{
	uint32_t h = 2166136261u;
	size_t i;

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)s[i]) * 16777619u;
	return h;
}

struct logstat *
logstat_new(const struct logstat_opts *opts)
{
	struct logstat *ls = xcalloc(1, sizeof(*ls));

	ls->opts = *opts;
	if (ls->opts.max_routes == 0)
		ls->opts.max_routes = 5000;
	ls->nslots = 1024;
	ls->slots = xcalloc(ls->nslots, sizeof(*ls->slots));
	ls->slowest = xcalloc(opts->top ? opts->top : 1, sizeof(*ls->slowest));
	ls->files = json_array();
	return ls;
}

void
logstat_free(struct logstat *ls)
{
	size_t i;

	if (ls == NULL)
		return;
	for (i = 0; i < ls->nroutes; i++) {
		free(ls->routes[i].name);
		hist_release(&ls->routes[i].h);
	}
	free(ls->routes);
	free(ls->slots);
	free(ls->slowest);
	free(ls->errs);
	free(ls->bad);
	json_decref(ls->files);
	free(ls);
}

static void
grow_slots(struct logstat *ls)
{
	size_t n = ls->nslots * 2, i;
	uint32_t *s = xcalloc(n, sizeof(*s));

	for (i = 0; i < ls->nroutes; i++) {
		size_t k = ls->routes[i].hash & (n - 1);

		while (s[k] != 0)
			k = (k + 1) & (n - 1);
		s[k] = (uint32_t)i + 1;
	}
	free(ls->slots);
	ls->slots = s;
	ls->nslots = n;
}

static struct lroute *
route_get(struct logstat *ls, const char *name, size_t n)
{
	uint32_t h = fnv(name, n);
	size_t k = h & (ls->nslots - 1);
	struct lroute *r;

	while (ls->slots[k] != 0) {
		r = &ls->routes[ls->slots[k] - 1];
		if (r->hash == h && strncmp(r->name, name, n) == 0 &&
		    r->name[n] == '\0')
			return r;
		k = (k + 1) & (ls->nslots - 1);
	}
	if (ls->nroutes >= ls->opts.max_routes && strcmp(name, OTHER_ROUTES) != 0)
		return route_get(ls, OTHER_ROUTES, strlen(OTHER_ROUTES));
	if (ls->nroutes == ls->routes_cap) {
		ls->routes_cap = ls->routes_cap ? ls->routes_cap * 2 : 64;
		ls->routes = xreallocarray(ls->routes, ls->routes_cap,
		    sizeof(*ls->routes));
	}
	r = &ls->routes[ls->nroutes];
	memset(r, 0, sizeof(*r));
	r->name = xstrndup(name, n);
	r->hash = h;
	hist_init(&r->h);
	ls->slots[k] = (uint32_t)++ls->nroutes;
	if (ls->nroutes * 2 > ls->nslots)
		grow_slots(ls);
	return &ls->routes[ls->nroutes - 1];
}

static void
copy_cut(char *dst, size_t cap, const char *s, size_t n)
{
	size_t i;

	if (n > cap - 1)
		n = cap - 1;
	for (i = 0; i < n; i++)
		dst[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
	dst[n] = '\0';
}

static void
heap_down(struct slow_req *a, size_t n, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, m = i;
		struct slow_req t;

		if (l < n && a[l].time_us < a[m].time_us)
			m = l;
		if (l + 1 < n && a[l + 1].time_us < a[m].time_us)
			m = l + 1;
		if (m == i)
			return;
		t = a[i], a[i] = a[m], a[m] = t;
		i = m;
	}
}

static void
keep_slow(struct logstat *ls, const struct logstat_src *src,
    const struct alog_rec *rec)
{
	struct slow_req *s;
	size_t i;

	if (ls->opts.top == 0)
		return;
	if (ls->nslowest == ls->opts.top) {
		if (rec->time_us <= ls->slowest[0].time_us)
			return;
		s = &ls->slowest[0];
	} else
		s = &ls->slowest[ls->nslowest++];
	s->time_us = rec->time_us;
	s->status = rec->status;
	s->file = src->name;
	s->line = src->lineno;
	copy_cut(s->method, sizeof(s->method), rec->method ? rec->method : "",
	    rec->method ? rec->method_len : 0);
	copy_cut(s->target, sizeof(s->target), rec->target, rec->target_len);
	copy_cut(s->when, sizeof(s->when), rec->when ? rec->when : "",
	    rec->when ? rec->when_len : 0);
	if (s == &ls->slowest[0])
		heap_down(ls->slowest, ls->nslowest, 0);
	else
		/* the heap is built when it fills */
		if (ls->nslowest == ls->opts.top)
			for (i = ls->nslowest / 2 + 1; i-- > 0;)
				heap_down(ls->slowest, ls->nslowest, i);
}

static void
count_error(struct logstat *ls, uint32_t route, int status)
{
	size_t k, i;

	if (ls->nerrs * 2 >= ls->errs_cap) {
		size_t n = ls->errs_cap ? ls->errs_cap * 2 : 256;
		struct err_key *t = xcalloc(n, sizeof(*t));

		for (i = 0; i < ls->errs_cap; i++)
			if (ls->errs[i].route != 0) {
				k = (ls->errs[i].route * 31u +
				    (unsigned)ls->errs[i].status) & (n - 1);
				while (t[k].route != 0)
					k = (k + 1) & (n - 1);
				t[k] = ls->errs[i];
			}
		free(ls->errs);
		ls->errs = t;
		ls->errs_cap = n;
	}
	k = (route * 31u + (unsigned)status) & (ls->errs_cap - 1);
	while (ls->errs[k].route != 0 && (ls->errs[k].route != route ||
	    ls->errs[k].status != status))
		k = (k + 1) & (ls->errs_cap - 1);
	if (ls->errs[k].route == 0) {
		ls->errs[k].route = route;
		ls->errs[k].status = status;
		ls->nerrs++;
	}
	ls->errs[k].count++;
}

static void
bad_line(struct logstat *ls, struct logstat_src *src, const char *line,
    size_t len, const char *why)
{
	struct malformed *m;

	ls->malformed++;
	src->malformed++;
	if (!ls->opts.verbose || ls->nbad == LOGSTAT_MALFORMED_LIST)
		return;
	if (ls->bad == NULL)
		ls->bad = xcalloc(LOGSTAT_MALFORMED_LIST, sizeof(*ls->bad));
	m = &ls->bad[ls->nbad++];
	m->file = src->name;
	m->line = src->lineno;
	m->why = why;
	copy_cut(m->text, sizeof(m->text), line, len);
}

void
logstat_malformed(struct logstat *ls, struct logstat_src *src, const char *line,
    size_t len, const char *why)
{
	src->lineno++;
	ls->lines++;
	bad_line(ls, src, line, len, why);
}

void
logstat_feed(struct logstat *ls, struct logstat_src *src, const char *line,
    size_t len)
{
	struct alog_rec rec;
	struct lroute *r;
	const char *why = NULL, *name;
	char norm[ROUTE_MAX_LEN + 1];
	size_t i, nlen;

	src->lineno++;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	if (len == 0)
		return;
	ls->lines++;
	if (src->fmt == ALOG_AUTO &&
	    (src->fmt = alog_detect(line, len)) == ALOG_AUTO) {
		bad_line(ls, src, line, len, "not a line of a known format "
		    "(combined, common, json, haproxy): give --format");
		return;
	}
	if (alog_parse(src->fmt, line, len, &rec, &why) < 0) {
		bad_line(ls, src, line, len, why);
		return;
	}
	ls->parsed++;
	name = NULL;
	if (rec.method == NULL) {
		name = BAD_REQUEST;
		nlen = strlen(name);
	} else {
		for (i = 0; i < ls->opts.ntmpls && name == NULL; i++)
			if (route_match(&ls->opts.tmpls[i], rec.target, rec.path_len)) {
				name = ls->opts.tmpls[i].tmpl;
				nlen = strlen(name);
			}
		if (name == NULL) {
			route_normalize(rec.target, rec.path_len, norm, sizeof(norm));
			name = norm;
			nlen = strlen(norm);
		}
	}
	r = route_get(ls, name, nlen);
	r->hits++;
	if (rec.status >= 100 && rec.status <= 599)
		r->cls[rec.status / 100 - 1]++;
	else
		r->cls[5]++;
	if (rec.status >= 400)
		count_error(ls, (uint32_t)(r - ls->routes) + 1, rec.status);
	if (rec.time_us < 0) {
		ls->untimed++;
		return;
	}
	hist_add(&r->h, (uint64_t)rec.time_us);
	if (ls->opts.slow_us > 0 && rec.time_us >= ls->opts.slow_us)
		r->slow++;
	keep_slow(ls, src, &rec);
}

void
logstat_end_source(struct logstat *ls, const struct logstat_src *src)
{
	json_array_append_new(ls->files, json_pack("{s:s, s:s, s:I, s:I}",
	    "name", src->name, "format", alog_format_name(src->fmt),
	    "lines", (json_int_t)src->lineno, "malformed",
	    (json_int_t)src->malformed));
}

static double
ms(double us)
{
	return (double)(int64_t)(us + 0.5) / 1000.0;
}

static int
by_hits(const void *a, const void *b)
{
	const struct lroute *x = *(const struct lroute *const *)a;
	const struct lroute *y = *(const struct lroute *const *)b;

	if (x->hits != y->hits)
		return x->hits < y->hits ? 1 : -1;
	return strcmp(x->name, y->name);
}

static int
by_time(const void *a, const void *b)
{
	const struct slow_req *x = a, *y = b;

	if (x->time_us != y->time_us)
		return x->time_us < y->time_us ? 1 : -1;
	return x->line < y->line ? -1 : x->line > y->line;
}

static int
by_count(const void *a, const void *b)
{
	const struct err_key *x = a, *y = b;

	if (x->count != y->count)
		return x->count < y->count ? 1 : -1;
	if (x->status != y->status)
		return x->status - y->status;
	return (int)x->route - (int)y->route;
}

static json_t *
route_json(const struct logstat *ls, const struct lroute *r)
{
	static const char *const cls[] = { "1xx", "2xx", "3xx", "4xx", "5xx",
	    "other" };
	json_t *o = json_object(), *st = json_object();
	size_t i;

	json_object_set_new(o, "route", json_string(r->name));
	json_object_set_new(o, "hits", json_integer((json_int_t)r->hits));
	for (i = 0; i < 6; i++)
		json_object_set_new(st, cls[i], json_integer((json_int_t)r->cls[i]));
	json_object_set_new(o, "status", st);
	json_object_set_new(o, "error_rate", json_real(r->hits ?
	    (double)r->cls[4] / (double)r->hits : 0));
	json_object_set_new(o, "client_error_rate", json_real(r->hits ?
	    (double)r->cls[3] / (double)r->hits : 0));
	json_object_set_new(o, "timed", json_integer((json_int_t)r->h.count));
	if (r->h.count > 0) {
		json_object_set_new(o, "p50_ms", json_real(ms(hist_quantile(&r->h,
		    0.50))));
		json_object_set_new(o, "p95_ms", json_real(ms(hist_quantile(&r->h,
		    0.95))));
		json_object_set_new(o, "p99_ms", json_real(ms(hist_quantile(&r->h,
		    0.99))));
		json_object_set_new(o, "max_ms", json_real(ms((double)r->h.max)));
		json_object_set_new(o, "mean_ms", json_real(ms((double)r->h.sum /
		    (double)r->h.count)));
	}
	if (ls->opts.slow_us > 0)
		json_object_set_new(o, "slow", json_integer((json_int_t)r->slow));
	return o;
}

json_t *
logstat_json(const struct logstat *ls)
{
	json_t *o = json_object(), *arr;
	const struct lroute **order;
	struct slow_req *slow;
	struct err_key *errs;
	size_t i, n;

	json_object_set_new(o, "lines", json_integer((json_int_t)ls->lines));
	json_object_set_new(o, "parsed", json_integer((json_int_t)ls->parsed));
	json_object_set_new(o, "malformed", json_integer((json_int_t)ls->malformed));
	json_object_set_new(o, "without_time", json_integer((json_int_t)ls->untimed));
	json_object_set(o, "files", ls->files);
	if (ls->opts.slow_us > 0)
		json_object_set_new(o, "slow_ms", json_real(ms((double)ls->opts.slow_us)));

	order = xcalloc(ls->nroutes + 1, sizeof(*order));
	for (i = 0; i < ls->nroutes; i++)
		order[i] = &ls->routes[i];
	qsort(order, ls->nroutes, sizeof(*order), by_hits);
	arr = json_array();
	for (i = 0; i < ls->nroutes; i++)
		json_array_append_new(arr, route_json(ls, order[i]));
	json_object_set_new(o, "routes", arr);
	free(order);

	slow = xcalloc(ls->nslowest + 1, sizeof(*slow));
	memcpy(slow, ls->slowest, ls->nslowest * sizeof(*slow));
	qsort(slow, ls->nslowest, sizeof(*slow), by_time);
	arr = json_array();
	for (i = 0; i < ls->nslowest; i++) {
		json_t *s = json_pack("{s:s, s:I, s:s, s:s, s:f}", "file",
		    slow[i].file, "line", (json_int_t)slow[i].line, "method",
		    slow[i].method, "target", slow[i].target, "ms",
		    ms((double)slow[i].time_us));

		json_object_set_new(s, "status", slow[i].status > 0 ?
		    json_integer(slow[i].status) : json_null());
		if (slow[i].when[0])
			json_object_set_new(s, "time", json_string(slow[i].when));
		json_array_append_new(arr, s);
	}
	json_object_set_new(o, "slowest", arr);
	free(slow);

	errs = xcalloc(ls->nerrs + 1, sizeof(*errs));
	for (i = 0, n = 0; i < ls->errs_cap; i++)
		if (ls->errs[i].route != 0)
			errs[n++] = ls->errs[i];
	qsort(errs, n, sizeof(*errs), by_count);
	arr = json_array();
	for (i = 0; i < n && i < ls->opts.top; i++)
		json_array_append_new(arr, json_pack("{s:i, s:s, s:I}", "status",
		    errs[i].status, "route", ls->routes[errs[i].route - 1].name,
		    "count", (json_int_t)errs[i].count));
	json_object_set_new(o, "errors", arr);
	free(errs);

	if (ls->opts.verbose) {
		arr = json_array();
		for (i = 0; i < ls->nbad; i++)
			json_array_append_new(arr, json_pack("{s:s, s:I, s:s, s:s}",
			    "file", ls->bad[i].file, "line",
			    (json_int_t)ls->bad[i].line, "error", ls->bad[i].why,
			    "text", ls->bad[i].text));
		json_object_set_new(o, "malformed_lines", arr);
	}
	return o;
}
