/*
 * Splitting and parsing SQL files with libpg_query. The scanner splits (it tolerates
 * syntax errors), then each statement is parsed on its own so one bad statement does
 * not hide the rest. Positions are computed with one cursor that only moves forward,
 * so a file costs time linear in its size.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <pg_query.h>

#include "core/buf.h"
#include "core/util.h"
#include "core/xmalloc.h"
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
 * returns the offset of the first token (end when there is none).
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

static void
stmt_parse(struct sql_stmt *st, struct cursor *cur, size_t first)
{
	PgQueryParseResult r;
	json_t *root = NULL, *stmts, *one;
	json_error_t jerr;

	r = pg_query_parse(st->text);
	if (r.error != NULL) {
		size_t at = first;

		st->error = xstrdup(r.error->message != NULL ?
		    r.error->message : "syntax error");
		if (r.error->cursorpos > 0)
			at = first + (size_t)r.error->cursorpos - 1;
		if (at > first + strlen(st->text))
			at = first + strlen(st->text);
		st->error_newer = newer_syntax(st->error, st->text, at - first);
		cursor_advance(cur, at);
		st->error_line = cur->line;
		st->error_col = cur->col;
		goto out;
	}
	root = json_loads(r.parse_tree, 0, &jerr);
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
static int
ignore_file_scan(const char *text, size_t len, struct buf *file)
{
	int line = 0;

	static const char dir[] = "opsdeck-ignore-file";
	const char *p = text, *end = text + len, *q, *eol;

	while ((p = memmem(p, (size_t)(end - p), dir, sizeof(dir) - 1)) != NULL) {
		for (q = p; q > text && (q[-1] == ' ' || q[-1] == '\t'); q--)
			;
		eol = memchr(p, '\n', (size_t)(end - p));
		if (eol == NULL)
			eol = end;
		if (q - text >= 2 && q[-1] == '-' && q[-2] == '-') {
			comment_directive(p, eol, &(struct buf)BUF_INIT, file);
			if (line == 0)
				line = 1 + (int)count_byte(text, p, '\n');
		}
		p += sizeof(dir) - 1;
	}
	return line;
}

/*
 * The end (just past the ';') of the statement starting at from, ignoring parentheses
 * but not quotes, comments or dollar quotes: for a statement the scanner would not end.
 */
static size_t
stmt_cut(const char *text, size_t from, size_t tail)
{
	size_t off = from, k;

	while (off < tail) {
		char ch = text[off];

		if (ch == ';')
			return off + 1;
		if (ch == '\'' || ch == '"') {
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
	return tail;
}

/* Hands the statement in [gap_start, end) (after its leading comments) to fn. */
static int
stmt_emit(struct sql_file *out, const char *owned, size_t gap_start,
    size_t end, struct buf *next, struct cursor *cur,
    int (*fn)(const struct sql_file *, const struct sql_stmt *, void *),
    void *arg)
{
	struct sql_stmt st;
	size_t first = skip_gap(owned, gap_start, end, next, NULL);
	int r;

	if (first >= end)
		return 0;	/* only comments */
	memset(&st, 0, sizeof(st));
	cursor_advance(cur, first);
	st.offset = first;
	st.line = cur->line;
	st.col = cur->col;
	st.text = xstrndup(owned + first, end - first);
	if (next->len > 0)
		st.ignore = buf_detach(next);
	stmt_parse(&st, cur, first);
	out->n++;
	r = fn(out, &st, arg);
	free(st.text);
	json_decref(st.tree);
	free(st.error);
	free(st.ignore);
	return r;
}

int
sql_file_each(const char *path, const char *text, size_t len,
    struct sql_file *out,
    int (*fn)(const struct sql_file *, const struct sql_stmt *, void *),
    void *arg, struct err *e)
{
	struct buf next = BUF_INIT, file = BUF_INIT, scratch = BUF_INIT;
	PgQuerySplitResult sr;
	struct sql_stmt st;
	struct cursor cur;
	const char *nul;
	char *owned = NULL;
	size_t i, prev_end = 0, first, end, tail, base = 0;
	int ret = -1, stop = 0;

	memset(out, 0, sizeof(*out));
	out->path = xstrdup(path);
	if (len >= SQL_FILE_MAX)
		return err_set(e, "'%s' is too large to parse (%zu bytes)", path,
		    len);
	/* the scanner needs a NUL-terminated string; a NUL byte ends the SQL */
	tail = len;
	if ((nul = memchr(text, '\0', len)) != NULL)
		tail = (size_t)(nul - text);
	owned = xstrndup(text, tail);
	out->ignore_file_line = ignore_file_scan(owned, tail, &file);
	if (file.len > 0)
		out->ignore_file = buf_detach(&file);
	cur.text = owned;
	cur.off = 0;
	cur.line = 1;
	cur.col = 1;

	/*
	 * The scanner's split stops at a statement whose parentheses do not balance
	 * (it will not end a statement inside them): such a statement is cut at its next
	 * semicolon by hand, reported as it parses, and splitting resumes after it.
	 */
	while (base < tail && !stop) {
		sr = pg_query_split_with_scanner(owned + base);
		if (sr.error != NULL) {
			err_set(e, "%s: cannot split: %s", path,
			    sr.error->message);
			pg_query_free_split_result(sr);
			goto out;
		}
		for (i = 0; i < (size_t)sr.n_stmts && !stop; i++) {
			size_t loc = base + (size_t)sr.stmts[i]->stmt_location;

			end = sr.stmts[i]->stmt_len == 0 ? tail :
			    loc + (size_t)sr.stmts[i]->stmt_len;
			if (end > tail)
				end = tail;
			stop = stmt_emit(out, owned, prev_end, end, &next, &cur,
			    fn, arg) < 0;
			prev_end = end;
		}
		pg_query_free_split_result(sr);
		first = skip_gap(owned, prev_end, tail, &scratch, NULL);
		buf_release(&scratch);
		if (first >= tail || stop)
			break;
		end = stmt_cut(owned, first, tail);
		stop = stmt_emit(out, owned, prev_end, end, &next, &cur, fn,
		    arg) < 0;
		prev_end = base = end;
	}
	if (nul != NULL && !stop) {
		memset(&st, 0, sizeof(st));
		cursor_advance(&cur, tail);
		st.offset = tail;
		st.line = st.error_line = cur.line;
		st.col = st.error_col = cur.col;
		st.text = "";
		st.error = "unexpected NUL byte: not a text file";
		out->n++;
		fn(out, &st, arg);
	}
	ret = 0;
out:
	buf_release(&next);
	buf_release(&file);
	free(owned);
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
	out->ignore_file_line = walk.ignore_file_line;
	return ret;
}

int
sql_file_load(const char *path, struct sql_file *out, struct err *e)
{
	struct buf b = BUF_INIT;
	int ret = -1;

	memset(out, 0, sizeof(*out));
	if (file_read(path, SQL_FILE_MAX, &b, e) < 0) {
		out->path = xstrdup(path);
		goto out;
	}
	ret = sql_file_parse(path, buf_str(&b), b.len, out, e);
out:
	buf_release(&b);
	return ret;
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
