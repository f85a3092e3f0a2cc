/*
 * libpg_query's JSON into jansson trees. json_loads reads through a character
 * stream with a callback per byte and a token buffer; most of lint's time went
 * there. This reader walks the text with a pointer and makes strings straight
 * from it when they hold no escape. It is never more lenient than json_loads:
 * whatever it does not take, the caller gives to json_loads.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>

#include "core/buf.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "migrate/pgjson.h"

/* jansson's JSON_PARSER_MAX_DEPTH, counted as it does: every value, nested. */
#define PGJSON_DEPTH	2048

struct reader {
	const char	*p;
	int		 depth;
	struct buf	 str;		/* a string value with escapes, decoded */
	struct buf	 key;		/* the same for a key */
};

static json_t	*read_value(struct reader *);

static void
skip_space(struct reader *r)
{
	while (*r->p == ' ' || *r->p == '\n' || *r->p == '\t' || *r->p == '\r')
		r->p++;
}

static int
hex4(const char *p, unsigned *out)
{
	unsigned v = 0, d;
	int i;

	for (i = 0; i < 4; i++) {
		if (p[i] >= '0' && p[i] <= '9')
			d = (unsigned)(p[i] - '0');
		else if (p[i] >= 'a' && p[i] <= 'f')
			d = (unsigned)(p[i] - 'a' + 10);
		else if (p[i] >= 'A' && p[i] <= 'F')
			d = (unsigned)(p[i] - 'A' + 10);
		else
			return -1;
		v = v << 4 | d;
	}
	*out = v;
	return 0;
}

static void
put_utf8(struct buf *b, unsigned c)
{
	char s[4];

	if (c < 0x80) {
		s[0] = (char)c;
		buf_add(b, s, 1);
	} else if (c < 0x800) {
		s[0] = (char)(0xc0 | c >> 6);
		s[1] = (char)(0x80 | (c & 0x3f));
		buf_add(b, s, 2);
	} else if (c < 0x10000) {
		s[0] = (char)(0xe0 | c >> 12);
		s[1] = (char)(0x80 | (c >> 6 & 0x3f));
		s[2] = (char)(0x80 | (c & 0x3f));
		buf_add(b, s, 3);
	} else {
		s[0] = (char)(0xf0 | c >> 18);
		s[1] = (char)(0x80 | (c >> 12 & 0x3f));
		s[2] = (char)(0x80 | (c >> 6 & 0x3f));
		s[3] = (char)(0x80 | (c & 0x3f));
		buf_add(b, s, 4);
	}
}

/* The escape at p (just past the backslash) into b; its length, or 0. */
static size_t
read_escape(const char *p, struct buf *b)
{
	static const char plain[] = "\"\\/bfnrt", decoded[] = "\"\\/\b\f\n\r\t";
	unsigned c, lo;
	size_t i;

	for (i = 0; plain[i] != '\0'; i++)
		if (*p == plain[i]) {
			buf_add(b, &decoded[i], 1);
			return 1;
		}
	if (*p != 'u' || hex4(p + 1, &c) < 0 || c == 0 ||
	    (c >= 0xdc00 && c <= 0xdfff))
		return 0;
	if (c < 0xd800 || c > 0xdbff) {
		put_utf8(b, c);
		return 5;
	}
	if (p[5] != '\\' || p[6] != 'u' || hex4(p + 7, &lo) < 0 ||
	    lo < 0xdc00 || lo > 0xdfff)
		return 0;
	put_utf8(b, 0x10000 + ((c - 0xd800) << 10) + (lo - 0xdc00));
	return 11;
}

/*
 * The string at r->p (on its opening quote): *s and *len point into the text,
 * or into b when it has escapes. -1 for what json_loads would refuse.
 */
static int
read_string(struct reader *r, struct buf *b, const char **s, size_t *len)
{
	const unsigned char *p = (const unsigned char *)r->p + 1, *start = p;
	size_t n;
	bool esc = false;

	for (;;) {
		if (*p == '"')
			break;
		if (*p < 0x20)
			return -1;	/* a control character, or the end */
		if (*p == '\\') {
			if (!esc) {
				buf_reset(b);
				buf_add(b, start, (size_t)(p - start));
				esc = true;
			}
			if ((n = read_escape((const char *)p + 1, b)) == 0)
				return -1;
			p += 1 + n;
			continue;
		}
		n = 1;
		if (*p >= 0x80 && (n = utf8_seq(p, 4)) == 0)
			return -1;
		if (esc)
			buf_add(b, p, n);
		p += n;
	}
	if (esc) {
		*s = b->len > 0 ? b->data : "";
		*len = b->len;
	} else {
		*s = (const char *)start;
		*len = (size_t)(p - start);
	}
	r->p = (const char *)p + 1;
	return 0;
}

/* An integer as json_loads reads one; reals and overflows are left to it. */
static json_t *
read_integer(struct reader *r)
{
	const char *p = r->p, *digits;
	json_int_t v;
	char *end;

	if (*p == '-')
		p++;
	digits = p;
	if (*p < '0' || *p > '9' || (*p == '0' && p[1] >= '0' && p[1] <= '9'))
		return NULL;
	while (*p >= '0' && *p <= '9')
		p++;
	if (*p == '.' || *p == 'e' || *p == 'E' || p - digits > 18)
		return NULL;	/* 18 digits cannot overflow */
	errno = 0;
	v = strtoll(r->p, &end, 10);
	if (errno != 0 || end != p)
		return NULL;
	r->p = p;
	return json_integer(v);
}

static json_t *
read_object(struct reader *r)
{
	json_t *o = json_object(), *v;
	const char *key;
	char *copy = NULL;
	size_t keylen;

	r->p++;
	skip_space(r);
	if (*r->p == '}') {
		r->p++;
		return o;
	}
	for (;;) {
		if (*r->p != '"' || read_string(r, &r->key, &key, &keylen) < 0)
			goto bad;
		skip_space(r);
		if (*r->p != ':')
			goto bad;
		r->p++;
		skip_space(r);
		/* a key with escapes is in r->key, which a nested object reuses */
		if (key == r->key.data)
			key = copy = xstrndup(key, keylen);
		if ((v = read_value(r)) == NULL ||
		    json_object_setn_new_nocheck(o, key, keylen, v) < 0)
			goto bad;
		free(copy);
		copy = NULL;
		skip_space(r);
		if (*r->p == '}') {
			r->p++;
			return o;
		}
		if (*r->p != ',')
			goto bad;
		r->p++;
		skip_space(r);
	}
bad:
	free(copy);
	json_decref(o);
	return NULL;
}

static json_t *
read_array(struct reader *r)
{
	json_t *a = json_array(), *v;

	r->p++;
	skip_space(r);
	if (*r->p == ']') {
		r->p++;
		return a;
	}
	for (;;) {
		if ((v = read_value(r)) == NULL ||
		    json_array_append_new(a, v) < 0)
			goto bad;
		skip_space(r);
		if (*r->p == ']') {
			r->p++;
			return a;
		}
		if (*r->p != ',')
			goto bad;
		r->p++;
		skip_space(r);
	}
bad:
	json_decref(a);
	return NULL;
}

static bool
literal(struct reader *r, const char *word, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (r->p[i] != word[i])
			return false;
	r->p += n;
	return true;
}

/* The value at r->p (past any space). */
static json_t *
read_value(struct reader *r)
{
	json_t *v = NULL;
	const char *s;
	size_t len;

	if (++r->depth > PGJSON_DEPTH)
		return NULL;
	switch (*r->p) {
	case '{':
		v = read_object(r);
		break;
	case '[':
		v = read_array(r);
		break;
	case '"':
		if (read_string(r, &r->str, &s, &len) == 0)
			v = json_stringn_nocheck(s, len);
		break;
	case 't':
		if (literal(r, "true", 4))
			v = json_true();
		break;
	case 'f':
		if (literal(r, "false", 5))
			v = json_false();
		break;
	case 'n':
		if (literal(r, "null", 4))
			v = json_null();
		break;
	default:
		v = read_integer(r);
		break;
	}
	r->depth--;
	return v;
}

json_t *
pgjson_load(const char *s)
{
	struct reader r = { s, 0, BUF_INIT, BUF_INIT };
	json_t *root = NULL;

	skip_space(&r);
	/* json_loads takes an object or an array only */
	if (*r.p == '{' || *r.p == '[')
		root = read_value(&r);
	if (root != NULL) {
		skip_space(&r);
		if (*r.p != '\0') {
			json_decref(root);
			root = NULL;
		}
	}
	buf_release(&r.str);
	buf_release(&r.key);
	return root;
}
