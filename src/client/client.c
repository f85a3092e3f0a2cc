#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <curl/curl.h>

#include "client/client.h"
#include "core/buf.h"
#include "core/json.h"
#include "core/xmalloc.h"
#include "runtime/daemon.h"

#define RESPONSE_MAX (64 * 1024 * 1024)

struct client {
	CURL	*curl;
	char	*socket_path;
	char	*state_dir;
};

/* A connect() tells "not running" apart from other failures before curl is involved. */
static int
probe_socket(const char *path, const char *state_dir, struct err *e)
{
	struct sockaddr_un sa;
	int fd, ret = 0;

	if (strlen(path) >= sizeof(sa.sun_path))
		return err_set(e, "control socket path '%s' is too long", path);
	if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return err_errno(e, "socket");
	memset(&sa, 0, sizeof(sa));
	sa.sun_family = AF_UNIX;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == ENOENT || errno == ECONNREFUSED)
			ret = err_setk(e, ERR_NOT_FOUND, "opsdeck is not "
			    "running on state dir '%s': start it with "
			    "`opsdeck up -c opsdeck.yaml --state %s`",
			    state_dir, state_dir);
		else
			ret = err_errno(e, "cannot reach opsdeck at '%s'",
			    path);
	}
	close(fd);
	return ret;
}

struct client *
client_open(const char *state_dir, struct err *e)
{
	struct client *c;
	char *path = state_socket_path(state_dir);

	if (probe_socket(path, state_dir, e) < 0) {
		free(path);
		return NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->socket_path = path;
	c->state_dir = xstrdup(state_dir);
	curl_global_init(CURL_GLOBAL_NOTHING);
	if ((c->curl = curl_easy_init()) == NULL) {
		err_set(e, "cannot initialise libcurl");
		client_free(c);
		return NULL;
	}
	return c;
}

void
client_free(struct client *c)
{
	if (c == NULL)
		return;
	if (c->curl != NULL)
		curl_easy_cleanup(c->curl);
	curl_global_cleanup();
	free(c->socket_path);
	free(c->state_dir);
	free(c);
}

static size_t
collect(char *p, size_t size, size_t n, void *arg)
{
	struct buf *b = arg;

	if (buf_add(b, p, size * n) < 0)
		return 0;
	return size * n;
}

json_t *
client_call(struct client *c, const char *method, const char *path,
    const json_t *body, struct err *e)
{
	struct buf resp = BUF_INIT_MAX(RESPONSE_MAX);
	struct curl_slist *hdrs = NULL;
	char *url = xasprintf("http://opsdeck%s", path), *text = NULL;
	json_t *out = NULL;
	json_error_t jerr;
	long status = 0;
	CURLcode rc;

	curl_easy_reset(c->curl);
	curl_easy_setopt(c->curl, CURLOPT_UNIX_SOCKET_PATH, c->socket_path);
	curl_easy_setopt(c->curl, CURLOPT_URL, url);
	curl_easy_setopt(c->curl, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, 30000L);
	curl_easy_setopt(c->curl, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c->curl, CURLOPT_WRITEDATA, &resp);
	if (body != NULL || strcmp(method, "POST") == 0) {
		text = body ? json_dump_compact(body) : xstrdup("{}");
		hdrs = curl_slist_append(hdrs, "Content-Type: application/json");
		curl_easy_setopt(c->curl, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(c->curl, CURLOPT_POSTFIELDS, text);
	}
	if ((rc = curl_easy_perform(c->curl)) != CURLE_OK) {
		err_set(e, "control API at '%s': %s", c->socket_path,
		    curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
	out = json_loads(buf_str(&resp), 0, &jerr);
	if (out == NULL) {
		err_set(e, "control API answered %ld with a body that is not "
		    "JSON: %s", status, jerr.text);
		goto out;
	}
	if (status < 200 || status > 299) {
		const char *msg = json_str(out, "error");

		err_setk(e, status == 404 ? ERR_NOT_FOUND : status == 403 ?
		    ERR_DENIED : status == 409 ? ERR_CONFLICT : status == 400 ?
		    ERR_INVALID : ERR_FAILED, "%s", msg ? msg : "request failed");
		json_decref(out);
		out = NULL;
	}
out:
	curl_slist_free_all(hdrs);
	buf_release(&resp);
	free(text);
	free(url);
	return out;
}
