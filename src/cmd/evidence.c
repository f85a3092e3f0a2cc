/*
 * `opsdeck evidence`, `evidence export`, `evidence verify`, `evidence key`: the signed
 * ledger of every action (ledger/evidence.h). verify runs offline, on a file alone.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cmd/common.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "ledger/evidence.h"

#define EXPORT_MAX	(1024L * 1024 * 1024)	/* what verify reads at most */

extern const struct cmd_entry cmd_evidence_entry;
extern const struct cmd_entry cmd_evidence_export_entry;
extern const struct cmd_entry cmd_evidence_verify_entry;
extern const struct cmd_entry cmd_evidence_key_entry;

/* --since T as milliseconds since the epoch: 0 (after saying why) when T is bad. */
static int
since_arg(const char *cmd, const char *s, int64_t *ms)
{
	if (time_parse(s, wall_ms(), ms) < 0 || *ms < 0) {
		fprintf(stderr, "opsdeck %s: --since '%s' is not a time: give "
		    "2026-12-07, 2026-12-07T09:30:00Z or a span before now like "
		    "2h\n", cmd, s);
		return -1;
	}
	return 0;
}

/* Appends s to b percent-encoded, for a query argument. */
static void
query_escape(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		if (isalnum((unsigned char)*s) || strchr("-_.~:", *s) != NULL)
			buf_addch(b, *s);
		else
			buf_printf(b, "%%%02X", (unsigned char)*s);
	}
}

static void
print_entries(const json_t *j)
{
	static const char *const hdr[] = { "SEQ", "TIME", "ACTOR", "VIA",
	    "ACTION", "TARGET", "OUTCOME", "DURATION", "DETAIL" };
	const json_t *en;
	struct table t;
	size_t i;

	table_init(&t, 9, hdr);
	json_array_foreach(json_object_get(j, "entries"), i, en) {
		char v[9][200];
		const char *row[9];
		size_t k;

		snprintf(v[0], sizeof(v[0]), "%lld", (long long)json_integer_value(
		    json_object_get(en, "seq")));
		snprintf(v[1], sizeof(v[1]), "%s", cmd_text(en, "at"));
		snprintf(v[2], sizeof(v[2]), "%s", cmd_text(en, "actor"));
		snprintf(v[3], sizeof(v[3]), "%s", cmd_text(en, "via"));
		snprintf(v[4], sizeof(v[4]), "%s", cmd_text(en, "action"));
		snprintf(v[5], sizeof(v[5]), "%.60s", cmd_text(en, "target"));
		snprintf(v[6], sizeof(v[6]), "%s", cmd_text(en, "outcome"));
		if (strcmp(cmd_text(en, "outcome"), "requested") == 0)
			snprintf(v[7], sizeof(v[7]), "-");
		else
			duration_format(json_integer_value(json_object_get(en,
			    "duration_ms")), v[7]);
		snprintf(v[8], sizeof(v[8]), "%.80s", cmd_text(en, "detail"));
		for (k = 0; k < 9; k++)
			row[k] = v[k];
		table_add(&t, row);
	}
	table_print(&t);
	table_release(&t);
	printf("signed by %s\n", cmd_text(j, "key"));
}

static int
evidence_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "actor", required_argument, NULL, 'a' },
		{ "since", required_argument, NULL, 's' },
		{ "limit", required_argument, NULL, 'n' },
		{ NULL, 0, NULL, 0 },
	};
	struct buf path = BUF_INIT;
	const char *actor = NULL;
	int64_t since = 0;
	long limit = 50;
	char *end;
	json_t *j;
	int ch, code = EXIT_OK;

	while ((ch = getopt_long(argc, argv, "a:s:n:", longopts, NULL)) != -1) {
		switch (ch) {
		case 'a':
			actor = optarg;
			break;
		case 's':
			if (since_arg("evidence", optarg, &since) < 0)
				return EXIT_USAGE;
			break;
		case 'n':
			limit = strtol(optarg, &end, 10);
			if (end == optarg || *end != '\0' || limit < 0) {
				fprintf(stderr, "opsdeck evidence: --limit '%s' "
				    "is not a count (0: all)\n", optarg);
				return EXIT_USAGE;
			}
			break;
		default:
			return cmd_usage(&cmd_evidence_entry);
		}
	}
	if (optind != argc)
		return cmd_usage(&cmd_evidence_entry);
	buf_printf(&path, "/v1/evidence?limit=%ld&since_ms=%lld", limit,
	    (long long)since);
	if (actor != NULL) {
		buf_addstr(&path, "&actor=");
		query_escape(&path, actor);
	}
	j = cmd_call(ctx, "evidence", "GET", buf_str(&path), &code);
	buf_release(&path);
	if (j == NULL)
		return code;
	if (ctx->json)
		cmd_print_json(j);
	else
		print_entries(j);
	json_decref(j);
	return EXIT_OK;
}

static int
export_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "since", required_argument, NULL, 's' },
		{ "output", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 },
	};
	const char *out = NULL, *text;
	int64_t since = 0;
	char path[64];
	struct err e;
	json_t *j;
	int ch, code = EXIT_OK;

	while ((ch = getopt_long(argc, argv, "s:o:", longopts, NULL)) != -1) {
		switch (ch) {
		case 's':
			if (since_arg("evidence export", optarg, &since) < 0)
				return EXIT_USAGE;
			break;
		case 'o':
			out = optarg;
			break;
		default:
			return cmd_usage(&cmd_evidence_export_entry);
		}
	}
	if (optind != argc)
		return cmd_usage(&cmd_evidence_export_entry);
	snprintf(path, sizeof(path), "/v1/evidence/export?since_ms=%lld",
	    (long long)since);
	if ((j = cmd_call(ctx, "evidence export", "GET", path, &code)) == NULL)
		return code;
	text = cmd_text(j, "jsonl");
	if (out == NULL) {
		fputs(text, stdout);
		code = fflush(stdout) == 0 ? EXIT_OK : EXIT_FAILED;
	} else if (file_write_atomic(out, text, strlen(text), 0644, &e) < 0)
		code = cmd_fail("evidence export", &e);
	json_decref(j);
	return code;
}

static int
verify_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "pubkey", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 },
	};
	struct evidence_verdict v;
	struct buf text = BUF_INIT_MAX(EXPORT_MAX);
	char *pubkey = NULL;
	const char *file;
	struct err e;
	int ch, r, code = EXIT_FAILED;

	while ((ch = getopt_long(argc, argv, "k:", longopts, NULL)) != -1) {
		if (ch != 'k')
			return cmd_usage(&cmd_evidence_verify_entry);
		free(pubkey);
		pubkey = cmd_pubkey_arg(optarg);
	}
	if (optind != argc - 1) {
		free(pubkey);
		return cmd_usage(&cmd_evidence_verify_entry);
	}
	file = argv[optind];
	if (file_read(file, EXPORT_MAX, &text, &e) < 0) {
		code = cmd_fail("evidence verify", &e);
		goto out;
	}
	if ((r = evidence_verify(text.data != NULL ? text.data : "", text.len,
	    pubkey, &v, &e)) < 0) {
		code = cmd_fail("evidence verify", &e);
		goto out;
	}
	if (ctx->json) {
		/* nocheck: a file name need not be UTF-8, nor a cut message. */
		json_t *j = json_pack("{so sb sI sI sI ss}", "file",
		    json_stringn_nocheck(file, strlen(file)), "ok", r == 0,
		    "entries", (json_int_t)v.entries, "first_seq",
		    (json_int_t)v.first_seq, "last_seq", (json_int_t)v.last_seq,
		    "key", v.key);

		if (r != 0)
			json_object_set_new(j, "problem", json_pack("{sI sI so}",
			    "line", (json_int_t)v.line, "seq", (json_int_t)v.seq,
			    "message", json_stringn_nocheck(v.problem,
			    strlen(v.problem))));
		json_object_set_new(j, "key_pinned", json_boolean(pubkey != NULL));
		cmd_print_json(j);
		json_decref(j);
	} else if (r == 0)
		printf("%s: ok: %lld entries, seq %lld..%lld, signed by %s%s\n",
		    file, (long long)v.entries, (long long)v.first_seq,
		    (long long)v.last_seq, v.key, pubkey != NULL ? "" :
		    " (the key the file names: pass --pubkey to check it is "
		    "your control plane's)");
	else
		fprintf(stderr, "opsdeck evidence verify: %s:%ld: %s\n", file,
		    v.line, v.problem);
	code = r == 0 ? EXIT_OK : EXIT_FAILED;
out:
	buf_release(&text);
	free(pubkey);
	return code;
}

static int
key_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	json_t *j;
	int code = EXIT_OK;

	(void)argv;
	if (argc != 1)
		return cmd_usage(&cmd_evidence_key_entry);
	if ((j = cmd_call(ctx, "evidence key", "GET", "/v1/evidence/key",
	    &code)) == NULL)
		return code;
	if (ctx->json)
		cmd_print_json(j);
	else
		printf("%s %s\n", cmd_text(j, "pubkey"), cmd_text(j, "key"));
	json_decref(j);
	return EXIT_OK;
}

const struct cmd_entry cmd_evidence_entry = {
	"evidence", "[--actor NAME] [--since T] [--limit N] [--json]",
	"the signed ledger of actions: who did what, via what, with what outcome",
	CMD_NEEDS_DAEMON | CMD_JSON, evidence_exec,
};
const struct cmd_entry cmd_evidence_export_entry = {
	"evidence export", "[--since T] [-o FILE]",
	"the ledger as JSON Lines with a signed header, for `evidence verify`",
	CMD_NEEDS_DAEMON, export_exec,
};
const struct cmd_entry cmd_evidence_verify_entry = {
	"evidence verify", "FILE [--pubkey KEY] [--json]",
	"check an export offline: names the first entry altered, removed or "
	"reordered",
	CMD_JSON, verify_exec,
};
const struct cmd_entry cmd_evidence_key_entry = {
	"evidence key", "[--json]",
	"the control plane's public key (hex) and fingerprint, for --pubkey",
	CMD_NEEDS_DAEMON | CMD_JSON, key_exec,
};
