#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/timex.h>
#include <time.h>
#include <unistd.h>

#include <sodium.h>

#include "core/util.h"
#include "core/xmalloc.h"

uint64_t
mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

int64_t
wall_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void
format_time(int64_t ms, char out[32])
{
	time_t secs = (time_t)(ms / 1000);
	struct tm tm;
	char base[24];

	gmtime_r(&secs, &tm);
	strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, 32, "%s.%03dZ", base, (int)(ms % 1000));
}

void
size_format(int64_t bytes, char out[32])
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB" };
	double v = (double)bytes;
	size_t i;

	if (bytes < 1024) {
		snprintf(out, 32, "%lld B", (long long)bytes);
		return;
	}
	for (i = 0, v /= 1024; v >= 1024 && i + 1 < sizeof(units) /
	    sizeof(units[0]); i++)
		v /= 1024;
	snprintf(out, 32, "%.1f %s", v, units[i]);
}

int
duration_parse(const char *s, int64_t *ms)
{
	static const struct {
		const char *suffix;
		double	 scale;
	} units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
		{ "", 1000 },
	};
	const char *p;
	char *end;
	double v;
	size_t i;

	/* Digits and one '.', then a unit: strtod alone would take hex, nan, 1e3. */
	if (s == NULL || !isdigit((unsigned char)*s))
		return -1;
	for (p = s; isdigit((unsigned char)*p) || *p == '.'; p++)
		;
	if (strchr(p, '.') != NULL || memchr(s, '.', (size_t)(p - s)) !=
	    memrchr(s, '.', (size_t)(p - s)))
		return -1;
	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end != p || v > 1e9)
		return -1;
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(end, units[i].suffix) == 0) {
			*ms = (int64_t)(v * units[i].scale + 0.5);
			return 0;
		}
	}
	return -1;
}

void
duration_format(int64_t ms, char out[32])
{
	if (ms < 1000)
		snprintf(out, 32, "%lldms", (long long)ms);
	else if (ms < 60000)
		snprintf(out, 32, "%.1fs", (double)ms / 1000);
	else if (ms < 3600000)
		snprintf(out, 32, "%lldm%llds", (long long)(ms / 60000),
		    (long long)(ms % 60000 / 1000));
	else
		snprintf(out, 32, "%lldh%lldm", (long long)(ms / 3600000),
		    (long long)(ms % 3600000 / 60000));
}

int
mkdir_p(const char *dir, int mode, struct err *e)
{
	char *p, *s;
	int ret = -1;

	if (dir == NULL || *dir == '\0')
		return err_set(e, "cannot create a directory with an empty name");
	p = xstrdup(dir);
	for (s = p + 1; ; s++) {
		if (*s != '/' && *s != '\0')
			continue;
		char saved = *s;

		*s = '\0';
		if (mkdir(p, (mode_t)mode) < 0 && errno != EEXIST) {
			err_errno(e, "cannot create directory '%s'", p);
			goto out;
		}
		*s = saved;
		if (saved == '\0')
			break;
	}
	ret = 0;
out:
	free(p);
	return ret;
}

char *
path_join(const char *dir, const char *name)
{
	if (name[0] == '/' || dir == NULL || dir[0] == '\0')
		return xstrdup(name);
	return xasprintf("%s%s%s", dir,
	    dir[strlen(dir) - 1] == '/' ? "" : "/", name);
}

char *
path_dir(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int
file_read(const char *path, size_t max, struct buf *out, struct err *e)
{
	char chunk[65536];
	int fd, ret = -1;
	ssize_t n;

	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return err_errno(e, "cannot open '%s'", path);
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_errno(e, "cannot read '%s'", path);
			goto out;
		}
		if (n == 0)
			break;
		if (max != 0 && out->len + (size_t)n > max) {
			err_set(e, "'%s' is larger than %zu bytes", path, max);
			goto out;
		}
		buf_add(out, chunk, (size_t)n);
	}
	if (out->data == NULL)
		buf_add(out, "", 0);
	ret = 0;
out:
	close(fd);
	return ret;
}

int
clock_synced(void)
{
	struct timex tx;
	int state;

	memset(&tx, 0, sizeof(tx));	/* modes 0: read only */
	if ((state = ntp_adjtime(&tx)) < 0)
		return -1;
	return state == TIME_ERROR || (tx.status & STA_UNSYNC) ? 0 : 1;
}

int
dir_writable(const char *dir, struct err *e)
{
	char *tmp = xasprintf("%s/.opsdeck-write-test.XXXXXX", dir);
	int fd, ret = -1;

	if ((fd = mkstemp(tmp)) < 0) {
		err_errno(e, "cannot create a file in '%s'", dir);
		goto out;
	}
	close(fd);
	if (unlink(tmp) < 0) {
		err_errno(e, "cannot remove '%s'", tmp);
		goto out;
	}
	ret = 0;
out:
	free(tmp);
	return ret;
}

int
file_write_atomic(const char *path, const void *data, size_t len, int mode,
    struct err *e)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	const char *p = data;
	int fd, ret = -1;

	if ((fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
	    (mode_t)mode)) < 0) {
		err_errno(e, "cannot create '%s'", tmp);
		goto out;
	}
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_errno(e, "cannot write '%s'", tmp);
			close(fd);
			unlink(tmp);
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) < 0 || close(fd) < 0) {
		err_errno(e, "cannot write '%s'", tmp);
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) < 0) {
		err_errno(e, "cannot rename '%s' to '%s'", tmp, path);
		unlink(tmp);
		goto out;
	}
	ret = 0;
out:
	free(tmp);
	return ret;
}

char *
exec_find(const char *name)
{
	const char *path, *p, *colon;

	if (name == NULL || *name == '\0')
		return NULL;
	if (strchr(name, '/') != NULL)
		return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
	if ((path = getenv("PATH")) == NULL)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; ; p = colon + 1) {
		colon = strchr(p, ':');
		size_t n = colon ? (size_t)(colon - p) : strlen(p);
		char *dir = xstrndup(n ? p : ".", n ? n : 1);
		char *full = path_join(dir, name);
		struct stat st;

		free(dir);
		if (stat(full, &st) == 0 && S_ISREG(st.st_mode) &&
		    access(full, X_OK) == 0)
			return full;
		free(full);
		if (colon == NULL)
			return NULL;
	}
}

bool
name_valid(const char *s)
{
	size_t i;

	if (s == NULL || !(islower((unsigned char)s[0]) ||
	    isdigit((unsigned char)s[0])))
		return false;
	for (i = 0; s[i] != '\0'; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(islower(c) || isdigit(c) || c == '-' || c == '_'))
			return false;
	}
	return i <= 63;
}

void
sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char h[crypto_hash_sha256_BYTES];

	crypto_hash_sha256(h, data, len);
	sodium_bin2hex(out, 65, h, sizeof(h));
}

int
str_index(const char *s, const char *const *names, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (names[i] != NULL && strcmp(s, names[i]) == 0)
			return (int)i;
	return -1;
}

size_t
str_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t d[33][33];

	if (la > 32 || lb > 32)
		return SIZE_MAX;
	for (i = 0; i <= la; i++)
		d[i][0] = i;
	for (j = 0; j <= lb; j++)
		d[0][j] = j;
	for (i = 1; i <= la; i++) {
		for (j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] != b[j - 1], best;

			best = d[i - 1][j] + 1;
			if (d[i][j - 1] + 1 < best)
				best = d[i][j - 1] + 1;
			if (d[i - 1][j - 1] + cost < best)
				best = d[i - 1][j - 1] + cost;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] &&
			    a[i - 2] == b[j - 1] && d[i - 2][j - 2] + 1 < best)
				best = d[i - 2][j - 2] + 1;
			d[i][j] = best;
		}
	}
	return d[la][lb];
}

int
release_version_parse(const char *s, int *out)
{
	long long v = 0;

	if (*s == 'v')
		s++;
	if (*s < '1' || *s > '9')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (*s - '0');
		if (v > INT_MAX)
			return -1;
	}
	*out = (int)v;
	return 0;
}

/*
 * The length of the valid UTF-8 sequence of more than one byte at p (at most n
 * bytes), or 0: overlong forms, surrogates and stray continuation bytes are not.
 */
size_t
utf8_seq(const unsigned char *p, size_t n)
{
	size_t len, i;
	unsigned char lo = 0x80, hi = 0xbf;

	if (p[0] >= 0xc2 && p[0] <= 0xdf)
		len = 2;
	else if (p[0] >= 0xe0 && p[0] <= 0xef) {
		len = 3;
		if (p[0] == 0xe0)
			lo = 0xa0;
		else if (p[0] == 0xed)
			hi = 0x9f;
	} else if (p[0] >= 0xf0 && p[0] <= 0xf4) {
		len = 4;
		if (p[0] == 0xf0)
			lo = 0x90;
		else if (p[0] == 0xf4)
			hi = 0x8f;
	} else
		return 0;
	if (n < len || p[1] < lo || p[1] > hi)
		return 0;
	for (i = 2; i < len; i++)
		if ((p[i] & 0xc0) != 0x80)
			return 0;
	return len;
}

int
time_parse(const char *s, int64_t now_ms, int64_t *ms)
{
	struct tm tm;
	const char *p;
	int64_t d, frac = 0;
	int n;

	if (duration_parse(s, &d) == 0) {
		*ms = now_ms - d;
		return 0;
	}
	memset(&tm, 0, sizeof(tm));
	if ((p = strptime(s, "%Y-%m-%d", &tm)) == NULL)
		return -1;
	if (*p == 'T') {
		if ((p = strptime(p + 1, "%H:%M:%S", &tm)) == NULL)
			return -1;
		if (*p == '.') {
			for (n = 0, p++; *p >= '0' && *p <= '9'; p++, n++)
				if (n < 3)
					frac = frac * 10 + (*p - '0');
			if (n == 0)
				return -1;
			for (; n < 3; n++)
				frac *= 10;
		}
		if (*p++ != 'Z')
			return -1;
	}
	if (*p != '\0')
		return -1;
	*ms = (int64_t)timegm(&tm) * 1000 + frac;
	return 0;
}

int
hostport_split(const char *addr, char *host, size_t hostlen, const char **port)
{
	const char *colon = strrchr(addr, ':');
	size_t n;

	if (colon == NULL || colon == addr || colon[1] == '\0' ||
	    (n = (size_t)(colon - addr)) >= hostlen)
		return -1;
	memcpy(host, addr, n);
	host[n] = '\0';
	if (host[0] == '[' && n > 2 && host[n - 1] == ']') {
		memmove(host, host + 1, n - 2);
		host[n - 2] = '\0';
	}
	*port = colon + 1;
	return 0;
}

void
gh_escape(FILE *out, const char *s, bool property)
{
	for (; *s != '\0'; s++) {
		if (*s == '%')
			fputs("%25", out);
		else if (*s == '\r')
			fputs("%0D", out);
		else if (*s == '\n')
			fputs("%0A", out);
		else if (property && *s == ':')
			fputs("%3A", out);
		else if (property && *s == ',')
			fputs("%2C", out);
		else
			fputc(*s, out);
	}
}
