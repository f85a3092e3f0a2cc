/* The Evidence section of a pull-request body (see prbody.h). */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/util.h"
#include "core/xmalloc.h"
#include "guard/prbody.h"

#define TIME_HINT	"2026-12-07T09:00:00Z or 2026-12-07"
#define BLANKS		" \t"

static void
problem(struct prbody *b, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void
problem(struct prbody *b, size_t line, size_t col, const char *fmt, ...)
{
	struct prbody_problem *p;
	va_list ap;

	b->problems = xreallocarray(b->problems, b->nproblems + 1,
	    sizeof(*b->problems));
	p = &b->problems[b->nproblems++];
	p->line = line;
	p->col = col;
	va_start(ap, fmt);
	vsnprintf(p->msg, sizeof(p->msg), fmt, ap);
	va_end(ap);
}

/* The level of a heading line (its text into *text), or 0 for another line. */
static size_t
heading_level(const char *s, const char **text)
{
	size_t i = strspn(s, " "), n = 0;

	if (i > 3)
		return 0;
	while (s[i + n] == '#')
		n++;
	if (n == 0 || n > 6 || (s[i + n] != '\0' && strchr(BLANKS, s[i + n]) ==
	    NULL))
		return 0;
	*text = s + i + n;
	return n;
}

/* Whether a heading's text is "Evidence" (closing #s and blanks aside). */
static bool
is_evidence(const char *text)
{
	size_t n;

	text += strspn(text, BLANKS);
	n = strlen(text);
	while (n > 0 && strchr(" \t#", text[n - 1]) != NULL)
		n--;
	return n == 8 && strncasecmp(text, "evidence", 8) == 0;
}

/*
 * A fence line as CommonMark reads one: up to 3 spaces, then 3 or more of ` or ~
 * (a ` fence's info string holds no `); its character and length into *c and *n,
 * and whether only blanks follow (*bare: it may close a fence). 0 for other lines.
 */
static int
fence_of(const char *s, char *c, size_t *n, bool *bare)
{
	size_t i = strspn(s, " "), k = 0;

	if (i > 3 || (s[i] != '`' && s[i] != '~'))
		return 0;
	while (s[i + k] == s[i])
		k++;
	if (k < 3 || (s[i] == '`' && strchr(s + i + k, '`') != NULL))
		return 0;
	*c = s[i];
	*n = k;
	*bare = s[i + k + strspn(s + i + k, BLANKS)] == '\0';
	return 1;
}

/* The text of a list item (after "- ", "* ", "+ " or "1. "), or NULL. */
static const char *
list_item(const char *s)
{
	const char *p = s + strspn(s, BLANKS);

	if (*p != '\0' && strchr("-*+", *p) != NULL)
		p++;
	else if (*p >= '0' && *p <= '9') {
		p += strspn(p, "0123456789");
		if (*p != '.' && *p != ')')
			return NULL;
		p++;
	} else
		return NULL;
	if (*p != '\0' && strchr(BLANKS, *p) == NULL)
		return NULL;
	p += strspn(p, BLANKS);
	/* A task list's box: "- [x] PATH". */
	if ((strncmp(p, "[ ]", 3) == 0 || strncasecmp(p, "[x]", 3) == 0) &&
	    (p[3] == ' ' || p[3] == '\t'))
		p += 3 + strspn(p + 3, BLANKS);
	/* "- - -" and "* * *" are rules, not items. */
	if (strspn(p, "-*_ \t") == strlen(p))
		return NULL;
	return p;
}

/* After "KEY:" at s (case aside, blanks before it), the value; else NULL. */
static const char *
key_value(const char *s, const char *key)
{
	size_t n = strlen(key);

	s += strspn(s, BLANKS);
	if (strncasecmp(s, key, n) != 0 || s[n] != ':')
		return NULL;
	return s + n + 1 + strspn(s + n + 1, BLANKS);
}

/* Trailing blanks off a NUL-terminated string in place. */
static void
rtrim(char *s)
{
	size_t n = strlen(s);

	while (n > 0 && strchr(BLANKS, s[n - 1]) != NULL)
		s[--n] = '\0';
}

static void
read_actor(struct prbody *b, char *line, char *v, size_t lno)
{
	size_t col = (size_t)(v - line) + 1, n;

	if (b->actor != NULL) {
		problem(b, lno, col, "a second Actor line (the first is on line "
		    "%zu): keep one", b->actor_line);
		return;
	}
	rtrim(v);
	n = strlen(v);
	if (n >= 2 && v[0] == '`' && v[n - 1] == '`') {
		v[n - 1] = '\0';
		v++;
		col++;
	}
	if (*v == '\0') {
		problem(b, lno, col, "the Actor line names no actor: write "
		    "'Actor: NAME', the actor whose work the evidence shows");
		return;
	}
	if (v[strcspn(v, BLANKS)] != '\0') {
		problem(b, lno, col, "Actor '%s': an actor's name is one word, as "
		    "`opsdeck evidence` shows it", v);
		return;
	}
	b->actor = xstrdup(v);
	b->actor_line = lno;
}

/* One end of the window at s (cut at its end): 0, or -1 after a problem. */
static int
window_end(struct prbody *b, const char *what, char *s, size_t lno, size_t col,
    int64_t *ms)
{
	int64_t d;

	if (*s == '\0') {
		problem(b, lno, col, "the window has no %s: write 'Window: START "
		    ".. END', each " TIME_HINT, what);
		return -1;
	}
	if (duration_parse(s, &d) == 0) {
		problem(b, lno, col, "window %s '%s' is a span, and the body must "
		    "say when: give a time, " TIME_HINT, what, s);
		return -1;
	}
	if (time_parse(s, 0, ms) < 0) {
		problem(b, lno, col, "window %s '%s' is not a time: give "
		    TIME_HINT " (UTC)", what, s);
		return -1;
	}
	/* no evidence is older than 1970; and a negative time means "none" below */
	if (*ms < 0) {
		problem(b, lno, col, "window %s '%s' is before 1970: give a time "
		    "the evidence can have", what, s);
		return -1;
	}
	return 0;
}

static void
read_window(struct prbody *b, char *line, char *v, size_t lno)
{
	char *dots = strstr(v, ".."), *end;
	size_t col = (size_t)(v - line) + 1;
	int64_t since, until;

	if (b->have_window || b->window_line != 0) {
		problem(b, lno, col, "a second Window line (the first is on line "
		    "%zu): keep one", b->window_line);
		return;
	}
	b->window_line = lno;
	rtrim(v);
	if (dots == NULL) {
		problem(b, lno, col, "Window '%s': write 'Window: START .. END', "
		    "e.g. 2026-12-07T09:00:00Z .. 2026-12-07T17:00:00Z", v);
		return;
	}
	*dots = '\0';
	rtrim(v);
	end = dots + 2 + strspn(dots + 2, BLANKS);
	if (window_end(b, "start", v, lno, col, &since) < 0 ||
	    window_end(b, "end", end, lno, (size_t)(end - line) + 1, &until) < 0)
		return;
	if (until < since) {
		problem(b, lno, col, "the window ends before it starts: give "
		    "START .. END, the earlier time first");
		return;
	}
	b->have_window = true;
	b->since_ms = since;
	b->until_ms = until;
}

static void
read_file_item(struct prbody *b, char *line, char *v, size_t lno)
{
	size_t col = (size_t)(v - line) + 1;
	char *close;

	if (*v == '`') {
		if ((close = strchr(v + 1, '`')) == NULL) {
			problem(b, lno, col, "the backtick before the path is "
			    "not closed: write '- `PATH`'");
			return;
		}
		v++;
		col++;
		*close = '\0';
	} else if (*v == '[') {
		/* [text](PATH): the target is the file. */
		if ((close = strstr(v, "](")) == NULL ||
		    strchr(close + 2, ')') == NULL) {
			problem(b, lno, col, "a link that is not [text](PATH): "
			    "write '- PATH' or '- [text](PATH)'");
			return;
		}
		v = close + 2;
		col = (size_t)(v - line) + 1;
		*strchr(v, ')') = '\0';
	} else
		v[strcspn(v, BLANKS)] = '\0';
	if (*v == '\0') {
		problem(b, lno, col, "the list item names no file: write '- PATH' "
		    "(relative to the body file's folder)");
		return;
	}
	b->files = xreallocarray(b->files, b->nfiles + 1, sizeof(*b->files));
	b->files[b->nfiles].path = xstrdup(v);
	b->files[b->nfiles].line = lno;
	b->files[b->nfiles].col = col;
	b->nfiles++;
}

void
prbody_parse(struct prbody *b, const char *text, size_t len)
{
	const char *p = text, *end = text + len, *nl, *htext;
	size_t lno = 0, level = 0, hl, fence_n = 0, fn, hidden_at = 0;
	bool in = false, comment = false, bare;
	char fence = 0, f, *line, *v;

	memset(b, 0, sizeof(*b));
	while (p < end) {
		/* a line ends at LF, CR LF or a lone CR, as CommonMark reads it */
		for (nl = p; nl < end && *nl != '\n' && *nl != '\r'; nl++)
			;
		/* A NUL ends the line's text: what follows is not markdown. */
		line = xstrndup(p, (size_t)(nl - p));
		p = nl < end && *nl == '\r' && nl + 1 < end && nl[1] == '\n' ? nl + 2 :
		    nl < end ? nl + 1 : end;
		lno++;
		if (comment) {
			comment = strstr(line, "-->") == NULL;
			goto next;
		}
		if (fence_of(line, &f, &fn, &bare)) {
			if (fence == 0) {
				fence = f;
				fence_n = fn;
				hidden_at = in ? lno : 0;
				goto next;
			}
			if (f == fence && fn >= fence_n && bare) {
				fence = 0;
				goto next;
			}
		}
		if (fence != 0)
			goto next;
		v = line + strspn(line, BLANKS);
		if (strncmp(v, "<!--", 4) == 0) {
			/* "<!-->" and "<!--->" are whole comments */
			comment = strstr(v + 2, "-->") == NULL;
			if (comment)
				hidden_at = in ? lno : 0;
			goto next;
		}
		if ((hl = heading_level(line, &htext)) > 0) {
			if (in && hl <= level)
				in = false;
			if (is_evidence(htext)) {
				if (b->section_line != 0)
					problem(b, lno, 1, "a second Evidence "
					    "section (the first is on line %zu): "
					    "merge them into one",
					    b->section_line);
				else {
					b->section_line = lno;
					level = hl;
					in = true;
				}
			}
			goto next;
		}
		if (!in)
			goto next;
		if (*v == '>') {
			problem(b, lno, (size_t)(v - line) + 1, "a quoted line in the "
			    "Evidence section is not read: write the list without "
			    "'>'");
			goto next;
		}
		if ((v = (char *)list_item(line)) == NULL)
			v = line;
		if ((htext = key_value(v, "actor")) != NULL)
			read_actor(b, line, (char *)htext, lno);
		else if ((htext = key_value(v, "window")) != NULL)
			read_window(b, line, (char *)htext, lno);
		else if (v != line)
			read_file_item(b, line, v, lno);
next:
		free(line);
	}
	/* what an open fence or comment hid, a reader of the page may still see */
	if ((fence != 0 || comment) && hidden_at != 0)
		problem(b, hidden_at, 1, "the Evidence section ends inside the %s "
		    "opened here: close it (%s), or files in it go unchecked",
		    fence != 0 ? "code fence" : "HTML comment", fence != 0 ?
		    "a line of the same fence" : "-->");
}

void
prbody_release(struct prbody *b)
{
	size_t i;

	for (i = 0; i < b->nfiles; i++)
		free(b->files[i].path);
	free(b->files);
	free(b->problems);
	free(b->actor);
	memset(b, 0, sizeof(*b));
}
