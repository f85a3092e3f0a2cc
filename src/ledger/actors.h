/*
 * Actors with tokens: `opsdeck actor add NAME --role R` makes an actor and a bearer
 * token, shown once; the store keeps only the token's SHA-256. A request with
 * "Authorization: Bearer TOKEN" acts as that actor, on the unix socket or TCP.
 */
#ifndef OPSDECK_ACTORS_H
#define OPSDECK_ACTORS_H

#include <jansson.h>

#include "core/err.h"
#include "ledger/gate.h"
#include "store/store.h"

#define ACTOR_TOKEN_PREFIX	"odt_"
#define ACTOR_TOKEN_LEN		(4 + 64 + 1)	/* prefix, 32 bytes in hex, NUL */

/* The role a name means: 0, or -1 for none of viewer|agent|operator|approver|admin. */
int	 role_parse(const char *, enum role *);
/* Adds name with role (made by by) and its new token into token; 0 or -1. */
int	 actor_add(struct store *, const char *name, enum role, const char *by,
	    char token[ACTOR_TOKEN_LEN], struct err *);
/* -1 (ERR_DENIED) when name is an actor whose token was revoked, else 0. */
int	 actor_live(struct store *, const char *name, struct err *);
/*
 * The actor called name, if it was added and not revoked: 0, or -1 with ERR_DENIED
 * naming which.
 */
int	 actor_by_name(struct store *, const char *name, struct actor *,
	    struct err *);
/* Revokes name's token: requests with it fail from now on. */
int	 actor_revoke(struct store *, const char *name, struct err *);
/* {"actors": [{name, role, created_at, created_by, revoked_at}]} */
json_t	*actors_json(struct store *, struct err *);
/*
 * The actor a bearer token names (via left to the caller): 0, or -1 with ERR_DENIED
 * for a token that is malformed, unknown or revoked.
 */
int	 actor_by_token(struct store *, const char *token, struct actor *,
	    struct err *);
/* 0 when token has the shape of an opsdeck token, else -1 (ERR_DENIED) saying so. */
int	 actor_token_check(const char *token, struct err *);
/* actor_by_token for the token whose SHA-256 (lowercase hex) is hash. */
int	 actor_by_hash(struct store *, const char *hash, struct actor *,
	    struct err *);

#endif
