/*
 * Notices of incidents, through the store's outbox: notify_queue writes one row per
 * channel the config's notify routes pick, and the notifier delivers them (webhook:
 * a JSON POST, or Slack's {"text"}; email: SMTP through libcurl; command: the JSON
 * on its stdin). A channel gets its notices in order, one at a time; one that fails
 * is retried with backoff (2 s doubling to 10 min) for as long as it takes: nothing
 * is dropped.
 */
#ifndef OPSDECK_NOTIFY_H
#define OPSDECK_NOTIFY_H

#include <stdint.h>

#include <jansson.h>
#include <uv.h>

#include "config/config.h"
#include "monitor/probe.h"
#include "store/store.h"

struct notifier;

typedef int64_t (*notify_now_fn)(void *ctx);

struct notifier *notifier_new(uv_loop_t *, struct store *, struct prober *,
	    notify_now_fn, void *ctx);
void	 notifier_config(struct notifier *, const struct config *);
/*
 * Queues event ("opened", "resolved", "reminder", "acknowledged") of incident inc
 * (its JSON, as watch shows it) to the routed channels; how many were queued.
 */
int	 notify_queue(struct notifier *, const json_t *inc, const char *event,
	    const char *detail);
/* Starts the deliveries that are due. */
void	 notifier_kick(struct notifier *);
/* Deliveries running now. */
size_t	 notifier_busy(const struct notifier *);
void	 notifier_free(struct notifier *);

#endif
