/*
 * The work ledger: direction files parsed (the seed's v5.2 to v7.0, and each bad
 * line named by file:line:col), tasks moved on a clock the test sets, the actual
 * time summed from the history, progress per direction and owner, who may move
 * what, an import that updates and keeps statuses, and every change in evidence.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/buf.h"
#include "core/json.h"
#include "core/util.h"
#include "ledger/evidence.h"
#include "ledger/report.h"
#include "ledger/tasks.h"
#include "store/store.h"

#define M	(60 * 1000LL)
#define H	(60 * M)
#define T0	1761030000000LL		/* 2025-10-21T07:00:00Z, the seed's day */

static char dir[64];
static struct store st;
static const struct actor admin = { "manager", ROLE_ADMIN, VIA_CLI, 0 };
static const struct actor devops = { "devops", ROLE_AGENT, VIA_MCP, 0 };
static const struct actor data = { "data", ROLE_AGENT, VIA_CLI, 0 };

static int
setup(void **state)
{
	char path[128];
	struct err e;

	(void)state;
	strcpy(dir, "/tmp/opsdeck-tasks-XXXXXX");
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

static char *
example(size_t *len)
{
	const char *src = getenv("OPSDECK_SRC");
	struct buf b;
	struct err e;
	char *p;

	p = path_join(src ? src : ".", "examples/directions/devops.md");
	buf_init(&b, 0);
	assert_int_equal(file_read(p, 1 << 20, &b, &e), 0);
	free(p);
	*len = b.len;
	return buf_detach(&b);
}

/* What tasks_parse says of text: NULL and the message in msg when it fails. */
static json_t *
parse(const char *text, char *msg, size_t msgsz)
{
	struct err e;
	json_t *j = tasks_parse(text, strlen(text), "dir.md", &e);

	if (j == NULL)
		snprintf(msg, msgsz, "%s", e.msg);
	return j;
}

static void
test_parse_seed_directions(void **state)
{
	size_t len, i;
	char *text = example(&len);
	struct err e;
	json_t *plan = tasks_parse(text, len, "devops.md", &e), *t;
	int64_t v62 = 0, v70 = 0;

	(void)state;
	assert_non_null(plan);
	assert_int_equal(json_array_size(plan), 15);
	json_array_foreach(plan, i, t) {
		assert_string_equal(json_str(t, "owner"), "devops");
		assert_false(json_bool(t, "done"));
		if (strcmp(json_str(t, "direction"), "v5.2") == 0)
			v62 += json_int(t, "estimate_ms", 0);
		if (strcmp(json_str(t, "direction"), "v7.0") == 0)
			v70 += json_int(t, "estimate_ms", 0);
	}
	/* the seed's figures: DEVOPS-002..005 9h (plus the P0 hour), v7.0 5h */
	assert_int_equal(v62, 10 * H);
	assert_int_equal(v70, 5 * H);
	t = json_array_get(plan, 13);
	assert_string_equal(json_str(t, "id"), "DEVOPS-014");
	assert_string_equal(json_str(t, "title"),
	    "CI guards: MCP evidence, heartbeat, dev MCP ban");
	assert_int_equal(json_int(t, "estimate_ms", 0), 4 * H);
	json_decref(plan);
	free(text);
}

static void
test_parse_forms(void **state)
{
	char msg[1024];
	json_t *j;

	(void)state;
	j = parse("### direction v8.0: later\nOwner: ops\nSome prose.\n"
	    "- [x] OPS-1 Done already [30m]\r\n  * [ ] OPS-2 Its own owner @data\n"
	    "- a plain list item\n", msg, sizeof(msg));
	assert_non_null(j);
	assert_int_equal(json_array_size(j), 2);
	assert_true(json_bool(json_array_get(j, 0), "done"));
	assert_int_equal(json_int(json_array_get(j, 0), "estimate_ms", 0), 30 * M);
	assert_string_equal(json_str(json_array_get(j, 0), "direction"), "v8.0");
	assert_string_equal(json_str(json_array_get(j, 1), "owner"), "data");
	assert_string_equal(json_str(json_array_get(j, 1), "title"),
	    "Its own owner");
	assert_true(json_is_null(json_object_get(json_array_get(j, 1),
	    "estimate_ms")));
	json_decref(j);
	/* a lower heading is part of the direction; "[7231]" is part of a title */
	j = parse("# Direction v9\nOwner: ops\n## Details\n- [ ] OPS-3 Support "
	    "RFC [7231] [2h]\n- [ ] OPS-4 Cite [7231]\n", msg, sizeof(msg));
	assert_non_null(j);
	assert_string_equal(json_str(json_array_get(j, 0), "direction"), "v9");
	assert_string_equal(json_str(json_array_get(j, 0), "title"),
	    "Support RFC [7231]");
	assert_int_equal(json_int(json_array_get(j, 0), "estimate_ms", 0), 2 * H);
	assert_string_equal(json_str(json_array_get(j, 1), "title"),
	    "Cite [7231]");
	json_decref(j);
	/* no final newline */
	j = parse("# Direction v9\nOwner: ops\n- [ ] OPS-5 Last", msg, sizeof(msg));
	assert_non_null(j);
	assert_string_equal(json_str(json_array_get(j, 0), "title"), "Last");
	json_decref(j);
}

static void
test_parse_errors(void **state)
{
	static const struct {
		const char *text, *msg;
	} cases[] = {
		{ "- [ ] A-1 No heading\n", "dir.md:1:1: a task before any" },
		{ "# Direction v1\n- [ ] A-1 No owner\n",
		    "dir.md:2:1: no owner for 'A-1': add \"Owner: NAME\"" },
		{ "# Direction v1\nOwner: x\n- [?] A-1 t\n",
		    "dir.md:3:3: a task starts with" },
		{ "# Direction v1\nOwner: x\n  - [ ] a-1 t\n",
		    "dir.md:3:9: a task id is letters" },
		{ "# Direction v1\nOwner: x\n- [ ] A-1 t [soon]\n",
		    "dir.md:3:14: an estimate is a duration like 45m or 2h; got 'soon'" },
		{ "# Direction v1\nOwner: x\n- [ ] A-1 t\n- [ ] A-1 u\n",
		    "dir.md:4:7: a second task with id 'A-1' (the first is at line 3)" },
		{ "# Direction v1\nOwner: x\n- [ ] A-1\n",
		    "dir.md:3:10: give the task a title" },
		{ "# Direction v1\nOwner: Bad Name\n", "dir.md:2:8: an owner is" },
		{ "just prose\n", "dir.md: no tasks: write a \"# Direction" },
		/* a heading as high as the direction's ends it */
		{ "## Direction v1\nOwner: x\n- [ ] A-1 t\n## Notes\n- [ ] A-2 u\n",
		    "dir.md:5:1: a task before any" },
		{ "# Direction v1\nOwner: x\n- [ ] A-1 caf\xc3\n",
		    "dir.md:3:14: not UTF-8 text" },
		{ "# Direction v\x1b[31m\nOwner: x\n", "dir.md:1:1: a direction's "
		    "label is 1 to 32 printable" },
	};
	char msg[1024];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_null(parse(cases[i].text, msg, sizeof(msg)));
		if (strstr(msg, cases[i].msg) == NULL)
			fail_msg("case %zu: got '%s', want '%s'", i, msg,
			    cases[i].msg);
	}
	/* a NUL byte is not markdown */
	{
		struct err e;

		assert_null(tasks_parse("# Direction v1\0x", 16, "dir.md", &e));
		assert_non_null(strstr(e.msg, "NUL"));
	}
}

static json_t *
add(const struct actor *a, const char *body, int64_t now, struct err *e)
{
	json_t *b = json_loads(body, 0, NULL), *t;

	assert_non_null(b);
	t = tasks_add(&st, a, b, now, e);
	json_decref(b);
	return t;
}

static json_t *
move(const struct actor *a, const char *id, const char *m, const char *body,
    int64_t now, struct err *e)
{
	json_t *b = body ? json_loads(body, 0, NULL) : NULL, *t;

	t = tasks_move(&st, a, id, m, b, now, e);
	json_decref(b);
	return t;
}

static int64_t
evidence_count(const char *action, const char *outcome)
{
	sqlite3_stmt *s;
	int64_t n;
	struct err e;

	assert_int_equal(store_prepare(&st, &s, "SELECT count(*) FROM evidence "
	    "WHERE action = ? AND result = ?", &e), 0);
	sqlite3_bind_text(s, 1, action, -1, SQLITE_STATIC);
	sqlite3_bind_text(s, 2, outcome, -1, SQLITE_STATIC);
	assert_int_equal(sqlite3_step(s), SQLITE_ROW);
	n = sqlite3_column_int64(s, 0);
	sqlite3_finalize(s);
	return n;
}

static void
test_moves_and_time(void **state)
{
	struct err e;
	json_t *t, *list, *row, *hist;
	size_t i;

	(void)state;
	t = add(&devops, "{\"id\": \"DEVOPS-014\", \"title\": \"CI guards\", "
	    "\"direction\": \"v7.0\", \"estimate\": \"4h\"}", T0, &e);
	assert_non_null(t);
	assert_string_equal(json_str(t, "owner"), "devops");	/* the caller */
	assert_string_equal(json_str(t, "status"), "todo");
	json_decref(t);
	assert_null(add(&devops, "{\"id\": \"DEVOPS-014\", \"title\": \"again\"}",
	    T0, &e));
	assert_int_equal(e.kind, ERR_CONFLICT);
	assert_null(add(&devops, "{\"id\": \"X-1\", \"title\": \"t\", \"owner\": "
	    "\"data\"}", T0, &e));
	assert_int_equal(e.kind, ERR_DENIED);	/* an agent adds only its own */
	assert_null(add(&devops, "{\"id\": \"X-1\", \"title\": \"t\", "
	    "\"estimate\": \"soon\"}", T0, &e));
	assert_non_null(strstr(e.msg, "estimate 'soon'"));
	/* a field of the wrong type is named, not taken for absent */
	assert_null(add(&devops, "{\"id\": \"X-1\", \"title\": \"t\", "
	    "\"owner\": 5}", T0, &e));
	assert_string_equal(e.msg, "owner: must be a string");
	/* an id that cannot be a task's is not found, and is no evidence */
	assert_null(move(&devops, "../../etc", "start", NULL, T0, &e));
	assert_int_equal(e.kind, ERR_NOT_FOUND);

	/* doing 2h, blocked 30m, doing 1h: 3h spent */
	json_decref(move(&devops, "DEVOPS-014", "start", NULL, T0, &e));
	json_decref(move(&devops, "DEVOPS-014", "block", "{\"on\": \"manager\", "
	    "\"reason\": \"needs the key\"}", T0 + 2 * H, &e));
	t = move(&devops, "DEVOPS-014", "start", NULL, T0 + 150 * M, &e);
	assert_int_equal(json_int(t, "actual_ms", 0), 2 * H);
	json_decref(t);
	t = tasks_show(&st, "DEVOPS-014", T0 + 3 * H, &e);
	assert_int_equal(json_int(t, "actual_ms", 0), 2 * H + 30 * M);	/* open */
	json_decref(t);
	t = move(&devops, "DEVOPS-014", "done", "{\"note\": \"3 guards\"}",
	    T0 + 210 * M, &e);
	assert_non_null(t);
	assert_int_equal(json_int(t, "actual_ms", 0), 3 * H);
	assert_string_equal(json_str(t, "actual"), "3h0m");
	assert_string_equal(json_str(t, "started_at"), "2025-10-21T07:00:00.000Z");
	assert_string_equal(json_str(t, "done_at"), "2025-10-21T10:30:00.000Z");
	json_decref(t);
	/* later the clock moves on; a done task's time does not */
	t = tasks_show(&st, "DEVOPS-014", T0 + 100 * H, &e);
	assert_int_equal(json_int(t, "actual_ms", 0), 3 * H);
	hist = json_object_get(t, "history");
	assert_int_equal(json_array_size(hist), 5);
	assert_string_equal(json_str(json_array_get(hist, 2), "on"), "manager");
	assert_string_equal(json_str(json_array_get(hist, 4), "note"), "3 guards");
	json_decref(t);

	/* wrong moves */
	assert_null(move(&devops, "DEVOPS-014", "start", NULL, T0, &e));
	assert_int_equal(e.kind, ERR_CONFLICT);
	assert_null(move(&devops, "DEVOPS-999", "start", NULL, T0, &e));
	assert_int_equal(e.kind, ERR_NOT_FOUND);
	assert_null(move(&devops, "DEVOPS-014", "pause", NULL, T0, &e));
	assert_int_equal(e.kind, ERR_NOT_FOUND);
	json_decref(add(&devops, "{\"id\": \"DEVOPS-015\", \"title\": \"GA4\", "
	    "\"direction\": \"v7.0\", \"estimate\": \"1h\"}", T0, &e));
	assert_null(move(&devops, "DEVOPS-015", "block", "{\"on\": \"manager\"}",
	    T0, &e));
	assert_non_null(strstr(e.msg, "reason"));
	assert_null(move(&devops, "DEVOPS-015", "block", "{\"on\": \"DEVOPS-015\", "
	    "\"reason\": \"r\"}", T0, &e));
	assert_non_null(strstr(e.msg, "cannot wait for itself"));
	/* another agent's task: the agent is refused, the manager is not */
	assert_null(move(&data, "DEVOPS-015", "start", NULL, T0, &e));
	assert_int_equal(e.kind, ERR_DENIED);
	t = move(&admin, "DEVOPS-015", "block", "{\"on\": \"DEVOPS-014\", "
	    "\"reason\": \"after the guards\"}", T0 + H, &e);
	assert_non_null(t);
	json_decref(t);

	/* progress: v7.0 1/2 done, 5h estimated, 3h spent, one blocked */
	list = tasks_list(&st, NULL, NULL, NULL, T0 + 100 * H, &e);
	assert_non_null(list);
	assert_int_equal(json_array_size(json_object_get(list, "tasks")), 2);
	row = json_array_get(json_object_get(json_object_get(list, "progress"),
	    "directions"), 0);
	assert_string_equal(json_str(row, "direction"), "v7.0");
	assert_int_equal(json_int(row, "total", 0), 2);
	assert_int_equal(json_int(row, "done", 0), 1);
	assert_int_equal(json_int(row, "blocked", 0), 1);
	assert_true(json_real_value(json_object_get(row, "percent")) == 50.0);
	assert_int_equal(json_int(row, "estimate_ms", 0), 5 * H);
	assert_int_equal(json_int(row, "actual_ms", 0), 3 * H);
	assert_string_equal(json_str(json_array_get(json_object_get(row,
	    "blocked_on"), 0), "on"), "DEVOPS-014");
	json_decref(list);
	list = tasks_list(&st, "devops", NULL, "done", T0, &e);
	assert_int_equal(json_array_size(json_object_get(list, "tasks")), 1);
	json_decref(list);
	assert_null(tasks_list(&st, NULL, NULL, "finished", T0, &e));
	assert_int_equal(e.kind, ERR_INVALID);

	/* every change is evidence: ok, and the refused ones failed */
	assert_int_equal(evidence_count("task.add", "ok"), 2);
	assert_int_equal(evidence_count("task.add", "failed"), 2);
	assert_int_equal(evidence_count("task.start", "ok"), 2);
	assert_int_equal(evidence_count("task.block", "ok"), 2);
	assert_int_equal(evidence_count("task.done", "ok"), 1);
	/* the moves of devops since T0 + 1h, for reports */
	list = tasks_moves(&st, "devops", T0 + H, &e);
	assert_int_equal(json_array_size(list), 3);
	json_array_foreach(list, i, t)
		assert_string_equal(json_str(t, "task"), "DEVOPS-014");
	assert_string_equal(json_str(json_array_get(list, 0), "from"), "doing");
	assert_string_equal(json_str(json_array_get(list, 0), "to"), "blocked");
	json_decref(list);
}

static json_t *
import(const struct actor *a, const char *text, int64_t now, struct err *e)
{
	json_t *b = json_pack("{s:s, s:s}", "file", "devops.md", "text", text), *r;

	r = tasks_import(&st, a, b, now, e);
	json_decref(b);
	return r;
}

static void
test_import(void **state)
{
	size_t len;
	char *text = example(&len), *edited, *p;
	struct err e;
	json_t *r, *t;

	(void)state;
	/* an agent imports only its own tasks: devops.md is devops's */
	assert_null(import(&data, text, T0, &e));
	assert_int_equal(e.kind, ERR_DENIED);
	r = import(&devops, text, T0, &e);
	assert_non_null(r);
	assert_int_equal(json_int(r, "added", 0), 15);
	json_decref(r);
	json_decref(move(&devops, "DEVOPS-006", "start", NULL, T0, &e));
	/* again, with one estimate changed: one update, its status kept */
	edited = strdup(text);
	p = strstr(edited, "DEVOPS-006 Apply DATA-006 performance indexes [1h]");
	assert_non_null(p);
	memcpy(strstr(p, "[1h]"), "[2h]", 4);
	r = import(&admin, edited, T0 + H, &e);
	assert_int_equal(json_int(r, "added", 0), 0);
	assert_int_equal(json_int(r, "updated", 0), 1);
	assert_int_equal(json_int(r, "unchanged", 0), 14);
	json_decref(r);
	t = tasks_show(&st, "DEVOPS-006", T0 + H, &e);
	assert_string_equal(json_str(t, "status"), "doing");
	assert_int_equal(json_int(t, "estimate_ms", 0), 2 * H);
	json_decref(t);
	/* an agent cannot take another's task over by naming itself in a file */
	json_decref(add(&admin, "{\"id\": \"DATA-006\", \"title\": \"Indexes\", "
	    "\"owner\": \"data\"}", T0, &e));
	assert_null(import(&devops, "# Direction v6.0\nOwner: devops\n- [ ] "
	    "DATA-006 Mine now\n", T0 + H, &e));
	assert_int_equal(e.kind, ERR_DENIED);
	t = tasks_show(&st, "DATA-006", T0 + H, &e);
	assert_string_equal(json_str(t, "owner"), "data");
	assert_string_equal(json_str(t, "title"), "Indexes");
	json_decref(t);
	/* a bad file imports nothing */
	assert_null(import(&admin, "# Direction v9\nOwner: x\n- [ ] Z-1 ok\n"
	    "- [ ] z-2 bad\n", T0, &e));
	assert_null(tasks_show(&st, "Z-1", T0, &e));
	assert_int_equal(evidence_count("task.import", "ok"), 2);
	free(edited);
	free(text);
}

/* A report's markdown from a report object: each section, and None. */
static void
test_report_markdown(void **state)
{
	json_t *rep = json_loads("{\"actor\": \"devops\", \"since\": \"S\", "
	    "\"until\": \"U\", \"key\": \"ed25519:k\", \"moves\": [], "
	    "\"actions\": [{\"seq\": 7, \"at\": \"2025-10-21T07:42:37.000Z\", "
	    "\"action\": \"deploy.create\", \"target\": \"a|b\", \"via\": \"mcp\", "
	    "\"outcome\": \"pending\", \"detail\": \"waits for approval #1\", "
	    "\"approval\": 1}], \"by_action\": {\"deploy.create\": {\"total\": 1, "
	    "\"pending\": 1}}, \"by_tool\": {\"deploy\": 1}, \"deploys\": [], "
	    "\"incidents\": [], \"working_on\": [], \"blockers\": [], "
	    "\"next\": [], \"progress\": {\"directions\": []}}", 0, NULL);
	char *md;

	(void)state;
	assert_non_null(rep);
	md = report_markdown(rep);
	assert_non_null(strstr(md, "# Report: devops, S to U\n"));
	assert_non_null(strstr(md, "## Working on\n\nNone.\n"));
	assert_non_null(strstr(md, "| 7 | 07:42:37Z | deploy.create | a/b | mcp | "
	    "pending | waits for approval #1 |\n"));
	assert_non_null(strstr(md, "Per action: deploy.create 1 (pending 1).\n"));
	assert_non_null(strstr(md, "Per MCP tool: deploy 1.\n"));
	assert_non_null(strstr(md, "## Next\n\nNone.\n"));
	free(md);
	json_decref(rep);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_seed_directions),
		cmocka_unit_test(test_parse_forms),
		cmocka_unit_test(test_parse_errors),
		cmocka_unit_test_setup_teardown(test_moves_and_time, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_import, setup, teardown),
		cmocka_unit_test(test_report_markdown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
