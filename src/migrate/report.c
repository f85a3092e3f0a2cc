#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include <pg_query.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/util.h"
#include "core/xmalloc.h"
#include "migrate/report.h"

static const char *const formats[] = {
	[LINT_FORMAT_TTY] = "tty",
	[LINT_FORMAT_JSON] = "json",
	[LINT_FORMAT_GCC] = "gcc",
	[LINT_FORMAT_SARIF] = "sarif",
	[LINT_FORMAT_GITHUB] = "github",
};

struct totals {
	size_t	 files, statements, findings, parse_errors;
	size_t	 by_severity[3];
	size_t	*by_rule;	/* indexed like lint_rules */
};

int
lint_format_parse(const char *s, enum lint_format *out)
{
	int i = str_index(s, formats, sizeof(formats) / sizeof(formats[0]));

	if (i < 0)
		return -1;
	*out = (enum lint_format)i;
	return 0;
}

/* lint_file leaves findings sorted by position, so they print in file order. */

static bool
pos_before(int l1, int c1, int l2, int c2)
{
	return l1 < l2 || (l1 == l2 && c1 < c2);
}

/*
 * tty output: LINE:COL and severity padded so the columns line up, and lines kept
 * under TTY_WIDTH columns by wrapping at spaces, continuation lines indented.
 */
#define TTY_WIDTH	99
#define SEV_WIDTH	7	/* "warning" */

struct tty {
	FILE	*out;
	size_t	 col;		/* characters on the current line */
	size_t	 indent;	/* where continuation lines start */
};

/* Characters in [s, s + n), not UTF-8 bytes. */
static size_t
text_width(const char *s, size_t n)
{
	size_t w = 0, i;

	for (i = 0; i < n; i++)
		if (((unsigned char)s[i] & 0xc0) != 0x80)
			w++;
	return w;
}

static void
tty_newline(struct tty *t)
{
	fprintf(t->out, "\n%*s", (int)t->indent, "");
	t->col = t->indent;
}

/* The length of the word at s; "-- opsdeck-ignore" is one word, to be copied. */
static size_t
word_len(const char *s)
{
	size_t n = strcspn(s, " ");

	if (n == 2 && s[0] == '-' && s[1] == '-' && s[2] == ' ')
		n += 1 + strcspn(s + 3, " ");
	return n;
}

/* Prints s word by word, going to a continuation line when a word would not fit. */
static void
tty_words(struct tty *t, const char *s)
{
	size_t n, w;

	while (*s != '\0') {
		n = word_len(s);
		w = text_width(s, n);
		if (t->col + w > TTY_WIDTH && t->col > t->indent)
			tty_newline(t);
		fwrite(s, 1, n, t->out);
		t->col += w;
		s += n;
		if (*s == ' ') {
			s++;
			n = word_len(s);
			if (*s != '\0' && t->col + 1 + text_width(s, n) <= TTY_WIDTH) {
				fputc(' ', t->out);
				t->col++;
			} else if (*s != '\0')
				tty_newline(t);
		}
	}
}

/*
 * Prints sep then seg: on this line when both fit, else seg starts a continuation
 * line (where it is wrapped word by word if it is longer than a line).
 */
static void
tty_segment(struct tty *t, const char *sep, const char *seg)
{
	size_t w = text_width(seg, strlen(seg));

	if (t->col + text_width(sep, strlen(sep)) + w <= TTY_WIDTH) {
		fputs(sep, t->out);
		t->col += text_width(sep, strlen(sep));
	} else
		tty_newline(t);
	/* a segment longer than a line goes on indented a little more */
	t->indent += 2;
	tty_words(t, seg);
	t->indent -= 2;
}

static void
print_tty_finding(FILE *out, const struct lint_finding *f, int posw)
{
	struct tty t = { out, 0, 0 };
	char pos[32];

	snprintf(pos, sizeof(pos), "%d:%d", f->line, f->col);
	t.col = (size_t)fprintf(out, "  %-*s  %-*s %s: ", posw, pos, SEV_WIDTH,
	    lint_severity_str(f->severity), f->rule->id);
	t.indent = 2 + (size_t)posw + 2 + SEV_WIDTH + 1;
	tty_words(&t, f->message);
	fprintf(out, "\n%*s", (int)t.indent, "");
	t.col = t.indent + (size_t)fprintf(out, "fix: ");
	t.indent += 5;
	tty_words(&t, f->fix);
	fputc('\n', out);
}

/* The width of the widest LINE:COL of a file's statements and findings. */
static int
pos_width(const struct lint_report *r)
{
	char pos[32];
	int w = 3, n;
	size_t i;

	for (i = 0; i < r->nstmts; i++)
		if ((n = snprintf(pos, sizeof(pos), "%d:%d", r->stmts[i].line,
		    r->stmts[i].col)) > w)
			w = n;
	for (i = 0; i < r->nfindings; i++)
		if ((n = snprintf(pos, sizeof(pos), "%d:%d", r->findings[i].line,
		    r->findings[i].col)) > w)
			w = n;
	return w;
}

static void
print_tty_stmt(FILE *out, const struct lint_stmt *s, int posw)
{
	struct tty t = { out, 0, 0 };
	struct buf lock = BUF_INIT;
	char pos[32];
	size_t k;

	snprintf(pos, sizeof(pos), "%d:%d", s->line, s->col);
	t.col = (size_t)fprintf(out, "  %-*s  %s", posw, pos, s->words);
	t.indent = 2 + (size_t)posw + 2 + 2;
	for (k = 0; k < s->locks.n; k++) {
		buf_reset(&lock);
		buf_printf(&lock, "%s%s on '%s' (blocks %s)", k == 0 ? "locks " :
		    "", lock_mode_str(s->locks.v[k].mode), s->locks.v[k].relation,
		    lock_mode_blocks(s->locks.v[k].mode));
		tty_segment(&t, k == 0 ? "  " : "; ", buf_str(&lock));
	}
	fputc('\n', out);
	buf_release(&lock);
}

static void
print_tty(FILE *out, const struct lint_report *r)
{
	const struct lint_finding *v = r->findings;
	int posw = pos_width(r);
	size_t i, j = 0;

	fprintf(out, "%s\n", r->path);
	for (i = 0; i < r->nstmts; i++) {
		const struct lint_stmt *s = &r->stmts[i];

		/* findings placed before this statement (e.g. a parse error) */
		while (j < r->nfindings && pos_before(v[j].line, v[j].col,
		    s->line, s->col))
			print_tty_finding(out, &v[j++], posw);
		print_tty_stmt(out, s, posw);
		while (j < r->nfindings && (i + 1 == r->nstmts ||
		    pos_before(v[j].line, v[j].col, r->stmts[i + 1].line,
		    r->stmts[i + 1].col)))
			print_tty_finding(out, &v[j++], posw);
	}
	while (j < r->nfindings)
		print_tty_finding(out, &v[j++], posw);
}

static void
print_gcc(FILE *out, const struct lint_report *r)
{
	const struct lint_finding *v = r->findings;
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		fprintf(out, "%s:%d:%d: %s: %s [%s]\n", r->path, v[i].line,
		    v[i].col, lint_severity_str(v[i].severity), v[i].message,
		    v[i].rule->id);
}

static void
print_github(FILE *out, const struct lint_report *r)
{
	static const char *const level[] = { "notice", "warning", "error" };
	const struct lint_finding *v = r->findings;
	size_t i;

	for (i = 0; i < r->nfindings; i++) {
		fprintf(out, "::%s file=", level[v[i].severity]);
		gh_escape(out, r->path, true);
		fprintf(out, ",line=%d,col=%d,title=%s::", v[i].line, v[i].col,
		    v[i].rule->id);
		gh_escape(out, v[i].message, false);
		fputs(" (fix: ", out);
		gh_escape(out, v[i].fix, false);
		fputs(")\n", out);
	}
}

static json_t *
report_json(const struct lint_report *r)
{
	const struct lint_finding *v = r->findings;
	json_t *o = json_object(), *stmts = json_array(), *fs = json_array();
	size_t i, k;

	for (i = 0; i < r->nstmts; i++) {
		const struct lint_stmt *s = &r->stmts[i];
		json_t *j = json_object(), *locks = json_array();

		json_object_set_new(j, "line", json_integer(s->line));
		json_object_set_new(j, "col", json_integer(s->col));
		json_object_set_new(j, "kind", s->kind != NULL ?
		    json_string(s->words) : json_null());
		json_object_set_new(j, "node", s->kind != NULL ?
		    json_string(s->kind) : json_null());
		for (k = 0; k < s->locks.n; k++)
			json_array_append_new(locks, json_pack("{s:s, s:s, s:s}",
			    "relation", s->locks.v[k].relation,
			    "mode", lock_mode_str(s->locks.v[k].mode),
			    "blocks", lock_mode_blocks(s->locks.v[k].mode)));
		json_object_set_new(j, "locks", locks);
		json_array_append_new(stmts, j);
	}
	for (i = 0; i < r->nfindings; i++)
		json_array_append_new(fs, json_pack(
		    "{s:s, s:s, s:i, s:i, s:s, s:s}",
		    "rule", v[i].rule->id,
		    "severity", lint_severity_str(v[i].severity),
		    "line", v[i].line, "col", v[i].col,
		    "message", v[i].message, "fix", v[i].fix));
	json_object_set_new(o, "path", json_string(r->path));
	json_object_set_new(o, "statements", stmts);
	json_object_set_new(o, "findings", fs);
	return o;
}

static const char *
sarif_level(enum lint_severity s)
{
	return s == LINT_ERROR ? "error" : s == LINT_WARNING ? "warning" :
	    "note";
}

static void
sarif_results(const struct lint_report *r, json_t *results)
{
	const struct lint_finding *v = r->findings;
	size_t i;

	for (i = 0; i < r->nfindings; i++)
		json_array_append_new(results, json_pack(
		    "{s:s, s:i, s:s, s:{s:s}, s:[{s:{s:{s:s}, s:{s:i, s:i}}}]}",
		    "ruleId", v[i].rule->id,
		    "ruleIndex", (int)(v[i].rule - lint_rules),
		    "level", sarif_level(v[i].severity),
		    "message", "text", v[i].message,
		    "locations", "physicalLocation", "artifactLocation", "uri",
		    r->path, "region", "startLine", v[i].line, "startColumn",
		    v[i].col));
}

/* The SARIF 2.1.0 document around results (which it takes). */
static json_t *
sarif_doc(json_t *results)
{
	json_t *rules = json_array();
	size_t i;

	for (i = 0; i < lint_rules_count; i++)
		json_array_append_new(rules, json_pack(
		    "{s:s, s:{s:s}, s:{s:s}, s:{s:s}}",
		    "id", lint_rules[i].id,
		    "shortDescription", "text", lint_rules[i].summary,
		    "help", "text", lint_rules[i].fix,
		    "defaultConfiguration", "level",
		    sarif_level(lint_rules[i].severity)));
	return json_pack("{s:s, s:s, s:[{s:{s:{s:s, s:s, s:s, s:o}}, s:o}]}",
	    "$schema", "https://json.schemastore.org/sarif-2.1.0.json",
	    "version", "2.1.0",
	    "runs", "tool", "driver", "name", "opsdeck",
	    "version", OPSDECK_VERSION,
	    "informationUri", "https://github.com/opsdeck/opsdeck",
	    "rules", rules, "results", results);
}

static void
totals_add(struct totals *t, const struct lint_report *r)
{
	size_t i;

	t->files++;
	t->statements += r->nstmts;
	for (i = 0; i < r->nfindings; i++) {
		t->findings++;
		t->by_severity[r->findings[i].severity]++;
		t->by_rule[r->findings[i].rule - lint_rules]++;
		if (strcmp(r->findings[i].rule->id, "parse-error") == 0)
			t->parse_errors++;
	}
}

static json_t *
totals_json(const struct totals *t)
{
	json_t *rules = json_object();
	size_t i;

	for (i = 0; i < lint_rules_count; i++)
		if (t->by_rule[i] > 0)
			json_object_set_new(rules, lint_rules[i].id,
			    json_integer((json_int_t)t->by_rule[i]));
	return json_pack("{s:I, s:I, s:I, s:I, s:I, s:I, s:I, s:o}",
	    "files", (json_int_t)t->files,
	    "statements", (json_int_t)t->statements,
	    "findings", (json_int_t)t->findings,
	    "errors", (json_int_t)t->by_severity[LINT_ERROR],
	    "warnings", (json_int_t)t->by_severity[LINT_WARNING],
	    "info", (json_int_t)t->by_severity[LINT_INFO],
	    "parse_errors", (json_int_t)t->parse_errors,
	    "rules", rules);
}

static void
print_totals(FILE *out, const struct totals *t)
{
	fprintf(out, "%zu file%s, %zu statement%s: %zu error%s, %zu warning%s, "
	    "%zu info\n", t->files, t->files == 1 ? "" : "s",
	    t->statements, t->statements == 1 ? "" : "s",
	    t->by_severity[LINT_ERROR],
	    t->by_severity[LINT_ERROR] == 1 ? "" : "s",
	    t->by_severity[LINT_WARNING],
	    t->by_severity[LINT_WARNING] == 1 ? "" : "s",
	    t->by_severity[LINT_INFO]);
}

/* What the files printed so far add up to. */
struct run {
	enum lint_format	 format;
	FILE			*out;
	struct totals		 t;
	json_t			*files, *results;
	int			 worst;
};

/* Prints or collects one file's report, in the order of the paths. */
static void
run_add(struct run *run, const struct lint_report *r)
{
	totals_add(&run->t, r);
	if (lint_report_worst(r) > run->worst)
		run->worst = lint_report_worst(r);
	switch (run->format) {
	case LINT_FORMAT_TTY:
		print_tty(run->out, r);
		break;
	case LINT_FORMAT_GCC:
		print_gcc(run->out, r);
		break;
	case LINT_FORMAT_GITHUB:
		print_github(run->out, r);
		break;
	case LINT_FORMAT_JSON:
		json_array_append_new(run->files, report_json(r));
		break;
	case LINT_FORMAT_SARIF:
		sarif_results(r, run->results);
		break;
	}
}

static int
lint_serial(const struct lint_options *opts, char *const *paths, size_t n,
    struct run *run, struct err *e)
{
	struct lint_report r;
	size_t i;

	for (i = 0; i < n; i++) {
		if (lint_path(opts, paths[i], &r, e) < 0) {
			lint_report_release(&r);
			return -1;
		}
		run_add(run, &r);
		lint_report_release(&r);
	}
	return 0;
}

/*
 * Parallel lint: jobs threads (the caller's and jobs - 1 more) take the next path
 * and lint it into a slot of a ring. The thread that fills the slot next in path
 * order, when no other is printing, prints it and every filled slot after it:
 * the output is the serial one byte for byte, and no thread waits for another
 * but when the ring is full (a long file at its head), which bounds memory by the
 * reports of a ring of files. Threads share, besides the ring and the counters
 * under the mutex, only what is read-only while they run: the options, the rule
 * table, the paths. One thread at a time prints, so the run's totals and out are
 * used by one thread at a time, under the printing flag.
 */
#define RING_PER_JOB	16

struct slot {
	struct lint_report	 rep;
	struct err		 err;
	int			 ret;
	bool			 done;
};

struct pool {
	pthread_mutex_t		 mu;
	pthread_cond_t		 room;		/* a slot was printed, or stop */
	const struct lint_options *opts;
	char *const		*paths;
	size_t			 n;
	struct slot		*ring;
	size_t			 nring;
	size_t			 next;		/* the next path to take */
	size_t			 printed;	/* paths printed so far */
	bool			 printing;	/* a thread prints the ring's head */
	bool			 stop;		/* a file could not be read */
	struct run		*run;
	struct err		*err;		/* that file's error */
};

/* With the mutex held: prints the filled slots at the head of the ring. */
static void
pool_print(struct pool *p)
{
	struct slot *s;

	p->printing = true;
	while (!p->stop && (s = &p->ring[p->printed % p->nring])->done) {
		if (s->ret < 0) {
			*p->err = s->err;
			p->stop = true;
			break;
		}
		pthread_mutex_unlock(&p->mu);
		run_add(p->run, &s->rep);
		lint_report_release(&s->rep);
		pthread_mutex_lock(&p->mu);
		s->done = false;
		p->printed++;
		pthread_cond_broadcast(&p->room);
	}
	if (p->stop)
		pthread_cond_broadcast(&p->room);
	p->printing = false;
}

static void *
pool_work(void *arg)
{
	struct pool *p = arg;
	struct lint_report rep;
	struct slot *s;
	struct err e;
	size_t i;
	int ret;

	pthread_mutex_lock(&p->mu);
	/*
	 * libpg_query keeps its memory contexts per thread and frees them when the
	 * thread ends; its first call in a thread registers that in a global it
	 * writes unguarded, so threads make that call one at a time.
	 */
	pg_query_init();
	for (;;) {
		while (!p->stop && p->next < p->n &&
		    p->next >= p->printed + p->nring)
			pthread_cond_wait(&p->room, &p->mu);
		if (p->stop || p->next >= p->n)
			break;
		i = p->next++;
		pthread_mutex_unlock(&p->mu);

		ret = lint_path(p->opts, p->paths[i], &rep, &e);

		pthread_mutex_lock(&p->mu);
		s = &p->ring[i % p->nring];
		s->rep = rep;
		s->ret = ret;
		if (ret < 0)
			s->err = e;
		s->done = true;
		if (!p->printing)
			pool_print(p);
	}
	pthread_mutex_unlock(&p->mu);
	return NULL;
}

static int
lint_parallel(const struct lint_options *opts, char *const *paths, size_t n,
    int jobs, struct run *run, struct err *e)
{
	struct pool p;
	pthread_t *tids;
	size_t i, nthreads = (size_t)jobs < n ? (size_t)jobs : n, started;
	int rc;

	memset(&p, 0, sizeof(p));
	pthread_mutex_init(&p.mu, NULL);
	pthread_cond_init(&p.room, NULL);
	p.opts = opts;
	p.paths = paths;
	p.n = n;
	p.nring = nthreads * RING_PER_JOB;
	p.ring = xcalloc(p.nring, sizeof(*p.ring));
	p.run = run;
	p.err = e;
	tids = xcalloc(nthreads - 1, sizeof(*tids));
	for (started = 0; started < nthreads - 1; started++)
		if ((rc = pthread_create(&tids[started], NULL, pool_work,
		    &p)) != 0) {
			log_warnx("lint: a worker thread: %s", strerror(rc));
			break;	/* fewer threads do the same work */
		}
	pool_work(&p);
	for (i = 0; i < started; i++)
		pthread_join(tids[i], NULL);
	/* after an error: its report, and those of files linted ahead of it */
	for (i = 0; i < p.nring; i++)
		if (p.ring[i].done)
			lint_report_release(&p.ring[i].rep);
	free(tids);
	free(p.ring);
	pthread_cond_destroy(&p.room);
	pthread_mutex_destroy(&p.mu);
	return p.stop ? -1 : 0;
}

int
lint_paths(const struct lint_options *opts, char *const *paths, size_t n,
    int jobs, enum lint_format format, FILE *out, json_t **doc, int *worst,
    struct err *e)
{
	struct run run;
	int ret = -1;

	*doc = NULL;
	memset(&run, 0, sizeof(run));
	run.format = format;
	run.out = out;
	run.worst = -1;
	run.files = json_array();
	run.results = json_array();
	run.t.by_rule = xcalloc(lint_rules_count, sizeof(*run.t.by_rule));
	if ((jobs <= 1 || n <= 1 ? lint_serial(opts, paths, n, &run, e) :
	    lint_parallel(opts, paths, n, jobs, &run, e)) < 0)
		goto out;
	if (format == LINT_FORMAT_JSON)
		*doc = json_pack("{s:O, s:o}", "files", run.files, "summary",
		    totals_json(&run.t));
	else if (format == LINT_FORMAT_SARIF)
		*doc = sarif_doc(json_incref(run.results));
	else if (format == LINT_FORMAT_TTY)
		print_totals(out, &run.t);
	ret = 0;
out:
	*worst = run.worst;
	json_decref(run.files);
	json_decref(run.results);
	free(run.t.by_rule);
	return ret;
}
