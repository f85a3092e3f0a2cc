#include <dirent.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "core/buf.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "migrate/files.h"

static void
files_push(struct sql_files *f, char *path)
{
	if (f->n == f->cap) {
		f->cap = f->cap == 0 ? 64 : f->cap * 2;
		f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
	}
	f->v[f->n++] = path;
}

static bool
ends_with(const char *s, size_t n, const char *suffix)
{
	size_t k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

static int
not_hidden(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int
files_walk(struct sql_files *f, const char *dir, int flags, struct err *e)
{
	struct dirent **ents = NULL;
	struct stat st;
	char *path;
	size_t len;
	int n, i, ret = -1;

	/* no setlocale: alphasort is strcmp, byte order */
	if ((n = scandir(dir, &ents, not_hidden, alphasort)) < 0)
		return err_errno(e, "'%s'", dir);
	for (i = 0; i < n; i++) {
		path = path_join(dir, ents[i]->d_name);
		len = strlen(ents[i]->d_name);
		if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
			if (!(flags & SQL_FILES_MIGRATIONS) &&
			    files_walk(f, path, flags, e) < 0) {
				free(path);
				goto out;
			}
			free(path);
		} else if (ends_with(ents[i]->d_name, len, ".sql") &&
		    !((flags & SQL_FILES_MIGRATIONS) &&
		    ends_with(ents[i]->d_name, len, "down.sql")))
			files_push(f, path);
		else
			free(path);
	}
	ret = 0;
out:
	for (i = 0; i < n; i++)
		free(ents[i]);
	free(ents);
	return ret;
}

int
sql_files_add(struct sql_files *f, const char *path, int flags, struct err *e)
{
	struct stat st;
	size_t before = f->n;

	if (stat(path, &st) < 0)
		return err_errno(e, "'%s'", path);
	if (!S_ISDIR(st.st_mode)) {
		files_push(f, xstrdup(path));
		return 0;
	}
	if (files_walk(f, path, flags, e) < 0)
		return -1;
	if ((flags & SQL_FILES_MIGRATIONS) && f->n == before)
		return err_set(e, "no .sql files in '%s'", path);
	/* a folder named by mistake would otherwise pass as clean */
	if (f->n == before)
		return err_setk(e, ERR_INVALID, "no *.sql files under '%s'", path);
	return 0;
}

void
sql_files_release(struct sql_files *f)
{
	size_t i;

	for (i = 0; i < f->n; i++)
		free(f->v[i]);
	free(f->v);
	memset(f, 0, sizeof(*f));
}

int
sql_files_digest(const struct sql_files *f, struct sql_digests *out,
    struct err *e)
{
	struct buf b = BUF_INIT, all = BUF_INIT;
	size_t i;
	int ret = -1;

	out->n = 0;
	out->v = xcalloc(f->n + 1, sizeof(*out->v));
	for (i = 0; i < f->n; i++) {
		const char *slash = strrchr(f->v[i], '/');

		buf_reset(&b);
		if (file_read(f->v[i], SQL_DIGEST_FILE_MAX, &b, e) < 0)
			goto out;
		out->v[i].file = xstrdup(slash != NULL ? slash + 1 : f->v[i]);
		sha256_hex(b.data != NULL ? b.data : "", b.len, out->v[i].sha256);
		out->n++;
		/* name NUL sha256 LF: a name cannot hold NUL, so no two lists meet */
		buf_add(&all, out->v[i].file, strlen(out->v[i].file) + 1);
		buf_add(&all, out->v[i].sha256, 64);
		buf_add(&all, "\n", 1);
	}
	sha256_hex(all.data != NULL ? all.data : "", all.len, out->all);
	ret = 0;
out:
	buf_release(&b);
	buf_release(&all);
	if (ret < 0)
		sql_digests_release(out);
	return ret;
}

const char *
sql_digests_find(const struct sql_digests *d, const char *file)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->v[i].file, file) == 0)
			return d->v[i].sha256;
	return NULL;
}

void
sql_digests_release(struct sql_digests *d)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		free(d->v[i].file);
	free(d->v);
	d->v = NULL;
	d->n = 0;
}
