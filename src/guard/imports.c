#include <dirent.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "guard/imports.h"

/* Source files larger than this are not scanned (generated bundles). */
#define SOURCE_MAX	((size_t)16 << 20)

enum lang { LANG_NONE, LANG_PY, LANG_JS, LANG_GO, LANG_C };

struct scan {
	const char	*file;
	char *const	*patterns;
	size_t		 npatterns;
	import_hit_fn	 fn;
	void		*arg;
	long		 hits;
	bool		 stop;
};

static enum lang
lang_of(const char *path)
{
	static const struct {
		const char	*ext;
		enum lang	 lang;
	} exts[] = {
		{ ".py", LANG_PY }, { ".js", LANG_JS }, { ".mjs", LANG_JS },
		{ ".cjs", LANG_JS }, { ".jsx", LANG_JS }, { ".ts", LANG_JS },
		{ ".tsx", LANG_JS }, { ".mts", LANG_JS }, { ".go", LANG_GO },
		{ ".c", LANG_C }, { ".h", LANG_C }, { ".cc", LANG_C },
		{ ".cpp", LANG_C }, { ".hpp", LANG_C },
	};
	const char *dot = strrchr(path, '.');
	size_t i;

	for (i = 0; dot != NULL && i < sizeof(exts) / sizeof(exts[0]); i++)
		if (strcmp(dot, exts[i].ext) == 0)
			return exts[i].lang;
	return LANG_NONE;
}

/* name (len bytes at col) against the patterns, whole and by first component. */
static void
consider(struct scan *sc, size_t line, const char *lstart, const char *name,
    size_t len, char sep)
{
	struct import_hit h;
	char first[256];
	size_t i, k;

	if (len == 0 || len >= sizeof(h.name) || sc->stop)
		return;
	memcpy(h.name, name, len);
	h.name[len] = '\0';
	k = strcspn(h.name + (h.name[0] == '@'), (char[]){ sep, '\0' }) +
	    (h.name[0] == '@');
	memcpy(first, h.name, k);
	first[k] = '\0';
	for (i = 0; i < sc->npatterns; i++)
		if (fnmatch(sc->patterns[i], h.name, 0) == 0 ||
		    fnmatch(sc->patterns[i], first, 0) == 0)
			break;
	if (i == sc->npatterns)
		return;
	h.file = sc->file;
	h.line = line;
	h.col = (size_t)(name - lstart) + 1;
	h.pattern = sc->patterns[i];
	sc->hits++;
	if (sc->fn(&h, sc->arg) < 0)
		sc->stop = true;
}

static const char *
skip_ws(const char *p)
{
	while (*p == ' ' || *p == '\t')
		p++;
	return p;
}

static bool
word(const char *p, const char *w)
{
	size_t n = strlen(w);

	return strncmp(p, w, n) == 0 && (p[n] == ' ' || p[n] == '\t' ||
	    p[n] == '(' || p[n] == '\'' || p[n] == '"' || p[n] == '\0');
}

/* A quoted string at p ('…' or "…" or `…`): its text and length, or NULL. */
static const char *
quoted(const char *p, size_t *len)
{
	char q = *p;
	const char *end;

	if (q != '\'' && q != '"' && q != '`')
		return NULL;
	if ((end = strchr(p + 1, q)) == NULL)
		return NULL;
	*len = (size_t)(end - p - 1);
	return p + 1;
}

static void
scan_py(struct scan *sc, size_t ln, const char *l)
{
	const char *p = skip_ws(l), *n;
	size_t len;

	if (word(p, "from")) {
		n = skip_ws(p + 4);
		len = strcspn(n, " \t");
		consider(sc, ln, l, n, len, '.');
	} else if (word(p, "import")) {
		/* import a.b as c, d */
		for (n = skip_ws(p + 6); *n != '\0' && *n != '#';) {
			len = strcspn(n, " \t,#");
			consider(sc, ln, l, n, len, '.');
			n += len;
			n += strcspn(n, ",#");
			if (*n != ',')
				break;
			n = skip_ws(n + 1);
		}
	}
}

static void
scan_js(struct scan *sc, size_t ln, const char *l)
{
	static const char *const calls[] = { "require(", "import(" };
	const char *p = skip_ws(l), *n, *at;
	size_t len, i;

	/* import 'x'; import a from 'x'; export * from 'x'; } from 'x' */
	if (word(p, "import") && (n = quoted(skip_ws(p + 6), &len)) != NULL)
		consider(sc, ln, l, n, len, '/');
	if (word(p, "import") || word(p, "export") || *p == '}')
		for (at = p; (at = strstr(at, "from")) != NULL; at += 4)
			if ((at == p || at[-1] == ' ' || at[-1] == '}') &&
			    (n = quoted(skip_ws(at + 4), &len)) != NULL)
				consider(sc, ln, l, n, len, '/');
	for (i = 0; i < sizeof(calls) / sizeof(calls[0]); i++)
		for (at = l; (at = strstr(at, calls[i])) != NULL; at++) {
			/* not a longer name ending so: myrequire( */
			if (at > l && (at[-1] == '_' || at[-1] == '.' ||
			    ((at[-1] | 0x20) >= 'a' && (at[-1] | 0x20) <= 'z')))
				continue;
			if ((n = quoted(skip_ws(at + strlen(calls[i])), &len)) != NULL)
				consider(sc, ln, l, n, len, '/');
		}
}

static void
scan_go(struct scan *sc, size_t ln, const char *l, bool *block)
{
	const char *p = skip_ws(l), *n;
	size_t len;

	if (*block) {
		if (*p == ')') {
			*block = false;
			return;
		}
	} else if (word(p, "import")) {
		p = skip_ws(p + 6);
		if (*p == '(') {
			*block = true;
			return;
		}
	} else
		return;
	/* [alias] "path" */
	if (*p != '"' && *p != '`')
		p = skip_ws(p + strcspn(p, " \t"));
	if ((n = quoted(p, &len)) != NULL)
		consider(sc, ln, l, n, len, '/');
}

static void
scan_c(struct scan *sc, size_t ln, const char *l)
{
	const char *p = skip_ws(l), *n, *end;

	if (*p != '#')
		return;
	p = skip_ws(p + 1);
	if (!word(p, "include"))
		return;
	p = skip_ws(p + 7);
	if (*p != '<' && *p != '"')
		return;
	n = p + 1;
	if ((end = strchr(n, *p == '<' ? '>' : '"')) != NULL)
		consider(sc, ln, l, n, (size_t)(end - n), '/');
}

/* text (NUL-terminated; its newlines are cut) as the source file path. */
static void
scan_text(struct scan *sc, const char *path, char *text)
{
	enum lang lang = lang_of(path);
	char *line, *next;
	bool block = false;
	size_t ln = 0;

	sc->file = path;
	for (line = lang != LANG_NONE ? text : NULL; line != NULL && !sc->stop;
	    line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		ln++;
		switch (lang) {
		case LANG_PY:
			scan_py(sc, ln, line);
			break;
		case LANG_JS:
			scan_js(sc, ln, line);
			break;
		case LANG_GO:
			scan_go(sc, ln, line, &block);
			break;
		case LANG_C:
			scan_c(sc, ln, line);
			break;
		case LANG_NONE:
			break;
		}
	}
}

static int
scan_file(struct scan *sc, const char *path, struct err *e)
{
	struct buf b = BUF_INIT;

	if (lang_of(path) == LANG_NONE)
		return 0;
	if (file_read(path, SOURCE_MAX, &b, e) < 0)
		return -1;
	scan_text(sc, path, b.data != NULL ? b.data : (char *)"");
	buf_release(&b);
	return 0;
}

long
guard_imports_text(const char *path, char *text, char *const *patterns,
    size_t n, import_hit_fn fn, void *arg)
{
	struct scan sc = { NULL, patterns, n, fn, arg, 0, false };

	scan_text(&sc, path, text);
	return sc.hits;
}

static int
by_name(const struct dirent **a, const struct dirent **b)
{
	return strcmp((*a)->d_name, (*b)->d_name);
}

static int
scan_path(struct scan *sc, const char *path, struct err *e)
{
	struct dirent **names;
	struct stat st;
	int n, i, ret = 0;

	if (stat(path, &st) < 0)
		return err_errno(e, "'%s'", path);
	if (!S_ISDIR(st.st_mode))
		return S_ISREG(st.st_mode) ? scan_file(sc, path, e) : 0;
	if ((n = scandir(path, &names, NULL, by_name)) < 0)
		return err_errno(e, "cannot list '%s'", path);
	for (i = 0; i < n; i++) {
		const char *d = names[i]->d_name;

		if (ret == 0 && !sc->stop && d[0] != '.' &&
		    strcmp(d, "node_modules") != 0) {
			char *sub = xasprintf("%s/%s", path, d);

			ret = scan_path(sc, sub, e);
			free(sub);
		}
		free(names[i]);
	}
	free(names);
	return ret;
}

long
guard_imports(const char *path, char *const *patterns, size_t n,
    import_hit_fn fn, void *arg, struct err *e)
{
	struct scan sc = { NULL, patterns, n, fn, arg, 0, false };

	if (scan_path(&sc, path, e) < 0)
		return -1;
	return sc.hits;
}
