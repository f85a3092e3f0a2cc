#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/keyfile.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"

#define KEY_MAX	256

/* Clears a key's bytes where the compiler may not drop the stores. */
static void
wipe(void *p, size_t len)
{
	volatile unsigned char *c = p;

	while (len-- > 0)
		*c++ = 0;
}

int
keyfile_read(const char *path, const char *what, const char *lost_hint,
    void *key, size_t len, struct err *e)
{
	unsigned char tmp[KEY_MAX + 1];
	struct stat sb;
	ssize_t r;
	size_t got = 0;
	int fd, ret = -1;

	if (len > KEY_MAX)
		BUG("keyfile_read: a %zu-byte key", len);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0) {
		if (errno == ENOENT)
			return 1;
		return err_errno(e, "cannot open %s '%s'", what, path);
	}
	if (fstat(fd, &sb) < 0) {
		err_errno(e, "cannot stat %s '%s'", what, path);
		goto out;
	}
	if (!S_ISREG(sb.st_mode)) {
		err_setk(e, ERR_INVALID, "%s '%s' is not a regular file: move it "
		    "away", what, path);
		goto out;
	}
	if ((sb.st_mode & 077) != 0) {
		err_setk(e, ERR_DENIED, "%s '%s' has mode %04o and can be read by "
		    "other users: run `chmod 600 '%s'` (and consider the key "
		    "leaked if others could read it)", what, path,
		    (unsigned)(sb.st_mode & 07777), path);
		goto out;
	}
	while (got < len + 1) {
		r = read(fd, tmp + got, len + 1 - got);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0) {
			err_errno(e, "cannot read %s '%s'", what, path);
			goto out;
		}
		if (r == 0)
			break;
		got += (size_t)r;
	}
	if (got != len) {
		err_setk(e, ERR_INVALID, "%s '%s' is %s%zu bytes, expected %zu: "
		    "restore it from a backup, or move it away to create a new "
		    "key (%s)", what, path, got > len ? "more than " : "",
		    got > len ? len : got, len, lost_hint);
		goto out;
	}
	memcpy(key, tmp, len);
	ret = 0;
out:
	wipe(tmp, sizeof(tmp));
	close(fd);
	return ret;
}

static int
write_all(int fd, const void *p, size_t len)
{
	const unsigned char *c = p;
	ssize_t r;

	while (len > 0) {
		if ((r = write(fd, c, len)) < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += r;
		len -= (size_t)r;
	}
	return 0;
}

/*
 * The key goes to a private temp file first and is linked into place (link(2) fails
 * with EEXIST where rename would replace).
 */
int
keyfile_create(const char *path, const char *what, const char *lost_hint,
    void *key, size_t len, struct err *e)
{
	char *tmp = xasprintf("%s.XXXXXX", path);
	char *dir = path_dir(path);
	int fd, dfd, ret = -1;

	/* mkstemp: O_CREAT | O_EXCL, mode 0600, a name no one else has. */
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		err_errno(e, "cannot create %s in '%s'", what, dir);
		free(tmp);
		tmp = NULL;
		goto out;
	}
	if (fchmod(fd, 0600) < 0 || write_all(fd, key, len) < 0 ||
	    fsync(fd) < 0) {
		err_errno(e, "cannot write %s '%s'", what, tmp);
		goto out;
	}
	if (close(fd) < 0) {
		fd = -1;
		err_errno(e, "cannot write %s '%s'", what, tmp);
		goto out;
	}
	fd = -1;
	if (link(tmp, path) < 0) {
		if (errno != EEXIST) {
			err_errno(e, "cannot create %s '%s'", what, path);
			goto out;
		}
		/* Another process created it first: use theirs. */
		if ((ret = keyfile_read(path, what, lost_hint, key, len, e)) == 1)
			ret = err_set(e, "%s '%s' appeared and vanished while "
			    "opsdeck created it: try again", what, path);
		goto out;
	}
	if ((dfd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) >= 0) {
		fsync(dfd);
		close(dfd);
	}
	ret = 0;
out:
	if (fd >= 0)
		close(fd);
	if (tmp != NULL)
		unlink(tmp);
	if (ret < 0)
		wipe(key, len);
	free(tmp);
	free(dir);
	return ret;
}
