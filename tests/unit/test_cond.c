/* Check conditions: every operator, placeholder and function, and every error. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "monitor/cond.h"

static const char *body = "{\"data_services\":\"ok\",\"items\":[{\"id\":3,"
    "\"name\":\"tile\"},{\"id\":4}],\"errors\":[],\"count\":12.5,"
    "\"up\":true,\"none\":null}";

static struct cond_input
input(void)
{
	struct cond_input in = {
		.status = 200, .response_ms = 120, .body = body,
		.body_len = strlen(body), .connected = true,
		.cert_expiry_ms = 72LL * 3600 * 1000, .ip = "127.0.0.1",
	};

	return in;
}

/* Evaluates text on in; fails the test when it does not parse. */
static bool
eval_in(const char *text, const struct cond_input *in, char *detail, size_t cap)
{
	struct cond c;
	struct err e;
	void *cache = NULL;
	bool ok;

	if (cond_parse(text, &c, &e) < 0)
		fail_msg("'%s' did not parse: %s", text, e.msg);
	ok = cond_eval(&c, in, &cache, detail, cap);
	cond_body_release(cache);
	cond_release(&c);
	return ok;
}

static bool
eval(const char *text)
{
	struct cond_input in = input();
	char detail[512];

	return eval_in(text, &in, detail, sizeof(detail));
}

static void
test_operators(void **state)
{
	(void)state;
	assert_true(eval("[STATUS] == 200"));
	assert_false(eval("[STATUS] == 201"));
	assert_true(eval("[STATUS] != 500"));
	assert_false(eval("[STATUS] != 200"));
	assert_true(eval("[STATUS] < 300"));
	assert_false(eval("[STATUS] < 200"));
	assert_true(eval("[STATUS] <= 200"));
	assert_false(eval("[STATUS] <= 199"));
	assert_true(eval("[STATUS] > 199"));
	assert_false(eval("[STATUS] > 200"));
	assert_true(eval("[STATUS] >= 200"));
	assert_false(eval("[STATUS] >= 201"));
	assert_true(eval("[STATUS]==200"));	/* no spaces needed */
	assert_true(eval("  [STATUS]  ==  200  "));
}

static void
test_placeholders(void **state)
{
	(void)state;
	assert_true(eval("[RESPONSE_TIME] < 500"));
	assert_false(eval("[RESPONSE_TIME] < 100"));
	assert_true(eval("[RESPONSE_TIME] < 1s"));
	assert_true(eval("[RESPONSE_TIME] >= 120ms"));
	assert_true(eval("[CONNECTED] == true"));
	assert_false(eval("[CONNECTED] == false"));
	assert_true(eval("[IP] == 127.0.0.1"));
	assert_true(eval("[CERTIFICATE_EXPIRATION] > 48h"));
	assert_false(eval("[CERTIFICATE_EXPIRATION] > 3d"));
	assert_true(eval("[CERTIFICATE_EXPIRATION] >= 259200000"));
	assert_true(eval("[BODY] == pat(*\"data_services\":\"ok\"*)"));
}

static void
test_body_paths(void **state)
{
	(void)state;
	assert_true(eval("[BODY].data_services == ok"));
	assert_false(eval("[BODY].data_services == degraded"));
	assert_true(eval("[BODY].items[0].id == 3"));
	assert_true(eval("[BODY].items[1].id > 3"));
	assert_true(eval("[BODY].items[0].name == tile"));
	assert_true(eval("[BODY].count == 12.5"));
	assert_true(eval("[BODY].count > 12"));
	assert_true(eval("[BODY].up == true"));
	assert_true(eval("[BODY].none == null"));
	assert_true(eval("[BODY].errors == []"));
	/* a field that is not there fails, and says so */
	assert_false(eval("[BODY].missing == ok"));
	assert_false(eval("[BODY].missing != ok"));
	assert_false(eval("[BODY].items[7].id == 3"));
}

static void
test_functions(void **state)
{
	(void)state;
	assert_true(eval("len([BODY].errors) == 0"));
	assert_true(eval("len([BODY].items) == 2"));
	assert_true(eval("len([BODY].items) > 1"));
	assert_true(eval("len([BODY].data_services) == 2"));
	assert_true(eval("len([BODY]) == 6"));
	assert_true(eval("has([BODY].items) == true"));
	assert_true(eval("has([BODY].token) == false"));
	assert_true(eval("[BODY].data_services == pat(o*)"));
	assert_true(eval("[BODY].data_services == pat(?k)"));
	assert_false(eval("[BODY].data_services == pat(x*)"));
	assert_true(eval("[BODY].data_services != pat(x*)"));
	assert_true(eval("[STATUS] == any(200, 204, 304)"));
	assert_false(eval("[STATUS] == any(201, 204)"));
	assert_true(eval("[STATUS] != any(500, 502)"));
	assert_true(eval("[BODY].data_services == any(ok, degraded)"));
}

/* Route checks: the router's metrics of a window. */
static void
test_route_placeholders(void **state)
{
	struct cond_input in = input();
	char d[512];

	(void)state;
	in.has_route = true;
	in.p50_ms = 40;
	in.p95_ms = 5200.456;
	in.p99_ms = 7000;
	in.max_ms = 9100;
	in.error_pct = 2.5;
	in.requests = 480;
	in.rps = 1.6;
	assert_false(eval_in("[P95] < 5s", &in, d, sizeof(d)));
	assert_string_equal(d, "[P95] (5200.46) < 5s");
	assert_true(eval_in("[P95] < 5300", &in, d, sizeof(d)));
	assert_true(eval_in("[P50] <= 40ms", &in, d, sizeof(d)));
	assert_true(eval_in("[P99] == 7s", &in, d, sizeof(d)));
	assert_true(eval_in("[MAX] > 9s", &in, d, sizeof(d)));
	assert_false(eval_in("[ERROR_RATE] < 2%", &in, d, sizeof(d)));
	assert_string_equal(d, "[ERROR_RATE] (2.5) < 2%");
	assert_false(eval_in("[ERROR_RATE] < 2", &in, d, sizeof(d)));
	assert_true(eval_in("[ERROR_RATE] <= 2.5%", &in, d, sizeof(d)));
	assert_true(eval_in("[REQUESTS] > 100", &in, d, sizeof(d)));
	assert_true(eval_in("[RPS] < 2", &in, d, sizeof(d)));
	/* a probe has no route metrics: the condition says where they are */
	in.has_route = false;
	assert_false(eval_in("[P95] < 5s", &in, d, sizeof(d)));
	assert_string_equal(d, "[P95] < 5s: [P95] is for route checks (route: in "
	    "the check)");
	assert_true(cond_route_var(COND_ERROR_RATE));
	assert_false(cond_route_var(COND_STATUS));
}

static void
test_details(void **state)
{
	struct cond_input in = input();
	char d[512];

	(void)state;
	in.status = 503;
	assert_false(eval_in("[STATUS] == 200", &in, d, sizeof(d)));
	assert_string_equal(d, "[STATUS] (503) == 200");
	assert_false(eval_in("[BODY].missing == ok", &in, d, sizeof(d)));
	assert_string_equal(d, "[BODY].missing == ok: the answer has no field "
	    "'missing'");
	in.body = "<html>oops</html>";
	in.body_len = strlen(in.body);
	assert_false(eval_in("[BODY].status == ok", &in, d, sizeof(d)));
	assert_non_null(strstr(d, "not JSON"));
	assert_true(eval_in("[BODY] == pat(*oops*)", &in, d, sizeof(d)));
	assert_true(eval_in("len([BODY]) == 17", &in, d, sizeof(d)));
	in.status = 0;
	assert_false(eval_in("[STATUS] == 200", &in, d, sizeof(d)));
	assert_string_equal(d, "[STATUS] == 200: no HTTP answer");
	in.cert_expiry_ms = -1;
	assert_false(eval_in("[CERTIFICATE_EXPIRATION] > 48h", &in, d, sizeof(d)));
	assert_non_null(strstr(d, "no TLS certificate"));
	in.body = "not a number";
	in.body_len = strlen(in.body);
	assert_false(eval_in("[BODY] > 3", &in, d, sizeof(d)));
	assert_non_null(strstr(d, "not a number"));
}

/* Each bad condition names its column and what to write. */
static void
test_errors(void **state)
{
	static const struct {
		const char	*text;
		const char	*want;
	} cases[] = {
		{ "", "column 1: empty condition" },
		{ "[STATSU] == 200", "column 1: unknown placeholder [STATSU]" },
		{ "[STATUS == 200", "column 1: '[' is not closed" },
		{ "[STATUS] = 200", "column 10: '=' is not an operator: write ==" },
		{ "[STATUS] === 200", "column 10: '===' is not an operator" },
		{ "[STATUS] 200", "column 10: expected an operator" },
		{ "[STATUS]", "column 9: expected an operator" },
		{ "[STATUS] ==", "column 12: nothing after '=='" },
		{ "[STATUS] == abc", "column 13: 'abc' is not a number" },
		{ "[STATUS] < 2xx", "column 12: '2xx' is not a number" },
		{ "[RESPONSE_TIME] < 5 sec", "column 19: '5 sec' is not a duration" },
		{ "[CERTIFICATE_EXPIRATION] > 48x", "column 28: '48x' is not a duration" },
		{ "[ERROR_RATE] < 2x", "column 16: '2x' is not a percentage: write 2 or 2%" },
		{ "[P95] < fast", "column 9: 'fast' is not a duration" },
		{ "[CONNECTED] == yes", "column 16: 'yes': compare with true or false" },
		{ "[IP] < 3", "column 6: [IP] is not a number" },
		{ "[STATUS].x == 1", "column 9: only [BODY] has fields" },
		{ "[BODY]. == 1", "column 7: a '.' needs a field name" },
		{ "[BODY].items[x] == 1", "column 14: an index is a number" },
		{ "[BODY].items[1 == 1", "column 14: an index is a number in [brackets]" },
		{ "len([STATUS]) == 1", "column 1: len() is for [BODY]" },
		{ "len([BODY].items == 1", "column 18: expected ')' to close len(" },
		{ "len(STATUS) == 1", "column 5: len() takes a placeholder" },
		{ "len([BODY].items) == two", "column 22: 'two' is not a number: len() counts" },
		{ "has([BODY].x) == 1", "column 18: '1': compare with true or false" },
		{ "pat(*OK*) == [BODY]", "column 1: pat() goes on the right" },
		{ "[BODY] < pat(*OK*)", "column 10: pat() goes with == or !=, not <" },
		{ "[BODY] == pat(*OK*", "column 19: expected ')' to close pat(" },
		{ "[STATUS] == any(200, , 204)", "column 22: an empty value in any()" },
		{ "200 == [STATUS]", "column 1: a condition starts with a placeholder" },
		{ "[BODY].a.b.c.d.e.f.g.h.i.j.k.l.m.n.o.p.q == 1",
		    "a path of more than 16 steps" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct cond c;
		struct err e;

		if (cond_parse(cases[i].text, &c, &e) == 0)
			fail_msg("'%s' parsed", cases[i].text);
		if (strstr(e.msg, cases[i].want) == NULL)
			fail_msg("'%s': got \"%s\", want \"%s\"", cases[i].text,
			    e.msg, cases[i].want);
		assert_int_equal(e.kind, ERR_INVALID);
	}
}

static void
test_durations(void **state)
{
	(void)state;
	assert_int_equal(cond_duration_ms("48h"), 48LL * 3600 * 1000);
	assert_int_equal(cond_duration_ms("1500ms"), 1500);
	assert_int_equal(cond_duration_ms("2s"), 2000);
	assert_int_equal(cond_duration_ms("1.5s"), 1500);
	assert_int_equal(cond_duration_ms("7d"), 7LL * 86400 * 1000);
	assert_int_equal(cond_duration_ms("30m"), 30LL * 60 * 1000);
	assert_int_equal(cond_duration_ms("30"), 30);
	assert_int_equal(cond_duration_ms("h"), -1);
	assert_int_equal(cond_duration_ms("-1s"), -1);
	assert_int_equal(cond_duration_ms("5 s"), -1);
	assert_int_equal(cond_duration_ms("1e300d"), -1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_operators),
		cmocka_unit_test(test_placeholders),
		cmocka_unit_test(test_body_paths),
		cmocka_unit_test(test_functions),
		cmocka_unit_test(test_route_placeholders),
		cmocka_unit_test(test_details),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_durations),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
