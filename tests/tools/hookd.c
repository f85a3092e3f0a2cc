/*
 * The tests' webhook receiver: answers every HTTP request on 127.0.0.1:PORT with
 * STATUS (default 200) and appends each request's body, as one line, to FILE (with
 * "METHOD PATH " before it when --with-path). One connection at a time, so the
 * lines are whole. Dies with its parent (PR_SET_PDEATHSIG).
 *
 *   hookd --port PORT --out FILE [--status CODE] [--with-path]
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

#define MAX_REQ	(1 << 20)

static void
serve(int c, FILE *out, int status, int with_path)
{
	static char buf[MAX_REQ + 1];
	size_t len = 0, want = 0, hdr = 0, i;
	char method[16] = "", path[512] = "", resp[128];
	ssize_t n;

	while (len < MAX_REQ) {
		if ((n = read(c, buf + len, MAX_REQ - len)) <= 0)
			return;
		len += (size_t)n;
		buf[len] = '\0';
		if (hdr == 0) {
			char *end = strstr(buf, "\r\n\r\n"), *cl;

			if (end == NULL)
				continue;
			hdr = (size_t)(end - buf) + 4;
			cl = strcasestr(buf, "\r\nContent-Length:");
			want = cl && cl < end ? strtoul(cl + 17, NULL, 10) : 0;
			sscanf(buf, "%15s %511s", method, path);
		}
		if (len >= hdr + want)
			break;
	}
	if (with_path)
		fprintf(out, "%s %s ", method, path);
	for (i = hdr; i < hdr + want && i < len; i++)
		fputc(buf[i] == '\n' ? ' ' : buf[i], out);
	fputc('\n', out);
	fflush(out);
	n = snprintf(resp, sizeof(resp), "HTTP/1.1 %d X\r\nContent-Length: 0\r\n"
	    "Connection: close\r\n\r\n", status);
	if (write(c, resp, (size_t)n) < 0)
		return;
}

int
main(int argc, char **argv)
{
	struct sockaddr_in a;
	int port = 0, status = 200, with_path = 0, s, one = 1, i;
	const char *outpath = NULL;
	FILE *out;

	for (i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--port") == 0 && i + 1 < argc)
			port = atoi(argv[++i]);
		else if (strcmp(argv[i], "--out") == 0 && i + 1 < argc)
			outpath = argv[++i];
		else if (strcmp(argv[i], "--status") == 0 && i + 1 < argc)
			status = atoi(argv[++i]);
		else if (strcmp(argv[i], "--with-path") == 0)
			with_path = 1;
		else {
			fprintf(stderr, "usage: hookd --port PORT --out FILE "
			    "[--status CODE] [--with-path]\n");
			return 2;
		}
	}
	if (port <= 0 || outpath == NULL || (out = fopen(outpath, "a")) == NULL) {
		fprintf(stderr, "hookd: give --port and a writable --out\n");
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
		fprintf(stderr, "hookd: 127.0.0.1:%d: %s\n", port, strerror(errno));
		return 1;
	}
	for (;;) {
		int c = accept(s, NULL, NULL);

		if (c < 0)
			continue;
		serve(c, out, status, with_path);
		close(c);
	}
}
