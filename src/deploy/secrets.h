/*
 * Secrets: NAME=VALUE pairs per app, sealed at rest with a key that never enters the
 * store. Changes are staged (secrets_staged) and frozen into an immutable, numbered
 * version (secret_versions/secret_values) by a deploy; a release records the version
 * it used, so a rollback brings back that release's secrets too.
 *
 * A value is sealed with XChaCha20-Poly1305 under a random nonce (stored as
 * nonce || ciphertext) with "app\0name" as associated data: a blob moved to another app
 * or name does not open. Digests are keyed (BLAKE2b under a subkey of the secrets key)
 * so a low-entropy value cannot be guessed from the store. Values never appear in
 * errors, logs or JSON; the only way out is secrets_env().
 */
#ifndef OPSDECK_SECRETS_H
#define OPSDECK_SECRETS_H

#include <stdbool.h>
#include <stddef.h>

#include <jansson.h>

#include "config/config.h"
#include "core/err.h"
#include "store/store.h"

#define SECRETS_KEY_ENV		"OPSDECK_SECRETS_KEY"
#define SECRETS_KEY_FILE	"secrets.key"
#define SECRETS_NAME_MAX	255		/* bytes */
#define SECRETS_VALUE_MAX	(64 * 1024)	/* bytes */
#define SECRETS_DIGEST_SHOWN	12		/* hex chars in secrets_list */

struct secrets_key {
	unsigned char	k[32];
};

/*
 * From $OPSDECK_SECRETS_KEY (64 hex chars) or STATE/secrets.key, created (mode 0600,
 * O_EXCL, random) when missing; a key file readable by group or others or not 32 bytes
 * is refused with a message naming it and the fix.
 */
int	 secrets_key_load(const char *state_dir, struct secrets_key *,
	    struct err *);
/* Wipes the key (sodium_memzero); call it when the key goes out of scope. */
void	 secrets_key_release(struct secrets_key *);

/* True when NAME is a usable environment variable name: [A-Z_][A-Z0-9_]*, <= 255 bytes. */
bool	 secrets_name_valid(const char *name);
/*
 * One line of a .env file, in place: blank lines and # comments give NULL; a
 * leading "export " and a CR before the newline (a file saved on Windows) are
 * dropped, and one pair of matching quotes around the value is taken off (nothing
 * inside is unescaped). Returns the NAME=VALUE text.
 */
char	*secrets_env_line(char *line);

/*
 * Stages NAME=VALUE for app (encrypted); NAME must match [A-Z_][A-Z0-9_]* (env var
 * rules), at most 255 bytes; value at most 64 KiB. Replaces an earlier staged change.
 */
int	 secrets_stage_set(struct store *, const struct secrets_key *,
	    const char *app, const char *name, const char *value, struct err *);
/*
 * Stages the removal of a deployed NAME, or drops a staged set of a NAME not deployed;
 * a NAME neither deployed nor staged is ERR_NOT_FOUND.
 */
int	 secrets_stage_unset(struct store *, const char *app, const char *name,
	    struct err *);
/*
 * {"app":..,"version":N,"secrets":[{"name","digest","state":"deployed"|"staged"|
 * "staged-unset"}]} sorted by name, N the latest version (0: none) — never values.
 */
json_t	*secrets_list(struct store *, const char *app, struct err *);
/*
 * Applies the staged changes on top of the latest version as a new version (in one
 * transaction) and clears them; with nothing staged returns the latest version (0 when
 * none). Inside a caller's transaction it joins it (a savepoint), so a release row and
 * its secrets version can be written atomically.
 */
int	 secrets_freeze(struct store *, const char *app, int *version,
	    struct err *);
/*
 * The decrypted NAME=VALUE pairs of a version (sorted by name; version 0: none), for a
 * machine's environment; an unknown version is ERR_NOT_FOUND, a value that does not
 * open (other key, moved blob) an error naming app and name.
 */
int	 secrets_env(struct store *, const struct secrets_key *,
	    const char *app, int version, struct cfg_env **env, size_t *n,
	    struct err *);
/* Wipes the values (sodium_memzero) and frees the array and its strings. */
void	 secrets_env_free(struct cfg_env *, size_t);

#endif
