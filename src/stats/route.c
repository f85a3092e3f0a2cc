#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "stats/route.h"

/* What a literal segment may hold: RFC 3986 pchar less '%' escapes' oddities. */
static bool
seg_char(char ch)
{
	return isalnum((unsigned char)ch) || strchr("-._~!$&'()+,;=@%", ch) !=
	    NULL;
}

int
route_compile(const char *tmpl, struct route *rt, struct err *e)
{
	size_t len = strlen(tmpl), i = 1, k;
	const char *p;

	memset(rt, 0, sizeof(*rt));
	if (len == 0 || tmpl[0] != '/')
		return err_set(e, "route '%.60s': column 1: a route starts with "
		    "'/', like /api/tiles/:id", tmpl);
	if (len > ROUTE_MAX_LEN)
		return err_set(e, "route '%.60s...': longer than %d bytes",
		    tmpl, ROUTE_MAX_LEN);
	rt->tmpl = xstrdup(tmpl);
	p = rt->tmpl;
	while (i <= len) {
		size_t start = i, col;
		bool param;

		while (i < len && p[i] != '/')
			i++;
		col = start + 1;
		if (i == start && i == len && rt->nsegs == 0)
			break;	/* "/" alone */
		if (i == start) {
			err_set(e, "route '%s': column %zu: an empty segment "
			    "('//' or a trailing '/'): remove it", tmpl, col);
			goto fail;
		}
		if (rt->nsegs == ROUTE_MAX_SEGS) {
			err_set(e, "route '%s': column %zu: more than %d "
			    "segments", tmpl, col, ROUTE_MAX_SEGS);
			goto fail;
		}
		param = p[start] == ':';
		if (p[start] == '*') {
			if (i - start != 1 || i != len) {
				err_set(e, "route '%s': column %zu: '*' stands "
				    "for the rest of the path: it is a whole "
				    "segment, and the last", tmpl, col);
				goto fail;
			}
			rt->segs[rt->nsegs].rest = true;
		} else if (param && i - start == 1) {
			err_set(e, "route '%s': column %zu: a parameter needs a "
			    "name, like :id", tmpl, col);
			goto fail;
		}
		for (k = start + (param ? 1 : 0); k < i && p[start] != '*'; k++)
			if (param ? !(isalnum((unsigned char)p[k]) ||
			    p[k] == '_') : !seg_char(p[k])) {
				err_set(e, "route '%s': column %zu: '%c' is not "
				    "allowed %s", tmpl, k + 1,
				    isprint((unsigned char)p[k]) ? p[k] : '?',
				    param ? "in a parameter name (letters, "
				    "digits, '_')" : "in a path segment");
				goto fail;
			}
		if (param)
			for (k = 0; k < rt->nsegs; k++)
				if (rt->segs[k].param && rt->segs[k].len ==
				    i - start && memcmp(rt->segs[k].s,
				    p + start, i - start) == 0) {
					err_set(e, "route '%s': column %zu: "
					    "parameter '%.*s' is named twice",
					    tmpl, col, (int)(i - start),
					    p + start);
					goto fail;
				}
		rt->segs[rt->nsegs].s = p + start;
		rt->segs[rt->nsegs].len = i - start;
		rt->segs[rt->nsegs].param = param;
		rt->nsegs++;
		i++;
	}
	return 0;
fail:
	route_release(rt);
	return -1;
}

void
route_release(struct route *rt)
{
	free(rt->tmpl);
	memset(rt, 0, sizeof(*rt));
}

bool
route_match(const struct route *rt, const char *path, size_t len)
{
	size_t i = 0, k;

	if (len == 0 || path[0] != '/')
		return false;
	i = 1;
	for (k = 0; k < rt->nsegs; k++) {
		size_t start = i;

		if (rt->segs[k].rest)
			return i < len || (i == len && len > 0);
		if (i > len)
			return false;
		while (i < len && path[i] != '/')
			i++;
		if (i == start)
			return false;
		if (!rt->segs[k].param && (i - start != rt->segs[k].len ||
		    memcmp(path + start, rt->segs[k].s, i - start) != 0))
			return false;
		i++;
	}
	/* all of the path used ("/a/b" or "/a/b/") */
	return i >= len;
}

static bool
id_like(const char *s, size_t n)
{
	size_t i, digits = 0, hex = 0;

	for (i = 0; i < n; i++) {
		if (isdigit((unsigned char)s[i]))
			digits++;
		if (isxdigit((unsigned char)s[i]) || s[i] == '-')
			hex++;
	}
	return (digits == n && n > 0) || (hex == n && n >= 8 && digits > 0);
}

void
route_normalize(const char *path, size_t len, char *out, size_t outlen)
{
	size_t i = 0, o = 0;

	if (outlen == 0)
		return;
	while (i < len && o + 1 < outlen) {
		size_t start;

		if (path[i] == '/') {
			out[o++] = '/';
			i++;
			continue;
		}
		start = i;
		while (i < len && path[i] != '/')
			i++;
		if (id_like(path + start, i - start)) {
			if (o + 3 < outlen) {
				memcpy(out + o, ":id", 3);
				o += 3;
			}
		} else {
			size_t n = i - start;

			if (n > outlen - 1 - o)
				n = outlen - 1 - o;
			memcpy(out + o, path + start, n);
			o += n;
		}
	}
	if (o == 0)
		out[o++] = '/';
	out[o] = '\0';
}
