#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "api/session.h"
#include "core/xmalloc.h"

#define SESSIONS_MAX 256

struct sessions {
	struct session	s[SESSIONS_MAX];
};

struct sessions *
sessions_new(void)
{
	if (sodium_init() < 0)
		abort();
	return xcalloc(1, sizeof(struct sessions));
}

static void
slot_clear(struct session *s)
{
	explicit_bzero(s, sizeof(*s));
}

static bool
slot_used(const struct session *s)
{
	return s->token_hash[0] != '\0';
}

void
sessions_free(struct sessions *t)
{
	size_t i;

	if (t == NULL)
		return;
	for (i = 0; i < SESSIONS_MAX; i++)
		slot_clear(&t->s[i]);
	free(t);
}

static void
random_hex(char out[SESSION_ID_LEN])
{
	unsigned char raw[32];

	randombytes_buf(raw, sizeof(raw));
	sodium_bin2hex(out, SESSION_ID_LEN, raw, sizeof(raw));
}

const struct session *
session_open(struct sessions *t, const char *token_hash, const char *actor,
    int64_t now_ms)
{
	struct session *s = NULL, *mine = NULL;
	int held = 0;
	size_t i;

	for (i = 0; i < SESSIONS_MAX; i++) {
		struct session *c = &t->s[i];

		if (!slot_used(c) || c->expires_ms <= now_ms) {
			if (s == NULL || slot_used(s))
				s = c;
			continue;
		}
		if (strcmp(c->actor, actor) == 0) {
			held++;
			if (mine == NULL || c->expires_ms < mine->expires_ms)
				mine = c;
		}
		if (s == NULL || (slot_used(s) && c->expires_ms < s->expires_ms))
			s = c;
	}
	if (held >= SESSIONS_PER_ACTOR)
		s = mine;
	slot_clear(s);
	random_hex(s->id);
	random_hex(s->csrf);
	snprintf(s->token_hash, sizeof(s->token_hash), "%s", token_hash);
	snprintf(s->actor, sizeof(s->actor), "%s", actor);
	s->expires_ms = now_ms + SESSION_TTL_MS;
	return s;
}

/* Compares every live slot in full: the time taken says nothing about the ids. */
static struct session *
slot_of(struct sessions *t, const char *id)
{
	struct session *found = NULL;
	size_t i;

	if (strlen(id) != SESSION_ID_LEN - 1)
		return NULL;
	for (i = 0; i < SESSIONS_MAX; i++)
		if (slot_used(&t->s[i]) &&
		    sodium_memcmp(t->s[i].id, id, SESSION_ID_LEN - 1) == 0)
			found = &t->s[i];
	return found;
}

struct session *
session_find(struct sessions *t, const char *id, int64_t now_ms)
{
	struct session *s = slot_of(t, id);

	if (s == NULL)
		return NULL;
	if (s->expires_ms <= now_ms) {
		slot_clear(s);
		return NULL;
	}
	return s;
}

void
session_close(struct sessions *t, const char *id)
{
	struct session *s = slot_of(t, id);

	if (s != NULL)
		slot_clear(s);
}

bool
session_csrf_ok(const struct session *s, const char *given)
{
	return given != NULL && strlen(given) == SESSION_ID_LEN - 1 &&
	    sodium_memcmp(s->csrf, given, SESSION_ID_LEN - 1) == 0;
}
