/* The config's conditions, cron schedules and time zones, checked by monitor/'s parsers. */
#ifndef OPSDECK_WATCH_CHECK_H
#define OPSDECK_WATCH_CHECK_H

#include "config/config.h"

/* Adds a diagnostic at each condition, schedule or zone that does not parse; -1 when any. */
int	 watch_config_check(const struct config *, struct cfg_diags *);

#endif
