/*
 * opsdeck guard imports --deny PATTERN... PATH...: a CI guard, standalone and
 * offline, that fails on the source files' imports a deny list bans, naming each by
 * file:line:col (--format github: as GitHub Actions annotations).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "guard/imports.h"

extern const struct cmd_entry cmd_guard_imports_entry;

static int
print_hit(const struct import_hit *h, void *arg)
{
	bool github = *(bool *)arg;
	char msg[512];

	snprintf(msg, sizeof(msg), "import '%s' is denied (--deny %s): remove "
	    "it, or drop the pattern if it is allowed now", h->name, h->pattern);
	if (github) {
		fputs("::error file=", stdout);
		gh_escape(stdout, h->file, true);
		printf(",line=%zu,col=%zu,title=denied import::", h->line, h->col);
		gh_escape(stdout, msg, false);
		fputc('\n', stdout);
	} else
		printf("%s:%zu:%zu: %s\n", h->file, h->line, h->col, msg);
	return 0;
}

static int
cmd_guard_imports_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "deny", required_argument, NULL, 'd' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	char **patterns = NULL, *tok, *save, *copy;
	size_t n = 0;
	bool github = false;
	long hits, total = 0;
	struct err e;
	int ch, i, ret = EXIT_USAGE;

	(void)ctx;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'd':
			/* --deny a,b is --deny a --deny b */
			copy = xstrdup(optarg);
			for (tok = strtok_r(copy, ",", &save); tok != NULL;
			    tok = strtok_r(NULL, ",", &save)) {
				patterns = xreallocarray(patterns, n + 1,
				    sizeof(*patterns));
				patterns[n++] = xstrdup(tok);
			}
			free(copy);
			break;
		case 'f':
			if (strcmp(optarg, "github") != 0 &&
			    strcmp(optarg, "text") != 0) {
				fprintf(stderr, "opsdeck guard imports: --format "
				    "'%s': use text or github\n", optarg);
				goto out;
			}
			github = strcmp(optarg, "github") == 0;
			break;
		default:
			cmd_usage(&cmd_guard_imports_entry);
			goto out;
		}
	}
	if (n == 0 || optind == argc) {
		fprintf(stderr, "opsdeck guard imports: give at least one --deny "
		    "PATTERN and one PATH\n");
		cmd_usage(&cmd_guard_imports_entry);
		goto out;
	}
	for (i = optind; i < argc; i++) {
		if ((hits = guard_imports(argv[i], patterns, n, print_hit, &github,
		    &e)) < 0) {
			fprintf(stderr, "opsdeck guard imports: %s\n", e.msg);
			goto out;
		}
		total += hits;
	}
	if (total > 0)
		fprintf(stderr, "opsdeck guard imports: %ld denied import%s\n", total,
		    total == 1 ? "" : "s");
	ret = total > 0 ? EXIT_FAILED : EXIT_OK;
out:
	for (; n > 0; n--)
		free(patterns[n - 1]);
	free(patterns);
	return ret;
}

const struct cmd_entry cmd_guard_imports_entry = {
	"guard imports", "--deny PATTERN... [--format text|github] PATH...",
	"fail on imports a deny list bans (file:line:col), offline, for CI", 0,
	cmd_guard_imports_exec,
};
