/*
 * `opsdeck logs APP`: the daemon says which machines the app has and where their logs
 * are; the lines are read from the files, merged by their timestamps. -f follows them
 * across rotation.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "cmd/common.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/util.h"
#include "core/xmalloc.h"

#define LOG_READ_MAX (256 * 1024 * 1024)

struct logfile {
	char	*path;
	char	*label;		/* "web 3f2a…" */
	FILE	*fp;
	ino_t	 ino;
};

struct line {
	const char	*text;
	size_t		 len;
	const char	*label;
};

static int
line_cmp(const void *a, const void *b)
{
	const struct line *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c;

	/* Lines start with RFC 3339 UTC stamps: text order is time order. */
	if (n > 24)
		n = 24;
	if ((c = memcmp(x->text, y->text, n)) != 0)
		return c;
	return x < y ? -1 : x > y;
}

static int
print_tail(struct logfile *files, size_t nfiles, long n)
{
	struct buf *bufs = xcalloc(nfiles, sizeof(*bufs));
	struct line *lines = NULL;
	size_t nlines = 0, cap = 0, i, start;
	struct err e;

	for (i = 0; i < nfiles; i++) {
		char *p, *end, *nl;

		buf_init(&bufs[i], LOG_READ_MAX);
		if (file_read(files[i].path, LOG_READ_MAX, &bufs[i], &e) < 0)
			continue;
		for (p = bufs[i].data, end = p + bufs[i].len; p < end;
		    p = nl + 1) {
			if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
				nl = end;
			if (nlines == cap) {
				cap = cap ? cap * 2 : 1024;
				lines = xreallocarray(lines, cap, sizeof(*lines));
			}
			lines[nlines].text = p;
			lines[nlines].len = (size_t)(nl - p);
			lines[nlines].label = files[i].label;
			nlines++;
		}
	}
	qsort(lines, nlines, sizeof(*lines), line_cmp);
	start = n >= 0 && (size_t)n < nlines ? nlines - (size_t)n : 0;
	for (i = start; i < nlines; i++)
		printf("%s %.*s\n", lines[i].label, (int)lines[i].len,
		    lines[i].text);
	fflush(stdout);
	for (i = 0; i < nfiles; i++)
		buf_release(&bufs[i]);
	free(bufs);
	free(lines);
	return EXIT_OK;
}

/* Follows every file from its end; reopens one that was rotated or truncated. */
static void
follow(struct logfile *files, size_t nfiles)
{
	char line[65536];
	struct stat st;
	size_t i;

	for (i = 0; i < nfiles; i++) {
		if ((files[i].fp = fopen(files[i].path, "r")) == NULL)
			continue;
		fseek(files[i].fp, 0, SEEK_END);
		if (fstat(fileno(files[i].fp), &st) == 0)
			files[i].ino = st.st_ino;
	}
	for (;;) {
		for (i = 0; i < nfiles; i++) {
			struct logfile *f = &files[i];

			if (f->fp != NULL) {
				clearerr(f->fp);
				while (fgets(line, sizeof(line), f->fp) != NULL)
					printf("%s %s", f->label, line);
			}
			if (stat(f->path, &st) == 0 && (f->fp == NULL ||
			    st.st_ino != f->ino ||
			    st.st_size < ftell(f->fp))) {
				if (f->fp != NULL)
					fclose(f->fp);
				f->fp = fopen(f->path, "r");
				f->ino = st.st_ino;
			}
		}
		fflush(stdout);
		usleep(200 * 1000);
	}
}

static int
cmd_logs_exec(struct cmd_ctx *ctx, int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "machine", required_argument, NULL, 'm' },
		{ "lines", required_argument, NULL, 'n' },
		{ "follow", no_argument, NULL, 'f' },
		{ NULL, 0, NULL, 0 },
	};
	extern const struct cmd_entry cmd_logs_entry;
	struct logfile *files = NULL;
	const char *machine = NULL;
	size_t nfiles = 0, i;
	json_t *j, *m;
	char *path, *end;
	long n = 100;
	int ch, follow_flag = 0, code = EXIT_OK;

	while ((ch = getopt_long(argc, argv, "m:n:f", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			machine = optarg;
			break;
		case 'n':
			n = strtol(optarg, &end, 10);
			if (*optarg == '\0' || *end != '\0' || n < 0) {
				fprintf(stderr, "opsdeck logs: -n: '%s' is not "
				    "a number of lines\n", optarg);
				return EXIT_USAGE;
			}
			break;
		case 'f':
			follow_flag = 1;
			break;
		default:
			return cmd_usage(&cmd_logs_entry);
		}
	}
	if (argc - optind != 1)
		return cmd_usage(&cmd_logs_entry);
	if (cmd_check_name("logs", "app name", argv[optind]) < 0 ||
	    (machine != NULL && cmd_check_name("logs", "machine id",
	    machine) < 0))
		return EXIT_USAGE;
	path = xasprintf("/v1/machines?app=%s", argv[optind]);
	j = cmd_call(ctx, "logs", "GET", path, &code);
	free(path);
	if (j == NULL)
		return code;
	files = xcalloc(json_array_size(json_object_get(j, "machines")) + 1,
	    sizeof(*files));
	json_array_foreach(json_object_get(j, "machines"), i, m) {
		if (machine != NULL && strcmp(machine, json_str(m, "id")) != 0)
			continue;
		if (json_str(m, "log") == NULL)
			continue;
		files[nfiles].path = xstrdup(json_str(m, "log"));
		files[nfiles].label = xasprintf("%s[%s]", json_str(m, "process"),
		    json_str(m, "id"));
		nfiles++;
	}
	json_decref(j);
	if (machine != NULL && nfiles == 0) {
		fprintf(stderr, "opsdeck logs: app '%s' has no machine '%s': "
		    "list them with `opsdeck machines %s`\n", argv[optind],
		    machine, argv[optind]);
		code = EXIT_FAILED;
		goto out;
	}
	code = print_tail(files, nfiles, n);
	if (follow_flag)
		follow(files, nfiles);
out:
	for (i = 0; i < nfiles; i++) {
		free(files[i].path);
		free(files[i].label);
	}
	free(files);
	return code;
}

const struct cmd_entry cmd_logs_entry = {
	"logs", "APP [--machine ID] [-n N] [-f]",
	"print an app's machine logs, merged by time; -f follows them",
	CMD_NEEDS_DAEMON, cmd_logs_exec,
};
