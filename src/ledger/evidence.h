/*
 * The evidence ledger: an append-only chain with one entry per step of an action
 * through the gate (requested, then ok, failed or denied), written by opsdeck itself.
 *
 * An entry is a JSON object: seq, at, actor, role, via, action, target, args (secret
 * values redacted), outcome, detail, duration_ms, approval, and prev, the hash of the
 * entry before it (64 zeros before the first). Its hash is the SHA-256 of its
 * canonical form (that object as jansson writes it with JSON_COMPACT | JSON_SORT_KEYS,
 * UTF-8) and its sig the Ed25519 signature of the hash's 32 bytes by the control
 * plane's key, evidence.key in the state dir, made on first use.
 *
 * An export is JSON Lines: a header {"opsdeck_evidence": 1, key, pubkey, first_seq,
 * last_seq, count, last_hash, exported_at, sig}, signed the same way, then the entries
 * in order, each with its hash and sig. evidence_verify checks one offline.
 */
#ifndef OPSDECK_EVIDENCE_H
#define OPSDECK_EVIDENCE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include <jansson.h>

#include "core/err.h"
#include "store/store.h"

#define EVIDENCE_KEY_FILE	"evidence.key"
#define EVIDENCE_PUBKEY_HEX	65	/* 32 bytes in hex and a NUL */
#define EVIDENCE_FP_LEN		32	/* "ed25519:" and 16 hex digits, NUL */

/* Where an action came from. */
enum via {
	VIA_SYSTEM,
	VIA_CLI,
	VIA_API,
	VIA_MCP,
	VIA_DASHBOARD,
};

enum outcome {
	OUTCOME_REQUESTED,
	OUTCOME_OK,
	OUTCOME_FAILED,
	OUTCOME_DENIED,
	OUTCOME_PENDING,	/* waits for an approval */
};

const char *via_str(enum via);
/* The via a name means: 0, or -1 for an unknown name. */
int	 via_parse(const char *, enum via *);
const char *outcome_str(enum outcome);

/* One entry as the gate hands it in; the ledger adds seq, at, prev, hash, sig. */
struct evidence_rec {
	const char	*actor;
	const char	*role;
	enum via	 via;
	const char	*action;
	const char	*target;
	const json_t	*args;		/* already redacted; NULL for none */
	enum outcome	 outcome;
	const char	*detail;	/* NULL for none */
	int64_t		 duration_ms;
	int64_t		 approval;	/* 0 for none */
};

/*
 * Appends rec as the next entry, hashed and signed, in one transaction (or in the
 * caller's); its seq into *seq (may be NULL). Entries of an older store that have no
 * hash yet are sealed first, in order.
 */
int	 evidence_append(struct store *, const struct evidence_rec *, int64_t *seq,
	    struct err *);
/* Seals any entries without a hash (an upgraded store), as append does. */
int	 evidence_seal(struct store *, struct err *);
/* The control plane's public key in hex and its fingerprint ("ed25519:…"). */
int	 evidence_pubkey(struct store *, char hex[EVIDENCE_PUBKEY_HEX],
	    char fp[EVIDENCE_FP_LEN], struct err *);
/*
 * Entries, newest last: actor NULL for all, since_ms 0 for all, at most limit (the
 * newest ones). {"entries": [...], "key": fp}.
 */
json_t	*evidence_list(struct store *, const char *actor, int64_t since_ms,
	    int limit, struct err *);
/* The newest entry's seq and time (ms), for a clock that went back; 0s when none. */
int	 evidence_last(struct store *, int64_t *seq, int64_t *at_ms, struct err *);
/* The export of the entries at or after since_ms (0: all) as JSONL text. */
char	*evidence_export(struct store *, int64_t since_ms, struct err *);

/* What evidence_verify found: counts, and for a failure where and what. */
struct evidence_verdict {
	int64_t	 entries;
	int64_t	 first_seq;
	int64_t	 last_seq;
	char	 key[EVIDENCE_FP_LEN];	/* the fingerprint the file names */
	long	 line;			/* of the first problem; 0 when ok */
	int64_t	 seq;			/* the entry it concerns; 0 for the header */
	char	 problem[512];
};

/*
 * Checks an export offline: the header's and every entry's signature, every hash,
 * the chain of prev hashes and seq numbers, and the header's count and last hash.
 * pubkey_hex NULL trusts the key the file names (and says so). 0 when intact, 1 with
 * the first problem in *v, -1 when the file cannot be read.
 */
int	 evidence_verify(const char *text, size_t len, const char *pubkey_hex,
	    struct evidence_verdict *, struct err *);

#endif
