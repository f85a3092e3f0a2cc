#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "runtime/logsink.h"

#define PARTIAL_MAX (64 * 1024)

static const char *const stream_tag[] = { "out", "err", "opsdeck" };

int
logsink_open(struct logsink *l, const char *path, size_t max_size, int keep)
{
	struct stat st;

	l->path = xstrdup(path);
	l->max_size = max_size;
	l->keep = keep;
	buf_init(&l->partial[0], PARTIAL_MAX);
	buf_init(&l->partial[1], PARTIAL_MAX);
	l->fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0640);
	if (l->fd < 0) {
		log_warn("cannot open log file '%s'", path);
		return -1;
	}
	l->size = fstat(l->fd, &st) == 0 ? (size_t)st.st_size : 0;
	return 0;
}

static void
logsink_rotate(struct logsink *l)
{
	char from[4096], to[4096];
	int i;

	close(l->fd);
	for (i = l->keep; i >= 1; i--) {
		snprintf(to, sizeof(to), "%s.%d", l->path, i);
		if (i == 1)
			snprintf(from, sizeof(from), "%s", l->path);
		else
			snprintf(from, sizeof(from), "%s.%d", l->path, i - 1);
		if (rename(from, to) < 0 && errno != ENOENT)
			log_warn("cannot rotate '%s'", from);
	}
	if (l->keep == 0)
		unlink(l->path);
	l->fd = open(l->path, O_WRONLY | O_APPEND | O_CREAT | O_TRUNC |
	    O_CLOEXEC, 0640);
	l->size = 0;
}

static void
mask_clear(struct logsink *l)
{
	size_t i;

	for (i = 0; i < l->nmask; i++) {
		explicit_bzero(l->mask[i], strlen(l->mask[i]));
		free(l->mask[i]);
		free(l->mask_names[i]);
	}
	free(l->mask);
	free(l->mask_names);
	l->mask = l->mask_names = NULL;
	l->nmask = 0;
}

void
logsink_mask(struct logsink *l, const char *const *names,
    const char *const *values, size_t n)
{
	size_t i;

	mask_clear(l);
	l->mask = xcalloc(n + 1, sizeof(char *));
	l->mask_names = xcalloc(n + 1, sizeof(char *));
	for (i = 0; i < n; i++) {
		/* Two bytes would mask half the log: such values are left alone. */
		if (strlen(values[i]) < 3)
			continue;
		l->mask[l->nmask] = xstrdup(values[i]);
		l->mask_names[l->nmask++] = xstrdup(names[i]);
	}
}

/* Appends p[0..n) to out with every masked value replaced by its name. */
static void
add_masked(struct logsink *l, struct buf *out, const char *p, size_t n)
{
	size_t i, best_at, best_i, vl;
	const char *hit;

	while (n > 0) {
		best_at = n;
		best_i = 0;
		for (i = 0; i < l->nmask; i++) {
			vl = strlen(l->mask[i]);
			hit = memmem(p, n, l->mask[i], vl);
			if (hit != NULL && (size_t)(hit - p) < best_at) {
				best_at = (size_t)(hit - p);
				best_i = i;
			}
		}
		buf_add(out, p, best_at);
		if (best_at == n)
			return;
		buf_printf(out, "[secret %s]", l->mask_names[best_i]);
		vl = strlen(l->mask[best_i]);
		p += best_at + vl;
		n -= best_at + vl;
	}
}

/* Writes "TIME TAG| text\n" as one write, so readers never see half a line. */
static void
logsink_line(struct logsink *l, int stream, const char *p, size_t n)
{
	struct buf line = BUF_INIT;
	char ts[32];

	if (l->fd < 0)
		return;
	format_time(wall_ms(), ts);
	buf_printf(&line, "%s %s| ", ts, stream_tag[stream]);
	add_masked(l, &line, p, n);
	buf_addch(&line, '\n');
	if (l->max_size > 0 && l->size + line.len > l->max_size && l->size > 0)
		logsink_rotate(l);
	if (l->fd >= 0 && write(l->fd, line.data, line.len) == (ssize_t)line.len)
		l->size += line.len;
	buf_release(&line);
}

void
logsink_write(struct logsink *l, int stream, const char *p, size_t n)
{
	struct buf *part = &l->partial[stream];
	const char *nl;

	while (n > 0 && (nl = memchr(p, '\n', n)) != NULL) {
		size_t k = (size_t)(nl - p);

		if (part->len > 0) {
			if (buf_add(part, p, k) < 0) {
				logsink_line(l, stream, part->data, part->len);
				buf_reset(part);
				logsink_line(l, stream, p, k);
			} else
				logsink_line(l, stream, part->data, part->len);
			buf_reset(part);
		} else
			logsink_line(l, stream, p, k);
		p += k + 1;
		n -= k + 1;
	}
	if (n > 0 && buf_add(part, p, n) < 0) {
		/* An endless line: write what we have rather than grow. */
		logsink_line(l, stream, part->data, part->len);
		buf_reset(part);
		logsink_line(l, stream, p, n);
	}
}

void
logsink_note(struct logsink *l, const char *line)
{
	logsink_line(l, 2, line, strlen(line));
}

void
logsink_close(struct logsink *l)
{
	int i;

	mask_clear(l);
	for (i = 0; i < 2; i++) {
		if (l->partial[i].len > 0)
			logsink_line(l, i, l->partial[i].data,
			    l->partial[i].len);
		buf_release(&l->partial[i]);
	}
	if (l->fd >= 0)
		close(l->fd);
	l->fd = -1;
	free(l->path);
	l->path = NULL;
}
