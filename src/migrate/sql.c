/*
 * Splitting and parsing SQL files with libpg_query. The scanner splits (it tolerates
 * syntax errors), then each statement is parsed on its own so one bad statement does
 * not hide the rest. Where the scanner's split falls short (statements without a
 * keyword, parentheses that do not balance, a scanner error), the text is cut by hand
 * and splitting resumes after the cut. Positions are computed with one cursor that
 * only moves forward.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pg_query.h>

#include "core/buf.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "migrate/pgjson.h"
#include "migrate/sql.h"

/*
 * PostgreSQL 15's keywords that are not "unreserved" (kwlist.h: reserved,
 * column-name and type/function-name keywords): quote_ident() quotes these.
 */
static const char *const quoted_keywords[] = {
	"all", "analyse", "analyze", "and", "any", "array", "as", "asc",
	"asymmetric", "authorization", "between", "bigint", "binary", "bit",
	"boolean", "both", "case", "cast", "char", "character", "check",
	"coalesce", "collate", "collation", "column", "concurrently",
	"constraint", "create", "cross", "current_catalog", "current_date",
	"current_role", "current_schema", "current_time", "current_timestamp",
	"current_user", "dec", "decimal", "default", "deferrable", "desc",
	"distinct", "do", "else", "end", "except", "exists", "extract", "false",
	"fetch", "float", "for", "foreign", "freeze", "from", "full", "grant",
	"greatest", "group", "grouping", "having", "ilike", "in", "initially",
	"inner", "inout", "int", "integer", "intersect", "interval", "into",
	"is", "isnull", "join", "json_array", "json_arrayagg", "json_object",
	"json_objectagg", "lateral", "leading", "least", "left", "like", "limit",
	"localtime", "localtimestamp", "national", "natural", "nchar", "none",
	"normalize", "not", "notnull", "null", "nullif", "numeric", "offset",
	"on", "only", "or", "order", "out", "outer", "overlaps", "overlay",
	"placing", "position", "precision", "primary", "real", "references",
	"returning", "right", "row", "select", "session_user", "setof",
	"similar", "smallint", "some", "substring", "symmetric", "table",
	"tablesample", "then", "time", "timestamp", "to", "trailing", "treat",
	"trim", "true", "union", "unique", "user", "using", "values", "varchar",
	"variadic", "verbose", "when", "where", "window", "with", "xmlattributes",
	"xmlconcat", "xmlelement", "xmlexists", "xmlforest", "xmlnamespaces",
	"xmlparse", "xmlpi", "xmlroot", "xmlserialize", "xmltable",
};

/* A position in the text that only moves forward. */
struct cursor {
	const char	*text;
	size_t		 off;
	int		 line, col;
};

static void
cursor_advance(struct cursor *c, size_t to)
{
	unsigned char ch;

	while (c->off < to) {
		ch = (unsigned char)c->text[c->off++];
		if (ch == '\n') {
			c->line++;
			c->col = 1;
		} else if ((ch & 0xc0) != 0x80)
			c->col++;	/* columns count characters, not UTF-8 bytes */
	}
}

void
sql_excerpt(struct buf *b, const char *s, size_t len, size_t max)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, n, w = 0;
	char esc[8];

	while (i < len) {
		n = 1;
		if (p[i] == '\n' || p[i] == '\t' || p[i] == '\r')
			snprintf(esc, sizeof(esc), "\\%c", p[i] == '\n' ? 'n' :
			    p[i] == '\t' ? 't' : 'r');
		else if (p[i] < 0x20 || p[i] == 0x7f)
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
		else if (p[i] < 0x80)
			esc[0] = '\0';
		else if ((n = utf8_seq(p + i, len - i)) == 0 ||
		    (p[i] == 0xc2 && p[i + 1] < 0xa0)) {
			/* not UTF-8, or a C1 control character */
			snprintf(esc, sizeof(esc), "\\x%02x", p[i]);
			n = 1;
		} else
			esc[0] = '\0';
		if (w + (esc[0] != '\0' ? strlen(esc) : 1) > max) {
			buf_addstr(b, "...");
			return;
		}
		if (esc[0] != '\0') {
			buf_addstr(b, esc);
			w += strlen(esc);
		} else {
			buf_add(b, p + i, n);
			w++;
		}
		i += n;
	}
}

/*
 * The byte offset of character pos (0-based) of s: PostgreSQL's error positions
 * count characters, as its pg_mbstrlen_with_len() does in UTF-8 (by the first byte
 * of each, whether or not the rest follow).
 */
static size_t
char_offset(const char *s, size_t len, int pos)
{
	size_t off = 0;
	unsigned char c;

	while (pos-- > 0 && off < len && s[off] != '\0') {
		c = (unsigned char)s[off];
		off += (c & 0x80) == 0 ? 1 : (c & 0xe0) == 0xc0 ? 2 :
		    (c & 0xf0) == 0xe0 ? 3 : (c & 0xf8) == 0xf0 ? 4 : 1;
	}
	return off < len ? off : len;
}

/*
 * The characters a parse error's message is kept near: PostgreSQL quotes the text
 * from the error on ("at or near ..."), which after an unterminated string is the
 * rest of the file, raw bytes and all.
 */
#define SQL_NEAR_MAX	60

/* PostgreSQL's error message as one short printable line: the caller frees. */
static char *
error_message(const char *msg)
{
	static const char near[] = " at or near \"";
	const char *q = strstr(msg, near);
	struct buf b = BUF_INIT;
	size_t len = strlen(msg), head;

	if (q == NULL || len == 0 || msg[len - 1] != '"' ||
	    (size_t)(q - msg) + sizeof(near) - 1 >= len) {
		sql_excerpt(&b, msg, len, SIZE_MAX);
		return buf_detach(&b);
	}
	head = (size_t)(q - msg) + sizeof(near) - 1;
	sql_excerpt(&b, msg, head, SIZE_MAX);
	/* the whole line near SQL_NEAR_MAX characters, but always a little excerpt */
	sql_excerpt(&b, msg + head, len - head - 1,
	    head + 16 < SQL_NEAR_MAX ? SQL_NEAR_MAX - head : 16);
	buf_addch(&b, '"');
	return buf_detach(&b);
}

/* Appends the comma-separated rule names of s (up to the end of line) to b. */
static void
ignore_add(struct buf *b, const char *s, const char *end)
{
	const char *p = s, *start;

	while (p < end) {
		while (p < end && (*p == ' ' || *p == '\t' || *p == ','))
			p++;
		start = p;
		while (p < end && *p != ' ' && *p != '\t' && *p != ',' &&
		    *p != '\r')
			p++;
		if (p == start)
			break;
		if (b->len > 0)
			buf_addch(b, ',');
		buf_add(b, start, (size_t)(p - start));
	}
}

/* A "-- ..." comment body [s, end): collects opsdeck-ignore directives. */
static void
comment_directive(const char *s, const char *end, struct buf *next,
    struct buf *file)
{
	static const char dir_file[] = "opsdeck-ignore-file";
	static const char dir_next[] = "opsdeck-ignore";
	size_t n;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	n = (size_t)(end - s);
	if (n > sizeof(dir_file) - 1 &&
	    memcmp(s, dir_file, sizeof(dir_file) - 1) == 0) {
		if (file != NULL && (s[sizeof(dir_file) - 1] == ' ' ||
		    s[sizeof(dir_file) - 1] == '\t'))
			ignore_add(file, s + sizeof(dir_file) - 1, end);
	} else if (n > sizeof(dir_next) - 1 &&
	    memcmp(s, dir_next, sizeof(dir_next) - 1) == 0 &&
	    (s[sizeof(dir_next) - 1] == ' ' || s[sizeof(dir_next) - 1] == '\t'))
		ignore_add(next, s + sizeof(dir_next) - 1, end);
}

/*
 * Skips whitespace, ';' and comments from off up to end, collecting directives;
 * returns the offset of the first token or unterminated comment (end when there is
 * none).
 */
static size_t
skip_gap(const char *text, size_t off, size_t end, struct buf *next,
    struct buf *file)
{
	const char *nl;
	size_t start;
	int depth;

	while (off < end) {
		char ch = text[off];

		if (ch == ' ' || ch == '\t' || ch == '\n' || ch == '\r' ||
		    ch == '\f' || ch == '\v' || ch == ';') {
			off++;
		} else if (ch == '-' && off + 1 < end && text[off + 1] == '-') {
			start = off + 2;
			nl = memchr(text + start, '\n', end - start);
			off = nl != NULL ? (size_t)(nl - text) : end;
			comment_directive(text + start, text + off, next, file);
		} else if (ch == '/' && off + 1 < end && text[off + 1] == '*') {
			/* PostgreSQL block comments nest */
			start = off;
			depth = 1;
			off += 2;
			while (off < end && depth > 0) {
				if (text[off] == '/' && off + 1 < end &&
				    text[off + 1] == '*') {
					depth++;
					off += 2;
				} else if (text[off] == '*' && off + 1 < end &&
				    text[off + 1] == '/') {
					depth--;
					off += 2;
				} else
					off++;
			}
			/* unterminated: an error to report, not a gap */
			if (depth > 0)
				return start;
		} else
			break;
	}
	return off;
}

/* Case-insensitive: does text at p start with the keyword kw (as a whole word)? */
static bool
keyword_at(const char *p, const char *kw)
{
	size_t n = strlen(kw);

	return strncasecmp(p, kw, n) == 0 && !isalnum((unsigned char)p[n]) &&
	    p[n] != '_';
}

/*
 * Syntax newer than PostgreSQL 15 that migrations already use, recognised from the
 * error and the text around it (pos: the error's byte offset in text): what it is,
 * or NULL. Anything else is reported as a plain syntax error.
 */
static const char *
newer_syntax(const char *msg, const char *text, size_t pos)
{
	static const char near[] = "syntax error at or near ";
	const char *p;

	if (strstr(msg, "subquery in FROM must have an alias") != NULL ||
	    strstr(msg, "VALUES in FROM must have an alias") != NULL)
		return "a subquery in FROM without an alias is PostgreSQL 16 "
		    "syntax";
	/* CONSTRAINT name NOT NULL col, as a table constraint (PostgreSQL 18) */
	if (strncmp(msg, near, sizeof(near) - 1) != 0 ||
	    !keyword_at(text + pos, "not"))
		return NULL;
	for (p = text + pos + 3; *p == ' ' || *p == '\t' || *p == '\n' ||
	    *p == '\r'; p++)
		;
	if (!keyword_at(p, "null"))
		return NULL;
	for (p = text + pos; p > text && isspace((unsigned char)p[-1]); p--)
		;
	if (p > text && p[-1] == '"') {
		for (p--; p > text && p[-1] != '"'; p--)
			;
		if (p > text)
			p--;
	} else
		while (p > text && (isalnum((unsigned char)p[-1]) ||
		    p[-1] == '_' || (unsigned char)p[-1] >= 0x80))
			p--;
	while (p > text && isspace((unsigned char)p[-1]))
		p--;
	if (p - text >= 10 && keyword_at(p - 10, "constraint"))
		return "a named NOT NULL table constraint (CONSTRAINT name NOT "
		    "NULL column) is PostgreSQL 18 syntax";
	return NULL;
}

/* Records an error of the statement at byte offset at of the file (taking msg). */
static void
stmt_error(struct sql_stmt *st, struct cursor *cur, size_t at, char *msg)
{
	st->error = msg;
	cursor_advance(cur, at);
	st->error_line = cur->line;
	st->error_col = cur->col;
}

/*
 * A statement that parses but whose tree jansson will not read: bytes that are not
 * UTF-8 (a server would refuse them as the client's encoding), or a tree nested
 * deeper than jansson reads. Either way nothing of it could be checked.
 */
static void
tree_error(struct sql_stmt *st, struct cursor *cur, size_t first,
    const json_error_t *jerr)
{
	const unsigned char *p = (const unsigned char *)st->text;
	size_t i, n, len = strlen(st->text);

	for (i = 0; i < len; i += n) {
		n = 1;
		if (p[i] >= 0x80 && (n = utf8_seq(p + i, len - i)) == 0) {
			stmt_error(st, cur, first + i, xasprintf("invalid byte "
			    "sequence for encoding \"UTF8\": 0x%02x", p[i]));
			return;
		}
	}
	stmt_error(st, cur, first, xasprintf("its parse tree cannot be read (%s)",
	    jerr->text));
}

static void
stmt_parse(struct sql_stmt *st, struct cursor *cur, size_t first)
{
	PgQueryParseResult r;
	json_t *root = NULL, *stmts, *one;
	json_error_t jerr;

	r = pg_query_parse(st->text);
	if (r.error != NULL) {
		const char *msg = r.error->message != NULL ? r.error->message :
		    "syntax error";
		size_t at = 0;

		if (r.error->cursorpos > 0)
			at = char_offset(st->text, strlen(st->text),
			    r.error->cursorpos - 1);
		st->error_newer = newer_syntax(msg, st->text, at);
		stmt_error(st, cur, first + at, error_message(msg));
		goto out;
	}
	/* json_loads only for what the fast reader leaves, and for its message */
	if ((root = pgjson_load(r.parse_tree)) == NULL &&
	    (root = json_loads(r.parse_tree, 0, &jerr)) == NULL) {
		tree_error(st, cur, first, &jerr);
		goto out;
	}
	stmts = json_object_get(root, "stmts");
	one = json_array_get(stmts, 0);
	if (one != NULL && json_object_get(one, "stmt") != NULL)
		st->tree = json_incref(json_object_get(one, "stmt"));
out:
	json_decref(root);
	pg_query_free_parse_result(r);
}

static size_t
count_byte(const char *from, const char *to, char ch)
{
	size_t n = 0;

	while ((from = memchr(from, ch, (size_t)(to - from))) != NULL) {
		n++;
		from++;
	}
	return n;
}

/*
 * File-wide directives may come anywhere, even after the last statement, so they
 * are found by a scan first: "--" then blanks then "opsdeck-ignore-file".
 */
/* Names in a "a,b" list. */
static size_t
list_count(const struct buf *b)
{
	return b->len == 0 ? 0 : 1 + count_byte(b->data, b->data + b->len, ',');
}

/* Collects the names into file and the line of each name into *lines. */
static void
ignore_file_scan(const char *text, size_t len, struct buf *file, int **lines)
{
	static const char dir[] = "opsdeck-ignore-file";
	const char *p = text, *end = text + len, *q, *eol, *counted = text;
	size_t before, k;
	int line = 1;

	while ((p = memmem(p, (size_t)(end - p), dir, sizeof(dir) - 1)) != NULL) {
		for (q = p; q > text && (q[-1] == ' ' || q[-1] == '\t'); q--)
			;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (q - text >= 2 && q[-1] == '-' && q[-2] == '-') {
			before = list_count(file);
			comment_directive(p, eol, &(struct buf)BUF_INIT, file);
			line += (int)count_byte(counted, p, '\n');
			counted = p;
			*lines = xreallocarray(*lines, list_count(file) + 1,
			    sizeof(**lines));
			for (k = before; k < list_count(file); k++)
				(*lines)[k] = line;
		}
		p += sizeof(dir) - 1;
	}
}

/*
 * Finds the ';' that ends the statement starting at from, before tail, skipping
 * quotes, comments and dollar quotes, and with parens what is inside parentheses:
 * *end is just past it, or tail when there is none (false). depth (may be NULL) gets
 * how many more '(' than ')' were passed.
 */
static bool
stmt_cut(const char *text, size_t from, size_t tail, bool parens, size_t *end,
    long *depth_out)
{
	size_t off = from, k;
	long depth = 0;

	while (off < tail) {
		char ch = text[off];

		if (ch == ';' && (!parens || depth == 0)) {
			*end = off + 1;
			if (depth_out != NULL)
				*depth_out = depth;
			return true;
		}
		if (ch == '(' || ch == ')') {
			depth += ch == '(' ? 1 : -1;
			off++;
		} else if (ch == '\'' || ch == '"') {
			bool esc = ch == '\'' && off > from &&
			    (text[off - 1] == 'E' || text[off - 1] == 'e');

			for (off++; off < tail; off++) {
				if (esc && text[off] == '\\' && off + 1 < tail)
					off++;
				else if (text[off] == ch) {
					if (off + 1 < tail && text[off + 1] == ch)
						off++;
					else
						break;
				}
			}
			off++;
		} else if (ch == '-' && off + 1 < tail && text[off + 1] == '-') {
			while (off < tail && text[off] != '\n')
				off++;
		} else if (ch == '/' && off + 1 < tail && text[off + 1] == '*') {
			const char *close = memmem(text + off + 2, tail - off - 2,
			    "*/", 2);

			off = close != NULL ? (size_t)(close - text) + 2 : tail;
		} else if (ch == '$') {
			/* $tag$ ... $tag$ */
			for (k = off + 1; k < tail && (isalnum((unsigned char)
			    text[k]) || text[k] == '_'); k++)
				;
			if (k < tail && text[k] == '$') {
				size_t taglen = k - off + 1;
				const char *close = memmem(text + k + 1,
				    tail - k - 1, text + off, taglen);

				off = close != NULL ? (size_t)(close - text) +
				    taglen : tail;
			} else
				off++;
		} else
			off++;
	}
	*end = tail;
	if (depth_out != NULL)
		*depth_out = depth;
	return false;
}

/* A file on its way through the splitter. */
struct split {
	struct sql_file	*out;
	char		*text;		/* the SQL, NUL-terminated at tail */
	size_t		 tail;
	size_t		 done;		/* the text before was handed to fn */
	struct buf	 next;		/* directives for the next statement */
	struct cursor	 cur;
	int		(*fn)(const struct sql_file *, const struct sql_stmt *,
			    void *);
	void		*arg;
	bool		 stop;		/* fn returned -1 */
	/*
	 * Every ';' outside quotes and comments, with the parenthesis depth there and
	 * the next ';' at the same depth: built once, the first time a statement's
	 * parentheses do not balance within a window (balance_point).
	 */
	struct semi {
		size_t	 pos;
		long	 depth;
		size_t	 next;	/* index of the next ';' at this depth, or n */
	}		*semis;
	size_t		 nsemis;
	bool		 semis_built;
};

/*
 * The scanner is given a window of at most WINDOW_STMTS statements (or about
 * WINDOW_BYTES) at a time, cut after a ';' that is outside quotes and comments, so
 * that the text it scans again after a statement it cannot end is bounded: a file of
 * broken statements splits in linear time, not in the square of its length.
 */
#define WINDOW_STMTS	64
#define WINDOW_BYTES	65536

/* The offset of the first token in [from, end), or end (directives are not kept). */
static size_t
next_token(const struct split *sp, size_t from, size_t end)
{
	struct buf scratch = BUF_INIT;

	from = skip_gap(sp->text, from, end, &scratch, &scratch);
	buf_release(&scratch);
	return from;
}

/*
 * Hands the statement in [sp->done, end) to fn, without its leading comments (which
 * end at first_max at the latest: where a scanner error is), and moves done to end.
 * rest: an unterminated quote or comment at offset first_max (PostgreSQL's message)
 * takes in the rest of the file, so that error is the statement's.
 */
static void
stmt_emit(struct split *sp, size_t end, size_t first_max, const char *rest)
{
	struct sql_stmt st;
	size_t first = skip_gap(sp->text, sp->done,
	    end < first_max ? end : first_max, &sp->next, NULL);

	sp->done = end;
	if (first >= end)
		return;	/* only comments */
	memset(&st, 0, sizeof(st));
	cursor_advance(&sp->cur, first);
	st.offset = first;
	st.line = sp->cur.line;
	st.col = sp->cur.col;
	st.text = xstrndup(sp->text + first, end - first);
	if (sp->next.len > 0)
		st.ignore = buf_detach(&sp->next);
	if (rest != NULL) {
		stmt_error(&st, &sp->cur, first_max, error_message(rest));
		st.error_rest = true;
	} else
		stmt_parse(&st, &sp->cur, first);
	sp->out->n++;
	sp->stop = sp->fn(sp->out, &st, sp->arg) < 0;
	free(st.text);
	json_decref(st.tree);
	free(st.error);
	free(st.ignore);
}

/*
 * pg_query_split_with_scanner() leaves out a statement without a keyword ("SELEC 1;",
 * "FOO;"), taking it for an empty one: each such statement ended by a ';' before
 * limit is handed over on its own (it will not parse), so that the next statement
 * does not start with it.
 */
static void
emit_keywordless(struct split *sp, size_t limit)
{
	size_t first, end;

	while (!sp->stop && (first = next_token(sp, sp->done, limit)) < limit &&
	    stmt_cut(sp->text, first, limit, true, &end, NULL))
		stmt_emit(sp, end, SIZE_MAX, NULL);
}

/* Builds sp->semis (see struct split). */
static void
semis_build(struct split *sp)
{
	size_t off = 0, end, i, *last, span;
	long depth = 0, step, lo = 0, hi = 0;

	sp->semis_built = true;
	while (stmt_cut(sp->text, off, sp->tail, false, &end, &step)) {
		depth += step;
		if (sp->nsemis % 256 == 0)
			sp->semis = xreallocarray(sp->semis, sp->nsemis + 256,
			    sizeof(*sp->semis));
		sp->semis[sp->nsemis].pos = end - 1;
		sp->semis[sp->nsemis].depth = depth;
		sp->nsemis++;
		if (depth < lo)
			lo = depth;
		if (depth > hi)
			hi = depth;
		off = end;
	}
	span = (size_t)(hi - lo) + 1;
	last = xreallocarray(NULL, span, sizeof(*last));
	for (i = 0; i < span; i++)
		last[i] = sp->nsemis;
	for (i = sp->nsemis; i > 0; i--) {
		size_t *at = &last[sp->semis[i - 1].depth - lo];

		sp->semis[i - 1].next = *at;
		*at = i - 1;
	}
	free(last);
}

/*
 * Where the scanner would end the statement whose first token is at first: at the
 * next ';' with as many parentheses open as at its start (it counts them from the
 * statement's start), or SIZE_MAX when there is none before the end of the text.
 */
static size_t
balance_point(struct split *sp, size_t first)
{
	size_t lo = 0, hi, j;

	if (!sp->semis_built)
		semis_build(sp);
	/* the last ';' before first: the statement starts at its depth */
	hi = sp->nsemis;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (sp->semis[mid].pos < first)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo > 0)
		j = sp->semis[lo - 1].next;
	else
		for (j = 0; j < sp->nsemis && sp->semis[j].depth != 0; j++)
			;
	return j < sp->nsemis ? sp->semis[j].pos : SIZE_MAX;
}

/*
 * The end of the scanner's next window: just past the WINDOW_STMTS-th ';' outside
 * quotes and comments from sp->done, or fewer once WINDOW_BYTES are passed, or the
 * end of the text.
 */
static size_t
window_end(const struct split *sp)
{
	size_t off = sp->done, end;
	int n;

	for (n = 0; n < WINDOW_STMTS && off - sp->done < WINDOW_BYTES; n++) {
		if (!stmt_cut(sp->text, off, sp->tail, false, &end, NULL))
			return sp->tail;
		off = end;
	}
	return off;
}

/* Hands over the statement whose first token is at first, ended by its first ';'. */
static void
hand_cut(struct split *sp, size_t first)
{
	size_t end;

	stmt_cut(sp->text, first, sp->tail, false, &end, NULL);
	stmt_emit(sp, end, first, NULL);
}

enum scan_result {
	SCAN_DONE,	/* the window was split */
	SCAN_OPEN,	/* a statement runs past the window with parentheses open */
	SCAN_WHOLE,	/* a quote or comment runs past the window: scan to the end */
};

/*
 * Splits the text from sp->done to window and hands over the statements the scanner
 * ends, then, where the window is the rest of the text, one statement it does not
 * end, cut by hand: one whose parentheses do not balance (the scanner will not end a
 * statement inside them), or the one with a scanner error (which fails the whole
 * split, so the text before the error is split again). In a shorter window, a
 * statement left open is the caller's (SCAN_OPEN) unless cut is set.
 */
static enum scan_result
split_scan(struct split *sp, size_t window, bool cut)
{
	PgQuerySplitResult sr;
	size_t base = sp->done, limit = window, loc, end, first;
	bool scan_error = false, part = window < sp->tail;
	char saved, *unterminated = NULL;
	enum scan_result ret = SCAN_DONE;
	int i;

	saved = sp->text[window];
	sp->text[window] = '\0';
	sr = pg_query_split_with_scanner(sp->text + base);
	sp->text[window] = saved;
	if (sr.error != NULL) {
		scan_error = true;
		/* an unterminated quote, comment or dollar quote takes in the rest */
		if (sr.error->message != NULL &&
		    strncmp(sr.error->message, "unterminated ", 13) == 0) {
			if (part) {
				/* it may end past the window */
				pg_query_free_split_result(sr);
				return SCAN_WHOLE;
			}
			unterminated = xstrdup(sr.error->message);
		}
		limit = base;
		if (sr.error->cursorpos > 0)
			limit += char_offset(sp->text + base, window - base,
			    sr.error->cursorpos - 1);
		pg_query_free_split_result(sr);
		saved = sp->text[limit];
		sp->text[limit] = '\0';
		sr = pg_query_split_with_scanner(sp->text + base);
		sp->text[limit] = saved;
	}
	for (i = 0; sr.error == NULL && i < sr.n_stmts && !sp->stop; i++) {
		loc = base + (size_t)sr.stmts[i]->stmt_location;
		end = sr.stmts[i]->stmt_len == 0 ? limit :
		    loc + (size_t)sr.stmts[i]->stmt_len;
		if (end > limit)
			end = limit;
		/* no ';' before the error or the window's end: cut below */
		if ((scan_error || part) && end >= limit)
			break;
		emit_keywordless(sp, loc);
		if (!sp->stop)
			stmt_emit(sp, end, SIZE_MAX, NULL);
	}
	pg_query_free_split_result(sr);
	emit_keywordless(sp, limit);
	if (sp->stop)
		goto out;
	first = next_token(sp, sp->done, sp->tail);
	if (scan_error && first > limit)
		first = limit;	/* an unterminated comment */
	if (first >= sp->tail)
		goto out;
	if (!scan_error && part && first >= limit) {
		/* the window is split: what is left of it is ';' and comments */
		sp->done = skip_gap(sp->text, sp->done, limit, &sp->next, NULL);
		goto out;
	}
	if (unterminated != NULL)
		stmt_emit(sp, sp->tail, limit, unterminated);
	else if (!scan_error && part && !cut)
		ret = SCAN_OPEN;
	else
		hand_cut(sp, first);
out:
	free(unterminated);
	return ret;
}

/*
 * Splits the next window of the text. A statement whose parentheses are still open at
 * the window's end is given a window up to where they balance, or, when they never
 * do, cut by hand at its first ';' (as a scan of the whole rest would end it).
 */
static void
split_some(struct split *sp)
{
	enum scan_result r;
	size_t p;

	r = split_scan(sp, window_end(sp), false);
	if (r == SCAN_OPEN) {
		p = balance_point(sp, next_token(sp, sp->done, sp->tail));
		if (p == SIZE_MAX) {
			hand_cut(sp, next_token(sp, sp->done, sp->tail));
			return;
		}
		r = split_scan(sp, p + 1, true);
	}
	if (r == SCAN_WHOLE)
		split_scan(sp, sp->tail, true);
}

int
sql_file_each(const char *path, const char *text, size_t len,
    struct sql_file *out,
    int (*fn)(const struct sql_file *, const struct sql_stmt *, void *),
    void *arg, struct err *e)
{
	struct buf file = BUF_INIT;
	struct split sp;
	struct sql_stmt st;
	const char *nul;

	memset(out, 0, sizeof(*out));
	out->path = xstrdup(path);
	if (len >= SQL_FILE_MAX)
		return err_set(e, "'%s' is too large to parse (%zu bytes)", path,
		    len);
	memset(&sp, 0, sizeof(sp));
	sp.out = out;
	sp.fn = fn;
	sp.arg = arg;
	sp.next = (struct buf)BUF_INIT;
	/* the scanner needs a NUL-terminated string; a NUL byte ends the SQL */
	sp.tail = len;
	if ((nul = memchr(text, '\0', len)) != NULL)
		sp.tail = (size_t)(nul - text);
	sp.text = xstrndup(text, sp.tail);
	ignore_file_scan(sp.text, sp.tail, &file, &out->ignore_file_lines);
	if (file.len > 0)
		out->ignore_file = buf_detach(&file);
	sp.cur.text = sp.text;
	sp.cur.line = 1;
	sp.cur.col = 1;

	while (!sp.stop && next_token(&sp, sp.done, sp.tail) < sp.tail)
		split_some(&sp);
	if (nul != NULL && !sp.stop) {
		memset(&st, 0, sizeof(st));
		cursor_advance(&sp.cur, sp.tail);
		st.offset = sp.tail;
		st.line = st.error_line = sp.cur.line;
		st.col = st.error_col = sp.cur.col;
		st.text = "";
		st.error = "unexpected NUL byte: not a text file";
		out->n++;
		fn(out, &st, arg);
	}
	buf_release(&sp.next);
	buf_release(&file);
	free(sp.semis);
	free(sp.text);
	return 0;
}

/*
 * A walk of sql_file_each_window. Each window is split on its own, and of a window
 * that does not end the text only the statements before its last one and before its
 * first one with an error are kept: the window may end inside the last one, and
 * where the splitter falls back to cutting by hand (parentheses that do not balance
 * before the window ends, a scanner error at its end), what it cuts does not parse.
 * The next window starts where the last kept statement ended, a statement boundary,
 * so the splitter sees the text from there as it would in one walk of the whole
 * text. A window that keeps nothing is widened, up to the rest of the text.
 */
struct window_walk {
	struct sql_file	*out;		/* the whole file's, as fn sees it */
	int		(*fn)(const struct sql_file *, const struct sql_stmt *,
			    void *);
	void		*arg;
	size_t		 base;		/* the window's offset in the text */
	int		 line, col;	/* the position of base */
	bool		 last;		/* the window ends the text */
	struct sql_stmt	 held;		/* the window's last statement so far */
	bool		 have;
	size_t		 resume;	/* where the statement before held ended */
	size_t		 passed;	/* statements handed to fn in this window */
	bool		 stop;		/* fn returned -1 */
};

static void
held_release(struct window_walk *w)
{
	free(w->held.text);
	json_decref(w->held.tree);
	free(w->held.error);
	free(w->held.ignore);
	memset(&w->held, 0, sizeof(w->held));
	w->have = false;
}

/* Hands the held statement to fn, at its place in the whole text. */
static int
held_pass(struct window_walk *w)
{
	struct sql_stmt *st = &w->held;
	int r;

	w->out->n++;
	w->passed++;
	w->resume = st->offset + strlen(st->text);
	r = w->fn(w->out, st, w->arg);
	held_release(w);
	if (r < 0)
		w->stop = true;
	return r;
}

static int
window_stmt(const struct sql_file *f, const struct sql_stmt *st, void *arg)
{
	struct window_walk *w = arg;
	struct sql_stmt *h;

	(void)f;
	if (w->have && held_pass(w) < 0)
		return -1;
	if (st->error != NULL && !w->last)
		return -1;	/* not to be trusted: the next window starts here */
	h = &w->held;
	*h = *st;
	h->text = xstrdup(st->text);
	h->tree = json_incref(st->tree);
	h->error = st->error != NULL ? xstrdup(st->error) : NULL;
	h->ignore = st->ignore != NULL ? xstrdup(st->ignore) : NULL;
	h->offset += w->base;
	if (h->line == 1)
		h->col += w->col - 1;
	h->line += w->line - 1;
	if (h->error != NULL) {
		if (h->error_line == 1)
			h->error_col += w->col - 1;
		h->error_line += w->line - 1;
	}
	w->have = true;
	return 0;
}

int
sql_file_each_window(const char *path, const char *text, size_t len,
    size_t window, struct sql_file *out,
    int (*fn)(const struct sql_file *, const struct sql_stmt *, void *),
    void *arg, struct err *e)
{
	struct window_walk w;
	struct sql_file part;
	struct buf file = BUF_INIT;
	struct cursor cur;
	const char *nul;
	size_t tail, size;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	out->path = xstrdup(path);
	if (len >= SQL_FILE_MAX)
		return err_set(e, "'%s' is too large to parse (%zu bytes)", path,
		    len);
	if (window == 0)
		window = SQL_WINDOW;
	tail = (nul = memchr(text, '\0', len)) != NULL ? (size_t)(nul - text) :
	    len;
	ignore_file_scan(text, tail, &file, &out->ignore_file_lines);
	if (file.len > 0)
		out->ignore_file = buf_detach(&file);
	memset(&w, 0, sizeof(w));
	w.out = out;
	w.fn = fn;
	w.arg = arg;
	cur.text = text;
	cur.off = 0;
	cur.line = cur.col = 1;
	size = window;
	while (!w.stop) {
		cursor_advance(&cur, w.base);
		w.line = cur.line;
		w.col = cur.col;
		/* the last window takes the rest, NUL byte and all */
		w.last = tail - w.base <= size;
		w.resume = w.base;
		w.passed = 0;
		if (sql_file_each(path, text + w.base, w.last ? len - w.base : size,
		    &part, window_stmt, &w, e) < 0) {
			sql_file_release(&part);
			goto out;
		}
		sql_file_release(&part);
		if (w.last) {
			if (w.have && !w.stop)
				held_pass(&w);
			break;
		}
		held_release(&w);
		if (w.passed == 0) {
			/* one statement larger than the window: widen it */
			size = size > (tail - w.base) / 2 ? tail - w.base : size * 2;
			continue;
		}
		w.base = w.resume;
		size = window;
	}
	ret = 0;
out:
	held_release(&w);
	buf_release(&file);
	return ret;
}

/* Keeps each streamed statement (taking its allocations). */
static int
collect(const struct sql_file *f, const struct sql_stmt *st, void *arg)
{
	struct sql_file *into = arg;
	struct sql_stmt *copy;

	(void)f;
	if (into->n % 64 == 0)
		into->stmts = xreallocarray(into->stmts, into->n + 64,
		    sizeof(*into->stmts));
	copy = &into->stmts[into->n++];
	copy->text = xstrdup(st->text);
	copy->offset = st->offset;
	copy->line = st->line;
	copy->col = st->col;
	copy->tree = json_incref(st->tree);
	copy->error = st->error != NULL ? xstrdup(st->error) : NULL;
	copy->error_line = st->error_line;
	copy->error_col = st->error_col;
	copy->error_newer = st->error_newer;
	copy->error_rest = st->error_rest;
	copy->ignore = st->ignore != NULL ? xstrdup(st->ignore) : NULL;
	return 0;
}

int
sql_file_parse(const char *path, const char *text, size_t len,
    struct sql_file *out, struct err *e)
{
	struct sql_file walk;
	int ret;

	memset(out, 0, sizeof(*out));
	ret = sql_file_each(path, text, len, &walk, collect, out, e);
	out->path = walk.path;
	out->ignore_file = walk.ignore_file;
	out->ignore_file_lines = walk.ignore_file_lines;
	return ret;
}

int
sql_file_read(const char *path, struct buf *out, struct err *e)
{
	return file_read(path, SQL_FILE_MAX, out, e);
}

void
sql_file_release(struct sql_file *f)
{
	size_t i;

	/* a streamed file counts statements it no longer holds */
	for (i = 0; f->stmts != NULL && i < f->n; i++) {
		free(f->stmts[i].text);
		json_decref(f->stmts[i].tree);
		free(f->stmts[i].error);
		free(f->stmts[i].ignore);
	}
	free(f->stmts);
	free(f->path);
	free(f->ignore_file);
	free(f->ignore_file_lines);
	memset(f, 0, sizeof(*f));
}

const char *
sql_stmt_type(const struct sql_stmt *st)
{
	const char *key;
	json_t *v;

	if (st->tree == NULL)
		return NULL;
	json_object_foreach(st->tree, key, v)
		return key;
	return NULL;
}

static int
kwcmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void
quote_with(struct buf *b, const char *s, char q)
{
	buf_addch(b, q);
	for (; *s != '\0'; s++) {
		if (*s == q)
			buf_addch(b, q);
		buf_addch(b, *s);
	}
	buf_addch(b, q);
}

void
sql_quote_ident(struct buf *b, const char *s)
{
	const char *p;
	bool plain = (*s >= 'a' && *s <= 'z') || *s == '_';

	for (p = s; plain && *p != '\0'; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
		    *p == '_'))
			plain = false;
	if (plain && bsearch(&s, quoted_keywords,
	    sizeof(quoted_keywords) / sizeof(quoted_keywords[0]),
	    sizeof(quoted_keywords[0]), kwcmp) != NULL)
		plain = false;
	if (plain)
		buf_addstr(b, s);
	else
		quote_with(b, s, '"');
}

void
sql_quote_ident_always(struct buf *b, const char *s)
{
	quote_with(b, s, '"');
}

void
sql_quote_literal(struct buf *b, const char *s)
{
	const char *p;

	if (strchr(s, '\\') == NULL) {
		quote_with(b, s, '\'');
		return;
	}
	/* E'' reads the same whatever standard_conforming_strings says */
	buf_addstr(b, "E'");
	for (p = s; *p != '\0'; p++) {
		if (*p == '\'' || *p == '\\')
			buf_addch(b, *p);
		buf_addch(b, *p);
	}
	buf_addch(b, '\'');
}
