/*
 * The evidence ledger's speed: N entries appended as the gate appends them (each a
 * transaction of its own in a fresh store, hashed and signed), an export, and its
 * offline verification; beside them, libsodium's SHA-256 + Ed25519 sign and verify
 * alone, the floor the ledger's work sits on. Prints rates and ratios.
 * usage: evbench DIR [N]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <sodium.h>

#include "ledger/evidence.h"
#include "store/store.h"

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int
main(int argc, char **argv)
{
	unsigned char pk[crypto_sign_PUBLICKEYBYTES], sk[crypto_sign_SECRETKEYBYTES];
	unsigned char h[crypto_hash_sha256_BYTES], sig[crypto_sign_BYTES];
	struct evidence_verdict v;
	struct store st;
	struct err e;
	char path[512], *text;
	const char *line = "{\"action\":\"machine.restart\",\"actor\":\"alice\","
	    "\"args\":null,\"at\":\"2026-12-07T02:00:00.000Z\",\"detail\":null,"
	    "\"duration_ms\":3,\"outcome\":\"ok\",\"prev\":\"00\",\"role\":"
	    "\"operator\",\"seq\":1,\"target\":\"web-1\",\"via\":\"cli\"}";
	long n = argc > 2 ? atol(argv[2]) : 20000, i;
	double t0, append_s, export_s, verify_s, sign_s, check_s;
	json_t *args = json_pack("{ss si}", "artifact",
	    "15334a50c9c31144eb85deb77d7530d737fa489368f7e335c4a8c1c33621b168",
	    "canary", 0);

	if (argc < 2 || sodium_init() < 0)
		return 2;
	snprintf(path, sizeof(path), "%s/opsdeck.db", argv[1]);
	if (store_open(&st, path, &e) < 0) {
		fprintf(stderr, "evbench: %s\n", e.msg);
		return 1;
	}
	t0 = now_s();
	for (i = 0; i < n; i++) {
		struct evidence_rec rec = { "alice", "operator", VIA_CLI,
		    "deploy.create", "web-app", args, i % 2 ? OUTCOME_OK :
		    OUTCOME_REQUESTED, NULL, 3, 0 };

		if (evidence_append(&st, &rec, NULL, &e) < 0) {
			fprintf(stderr, "evbench: %s\n", e.msg);
			return 1;
		}
	}
	append_s = now_s() - t0;
	t0 = now_s();
	if ((text = evidence_export(&st, 0, &e)) == NULL) {
		fprintf(stderr, "evbench: %s\n", e.msg);
		return 1;
	}
	export_s = now_s() - t0;
	t0 = now_s();
	if (evidence_verify(text, strlen(text), NULL, &v, &e) != 0) {
		fprintf(stderr, "evbench: the export does not verify: %s\n",
		    v.problem);
		return 1;
	}
	verify_s = now_s() - t0;
	crypto_sign_keypair(pk, sk);
	t0 = now_s();
	for (i = 0; i < n; i++) {
		crypto_hash_sha256(h, (const unsigned char *)line, strlen(line));
		crypto_sign_detached(sig, NULL, h, sizeof(h), sk);
	}
	sign_s = now_s() - t0;
	t0 = now_s();
	for (i = 0; i < n; i++) {
		crypto_hash_sha256(h, (const unsigned char *)line, strlen(line));
		if (crypto_sign_verify_detached(sig, h, sizeof(h), pk) != 0)
			return 1;
	}
	check_s = now_s() - t0;
	printf("evidence: %ld appends (a transaction each, hashed and signed): "
	    "%.0f appends/s\n", n, n / append_s);
	printf("evidence: sha256 + ed25519 sign alone: %.0f/s; appends at %.2f "
	    "of that\n", n / sign_s, sign_s / append_s);
	printf("evidence: export of %ld entries: %.0f entries/s (%.1f MB)\n", n,
	    n / export_s, strlen(text) / 1e6);
	printf("evidence: verify: %.0f entries/s\n", n / verify_s);
	printf("evidence: sha256 + ed25519 verify alone: %.0f/s; verify at %.2f "
	    "of that\n", n / check_s, check_s / verify_s);
	free(text);
	json_decref(args);
	store_close(&st);
	return 0;
}
