/*
 * The action gate: the one way anything changes. It checks the actor's role against the
 * action's row in the table and writes evidence (ledger/evidence.h) of the request and
 * its result. The CLI, the API, MCP and the dashboard all reach actions through
 * gate_run; none has its own path.
 *
 * Approvals (ledger/approvals.h): an action the policy gates on its stage, or one the
 * actor's role allows only with approval (an agent's production deploy), does not
 * run: the gate records a pending request and fails with ERR_PENDING. Once another
 * approver grants it, the daemon runs it again as the requester, with the approval's
 * id in the actor, and the gate lets it through once.
 */
#ifndef OPSDECK_GATE_H
#define OPSDECK_GATE_H

#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "ledger/evidence.h"
#include "store/store.h"

enum role {
	ROLE_VIEWER,
	ROLE_AGENT,
	ROLE_OPERATOR,
	ROLE_APPROVER,
	ROLE_ADMIN,
};

struct actor {
	char		name[64];
	enum role	role;
	enum via	via;		/* where the request came from */
	int64_t		approval;	/* runs under this granted approval, or 0 */
};

/* One action through the gate, as its evidence records it. */
struct gate_call {
	const char	*action;	/* a row of the table: "machine.start" */
	const char	*target;	/* what it acts on: "web-1", "hotdash" */
	const json_t	*args;		/* what it was asked, NULL for nothing more;
					 * the caller leaves secret values out */
	const char	*stage;		/* the target app's stage, NULL: none */
	const json_t	*replay;	/* what runs it again once approved (the
					 * daemon's), NULL: it cannot wait */
	int64_t		 approval;	/* set by gate_begin: the approval it runs
					 * under, or the request it made */
	uint64_t	 started;	/* set by gate_begin, for the duration */
};

struct action_def {
	const char	*name;		/* "machine.start" */
	enum role	 min_role;
	enum role	 prod_role;	/* on the production stage; below it (at least
					 * min_role) only with approval */
	bool		 approvable;	/* may wait for an approval and run after */
	const char	*summary;
	enum role	 run_role;	/* on any stage; below it (at least min_role)
					 * only with approval */
};

const char *role_str(enum role);
/* The action's row, or NULL for an unknown action. */
const struct action_def *action_find(const char *name);
/* Every row, for the role matrix in docs and tests; *n set to their number. */
const struct action_def *action_table(size_t *n);
/*
 * What the gate decides for actor on action at stage, without running anything:
 * GATE_DENY (role too low), GATE_APPROVAL (waits for one), GATE_RUN.
 */
enum gate_decision { GATE_DENY, GATE_APPROVAL, GATE_RUN };
enum gate_decision gate_decide(const struct action_def *, enum role,
	    const char *stage, bool policy_requires);
/*
 * Runs fn(arg) as actor if the role allows call's action; records evidence either
 * way. Returns fn's result, or -1 (with a message) when refused.
 */
int	gate_run(struct store *, const struct actor *, struct gate_call *,
	    int (*fn)(void *arg, struct err *), void *arg, struct err *);
/*
 * gate_run in two halves, for an action that ends later (on another thread's
 * answer): gate_begin checks the role and the approval policy and records the
 * request (-1, recorded as denied, when refused; -1 with ERR_PENDING and the
 * request's id in call->approval when it waits for an approval); gate_end records the result, failed with failure's message
 * or ok with detail (may be NULL). Every gate_begin that returned 0 gets one
 * gate_end, with the same call (its args still alive).
 */
int	gate_begin(struct store *, const struct actor *, struct gate_call *,
	    struct err *);
void	gate_end(struct store *, const struct actor *, const struct gate_call *,
	    const struct err *failure, const char *detail);

#endif
