/*
 * opsdeck config check: loads opsdeck.yaml as the daemon would (command binaries
 * included) and as `migrate lint` would (the rule ids of its migrate: section), and
 * prints every problem, one per line, so an editor can jump to each.
 */
#include <stdio.h>
#include <stdlib.h>

#include "cmd/common.h"
#include "config/config.h"

extern const struct cmd_entry cmd_config_check_entry;

static const char *
plural(size_t n, const char *one, const char *many)
{
	return n == 1 ? one : many;
}

static int
cmd_config_check_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	const char *file = cmd_config_path(ctx);
	struct config cfg;
	struct cfg_diags diags;
	size_t i, j, groups = 0, machines = 0;
	int ret = EXIT_USAGE;

	(void)argv;
	if (argc != 1)
		return cmd_usage(&cmd_config_check_entry);
	if (cmd_config_validate(file, &cfg, &diags) < 0) {
		cfg_diags_print(stderr, &diags);
		fprintf(stderr, "%s: %zu %s\n", file, diags.n,
		    plural(diags.n, "error", "errors"));
		goto out;
	}
	for (i = 0; i < cfg.napps; i++) {
		groups += cfg.apps[i].nprocs;
		for (j = 0; j < cfg.apps[i].nprocs; j++)
			machines += (size_t)cfg.apps[i].procs[j].count;
	}
	printf("%s: ok (%zu %s, %zu %s, %zu %s)\n", file, cfg.napps,
	    plural(cfg.napps, "app", "apps"), groups,
	    plural(groups, "process group", "process groups"), machines,
	    plural(machines, "machine", "machines"));
	ret = EXIT_OK;
out:
	config_release(&cfg);
	cfg_diags_release(&diags);
	return ret;
}

const struct cmd_entry cmd_config_check_entry = {
	"config check", "[-c FILE]",
	"validate opsdeck.yaml and print every problem", 0,
	cmd_config_check_exec,
};
