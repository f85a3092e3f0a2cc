#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/un.h>
#include <netdb.h>
#include <unistd.h>

#include <stdio.h>

#include "client/client.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/xmalloc.h"
#include "core/util.h"
#include "store/state.h"

#define RESPONSE_MAX (64 * 1024 * 1024)
#define CLIENT_TIMEOUT_S 30

struct client {
	char	*socket_path;
	char	*state_dir;
	char	*addr;		/* $OPSDECK_ADDR: HOST:PORT over TCP, or NULL */
};

/* HOST:PORT (an IPv4 or [IPv6] literal, or localhost) over TCP. */
static int
connect_tcp(const char *addr, struct err *e)
{
	struct addrinfo hints, *res = NULL, *ai;
	char host[256];
	const char *port;
	int fd = -1, r;

	if (hostport_split(addr, host, sizeof(host), &port) < 0)
		return err_setk(e, ERR_INVALID, "OPSDECK_ADDR '%s': give HOST:PORT, "
		    "like 127.0.0.1:7480", addr);
	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_flags = AI_NUMERICSERV;
	if ((r = getaddrinfo(host, port, &hints, &res)) != 0)
		return err_setk(e, ERR_INVALID, "OPSDECK_ADDR '%s': %s", addr,
		    gai_strerror(r));
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		if ((fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol)) < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	if (fd < 0)
		err_setk(e, ERR_NOT_FOUND, "opsdeck does not answer on %s "
		    "(OPSDECK_ADDR): check api.listen in its config, or unset "
		    "OPSDECK_ADDR to use the state dir's socket", addr);
	return fd;
}

static int
connect_socket(const char *path, const char *state_dir, struct err *e)
{
	struct sockaddr_un sa;
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, "control socket path '%s' is too long: use a "
		    "shorter --state directory", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return err_errno(e, "socket");
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			err_setk(e, ERR_NOT_FOUND, "opsdeck is not running on "
			    "state dir '%s': start it with `opsdeck up -c FILE "
			    "--state %s`, or point --state at the directory "
			    "it runs on", state_dir, state_dir);
		else
			err_errno(e, "cannot reach opsdeck at '%s'", path);
		close(fd);
		return -1;
	}
	return fd;
}

struct client *
client_open(const char *state_dir, struct err *e)
{
	struct client *c;
	char *path = state_socket_path(state_dir);
	const char *addr = getenv("OPSDECK_ADDR");
	int fd;

	if (addr != NULL && *addr == '\0')
		addr = NULL;
	/* Fail early, with exit code 3, when no daemon listens. */
	if ((fd = addr != NULL ? connect_tcp(addr, e) :
	    connect_socket(path, state_dir, e)) < 0) {
		free(path);
		return NULL;
	}
	close(fd);
	c = xcalloc(1, sizeof(*c));
	c->socket_path = path;
	c->state_dir = xstrdup(state_dir);
	c->addr = addr != NULL ? xstrdup(addr) : NULL;
	return c;
}

void
client_free(struct client *c)
{
	if (c == NULL)
		return;
	free(c->socket_path);
	free(c->state_dir);
	free(c->addr);
	free(c);
}

static int
write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return -1;
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

/*
 * One HTTP/1.1 exchange with "Connection: close": the answer ends at EOF, so only the
 * status line and the header/body split need parsing.
 */
static int
http_exchange(struct client *c, const char *method, const char *path,
    const char *body, long *status, struct buf *resp, struct err *e)
{
	struct buf req = BUF_INIT;
	char chunk[16384];
	const char *sep, *token;
	int fd, ret = -1;
	ssize_t n;

	struct timeval tv = { CLIENT_TIMEOUT_S, 0 };

	if ((fd = c->addr != NULL ? connect_tcp(c->addr, e) :
	    connect_socket(c->socket_path, c->state_dir, e)) < 0)
		return -1;
	/* A daemon that stops answering must not hang the CLI. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	buf_printf(&req, "%s %s HTTP/1.1\r\nHost: opsdeck\r\n"
	    "User-Agent: " CLI_USER_AGENT "\r\nConnection: close\r\n",
	    method, path);
	/* OPSDECK_TOKEN acts as its actor instead of the local user. */
	if ((token = getenv("OPSDECK_TOKEN")) != NULL && *token != '\0')
		buf_printf(&req, "Authorization: Bearer %s\r\n", token);
	if (body != NULL)
		buf_printf(&req, "Content-Type: application/json\r\n"
		    "Content-Length: %zu\r\n\r\n%s", strlen(body), body);
	else
		buf_addstr(&req, "\r\n");
	if (write_all(fd, req.data, req.len) < 0) {
		err_errno(e, "cannot send to '%s'", c->socket_path);
		goto out;
	}
	for (;;) {
		n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
			err_set(e, "opsdeck at '%s' did not answer within %ds: "
			    "check the daemon's log", c->socket_path,
			    CLIENT_TIMEOUT_S);
			goto out;
		}
		if (n < 0) {
			err_errno(e, "cannot read from '%s'", c->socket_path);
			goto out;
		}
		if (n == 0)
			break;
		if (buf_add(resp, chunk, (size_t)n) < 0) {
			err_set(e, "answer from '%s' is larger than %d bytes",
			    c->socket_path, RESPONSE_MAX);
			goto out;
		}
	}
	if (resp->len < 12 || sscanf(buf_str(resp), "HTTP/1.%*c %ld", status) != 1 ||
	    (sep = strstr(buf_str(resp), "\r\n\r\n")) == NULL) {
		err_set(e, "control API at '%s' answered something that is not "
		    "HTTP", c->socket_path);
		goto out;
	}
	/* Keep only the body. */
	sep += 4;
	resp->len -= (size_t)(sep - resp->data);
	memmove(resp->data, sep, resp->len + 1);
	ret = 0;
out:
	/* Requests carry secret values (secrets set): wipe before freeing. */
	if (req.data != NULL)
		explicit_bzero(req.data, req.cap);
	buf_release(&req);
	close(fd);
	return ret;
}

json_t *
client_call(struct client *c, const char *method, const char *path,
    const json_t *body, struct err *e)
{
	struct buf resp = BUF_INIT_MAX(RESPONSE_MAX);
	char *text = NULL;
	json_t *out = NULL;
	json_error_t jerr;
	long status = 0;

	if (body != NULL || strcmp(method, "POST") == 0)
		text = body ? json_dump_compact(body) : xstrdup("{}");
	if (http_exchange(c, method, path, text, &status, &resp, e) < 0)
		goto out;
	out = json_loads(buf_str(&resp), 0, &jerr);
	if (out == NULL) {
		err_set(e, "control API answered %ld with a body that is not "
		    "JSON: %s", status, jerr.text);
		goto out;
	}
	if (status < 200 || status > 299) {
		const json_t *err = json_object_get(out, "error");
		const char *msg = json_is_object(err) ? json_str(err, "message") :
		    json_string_value(err);

		err_setk(e, status == 404 ? ERR_NOT_FOUND : status == 403 ?
		    ERR_DENIED : status == 409 ? ERR_CONFLICT : status == 400 ?
		    ERR_INVALID : ERR_FAILED, "%s", msg ? msg : "request failed");
		json_decref(out);
		out = NULL;
	}
out:
	buf_release(&resp);
	if (text != NULL)
		explicit_bzero(text, strlen(text));
	free(text);
	return out;
}

int
client_post_text(struct client *c, const char *path, const char *body,
    long *status, char **out, struct err *e)
{
	struct buf resp = BUF_INIT_MAX(RESPONSE_MAX);

	*out = NULL;
	if (http_exchange(c, "POST", path, body, status, &resp, e) < 0) {
		buf_release(&resp);
		return -1;
	}
	*out = xstrdup(buf_str(&resp));
	buf_release(&resp);
	return 0;
}
