/*
 * The CI guards, standalone and offline, each naming what fails by file:line(:col)
 * (--format github: as GitHub Actions annotations):
 * - guard imports --deny PATTERN... PATH...: the imports a deny list bans;
 * - guard evidence --pr-body FILE --pubkey KEY: the evidence exports a PR body names
 *   verify and belong to its actor and window (guard/prbody.h);
 * - guard heartbeat --file EXPORT --max-age D: an export's newest heartbeat ping is
 *   recent enough.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "guard/evidence_guard.h"
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

/* ---- guard evidence, guard heartbeat ------------------------------------------ */

#define BODY_MAX	((size_t)4 << 20)	/* far above GitHub's 64 KiB body cap */
#define EXPORT_MAX	((size_t)1 << 30)	/* as `evidence verify` reads */

extern const struct cmd_entry cmd_guard_evidence_entry;
extern const struct cmd_entry cmd_guard_heartbeat_entry;

/* A finding as text (FILE:LINE:COL: message) or as a GitHub annotation. */
static void
print_finding(const struct guard_finding *f, void *arg)
{
	bool github = *(bool *)arg;

	/* every line is an annotation in github format: a line that began with a
	 * path the PR body wrote could be read as a workflow command */
	if (github) {
		fputs(f->level == GUARD_ERROR ? "::error file=" : f->level ==
		    GUARD_WARN ? "::warning file=" : "::notice file=", stdout);
		gh_escape(stdout, f->file, true);
		if (f->line > 0)
			printf(",line=%ld", f->line);
		if (f->col > 0)
			printf(",col=%ld", f->col);
		fputs(",title=", stdout);
		gh_escape(stdout, f->title, true);
		fputs("::", stdout);
		gh_escape(stdout, f->msg, false);
		fputc('\n', stdout);
		return;
	}
	fputs(f->file, stdout);
	if (f->line > 0)
		printf(":%ld", f->line);
	if (f->col > 0)
		printf(":%ld", f->col);
	printf(": %s%s\n", f->level == GUARD_WARN ? "warning: " : "", f->msg);
}

/* --format text|github: 0, or -1 after saying what is wrong. */
static int
format_arg(const char *cmd, const char *arg, bool *github)
{
	if (strcmp(arg, "github") != 0 && strcmp(arg, "text") != 0) {
		fprintf(stderr, "opsdeck %s: --format '%s': use text or github\n",
		    cmd, arg);
		return -1;
	}
	*github = strcmp(arg, "github") == 0;
	return 0;
}

/* --pubkey KEY: the hex key (the caller frees), or NULL after saying why not. */
static char *
key_arg(const char *cmd, const char *arg)
{
	char *k = cmd_pubkey_arg(arg);

	if (strlen(k) == 64 && strspn(k, "0123456789abcdefABCDEF") == 64)
		return k;
	fprintf(stderr, "opsdeck %s: --pubkey '%s' is neither 64 hex digits nor a "
	    "file holding them: give what `opsdeck evidence key` prints, or a "
	    "file of it\n", cmd, arg);
	free(k);
	return NULL;
}

/* --since, --until, --at T: 0, or -1 after saying why T is no time. */
static int
time_arg(const char *cmd, const char *opt, const char *arg, int64_t *ms)
{
	if (time_parse(arg, wall_ms(), ms) < 0 || *ms < 0) {
		fprintf(stderr, "opsdeck %s: --%s '%s' is not a time: give "
		    "2026-12-07T09:30:00Z, 2026-12-07 or a span before now like "
		    "2h\n", cmd, opt, arg);
		return -1;
	}
	return 0;
}

static void
summary(const char *cmd, long errors)
{
	if (errors > 0)
		fprintf(stderr, "opsdeck %s: %ld problem%s\n", cmd, errors,
		    errors == 1 ? "" : "s");
}

static int
cmd_guard_evidence_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const char cmd[] = "guard evidence";
	static const struct option longopts[] = {
		{ "pr-body", required_argument, NULL, 'b' },
		{ "pubkey", required_argument, NULL, 'k' },
		{ "actor", required_argument, NULL, 'a' },
		{ "since", required_argument, NULL, 's' },
		{ "until", required_argument, NULL, 'u' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct guard_evidence_opts o = { NULL, NULL, -1, -1 };
	struct buf text = BUF_INIT_MAX(BODY_MAX);
	const char *body = NULL;
	bool github = false;
	struct err e;
	long errors;
	int ch, ret = EXIT_USAGE;

	(void)ctx;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'b':
			body = optarg;
			break;
		case 'k':
			free((char *)o.pubkey_hex);
			if ((o.pubkey_hex = key_arg(cmd, optarg)) == NULL)
				goto out;
			break;
		case 'a':
			o.actor = optarg;
			break;
		case 's':
			if (time_arg(cmd, "since", optarg, &o.since_ms) < 0)
				goto out;
			break;
		case 'u':
			if (time_arg(cmd, "until", optarg, &o.until_ms) < 0)
				goto out;
			break;
		case 'f':
			if (format_arg(cmd, optarg, &github) < 0)
				goto out;
			break;
		default:
			cmd_usage(&cmd_guard_evidence_entry);
			goto out;
		}
	}
	if (body == NULL || o.pubkey_hex == NULL || optind != argc) {
		fprintf(stderr, "opsdeck %s: give --pr-body FILE and --pubkey KEY, "
		    "and no other arguments\n", cmd);
		cmd_usage(&cmd_guard_evidence_entry);
		goto out;
	}
	if (o.since_ms >= 0 && o.until_ms >= 0 && o.until_ms < o.since_ms) {
		fprintf(stderr, "opsdeck %s: --until is before --since: give the "
		    "window's start first\n", cmd);
		goto out;
	}
	if (file_read(body, BODY_MAX, &text, &e) < 0) {
		fprintf(stderr, "opsdeck %s: --pr-body: %s\n", cmd, e.msg);
		goto out;
	}
	errors = guard_evidence(body, text.data != NULL ? text.data : "",
	    text.len, &o, print_finding, &github);
	summary(cmd, errors);
	ret = errors > 0 ? EXIT_FAILED : EXIT_OK;
out:
	free((char *)o.pubkey_hex);
	buf_release(&text);
	return ret;
}

static int
cmd_guard_heartbeat_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const char cmd[] = "guard heartbeat";
	static const struct option longopts[] = {
		{ "file", required_argument, NULL, 'F' },
		{ "max-age", required_argument, NULL, 'm' },
		{ "pubkey", required_argument, NULL, 'k' },
		{ "name", required_argument, NULL, 'n' },
		{ "actor", required_argument, NULL, 'a' },
		{ "at", required_argument, NULL, 't' },
		{ "format", required_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	struct guard_heartbeat_opts o = { NULL, NULL, NULL, -1, -1 };
	struct buf text = BUF_INIT_MAX(EXPORT_MAX);
	const char *file = NULL;
	bool github = false;
	struct err e;
	long errors;
	int ch, ret = EXIT_USAGE;

	(void)ctx;
	optind = 0;
	while ((ch = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
		switch (ch) {
		case 'F':
			file = optarg;
			break;
		case 'm':
			if (duration_parse(optarg, &o.max_age_ms) < 0 ||
			    o.max_age_ms <= 0) {
				fprintf(stderr, "opsdeck %s: --max-age '%s' is not "
				    "a duration: give one like 15m, 1h or 90s\n",
				    cmd, optarg);
				goto out;
			}
			break;
		case 'k':
			free((char *)o.pubkey_hex);
			if ((o.pubkey_hex = key_arg(cmd, optarg)) == NULL)
				goto out;
			break;
		case 'n':
			o.name = optarg;
			break;
		case 'a':
			o.actor = optarg;
			break;
		case 't':
			if (time_arg(cmd, "at", optarg, &o.at_ms) < 0)
				goto out;
			break;
		case 'f':
			if (format_arg(cmd, optarg, &github) < 0)
				goto out;
			break;
		default:
			cmd_usage(&cmd_guard_heartbeat_entry);
			goto out;
		}
	}
	if (file == NULL || o.max_age_ms < 0 || optind != argc) {
		fprintf(stderr, "opsdeck %s: give --file EXPORT and --max-age "
		    "DURATION, and no other arguments\n", cmd);
		cmd_usage(&cmd_guard_heartbeat_entry);
		goto out;
	}
	if (o.name != NULL && o.actor != NULL) {
		fprintf(stderr, "opsdeck %s: give --name or --actor, not both\n",
		    cmd);
		goto out;
	}
	if (o.at_ms < 0)
		o.at_ms = wall_ms();
	if (file_read(file, EXPORT_MAX, &text, &e) < 0) {
		fprintf(stderr, "opsdeck %s: --file: %s\n", cmd, e.msg);
		goto out;
	}
	errors = guard_heartbeat(file, text.data != NULL ? text.data : "",
	    text.len, &o, print_finding, &github);
	summary(cmd, errors);
	ret = errors > 0 ? EXIT_FAILED : EXIT_OK;
out:
	free((char *)o.pubkey_hex);
	buf_release(&text);
	return ret;
}

const struct cmd_entry cmd_guard_evidence_entry = {
	"guard evidence", "--pr-body FILE --pubkey KEY [--actor NAME] [--since T] "
	"[--until T] [--format text|github]",
	"fail unless the evidence exports a PR body names verify and are its "
	"actor's, in its window, offline, for CI", 0,
	cmd_guard_evidence_exec,
};
const struct cmd_entry cmd_guard_heartbeat_entry = {
	"guard heartbeat", "--file EXPORT --max-age DURATION [--pubkey KEY] "
	"[--name NAME | --actor NAME] [--at T] [--format text|github]",
	"fail unless an evidence export's newest heartbeat ping is recent, "
	"offline, for CI", 0,
	cmd_guard_heartbeat_exec,
};
