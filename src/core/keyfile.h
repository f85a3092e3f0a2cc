/*
 * Private key files in the state dir (the secrets key, the evidence signing key):
 * read only when mode 0600 and of the exact size, created atomically so no reader
 * sees half a key and a key another process made first is kept.
 */
#ifndef OPSDECK_KEYFILE_H
#define OPSDECK_KEYFILE_H

#include <stddef.h>

#include "core/err.h"

/*
 * Reads exactly len bytes from path into key: 0, 1 when there is no file, -1 with
 * a message naming what ("secrets key") and, for a file of the wrong size, lost_hint
 * (what is lost when the key is replaced).
 */
int	keyfile_read(const char *path, const char *what, const char *lost_hint,
	    void *key, size_t len, struct err *);
/*
 * Writes key (len bytes the caller made) to path with mode 0600. When another
 * process created path first, its key is read into key instead. 0 or -1.
 */
int	keyfile_create(const char *path, const char *what, const char *lost_hint,
	    void *key, size_t len, struct err *);

#endif
