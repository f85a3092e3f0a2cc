/*
 * loadgen: a paced HTTP/1.1 load generator that counts every answer, for the tests
 * that deploy behind the router while clients keep sending requests.
 *
 *   loadgen --url http://127.0.0.1:PORT/PATH --out FILE [--conns N] [--rate R]
 *           [--timeout-ms MS]
 *
 * N keep-alive connections (default 4) send GET requests, R a second in all (default
 * 200; 0: as fast as answers come). A connection the other side closes is opened
 * again. Like curl and browsers (RFC 9112, 9.3.1), a GET that finds its reused
 * keep-alive connection closed before any byte of the answer came is sent once more
 * on a new connection; these are counted as "retried", not failed. Every 100 ms, and once more on SIGTERM or SIGINT before exiting, FILE is
 * replaced (write, rename) with the counts so far:
 *
 *   {"requests": 1200, "failed": 3, "status": {"200": 1197, "503": 3},
 *    "errors": {"connect": 0, "closed": 0, "timeout": 0}, "first_errors": [...]}
 *
 * first_errors lists the first 32 errors, each with its wall-clock time (to read
 * beside the daemon's log), its kind, whether the connection had answered before and
 * how many bytes of the answer had come.
 *
 * requests counts every request that ended: with an answer (status) or an error.
 * failed is a connection error, a request cut off, a timeout or a 5xx answer.
 * Only loopback addresses are accepted.
 */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS	256
#define RESP_MAX	(1 << 20)

enum conn_state { IDLE, CONNECTING, SENDING, READING };

struct conn {
	int		 fd;
	enum conn_state	 state;
	size_t		 sent;
	char		*in;
	size_t		 inlen;
	int64_t		 started;	/* ms: when the request went out */
	bool		 reused;	/* answered a request before on this connection */
	bool		 retry;		/* this request is the one retry */
};

static struct {
	uint64_t	 requests, failed;
	uint64_t	 status[600];
	uint64_t	 connect, closed, timeout;
	uint64_t	 retried;
} count;

#define ERRLOG_MAX	32

static struct {
	char		 when[32];	/* UTC, like the daemon's log */
	const char	*kind;
	bool		 reused;
	size_t		 got;
} errlog[ERRLOG_MAX];
static size_t nerrlog;

static volatile sig_atomic_t stopping;

static void
on_signal(int sig)
{
	(void)sig;
	stopping = 1;
}

static int64_t
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
usage(void)
{
	fprintf(stderr, "usage: loadgen --url http://127.0.0.1:PORT/PATH --out FILE "
	    "[--conns N] [--rate R] [--timeout-ms MS]\n");
	exit(2);
}

static void
write_counts(const char *out)
{
	char tmp[4096];
	FILE *f;
	bool first = true;
	int i;

	snprintf(tmp, sizeof(tmp), "%s.tmp", out);
	if ((f = fopen(tmp, "w")) == NULL) {
		fprintf(stderr, "loadgen: %s: %s\n", tmp, strerror(errno));
		exit(1);
	}
	fprintf(f, "{\"requests\": %llu, \"failed\": %llu, \"status\": {",
	    (unsigned long long)count.requests, (unsigned long long)count.failed);
	for (i = 100; i < 600; i++) {
		if (count.status[i] == 0)
			continue;
		fprintf(f, "%s\"%d\": %llu", first ? "" : ", ", i,
		    (unsigned long long)count.status[i]);
		first = false;
	}
	fprintf(f, "}, \"errors\": {\"connect\": %llu, \"closed\": %llu, "
	    "\"timeout\": %llu}, \"retried\": %llu, \"first_errors\": [",
	    (unsigned long long)count.connect, (unsigned long long)count.closed,
	    (unsigned long long)count.timeout, (unsigned long long)count.retried);
	for (size_t k = 0; k < nerrlog; k++)
		fprintf(f, "%s{\"at\": \"%s\", \"kind\": \"%s\", \"reused\": %s, "
		    "\"got\": %zu}", k ? ", " : "", errlog[k].when, errlog[k].kind,
		    errlog[k].reused ? "true" : "false", errlog[k].got);
	fprintf(f, "]}\n");
	if (fclose(f) != 0 || rename(tmp, out) != 0) {
		fprintf(stderr, "loadgen: %s: %s\n", out, strerror(errno));
		exit(1);
	}
}

static void
conn_close(struct conn *c)
{
	if (c->fd >= 0)
		close(c->fd);
	c->fd = -1;
	c->state = IDLE;
	c->inlen = 0;
	c->reused = false;
	c->retry = false;
}

static void
conn_failed(struct conn *c, uint64_t *what)
{
	(*what)++;
	if (nerrlog < ERRLOG_MAX) {
		struct timespec ts;
		struct tm tm;

		clock_gettime(CLOCK_REALTIME, &ts);
		gmtime_r(&ts.tv_sec, &tm);
		snprintf(errlog[nerrlog].when, sizeof(errlog[nerrlog].when),
		    "%02d:%02d:%02d.%03ld", tm.tm_hour, tm.tm_min, tm.tm_sec,
		    ts.tv_nsec / 1000000);
		errlog[nerrlog].kind = what == &count.connect ? "connect" :
		    what == &count.closed ? "closed" : "timeout";
		errlog[nerrlog].reused = c->reused;
		errlog[nerrlog].got = c->inlen;
		nerrlog++;
	}
	count.requests++;
	count.failed++;
	conn_close(c);
}

static bool
conn_open(struct conn *c, const struct sockaddr_in *sa)
{
	int one = 1;

	if ((c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0)) < 0)
		return false;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)sa, sizeof(*sa)) < 0 &&
	    errno != EINPROGRESS) {
		close(c->fd);
		c->fd = -1;
		return false;
	}
	c->state = CONNECTING;
	return true;
}

/* A reused connection closed before any byte of the answer: send the request once
 * more on a new connection, as curl and browsers do. False when that is not the
 * case (or the retry cannot connect): then it is an error. */
static bool
conn_retry(struct conn *c, const struct sockaddr_in *sa)
{
	int64_t started = c->started;

	if (!c->reused || c->inlen != 0 || c->retry)
		return false;
	conn_close(c);
	if (!conn_open(c, sa))
		return false;
	c->sent = 0;
	c->started = started;
	c->retry = true;
	count.retried++;
	return true;
}

/* How long the answer in c->in is: 0 while it is not all there, -1 if it cannot be
 * read. Sets *status and *keep. */
static long
answer_len(const struct conn *c, int *status, bool *keep)
{
	const char *end, *p, *line;
	long clen = -1;
	size_t hlen;

	c->in[c->inlen] = '\0';
	if ((end = strstr(c->in, "\r\n\r\n")) == NULL)
		return c->inlen >= RESP_MAX - 1 ? -1 : 0;
	hlen = (size_t)(end - c->in) + 4;
	if (sscanf(c->in, "HTTP/1.%*c %d", status) != 1 || *status < 100 ||
	    *status > 599)
		return -1;
	*keep = strncmp(c->in, "HTTP/1.1", 8) == 0;
	for (line = strstr(c->in, "\r\n") + 2; line < end;
	    line = strstr(line, "\r\n") + 2) {
		if (strncasecmp(line, "Content-Length:", 15) == 0)
			clen = strtol(line + 15, NULL, 10);
		else if (strncasecmp(line, "Connection:", 11) == 0) {
			for (p = line + 11; *p == ' '; p++)
				;
			*keep = strncasecmp(p, "close", 5) != 0;
		} else if (strncasecmp(line, "Transfer-Encoding:", 18) == 0)
			return -1;	/* not sent by the demo app or HAProxy here */
	}
	if (clen < 0)
		return -1;
	if (hlen + (size_t)clen > c->inlen)
		return 0;
	return (long)(hlen + (size_t)clen);
}

int
main(int argc, char **argv)
{
	const char *url = NULL, *out = NULL, *path;
	char host[64], req[2048];
	struct sockaddr_in sa;
	struct conn conns[MAX_CONNS];
	struct pollfd pfd[MAX_CONNS];
	struct sigaction sig;
	int nconns = 4, port, i, timeout_ms = 10000;
	double rate = 200, tokens = 0;
	int64_t last, last_write = 0;
	size_t reqlen;

	for (i = 1; i < argc; i++) {
		if (i + 1 >= argc)
			usage();
		if (strcmp(argv[i], "--url") == 0)
			url = argv[++i];
		else if (strcmp(argv[i], "--out") == 0)
			out = argv[++i];
		else if (strcmp(argv[i], "--conns") == 0)
			nconns = atoi(argv[++i]);
		else if (strcmp(argv[i], "--rate") == 0)
			rate = atof(argv[++i]);
		else if (strcmp(argv[i], "--timeout-ms") == 0)
			timeout_ms = atoi(argv[++i]);
		else
			usage();
	}
	if (url == NULL || out == NULL || nconns < 1 || nconns > MAX_CONNS ||
	    rate < 0 || timeout_ms < 1)
		usage();
	if (sscanf(url, "http://%63[0-9.]:%d", host, &port) != 2 ||
	    (path = strchr(url + 7, '/')) == NULL || port < 1 || port > 65535) {
		fprintf(stderr, "loadgen: --url %s: want http://127.x.x.x:PORT/PATH\n",
		    url);
		return 2;
	}
	memset(&sa, 0, sizeof(sa));
	sa.sin_family = AF_INET;
	sa.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
	    (ntohl(sa.sin_addr.s_addr) >> 24) != 127) {
		fprintf(stderr, "loadgen: --url %s: only loopback addresses\n", url);
		return 2;
	}
	reqlen = (size_t)snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s:%d\r\n"
	    "User-Agent: opsdeck-loadgen\r\n\r\n", path, host, port);

	memset(&sig, 0, sizeof(sig));
	sig.sa_handler = on_signal;
	sigaction(SIGTERM, &sig, NULL);
	sigaction(SIGINT, &sig, NULL);
	signal(SIGPIPE, SIG_IGN);
	prctl(PR_SET_PDEATHSIG, SIGTERM);	/* a test that dies takes it along */
	for (i = 0; i < nconns; i++) {
		conns[i].fd = -1;
		conns[i].state = IDLE;
		conns[i].in = malloc(RESP_MAX);
		conns[i].inlen = 0;
		conns[i].reused = false;
		conns[i].retry = false;
		if (conns[i].in == NULL)
			return 1;
	}
	last = now_ms();
	while (!stopping) {
		int64_t t = now_ms();

		if (rate > 0) {
			tokens += (double)(t - last) * rate / 1000.0;
			if (tokens > nconns)
				tokens = nconns;
		}
		last = t;
		/* start a request on each idle connection a token allows */
		for (i = 0; i < nconns; i++) {
			struct conn *c = &conns[i];

			if (c->state != IDLE || (rate > 0 && tokens < 1))
				continue;
			if (c->fd < 0 && !conn_open(c, &sa)) {
				conn_failed(c, &count.connect);
				tokens -= 1;
				continue;
			}
			if (c->state == IDLE)
				c->state = SENDING;
			c->sent = 0;
			c->started = t;
			tokens -= 1;
		}
		for (i = 0; i < nconns; i++) {
			struct conn *c = &conns[i];

			pfd[i].fd = c->fd;
			pfd[i].events = c->state == CONNECTING || c->state == SENDING ?
			    POLLOUT : c->state == READING ? POLLIN : 0;
			if (c->state == IDLE)
				pfd[i].fd = -1;
		}
		if (poll(pfd, (nfds_t)nconns, rate > 0 ? 5 : 100) < 0 && errno != EINTR)
			return 1;
		t = now_ms();
		for (i = 0; i < nconns; i++) {
			struct conn *c = &conns[i];
			ssize_t n;
			int status = 0, soerr = 0;
			socklen_t sl = sizeof(soerr);
			bool keep = true;
			long len;

			if (c->state == IDLE)
				continue;
			if (t - c->started > timeout_ms) {
				conn_failed(c, &count.timeout);
				continue;
			}
			if (pfd[i].revents == 0)
				continue;
			if (c->state == CONNECTING) {
				getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
				if (soerr != 0) {
					conn_failed(c, &count.connect);
					continue;
				}
				c->state = SENDING;
			}
			if (c->state == SENDING) {
				n = send(c->fd, req + c->sent, reqlen - c->sent, 0);
				if (n < 0 && (errno == EAGAIN || errno == EINTR))
					continue;
				if (n < 0) {
					if (!conn_retry(c, &sa))
						conn_failed(c, c->reused ?
						    &count.closed : &count.connect);
					continue;
				}
				if ((c->sent += (size_t)n) == reqlen)
					c->state = READING;
				continue;
			}
			n = recv(c->fd, c->in + c->inlen, RESP_MAX - 1 - c->inlen, 0);
			if (n < 0 && (errno == EAGAIN || errno == EINTR))
				continue;
			if (n <= 0) {
				if (!conn_retry(c, &sa))
					conn_failed(c, &count.closed);
				continue;
			}
			c->inlen += (size_t)n;
			if ((len = answer_len(c, &status, &keep)) == 0)
				continue;
			if (len < 0) {
				conn_failed(c, &count.closed);
				continue;
			}
			count.requests++;
			count.status[status]++;
			if (status >= 500)
				count.failed++;
			if (!keep || (size_t)len != c->inlen) {
				conn_close(c);
				continue;
			}
			c->inlen = 0;
			c->state = IDLE;
			c->reused = true;
			c->retry = false;
		}
		if (t - last_write >= 100) {
			write_counts(out);
			last_write = t;
		}
	}
	write_counts(out);
	for (i = 0; i < nconns; i++) {
		conn_close(&conns[i]);
		free(conns[i].in);
	}
	return 0;
}
