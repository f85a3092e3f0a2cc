/*
 * The tests' mail receiver: a small SMTP server (RFC 5321's EHLO/HELO, MAIL, RCPT,
 * DATA, RSET, NOOP, QUIT; no TLS, no AUTH) on 127.0.0.1:PORT. Each message it takes
 * is appended to FILE as one JSON line: {"from", "to": [...], "data"}, the data
 * with its dot-stuffing undone. One connection at a time, so the lines are whole.
 * Dies with its parent (PR_SET_PDEATHSIG).
 *
 *   smtpd --port PORT --out FILE
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#define LINE_MAX_	1000	/* RFC 5321 4.5.3.1.6, with CRLF */
#define DATA_MAX	(1 << 20)
#define RCPT_MAX	16

struct conn {
	int	 fd;
	char	 in[DATA_MAX];
	size_t	 len;
};

/* The next line without its CRLF, or NULL when the peer is gone. */
static char *
next_line(struct conn *c, char *line, size_t size)
{
	for (;;) {
		char *nl = memchr(c->in, '\n', c->len);
		ssize_t n;

		if (nl != NULL) {
			size_t k = (size_t)(nl - c->in) + 1, m = k - 1;

			if (m > 0 && c->in[m - 1] == '\r')
				m--;
			if (m >= size)
				m = size - 1;
			memcpy(line, c->in, m);
			line[m] = '\0';
			memmove(c->in, c->in + k, c->len - k);
			c->len -= k;
			return line;
		}
		if (c->len == sizeof(c->in))
			return NULL;
		if ((n = read(c->fd, c->in + c->len, sizeof(c->in) - c->len)) <= 0)
			return NULL;
		c->len += (size_t)n;
	}
}

static void
say(struct conn *c, const char *s)
{
	if (write(c->fd, s, strlen(s)) < 0)
		return;
}

static void
json_str(FILE *out, const char *s)
{
	fputc('"', out);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(out, "\\%c", ch);
		else if (ch == '\n')
			fputs("\\n", out);
		else if (ch == '\r')
			fputs("\\r", out);
		else if (ch < 0x20)
			fprintf(out, "\\u%04x", ch);
		else
			fputc(ch, out);
	}
	fputc('"', out);
}

/* The address inside <...> after a MAIL FROM: or RCPT TO: */
static void
address(const char *arg, char *out, size_t size)
{
	const char *lt = strchr(arg, '<'), *gt = lt ? strchr(lt, '>') : NULL;

	if (lt == NULL || gt == NULL)
		snprintf(out, size, "%s", arg);
	else
		snprintf(out, size, "%.*s", (int)(gt - lt - 1), lt + 1);
}

static void
serve(struct conn *c, FILE *out)
{
	static char data[DATA_MAX];
	char line[LINE_MAX_ + 1], from[LINE_MAX_], to[RCPT_MAX][LINE_MAX_];
	size_t nto = 0, dlen, i;

	from[0] = '\0';
	say(c, "220 smtpd.test ESMTP ready\r\n");
	while (next_line(c, line, sizeof(line)) != NULL) {
		if (strncasecmp(line, "EHLO", 4) == 0)
			say(c, "250-smtpd.test\r\n250 8BITMIME\r\n");
		else if (strncasecmp(line, "HELO", 4) == 0)
			say(c, "250 smtpd.test\r\n");
		else if (strncasecmp(line, "MAIL FROM:", 10) == 0) {
			address(line + 10, from, sizeof(from));
			nto = 0;
			say(c, "250 ok\r\n");
		} else if (strncasecmp(line, "RCPT TO:", 8) == 0) {
			if (nto == RCPT_MAX) {
				say(c, "452 too many recipients\r\n");
				continue;
			}
			address(line + 8, to[nto++], sizeof(to[0]));
			say(c, "250 ok\r\n");
		} else if (strncasecmp(line, "DATA", 4) == 0) {
			if (from[0] == '\0' || nto == 0) {
				say(c, "503 MAIL and RCPT first\r\n");
				continue;
			}
			say(c, "354 end with <CRLF>.<CRLF>\r\n");
			dlen = 0;
			while (next_line(c, line, sizeof(line)) != NULL &&
			    strcmp(line, ".") != 0) {
				const char *l = line[0] == '.' ? line + 1 : line;
				size_t n = strlen(l);

				if (dlen + n + 2 < sizeof(data)) {
					memcpy(data + dlen, l, n);
					memcpy(data + dlen + n, "\r\n", 2);
					dlen += n + 2;
				}
			}
			data[dlen] = '\0';
			fputs("{\"from\":", out);
			json_str(out, from);
			fputs(",\"to\":[", out);
			for (i = 0; i < nto; i++) {
				if (i > 0)
					fputc(',', out);
				json_str(out, to[i]);
			}
			fputs("],\"data\":", out);
			json_str(out, data);
			fputs("}\n", out);
			fflush(out);
			from[0] = '\0';
			nto = 0;
			say(c, "250 queued\r\n");
		} else if (strncasecmp(line, "RSET", 4) == 0) {
			from[0] = '\0';
			nto = 0;
			say(c, "250 ok\r\n");
		} else if (strncasecmp(line, "NOOP", 4) == 0)
			say(c, "250 ok\r\n");
		else if (strncasecmp(line, "QUIT", 4) == 0) {
			say(c, "221 bye\r\n");
			return;
		} else
			say(c, "502 not implemented\r\n");
	}
}

int
main(int argc, char **argv)
{
	static struct conn c;
	struct sockaddr_in a;
	int port = 0, s, one = 1, i;
	const char *outpath = NULL;
	FILE *out;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			outpath = argv[++i];
		else {
			fprintf(stderr, "usage: smtpd --port PORT --out FILE\n");
			return 2;
		}
	}
	if (port <= 0 || outpath == NULL || (out = fopen(outpath, "a")) == NULL) {
		fprintf(stderr, "smtpd: give --port and a writable --out\n");
		return 2;
	}
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	signal(SIGPIPE, SIG_IGN);
	s = socket(AF_INET, SOCK_STREAM, 0);
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(s, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(s, 64) < 0) {
		fprintf(stderr, "smtpd: 127.0.0.1:%d: %s\n", port, strerror(errno));
		return 1;
	}
	for (;;) {
		c.fd = accept(s, NULL, NULL);
		if (c.fd < 0)
			continue;
		c.len = 0;
		serve(&c, out);
		close(c.fd);
	}
}
