#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "ledger/approvals.h"
#include "ledger/gate.h"

static const char *const role_names[] = {
	[ROLE_VIEWER] = "viewer",
	[ROLE_AGENT] = "agent",
	[ROLE_OPERATOR] = "operator",
	[ROLE_APPROVER] = "approver",
	[ROLE_ADMIN] = "admin",
};

/*
 * The role matrix. viewer reads; agent also deploys to staging (to production only
 * through an approval) and pings heartbeats; operator also deploys anywhere, rolls
 * back, and manages machines, secrets and maintenance; approver also grants
 * approvals; admin also manages actors and reloads the config. Migrations an agent
 * may ask for, but they run only once an approver grants them; an operator applies.
 */
/* Columns: action, least role, least role on production, may wait, summary, and the
 * least role it runs with on any stage without an approval. */
#define P ROLE_VIEWER	/* no stricter role */
static const struct action_def actions[] = {
	{ "machine.start", ROLE_OPERATOR, P, false,
	    "start a stopped or failed machine", P },
	{ "machine.stop", ROLE_OPERATOR, P, false, "stop a machine", P },
	{ "machine.restart", ROLE_OPERATOR, P, false, "restart a machine", P },
	{ "daemon.reload", ROLE_ADMIN, P, false, "reload opsdeck.yaml", P },
	{ "deploy.create", ROLE_AGENT, ROLE_OPERATOR, true,
	    "deploy a new release of an app", P },
	{ "deploy.promote", ROLE_AGENT, ROLE_OPERATOR, true,
	    "deploy the artifact live on one stage to another", P },
	{ "deploy.rollback", ROLE_OPERATOR, P, true,
	    "make an earlier release live again", P },
	{ "secrets.set", ROLE_OPERATOR, P, false,
	    "stage secret values for an app", P },
	{ "secrets.unset", ROLE_OPERATOR, P, false,
	    "stage the removal of secrets", P },
	{ "secrets.deploy", ROLE_OPERATOR, P, true,
	    "deploy the staged secrets", P },
	{ "migrate.apply", ROLE_AGENT, P, true,
	    "apply migrations to a database", ROLE_OPERATOR },
	{ "gc.run", ROLE_OPERATOR, P, false, "remove the artifacts and logs "
	    "retain: no longer keeps", P },
	{ "incident.ack", ROLE_OPERATOR, P, false,
	    "acknowledge an open incident", P },
	{ "heartbeat.ping", ROLE_AGENT, P, false, "report a run to a heartbeat", P },
	{ "maintenance.add", ROLE_OPERATOR, P, false,
	    "start a maintenance window", P },
	{ "maintenance.end", ROLE_OPERATOR, P, false,
	    "end a maintenance window early", P },
	{ "approval.grant", ROLE_APPROVER, P, false,
	    "approve another actor's request, which then runs", P },
	{ "approval.deny", ROLE_APPROVER, P, false,
	    "deny another actor's request", P },
	{ "actor.add", ROLE_ADMIN, P, false,
	    "add an actor and make its token", P },
	{ "actor.revoke", ROLE_ADMIN, P, false, "revoke an actor's token", P },
	{ "task.add", ROLE_AGENT, P, false, "add a task to the work ledger "
	    "(an agent: its own)", P },
	{ "task.start", ROLE_AGENT, P, false, "start a task (an agent: its "
	    "own)", P },
	{ "task.block", ROLE_AGENT, P, false, "mark a task blocked on a task "
	    "or an actor (an agent: its own)", P },
	{ "task.done", ROLE_AGENT, P, false, "finish a task (an agent: its "
	    "own)", P },
	{ "task.import", ROLE_AGENT, P, false, "import a direction file's "
	    "tasks (an agent: its own)", P },
	{ "mcp.call", ROLE_VIEWER, P, false, "call an MCP tool (what it "
	    "changes is recorded by its own action)", P },
};
#undef P

const char *
role_str(enum role r)
{
	return role_names[r];
}

const struct action_def *
action_table(size_t *n)
{
	*n = sizeof(actions) / sizeof(actions[0]);
	return actions;
}

enum gate_decision
gate_decide(const struct action_def *def, enum role role, const char *stage,
    bool policy_requires)
{
	bool prod = stage != NULL && strcmp(stage, "production") == 0;

	if (role < def->min_role)
		return GATE_DENY;
	if ((prod && role < def->prod_role) || role < def->run_role)
		return def->approvable ? GATE_APPROVAL : GATE_DENY;
	if (policy_requires && def->approvable)
		return GATE_APPROVAL;
	return GATE_RUN;
}

const struct action_def *
action_find(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(actions) / sizeof(actions[0]); i++)
		if (strcmp(actions[i].name, name) == 0)
			return &actions[i];
	return NULL;
}

static void
evidence_write(struct store *s, const struct actor *a,
    const struct gate_call *call, enum outcome outcome, const char *detail)
{
	struct evidence_rec rec = {
		.actor = a->name,
		.role = role_str(a->role),
		.via = a->via,
		.action = call->action,
		.target = call->target,
		.args = call->args,
		.outcome = outcome,
		.detail = detail,
		.duration_ms = outcome == OUTCOME_REQUESTED ||
		    outcome == OUTCOME_PENDING ? 0 :
		    (int64_t)(mono_ms() - call->started),
		.approval = call->approval,
	};
	struct err e;

	/* Evidence that cannot be written means the action must not run. */
	if (evidence_append(s, &rec, NULL, &e) < 0)
		fatalx("%s", e.msg);
}

/*
 * What an approval binds: the SHA-256 of action, target and the args' canonical
 * JSON, NUL-separated (a target need not be UTF-8: a file name).
 */
static void
call_digest(const struct gate_call *call, char out[65])
{
	char *args = call->args != NULL ? json_dumps(call->args, JSON_COMPACT |
	    JSON_SORT_KEYS) : NULL;
	char *text = xasprintf("%s%c%s%c%s", call->action, 0, call->target, 0,
	    args != NULL ? args : "null");
	size_t len = strlen(call->action) + strlen(call->target) + 2 +
	    strlen(args != NULL ? args : "null");

	sha256_hex(text, len, out);
	free(text);
	free(args);
}

/* Records a pending request for call; -1 with ERR_PENDING naming it. */
static int
request_approval(struct store *s, const struct actor *a, struct gate_call *call,
    const struct action_def *def, bool policy, struct err *e)
{
	struct approval_req q;
	char digest[65], detail[160];
	int64_t id;

	if (call->replay == NULL) {
		err_setk(e, ERR_DENIED, "%s on '%s' needs an approval, which only a "
		    "running daemon can hold: run it through the daemon (without "
		    "--offline)", call->action, call->target);
		evidence_write(s, a, call, OUTCOME_DENIED, e->msg);
		return -1;
	}
	call_digest(call, digest);
	memset(&q, 0, sizeof(q));
	q.action = call->action;
	q.target = call->target;
	q.stage = call->stage;
	q.digest = digest;
	q.replay = call->replay;
	q.requester = a->name;
	q.role = role_str(a->role);
	q.via = via_str(a->via);
	q.why = policy ? "policy" : "role";
	if (approval_request(s, &q, &id, e) < 0)
		fatalx("%s", e->msg);
	call->approval = id;
	snprintf(detail, sizeof(detail), "waits for approval #%lld (%s)",
	    (long long)id, policy ? "the approvals: policy" :
	    role_str(def->run_role > def->prod_role ? def->run_role :
	    def->prod_role));
	evidence_write(s, a, call, OUTCOME_PENDING, detail);
	err_setk(e, ERR_PENDING, "%s on '%s' waits for approval #%lld: %s; "
	    "another approver grants it with `opsdeck approve %lld`",
	    call->action, call->target, (long long)id, policy ?
	    "the approvals: policy requires one" : def->run_role > ROLE_VIEWER ?
	    "it needs an approval or the operator role" : "on production it "
	    "needs an approval or the operator role", (long long)id);
	return -1;
}

int
gate_begin(struct store *s, const struct actor *a, struct gate_call *call,
    struct err *e)
{
	const struct action_def *def = action_find(call->action);
	char digest[65];
	int64_t expire;
	int policy;

	if (def == NULL)
		BUG("action '%s' has no row in the gate's table", call->action);
	call->started = mono_ms();
	/* Rules that cannot be read gate nothing through: refuse. */
	if ((policy = approval_required(s, call->action, call->stage, &expire,
	    e)) < 0) {
		e->kind = ERR_FAILED;
		evidence_write(s, a, call, OUTCOME_DENIED, e->msg);
		return -1;
	}
	switch (gate_decide(def, a->role, call->stage, policy == 1)) {
	case GATE_DENY:
		if (a->role < def->min_role)
			err_setk(e, ERR_DENIED, "%s '%s' may not %s (needs role "
			    "%s): ask an %s", role_str(a->role), a->name,
			    call->action, role_str(def->min_role),
			    role_str(def->min_role));
		else
			err_setk(e, ERR_DENIED, "%s '%s' may not %s on production "
			    "(needs role %s): ask an %s", role_str(a->role),
			    a->name, call->action, role_str(def->prod_role),
			    role_str(def->prod_role));
		evidence_write(s, a, call, OUTCOME_DENIED, e->msg);
		return -1;
	case GATE_APPROVAL:
		if (a->approval == 0)
			return request_approval(s, a, call, def, policy == 1, e);
		break;
	case GATE_RUN:
		break;
	}
	/* A granted request is used up by its run, needed now or not. */
	if (a->approval != 0) {
		call->approval = a->approval;
		call_digest(call, digest);
		if (approval_claim(s, a->approval, call->action, a->name, digest,
		    e) < 0) {
			evidence_write(s, a, call, OUTCOME_DENIED, e->msg);
			return -1;
		}
	}
	evidence_write(s, a, call, OUTCOME_REQUESTED, NULL);
	return 0;
}

void
gate_end(struct store *s, const struct actor *a, const struct gate_call *call,
    const struct err *failure, const char *detail)
{
	if (failure != NULL)
		evidence_write(s, a, call, OUTCOME_FAILED, failure->msg);
	else
		evidence_write(s, a, call, OUTCOME_OK, detail);
}

int
gate_run(struct store *s, const struct actor *a, struct gate_call *call,
    int (*fn)(void *, struct err *), void *arg, struct err *e)
{
	if (gate_begin(s, a, call, e) < 0)
		return -1;
	if (fn(arg, e) < 0) {
		gate_end(s, a, call, e, NULL);
		return -1;
	}
	gate_end(s, a, call, NULL, NULL);
	return 0;
}
