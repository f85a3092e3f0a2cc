/*
 * Approvals (four eyes): an action the policy gates, or one the actor's role allows
 * only with approval (an agent's production deploy), becomes a pending request: the
 * action, its target, an exact digest of its arguments, the requester and an expiry.
 * Another actor with the approver role grants or denies it; the requester never can.
 * A granted request runs once, as the requester, bound to the same digest; an expired
 * one never runs.
 *
 * The rules come from the config's approvals: section; the daemon writes them into
 * the store (approval_rules_set), where the gate reads them, so a CLI running offline
 * sees the same policy.
 */
#ifndef OPSDECK_APPROVALS_H
#define OPSDECK_APPROVALS_H

#include <stdbool.h>
#include <stdint.h>

#include <jansson.h>

#include "core/err.h"
#include "store/store.h"

#define APPROVAL_EXPIRE_MS	(60 * 60 * 1000)	/* default: 1 h */

enum approval_state {
	APPROVAL_PENDING,
	APPROVAL_APPROVED,	/* granted, not yet run */
	APPROVAL_DENIED,
	APPROVAL_EXPIRED,
	APPROVAL_RAN,		/* claimed by its run: never again */
	APPROVAL_FAILED,	/* granted, but could not start */
};

const char *approval_state_str(enum approval_state);

/* One rule: action (a gate row's name) on stage (NULL: any stage). */
struct approval_rule {
	const char	*action;
	const char	*stage;
};

/* Replaces the store's rules; expire_ms is how long a request waits. */
int	 approval_rules_set(struct store *, const struct approval_rule *, size_t n,
	    int64_t expire_ms, struct err *);
/*
 * Whether a rule gates action on stage: 1 or 0, the expiry into *expire_ms either
 * way; -1 when the rules cannot be read (the gate then refuses: it fails closed).
 */
int	 approval_required(struct store *, const char *action, const char *stage,
	    int64_t *expire_ms, struct err *);

/* What a request holds (the gate fills it). */
struct approval_req {
	const char	*action;
	const char	*target;
	const char	*stage;		/* NULL: none */
	const char	*digest;	/* of action, target and args */
	const json_t	*replay;	/* what runs it again once granted; its
					 * "private" member (a database URL with
					 * its password) is never shown, and is
					 * wiped once the request cannot run */
	const char	*requester;
	const char	*role;
	const char	*via;
	const char	*why;		/* "policy" or "role" */
};

/* Records a pending request; its id into *id. */
int	 approval_request(struct store *, const struct approval_req *, int64_t *id,
	    struct err *);
/*
 * Grants or denies pending request id as approver (whose role the gate checked):
 * refused when approver is the requester, when the request is not pending, or when
 * it has expired (it is then marked expired).
 */
int	 approval_decide(struct store *, int64_t id, const char *approver, bool grant,
	    const char *comment, struct err *);
/*
 * Claims granted request id for its one run: it must be granted, unexpired, for
 * action by requester and carry digest. Marks it ran in the same statement, so a
 * second claim fails. 0 or -1 (ERR_DENIED) saying why.
 */
int	 approval_claim(struct store *, int64_t id, const char *action,
	    const char *requester, const char *digest, struct err *);
/* Marks a granted request that could not start as failed, with why. */
void	 approval_fail(struct store *, int64_t id, const char *why);
/*
 * One request as JSON (its replay as "request", without the private member), or
 * NULL with ERR_NOT_FOUND.
 */
json_t	*approval_json(struct store *, int64_t id, struct err *);
/* The same with the replay's private member, for the daemon's one run of it. */
json_t	*approval_run_json(struct store *, int64_t id, struct err *);
/*
 * The answer for an action that now waits: {"approval_pending": {request id...}}
 * (the API answers it 202; the CLI says what to do and exits 4).
 */
json_t	*approval_pending_json(struct store *, int64_t id, struct err *);
/* {"approvals": [...]}: pending ones, or all with all. */
json_t	*approvals_json(struct store *, bool all, struct err *);

#endif
