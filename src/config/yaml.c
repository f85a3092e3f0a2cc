/*
 * libyaml events → a tree of nodes with positions. libyaml's marks are 0-based; ours
 * are 1-based like every editor. Syntax errors are rewritten into messages that say
 * what to do, pointing where the user has to look (the opening quote of an unclosed
 * string, not the end of the file).
 */
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "config/yaml.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"

struct ybuilder {
	struct ynode	*root;
	struct ynode	*stack[YTREE_MAX_DEPTH];
	size_t		 depth;
	/* The last event, when a quoted string running over several lines. */
	yaml_mark_t	 multiline_quote;
	yaml_mark_t	 multiline_end;
	bool		 after_multiline_quote;
};

/* How to explain one of libyaml's errors; the first matching row wins. */
static const struct {
	const char	*context;	/* NULL: any */
	const char	*problem;
	int		 at_context;	/* point at where the construct started */
	const char	*msg;
} syntax_msgs[] = {
	{ "while scanning a quoted scalar", "found unexpected end of stream", 1,
	    "unclosed quote: add the closing quote" },
	{ NULL, "found unknown escape character", 0,
	    "unknown escape in a double-quoted string: write '\\\\' for a "
	    "backslash or use single quotes" },
	{ NULL, "did not find expected ',' or ']'", 1,
	    "unclosed '[': add the closing ']' or a ',' between items" },
	{ NULL, "did not find expected ',' or '}'", 1,
	    "unclosed '{': add the closing '}' or a ',' between entries" },
	{ "while parsing a block mapping", "did not find expected key", 0,
	    "bad indentation: this line does not line up with the keys above "
	    "it, indent it with spaces like its siblings" },
	{ "while parsing a block collection", "did not find expected '-' "
	    "indicator", 0, "bad indentation: this line does not line up with "
	    "the list items above it" },
	{ "while scanning a simple key", "could not find expected ':'", 1,
	    "expected 'key: value': add the ':' after the key" },
	{ NULL, "mapping values are not allowed in this context", 0,
	    "unexpected ':': quote the value if it contains ': ', or start the "
	    "mapping on a new, indented line" },
	{ NULL, "block sequence entries are not allowed in this context", 0,
	    "unexpected '-': start the list on a new, indented line" },
	{ NULL, "did not find expected node content", 0,
	    "expected a value here: quote it if it starts with a special "
	    "character" },
	{ NULL, "found undefined tag handle", 0,
	    "unknown tag: remove the '!' prefix or quote the value" },
	{ NULL, "control characters are not allowed", 0,
	    "control character in the file: remove it" },
	{ NULL, "invalid leading UTF-8 octet", 0,
	    "invalid UTF-8: save the file as UTF-8" },
	{ NULL, "incomplete UTF-8 octet sequence", 0,
	    "invalid UTF-8: save the file as UTF-8" },
	{ NULL, "invalid trailing UTF-8 octet", 0,
	    "invalid UTF-8: save the file as UTF-8" },
};

static void
node_free_contents(struct ynode *n)
{
	size_t i;

	for (i = 0; i < n->nitems; i++)
		ynode_free(n->items[i]);
	for (i = 0; i < n->npairs; i++) {
		ynode_free(n->pairs[i].key);
		ynode_free(n->pairs[i].value);
	}
	free(n->items);
	free(n->pairs);
	free(n->str);
}

void
ynode_free(struct ynode *n)
{
	if (n == NULL)
		return;
	node_free_contents(n);
	free(n);
}

void
ytree_err_release(struct ytree_err *e)
{
	free(e->msg);
	e->msg = NULL;
}

bool
ynode_is_null(const struct ynode *n)
{
	if (n == NULL)
		return true;
	if (n->kind != YNODE_SCALAR || !n->plain)
		return false;
	return n->len == 0 || strcmp(n->str, "~") == 0 ||
	    strcmp(n->str, "null") == 0 || strcmp(n->str, "Null") == 0 ||
	    strcmp(n->str, "NULL") == 0;
}

static long
ymap_find(const struct ynode *map, const char *key)
{
	size_t i, len = strlen(key);

	if (map == NULL || map->kind != YNODE_MAP)
		return -1;
	for (i = 0; i < map->npairs; i++) {
		const struct ynode *k = map->pairs[i].key;

		if (k->kind == YNODE_SCALAR && k->len == len &&
		    memcmp(k->str, key, len) == 0)
			return (long)i;
	}
	return -1;
}

const struct ynode *
ymap_get(const struct ynode *map, const char *key)
{
	long i = ymap_find(map, key);

	return i < 0 ? NULL : map->pairs[i].value;
}

const struct ynode *
ymap_key(const struct ynode *map, const char *key)
{
	long i = ymap_find(map, key);

	return i < 0 ? NULL : map->pairs[i].key;
}

static struct ynode *
node_new(enum ynode_kind kind, const yaml_mark_t *m)
{
	struct ynode *n = xcalloc(1, sizeof(*n));

	n->kind = kind;
	n->line = (int)m->line + 1;
	n->col = (int)m->column + 1;
	return n;
}

/* Hangs n under the innermost open container (or makes it the root). */
static void
attach(struct ybuilder *b, struct ynode *n)
{
	struct ynode *parent;
	struct ynode_pair *last;

	if (b->depth == 0) {
		b->root = n;
		return;
	}
	parent = b->stack[b->depth - 1];
	if (parent->kind == YNODE_SEQ) {
		parent->items = xreallocarray(parent->items,
		    parent->nitems + 1, sizeof(*parent->items));
		parent->items[parent->nitems++] = n;
		return;
	}
	last = parent->npairs ? &parent->pairs[parent->npairs - 1] : NULL;
	if (last != NULL && last->value == NULL) {
		last->value = n;
		return;
	}
	parent->pairs = xreallocarray(parent->pairs, parent->npairs + 1,
	    sizeof(*parent->pairs));
	parent->pairs[parent->npairs].key = n;
	parent->pairs[parent->npairs].value = NULL;
	parent->pairs[parent->npairs].first = -1;
	parent->npairs++;
}

struct key_ord {
	const struct ynode	*key;
	size_t			 idx;
};

static int
key_cmp(const void *a, const void *b)
{
	const struct key_ord *x = a, *y = b;
	int c;

	if (x->key->len != y->key->len)
		return x->key->len < y->key->len ? -1 : 1;
	if ((c = memcmp(x->key->str, y->key->str, x->key->len)) != 0)
		return c;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

/* Marks each repeated scalar key with the index of its first occurrence. */
static void
mark_duplicates(struct ynode *map)
{
	struct key_ord *o;
	size_t n = 0, i, run;

	if (map->npairs < 2)
		return;
	o = xreallocarray(NULL, map->npairs, sizeof(*o));
	for (i = 0; i < map->npairs; i++) {
		if (map->pairs[i].key->kind != YNODE_SCALAR)
			continue;
		o[n].key = map->pairs[i].key;
		o[n++].idx = i;
	}
	qsort(o, n, sizeof(*o), key_cmp);
	for (run = 0, i = 1; i < n; i++) {
		if (o[i].key->len == o[run].key->len &&
		    memcmp(o[i].key->str, o[run].key->str, o[i].key->len) == 0)
			map->pairs[o[i].idx].first = (long)o[run].idx;
		else
			run = i;
	}
	free(o);
}

/* A byte offset as a 0-based line and column (columns count characters). */
static void
offset_mark(const char *text, size_t len, size_t off, yaml_mark_t *m)
{
	size_t i;

	m->line = m->column = 0;
	for (i = 0; i < off && i < len; i++) {
		if (text[i] == '\n' || (text[i] == '\r' &&
		    (i + 1 >= len || text[i + 1] != '\n'))) {
			m->line++;
			m->column = 0;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			m->column++;
		}
	}
}

/* The byte at a 0-based line and column (columns count characters). */
static int
char_at(const char *text, size_t len, size_t line, size_t col)
{
	size_t i = 0;

	while (line > 0 && i < len) {
		if (text[i] == '\n' || (text[i] == '\r' &&
		    (i + 1 >= len || text[i + 1] != '\n')))
			line--;
		i++;
	}
	while (col > 0 && i < len) {
		i++;
		while (i < len && ((unsigned char)text[i] & 0xc0) == 0x80)
			i++;
		col--;
	}
	return i < len ? (unsigned char)text[i] : -1;
}

/* The innermost open '[' or '{', for an error at the end of the input. */
static const struct ynode *
open_flow(const struct ybuilder *b)
{
	size_t i;

	for (i = b->depth; i > 0; i--)
		if (b->stack[i - 1]->flow)
			return b->stack[i - 1];
	return NULL;
}

static void
syntax_error(const yaml_parser_t *p, const char *text, size_t len,
    const struct ybuilder *b, struct ytree_err *err)
{
	const char *problem = p->problem ? p->problem : "unknown error";
	const char *context = p->context;
	const yaml_mark_t *at = &p->problem_mark;
	const struct ynode *flow;
	yaml_mark_t reader;
	size_t i;
	int c;

	if (p->error == YAML_MEMORY_ERROR)
		fatalx("out of memory parsing yaml");
	if (p->error == YAML_READER_ERROR) {
		offset_mark(text, len, p->problem_offset, &reader);
		at = &reader;
	}
	c = char_at(text, len, at->line, at->column);
	if (c == '\t') {
		err->msg = xstrdup("tab character: yaml is indented with "
		    "spaces, replace the tab");
		goto out;
	}
	/*
	 * A missing closing quote swallows the lines after it up to the next quote,
	 * and the error surfaces later: blame the string that ran on.
	 */
	if (b->after_multiline_quote) {
		err->line = (int)b->multiline_quote.line + 1;
		err->col = (int)b->multiline_quote.column + 1;
		err->msg = xasprintf("unclosed quote: this string runs on to "
		    "line %zu: add the closing quote",
		    (size_t)b->multiline_end.line + 1);
		return;
	}
	if (c < 0 && p->error == YAML_PARSER_ERROR &&
	    (flow = open_flow(b)) != NULL) {
		err->line = flow->line;
		err->col = flow->col;
		err->msg = xasprintf("unclosed '%c': add the closing '%c'",
		    flow->kind == YNODE_SEQ ? '[' : '{',
		    flow->kind == YNODE_SEQ ? ']' : '}');
		return;
	}
	for (i = 0; i < sizeof(syntax_msgs) / sizeof(syntax_msgs[0]); i++) {
		if (syntax_msgs[i].context != NULL && (context == NULL ||
		    strcmp(syntax_msgs[i].context, context) != 0))
			continue;
		if (strcmp(syntax_msgs[i].problem, problem) != 0)
			continue;
		if (syntax_msgs[i].at_context && context != NULL)
			at = &p->context_mark;
		err->msg = xstrdup(syntax_msgs[i].msg);
		goto out;
	}
	if (strcmp(problem, "found character that cannot start any token") ==
	    0 && c > ' ' && c < 0x7f)
		err->msg = xasprintf("unexpected character '%c': quote the "
		    "value", c);
	else if (c < 0)
		err->msg = xasprintf("unexpected end of file (%s): finish the "
		    "last value", problem);
	else if (context != NULL)
		err->msg = xasprintf("invalid yaml: %s %s at line %zu", problem,
		    context, (size_t)p->context_mark.line + 1);
	else
		err->msg = xasprintf("invalid yaml: %s", problem);
out:
	err->line = (int)at->line + 1;
	err->col = (int)at->column + 1;
}

static struct ynode *
scalar_node(const yaml_event_t *ev)
{
	struct ynode *n = node_new(YNODE_SCALAR, &ev->start_mark);
	size_t len = ev->data.scalar.length;

	n->str = xmalloc(len + 1);
	memcpy(n->str, ev->data.scalar.value, len);
	n->str[len] = '\0';
	n->len = len;
	n->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
	return n;
}

static struct ynode *
alias_node(const yaml_event_t *ev)
{
	struct ynode *n = node_new(YNODE_ALIAS, &ev->start_mark);

	n->str = xstrdup((const char *)ev->data.alias.anchor);
	n->len = strlen(n->str);
	return n;
}

int
ytree_parse(const char *text, size_t len, struct ynode **root,
    struct ytree_err *err)
{
	struct ybuilder b;
	yaml_parser_t parser;
	yaml_event_t ev;
	struct ynode *n;
	int docs = 0, done = 0, ret = -1;

	memset(&b, 0, sizeof(b));
	memset(err, 0, sizeof(*err));
	*root = NULL;
	if (!yaml_parser_initialize(&parser))
		fatalx("out of memory creating a yaml parser");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	while (!done) {
		if (!yaml_parser_parse(&parser, &ev)) {
			syntax_error(&parser, text, len, &b, err);
			goto out;
		}
		b.after_multiline_quote = ev.type == YAML_SCALAR_EVENT &&
		    (ev.data.scalar.style == YAML_SINGLE_QUOTED_SCALAR_STYLE ||
		    ev.data.scalar.style == YAML_DOUBLE_QUOTED_SCALAR_STYLE) &&
		    ev.end_mark.line > ev.start_mark.line;
		b.multiline_quote = ev.start_mark;
		b.multiline_end = ev.end_mark;
		switch (ev.type) {
		case YAML_STREAM_END_EVENT:
			done = 1;
			break;
		case YAML_DOCUMENT_START_EVENT:
			if (docs++ == 0)
				break;
			err->line = (int)ev.start_mark.line + 1;
			err->col = (int)ev.start_mark.column + 1;
			err->msg = xstrdup("a second yaml document: the config "
			    "is one document, remove this '---' and what "
			    "follows");
			yaml_event_delete(&ev);
			goto out;
		case YAML_SCALAR_EVENT:
			attach(&b, scalar_node(&ev));
			break;
		case YAML_ALIAS_EVENT:
			attach(&b, alias_node(&ev));
			break;
		case YAML_SEQUENCE_START_EVENT:
		case YAML_MAPPING_START_EVENT:
			if (b.depth == YTREE_MAX_DEPTH) {
				err->line = (int)ev.start_mark.line + 1;
				err->col = (int)ev.start_mark.column + 1;
				err->msg = xasprintf("nested deeper than %d "
				    "levels: flatten it", YTREE_MAX_DEPTH);
				yaml_event_delete(&ev);
				goto out;
			}
			n = node_new(ev.type == YAML_MAPPING_START_EVENT ?
			    YNODE_MAP : YNODE_SEQ, &ev.start_mark);
			n->flow = ev.type == YAML_MAPPING_START_EVENT ?
			    ev.data.mapping_start.style ==
			    YAML_FLOW_MAPPING_STYLE :
			    ev.data.sequence_start.style ==
			    YAML_FLOW_SEQUENCE_STYLE;
			attach(&b, n);
			b.stack[b.depth++] = n;
			break;
		case YAML_SEQUENCE_END_EVENT:
		case YAML_MAPPING_END_EVENT:
			n = b.stack[--b.depth];
			if (n->kind == YNODE_MAP)
				mark_duplicates(n);
			break;
		default:
			break;
		}
		yaml_event_delete(&ev);
	}
	*root = b.root;
	b.root = NULL;
	ret = 0;
out:
	ynode_free(b.root);
	yaml_parser_delete(&parser);
	return ret;
}
