/*
 * Restart policy arithmetic, kept pure so it can be tested without processes:
 * exponential backoff between restarts and crash-loop detection over a window.
 */
#ifndef OPSDECK_POLICY_H
#define OPSDECK_POLICY_H

#include <stdbool.h>
#include <stdint.h>

#include "config/config.h"

#define CRASHLOOP_MAX CFG_CRASHLOOP_LIMIT_MAX

struct crashloop {
	int64_t	restarts[CRASHLOOP_MAX];	/* ring of restart times, ms */
	int	n;				/* entries in use */
	int	head;				/* next slot */
};

/* The delay before restart number `consecutive` (1-based): min·2^(n-1), capped at max. */
int64_t	backoff_delay(const struct cfg_restart *, int consecutive);
/* Restarts recorded within the window ending at now. */
int	crashloop_count(const struct crashloop *, const struct cfg_restart *,
	    int64_t now);
/*
 * Called when a machine exits unexpectedly at time now: true when restarting it would
 * exceed the limit (the machine goes to failed); otherwise records the restart.
 */
bool	crashloop_should_fail(struct crashloop *, const struct cfg_restart *,
	    int64_t now);
/* A run that lasted at least this long resets the backoff sequence. */
int64_t	backoff_reset_after(const struct cfg_restart *);

#endif
