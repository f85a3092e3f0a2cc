/* The config's route templates, checked with the metrics store's own compiler. */
#ifndef OPSDECK_STATS_CHECK_H
#define OPSDECK_STATS_CHECK_H

#include "config/config.h"

/* Adds a diagnostic at each template that does not compile; -1 when any. */
int	 routes_config_check(const struct config *, struct cfg_diags *);

#endif
