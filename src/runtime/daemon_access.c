/*
 * The daemon's access calls: actors and their tokens, the approval rules from the
 * config, and approvals, whose grant runs the request again as its requester.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config.h"
#include "core/json.h"
#include "core/util.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "ledger/actors.h"
#include "ledger/approvals.h"
#include "ledger/gate.h"
#include "runtime/daemon_int.h"

int
daemon_access_apply(struct daemon *d, const struct config *cfg, struct err *e)
{
	const struct cfg_approvals *ap = &cfg->approvals;
	struct approval_rule *rules = xcalloc(ap->nrules + 1, sizeof(*rules));
	size_t i;
	int r;

	for (i = 0; i < ap->nrules; i++) {
		rules[i].action = ap->rules[i].action;
		rules[i].stage = ap->rules[i].stage;
	}
	r = approval_rules_set(&d->store, rules, ap->nrules, ap->expire_ms, e);
	free(rules);
	return r;
}

/* Who the token of SHA-256 hash is: from the daemon's cache, else the store's. */
static int
actor_auth_hash(struct daemon *d, const char *hash, struct actor *a,
    struct err *e)
{
	int i, slot;

	for (i = 0; i < d->ntokens; i++)
		if (strcmp(d->tokens[i].hash, hash) == 0) {
			/* Who it is; where it came from stays the request's. */
			memcpy(a->name, d->tokens[i].actor.name, sizeof(a->name));
			a->role = d->tokens[i].actor.role;
			return 0;
		}
	if (actor_by_hash(&d->store, hash, a, e) < 0)
		return -1;
	/* Full: the first entry makes room. */
	slot = d->ntokens < (int)(sizeof(d->tokens) / sizeof(d->tokens[0])) ?
	    d->ntokens++ : 0;
	memcpy(d->tokens[slot].hash, hash, 65);
	d->tokens[slot].actor = *a;
	return 0;
}

static int
actor_auth(struct daemon *d, const char *token, struct actor *a, struct err *e)
{
	char hash[65];

	if (actor_token_check(token, e) < 0)
		return -1;
	sha256_hex(token, strlen(token), hash);
	return actor_auth_hash(d, hash, a, e);
}

static int
actor_named(struct daemon *d, const char *name, struct actor *a, struct err *e)
{
	return actor_by_name(&d->store, name, a, e);
}

static json_t *
actors_list(struct daemon *d, struct err *e)
{
	return actors_json(&d->store, e);
}

struct add_req {
	struct daemon	*d;
	const char	*name;
	enum role	 role;
	const char	*by;
	char		 token[ACTOR_TOKEN_LEN];
};

static int
do_add(void *arg, struct err *e)
{
	struct add_req *q = arg;

	return actor_add(&q->d->store, q->name, q->role, q->by, q->token, e);
}

static json_t *
actor_add_op(struct daemon *d, const struct actor *actor, const json_t *body,
    struct err *e)
{
	struct add_req q = { d, json_str(body, "name"), ROLE_VIEWER, actor->name,
	    "" };
	const char *role = json_str(body, "role");
	struct gate_call call = { .action = "actor.add" };
	json_t *args, *out;

	if (q.name == NULL || role == NULL) {
		err_setk(e, ERR_INVALID, "give {\"name\": NAME, \"role\": "
		    "viewer|agent|operator|approver|admin}");
		return NULL;
	}
	if (role_parse(role, &q.role) < 0) {
		err_setk(e, ERR_INVALID, "role '%s': use viewer, agent, operator, "
		    "approver or admin", role);
		return NULL;
	}
	/* The token is never in evidence: name and role only. */
	args = json_pack("{ss ss}", "name", q.name, "role", role);
	call.target = q.name;
	call.args = args;
	d->ntokens = 0;
	if (gate_run(&d->store, actor, &call, do_add, &q, e) < 0) {
		json_decref(args);
		return NULL;
	}
	json_decref(args);
	if (q.role == ROLE_AGENT)
		daemon_agents_changed(d);	/* its own heartbeat */
	out = json_pack("{ss ss ss}", "name", q.name, "role", role, "token",
	    q.token);
	memset(q.token, 0, sizeof(q.token));
	return out;
}

struct revoke_req {
	struct daemon	*d;
	const char	*name;
};

static int
do_revoke(void *arg, struct err *e)
{
	struct revoke_req *q = arg;

	return actor_revoke(&q->d->store, q->name, e);
}

static int
actor_revoke_op(struct daemon *d, const struct actor *actor, const char *name,
    struct err *e)
{
	struct revoke_req q = { d, name };
	struct gate_call call = { .action = "actor.revoke", .target = name };

	/* A revoked token must fail from the next request on. */
	d->ntokens = 0;
	if (gate_run(&d->store, actor, &call, do_revoke, &q, e) < 0)
		return -1;
	daemon_agents_changed(d);
	return 0;
}

static json_t *
approvals_list(struct daemon *d, bool all, struct err *e)
{
	return approvals_json(&d->store, all, e);
}

static json_t *
approval_get(struct daemon *d, int64_t id, struct err *e)
{
	return approval_json(&d->store, id, e);
}

/* How a granted request runs again: one row per approvable action. */
static json_t *
replay_deploy(struct daemon *d, const struct actor *a, const json_t *req,
    struct err *e)
{
	return daemon_deploy(d, a, json_str(req, "app"),
	    json_object_get(req, "body"), e);
}

static json_t *
replay_rollback(struct daemon *d, const struct actor *a, const json_t *req,
    struct err *e)
{
	return daemon_rollback(d, a, json_str(req, "app"),
	    json_object_get(req, "body"), e);
}

static json_t *
replay_promote(struct daemon *d, const struct actor *a, const json_t *req,
    struct err *e)
{
	return daemon_promote(d, a, json_str(req, "app"),
	    json_object_get(req, "body"), e);
}

static json_t *
replay_secrets_deploy(struct daemon *d, const struct actor *a,
    const json_t *req, struct err *e)
{
	return daemon_secrets_deploy(d, a, json_str(req, "app"), e);
}

static json_t *
replay_migrate_apply(struct daemon *d, const struct actor *a,
    const json_t *req, struct err *e)
{
	json_t *body = json_deep_copy(json_object_get(req, "body")), *out;
	const json_t *priv = json_object_get(req, "private");

	if (body == NULL || !json_is_object(body)) {
		json_decref(body);
		err_set(e, "approval #%lld holds no migrate apply request",
		    (long long)a->approval);
		return NULL;
	}
	if (priv != NULL)
		json_object_update(body, (json_t *)priv);
	out = daemon_migrate_apply(d, a, body, e);
	json_decref(body);
	return out;
}

static const struct {
	const char	*op;
	json_t		*(*fn)(struct daemon *, const struct actor *,
			    const json_t *, struct err *);
} replays[] = {
	{ "deploy", replay_deploy },
	{ "rollback", replay_rollback },
	{ "promote", replay_promote },
	{ "secrets_deploy", replay_secrets_deploy },
	{ "migrate_apply", replay_migrate_apply },
};

/* Runs granted approval ap (JSON) as its requester; the action's answer or NULL. */
static json_t *
replay(struct daemon *d, const json_t *ap, struct err *e)
{
	const json_t *req = json_object_get(ap, "request");
	const char *op = json_str(req, "op");
	struct actor a;
	size_t i;

	memset(&a, 0, sizeof(a));
	snprintf(a.name, sizeof(a.name), "%s", json_str(ap, "requester"));
	if (role_parse(json_str(ap, "role"), &a.role) < 0 ||
	    via_parse(json_str(ap, "via"), &a.via) < 0) {
		err_set(e, "approval #%lld names an unknown role or via",
		    (long long)json_int(ap, "id", 0));
		return NULL;
	}
	a.approval = json_int(ap, "id", 0);
	/* A requester whose token was revoked since asked for nothing any more. */
	if (actor_live(&d->store, a.name, e) < 0)
		return NULL;
	for (i = 0; op != NULL && i < sizeof(replays) / sizeof(replays[0]); i++)
		if (strcmp(op, replays[i].op) == 0)
			return replays[i].fn(d, &a, req, e);
	err_set(e, "approval #%lld has no request opsdeck can run ('%s')",
	    (long long)a.approval, op != NULL ? op : "");
	return NULL;
}

struct decide_req {
	struct daemon	*d;
	int64_t		 id;
	const char	*approver;
	bool		 grant;
	const char	*comment;
};

static int
do_decide(void *arg, struct err *e)
{
	struct decide_req *q = arg;

	return approval_decide(&q->d->store, q->id, q->approver, q->grant,
	    q->comment, e);
}

static json_t *
approval_decide_op(struct daemon *d, const struct actor *actor, int64_t id,
    bool grant, const json_t *body, struct err *e)
{
	struct decide_req q = { d, id, actor->name, grant,
	    json_str(body, "comment") };
	struct gate_call call = { .action = grant ? "approval.grant" :
	    "approval.deny" };
	json_t *args = json_pack("{sI ss*}", "approval", (json_int_t)id,
	    "comment", q.comment);
	json_t *ap, *result = NULL;
	char target[32];
	struct err re;

	snprintf(target, sizeof(target), "approval:%lld", (long long)id);
	call.target = target;
	call.args = args;
	if (gate_run(&d->store, actor, &call, do_decide, &q, e) < 0) {
		json_decref(args);
		return NULL;
	}
	json_decref(args);
	/* The run needs the replay's private part; what is answered never has it. */
	if ((ap = grant ? approval_run_json(&d->store, id, e) :
	    approval_json(&d->store, id, e)) == NULL)
		return NULL;
	if (grant) {
		/* It runs now, once, as the one who asked. */
		if ((result = replay(d, ap, &re)) == NULL) {
			approval_fail(&d->store, id, re.msg);
			log_warnx("approval #%lld: %s", (long long)id, re.msg);
		}
		json_decref(ap);
		if ((ap = approval_json(&d->store, id, e)) == NULL) {
			json_decref(result);
			return NULL;
		}
		return json_pack("{so so s:s?}", "approval", ap, "result",
		    result != NULL ? result : json_null(), "error",
		    result == NULL ? re.msg : NULL);
	}
	return json_pack("{so}", "approval", ap);
}

static json_t *
recorded_call(struct daemon *d, const struct actor *actor, const char *tool,
    const json_t *args, json_t *(*fn)(void *, struct err *), void *arg,
    struct err *e)
{
	struct gate_call call = { .action = "mcp.call", .target = tool,
	    .args = args };
	json_t *out;

	if (gate_begin(&d->store, actor, &call, e) < 0)
		return NULL;
	out = fn(arg, e);
	gate_end(&d->store, actor, &call, out == NULL ? e : NULL, NULL);
	return out;
}

void
daemon_access_ops(struct daemon_ops *ops)
{
	ops->recorded_call = recorded_call;
	ops->actor_auth = actor_auth;
	ops->actor_auth_hash = actor_auth_hash;
	ops->actor_named = actor_named;
	ops->actors_json = actors_list;
	ops->actor_add = actor_add_op;
	ops->actor_revoke = actor_revoke_op;
	ops->approvals_json = approvals_list;
	ops->approval_json = approval_get;
	ops->approval_decide = approval_decide_op;
}
