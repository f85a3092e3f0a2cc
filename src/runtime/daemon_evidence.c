/* The daemon's evidence calls: the ledger on the daemon's store. */
#include <stdlib.h>

#include "ledger/evidence.h"
#include "runtime/daemon_int.h"

static json_t *
evidence_json(struct daemon *d, const char *actor, int64_t since_ms, int limit,
    struct err *e)
{
	return evidence_list(&d->store, actor, since_ms, limit, e);
}

static json_t *
evidence_export_json(struct daemon *d, int64_t since_ms, struct err *e)
{
	char *text = evidence_export(&d->store, since_ms, e);
	json_t *out;

	if (text == NULL)
		return NULL;
	out = json_pack("{ss}", "jsonl", text);
	free(text);
	return out;
}

static json_t *
evidence_key_json(struct daemon *d, struct err *e)
{
	char hex[EVIDENCE_PUBKEY_HEX], fp[EVIDENCE_FP_LEN];

	if (evidence_pubkey(&d->store, hex, fp, e) < 0)
		return NULL;
	return json_pack("{ss ss}", "pubkey", hex, "key", fp);
}

void
daemon_evidence_ops(struct daemon_ops *ops)
{
	ops->evidence_json = evidence_json;
	ops->evidence_export = evidence_export_json;
	ops->evidence_key = evidence_key_json;
}
