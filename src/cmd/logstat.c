/*
 * `opsdeck logstat FILE...`: per-route hits, status classes, 5xx rate and latency
 * quantiles of access logs (stats/logstat.h). Reads plain or gzip files (zlib reads
 * both) and stdin; -f follows the last file as it grows and is rotated.
 */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <zlib.h>

#include "cmd/common.h"
#include "core/json.h"
#include "core/xmalloc.h"
#include "stats/logstat.h"

extern const struct cmd_entry cmd_logstat_entry;

#define CHUNK		(1 << 20)
#define LINE_MAX_LEN	(64 << 10)

static volatile sig_atomic_t logstat_stop;

static void
logstat_signal(int sig)
{
	(void)sig;
	logstat_stop = 1;
}

struct input {
	struct logstat_src src;
	const char	*path;		/* NULL for stdin */
	gzFile		 gz;
	ino_t		 ino;
	char		*buf;		/* a partial line carried between reads */
	size_t		 len;
	bool		 skipping;	/* inside a line longer than LINE_MAX_LEN */
};

static int
input_open(struct input *in, const char *arg, enum alog_format fmt)
{
	struct stat st;
	int fd;

	memset(in, 0, sizeof(*in));
	in->src.fmt = fmt;
	if (strcmp(arg, "-") == 0) {
		in->src.name = "(stdin)";
		fd = dup(STDIN_FILENO);
	} else {
		in->src.name = arg;
		in->path = arg;
		fd = open(arg, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0 || fstat(fd, &st) < 0) {
		fprintf(stderr, "opsdeck logstat: %s: %s\n", in->src.name,
		    strerror(errno));
		if (fd >= 0)
			close(fd);
		return -1;
	}
	if (S_ISDIR(st.st_mode)) {
		fprintf(stderr, "opsdeck logstat: %s: a directory: give the log "
		    "files in it\n", in->src.name);
		close(fd);
		return -1;
	}
	in->ino = st.st_ino;
	if ((in->gz = gzdopen(fd, "rb")) == NULL) {
		fprintf(stderr, "opsdeck logstat: %s: out of memory\n",
		    in->src.name);
		close(fd);
		return -1;
	}
	gzbuffer(in->gz, 256 << 10);
	in->buf = xmalloc(CHUNK + LINE_MAX_LEN);
	return 0;
}

static void
input_close(struct input *in)
{
	if (in->gz != NULL)
		gzclose(in->gz);
	free(in->buf);
	in->gz = NULL;
	in->buf = NULL;
}

/*
 * Reads what the input has now and feeds its whole lines; a last line without a
 * newline is fed at the end when final. 1 when something was read, 0 at the end, -1
 * on a read error (said).
 */
static int
input_read(struct logstat *ls, struct input *in, bool final)
{
	int n, errnum;
	char *p, *end, *nl;

	n = gzread(in->gz, in->buf + in->len, CHUNK);
	if (n < 0) {
		const char *msg = gzerror(in->gz, &errnum);

		fprintf(stderr, "opsdeck logstat: %s: %s\n", in->src.name,
		    errnum == Z_ERRNO ? strerror(errno) : msg);
		return -1;
	}
	if (n == 0) {
		if (final && in->len > 0 && !in->skipping)
			logstat_feed(ls, &in->src, in->buf, in->len);
		if (final)
			in->len = 0;
		return 0;
	}
	p = in->buf;
	end = in->buf + in->len + n;
	while ((nl = memchr(p, '\n', (size_t)(end - p))) != NULL) {
		if (in->skipping)
			in->skipping = false;
		else if (nl - p > LINE_MAX_LEN)
			logstat_malformed(ls, &in->src, p, 120,
			    "longer than 64 KiB: not a log line");
		else
			logstat_feed(ls, &in->src, p, (size_t)(nl - p));
		p = nl + 1;
	}
	in->len = (size_t)(end - p);
	if (in->len > LINE_MAX_LEN) {
		/* Counted as one malformed line; its rest is skipped. */
		if (!in->skipping)
			logstat_malformed(ls, &in->src, in->buf, 120,
			    "longer than 64 KiB: not a log line");
		in->skipping = true;
		in->len = 0;
	} else
		memmove(in->buf, p, in->len);
	return 1;
}

/* While following: true when the path now names another file (rotated). */
static bool
input_rotated(const struct input *in)
{
	struct stat st;

	return in->path != NULL && stat(in->path, &st) == 0 && st.st_ino != in->ino;
}

static void
print_text(const json_t *r, unsigned top)
{
	static const char *const hdr[] = { "ROUTE", "HITS", "2XX", "3XX", "4XX",
	    "5XX", "5XX%", "P50MS", "P95MS", "P99MS", "MAXMS", "SLOW" };
	const json_t *routes = json_object_get(r, "routes"), *x;
	bool slow = json_object_get(r, "slow_ms") != NULL;
	struct table t;
	size_t i, ncols = slow ? 12 : 11;

	printf("%lld lines: %lld parsed, %lld malformed%s, %lld without a time; "
	    "%zu route%s\n",
	    (long long)json_integer_value(json_object_get(r, "lines")),
	    (long long)json_integer_value(json_object_get(r, "parsed")),
	    (long long)json_integer_value(json_object_get(r, "malformed")),
	    json_integer_value(json_object_get(r, "malformed")) > 0 &&
	    json_object_get(r, "malformed_lines") == NULL ?
	    " (--verbose lists them)" : "",
	    (long long)json_integer_value(json_object_get(r, "without_time")),
	    json_array_size(routes), json_array_size(routes) == 1 ? "" : "s");
	table_init(&t, ncols, hdr);
	json_array_foreach(routes, i, x) {
		static const char *const cls[] = { "2xx", "3xx", "4xx", "5xx" };
		const json_t *st = json_object_get(x, "status");
		static const char *const q[] = { "p50_ms", "p95_ms", "p99_ms",
		    "max_ms" };
		char v[12][64];
		const char *row[12];
		size_t k;

		if (i == top)
			break;
		snprintf(v[0], sizeof(v[0]), "%s", json_str(x, "route"));
		snprintf(v[1], sizeof(v[1]), "%lld",
		    (long long)json_integer_value(json_object_get(x, "hits")));
		for (k = 0; k < 4; k++)
			snprintf(v[2 + k], sizeof(v[2 + k]), "%lld", (long long)
			    json_integer_value(json_object_get(st, cls[k])));
		snprintf(v[6], sizeof(v[6]), "%.2f", 100 *
		    json_number_value(json_object_get(x, "error_rate")));
		for (k = 0; k < 4; k++) {
			const json_t *m = json_object_get(x, q[k]);

			if (m != NULL)
				snprintf(v[7 + k], sizeof(v[7 + k]), "%.1f",
				    json_number_value(m));
			else
				snprintf(v[7 + k], sizeof(v[7 + k]), "-");
		}
		snprintf(v[11], sizeof(v[11]), "%lld",
		    (long long)json_integer_value(json_object_get(x, "slow")));
		for (k = 0; k < ncols; k++)
			row[k] = v[k];
		table_add(&t, row);
	}
	table_print(&t);
	table_release(&t);
	if (json_array_size(routes) > top)
		printf("... %zu more routes (--top N shows more; --json has all)\n",
		    json_array_size(routes) - top);

	if (json_array_size(json_object_get(r, "slowest")) > 0) {
		printf("\nslowest requests:\n");
		json_array_foreach(json_object_get(r, "slowest"), i, x) {
			const json_t *st = json_object_get(x, "status");

			char code[8] = "-";

			if (json_is_integer(st))
				snprintf(code, sizeof(code), "%lld",
				    (long long)json_integer_value(st));
			printf("  %10.1f ms  %s  %s %s  %s:%lld%s%s\n",
			    json_number_value(json_object_get(x, "ms")), code,
			    json_str(x, "method"), json_str(x, "target"),
			    json_str(x, "file"), (long long)json_integer_value(
			    json_object_get(x, "line")),
			    json_object_get(x, "time") ? "  " : "",
			    json_object_get(x, "time") ? json_str(x, "time") : "");
		}
	}
	if (json_array_size(json_object_get(r, "errors")) > 0) {
		printf("\nmost frequent errors:\n");
		json_array_foreach(json_object_get(r, "errors"), i, x)
			printf("  %lld  %s  %lld\n",
			    (long long)json_integer_value(json_object_get(x,
			    "status")), json_str(x, "route"),
			    (long long)json_integer_value(json_object_get(x,
			    "count")));
	}
	if (json_array_size(json_object_get(r, "malformed_lines")) > 0) {
		printf("\nmalformed lines:\n");
		json_array_foreach(json_object_get(r, "malformed_lines"), i, x)
			printf("  %s:%lld: %s: %s\n", json_str(x, "file"),
			    (long long)json_integer_value(json_object_get(x,
			    "line")), json_str(x, "error"), json_str(x, "text"));
	}
}

static void
report(const struct logstat *ls, struct cmd_ctx *ctx, unsigned top, bool redraw)
{
	json_t *r = logstat_json(ls);

	if (ctx->json)
		cmd_print_json(r);
	else {
		if (redraw)
			fputs("\033[H\033[2J", stdout);
		print_text(r, top);
	}
	fflush(stdout);
	json_decref(r);
}

static int
number_arg(const char *opt, const char *arg, long lo, long hi, long *out)
{
	char *end;

	errno = 0;
	*out = strtol(arg, &end, 10);
	if (end == arg || *end != '\0' || errno != 0 || *out < lo || *out > hi) {
		fprintf(stderr, "opsdeck logstat: %s '%s': give a whole number "
		    "%ld..%ld\n", opt, arg, lo, hi);
		return -1;
	}
	return 0;
}

static int
follow(struct logstat *ls, struct input *in, struct cmd_ctx *ctx, unsigned top,
    long interval_ms, enum alog_format fmt)
{
	bool tty = isatty(STDOUT_FILENO) && !ctx->json, changed = true;
	struct timespec last, now;
	int rc;

	signal(SIGINT, logstat_signal);
	signal(SIGTERM, logstat_signal);
	clock_gettime(CLOCK_MONOTONIC, &last);
	while (!logstat_stop) {
		struct timespec ts = { 0, 200 * 1000000L };

		while ((rc = input_read(ls, in, false)) > 0)
			changed = true;
		if (rc < 0)
			return EXIT_FAILED;
		gzclearerr(in->gz);
		if (input_rotated(in)) {
			/* What the old file still had, then the new one from its start. */
			while ((rc = input_read(ls, in, true)) > 0)
				;
			logstat_end_source(ls, &in->src);
			input_close(in);
			if (input_open(in, in->src.name, fmt) < 0)
				return EXIT_FAILED;
			continue;
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (changed && (now.tv_sec - last.tv_sec) * 1000 +
		    (now.tv_nsec - last.tv_nsec) / 1000000 >= interval_ms) {
			report(ls, ctx, top, tty);
			last = now;
			changed = false;
		}
		nanosleep(&ts, NULL);
	}
	input_read(ls, in, true);
	logstat_end_source(ls, &in->src);
	report(ls, ctx, top, tty);
	return EXIT_OK;
}

static int
cmd_logstat_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "format", required_argument, NULL, 'F' },
		{ "route-template", required_argument, NULL, 'r' },
		{ "top", required_argument, NULL, 'n' },
		{ "slow", required_argument, NULL, 's' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "follow", no_argument, NULL, 'f' },
		{ "interval", required_argument, NULL, 'i' },
		{ "max-routes", required_argument, NULL, 'm' },
		{ NULL, 0, NULL, 0 },
	};
	struct logstat_opts opts = { .top = 10, .max_routes = 5000 };
	enum alog_format fmt = ALOG_AUTO;
	struct route *tmpls = NULL;
	size_t ntmpls = 0, i, nin;
	struct input *ins = NULL;
	struct logstat *ls = NULL;
	bool follow_last = false;
	long v, interval_ms = 2000;
	char *stdin_arg[] = { "-" };
	char **files;
	int ch, code = EXIT_OK;

	while ((ch = getopt_long(argc, argv, "fv", longopts, NULL)) != -1) {
		switch (ch) {
		case 'F':
			if (alog_format_parse(optarg, &fmt) < 0) {
				fprintf(stderr, "opsdeck logstat: --format '%s': "
				    "give combined, common, json, haproxy or "
				    "auto\n", optarg);
				code = EXIT_USAGE;
				goto out;
			}
			break;
		case 'r': {
			struct err e;

			tmpls = xreallocarray(tmpls, ntmpls + 1, sizeof(*tmpls));
			if (route_compile(optarg, &tmpls[ntmpls], &e) < 0) {
				fprintf(stderr, "opsdeck logstat: --route-template: "
				    "%s\n", e.msg);
				code = EXIT_USAGE;
				goto out;
			}
			ntmpls++;
			break;
		}
		case 'n':
			if (number_arg("--top", optarg, 0, 100000, &v) < 0) {
				code = EXIT_USAGE;
				goto out;
			}
			opts.top = (unsigned)v;
			break;
		case 's':
			if (number_arg("--slow", optarg, 1, 86400000, &v) < 0) {
				code = EXIT_USAGE;
				goto out;
			}
			opts.slow_us = v * 1000;
			break;
		case 'v':
			opts.verbose = true;
			break;
		case 'f':
			follow_last = true;
			break;
		case 'i':
			if (number_arg("--interval", optarg, 1, 3600, &v) < 0) {
				code = EXIT_USAGE;
				goto out;
			}
			interval_ms = v * 1000;
			break;
		case 'm':
			if (number_arg("--max-routes", optarg, 1, 1000000, &v) < 0) {
				code = EXIT_USAGE;
				goto out;
			}
			opts.max_routes = (size_t)v;
			break;
		default:
			code = cmd_usage(&cmd_logstat_entry);
			goto out;
		}
	}
	files = argv + optind;
	nin = (size_t)(argc - optind);
	if (nin == 0) {
		files = stdin_arg;
		nin = 1;
	}
	for (i = 0; i + 1 < nin; i++)
		if (strcmp(files[i], "-") == 0) {
			fprintf(stderr, "opsdeck logstat: '-' (stdin) can only be "
			    "the last input\n");
			code = EXIT_USAGE;
			goto out;
		}
	opts.tmpls = tmpls;
	opts.ntmpls = ntmpls;
	/* Every input opens before any is read: an error leaves no half report. */
	ins = xcalloc(nin, sizeof(*ins));
	for (i = 0; i < nin; i++)
		if (input_open(&ins[i], files[i], fmt) < 0) {
			code = EXIT_FAILED;
			goto out;
		}
	ls = logstat_new(&opts);
	for (i = 0; i < nin; i++) {
		int rc;

		if (follow_last && i == nin - 1) {
			code = follow(ls, &ins[i], ctx, opts.top ? opts.top : 20,
			    interval_ms, fmt);
			goto out;
		}
		while ((rc = input_read(ls, &ins[i], false)) > 0)
			;
		if (rc < 0) {
			code = EXIT_FAILED;
			goto out;
		}
		input_read(ls, &ins[i], true);
		logstat_end_source(ls, &ins[i].src);
		input_close(&ins[i]);
	}
	report(ls, ctx, opts.top ? opts.top : 20, false);
out:
	for (i = 0; ins != NULL && i < nin; i++)
		input_close(&ins[i]);
	free(ins);
	logstat_free(ls);
	for (i = 0; i < ntmpls; i++)
		route_release(&tmpls[i]);
	free(tmpls);
	return code;
}

const struct cmd_entry cmd_logstat_entry = {
	"logstat", "[FILE...] [--format combined|common|json|haproxy|auto] "
	"[--route-template T]... [--top N] [--slow MS] [--verbose] [-f] "
	"[--interval S] [--max-routes N] [--json]",
	"per-route hits, 5xx rate and p50/p95/p99 of access logs (plain, gzip, stdin)",
	CMD_JSON, cmd_logstat_exec,
};
