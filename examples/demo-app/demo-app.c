/*
 * demo-app: a small HTTP server that misbehaves on request.
 *
 * opsdeck runs it as its example fleet, and the integration tests use it to
 * reproduce failures seen in production: crashes at boot, health checks
 * that turn to 503 after a cutover, slow endpoints, a steady trickle of
 * 500s.  Every misbehaviour is switched on by an environment variable or a
 * flag, never by chance, so that tests can expect exact results.
 *
 * Threads: the main thread owns signals and timers (sigtimedwait), one
 * thread accepts, and each connection gets a detached thread of its own.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif

#include <sys/socket.h>
#include <sys/time.h>
#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#define HEAD_MAX	(16 * 1024)
#define BODY_MAX	(1024 * 1024)
#define IDLE_TIMEOUT	60		/* s; idle threads go away */
#define RATE_SCALE	1000000ULL	/* error rate resolution: 1e-6 */
#define MS_MAX		(24L * 3600 * 1000)
#define SECONDS_MAX	1e7

#ifdef __GNUC__
#define PRINTFLIKE(f, a) __attribute__((format(printf, f, a)))
#else
#define PRINTFLIKE(f, a)
#endif

struct buf {
	char	*p;
	size_t	 len;
	size_t	 cap;
};

struct slice {
	const char	*p;
	size_t		 n;
};

struct config {
	long		 port;			/* -1 until set */
	const char	*name;
	const char	*version;
	int		 worker;
	double		 work_interval;
	int		 health_json;
	const char	*show_env;
	long		 tile_ms;
	long		 orders_ms;
	long		 slow_route_ms;
	const char	*access_log;
	long		 exit_at_start;		/* -1: boot */
	double		 start_delay;
	double		 crash_after;		/* -1: never */
	int		 fail_health;
	double		 fail_health_after;	/* -1: never */
	double		 error_rate;
	long		 slow_ms;
	long		 work_us;
	int		 ignore_sigterm;
};

static struct config cfg = {
	.port = -1,
	.name = "demo-app",
	.version = "dev",
	.work_interval = 1,
	.tile_ms = 20,
	.orders_ms = 50,
	.slow_route_ms = 500,
	.exit_at_start = -1,
	.crash_after = -1,
	.fail_health_after = -1,
};

enum opt_type {
	OPT_FLAG,	/* bare flag; 1/0, true/false, yes/no, on/off in env */
	OPT_ROLE,	/* --worker, or DEMO_ROLE=web|worker */
	OPT_PORT,
	OPT_MS,
	OPT_US,
	OPT_CODE,
	OPT_SECONDS,
	OPT_INTERVAL,
	OPT_RATE,
	OPT_WORD,	/* goes into headers and the startup line */
	OPT_TEXT,
};

static const char *const expected[] = {
	[OPT_FLAG] = "expected 1/0, true/false, yes/no or on/off",
	[OPT_ROLE] = "expected web or worker",
	[OPT_PORT] = "expected a port number from 0 to 65535",
	[OPT_MS] = "expected whole milliseconds >= 0",
	[OPT_US] = "expected whole microseconds >= 0, at most 1000000",
	[OPT_CODE] = "expected an exit code from 0 to 255",
	[OPT_SECONDS] = "expected seconds >= 0, like 2 or 0.5",
	[OPT_INTERVAL] = "expected seconds > 0, like 1 or 0.25",
	[OPT_RATE] = "expected a fraction from 0 to 1, like 0.1",
	[OPT_WORD] = "expected 1-128 printable characters, no spaces",
	[OPT_TEXT] = "expected a non-empty value",
};

/* One table drives env parsing, flag parsing and --help alike. */
static const struct option {
	const char	*flag;
	const char	*env;
	enum opt_type	 type;
	void		*dst;
	const char	*arg;
	const char	*help;
} options[] = {
	{ "port", "PORT", OPT_PORT, &cfg.port, "N",
	    "listen on 127.0.0.1:N; required unless --worker (0: any)" },
	{ "name", "DEMO_NAME", OPT_WORD, &cfg.name, "NAME",
	    "app name shown by / and /version (default demo-app)" },
	{ "app-version", "DEMO_VERSION", OPT_WORD, &cfg.version, "VER",
	    "version shown by /version and --version (default dev)" },
	{ "worker", "DEMO_ROLE", OPT_ROLE, &cfg.worker, NULL,
	    "run as a background job runner; do not listen" },
	{ "work-interval", "DEMO_WORK_INTERVAL", OPT_INTERVAL,
	    &cfg.work_interval, "S",
	    "worker: seconds between jobs (default 1)" },
	{ "health-json", "DEMO_HEALTH_JSON", OPT_FLAG, &cfg.health_json, NULL,
	    "/health answers chatwoot-style JSON instead of ok" },
	{ "show-env", "DEMO_SHOW_ENV", OPT_TEXT, &cfg.show_env, "LIST",
	    "comma-separated env var names that /version reports" },
	{ "tile-ms", "DEMO_TILE_MS", OPT_MS, &cfg.tile_ms, "MS",
	    "latency of /api/tiles/:id (default 20)" },
	{ "orders-ms", "DEMO_ORDERS_MS", OPT_MS, &cfg.orders_ms, "MS",
	    "latency of /api/orders (default 50)" },
	{ "slow-route-ms", "DEMO_SLOW_ROUTE_MS", OPT_MS, &cfg.slow_route_ms,
	    "MS", "latency of /api/slow (default 500)" },
	{ "access-log", "DEMO_ACCESS_LOG", OPT_TEXT, &cfg.access_log, "PATH",
	    "append the access log to PATH instead of stdout" },
	{ "exit-at-start", "DEMO_EXIT_AT_START", OPT_CODE, &cfg.exit_at_start,
	    "N", "print a startup error and exit N before listening" },
	{ "start-delay", "DEMO_START_DELAY", OPT_SECONDS, &cfg.start_delay,
	    "S", "sleep S seconds before listening (slow boot)" },
	{ "crash-after", "DEMO_CRASH_AFTER", OPT_SECONDS, &cfg.crash_after,
	    "S", "print an error and exit 1, S seconds after start" },
	{ "fail-health", "DEMO_FAIL_HEALTH", OPT_FLAG, &cfg.fail_health, NULL,
	    "/health answers 503 {\"status\":\"failing\"}" },
	{ "fail-health-after", "DEMO_FAIL_HEALTH_AFTER", OPT_SECONDS,
	    &cfg.fail_health_after, "S",
	    "/health answers 503 from S seconds after start on" },
	{ "error-rate", "DEMO_ERROR_RATE", OPT_RATE, &cfg.error_rate, "F",
	    "exactly fraction F of requests but /health answer 500" },
	{ "slow", "DEMO_SLOW_MS", OPT_MS, &cfg.slow_ms, "MS",
	    "add MS milliseconds to every request" },
	{ "work-us", "DEMO_WORK_US", OPT_US, &cfg.work_us, "US",
	    "spend US microseconds of CPU on every request (an app's own work)" },
	{ "ignore-sigterm", "DEMO_IGNORE_SIGTERM", OPT_FLAG,
	    &cfg.ignore_sigterm, NULL,
	    "ignore SIGTERM; only SIGINT or SIGKILL stop it" },
};

#define NELEM(a)	(sizeof(a) / sizeof((a)[0]))

struct conn {
	int		 fd;
	char		 peer[INET6_ADDRSTRLEN];
	size_t		 len;		/* bytes held in buf */
	char		 buf[HEAD_MAX];
};

struct request {
	struct slice	 line;		/* raw, for the access log */
	struct slice	 method;
	struct slice	 path;		/* target without query */
	struct slice	 user_agent;
	struct slice	 referer;
	struct slice	 content_type;
	int		 minor;		/* HTTP/1.<minor> */
	int		 head_only;
	int		 conn_close;
	int		 conn_keep_alive;
	int		 expect_continue;
	int		 has_length;
	size_t		 content_length;
	char		*body;
	size_t		 body_len;
	double		 started;
};

struct response {
	int		 status;
	struct slice	 type;
	const char	*allow;
	const char	*body;
	size_t		 body_len;
	struct buf	 owned;		/* body built per request */
	int		 close;
};

typedef void	route_fn(const struct request *, struct slice,
		    struct response *);

static double		 started_at;	/* monotonic */
static int		 listen_fd = -1;
static int		 log_fd = STDOUT_FILENO;
static sigset_t		 stop_signals;
static pthread_mutex_t	 out_lock = PTHREAD_MUTEX_INITIALIZER;
static atomic_ullong	 request_seq;
static unsigned long long error_ppm;
static struct buf	 index_page;
static struct buf	 version_page;

static void
die(const char *what)
{
	fprintf(stderr, "demo-app: %s: %s\n", what, strerror(errno));
	exit(1);
}

static double
now_mono(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static struct timespec
to_timespec(double secs)
{
	struct timespec ts;

	if (secs < 0)
		secs = 0;
	ts.tv_sec = (time_t)secs;
	ts.tv_nsec = (long)((secs - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L)
		ts.tv_nsec = 999999999L;
	return ts;
}

static void
sleep_ms(long ms)
{
	struct timespec ts = to_timespec((double)ms / 1000);

	while (ms > 0 && nanosleep(&ts, &ts) == -1 && errno == EINTR)
		;
}

/* Busy for us microseconds of this thread's CPU time, as an app computing a page. */
static void
burn_us(long us)
{
	struct timespec ts;
	int64_t end, now;

	if (us <= 0)
		return;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	end = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000 + us;
	do {
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
		now = (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
	} while (now < end);
}

static struct slice
cstr(const char *s)
{
	struct slice sl = { s, strlen(s) };

	return sl;
}

static int
slice_is(struct slice s, const char *lit)
{
	return s.n == strlen(lit) && memcmp(s.p, lit, s.n) == 0;
}

static int
slice_casecmp(struct slice s, const char *lit)
{
	return s.n == strlen(lit) && strncasecmp(s.p, lit, s.n) == 0;
}

static void
buf_grow(struct buf *b, size_t more)
{
	size_t	 cap;
	char	*p;

	if (b->cap - b->len > more)
		return;
	cap = b->cap ? b->cap : 256;
	while (cap - b->len <= more)
		cap *= 2;
	if ((p = realloc(b->p, cap)) == NULL) {
		fputs("demo-app: out of memory\n", stderr);
		abort();
	}
	b->p = p;
	b->cap = cap;
}

static void
buf_append(struct buf *b, const void *p, size_t n)
{
	buf_grow(b, n);
	memcpy(b->p + b->len, p, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void PRINTFLIKE(2, 3)
buf_printf(struct buf *b, const char *fmt, ...)
{
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	buf_grow(b, (size_t)n);
	va_start(ap, fmt);
	vsnprintf(b->p + b->len, (size_t)n + 1, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

static void
buf_free(struct buf *b)
{
	free(b->p);
	b->p = NULL;
	b->len = b->cap = 0;
}

/* Bytes >= 0x80 pass through: they are taken to be UTF-8 already. */
static void
json_string(struct buf *b, struct slice s)
{
	size_t	 i;

	buf_append(b, "\"", 1);
	for (i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];

		switch (c) {
		case '"':
			buf_append(b, "\\\"", 2);
			break;
		case '\\':
			buf_append(b, "\\\\", 2);
			break;
		case '\n':
			buf_append(b, "\\n", 2);
			break;
		case '\r':
			buf_append(b, "\\r", 2);
			break;
		case '\t':
			buf_append(b, "\\t", 2);
			break;
		default:
			if (c < 0x20 || c == 0x7f)
				buf_printf(b, "\\u%04x", c);
			else
				buf_append(b, &s.p[i], 1);
		}
	}
	buf_append(b, "\"", 1);
}

static void
html_text(struct buf *b, const char *s)
{
	for (; *s != '\0'; s++) {
		switch (*s) {
		case '&':
			buf_append(b, "&amp;", 5);
			break;
		case '<':
			buf_append(b, "&lt;", 4);
			break;
		case '>':
			buf_append(b, "&gt;", 4);
			break;
		case '"':
			buf_append(b, "&quot;", 6);
			break;
		default:
			buf_append(b, s, 1);
		}
	}
}

/*
 * Everything on stdout (startup line, worker lines, access log) goes
 * through here: one write(2) per line, under one lock, so lines from
 * concurrent requests never interleave and nothing sits in a stdio buffer
 * when we exit.
 */
static void
emit(int fd, const char *p, size_t n)
{
	ssize_t	 w;

	pthread_mutex_lock(&out_lock);
	while (n > 0) {
		if ((w = write(fd, p, n)) == -1) {
			if (errno == EINTR)
				continue;
			break;
		}
		p += w;
		n -= (size_t)w;
	}
	pthread_mutex_unlock(&out_lock);
}

static void PRINTFLIKE(1, 2)
say(const char *fmt, ...)
{
	char	 line[512];
	va_list	 ap;
	int	 n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	emit(STDOUT_FILENO, line, (size_t)n);
}

/* Option parsing. */

static int
parse_long(const char *s, long max, long *out)
{
	long	 v = 0;

	if (*s == '\0')
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		if (v > (max - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	*out = v;
	return 0;
}

/* Plain decimals only: strtod alone would take "nan", "-1" or "0x1p4". */
static int
parse_decimal(const char *s, double max, double *out)
{
	const char	*p;
	int		 digits = 0, dots = 0;
	double		 v;

	for (p = s; *p != '\0'; p++) {
		if (*p >= '0' && *p <= '9')
			digits++;
		else if (*p == '.')
			dots++;
		else
			return -1;
	}
	if (digits == 0 || dots > 1)
		return -1;
	v = strtod(s, NULL);
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_bool(const char *s, int *out)
{
	static const struct {
		const char	*word;
		int		 value;
	} words[] = {
		{ "1", 1 }, { "true", 1 }, { "yes", 1 }, { "on", 1 },
		{ "0", 0 }, { "false", 0 }, { "no", 0 }, { "off", 0 },
	};
	size_t	 i;

	for (i = 0; i < NELEM(words); i++) {
		if (strcasecmp(s, words[i].word) == 0) {
			*out = words[i].value;
			return 0;
		}
	}
	return -1;
}

static int
parse_role(const char *s, int *worker)
{
	if (strcmp(s, "worker") == 0)
		*worker = 1;
	else if (strcmp(s, "web") == 0 || strcmp(s, "server") == 0)
		*worker = 0;
	else
		return -1;
	return 0;
}

static int
parse_word(const char *s, const char **out)
{
	size_t	 n = strlen(s), i;

	if (n == 0 || n > 128)
		return -1;
	for (i = 0; i < n; i++)
		if (s[i] <= ' ' || s[i] > '~')
			return -1;
	*out = s;
	return 0;
}

static int
parse_value(const struct option *o, const char *s)
{
	double	 d;

	switch (o->type) {
	case OPT_FLAG:
		return parse_bool(s, o->dst);
	case OPT_ROLE:
		return parse_role(s, o->dst);
	case OPT_PORT:
		return parse_long(s, 65535, o->dst);
	case OPT_MS:
		return parse_long(s, MS_MAX, o->dst);
	case OPT_US:
		return parse_long(s, 1000000, o->dst);
	case OPT_CODE:
		return parse_long(s, 255, o->dst);
	case OPT_SECONDS:
		return parse_decimal(s, SECONDS_MAX, o->dst);
	case OPT_INTERVAL:
		if (parse_decimal(s, SECONDS_MAX, &d) == -1 || d <= 0)
			return -1;
		*(double *)o->dst = d;
		return 0;
	case OPT_RATE:
		return parse_decimal(s, 1.0, o->dst);
	case OPT_WORD:
		return parse_word(s, o->dst);
	case OPT_TEXT:
		if (*s == '\0')
			return -1;
		*(const char **)o->dst = s;
		return 0;
	}
	return -1;
}

static int
takes_value(const struct option *o)
{
	return o->type != OPT_FLAG && o->type != OPT_ROLE;
}

static void
set_option(const struct option *o, const char *val, const char *prefix,
    const char *name)
{
	if (parse_value(o, val) == 0)
		return;
	fprintf(stderr, "demo-app: bad value for %s%s: '%s' (%s)\n",
	    prefix, name, val, expected[o->type]);
	exit(2);
}

/* Empty counts as unset, as it does for most programs reading env. */
static void
load_env(void)
{
	const char	*v;
	size_t		 i;

	for (i = 0; i < NELEM(options); i++) {
		v = getenv(options[i].env);
		if (v != NULL && *v != '\0')
			set_option(&options[i], v, "", options[i].env);
	}
}

static void
usage(FILE *f)
{
	const struct option	*o;
	char			 left[48];
	size_t			 i;

	fputs("usage: demo-app [options]\n"
	    "\n"
	    "A small web app that misbehaves on request, for exercising "
	    "opsdeck.\n"
	    "Each option can also be set by the environment variable "
	    "beside it;\nflags win over the environment.\n"
	    "\n", f);
	for (i = 0; i < NELEM(options); i++) {
		o = &options[i];
		snprintf(left, sizeof(left), "--%s%s%s", o->flag,
		    o->arg ? " " : "", o->arg ? o->arg : "");
		fprintf(f, "  %-26s %s%s\n      %s\n", left, o->env,
		    o->type == OPT_ROLE ? "=worker" : "", o->help);
	}
	fputs("  --help\n      print this help\n"
	    "  --version\n      print the name and version, then exit\n", f);
}

static const struct option *
find_option(const char *name, size_t n)
{
	size_t	 i;

	for (i = 0; i < NELEM(options); i++)
		if (strlen(options[i].flag) == n &&
		    memcmp(options[i].flag, name, n) == 0)
			return &options[i];
	return NULL;
}

static void PRINTFLIKE(1, 2)
bad_usage(const char *fmt, ...)
{
	va_list	 ap;

	fputs("demo-app: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs("\ntry 'demo-app --help'\n", stderr);
	exit(2);
}

/* Returns 1 when --version was asked for. */
static int
parse_args(int argc, char **argv)
{
	const struct option	*o;
	const char		*arg, *name, *eq, *val;
	int			 i, want_version = 0;
	size_t			 n;

	for (i = 1; i < argc; i++) {
		arg = argv[i];
		if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
			usage(stdout);
			exit(0);
		}
		if (strcmp(arg, "--version") == 0) {
			want_version = 1;
			continue;
		}
		if (strncmp(arg, "--", 2) != 0 || arg[2] == '\0')
			bad_usage("unexpected argument '%s'", arg);
		name = arg + 2;
		eq = strchr(name, '=');
		n = eq ? (size_t)(eq - name) : strlen(name);
		if ((o = find_option(name, n)) == NULL)
			bad_usage("unknown option '%s'", arg);
		if (!takes_value(o)) {
			if (eq != NULL)
				bad_usage("option '%s' takes no value", arg);
			*(int *)o->dst = 1;
			continue;
		}
		if (eq != NULL)
			val = eq + 1;
		else if (i + 1 < argc)
			val = argv[++i];
		else
			bad_usage("option '%s' needs a value", arg);
		set_option(o, val, "--", o->flag);
	}
	return want_version;
}

/* Startup, signals and timers. */

/* Mimic a bundler failing on a broken import, as release v72 did. */
static void
fail_at_start(void)
{
	fputs("Error: \"db\" is not exported by \"app/db.server.ts\", "
	    "imported by \"app/routes/api.orders.tsx\".\n"
	    "    at getRollupError (file:///app/node_modules/rollup/dist/es/"
	    "shared/parseAst.js:401:41)\n"
	    "    at Module.error (file:///app/node_modules/rollup/dist/es/"
	    "shared/node-entry.js:16869:16)\n", stderr);
	fprintf(stderr, "demo-app: simulated startup failure, exit %ld\n",
	    cfg.exit_at_start);
	exit((int)cfg.exit_at_start);
}

static void
crash(void)
{
	fputs("Error: Connection terminated unexpectedly\n"
	    "    at Connection.<anonymous> (/app/node_modules/pg/lib/"
	    "client.js:132:73)\n"
	    "    at Object.onceWrapper (node:events:632:28)\n", stderr);
	fprintf(stderr, "demo-app: simulated crash %g s after start, exit 1\n",
	    cfg.crash_after);
	exit(1);
}

/*
 * SIGTERM and SIGINT are blocked in every thread and collected by the main
 * thread with sigtimedwait, which doubles as the timer for --crash-after.
 * They are reset to default first: a shell starting us in the background
 * hands down SIGINT ignored, and ignored signals are never queued.
 */
static void
setup_signals(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	sa.sa_handler = SIG_DFL;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigemptyset(&stop_signals);
	sigaddset(&stop_signals, SIGTERM);
	sigaddset(&stop_signals, SIGINT);
	if ((errno = pthread_sigmask(SIG_BLOCK, &stop_signals, NULL)) != 0)
		die("pthread_sigmask");
}

static void
on_signal(int sig)
{
	const char *name = sig == SIGTERM ? "SIGTERM" : "SIGINT";

	if (sig == SIGTERM && cfg.ignore_sigterm) {
		fputs("demo-app: ignoring SIGTERM\n", stderr);
		return;
	}
	/* Idle keep-alive connections die with the process; no draining. */
	if (listen_fd != -1)
		shutdown(listen_fd, SHUT_RDWR);
	fprintf(stderr, "demo-app: received %s, exiting\n", name);
	exit(0);
}

/* Wait until the monotonic deadline, handling signals and crash-after. */
static void
wait_until(double deadline)
{
	double		 now, until, crash_at = INFINITY;
	struct timespec	 ts;
	int		 sig;

	if (cfg.crash_after >= 0)
		crash_at = started_at + cfg.crash_after;
	for (;;) {
		now = now_mono();
		if (now >= crash_at)
			crash();
		if (now >= deadline)
			return;
		until = deadline < crash_at ? deadline : crash_at;
		if (isinf(until)) {
			sig = sigwaitinfo(&stop_signals, NULL);
		} else {
			ts = to_timespec(until - now);
			sig = sigtimedwait(&stop_signals, NULL, &ts);
		}
		if (sig == -1) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			die("sigtimedwait");
		}
		on_signal(sig);
	}
}

static void
run_worker(void)
{
	unsigned long long	 job = 0;
	double			 next = now_mono();

	say("demo-app %s %s worker started pid %ld\n", cfg.name,
	    cfg.version, (long)getpid());
	for (;;) {
		/* Scheduled from the start, so the beat does not drift. */
		next += cfg.work_interval;
		wait_until(next);
		say("worker: processed job %llu\n", ++job);
	}
}

/* Pages that never change are rendered once, before serving. */
static void
build_pages(long port)
{
	const char	*list, *end, *val;
	char		 key[256];
	size_t		 n;
	int		 first = 1;

	buf_printf(&index_page, "<!doctype html>\n<html><head>"
	    "<meta charset=\"utf-8\"><title>");
	html_text(&index_page, cfg.name);
	buf_printf(&index_page, "</title></head>\n<body><h1>");
	html_text(&index_page, cfg.name);
	buf_printf(&index_page, "</h1>\n<p>version ");
	html_text(&index_page, cfg.version);
	buf_printf(&index_page, ", pid %ld</p></body></html>\n",
	    (long)getpid());

	buf_append(&version_page, "{\"name\":", 8);
	json_string(&version_page, cstr(cfg.name));
	buf_append(&version_page, ",\"version\":", 11);
	json_string(&version_page, cstr(cfg.version));
	buf_printf(&version_page, ",\"pid\":%ld,\"port\":%ld,\"env\":{",
	    (long)getpid(), port);
	for (list = cfg.show_env; list != NULL && *list != '\0'; list = end) {
		end = list + strcspn(list, ",");
		while (list < end && *list == ' ')
			list++;
		n = (size_t)(end - list);
		while (n > 0 && list[n - 1] == ' ')
			n--;
		if (*end == ',')
			end++;
		if (n == 0 || n >= sizeof(key))
			continue;
		memcpy(key, list, n);
		key[n] = '\0';
		if ((val = getenv(key)) == NULL)
			continue;
		if (!first)
			buf_append(&version_page, ",", 1);
		first = 0;
		json_string(&version_page, cstr(key));
		buf_append(&version_page, ":", 1);
		json_string(&version_page, cstr(val));
	}
	buf_append(&version_page, "}}", 2);
}

/* Routes. */

static void
respond(struct response *rs, int status, const char *type, const char *body)
{
	rs->status = status;
	rs->type = cstr(type);
	rs->body = body;
	rs->body_len = strlen(body);
}

static void
respond_owned(struct response *rs, int status, const char *type)
{
	rs->status = status;
	rs->type = cstr(type);
	rs->body = rs->owned.p;
	rs->body_len = rs->owned.len;
}

#define TEXT	"text/plain; charset=utf-8"
#define JSON	"application/json"

static int
health_failing(void)
{
	if (cfg.fail_health)
		return 1;
	return cfg.fail_health_after >= 0 &&
	    now_mono() - started_at >= cfg.fail_health_after;
}

static void
route_health(const struct request *rq, struct slice arg, struct response *rs)
{
	(void)rq;
	(void)arg;
	if (health_failing())
		respond(rs, 503, JSON, "{\"status\":\"failing\"}");
	else if (cfg.health_json)
		respond(rs, 200, JSON,
		    "{\"queue_services\":\"ok\",\"data_services\":\"ok\"}");
	else
		respond(rs, 200, TEXT, "ok");
}

static void
route_index(const struct request *rq, struct slice arg, struct response *rs)
{
	(void)rq;
	(void)arg;
	respond(rs, 200, "text/html; charset=utf-8", index_page.p);
}

static void
route_version(const struct request *rq, struct slice arg, struct response *rs)
{
	(void)rq;
	(void)arg;
	respond(rs, 200, JSON, version_page.p);
}

static void
route_tile(const struct request *rq, struct slice id, struct response *rs)
{
	(void)rq;
	if (id.n == 0 || memchr(id.p, '/', id.n) != NULL) {
		respond(rs, 404, TEXT, "Not Found\n");
		return;
	}
	sleep_ms(cfg.tile_ms);
	buf_append(&rs->owned, "{\"tile\":", 8);
	json_string(&rs->owned, id);
	buf_append(&rs->owned, "}", 1);
	respond_owned(rs, 200, JSON);
}

static void
route_orders(const struct request *rq, struct slice arg, struct response *rs)
{
	(void)rq;
	(void)arg;
	sleep_ms(cfg.orders_ms);
	respond(rs, 200, JSON, "{\"orders\":["
	    "{\"id\":1001,\"status\":\"paid\",\"total_cents\":4200},"
	    "{\"id\":1002,\"status\":\"shipped\",\"total_cents\":1999}]}");
}

static void
route_slow(const struct request *rq, struct slice arg, struct response *rs)
{
	(void)rq;
	(void)arg;
	sleep_ms(cfg.slow_route_ms);
	buf_printf(&rs->owned, "{\"slow\":true,\"ms\":%ld}", cfg.slow_route_ms);
	respond_owned(rs, 200, JSON);
}

static void
route_echo(const struct request *rq, struct slice arg, struct response *rs)
{
	(void)arg;
	rs->status = 200;
	rs->type = rq->content_type.n ? rq->content_type :
	    cstr("application/octet-stream");
	rs->body = rq->body ? rq->body : "";
	rs->body_len = rq->body_len;
}

static const struct route {
	const char	*method;
	const char	*path;
	int		 prefix;	/* the rest of the path is the arg */
	route_fn	*fn;
} routes[] = {
	{ "GET", "/", 0, route_index },
	{ "GET", "/health", 0, route_health },
	{ "GET", "/version", 0, route_version },
	{ "GET", "/api/tiles/", 1, route_tile },
	{ "GET", "/api/orders", 0, route_orders },
	{ "GET", "/api/slow", 0, route_slow },
	{ "POST", "/api/echo", 0, route_echo },
};

/*
 * Request i (counting from 0) fails when floor((i+1)F) > floor(iF): any
 * run of n requests then holds floor(nF) or ceil(nF) failures, exactly nF
 * when that is whole.  Integer parts-per-million keep 0.29 from becoming
 * 0.28999... and losing a failure.
 */
static int
inject_error(void)
{
	unsigned long long i;

	if (error_ppm == 0)
		return 0;
	i = atomic_fetch_add(&request_seq, 1);
	return (i + 1) * error_ppm / RATE_SCALE > i * error_ppm / RATE_SCALE;
}

static int
path_matches(const struct route *r, struct slice path, struct slice *arg)
{
	size_t	 n = strlen(r->path);

	if (r->prefix ? path.n < n : path.n != n)
		return 0;
	if (memcmp(path.p, r->path, n) != 0)
		return 0;
	arg->p = path.p + n;
	arg->n = path.n - n;
	return 1;
}

static int
method_matches(const struct route *r, struct slice method)
{
	if (slice_is(method, r->method))
		return 1;
	return strcmp(r->method, "GET") == 0 && slice_is(method, "HEAD");
}

static void
dispatch(const struct request *rq, struct response *rs)
{
	const struct route	*r, *found = NULL;
	struct slice		 arg;
	size_t			 i;

	if (!slice_is(rq->path, "/health") && inject_error()) {
		respond(rs, 500, TEXT, "Internal Server Error\n");
		return;
	}
	for (i = 0; i < NELEM(routes); i++) {
		r = &routes[i];
		if (!path_matches(r, rq->path, &arg))
			continue;
		if (method_matches(r, rq->method)) {
			r->fn(rq, arg, rs);
			return;
		}
		found = r;
	}
	if (found == NULL) {
		respond(rs, 404, TEXT, "Not Found\n");
		return;
	}
	respond(rs, 405, TEXT, "Method Not Allowed\n");
	rs->allow = strcmp(found->method, "GET") == 0 ? "GET, HEAD" :
	    found->method;
}

/* HTTP parsing. */

static int
is_tchar(unsigned char c)
{
	if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z'))
		return 1;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static int
is_token(struct slice s)
{
	size_t	 i;

	if (s.n == 0)
		return 0;
	for (i = 0; i < s.n; i++)
		if (!is_tchar((unsigned char)s.p[i]))
			return 0;
	return 1;
}

static const char *
next_line(const char *p, const char *end, struct slice *line)
{
	const char	*nl = memchr(p, '\n', (size_t)(end - p));

	if (nl == NULL)
		nl = end;
	line->p = p;
	line->n = (size_t)(nl - p);
	if (line->n > 0 && p[line->n - 1] == '\r')
		line->n--;
	return nl < end ? nl + 1 : end;
}

static int
parse_request_line(struct slice line, struct request *rq)
{
	const char	*sp1, *sp2, *end = line.p + line.n;
	struct slice	 target, version;
	size_t		 i;

	if ((sp1 = memchr(line.p, ' ', line.n)) == NULL)
		return -1;
	if ((sp2 = memchr(sp1 + 1, ' ', (size_t)(end - sp1 - 1))) == NULL)
		return -1;
	rq->method.p = line.p;
	rq->method.n = (size_t)(sp1 - line.p);
	target.p = sp1 + 1;
	target.n = (size_t)(sp2 - target.p);
	version.p = sp2 + 1;
	version.n = (size_t)(end - version.p);

	if (!is_token(rq->method) || rq->method.n > 16)
		return -1;
	if (target.n == 0 || target.p[0] != '/')
		return -1;
	for (i = 0; i < target.n; i++)
		if (target.p[i] <= ' ' || target.p[i] > '~')
			return -1;
	if (version.n != 8 || memcmp(version.p, "HTTP/1.", 7) != 0 ||
	    (version.p[7] != '0' && version.p[7] != '1'))
		return -1;
	rq->minor = version.p[7] - '0';
	rq->head_only = slice_is(rq->method, "HEAD");
	rq->path.p = target.p;
	rq->path.n = strcspn(target.p, "?#");
	if (rq->path.n > target.n)
		rq->path.n = target.n;
	return 0;
}

static int
hdr_connection(struct request *rq, struct slice v)
{
	struct slice	 tok;
	const char	*p = v.p, *end = v.p + v.n, *comma;

	while (p < end) {
		comma = memchr(p, ',', (size_t)(end - p));
		if (comma == NULL)
			comma = end;
		tok.p = p;
		tok.n = (size_t)(comma - p);
		while (tok.n > 0 && (*tok.p == ' ' || *tok.p == '\t')) {
			tok.p++;
			tok.n--;
		}
		while (tok.n > 0 &&
		    (tok.p[tok.n - 1] == ' ' || tok.p[tok.n - 1] == '\t'))
			tok.n--;
		if (slice_casecmp(tok, "close"))
			rq->conn_close = 1;
		else if (slice_casecmp(tok, "keep-alive"))
			rq->conn_keep_alive = 1;
		p = comma + 1;
	}
	return 0;
}

/* Anything past BODY_MAX is just "too large", so cap instead of overflow. */
static int
hdr_content_length(struct request *rq, struct slice v)
{
	size_t	 len = 0, i;

	if (v.n == 0)
		return 400;
	for (i = 0; i < v.n; i++) {
		if (v.p[i] < '0' || v.p[i] > '9')
			return 400;
		if (len <= BODY_MAX)
			len = len * 10 + (size_t)(v.p[i] - '0');
	}
	if (len > BODY_MAX)
		len = BODY_MAX + 1;
	if (rq->has_length && rq->content_length != len)
		return 400;
	rq->has_length = 1;
	rq->content_length = len;
	return 0;
}

static int
hdr_transfer_encoding(struct request *rq, struct slice v)
{
	(void)rq;
	(void)v;
	/* No chunked bodies: every client we serve sends a length. */
	return 501;
}

static int
hdr_expect(struct request *rq, struct slice v)
{
	rq->expect_continue = slice_casecmp(v, "100-continue");
	return 0;
}

static const struct header {
	const char	*name;
	int		(*fn)(struct request *, struct slice);
	size_t		 field;		/* slice offset, no fn */
} headers[] = {
	{ "connection", hdr_connection, 0 },
	{ "content-length", hdr_content_length, 0 },
	{ "transfer-encoding", hdr_transfer_encoding, 0 },
	{ "expect", hdr_expect, 0 },
	{ "user-agent", NULL, offsetof(struct request, user_agent) },
	{ "referer", NULL, offsetof(struct request, referer) },
	{ "content-type", NULL, offsetof(struct request, content_type) },
};

static int
parse_header(struct slice line, struct request *rq)
{
	const char	*colon;
	struct slice	 name, value;
	size_t		 i;

	if ((colon = memchr(line.p, ':', line.n)) == NULL)
		return 400;
	name.p = line.p;
	name.n = (size_t)(colon - line.p);
	if (!is_token(name))
		return 400;
	value.p = colon + 1;
	value.n = line.n - name.n - 1;
	for (i = 0; i < value.n; i++) {
		unsigned char c = (unsigned char)value.p[i];

		if ((c < ' ' && c != '\t') || c == 0x7f)
			return 400;
	}
	while (value.n > 0 && (*value.p == ' ' || *value.p == '\t')) {
		value.p++;
		value.n--;
	}
	while (value.n > 0 && (value.p[value.n - 1] == ' ' ||
	    value.p[value.n - 1] == '\t'))
		value.n--;

	for (i = 0; i < NELEM(headers); i++) {
		if (!slice_casecmp(name, headers[i].name))
			continue;
		if (headers[i].fn != NULL)
			return headers[i].fn(rq, value);
		*(struct slice *)((char *)rq + headers[i].field) = value;
		return 0;
	}
	return 0;
}

/* Returns 0, or the status to refuse the request with. */
static int
parse_head(const char *p, size_t n, struct request *rq)
{
	const char	*end = p + n;
	struct slice	 line;
	int		 status;

	p = next_line(p, end, &rq->line);
	if (parse_request_line(rq->line, rq) == -1)
		return 400;
	while (p < end) {
		p = next_line(p, end, &line);
		if (line.n == 0)
			break;
		if (line.p[0] == ' ' || line.p[0] == '\t')
			return 400;	/* obsolete line folding */
		if ((status = parse_header(line, rq)) != 0)
			return status;
	}
	if (rq->has_length && rq->content_length > BODY_MAX)
		return 413;
	return 0;
}

/* Connections. */

static int
find_head_end(const char *p, size_t n, size_t *end)
{
	const char	*nl, *stop = p + n;

	for (nl = p; (nl = memchr(nl, '\n', (size_t)(stop - nl))) != NULL;
	    nl++) {
		if (nl + 1 < stop && nl[1] == '\n') {
			*end = (size_t)(nl + 2 - p);
			return 1;
		}
		if (nl + 2 < stop && nl[1] == '\r' && nl[2] == '\n') {
			*end = (size_t)(nl + 3 - p);
			return 1;
		}
	}
	return 0;
}

static void
consume(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
}

/*
 * Returns 1 once a whole head is buffered, 0 when the peer goes away or
 * idles out, -1 when the head does not fit in HEAD_MAX.
 */
static int
read_head(struct conn *c, size_t *end)
{
	ssize_t	 n;
	size_t	 blank;

	for (;;) {
		/* Stray CRLFs between requests are allowed (RFC 9112 2.2). */
		blank = 0;
		while (blank < c->len &&
		    (c->buf[blank] == '\r' || c->buf[blank] == '\n'))
			blank++;
		consume(c, blank);
		if (find_head_end(c->buf, c->len, end))
			return 1;
		if (c->len == sizeof(c->buf))
			return -1;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return 0;
		c->len += (size_t)n;
	}
}

static int
send_all(int fd, const char *p, size_t n)
{
	ssize_t	 w;

	while (n > 0) {
		if ((w = send(fd, p, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Reads the body behind the head; returns bytes of buf it used, or -1. */
static ssize_t
read_body(struct conn *c, size_t head, struct request *rq)
{
	static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
	size_t	 want = rq->content_length, have, got;
	ssize_t	 n;

	if (want == 0)
		return (ssize_t)head;
	have = c->len - head;
	got = have < want ? have : want;
	if ((rq->body = malloc(want)) == NULL)
		return -1;
	memcpy(rq->body, c->buf + head, got);
	if (got < want && rq->expect_continue &&
	    send_all(c->fd, cont, sizeof(cont) - 1) == -1)
		return -1;
	while (got < want) {
		n = recv(c->fd, rq->body + got, want - got, 0);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	rq->body_len = want;
	return (ssize_t)(head + (have < want ? have : want));
}

static const char *
reason(int status)
{
	static const struct {
		int		 code;
		const char	*text;
	} reasons[] = {
		{ 200, "OK" },
		{ 400, "Bad Request" },
		{ 404, "Not Found" },
		{ 405, "Method Not Allowed" },
		{ 413, "Content Too Large" },
		{ 431, "Request Header Fields Too Large" },
		{ 500, "Internal Server Error" },
		{ 501, "Not Implemented" },
		{ 503, "Service Unavailable" },
	};
	size_t	 i;

	for (i = 0; i < NELEM(reasons); i++)
		if (reasons[i].code == status)
			return reasons[i].text;
	return "Unknown";
}

static void
respond_error(struct response *rs, int status)
{
	buf_printf(&rs->owned, "%s\n", reason(status));
	respond_owned(rs, status, TEXT);
	rs->close = 1;
}

/* nginx escapes like this, so log parsers written for it cope. */
static void
log_field(struct buf *b, struct slice s)
{
	size_t	 i;

	if (s.n == 0) {
		buf_append(b, "-", 1);
		return;
	}
	for (i = 0; i < s.n; i++) {
		unsigned char c = (unsigned char)s.p[i];

		if (c < 0x20 || c >= 0x7f || c == '"' || c == '\\')
			buf_printf(b, "\\x%02X", c);
		else
			buf_append(b, &s.p[i], 1);
	}
}

static void
log_access(const struct conn *c, const struct request *rq, int status,
    size_t bytes)
{
	struct buf	 b = { 0 };
	char		 when[64];
	struct tm	 tm;
	time_t		 now = time(NULL);
	double		 secs = now_mono() - rq->started;

	localtime_r(&now, &tm);
	if (strftime(when, sizeof(when), "%d/%b/%Y:%H:%M:%S %z", &tm) == 0)
		when[0] = '\0';
	buf_printf(&b, "%s - - [%s] \"", c->peer, when);
	log_field(&b, rq->line);
	buf_printf(&b, "\" %d %zu \"", status, bytes);
	log_field(&b, rq->referer);
	buf_append(&b, "\" \"", 3);
	log_field(&b, rq->user_agent);
	buf_printf(&b, "\" %.3f\n", secs);
	emit(log_fd, b.p, b.len);
	buf_free(&b);
}

/* One write per response, so Nagle never holds back a second segment. */
static int
send_response(const struct conn *c, const struct request *rq,
    const struct response *rs, int keep)
{
	struct buf	 b = { 0 };
	char		 date[64];
	struct tm	 tm;
	time_t		 now = time(NULL);
	int		 rc;

	gmtime_r(&now, &tm);
	if (strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT",
	    &tm) == 0)
		date[0] = '\0';
	buf_printf(&b, "HTTP/1.1 %d %s\r\n"
	    "Date: %s\r\n"
	    "Server: demo-app\r\n"
	    "X-Demo-Version: %s\r\n"
	    "Content-Type: %.*s\r\n"
	    "Content-Length: %zu\r\n",
	    rs->status, reason(rs->status), date, cfg.version,
	    (int)rs->type.n, rs->type.p, rs->body_len);
	if (rs->allow != NULL)
		buf_printf(&b, "Allow: %s\r\n", rs->allow);
	buf_printf(&b, "Connection: %s\r\n\r\n", keep ? "keep-alive" : "close");
	if (!rq->head_only)
		buf_append(&b, rs->body, rs->body_len);
	rc = send_all(c->fd, b.p, b.len);
	buf_free(&b);
	return rc;
}

static void
finish(struct conn *c, struct request *rq, struct response *rs, int keep)
{
	int	 sent;

	sent = send_response(c, rq, rs, keep) == 0;
	log_access(c, rq, rs->status, sent && !rq->head_only ?
	    rs->body_len : 0);
	free(rq->body);
	buf_free(&rs->owned);
}

/* Serves one request; returns 1 to keep the connection for another. */
static int
serve_one(struct conn *c)
{
	struct request	 rq;
	struct response	 rs;
	size_t		 head;
	ssize_t		 used;
	int		 r, status, keep;

	r = read_head(c, &head);
	if (r == 0)
		return 0;
	memset(&rq, 0, sizeof(rq));
	memset(&rs, 0, sizeof(rs));
	rq.started = now_mono();
	if (r == -1) {
		/* The line may never end: log only its start. */
		next_line(c->buf, c->buf + c->len, &rq.line);
		if (rq.line.n > 1024)
			rq.line.n = 1024;
		respond_error(&rs, 431);
		finish(c, &rq, &rs, 0);
		return 0;
	}
	if ((status = parse_head(c->buf, head, &rq)) != 0) {
		rq.head_only = 0;
		respond_error(&rs, status);
		finish(c, &rq, &rs, 0);
		return 0;
	}
	if ((used = read_body(c, head, &rq)) == -1) {
		free(rq.body);
		return 0;
	}
	sleep_ms(cfg.slow_ms);
	burn_us(cfg.work_us);
	dispatch(&rq, &rs);
	keep = !rs.close && !rq.conn_close &&
	    (rq.minor == 1 || rq.conn_keep_alive);
	finish(c, &rq, &rs, keep);
	if (!keep)
		return 0;
	consume(c, (size_t)used);
	return 1;
}

static void *
serve_conn(void *arg)
{
	struct conn	*c = arg;

	while (serve_one(c))
		;
	close(c->fd);
	free(c);
	return NULL;
}

static void
start_conn(int fd, const struct sockaddr_in *peer, pthread_attr_t *attr)
{
	struct timeval	 tv = { IDLE_TIMEOUT, 0 };
	struct conn	*c;
	pthread_t	 tid;

	if ((c = malloc(sizeof(*c))) == NULL) {
		close(fd);
		return;
	}
	c->fd = fd;
	c->len = 0;
	if (inet_ntop(AF_INET, &peer->sin_addr, c->peer,
	    sizeof(c->peer)) == NULL)
		memcpy(c->peer, "-", 2);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (pthread_create(&tid, attr, serve_conn, c) != 0) {
		close(fd);
		free(c);
	}
}

static void *
accept_loop(void *arg)
{
	pthread_attr_t		 attr;
	struct sockaddr_in	 peer;
	socklen_t		 len;
	int			 fd;

	(void)arg;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	for (;;) {
		len = sizeof(peer);
		fd = accept(listen_fd, (struct sockaddr *)&peer, &len);
		if (fd != -1) {
			start_conn(fd, &peer, &attr);
			continue;
		}
		if (errno == EINTR || errno == ECONNABORTED)
			continue;
		/* Out of descriptors: back off rather than spin. */
		if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS ||
		    errno == ENOMEM) {
			sleep_ms(50);
			continue;
		}
		break;	/* the listener was shut down */
	}
	pthread_attr_destroy(&attr);
	return NULL;
}

static long
open_listener(long port)
{
	struct sockaddr_in	 sa;
	socklen_t		 len = sizeof(sa);
	int			 one = 1;

	if ((listen_fd = socket(AF_INET, SOCK_STREAM, 0)) == -1)
		die("socket");
	if (setsockopt(listen_fd, SOL_SOCKET, SO_REUSEADDR, &one,
	    sizeof(one)) == -1)
		die("setsockopt SO_REUSEADDR");
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)) == -1 ||
	    listen(listen_fd, 128) == -1) {
		fprintf(stderr, "demo-app: cannot listen on 127.0.0.1:%ld: "
		    "%s\n", port, strerror(errno));
		exit(1);
	}
	if (getsockname(listen_fd, (struct sockaddr *)&sa, &len) == -1)
		die("getsockname");
	return ntohs(sa.sin_port);
}

static void
run_server(void)
{
	pthread_t	 tid;
	long		 port;

	port = open_listener(cfg.port);
	build_pages(port);
	error_ppm = (unsigned long long)(cfg.error_rate * RATE_SCALE + 0.5);
	if ((errno = pthread_create(&tid, NULL, accept_loop, NULL)) != 0)
		die("pthread_create");
	pthread_detach(tid);
	say("demo-app %s %s listening on 127.0.0.1:%ld pid %ld\n", cfg.name,
	    cfg.version, port, (long)getpid());
	wait_until(INFINITY);
}

static void
open_access_log(void)
{
	if (cfg.access_log == NULL)
		return;
	log_fd = open(cfg.access_log, O_WRONLY | O_CREAT | O_APPEND |
	    O_CLOEXEC, 0644);
	if (log_fd == -1) {
		fprintf(stderr, "demo-app: cannot open access log %s: %s\n",
		    cfg.access_log, strerror(errno));
		exit(1);
	}
}

int
main(int argc, char **argv)
{
	started_at = now_mono();
	tzset();
	load_env();
	if (parse_args(argc, argv)) {
		printf("%s %s\n", cfg.name, cfg.version);
		return 0;
	}
	/* A broken build dies before it reads its config, PORT included. */
	if (cfg.exit_at_start >= 0)
		fail_at_start();
	if (!cfg.worker && cfg.port < 0) {
		fputs("demo-app: no port to listen on: set PORT or pass "
		    "--port N (or run with --worker)\n", stderr);
		return 2;
	}
	setup_signals();
	if (!cfg.worker)
		open_access_log();
	wait_until(started_at + cfg.start_delay);
	if (cfg.worker)
		run_worker();
	else
		run_server();
	return 0;
}
