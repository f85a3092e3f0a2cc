/*
 * The gate's role matrix and its approval decisions: who may do what, on which stage,
 * and when an action waits for an approval instead; and the config's list of
 * approvable actions is the gate's.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "config/config.h"
#include "ledger/gate.h"

static enum gate_decision
decide(const char *action, enum role r, const char *stage, bool policy)
{
	const struct action_def *def = action_find(action);

	assert_non_null(def);
	return gate_decide(def, r, stage, policy);
}

/* The matrix, row by row. */
static void
test_role_matrix(void **state)
{
	(void)state;
	/* viewer reads: no action runs */
	assert_int_equal(decide("deploy.create", ROLE_VIEWER, "staging", false),
	    GATE_DENY);
	assert_int_equal(decide("heartbeat.ping", ROLE_VIEWER, NULL, false),
	    GATE_DENY);
	/* agent: deploys to staging, pings heartbeats */
	assert_int_equal(decide("deploy.create", ROLE_AGENT, "staging", false),
	    GATE_RUN);
	assert_int_equal(decide("heartbeat.ping", ROLE_AGENT, NULL, false),
	    GATE_RUN);
	/* ... to production only through an approval */
	assert_int_equal(decide("deploy.create", ROLE_AGENT, "production", false),
	    GATE_APPROVAL);
	/* ... and no rollback, machines or secrets */
	assert_int_equal(decide("deploy.rollback", ROLE_AGENT, "staging", false),
	    GATE_DENY);
	assert_int_equal(decide("machine.restart", ROLE_AGENT, NULL, false),
	    GATE_DENY);
	assert_int_equal(decide("secrets.set", ROLE_AGENT, "staging", false),
	    GATE_DENY);
	/* operator: also rolls back, manages machines and secrets, deploys anywhere */
	assert_int_equal(decide("deploy.create", ROLE_OPERATOR, "production",
	    false), GATE_RUN);
	assert_int_equal(decide("deploy.rollback", ROLE_OPERATOR, "production",
	    false), GATE_RUN);
	assert_int_equal(decide("machine.stop", ROLE_OPERATOR, NULL, false),
	    GATE_RUN);
	assert_int_equal(decide("secrets.set", ROLE_OPERATOR, "production", false),
	    GATE_RUN);
	assert_int_equal(decide("approval.grant", ROLE_OPERATOR, NULL, false),
	    GATE_DENY);
	/* approver: also grants approvals, not actors */
	assert_int_equal(decide("approval.grant", ROLE_APPROVER, NULL, false),
	    GATE_RUN);
	assert_int_equal(decide("actor.add", ROLE_APPROVER, NULL, false),
	    GATE_DENY);
	/* migrations: an agent asks, an approver grants; an operator applies */
	assert_int_equal(decide("migrate.apply", ROLE_VIEWER, NULL, false),
	    GATE_DENY);
	assert_int_equal(decide("migrate.apply", ROLE_AGENT, NULL, false),
	    GATE_APPROVAL);
	assert_int_equal(decide("migrate.apply", ROLE_OPERATOR, NULL, false),
	    GATE_RUN);
	/* admin: actors and the config */
	assert_int_equal(decide("actor.add", ROLE_ADMIN, NULL, false), GATE_RUN);
	assert_int_equal(decide("daemon.reload", ROLE_ADMIN, NULL, false),
	    GATE_RUN);
}

/* The policy makes an approvable action wait for anyone; others it cannot hold. */
static void
test_policy(void **state)
{
	(void)state;
	assert_int_equal(decide("deploy.create", ROLE_ADMIN, "production", true),
	    GATE_APPROVAL);
	assert_int_equal(decide("deploy.rollback", ROLE_OPERATOR, "production",
	    true), GATE_APPROVAL);
	/* a role too low is refused before any policy */
	assert_int_equal(decide("deploy.rollback", ROLE_AGENT, "production", true),
	    GATE_DENY);
	assert_int_equal(decide("machine.stop", ROLE_OPERATOR, NULL, true),
	    GATE_RUN);
	/* a migration policy holds an admin's apply too */
	assert_int_equal(decide("migrate.apply", ROLE_ADMIN, NULL, true),
	    GATE_APPROVAL);
}

static void
test_config_lists_the_approvable_rows(void **state)
{
	static const char *const cfg[] = CFG_APPROVABLE;
	const struct action_def *t;
	size_t n, i, found = 0, k;

	(void)state;
	t = action_table(&n);
	for (i = 0; i < n; i++) {
		bool listed = false;

		for (k = 0; k < sizeof(cfg) / sizeof(cfg[0]); k++)
			listed |= strcmp(cfg[k], t[i].name) == 0;
		assert_int_equal(listed, t[i].approvable);
		found += listed;
	}
	assert_int_equal(found, sizeof(cfg) / sizeof(cfg[0]));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_role_matrix),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_config_lists_the_approvable_rows),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
