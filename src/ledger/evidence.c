/*
 * The evidence ledger (see evidence.h). Entries live in the store's evidence table;
 * the canonical form is rebuilt from its columns by one function, entry_json, for
 * appending, sealing, listing and exporting alike, so all four hash the same bytes.
 */
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "core/buf.h"
#include "core/keyfile.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "ledger/evidence.h"

#define HASH_HEX	(crypto_hash_sha256_BYTES * 2 + 1)
#define SIG_HEX		(crypto_sign_BYTES * 2 + 1)
#define EXPORT_VERSION	1
#define KEY_WHAT	"evidence signing key"
#define KEY_LOST	"entries signed with the old key then verify only " \
			"against its public key"

static const char zero_hash[HASH_HEX] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static const char *const via_names[] = {
	[VIA_SYSTEM] = "system",
	[VIA_CLI] = "cli",
	[VIA_API] = "api",
	[VIA_MCP] = "mcp",
	[VIA_DASHBOARD] = "dashboard",
};

static const char *const outcome_names[] = {
	[OUTCOME_REQUESTED] = "requested",
	[OUTCOME_OK] = "ok",
	[OUTCOME_FAILED] = "failed",
	[OUTCOME_DENIED] = "denied",
	[OUTCOME_PENDING] = "pending",
};

const char *
via_str(enum via v)
{
	return via_names[v];
}

int
via_parse(const char *s, enum via *v)
{
	int i = str_index(s, via_names, sizeof(via_names) / sizeof(via_names[0]));

	if (i < 0)
		return -1;
	*v = (enum via)i;
	return 0;
}

const char *
outcome_str(enum outcome o)
{
	return outcome_names[o];
}

/* ---- the signing key ---------------------------------------------------------- */

/* The key of the one state dir a process signs for, read once. */
static pthread_mutex_t key_lock = PTHREAD_MUTEX_INITIALIZER;
static char *key_path;
static unsigned char key_sk[crypto_sign_SECRETKEYBYTES];

static int
key_load(const char *path, unsigned char sk[crypto_sign_SECRETKEYBYTES],
    struct err *e)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], seed[crypto_sign_SEEDBYTES];
	unsigned char check[crypto_sign_SECRETKEYBYTES];
	int r;

	if (sodium_init() < 0)
		return err_set(e, "libsodium failed to initialise");
	if ((r = keyfile_read(path, KEY_WHAT, KEY_LOST, sk,
	    crypto_sign_SECRETKEYBYTES, e)) < 0)
		return -1;
	if (r == 1) {
		crypto_sign_keypair(pk, sk);
		return keyfile_create(path, KEY_WHAT, KEY_LOST, sk,
		    crypto_sign_SECRETKEYBYTES, e);
	}
	/* libsodium's secret key is seed and public key: they must agree. */
	crypto_sign_ed25519_sk_to_seed(seed, sk);
	crypto_sign_seed_keypair(pk, check, seed);
	r = sodium_memcmp(check, sk, sizeof(check));
	sodium_memzero(seed, sizeof(seed));
	sodium_memzero(check, sizeof(check));
	if (r != 0) {
		sodium_memzero(sk, crypto_sign_SECRETKEYBYTES);
		return err_setk(e, ERR_INVALID, "%s '%s' is not an Ed25519 key: "
		    "restore it from a backup, or move it away to create a new "
		    "key (%s)", KEY_WHAT, path, KEY_LOST);
	}
	return 0;
}

static int
signing_key(struct store *s, unsigned char sk[crypto_sign_SECRETKEYBYTES],
    struct err *e)
{
	char *dir = path_dir(s->path);
	char *path = path_join(dir, EVIDENCE_KEY_FILE);
	int ret = 0;

	pthread_mutex_lock(&key_lock);
	if (key_path == NULL || strcmp(key_path, path) != 0) {
		if ((ret = key_load(path, key_sk, e)) == 0) {
			free(key_path);
			key_path = path;
			path = NULL;
		}
	}
	if (ret == 0)
		memcpy(sk, key_sk, sizeof(key_sk));
	pthread_mutex_unlock(&key_lock);
	free(path);
	free(dir);
	return ret;
}

static void
fingerprint(const unsigned char pk[crypto_sign_PUBLICKEYBYTES],
    char fp[EVIDENCE_FP_LEN])
{
	unsigned char h[crypto_hash_sha256_BYTES];
	char hex[17];

	crypto_hash_sha256(h, pk, crypto_sign_PUBLICKEYBYTES);
	sodium_bin2hex(hex, sizeof(hex), h, 8);
	snprintf(fp, EVIDENCE_FP_LEN, "ed25519:%s", hex);
}

int
evidence_pubkey(struct store *s, char hex[EVIDENCE_PUBKEY_HEX],
    char fp[EVIDENCE_FP_LEN], struct err *e)
{
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];

	if (signing_key(s, sk, e) < 0)
		return -1;
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	sodium_memzero(sk, sizeof(sk));
	sodium_bin2hex(hex, EVIDENCE_PUBKEY_HEX, pk, sizeof(pk));
	fingerprint(pk, fp);
	return 0;
}

/* ---- entries ------------------------------------------------------------------ */

/* A string for JSON: text that is not UTF-8 (a file name) keeps its shape, '?' for bad bytes. */
static json_t *
jtext(const char *s)
{
	json_t *j;
	char *copy;
	size_t i, n;

	if (s == NULL)
		return json_null();
	if ((j = json_string(s)) != NULL)
		return j;
	copy = xstrdup(s);
	for (i = 0; copy[i] != '\0'; i += n) {
		n = 1;
		if ((unsigned char)copy[i] < 0x80)
			continue;
		if ((n = utf8_seq((unsigned char *)copy + i, 4)) == 0) {
			copy[i] = '?';
			n = 1;
		}
	}
	j = json_string(copy);
	free(copy);
	return j != NULL ? j : json_string("?");
}

/* The columns an entry is made of, as the store holds them. */
struct entry_cols {
	int64_t		 seq;
	int64_t		 at;
	const char	*actor;
	const char	*role;
	const char	*via;
	const char	*action;
	const char	*target;
	const char	*args;		/* canonical JSON text, or NULL */
	const char	*outcome;
	const char	*detail;
	int64_t		 duration_ms;
	int64_t		 approval;
	const char	*prev;
};

#define ENTRY_SELECT "id, at, actor, role, via, action, target, args, result, " \
	"detail, duration_ms, approval_id, prev"
#define ENTRY_NCOLS 13

static void
entry_cols_read(sqlite3_stmt *st, struct entry_cols *c)
{
	c->seq = sqlite3_column_int64(st, 0);
	c->at = sqlite3_column_int64(st, 1);
	c->actor = (const char *)sqlite3_column_text(st, 2);
	c->role = (const char *)sqlite3_column_text(st, 3);
	c->via = (const char *)sqlite3_column_text(st, 4);
	c->action = (const char *)sqlite3_column_text(st, 5);
	c->target = (const char *)sqlite3_column_text(st, 6);
	c->args = (const char *)sqlite3_column_text(st, 7);
	c->outcome = (const char *)sqlite3_column_text(st, 8);
	c->detail = (const char *)sqlite3_column_text(st, 9);
	c->duration_ms = sqlite3_column_int64(st, 10);
	c->approval = sqlite3_column_int64(st, 11);
	c->prev = (const char *)sqlite3_column_text(st, 12);
}

/* The entry as an object, without hash and sig: the one shape that is hashed. */
static json_t *
entry_json(const struct entry_cols *c)
{
	json_t *args = NULL;
	char at[32];

	if (c->args != NULL && (args = json_loads(c->args, 0, NULL)) == NULL)
		args = json_string("(unreadable)");
	format_time(c->at, at);
	return json_pack("{sI ss so so so so so so* ss so sI so ss}",
	    "seq", (json_int_t)c->seq, "at", at,
	    "actor", jtext(c->actor), "role", jtext(c->role),
	    "via", jtext(c->via), "action", jtext(c->action),
	    "target", jtext(c->target), "args", args,
	    "outcome", c->outcome, "detail", jtext(c->detail),
	    "duration_ms", (json_int_t)c->duration_ms,
	    "approval", c->approval > 0 ?
	    json_integer(c->approval) : json_null(),
	    "prev", c->prev != NULL ? c->prev : zero_hash);
}

static char *
canonical(const json_t *j)
{
	char *s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);

	if (s == NULL)
		fatalx("evidence: cannot serialise an entry");
	return s;
}

/* hash = SHA-256(text), sig = Ed25519(hash bytes), both in hex. */
static void
sign_text(const unsigned char *sk, const char *text, char hash[HASH_HEX],
    char sig[SIG_HEX])
{
	unsigned char h[crypto_hash_sha256_BYTES], sg[crypto_sign_BYTES];

	crypto_hash_sha256(h, (const unsigned char *)text, strlen(text));
	crypto_sign_detached(sg, NULL, h, sizeof(h), sk);
	sodium_bin2hex(hash, HASH_HEX, h, sizeof(h));
	sodium_bin2hex(sig, SIG_HEX, sg, sizeof(sg));
}

/* The hash of the newest sealed entry before seq (zeros when none). */
static int
prev_hash(struct store *s, int64_t before, char out[HASH_HEX], struct err *e)
{
	sqlite3_stmt *st = NULL;
	int r, ret = -1;

	if (store_prepare(s, &st, "SELECT hash FROM evidence WHERE id < ? AND "
	    "hash IS NOT NULL ORDER BY id DESC LIMIT 1", e) < 0)
		return -1;
	sqlite3_bind_int64(st, 1, before);
	if ((r = sqlite3_step(st)) == SQLITE_ROW)
		snprintf(out, HASH_HEX, "%s", sqlite3_column_text(st, 0));
	else if (r == SQLITE_DONE)
		memcpy(out, zero_hash, HASH_HEX);
	else {
		err_set(e, "store: cannot read the evidence chain: %s",
		    sqlite3_errmsg(s->db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

/* Seals the entries an older store wrote without a hash, oldest first. */
static int
seal_pending(struct store *s, const unsigned char *sk, struct err *e)
{
	sqlite3_stmt *st = NULL, *up = NULL;
	struct entry_cols c;
	char prev[HASH_HEX], hash[HASH_HEX], sig[SIG_HEX];
	bool first = true;
	int r, ret = -1;

	/*
	 * Only an older store's entries, all before the first sealed one, are
	 * sealed: an entry without a hash after a sealed one was stripped of it,
	 * and signing it now would vouch for whatever it says.
	 */
	if (store_prepare(s, &st, "SELECT min(id) FROM evidence WHERE hash IS "
	    "NULL AND id > (SELECT min(id) FROM evidence WHERE hash IS NOT NULL)",
	    e) < 0)
		goto out;
	if (sqlite3_step(st) == SQLITE_ROW &&
	    sqlite3_column_type(st, 0) != SQLITE_NULL) {
		err_set(e, "evidence entry %lld in '%s' has lost its hash and "
		    "signature, after signed entries: the store was altered; keep "
		    "it for inspection and restore the state dir from a backup",
		    (long long)sqlite3_column_int64(st, 0), s->path);
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (store_prepare(s, &st, "SELECT " ENTRY_SELECT " FROM evidence WHERE "
	    "hash IS NULL ORDER BY id", e) < 0 ||
	    store_prepare(s, &up, "UPDATE evidence SET prev = ?, hash = ?, "
	    "sig = ? WHERE id = ?", e) < 0)
		goto out;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *j;
		char *text;

		entry_cols_read(st, &c);
		if (first && prev_hash(s, c.seq, prev, e) < 0)
			goto out;
		first = false;
		c.prev = prev;
		j = entry_json(&c);
		text = canonical(j);
		json_decref(j);
		sign_text(sk, text, hash, sig);
		free(text);
		sqlite3_reset(up);
		sqlite3_bind_text(up, 1, prev, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(up, 2, hash, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(up, 3, sig, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(up, 4, c.seq);
		if (sqlite3_step(up) != SQLITE_DONE) {
			err_set(e, "store: cannot seal evidence %lld: %s",
			    (long long)c.seq, sqlite3_errmsg(s->db));
			goto out;
		}
		memcpy(prev, hash, HASH_HEX);
	}
	if (r != SQLITE_DONE) {
		err_set(e, "store: cannot read evidence: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	sqlite3_finalize(up);
	return ret;
}

int
evidence_seal(struct store *s, struct err *e)
{
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	int ret;

	if (signing_key(s, sk, e) < 0)
		return -1;
	if (store_begin(s, e) < 0) {
		sodium_memzero(sk, sizeof(sk));
		return -1;
	}
	if ((ret = seal_pending(s, sk, e)) == 0)
		ret = store_commit(s, e);
	else
		store_rollback(s);
	sodium_memzero(sk, sizeof(sk));
	return ret;
}

static int
append_locked(struct store *s, const unsigned char *sk,
    const struct evidence_rec *rec, int64_t *seqp, struct err *e)
{
	sqlite3_stmt *st = NULL;
	struct entry_cols c;
	char prev[HASH_HEX], hash[HASH_HEX], sig[SIG_HEX];
	char *args = NULL, *text = NULL;
	json_t *j;
	int ret = -1;

	if (seal_pending(s, sk, e) < 0 || prev_hash(s, INT64_MAX, prev, e) < 0)
		return -1;
	if (store_prepare(s, &st, "SELECT coalesce(max(id), 0) + 1 FROM "
	    "evidence", e) < 0)
		return -1;
	if (sqlite3_step(st) != SQLITE_ROW) {
		err_set(e, "store: cannot read evidence: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	memset(&c, 0, sizeof(c));
	c.seq = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (rec->args != NULL)
		args = canonical(rec->args);
	c.at = wall_ms();
	c.actor = rec->actor;
	c.role = rec->role;
	c.via = via_str(rec->via);
	c.action = rec->action;
	c.target = rec->target;
	c.args = args;
	c.outcome = outcome_str(rec->outcome);
	c.detail = rec->detail;
	c.duration_ms = rec->duration_ms;
	c.approval = rec->approval;
	c.prev = prev;
	j = entry_json(&c);
	text = canonical(j);
	json_decref(j);
	sign_text(sk, text, hash, sig);
	if (store_prepare(s, &st, "INSERT INTO evidence (id, at, actor, role, "
	    "via, action, target, args, result, detail, duration_ms, "
	    "approval_id, prev, hash, sig) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, "
	    "?, ?, ?, ?, ?)", e) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, c.seq);
	sqlite3_bind_int64(st, 2, c.at);
	sqlite3_bind_text(st, 3, c.actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, c.role, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, c.via, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, c.action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, c.target, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, args, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, c.outcome, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 10, c.detail, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 11, c.duration_ms);
	if (c.approval > 0)
		sqlite3_bind_int64(st, 12, c.approval);
	sqlite3_bind_text(st, 13, prev, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, hash, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 15, sig, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE) {
		err_set(e, "store: cannot write evidence for %s: %s", rec->action,
		    sqlite3_errmsg(s->db));
		goto out;
	}
	if (seqp != NULL)
		*seqp = c.seq;
	ret = 0;
out:
	sqlite3_finalize(st);
	free(args);
	free(text);
	return ret;
}

int
evidence_append(struct store *s, const struct evidence_rec *rec, int64_t *seq,
    struct err *e)
{
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	bool own = sqlite3_get_autocommit(s->db) != 0;
	int ret = -1;

	sqlite3_int64 before = sqlite3_total_changes64(s->db);

	if (signing_key(s, sk, e) < 0)
		return -1;
	/* The chain's tip is read and extended in one write transaction. */
	if (own && store_begin(s, e) < 0)
		goto out;
	ret = append_locked(s, sk, rec, seq, e);
	if (own) {
		if (ret == 0)
			ret = store_commit(s, e);
		else
			store_rollback(s);
	}
out:
	s->evidence_changes += sqlite3_total_changes64(s->db) - before;
	sodium_memzero(sk, sizeof(sk));
	return ret;
}

/* An entry with its hash and sig, from a row of ENTRY_SELECT, hash, sig. */
static json_t *
row_json(sqlite3_stmt *st)
{
	struct entry_cols c;
	json_t *j;

	entry_cols_read(st, &c);
	j = entry_json(&c);
	json_object_set_new(j, "hash",
	    jtext((const char *)sqlite3_column_text(st, ENTRY_NCOLS)));
	json_object_set_new(j, "sig",
	    jtext((const char *)sqlite3_column_text(st, ENTRY_NCOLS + 1)));
	return j;
}

int
evidence_last(struct store *s, int64_t *seq, int64_t *at_ms, struct err *e)
{
	sqlite3_stmt *st = NULL;
	int ret = -1;

	*seq = *at_ms = 0;
	if (store_prepare(s, &st, "SELECT id, at FROM evidence ORDER BY id DESC "
	    "LIMIT 1", e) < 0)
		goto out;
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		*seq = sqlite3_column_int64(st, 0);
		*at_ms = sqlite3_column_int64(st, 1);
		break;
	case SQLITE_DONE:
		break;
	default:
		err_set(e, "store '%s': %s", s->path, sqlite3_errmsg(s->db));
		goto out;
	}
	ret = 0;
out:
	sqlite3_finalize(st);
	return ret;
}

json_t *
evidence_list(struct store *s, const char *actor, int64_t since_ms, int limit,
    struct err *e)
{
	sqlite3_stmt *st = NULL;
	char hex[EVIDENCE_PUBKEY_HEX], fp[EVIDENCE_FP_LEN];
	json_t *entries = json_array(), *out = NULL;
	size_t n;
	int r;

	if (evidence_pubkey(s, hex, fp, e) < 0)
		goto out;
	if (store_prepare(s, &st, "SELECT " ENTRY_SELECT ", hash, sig FROM "
	    "evidence WHERE (?1 IS NULL OR actor = ?1) AND at >= ?2 ORDER BY "
	    "id DESC LIMIT ?3", e) < 0)
		goto out;
	sqlite3_bind_text(st, 1, actor, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, since_ms);
	sqlite3_bind_int(st, 3, limit > 0 ? limit : -1);
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		json_array_append_new(entries, row_json(st));
	if (r != SQLITE_DONE) {
		err_set(e, "store: cannot read evidence: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	/* Read newest first (for the limit), shown oldest first. */
	n = json_array_size(entries);
	out = json_array();
	while (n-- > 0)
		json_array_append(out, json_array_get(entries, n));
	out = json_pack("{so ss}", "entries", out, "key", fp);
out:
	sqlite3_finalize(st);
	json_decref(entries);
	return out;
}

char *
evidence_export(struct store *s, int64_t since_ms, struct err *e)
{
	unsigned char sk[crypto_sign_SECRETKEYBYTES];
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	char pkhex[EVIDENCE_PUBKEY_HEX], fp[EVIDENCE_FP_LEN];
	char hash[HASH_HEX], sig[SIG_HEX], now[32];
	char last_hash[HASH_HEX];
	struct buf lines = BUF_INIT, out = BUF_INIT;
	sqlite3_stmt *st = NULL;
	int64_t first = 0, last = 0, count = 0;
	json_t *h;
	char *text, *ret = NULL;
	int r;

	if (evidence_seal(s, e) < 0 || signing_key(s, sk, e) < 0)
		return NULL;
	memcpy(last_hash, zero_hash, HASH_HEX);
	if (store_prepare(s, &st, "SELECT " ENTRY_SELECT ", hash, sig FROM "
	    "evidence WHERE id >= (SELECT coalesce(min(id), 0) FROM evidence "
	    "WHERE at >= ?) ORDER BY id", e) < 0)
		goto out;
	sqlite3_bind_int64(st, 1, since_ms);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_t *j = row_json(st);

		text = canonical(j);
		buf_addstr(&lines, text);
		buf_addch(&lines, '\n');
		free(text);
		last = json_integer_value(json_object_get(j, "seq"));
		if (count++ == 0)
			first = last;
		snprintf(last_hash, sizeof(last_hash), "%s",
		    json_string_value(json_object_get(j, "hash")));
		json_decref(j);
	}
	if (r != SQLITE_DONE) {
		err_set(e, "store: cannot read evidence: %s", sqlite3_errmsg(s->db));
		goto out;
	}
	crypto_sign_ed25519_sk_to_pk(pk, sk);
	sodium_bin2hex(pkhex, sizeof(pkhex), pk, sizeof(pk));
	fingerprint(pk, fp);
	format_time(wall_ms(), now);
	h = json_pack("{si ss ss sI sI sI ss ss}", "opsdeck_evidence",
	    EXPORT_VERSION, "key", fp, "pubkey", pkhex,
	    "first_seq", (json_int_t)first, "last_seq", (json_int_t)last,
	    "count", (json_int_t)count, "last_hash", last_hash,
	    "exported_at", now);
	text = canonical(h);
	sign_text(sk, text, hash, sig);
	free(text);
	json_object_set_new(h, "sig", json_string(sig));
	text = canonical(h);
	json_decref(h);
	buf_addstr(&out, text);
	buf_addch(&out, '\n');
	free(text);
	buf_add(&out, lines.data != NULL ? lines.data : "", lines.len);
	ret = buf_detach(&out);
out:
	sodium_memzero(sk, sizeof(sk));
	sqlite3_finalize(st);
	buf_release(&lines);
	buf_release(&out);
	return ret;
}

/* ---- verification ------------------------------------------------------------- */

/* One line of an export. */
struct vline {
	long		 line;
	json_t		*j;
	int64_t		 seq;
};

static int
problem(struct evidence_verdict *v, long line, int64_t seq, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static int
problem(struct evidence_verdict *v, long line, int64_t seq, const char *fmt, ...)
{
	va_list ap;

	v->line = line;
	v->seq = seq;
	va_start(ap, fmt);
	vsnprintf(v->problem, sizeof(v->problem), fmt, ap);
	va_end(ap);
	return 1;
}

static bool
hex_field(const json_t *j, const char *key, size_t bytes, unsigned char *out)
{
	const char *s = json_string_value(json_object_get(j, key));
	size_t got = 0;

	if (s == NULL || strlen(s) != bytes * 2 ||
	    strspn(s, "0123456789abcdef") != bytes * 2)
		return false;
	if (out != NULL && (sodium_hex2bin(out, bytes, s, bytes * 2, NULL, &got,
	    NULL) != 0 || got != bytes))
		return false;
	return true;
}

/*
 * Whether j's hash is the SHA-256 of j without hash and sig, and sig signs it. 0,
 * or 1 (hash) or 2 (sig) for the one that fails.
 */
static int
check_signed(const json_t *j, const char *hash_key,
    const unsigned char pk[crypto_sign_PUBLICKEYBYTES])
{
	unsigned char want[crypto_hash_sha256_BYTES], got[crypto_hash_sha256_BYTES];
	unsigned char sig[crypto_sign_BYTES];
	json_t *c = json_copy((json_t *)j);
	char *text;

	json_object_del(c, "sig");
	if (hash_key != NULL)
		json_object_del(c, hash_key);
	text = canonical(c);
	json_decref(c);
	crypto_hash_sha256(got, (const unsigned char *)text, strlen(text));
	free(text);
	if (hash_key != NULL && (!hex_field(j, hash_key, sizeof(want), want) ||
	    sodium_memcmp(want, got, sizeof(got)) != 0))
		return 1;
	if (!hex_field(j, "sig", sizeof(sig), sig) ||
	    crypto_sign_verify_detached(sig, got, sizeof(got), pk) != 0)
		return 2;
	return 0;
}

/*
 * Parses one line. A line that does not parse is named by its place: the header, or
 * the entry after seq `after` (0: the first).
 */
static int
parse_line(const char *p, size_t len, long line, int64_t after, json_t **out,
    struct evidence_verdict *v)
{
	char what[96];
	json_error_t je;

	if (after == INT64_MAX)
		after--;	/* a seq no entry can follow: name it all the same */
	if (line == 1)
		snprintf(what, sizeof(what), "the header");
	else if (after == 0)
		snprintf(what, sizeof(what), "the first entry");
	else
		snprintf(what, sizeof(what), "the entry after seq %lld "
		    "(seq %lld if none is missing)", (long long)after,
		    (long long)after + 1);
	*out = json_loadb(p, len, JSON_REJECT_DUPLICATES, &je);
	if (*out == NULL)
		return problem(v, line, line == 1 ? 0 : after + 1, "%s was "
		    "altered: the line is not JSON (column %d: %s)", what,
		    je.column, je.text);
	if (!json_is_object(*out)) {
		json_decref(*out);
		*out = NULL;
		return problem(v, line, line == 1 ? 0 : after + 1, "%s was "
		    "altered: the line is not a JSON object", what);
	}
	return 0;
}

static int
check_header(const json_t *h, const char *pubkey_hex,
    unsigned char pk[crypto_sign_PUBLICKEYBYTES], struct evidence_verdict *v)
{
	unsigned char given[crypto_sign_PUBLICKEYBYTES];
	char fp[EVIDENCE_FP_LEN], given_fp[EVIDENCE_FP_LEN];
	size_t got = 0;
	const char *key = json_string_value(json_object_get(h, "key"));

	if (json_integer_value(json_object_get(h, "opsdeck_evidence")) !=
	    EXPORT_VERSION)
		return problem(v, 1, 0, "not an opsdeck evidence export (its first "
		    "line has no \"opsdeck_evidence\": %d)", EXPORT_VERSION);
	if (!hex_field(h, "pubkey", crypto_sign_PUBLICKEYBYTES, pk))
		return problem(v, 1, 0, "the header's pubkey is not 64 hex "
		    "digits: the header was altered");
	fingerprint(pk, fp);
	snprintf(v->key, sizeof(v->key), "%s", fp);
	if (key == NULL || strcmp(key, fp) != 0)
		return problem(v, 1, 0, "the header names key '%s' but carries "
		    "the public key of %s: the header was altered",
		    key ? key : "", fp);
	if (pubkey_hex != NULL) {
		if (strlen(pubkey_hex) != 64 || sodium_hex2bin(given,
		    sizeof(given), pubkey_hex, 64, NULL, &got, NULL) != 0 ||
		    got != sizeof(given))
			return -2;
		fingerprint(given, given_fp);
		if (sodium_memcmp(given, pk, sizeof(given)) != 0)
			return problem(v, 1, 0, "signed by key %s, not by the key "
			    "given (%s): this export is not from that control "
			    "plane, or was re-signed", fp, given_fp);
	}
	if (check_signed(h, NULL, pk) != 0)
		return problem(v, 1, 0, "the header's signature does not match "
		    "it: the header was altered");
	if (!json_is_integer(json_object_get(h, "first_seq")) ||
	    !json_is_integer(json_object_get(h, "last_seq")) ||
	    !json_is_integer(json_object_get(h, "count")) ||
	    !hex_field(h, "last_hash", crypto_hash_sha256_BYTES, NULL))
		return problem(v, 1, 0, "the header lacks first_seq, last_seq, "
		    "count or last_hash");
	return 0;
}

/* The line holding seq, after index from; -1 when none. */
static long
line_of_seq(const struct vline *l, size_t n, size_t from, int64_t seq)
{
	size_t i;

	for (i = from; i < n; i++)
		if (l[i].seq == seq)
			return l[i].line;
	return -1;
}

static int
check_entries(const struct vline *l, size_t n, const json_t *h,
    const unsigned char *pk, struct evidence_verdict *v)
{
	int64_t first = json_integer_value(json_object_get(h, "first_seq"));
	int64_t last = json_integer_value(json_object_get(h, "last_seq"));
	int64_t count = json_integer_value(json_object_get(h, "count"));
	const char *last_hash = json_string_value(json_object_get(h, "last_hash"));
	const char *prev = NULL;
	int64_t want;
	size_t i;
	long at;
	int r;

	for (i = 0; i < n; i++) {
		const json_t *j = l[i].j;
		const char *p = json_string_value(json_object_get(j, "prev"));

		want = i == 0 ? first : l[i - 1].seq + 1;
		if (l[i].seq <= 0)
			return problem(v, l[i].line, 0, "the entry has no seq: "
			    "the line was altered");
		if ((r = check_signed(j, "hash", pk)) == 1)
			return problem(v, l[i].line, l[i].seq, "entry seq %lld "
			    "was altered: its contents do not match its hash",
			    (long long)l[i].seq);
		if (r == 2)
			return problem(v, l[i].line, l[i].seq, "entry seq %lld: "
			    "its signature is not the control plane's: the "
			    "entry was altered or forged", (long long)l[i].seq);
		if (l[i].seq != want) {
			if ((at = line_of_seq(l, n, i + 1, want)) > 0)
				return problem(v, l[i].line, want, "entry seq "
				    "%lld is out of order: it is on line %ld, "
				    "line %ld holds seq %lld: entries were "
				    "reordered", (long long)want, at, l[i].line,
				    (long long)l[i].seq);
			return problem(v, l[i].line, want, "entry seq %lld was "
			    "removed: line %ld holds seq %lld where it should "
			    "be", (long long)want, l[i].line,
			    (long long)l[i].seq);
		}
		if (p == NULL || (prev != NULL && strcmp(p, prev) != 0) ||
		    (prev == NULL && l[i].seq == 1 && strcmp(p, zero_hash) != 0))
			return problem(v, l[i].line, l[i].seq, "entry seq %lld "
			    "does not follow the entry before it (its prev hash "
			    "differs): the chain was altered",
			    (long long)l[i].seq);
		prev = json_string_value(json_object_get(j, "hash"));
	}
	if ((int64_t)n != count || (n > 0 && l[n - 1].seq != last)) {
		want = n > 0 ? l[n - 1].seq + 1 : first;
		return problem(v, n > 0 ? l[n - 1].line + 1 : 2, want, "entry "
		    "seq %lld was removed: the header says the export holds %lld "
		    "entries up to seq %lld, the file %zu", (long long)want,
		    (long long)count, (long long)last, n);
	}
	if (n > 0 && strcmp(prev, last_hash) != 0)
		return problem(v, l[n - 1].line, l[n - 1].seq, "entry seq %lld "
		    "is not the one the header ends with (its hash differs)",
		    (long long)l[n - 1].seq);
	return 0;
}

int
evidence_verify(const char *text, size_t len, const char *pubkey_hex,
    struct evidence_verdict *v, struct err *e)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES];
	struct vline *l = NULL;
	json_t *h = NULL;
	size_t n = 0, cap = 0, i;
	const char *p = text, *end = text + len, *nl;
	long line = 0;
	int ret = -1;

	memset(v, 0, sizeof(*v));
	if (sodium_init() < 0)
		return err_set(e, "libsodium failed to initialise");
	while (p < end) {
		json_t *j;

		nl = memchr(p, '\n', (size_t)(end - p));
		if (nl == NULL)
			nl = end;
		line++;
		if (nl == p) {
			ret = problem(v, line, 0, "an empty line: the file was "
			    "altered");
			goto out;
		}
		if ((ret = parse_line(p, (size_t)(nl - p), line,
		    n > 0 ? l[n - 1].seq : 0, &j, v)) != 0)
			goto out;
		p = nl + 1;
		if (h == NULL) {
			h = j;
			continue;
		}
		if (n == cap) {
			cap = cap ? cap * 2 : 256;
			l = xreallocarray(l, cap, sizeof(*l));
		}
		l[n].line = line;
		l[n].j = j;
		l[n].seq = json_is_integer(json_object_get(j, "seq")) ?
		    json_integer_value(json_object_get(j, "seq")) : 0;
		n++;
	}
	if (h == NULL) {
		ret = problem(v, 1, 0, "the file is empty: an export starts with "
		    "its header line");
		goto out;
	}
	if ((ret = check_header(h, pubkey_hex, pk, v)) == -2) {
		ret = err_setk(e, ERR_INVALID, "--pubkey '%s' is not a public key: "
		    "give the 64 hex digits `opsdeck evidence key` prints",
		    pubkey_hex);
		goto out;
	}
	if (ret != 0)
		goto out;
	v->first_seq = json_integer_value(json_object_get(h, "first_seq"));
	v->last_seq = json_integer_value(json_object_get(h, "last_seq"));
	v->entries = (int64_t)n;
	ret = check_entries(l, n, h, pk, v);
out:
	for (i = 0; i < n; i++)
		json_decref(l[i].j);
	free(l);
	json_decref(h);
	return ret;
}
