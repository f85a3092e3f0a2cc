/*
 * Secrets at rest: sealing, keyed digests, staging and frozen versions. See
 * secrets.h for the model. Every plaintext copy this file makes is wiped before it
 * is freed; the caller's value is sealed in place and never copied.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/keyfile.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "deploy/secrets.h"

#define NONCE_BYTES	crypto_aead_xchacha20poly1305_ietf_NPUBBYTES
#define TAG_BYTES	crypto_aead_xchacha20poly1305_ietf_ABYTES
#define DIGEST_BYTES	32
#define DIGEST_CONTEXT	"opsdsecr"	/* crypto_kdf context: 8 bytes */
#define DIGEST_SUBKEY	1

/* The staged state of a name, as secrets_list prints it. */
enum secret_state {
	SECRET_DEPLOYED,
	SECRET_STAGED,
	SECRET_STAGED_UNSET,
};

static const char *const secret_state_names[] = {
	[SECRET_DEPLOYED] = "deployed",
	[SECRET_STAGED] = "staged",
	[SECRET_STAGED_UNSET] = "staged-unset",
};

static const char *
secret_state_str(enum secret_state s)
{
	return secret_state_names[s];
}

static int
sodium_ready(struct err *e)
{
	/* 0 the first time, 1 after: idempotent and thread-safe. */
	if (sodium_init() < 0)
		return err_set(e, "libsodium failed to initialise");
	return 0;
}

/* ---- the key ---------------------------------------------------------------- */

static int
key_from_env(const char *hex, struct secrets_key *key, struct err *e)
{
	size_t len = strlen(hex), got = 0;
	const char *end = NULL;

	/* The value is a secret: the message says what is wrong, never what it is. */
	if (len != 2 * sizeof(key->k) ||
	    sodium_hex2bin(key->k, sizeof(key->k), hex, len, NULL, &got,
	    &end) != 0 || got != sizeof(key->k) || *end != '\0') {
		sodium_memzero(key, sizeof(*key));
		return err_setk(e, ERR_INVALID, "$%s must be 64 hex characters "
		    "(32 bytes), as `openssl rand -hex 32` prints: fix it or "
		    "unset it to use the key file in the state directory",
		    SECRETS_KEY_ENV);
	}
	return 0;
}

#define KEY_WHAT	"secrets key"
#define KEY_LOST	"secrets sealed with the old key can then not be read and " \
			"must be set again"

int
secrets_key_load(const char *state_dir, struct secrets_key *key,
    struct err *e)
{
	const char *hex = getenv(SECRETS_KEY_ENV);
	char *path;
	int ret;

	if (sodium_ready(e) < 0)
		return -1;
	if (hex != NULL)
		return key_from_env(hex, key, e);
	path = path_join(state_dir, SECRETS_KEY_FILE);
	if ((ret = keyfile_read(path, KEY_WHAT, KEY_LOST, key->k, sizeof(key->k),
	    e)) == 1) {
		randombytes_buf(key->k, sizeof(key->k));
		ret = keyfile_create(path, KEY_WHAT, KEY_LOST, key->k,
		    sizeof(key->k), e);
	}
	free(path);
	return ret;
}

void
secrets_key_release(struct secrets_key *key)
{
	sodium_memzero(key, sizeof(*key));
}

/* ---- sealing ---------------------------------------------------------------- */

char *
secrets_env_line(char *line)
{
	char *eq, *end;
	size_t n;

	line[strcspn(line, "\r\n")] = '\0';
	line += strspn(line, " \t");
	if (line[0] == '\0' || line[0] == '#')
		return NULL;
	if (strncmp(line, "export ", 7) == 0)
		line += 7 + strspn(line + 7, " \t");
	if ((eq = strchr(line, '=')) != NULL && (n = strlen(eq + 1)) >= 2 &&
	    (eq[1] == '"' || eq[1] == '\'') && eq[n] == eq[1]) {
		end = eq + n;
		memmove(eq + 1, eq + 2, (size_t)(end - eq - 2));
		end[-1] = '\0';
	}
	return line;
}

bool
secrets_name_valid(const char *name)
{
	size_t i;

	if (name == NULL || name[0] == '\0' ||
	    !((name[0] >= 'A' && name[0] <= 'Z') || name[0] == '_'))
		return false;
	for (i = 0; name[i] != '\0'; i++) {
		char c = name[i];

		if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		    c == '_'))
			return false;
		if (i >= SECRETS_NAME_MAX)
			return false;
	}
	return true;
}

/* The associated data "app\0name": binds a sealed value to its app and name. */
static unsigned char *
secret_ad(const char *app, const char *name, size_t *len)
{
	size_t a = strlen(app), n = strlen(name);
	unsigned char *ad = xmalloc(a + 1 + n);

	memcpy(ad, app, a + 1);
	memcpy(ad + a + 1, name, n);
	*len = a + 1 + n;
	return ad;
}

/* nonce || ciphertext of value; the caller frees. */
static unsigned char *
secret_seal(const struct secrets_key *key, const char *app, const char *name,
    const char *value, size_t vlen, size_t *sealed_len)
{
	unsigned char *out = xmalloc(NONCE_BYTES + vlen + TAG_BYTES), *ad;
	unsigned long long clen;
	size_t adlen;

	ad = secret_ad(app, name, &adlen);
	randombytes_buf(out, NONCE_BYTES);
	crypto_aead_xchacha20poly1305_ietf_encrypt(out + NONCE_BYTES, &clen,
	    (const unsigned char *)value, vlen, ad, adlen, NULL, out, key->k);
	*sealed_len = NONCE_BYTES + (size_t)clen;
	free(ad);
	return out;
}

/* The plaintext of a sealed value, NUL-terminated; wipe it before freeing. */
static int
secret_open(const struct secrets_key *key, const char *app, int version,
    const char *name, const unsigned char *sealed, size_t len, char **value,
    struct err *e)
{
	unsigned long long plen;
	unsigned char *ad;
	size_t adlen;
	char *out;

	*value = NULL;
	if (len < NONCE_BYTES + TAG_BYTES || len > NONCE_BYTES + TAG_BYTES +
	    SECRETS_VALUE_MAX)
		return err_set(e, "secret '%s' of app '%s' (version %d) is "
		    "damaged (%zu bytes sealed): set it again with `opsdeck "
		    "secrets set %s %s=...`", name, app, version, len, app,
		    name);
	out = xmalloc(len - NONCE_BYTES - TAG_BYTES + 1);
	ad = secret_ad(app, name, &adlen);
	if (crypto_aead_xchacha20poly1305_ietf_decrypt((unsigned char *)out,
	    &plen, NULL, sealed + NONCE_BYTES, len - NONCE_BYTES, ad, adlen,
	    sealed, key->k) != 0) {
		free(ad);
		sodium_memzero(out, len - NONCE_BYTES - TAG_BYTES);
		free(out);
		return err_set(e, "secret '%s' of app '%s' (version %d) cannot "
		    "be decrypted: it was sealed with another secrets key or "
		    "for another app or name; use the key it was set with "
		    "(state dir secrets.key or $%s), or set it again",
		    name, app, version, SECRETS_KEY_ENV);
	}
	free(ad);
	out[plen] = '\0';
	*value = out;
	return 0;
}

/* The keyed digest of a value in hex: BLAKE2b under a subkey of the secrets key. */
static void
secret_digest(const struct secrets_key *key, const char *value, size_t vlen,
    char out[2 * DIGEST_BYTES + 1])
{
	unsigned char sub[crypto_generichash_KEYBYTES], h[DIGEST_BYTES];

	crypto_kdf_derive_from_key(sub, sizeof(sub), DIGEST_SUBKEY,
	    DIGEST_CONTEXT, key->k);
	crypto_generichash(h, sizeof(h), (const unsigned char *)value, vlen,
	    sub, sizeof(sub));
	sodium_memzero(sub, sizeof(sub));
	sodium_bin2hex(out, 2 * DIGEST_BYTES + 1, h, sizeof(h));
}

/* ---- transactions ----------------------------------------------------------- */

/*
 * Our own BEGIN IMMEDIATE when the connection is idle; inside a caller's transaction
 * a savepoint, so our writes stay all-or-nothing without ending theirs.
 */
struct tx {
	bool	nested;
};

enum tx_mode {
	TX_READ,	/* a consistent snapshot; works on a read-only store */
	TX_WRITE,
};

static int
tx_begin(struct store *s, struct tx *tx, enum tx_mode mode, struct err *e)
{
	tx->nested = !sqlite3_get_autocommit(s->db);
	if (tx->nested)
		return store_exec(s, "SAVEPOINT secrets", e);
	if (mode == TX_READ)
		return store_exec(s, "BEGIN", e);
	return store_begin(s, e);
}

static int
tx_commit(struct store *s, struct tx *tx, struct err *e)
{
	if (tx->nested)
		return store_exec(s, "RELEASE secrets", e);
	return store_commit(s, e);
}

static void
tx_rollback(struct store *s, struct tx *tx)
{
	if (tx->nested) {
		sqlite3_exec(s->db, "ROLLBACK TO secrets; RELEASE secrets",
		    NULL, NULL, NULL);
		return;
	}
	store_rollback(s);
}

/* ---- staging and versions --------------------------------------------------- */

static int
check_app(const char *app, struct err *e)
{
	if (!name_valid(app))
		return err_setk(e, ERR_INVALID, "app name '%.64s' is not "
		    "valid: use lowercase letters, digits, '-' and '_'",
		    app != NULL ? app : "");
	return 0;
}

static int
check_name(const char *name, struct err *e)
{
	size_t len;

	if (name == NULL || name[0] == '\0')
		return err_setk(e, ERR_INVALID, "secret name is empty: use "
		    "NAME=VALUE with NAME like DATABASE_URL");
	if ((len = strlen(name)) > SECRETS_NAME_MAX)
		return err_setk(e, ERR_INVALID, "secret name '%.32s...' is "
		    "%zu bytes, at most %d allowed", name, len,
		    SECRETS_NAME_MAX);
	if (!secrets_name_valid(name))
		return err_setk(e, ERR_INVALID, "secret name '%.64s' is not a "
		    "valid environment variable name: use uppercase letters, "
		    "digits and '_', not starting with a digit "
		    "(e.g. DATABASE_URL)", name);
	return 0;
}

static int
step_done(struct store *s, sqlite3_stmt *st, struct err *e)
{
	if (sqlite3_step(st) != SQLITE_DONE)
		return err_set(e, "store '%s': %s", s->path,
		    sqlite3_errmsg(s->db));
	return 0;
}

/* The newest version of app's secrets, 0 when none. */
static int
latest_version(struct store *s, const char *app, int *version, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	if (store_prepare(s, &st, "SELECT ifnull(max(version), 0) FROM "
	    "secret_versions WHERE app = ?1", e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		err_set(e, "store '%s': %s", s->path, sqlite3_errmsg(s->db));
		goto out;
	}
	*version = sqlite3_column_int(st, 0);
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

int
secrets_stage_set(struct store *s, const struct secrets_key *key,
    const char *app, const char *name, const char *value, struct err *e)
{
	char digest[2 * DIGEST_BYTES + 1];
	unsigned char *sealed = NULL;
	sqlite3_stmt *st = NULL;
	size_t vlen, slen;
	int ret = -1;

	if (sodium_ready(e) < 0 || check_app(app, e) < 0 ||
	    check_name(name, e) < 0)
		return -1;
	if (value == NULL)
		return err_setk(e, ERR_INVALID, "secret '%s' of app '%s' has "
		    "no value", name, app);
	if ((vlen = strlen(value)) > SECRETS_VALUE_MAX)
		return err_setk(e, ERR_INVALID, "secret '%s' of app '%s' is "
		    "%zu bytes, at most %d allowed: keep large files in the "
		    "artifact and put their key here", name, app, vlen,
		    SECRETS_VALUE_MAX);
	sealed = secret_seal(key, app, name, value, vlen, &slen);
	secret_digest(key, value, vlen, digest);
	if (store_prepare(s, &st, "INSERT OR REPLACE INTO secrets_staged "
	    "(app, name, op, sealed, digest, updated_at) "
	    "VALUES (?1, ?2, 'set', ?3, ?4, ?5)", e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_blob(st, 3, sealed, (int)slen, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, digest, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, wall_ms());
	if (step_done(s, st, e) < 0)
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	free(sealed);
	return ret;
}

int
secrets_stage_unset(struct store *s, const char *app, const char *name,
    struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct tx tx;
	int latest, deployed, staged_set, ret = -1;

	if (check_app(app, e) < 0 || check_name(name, e) < 0 ||
	    tx_begin(s, &tx, TX_WRITE, e) < 0)
		return -1;
	if (latest_version(s, app, &latest, e) < 0)
		goto out;
	if (store_prepare(s, &st, "SELECT "
	    "EXISTS (SELECT 1 FROM secret_values WHERE app = ?1 AND "
	    "  version = ?2 AND name = ?3), "
	    "EXISTS (SELECT 1 FROM secrets_staged WHERE app = ?1 AND "
	    "  name = ?3 AND op = 'set')", e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, latest);
	sqlite3_bind_text(st, 3, name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		err_set(e, "store '%s': %s", s->path, sqlite3_errmsg(s->db));
		goto out;
	}
	deployed = sqlite3_column_int(st, 0);
	staged_set = sqlite3_column_int(st, 1);
	sqlite3_finalize(st);
	st = NULL;
	if (!deployed && !staged_set) {
		err_setk(e, ERR_NOT_FOUND, "app '%s' has no secret '%s': "
		    "`opsdeck secrets list %s` shows its names", app, name,
		    app);
		goto out;
	}
	/* Not deployed: forgetting the staged set is the whole change. */
	if (store_prepare(s, &st, deployed ?
	    "INSERT OR REPLACE INTO secrets_staged (app, name, op, sealed, "
	    "digest, updated_at) VALUES (?1, ?2, 'unset', NULL, NULL, ?3)" :
	    "DELETE FROM secrets_staged WHERE app = ?1 AND name = ?2", e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, wall_ms());
	if (step_done(s, st, e) < 0)
		goto out;
	sqlite3_finalize(st);
	st = NULL;
	if (tx_commit(s, &tx, e) < 0)
		goto out;
	ret = 0;
out:
	sqlite3_finalize(st);
	if (ret < 0)
		tx_rollback(s, &tx);
	return ret;
}

json_t *
secrets_list(struct store *s, const char *app, struct err *e)
{
	sqlite3_stmt *st = NULL;
	json_t *out = NULL, *list;
	struct tx tx;
	int version, rc;

	if (check_app(app, e) < 0 || tx_begin(s, &tx, TX_READ, e) < 0)
		return NULL;
	if (latest_version(s, app, &version, e) < 0)
		goto fail;
	/* Staged rows (with the deployed digest beside), then deployed-only rows. */
	if (store_prepare(s, &st,
	    "SELECT g.name, g.op, g.digest, v.digest FROM secrets_staged g "
	    "LEFT JOIN secret_values v ON v.app = g.app AND v.version = ?2 "
	    "  AND v.name = g.name WHERE g.app = ?1 "
	    "UNION ALL "
	    "SELECT v.name, NULL, NULL, v.digest FROM secret_values v "
	    "WHERE v.app = ?1 AND v.version = ?2 AND NOT EXISTS "
	    "  (SELECT 1 FROM secrets_staged g WHERE g.app = v.app AND "
	    "  g.name = v.name) "
	    "ORDER BY 1", e) < 0)
		goto fail;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, version);
	out = json_object();
	list = json_array();
	json_object_set_new(out, "app", json_string(app));
	json_object_set_new(out, "version", json_integer(version));
	json_object_set_new(out, "secrets", list);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *op = (const char *)sqlite3_column_text(st, 1);
		const char *digest;
		enum secret_state state;
		json_t *row;

		if (op == NULL) {
			state = SECRET_DEPLOYED;
			digest = (const char *)sqlite3_column_text(st, 3);
		} else if (strcmp(op, "set") == 0) {
			state = SECRET_STAGED;
			digest = (const char *)sqlite3_column_text(st, 2);
		} else {
			state = SECRET_STAGED_UNSET;
			digest = (const char *)sqlite3_column_text(st, 3);
		}
		row = json_object();
		json_object_set_new(row, "name", json_string((const char *)
		    sqlite3_column_text(st, 0)));
		json_object_set_new(row, "digest", digest != NULL ?
		    json_stringn(digest, strnlen(digest,
		    SECRETS_DIGEST_SHOWN)) : json_null());
		json_object_set_new(row, "state",
		    json_string(secret_state_str(state)));
		json_array_append_new(list, row);
	}
	if (rc != SQLITE_DONE) {
		err_set(e, "store '%s': %s", s->path, sqlite3_errmsg(s->db));
		goto fail;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (tx_commit(s, &tx, e) < 0)
		goto fail;
	return out;
fail:
	sqlite3_finalize(st);
	tx_rollback(s, &tx);
	json_decref(out);
	return NULL;
}

int
secrets_freeze(struct store *s, const char *app, int *version, struct err *e)
{
	static const char *const writes[] = {
		"INSERT INTO secret_versions (app, version, created_at) "
		"VALUES (?1, ?3, ?4)",
		/* The latest version minus every staged name... */
		"INSERT INTO secret_values (app, version, name, sealed, "
		"  digest) SELECT app, ?3, name, sealed, digest "
		"  FROM secret_values v "
		"  WHERE app = ?1 AND version = ?2 AND NOT EXISTS (SELECT 1 "
		"  FROM secrets_staged g WHERE g.app = v.app AND "
		"  g.name = v.name)",
		/* ...plus the staged sets (unsets just leave their name out). */
		"INSERT INTO secret_values (app, version, name, sealed, "
		"  digest) SELECT app, ?3, name, sealed, digest "
		"  FROM secrets_staged "
		"  WHERE app = ?1 AND op = 'set'",
		"DELETE FROM secrets_staged WHERE app = ?1",
	};
	sqlite3_stmt *st = NULL;
	struct tx tx;
	int latest, staged, ret = -1;
	size_t i;

	if (check_app(app, e) < 0 || tx_begin(s, &tx, TX_WRITE, e) < 0)
		return -1;
	if (latest_version(s, app, &latest, e) < 0)
		goto out;
	if (store_prepare(s, &st, "SELECT count(*) FROM secrets_staged "
	    "WHERE app = ?1", e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW) {
		err_set(e, "store '%s': %s", s->path, sqlite3_errmsg(s->db));
		goto out;
	}
	staged = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (staged == 0) {
		if (tx_commit(s, &tx, e) < 0)
			goto out;
		*version = latest;
		return 0;
	}
	for (i = 0; i < sizeof(writes) / sizeof(writes[0]); i++) {
		if (store_prepare(s, &st, writes[i], e) < 0)
			goto out;
		sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, latest);
		sqlite3_bind_int(st, 3, latest + 1);
		/* A statement without some ?N just answers SQLITE_RANGE. */
		sqlite3_bind_int64(st, 4, wall_ms());
		if (step_done(s, st, e) < 0)
			goto out;
		sqlite3_finalize(st);
		st = NULL;
	}
	if (tx_commit(s, &tx, e) < 0)
		goto out;
	*version = latest + 1;
	ret = 0;
out:
	sqlite3_finalize(st);
	if (ret < 0)
		tx_rollback(s, &tx);
	return ret;
}

int
secrets_env(struct store *s, const struct secrets_key *key, const char *app,
    int version, struct cfg_env **envp, size_t *np, struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct cfg_env *env = NULL;
	size_t n = 0, cap = 0;
	struct tx tx;
	int rc, ret = -1;

	*envp = NULL;
	*np = 0;
	if (sodium_ready(e) < 0 || check_app(app, e) < 0)
		return -1;
	if (version < 0)
		return err_setk(e, ERR_INVALID, "secrets version %d of app "
		    "'%s' is not valid", version, app);
	if (version == 0)
		return 0;	/* a release made before any secret was set */
	if (tx_begin(s, &tx, TX_READ, e) < 0)
		return -1;
	if (store_prepare(s, &st, "SELECT 1 FROM secret_versions WHERE "
	    "app = ?1 AND version = ?2", e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, version);
	if ((rc = sqlite3_step(st)) != SQLITE_ROW) {
		if (rc == SQLITE_DONE)
			err_setk(e, ERR_NOT_FOUND, "app '%s' has no secrets "
			    "version %d", app, version);
		else
			err_set(e, "store '%s': %s", s->path,
			    sqlite3_errmsg(s->db));
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (store_prepare(s, &st, "SELECT name, sealed FROM secret_values "
	    "WHERE app = ?1 AND version = ?2 ORDER BY name", e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, app, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, version);
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);
		const unsigned char *sealed = sqlite3_column_blob(st, 1);
		size_t len = (size_t)sqlite3_column_bytes(st, 1);
		char *value;

		if (secret_open(key, app, version, name, sealed, len, &value,
		    e) < 0)
			goto out;
		if (n == cap) {
			cap = cap ? 2 * cap : 8;
			env = xreallocarray(env, cap, sizeof(*env));
		}
		env[n].key = xstrdup(name);
		env[n].value = value;
		n++;
	}
	if (rc != SQLITE_DONE) {
		err_set(e, "store '%s': %s", s->path, sqlite3_errmsg(s->db));
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (tx_commit(s, &tx, e) < 0)
		goto out;
	*envp = env;
	*np = n;
	env = NULL;
	n = 0;
	ret = 0;
out:
	sqlite3_finalize(st);
	if (ret < 0)
		tx_rollback(s, &tx);
	secrets_env_free(env, n);
	return ret;
}

void
secrets_env_free(struct cfg_env *env, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (env[i].value != NULL) {
			sodium_memzero(env[i].value, strlen(env[i].value));
			free(env[i].value);
		}
		free(env[i].key);
	}
	free(env);
}
