/*
 * The lint driver: walks the statements of a file in order, keeps what later
 * statements depend on (tables created in this file, the open transaction, the
 * timeouts set so far) and runs every rule of the catalogue whose kind matches.
 * Checks see the state before their statement; the state is updated after.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "migrate/lint.h"

struct lint_ctx {
	const struct lint_options	*opts;
	const struct sql_file		*file;
	const struct sql_stmt		*stmt;
	struct lint_report		*rep;
	size_t				 cur;		/* index in rep->stmts */
	json_t				*new_rels;	/* set: names created here */
	json_t				*memo;		/* set: rules raised once, notes */
	bool				 in_tx;
	int				 tx_line, tx_col;
	bool				 lock_timeout, lock_timeout_local;
	bool				 stmt_timeout, stmt_timeout_local;
};

static const char *const severities[] = {
	[LINT_INFO] = "info",
	[LINT_WARNING] = "warning",
	[LINT_ERROR] = "error",
};

const char *
lint_severity_str(enum lint_severity s)
{
	return (size_t)s < sizeof(severities) / sizeof(severities[0]) ?
	    severities[s] : "unknown";
}

int
lint_severity_parse(const char *s, enum lint_severity *out)
{
	int i = str_index(s, severities, sizeof(severities) /
	    sizeof(severities[0]));

	if (i < 0)
		return -1;
	*out = (enum lint_severity)i;
	return 0;
}

static const char *const policies[] = {
	[LINT_POLICY_NONE] = "none",
	[LINT_POLICY_ADDITIVE_ONLY] = "additive-only",
};

int
lint_policy_parse(const char *s, enum lint_policy *out)
{
	int i = str_index(s, policies, sizeof(policies) / sizeof(policies[0]));

	if (i < 0)
		return -1;
	*out = (enum lint_policy)i;
	return 0;
}

int
lint_rules_check(const char *list, const char *option, struct err *e)
{
	char *copy = xstrdup(list), *p = copy, *tok;
	struct buf bad = BUF_INIT;
	size_t n = 0;
	int ret = 0;

	while ((tok = strsep(&p, ",")) != NULL) {
		while (*tok == ' ')
			tok++;
		if (*tok != '\0' && lint_rule_find(tok) == NULL)
			buf_printf(&bad, "%s'%s'", n++ > 0 ? ", " : "", tok);
	}
	if (n > 0)
		ret = err_setk(e, ERR_INVALID, "unknown rule%s %s in %s; "
		    "`opsdeck migrate rules` lists them", n > 1 ? "s" : "",
		    buf_str(&bad), option);
	buf_release(&bad);
	free(copy);
	return ret;
}

int
lint_include_check(const char *list, const char *option, struct err *e)
{
	char *copy, *p, *tok;
	const struct lint_rule *r;
	int ret = 0;

	if (lint_rules_check(list, option, e) < 0)
		return -1;
	p = copy = xstrdup(list);
	while (ret == 0 && (tok = strsep(&p, ",")) != NULL) {
		tok += strspn(tok, " ");
		if ((r = lint_rule_find(tok)) != NULL && !r->opt_in)
			ret = err_setk(e, ERR_INVALID, "'%s' runs by default: %s "
			    "names opt-in rules only (`opsdeck migrate rules` "
			    "marks them)", r->id, option);
	}
	free(copy);
	return ret;
}

/* The rule whose id is nearest name, for "did you mean", or NULL. */
static const char *
rule_near(const char *name)
{
	const char *best = NULL;
	size_t i, d, bestd = 4;

	for (i = 0; i < lint_rules_count; i++)
		if ((d = str_distance(name, lint_rules[i].id)) < bestd) {
			best = lint_rules[i].id;
			bestd = d;
		}
	return best;
}

/* One diagnostic per unknown name of list, at its position in at. */
static int
config_rules_check(const char *file, const char *list,
    const struct cfg_pos *at, const char *keypath, bool opt_in_only,
    struct cfg_diags *d)
{
	const struct lint_rule *r;
	char *copy, *p, *tok, *end;
	const char *near;
	struct buf name = BUF_INIT;
	struct cfg_pos pos = { 0, 0 };
	size_t i;
	int bad = 0;

	if (list == NULL)
		return 0;
	p = copy = xstrdup(list);
	for (i = 0; (tok = strsep(&p, ",")) != NULL; i++) {
		while (*tok == ' ')
			tok++;
		for (end = tok + strlen(tok); end > tok && end[-1] == ' '; end--)
			;
		*end = '\0';
		if (*tok == '\0')
			continue;
		if (at != NULL)
			pos = at[i];
		if ((r = lint_rule_find(tok)) != NULL) {
			if (opt_in_only && !r->opt_in) {
				cfg_diags_add(d, file, pos, keypath, "'%s' runs "
				    "by default: include names opt-in rules only",
				    r->id);
				bad++;
			}
			continue;
		}
		buf_reset(&name);
		sql_excerpt(&name, tok, strlen(tok), 60);
		near = rule_near(tok);
		if (near != NULL)
			cfg_diags_add(d, file, pos, keypath, "unknown rule '%s' "
			    "(did you mean '%s'?): `opsdeck migrate rules` lists "
			    "them", buf_str(&name), near);
		else
			cfg_diags_add(d, file, pos, keypath, "unknown rule '%s': "
			    "`opsdeck migrate rules` lists them", buf_str(&name));
		bad++;
	}
	buf_release(&name);
	free(copy);
	return bad;
}

int
lint_config_check(const struct config *cfg, struct cfg_diags *d)
{
	const struct cfg_migrate *m = &cfg->migrate;
	int bad;

	bad = config_rules_check(cfg->path, m->exclude, m->exclude_at,
	    "migrate.exclude", false, d);
	bad += config_rules_check(cfg->path, m->include, m->include_at,
	    "migrate.include", true, d);
	return bad > 0 ? -1 : 0;
}

void
lint_options_from_config(const struct cfg_migrate *m, struct lint_options *o,
    enum lint_severity *fail_on)
{
	o->exclude = m->exclude;
	o->include = m->include;
	o->pg_version = m->pg_version;
	o->assume_in_transaction = m->assume_in_transaction;
	/* the config loader has checked both values */
	if (m->policy != NULL)
		lint_policy_parse(m->policy, &o->policy);
	if (m->fail_on != NULL)
		lint_severity_parse(m->fail_on, fail_on);
}

/* True when the comma-separated list names id (or "all"). */
static bool
list_has(const char *list, const char *id)
{
	size_t n = strlen(id);
	const char *p = list, *end;

	while (p != NULL && *p != '\0') {
		while (*p == ',' || *p == ' ')
			p++;
		end = p + strcspn(p, ", ");
		if (((size_t)(end - p) == n && memcmp(p, id, n) == 0) ||
		    ((size_t)(end - p) == 3 && memcmp(p, "all", 3) == 0))
			return true;
		p = end;
	}
	return false;
}

static bool
suppressed(const struct lint_ctx *c, const struct lint_rule *r)
{
	const char *rule = r->id;

	return (r->opt_in && !list_has(c->opts->include, rule)) ||
	    list_has(c->opts->exclude, rule) ||
	    list_has(c->file->ignore_file, rule) ||
	    (c->stmt != NULL && list_has(c->stmt->ignore, rule));
}

/*
 * A message goes to terminals and into JSON: one line of UTF-8 whatever the file
 * held (identifiers may hold control characters, directives any bytes).
 */
static char *
printable(char *msg)
{
	const unsigned char *p;
	struct buf b = BUF_INIT;

	for (p = (const unsigned char *)msg; *p != '\0'; p++)
		if (*p < 0x20 || *p >= 0x7f)
			break;
	if (*p == '\0')
		return msg;
	sql_excerpt(&b, msg, strlen(msg), SIZE_MAX);
	free(msg);
	return buf_detach(&b);
}

/* Adds a finding (taking msg); NULL when the rule is suppressed here. */
static struct lint_finding *
emit_at(struct lint_ctx *c, const char *rule_id, int line, int col, char *msg)
{
	const struct lint_rule *rule = lint_rule_find(rule_id);
	struct lint_report *r = c->rep;
	struct lint_finding *f;

	if (rule == NULL)
		BUG("lint rule '%s' is not in the catalogue", rule_id);
	if (suppressed(c, rule)) {
		free(msg);
		return NULL;
	}
	if (r->nfindings == r->findings_cap) {
		r->findings_cap = r->findings_cap == 0 ? 8 : r->findings_cap * 2;
		r->findings = xreallocarray(r->findings, r->findings_cap,
		    sizeof(*r->findings));
	}
	f = &r->findings[r->nfindings++];
	f->rule = rule;
	f->severity = rule->severity;
	f->line = line;
	f->col = col;
	f->message = printable(msg);
	f->fix = rule->fix;
	return f;
}

void
lint_emit(struct lint_ctx *c, const char *rule, const char *fmt, ...)
{
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	emit_at(c, rule, c->stmt->line, c->stmt->col, buf_detach(&b));
}

void
lint_emit_fix(struct lint_ctx *c, const char *rule, const char *fix,
    const char *fmt, ...)
{
	struct lint_finding *f;
	struct buf b = BUF_INIT;
	va_list ap;

	va_start(ap, fmt);
	buf_vprintf(&b, fmt, ap);
	va_end(ap);
	f = emit_at(c, rule, c->stmt->line, c->stmt->col, buf_detach(&b));
	if (f != NULL && fix != NULL)
		f->fix = fix;
}

const struct lint_options *
lint_opts(const struct lint_ctx *c)
{
	return c->opts;
}

bool
lint_is_new_name(const struct lint_ctx *c, const char *name)
{
	const char *dot;

	if (name == NULL)
		return false;
	if (json_object_get(c->new_rels, name) != NULL)
		return true;
	/* "public.t" created as "t", or the other way round */
	if ((dot = strrchr(name, '.')) != NULL)
		return json_object_get(c->new_rels, dot + 1) != NULL;
	return false;
}

bool
lint_is_new_rangevar(const struct lint_ctx *c, const json_t *rv)
{
	char *name = lock_rangevar_name(rv);
	bool ret = lint_is_new_name(c, name);

	free(name);
	return ret;
}

bool
lint_in_transaction(const struct lint_ctx *c)
{
	return c->in_tx || c->opts->assume_in_transaction;
}

bool
lint_in_begin(const struct lint_ctx *c)
{
	return c->in_tx;
}

const char *
lint_stmt_kind(const struct lint_ctx *c)
{
	return c->rep->stmts[c->cur].kind;
}

const char *
lint_stmt_text(const struct lint_ctx *c)
{
	return c->stmt->text;
}

const struct lock_list *
lint_locks(const struct lint_ctx *c)
{
	return &c->rep->stmts[c->cur].locks;
}

bool
lint_has_lock_timeout(const struct lint_ctx *c)
{
	return c->lock_timeout;
}

bool
lint_has_statement_timeout(const struct lint_ctx *c)
{
	return c->stmt_timeout;
}

bool
lint_first(struct lint_ctx *c, const char *rule)
{
	if (lint_noted(c, rule))
		return false;
	lint_note(c, rule);
	return true;
}

const char *
lint_stmt_words(const struct lint_ctx *c)
{
	return c->rep->stmts[c->cur].words;
}

/* Notes share the set of lint_first; rule ids have no ':', notes start "rule:". */
void
lint_note(struct lint_ctx *c, const char *key)
{
	json_object_set_new(c->memo, key, json_true());
}

bool
lint_noted(const struct lint_ctx *c, const char *key)
{
	return json_object_get(c->memo, key) != NULL;
}

static void
new_rel_add(struct lint_ctx *c, char *name)
{
	const char *dot;

	if (name == NULL)
		return;
	json_object_set_new(c->new_rels, name, json_true());
	if ((dot = strrchr(name, '.')) != NULL)
		json_object_set_new(c->new_rels, dot + 1, json_true());
	free(name);
}

/* A timeout setting is on unless it is 0, '0' or reset. */
static bool
setting_on(const json_t *n)
{
	const char *kind = json_string_value(json_object_get(n, "kind"));
	const json_t *a = json_object_get(json_array_get(json_object_get(n,
	    "args"), 0), "A_Const");
	const char *s;

	if (kind == NULL || strcmp(kind, "VAR_SET_VALUE") != 0 || a == NULL)
		return false;
	if (json_object_get(a, "ival") != NULL)
		return json_integer_value(json_object_get(
		    json_object_get(a, "ival"), "ival")) != 0;
	s = json_string_value(json_object_get(json_object_get(a, "sval"),
	    "sval"));
	return s != NULL && strcmp(s, "0") != 0 && strcmp(s, "0s") != 0 &&
	    strcmp(s, "0ms") != 0;
}

static void
state_set(struct lint_ctx *c, const json_t *n)
{
	const char *name = json_string_value(json_object_get(n, "name"));
	bool local = json_is_true(json_object_get(n, "is_local"));

	if (name == NULL)
		return;
	if (strcmp(name, "lock_timeout") == 0) {
		c->lock_timeout = setting_on(n);
		c->lock_timeout_local = local;
	} else if (strcmp(name, "statement_timeout") == 0) {
		c->stmt_timeout = setting_on(n);
		c->stmt_timeout_local = local;
	}
}

/* SELECT set_config('lock_timeout', '2s', …) */
static void
state_select(struct lint_ctx *c, const json_t *n)
{
	const json_t *t, *fc, *args;
	const char *fn, *name;
	size_t i;

	json_array_foreach(json_object_get(n, "targetList"), i, t) {
		fc = json_object_get(json_object_get(json_object_get(t,
		    "ResTarget"), "val"), "FuncCall");
		args = json_object_get(fc, "args");
		fn = json_string_value(json_object_get(json_object_get(
		    json_array_get(json_object_get(fc, "funcname"), 0),
		    "String"), "sval"));
		if (fn == NULL || strcmp(fn, "set_config") != 0)
			continue;
		name = json_string_value(json_object_get(json_object_get(
		    json_object_get(json_array_get(args, 0), "A_Const"),
		    "sval"), "sval"));
		if (name != NULL && strcmp(name, "lock_timeout") == 0)
			c->lock_timeout = true;
		else if (name != NULL && strcmp(name, "statement_timeout") == 0)
			c->stmt_timeout = true;
	}
}

static void
state_transaction(struct lint_ctx *c, const json_t *n)
{
	const char *kind = json_string_value(json_object_get(n, "kind"));

	if (kind == NULL)
		return;
	if (strcmp(kind, "TRANS_STMT_BEGIN") == 0 ||
	    strcmp(kind, "TRANS_STMT_START") == 0) {
		if (!c->in_tx) {
			c->tx_line = c->stmt->line;
			c->tx_col = c->stmt->col;
		}
		c->in_tx = true;
	} else if (strcmp(kind, "TRANS_STMT_COMMIT") == 0 ||
	    strcmp(kind, "TRANS_STMT_ROLLBACK") == 0 ||
	    strcmp(kind, "TRANS_STMT_COMMIT_PREPARED") == 0 ||
	    strcmp(kind, "TRANS_STMT_PREPARE") == 0) {
		c->in_tx = false;
		if (c->lock_timeout_local)
			c->lock_timeout = c->lock_timeout_local = false;
		if (c->stmt_timeout_local)
			c->stmt_timeout = c->stmt_timeout_local = false;
	}
}

static void
state_update(struct lint_ctx *c, const char *kind, const json_t *n)
{
	if (strcmp(kind, "CreateStmt") == 0)
		new_rel_add(c, lock_rangevar_name(json_object_get(n, "relation")));
	else if (strcmp(kind, "CreateTableAsStmt") == 0)
		new_rel_add(c, lock_rangevar_name(json_object_get(
		    json_object_get(json_object_get(n, "into"), "IntoClause"),
		    "rel")));
	else if (strcmp(kind, "IndexStmt") == 0 &&
	    json_string_value(json_object_get(n, "idxname")) != NULL)
		new_rel_add(c, xstrdup(json_string_value(json_object_get(n,
		    "idxname"))));
	else if (strcmp(kind, "VariableSetStmt") == 0)
		state_set(c, n);
	else if (strcmp(kind, "SelectStmt") == 0)
		state_select(c, n);
	else if (strcmp(kind, "TransactionStmt") == 0)
		state_transaction(c, n);
}

/* A statement that does not parse; newer PostgreSQL syntax is told apart. */
static void
parse_error(struct lint_ctx *c, const struct sql_stmt *st)
{
	struct lint_finding *f;

	if (st->error_newer == NULL) {
		f = emit_at(c, "parse-error", st->error_line, st->error_col,
		    xstrdup(st->error));
		if (f != NULL && st->error_rest)
			f->fix = "close it: until it is closed, the rest of the file "
			    "reads as part of it, so nothing after it was checked";
		return;
	}
	f = emit_at(c, "parse-error", st->error_line, st->error_col,
	    xasprintf("%s: %s, which opsdeck's PostgreSQL 15 grammar cannot "
	    "read yet", st->error, st->error_newer));
	if (f != NULL)
		f->fix = "nothing in the statement was checked: review it by "
		    "hand, then put -- opsdeck-ignore parse-error before it";
}

/* A name in an ignore list that is no rule: a typo that would ignore nothing. */
static void
unknown_ignores(struct lint_ctx *c, const char *list, const int *lines,
    int line, int col, const char *directive)
{
	char *copy, *p, *tok;
	const char *best;
	size_t i;

	if (list == NULL)
		return;
	p = copy = xstrdup(list);
	for (i = 0; (tok = strsep(&p, ",")) != NULL; i++) {
		if (*tok == '\0' || strcmp(tok, "all") == 0 ||
		    lint_rule_find(tok) != NULL)
			continue;
		best = rule_near(tok);
		emit_at(c, "ignore-unknown-rule", lines != NULL ? lines[i] : line,
		    col, best != NULL ?
		    xasprintf("%s names '%s', which is not a rule (did you mean "
		    "'%s'?)", directive, tok, best) : xasprintf("%s names '%s', "
		    "which is not a rule", directive, tok));
	}
	free(copy);
}

size_t
lint_stmt_count(const struct lint_ctx *c)
{
	return c->rep->nstmts;
}

void
lint_drop(struct lint_ctx *c, const char *rule)
{
	struct lint_report *r = c->rep;
	size_t i, n = 0;

	for (i = 0; i < r->nfindings; i++) {
		if (strcmp(r->findings[i].rule->id, rule) == 0) {
			free(r->findings[i].message);
			continue;
		}
		r->findings[n++] = r->findings[i];
	}
	r->nfindings = n;
}

static struct lint_stmt *
report_stmt_add(struct lint_report *r)
{
	struct lint_stmt *s;

	if (r->nstmts == r->stmts_cap) {
		r->stmts_cap = r->stmts_cap == 0 ? 16 : r->stmts_cap * 2;
		r->stmts = xreallocarray(r->stmts, r->stmts_cap,
		    sizeof(*r->stmts));
	}
	s = &r->stmts[r->nstmts++];
	memset(s, 0, sizeof(*s));
	return s;
}

static void
lint_stmt(struct lint_ctx *c, const struct sql_stmt *st)
{
	struct lint_stmt *ls;
	const char *kind;
	const json_t *node;
	size_t i;

	c->stmt = st;
	c->cur = c->rep->nstmts;
	ls = report_stmt_add(c->rep);
	ls->line = st->line;
	ls->col = st->col;
	ls->words = sql_node_words(NULL);
	unknown_ignores(c, st->ignore, NULL, st->line, st->col,
	    "the -- opsdeck-ignore before this statement");
	if (st->error != NULL) {
		parse_error(c, st);
		return;
	}
	if ((kind = sql_stmt_type(st)) == NULL)
		return;
	ls->kind = xstrdup(kind);
	node = json_object_get(st->tree, kind);
	ls->words = sql_stmt_words(kind, node);
	lock_statement(kind, node, &ls->locks);
	for (i = 0; i < lint_rules_count; i++) {
		const struct lint_rule *r = &lint_rules[i];

		if (r->check == NULL ||
		    (r->kind != NULL && strcmp(r->kind, kind) != 0))
			continue;
		r->check(c, node);
	}
	state_update(c, kind, node);
}

/* Findings in file order, stable: insertion sort, as they arrive nearly sorted
 * (only uncommitted-transaction points back). */
static void
findings_sort(struct lint_report *r)
{
	struct lint_finding f;
	size_t i, j;

	for (i = 1; i < r->nfindings; i++) {
		f = r->findings[i];
		for (j = i; j > 0 && (r->findings[j - 1].line > f.line ||
		    (r->findings[j - 1].line == f.line &&
		    r->findings[j - 1].col > f.col)); j--)
			r->findings[j] = r->findings[j - 1];
		r->findings[j] = f;
	}
}

static void
ctx_init(struct lint_ctx *c, const struct lint_options *opts,
    struct lint_report *rep, const char *path)
{
	memset(rep, 0, sizeof(*rep));
	memset(c, 0, sizeof(*c));
	rep->path = xstrdup(path != NULL ? path : "-");
	c->opts = opts;
	c->rep = rep;
	c->new_rels = json_object();
	c->memo = json_object();
}

static void
ctx_finish(struct lint_ctx *c, const struct sql_file *f)
{
	size_t i;

	c->file = f;
	c->stmt = NULL;
	if (f->n == 0)
		emit_at(c, "empty-file", 1, 1,
		    xstrdup("no SQL statements in the file"));
	if (c->in_tx)
		emit_at(c, "uncommitted-transaction", c->tx_line, c->tx_col,
		    xstrdup("transaction opened here is never committed"));
	unknown_ignores(c, f->ignore_file, f->ignore_file_lines, 1, 1,
	    "-- opsdeck-ignore-file");
	for (i = 0; i < lint_rules_count; i++)
		if (lint_rules[i].finish != NULL)
			lint_rules[i].finish(c);
	findings_sort(c->rep);
	json_decref(c->new_rels);
	json_decref(c->memo);
}

void
lint_file(const struct lint_options *opts, const struct sql_file *f,
    struct lint_report *rep)
{
	struct lint_ctx c;
	size_t i;

	ctx_init(&c, opts, rep, f->path);
	c.file = f;
	for (i = 0; i < f->n; i++)
		lint_stmt(&c, &f->stmts[i]);
	ctx_finish(&c, f);
}

static int
lint_each(const struct sql_file *f, const struct sql_stmt *st, void *arg)
{
	struct lint_ctx *c = arg;

	c->file = f;
	lint_stmt(c, st);
	return 0;
}

int
lint_text(const struct lint_options *opts, const char *path, const char *text,
    size_t len, struct lint_report *rep, struct err *e)
{
	struct sql_file f;
	struct lint_ctx c;
	int ret;

	ctx_init(&c, opts, rep, path);
	ret = sql_file_each_window(path, text, len, 0, &f, lint_each, &c, e);
	ctx_finish(&c, &f);
	sql_file_release(&f);
	return ret;
}

int
lint_path(const struct lint_options *opts, const char *path,
    struct lint_report *rep, struct err *e)
{
	struct buf b = BUF_INIT;
	int ret;

	if (file_read(path, SQL_FILE_MAX, &b, e) < 0) {
		memset(rep, 0, sizeof(*rep));
		rep->path = xstrdup(path);
		buf_release(&b);
		return -1;
	}
	ret = lint_text(opts, path, buf_str(&b), b.len, rep, e);
	buf_release(&b);
	return ret;
}

void
lint_report_release(struct lint_report *r)
{
	size_t i;

	for (i = 0; i < r->nstmts; i++) {
		free(r->stmts[i].kind);
		lock_list_release(&r->stmts[i].locks);
	}
	for (i = 0; i < r->nfindings; i++)
		free(r->findings[i].message);
	free(r->stmts);
	free(r->findings);
	free(r->path);
	memset(r, 0, sizeof(*r));
}

int
lint_report_worst(const struct lint_report *r)
{
	int worst = -1;
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		if ((int)r->findings[i].severity > worst)
			worst = (int)r->findings[i].severity;
	return worst;
}
