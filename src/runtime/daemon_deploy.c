/*
 * The daemon's side of releases: the config each release runs, the secrets its machines
 * get, and the API's deploy, rollback and secrets actions, each through the gate.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config/config.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "deploy/deploy.h"
#include "deploy/release.h"
#include "deploy/secrets.h"
#include "ledger/approvals.h"
#include "ledger/gate.h"
#include "runtime/daemon.h"
#include "runtime/daemon_int.h"

static struct release_config *
release_config_get(struct daemon *d, const struct release *r)
{
	struct release_config *rc;
	struct cfg_diags diags = { NULL, 0 };
	struct config *cfg;

	for (rc = d->release_configs; rc != NULL; rc = rc->next)
		if (rc->id == r->id)
			return rc;
	cfg = xcalloc(1, sizeof(*cfg));
	/* The snapshot was valid when deployed; commands are the release's own. */
	if (config_load_string(r->config_path, r->config_text,
	    strlen(r->config_text), false, cfg, &diags) < 0) {
		log_warnx("%s v%d: its config snapshot does not load: %s",
		    r->app, r->version, diags.n ? diags.items[0].msg : "?");
		cfg_diags_release(&diags);
		free(cfg);
		return NULL;
	}
	rc = xcalloc(1, sizeof(*rc));
	rc->id = r->id;
	rc->cfg = cfg;
	rc->dir = xasprintf("%s/artifacts/%s", d->state_dir, r->artifact);
	rc->next = d->release_configs;
	d->release_configs = rc;
	return rc;
}

static const struct cfg_app *
release_app(void *arg, const struct release *r)
{
	struct release_config *rc = release_config_get(arg, r);

	return rc != NULL ? config_app(rc->cfg, r->app) : NULL;
}

static const struct cfg_app *
live_release(void *arg, const char *app, struct machine_release *out)
{
	struct daemon *d = arg;
	struct release_config *rc;
	const struct cfg_app *a = NULL;
	struct release r;
	struct err e;

	if (release_live(&d->store, app, &r, &e) < 0)
		return NULL;
	if ((rc = release_config_get(d, &r)) != NULL &&
	    (a = config_app(rc->cfg, app)) != NULL) {
		out->id = r.id;
		out->version = r.version;
		out->dir = rc->dir;
		out->secrets_version = r.secrets_version;
	}
	release_release(&r);
	return a;
}

static int
secrets_for_machine(void *arg, const char *app, int version,
    struct cfg_env **env, size_t *n, struct err *e)
{
	struct daemon *d = arg;

	return secrets_env(&d->store, &d->key, app, version, env, n, e);
}

/*
 * The deploy's receipt in the evidence ledger: what went live (or did not), from
 * what artifact, config and secrets, and what the health gate saw.
 */
static void
deploy_receipt(struct daemon *d, int64_t release_id)
{
	static const char *const gates[] = { "health", "smoke", "watch" };
	struct release rel;
	struct evidence_rec rec;
	json_t *full, *args, *health, *step;
	char target[96];
	struct err e;
	size_t i, k;

	if (release_load_id(&d->store, release_id, &rel, &e) < 0) {
		log_warnx("receipt: %s", e.msg);
		return;
	}
	full = release_json(&d->store, &rel, true);
	health = json_object();
	json_array_foreach(json_object_get(full, "timeline"), i, step)
		for (k = 0; k < sizeof(gates) / sizeof(gates[0]); k++)
			if (strcmp(json_str(step, "step"), gates[k]) == 0)
				json_object_set_new(health, gates[k], json_pack(
				    "{s:s?, s:s?}", "status", json_str(step,
				    "status"), "detail", json_str(step,
				    "detail")));
	args = json_pack("{s:i, s:s, s:s, s:s, s:i, s:s, s:o, s:n}", "version",
	    rel.version, "status", release_status_str(rel.status), "artifact",
	    rel.artifact, "config_digest", rel.config_digest, "secrets_version",
	    rel.secrets_version, "deployed_by", rel.actor ? rel.actor : "",
	    "health", health, "approval");
	snprintf(target, sizeof(target), "%s v%d", rel.app, rel.version);
	memset(&rec, 0, sizeof(rec));
	rec.actor = "opsdeck";
	rec.role = role_str(ROLE_ADMIN);
	rec.via = VIA_SYSTEM;
	rec.action = "deploy.receipt";
	rec.target = target;
	rec.args = args;
	rec.outcome = rel.status == RELEASE_LIVE ? OUTCOME_OK : OUTCOME_FAILED;
	rec.detail = json_str(full, "reason");
	rec.duration_ms = json_int(full, "duration_ms", 0);
	if (evidence_append(&d->store, &rec, NULL, &e) < 0)
		fatalx("%s", e.msg);
	json_decref(args);
	json_decref(full);
	release_release(&rel);
}

static void
deploy_finished(struct deploy *dp, void *arg)
{
	struct daemon *d = arg;
	size_t i;

	deploy_receipt(d, deploy_release_id(dp));
	for (i = 0; i < d->ndeploys; i++)
		if (d->deploys[i] == dp) {
			d->deploys[i] = d->deploys[--d->ndeploys];
			break;
		}
	deploy_free(dp);
	if (d->ndeploys == 0)
		daemon_deploys_idle(d);
}

/* The runtime as deploy/ sees it (struct deploy_runtime). */
static struct machine *
rt_machines(void *ctx)
{
	struct daemon *d = ctx;

	return d->sv.machines;
}

static struct machine *
rt_find(void *ctx, const char *id)
{
	struct daemon *d = ctx;

	return supervisor_find(&d->sv, id);
}

static struct machine *
rt_add(void *ctx, const char *app, const struct cfg_process *p, int idx,
    const struct machine_release *rel, struct err *e)
{
	struct daemon *d = ctx;

	return supervisor_machine_add(&d->sv, app, p, idx, rel, e);
}

int
daemon_deploy_init(struct daemon *d, struct err *e)
{
	if (secrets_key_load(d->state_dir, &d->key, e) < 0)
		return -1;
	d->sv.secrets_env = secrets_for_machine;
	d->sv.secrets_env_free = secrets_env_free;
	d->sv.live_release = live_release;
	d->sv.release_arg = d;
	d->denv.loop = &d->loop;
	d->denv.store = &d->store;
	d->denv.rt = (struct deploy_runtime){
		.ctx = d,
		.machines = rt_machines,
		.find = rt_find,
		.add = rt_add,
		.spawn = supervisor_machine_spawn,
		.retire = supervisor_machine_retire,
		.retire_in = supervisor_machine_retire_in,
		.adopt = supervisor_machine_adopt,
		.revive = supervisor_machine_revive,
		.secrets_env = secrets_for_machine,
		.secrets_env_free = secrets_env_free,
	};
	d->denv.state_dir = d->state_dir;
	d->denv.release_app = release_app;
	d->denv.finished = deploy_finished;
	d->denv.arg = d;
	/* A deploy the last daemon left ends here, before machines are reconciled. */
	deploy_recover(&d->store);
	return 0;
}

void
daemon_deploy_stop(struct daemon *d)
{
	size_t i;

	for (i = 0; i < d->ndeploys; i++)
		deploy_abort(d->deploys[i]);
}

void
daemon_deploy_release(struct daemon *d)
{
	struct release_config *rc, *next;

	while (d->ndeploys > 0)
		deploy_free(d->deploys[--d->ndeploys]);
	free(d->deploys);
	for (rc = d->release_configs; rc != NULL; rc = next) {
		next = rc->next;
		config_release(rc->cfg);
		free(rc->cfg);
		free(rc->dir);
		free(rc);
	}
	secrets_key_release(&d->key);
}

static int
app_known(struct daemon *d, const char *app, struct err *e)
{
	if (config_app(d->sv.cfg, app) != NULL)
		return 0;
	return err_setk(e, ERR_NOT_FOUND, "no app '%s' in '%s': list apps with "
	    "`opsdeck status`", app, d->config_path);
}

/* The app's stage in the running config ("production" when it is gone). */
static const char *
app_stage(struct daemon *d, const char *app)
{
	const struct cfg_app *a = config_app(d->sv.cfg, app);

	return a != NULL && a->stage != NULL ? a->stage : "production";
}

struct deploy_req {
	struct daemon	*d;
	struct release	 rel;		/* filled but for id and version */
	bool		 freeze;	/* take the staged secrets */
	int		 canary;	/* percent, 0: none */
	const char	*stage;		/* the app's, for the approval policy */
	const char	*from;		/* a promotion's source ("web-staging v3") */
	json_t		*replay;	/* the request again, once approved */
	json_t		*out;
};

/* Creates the release, takes the lock, and starts the deploy. */
static int
do_deploy(void *arg, struct err *e)
{
	struct deploy_req *q = arg;
	struct daemon *d = q->d;
	struct release prev, *prevp = NULL;
	struct deploy *dp;
	char *dir;
	struct err ignore;

	if (d->stopping)
		return err_setk(e, ERR_CONFLICT, "opsdeck is shutting down");
	if (deploy_lock_check(&d->store, q->rel.app, e) < 0)
		return -1;
	if (daemon_gc_removing(d, q->rel.artifact))
		return err_setk(e, ERR_CONFLICT, "artifact %.12s is being removed "
		    "by gc (retain: no longer keeps it): deploy it again with "
		    "--artifact once gc has ended", q->rel.artifact);
	dir = xasprintf("%s/artifacts/%s", d->state_dir, q->rel.artifact);
	if (access(dir, R_OK | X_OK) < 0) {
		free(dir);
		return err_setk(e, ERR_INVALID, "artifact %.12s is not in the "
		    "state dir: deploy with --artifact DIR|FILE.tar.gz so the "
		    "CLI imports it", q->rel.artifact);
	}
	free(dir);
	if (q->freeze && secrets_freeze(&d->store, q->rel.app,
	    &q->rel.secrets_version, e) < 0)
		return -1;
	if (store_begin(&d->store, e) < 0)
		return -1;
	if (release_create(&d->store, &q->rel, e) < 0 ||
	    deploy_lock_take(&d->store, q->rel.app, q->rel.id, e) < 0) {
		store_rollback(&d->store);
		return -1;
	}
	if (store_commit(&d->store, e) < 0)
		return -1;
	if (release_live(&d->store, q->rel.app, &prev, &ignore) == 0)
		prevp = &prev;
	q->out = release_json(&d->store, &q->rel, false);
	dp = deploy_start(&d->denv, &q->rel, prevp, q->canary, e);
	if (prevp != NULL)
		release_release(prevp);
	if (dp == NULL)
		return -1;
	d->deploys = xreallocarray(d->deploys, d->ndeploys + 1,
	    sizeof(*d->deploys));
	d->deploys[d->ndeploys++] = dp;
	return 0;
}

/* The artifacts the releases use, as the CLI imported them (kind and size). */
static void
artifact_record(struct daemon *d, const char *digest, const char *kind,
    long long size)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(&d->store, &st, "INSERT OR IGNORE INTO artifacts "
	    "(digest, kind, size, created_at) VALUES (?, ?, ?, ?)", &e) < 0) {
		log_warnx("%s", e.msg);
		return;
	}
	sqlite3_bind_text(st, 1, digest, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, kind != NULL ? kind : "dir", -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, size);
	sqlite3_bind_int64(st, 4, wall_ms());
	if (sqlite3_step(st) != SQLITE_DONE)
		log_warnx("store: cannot record artifact %.12s: %s", digest,
		    sqlite3_errmsg(d->store.db));
	sqlite3_finalize(st);
}

static json_t *
run_deploy(struct daemon *d, const struct actor *actor, const char *action,
    struct deploy_req *q, struct err *e)
{
	json_t *args = json_pack("{ss ss si si}", "artifact", q->rel.artifact,
	    "config_digest", q->rel.config_digest, "secrets_version",
	    q->rel.secrets_version, "canary", q->canary);
	struct gate_call call = { .action = action, .target = q->rel.app,
	    .args = args, .stage = q->stage, .replay = q->replay };
	int r;

	if (q->rel.message != NULL)
		json_object_set_new(args, "message", json_string(q->rel.message));
	if (q->from != NULL)
		json_object_set_new(args, "from", json_string(q->from));
	/*
	 * The secrets it will freeze, by name and keyed digest (never a value): an
	 * approval then covers them, and secrets staged after the request void it.
	 */
	if (q->freeze) {
		struct err se;
		json_t *staged = secrets_list(&d->store, q->rel.app, &se);

		if (staged != NULL)
			json_object_set_new(args, "secrets", staged);
	}
	r = gate_run(&d->store, actor, &call, do_deploy, q, e);
	json_decref(args);
	json_decref(q->replay);
	release_release(&q->rel);
	if (r < 0) {
		json_decref(q->out);
		/* Not refused: the answer is the request that waits. */
		if (e->kind == ERR_PENDING)
			return approval_pending_json(&d->store, call.approval, e);
		return NULL;
	}
	return q->out;
}

/*
 * A new release of app from body's artifact, as action (deploy.create, or
 * deploy.promote from `from`), with replay (borrowed) to run it again once
 * approved.
 */
static json_t *
deploy_new(struct daemon *d, const struct actor *actor, const char *action,
    const char *app, const json_t *body, const char *from,
    const json_t *replay, struct err *e);

json_t *
daemon_deploy(struct daemon *d, const struct actor *actor, const char *app,
    const json_t *body, struct err *e)
{
	json_t *replay = json_pack("{ss ss sO}", "op", "deploy", "app", app,
	    "body", body);
	json_t *out = deploy_new(d, actor, "deploy.create", app, body, NULL,
	    replay, e);

	json_decref(replay);
	return out;
}

static json_t *
deploy_new(struct daemon *d, const struct actor *actor, const char *action,
    const char *app, const json_t *body, const char *from,
    const json_t *replay, struct err *e)
{
	struct deploy_req q;
	const struct cfg_app *a;
	struct buf text = BUF_INIT;
	const char *digest = json_str(body, "artifact");
	struct cfg_diags diags = { NULL, 0 };
	struct config cfg;
	json_t *out;
	long long canary = json_int(body, "canary", 0);

	if (app_known(d, app, e) < 0)
		return NULL;
	if (canary < 0 || canary > 99) {
		err_setk(e, ERR_INVALID, "'canary' %lld is not a share of the "
		    "traffic: give a percent 1..99", canary);
		return NULL;
	}
	if (digest == NULL || strlen(digest) != 64 ||
	    strspn(digest, "0123456789abcdef") != 64) {
		err_setk(e, ERR_INVALID, "'artifact' must be a sha256 digest "
		    "(64 hex characters)");
		return NULL;
	}
	if (d->stopping) {
		err_setk(e, ERR_CONFLICT, "opsdeck is shutting down");
		return NULL;
	}
	/*
	 * The config file as it is now, validated: this release runs it, whatever
	 * comes later. A config with errors deploys nothing.
	 */
	if (config_load(d->config_path, true, &cfg, &diags) < 0) {
		char *first = diags.n ? cfg_diag_format(&diags.items[0]) : NULL;

		err_setk(e, ERR_INVALID, "the config has %zu error%s (%s): fix "
		    "and check it with `opsdeck config check -c %s`", diags.n,
		    diags.n == 1 ? "" : "s", first ? first : "?",
		    d->config_path);
		free(first);
		cfg_diags_release(&diags);
		return NULL;
	}
	if ((a = config_app(&cfg, app)) == NULL) {
		err_setk(e, ERR_NOT_FOUND, "'%s' is no longer in '%s'", app,
		    d->config_path);
		config_release(&cfg);
		return NULL;
	}
	if (file_read(d->config_path, 16 * 1024 * 1024, &text, e) < 0) {
		config_release(&cfg);
		return NULL;
	}
	memset(&q, 0, sizeof(q));
	q.d = d;
	q.freeze = true;
	q.canary = (int)canary;
	q.rel.app = xstrdup(app);
	snprintf(q.rel.artifact, sizeof(q.rel.artifact), "%s", digest);
	cfg_app_digest(a, q.rel.config_digest);
	config_release(&cfg);
	artifact_record(d, digest, json_str(body, "kind"),
	    json_int(body, "size", 0));
	q.rel.config_path = xstrdup(d->config_path);
	q.rel.config_text = buf_detach(&text);
	q.rel.actor = xstrdup(json_str(body, "on_behalf_of") ?
	    json_str(body, "on_behalf_of") : actor->name);
	q.rel.message = json_str(body, "message") ?
	    xstrdup(json_str(body, "message")) : NULL;
	q.stage = app_stage(d, app);
	q.from = from;
	q.replay = json_incref((json_t *)replay);
	out = run_deploy(d, actor, action, &q, e);
	return out;
}

/* The app of base on stage: base itself when that is its stage, else base-stage. */
static const struct cfg_app *
stage_app(struct daemon *d, const char *base, const char *stage, struct err *e)
{
	const struct cfg_app *a = config_app(d->sv.cfg, base);
	char name[160];

	if (a != NULL && a->stage != NULL && strcmp(a->stage, stage) == 0)
		return a;
	snprintf(name, sizeof(name), "%s-%s", base, stage);
	if ((a = config_app(d->sv.cfg, name)) != NULL && a->stage != NULL &&
	    strcmp(a->stage, stage) == 0)
		return a;
	err_setk(e, ERR_NOT_FOUND, "no app of '%s' on stage '%s': it is '%s' with "
	    "stage: %s, or '%s' itself with that stage", base, stage, name, stage,
	    base);
	return NULL;
}

/*
 * The smoke check of a promotion's source: its live release's machines run and
 * pass their health checks (one without a health check counts when it runs).
 */
static int
source_healthy(struct daemon *d, const char *app, const struct release *live,
    struct err *e)
{
	struct machine *m;
	int n = 0;

	for (m = d->sv.machines; m != NULL; m = m->next) {
		if (strcmp(m->app, app) != 0 || m->release.id != live->id ||
		    m->retired)
			continue;
		if (m->state != MACHINE_STARTED)
			return err_setk(e, ERR_CONFLICT, "the source '%s' v%d is "
			    "not healthy: machine %s is %s: promote once it runs",
			    app, live->version, m->id,
			    machine_state_str(m->state));
		if (strcmp(m->health, "failing") == 0)
			return err_setk(e, ERR_CONFLICT, "the source '%s' v%d is "
			    "not healthy: machine %s fails its health check (%s)",
			    app, live->version, m->id, m->health_detail);
		n++;
	}
	if (n == 0)
		return err_setk(e, ERR_CONFLICT, "the source '%s' v%d runs no "
		    "machine: nothing proves it works", app, live->version);
	return 0;
}

json_t *
daemon_promote(struct daemon *d, const struct actor *actor, const char *app,
    const json_t *body, struct err *e)
{
	const char *from = json_str(body, "from"), *to = json_str(body, "to");
	const struct cfg_app *src, *dst;
	struct release live;
	json_t *dbody, *replay, *out;
	char source[200], *msg;

	if (from == NULL || to == NULL || strcmp(from, to) == 0) {
		err_setk(e, ERR_INVALID, "give {\"from\": STAGE, \"to\": STAGE}, "
		    "two different stages");
		return NULL;
	}
	if ((src = stage_app(d, app, from, e)) == NULL ||
	    (dst = stage_app(d, app, to, e)) == NULL)
		return NULL;
	if (release_live(&d->store, src->name, &live, e) < 0)
		return NULL;
	if (source_healthy(d, src->name, &live, e) < 0) {
		release_release(&live);
		return NULL;
	}
	snprintf(source, sizeof(source), "%s v%d", src->name, live.version);
	msg = xasprintf("%s%spromoted from %s",
	    json_str(body, "message") ? json_str(body, "message") : "",
	    json_str(body, "message") ? "; " : "", source);
	/* The same artifact, by digest: nothing is built again. */
	dbody = json_pack("{ss ss}", "artifact", live.artifact, "message", msg);
	replay = json_pack("{ss ss sO}", "op", "promote", "app", app, "body",
	    body);
	out = deploy_new(d, actor, "deploy.promote", dst->name, dbody, source,
	    replay, e);
	json_decref(replay);
	json_decref(dbody);
	free(msg);
	release_release(&live);
	return out;
}

/* A new release that runs an earlier one again: artifact, config and secrets. */
static json_t *
redeploy(struct daemon *d, const struct actor *actor, const char *action,
    const struct release *from, bool staged_secrets, const char *message,
    json_t *replay, struct err *e)
{
	struct deploy_req q;

	memset(&q, 0, sizeof(q));
	q.stage = app_stage(d, from->app);
	q.replay = replay;
	q.d = d;
	q.freeze = staged_secrets;
	q.rel.app = xstrdup(from->app);
	memcpy(q.rel.artifact, from->artifact, sizeof(q.rel.artifact));
	memcpy(q.rel.config_digest, from->config_digest,
	    sizeof(q.rel.config_digest));
	q.rel.config_path = xstrdup(from->config_path);
	q.rel.config_text = xstrdup(from->config_text);
	q.rel.secrets_version = from->secrets_version;
	q.rel.actor = xstrdup(actor->name);
	q.rel.message = xstrdup(message);
	return run_deploy(d, actor, action, &q, e);
}

json_t *
daemon_rollback(struct daemon *d, const struct actor *actor, const char *app,
    const json_t *body, struct err *e)
{
	struct release live, target;
	sqlite3_stmt *st = NULL;
	json_t *out = NULL;
	char msg[64];
	long long asked = json_int(body, "version", 0);
	int version = (int)asked;

	if (asked < 0 || asked > INT_MAX) {
		err_setk(e, ERR_INVALID, "version %lld is not a release: write it "
		    "like 3", asked);
		return NULL;
	}
	if (app_known(d, app, e) < 0)
		return NULL;
	if (release_live(&d->store, app, &live, e) < 0)
		return NULL;
	if (version == 0) {
		/* The release that was live before the current one. */
		if (store_prepare(&d->store, &st, "SELECT max(version) FROM "
		    "releases WHERE app = ? AND status = 'superseded' AND "
		    "version < ?", e) < 0)
			goto out;
		sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, live.version);
		if (sqlite3_step(st) == SQLITE_ROW)
			version = sqlite3_column_int(st, 0);
		sqlite3_finalize(st);
		if (version == 0) {
			err_setk(e, ERR_NOT_FOUND, "'%s' has no release that was "
			    "live before v%d: name one (opsdeck rollback %s vN)",
			    app, live.version, app);
			goto out;
		}
	}
	if (version == live.version) {
		err_setk(e, ERR_CONFLICT, "v%d of '%s' is already live", version,
		    app);
		goto out;
	}
	if (release_load(&d->store, app, version, &target, e) < 0)
		goto out;
	snprintf(msg, sizeof(msg), "rollback to v%d", version);
	out = redeploy(d, actor, "deploy.rollback", &target, false, msg,
	    json_pack("{ss ss sO}", "op", "rollback", "app", app, "body", body),
	    e);
	release_release(&target);
out:
	release_release(&live);
	return out;
}

json_t *
daemon_releases(struct daemon *d, const char *app, struct err *e)
{
	if (app_known(d, app, e) < 0)
		return NULL;
	return releases_json(&d->store, app, e);
}

json_t *
daemon_release(struct daemon *d, const char *app, const char *v, struct err *e)
{
	struct release r;
	json_t *out;
	int n;

	if (app_known(d, app, e) < 0)
		return NULL;
	if (release_version_parse(v, &n) < 0) {
		err_setk(e, ERR_INVALID, "'%s' is not a release: write it like "
		    "v3", v);
		return NULL;
	}
	if (release_load(&d->store, app, n, &r, e) < 0)
		return NULL;
	out = release_json(&d->store, &r, true);
	release_release(&r);
	return out;
}

json_t *
daemon_secrets_list(struct daemon *d, const char *app, struct err *e)
{
	struct release live;
	struct err none;
	json_t *out;

	if (app_known(d, app, e) < 0)
		return NULL;
	if ((out = secrets_list(&d->store, app, e)) == NULL)
		return NULL;
	/* "deployed" is the newest version; the live release may run an older one. */
	if (release_live(&d->store, app, &live, &none) == 0) {
		json_object_set_new(out, "live_version",
		    json_integer(live.secrets_version));
		release_release(&live);
	} else
		json_object_set_new(out, "live_version", json_null());
	return out;
}

struct secrets_req {
	struct daemon	*d;
	const char	*app;
	const json_t	*set;
	const json_t	*unset;
};

static int
do_secrets(void *arg, struct err *e)
{
	struct secrets_req *q = arg;
	const char *name;
	json_t *v;
	size_t i;

	/* Names first, so a bad one stages nothing. */
	json_object_foreach((json_t *)q->set, name, v) {
		if (!secrets_name_valid(name))
			return err_setk(e, ERR_INVALID, "'%s' is not a secret "
			    "name: use A-Z, 0-9 and '_' (an environment "
			    "variable name)", name);
		/* opsdeck sets these itself; a secret must not shadow them. */
		if (strcmp(name, "PORT") == 0 ||
		    strncmp(name, "OPSDECK_", 8) == 0)
			return err_setk(e, ERR_INVALID, "'%s' is set by opsdeck "
			    "for every machine: choose another name", name);
		if (!json_is_string(v))
			return err_setk(e, ERR_INVALID, "the value of '%s' must "
			    "be a string", name);
	}
	if (store_begin(&q->d->store, e) < 0)
		return -1;
	json_object_foreach((json_t *)q->set, name, v)
		if (secrets_stage_set(&q->d->store, &q->d->key, q->app, name,
		    json_string_value(v), e) < 0)
			goto fail;
	json_array_foreach(q->unset, i, v)
		if (!json_is_string(v) || secrets_stage_unset(&q->d->store,
		    q->app, json_string_value(v), e) < 0)
			goto fail;
	return store_commit(&q->d->store, e);
fail:
	store_rollback(&q->d->store);
	return -1;
}

json_t *
daemon_secrets_change(struct daemon *d, const struct actor *actor,
    const char *app, const json_t *body, struct err *e)
{
	struct secrets_req q = { d, app, json_object_get(body, "set"),
	    json_object_get(body, "unset") };
	struct gate_call call = { .action = q.set != NULL ? "secrets.set" :
	    "secrets.unset", .target = app };
	json_t *args;
	int r;

	if (app_known(d, app, e) < 0)
		return NULL;
	if ((q.set != NULL && !json_is_object(q.set)) ||
	    (q.unset != NULL && !json_is_array(q.unset)) ||
	    (q.set == NULL) == (q.unset == NULL)) {
		err_setk(e, ERR_INVALID, "give either \"set\": {NAME: value} or "
		    "\"unset\": [NAME]");
		return NULL;
	}
	/* The names only: a value never goes into evidence. */
	if (q.set != NULL) {
		const char *name;
		json_t *v;

		args = json_pack("{s[]}", "set");
		json_object_foreach((json_t *)q.set, name, v)
			json_array_append_new(json_object_get(args, "set"),
			    json_string(name));
	} else
		args = json_pack("{sO}", "unset", q.unset);
	call.args = args;
	r = gate_run(&d->store, actor, &call, do_secrets, &q, e);
	json_decref(args);
	if (r < 0)
		return NULL;
	return secrets_list(&d->store, app, e);
}

json_t *
daemon_secrets_deploy(struct daemon *d, const struct actor *actor,
    const char *app, struct err *e)
{
	struct release live;
	json_t *out, *list, *s;
	size_t i, staged = 0;

	if (app_known(d, app, e) < 0)
		return NULL;
	if ((list = secrets_list(&d->store, app, e)) == NULL)
		return NULL;
	json_array_foreach(json_object_get(list, "secrets"), i, s)
		if (strncmp(json_str(s, "state"), "staged", 6) == 0)
			staged++;
	json_decref(list);
	if (staged == 0) {
		err_setk(e, ERR_INVALID, "nothing is staged for '%s': stage with "
		    "`opsdeck secrets set %s NAME=VALUE` first", app, app);
		return NULL;
	}
	if (release_live(&d->store, app, &live, e) < 0)
		return NULL;
	out = redeploy(d, actor, "secrets.deploy", &live, true,
	    "secrets deploy", json_pack("{ss ss}", "op", "secrets_deploy", "app",
	    app), e);
	release_release(&live);
	return out;
}
