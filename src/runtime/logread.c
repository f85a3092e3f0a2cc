/*
 * Log files are read whole (they are bounded by logs.max_size) and merged by the
 * RFC 3339 UTC stamp that starts each line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/buf.h"
#include "core/err.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "runtime/logread.h"
#include "store/state.h"
#include "store/store.h"

char *
logread_dir(const char *state_dir, const char *app)
{
	return state_log_dir(state_dir, app);
}

char *
logread_path(const char *state_dir, const char *app, const char *id)
{
	return xasprintf("%s/logs/%s/%s.log", state_dir, app, id);
}

json_t *
logread_machines(const char *state_dir, const char *app, struct err *e)
{
	char *dbpath = state_store_path(state_dir), *log;
	struct store s = { NULL, NULL, 0 };
	sqlite3_stmt *st = NULL;
	json_t *arr = NULL;
	const char *id;

	if (access(dbpath, F_OK) < 0) {
		err_setk(e, ERR_NOT_FOUND, "opsdeck has never run on state dir "
		    "'%s': pass --state DIR", state_dir);
		goto out;
	}
	if (store_open_readonly(&s, dbpath, e) < 0 || store_prepare(&s, &st,
	    "SELECT id, process FROM machines WHERE app = ? ORDER BY process, "
	    "idx", e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	arr = json_array();
	while (sqlite3_step(st) == SQLITE_ROW) {
		id = (const char *)sqlite3_column_text(st, 0);
		log = logread_path(state_dir, app, id);
		json_array_append_new(arr, json_pack("{s:s, s:s, s:s}", "id", id,
		    "process", (const char *)sqlite3_column_text(st, 1), "log",
		    log));
		free(log);
	}
out:
	sqlite3_finalize(st);
	if (s.db != NULL)
		store_close(&s);
	free(dbpath);
	return arr != NULL ? json_pack("{s:o}", "machines", arr) : NULL;
}

#define LOG_READ_MAX (256 * 1024 * 1024)

struct line {
	const char	*text;
	size_t		 len;
	const char	*label;
	int		 age;		/* 0: the current file, k: FILE.k */
	size_t		 seq;		/* read order, for lines of one millisecond */
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
	if (x->age != y->age)
		return x->age > y->age ? -1 : 1;	/* older file first */
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Adds the lines of one file to *lines; its text stays in b. Returns the count. */
static size_t
lines_add(struct buf *b, const char *label, int age, struct line **lines,
    size_t *nlines, size_t *cap)
{
	char *p, *end, *nl;
	size_t added = 0;

	for (p = b->data, end = p + b->len; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		if (*nlines == *cap) {
			*cap = *cap ? *cap * 2 : 1024;
			*lines = xreallocarray(*lines, *cap, sizeof(**lines));
		}
		(*lines)[*nlines].text = p;
		(*lines)[*nlines].len = (size_t)(nl - p);
		(*lines)[*nlines].label = label;
		(*lines)[*nlines].age = age;
		(*lines)[*nlines].seq = *nlines;
		(*nlines)++;
		added++;
	}
	return added;
}

void
logread_tail(struct logread_file *files, size_t nfiles, long n, FILE *out)
{
	struct buf *bufs = NULL;
	struct line *lines = NULL;
	size_t nbufs = 0, nlines = 0, cap = 0, i, start, have;
	struct err e;
	char *path;
	int k;

	for (i = 0; i < nfiles; i++) {
		have = 0;
		for (k = 0; n < 0 || have < (size_t)n; k++) {
			path = k == 0 ? xstrdup(files[i].path) :
			    xasprintf("%s.%d", files[i].path, k);
			bufs = xreallocarray(bufs, nbufs + 1, sizeof(*bufs));
			buf_init(&bufs[nbufs], LOG_READ_MAX);
			if (file_read(path, LOG_READ_MAX, &bufs[nbufs], &e) < 0) {
				buf_release(&bufs[nbufs]);
				free(path);
				/* the current file may be gone for a moment */
				if (k == 0)
					continue;
				break;
			}
			free(path);
			have += lines_add(&bufs[nbufs++], files[i].label, k,
			    &lines, &nlines, &cap);
		}
	}
	if (nlines > 1)
		qsort(lines, nlines, sizeof(*lines), line_cmp);
	start = n >= 0 && (size_t)n < nlines ? nlines - (size_t)n : 0;
	for (i = start; i < nlines; i++)
		fprintf(out, "%s %.*s\n", lines[i].label, (int)lines[i].len,
		    lines[i].text);
	fflush(out);
	for (i = 0; i < nbufs; i++)
		buf_release(&bufs[i]);
	free(bufs);
	free(lines);
}

/* Prints the whole lines fp has from where it is; a line still being written stays
 * for the next round. */
static void
follow_drain(struct logread_file *f, FILE *out)
{
	char line[65536];
	size_t len;

	clearerr(f->fp);
	while (fgets(line, sizeof(line), f->fp) != NULL) {
		len = strlen(line);
		if (line[len - 1] != '\n' && len < sizeof(line) - 1) {
			fseek(f->fp, -(long)len, SEEK_CUR);
			break;
		}
		fprintf(out, "%s %s", f->label, line);
	}
}

/* The file f had open was rotated: it is PATH.K now. Prints what is left of it and
 * the whole of PATH.K-1 … PATH.1, which rotated after it while we slept, so that
 * nothing between two looks is lost. */
static void
follow_rotated(struct logread_file *f, FILE *out)
{
	struct stat st;
	char *path;
	int k, j;

	follow_drain(f, out);
	for (k = 1; k <= 64; k++) {
		path = xasprintf("%s.%d", f->path, k);
		j = stat(path, &st);
		free(path);
		if (j < 0)
			return;
		if (st.st_ino == f->ino)
			break;
	}
	if (k > 64)
		return;
	fclose(f->fp);
	for (j = k - 1; j >= 1; j--) {
		path = xasprintf("%s.%d", f->path, j);
		f->fp = fopen(path, "r");
		free(path);
		if (f->fp != NULL) {
			follow_drain(f, out);
			fclose(f->fp);
		}
	}
	f->fp = NULL;
}

void
logread_follow(struct logread_file *files, size_t nfiles, FILE *out)
{
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
			struct logread_file *f = &files[i];

			if (f->fp != NULL)
				follow_drain(f, out);
			if (stat(f->path, &st) < 0)
				continue;
			if (f->fp != NULL && st.st_ino != f->ino)
				follow_rotated(f, out);
			else if (f->fp != NULL && st.st_size < ftell(f->fp)) {
				fclose(f->fp);	/* truncated in place */
				f->fp = NULL;
			}
			if (f->fp == NULL) {
				f->fp = fopen(f->path, "r");
				f->ino = st.st_ino;
				if (f->fp != NULL)
					follow_drain(f, out);
			}
		}
		fflush(out);
		usleep(200 * 1000);
	}
}
