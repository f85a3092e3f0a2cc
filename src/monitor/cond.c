#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "core/xmalloc.h"
#include "monitor/cond.h"

static const struct {
	const char	*name;
	enum cond_var	 var;
} vars[] = {
	{ "STATUS", COND_STATUS },
	{ "RESPONSE_TIME", COND_RESPONSE_TIME },
	{ "BODY", COND_BODY },
	{ "CONNECTED", COND_CONNECTED },
	{ "CERTIFICATE_EXPIRATION", COND_CERT_EXPIRATION },
	{ "IP", COND_IP },
	{ "P50", COND_P50 },
	{ "P95", COND_P95 },
	{ "P99", COND_P99 },
	{ "MAX", COND_MAX },
	{ "ERROR_RATE", COND_ERROR_RATE },
	{ "REQUESTS", COND_REQUESTS },
	{ "RPS", COND_RPS },
};

#define VAR_LIST "[STATUS], [RESPONSE_TIME], [BODY], [CONNECTED], " \
	"[CERTIFICATE_EXPIRATION], [IP], or for route checks [P50], [P95], " \
	"[P99], [MAX], [ERROR_RATE], [REQUESTS], [RPS]"

static const char *const op_names[] = { "==", "!=", "<", "<=", ">", ">=" };

static const char *
var_name(enum cond_var v)
{
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		if (vars[i].var == v)
			return vars[i].name;
	return "?";
}

int64_t
cond_duration_ms(const char *s)
{
	static const struct {
		const char	*unit;
		double		 ms;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "d", 86400000 }, { "", 1 },
	};
	char *end;
	double v;
	size_t i;

	if (!isdigit((unsigned char)s[0]) && s[0] != '-')
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno != 0 || !isfinite(v) || v < 0)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(end, units[i].unit) == 0)
			return v * units[i].ms > 9e15 ? -1 :
			    (int64_t)(v * units[i].ms + 0.5);
	return -1;
}

/* A plain number ("200", "-1.5", "1e3"); false for anything else. */
static bool
number(const char *s, size_t n, double *out)
{
	char buf[64], *end;

	if (n == 0 || n >= sizeof(buf))
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	if (!isdigit((unsigned char)buf[0]) && buf[0] != '-' && buf[0] != '+')
		return false;
	errno = 0;
	*out = strtod(buf, &end);
	return end != buf && *end == '\0' && errno == 0 && isfinite(*out);
}

bool
cond_route_var(enum cond_var v)
{
	return v >= COND_P50 && v <= COND_RPS;
}

static bool
timed_var(enum cond_var v)
{
	return v == COND_RESPONSE_TIME || v == COND_CERT_EXPIRATION ||
	    (v >= COND_P50 && v <= COND_MAX);
}

static bool
numeric_var(enum cond_var v)
{
	return v == COND_STATUS || timed_var(v) || v == COND_ERROR_RATE ||
	    v == COND_REQUESTS || v == COND_RPS;
}

/* [ERROR_RATE] < 2% and < 2 are the same: a trailing % is dropped. */
static bool
percent(const struct cond *c, const char *s, size_t n, double *out)
{
	if (c->left.var == COND_ERROR_RATE && n > 1 && s[n - 1] == '%')
		n--;
	return number(s, n, out);
}

struct parser {
	const char	*s;
	size_t		 i;
	struct err	*e;
};

static int
perr(struct parser *p, size_t at, const char *fmt, const char *a, const char *b)
{
	char what[512];

	snprintf(what, sizeof(what), fmt, a ? a : "", b ? b : "");
	return err_setk(p->e, ERR_INVALID, "condition '%.200s': column %zu: %s",
	    p->s, at + 1, what);
}

static void
spaces(struct parser *p)
{
	while (p->s[p->i] == ' ' || p->s[p->i] == '\t')
		p->i++;
}

/* [NAME] and, after [BODY], .key and [N] steps. */
static int
placeholder(struct parser *p, struct cond_side *side)
{
	size_t start = p->i, j, n;
	const char *close = strchr(p->s + p->i, ']');
	char name[32];

	if (close == NULL)
		return perr(p, start, "'[' is not closed: write a placeholder like "
		    "[STATUS]", NULL, NULL);
	n = (size_t)(close - (p->s + p->i + 1));
	if (n >= sizeof(name))
		n = sizeof(name) - 1;
	memcpy(name, p->s + p->i + 1, n);
	name[n] = '\0';
	for (j = 0; j < sizeof(vars) / sizeof(vars[0]); j++)
		if (strcmp(name, vars[j].name) == 0)
			break;
	if (j == sizeof(vars) / sizeof(vars[0]))
		return perr(p, start, "unknown placeholder [%s]: use " VAR_LIST,
		    name, NULL);
	side->var = vars[j].var;
	p->i = (size_t)(close - p->s) + 1;
	while (p->s[p->i] == '.' || p->s[p->i] == '[') {
		struct cond_step *st;
		size_t at = p->i;

		if (side->var != COND_BODY)
			return perr(p, at, "only [BODY] has fields: [%s] is one "
			    "value", var_name(side->var), NULL);
		if (side->npath == COND_MAX_PATH)
			return perr(p, at, "a path of more than 16 steps", NULL,
			    NULL);
		if (side->path == NULL)
			side->path = xcalloc(COND_MAX_PATH, sizeof(*side->path));
		st = &side->path[side->npath];
		if (p->s[p->i] == '.') {
			size_t k = ++p->i;

			while (p->s[p->i] && !strchr(".[] \t()=!<>,", p->s[p->i]))
				p->i++;
			if (p->i == k)
				return perr(p, at, "a '.' needs a field name after "
				    "it, like [BODY].status", NULL, NULL);
			st->key = xstrndup(p->s + k, p->i - k);
		} else {
			char *end;

			p->i++;
			if (!isdigit((unsigned char)p->s[p->i]))
				return perr(p, p->i, "an index is a number, like "
				    "[BODY].items[0]", NULL, NULL);
			errno = 0;
			st->index = strtol(p->s + p->i, &end, 10);
			if (errno != 0 || *end != ']' || st->index > 1000000)
				return perr(p, p->i, "an index is a number in "
				    "[brackets], like [BODY].items[0]", NULL, NULL);
			p->i = (size_t)(end - p->s) + 1;
		}
		side->npath++;
	}
	return 0;
}

static int
left_side(struct parser *p, struct cond_side *side)
{
	size_t start = p->i;

	if (strncmp(p->s + p->i, "len(", 4) == 0 ||
	    strncmp(p->s + p->i, "has(", 4) == 0) {
		side->fn = p->s[p->i] == 'l' ? COND_FN_LEN : COND_FN_HAS;
		p->i += 4;
		spaces(p);
		if (p->s[p->i] != '[')
			return perr(p, p->i, "%s() takes a placeholder, like "
			    "%s([BODY].items)", side->fn == COND_FN_LEN ? "len" :
			    "has", side->fn == COND_FN_LEN ? "len" : "has");
		if (placeholder(p, side) < 0)
			return -1;
		if (side->var != COND_BODY)
			return perr(p, start, "%s() is for [BODY] and its fields",
			    side->fn == COND_FN_LEN ? "len" : "has", NULL);
		spaces(p);
		if (p->s[p->i] != ')')
			return perr(p, p->i, "expected ')' to close %s(",
			    side->fn == COND_FN_LEN ? "len" : "has", NULL);
		p->i++;
		return 0;
	}
	if (strncmp(p->s + p->i, "pat(", 4) == 0 ||
	    strncmp(p->s + p->i, "any(", 4) == 0)
		return perr(p, start, "%.3s() goes on the right: [BODY] == "
		    "pat(*OK*), [STATUS] == any(200, 204)", p->s + p->i, NULL);
	if (p->s[p->i] == '[')
		return placeholder(p, side);
	if (p->s[p->i] == '\0')
		return perr(p, start, "empty condition: write one like "
		    "[STATUS] == 200", NULL, NULL);
	return perr(p, start, "a condition starts with a placeholder (" VAR_LIST
	    ") or len(...) / has(...)", NULL, NULL);
}

static int
operator(struct parser *p, enum cond_op *op)
{
	const char *s = p->s + p->i;
	size_t at = p->i;

	if (strncmp(s, "==", 2) == 0)
		*op = COND_EQ, p->i += 2;
	else if (strncmp(s, "!=", 2) == 0)
		*op = COND_NE, p->i += 2;
	else if (strncmp(s, "<=", 2) == 0)
		*op = COND_LE, p->i += 2;
	else if (strncmp(s, ">=", 2) == 0)
		*op = COND_GE, p->i += 2;
	else if (*s == '<')
		*op = COND_LT, p->i++;
	else if (*s == '>')
		*op = COND_GT, p->i++;
	else if (*s == '=')
		return perr(p, at, "'=' is not an operator: write ==", NULL, NULL);
	else if (*s == '\0')
		return perr(p, at, "expected an operator (==, !=, <, <=, >, >=) and "
		    "a value at the end", NULL, NULL);
	else
		return perr(p, at, "expected an operator (==, !=, <, <=, >, >=), "
		    "not '%.1s'", s, NULL);
	if (p->s[p->i] == '=' || p->s[p->i] == '<' || p->s[p->i] == '>')
		return perr(p, at, "'%.3s' is not an operator: use ==, !=, <, "
		    "<=, > or >=", s, NULL);
	return 0;
}

/* The rest of the condition, without trailing blanks. */
static char *
rest(struct parser *p, size_t *n)
{
	size_t len = strlen(p->s + p->i);

	while (len > 0 && (p->s[p->i + len - 1] == ' ' ||
	    p->s[p->i + len - 1] == '\t'))
		len--;
	*n = len;
	return xstrndup(p->s + p->i, len);
}

static int
right_side(struct parser *p, const struct cond *c, struct cond_side *side)
{
	size_t start = p->i, n;
	bool eq = c->op == COND_EQ || c->op == COND_NE;
	char *r;

	if (p->s[p->i] == '\0')
		return perr(p, start, "nothing after '%s': give the value to "
		    "compare with", op_names[c->op], NULL);
	r = rest(p, &n);
	if (strncmp(r, "pat(", 4) == 0 || strncmp(r, "any(", 4) == 0) {
		bool pat = r[0] == 'p';

		if (!eq) {
			free(r);
			return perr(p, start, "%s() goes with == or !=, not %s",
			    pat ? "pat" : "any", op_names[c->op]);
		}
		if (r[n - 1] != ')') {
			free(r);
			return perr(p, start + n, "expected ')' to close %s(",
			    pat ? "pat" : "any", NULL);
		}
		r[n - 1] = '\0';
		if (pat) {
			side->fn = COND_FN_PAT;
			side->text = xstrdup(r + 4);
		} else {
			char *item = r + 4, *comma;

			side->fn = COND_FN_ANY;
			for (;;) {
				char *end;

				comma = strchr(item, ',');
				end = comma ? comma : item + strlen(item);
				while (*item == ' ')
					item++;
				while (end > item && end[-1] == ' ')
					end--;
				if (end == item || side->nany == COND_MAX_ANY) {
					size_t at = start + (size_t)(item - r);

					free(r);
					return perr(p, at, side->nany ==
					    COND_MAX_ANY ? "any() takes at most 16 "
					    "values" : "an empty value in any()",
					    NULL, NULL);
				}
				if (side->any == NULL)
					side->any = xcalloc(COND_MAX_ANY,
					    sizeof(*side->any));
				side->any[side->nany++] = xstrndup(item,
				    (size_t)(end - item));
				if (comma == NULL)
					break;
				item = comma + 1;
			}
		}
		free(r);
		return 0;
	}
	side->var = COND_LITERAL;
	side->text = r;
	/* A value a numeric placeholder cannot be compared with is an error now. */
	if (c->left.fn == COND_FN_NONE && numeric_var(c->left.var)) {
		double d;

		if (timed_var(c->left.var) ? cond_duration_ms(r) < 0 :
		    !percent(c, r, n, &d))
			return perr(p, start, timed_var(c->left.var) ?
			    "'%s' is not a duration: write 500, 500ms, 2s, 48h "
			    "or 7d" : c->left.var == COND_ERROR_RATE ?
			    "'%s' is not a percentage: write 2 or 2%%" :
			    "'%s' is not a number", r, NULL);
	} else if (c->left.fn == COND_FN_LEN) {
		double d;

		if (!number(r, n, &d))
			return perr(p, start, "'%s' is not a number: len() counts",
			    r, NULL);
	} else if ((c->left.fn == COND_FN_HAS || c->left.var == COND_CONNECTED) &&
	    strcmp(r, "true") != 0 && strcmp(r, "false") != 0)
		return perr(p, start, "'%s': compare with true or false", r, NULL);
	if (!eq && c->left.fn == COND_FN_NONE && !numeric_var(c->left.var) &&
	    c->left.var != COND_BODY)
		return perr(p, c->op_at, "[%s] is not a number: use == or !=",
		    var_name(c->left.var), NULL);
	return 0;
}

int
cond_parse(const char *text, struct cond *c, struct err *e)
{
	struct parser p = { text, 0, e };

	memset(c, 0, sizeof(*c));
	c->text = xstrdup(text);
	p.s = c->text;
	spaces(&p);
	if (left_side(&p, &c->left) < 0)
		goto fail;
	spaces(&p);
	c->op_at = p.i;
	if (operator(&p, &c->op) < 0)
		goto fail;
	spaces(&p);
	c->right_at = p.i;
	if (right_side(&p, c, &c->right) < 0)
		goto fail;
	return 0;
fail:
	cond_release(c);
	return -1;
}

static void
side_release(struct cond_side *s)
{
	size_t i;

	free(s->text);
	for (i = 0; i < s->npath; i++)
		free(s->path[i].key);
	for (i = 0; i < s->nany; i++)
		free(s->any[i]);
	free(s->path);
	free(s->any);
}

void
cond_release(struct cond *c)
{
	if (c == NULL)
		return;
	side_release(&c->left);
	side_release(&c->right);
	free(c->text);
	memset(c, 0, sizeof(*c));
}

/* The body cache of an answer that is not JSON, so it is parsed once. */
static char not_json;

void
cond_body_release(void *body_json)
{
	if (body_json != &not_json)
		json_decref(body_json);
}

/* A value as text, and as a number when it is one. */
struct val {
	char		 buf[256];
	const char	*s;
	size_t		 n;
	bool		 is_num;
	double		 num;
};

static void
val_text(struct val *v, const char *s, size_t n)
{
	v->s = s;
	v->n = n;
	v->is_num = number(s, n, &v->num);
}

static void
val_num(struct val *v, double d)
{
	v->n = (size_t)snprintf(v->buf, sizeof(v->buf), "%.15g", d);
	v->s = v->buf;
	v->is_num = true;
	v->num = d;
}

static void
val_json(struct val *v, json_t *j)
{
	char *dump;

	if (json_is_string(j))
		val_text(v, json_string_value(j), json_string_length(j));
	else if (json_is_number(j))
		val_num(v, json_number_value(j));
	else if (json_is_boolean(j) || json_is_null(j)) {
		const char *s = json_is_true(j) ? "true" : json_is_false(j) ?
		    "false" : "null";

		val_text(v, s, strlen(s));
	} else {
		dump = json_dumps(j, JSON_COMPACT | JSON_ENCODE_ANY);
		snprintf(v->buf, sizeof(v->buf), "%s", dump ? dump : "");
		free(dump);
		val_text(v, v->buf, strlen(v->buf));
	}
}

/* Follows side's path in the body; NULL and why when it is not there. */
static json_t *
body_path(const struct cond_side *side, const struct cond_input *in,
    void **cache, char *why, size_t cap)
{
	json_t *j;
	size_t i;

	if (*cache == NULL) {
		json_error_t jerr;

		*cache = json_loadb(in->body ? in->body : "", in->body ? in->body_len :
		    0, JSON_DECODE_ANY, &jerr);
		if (*cache == NULL) {
			snprintf(why, cap, "the answer is not JSON (%s at column "
			    "%d)", jerr.text, jerr.column);
			*cache = &not_json;
			return NULL;
		}
	}
	if (*cache == &not_json) {
		snprintf(why, cap, "the answer is not JSON");
		return NULL;
	}
	j = *cache;
	for (i = 0; i < side->npath; i++) {
		const struct cond_step *st = &side->path[i];

		if (st->key != NULL) {
			if (!json_is_object(j) ||
			    (j = json_object_get(j, st->key)) == NULL) {
				snprintf(why, cap, "the answer has no field '%s'",
				    st->key);
				return NULL;
			}
		} else if (!json_is_array(j) ||
		    (j = json_array_get(j, (size_t)st->index)) == NULL) {
			snprintf(why, cap, "the answer has no item [%ld]",
			    st->index);
			return NULL;
		}
	}
	return j;
}

/* The value of the left side; false and why when it has none. */
static bool
resolve(const struct cond_side *side, const struct cond_input *in, void **cache,
    struct val *v, char *why, size_t cap)
{
	json_t *j = NULL;

	switch (side->var) {
	case COND_STATUS:
		if (in->status <= 0) {
			snprintf(why, cap, "no HTTP answer");
			return false;
		}
		val_num(v, in->status);
		return true;
	case COND_RESPONSE_TIME:
		val_num(v, (double)in->response_ms);
		return true;
	case COND_CONNECTED:
		val_text(v, in->connected ? "true" : "false", in->connected ? 4 : 5);
		return true;
	case COND_CERT_EXPIRATION:
		if (in->cert_expiry_ms < 0) {
			snprintf(why, cap, "no TLS certificate was seen");
			return false;
		}
		val_num(v, (double)in->cert_expiry_ms);
		return true;
	case COND_IP:
		if (in->ip == NULL) {
			snprintf(why, cap, "no address was connected to");
			return false;
		}
		val_text(v, in->ip, strlen(in->ip));
		return true;
	case COND_P50:
	case COND_P95:
	case COND_P99:
	case COND_MAX:
	case COND_ERROR_RATE:
	case COND_REQUESTS:
	case COND_RPS:
		if (!in->has_route) {
			snprintf(why, cap, "[%s] is for route checks (route: in the "
			    "check)", var_name(side->var));
			return false;
		}
		/* to hundredths: quantiles are within 1 % anyway */
		val_num(v, round(100 * (side->var == COND_P50 ? in->p50_ms :
		    side->var == COND_P95 ? in->p95_ms : side->var == COND_P99 ?
		    in->p99_ms : side->var == COND_MAX ? in->max_ms : side->var ==
		    COND_ERROR_RATE ? in->error_pct : side->var == COND_REQUESTS ?
		    (double)in->requests : in->rps)) / 100);
		return true;
	case COND_LITERAL:
		val_text(v, side->text, strlen(side->text));
		return true;
	case COND_BODY:
		break;
	}
	if (side->npath == 0 && side->fn == COND_FN_NONE) {
		val_text(v, in->body ? in->body : "", in->body ? in->body_len : 0);
		return true;
	}
	if (side->npath == 0 && side->fn == COND_FN_LEN) {
		/* len([BODY]): items of a JSON array or object, else bytes */
		j = body_path(side, in, cache, why, cap);
		if (json_is_array(j) || json_is_object(j))
			val_num(v, (double)(json_is_array(j) ? json_array_size(j) :
			    json_object_size(j)));
		else
			val_num(v, (double)(in->body ? in->body_len : 0));
		return true;
	}
	j = body_path(side, in, cache, why, cap);
	if (side->fn == COND_FN_HAS) {
		val_text(v, j ? "true" : "false", j ? 4 : 5);
		return true;
	}
	if (j == NULL)
		return false;
	if (side->fn == COND_FN_LEN) {
		if (json_is_array(j))
			val_num(v, (double)json_array_size(j));
		else if (json_is_object(j))
			val_num(v, (double)json_object_size(j));
		else if (json_is_string(j))
			val_num(v, (double)json_string_length(j));
		else {
			snprintf(why, cap, "len() of a value that is not an array, "
			    "object or string");
			return false;
		}
		return true;
	}
	val_json(v, j);
	return true;
}

static bool
glob(const char *p, const char *s, const char *end)
{
	const char *star = NULL, *mark = NULL;

	while (s < end) {
		if (*p == '*') {
			star = p++;
			mark = s;
		} else if (*p != '\0' && (*p == '?' || *p == *s)) {
			p++;
			s++;
		} else if (star != NULL) {
			p = star + 1;
			s = ++mark;
		} else
			return false;
	}
	while (*p == '*')
		p++;
	return *p == '\0';
}

/* A literal against the left value: as a duration when the left is a time. */
static bool
literal_num(const struct cond *c, const char *s, double *out)
{
	if (c->left.fn == COND_FN_NONE && timed_var(c->left.var)) {
		int64_t ms = cond_duration_ms(s);

		*out = (double)ms;
		return ms >= 0;
	}
	return percent(c, s, strlen(s), out);
}

static bool
equal(const struct cond *c, const struct val *l, const char *r)
{
	double d;

	if (l->is_num && literal_num(c, r, &d))
		return l->num == d;
	return strlen(r) == l->n && memcmp(l->s, r, l->n) == 0;
}

static void
side_text(const struct cond_side *s, char *out, size_t cap)
{
	size_t o = 0, i;

	if (s->fn == COND_FN_LEN || s->fn == COND_FN_HAS)
		o += (size_t)snprintf(out + o, cap - o, "%s(", s->fn == COND_FN_LEN ?
		    "len" : "has");
	if (o < cap)
		o += (size_t)snprintf(out + o, cap - o, "[%s]", var_name(s->var));
	for (i = 0; i < s->npath && o < cap; i++)
		o += s->path[i].key ? (size_t)snprintf(out + o, cap - o, ".%s",
		    s->path[i].key) : (size_t)snprintf(out + o, cap - o, "[%ld]",
		    s->path[i].index);
	if ((s->fn == COND_FN_LEN || s->fn == COND_FN_HAS) && o < cap)
		snprintf(out + o, cap - o, ")");
}

bool
cond_eval(const struct cond *c, const struct cond_input *in, void **cache,
    char *detail, size_t cap)
{
	struct val l;
	char why[256], lhs[200], shown[64];
	const char *rhs = c->text + c->right_at;
	bool ok = false;
	double d;
	size_t i;

	side_text(&c->left, lhs, sizeof(lhs));
	if (!resolve(&c->left, in, cache, &l, why, sizeof(why))) {
		snprintf(detail, cap, "%s %s %s: %s", lhs, op_names[c->op], rhs,
		    why);
		return false;
	}
	switch (c->right.fn) {
	case COND_FN_PAT:
		ok = glob(c->right.text, l.s, l.s + l.n);
		break;
	case COND_FN_ANY:
		for (i = 0; i < c->right.nany && !ok; i++)
			ok = equal(c, &l, c->right.any[i]);
		break;
	default:
		if (c->op == COND_EQ || c->op == COND_NE) {
			ok = equal(c, &l, c->right.text);
			break;
		}
		if (!l.is_num) {
			snprintf(detail, cap, "%s (%.60s) %s %s: not a number",
			    lhs, l.s, op_names[c->op], rhs);
			return false;
		}
		if (!literal_num(c, c->right.text, &d)) {
			snprintf(detail, cap, "%s %s %s: '%s' is not a number",
			    lhs, op_names[c->op], rhs, c->right.text);
			return false;
		}
		ok = c->op == COND_LT ? l.num < d : c->op == COND_LE ? l.num <= d :
		    c->op == COND_GT ? l.num > d : l.num >= d;
		break;
	}
	if (c->op == COND_NE)
		ok = !ok;
	/* The value seen, cut for the detail line (a body can be long). */
	snprintf(shown, sizeof(shown), "%.*s%s", (int)(l.n > 48 ? 48 : l.n), l.s,
	    l.n > 48 ? "..." : "");
	for (i = 0; shown[i]; i++)
		if ((unsigned char)shown[i] < 0x20)
			shown[i] = ' ';
	snprintf(detail, cap, "%s (%s) %s %s", lhs, shown, op_names[c->op], rhs);
	return ok;
}
