/*
 * Dashboard sessions: a browser logs in with an actor's token and gets a random
 * session id in an HttpOnly, SameSite=Strict cookie, and a CSRF token that every
 * form and every POST it sends must carry. The table is the daemon's memory only
 * (a restart logs everyone out). It keeps the token's SHA-256, not the token, so
 * that each request is checked again (a revoked token ends its sessions); an actor
 * holds at most SESSIONS_PER_ACTOR, so that one cannot push everyone else out.
 */
#ifndef OPSDECK_SESSION_H
#define OPSDECK_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#define SESSION_ID_LEN	65	/* 32 random bytes in hex, with the NUL */
#define SESSION_TTL_MS	(12 * 3600 * 1000)	/* then a new login */
#define SESSIONS_PER_ACTOR 8	/* a ninth login ends that actor's oldest */

struct session {
	char	 id[SESSION_ID_LEN];
	char	 csrf[SESSION_ID_LEN];
	char	 token_hash[65];	/* the token's SHA-256; "": a free slot */
	char	 actor[64];		/* whose, at login */
	int64_t	 expires_ms;
	char	 flash[1280];		/* what the last action came to, shown once */
};

struct sessions;

struct sessions *sessions_new(void);
void	sessions_free(struct sessions *);
/*
 * A new session for the token of SHA-256 token_hash, of actor: the actor's oldest
 * gives way when it holds SESSIONS_PER_ACTOR, else the oldest of all when the
 * table is full.
 */
const struct session *session_open(struct sessions *, const char *token_hash,
	    const char *actor, int64_t now_ms);
/* The live session of id, or NULL (unknown, expired). */
struct session *session_find(struct sessions *, const char *id,
	    int64_t now_ms);
void	session_close(struct sessions *, const char *id);
/* True when given is the session's CSRF token (compared in constant time). */
bool	session_csrf_ok(const struct session *, const char *given);

#endif
