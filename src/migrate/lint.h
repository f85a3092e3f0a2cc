/*
 * Migration lint: the rule catalogue (rules.c, one table) run over the statements of
 * a parsed SQL file, with the locks each statement takes (locks.c).
 */
#ifndef OPSDECK_LINT_H
#define OPSDECK_LINT_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "migrate/locks.h"
#include "migrate/sql.h"

enum lint_severity {
	LINT_INFO,
	LINT_WARNING,
	LINT_ERROR,
};

const char *lint_severity_str(enum lint_severity);
/* Parses "error", "warning" or "info"; -1 otherwise. */
int	lint_severity_parse(const char *, enum lint_severity *);

struct lint_ctx;

struct lint_rule {
	const char		*id;		/* "drop-column" */
	enum lint_severity	 severity;
	const char		*summary;	/* what it catches, one line */
	const char		*fix;		/* what to do instead, one line */
	const char		*squawk;	/* the squawk rule it maps to, or NULL */
	const char		*kind;		/* node type it runs on; NULL: see below */
	/* Called for each statement of kind (every statement when kind is NULL);
	 * NULL for rules raised by the driver (parse-error, empty-file,
	 * uncommitted-transaction) or by another row's check (drop-schema). */
	void			(*check)(struct lint_ctx *, const json_t *node);
	bool			 opt_in;	/* off unless named by --include */
	/* Called once the whole file is read (findings that need the end), or NULL. */
	void			(*finish)(struct lint_ctx *);
};

extern const struct lint_rule lint_rules[];
extern const size_t lint_rules_count;
const struct lint_rule *lint_rule_find(const char *id);

enum lint_policy {
	LINT_POLICY_NONE,
	LINT_POLICY_ADDITIVE_ONLY,
};

/* Parses "additive-only" or "none"; -1 otherwise. */
int	lint_policy_parse(const char *, enum lint_policy *);

struct lint_options {
	const char	*exclude;		/* "rule,rule", or NULL */
	const char	*include;		/* opt-in rules to run, or NULL */
	enum lint_policy policy;
	int		 pg_version;		/* major version of the server, 0: 15 */
	bool		 assume_in_transaction;	/* the runner wraps each file */
};

struct cfg_diags;
struct cfg_migrate;
struct config;

/*
 * 0 when every name of a "rule,rule" list is a rule; -1 (ERR_INVALID) naming the
 * others and where the list came from (option, "--exclude").
 */
int	lint_rules_check(const char *list, const char *option, struct err *);
/* The same for --include, whose rules must also be opt-in ones. */
int	lint_include_check(const char *list, const char *option, struct err *);
/*
 * The rule ids a loaded config's migrate.exclude and migrate.include name (config/
 * cannot check them: the rules are migrate's): 0, or -1 with a diagnostic in the
 * config's form ("FILE:LINE:COL: migrate.exclude: unknown rule …") for each unknown.
 */
int	lint_config_check(const struct config *, struct cfg_diags *);
/*
 * The defaults a config's migrate: section sets (after lint_config_check): into o
 * (which keeps what the section leaves out) and *fail_on.
 */
void	lint_options_from_config(const struct cfg_migrate *,
	    struct lint_options *, enum lint_severity *fail_on);

struct lint_finding {
	const struct lint_rule	*rule;
	enum lint_severity	 severity;
	int			 line, col;
	char			*message;
	const char		*fix;		/* the rule's, or one for this case */
};

struct lint_stmt {
	int			 line, col;
	char			*kind;		/* node type, or NULL when it does not parse */
	const char		*words;		/* the kind in SQL words (sql_stmt_words) */
	struct lock_list	 locks;
};

struct lint_report {
	char			*path;
	struct lint_stmt	*stmts;
	size_t			 nstmts, stmts_cap;
	struct lint_finding	*findings;
	size_t			 nfindings, findings_cap;
};

/* Lints one parsed file into report (which the caller releases); findings come
 * sorted by position. */
void	lint_file(const struct lint_options *, const struct sql_file *,
	    struct lint_report *);
/* Streams text through the linter statement by statement (memory bounded by one
 * statement's tree); -1 with e set only when nothing can be read. */
int	lint_text(const struct lint_options *, const char *path, const char *text,
	    size_t len, struct lint_report *, struct err *);
/* lint_text on a file's contents. */
int	lint_path(const struct lint_options *, const char *path,
	    struct lint_report *, struct err *);
void	lint_report_release(struct lint_report *);
/* Highest severity in the report, or -1 when there are no findings. */
int	lint_report_worst(const struct lint_report *);

/* For rule checks (rules.c): */
/* Raises rule id on the current statement, unless excluded or ignored. */
void	lint_emit(struct lint_ctx *, const char *rule, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
/* The same with a fix for this case instead of the rule's (a static string). */
void	lint_emit_fix(struct lint_ctx *, const char *rule, const char *fix,
	    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
const struct lint_options *lint_opts(const struct lint_ctx *);
/* True when the relation (a RangeVar object, or a name) was created in this file. */
bool	lint_is_new_rangevar(const struct lint_ctx *, const json_t *rangevar);
bool	lint_is_new_name(const struct lint_ctx *, const char *);
/* True inside BEGIN … COMMIT, or always with assume_in_transaction. */
bool	lint_in_transaction(const struct lint_ctx *);
/* True between an explicit BEGIN and its COMMIT/ROLLBACK. */
bool	lint_in_begin(const struct lint_ctx *);
/* The node type of the current statement ("AlterTableStmt"). */
const char *lint_stmt_kind(const struct lint_ctx *);
/* The text of the current statement. */
const char *lint_stmt_text(const struct lint_ctx *);
/* The locks of the current statement. */
const struct lock_list *lint_locks(const struct lint_ctx *);
bool	lint_has_lock_timeout(const struct lint_ctx *);
bool	lint_has_statement_timeout(const struct lint_ctx *);
/* True the first time it is called for rule in this file (rules raised once). */
bool	lint_first(struct lint_ctx *, const char *rule);
/* The current statement's kind in SQL words ("DROP INDEX"). */
const char *lint_stmt_words(const struct lint_ctx *);
/* Statements read so far (in a finish hook: the file's). */
size_t	lint_stmt_count(const struct lint_ctx *);
/* Removes the findings of rule raised so far in this file (for finish hooks). */
void	lint_drop(struct lint_ctx *, const char *rule);
/* Notes a rule keeps for later statements of the file (a constraint dropped…). */
void	lint_note(struct lint_ctx *, const char *key);
bool	lint_noted(const struct lint_ctx *, const char *key);

#endif
