/*
 * opsdeck.yaml as typed, validated structs. The parser keeps each value's position so
 * every error reads "FILE:LINE:COL: key.path: what is wrong". config_load validates
 * everything before returning: a config that loads is complete.
 */
#ifndef OPSDECK_CONFIG_H
#define OPSDECK_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

/* Upper bounds the loader enforces, for code that sizes arrays by them. */
#define CFG_COUNT_MAX		64	/* machines per process group */
#define CFG_CRASHLOOP_LIMIT_MAX	64	/* restarts counted within the window */

struct cfg_pos {
	int	line;	/* 1-based */
	int	col;	/* 1-based */
};

struct cfg_env {
	char	*key;
	char	*value;	/* after ${VAR} expansion */
};

struct cfg_health {
	bool	 enabled;
	char	*path;		/* "/health" */
	int64_t	 interval_ms;	/* default 2s */
	int64_t	 timeout_ms;	/* default 1s */
	int64_t	 grace_ms;	/* default 5s: failures ignored after start */
	int	 passes;	/* consecutive passes to be healthy, default 1 */
	int	 failures;	/* consecutive failures to be unhealthy, default 3 */
};

struct cfg_restart {
	int64_t	 backoff_min_ms;	/* default 500ms */
	int64_t	 backoff_max_ms;	/* default 30s */
	int	 crashloop_limit;	/* restarts within the window, default 5 */
	int64_t	 crashloop_window_ms;	/* default 60s */
	int64_t	 stop_timeout_ms;	/* SIGTERM to SIGKILL, default 10s */
};

/* How a deploy replaces a process group's machines. */
enum cfg_strategy {
	CFG_STRATEGY_DEFAULT,	/* bluegreen with a port, immediate without */
	CFG_STRATEGY_IMMEDIATE,	/* stop old, start new: for workers */
	CFG_STRATEGY_BLUEGREEN,	/* new beside old, cut over when healthy */
	CFG_STRATEGY_ROLLING,	/* one machine at a time (count > 1) */
};

/* The variable a command may start with to run a program of the release's artifact. */
#define CFG_RELEASE_DIR_VAR "${OPSDECK_RELEASE_DIR}"

enum cfg_port_mode {
	CFG_PORT_NONE,	/* no "port" key: a worker */
	CFG_PORT_AUTO,	/* "port: auto": allocated from ports.from..ports.to */
	CFG_PORT_FIXED,	/* "port: 8080": count must be 1 */
};

struct cfg_process {
	char		*name;		/* "web" */
	char		**argv;		/* NULL-terminated; argv[0] resolved */
	size_t		 argc;
	int		 count;		/* default 1 */
	struct cfg_env	*env;		/* app env overlaid by process env, by name */
	size_t		 nenv;
	char		*workdir;	/* absolute; default the config's folder */
	enum cfg_port_mode port_mode;
	int		 port;		/* CFG_PORT_FIXED only */
	struct cfg_health health;
	struct cfg_restart restart;
	enum cfg_strategy strategy;
	bool		 from_release;	/* argv[0] starts with CFG_RELEASE_DIR_VAR */
	/* "public: 127.0.0.1:8080": the router's frontend for this group, or NULL */
	char		*public_host;	/* "127.0.0.1", "0.0.0.0", "::1" */
	int		 public_port;	/* 0: no public address */
	struct cfg_pos	 public_at;
	struct cfg_pos	 pos;
};

/* A deploy's timing: the `deploy:` section of an app. */
struct cfg_deploy {
	int64_t	 smoke_ms;	/* a healthy machine must stay up this long, 5s */
	int64_t	 timeout_ms;	/* the health gate's limit after grace, 60s */
	int64_t	 watch_ms;	/* after cutover: old kept warm, 60s */
	int	 watch_failures; /* failed checks in the window that flip back, 2 */
};

/*
 * `rollback_on:` of an app: what the router's request metrics of the new release
 * must not show during its watch window (and canary). A rule needs min_requests in
 * its window before it judges: no traffic is not a failure.
 */
struct cfg_rollback_on {
	double	 error_rate;	/* 5xx share above this flips back; <0 off; 0.1 */
	int64_t	 p95_ms;	/* p95 latency above this flips back; 0 off */
	int64_t	 window_ms;	/* measured over the last N, 10s */
	int	 min_requests;	/* in the window before a rule judges, 20 */
};

/* A route template of an app ("/api/tiles/:id"), checked by stats/ (route_compile). */
struct cfg_route {
	char		*tmpl;
	struct cfg_pos	 pos;
};

struct cfg_app {
	char		*name;		/* "hotdash-staging" */
	char		*stage;		/* "staging", "production", ... default "production" */
	struct cfg_process *procs;
	size_t		 nprocs;
	char		**release_command;	/* NULL-terminated, or NULL */
	size_t		 release_argc;
	int64_t		 release_timeout_ms;	/* default 5m */
	struct cfg_deploy deploy;
	struct cfg_rollback_on rollback_on;
	struct cfg_route *routes;
	size_t		 nroutes;
	struct cfg_pos	 pos;
};

enum cfg_router_driver {
	CFG_ROUTER_HAPROXY,	/* default: groups with 'public' are served by HAProxy */
	CFG_ROUTER_NONE,	/* apps are reached on their own ports */
};

/* The `router:` section. */
struct cfg_router {
	enum cfg_router_driver driver;
	char		*haproxy;	/* the binary, default "haproxy" on PATH */
	int64_t		 drain_ms;	/* old servers finish in-flight requests, 30s */
	struct cfg_pos	 pos;
};

/* The `migrate:` section: defaults for `opsdeck migrate lint`; flags override them. */
struct cfg_migrate {
	char		*exclude;	/* "rule,rule", or NULL */
	char		*include;	/* opt-in rules, "rule,rule", or NULL */
	/* where each comma-separated name of exclude and include is written: the names
	 * are checked by migrate/ (lint_config_check), which knows the rules */
	struct cfg_pos	*exclude_at;
	struct cfg_pos	*include_at;
	char		*policy;	/* "additive-only", or NULL */
	char		*fail_on;	/* "error", "warning", "info", or NULL */
	int		 pg_version;	/* server major version, 0: the grammar's (15) */
	bool		 assume_in_transaction;
	struct cfg_pos	 pos;		/* of the section, for messages */
};

/*
 * The `retain:` section: what housekeeping (opsdeck gc) keeps. The live release, the
 * one a rollback returns to and any a machine or deploy still uses are kept whatever
 * these say.
 */
struct cfg_retain {
	int		 releases;	/* the artifacts of the newest N per app, default 10 */
	int64_t		 logs_ms;	/* retired machines' logs younger than this, 14d */
};

/* ---- watch: checks, heartbeats, channels, notify routes, maintenance ---- */

enum cfg_severity { CFG_SEV_CRITICAL, CFG_SEV_WARNING, CFG_SEV_INFO };

/* A route check judges the router's request metrics of an app's route (or all its
 * routes, "*") over a window: the log-derived rules. */
/* CFG_CHECK_HEALTH: an app's own health checks, made by monitor/ from apps:. */
enum cfg_check_kind { CFG_CHECK_HTTP, CFG_CHECK_TCP, CFG_CHECK_ROUTE,
	CFG_CHECK_HEALTH };

struct cfg_header {
	char	*name;
	char	*value;
};

/* A condition of a check, checked by monitor/ (cond_parse) where it is written. */
struct cfg_cond {
	char		*text;
	struct cfg_pos	 pos;
};

/* `checks: NAME:` */
struct cfg_check {
	char		*name;
	enum cfg_check_kind kind;
	char		*target;	/* the URL, host:port for tcp, a route template */
	char		*method;	/* GET */
	struct cfg_header *headers;
	size_t		 nheaders;
	char		*body;		/* or NULL */
	int64_t		 interval_ms;	/* 30s */
	int64_t		 timeout_ms;	/* 10s */
	struct cfg_cond	*conds;		/* none: [STATUS] < 400, or [CONNECTED] */
	size_t		 nconds;
	int		 failures;	/* in a row that open an incident, 3 */
	int		 successes;	/* in a row that resolve it, 1 */
	int		 flap_failures;	/* this many failures ... 0: off */
	int		 flap_runs;	/* ... in the last this many runs */
	int		 max_body;	/* bytes of the answer kept, 64 KiB */
	enum cfg_severity severity;	/* critical */
	char		*app;		/* for notify routes; or NULL */
	char		*depends_on;	/* a parent check; or NULL */
	struct cfg_pos	 depends_at;
	struct cfg_pos	 target_at;	/* route: where it is written */
	int64_t		 window_ms;	/* route: the metrics window, 5m */
	int		 min_requests;	/* route: fewer is not judged (a pass), 20 */
	char		*process;	/* health: the app's process group */
	struct cfg_pos	 pos;
};

/* `heartbeats: NAME:` (the schedule and zone are checked by monitor/) */
struct cfg_heartbeat {
	char		*name;
	int64_t		 period_ms;	/* 1d unless a schedule */
	int64_t		 grace_ms;	/* 1h */
	char		*schedule;	/* cron, or NULL */
	char		*tz;		/* NULL: UTC */
	int64_t		 doing_stale_ms; /* 15m */
	enum cfg_severity severity;
	char		*app;
	char		*actor;		/* an agent's heartbeat: who pings it */
	bool		 implicit;	/* made by the daemon for an agent actor
					 * (see cfg_agents), not written */
	char		**channels;	/* its incidents go here, not by notify:
					 * routes; NULL-terminated, or NULL */
	size_t		 nchannels;
	struct cfg_pos	 schedule_at, tz_at, actor_at, channels_at;
	struct cfg_pos	 pos;
};

enum cfg_channel_kind { CFG_CHANNEL_WEBHOOK, CFG_CHANNEL_EMAIL, CFG_CHANNEL_COMMAND };

/* `channels: NAME:` where notices go */
struct cfg_channel {
	char		*name;
	enum cfg_channel_kind kind;
	char		*url;		/* webhook URL, or smtp://host:port */
	bool		 slack;		/* a Slack-compatible {"text": ...} body */
	char		*from;		/* email */
	char		**to;		/* email, NULL-terminated */
	size_t		 nto;
	char		**argv;		/* command, NULL-terminated */
	size_t		 argc;
	struct cfg_pos	 pos;
};

/* One row of `notify:`: incidents of these severities (and app) go to channels. */
struct cfg_notify_route {
	unsigned	 severities;	/* bit per enum cfg_severity; 0: all */
	char		*app;		/* NULL: every app */
	char		**channels;	/* names, NULL-terminated */
	size_t		 nchannels;
	struct cfg_pos	 pos;
};

/* `maintenance: NAME:` a recurring window */
struct cfg_maintenance {
	char		*name;
	char		*schedule;	/* cron of its start */
	char		*tz;
	int64_t		 duration_ms;
	char		**checks;	/* names; with apps, none: everything */
	size_t		 nchecks;
	char		**apps;
	size_t		 napps;
	struct cfg_pos	 schedule_at, tz_at;
	struct cfg_pos	 pos;
};

/*
 * `agents:` what each agent actor's own heartbeat ("agent-NAME", made by the
 * daemon for every live actor of role agent that no heartbeat names as its actor)
 * is like: stale after doing_stale while doing, its incidents to channels (none:
 * by the notify routes).
 */
struct cfg_agents {
	int64_t		 doing_stale_ms;	/* 15m */
	char		**channels;
	size_t		 nchannels;
	struct cfg_pos	 channels_at;
};

struct cfg_watch {
	struct cfg_check *checks;
	size_t		 nchecks;
	struct cfg_heartbeat *heartbeats;
	size_t		 nheartbeats;
	struct cfg_channel *channels;
	size_t		 nchannels;
	struct cfg_notify_route *routes;	/* none: everything to every channel */
	size_t		 nroutes;
	struct cfg_maintenance *maint;
	size_t		 nmaint;
	int64_t		 remind_ms;	/* reminders while open; 0 off */
	struct cfg_agents agents;
};

/*
 * The approvals: section: actions that wait for another approver's grant (four
 * eyes), each on one stage or on every one, and how long a request waits. The
 * actions that can wait are the gate's approvable rows (ledger/gate.c), listed in
 * CFG_APPROVABLE.
 */
#define CFG_APPROVABLE	{ "deploy.create", "deploy.promote", "deploy.rollback", \
			  "secrets.deploy", "migrate.apply" }
#define CFG_APPROVABLE_TEXT	"deploy.create, deploy.promote, deploy.rollback, " \
				"secrets.deploy, migrate.apply"

struct cfg_approval_rule {
	char		*action;
	char		*stage;		/* NULL: every stage */
	struct cfg_pos	 pos;
};

struct cfg_approvals {
	int64_t		 expire_ms;	/* default 1h */
	struct cfg_approval_rule *rules;
	size_t		 nrules;
};

/* The api: section: the control API on TCP besides the state dir's socket. */
/* A local (OS) user whose requests on the control socket act as an actor. */
struct cfg_local_user {
	char	*user;		/* "deploy" */
	char	*actor;		/* "bot" */
};

struct cfg_api {
	char		*listen;	/* "127.0.0.1:7480"; NULL: the socket only */
	struct cfg_local_user *local_users;
	size_t		 nlocal_users;
};

struct config {
	char		*path;		/* as given */
	char		*dir;		/* its folder, absolute */
	char		*state_dir;	/* absolute, NULL when not set */
	int		 port_from;	/* default 4100 */
	int		 port_to;	/* default 4999 */
	int		 log_max_bytes;	/* per machine log file, default 10 MiB */
	int		 log_keep;	/* rotated files kept, default 3 */
	struct cfg_app	*apps;
	size_t		 napps;
	struct cfg_migrate migrate;
	struct cfg_retain retain;
	struct cfg_router router;
	struct cfg_watch watch;
	struct cfg_approvals approvals;
	struct cfg_api	 api;
};

/* One diagnostic; a load collects them all rather than stopping at the first. */
struct cfg_diag {
	char		*file;
	struct cfg_pos	 pos;
	char		*keypath;	/* "apps.hotdash-staging.processes.web.count" */
	char		*msg;
};

struct cfg_diags {
	struct cfg_diag	*items;
	size_t		 n;
};

/*
 * Loads and validates FILE. Returns 0 and fills cfg, or -1 with every problem found in
 * diags (cfg is then released). Checks the command binaries exist when check_commands.
 */
int	 config_load(const char *file, bool check_commands, struct config *cfg,
	    struct cfg_diags *diags);
/* The same from a string already in memory (file names the source in messages). */
int	 config_load_string(const char *file, const char *text, size_t len,
	    bool check_commands, struct config *cfg, struct cfg_diags *diags);
void	 config_release(struct config *);
/* "FILE:LINE:COL: key.path: message" for one diagnostic; the caller frees. */
char	*cfg_diag_format(const struct cfg_diag *);
void	 cfg_diags_release(struct cfg_diags *);
/* Adds a diagnostic in the loader's form (for checks made outside config/). */
void	 cfg_diags_add(struct cfg_diags *, const char *file, struct cfg_pos,
	    const char *keypath, const char *fmt, ...)
	    __attribute__((format(printf, 5, 6)));
/* Prints every diagnostic, one formatted line each. */
void	 cfg_diags_print(FILE *, const struct cfg_diags *);

const struct cfg_app *config_app(const struct config *, const char *name);
const struct cfg_check *config_check(const struct config *, const char *name);
const struct cfg_heartbeat *config_heartbeat(const struct config *,
	    const char *name);
const char *cfg_severity_str(enum cfg_severity);
const struct cfg_process *cfg_app_process(const struct cfg_app *, const char *name);
/* True when a group's machines are reached through the router (HAProxy, 'public'). */
bool	 cfg_process_routed(const struct config *, const struct cfg_process *);
const char *cfg_router_driver_str(enum cfg_router_driver);
/* SHA-256 hex (65 bytes) of the app's section as loaded, to spot changes on reload. */
void	 cfg_app_digest(const struct cfg_app *, char out[65]);

#endif
