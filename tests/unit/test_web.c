/*
 * The dashboard's pieces that do not need a daemon: reading form fields, escaping
 * text into HTML, and the session table (ids, CSRF tokens, expiry, logout, a full
 * table giving way, an actor's own oldest giving way at its cap).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "api/session.h"
#include "api/web.h"

static void
test_form_value(void **state)
{
	char out[16];

	(void)state;
	assert_int_equal(form_value("a=1&token=x%2By+z&b=", "token", out,
	    sizeof(out)), 0);
	assert_string_equal(out, "x+y z");
	assert_int_equal(form_value("a=1&b=", "b", out, sizeof(out)), 0);
	assert_string_equal(out, "");
	/* a name that only starts like the field, or holds no '=', is not it */
	assert_int_equal(form_value("tokens=1&token", "token", out, sizeof(out)), -1);
	assert_int_equal(form_value("", "token", out, sizeof(out)), -1);
	/* bad escapes, a NUL, too long: refused, never cut short */
	assert_int_equal(form_value("t=%zz", "t", out, sizeof(out)), -2);
	assert_int_equal(form_value("t=ab%4", "t", out, sizeof(out)), -2);
	assert_int_equal(form_value("t=%", "t", out, sizeof(out)), -2);
	assert_int_equal(form_value("t=a%00b", "t", out, sizeof(out)), -2);
	assert_int_equal(form_value("t=0123456789abcdef", "t", out, sizeof(out)),
	    -2);
	assert_int_equal(form_value("t=0123456789abcde", "t", out, sizeof(out)), 0);
	/* the first of two is the one */
	assert_int_equal(form_value("t=1&t=2", "t", out, sizeof(out)), 0);
	assert_string_equal(out, "1");
}

static void
test_html_esc(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	html_esc(&b, "<a href=\"x\">Tom & 'Jerry'</a>");
	assert_string_equal(buf_str(&b),
	    "&lt;a href=&quot;x&quot;&gt;Tom &amp; &#39;Jerry&#39;&lt;/a&gt;");
	buf_release(&b);
}

static void
test_sessions(void **state)
{
	struct sessions *t = sessions_new();
	const struct session *s, *s2;
	char id[SESSION_ID_LEN], csrf[SESSION_ID_LEN];
	int64_t now = 1000;

	(void)state;
	s = session_open(t, "hash-one", "alice", now);
	assert_int_equal(strlen(s->id), SESSION_ID_LEN - 1);
	assert_string_not_equal(s->id, s->csrf);
	memcpy(id, s->id, sizeof(id));
	memcpy(csrf, s->csrf, sizeof(csrf));
	s2 = session_open(t, "hash-two", "bob", now);
	assert_string_not_equal(s2->id, id);
	assert_ptr_equal(session_find(t, id, now + 1), s);
	assert_string_equal(session_find(t, id, now + 1)->token_hash, "hash-one");
	assert_string_equal(session_find(t, id, now + 1)->actor, "alice");
	assert_true(session_csrf_ok(s, csrf));
	assert_false(session_csrf_ok(s, s2->csrf));
	assert_false(session_csrf_ok(s, ""));
	assert_false(session_csrf_ok(s, NULL));
	assert_null(session_find(t, "nope", now));
	/* an id one character off is no session */
	id[0] = id[0] == 'a' ? 'b' : 'a';
	assert_null(session_find(t, id, now));
	id[0] = s->id[0];
	/* logout */
	session_close(t, id);
	assert_null(session_find(t, id, now));
	/* expiry */
	assert_non_null(session_find(t, s2->id, now + SESSION_TTL_MS - 1));
	memcpy(id, s2->id, sizeof(id));
	assert_null(session_find(t, id, now + SESSION_TTL_MS));
	sessions_free(t);
}

static void
test_sessions_full(void **state)
{
	struct sessions *t = sessions_new();
	char first[SESSION_ID_LEN], second[SESSION_ID_LEN], name[16];
	int i;

	(void)state;
	memcpy(first, session_open(t, "h1", "first", 1)->id, sizeof(first));
	memcpy(second, session_open(t, "h2", "second", 2)->id, sizeof(second));
	/* 256 slots: the 257th login takes the one that expires first */
	for (i = 0; i < 255; i++) {
		snprintf(name, sizeof(name), "a%d", i);
		session_open(t, "h", name, 10 + i);
	}
	assert_null(session_find(t, first, 300));
	assert_non_null(session_find(t, second, 300));
	sessions_free(t);
}

static void
test_sessions_per_actor(void **state)
{
	struct sessions *t = sessions_new();
	char ids[SESSIONS_PER_ACTOR + 1][SESSION_ID_LEN], other[SESSION_ID_LEN];
	int i;

	(void)state;
	memcpy(other, session_open(t, "h", "carol", 0)->id, sizeof(other));
	for (i = 0; i <= SESSIONS_PER_ACTOR; i++)
		memcpy(ids[i], session_open(t, "h", "bot", 1 + i)->id,
		    sizeof(ids[i]));
	/* the ninth of bot's logins ended bot's oldest, and no one else's */
	assert_null(session_find(t, ids[0], 100));
	for (i = 1; i <= SESSIONS_PER_ACTOR; i++)
		assert_non_null(session_find(t, ids[i], 100));
	assert_non_null(session_find(t, other, 100));
	sessions_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_form_value),
		cmocka_unit_test(test_html_esc),
		cmocka_unit_test(test_sessions),
		cmocka_unit_test(test_sessions_full),
		cmocka_unit_test(test_sessions_per_actor),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
