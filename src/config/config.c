/*
 * opsdeck.yaml → struct config. Each section is a table of known keys (name, kind,
 * field, range, handler), so type checks and "unknown key" with its "did you mean"
 * follow the same rows; docs/opsdeck.yaml.5 documents them, keep it in step. Every
 * problem becomes a diagnostic; loading goes on after one so a single run shows them
 * all, sorted by position.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sodium.h>

#include "config/config.h"
#include "config/yaml.h"
#include "core/buf.h"
#include "core/util.h"
#include "core/xmalloc.h"

#define CFG_MAX_FILE	(4u * 1024 * 1024)
#define CFG_MAX_VALUE	(1u * 1024 * 1024)	/* one value after ${VAR} expansion */
#define DURATION_MAX	(24LL * 3600 * 1000)
#define DAY_MS		(24LL * 3600 * 1000)
#define RETAIN_AGE_MAX	(3650 * DAY_MS)
#define KIB		1024LL
#define MIB		(1024LL * 1024)
#define GIB		(1024LL * 1024 * 1024)
#define NAME_RULES	"use lowercase letters, digits, '-' and '_', starting " \
			"with a letter or digit, at most 63 characters"

/* Built-in defaults, overridden by `defaults:` and then by each process group. */
static const struct cfg_health health_builtin = {
	true, NULL, 2000, 1000, 5000, 1, 3,
};
static const struct cfg_restart restart_builtin = {
	500, 30000, 5, 60000, 10000,
};

/* What every process group starts from: built-ins overlaid by `defaults:`. */
struct group_defaults {
	struct cfg_health	 health;
	struct cfg_restart	 restart;
};

struct port_use {
	int		 port;
	struct cfg_pos	 pos;
	char		*path;
};

struct loader {
	const char		*file;
	bool			 check_commands;
	struct config		*cfg;
	struct cfg_diags	*diags;
	struct group_defaults	 defaults;
	struct port_use		*ports;
	size_t			 nports;
	long long		 auto_machines;
	const struct ynode	*range_at;	/* where range errors point */
};

/* An app while it is built: its env is merged into each process group. */
struct app_build {
	struct cfg_app		 app;
	struct cfg_env		*env;
	size_t			 nenv;
};

struct proc_build {
	struct cfg_process	 proc;
	struct app_build	*app;
	struct cfg_env		*env;	/* the group's own, before the merge */
	size_t			 nenv;
};

enum rule_kind {
	RULE_INT,	/* int field, min..max */
	RULE_DURATION,	/* int64_t milliseconds, min..max */
	RULE_SIZE,	/* int bytes, min..max */
	RULE_FN,	/* fn(field) */
};

struct rule;
typedef void rule_fn(struct loader *, const struct rule *,
    const struct ynode *val, const char *path, void *field);

struct rule {
	const char	*key;
	enum rule_kind	 kind;
	size_t		 off;		/* of the field in the section's struct */
	long long	 min;
	long long	 max;
	rule_fn		*fn;
	const char	*required;	/* how to add it when missing; NULL: optional */
};

static rule_fn version_fn, state_dir_fn, ports_fn, logs_fn, defaults_fn,
    apps_fn, restart_fn, health_fn, health_path_fn, stage_fn, app_env_fn,
    processes_fn, command_fn, port_fn, proc_env_fn, workdir_fn, migrate_fn,
    migrate_str_fn, migrate_bool_fn, migrate_exclude_fn, release_command_fn,
    deploy_fn, strategy_fn, retain_fn, retain_age_fn, router_fn,
    router_driver_fn, router_binary_fn, public_fn, routes_fn, rollback_on_fn,
    error_rate_fn, checks_fn, heartbeats_fn, channels_fn, notify_fn,
    maintenance_fn, approvals_fn, approval_rules_fn, api_fn, api_listen_fn,
    local_users_fn, agents_fn, agents_channels_fn;
static void watch_release(struct cfg_watch *);
static void heartbeat_channels_check(struct loader *);

static const struct rule top_rules[] = {
	{ "version", RULE_FN, 0, 0, 0, version_fn, NULL },
	{ "state_dir", RULE_FN, 0, 0, 0, state_dir_fn, NULL },
	{ "ports", RULE_FN, 0, 0, 0, ports_fn, NULL },
	{ "logs", RULE_FN, 0, 0, 0, logs_fn, NULL },
	{ "defaults", RULE_FN, 0, 0, 0, defaults_fn, NULL },
	/* required unless there is a migrate: section (see config_load) */
	{ "apps", RULE_FN, 0, 0, 0, apps_fn, NULL },
	{ "migrate", RULE_FN, 0, 0, 0, migrate_fn, NULL },
	{ "retain", RULE_FN, 0, 0, 0, retain_fn, NULL },
	{ "router", RULE_FN, 0, 0, 0, router_fn, NULL },
	{ "approvals", RULE_FN, 0, 0, 0, approvals_fn, NULL },
	{ "api", RULE_FN, 0, 0, 0, api_fn, NULL },
	/* after apps (they name them), channels before notify, checks before
	 * maintenance */
	{ "checks", RULE_FN, 0, 0, 0, checks_fn, NULL },
	{ "heartbeats", RULE_FN, 0, 0, 0, heartbeats_fn, NULL },
	{ "channels", RULE_FN, 0, 0, 0, channels_fn, NULL },
	{ "notify", RULE_FN, 0, 0, 0, notify_fn, NULL },
	{ "maintenance", RULE_FN, 0, 0, 0, maintenance_fn, NULL },
	{ "agents", RULE_FN, 0, 0, 0, agents_fn, NULL },
};

static const struct rule agents_rules[] = {
	{ "doing_stale", RULE_DURATION, offsetof(struct cfg_agents, doing_stale_ms),
	    1000, 31 * 24 * 3600 * 1000LL, NULL, NULL },
	{ "channels", RULE_FN, 0, 0, 0, agents_channels_fn, NULL },
};

static const struct rule router_rules[] = {
	{ "driver", RULE_FN, offsetof(struct cfg_router, driver), 0, 0,
	    router_driver_fn, NULL },
	{ "haproxy", RULE_FN, offsetof(struct cfg_router, haproxy), 0, 0,
	    router_binary_fn, NULL },
	{ "drain_timeout", RULE_DURATION, offsetof(struct cfg_router, drain_ms),
	    0, DURATION_MAX, NULL, NULL },
};

static const struct rule rollback_on_rules[] = {
	{ "error_rate", RULE_FN, offsetof(struct cfg_rollback_on, error_rate), 0,
	    0, error_rate_fn, NULL },
	{ "p95", RULE_DURATION, offsetof(struct cfg_rollback_on, p95_ms), 0,
	    DURATION_MAX, NULL, NULL },
	{ "window", RULE_DURATION, offsetof(struct cfg_rollback_on, window_ms),
	    1000, 3600 * 1000, NULL, NULL },
	{ "min_requests", RULE_INT,
	    offsetof(struct cfg_rollback_on, min_requests), 1, 1000000, NULL,
	    NULL },
};

static const struct rule approvals_rules[] = {
	{ "expire", RULE_DURATION, offsetof(struct cfg_approvals, expire_ms), 1000,
	    7 * DURATION_MAX, NULL, NULL },
	{ "require", RULE_FN, 0, 0, 0, approval_rules_fn, NULL },
};

static const struct rule api_rules[] = {
	{ "listen", RULE_FN, offsetof(struct cfg_api, listen), 0, 0,
	    api_listen_fn, NULL },
	{ "local_users", RULE_FN, 0, 0, 0, local_users_fn, NULL },
};

static const struct rule retain_rules[] = {
	{ "releases", RULE_INT, offsetof(struct cfg_retain, releases), 0, 1000,
	    NULL, NULL },
	{ "logs", RULE_FN, offsetof(struct cfg_retain, logs_ms), 1,
	    RETAIN_AGE_MAX, retain_age_fn, NULL },
};

/* Rule ids are checked by migrate/ (lint_config_check), which owns the catalogue. */
static const struct rule migrate_rules[] = {
	{ "exclude", RULE_FN, offsetof(struct cfg_migrate, exclude), 0, 0,
	    migrate_exclude_fn, NULL },
	{ "include", RULE_FN, offsetof(struct cfg_migrate, include), 0, 0,
	    migrate_exclude_fn, NULL },
	{ "policy", RULE_FN, offsetof(struct cfg_migrate, policy), 0, 0,
	    migrate_str_fn, NULL },
	{ "fail_on", RULE_FN, offsetof(struct cfg_migrate, fail_on), 0, 0,
	    migrate_str_fn, NULL },
	{ "pg_version", RULE_INT, offsetof(struct cfg_migrate, pg_version), 9,
	    18, NULL, NULL },
	{ "assume_in_transaction", RULE_FN,
	    offsetof(struct cfg_migrate, assume_in_transaction), 0, 0,
	    migrate_bool_fn, NULL },
};

/* The values migrate_str_fn accepts, per key. */
static const struct {
	const char	*key;
	const char	*values[4];
} migrate_choices[] = {
	{ "policy", { "additive-only", "none", NULL } },
	{ "fail_on", { "error", "warning", "info", NULL } },
};

static const struct rule ports_rules[] = {
	{ "from", RULE_INT, offsetof(struct config, port_from), 1, 65535,
	    NULL, NULL },
	{ "to", RULE_INT, offsetof(struct config, port_to), 1, 65535, NULL,
	    NULL },
};

static const struct rule logs_rules[] = {
	{ "max_size", RULE_SIZE, offsetof(struct config, log_max_bytes), KIB,
	    GIB, NULL, NULL },
	{ "keep", RULE_INT, offsetof(struct config, log_keep), 0, 100, NULL,
	    NULL },
};

static const struct rule defaults_rules[] = {
	{ "restart", RULE_FN, offsetof(struct group_defaults, restart), 0, 0,
	    restart_fn, NULL },
	{ "stop_timeout", RULE_DURATION,
	    offsetof(struct group_defaults, restart.stop_timeout_ms), 0,
	    DURATION_MAX, NULL, NULL },
	{ "health", RULE_FN, offsetof(struct group_defaults, health), 0, 0,
	    health_fn, NULL },
};

static const struct rule restart_rules[] = {
	{ "backoff_min", RULE_DURATION,
	    offsetof(struct cfg_restart, backoff_min_ms), 1, DURATION_MAX, NULL,
	    NULL },
	{ "backoff_max", RULE_DURATION,
	    offsetof(struct cfg_restart, backoff_max_ms), 1, DURATION_MAX, NULL,
	    NULL },
	{ "crashloop_limit", RULE_INT,
	    offsetof(struct cfg_restart, crashloop_limit), 1,
	    CFG_CRASHLOOP_LIMIT_MAX, NULL, NULL },
	{ "crashloop_window", RULE_DURATION,
	    offsetof(struct cfg_restart, crashloop_window_ms), 1, DURATION_MAX,
	    NULL, NULL },
};

static const struct rule health_rules[] = {
	{ "path", RULE_FN, offsetof(struct cfg_health, path), 0, 0,
	    health_path_fn, NULL },
	{ "interval", RULE_DURATION, offsetof(struct cfg_health, interval_ms),
	    1, DURATION_MAX, NULL, NULL },
	{ "timeout", RULE_DURATION, offsetof(struct cfg_health, timeout_ms), 1,
	    DURATION_MAX, NULL, NULL },
	{ "grace", RULE_DURATION, offsetof(struct cfg_health, grace_ms), 0,
	    DURATION_MAX, NULL, NULL },
	{ "passes", RULE_INT, offsetof(struct cfg_health, passes), 1, 100,
	    NULL, NULL },
	{ "failures", RULE_INT, offsetof(struct cfg_health, failures), 1, 100,
	    NULL, NULL },
};

/* env before processes: each group merges the app's env into its own. */
static const struct rule deploy_rules[] = {
	{ "smoke", RULE_DURATION, offsetof(struct cfg_deploy, smoke_ms), 0,
	    DURATION_MAX, NULL, NULL },
	{ "timeout", RULE_DURATION, offsetof(struct cfg_deploy, timeout_ms), 1,
	    DURATION_MAX, NULL, NULL },
	{ "watch", RULE_DURATION, offsetof(struct cfg_deploy, watch_ms), 0,
	    DURATION_MAX, NULL, NULL },
	{ "watch_failures", RULE_INT,
	    offsetof(struct cfg_deploy, watch_failures), 1, 100, NULL, NULL },
};

static const struct rule app_rules[] = {
	{ "stage", RULE_FN, 0, 0, 0, stage_fn, NULL },
	{ "release_command", RULE_FN, 0, 0, 0, release_command_fn, NULL },
	{ "release_timeout", RULE_DURATION,
	    offsetof(struct app_build, app.release_timeout_ms), 1,
	    DURATION_MAX, NULL, NULL },
	{ "deploy", RULE_FN, offsetof(struct app_build, app.deploy), 0, 0,
	    deploy_fn, NULL },
	{ "env", RULE_FN, 0, 0, 0, app_env_fn, NULL },
	{ "routes", RULE_FN, 0, 0, 0, routes_fn, NULL },
	{ "rollback_on", RULE_FN, offsetof(struct app_build, app.rollback_on), 0,
	    0, rollback_on_fn, NULL },
	{ "processes", RULE_FN, 0, 0, 0, processes_fn,
	    "add 'processes:' with at least one group, like "
	    "web: {command: [\"./app\"]}" },
};

static const struct rule process_rules[] = {
	{ "command", RULE_FN, 0, 0, 0, command_fn,
	    "add command: [\"path/to/bin\", \"arg\"]" },
	{ "count", RULE_INT, offsetof(struct proc_build, proc.count), 1,
	    CFG_COUNT_MAX, NULL, NULL },
	{ "port", RULE_FN, 0, 0, 0, port_fn, NULL },
	{ "public", RULE_FN, 0, 0, 0, public_fn, NULL },
	{ "env", RULE_FN, 0, 0, 0, proc_env_fn, NULL },
	{ "workdir", RULE_FN, 0, 0, 0, workdir_fn, NULL },
	{ "health", RULE_FN, offsetof(struct proc_build, proc.health), 0, 0,
	    health_fn, NULL },
	{ "restart", RULE_FN, offsetof(struct proc_build, proc.restart), 0, 0,
	    restart_fn, NULL },
	{ "stop_timeout", RULE_DURATION,
	    offsetof(struct proc_build, proc.restart.stop_timeout_ms), 0,
	    DURATION_MAX, NULL, NULL },
	{ "strategy", RULE_FN, offsetof(struct proc_build, proc.strategy), 0, 0,
	    strategy_fn, NULL },
};

#define NRULES(t) (sizeof(t) / sizeof((t)[0]))

/* A user's value for a message: at most 60 bytes, control characters escaped. */
struct shown {
	char	s[256];
};

static const char *
show(struct shown *out, const char *s)
{
	size_t i, o = 0;

	for (i = 0; s[i] != '\0' && o + 8 < sizeof(out->s); i++) {
		unsigned char c = (unsigned char)s[i];

		if (i == 60) {
			memcpy(out->s + o, "...", 3);
			o += 3;
			break;
		}
		if (c < 0x20 || c == 0x7f)
			o += (size_t)snprintf(out->s + o, sizeof(out->s) - o,
			    "\\x%02x", c);
		else
			out->s[o++] = (char)c;
	}
	out->s[o] = '\0';
	return out->s;
}

static void
vdiag_add(struct cfg_diags *d, const char *file, int line, int col,
    const char *path, const char *fmt, va_list ap)
{
	struct cfg_diag *it;
	struct buf msg = BUF_INIT;
	char *p;

	d->items = xreallocarray(d->items, d->n + 1, sizeof(*d->items));
	it = &d->items[d->n++];
	buf_vprintf(&msg, fmt, ap);
	it->file = xstrdup(file);
	it->pos.line = line;
	it->pos.col = col;
	it->keypath = xstrdup(path != NULL ? path : "");
	it->msg = buf_detach(&msg);
	/* One diagnostic, one line, whatever the file held. */
	for (p = it->msg; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
	for (p = it->keypath; *p != '\0'; p++)
		if ((unsigned char)*p < 0x20)
			*p = ' ';
}

void
cfg_diags_add(struct cfg_diags *d, const char *file, struct cfg_pos pos,
    const char *keypath, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag_add(d, file, pos.line, pos.col, keypath, fmt, ap);
	va_end(ap);
}

static void
vdiag(struct loader *ld, int line, int col, const char *path, const char *fmt,
    va_list ap)
{
	vdiag_add(ld->diags, ld->file, line, col, path, fmt, ap);
}

static void
diag(struct loader *ld, const struct ynode *at, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 4, 5)));
static void
diag_at(struct loader *ld, int line, int col, const char *path,
    const char *fmt, ...) __attribute__((format(printf, 5, 6)));

static void
diag_at(struct loader *ld, int line, int col, const char *path,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(ld, line, col, path, fmt, ap);
	va_end(ap);
}

static void
diag(struct loader *ld, const struct ynode *at, const char *path,
    const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vdiag(ld, at != NULL ? at->line : 1, at != NULL ? at->col : 1, path,
	    fmt, ap);
	va_end(ap);
}

static char *
path_child(const char *parent, const char *key)
{
	struct shown k;

	show(&k, key);
	if (parent == NULL || parent[0] == '\0')
		return xstrdup(k.s);
	return xasprintf("%s.%s", parent, k.s);
}

/* "a list", "a mapping", "nothing" or the value itself, for "got ..." */
static const char *
node_what(struct shown *out, const struct ynode *n)
{
	struct shown v;

	if (ynode_is_null(n))
		snprintf(out->s, sizeof(out->s), "nothing");
	else if (n->kind == YNODE_SEQ)
		snprintf(out->s, sizeof(out->s), "%s", n->nitems ? "a list" :
		    "an empty list");
	else if (n->kind == YNODE_MAP)
		snprintf(out->s, sizeof(out->s), "a mapping");
	else if (n->kind == YNODE_ALIAS)
		snprintf(out->s, sizeof(out->s), "an alias '*%s' (aliases are "
		    "not supported: write the value out)", show(&v, n->str));
	else
		snprintf(out->s, sizeof(out->s), "'%s'", show(&v, n->str));
	return out->s;
}

static void
unknown_key(struct loader *ld, const struct ynode *key, const char *path,
    const struct rule *rules, size_t nrules)
{
	const char *best = NULL;
	size_t i, bestd = 3, d;
	struct buf known = BUF_INIT;
	struct shown k;

	for (i = 0; i < nrules; i++) {
		d = str_distance(key->str, rules[i].key);
		if (d < bestd && d < strlen(key->str)) {
			best = rules[i].key;
			bestd = d;
		}
		buf_printf(&known, "%s%s", i ? ", " : "", rules[i].key);
	}
	if (best != NULL)
		diag(ld, key, path, "unknown key '%s' (did you mean '%s'?)",
		    show(&k, key->str), best);
	else
		diag(ld, key, path, "unknown key '%s' (known keys: %s)",
		    show(&k, key->str), buf_str(&known));
	buf_release(&known);
}

/*
 * Checks a mapping's keys (scalar, not repeated); the caller then visits the pairs
 * whose ok[i] is set. noun names the keys in messages ("key", "app", ...).
 */
static bool *
map_keys(struct loader *ld, const struct ynode *map, const char *path,
    const char *noun)
{
	const char *fix = strcmp(noun, "key") == 0 ? "remove one" :
	    "rename or remove one";
	bool *ok = xcalloc(map->npairs, sizeof(*ok));
	struct shown v, w;
	size_t i;

	for (i = 0; i < map->npairs; i++) {
		const struct ynode_pair *p = &map->pairs[i];
		char *kp;

		if (p->key->kind != YNODE_SCALAR || ynode_is_null(p->key)) {
			diag(ld, p->key, path, "expected a %s name, got %s: "
			    "use a plain word", noun, node_what(&v, p->key));
			continue;
		}
		if (p->first >= 0) {
			kp = path_child(path, p->key->str);
			diag(ld, p->key, kp, "duplicate %s '%s' (first at line "
			    "%d): %s", noun, show(&w, p->key->str),
			    map->pairs[p->first].key->line, fix);
			free(kp);
			continue;
		}
		if (memchr(p->key->str, '\0', p->key->len) != NULL) {
			diag(ld, p->key, path, "%s name contains a NUL "
			    "character: remove it", noun);
			continue;
		}
		ok[i] = true;
	}
	return ok;
}

static bool
expect_map(struct loader *ld, const struct ynode *n, const char *path,
    const char *what)
{
	struct shown v;

	if (n->kind == YNODE_MAP)
		return true;
	diag(ld, n, path, "expected %s, got %s", what, node_what(&v, n));
	return false;
}

/* Expands ${VAR}, ${VAR:-default} and $$; NULL with *why on error. */
static char *
expand(const char *s, char **why)
{
	struct buf out = BUF_INIT_MAX(CFG_MAX_VALUE);
	struct shown v;
	const char *p, *close, *def, *val;
	char *name = NULL;
	size_t i, nlen;
	int r = 0;

	*why = NULL;
	for (p = s; *p != '\0' && r == 0; ) {
		if (p[0] != '$' || (p[1] != '$' && p[1] != '{')) {
			r = buf_addch(&out, *p++);
			continue;
		}
		if (p[1] == '$') {
			r = buf_addch(&out, '$');
			p += 2;
			continue;
		}
		if ((close = strchr(p + 2, '}')) == NULL) {
			*why = xstrdup("unclosed '${': add the '}', or write "
			    "'$$' for a literal '$'");
			goto fail;
		}
		def = memmem(p + 2, (size_t)(close - (p + 2)), ":-", 2);
		nlen = (size_t)((def != NULL ? def : close) - (p + 2));
		name = xstrndup(p + 2, nlen);
		for (i = 0; i < nlen; i++)
			if (!(isalpha((unsigned char)name[i]) || name[i] == '_' ||
			    (i > 0 && isdigit((unsigned char)name[i]))))
				break;
		if (nlen == 0 || i < nlen) {
			*why = xasprintf("invalid variable name '%s': use "
			    "letters, digits and '_', like ${APP_PORT} or "
			    "${APP_PORT:-8080}", show(&v, name));
			goto fail;
		}
		/* The release's folder is known when a machine starts, not now. */
		if (def == NULL && strcmp(name, "OPSDECK_RELEASE_DIR") == 0) {
			r = buf_addstr(&out, CFG_RELEASE_DIR_VAR);
			free(name);
			name = NULL;
			p = close + 1;
			continue;
		}
		val = getenv(name);
		if (def != NULL && (val == NULL || *val == '\0'))
			r = buf_add(&out, def + 2, (size_t)(close - def - 2));
		else if (val != NULL)
			r = buf_addstr(&out, val);
		else {
			*why = xasprintf("undefined variable '%s': set it in "
			    "the environment or write ${%s:-default}", name,
			    name);
			goto fail;
		}
		free(name);
		name = NULL;
		p = close + 1;
	}
	if (r < 0) {
		*why = xasprintf("value longer than %u bytes after ${VAR} "
		    "expansion: shorten it", CFG_MAX_VALUE);
		goto fail;
	}
	if (out.data == NULL)
		buf_addstr(&out, "");
	return buf_detach(&out);
fail:
	free(name);
	buf_release(&out);
	return NULL;
}

/* A scalar's text after expansion, or NULL (reported) when it is not one. */
static char *
scalar_text(struct loader *ld, const struct ynode *n, const char *path,
    const char *what)
{
	struct shown v;
	char *s, *why;

	if (n->kind != YNODE_SCALAR || ynode_is_null(n)) {
		diag(ld, n, path, "expected %s, got %s", what, node_what(&v, n));
		return NULL;
	}
	if (memchr(n->str, '\0', n->len) != NULL) {
		diag(ld, n, path, "value contains a NUL character: remove it");
		return NULL;
	}
	if ((s = expand(n->str, &why)) == NULL) {
		diag(ld, n, path, "%s", why);
		free(why);
	}
	return s;
}

static int
parse_int(const char *s, long long *out)
{
	char *end;

	if (!isdigit((unsigned char)s[*s == '-' || *s == '+']))
		return -1;
	errno = 0;
	*out = strtoll(s, &end, 10);
	return errno != 0 || *end != '\0' ? -1 : 0;
}

/*
 * "250ms", "2s", "1.5m", "1h" or bare seconds. Checked here before duration_parse,
 * whose strtod would also take "0x10", "1e3" and "nan".
 */
static int
parse_duration(const char *s, long long *out)
{
	static const char *const units[] = { "", "ms", "s", "m", "h" };
	const char *p = s;
	int64_t ms;
	size_t i;

	while (isdigit((unsigned char)*p))
		p++;
	if (*p == '.')
		for (p++; isdigit((unsigned char)*p); p++)
			;
	if (p == s || (p == s + 1 && *s == '.'))
		return -1;
	for (i = 0; i < NRULES(units); i++)
		if (strcmp(p, units[i]) == 0)
			break;
	if (i == NRULES(units) || duration_parse(s, &ms) < 0)
		return -1;
	*out = ms;
	return 0;
}

static int
parse_size(const char *s, long long *out)
{
	static const struct {
		const char	*suffix;
		long long	 scale;
	} units[] = {
		{ "", 1 }, { "B", 1 }, { "KiB", KIB }, { "MiB", MIB },
		{ "GiB", GIB },
	};
	const char *p = s;
	long long v = 0;
	size_t i;

	for (; isdigit((unsigned char)*p); p++) {
		if (v > GIB * 16)
			return -1;
		v = v * 10 + (*p - '0');
	}
	if (p == s)
		return -1;
	for (i = 0; i < NRULES(units); i++) {
		if (strcmp(p, units[i].suffix) == 0) {
			if (v > LLONG_MAX / units[i].scale)
				return -1;
			*out = v * units[i].scale;
			return 0;
		}
	}
	return -1;
}

/* "500ms", "90s", "2m", "24h": the largest unit that is exact. */
static const char *
fmt_ms(char out[32], long long ms)
{
	if (ms % 3600000 == 0 && ms != 0)
		snprintf(out, 32, "%lldh", ms / 3600000);
	else if (ms % 60000 == 0 && ms != 0)
		snprintf(out, 32, "%lldm", ms / 60000);
	else if (ms % 1000 == 0)
		snprintf(out, 32, "%llds", ms / 1000);
	else
		snprintf(out, 32, "%lldms", ms);
	return out;
}

static const char *
fmt_size(char out[32], long long b)
{
	if (b % GIB == 0 && b != 0)
		snprintf(out, 32, "%lldGiB", b / GIB);
	else if (b % MIB == 0 && b != 0)
		snprintf(out, 32, "%lldMiB", b / MIB);
	else if (b % KIB == 0 && b != 0)
		snprintf(out, 32, "%lldKiB", b / KIB);
	else
		snprintf(out, 32, "%lld", b);
	return out;
}

static void
apply_int(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	char what[64];
	struct shown v;
	long long n;
	char *s;

	snprintf(what, sizeof(what), "an integer %lld..%lld", r->min, r->max);
	if ((s = scalar_text(ld, val, path, what)) == NULL)
		return;
	if (parse_int(s, &n) < 0 || n < r->min || n > r->max)
		diag(ld, val, path, "expected %s, got '%s'", what, show(&v, s));
	else
		*(int *)field = (int)n;
	free(s);
}

static void
apply_duration(struct loader *ld, const struct rule *r,
    const struct ynode *val, const char *path, void *field)
{
	static const char what[] = "a duration like '500ms', '2s' or '1m'";
	char hi[32];
	struct shown v;
	long long ms;
	char *s;

	if ((s = scalar_text(ld, val, path, what)) == NULL)
		return;
	if (s[0] == '-' && parse_duration(s + 1, &ms) == 0)
		ms = -ms;
	else if (parse_duration(s, &ms) < 0) {
		diag(ld, val, path, "expected %s, got '%s'", what, show(&v, s));
		goto out;
	}
	if (ms < r->min && r->min > 0)
		diag(ld, val, path, "expected a duration greater than 0, got "
		    "'%s'", show(&v, s));
	else if (ms < r->min)
		diag(ld, val, path, "expected a duration of 0 or more, got "
		    "'%s'", show(&v, s));
	else if (ms > r->max)
		diag(ld, val, path, "expected a duration of at most %s, got "
		    "'%s'", fmt_ms(hi, r->max), show(&v, s));
	else
		*(int64_t *)field = ms;
out:
	free(s);
}

static void
apply_size(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	char what[128], lo[32], hi[32];
	struct shown v;
	long long n;
	char *s;

	snprintf(what, sizeof(what), "a size from %s to %s in bytes, KiB, MiB "
	    "or GiB, like '10MiB'", fmt_size(lo, r->min), fmt_size(hi, r->max));
	if ((s = scalar_text(ld, val, path, what)) == NULL)
		return;
	if (parse_size(s, &n) < 0 || n < r->min || n > r->max)
		diag(ld, val, path, "expected %s, got '%s'", what, show(&v, s));
	else
		*(int *)field = (int)n;
	free(s);
}

/*
 * Applies a section's rules to obj: unknown and repeated keys are reported, then
 * each rule runs in table order (so a later row can rely on an earlier one).
 * at is where "missing required key" points (the section's own key).
 */
static void
walk_map(struct loader *ld, const struct ynode *at, const struct ynode *map,
    const char *path, const struct rule *rules, size_t nrules, void *obj)
{
	bool *ok;
	size_t i, j;

	if (!expect_map(ld, map, path, "a mapping"))
		return;
	ok = map_keys(ld, map, path, "key");
	for (i = 0; i < map->npairs; i++) {
		const struct ynode *k = map->pairs[i].key;
		char *kp;

		if (!ok[i])
			continue;
		for (j = 0; j < nrules; j++)
			if (strcmp(k->str, rules[j].key) == 0)
				break;
		if (j < nrules)
			continue;
		kp = path_child(path, k->str);
		unknown_key(ld, k, kp, rules, nrules);
		free(kp);
	}
	free(ok);
	for (j = 0; j < nrules; j++) {
		const struct rule *r = &rules[j];
		const struct ynode *val = ymap_get(map, r->key);
		void *field = (char *)obj + r->off;
		char *kp = path_child(path, r->key);

		if (val == NULL && r->required != NULL)
			diag(ld, at != NULL ? at : map, kp, "missing required "
			    "key '%s': %s", r->key, r->required);
		if (val == NULL || (ynode_is_null(val) && r->required == NULL))
			goto next;
		switch (r->kind) {
		case RULE_INT:
			apply_int(ld, r, val, kp, field);
			break;
		case RULE_DURATION:
			apply_duration(ld, r, val, kp, field);
			break;
		case RULE_SIZE:
			apply_size(ld, r, val, kp, field);
			break;
		case RULE_FN:
			r->fn(ld, r, val, kp, field);
			break;
		}
next:
		free(kp);
	}
}

/* Lexically cleans an absolute path: no "", "." or "x/.." components. */
static char *
path_clean(const char *abs)
{
	struct buf out = BUF_INIT;
	const char *p = abs, *end;
	size_t n;

	buf_addch(&out, '/');
	while (*p != '\0') {
		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		end = strchr(p, '/');
		n = end != NULL ? (size_t)(end - p) : strlen(p);
		if (n == 1 && p[0] == '.') {
			/* nothing */
		} else if (n == 2 && p[0] == '.' && p[1] == '.') {
			while (out.len > 1 && out.data[out.len - 1] != '/')
				out.len--;
			if (out.len > 1)
				out.len--;
			out.data[out.len] = '\0';
		} else {
			if (out.len > 1)
				buf_addch(&out, '/');
			buf_add(&out, p, n);
		}
		p += n;
	}
	return buf_detach(&out);
}

/* path made absolute against the config's folder, cleaned. */
static char *
resolve(const struct loader *ld, const char *path)
{
	char *joined = path_join(ld->cfg->dir, path);
	char *clean = path_clean(joined);

	free(joined);
	return clean;
}

static void
version_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct shown v;
	char *s;

	(void)r;
	(void)field;
	if ((s = scalar_text(ld, val, path, "version 1")) == NULL)
		return;
	if (strcmp(s, "1") != 0)
		diag(ld, val, path, "unsupported version '%s': this opsdeck "
		    "reads version 1", show(&v, s));
	free(s);
}

/* A non-empty path, made absolute against the config's folder. */
static char *
path_value(struct loader *ld, const struct ynode *val, const char *path)
{
	char *s, *abs = NULL;

	if ((s = scalar_text(ld, val, path, "a path")) == NULL)
		return NULL;
	if (*s == '\0')
		diag(ld, val, path, "expected a path, got '': remove the key "
		    "or give a folder");
	else
		abs = resolve(ld, s);
	free(s);
	return abs;
}

static void
state_dir_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	(void)r;
	(void)field;
	ld->cfg->state_dir = path_value(ld, val, path);
}

static void
ports_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct config *cfg = ld->cfg;
	const struct ynode *at;
	char *kp;

	(void)r;
	(void)field;
	ld->range_at = val;
	walk_map(ld, val, val, path, ports_rules, NRULES(ports_rules), cfg);
	if (cfg->port_from <= cfg->port_to)
		return;
	kp = path_child(path, ymap_get(val, "from") != NULL ? "from" : "to");
	if ((at = ymap_get(val, "from")) == NULL)
		at = ymap_get(val, "to");
	diag(ld, at, kp, "'from' %d is greater than 'to' %d: swap them",
	    cfg->port_from, cfg->port_to);
	free(kp);
}

static void
logs_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	(void)r;
	(void)field;
	walk_map(ld, val, val, path, logs_rules, NRULES(logs_rules), ld->cfg);
}

static void
api_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	(void)r;
	(void)field;
	walk_map(ld, val, val, path, api_rules, NRULES(api_rules), &ld->cfg->api);
}

/* HOST:PORT: an IPv4 literal, [IPv6] or localhost, and a port 1..65535. */
static void
api_listen_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	char **out = field, *s, *end, host[64];
	unsigned char buf[sizeof(struct in6_addr)];
	const char *ps;
	struct shown v;
	long port = 0;

	(void)r;
	if ((s = scalar_text(ld, val, path, "HOST:PORT like 127.0.0.1:7480")) ==
	    NULL)
		return;
	if (hostport_split(s, host, sizeof(host), &ps) == 0)
		port = strtol(ps, &end, 10);
	if (port < 1 || port > 65535 || *end != '\0') {
		diag(ld, val, path, "expected HOST:PORT like 127.0.0.1:7480, got "
		    "'%s'", show(&v, s));
		free(s);
		return;
	}
	if (strcmp(host, "localhost") != 0 && inet_pton(AF_INET, host, buf) != 1 &&
	    inet_pton(AF_INET6, host, buf) != 1) {
		diag(ld, val, path, "'%s' is not an IP address: give one, like "
		    "127.0.0.1:7480 (a name would be looked up at every start)",
		    show(&v, s));
		free(s);
		return;
	}
	/* Tokens travel in the clear: opsdeck speaks no TLS. */
	if (strcmp(host, "localhost") != 0 && strncmp(host, "127.", 4) != 0 &&
	    strcmp(host, "::1") != 0) {
		diag(ld, val, path, "'%s' is not a loopback address: the API has "
		    "no TLS and bearer tokens would cross the network in clear; "
		    "listen on 127.0.0.1 and put a TLS proxy in front",
		    show(&v, s));
		free(s);
		return;
	}
	free(*out);
	*out = s;
}

/* A login name as useradd takes it: [a-z_][a-z0-9_.-]*, at most 32 bytes. */
static bool
os_user_valid(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 32 && (islower((unsigned char)s[0]) || s[0] == '_') &&
	    strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* local_users: {OS_USER: ACTOR, ...}; whether the OS user exists is the daemon's. */
static void
local_users_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_api *api = field;
	struct shown v;
	bool *ok;
	size_t i;

	(void)r;
	if (!expect_map(ld, val, path, "a mapping of OS user to actor, like "
	    "{deploy: bot}"))
		return;
	ok = map_keys(ld, val, path, "OS user");
	for (i = 0; i < val->npairs; i++) {
		const struct ynode *k = val->pairs[i].key;
		struct cfg_local_user *u;
		char *kp, *s;

		if (!ok[i])
			continue;
		kp = path_child(path, k->str);
		if (!os_user_valid(k->str))
			diag(ld, k, kp, "'%s' is not an OS user name: lowercase "
			    "letters, digits, '_', '.' and '-', at most 32",
			    show(&v, k->str));
		else if ((s = scalar_text(ld, val->pairs[i].value, kp,
		    "an actor's name")) != NULL) {
			if (!name_valid(s)) {
				diag(ld, val->pairs[i].value, kp, "'%s' is not an "
				    "actor name: [a-z0-9][a-z0-9_-]*, as `opsdeck "
				    "actor add` takes it", show(&v, s));
				free(s);
			} else {
				api->local_users = xreallocarray(api->local_users,
				    api->nlocal_users + 1, sizeof(*u));
				u = &api->local_users[api->nlocal_users++];
				u->user = xstrdup(k->str);
				u->actor = s;
			}
		}
		free(kp);
	}
	free(ok);
}

static void
approvals_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	(void)r;
	(void)field;
	walk_map(ld, val, val, path, approvals_rules, NRULES(approvals_rules),
	    &ld->cfg->approvals);
}

/* require: [{action: deploy.create, stage: production}, ...] */
static void
approval_rules_fn(struct loader *ld, const struct rule *r,
    const struct ynode *val, const char *path, void *field)
{
	static const char *const approvable[] = CFG_APPROVABLE;
	struct cfg_approvals *ap = &ld->cfg->approvals;
	struct shown v;
	size_t i, j, k;

	(void)r;
	(void)field;
	if (val->kind != YNODE_SEQ) {
		diag(ld, val, path, "expected a list like [{action: deploy.create, "
		    "stage: production}], got %s", node_what(&v, val));
		return;
	}
	ap->rules = xcalloc(val->nitems + 1, sizeof(*ap->rules));
	for (i = 0; i < val->nitems; i++) {
		const struct ynode *it = val->items[i], *a, *st;
		char *kp = xasprintf("%s[%zu]", path, i);
		char *action = NULL, *stage = NULL, *sub;

		if (!expect_map(ld, it, kp, "a mapping {action: A, stage: S}"))
			goto next;
		for (k = 0; k < it->npairs; k++) {
			const char *key = it->pairs[k].key->str;

			if (strcmp(key, "action") != 0 && strcmp(key, "stage") != 0) {
				sub = path_child(kp, key);
				diag(ld, it->pairs[k].key, sub, "unknown key '%s' "
				    "(known keys: action, stage)", key);
				free(sub);
			}
		}
		if ((a = ymap_get(it, "action")) == NULL) {
			diag(ld, it, kp, "missing required key 'action': name "
			    "one of %s", CFG_APPROVABLE_TEXT);
			goto next;
		}
		sub = path_child(kp, "action");
		action = scalar_text(ld, a, sub, "an action like deploy.create");
		for (j = 0; action != NULL && j < NRULES(approvable); j++)
			if (strcmp(action, approvable[j]) == 0)
				break;
		if (action != NULL && j == NRULES(approvable)) {
			diag(ld, a, sub, "'%s' cannot wait for an approval: name "
			    "one of %s", show(&v, action), CFG_APPROVABLE_TEXT);
			free(action);
			action = NULL;
		}
		free(sub);
		if ((st = ymap_get(it, "stage")) != NULL) {
			sub = path_child(kp, "stage");
			stage = scalar_text(ld, st, sub, "a stage name");
			if (stage != NULL && !name_valid(stage)) {
				diag(ld, st, sub, "invalid stage '%s': " NAME_RULES,
				    show(&v, stage));
				free(stage);
				stage = NULL;
			}
			/* A database has no stage: a rule for migrations holds them all. */
			if (stage != NULL && action != NULL &&
			    strcmp(action, "migrate.apply") == 0) {
				diag(ld, st, sub, "migrate.apply has no stage (a "
				    "database is no app's): drop 'stage', and the "
				    "rule holds every apply");
				free(stage);
				stage = NULL;
				free(action);
				action = NULL;
			}
			free(sub);
		}
		if (action != NULL) {
			ap->rules[ap->nrules].action = action;
			ap->rules[ap->nrules].stage = stage;
			ap->rules[ap->nrules].pos.line = it->line;
			ap->rules[ap->nrules].pos.col = it->col;
			ap->nrules++;
		} else
			free(stage);
next:
		free(kp);
	}
}

static void
retain_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	(void)r;
	(void)field;
	walk_map(ld, val, val, path, retain_rules, NRULES(retain_rules),
	    &ld->cfg->retain);
}

/*
 * How long something is kept: whole minutes, hours or days ("90m", "36h", "14d").
 * Not a RULE_DURATION: those stop at 24h, and a retention is counted in days.
 */
static void
retain_age_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	static const char what[] = "a duration like '14d', '36h' or '90m'";
	static const struct {
		char		unit;
		long long	ms;
	} units[] = { { 'm', 60000 }, { 'h', 3600000 }, { 'd', DAY_MS } };
	struct shown v;
	long long n = 0;
	const char *p;
	size_t i;
	char *s;

	if ((s = scalar_text(ld, val, path, what)) == NULL)
		return;
	/* Past the maximum the digits still count, as no longer accumulated. */
	for (p = s; isdigit((unsigned char)*p); p++)
		if (n <= RETAIN_AGE_MAX)
			n = n * 10 + (*p - '0');
	for (i = 0; i < NRULES(units); i++)
		if (p > s && p[0] == units[i].unit && p[1] == '\0')
			break;
	if (i == NRULES(units))
		diag(ld, val, path, "expected %s, got '%s'", what, show(&v, s));
	else if (n == 0)
		diag(ld, val, path, "expected a duration greater than 0, got '%s'",
		    show(&v, s));
	else if (n > r->max / units[i].ms)
		diag(ld, val, path, "expected a duration of at most %lldd, got "
		    "'%s'", r->max / DAY_MS, show(&v, s));
	else
		*(int64_t *)field = n * units[i].ms;
	free(s);
}

static void
defaults_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	(void)r;
	(void)field;
	walk_map(ld, val, val, path, defaults_rules, NRULES(defaults_rules),
	    &ld->defaults);
}

static void
restart_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_restart *rs = field;
	const struct ynode *at;
	char lo[32], hi[32];
	char *kp;

	(void)r;
	walk_map(ld, val, val, path, restart_rules, NRULES(restart_rules), rs);
	if (rs->backoff_min_ms <= rs->backoff_max_ms)
		return;
	/* Said once, where it is set: an inherited conflict was said above. */
	if ((at = ymap_get(val, "backoff_min")) != NULL)
		kp = path_child(path, "backoff_min");
	else if ((at = ymap_get(val, "backoff_max")) != NULL)
		kp = path_child(path, "backoff_max");
	else
		return;
	diag(ld, at, kp, "backoff_min %s is greater than backoff_max %s: "
	    "lower backoff_min or raise backoff_max",
	    fmt_ms(lo, rs->backoff_min_ms), fmt_ms(hi, rs->backoff_max_ms));
	free(kp);
}

static void
health_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_health *h = field;
	struct shown v;

	(void)r;
	if (val->kind == YNODE_SCALAR && val->plain &&
	    (strcmp(val->str, "false") == 0 || strcmp(val->str, "true") == 0)) {
		h->enabled = val->str[0] == 't';
		return;
	}
	if (val->kind != YNODE_MAP) {
		diag(ld, val, path, "expected false or a mapping like {path: "
		    "/health, interval: 2s}, got %s", node_what(&v, val));
		return;
	}
	h->enabled = true;
	walk_map(ld, val, val, path, health_rules, NRULES(health_rules), h);
}

static void
health_path_fn(struct loader *ld, const struct rule *r,
    const struct ynode *val, const char *path, void *field)
{
	char **hp = field;
	struct shown v;
	char *s;

	(void)r;
	if ((s = scalar_text(ld, val, path, "a path like '/health'")) == NULL)
		return;
	if (s[0] != '/') {
		diag(ld, val, path, "expected a path starting with '/', got "
		    "'%s'", show(&v, s));
		free(s);
		return;
	}
	free(*hp);
	*hp = s;
}

static void
apps_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct config *cfg = ld->cfg;
	struct shown v;
	bool *ok;
	size_t i;

	(void)r;
	(void)field;
	if (!expect_map(ld, val, path, "a mapping of app name to app"))
		return;
	if (val->npairs == 0) {
		diag(ld, val, path, "no apps: add at least one");
		return;
	}
	ok = map_keys(ld, val, path, "app");
	cfg->apps = xcalloc(val->npairs, sizeof(*cfg->apps));
	for (i = 0; i < val->npairs; i++) {
		const struct ynode *k = val->pairs[i].key;
		struct app_build ab;
		char *kp;
		size_t j;

		if (!ok[i])
			continue;
		kp = path_child(path, k->str);
		memset(&ab, 0, sizeof(ab));
		ab.app.name = xstrdup(k->str);
		ab.app.stage = xstrdup("production");
		ab.app.release_timeout_ms = 5 * 60 * 1000;
		ab.app.deploy.smoke_ms = 5000;
		ab.app.deploy.timeout_ms = 60000;
		ab.app.deploy.watch_ms = 60000;
		ab.app.deploy.watch_failures = 2;
		ab.app.rollback_on.error_rate = 0.1;
		ab.app.rollback_on.window_ms = 10000;
		ab.app.rollback_on.min_requests = 20;
		ab.app.pos.line = k->line;
		ab.app.pos.col = k->col;
		if (!name_valid(k->str))
			diag(ld, k, kp, "invalid app name '%s': " NAME_RULES,
			    show(&v, k->str));
		walk_map(ld, k, val->pairs[i].value, kp, app_rules,
		    NRULES(app_rules), &ab);
		cfg->apps[cfg->napps++] = ab.app;
		for (j = 0; j < ab.nenv; j++) {
			free(ab.env[j].key);
			free(ab.env[j].value);
		}
		free(ab.env);
		free(kp);
	}
	free(ok);
}

static void
stage_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct app_build *ab = field;
	struct shown v;
	char *s;

	(void)r;
	if ((s = scalar_text(ld, val, path, "a stage name")) == NULL)
		return;
	if (!name_valid(s)) {
		diag(ld, val, path, "invalid stage '%s': " NAME_RULES,
		    show(&v, s));
		free(s);
		return;
	}
	free(ab->app.stage);
	ab->app.stage = s;
}

static void
env_add(struct cfg_env **env, size_t *n, const char *key, const char *value)
{
	*env = xreallocarray(*env, *n + 1, sizeof(**env));
	(*env)[*n].key = xstrdup(key);
	(*env)[*n].value = xstrdup(value);
	(*n)++;
}

struct env_ord {
	const struct cfg_env	*e;
	size_t			 seq;
};

static int
env_cmp(const void *a, const void *b)
{
	const struct env_ord *x = a, *y = b;
	int c = strcmp(x->e->key, y->e->key);

	if (c != 0)
		return c;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The group's env: the app's, overlaid by the group's own, sorted by name so the
 * digest does not change when variables are only reordered.
 */
static void
env_merge(struct cfg_process *p, const struct cfg_env *app, size_t napp,
    const struct cfg_env *own, size_t nown)
{
	size_t n = napp + nown, i;
	struct env_ord *o;

	if (n == 0)
		return;
	o = xreallocarray(NULL, n, sizeof(*o));
	for (i = 0; i < n; i++) {
		o[i].e = i < napp ? &app[i] : &own[i - napp];
		o[i].seq = i;
	}
	qsort(o, n, sizeof(*o), env_cmp);
	p->env = xcalloc(n, sizeof(*p->env));
	for (i = 0; i < n; i++) {
		/* Of equal names, the last (the group's) wins. */
		if (i + 1 < n && strcmp(o[i].e->key, o[i + 1].e->key) == 0)
			continue;
		p->env[p->nenv].key = xstrdup(o[i].e->key);
		p->env[p->nenv++].value = xstrdup(o[i].e->value);
	}
	free(o);
}

static bool
env_name_valid(const char *s)
{
	size_t i;

	for (i = 0; s[i] != '\0'; i++)
		if (!(isalpha((unsigned char)s[i]) || s[i] == '_' ||
		    (i > 0 && isdigit((unsigned char)s[i]))))
			return false;
	return i > 0;
}

static void
env_map(struct loader *ld, const struct ynode *val, const char *path,
    struct cfg_env **env, size_t *n)
{
	struct shown v;
	bool *ok;
	size_t i;

	if (!expect_map(ld, val, path, "a mapping of variable name to value"))
		return;
	ok = map_keys(ld, val, path, "variable");
	for (i = 0; i < val->npairs; i++) {
		const struct ynode *k = val->pairs[i].key;
		char *kp, *s;

		if (!ok[i])
			continue;
		kp = path_child(path, k->str);
		if (!env_name_valid(k->str))
			diag(ld, k, kp, "invalid variable name '%s': use "
			    "letters, digits and '_', not starting with a "
			    "digit", show(&v, k->str));
		else if ((s = scalar_text(ld, val->pairs[i].value, kp,
		    "a string (write \"\" for an empty value)")) != NULL) {
			env_add(env, n, k->str, s);	/* names are unique */
			free(s);
		}
		free(kp);
	}
	free(ok);
}

static void
app_env_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct app_build *ab = field;

	(void)r;
	env_map(ld, val, path, &ab->env, &ab->nenv);
}

static void
proc_env_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct proc_build *pb = field;

	(void)r;
	env_map(ld, val, path, &pb->env, &pb->nenv);
}

static void
workdir_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct proc_build *pb = field;
	struct shown v;
	struct stat st;
	char *dir;

	(void)r;
	if ((dir = path_value(ld, val, path)) == NULL)
		return;
	if (ld->check_commands && (stat(dir, &st) < 0 || !S_ISDIR(st.st_mode)))
		diag(ld, val, path, "'%s' is not a folder: create it or fix "
		    "the path", show(&v, dir));
	free(pb->proc.workdir);
	pb->proc.workdir = dir;
}

static bool
is_executable(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0 && S_ISREG(st.st_mode) &&
	    access(path, X_OK) == 0;
}

/* For `command: ./app --flag`: the list it should have been, when simple. */
static char *
command_as_list(const char *s)
{
	struct buf out = BUF_INIT;
	const char *p = s;
	size_t n;

	if (strpbrk(s, "\"'\\") != NULL || strlen(s) > 120)
		return xstrdup("[\"bin\", \"arg\"]");
	buf_addch(&out, '[');
	while (*(p += strspn(p, " \t")) != '\0') {
		n = strcspn(p, " \t");
		buf_printf(&out, "%s\"%.*s\"", out.len > 1 ? ", " : "", (int)n,
		    p);
		p += n;
	}
	buf_addch(&out, ']');
	return buf_detach(&out);
}

/*
 * A command as a list of strings: argv[0] resolved against the config's folder, found
 * in PATH, or left for a release when it starts with ${OPSDECK_RELEASE_DIR}.
 */
static void
argv_parse(struct loader *ld, const struct ynode *val, const char *path,
    char ***argvp, size_t *argcp, bool *from_release)
{
	struct shown v;
	char *kp, *s, *found, *list, **argv;
	size_t i, argc = 0;

	if (val->kind == YNODE_SCALAR && !ynode_is_null(val)) {
		list = command_as_list(val->str);
		diag(ld, val, path, "expected a list of strings, got a string: "
		    "write it as a list like %s", list);
		free(list);
		return;
	}
	if (val->kind != YNODE_SEQ || val->nitems == 0) {
		diag(ld, val, path, "expected a non-empty list of strings like "
		    "[\"bin\", \"arg\"], got %s", node_what(&v, val));
		return;
	}
	argv = xcalloc(val->nitems + 1, sizeof(*argv));
	for (i = 0; i < val->nitems; i++) {
		kp = xasprintf("%s[%zu]", path, i);
		s = scalar_text(ld, val->items[i], kp, "a string");
		if (s != NULL && i == 0 && *s == '\0') {
			diag(ld, val->items[i], kp, "expected the program to "
			    "run, got ''");
			free(s);
			s = NULL;
		}
		free(kp);
		argv[argc++] = s != NULL ? s : xstrdup("");
	}
	*argvp = argv;
	*argcp = argc;
	s = argv[0];
	if (*s == '\0')
		return;
	kp = xasprintf("%s[0]", path);
	if (strncmp(s, CFG_RELEASE_DIR_VAR, strlen(CFG_RELEASE_DIR_VAR)) == 0) {
		/* A program of the artifact: it exists once a release does. */
		if (from_release != NULL)
			*from_release = true;
	} else if (strchr(s, '/') != NULL) {
		argv[0] = resolve(ld, s);
		free(s);
		if (ld->check_commands && !is_executable(argv[0]))
			diag(ld, val->items[0], kp, "'%s' not found or not "
			    "executable: build it or fix the path",
			    show(&v, argv[0]));
	} else if ((found = exec_find(s)) != NULL) {
		argv[0] = found;
		free(s);
	} else if (ld->check_commands) {
		diag(ld, val->items[0], kp, "'%s' not found in PATH: install "
		    "it or give its path", show(&v, s));
	}
	free(kp);
}

static void
command_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct proc_build *pb = field;

	(void)r;
	argv_parse(ld, val, path, &pb->proc.argv, &pb->proc.argc,
	    &pb->proc.from_release);
}

static void
release_command_fn(struct loader *ld, const struct rule *r,
    const struct ynode *val, const char *path, void *field)
{
	struct app_build *ab = field;

	(void)r;
	argv_parse(ld, val, path, &ab->app.release_command,
	    &ab->app.release_argc, NULL);
}

static void
deploy_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	(void)r;
	walk_map(ld, val, val, path, deploy_rules, NRULES(deploy_rules), field);
}

static void
strategy_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	static const char *const names[] = {
		[CFG_STRATEGY_IMMEDIATE] = "immediate",
		[CFG_STRATEGY_BLUEGREEN] = "bluegreen",
		[CFG_STRATEGY_ROLLING] = "rolling",
	};
	enum cfg_strategy *out = field;
	struct shown v;
	char *s;
	size_t i;

	(void)r;
	if ((s = scalar_text(ld, val, path, "a strategy")) == NULL)
		return;
	for (i = 1; i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(names[i], s) == 0) {
			*out = (enum cfg_strategy)i;
			free(s);
			return;
		}
	diag(ld, val, path, "unknown strategy '%s': use immediate, bluegreen "
	    "or rolling", show(&v, s));
	free(s);
}

static void
port_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	static const char what[] = "'auto' or a port 1..65535";
	struct proc_build *pb = field;
	struct shown v;
	long long n;
	char *s;

	(void)r;
	if ((s = scalar_text(ld, val, path, what)) == NULL)
		return;
	if (strcmp(s, "auto") == 0)
		pb->proc.port_mode = CFG_PORT_AUTO;
	else if (parse_int(s, &n) == 0 && n >= 1 && n <= 65535) {
		pb->proc.port_mode = CFG_PORT_FIXED;
		pb->proc.port = (int)n;
	} else
		diag(ld, val, path, "expected %s, got '%s'", what, show(&v, s));
	free(s);
}

/* What a group needs beyond its own keys: env merge, defaults, port use. */
static void
process_finish(struct loader *ld, const struct ynode *node, const char *path,
    struct proc_build *pb)
{
	struct cfg_process *p = &pb->proc;
	const struct ynode *port = ymap_get(node, "port");
	const struct ynode *health = ymap_get(node, "health");
	struct port_use *u;
	char *kp;

	env_merge(p, pb->app->env, pb->app->nenv, pb->env, pb->nenv);
	if (p->workdir == NULL)
		p->workdir = xstrdup(ld->cfg->dir);
	if (p->port_mode == CFG_PORT_FIXED && p->count > 1) {
		kp = path_child(path, "port");
		diag(ld, port, kp, "a fixed port serves one machine, but count "
		    "is %d: use 'port: auto' or 'count: 1'", p->count);
		free(kp);
	}
	if (p->port_mode == CFG_PORT_NONE && health != NULL &&
	    (health->kind == YNODE_MAP || (health->kind == YNODE_SCALAR &&
	    health->plain && strcmp(health->str, "true") == 0))) {
		kp = path_child(path, "health");
		diag(ld, health, kp, "health checks need a port: add 'port: "
		    "auto' or remove 'health'");
		free(kp);
	}
	if (p->port_mode == CFG_PORT_NONE && p->public_port != 0) {
		kp = path_child(path, "public");
		diag_at(ld, p->public_at.line, p->public_at.col, kp, "a public "
		    "address needs the group's own port: add 'port: auto'");
		free(kp);
	}
	if (p->public_port != 0) {
		ld->ports = xreallocarray(ld->ports, ld->nports + 1,
		    sizeof(*ld->ports));
		u = &ld->ports[ld->nports++];
		u->port = p->public_port;
		u->pos = p->public_at;
		u->path = path_child(path, "public");
	}
	if (p->port_mode == CFG_PORT_NONE)
		p->health.enabled = false;
	if (p->port_mode == CFG_PORT_AUTO)
		ld->auto_machines += p->count;
	if (p->port_mode != CFG_PORT_FIXED)
		return;
	ld->ports = xreallocarray(ld->ports, ld->nports + 1,
	    sizeof(*ld->ports));
	u = &ld->ports[ld->nports++];
	u->port = p->port;
	u->pos.line = port->line;
	u->pos.col = port->col;
	u->path = path_child(path, "port");
}

static void
processes_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct app_build *ab = field;
	struct cfg_app *app = &ab->app;
	struct shown v;
	bool *ok;
	size_t i, j;

	(void)r;
	if (!expect_map(ld, val, path, "a mapping of process group name to "
	    "group"))
		return;
	if (val->npairs == 0) {
		diag(ld, val, path, "no process groups: add at least one, like "
		    "web: {command: [\"./app\"]}");
		return;
	}
	ok = map_keys(ld, val, path, "process group");
	app->procs = xcalloc(val->npairs, sizeof(*app->procs));
	for (i = 0; i < val->npairs; i++) {
		const struct ynode *k = val->pairs[i].key;
		const struct ynode *node = val->pairs[i].value;
		struct proc_build pb;
		char *kp;

		if (!ok[i])
			continue;
		kp = path_child(path, k->str);
		memset(&pb, 0, sizeof(pb));
		pb.app = ab;
		pb.proc.name = xstrdup(k->str);
		pb.proc.pos.line = k->line;
		pb.proc.pos.col = k->col;
		pb.proc.count = 1;
		pb.proc.health = ld->defaults.health;
		pb.proc.health.path = xstrdup(ld->defaults.health.path);
		pb.proc.restart = ld->defaults.restart;
		if (!name_valid(k->str))
			diag(ld, k, kp, "invalid process group name '%s': "
			    NAME_RULES, show(&v, k->str));
		walk_map(ld, k, node, kp, process_rules, NRULES(process_rules),
		    &pb);
		if (node->kind == YNODE_MAP)
			process_finish(ld, node, kp, &pb);
		app->procs[app->nprocs++] = pb.proc;
		for (j = 0; j < pb.nenv; j++) {
			free(pb.env[j].key);
			free(pb.env[j].value);
		}
		free(pb.env);
		free(kp);
	}
	free(ok);
}

/* Checks across the whole config: ports clash, and the auto range is big enough. */
static void
check_ports(struct loader *ld, const struct ynode *root)
{
	const struct config *cfg = ld->cfg;
	size_t *first, i;
	long long size, need;

	first = ld->nports > 0 ? xcalloc(65536, sizeof(*first)) : NULL;
	for (i = 0; i < ld->nports; i++) {
		const struct port_use *u = &ld->ports[i];

		if (first[u->port] != 0) {
			diag_at(ld, u->pos.line, u->pos.col, u->path,
			    "port %d is already used by %s: choose "
			    "another", u->port, ld->ports[first[u->port] - 1].path);
			continue;
		}
		first[u->port] = i + 1;
		if (u->port >= cfg->port_from && u->port <= cfg->port_to)
			diag_at(ld, u->pos.line, u->pos.col, u->path,
			    "port %d is inside the auto range "
			    "%d..%d: choose a port outside it or move 'ports'",
			    u->port, cfg->port_from, cfg->port_to);
	}
	free(first);
	if (cfg->port_from > cfg->port_to)
		return;
	size = (long long)cfg->port_to - cfg->port_from + 1;
	need = 2 * ld->auto_machines;
	if (size >= need)
		return;
	diag(ld, ld->range_at != NULL ? ld->range_at : ymap_key(root, "apps"),
	    "ports", "the auto range %d..%d has %lld port%s but %lld machine%s "
	    "use 'port: auto' and need %lld (two each, for blue/green "
	    "deploys): widen the range", cfg->port_from, cfg->port_to, size,
	    size == 1 ? "" : "s", ld->auto_machines,
	    ld->auto_machines == 1 ? "" : "s", need);
}

/* The config's folder, absolute and clean: relative paths in it start there. */
static char *
config_dir(struct loader *ld, const char *file)
{
	char *dir = path_dir(file), *cwd = NULL, *abs, *clean;

	if (dir[0] == '/') {
		abs = dir;
		dir = NULL;
	} else if ((cwd = getcwd(NULL, 0)) != NULL) {
		abs = path_join(cwd, dir);
	} else {
		diag_at(ld, 0, 0, "", "cannot resolve relative paths: the "
		    "current folder is unreadable (%s)", strerror(errno));
		abs = xstrdup("/");
	}
	clean = path_clean(abs);
	free(abs);
	free(dir);
	free(cwd);
	return clean;
}

struct diag_ord {
	struct cfg_diag	 d;
	size_t		 seq;
};

static int
diag_cmp(const void *a, const void *b)
{
	const struct diag_ord *x = a, *y = b;

	if (x->d.pos.line != y->d.pos.line)
		return x->d.pos.line < y->d.pos.line ? -1 : 1;
	if (x->d.pos.col != y->d.pos.col)
		return x->d.pos.col < y->d.pos.col ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* By position; found order among equals, so related messages stay together. */
static void
diags_sort(struct cfg_diags *d)
{
	struct diag_ord *o;
	size_t i;

	if (d->n < 2)
		return;
	o = xreallocarray(NULL, d->n, sizeof(*o));
	for (i = 0; i < d->n; i++) {
		o[i].d = d->items[i];
		o[i].seq = i;
	}
	qsort(o, d->n, sizeof(*o), diag_cmp);
	for (i = 0; i < d->n; i++)
		d->items[i] = o[i].d;
	free(o);
}

int
config_load_string(const char *file, const char *text, size_t len,
    bool check_commands, struct config *cfg, struct cfg_diags *diags)
{
	struct ynode *root = NULL;
	const struct ynode *apps;
	struct ytree_err ye;
	struct loader ld;
	struct shown v;
	size_t i;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	memset(diags, 0, sizeof(*diags));
	memset(&ld, 0, sizeof(ld));
	ld.file = file;
	ld.check_commands = check_commands;
	ld.cfg = cfg;
	ld.diags = diags;
	ld.defaults.health = health_builtin;
	ld.defaults.health.path = xstrdup("/health");
	ld.defaults.restart = restart_builtin;
	cfg->path = xstrdup(file);
	cfg->dir = config_dir(&ld, file);
	cfg->port_from = 4100;
	cfg->port_to = 4999;
	cfg->log_max_bytes = 10 * MIB;
	cfg->log_keep = 3;
	cfg->retain.releases = 10;
	cfg->retain.logs_ms = 14 * DAY_MS;
	cfg->router.drain_ms = 30000;
	cfg->approvals.expire_ms = 3600 * 1000;
	cfg->watch.agents.doing_stale_ms = 15 * 60 * 1000;
	if (ytree_parse(text, len, &root, &ye) < 0) {
		diag_at(&ld, ye.line, ye.col, "", "%s", ye.msg);
		ytree_err_release(&ye);
		goto out;
	}
	if (ynode_is_null(root)) {
		diag_at(&ld, root != NULL ? root->line : 1,
		    root != NULL ? root->col : 1, "", "empty config: add "
		    "'apps:', a mapping of app name to app");
		goto out;
	}
	if (root->kind != YNODE_MAP) {
		diag(&ld, root, "", "expected a mapping at the top level, got "
		    "%s: start with 'apps:'", node_what(&v, root));
		goto out;
	}
	walk_map(&ld, root, root, "", top_rules, NRULES(top_rules), cfg);
	/* a project may use opsdeck for its migrations only (in CI, say) */
	if ((apps = ymap_get(root, "apps")) != NULL && ynode_is_null(apps))
		diag(&ld, apps, "apps", "expected a mapping of app name to app, "
		    "got nothing");
	else if (apps == NULL && ymap_key(root, "migrate") == NULL &&
	    ymap_key(root, "checks") == NULL && ymap_key(root, "heartbeats") ==
	    NULL)
		diag(&ld, root, "apps", "missing required key 'apps': add 'apps:', a "
		    "mapping of app name to app (or only 'migrate:', for a "
		    "project that uses opsdeck for its migrations)");
	check_ports(&ld, root);
	heartbeat_channels_check(&ld);
out:
	diags_sort(diags);
	ret = diags->n == 0 ? 0 : -1;
	if (ret < 0)
		config_release(cfg);
	for (i = 0; i < ld.nports; i++)
		free(ld.ports[i].path);
	free(ld.ports);
	free(ld.defaults.health.path);
	ynode_free(root);
	return ret;
}

int
config_load(const char *file, bool check_commands, struct config *cfg,
    struct cfg_diags *diags)
{
	struct buf text = BUF_INIT;
	struct loader ld;
	struct err e;
	int ret;

	memset(cfg, 0, sizeof(*cfg));
	memset(diags, 0, sizeof(*diags));
	if (file_read(file, CFG_MAX_FILE, &text, &e) < 0) {
		memset(&ld, 0, sizeof(ld));
		ld.file = file;
		ld.diags = diags;
		if (access(file, F_OK) < 0)
			diag_at(&ld, 0, 0, "", "%s: name the config with -c FILE "
			    "or $OPSDECK_CONFIG (opsdeck.yaml(5) describes it)",
			    e.msg);
		else
			diag_at(&ld, 0, 0, "", "%s", e.msg);
		buf_release(&text);
		return -1;
	}
	ret = config_load_string(file, text.data, text.len, check_commands,
	    cfg, diags);
	buf_release(&text);
	return ret;
}

static void
env_free(struct cfg_env *env, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		free(env[i].key);
		free(env[i].value);
	}
	free(env);
}

static void
migrate_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	(void)r;
	(void)field;
	ld->cfg->migrate.pos.line = val->line;
	ld->cfg->migrate.pos.col = val->col;
	walk_map(ld, val, val, path, migrate_rules, NRULES(migrate_rules),
	    &ld->cfg->migrate);
}

static void
migrate_str_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	char **out = field, *s;
	struct shown v;
	size_t i, j;

	if ((s = scalar_text(ld, val, path, "a string")) == NULL)
		return;
	for (i = 0; i < sizeof(migrate_choices) / sizeof(migrate_choices[0]);
	    i++) {
		if (strcmp(migrate_choices[i].key, r->key) != 0)
			continue;
		for (j = 0; migrate_choices[i].values[j] != NULL; j++)
			if (strcmp(migrate_choices[i].values[j], s) == 0) {
				free(*out);
				*out = s;
				return;
			}
		{
			struct buf list = BUF_INIT;

			for (j = 0; migrate_choices[i].values[j] != NULL; j++)
				buf_printf(&list, "%s%s", j == 0 ? "" :
				    migrate_choices[i].values[j + 1] == NULL ?
				    " or " : ", ", migrate_choices[i].values[j]);
			diag(ld, val, path, "unknown value '%s': use %s",
			    show(&v, s), buf_str(&list));
			buf_release(&list);
		}
	}
	free(s);
}

static void
migrate_bool_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	bool *out = field;
	struct shown v;

	(void)r;
	if (val->kind == YNODE_SCALAR && val->plain &&
	    (strcmp(val->str, "true") == 0 || strcmp(val->str, "false") == 0)) {
		*out = strcmp(val->str, "true") == 0;
		return;
	}
	diag(ld, val, path, "expected true or false, got '%s'",
	    val->kind == YNODE_SCALAR ? show(&v, val->str) : "a collection");
}

/* Notes where the comma-separated names of s (written at n) are: one position each. */
static void
rule_names_at(struct cfg_pos **at, size_t *nat, const char *s,
    const struct ynode *n)
{
	size_t k = 1;
	const char *p;

	for (p = s; *p != '\0'; p++)
		k += *p == ',';
	*at = xreallocarray(*at, *nat + k, sizeof(**at));
	while (k-- > 0) {
		(*at)[*nat].line = n->line;
		(*at)[(*nat)++].col = n->col;
	}
}

/* A list of rule ids (or one "a, b" string), kept as "a,b" and where each name is. */
static void
migrate_exclude_fn(struct loader *ld, const struct rule *r,
    const struct ynode *val, const char *path, void *field)
{
	struct cfg_migrate *m = &ld->cfg->migrate;
	struct cfg_pos **at = field == &m->exclude ? &m->exclude_at :
	    &m->include_at;
	char **out = field, *s;
	struct buf b = BUF_INIT;
	size_t i, nat = 0;

	(void)r;
	free(*at);
	*at = NULL;
	if (val->kind == YNODE_SCALAR) {
		if ((s = scalar_text(ld, val, path, "a list of rule ids")) != NULL) {
			buf_addstr(&b, s);
			rule_names_at(at, &nat, s, val);
		}
		free(s);
	} else if (val->kind == YNODE_SEQ) {
		for (i = 0; i < val->nitems; i++) {
			if ((s = scalar_text(ld, val->items[i], path,
			    "a rule id")) == NULL)
				continue;
			buf_printf(&b, "%s%s", b.len ? "," : "", s);
			rule_names_at(at, &nat, s, val->items[i]);
			free(s);
		}
	} else
		diag(ld, val, path, "expected a list of rule ids, like "
		    "[drop-column, prefer-text]");
	free(*out);
	*out = b.len ? buf_detach(&b) : NULL;
	if (*out == NULL) {
		free(*at);
		*at = NULL;
	}
	buf_release(&b);
}

void
config_release(struct config *cfg)
{
	size_t i, j, k;

	for (i = 0; i < cfg->napps; i++) {
		struct cfg_app *a = &cfg->apps[i];

		for (j = 0; j < a->nprocs; j++) {
			struct cfg_process *p = &a->procs[j];

			for (k = 0; k < p->argc; k++)
				free(p->argv[k]);
			free(p->argv);
			env_free(p->env, p->nenv);
			free(p->name);
			free(p->workdir);
			free(p->health.path);
			free(p->public_host);
		}
		for (j = 0; j < a->nroutes; j++)
			free(a->routes[j].tmpl);
		free(a->routes);
		for (j = 0; j < a->release_argc; j++)
			free(a->release_command[j]);
		free(a->release_command);
		free(a->procs);
		free(a->name);
		free(a->stage);
	}
	free(cfg->apps);
	free(cfg->migrate.exclude);
	free(cfg->migrate.include);
	free(cfg->migrate.exclude_at);
	free(cfg->migrate.include_at);
	free(cfg->migrate.policy);
	free(cfg->migrate.fail_on);
	free(cfg->path);
	free(cfg->dir);
	free(cfg->state_dir);
	free(cfg->router.haproxy);
	watch_release(&cfg->watch);
	for (i = 0; i < cfg->approvals.nrules; i++) {
		free(cfg->approvals.rules[i].action);
		free(cfg->approvals.rules[i].stage);
	}
	free(cfg->approvals.rules);
	free(cfg->api.listen);
	for (i = 0; i < cfg->api.nlocal_users; i++) {
		free(cfg->api.local_users[i].user);
		free(cfg->api.local_users[i].actor);
	}
	free(cfg->api.local_users);
	memset(cfg, 0, sizeof(*cfg));
}

char *
cfg_diag_format(const struct cfg_diag *d)
{
	struct buf b = BUF_INIT;

	buf_addstr(&b, d->file);
	if (d->pos.line > 0)
		buf_printf(&b, ":%d:%d", d->pos.line, d->pos.col);
	buf_addstr(&b, ": ");
	if (d->keypath != NULL && d->keypath[0] != '\0')
		buf_printf(&b, "%s: ", d->keypath);
	buf_addstr(&b, d->msg);
	return buf_detach(&b);
}

void
cfg_diags_print(FILE *fp, const struct cfg_diags *diags)
{
	size_t i;

	for (i = 0; i < diags->n; i++) {
		char *line = cfg_diag_format(&diags->items[i]);

		fprintf(fp, "%s\n", line);
		free(line);
	}
}

void
cfg_diags_release(struct cfg_diags *d)
{
	size_t i;

	for (i = 0; i < d->n; i++) {
		free(d->items[i].file);
		free(d->items[i].keypath);
		free(d->items[i].msg);
	}
	free(d->items);
	d->items = NULL;
	d->n = 0;
}

const struct cfg_app *
config_app(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->napps; i++)
		if (strcmp(cfg->apps[i].name, name) == 0)
			return &cfg->apps[i];
	return NULL;
}

const struct cfg_process *
cfg_app_process(const struct cfg_app *app, const char *name)
{
	size_t i;

	for (i = 0; i < app->nprocs; i++)
		if (strcmp(app->procs[i].name, name) == 0)
			return &app->procs[i];
	return NULL;
}

/* Length-prefixed, so no two different configs serialise alike. */
static void
digest_str(struct buf *b, const char *s)
{
	if (s == NULL)
		s = "";
	buf_printf(b, "%zu:", strlen(s));
	buf_addstr(b, s);
	buf_addch(b, ';');
}

static void
digest_int(struct buf *b, long long v)
{
	buf_printf(b, "%lld;", v);
}

void
cfg_app_digest(const struct cfg_app *app, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	struct buf b = BUF_INIT;
	size_t i, j;

	digest_str(&b, "opsdeck-app/1");
	digest_str(&b, app->name);
	digest_str(&b, app->stage);
	digest_int(&b, (long long)app->nprocs);
	for (i = 0; i < app->nprocs; i++) {
		const struct cfg_process *p = &app->procs[i];

		digest_str(&b, p->name);
		digest_int(&b, (long long)p->argc);
		for (j = 0; j < p->argc; j++)
			digest_str(&b, p->argv[j]);
		digest_int(&b, p->count);
		digest_int(&b, (long long)p->nenv);
		for (j = 0; j < p->nenv; j++) {
			digest_str(&b, p->env[j].key);
			digest_str(&b, p->env[j].value);
		}
		digest_str(&b, p->workdir);
		digest_int(&b, p->port_mode);
		digest_int(&b, p->port);
		digest_int(&b, p->health.enabled);
		digest_str(&b, p->health.path);
		digest_int(&b, p->health.interval_ms);
		digest_int(&b, p->health.timeout_ms);
		digest_int(&b, p->health.grace_ms);
		digest_int(&b, p->health.passes);
		digest_int(&b, p->health.failures);
		digest_int(&b, p->restart.backoff_min_ms);
		digest_int(&b, p->restart.backoff_max_ms);
		digest_int(&b, p->restart.crashloop_limit);
		digest_int(&b, p->restart.crashloop_window_ms);
		digest_int(&b, p->restart.stop_timeout_ms);
		digest_int(&b, p->strategy);
	}
	digest_int(&b, (long long)app->release_argc);
	for (i = 0; i < app->release_argc; i++)
		digest_str(&b, app->release_command[i]);
	digest_int(&b, app->release_timeout_ms);
	digest_int(&b, app->deploy.smoke_ms);
	digest_int(&b, app->deploy.timeout_ms);
	digest_int(&b, app->deploy.watch_ms);
	digest_int(&b, app->deploy.watch_failures);
	crypto_hash_sha256(h, (const unsigned char *)buf_str(&b), b.len);
	sodium_bin2hex(out, 65, h, sizeof(h));
	buf_release(&b);
}

/* ---- router ------------------------------------------------------------- */

static void
router_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	(void)r;
	(void)field;
	ld->cfg->router.pos.line = val->line;
	ld->cfg->router.pos.col = val->col;
	walk_map(ld, val, val, path, router_rules, NRULES(router_rules),
	    &ld->cfg->router);
}

static const char *const router_drivers[] = {
	[CFG_ROUTER_HAPROXY] = "haproxy",
	[CFG_ROUTER_NONE] = "none",
};

const char *
cfg_router_driver_str(enum cfg_router_driver d)
{
	return router_drivers[d];
}

static void
router_driver_fn(struct loader *ld, const struct rule *r,
    const struct ynode *val, const char *path, void *field)
{
	struct shown v;
	size_t i;
	char *s;

	(void)r;
	if ((s = scalar_text(ld, val, path, "a router driver")) == NULL)
		return;
	for (i = 0; i < NRULES(router_drivers); i++)
		if (strcmp(router_drivers[i], s) == 0) {
			*(enum cfg_router_driver *)field =
			    (enum cfg_router_driver)i;
			free(s);
			return;
		}
	diag(ld, val, path, "unknown router driver '%s': use haproxy or none",
	    show(&v, s));
	free(s);
}

/* A program name looked up on PATH, or a path made absolute. */
static void
router_binary_fn(struct loader *ld, const struct rule *r,
    const struct ynode *val, const char *path, void *field)
{
	char **out = field;
	char *s;

	(void)r;
	if ((s = scalar_text(ld, val, path, "a program, like haproxy or "
	    "/usr/sbin/haproxy")) == NULL)
		return;
	if (*s == '\0') {
		diag(ld, val, path, "expected a program, got '': remove the key "
		    "to use haproxy from PATH");
		free(s);
		return;
	}
	free(*out);
	if (strchr(s, '/') != NULL) {
		*out = resolve(ld, s);
		free(s);
	} else
		*out = s;
}

/* "8080" (all addresses), "127.0.0.1:8080", "[::1]:8080" */
static void
public_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	static const char what[] = "an address like '127.0.0.1:8080' or a port "
	    "like 8080";
	struct proc_build *pb = field;
	struct shown v;
	const char *colon, *port;
	long long n;
	char *s, *host;

	(void)r;
	if ((s = scalar_text(ld, val, path, what)) == NULL)
		return;
	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (end == NULL || end[1] != ':') {
			diag(ld, val, path, "expected %s, got '%s'", what,
			    show(&v, s));
			free(s);
			return;
		}
		host = xstrndup(s + 1, (size_t)(end - s - 1));
		port = end + 2;
	} else if ((colon = strrchr(s, ':')) != NULL) {
		host = xstrndup(s, (size_t)(colon - s));
		port = colon + 1;
	} else {
		host = xstrdup("0.0.0.0");
		port = s;
	}
	if (*host == '\0' || strspn(host, "0123456789abcdefABCDEF.:") !=
	    strlen(host)) {
		diag(ld, val, path, "expected a numeric IPv4 or IPv6 address "
		    "before the port, got '%s'", show(&v, host));
		free(host);
	} else if (parse_int(port, &n) < 0 || n < 1 || n > 65535) {
		diag(ld, val, path, "expected a port 1..65535 after the address, "
		    "got '%s'", show(&v, port));
		free(host);
	} else {
		free(pb->proc.public_host);
		pb->proc.public_host = host;
		pb->proc.public_port = (int)n;
		pb->proc.public_at.line = val->line;
		pb->proc.public_at.col = val->col;
	}
	free(s);
}

/* A list of route templates; their syntax is checked by stats/ (route_compile). */
static void
routes_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct app_build *ab = field;
	struct cfg_app *a = &ab->app;
	struct shown v;
	size_t i;

	(void)r;
	if (val->kind != YNODE_SEQ) {
		diag(ld, val, path, "expected a list of route templates like "
		    "[\"/api/tiles/:id\"], got %s", node_what(&v, val));
		return;
	}
	a->routes = xcalloc(val->nitems + 1, sizeof(*a->routes));
	for (i = 0; i < val->nitems; i++) {
		char *kp = xasprintf("%s[%zu]", path, i);
		char *s = scalar_text(ld, val->items[i], kp, "a route template "
		    "like '/api/tiles/:id'");

		free(kp);
		if (s == NULL)
			continue;
		a->routes[a->nroutes].tmpl = s;
		a->routes[a->nroutes].pos.line = val->items[i]->line;
		a->routes[a->nroutes].pos.col = val->items[i]->col;
		a->nroutes++;
	}
}

static void
rollback_on_fn(struct loader *ld, const struct rule *r,
    const struct ynode *val, const char *path, void *field)
{
	struct cfg_rollback_on *rb = field;
	struct shown v;

	(void)r;
	if (val->kind == YNODE_SCALAR && val->plain &&
	    strcmp(val->str, "false") == 0) {
		rb->error_rate = -1;
		rb->p95_ms = 0;
		return;
	}
	if (val->kind != YNODE_MAP) {
		diag(ld, val, path, "expected false or a mapping like "
		    "{error_rate: 5%%, p95: 2s, window: 10s}, got %s",
		    node_what(&v, val));
		return;
	}
	walk_map(ld, val, val, path, rollback_on_rules,
	    NRULES(rollback_on_rules), rb);
}

/* "5%", "0.5%", "0.05" or "off" */
static void
error_rate_fn(struct loader *ld, const struct rule *r,
    const struct ynode *val, const char *path, void *field)
{
	static const char what[] = "a share of requests like '5%' or 0.05, or "
	    "off";
	double *out = field, d;
	struct shown v;
	char *s, *end;

	(void)r;
	if ((s = scalar_text(ld, val, path, what)) == NULL)
		return;
	if (strcmp(s, "off") == 0) {
		*out = -1;
		free(s);
		return;
	}
	errno = 0;
	d = strtod(s, &end);
	if (end == s || errno != 0 || !(d >= 0)) {
		diag(ld, val, path, "expected %s, got '%s'", what, show(&v, s));
		free(s);
		return;
	}
	if (*end == '%' && end[1] == '\0')
		d /= 100;
	else if (*end != '\0') {
		diag(ld, val, path, "expected %s, got '%s'", what, show(&v, s));
		free(s);
		return;
	}
	if (d >= 1)
		diag(ld, val, path, "an error rate of '%s' never flips back: give "
		    "less than 100%%, or write off", show(&v, s));
	else
		*out = d;
	free(s);
}

bool
cfg_process_routed(const struct config *cfg, const struct cfg_process *p)
{
	return cfg->router.driver == CFG_ROUTER_HAPROXY && p->public_port != 0;
}

/* ---- watch: checks, heartbeats, channels, notify, maintenance ----------- */

static const char *const severities[] = {
	[CFG_SEV_CRITICAL] = "critical",
	[CFG_SEV_WARNING] = "warning",
	[CFG_SEV_INFO] = "info",
};

const char *
cfg_severity_str(enum cfg_severity s)
{
	return severities[s];
}

static bool
severity_parse(const char *s, enum cfg_severity *out)
{
	size_t i;

	for (i = 0; i < NRULES(severities); i++)
		if (strcmp(s, severities[i]) == 0) {
			*out = (enum cfg_severity)i;
			return true;
		}
	return false;
}

static void
severity_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct shown v;
	char *s;

	(void)r;
	if ((s = scalar_text(ld, val, path, "critical, warning or info")) == NULL)
		return;
	if (!severity_parse(s, field))
		diag(ld, val, path, "unknown severity '%s': use critical, warning "
		    "or info", show(&v, s));
	free(s);
}

/* A string field (char **), replacing what was there. */
static void
string_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	char **out = field, *s;

	(void)r;
	if ((s = scalar_text(ld, val, path, "a string")) == NULL)
		return;
	free(*out);
	*out = s;
}

static void
bool_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	migrate_bool_fn(ld, r, val, path, field);
}

/* A list of strings (or one string) into a NULL-terminated array. */
static void
strings(struct loader *ld, const struct ynode *val, const char *path,
    const char *what, char ***out, size_t *n)
{
	struct shown v;
	size_t i;

	if (val->kind == YNODE_SCALAR && !ynode_is_null(val)) {
		char *s = scalar_text(ld, val, path, what);

		if (s == NULL)
			return;
		*out = xcalloc(2, sizeof(**out));
		(*out)[0] = s;
		*n = 1;
		return;
	}
	if (val->kind != YNODE_SEQ) {
		diag(ld, val, path, "expected a list of %ss, got %s", what,
		    node_what(&v, val));
		return;
	}
	*out = xcalloc(val->nitems + 1, sizeof(**out));
	for (i = 0; i < val->nitems; i++) {
		char *kp = xasprintf("%s[%zu]", path, i);
		char *s = scalar_text(ld, val->items[i], kp, what);

		free(kp);
		if (s != NULL)
			(*out)[(*n)++] = s;
	}
}

static void
http_target_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_check *c = field;
	struct shown v;
	char *s;

	(void)r;
	if ((s = scalar_text(ld, val, path, "a URL like http://127.0.0.1:8080/health"))
	    == NULL)
		return;
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) {
		diag(ld, val, path, "expected an http:// or https:// URL, got '%s'",
		    show(&v, s));
		free(s);
		return;
	}
	if (c->target != NULL)
		diag(ld, val, path, "a check is http or tcp, not both: remove one");
	free(c->target);
	c->target = s;
	c->kind = CFG_CHECK_HTTP;
}

static void
tcp_target_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_check *c = field;
	struct shown v;
	const char *colon;
	long long port;
	char *s;

	(void)r;
	if ((s = scalar_text(ld, val, path, "host:port like 127.0.0.1:5432")) ==
	    NULL)
		return;
	colon = strrchr(s, ':');
	if (colon == NULL || colon == s || parse_int(colon + 1, &port) < 0 ||
	    port < 1 || port > 65535) {
		diag(ld, val, path, "expected host:port like 127.0.0.1:5432, got "
		    "'%s'", show(&v, s));
		free(s);
		return;
	}
	if (c->target != NULL)
		diag(ld, val, path, "a check is http or tcp, not both: remove one");
	free(c->target);
	c->target = s;
	c->kind = CFG_CHECK_TCP;
}

static void
route_target_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_check *c = field;
	char *s;

	(void)r;
	if ((s = scalar_text(ld, val, path, "a route template of the app's routes: "
	    "like /api/tiles/:id, or \"*\" for all of them")) == NULL)
		return;
	if (c->target != NULL)
		diag(ld, val, path, "a check is http, tcp or route, one of them: "
		    "remove the others");
	free(c->target);
	c->target = s;
	c->kind = CFG_CHECK_ROUTE;
	c->target_at.line = val->line;
	c->target_at.col = val->col;
}

static void
method_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	char **out = field, *s;
	struct shown v;
	size_t i;

	(void)r;
	if ((s = scalar_text(ld, val, path, "an HTTP method like GET")) == NULL)
		return;
	for (i = 0; s[i]; i++)
		if (!isupper((unsigned char)s[i]))
			break;
	if (i == 0 || s[i] != '\0' || i > 16) {
		diag(ld, val, path, "expected an HTTP method in capitals like GET "
		    "or POST, got '%s'", show(&v, s));
		free(s);
		return;
	}
	free(*out);
	*out = s;
}

static void
headers_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_check *c = field;
	struct shown v;
	bool *ok;
	size_t i;

	(void)r;
	if (!expect_map(ld, val, path, "a mapping of header name to value"))
		return;
	ok = map_keys(ld, val, path, "header");
	c->headers = xcalloc(val->npairs + 1, sizeof(*c->headers));
	for (i = 0; i < val->npairs; i++) {
		const char *k;
		char *kp, *s;

		if (!ok[i])
			continue;
		k = val->pairs[i].key->str;
		kp = path_child(path, k);
		if (strspn(k, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
		    "0123456789-_") != strlen(k) || *k == '\0')
			diag(ld, val->pairs[i].key, kp, "invalid header name '%s': "
			    "letters, digits, '-' and '_'", show(&v, k));
		else if ((s = scalar_text(ld, val->pairs[i].value, kp, "a string"))
		    != NULL) {
			if (strpbrk(s, "\r\n") != NULL) {
				diag(ld, val->pairs[i].value, kp, "a header value "
				    "cannot hold a line break");
				free(s);
			} else {
				c->headers[c->nheaders].name = xstrdup(k);
				c->headers[c->nheaders++].value = s;
			}
		}
		free(kp);
	}
	free(ok);
}

static void
conditions_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_check *c = field;
	struct shown v;
	size_t i;

	(void)r;
	if (val->kind != YNODE_SEQ) {
		diag(ld, val, path, "expected a list of conditions like "
		    "[\"[STATUS] == 200\"], got %s", node_what(&v, val));
		return;
	}
	c->conds = xcalloc(val->nitems + 1, sizeof(*c->conds));
	for (i = 0; i < val->nitems; i++) {
		char *kp = xasprintf("%s[%zu]", path, i);
		char *s = scalar_text(ld, val->items[i], kp, "a condition like "
		    "'[STATUS] == 200'");

		free(kp);
		if (s == NULL)
			continue;
		c->conds[c->nconds].text = s;
		c->conds[c->nconds].pos.line = val->items[i]->line;
		c->conds[c->nconds].pos.col = val->items[i]->col;
		c->nconds++;
	}
}

static const struct rule flap_rules[] = {
	{ "failures", RULE_INT, offsetof(struct cfg_check, flap_failures), 1, 1000,
	    NULL, "add failures: N (failed runs that count as flapping)" },
	{ "runs", RULE_INT, offsetof(struct cfg_check, flap_runs), 1, 1000, NULL,
	    "add runs: N (the last runs they are counted in)" },
};

static void
flap_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_check *c = field;

	(void)r;
	walk_map(ld, val, val, path, flap_rules, NRULES(flap_rules), c);
	if (c->flap_failures > c->flap_runs && c->flap_runs > 0)
		diag(ld, val, path, "flap: %d failures can never happen in %d "
		    "runs: give failures <= runs", c->flap_failures, c->flap_runs);
}

static void
ref_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_check *c = field;

	string_fn(ld, r, val, path, &c->depends_on);
	c->depends_at.line = val->line;
	c->depends_at.col = val->col;
}

/* A route check names an app with the route among its routes:, and has conditions. */
static void
route_check_refs(struct loader *ld, const struct ynode *val, const char *kp,
    const struct cfg_check *c)
{
	const struct cfg_app *app;
	char *tp = path_child(kp, "route");
	size_t i;

	if (c->app == NULL)
		diag(ld, val, kp, "a route check needs app: the app whose "
		    "requests it judges");
	else if ((app = config_app(ld->cfg, c->app)) != NULL &&
	    strcmp(c->target, "*") != 0) {
		for (i = 0; i < app->nroutes; i++)
			if (strcmp(app->routes[i].tmpl, c->target) == 0)
				break;
		if (i == app->nroutes)
			diag_at(ld, c->target_at.line, c->target_at.col, tp,
			    "'%s' is not a route of app %s: add it to its "
			    "routes: or use \"*\" for all of them", c->target,
			    c->app);
	}
	if (c->nconds == 0)
		diag(ld, val, kp, "a route check needs conditions: like "
		    "[\"[P95] < 5s\", \"[ERROR_RATE] < 2\"]");
	free(tp);
}

static const struct rule check_rules[] = {
	{ "http", RULE_FN, 0, 0, 0, http_target_fn, NULL },
	{ "tcp", RULE_FN, 0, 0, 0, tcp_target_fn, NULL },
	{ "route", RULE_FN, 0, 0, 0, route_target_fn, NULL },
	{ "window", RULE_DURATION, offsetof(struct cfg_check, window_ms), 1000,
	    3600 * 1000, NULL, NULL },
	{ "min_requests", RULE_INT, offsetof(struct cfg_check, min_requests), 0,
	    1000000, NULL, NULL },
	{ "method", RULE_FN, offsetof(struct cfg_check, method), 0, 0, method_fn,
	    NULL },
	{ "headers", RULE_FN, 0, 0, 0, headers_fn, NULL },
	{ "body", RULE_FN, offsetof(struct cfg_check, body), 0, 0, string_fn, NULL },
	{ "interval", RULE_DURATION, offsetof(struct cfg_check, interval_ms), 100,
	    DURATION_MAX, NULL, NULL },
	{ "timeout", RULE_DURATION, offsetof(struct cfg_check, timeout_ms), 1,
	    10 * 60 * 1000, NULL, NULL },
	{ "conditions", RULE_FN, 0, 0, 0, conditions_fn, NULL },
	{ "failures", RULE_INT, offsetof(struct cfg_check, failures), 1, 100, NULL,
	    NULL },
	{ "successes", RULE_INT, offsetof(struct cfg_check, successes), 1, 100,
	    NULL, NULL },
	{ "flap", RULE_FN, 0, 0, 0, flap_fn, NULL },
	{ "max_body", RULE_SIZE, offsetof(struct cfg_check, max_body), 1,
	    16 * MIB, NULL, NULL },
	{ "severity", RULE_FN, offsetof(struct cfg_check, severity), 0, 0,
	    severity_fn, NULL },
	{ "app", RULE_FN, offsetof(struct cfg_check, app), 0, 0, string_fn, NULL },
	{ "depends_on", RULE_FN, 0, 0, 0, ref_fn, NULL },
};

/* NAME: {...} sections: a mapping whose keys are names. Calls each(ld, key, value). */
static void
named_map(struct loader *ld, const struct ynode *val, const char *path,
    const char *noun, void (*each)(struct loader *, const struct ynode *,
    const struct ynode *, const char *))
{
	struct shown v;
	bool *ok;
	size_t i;
	char what[64];

	snprintf(what, sizeof(what), "a mapping of %s name to %s", noun, noun);
	if (!expect_map(ld, val, path, what))
		return;
	ok = map_keys(ld, val, path, noun);
	for (i = 0; i < val->npairs; i++) {
		const struct ynode *k = val->pairs[i].key;
		char *kp;

		if (!ok[i])
			continue;
		kp = path_child(path, k->str);
		if (!name_valid(k->str))
			diag(ld, k, kp, "invalid %s name '%s': " NAME_RULES, noun,
			    show(&v, k->str));
		else
			each(ld, k, val->pairs[i].value, kp);
		free(kp);
	}
	free(ok);
}

static void
check_one(struct loader *ld, const struct ynode *k, const struct ynode *val,
    const char *kp)
{
	struct cfg_watch *w = &ld->cfg->watch;
	struct cfg_check *c;

	w->checks = xreallocarray(w->checks, w->nchecks + 1, sizeof(*w->checks));
	c = &w->checks[w->nchecks++];
	memset(c, 0, sizeof(*c));
	c->name = xstrdup(k->str);
	c->method = xstrdup("GET");
	c->interval_ms = 30000;
	c->timeout_ms = 10000;
	c->failures = 3;
	c->successes = 1;
	c->max_body = 64 * KIB;
	c->window_ms = 5 * 60 * 1000;
	c->min_requests = 20;
	c->pos.line = k->line;
	c->pos.col = k->col;
	if (val->kind == YNODE_MAP && ymap_get(val, "route") != NULL &&
	    ymap_get(val, "interval") == NULL)
		c->interval_ms = 10000;
	walk_map(ld, k, val, kp, check_rules, NRULES(check_rules), c);
	if (val->kind == YNODE_MAP && ymap_get(val, "http") == NULL &&
	    ymap_get(val, "tcp") == NULL && ymap_get(val, "route") == NULL)
		diag(ld, k, kp, "missing the target: add http: URL, tcp: "
		    "host:port or route: TEMPLATE");
	if (c->kind == CFG_CHECK_ROUTE)
		route_check_refs(ld, val, kp, c);
	else if (val->kind == YNODE_MAP && (ymap_get(val, "window") != NULL ||
	    ymap_get(val, "min_requests") != NULL))
		diag(ld, k, kp, "window and min_requests are for route checks: "
		    "remove them or add route:");
	if (c->timeout_ms > c->interval_ms && val->kind == YNODE_MAP &&
	    c->kind != CFG_CHECK_ROUTE)
		diag(ld, k, kp, "timeout is longer than interval: runs would "
		    "overlap; give a timeout below the interval");
	if (c->app != NULL && config_app(ld->cfg, c->app) == NULL)
		diag(ld, k, kp, "app '%s' is not in apps:", c->app);
}

static void
checks_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_watch *w = &ld->cfg->watch;
	size_t i;

	(void)r;
	(void)field;
	named_map(ld, val, path, "check", check_one);
	/* parents exist, and no check depends on itself through others */
	for (i = 0; i < w->nchecks; i++) {
		const struct cfg_check *c = &w->checks[i], *p = c;
		size_t hops = 0;
		char *kp;

		if (c->depends_on == NULL)
			continue;
		kp = xasprintf("%s.%s.depends_on", path, c->name);
		while (p != NULL && p->depends_on != NULL && hops <= w->nchecks) {
			const struct cfg_check *next = config_check(ld->cfg,
			    p->depends_on);

			if (next == NULL) {
				if (p == c)
					diag_at(ld, c->depends_at.line,
					    c->depends_at.col, kp, "no check "
					    "named '%s' in checks:", c->depends_on);
				break;
			}
			p = next;
			hops++;
			if (p == c) {
				diag_at(ld, c->depends_at.line, c->depends_at.col,
				    kp, "'%s' depends on itself through '%s': "
				    "remove a link", c->name, c->depends_on);
				break;
			}
		}
		free(kp);
	}
}

static void
hb_schedule_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_heartbeat *h = field;

	string_fn(ld, r, val, path, &h->schedule);
	h->schedule_at.line = val->line;
	h->schedule_at.col = val->col;
}

static void
hb_tz_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_heartbeat *h = field;

	string_fn(ld, r, val, path, &h->tz);
	h->tz_at.line = val->line;
	h->tz_at.col = val->col;
}

static void
hb_actor_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_heartbeat *h = field;
	struct shown v;

	string_fn(ld, r, val, path, &h->actor);
	h->actor_at.line = val->line;
	h->actor_at.col = val->col;
	if (h->actor != NULL && !name_valid(h->actor))
		diag(ld, val, path, "'%s' is not an actor's name: lowercase "
		    "letters, digits, '-' and '_'", show(&v, h->actor));
}

static void
hb_channels_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_heartbeat *h = field;

	(void)r;
	strings(ld, val, path, "channel", &h->channels, &h->nchannels);
	h->channels_at.line = val->line;
	h->channels_at.col = val->col;
}

static const struct rule heartbeat_rules[] = {
	{ "period", RULE_DURATION, offsetof(struct cfg_heartbeat, period_ms), 1000,
	    366 * DAY_MS, NULL, NULL },
	{ "schedule", RULE_FN, 0, 0, 0, hb_schedule_fn, NULL },
	{ "tz", RULE_FN, 0, 0, 0, hb_tz_fn, NULL },
	{ "grace", RULE_DURATION, offsetof(struct cfg_heartbeat, grace_ms), 0,
	    31 * DAY_MS, NULL, NULL },
	{ "doing_stale", RULE_DURATION,
	    offsetof(struct cfg_heartbeat, doing_stale_ms), 1000, 31 * DAY_MS,
	    NULL, NULL },
	{ "severity", RULE_FN, offsetof(struct cfg_heartbeat, severity), 0, 0,
	    severity_fn, NULL },
	{ "app", RULE_FN, offsetof(struct cfg_heartbeat, app), 0, 0, string_fn,
	    NULL },
	{ "actor", RULE_FN, 0, 0, 0, hb_actor_fn, NULL },
	{ "channels", RULE_FN, 0, 0, 0, hb_channels_fn, NULL },
};

static void
heartbeat_one(struct loader *ld, const struct ynode *k, const struct ynode *val,
    const char *kp)
{
	struct cfg_watch *w = &ld->cfg->watch;
	struct cfg_heartbeat *h;

	w->heartbeats = xreallocarray(w->heartbeats, w->nheartbeats + 1,
	    sizeof(*w->heartbeats));
	h = &w->heartbeats[w->nheartbeats++];
	memset(h, 0, sizeof(*h));
	h->name = xstrdup(k->str);
	h->grace_ms = 3600 * 1000;
	h->doing_stale_ms = 15 * 60 * 1000;
	h->pos.line = k->line;
	h->pos.col = k->col;
	walk_map(ld, k, val, kp, heartbeat_rules, NRULES(heartbeat_rules), h);
	if (h->schedule != NULL && h->period_ms > 0)
		diag(ld, k, kp, "give period or schedule, not both");
	else if (h->schedule == NULL && h->period_ms == 0)
		h->period_ms = DAY_MS;
	if (h->tz != NULL && h->schedule == NULL)
		diag_at(ld, h->tz_at.line, h->tz_at.col, kp, "tz is for a "
		    "schedule: add schedule: or remove tz");
	if (h->app != NULL && config_app(ld->cfg, h->app) == NULL)
		diag(ld, k, kp, "app '%s' is not in apps:", h->app);
}

static void
agents_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	(void)r;
	(void)field;
	walk_map(ld, val, val, path, agents_rules, NRULES(agents_rules),
	    &ld->cfg->watch.agents);
}

static void
agents_channels_fn(struct loader *ld, const struct rule *r,
    const struct ynode *val, const char *path, void *field)
{
	struct cfg_agents *a = field;

	(void)r;
	strings(ld, val, path, "channel", &a->channels, &a->nchannels);
	a->channels_at.line = val->line;
	a->channels_at.col = val->col;
}

/* Whether channels: names ch. */
static bool
channel_named(const struct cfg_watch *w, const char *ch)
{
	size_t k;

	for (k = 0; k < w->nchannels; k++)
		if (strcmp(w->channels[k].name, ch) == 0)
			return true;
	return false;
}

/*
 * The channels heartbeats and agents: name are in channels: (read after them).
 */
static void
heartbeat_channels_check(struct loader *ld)
{
	const struct cfg_watch *w = &ld->cfg->watch;
	struct shown v;
	size_t i, j;
	char *kp;

	for (i = 0; i < w->nheartbeats; i++)
		for (j = 0; j < w->heartbeats[i].nchannels; j++) {
			if (channel_named(w, w->heartbeats[i].channels[j]))
				continue;
			kp = xasprintf("heartbeats.%s.channels",
			    w->heartbeats[i].name);
			diag_at(ld, w->heartbeats[i].channels_at.line,
			    w->heartbeats[i].channels_at.col, kp, "no channel "
			    "named '%s' in channels:", show(&v,
			    w->heartbeats[i].channels[j]));
			free(kp);
		}
	for (j = 0; j < w->agents.nchannels; j++)
		if (!channel_named(w, w->agents.channels[j]))
			diag_at(ld, w->agents.channels_at.line,
			    w->agents.channels_at.col, "agents.channels", "no "
			    "channel named '%s' in channels:", show(&v,
			    w->agents.channels[j]));
}

static void
heartbeats_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	(void)r;
	(void)field;
	named_map(ld, val, path, "heartbeat", heartbeat_one);
}

static void
webhook_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_channel *ch = field;
	struct shown v;
	char *s;

	(void)r;
	if ((s = scalar_text(ld, val, path, "a URL")) == NULL)
		return;
	if (strncmp(s, "http://", 7) != 0 && strncmp(s, "https://", 8) != 0) {
		diag(ld, val, path, "expected an http:// or https:// URL, got '%s'",
		    show(&v, s));
		free(s);
		return;
	}
	free(ch->url);
	ch->url = s;
	ch->kind = CFG_CHANNEL_WEBHOOK;
	ch->pos.line = val->line;
}

static void
email_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_channel *ch = field;
	struct shown v;
	char *s;

	(void)r;
	if ((s = scalar_text(ld, val, path, "an SMTP URL")) == NULL)
		return;
	if (strncmp(s, "smtp://", 7) != 0 && strncmp(s, "smtps://", 8) != 0) {
		diag(ld, val, path, "expected an smtp:// or smtps:// URL like "
		    "smtp://127.0.0.1:25, got '%s'", show(&v, s));
		free(s);
		return;
	}
	free(ch->url);
	ch->url = s;
	ch->kind = CFG_CHANNEL_EMAIL;
	ch->pos.line = val->line;
}

static void
to_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_channel *ch = field;

	(void)r;
	strings(ld, val, path, "address", &ch->to, &ch->nto);
}

static void
channel_command_fn(struct loader *ld, const struct rule *r,
    const struct ynode *val, const char *path, void *field)
{
	struct cfg_channel *ch = field;

	(void)r;
	argv_parse(ld, val, path, &ch->argv, &ch->argc, NULL);
	ch->kind = CFG_CHANNEL_COMMAND;
	ch->pos.line = val->line;
}

static const struct rule channel_rules[] = {
	{ "webhook", RULE_FN, 0, 0, 0, webhook_fn, NULL },
	{ "slack", RULE_FN, offsetof(struct cfg_channel, slack), 0, 0, bool_fn,
	    NULL },
	{ "email", RULE_FN, 0, 0, 0, email_fn, NULL },
	{ "from", RULE_FN, offsetof(struct cfg_channel, from), 0, 0, string_fn,
	    NULL },
	{ "to", RULE_FN, 0, 0, 0, to_fn, NULL },
	{ "command", RULE_FN, 0, 0, 0, channel_command_fn, NULL },
};

static void
channel_one(struct loader *ld, const struct ynode *k, const struct ynode *val,
    const char *kp)
{
	struct cfg_watch *w = &ld->cfg->watch;
	struct cfg_channel *ch;
	int kinds;

	w->channels = xreallocarray(w->channels, w->nchannels + 1,
	    sizeof(*w->channels));
	ch = &w->channels[w->nchannels++];
	memset(ch, 0, sizeof(*ch));
	ch->name = xstrdup(k->str);
	walk_map(ld, k, val, kp, channel_rules, NRULES(channel_rules), ch);
	kinds = (ymap_get(val, "webhook") != NULL) + (ymap_get(val, "email") !=
	    NULL) + (ymap_get(val, "command") != NULL);
	if (val->kind == YNODE_MAP && kinds != 1)
		diag(ld, k, kp, "a channel is one of webhook: URL, email: "
		    "SMTP_URL or command: [argv]");
	else if (ch->kind == CFG_CHANNEL_EMAIL && (ch->nto == 0 || ch->from ==
	    NULL))
		diag(ld, k, kp, "an email channel needs from: and to:");
	ch->pos.line = k->line;
	ch->pos.col = k->col;
}

static void
channels_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	(void)r;
	(void)field;
	named_map(ld, val, path, "channel", channel_one);
}

static const struct cfg_channel *
config_channel(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->watch.nchannels; i++)
		if (strcmp(cfg->watch.channels[i].name, name) == 0)
			return &cfg->watch.channels[i];
	return NULL;
}

static void
notify_route(struct loader *ld, const struct ynode *val, const char *path,
    struct cfg_notify_route *nr)
{
	struct shown v;
	char **sev = NULL;
	size_t nsev = 0, i;
	bool *ok;

	nr->pos.line = val->line;
	nr->pos.col = val->col;
	if (!expect_map(ld, val, path, "a mapping like {severity: [critical], "
	    "channels: [pager]}"))
		return;
	ok = map_keys(ld, val, path, "key");
	for (i = 0; i < val->npairs; i++) {
		const char *key = val->pairs[i].key->str;
		const struct ynode *v2 = val->pairs[i].value;
		char *kp;

		if (!ok[i])
			continue;
		kp = path_child(path, key);
		if (strcmp(key, "severity") == 0)
			strings(ld, v2, kp, "severity", &sev, &nsev);
		else if (strcmp(key, "app") == 0)
			string_fn(ld, NULL, v2, kp, &nr->app);
		else if (strcmp(key, "channels") == 0)
			strings(ld, v2, kp, "channel", &nr->channels,
			    &nr->nchannels);
		else
			diag(ld, val->pairs[i].key, kp, "unknown key '%s': use "
			    "severity, app or channels", show(&v, key));
		free(kp);
	}
	free(ok);
	for (i = 0; i < nsev; i++) {
		enum cfg_severity s;

		if (severity_parse(sev[i], &s))
			nr->severities |= 1u << s;
		else
			diag(ld, val, path, "unknown severity '%s': use critical, "
			    "warning or info", show(&v, sev[i]));
		free(sev[i]);
	}
	free(sev);
	if (nr->nchannels == 0)
		diag(ld, val, path, "a route needs channels: [NAME, ...]");
	for (i = 0; i < nr->nchannels; i++)
		if (config_channel(ld->cfg, nr->channels[i]) == NULL)
			diag(ld, val, path, "no channel named '%s' in channels:",
			    show(&v, nr->channels[i]));
	if (nr->app != NULL && config_app(ld->cfg, nr->app) == NULL)
		diag(ld, val, path, "app '%s' is not in apps:", show(&v, nr->app));
}

static void
notify_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_watch *w = &ld->cfg->watch;
	const struct ynode *routes, *remind;
	struct shown v;
	size_t i;

	(void)r;
	(void)field;
	if (!expect_map(ld, val, path, "a mapping like {remind: 1h, routes: "
	    "[...]}"))
		return;
	for (i = 0; i < val->npairs; i++) {
		const char *key = val->pairs[i].key->str;

		if (val->pairs[i].key->kind == YNODE_SCALAR &&
		    strcmp(key, "remind") != 0 && strcmp(key, "routes") != 0) {
			char *kp = path_child(path, key);

			diag(ld, val->pairs[i].key, kp, "unknown key '%s': use "
			    "remind or routes", show(&v, key));
			free(kp);
		}
	}
	if ((remind = ymap_get(val, "remind")) != NULL) {
		static const struct rule rr = { "remind", RULE_DURATION, 0, 0,
		    31 * DAY_MS, NULL, NULL };
		char *kp = path_child(path, "remind");

		apply_duration(ld, &rr, remind, kp, &w->remind_ms);
		free(kp);
	}
	if ((routes = ymap_get(val, "routes")) == NULL)
		return;
	if (routes->kind != YNODE_SEQ) {
		diag(ld, routes, path, "expected a list of routes, got %s",
		    node_what(&v, routes));
		return;
	}
	w->routes = xcalloc(routes->nitems + 1, sizeof(*w->routes));
	for (i = 0; i < routes->nitems; i++) {
		char *kp = xasprintf("%s.routes[%zu]", path, i);

		notify_route(ld, routes->items[i], kp, &w->routes[w->nroutes++]);
		free(kp);
	}
}

static void
maint_checks_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_maintenance *m = field;

	(void)r;
	strings(ld, val, path, "check", &m->checks, &m->nchecks);
}

static void
maint_apps_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_maintenance *m = field;

	(void)r;
	strings(ld, val, path, "app", &m->apps, &m->napps);
}

static void
maint_schedule_fn(struct loader *ld, const struct rule *r,
    const struct ynode *val, const char *path, void *field)
{
	struct cfg_maintenance *m = field;

	string_fn(ld, r, val, path, &m->schedule);
	m->schedule_at.line = val->line;
	m->schedule_at.col = val->col;
}

static void
maint_tz_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	struct cfg_maintenance *m = field;

	string_fn(ld, r, val, path, &m->tz);
	m->tz_at.line = val->line;
	m->tz_at.col = val->col;
}

static const struct rule maint_rules[] = {
	{ "schedule", RULE_FN, 0, 0, 0, maint_schedule_fn,
	    "add schedule: a cron of the window's start, like '0 2 * * sun'" },
	{ "tz", RULE_FN, 0, 0, 0, maint_tz_fn, NULL },
	{ "duration", RULE_DURATION, offsetof(struct cfg_maintenance, duration_ms),
	    60000, 31 * DAY_MS, NULL, "add duration: like 30m" },
	{ "checks", RULE_FN, 0, 0, 0, maint_checks_fn, NULL },
	{ "apps", RULE_FN, 0, 0, 0, maint_apps_fn, NULL },
};

static void
maint_one(struct loader *ld, const struct ynode *k, const struct ynode *val,
    const char *kp)
{
	struct cfg_watch *w = &ld->cfg->watch;
	struct cfg_maintenance *m;
	size_t i;

	w->maint = xreallocarray(w->maint, w->nmaint + 1, sizeof(*w->maint));
	m = &w->maint[w->nmaint++];
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(k->str);
	m->pos.line = k->line;
	m->pos.col = k->col;
	walk_map(ld, k, val, kp, maint_rules, NRULES(maint_rules), m);
	for (i = 0; i < m->nchecks; i++)
		if (config_check(ld->cfg, m->checks[i]) == NULL &&
		    config_heartbeat(ld->cfg, m->checks[i]) == NULL)
			diag(ld, k, kp, "no check or heartbeat named '%s'",
			    m->checks[i]);
	for (i = 0; i < m->napps; i++)
		if (config_app(ld->cfg, m->apps[i]) == NULL)
			diag(ld, k, kp, "app '%s' is not in apps:", m->apps[i]);
}

static void
maintenance_fn(struct loader *ld, const struct rule *r, const struct ynode *val,
    const char *path, void *field)
{
	(void)r;
	(void)field;
	named_map(ld, val, path, "maintenance window", maint_one);
}

const struct cfg_check *
config_check(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->watch.nchecks; i++)
		if (strcmp(cfg->watch.checks[i].name, name) == 0)
			return &cfg->watch.checks[i];
	return NULL;
}

const struct cfg_heartbeat *
config_heartbeat(const struct config *cfg, const char *name)
{
	size_t i;

	for (i = 0; i < cfg->watch.nheartbeats; i++)
		if (strcmp(cfg->watch.heartbeats[i].name, name) == 0)
			return &cfg->watch.heartbeats[i];
	return NULL;
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static void
watch_release(struct cfg_watch *w)
{
	size_t i, j;

	for (i = 0; i < w->nchecks; i++) {
		struct cfg_check *c = &w->checks[i];

		free(c->name);
		free(c->target);
		free(c->method);
		for (j = 0; j < c->nheaders; j++) {
			free(c->headers[j].name);
			free(c->headers[j].value);
		}
		free(c->headers);
		free(c->body);
		for (j = 0; j < c->nconds; j++)
			free(c->conds[j].text);
		free(c->conds);
		free(c->app);
		free(c->depends_on);
	}
	free(w->checks);
	for (i = 0; i < w->nheartbeats; i++) {
		free(w->heartbeats[i].name);
		free(w->heartbeats[i].schedule);
		free(w->heartbeats[i].tz);
		free(w->heartbeats[i].app);
		free(w->heartbeats[i].actor);
		strv_free(w->heartbeats[i].channels, w->heartbeats[i].nchannels);
	}
	free(w->heartbeats);
	strv_free(w->agents.channels, w->agents.nchannels);
	for (i = 0; i < w->nchannels; i++) {
		struct cfg_channel *ch = &w->channels[i];

		free(ch->name);
		free(ch->url);
		free(ch->from);
		strv_free(ch->to, ch->nto);
		strv_free(ch->argv, ch->argc);
	}
	free(w->channels);
	for (i = 0; i < w->nroutes; i++) {
		free(w->routes[i].app);
		strv_free(w->routes[i].channels, w->routes[i].nchannels);
	}
	free(w->routes);
	for (i = 0; i < w->nmaint; i++) {
		free(w->maint[i].name);
		free(w->maint[i].schedule);
		free(w->maint[i].tz);
		strv_free(w->maint[i].checks, w->maint[i].nchecks);
		strv_free(w->maint[i].apps, w->maint[i].napps);
	}
	free(w->maint);
	memset(w, 0, sizeof(*w));
}
