/* Each app's route templates: checked at startup, then handed to the metrics store. */
#include <stdlib.h>
#include <string.h>

#include "core/log.h"
#include "core/xmalloc.h"
#include "router/router_int.h"
#include "stats/metrics.h"

void
router_set_routes(struct router *r, const struct config *cfg)
{
	size_t i, j;
	struct err e;

	if (r->env.metrics == NULL)
		return;
	for (i = 0; i < cfg->napps; i++) {
		const struct cfg_app *a = &cfg->apps[i];
		const char **t = xcalloc(a->nroutes + 1, sizeof(*t));

		for (j = 0; j < a->nroutes; j++)
			t[j] = a->routes[j].tmpl;
		if (metrics_set_routes(r->env.metrics, a->name, t, a->nroutes,
		    &e) < 0)
			log_warnx("router: %s: routes: %s", a->name, e.msg);
		free(t);
	}
}

void
router_routes_release(struct router *r)
{
	(void)r;
}
