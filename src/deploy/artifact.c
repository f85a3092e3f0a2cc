/*
 * Importing artifacts. Everything lands in a temp dir STATE/artifacts/.tmp-XXXXXX
 * first: a directory is copied there, a tarball unpacked there by GNU tar. One walk in
 * byte-sorted order then hashes the tree (copying it on the way, for a directory),
 * refuses what an artifact may not hold and makes each entry read-only; only a
 * complete, sealed tree is renamed to STATE/artifacts/<digest>.
 *
 * The digest is SHA-256 over DIGEST_FORMAT, then each entry below the root in
 * depth-first order, names byte-sorted within a directory:
 *	'd' REL			a directory
 *	'f'|'x' REL CONTENT	a file; 'x' when its owner x bit is set
 *	'l' REL TARGET		a symlink
 * where each of REL, CONTENT, TARGET is its length (8 bytes, big-endian) then its
 * bytes, so no two trees hash alike. Owners, times, other mode bits and the root's
 * own name do not count: a directory and a tarball made from it get one digest.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/buf.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "deploy/artifact.h"

extern char **environ;

/* Changing what the digest covers changes this, so old and new digests never meet. */
#define DIGEST_FORMAT	"opsdeck-artifact-v1\n"
/* Symlinks followed while checking one target, as the kernel's ELOOP limit. */
#define LINK_HOPS	40
/* A temp dir this old was left by an import that crashed. */
#define STALE_TMP_SECS	(24 * 60 * 60)
#define TAR_STDERR_MAX	4096

/* One walk over a tree: what is hashed so far, where we are, how to name it. */
struct walk {
	crypto_hash_sha256_state h;
	int64_t		 size;
	size_t		 entries;
	int		 rootfd;	/* the tree symlinks must stay inside */
	const char	*src;		/* as the user gave it, for messages */
	bool		 tar;		/* walking our own unpacked copy of a tarball */
	struct buf	 rel;		/* the entry's path below the root */
};

enum link_where {
	LINK_INSIDE,
	LINK_OUTSIDE,
	LINK_LOOP,
};

static int	walk_dir(struct walk *, int srcfd, int dstfd, struct err *);

/* The entry being walked, as a user would find it: 'SRC/a/b' or 'a/b' in 'SRC'. */
static const char *
walk_where(struct walk *w, char *out, size_t len)
{
	const char *src = w->src, *rel = buf_str(&w->rel);
	size_t n = strlen(src);

	if (w->tar)
		snprintf(out, len, "'%s' in '%s'", rel, src);
	else
		snprintf(out, len, "'%.*s/%s'", (int)(n > 1 && src[n - 1] == '/' ?
		    n - 1 : n), src, rel);
	return out;
}

static void
buf_truncate(struct buf *b, size_t len)
{
	b->len = len;
	if (b->data != NULL)
		b->data[len] = '\0';
}

static void
hash_u64(struct walk *w, uint64_t v)
{
	unsigned char b[8];
	int i;

	for (i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (56 - 8 * i));
	crypto_hash_sha256_update(&w->h, b, sizeof(b));
}

static void
hash_bytes(struct walk *w, const void *p, size_t len)
{
	hash_u64(w, len);
	crypto_hash_sha256_update(&w->h, p, len);
}

static void
hash_entry(struct walk *w, char type)
{
	crypto_hash_sha256_update(&w->h, (const unsigned char *)&type, 1);
	hash_bytes(w, buf_str(&w->rel), w->rel.len);
}

static const char *
mode_kind(mode_t m)
{
	if (S_ISFIFO(m))
		return "fifo";
	if (S_ISSOCK(m))
		return "socket";
	if (S_ISCHR(m))
		return "character device";
	if (S_ISBLK(m))
		return "block device";
	return "special file";
}

static int
write_all(int fd, const char *p, size_t len)
{
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int
cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static void
free_names(char **names, size_t n)
{
	while (n > 0)
		free(names[--n]);
	free(names);
}

/* The names in a directory but . and .., byte-sorted; -1 with errno. */
static int
read_names(int dirfd, char ***names, size_t *n)
{
	struct dirent *d;
	size_t cap = 0;
	DIR *dir;
	int fd;

	*names = NULL;
	*n = 0;
	if ((fd = dup(dirfd)) < 0)
		return -1;
	if ((dir = fdopendir(fd)) == NULL) {
		close(fd);
		return -1;
	}
	rewinddir(dir);
	for (;;) {
		errno = 0;
		if ((d = readdir(dir)) == NULL)
			break;
		if (strcmp(d->d_name, ".") == 0 || strcmp(d->d_name, "..") == 0)
			continue;
		if (*n == cap) {
			cap = cap ? cap * 2 : 16;
			*names = xreallocarray(*names, cap, sizeof(**names));
		}
		(*names)[(*n)++] = xstrdup(d->d_name);
	}
	if (errno != 0) {
		int saved = errno;

		closedir(dir);
		free_names(*names, *n);
		*names = NULL;
		*n = 0;
		errno = saved;
		return -1;
	}
	closedir(dir);
	if (*n > 1)
		qsort(*names, *n, sizeof(**names), cmp_names);
	return 0;
}

/*
 * Where target, a symlink in directory dir (below the tree at rootfd), leads. Follows
 * the tree's own symlinks on the way, so "s/.." with s -> ".." is caught too; a
 * component that does not exist is taken as written.
 */
static enum link_where
link_resolve(int rootfd, const char *dir, size_t dirlen, const char *target)
{
	struct buf cur = BUF_INIT;
	enum link_where where = LINK_OUTSIDE;
	char *rest = xstrdup(target), link[PATH_MAX];
	size_t pos = 0, len, next, mark;
	struct stat st;
	int hops = 0;
	ssize_t n;

	buf_add(&cur, dir, dirlen);
	if (rest[0] == '/')
		goto out;
	while (rest[pos] != '\0') {
		len = strcspn(rest + pos, "/");
		next = pos + len + (rest[pos + len] == '/');
		if (len == 0 || (len == 1 && rest[pos] == '.')) {
			pos = next;
			continue;
		}
		if (len == 2 && rest[pos] == '.' && rest[pos + 1] == '.') {
			char *slash;

			if (cur.len == 0)
				goto out;
			slash = strrchr(cur.data, '/');
			buf_truncate(&cur, slash ? (size_t)(slash - cur.data) : 0);
			pos = next;
			continue;
		}
		mark = cur.len;
		if (mark > 0)
			buf_addch(&cur, '/');
		buf_add(&cur, rest + pos, len);
		pos = next;
		if (fstatat(rootfd, cur.data, &st, AT_SYMLINK_NOFOLLOW) < 0 ||
		    !S_ISLNK(st.st_mode))
			continue;
		if (++hops > LINK_HOPS) {
			where = LINK_LOOP;
			goto out;
		}
		if ((n = readlinkat(rootfd, cur.data, link, sizeof(link) - 1)) < 0)
			continue;
		link[n] = '\0';
		if (link[0] == '/')
			goto out;
		buf_truncate(&cur, mark);
		char *expanded = xasprintf("%s/%s", link, rest + pos);

		free(rest);
		rest = expanded;
		pos = 0;
	}
	where = LINK_INSIDE;
out:
	buf_release(&cur);
	free(rest);
	return where;
}

static int
walk_file(struct walk *w, int srcfd, int dstfd, const char *name,
    const struct stat *st, struct err *e)
{
	bool exec = (st->st_mode & S_IXUSR) != 0;
	char chunk[65536], at[1024];
	int sfd = -1, dfd = -1, ret = -1;
	int64_t total = 0;
	ssize_t n;

	hash_entry(w, exec ? 'x' : 'f');
	hash_u64(w, (uint64_t)st->st_size);
	/* Our own unpacked copy: tar may have restored a mode we cannot read. */
	if (w->tar)
		fchmodat(srcfd, name, 0600, 0);
	if ((sfd = openat(srcfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		err_errno(e, "cannot read %s", walk_where(w, at, sizeof(at)));
		goto out;
	}
	if (dstfd >= 0 && (dfd = openat(dstfd, name, O_WRONLY | O_CREAT | O_EXCL |
	    O_NOFOLLOW | O_CLOEXEC, 0600)) < 0) {
		err_errno(e, "cannot copy %s into the artifact store",
		    walk_where(w, at, sizeof(at)));
		goto out;
	}
	for (;;) {
		n = read(sfd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_errno(e, "cannot read %s", walk_where(w, at, sizeof(at)));
			goto out;
		}
		if (n == 0)
			break;
		crypto_hash_sha256_update(&w->h, (unsigned char *)chunk, (size_t)n);
		total += n;
		if (dfd >= 0 && write_all(dfd, chunk, (size_t)n) < 0) {
			err_errno(e, "cannot copy %s into the artifact store",
			    walk_where(w, at, sizeof(at)));
			goto out;
		}
	}
	if (total != st->st_size) {
		err_setk(e, ERR_CONFLICT, "%s changed while it was being read: "
		    "try again once it is complete", walk_where(w, at, sizeof(at)));
		goto out;
	}
	if (fchmod(dfd >= 0 ? dfd : sfd, exec ? 0555 : 0444) < 0) {
		err_errno(e, "cannot make %s read-only", walk_where(w, at, sizeof(at)));
		goto out;
	}
	w->size += total;
	ret = 0;
out:
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	return ret;
}

static int
walk_link(struct walk *w, int srcfd, int dstfd, const char *name,
    struct err *e)
{
	const char *rel = buf_str(&w->rel), *slash = strrchr(rel, '/');
	char target[PATH_MAX], at[1024];
	ssize_t n;

	if ((n = readlinkat(srcfd, name, target, sizeof(target))) < 0)
		return err_errno(e, "cannot read symlink %s",
		    walk_where(w, at, sizeof(at)));
	if ((size_t)n == sizeof(target))
		return err_setk(e, ERR_INVALID, "symlink %s has a target longer "
		    "than %d bytes", walk_where(w, at, sizeof(at)), PATH_MAX - 1);
	target[n] = '\0';
	switch (link_resolve(w->rootfd, rel, slash ? (size_t)(slash - rel) : 0,
	    target)) {
	case LINK_INSIDE:
		break;
	case LINK_OUTSIDE:
		return err_setk(e, ERR_INVALID, "symlink %s points outside the "
		    "artifact ('%s'): an artifact's symlinks must stay inside it",
		    walk_where(w, at, sizeof(at)), target);
	case LINK_LOOP:
		return err_setk(e, ERR_INVALID, "symlink %s does not resolve: "
		    "too many levels of symbolic links",
		    walk_where(w, at, sizeof(at)));
	}
	hash_entry(w, 'l');
	hash_bytes(w, target, (size_t)n);
	if (dstfd >= 0 && symlinkat(target, dstfd, name) < 0)
		return err_errno(e, "cannot copy symlink %s into the artifact store",
		    walk_where(w, at, sizeof(at)));
	return 0;
}

static int
walk_subdir(struct walk *w, int srcfd, int dstfd, const char *name,
    struct err *e)
{
	int sfd = -1, dfd = -1, ret = -1;
	char at[1024];

	hash_entry(w, 'd');
	if (w->tar)
		fchmodat(srcfd, name, 0700, 0);
	if ((sfd = openat(srcfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0) {
		err_errno(e, "cannot read %s", walk_where(w, at, sizeof(at)));
		goto out;
	}
	if (dstfd >= 0 && (mkdirat(dstfd, name, 0700) < 0 ||
	    (dfd = openat(dstfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)) {
		err_errno(e, "cannot copy %s into the artifact store",
		    walk_where(w, at, sizeof(at)));
		goto out;
	}
	if (walk_dir(w, sfd, dfd, e) < 0)
		goto out;
	/* Read-only once everything below it is in place. */
	if (fchmod(dfd >= 0 ? dfd : sfd, 0555) < 0) {
		err_errno(e, "cannot make %s read-only", walk_where(w, at, sizeof(at)));
		goto out;
	}
	ret = 0;
out:
	if (sfd >= 0)
		close(sfd);
	if (dfd >= 0)
		close(dfd);
	return ret;
}

static int
walk_entry(struct walk *w, int srcfd, int dstfd, const char *name,
    struct err *e)
{
	struct stat st;
	char at[1024];

	if (fstatat(srcfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return err_errno(e, "cannot read %s", walk_where(w, at, sizeof(at)));
	w->entries++;
	if (S_ISDIR(st.st_mode))
		return walk_subdir(w, srcfd, dstfd, name, e);
	if (S_ISREG(st.st_mode))
		return walk_file(w, srcfd, dstfd, name, &st, e);
	if (S_ISLNK(st.st_mode))
		return walk_link(w, srcfd, dstfd, name, e);
	return err_setk(e, ERR_INVALID, "%s is a %s: an artifact holds only files, "
	    "directories and symlinks", walk_where(w, at, sizeof(at)),
	    mode_kind(st.st_mode));
}

/*
 * Hashes the tree at srcfd in byte-sorted order and seals it read-only; with
 * dstfd >= 0 it copies the tree there and seals the copy instead.
 */
static int
walk_dir(struct walk *w, int srcfd, int dstfd, struct err *e)
{
	size_t i, n, mark = w->rel.len;
	char **names, at[1024];
	int ret = -1;

	if (read_names(srcfd, &names, &n) < 0) {
		if (mark > 0)
			return err_errno(e, "cannot read %s",
			    walk_where(w, at, sizeof(at)));
		return err_errno(e, "cannot read artifact '%s'", w->src);
	}
	for (i = 0; i < n; i++) {
		if (mark > 0)
			buf_addch(&w->rel, '/');
		buf_addstr(&w->rel, names[i]);
		if (walk_entry(w, srcfd, dstfd, names[i], e) < 0)
			goto out;
		buf_truncate(&w->rel, mark);
	}
	ret = 0;
out:
	buf_truncate(&w->rel, mark);
	free_names(names, n);
	return ret;
}

/*
 * Removes name below parentfd and everything in it, read-only or not; adds the sizes
 * of the files removed to *bytes (when not NULL). -1 with errno when name is left.
 */
static int
remove_tree(int parentfd, const char *name, int64_t *bytes)
{
	char **names;
	size_t i, n;
	struct stat st;
	int fd;

	fchmodat(parentfd, name, 0700, 0);
	if ((fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0) {
		if (bytes != NULL && fstatat(parentfd, name, &st,
		    AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode))
			*bytes += st.st_size;
		return unlinkat(parentfd, name, 0);
	}
	if (read_names(fd, &names, &n) == 0) {
		for (i = 0; i < n; i++) {
			if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			if (S_ISDIR(st.st_mode))
				remove_tree(fd, names[i], bytes);
			else if (unlinkat(fd, names[i], 0) == 0 && bytes != NULL &&
			    S_ISREG(st.st_mode))
				*bytes += st.st_size;
		}
		free_names(names, n);
	}
	close(fd);
	return unlinkat(parentfd, name, AT_REMOVEDIR);
}

/* The sizes of the files in the tree name below parentfd. */
static int64_t
tree_size(int parentfd, const char *name)
{
	char **names;
	size_t i, n;
	struct stat st;
	int64_t total = 0;
	int fd;

	if ((fd = openat(parentfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW |
	    O_CLOEXEC)) < 0)
		return 0;
	if (read_names(fd, &names, &n) == 0) {
		for (i = 0; i < n; i++) {
			if (fstatat(fd, names[i], &st, AT_SYMLINK_NOFOLLOW) < 0)
				continue;
			if (S_ISDIR(st.st_mode))
				total += tree_size(fd, names[i]);
			else if (S_ISREG(st.st_mode))
				total += st.st_size;
		}
		free_names(names, n);
	}
	close(fd);
	return total;
}

/* Temp dirs of imports that crashed; a running import's is younger than a day. */
static void
sweep_stale(int storefd)
{
	time_t now = time(NULL);
	char **names;
	struct stat st;
	size_t i, n;

	if (read_names(storefd, &names, &n) < 0)
		return;
	for (i = 0; i < n; i++) {
		if (strncmp(names[i], ".tmp-", 5) == 0 &&
		    fstatat(storefd, names[i], &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode) && now - st.st_mtime > STALE_TMP_SECS)
			remove_tree(storefd, names[i], NULL);
	}
	free_names(names, n);
}

/* The line of tar's stderr that says what went wrong, into out. */
static void
tar_reason(int fd, int status, char *out, size_t len)
{
	static const char *const noise[] = {
		"Removing leading", "Exiting with failure status",
		"Error is not recoverable", "Child returned status",
	};
	char text[TAR_STDERR_MAX + 1], *line, *save = NULL;
	ssize_t n;
	size_t i;

	snprintf(out, len, "tar: exit status %d", status);
	if (lseek(fd, 0, SEEK_SET) < 0 ||
	    (n = read(fd, text, sizeof(text) - 1)) <= 0)
		return;
	text[n] = '\0';
	for (line = strtok_r(text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		for (i = 0; i < sizeof(noise) / sizeof(noise[0]); i++)
			if (strstr(line, noise[i]) != NULL)
				break;
		if (i == sizeof(noise) / sizeof(noise[0]) && line[0] != '\0') {
			snprintf(out, len, "%.200s", line);
			return;
		}
	}
}

/* The environment for tar: ours, less what would change how it unpacks. */
static char **
tar_env(void)
{
	static const char *const drop[] = { "TAR_OPTIONS=", "GZIP=", "LC_ALL=" };
	char **env;
	size_t i, j, n = 0;

	while (environ[n] != NULL)
		n++;
	env = xcalloc(n + 2, sizeof(*env));
	for (i = 0, n = 0; environ[i] != NULL; i++) {
		for (j = 0; j < sizeof(drop) / sizeof(drop[0]); j++)
			if (strncmp(environ[i], drop[j], strlen(drop[j])) == 0)
				break;
		if (j == sizeof(drop) / sizeof(drop[0]))
			env[n++] = environ[i];
	}
	/* tar's messages in English, so "not a tar archive" can be told apart. */
	env[n] = "LC_ALL=C";
	return env;
}

/* Unpacks the tarball src into dir with GNU tar; nothing is written outside dir. */
static int
untar(const char *src, const char *store, const char *dir, struct err *e)
{
	char *errpath = xasprintf("%s/.tmp-XXXXXX", store);
	char *file = strcmp(src, "-") == 0 ? "./-" : (char *)src;
	char *argv[] = {
		"tar", "-x", "--force-local", "--no-same-owner",
		"--no-same-permissions", "-f", file, "-C", (char *)dir, NULL,
	};
	posix_spawn_file_actions_t fa;
	char **env = NULL, reason[256];
	int errfd, status, rc, ret = -1;
	pid_t pid;

	if ((errfd = mkostemp(errpath, O_CLOEXEC)) < 0) {
		err_errno(e, "cannot create a temporary file in '%s'", store);
		free(errpath);
		return -1;
	}
	unlink(errpath);
	env = tar_env();
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, errfd, 2);
	rc = posix_spawnp(&pid, "tar", &fa, NULL, argv, env);
	posix_spawn_file_actions_destroy(&fa);
	if (rc != 0) {
		errno = rc;
		err_errno(e, "cannot run 'tar' to unpack '%s'", src);
		goto out;
	}
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR) {
			err_errno(e, "cannot wait for 'tar' unpacking '%s'", src);
			goto out;
		}
	}
	if (WIFSIGNALED(status)) {
		err_set(e, "cannot unpack '%s': tar was killed by signal %d", src,
		    WTERMSIG(status));
		goto out;
	}
	if (WEXITSTATUS(status) != 0) {
		tar_reason(errfd, WEXITSTATUS(status), reason, sizeof(reason));
		if (strstr(reason, "does not look like a tar archive") != NULL)
			err_setk(e, ERR_INVALID, "'%s' is not a tar archive (%s): "
			    "pass a directory or a .tar.gz", src, reason);
		else
			err_setk(e, ERR_INVALID, "cannot unpack '%s' (%s): nothing "
			    "was imported", src, reason);
		goto out;
	}
	ret = 0;
out:
	close(errfd);
	free(errpath);
	free(env);
	return ret;
}

int
artifact_import(const char *state_dir, const char *src, struct artifact *art,
    struct err *e)
{
	unsigned char sum[crypto_hash_sha256_BYTES];
	char *store = NULL, *tmp = NULL, *tmpname = NULL;
	int storefd = -1, tmpfd = -1, srcfd = -1, ret = -1;
	struct walk w;
	struct stat st;

	memset(art, 0, sizeof(*art));
	memset(&w, 0, sizeof(w));
	buf_init(&w.rel, 0);
	w.src = src;
	crypto_hash_sha256_init(&w.h);
	crypto_hash_sha256_update(&w.h, (const unsigned char *)DIGEST_FORMAT,
	    strlen(DIGEST_FORMAT));

	if (stat(src, &st) < 0) {
		err_errno(e, "cannot read artifact '%s'", src);
		if (e != NULL && errno == ENOENT)
			e->kind = ERR_NOT_FOUND;
		goto out;
	}
	if (!S_ISDIR(st.st_mode) && !S_ISREG(st.st_mode)) {
		err_setk(e, ERR_INVALID, "artifact '%s' is a %s: pass a directory "
		    "or a .tar.gz", src, mode_kind(st.st_mode));
		goto out;
	}
	/* Opened even for a tarball, which tar reads by name: a clear message. */
	if ((srcfd = open(src, O_RDONLY | O_CLOEXEC | (S_ISDIR(st.st_mode) ?
	    O_DIRECTORY : 0))) < 0) {
		err_errno(e, "cannot read artifact '%s'", src);
		goto out;
	}
	w.tar = S_ISREG(st.st_mode);

	store = path_join(state_dir, "artifacts");
	if (mkdir_p(store, 0755, e) < 0)
		goto out;
	if ((storefd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err_errno(e, "cannot open the artifact store '%s'", store);
		goto out;
	}
	sweep_stale(storefd);
	tmp = xasprintf("%s/.tmp-XXXXXX", store);
	if (mkdtemp(tmp) == NULL) {
		err_errno(e, "cannot create a temporary directory in '%s'", store);
		free(tmp);
		tmp = NULL;
		goto out;
	}
	tmpname = strrchr(tmp, '/') + 1;
	if ((tmpfd = open(tmp, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err_errno(e, "cannot open '%s'", tmp);
		goto out;
	}

	if (w.tar) {
		/* An archive's "./" member may have given the root any mode. */
		if (untar(src, store, tmp, e) < 0)
			goto out;
		if (fchmod(tmpfd, 0700) < 0) {
			err_errno(e, "cannot unpack '%s' in '%s'", src, tmp);
			goto out;
		}
		w.rootfd = tmpfd;
		if (walk_dir(&w, tmpfd, -1, e) < 0)
			goto out;
	} else {
		w.rootfd = srcfd;
		if (walk_dir(&w, srcfd, tmpfd, e) < 0)
			goto out;
	}
	/* An empty release is a wrong path or an unfinished build, not a deploy. */
	if (w.entries == 0) {
		if (w.tar)
			err_setk(e, ERR_INVALID, "'%s' holds no files (an empty "
			    "archive, or not a tar archive): pass a directory or "
			    "a .tar.gz", src);
		else
			err_setk(e, ERR_INVALID, "artifact '%s' is an empty "
			    "directory: pass the directory holding the app's "
			    "files", src);
		goto out;
	}
	crypto_hash_sha256_final(&w.h, sum);
	sodium_bin2hex(art->digest, sizeof(art->digest), sum, sizeof(sum));

	/* Sealed and on disk before it gets its name: never a half-written tree. */
	if (fchmod(tmpfd, 0555) < 0 || syncfs(tmpfd) < 0) {
		err_errno(e, "cannot store artifact '%s' in '%s'", src, store);
		goto out;
	}
	if (renameat(storefd, tmpname, storefd, art->digest) == 0)
		fsync(storefd);
	else if (errno == EEXIST || errno == ENOTEMPTY) {
		/*
		 * Stored for an earlier release: its new time tells gc that a deploy
		 * of it may be on its way, so the tree stays though old releases use it.
		 */
		art->existed = true;
		utimensat(storefd, art->digest, NULL, 0);
	} else {
		err_errno(e, "cannot store artifact '%s' as '%s/%s'", src, store,
		    art->digest);
		goto out;
	}
	art->path = xasprintf("%s/%s", store, art->digest);
	snprintf(art->kind, sizeof(art->kind), "%s", w.tar ? "tar" : "dir");
	art->size = w.size;
	ret = 0;
out:
	/* Gone after a failure, or when the same tree was stored already. */
	if (tmp != NULL && (ret < 0 || art->existed))
		remove_tree(storefd, tmpname, NULL);
	if (ret < 0)
		memset(art, 0, sizeof(*art));
	if (srcfd >= 0)
		close(srcfd);
	if (tmpfd >= 0)
		close(tmpfd);
	if (storefd >= 0)
		close(storefd);
	buf_release(&w.rel);
	free(tmp);
	free(store);
	return ret;
}

void
artifact_release(struct artifact *art)
{
	free(art->path);
	memset(art, 0, sizeof(*art));
}

char *
artifact_path(const char *state_dir, const char *digest, struct err *e)
{
	struct stat st;
	char *path;
	size_t i;

	for (i = 0; digest[i] != '\0'; i++)
		if (!((digest[i] >= '0' && digest[i] <= '9') ||
		    (digest[i] >= 'a' && digest[i] <= 'f')))
			break;
	if (i != 64 || digest[i] != '\0') {
		err_setk(e, ERR_INVALID, "'%s' is not an artifact digest (64 "
		    "lowercase hex digits)", digest);
		return NULL;
	}
	path = xasprintf("%s/artifacts/%s", state_dir, digest);
	if (stat(path, &st) < 0 || !S_ISDIR(st.st_mode)) {
		err_setk(e, ERR_NOT_FOUND, "artifact '%.12s' is not in '%s/artifacts': "
		    "deploy it again with --artifact", digest, state_dir);
		free(path);
		return NULL;
	}
	return path;
}

/* A stored tree's name: a digest, or ".gc-" and a digest for one being removed. */
static bool
stored_name_valid(const char *name)
{
	if (strncmp(name, ARTIFACT_REMOVING, strlen(ARTIFACT_REMOVING)) == 0)
		name += strlen(ARTIFACT_REMOVING);
	return strlen(name) == 64 && strspn(name, "0123456789abcdef") == 64;
}

int64_t
artifact_size(const char *state_dir, const char *name)
{
	char *store = path_join(state_dir, "artifacts");
	int64_t total = 0;
	int fd;

	if (stored_name_valid(name) &&
	    (fd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		total = tree_size(fd, name);
		close(fd);
	}
	free(store);
	return total;
}

int
artifact_remove(const char *state_dir, const char *name, int64_t *bytes,
    struct err *e)
{
	char *store = path_join(state_dir, "artifacts"), *gone = NULL;
	const char *victim = name;
	int fd = -1, ret = -1;

	*bytes = 0;
	if (!stored_name_valid(name)) {
		err_setk(e, ERR_INVALID, "'%s' is not a stored artifact's name",
		    name);
		goto out;
	}
	if ((fd = open(store, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0) {
		err_errno(e, "cannot open the artifact store '%s'", store);
		goto out;
	}
	/* Out of its name first: a deploy finds the whole tree or none of it. */
	if (strncmp(name, ARTIFACT_REMOVING, strlen(ARTIFACT_REMOVING)) != 0) {
		gone = xasprintf("%s%s", ARTIFACT_REMOVING, name);
		if (renameat(fd, name, fd, gone) < 0 && errno != ENOENT) {
			err_errno(e, "cannot remove artifact '%s/%s'", store, name);
			goto out;
		}
		victim = gone;
	}
	if (remove_tree(fd, victim, bytes) < 0 && errno != ENOENT) {
		err_errno(e, "cannot remove all of '%s/%s' (%lld bytes were "
		    "freed): gc tries again on its next run", store, victim,
		    (long long)*bytes);
		goto out;
	}
	fsync(fd);
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	free(gone);
	free(store);
	return ret;
}
