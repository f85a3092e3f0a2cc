/*
 * The evidence and heartbeat guards (see evidence_guard.h). Both verify an export
 * first, with ledger/evidence.h, and read its entries only once it proved intact.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "guard/evidence_guard.h"
#include "guard/prbody.h"
#include "ledger/evidence.h"

#define EXPORT_MAX	((size_t)1 << 30)	/* as `evidence verify` reads */
#define ACTORS_SHOWN	5			/* other actors a message names */
#define HOWTO		"'Actor: NAME', 'Window: START .. END' and a list item " \
			"'- FILE' for each evidence export (`opsdeck evidence " \
			"export -o FILE`)"
#define REEXPORT	"take a fresh export (`opsdeck evidence export`) from the " \
			"control plane the key is of, and commit it unedited"

static long
report(guard_finding_fn fn, void *arg, enum guard_level level, const char *file,
    long line, long col, const char *title, const char *fmt, ...)
    __attribute__((format(printf, 8, 9)));

/* Hands one finding to fn: 1 for an error, else 0, to count them. */
static long
report(guard_finding_fn fn, void *arg, enum guard_level level, const char *file,
    long line, long col, const char *title, const char *fmt, ...)
{
	struct guard_finding f = { level, file, line, col, title, "" };
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(f.msg, sizeof(f.msg), fmt, ap);
	va_end(ap);
	fn(&f, arg);
	return level == GUARD_ERROR;
}

/* Verifies the export: true when intact, else false after reporting why. */
static bool
verify(const char *file, const char *text, size_t len, const char *pubkey_hex,
    struct evidence_verdict *v, guard_finding_fn fn, void *arg)
{
	struct err e;
	int r;

	if ((r = evidence_verify(text, len, pubkey_hex, v, &e)) < 0) {
		report(fn, arg, GUARD_ERROR, file, 0, 0, "evidence not verified",
		    "%s", e.msg);
		return false;
	}
	if (r > 0) {
		report(fn, arg, GUARD_ERROR, file, v->line, 0, "evidence altered",
		    "%s: %s", v->problem, REEXPORT);
		return false;
	}
	return true;
}

/*
 * The next entry of a verified export after *p (the header skipped by the caller),
 * its line into *line; NULL at the end.
 */
static json_t *
next_entry(const char **p, const char *end, long *line)
{
	const char *nl;
	json_t *j;

	while (*p < end) {
		if ((nl = memchr(*p, '\n', (size_t)(end - *p))) == NULL)
			nl = end;
		(*line)++;
		j = json_loadb(*p, (size_t)(nl - *p), 0, NULL);
		*p = nl + 1;
		if (json_is_object(j))
			return j;
		json_decref(j);
	}
	return NULL;
}

/* The text after the header line. */
static const char *
entries_start(const char *text, const char *end)
{
	const char *nl = memchr(text, '\n', (size_t)(end - text));

	return nl != NULL ? nl + 1 : end;
}

/* An entry's time: 0, or -1 when it has none that is a time. */
static int
entry_at(const json_t *j, int64_t *ms)
{
	const char *s = json_string_value(json_object_get(j, "at"));
	int64_t d;

	if (s == NULL || duration_parse(s, &d) == 0 || time_parse(s, 0, ms) < 0)
		return -1;
	return 0;
}

static const char *
jstr(const json_t *j, const char *key)
{
	const char *s = json_string_value(json_object_get(j, key));

	return s != NULL ? s : "";
}

/* ---- guard evidence ---------------------------------------------------------- */

/* What the entries of one export say about the window and the actor. */
struct scan {
	long		 entries, by_actor;
	long		 before, after;		/* entries outside the window */
	long		 before_line, after_line;	/* the first of each */
	int64_t		 before_seq, after_seq;
	char		 before_at[32], after_at[32];
	struct buf	 actors;		/* the others, ", "-separated */
	size_t		 nactors;
};

/*
 * An export the PR body names must be a file of the PR: a relative path without
 * "..", and a regular file, not a link, a device or a FIFO (which would hang the
 * job). -1 saying why.
 */
static int
path_refused(const char *named, const char *path, struct err *e)
{
	struct stat st;
	const char *p;

	if (named[0] == '/')
		return err_setk(e, ERR_INVALID, "'%s' is absolute: name an export "
		    "committed with the PR, relative to the body's folder", named);
	for (p = named; (p = strstr(p, "..")) != NULL; p += 2)
		if ((p == named || p[-1] == '/') && (p[2] == '/' || p[2] == '\0'))
			return err_setk(e, ERR_INVALID, "'%s' climbs out with '..': "
			    "name an export committed with the PR", named);
	if (lstat(path, &st) < 0)
		return 0;	/* file_read names what is missing */
	if (!S_ISREG(st.st_mode))
		return err_setk(e, ERR_INVALID, "'%s' is not a regular file (a "
		    "link, a device or a pipe): commit the export itself",
		    named);
	return 0;
}

static void
note_actor(struct scan *sc, const char *actor)
{
	const char *p = buf_str(&sc->actors);
	size_t n;

	if (*actor == '\0')
		actor = "(none)";
	n = strlen(actor);
	for (; (p = strstr(p, actor)) != NULL; p += n)
		if ((p == buf_str(&sc->actors) || p[-1] == ' ') &&
		    (p[n] == ',' || p[n] == '\0'))
			return;
	if (sc->nactors++ >= ACTORS_SHOWN)
		return;
	buf_printf(&sc->actors, "%s%s", sc->actors.len > 0 ? ", " : "", actor);
}

static void
scan_entries(struct scan *sc, const char *text, size_t len, const char *actor,
    int64_t since, int64_t until)
{
	const char *end = text + len, *p = entries_start(text, end);
	long line = 1;
	int64_t at;
	json_t *j;

	while ((j = next_entry(&p, end, &line)) != NULL) {
		const char *who = jstr(j, "actor");
		int64_t seq = json_integer_value(json_object_get(j, "seq"));

		sc->entries++;
		if (actor != NULL && strcmp(who, actor) == 0)
			sc->by_actor++;
		else
			note_actor(sc, who);
		/* No window known (since < 0): nothing is outside it. */
		if (since < 0)
			;
		else if (entry_at(j, &at) < 0 || at < since) {
			if (sc->before++ == 0) {
				sc->before_line = line;
				sc->before_seq = seq;
				snprintf(sc->before_at, sizeof(sc->before_at), "%s",
				    jstr(j, "at"));
			}
		} else if (at > until) {
			if (sc->after++ == 0) {
				sc->after_line = line;
				sc->after_seq = seq;
				snprintf(sc->after_at, sizeof(sc->after_at), "%s",
				    jstr(j, "at"));
			}
		}
		json_decref(j);
	}
}

/* One export the body names, at path (as the body wrote it: written). */
static long
check_export(const char *body_path, const struct prbody_file *bf,
    const char *path, const char *actor, int64_t since, int64_t until,
    const struct guard_evidence_opts *o, guard_finding_fn fn, void *arg)
{
	struct buf text = BUF_INIT_MAX(EXPORT_MAX);
	struct evidence_verdict v;
	struct scan sc;
	char s_since[32], s_until[32];
	struct err e;
	long errors = 0;

	memset(&sc, 0, sizeof(sc));
	buf_init(&sc.actors, 4096);
	if (path_refused(bf->path, path, &e) < 0) {
		errors = report(fn, arg, GUARD_ERROR, body_path, (long)bf->line,
		    (long)bf->col, "evidence file refused", "evidence file: %s",
		    e.msg);
		goto out;
	}
	if (file_read(path, EXPORT_MAX, &text, &e) < 0) {
		errors = report(fn, arg, GUARD_ERROR, body_path, (long)bf->line,
		    (long)bf->col, "evidence file missing", "evidence file: %s: "
		    "commit the export, or fix the path (relative to the folder "
		    "of '%s')", e.msg, body_path);
		goto out;
	}
	if (!verify(path, text.data != NULL ? text.data : "", text.len,
	    o->pubkey_hex, &v, fn, arg)) {
		errors = 1;
		goto out;
	}
	scan_entries(&sc, text.data, text.len, actor, since, until);
	format_time(since, s_since);
	format_time(until, s_until);
	if (sc.before > 0)
		errors += report(fn, arg, GUARD_ERROR, path, sc.before_line, 0,
		    "evidence outside the window", "entry seq %lld at %s is "
		    "before the window's start %s (%ld entr%s before it): export "
		    "from the start (`opsdeck evidence export --since %s`), or "
		    "move the PR's Window to cover it", (long long)sc.before_seq,
		    sc.before_at[0] ? sc.before_at : "(no time)", s_since,
		    sc.before, sc.before == 1 ? "y" : "ies", s_since);
	if (sc.after > 0)
		errors += report(fn, arg, GUARD_ERROR, path, sc.after_line, 0,
		    "evidence outside the window", "entry seq %lld at %s is "
		    "after the window's end %s (%ld entr%s after it): export when "
		    "the PR's work ends, or move the Window's end to cover it",
		    (long long)sc.after_seq, sc.after_at, s_until, sc.after,
		    sc.after == 1 ? "y" : "ies");
	if (actor != NULL && sc.by_actor == 0)
		errors += report(fn, arg, GUARD_ERROR, path, 1, 0,
		    "no evidence of the actor", "none of its %ld entries is by "
		    "actor '%s' (they are by %s%s): export the ledger that holds "
		    "the PR's work, or fix the Actor line", sc.entries, actor,
		    sc.nactors > 0 ? buf_str(&sc.actors) : "no one",
		    sc.nactors > ACTORS_SHOWN ? " and others" : "");
	if (errors == 0)
		report(fn, arg, GUARD_OK, path, 0, 0, "evidence ok", "ok: %lld "
		    "entries, seq %lld..%lld, %ld by '%s', %s%s%s%s, signed by %s",
		    (long long)v.entries, (long long)v.first_seq,
		    (long long)v.last_seq, sc.by_actor, actor != NULL ? actor :
		    "?", since >= 0 ? "all in " : "window not checked",
		    since >= 0 ? s_since : "", since >= 0 ? " .. " : "",
		    since >= 0 ? s_until : "", v.key);
out:
	buf_release(&sc.actors);
	buf_release(&text);
	return errors;
}

long
guard_evidence(const char *body_path, const char *text, size_t len,
    const struct guard_evidence_opts *o, guard_finding_fn fn, void *arg)
{
	struct prbody b;
	char *dir = path_dir(body_path), *path;
	const char *actor;
	int64_t since, until;
	long errors = 0, sec;
	size_t i;

	prbody_parse(&b, text, len);
	for (i = 0; i < b.nproblems; i++)
		errors += report(fn, arg, GUARD_ERROR, body_path,
		    (long)b.problems[i].line, (long)b.problems[i].col,
		    "bad Evidence line", "%s", b.problems[i].msg);
	if (b.section_line == 0) {
		errors += report(fn, arg, GUARD_ERROR, body_path, 1, 1,
		    "no Evidence section", "the PR body has no Evidence "
		    "section: add a heading '## Evidence' and under it " HOWTO);
		goto out;
	}
	sec = (long)b.section_line;
	actor = o->actor != NULL ? o->actor : b.actor;
	since = o->since_ms >= 0 ? o->since_ms : b.have_window ? b.since_ms : -1;
	until = o->until_ms >= 0 ? o->until_ms : b.have_window ? b.until_ms : -1;
	if (actor == NULL)
		errors += report(fn, arg, GUARD_ERROR, body_path, sec, 1,
		    "no actor", "the Evidence section names no actor: add a "
		    "line 'Actor: NAME' (or pass --actor)");
	if ((since < 0 || until < 0) && b.window_line == 0)
		errors += report(fn, arg, GUARD_ERROR, body_path, sec, 1,
		    "no window", "the Evidence section gives no time window: "
		    "add a line 'Window: START .. END', e.g. "
		    "2026-12-07T09:00:00Z .. 2026-12-07T17:00:00Z (or pass "
		    "--since and --until)");
	else if (since >= 0 && until >= 0 && until < since) {
		errors += report(fn, arg, GUARD_ERROR, body_path,
		    b.window_line > 0 ? (long)b.window_line : sec, 1,
		    "bad window", "with --since or --until the window ends "
		    "before it starts: give a start before its end");
		since = until = -1;
	}
	if (b.nfiles == 0)
		errors += report(fn, arg, GUARD_ERROR, body_path, sec, 1,
		    "no evidence files", "the Evidence section lists no "
		    "evidence files: add a list item '- FILE' for each export "
		    "(`opsdeck evidence export -o FILE`), relative to the body "
		    "file's folder");
	/* Without a whole window, each file is still verified and its actor checked. */
	if (since < 0 || until < 0)
		since = until = -1;
	for (i = 0; i < b.nfiles; i++) {
		path = strcmp(dir, ".") == 0 ? xstrdup(b.files[i].path) :
		    path_join(dir, b.files[i].path);
		errors += check_export(body_path, &b.files[i], path, actor,
		    since, until, o, fn, arg);
		free(path);
	}
out:
	prbody_release(&b);
	free(dir);
	return errors;
}

/* ---- guard heartbeat --------------------------------------------------------- */

long
guard_heartbeat(const char *file, const char *text, size_t len,
    const struct guard_heartbeat_opts *o, guard_finding_fn fn, void *arg)
{
	const char *end = text + len, *p = entries_start(text, end);
	struct evidence_verdict v;
	json_t *j, *best = NULL;
	char want[160], s_at[32], s_age[32], s_max[32], which[200];
	int64_t at, best_at = 0, age;
	long line = 1, best_line = 0, later = 0;
	long errors;

	if (!verify(file, text, len, o->pubkey_hex, &v, fn, arg))
		return 1;
	if (o->pubkey_hex == NULL)
		report(fn, arg, GUARD_WARN, file, 1, 0, "key not pinned", "no "
		    "--pubkey: trusting the key the export names (%s), so this "
		    "does not prove it is your control plane's: pass --pubkey "
		    "with what `opsdeck evidence key` prints", v.key);
	snprintf(want, sizeof(want), "heartbeat:%s", o->name != NULL ? o->name :
	    "");
	while ((j = next_entry(&p, end, &line)) != NULL) {
		const json_t *args = json_object_get(j, "args");
		const json_t *code = json_object_get(args, "exit_code");

		/* a run that started, or failed, is no sign of life */
		if (strcmp(jstr(j, "action"), "heartbeat.ping") != 0 ||
		    strcmp(jstr(j, "outcome"), "ok") != 0 ||
		    (json_is_string(json_object_get(args, "signal")) &&
		    strcmp(jstr(args, "signal"), "success") != 0) ||
		    (code != NULL && json_integer_value(code) != 0) ||
		    (o->name != NULL && strcmp(jstr(j, "target"), want) != 0) ||
		    (o->actor != NULL && strcmp(jstr(j, "actor"), o->actor) != 0) ||
		    entry_at(j, &at) < 0) {
			json_decref(j);
			continue;
		}
		if (at > o->at_ms) {
			later++;
			json_decref(j);
		} else if (best == NULL || at >= best_at) {
			json_decref(best);
			best = j;
			best_at = at;
			best_line = line;
		} else
			json_decref(j);
	}
	format_time(o->at_ms, s_at);
	duration_format(o->max_age_ms, s_max);
	if (o->name != NULL)
		snprintf(which, sizeof(which), " of heartbeat '%s'", o->name);
	else if (o->actor != NULL)
		snprintf(which, sizeof(which), " by actor '%s'", o->actor);
	else
		which[0] = '\0';
	if (best == NULL)
		return report(fn, arg, GUARD_ERROR, file, 1, 0, "no heartbeat",
		    "no heartbeat.ping%s of a success with outcome ok (a start or "
		    "a failure is none) at or before %s among "
		    "its %lld entries (seq %lld..%lld%s): check that the agent "
		    "runs and pings (`opsdeck heartbeat ping NAME`), then export "
		    "again", which, s_at, (long long)v.entries,
		    (long long)v.first_seq, (long long)v.last_seq, later > 0 ?
		    "; there are later ones: is --at right?" : "");
	age = o->at_ms - best_at;
	duration_format(age, s_age);
	snprintf(which, sizeof(which), "heartbeat '%s'", jstr(best, "target") +
	    (strncmp(jstr(best, "target"), "heartbeat:", 10) == 0 ? 10 : 0));
	if (age > o->max_age_ms)
		errors = report(fn, arg, GUARD_ERROR, file, best_line, 0,
		    "heartbeat stale", "%s last pinged at %s by '%s' (seq %lld), "
		    "%s before %s: older than the max age %s: check that the "
		    "agent still runs and pings, then export again", which,
		    jstr(best, "at"), jstr(best, "actor"), (long long)json_integer_value(
		    json_object_get(best, "seq")), s_age, s_at, s_max);
	else
		errors = report(fn, arg, GUARD_OK, file, best_line, 0,
		    "heartbeat ok", "%s ok: last pinged at %s by '%s' (seq %lld), "
		    "%s before %s (max age %s)", which, jstr(best, "at"),
		    jstr(best, "actor"), (long long)json_integer_value(
		    json_object_get(best, "seq")), s_age, s_at, s_max);
	json_decref(best);
	return errors;
}
