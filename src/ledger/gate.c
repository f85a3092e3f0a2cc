#include <string.h>

#include "core/log.h"
#include "core/util.h"
#include "ledger/gate.h"

static const char *const role_names[] = {
	[ROLE_VIEWER] = "viewer",
	[ROLE_AGENT] = "agent",
	[ROLE_OPERATOR] = "operator",
	[ROLE_APPROVER] = "approver",
	[ROLE_ADMIN] = "admin",
};

static const struct action_def actions[] = {
	{ "machine.start", ROLE_OPERATOR, "start a stopped or failed machine" },
	{ "machine.stop", ROLE_OPERATOR, "stop a machine" },
	{ "machine.restart", ROLE_OPERATOR, "restart a machine" },
	{ "daemon.reload", ROLE_ADMIN, "reload opsdeck.yaml" },
	{ "deploy.create", ROLE_OPERATOR, "deploy a new release of an app" },
	{ "deploy.rollback", ROLE_OPERATOR, "make an earlier release live again" },
	{ "secrets.set", ROLE_OPERATOR, "stage secret values for an app" },
	{ "secrets.unset", ROLE_OPERATOR, "stage the removal of secrets" },
	{ "secrets.deploy", ROLE_OPERATOR, "deploy the staged secrets" },
	{ "migrate.apply", ROLE_OPERATOR, "apply migrations to a database" },
	{ "gc.run", ROLE_OPERATOR, "remove the artifacts and logs retain: no "
	    "longer keeps" },
	{ "incident.ack", ROLE_OPERATOR, "acknowledge an open incident" },
	{ "heartbeat.ping", ROLE_AGENT, "report a run to a heartbeat" },
	{ "maintenance.add", ROLE_OPERATOR, "start a maintenance window" },
	{ "maintenance.end", ROLE_OPERATOR, "end a maintenance window early" },
};

const char *
role_str(enum role r)
{
	return role_names[r];
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
		.duration_ms = outcome == OUTCOME_REQUESTED ? 0 :
		    (int64_t)(mono_ms() - call->started),
		.approval = call->approval,
	};
	struct err e;

	/* Evidence that cannot be written means the action must not run. */
	if (evidence_append(s, &rec, NULL, &e) < 0)
		fatalx("%s", e.msg);
}

int
gate_begin(struct store *s, const struct actor *a, struct gate_call *call,
    struct err *e)
{
	const struct action_def *def = action_find(call->action);

	if (def == NULL)
		BUG("action '%s' has no row in the gate's table", call->action);
	call->started = mono_ms();
	if (a->role < def->min_role) {
		err_setk(e, ERR_DENIED, "%s '%s' may not %s (needs role %s): ask an %s",
		    role_str(a->role), a->name, call->action,
		    role_str(def->min_role), role_str(def->min_role));
		evidence_write(s, a, call, OUTCOME_DENIED, e->msg);
		return -1;
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
