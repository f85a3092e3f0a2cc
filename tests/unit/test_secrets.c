/* Secrets: the key, staging, frozen versions, sealing, and what never reaches disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <ftw.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/util.h"
#include "deploy/secrets.h"
#include "store/store.h"

static char dir[64];
static char dbpath[128];
static struct store st;
static struct secrets_key key;

static int
rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *f)
{
	(void)sb;
	(void)flag;
	(void)f;
	return remove(p);
}

static int
setup(void **state)
{
	struct err e;

	(void)state;
	unsetenv(SECRETS_KEY_ENV);
	strcpy(dir, "/tmp/opsdeck-secrets-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(dbpath, sizeof(dbpath), "%s/opsdeck.db", dir);
	if (store_open(&st, dbpath, &e) < 0) {
		fprintf(stderr, "%s\n", e.msg);
		return -1;
	}
	if (sodium_init() < 0)
		return -1;
	randombytes_buf(key.k, sizeof(key.k));
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	store_close(&st);
	unsetenv(SECRETS_KEY_ENV);
	nftw(dir, rm_entry, 8, FTW_DEPTH | FTW_PHYS);
	return 0;
}

static void
write_file(const char *path, const void *data, size_t len, mode_t mode)
{
	FILE *f;

	unlink(path);
	f = fopen(path, "w");
	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	assert_int_equal(chmod(path, mode), 0);
}

/* The file's bytes, or an empty buffer when it does not exist. */
static void
slurp(const char *path, struct buf *b)
{
	struct err e;

	buf_reset(b);
	if (access(path, F_OK) == 0)
		assert_int_equal(file_read(path, 64 << 20, b, &e), 0);
}

static void
assert_not_in_file(const char *path, const char *needle)
{
	struct buf b = BUF_INIT;

	slurp(path, &b);
	if (b.len > 0 && memmem(b.data, b.len, needle, strlen(needle)) != NULL)
		fail_msg("'%s' contains '%s'", path, needle);
	buf_release(&b);
}

/* The row of name in a secrets_list result, or NULL. */
static json_t *
row_of(json_t *list, const char *name)
{
	json_t *row;
	size_t i;

	json_array_foreach(json_object_get(list, "secrets"), i, row)
		if (strcmp(json_str(row, "name"), name) == 0)
			return row;
	return NULL;
}

static void
assert_state(json_t *list, const char *name, const char *state)
{
	json_t *row = row_of(list, name);

	if (row == NULL)
		fail_msg("'%s' is not listed", name);
	assert_string_equal(json_str(row, "state"), state);
}

static json_t *
list(const char *app)
{
	struct err e;
	json_t *l = secrets_list(&st, app, &e);

	if (l == NULL)
		fail_msg("secrets_list: %s", e.msg);
	return l;
}

static void
set(const char *app, const char *name, const char *value)
{
	struct err e;

	if (secrets_stage_set(&st, &key, app, name, value, &e) < 0)
		fail_msg("secrets_stage_set %s: %s", name, e.msg);
}

static int
freeze(const char *app)
{
	struct err e;
	int v = -1;

	if (secrets_freeze(&st, app, &v, &e) < 0)
		fail_msg("secrets_freeze: %s", e.msg);
	return v;
}

/* The value of name in env[0..n), or NULL. */
static const char *
env_get(struct cfg_env *env, size_t n, const char *name)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (strcmp(env[i].key, name) == 0)
			return env[i].value;
	return NULL;
}

static void
test_key_created_0600_and_reused(void **state)
{
	struct secrets_key a, b;
	struct stat sb;
	struct err e;
	char path[192];

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, SECRETS_KEY_FILE);
	assert_int_equal(secrets_key_load(dir, &a, &e), 0);
	assert_int_equal(stat(path, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_int_equal(sb.st_size, 32);
	assert_false(sodium_is_zero(a.k, sizeof(a.k)));
	assert_int_equal(secrets_key_load(dir, &b, &e), 0);
	assert_memory_equal(a.k, b.k, sizeof(a.k));
	/* A read-only key file is fine too: only group/other access is refused. */
	assert_int_equal(chmod(path, 0400), 0);
	assert_int_equal(secrets_key_load(dir, &b, &e), 0);
	assert_memory_equal(a.k, b.k, sizeof(a.k));
	secrets_key_release(&b);
	assert_true(sodium_is_zero(b.k, sizeof(b.k)));
}

/* Processes that start at once all end up with the one key that was linked in. */
static void
test_key_creation_race(void **state)
{
	struct secrets_key mine, theirs;
	struct dirent *d;
	int fds[2], status, i, files = 0;
	pid_t pids[8];
	struct err e;
	DIR *dp;

	(void)state;
	assert_int_equal(pipe(fds), 0);
	for (i = 0; i < 8; i++) {
		if ((pids[i] = fork()) == 0) {
			struct secrets_key k;

			if (secrets_key_load(dir, &k, &e) < 0)
				_exit(1);
			_exit(write(fds[1], k.k, sizeof(k.k)) == sizeof(k.k) ?
			    0 : 2);
		}
		assert_true(pids[i] > 0);
	}
	close(fds[1]);
	for (i = 0; i < 8; i++) {
		assert_int_equal(waitpid(pids[i], &status, 0), pids[i]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	assert_int_equal(secrets_key_load(dir, &mine, &e), 0);
	for (i = 0; i < 8; i++) {
		assert_int_equal(read(fds[0], theirs.k, sizeof(theirs.k)),
		    sizeof(theirs.k));
		assert_memory_equal(mine.k, theirs.k, sizeof(mine.k));
	}
	close(fds[0]);
	/* No temp files are left beside it. */
	assert_non_null(dp = opendir(dir));
	while ((d = readdir(dp)) != NULL)
		if (strncmp(d->d_name, SECRETS_KEY_FILE,
		    strlen(SECRETS_KEY_FILE)) == 0)
			files++;
	closedir(dp);
	assert_int_equal(files, 1);
}

static void
test_key_from_env(void **state)
{
	static const char *const bad[] = {
		"", "00", "zz00000000000000000000000000000000000000000000000000"
		"000000000000",
		"000102030405060708090a0b0c0d0e0f"
		"101112131415161718191a1b1c1d1e1f00",
	};
	char hex[65], path[192];
	struct secrets_key k;
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < 32; i++)
		snprintf(hex + 2 * i, 3, "%02x", (unsigned)i);
	setenv(SECRETS_KEY_ENV, hex, 1);
	assert_int_equal(secrets_key_load(dir, &k, &e), 0);
	for (i = 0; i < 32; i++)
		assert_int_equal(k.k[i], i);
	snprintf(path, sizeof(path), "%s/%s", dir, SECRETS_KEY_FILE);
	assert_int_not_equal(access(path, F_OK), 0);	/* no file made */
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv(SECRETS_KEY_ENV, bad[i], 1);
		assert_int_equal(secrets_key_load(dir, &k, &e), -1);
		assert_non_null(strstr(e.msg, SECRETS_KEY_ENV));
		assert_non_null(strstr(e.msg, "64 hex"));
		if (strlen(bad[i]) > 4)
			assert_null(strstr(e.msg, bad[i]));
	}
}

static void
test_key_file_refused(void **state)
{
	unsigned char raw[40] = { 1 };
	struct secrets_key k;
	struct err e;
	char path[192];

	(void)state;
	snprintf(path, sizeof(path), "%s/%s", dir, SECRETS_KEY_FILE);
	write_file(path, raw, 32, 0644);
	assert_int_equal(secrets_key_load(dir, &k, &e), -1);
	assert_non_null(strstr(e.msg, path));
	assert_non_null(strstr(e.msg, "0644"));
	assert_non_null(strstr(e.msg, "chmod 600"));
	write_file(path, raw, 32, 0640);
	assert_int_equal(secrets_key_load(dir, &k, &e), -1);
	assert_non_null(strstr(e.msg, "chmod 600"));

	write_file(path, raw, 16, 0600);
	assert_int_equal(secrets_key_load(dir, &k, &e), -1);
	assert_non_null(strstr(e.msg, path));
	assert_non_null(strstr(e.msg, "16 bytes, expected 32"));
	write_file(path, raw, 33, 0600);
	assert_int_equal(secrets_key_load(dir, &k, &e), -1);
	assert_non_null(strstr(e.msg, "more than 32 bytes"));
	write_file(path, raw, 0, 0600);
	assert_int_equal(secrets_key_load(dir, &k, &e), -1);
	assert_non_null(strstr(e.msg, "0 bytes"));

	/* A refused file is never replaced by a new key. */
	write_file(path, raw, 32, 0600);
	assert_int_equal(secrets_key_load(dir, &k, &e), 0);
	assert_memory_equal(k.k, raw, 32);
}

static void
test_set_list_unset_freeze(void **state)
{
	struct err e;
	json_t *l;
	char *dump;
	int v = -1;

	(void)state;
	/* Nothing yet: version 0, empty list, freeze is a no-op. */
	l = list("web");
	assert_int_equal(json_int(l, "version", -1), 0);
	assert_int_equal(json_array_size(json_object_get(l, "secrets")), 0);
	json_decref(l);
	assert_int_equal(freeze("web"), 0);

	set("web", "DATABASE_URL", "postgres://u:pw-one@db/app");
	set("web", "API_TOKEN", "tok-one");
	l = list("web");
	assert_int_equal(json_int(l, "version", -1), 0);
	assert_int_equal(json_array_size(json_object_get(l, "secrets")), 2);
	/* Sorted by name. */
	assert_string_equal(json_str(json_array_get(json_object_get(l,
	    "secrets"), 0), "name"), "API_TOKEN");
	assert_state(l, "API_TOKEN", "staged");
	assert_state(l, "DATABASE_URL", "staged");
	assert_int_equal(strlen(json_str(row_of(l, "API_TOKEN"), "digest")),
	    SECRETS_DIGEST_SHOWN);
	dump = json_dumps(l, 0);
	assert_null(strstr(dump, "tok-one"));
	assert_null(strstr(dump, "pw-one"));
	free(dump);
	json_decref(l);

	assert_int_equal(freeze("web"), 1);
	l = list("web");
	assert_int_equal(json_int(l, "version", -1), 1);
	assert_state(l, "API_TOKEN", "deployed");
	assert_state(l, "DATABASE_URL", "deployed");
	json_decref(l);
	/* Nothing staged: the latest version again, no new one. */
	assert_int_equal(freeze("web"), 1);

	/* Change one, remove one, add one. */
	set("web", "API_TOKEN", "tok-two");
	assert_int_equal(secrets_stage_unset(&st, "web", "DATABASE_URL", &e),
	    0);
	set("web", "SMTP_PASSWORD", "smtp-one");
	l = list("web");
	assert_int_equal(json_int(l, "version", -1), 1);
	assert_int_equal(json_array_size(json_object_get(l, "secrets")), 3);
	assert_state(l, "API_TOKEN", "staged");
	assert_state(l, "DATABASE_URL", "staged-unset");
	assert_state(l, "SMTP_PASSWORD", "staged");
	/* A staged unset still shows the deployed digest. */
	assert_non_null(json_str(row_of(l, "DATABASE_URL"), "digest"));
	json_decref(l);

	assert_int_equal(freeze("web"), 2);
	l = list("web");
	assert_int_equal(json_int(l, "version", -1), 2);
	assert_int_equal(json_array_size(json_object_get(l, "secrets")), 2);
	assert_null(row_of(l, "DATABASE_URL"));
	assert_state(l, "API_TOKEN", "deployed");
	assert_state(l, "SMTP_PASSWORD", "deployed");
	json_decref(l);

	/* Unknown names are not found; a staged set that was never deployed is dropped. */
	assert_int_equal(secrets_stage_unset(&st, "web", "DATABASE_URL", &e),
	    -1);
	assert_int_equal(e.kind, ERR_NOT_FOUND);
	assert_non_null(strstr(e.msg, "'DATABASE_URL'"));
	assert_non_null(strstr(e.msg, "'web'"));
	assert_int_equal(secrets_stage_unset(&st, "web", "NEVER_SET", &e), -1);
	assert_int_equal(e.kind, ERR_NOT_FOUND);
	set("web", "TEMP", "x");
	assert_int_equal(secrets_stage_unset(&st, "web", "TEMP", &e), 0);
	l = list("web");
	assert_null(row_of(l, "TEMP"));
	json_decref(l);
	assert_int_equal(secrets_freeze(&st, "web", &v, &e), 0);
	assert_int_equal(v, 2);

	/* Apps are separate. */
	l = list("api");
	assert_int_equal(json_int(l, "version", -1), 0);
	assert_int_equal(json_array_size(json_object_get(l, "secrets")), 0);
	json_decref(l);
}

static void
test_env_returns_the_requested_version(void **state)
{
	struct cfg_env *env;
	struct err e;
	size_t n;

	(void)state;
	set("web", "A", "a-one");
	set("web", "B", "b-one");
	assert_int_equal(freeze("web"), 1);
	set("web", "B", "b-two");
	set("web", "C", "");	/* an empty value is a value */
	assert_int_equal(secrets_stage_unset(&st, "web", "A", &e), 0);
	assert_int_equal(freeze("web"), 2);
	set("web", "B", "b-staged");	/* staged: in no version yet */

	assert_int_equal(secrets_env(&st, &key, "web", 1, &env, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_string_equal(env[0].key, "A");
	assert_string_equal(env_get(env, n, "A"), "a-one");
	assert_string_equal(env_get(env, n, "B"), "b-one");
	secrets_env_free(env, n);

	assert_int_equal(secrets_env(&st, &key, "web", 2, &env, &n, &e), 0);
	assert_int_equal(n, 2);
	assert_null(env_get(env, n, "A"));
	assert_string_equal(env_get(env, n, "B"), "b-two");
	assert_string_equal(env_get(env, n, "C"), "");
	secrets_env_free(env, n);

	assert_int_equal(secrets_env(&st, &key, "web", 0, &env, &n, &e), 0);
	assert_int_equal(n, 0);
	assert_null(env);

	assert_int_equal(secrets_env(&st, &key, "web", 3, &env, &n, &e), -1);
	assert_int_equal(e.kind, ERR_NOT_FOUND);
	assert_non_null(strstr(e.msg, "version 3"));
	assert_int_equal(secrets_env(&st, &key, "api", 1, &env, &n, &e), -1);
	assert_int_equal(e.kind, ERR_NOT_FOUND);
}

static void
test_plaintext_never_on_disk(void **state)
{
	static const char value[] = "hunter2-Pl41nT3xt-never-on-disk";
	char wal[160], sha[65];
	struct err e;

	(void)state;
	sha256_hex(value, strlen(value), sha);
	set("web", "PASSWORD", value);
	assert_not_in_file(dbpath, value);
	snprintf(wal, sizeof(wal), "%s-wal", dbpath);
	assert_not_in_file(wal, value);
	assert_int_equal(freeze("web"), 1);
	set("web", "PASSWORD2", value);
	assert_int_equal(secrets_stage_unset(&st, "web", "PASSWORD", &e), 0);
	assert_int_equal(freeze("web"), 2);
	assert_not_in_file(dbpath, value);
	assert_not_in_file(wal, value);
	/* Nor its unkeyed SHA-256, which would give a guessable value away. */
	assert_not_in_file(dbpath, sha);
	assert_not_in_file(wal, sha);
	/* After a checkpoint everything is in the main file. */
	store_close(&st);
	assert_not_in_file(dbpath, value);
	assert_not_in_file(dbpath, sha);
	assert_not_in_file(wal, value);
	assert_int_equal(store_open(&st, dbpath, &e), 0);
}

static void
test_swapped_blobs_do_not_open(void **state)
{
	struct secrets_key other;
	struct cfg_env *env;
	struct err e;
	size_t n;

	(void)state;
	set("web", "A", "value-a");
	set("web", "B", "value-b");
	set("api", "A", "api-a");
	assert_int_equal(freeze("web"), 1);
	assert_int_equal(freeze("api"), 1);
	assert_int_equal(secrets_env(&st, &key, "web", 1, &env, &n, &e), 0);
	secrets_env_free(env, n);

	/* Another key: nothing opens, and the message names the app and the secret. */
	randombytes_buf(other.k, sizeof(other.k));
	assert_int_equal(secrets_env(&st, &other, "web", 1, &env, &n, &e), -1);
	assert_non_null(strstr(e.msg, "'web'"));
	assert_non_null(strstr(e.msg, "'A'"));
	assert_null(env);
	assert_int_equal(n, 0);

	/* Swap the sealed values of A and B within web. */
	assert_int_equal(store_exec(&st,
	    "UPDATE secret_values SET sealed = CASE name "
	    "  WHEN 'A' THEN (SELECT sealed FROM secret_values WHERE "
	    "    app = 'web' AND version = 1 AND name = 'B') "
	    "  ELSE (SELECT sealed FROM secret_values WHERE "
	    "    app = 'web' AND version = 1 AND name = 'A') END "
	    "WHERE app = 'web' AND version = 1", &e), 0);
	assert_int_equal(secrets_env(&st, &key, "web", 1, &env, &n, &e), -1);
	assert_non_null(strstr(e.msg, "secret 'A' of app 'web'"));
	assert_non_null(strstr(e.msg, "cannot be decrypted"));
	assert_null(strstr(e.msg, "value-"));

	/* Move web's B into api's A: same name, other app. */
	assert_int_equal(store_exec(&st,
	    "UPDATE secret_values SET sealed = (SELECT sealed FROM "
	    "  secret_values WHERE app = 'web' AND name = 'A') "
	    "WHERE app = 'api' AND name = 'A'", &e), 0);
	assert_int_equal(secrets_env(&st, &key, "api", 1, &env, &n, &e), -1);
	assert_non_null(strstr(e.msg, "secret 'A' of app 'api'"));

	/* A truncated blob is reported as damaged, not read past its end. */
	assert_int_equal(store_exec(&st, "UPDATE secret_values SET sealed = "
	    "x'0102' WHERE app = 'api'", &e), 0);
	assert_int_equal(secrets_env(&st, &key, "api", 1, &env, &n, &e), -1);
	assert_non_null(strstr(e.msg, "damaged"));
}

static void
test_name_validation(void **state)
{
	static const char *const good[] = { "A", "_", "_X", "DB_URL2", "A1_B" };
	static const char *const bad[] = {
		"", "1A", "a", "Db", "DB-URL", "A B", "A=B", "ÄB", "A\tB",
	};
	char longname[SECRETS_NAME_MAX + 2];
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		assert_true(secrets_name_valid(good[i]));
		set("web", good[i], "v");
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_false(secrets_name_valid(bad[i]));
		assert_int_equal(secrets_stage_set(&st, &key, "web", bad[i],
		    "v", &e), -1);
		assert_int_equal(e.kind, ERR_INVALID);
		assert_int_equal(secrets_stage_unset(&st, "web", bad[i], &e),
		    -1);
		assert_int_equal(e.kind, ERR_INVALID);
	}
	assert_int_equal(secrets_stage_set(&st, &key, "web", "db-url", "v",
	    &e), -1);
	assert_non_null(strstr(e.msg, "'db-url'"));
	assert_non_null(strstr(e.msg, "environment variable"));

	memset(longname, 'A', SECRETS_NAME_MAX);
	longname[SECRETS_NAME_MAX] = '\0';
	assert_true(secrets_name_valid(longname));
	set("web", longname, "v");
	longname[SECRETS_NAME_MAX] = 'A';
	longname[SECRETS_NAME_MAX + 1] = '\0';
	assert_false(secrets_name_valid(longname));
	assert_int_equal(secrets_stage_set(&st, &key, "web", longname, "v",
	    &e), -1);
	assert_non_null(strstr(e.msg, "256 bytes"));

	/* The app name is checked too. */
	assert_int_equal(secrets_stage_set(&st, &key, "Web App", "A", "v",
	    &e), -1);
	assert_int_equal(e.kind, ERR_INVALID);
	assert_null(secrets_list(&st, "../x", &e));
	assert_int_equal(e.kind, ERR_INVALID);
}

static void
test_value_size_cap(void **state)
{
	char *v = malloc(SECRETS_VALUE_MAX + 2);
	struct cfg_env *env;
	struct err e;
	size_t n;

	(void)state;
	memset(v, 'q', SECRETS_VALUE_MAX);
	v[SECRETS_VALUE_MAX] = '\0';
	set("web", "BIG", v);
	v[SECRETS_VALUE_MAX] = 'q';
	v[SECRETS_VALUE_MAX + 1] = '\0';
	assert_int_equal(secrets_stage_set(&st, &key, "web", "TOO_BIG", v,
	    &e), -1);
	assert_int_equal(e.kind, ERR_INVALID);
	assert_non_null(strstr(e.msg, "'TOO_BIG'"));
	assert_non_null(strstr(e.msg, "65537 bytes"));
	assert_null(strstr(e.msg, "qqqq"));
	assert_int_equal(freeze("web"), 1);
	assert_int_equal(secrets_env(&st, &key, "web", 1, &env, &n, &e), 0);
	assert_int_equal(n, 1);
	assert_int_equal(strlen(env[0].value), SECRETS_VALUE_MAX);
	secrets_env_free(env, n);
	free(v);
}

static void
test_digest_is_keyed(void **state)
{
	struct secrets_key first = key;
	char d1[16], d2[16], d3[16], sha[65];
	json_t *l;

	(void)state;
	set("web", "A", "same");
	set("web", "B", "same");
	set("web", "C", "other");
	l = list("web");
	snprintf(d1, sizeof(d1), "%s", json_str(row_of(l, "A"), "digest"));
	assert_string_equal(d1, json_str(row_of(l, "B"), "digest"));
	assert_string_not_equal(d1, json_str(row_of(l, "C"), "digest"));
	json_decref(l);
	sha256_hex("same", 4, sha);
	assert_memory_not_equal(d1, sha, SECRETS_DIGEST_SHOWN);

	randombytes_buf(key.k, sizeof(key.k));
	set("web", "A", "same");
	l = list("web");
	snprintf(d2, sizeof(d2), "%s", json_str(row_of(l, "A"), "digest"));
	json_decref(l);
	assert_string_not_equal(d1, d2);
	key = first;
	set("web", "A", "same");	/* a new nonce, the same digest */
	l = list("web");
	snprintf(d3, sizeof(d3), "%s", json_str(row_of(l, "A"), "digest"));
	json_decref(l);
	assert_string_equal(d1, d3);
}

static void
test_freeze_joins_callers_transaction(void **state)
{
	struct err e;
	json_t *l;

	(void)state;
	set("web", "A", "a");
	assert_int_equal(store_begin(&st, &e), 0);
	assert_int_equal(freeze("web"), 1);
	store_rollback(&st);	/* the caller's release insert failed */
	l = list("web");
	assert_int_equal(json_int(l, "version", -1), 0);
	assert_state(l, "A", "staged");
	json_decref(l);

	assert_int_equal(store_begin(&st, &e), 0);
	assert_int_equal(freeze("web"), 1);
	assert_int_equal(store_commit(&st, &e), 0);
	l = list("web");
	assert_int_equal(json_int(l, "version", -1), 1);
	assert_state(l, "A", "deployed");
	json_decref(l);
}

/* .env lines as editors and Windows write them. */
static void
test_env_line(void **state)
{
	static const struct {
		const char *in, *out;	/* out NULL: nothing to set */
	} cases[] = {
		{ "A=1\n", "A=1" },
		{ "A=1\r\n", "A=1" },
		{ "export A=\"two words\"\r\n", "A=two words" },
		{ "  B='x=y'\n", "B=x=y" },
		{ "C=\"unclosed\n", "C=\"unclosed" },
		{ "D=\"mixed'\n", "D=\"mixed'" },
		{ "E=\"\"\n", "E=" },
		{ "F=\"a\\\"b\"\n", "F=a\\\"b" },
		{ "# a comment\n", NULL },
		{ "   \r\n", NULL },
		{ "\n", NULL },
	};
	char buf[64];
	const char *got;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		snprintf(buf, sizeof(buf), "%s", cases[i].in);
		got = secrets_env_line(buf);
		if (cases[i].out == NULL)
			assert_null(got);
		else
			assert_string_equal(got, cases[i].out);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
		T(test_key_created_0600_and_reused),
		T(test_key_creation_race),
		T(test_key_from_env),
		T(test_key_file_refused),
		T(test_set_list_unset_freeze),
		T(test_env_returns_the_requested_version),
		T(test_plaintext_never_on_disk),
		T(test_swapped_blobs_do_not_open),
		T(test_name_validation),
		T(test_value_size_cap),
		T(test_digest_is_keyed),
		T(test_freeze_joins_callers_transaction),
		cmocka_unit_test(test_env_line),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
