#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/xmalloc.h"
#include "monitor/cron.h"

#define ZONEINFO	"/usr/share/zoneinfo"

/* Days since 1970-01-01 of a proleptic Gregorian date (month 1..12). */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void
civil_from_days(int64_t z, int64_t *y, int *m, int *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (int)(doy - (153 * mp + 2) / 5 + 1);
	*m = (int)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

static int64_t
floor_div(int64_t a, int64_t b)
{
	return a / b - (a % b != 0 && (a < 0) != (b < 0));
}

static bool
leap(int64_t y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

static int
month_days(int64_t y, int m)
{
	static const int n[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };

	return m == 2 && leap(y) ? 29 : n[m - 1];
}

/* ---- time zones ---- */

/* A POSIX TZ rule date: Jn, n or Mm.w.d, and a time of day in seconds. */
struct tz_date {
	char	 kind;		/* 'J', 'n' or 'M' */
	int	 a, b, c;	/* day; or month, week, weekday */
	int32_t	 secs;
};

struct tz {
	int64_t	*trans;		/* transition instants */
	uint8_t	*idx;		/* the type after each */
	int32_t	*utoff;		/* per type */
	size_t	 ntrans, ntypes;
	int32_t	 first_off;	/* before the first transition */
	/* the footer rule for instants after the last transition */
	bool	 has_rule, has_dst;
	int32_t	 std_off, dst_off;
	struct tz_date start, end;
};

static uint32_t
be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static uint64_t
be64(const unsigned char *p)
{
	return (uint64_t)be32(p) << 32 | be32(p + 4);
}

/* <...> or letters. */
static const char *
tz_name(const char *s)
{
	if (*s == '<') {
		const char *e = strchr(s, '>');

		return e ? e + 1 : NULL;
	}
	while (isalpha((unsigned char)*s))
		s++;
	return s;
}

/* [+-]hh[:mm[:ss]] into seconds; NULL when not one. */
static const char *
tz_hms(const char *s, int32_t *out)
{
	int sign = 1, part = 0;
	int32_t v[3] = { 0, 0, 0 };

	if (*s == '+' || *s == '-')
		sign = *s++ == '-' ? -1 : 1;
	if (!isdigit((unsigned char)*s))
		return NULL;
	for (;;) {
		while (isdigit((unsigned char)*s))
			v[part] = v[part] * 10 + (*s++ - '0');
		if (*s != ':' || part == 2)
			break;
		s++;
		part++;
	}
	*out = sign * (v[0] * 3600 + v[1] * 60 + v[2]);
	return s;
}

static const char *
tz_rule_date(const char *s, struct tz_date *d)
{
	char *end;

	d->secs = 7200;
	if (*s == 'M') {
		d->kind = 'M';
		d->a = (int)strtol(s + 1, &end, 10);
		if (*end != '.')
			return NULL;
		d->b = (int)strtol(end + 1, &end, 10);
		if (*end != '.')
			return NULL;
		d->c = (int)strtol(end + 1, &end, 10);
		if (d->a < 1 || d->a > 12 || d->b < 1 || d->b > 5 || d->c < 0 ||
		    d->c > 6)
			return NULL;
	} else if (*s == 'J' || isdigit((unsigned char)*s)) {
		d->kind = *s == 'J' ? 'J' : 'n';
		d->a = (int)strtol(s + (*s == 'J'), &end, 10);
		if (d->a < 0 || d->a > 365)
			return NULL;
	} else
		return NULL;
	s = end;
	if (*s == '/' && (s = tz_hms(s + 1, &d->secs)) == NULL)
		return NULL;
	return s;
}

/* The footer, "CET-1CEST,M3.5.0,M10.5.0/3"; false when it cannot be read. */
static bool
tz_rule(struct tz *z, const char *s)
{
	int32_t off;

	if ((s = tz_name(s)) == NULL || (s = tz_hms(s, &off)) == NULL)
		return false;
	z->std_off = -off;
	if (*s == '\0') {
		z->has_rule = true;
		return true;
	}
	if ((s = tz_name(s)) == NULL)
		return false;
	z->dst_off = z->std_off + 3600;
	if (*s != ',' && *s != '\0') {
		if ((s = tz_hms(s, &off)) == NULL)
			return false;
		z->dst_off = -off;
	}
	if (*s != ',' || (s = tz_rule_date(s + 1, &z->start)) == NULL ||
	    *s != ',' || (s = tz_rule_date(s + 1, &z->end)) == NULL || *s != '\0')
		return false;
	z->has_rule = z->has_dst = true;
	return true;
}

static int
tz_parse(struct tz *z, const unsigned char *p, size_t n)
{
	uint32_t cnt[6], i;
	size_t need, off;
	int pass, tsize;

	for (pass = 0, off = 0; pass < 2; pass++) {
		if (n - off < 44 || memcmp(p + off, "TZif", 4) != 0)
			return -1;
		for (i = 0; i < 6; i++)
			cnt[i] = be32(p + off + 20 + 4 * i);
		/* isutcnt isstdcnt leapcnt timecnt typecnt charcnt */
		if (cnt[3] > 10000 || cnt[4] == 0 || cnt[4] > 256 || cnt[5] > 10000 ||
		    cnt[2] > 10000)
			return -1;
		tsize = pass == 0 ? 4 : 8;
		need = (size_t)cnt[3] * (size_t)(tsize + 1) + cnt[4] * 6 + cnt[5] +
		    cnt[2] * (size_t)(tsize + 4) + cnt[1] + cnt[0];
		if (n - off - 44 < need)
			return -1;
		if (pass == 0 && p[off + 4] >= '2') {
			off += 44 + need;
			continue;
		}
		break;
	}
	{
		const unsigned char *d = p + off + 44;
		const unsigned char *types = d + (size_t)cnt[3] * (size_t)(tsize + 1);

		z->ntrans = cnt[3];
		z->ntypes = cnt[4];
		z->trans = xcalloc(z->ntrans + 1, sizeof(*z->trans));
		z->idx = xcalloc(z->ntrans + 1, 1);
		z->utoff = xcalloc(z->ntypes, sizeof(*z->utoff));
		for (i = 0; i < cnt[3]; i++) {
			z->trans[i] = tsize == 8 ? (int64_t)be64(d + 8 * i) :
			    (int32_t)be32(d + 4 * i);
			z->idx[i] = d[(size_t)cnt[3] * (size_t)tsize + i];
			if (z->idx[i] >= z->ntypes)
				return -1;
		}
		for (i = 0; i < cnt[4]; i++)
			z->utoff[i] = (int32_t)be32(types + 6 * i);
		z->first_off = z->utoff[0];
		for (i = 0; i < cnt[4]; i++)
			if (types[6 * i + 4] == 0) {
				z->first_off = z->utoff[i];
				break;
			}
		if (pass == 1) {
			const unsigned char *f = d + need, *nl;
			size_t left = n - (size_t)(f - p);

			if (left > 2 && f[0] == '\n' &&
			    (nl = memchr(f + 1, '\n', left - 1)) != NULL &&
			    nl - f < 200) {
				char rule[200];

				memcpy(rule, f + 1, (size_t)(nl - f - 1));
				rule[nl - f - 1] = '\0';
				if (rule[0] != '\0' && !tz_rule(z, rule))
					return -1;
			}
		}
	}
	return 0;
}

struct tz *
tz_load(const char *name, struct err *e)
{
	char path[512];
	unsigned char *buf;
	struct tz *z;
	struct stat st;
	ssize_t r;
	int fd;

	if (name[0] == '\0' || name[0] == '/' || strstr(name, "..") != NULL ||
	    strlen(name) > 200) {
		err_setk(e, ERR_INVALID, "time zone '%.60s': give a tz database "
		    "name like Europe/Berlin or UTC", name);
		return NULL;
	}
	snprintf(path, sizeof(path), "%s/%s", ZONEINFO, name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0 || fstat(fd, &st) < 0 ||
	    !S_ISREG(st.st_mode) || st.st_size > 1 << 20) {
		if (fd >= 0)
			close(fd);
		err_setk(e, ERR_INVALID, "time zone '%s': not in %s (a name like "
		    "Europe/Berlin; is tzdata installed?)", name, ZONEINFO);
		return NULL;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	r = read(fd, buf, (size_t)st.st_size);
	close(fd);
	z = xcalloc(1, sizeof(*z));
	if (r != st.st_size || tz_parse(z, buf, (size_t)r) < 0) {
		free(buf);
		tz_free(z);
		err_setk(e, ERR_INVALID, "time zone '%s': %s is not a TZif file",
		    name, path);
		return NULL;
	}
	free(buf);
	return z;
}

void
tz_free(struct tz *z)
{
	if (z == NULL)
		return;
	free(z->trans);
	free(z->idx);
	free(z->utoff);
	free(z);
}

/* The instant a rule date of year y happens, given the offset in force before it. */
static int64_t
tz_rule_instant(const struct tz_date *d, int64_t y, int32_t off_before)
{
	int64_t day;

	if (d->kind == 'M') {
		int64_t first = days_from_civil(y, d->a, 1);
		int wd = (int)(((first % 7) + 7 + 4) % 7);	/* 1970-01-01: Thursday */
		int mday = 1 + (d->c - wd + 7) % 7 + (d->b - 1) * 7;

		if (mday > month_days(y, d->a))
			mday -= 7;
		day = first + mday - 1;
	} else if (d->kind == 'J') {
		/* 1..365, February 29 never counted */
		day = days_from_civil(y, 1, 1) + d->a - 1;
		if (leap(y) && d->a >= 60)
			day++;
	} else
		day = days_from_civil(y, 1, 1) + d->a;
	return day * 86400 + d->secs - off_before;
}

static int32_t
tz_rule_offset(const struct tz *z, int64_t t)
{
	int64_t y, start, end;
	int m, d;

	if (!z->has_dst)
		return z->std_off;
	civil_from_days(floor_div(t + z->std_off, 86400), &y, &m, &d);
	start = tz_rule_instant(&z->start, y, z->std_off);
	end = tz_rule_instant(&z->end, y, z->dst_off);
	if (start < end)
		return t >= start && t < end ? z->dst_off : z->std_off;
	return t >= end && t < start ? z->std_off : z->dst_off;
}

int32_t
tz_offset(const struct tz *z, int64_t t)
{
	size_t lo, hi;

	if (z == NULL)
		return 0;
	if (z->ntrans == 0 || t < z->trans[0])
		return z->ntrans == 0 && z->has_rule ? tz_rule_offset(z, t) :
		    z->first_off;
	if (t >= z->trans[z->ntrans - 1] && z->has_rule)
		return tz_rule_offset(z, t);
	lo = 0;
	hi = z->ntrans;
	while (hi - lo > 1) {
		size_t mid = lo + (hi - lo) / 2;

		if (z->trans[mid] <= t)
			lo = mid;
		else
			hi = mid;
	}
	return z->utoff[z->idx[lo]];
}

/* ---- cron ---- */

struct field {
	const char	*name;
	int		 lo, hi;
	const char *const *names;	/* names[i] stands for lo + i */
};

static const char *const month_names[] = { "jan", "feb", "mar", "apr", "may",
    "jun", "jul", "aug", "sep", "oct", "nov", "dec", NULL };
static const char *const dow_names[] = { "sun", "mon", "tue", "wed", "thu",
    "fri", "sat", NULL };

static const struct field fields[5] = {
	{ "minute", 0, 59, NULL },
	{ "hour", 0, 23, NULL },
	{ "day of month", 1, 31, NULL },
	{ "month", 1, 12, month_names },
	{ "day of week", 0, 7, dow_names },
};

/* A number or a name at s; its end, or NULL. */
static const char *
field_value(const struct field *f, const char *s, int *v)
{
	size_t i;

	if (isdigit((unsigned char)*s)) {
		long n = 0;

		while (isdigit((unsigned char)*s) && n < 1000)
			n = n * 10 + (*s++ - '0');
		*v = (int)n;
		return s;
	}
	for (i = 0; f->names && f->names[i]; i++)
		if (strncasecmp(s, f->names[i], 3) == 0 &&
		    !isalpha((unsigned char)s[3])) {
			*v = f->lo + (int)i;
			return s + 3;
		}
	return NULL;
}

static int
field_parse(const struct field *f, const char *expr, const char *s, size_t len,
    uint64_t *bits, bool *star, struct err *e)
{
	const char *p = s, *end = s + len;

	*bits = 0;
	*star = len >= 1 && *s == '*';	/* as Vixie: a step of all is a star too */
	while (p < end) {
		int a, b, step = 1;
		size_t col = (size_t)(p - expr) + 1;
		const char *q;

		if (*p == '*') {
			a = f->lo;
			b = f->hi == 7 ? 6 : f->hi;
			p++;
		} else {
			if ((q = field_value(f, p, &a)) == NULL)
				return err_setk(e, ERR_INVALID, "cron '%s': column "
				    "%zu: the %s field takes numbers %d-%d%s, '*', "
				    "ranges a-b, lists a,b and steps */n", expr, col,
				    f->name, f->lo, f->hi, f->names ? " or names" :
				    "");
			p = q;
			b = a;
			if (p < end && *p == '-') {
				if ((q = field_value(f, p + 1, &b)) == NULL)
					return err_setk(e, ERR_INVALID, "cron '%s': "
					    "column %zu: a range needs an end, like "
					    "1-5", expr, (size_t)(p - expr) + 2);
				p = q;
			}
			if (a < f->lo || a > f->hi || b < f->lo || b > f->hi)
				return err_setk(e, ERR_INVALID, "cron '%s': column "
				    "%zu: %s out of %d-%d", expr, col, f->name,
				    f->lo, f->hi);
			if (b < a)
				return err_setk(e, ERR_INVALID, "cron '%s': column "
				    "%zu: the range %d-%d goes backwards", expr,
				    col, a, b);
		}
		if (p < end && *p == '/') {
			long n = 0;

			q = ++p;
			while (p < end && isdigit((unsigned char)*p) && n < 1000)
				n = n * 10 + (*p++ - '0');
			if (p == q || n == 0 || n > f->hi + 1)
				return err_setk(e, ERR_INVALID, "cron '%s': column "
				    "%zu: a step is a number 1-%d after '/'", expr,
				    (size_t)(q - expr) + 1, f->hi + 1);
			step = (int)n;
			/* "5/10" is "5-59/10" */
			if (a == b && q[-2] != '*')
				b = f->hi == 7 ? 6 : f->hi;
		}
		for (; a <= b; a += step)
			*bits |= 1ULL << (a == 7 && f->hi == 7 ? 0 : a);
		if (p < end && *p == ',') {
			p++;
			if (p == end)
				return err_setk(e, ERR_INVALID, "cron '%s': column "
				    "%zu: a list ends with ','", expr,
				    (size_t)(p - expr));
		} else if (p < end)
			return err_setk(e, ERR_INVALID, "cron '%s': column %zu: "
			    "'%c' is not allowed in the %s field", expr,
			    (size_t)(p - expr) + 1, *p, f->name);
	}
	return 0;
}

int
cron_parse(const char *expr, struct cron *c, struct err *e)
{
	static const struct {
		const char	*name, *is;
	} macros[] = {
		{ "@hourly", "0 * * * *" }, { "@daily", "0 0 * * *" },
		{ "@midnight", "0 0 * * *" }, { "@weekly", "0 0 * * 0" },
		{ "@monthly", "0 0 1 * *" }, { "@yearly", "0 0 1 1 *" },
		{ "@annually", "0 0 1 1 *" },
	};
	const char *p = expr, *starts[5];
	size_t lens[5], n = 0, i;
	uint64_t bits[5];
	bool star[5];

	memset(c, 0, sizeof(*c));
	while (*p == ' ')
		p++;
	if (*p == '@') {
		for (i = 0; i < sizeof(macros) / sizeof(macros[0]); i++)
			if (strcmp(p, macros[i].name) == 0)
				return cron_parse(macros[i].is, c, e);
		return err_setk(e, ERR_INVALID, "cron '%s': column %zu: unknown "
		    "macro: use @hourly, @daily, @weekly, @monthly or @yearly",
		    expr, (size_t)(p - expr) + 1);
	}
	while (*p != '\0') {
		if (n == 5)
			return err_setk(e, ERR_INVALID, "cron '%s': column %zu: "
			    "more than five fields (minute hour day-of-month "
			    "month day-of-week)", expr, (size_t)(p - expr) + 1);
		starts[n] = p;
		while (*p != '\0' && *p != ' ' && *p != '\t')
			p++;
		lens[n] = (size_t)(p - starts[n]);
		n++;
		while (*p == ' ' || *p == '\t')
			p++;
	}
	if (n < 5)
		return err_setk(e, ERR_INVALID, "cron '%s': %zu field%s, want five: "
		    "minute hour day-of-month month day-of-week, like '0 3 * * *'",
		    expr, n, n == 1 ? "" : "s");
	for (i = 0; i < 5; i++)
		if (field_parse(&fields[i], expr, starts[i], lens[i], &bits[i],
		    &star[i], e) < 0)
			return -1;
	c->minute = bits[0];
	c->hour = (uint32_t)bits[1];
	c->dom = (uint32_t)bits[2];
	c->month = (uint16_t)bits[3];
	c->dow = (uint8_t)bits[4];
	c->hour_star = star[1];
	c->dom_star = star[2];
	c->dow_star = star[4];
	return 0;
}

/* Local wall time fields of a local-seconds value. */
struct wall {
	int64_t	 y;
	int	 mon, mday, wday, hour, min;
};

static void
wall_of(int64_t local, struct wall *w)
{
	int64_t days = floor_div(local, 86400), sod = local - days * 86400;

	civil_from_days(days, &w->y, &w->mon, &w->mday);
	w->wday = (int)(((days % 7) + 7 + 4) % 7);
	w->hour = (int)(sod / 3600);
	w->min = (int)(sod % 3600 / 60);
}

static bool
day_matches(const struct cron *c, const struct wall *w)
{
	bool dom = (c->dom >> w->mday) & 1, dow = (c->dow >> w->wday) & 1;

	if (!((c->month >> w->mon) & 1))
		return false;
	if (c->dom_star || c->dow_star)
		return dom && dow;
	return dom || dow;
}

static bool
matches(const struct cron *c, int64_t local)
{
	struct wall w;

	wall_of(local, &w);
	return day_matches(c, &w) && ((c->hour >> w.hour) & 1) &&
	    ((c->minute >> w.min) & 1);
}

/* The instant in (a, b] at which the offset changes from that at a. */
static int64_t
transition_in(const struct tz *z, int64_t a, int64_t b)
{
	int32_t oa = tz_offset(z, a);

	while (b - a > 1) {
		int64_t m = a + (b - a) / 2;

		if (tz_offset(z, m) == oa)
			a = m;
		else
			b = m;
	}
	return b;
}

int64_t
cron_next(const struct cron *c, const struct tz *z, int64_t after)
{
	int64_t u = floor_div(after, 60) * 60 + 60, prev = u - 60;
	int64_t limit = after + 5LL * 366 * 86400;
	int32_t off_prev = tz_offset(z, prev);

	while (u <= limit) {
		int32_t off = tz_offset(z, u);
		int64_t local = u + off;
		struct wall w;

		if (!c->hour_star && off > off_prev) {
			/* Clocks went forward: wall times in the gap run at the change. */
			int64_t t = transition_in(z, prev, u), l;

			for (l = t + off_prev; l < t + off; l += 60)
				if (matches(c, floor_div(l, 60) * 60) && t > after)
					return t;
		}
		prev = u;
		off_prev = off;
		wall_of(local, &w);
		if (!day_matches(c, &w)) {
			u += 86400 - (local - floor_div(local, 86400) * 86400);
			continue;
		}
		if (!((c->hour >> w.hour) & 1)) {
			u += 3600 - (local - floor_div(local, 3600) * 3600);
			continue;
		}
		if (!((c->minute >> w.min) & 1)) {
			u += 60;
			continue;
		}
		if (!c->hour_star) {
			/* Clocks went back: a wall time seen before does not run again. */
			int32_t back = tz_offset(z, u - 7200) - off;

			if (back > 0 && tz_offset(z, u - back) == off + back) {
				u += 60;
				continue;
			}
		}
		return u;
	}
	return -1;
}
