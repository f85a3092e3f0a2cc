#include <stdbool.h>
#include <string.h>

#include "stats/haplog.h"

struct cur {
	const char	*p;
	const char	*end;
};

/* The next space-separated word; false at the end. */
static bool
word(struct cur *c, const char **w, size_t *wl)
{
	while (c->p < c->end && *c->p == ' ')
		c->p++;
	if (c->p == c->end)
		return false;
	*w = c->p;
	while (c->p < c->end && *c->p != ' ')
		c->p++;
	*wl = (size_t)(c->p - *w);
	return true;
}

/* A decimal, maybe negative, with a '+' prefix HAProxy adds for logasap. */
static bool
number(const char *s, size_t n, int64_t *out)
{
	int64_t v = 0;
	bool neg = false;
	size_t i = 0;

	if (i < n && (s[i] == '-' || s[i] == '+'))
		neg = s[i++] == '-';
	if (i == n)
		return false;
	for (; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > INT64_MAX / 16)
			return false;
		v = v * 10 + (s[i] - '0');
	}
	*out = neg ? -v : v;
	return true;
}

/* "a/b/c/d/e" into up to max numbers; returns how many. */
static int
numbers(const char *s, size_t n, int64_t *out, int max)
{
	int k = 0;
	size_t i = 0, start = 0;

	for (i = 0; i <= n && k < max; i++)
		if (i == n || s[i] == '/') {
			if (!number(s + start, i - start, &out[k]))
				return -1;
			k++;
			start = i + 1;
		}
	return i <= n ? -1 : k;
}

/* Skips a syslog header up to "haproxy[pid]: " or similar "tag: " before the client. */
static const char *
skip_syslog(const char *p, const char *end)
{
	const char *q;

	if (p < end && *p == '<') {
		if ((q = memchr(p, '>', (size_t)(end - p))) == NULL ||
		    q - p > 5)
			return NULL;
		p = q + 1;
	}
	/* "... tag[pid]: " ends the header: take the first ": " after a ']' */
	for (q = p; q + 1 < end && q - p < 128; q++)
		if (q[0] == ']' && q[1] == ':') {
			p = q + 2;
			while (p < end && *p == ' ')
				p++;
			return p;
		}
	return p;
}

int
haplog_parse(const char *line, size_t len, struct haplog_rec *r)
{
	struct cur c;
	const char *w, *q, *req, *reqend;
	size_t wl;
	int64_t t[5], v;
	const char *slash;
	int n;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	r->tr_ms = r->ta_ms = -1;
	if (len > 0 && line[len - 1] == '\r')
		len--;
	c.end = line + len;
	if ((c.p = skip_syslog(line, c.end)) == NULL)
		return -1;
	/* client ip:port */
	if (!word(&c, &w, &wl) || memchr(w, ':', wl) == NULL)
		return -1;
	/* [accept date] */
	if (!word(&c, &w, &wl) || w[0] != '[' || w[wl - 1] != ']')
		return -1;
	if (!word(&c, &r->frontend, &r->frontend_len))
		return -1;
	/* backend/server */
	if (!word(&c, &w, &wl) || (slash = memchr(w, '/', wl)) == NULL)
		return -1;
	r->backend = w;
	r->backend_len = (size_t)(slash - w);
	r->server = slash + 1;
	r->server_len = wl - r->backend_len - 1;
	/* TR/Tw/Tc/Tr/Ta */
	if (!word(&c, &w, &wl) || (n = numbers(w, wl, t, 5)) != 5)
		return -1;
	r->tr_ms = t[3];
	r->ta_ms = t[4];
	/* status */
	if (!word(&c, &w, &wl) || !number(w, wl, &v) || v < -1 || v > 999)
		return -1;
	r->status = (int)v;
	/* bytes, captured request and response cookies */
	if (!word(&c, &w, &wl) || !word(&c, &w, &wl) || !word(&c, &w, &wl))
		return -1;
	/* termination state */
	if (!word(&c, &w, &wl) || wl != 4)
		return -1;
	memcpy(r->term, w, 4);
	/* actconn/feconn/beconn/srv_conn/retries */
	if (!word(&c, &w, &wl) || numbers(w, wl, t, 5) != 5)
		return -1;
	r->retries = (int)t[4];
	/* srv_queue/backend_queue */
	if (!word(&c, &w, &wl) || numbers(w, wl, t, 2) != 2)
		return -1;
	/* captured headers: {...} blocks, which may hold spaces */
	for (;;) {
		while (c.p < c.end && *c.p == ' ')
			c.p++;
		if (c.p == c.end || *c.p != '{')
			break;
		if ((q = memchr(c.p, '}', (size_t)(c.end - c.p))) == NULL)
			return -1;
		c.p = q + 1;
	}
	/* "METHOD URI HTTP/x" */
	if (c.p == c.end || *c.p != '"')
		return -1;
	req = c.p + 1;
	reqend = c.end;
	if (reqend > req && reqend[-1] == '"')
		reqend--;
	if (reqend - req >= 8 && memcmp(req, "<BADREQ>", 8) == 0)
		return 0;
	c.p = req;
	c.end = reqend;
	if (!word(&c, &r->method, &r->method_len))
		return 0;
	if (!word(&c, &w, &wl)) {
		r->method = NULL;
		r->method_len = 0;
		return 0;
	}
	/* an absolute URI: keep its path */
	if (wl > 7 && (q = memchr(w, ':', wl)) != NULL && q + 2 < w + wl &&
	    q[1] == '/' && q[2] == '/') {
		const char *s = memchr(q + 3, '/', (size_t)(w + wl - q - 3));

		if (s == NULL) {
			/* no path: an empty one, still inside the line */
			w += wl;
			wl = 0;
		} else {
			wl -= (size_t)(s - w);
			w = s;
		}
	}
	r->path = w;
	r->path_len = wl;
	if ((q = memchr(w, '?', wl)) != NULL)
		r->path_len = (size_t)(q - w);
	return 0;
}
