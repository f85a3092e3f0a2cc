#include <stdlib.h>
#include <string.h>

#include "core/err.h"
#include "core/xmalloc.h"
#include "stats/check.h"
#include "stats/metrics.h"

int
routes_config_check(const struct config *cfg, struct cfg_diags *diags)
{
	size_t n0 = diags->n;
	struct metrics *scratch = metrics_new();
	size_t i, j;

	for (i = 0; i < cfg->napps; i++)
		for (j = 0; j < cfg->apps[i].nroutes; j++) {
			const struct cfg_route *rt = &cfg->apps[i].routes[j];
			const char *one[1] = { rt->tmpl };
			struct err e;

			if (metrics_set_routes(scratch, cfg->apps[i].name, one, 1,
			    &e) == 0)
				continue;
			char *kp = xasprintf("apps.%s.routes[%zu]",
			    cfg->apps[i].name, j);

			cfg_diags_add(diags, cfg->path, rt->pos, kp, "%s", e.msg);
			free(kp);
		}
	metrics_free(scratch);
	return diags->n > n0 ? -1 : 0;
}

