#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "stats/accesslog.h"
#include "stats/haplog.h"

static const char *const format_names[] = {
	[ALOG_AUTO] = "auto",
	[ALOG_COMBINED] = "combined",
	[ALOG_COMMON] = "common",
	[ALOG_JSON] = "json",
	[ALOG_HAPROXY] = "haproxy",
};

const char *
alog_format_name(enum alog_format f)
{
	return format_names[f];
}

int
alog_format_parse(const char *name, enum alog_format *f)
{
	size_t i;

	for (i = 0; i < sizeof(format_names) / sizeof(format_names[0]); i++)
		if (strcmp(name, format_names[i]) == 0) {
			*f = (enum alog_format)i;
			return 0;
		}
	return -1;
}

static bool
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/*
 * "0.123" as seconds, or "1234" as microseconds, into µs; false if not a number.
 * A leading "rt=" or "request_time=" is skipped (and the value is then seconds).
 */
static bool
time_token(const char *s, size_t n, int64_t *us)
{
	int64_t whole = 0, frac = 0, scale = 1000000;
	bool dot = false, seconds = false;
	size_t i = 0, digits = 0;

	if (n > 3 && memcmp(s, "rt=", 3) == 0)
		i = 3, seconds = true;
	else if (n > 13 && memcmp(s, "request_time=", 13) == 0)
		i = 13, seconds = true;
	for (; i < n; i++) {
		if (s[i] == '.' && !dot) {
			dot = seconds = true;
			continue;
		}
		if (!is_digit(s[i]))
			return false;
		digits++;
		if (!dot) {
			if (whole > INT64_MAX / 100000000)
				return false;
			whole = whole * 10 + (s[i] - '0');
		} else if (scale > 1) {
			scale /= 10;
			frac += (s[i] - '0') * scale;
		}
	}
	if (digits == 0)
		return false;
	*us = seconds ? whole * 1000000 + frac : whole;
	return true;
}

/* "GET /a?b HTTP/1.1" into method and target; a line that is not one keeps target. */
static void
request_line(const char *s, size_t n, struct alog_rec *rec)
{
	size_t i = 0, t;

	rec->method = NULL;
	rec->method_len = 0;
	rec->target = s;
	rec->target_len = n;
	rec->path_len = 0;
	while (i < n && i < 16 && s[i] >= 'A' && s[i] <= 'Z')
		i++;
	if (i == 0 || i >= n || s[i] != ' ')
		return;
	t = i + 1;
	if (t >= n || (s[t] != '/' && s[t] != '*' && s[t] != 'h'))
		return;
	rec->method = s;
	rec->method_len = i;
	rec->target = s + t;
	while (t < n && s[t] != ' ')
		t++;
	rec->target_len = (size_t)(s + t - rec->target);
	/* An absolute form ("http://host/path") keeps its path only. */
	if (rec->target_len > 7 && rec->target[0] == 'h') {
		const char *p = memchr(rec->target, ':', rec->target_len);

		if (p == NULL || (size_t)(p - rec->target) > 5 ||
		    rec->target + rec->target_len - p < 3 || p[1] != '/' ||
		    p[2] != '/') {
			rec->method = NULL;
			rec->target = s;
			rec->target_len = n;
			return;
		}
		p += 3;
		while (p < rec->target + rec->target_len && *p != '/')
			p++;
		rec->target_len -= (size_t)(p - rec->target);
		rec->target = p;
	} else if (rec->target[0] == 'h') {
		rec->method = NULL;
		rec->target = s;
		rec->target_len = n;
		return;
	}
	{
		const char *q = memchr(rec->target, '?', rec->target_len);

		rec->path_len = q ? (size_t)(q - rec->target) : rec->target_len;
	}
}

struct cur {
	const char	*p, *end;
};

static bool
skip_word(struct cur *c)
{
	const char *s = c->p;

	while (c->p < c->end && *c->p != ' ')
		c->p++;
	return c->p > s;
}

static bool
skip_space(struct cur *c)
{
	if (c->p >= c->end || *c->p != ' ')
		return false;
	while (c->p < c->end && *c->p == ' ')
		c->p++;
	return true;
}

/* A "quoted" field with \" escapes; its inside into s, n. */
static bool
quoted(struct cur *c, const char **s, size_t *n)
{
	const char *p;

	if (c->p >= c->end || *c->p != '"')
		return false;
	p = ++c->p;
	while (p < c->end && *p != '"')
		p += *p == '\\' && p + 1 < c->end ? 2 : 1;
	if (p >= c->end)
		return false;
	*s = c->p;
	*n = (size_t)(p - c->p);
	c->p = p + 1;
	return true;
}

/* Common or combined; *combined tells whether referer and agent followed. */
static int
parse_clf(const char *line, size_t len, struct alog_rec *rec, bool *combined,
    const char **why)
{
	struct cur c = { line, line + len };
	const char *s, *close;
	size_t n;
	int k, status = 0;

	*combined = false;
	/* host ident user */
	for (k = 0; k < 3; k++)
		if (!skip_word(&c) || !skip_space(&c)) {
			*why = "expected 'host ident user [time]' at the start";
			return -1;
		}
	if (c.p >= c.end || *c.p != '[' ||
	    (close = memchr(c.p, ']', (size_t)(c.end - c.p))) == NULL) {
		*why = "expected the time in [brackets] after host, ident and user";
		return -1;
	}
	rec->when = c.p + 1;
	rec->when_len = (size_t)(close - c.p - 1);
	c.p = close + 1;
	if (!skip_space(&c) || !quoted(&c, &s, &n)) {
		*why = "expected the \"request\" in quotes after the time";
		return -1;
	}
	request_line(s, n, rec);
	if (!skip_space(&c)) {
		*why = "expected the status after the request";
		return -1;
	}
	if (c.end - c.p >= 3 && is_digit(c.p[0]) && is_digit(c.p[1]) &&
	    is_digit(c.p[2]) && (c.end - c.p == 3 || c.p[3] == ' ')) {
		status = (c.p[0] - '0') * 100 + (c.p[1] - '0') * 10 + (c.p[2] - '0');
		c.p += 3;
	} else if (c.p < c.end && *c.p == '-' && (c.end - c.p == 1 || c.p[1] == ' ')) {
		status = -1;
		c.p++;
	} else {
		*why = "the status is not a 3-digit number";
		return -1;
	}
	rec->status = status;
	/* bytes */
	if (!skip_space(&c) || !skip_word(&c)) {
		*why = "expected the size in bytes after the status";
		return -1;
	}
	rec->time_us = -1;
	if (skip_space(&c) && c.p < c.end && *c.p == '"') {
		const char *r, *a;
		size_t rn, an;

		if (!quoted(&c, &r, &rn) || !skip_space(&c) || !quoted(&c, &a, &an)) {
			*why = "expected \"referer\" \"user agent\" after the size";
			return -1;
		}
		*combined = true;
		/* More quoted fields (X-Forwarded-For, ...) before the time. */
		while (skip_space(&c) && c.p < c.end && *c.p == '"')
			if (!quoted(&c, &r, &rn)) {
				*why = "a quoted field is not closed";
				return -1;
			}
	}
	/* The first token that is a time. */
	while (c.p < c.end) {
		const char *w = c.p;

		if (*c.p == ' ') {
			skip_space(&c);
			continue;
		}
		if (*c.p == '"') {
			if (!quoted(&c, &s, &n))
				break;
			continue;
		}
		skip_word(&c);
		if (time_token(w, (size_t)(c.p - w), &rec->time_us))
			break;
	}
	return 0;
}

/* A JSON string or number member as text, into rec->scratch. */
static const char *
member(json_t *o, const char *const *keys, size_t *n, char *buf, size_t cap,
    size_t *used)
{
	size_t i;

	for (i = 0; keys[i]; i++) {
		json_t *v = json_object_get(o, keys[i]);
		const char *s;
		size_t len;
		char num[32];

		if (json_is_string(v)) {
			s = json_string_value(v);
			len = json_string_length(v);
		} else if (json_is_integer(v)) {
			len = (size_t)snprintf(num, sizeof(num), "%lld",
			    (long long)json_integer_value(v));
			s = num;
		} else if (json_is_real(v)) {
			len = (size_t)snprintf(num, sizeof(num), "%.6f",
			    json_real_value(v));
			s = num;
		} else
			continue;
		if (len > cap - *used)
			len = cap - *used;
		memcpy(buf + *used, s, len);
		*n = len;
		*used += len;
		return buf + *used - len;
	}
	return NULL;
}

static int
parse_json(const char *line, size_t len, struct alog_rec *rec, const char **why)
{
	static const char *const k_method[] = { "method", "request_method",
	    "verb", NULL };
	static const char *const k_path[] = { "path", "uri", "request_uri", "url",
	    NULL };
	static const char *const k_request[] = { "request", NULL };
	static const char *const k_status[] = { "status", "status_code",
	    "response_code", NULL };
	static const char *const k_when[] = { "time", "timestamp", "time_local",
	    "@timestamp", "ts", NULL };
	static const struct {
		const char	*key;
		int64_t		 per_unit_ns;	/* nanoseconds per unit */
	} k_time[] = {
		{ "request_time", 1000000000 }, { "duration_s", 1000000000 },
		{ "duration_ms", 1000000 }, { "response_time_ms", 1000000 },
		{ "latency_ms", 1000000 }, { "elapsed_ms", 1000000 },
		{ "duration_us", 1000 }, { "latency_us", 1000 },
	};
	json_error_t jerr;
	json_t *o;
	const char *s;
	size_t n, used = 0, i;
	size_t cap = sizeof(rec->scratch);

	o = json_loadb(line, len, JSON_REJECT_DUPLICATES, &jerr);
	if (o == NULL || !json_is_object(o)) {
		json_decref(o);
		*why = "not a JSON object";
		return -1;
	}
	rec->status = -1;
	rec->time_us = -1;
	rec->when = member(o, k_when, &rec->when_len, rec->scratch, cap, &used);
	if ((s = member(o, k_request, &n, rec->scratch, cap, &used)) != NULL)
		request_line(s, n, rec);
	else if ((s = member(o, k_path, &n, rec->scratch, cap, &used)) != NULL) {
		size_t ml = 0;
		const char *m = member(o, k_method, &ml, rec->scratch, cap, &used);

		/* The method and path as one request line in scratch, parsed once. */
		if (m == NULL)
			m = "GET", ml = 3;
		if (used + ml + 1 + n <= cap) {
			char *r = rec->scratch + used;

			memcpy(r, m, ml);
			r[ml] = ' ';
			memcpy(r + ml + 1, s, n);
			used += ml + 1 + n;
			request_line(r, ml + 1 + n, rec);
		} else
			request_line(s, n, rec);
	} else {
		json_decref(o);
		*why = "no request: expected \"path\" (or \"uri\", \"url\", "
		    "\"request\")";
		return -1;
	}
	if ((s = member(o, k_status, &n, rec->scratch, cap, &used)) != NULL) {
		if (n == 3 && is_digit(s[0]) && is_digit(s[1]) && is_digit(s[2]))
			rec->status = (s[0] - '0') * 100 + (s[1] - '0') * 10 +
			    (s[2] - '0');
		else {
			json_decref(o);
			*why = "\"status\" is not a 3-digit number";
			return -1;
		}
	}
	for (i = 0; i < sizeof(k_time) / sizeof(k_time[0]); i++) {
		json_t *v = json_object_get(o, k_time[i].key);
		double d;

		if (json_is_number(v))
			d = json_number_value(v);
		else if (json_is_string(v)) {
			const char *t = json_string_value(v);
			char *end;

			d = strtod(t, &end);
			if (end == t || *end != '\0')
				continue;
		} else
			continue;
		if (d >= 0 && d < 1e12) {
			rec->time_us = (int64_t)(d * (double)k_time[i].per_unit_ns /
			    1000.0 + 0.5);
			break;
		}
	}
	json_decref(o);
	return 0;
}

static int
parse_haproxy(const char *line, size_t len, struct alog_rec *rec, const char **why)
{
	struct haplog_rec h;

	if (haplog_parse(line, len, &h) < 0) {
		*why = "not an HAProxy httplog line";
		return -1;
	}
	rec->when = NULL;
	rec->when_len = 0;
	rec->method = h.method;
	rec->method_len = h.method_len;
	rec->target = h.path;
	rec->target_len = h.path_len;
	rec->path_len = h.path_len;
	if (h.method == NULL) {
		rec->target = line;	/* <BADREQ>: an empty target */
		rec->target_len = 0;
		rec->path_len = 0;
	}
	rec->status = h.status;
	rec->time_us = h.ta_ms >= 0 ? h.ta_ms * 1000 : -1;
	return 0;
}

int
alog_parse(enum alog_format fmt, const char *line, size_t len,
    struct alog_rec *rec, const char **why)
{
	bool combined;

	rec->when = NULL;
	rec->when_len = 0;
	switch (fmt) {
	case ALOG_COMBINED:
	case ALOG_COMMON:
		return parse_clf(line, len, rec, &combined, why);
	case ALOG_JSON:
		return parse_json(line, len, rec, why);
	case ALOG_HAPROXY:
		return parse_haproxy(line, len, rec, why);
	case ALOG_AUTO:
		break;
	}
	*why = "no format";
	return -1;
}

enum alog_format
alog_detect(const char *line, size_t len)
{
	struct alog_rec rec;
	const char *why;
	bool combined;

	while (len > 0 && (*line == ' ' || *line == '\t'))
		line++, len--;
	if (len > 0 && *line == '{')
		return parse_json(line, len, &rec, &why) == 0 ? ALOG_JSON : ALOG_AUTO;
	if (parse_haproxy(line, len, &rec, &why) == 0)
		return ALOG_HAPROXY;
	if (parse_clf(line, len, &rec, &combined, &why) == 0)
		return combined ? ALOG_COMBINED : ALOG_COMMON;
	return ALOG_AUTO;
}
