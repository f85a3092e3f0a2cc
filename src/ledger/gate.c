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
evidence_write(struct store *s, const struct actor *a, const char *action,
    const char *target, const char *result, const char *detail)
{
	sqlite3_stmt *st = NULL;
	struct err e;

	if (store_prepare(s, &st, "INSERT INTO evidence (at, actor, role, "
	    "action, target, result, detail) VALUES (?, ?, ?, ?, ?, ?, ?)",
	    &e) < 0)
		fatalx("%s", e.msg);
	sqlite3_bind_int64(st, 1, wall_ms());
	sqlite3_bind_text(st, 2, a->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, role_str(a->role), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, result, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, detail, -1, SQLITE_STATIC);
	/* Evidence that cannot be written means the action must not run. */
	if (sqlite3_step(st) != SQLITE_DONE)
		fatalx("store: cannot write evidence for %s: %s", action,
		    sqlite3_errmsg(s->db));
	sqlite3_finalize(st);
}

int
gate_begin(struct store *s, const struct actor *a, const char *action,
    const char *target, struct err *e)
{
	const struct action_def *def = action_find(action);

	if (def == NULL)
		BUG("action '%s' has no row in the gate's table", action);
	if (a->role < def->min_role) {
		err_setk(e, ERR_DENIED, "%s '%s' may not %s (needs role %s): ask an %s",
		    role_str(a->role), a->name, action, role_str(def->min_role),
		    role_str(def->min_role));
		evidence_write(s, a, action, target, "denied", e->msg);
		return -1;
	}
	evidence_write(s, a, action, target, "requested", NULL);
	return 0;
}

void
gate_end(struct store *s, const struct actor *a, const char *action,
    const char *target, const struct err *failure, const char *detail)
{
	if (failure != NULL)
		evidence_write(s, a, action, target, "failed", failure->msg);
	else
		evidence_write(s, a, action, target, "ok", detail);
}

int
gate_run(struct store *s, const struct actor *a, const char *action,
    const char *target, int (*fn)(void *, struct err *), void *arg,
    struct err *e)
{
	if (gate_begin(s, a, action, target, e) < 0)
		return -1;
	if (fn(arg, e) < 0) {
		gate_end(s, a, action, target, e, NULL);
		return -1;
	}
	gate_end(s, a, action, target, NULL, NULL);
	return 0;
}
