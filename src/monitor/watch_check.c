#include <stdlib.h>

#include "core/xmalloc.h"
#include "monitor/cond.h"
#include "monitor/cron.h"
#include "monitor/watch_check.h"

static void
schedule_check(const struct config *cfg, struct cfg_diags *diags,
    const char *section, const char *name, const char *schedule,
    struct cfg_pos sat, const char *tz, struct cfg_pos tat)
{
	struct cron c;
	struct err e;
	struct tz *z;
	char *kp;

	if (schedule != NULL && cron_parse(schedule, &c, &e) < 0) {
		kp = xasprintf("%s.%s.schedule", section, name);
		cfg_diags_add(diags, cfg->path, sat, kp, "%s", e.msg);
		free(kp);
	}
	if (tz != NULL) {
		if ((z = tz_load(tz, &e)) == NULL) {
			kp = xasprintf("%s.%s.tz", section, name);
			cfg_diags_add(diags, cfg->path, tat, kp, "%s", e.msg);
			free(kp);
		}
		tz_free(z);
	}
}

int
watch_config_check(const struct config *cfg, struct cfg_diags *diags)
{
	const struct cfg_watch *w = &cfg->watch;
	size_t n0 = diags->n, i, j;

	for (i = 0; i < w->nchecks; i++)
		for (j = 0; j < w->checks[i].nconds; j++) {
			const struct cfg_cond *cd = &w->checks[i].conds[j];
			struct cond c;
			struct err e;
			char *kp;

			bool route = w->checks[i].kind == CFG_CHECK_ROUTE;

			kp = xasprintf("checks.%s.conditions[%zu]",
			    w->checks[i].name, j);
			if (cond_parse(cd->text, &c, &e) < 0)
				cfg_diags_add(diags, cfg->path, cd->pos, kp, "%s",
				    e.msg);
			else if (route != cond_route_var(c.left.var))
				cfg_diags_add(diags, cfg->path, cd->pos, kp,
				    "condition '%s': %s", cd->text, route ?
				    "a route check judges request metrics: use "
				    "[P50], [P95], [P99], [MAX], [ERROR_RATE], "
				    "[REQUESTS] or [RPS]" : "[P50], [P95], [P99], "
				    "[MAX], [ERROR_RATE], [REQUESTS] and [RPS] are "
				    "for route checks (route: instead of http: or "
				    "tcp:)");
			cond_release(&c);
			free(kp);
		}
	for (i = 0; i < w->nheartbeats; i++)
		schedule_check(cfg, diags, "heartbeats", w->heartbeats[i].name,
		    w->heartbeats[i].schedule, w->heartbeats[i].schedule_at,
		    w->heartbeats[i].tz, w->heartbeats[i].tz_at);
	for (i = 0; i < w->nmaint; i++)
		schedule_check(cfg, diags, "maintenance", w->maint[i].name,
		    w->maint[i].schedule, w->maint[i].schedule_at, w->maint[i].tz,
		    w->maint[i].tz_at);
	return diags->n > n0 ? -1 : 0;
}
