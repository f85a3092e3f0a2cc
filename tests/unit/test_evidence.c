/*
 * The evidence ledger: entries chain and sign, an export verifies offline, and each
 * way of tampering with one (a changed byte, a removed, reordered or re-signed line,
 * a forged key) is caught and named by its entry.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>
#include <sodium.h>

#include "core/util.h"
#include "core/xmalloc.h"
#include "ledger/evidence.h"
#include "store/store.h"

static char dir[64];
static char path[256];
static struct store st;

static int
setup(void **state)
{
	struct err e;

	(void)state;
	strcpy(dir, "/tmp/opsdeck-evidence-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	snprintf(path, sizeof(path), "%s/opsdeck.db", dir);
	return store_open(&st, path, &e);
}

static int
teardown(void **state)
{
	char cmd[128];

	(void)state;
	store_close(&st);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

static void
append(const char *actor, const char *action, enum outcome o, const char *args)
{
	struct evidence_rec rec = { actor, "operator", VIA_CLI, action, "web-1",
	    NULL, o, NULL, 3, 0 };
	json_t *a = args != NULL ? json_loads(args, 0, NULL) : NULL;
	struct err e;
	int64_t seq;

	rec.args = a;
	assert_int_equal(evidence_append(&st, &rec, &seq, &e), 0);
	assert_true(seq > 0);
	json_decref(a);
}

/* The export's lines, as an array of strings the test can change. */
struct lines {
	char	**l;
	size_t	  n;
};

static struct lines
export_lines(void)
{
	struct lines ls = { NULL, 0 };
	struct err e;
	char *text = evidence_export(&st, 0, &e), *p, *nl;

	assert_non_null(text);
	for (p = text; *p != '\0'; p = nl + 1) {
		nl = strchr(p, '\n');
		assert_non_null(nl);
		ls.l = xreallocarray(ls.l, ls.n + 1, sizeof(*ls.l));
		ls.l[ls.n++] = xstrndup(p, (size_t)(nl - p));
	}
	free(text);
	return ls;
}

static char *
join(const struct lines *ls)
{
	struct buf b = BUF_INIT;
	size_t i;

	for (i = 0; i < ls->n; i++) {
		buf_addstr(&b, ls->l[i]);
		buf_addch(&b, '\n');
	}
	return buf_detach(&b);
}

static void
lines_free(struct lines *ls)
{
	size_t i;

	for (i = 0; i < ls->n; i++)
		free(ls->l[i]);
	free(ls->l);
}

/* Verifies ls; returns verify's result, the verdict in *v. */
static int
verify(const struct lines *ls, const char *pubkey, struct evidence_verdict *v)
{
	char *text = join(ls);
	struct err e;
	int r = evidence_verify(text, strlen(text), pubkey, v, &e);

	free(text);
	return r;
}

static void
five_entries(void)
{
	append("alice", "machine.stop", OUTCOME_REQUESTED, NULL);
	append("alice", "machine.stop", OUTCOME_OK, NULL);
	append("bob", "deploy.create", OUTCOME_REQUESTED, "{\"artifact\": \"ab\", "
	    "\"canary\": 10, \"rate\": 0.25}");
	append("bob", "deploy.create", OUTCOME_FAILED, NULL);
	append("carol", "secrets.set", OUTCOME_DENIED, "{\"set\": [\"DB_URL\"]}");
}

static void
test_export_verifies(void **state)
{
	struct evidence_verdict v;
	struct lines ls;
	char hex[EVIDENCE_PUBKEY_HEX], fp[EVIDENCE_FP_LEN];
	struct err e;

	(void)state;
	five_entries();
	ls = export_lines();
	assert_int_equal(ls.n, 6);
	assert_int_equal(verify(&ls, NULL, &v), 0);
	assert_int_equal(v.entries, 5);
	assert_int_equal(v.first_seq, 1);
	assert_int_equal(v.last_seq, 5);
	assert_int_equal(evidence_pubkey(&st, hex, fp, &e), 0);
	assert_string_equal(v.key, fp);
	/* Pinned to the control plane's own key, it verifies too. */
	assert_int_equal(verify(&ls, hex, &v), 0);
	/* The key file is private. */
	{
		char kp[300];
		struct stat sb;

		snprintf(kp, sizeof(kp), "%s/%s", dir, EVIDENCE_KEY_FILE);
		assert_int_equal(stat(kp, &sb), 0);
		assert_int_equal(sb.st_mode & 0777, 0600);
	}
	lines_free(&ls);
}

static void
test_changed_byte_names_entry(void **state)
{
	struct evidence_verdict v;
	struct lines ls;
	char *p;

	(void)state;
	five_entries();
	ls = export_lines();
	/* bob's deploy request (seq 3, line 4): its canary 10 becomes 90. */
	assert_non_null(p = strstr(ls.l[3], "\"canary\":10"));
	p[9] = '9';
	assert_int_equal(verify(&ls, NULL, &v), 1);
	assert_int_equal(v.line, 4);
	assert_int_equal(v.seq, 3);
	assert_non_null(strstr(v.problem, "entry seq 3 was altered"));
	lines_free(&ls);
}

static void
test_removed_line_names_entry(void **state)
{
	struct evidence_verdict v;
	struct lines ls;

	(void)state;
	five_entries();
	ls = export_lines();
	free(ls.l[2]);		/* seq 2 */
	memmove(&ls.l[2], &ls.l[3], (ls.n - 3) * sizeof(*ls.l));
	ls.n--;
	assert_int_equal(verify(&ls, NULL, &v), 1);
	assert_int_equal(v.seq, 2);
	assert_non_null(strstr(v.problem, "entry seq 2 was removed"));
	/* The last line gone: the signed header still counts it. */
	free(ls.l[--ls.n]);
	lines_free(&ls);
	ls = export_lines();
	free(ls.l[--ls.n]);
	assert_int_equal(verify(&ls, NULL, &v), 1);
	assert_int_equal(v.seq, 5);
	assert_non_null(strstr(v.problem, "entry seq 5 was removed"));
	lines_free(&ls);
}

static void
test_swapped_lines_name_entry(void **state)
{
	struct evidence_verdict v;
	struct lines ls;
	char *t;

	(void)state;
	five_entries();
	ls = export_lines();
	t = ls.l[2];
	ls.l[2] = ls.l[3];
	ls.l[3] = t;
	assert_int_equal(verify(&ls, NULL, &v), 1);
	assert_int_equal(v.seq, 2);
	assert_int_equal(v.line, 3);
	assert_non_null(strstr(v.problem, "out of order"));
	lines_free(&ls);
}

/* An entry rewritten with a valid hash but no key to sign it. */
static void
test_rehashed_entry_fails_signature(void **state)
{
	struct evidence_verdict v;
	struct lines ls;
	json_t *j, *orig;
	char *text, hash[65];

	(void)state;
	five_entries();
	ls = export_lines();
	j = json_loads(ls.l[1], 0, NULL);
	json_object_set_new(j, "actor", json_string("mallory"));
	json_object_del(j, "hash");
	json_object_del(j, "sig");
	text = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	sha256_hex(text, strlen(text), hash);
	free(text);
	json_object_set_new(j, "hash", json_string(hash));
	orig = json_loads(ls.l[1], 0, NULL);
	json_object_set(j, "sig", json_object_get(orig, "sig"));
	json_decref(orig);
	free(ls.l[1]);
	ls.l[1] = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(j);
	assert_int_equal(verify(&ls, NULL, &v), 1);
	assert_int_equal(v.seq, 1);
	assert_non_null(strstr(v.problem, "signature is not the control plane's"));
	lines_free(&ls);
}

/* A whole export re-signed by another key passes alone, never with --pubkey. */
static void
test_other_key_refused_when_pinned(void **state)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	char other[EVIDENCE_PUBKEY_HEX];
	struct evidence_verdict v;
	struct lines ls;

	(void)state;
	five_entries();
	ls = export_lines();
	crypto_sign_keypair(pk, sk);
	sodium_bin2hex(other, sizeof(other), pk, sizeof(pk));
	assert_int_equal(verify(&ls, other, &v), 1);
	assert_int_equal(v.line, 1);
	assert_non_null(strstr(v.problem, "not by the key given"));
	lines_free(&ls);
}

static void
test_garbage_is_named_not_crashed(void **state)
{
	static const char *const bad[] = { "", "\n", "{}\n", "[1]\n",
	    "{\"opsdeck_evidence\": 1}\n", "not json\n", "\xff\xfe\n" };
	struct evidence_verdict v;
	struct err e;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(evidence_verify(bad[i], strlen(bad[i]), NULL, &v,
		    &e), 1);
		assert_true(v.line >= 1);
		assert_true(v.problem[0] != '\0');
	}
}

/* Entries an older opsdeck wrote (no hash) are sealed into the chain, in order. */
static void
test_legacy_rows_sealed(void **state)
{
	struct evidence_verdict v;
	struct lines ls;
	struct err e;

	(void)state;
	assert_int_equal(store_exec(&st, "INSERT INTO evidence (at, actor, role, "
	    "action, target, result) VALUES (1, 'old', 'admin', 'gc.run', 'x', "
	    "'requested'), (2, 'old', 'admin', 'gc.run', 'x', 'ok')", &e), 0);
	append("alice", "machine.stop", OUTCOME_REQUESTED, NULL);
	ls = export_lines();
	assert_int_equal(ls.n, 4);
	assert_non_null(strstr(ls.l[1], "\"actor\":\"old\""));
	assert_int_equal(verify(&ls, NULL, &v), 0);
	assert_int_equal(v.entries, 3);
	lines_free(&ls);
}

/* An entry stripped of its hash after signed ones is never signed anew. */
static void
test_stripped_entry_not_resealed(void **state)
{
	struct evidence_rec rec = { "mallory", "admin", VIA_CLI, "machine.stop",
	    "web-1", NULL, OUTCOME_OK, NULL, 0, 0 };
	struct err e;

	(void)state;
	five_entries();
	assert_int_equal(store_exec(&st, "UPDATE evidence SET actor = 'mallory', "
	    "hash = NULL, sig = NULL, prev = NULL WHERE id = 3", &e), 0);
	assert_int_equal(evidence_append(&st, &rec, NULL, &e), -1);
	assert_non_null(strstr(e.msg, "evidence entry 3"));
	assert_non_null(strstr(e.msg, "the store was altered"));
	assert_int_equal(evidence_seal(&st, &e), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_export_verifies, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_changed_byte_names_entry,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_removed_line_names_entry,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_swapped_lines_name_entry,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(
		    test_rehashed_entry_fails_signature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_key_refused_when_pinned,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_garbage_is_named_not_crashed,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_legacy_rows_sealed, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_stripped_entry_not_resealed,
		    setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
