/* Time, paths and files: the small pieces every module needs. */
#ifndef OPSDECK_UTIL_H
#define OPSDECK_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "core/buf.h"
#include "core/err.h"

/* The User-Agent the CLI sends, by which the API records its requests as via cli. */
#define CLI_USER_AGENT	"opsdeck-cli/" OPSDECK_VERSION

/* Milliseconds: monotonic (for intervals) and wall clock since the epoch. */
uint64_t mono_ms(void);
int64_t	 wall_ms(void);
/* RFC 3339 UTC with milliseconds, "2025-10-21T06:06:47.123Z", into out[32]. */
void	 format_time(int64_t ms, char out[32]);
/*
 * A point in time as people give it: RFC 3339 UTC ("2026-12-07T02:10:00Z", with
 * optional .mmm), a date ("2026-12-07", midnight UTC), or a duration before now
 * ("2h", "30m"). Milliseconds since the epoch; -1 on error.
 */
int	 time_parse(const char *, int64_t now_ms, int64_t *ms);
/* Parses "250ms", "2s", "1m", "1h", or a bare number of seconds; -1 on error. */
int	 duration_parse(const char *, int64_t *ms);
/* "1.5s", "250ms", "2m3s" into out[32]. */
void	 duration_format(int64_t ms, char out[32]);

/* Bytes for people: "512 B", "12.3 KiB", "1.5 GiB", into out[32]. */
void	 size_format(int64_t bytes, char out[32]);

/*
 * Splits "HOST:PORT" ("[::1]:7480" for IPv6) into host, brackets dropped, at most
 * hostlen - 1 bytes, and *port, pointing into addr. 0, or -1 when there is no
 * host or no port, or the host is too long.
 */
int	 hostport_split(const char *addr, char *host, size_t hostlen,
	    const char **port);
/*
 * Whether the kernel's clock is disciplined (ntp_adjtime): 1 synchronized, 0 not
 * (STA_UNSYNC, no NTP daemon has set it), -1 when the kernel does not say.
 */
int	 clock_synced(void);
/* Creates and removes a temp file in dir: 0, or -1 with e naming dir and why. */
int	 dir_writable(const char *dir, struct err *);
/* Creates DIR and its parents with mode; 0 if it exists. */
int	 mkdir_p(const char *dir, int mode, struct err *);
/* dir/name, or name itself when name is absolute. The caller frees. */
char	*path_join(const char *dir, const char *name);
/* The folder part of a path ("." when none). The caller frees. */
char	*path_dir(const char *path);
/* Reads a whole file, at most max bytes. */
int	 file_read(const char *path, size_t max, struct buf *out, struct err *);
/* Writes a file atomically (temp file, fsync, rename) with mode. */
int	 file_write_atomic(const char *path, const void *, size_t, int mode,
	    struct err *);
/* Finds an executable: a path containing '/' is checked as is, else $PATH. */
char	*exec_find(const char *name);
/* True when s is a valid name: [a-z0-9][a-z0-9_-]*, at most 63 bytes. */
bool	 name_valid(const char *s);
/* The SHA-256 of len bytes in lowercase hex, NUL-terminated. */
void	 sha256_hex(const void *, size_t len, char out[65]);
/* The index of s in names[0..n) (NULL entries match nothing); -1 when absent. For
 * the _parse() of an enum whose _str() is a table of names. */
int	 str_index(const char *s, const char *const *names, size_t n);
/*
 * A release number as people write it, "v3" or "3": 1..INT_MAX, digits only (no
 * sign, blank or overflow, so a typo cannot name another release). 0 or -1.
 */
int	 release_version_parse(const char *s, int *out);
/* Optimal string alignment distance, for "did you mean"; SIZE_MAX past 32 bytes. */
size_t	 str_distance(const char *a, const char *b);
/*
 * The length of the valid UTF-8 sequence of more than one byte at p (at most n
 * bytes), or 0: overlong forms, surrogates and stray continuation bytes are not. In
 * NUL-terminated text n may be 4: a NUL is no continuation byte.
 */
size_t	 utf8_seq(const unsigned char *p, size_t n);
/*
 * s as GitHub Actions workflow commands take it: '%', CR and LF escaped, and ':' and
 * ',' too in a property (file=…, title=…).
 */
void	 gh_escape(FILE *, const char *s, bool property);

#endif
