#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sys/socket.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "monitor/probe.h"

#define BODY_KEEP 4096
#define PROBE_MAXCONNECTS 1024

struct prober {
	uv_loop_t	*loop;
	CURLM		*multi;
	uv_timer_t	*timer;
	struct probe	*probes;
	size_t		 nprobes;
	struct sockwatch **conns;	/* by fd: the connections curl opened */
	size_t		 nconns;
};

struct probe {
	struct prober	*pr;
	CURL		*easy;
	probe_cb	 cb;
	void		*arg;
	struct buf	 body;
	size_t		 max_body;
	bool		 truncated;
	bool		 tcp;
	struct curl_slist *headers;
	struct curl_slist *rcpt;
	char		*upload;
	size_t		 upload_len, upload_off;
	char		 errbuf[CURL_ERROR_SIZE];
	struct probe	*next, *prev;	/* the prober's running probes */
};

/*
 * A socket curl watches. A connection's (opened through open_socket) lives as long
 * as the connection: curl stops watching it between transfers while it waits in
 * the cache, and the same poll handle serves the next transfer, so a reused
 * connection costs no new handle (three syscalls each in libuv). Any other socket
 * curl watches (its resolver's) gets one for as long as curl watches it.
 */
struct sockwatch {
	uv_poll_t	 poll;
	curl_socket_t	 fd;
	struct prober	*pr;
	bool		 conn;
};

static void prober_check_done(struct prober *);

static void
on_poll(uv_poll_t *p, int status, int events)
{
	struct sockwatch *w = p->data;
	int running, flags = 0;

	if (status < 0)
		flags = CURL_CSELECT_ERR;
	if (events & UV_READABLE)
		flags |= CURL_CSELECT_IN;
	if (events & UV_WRITABLE)
		flags |= CURL_CSELECT_OUT;
	curl_multi_socket_action(w->pr->multi, w->fd, flags, &running);
	prober_check_done(w->pr);
}

static void
on_timeout(uv_timer_t *t)
{
	struct prober *pr = t->data;
	int running;

	curl_multi_socket_action(pr->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	prober_check_done(pr);
}

static void
free_handle(uv_handle_t *h)
{
	free(h->data == NULL ? (void *)h : h->data);
}

static struct sockwatch *
sockwatch_new(struct prober *pr, curl_socket_t fd, bool conn)
{
	struct sockwatch *w = xcalloc(1, sizeof(*w));

	w->fd = fd;
	w->pr = pr;
	w->conn = conn;
	if (uv_poll_init_socket(pr->loop, &w->poll, fd) != 0) {
		free(w);
		return NULL;
	}
	w->poll.data = w;
	return w;
}

static void
sockwatch_close(struct sockwatch *w)
{
	uv_poll_stop(&w->poll);
	uv_close((uv_handle_t *)&w->poll, free_handle);
}

static struct sockwatch *
conn_watch(const struct prober *pr, curl_socket_t fd)
{
	return fd >= 0 && (size_t)fd < pr->nconns ? pr->conns[fd] : NULL;
}

static curl_socket_t
open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *addr)
{
	struct prober *pr = arg;
	curl_socket_t fd;
	size_t n;

	/* close-on-exec: the daemon starts apps, which must not hold probes' sockets */
	fd = socket(addr->family, addr->socktype | SOCK_CLOEXEC, addr->protocol);
	if (fd < 0 || purpose != CURLSOCKTYPE_IPCXN)
		return fd < 0 ? CURL_SOCKET_BAD : fd;
	if ((size_t)fd >= pr->nconns) {
		n = pr->nconns ? pr->nconns : 64;
		while (n <= (size_t)fd)
			n *= 2;
		pr->conns = xreallocarray(pr->conns, n, sizeof(*pr->conns));
		memset(pr->conns + pr->nconns, 0,
		    (n - pr->nconns) * sizeof(*pr->conns));
		pr->nconns = n;
	}
	/* a socket closed past close_socket left its handle: not on this one */
	if (pr->conns[fd] != NULL)
		sockwatch_close(pr->conns[fd]);
	/* without a handle now, curl_socket_cb makes one per transfer */
	pr->conns[fd] = sockwatch_new(pr, fd, true);
	return fd;
}

static int
close_socket(void *arg, curl_socket_t fd)
{
	struct prober *pr = arg;
	struct sockwatch *w = conn_watch(pr, fd);

	if (w != NULL) {
		/* off the loop before the fd number can be given out again */
		pr->conns[fd] = NULL;
		sockwatch_close(w);
	}
	return close(fd) == 0 || errno == EINTR ? 0 : 1;
}

static int
curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *socketp)
{
	struct prober *pr = userp;
	struct sockwatch *w = conn_watch(pr, fd);
	int events = 0;

	(void)easy;
	/* A connection's handle is found by its fd, never through socketp. */
	if (w == NULL)
		w = socketp;
	if (what == CURL_POLL_REMOVE) {
		if (w == NULL)
			return 0;
		if (w->conn) {
			uv_poll_stop(&w->poll);
			return 0;
		}
		/* The fd number can be reused at once: forget it now. */
		curl_multi_assign(pr->multi, fd, NULL);
		sockwatch_close(w);
		return 0;
	}
	if (w == NULL) {
		if ((w = sockwatch_new(pr, fd, false)) == NULL) {
			log_warnx("probe: cannot watch socket %d", (int)fd);
			return -1;
		}
		curl_multi_assign(pr->multi, fd, w);
	}
	if (what & CURL_POLL_IN)
		events |= UV_READABLE;
	if (what & CURL_POLL_OUT)
		events |= UV_WRITABLE;
	uv_poll_start(&w->poll, events, on_poll);
	return 0;
}

static int
curl_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct prober *pr = userp;

	(void)multi;
	if (timeout_ms < 0)
		uv_timer_stop(pr->timer);
	else
		uv_timer_start(pr->timer, on_timeout, (uint64_t)timeout_ms, 0);
	return 0;
}

struct prober *
prober_new(uv_loop_t *loop)
{
	struct prober *pr = xcalloc(1, sizeof(*pr));

	curl_global_init(CURL_GLOBAL_NOTHING);
	pr->loop = loop;
	pr->timer = xcalloc(1, sizeof(*pr->timer));
	uv_timer_init(loop, pr->timer);
	pr->timer->data = pr;
	pr->multi = curl_multi_init();
	curl_multi_setopt(pr->multi, CURLMOPT_SOCKETFUNCTION, curl_socket_cb);
	curl_multi_setopt(pr->multi, CURLMOPT_SOCKETDATA, pr);
	curl_multi_setopt(pr->multi, CURLMOPT_TIMERFUNCTION, curl_timer_cb);
	curl_multi_setopt(pr->multi, CURLMOPT_TIMERDATA, pr);
	/*
	 * Keep idle connections for the next runs. curl's default cache is four per
	 * transfer in flight, so after a burst of checks due in one slot it closes
	 * all but a few and the next burst connects again.
	 */
	curl_multi_setopt(pr->multi, CURLMOPT_MAXCONNECTS, (long)PROBE_MAXCONNECTS);
	return pr;
}

static void
probe_free(struct probe *p)
{
	if (p->prev != NULL)
		p->prev->next = p->next;
	else
		p->pr->probes = p->next;
	if (p->next != NULL)
		p->next->prev = p->prev;
	p->pr->nprobes--;
	curl_multi_remove_handle(p->pr->multi, p->easy);
	curl_easy_cleanup(p->easy);
	curl_slist_free_all(p->headers);
	curl_slist_free_all(p->rcpt);
	free(p->upload);
	buf_release(&p->body);
	free(p);
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct probe *p = arg;

	/* Keep the start of the body for conditions; read and drop the rest. */
	if (p->body.len < p->max_body)
		buf_add(&p->body, data, size * n < p->max_body - p->body.len ?
		    size * n : p->max_body - p->body.len);
	if (size * n > 0 && p->body.len == p->max_body)
		p->truncated = true;
	return size * n;
}

static size_t
upload_read(char *buf, size_t size, size_t n, void *arg)
{
	struct probe *p = arg;
	size_t left = p->upload_len - p->upload_off;

	if (left > size * n)
		left = size * n;
	memcpy(buf, p->upload + p->upload_off, left);
	p->upload_off += left;
	return left;
}

/* Milliseconds until the server certificate's "Expire date", or -1. */
static int64_t
cert_expiry(CURL *easy)
{
	struct curl_certinfo *ci = NULL;
	struct curl_slist *sl;
	struct tm tm;

	if (curl_easy_getinfo(easy, CURLINFO_CERTINFO, &ci) != CURLE_OK ||
	    ci == NULL || ci->num_of_certs < 1)
		return -1;
	/* certinfo[0] is the server's own certificate */
	for (sl = ci->certinfo[0]; sl != NULL; sl = sl->next)
		if (strncmp(sl->data, "Expire date:", 12) == 0) {
			const char *v = sl->data + 12;

			memset(&tm, 0, sizeof(tm));
			while (*v == ' ')
				v++;
			/* "Jan  1 00:00:00 2027 GMT" */
			if (strptime(v, "%b %e %H:%M:%S %Y", &tm) == NULL)
				return -1;
			return ((int64_t)timegm(&tm) - (int64_t)time(NULL)) * 1000;
		}
	return -1;
}

/* Hands finished transfers to their callbacks (outside curl's own callbacks). */
static void
prober_check_done(struct prober *pr)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(pr->multi, &left)) != NULL) {
		struct probe *p = NULL;
		struct probe_result r;
		curl_off_t t = 0;
		char *ip = NULL;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
		memset(&r, 0, sizeof(r));
		r.cert_expiry_ms = -1;
		if (msg->data.result == CURLE_OK && !p->tcp)
			curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE,
			    &r.status);
		else if (msg->data.result != CURLE_OK)
			r.error = p->errbuf[0] ? p->errbuf :
			    curl_easy_strerror(msg->data.result);
		curl_easy_getinfo(p->easy, CURLINFO_TOTAL_TIME_T, &t);
		r.elapsed_ms = (int64_t)(t / 1000);
		r.body = buf_str(&p->body);
		r.body_len = p->body.len;
		r.truncated = p->truncated;
		r.connected = msg->data.result == CURLE_OK || r.status > 0;
		if (!r.connected) {
			curl_off_t ct = 0;

			curl_easy_getinfo(p->easy, CURLINFO_CONNECT_TIME_T, &ct);
			r.connected = ct > 0;
		}
		if (curl_easy_getinfo(p->easy, CURLINFO_PRIMARY_IP, &ip) == CURLE_OK &&
		    ip != NULL && *ip != '\0')
			r.ip = ip;
		r.cert_expiry_ms = cert_expiry(p->easy);
		p->cb(p->arg, &r);
		probe_free(p);
	}
}

struct probe *
probe_start(struct prober *pr, const struct probe_req *req, probe_cb cb,
    void *arg)
{
	struct probe *p = xcalloc(1, sizeof(*p));
	size_t i;

	p->pr = pr;
	p->cb = cb;
	p->arg = arg;
	p->tcp = req->tcp;
	p->max_body = req->max_body > 0 ? req->max_body : BODY_KEEP;
	buf_init(&p->body, 0);
	p->easy = curl_easy_init();
	curl_easy_setopt(p->easy, CURLOPT_URL, req->url);
	curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
	curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->easy, CURLOPT_OPENSOCKETFUNCTION, open_socket);
	curl_easy_setopt(p->easy, CURLOPT_OPENSOCKETDATA, pr);
	curl_easy_setopt(p->easy, CURLOPT_CLOSESOCKETFUNCTION, close_socket);
	curl_easy_setopt(p->easy, CURLOPT_CLOSESOCKETDATA, pr);
	curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)req->timeout_ms);
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(p->easy, CURLOPT_USERAGENT, "opsdeck-health/"
	    OPSDECK_VERSION);
	/* No file:// or other schemes from a config's URL. */
	curl_easy_setopt(p->easy, CURLOPT_PROTOCOLS_STR, req->mail_from ?
	    "smtp,smtps" : "http,https");
	if (req->mail_from != NULL) {
		curl_easy_setopt(p->easy, CURLOPT_MAIL_FROM, req->mail_from);
		for (i = 0; req->mail_rcpt && req->mail_rcpt[i]; i++)
			p->rcpt = curl_slist_append(p->rcpt, req->mail_rcpt[i]);
		curl_easy_setopt(p->easy, CURLOPT_MAIL_RCPT, p->rcpt);
		p->upload = xstrdup(req->upload ? req->upload : "");
		p->upload_len = strlen(p->upload);
		curl_easy_setopt(p->easy, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(p->easy, CURLOPT_READFUNCTION, upload_read);
		curl_easy_setopt(p->easy, CURLOPT_READDATA, p);
	}
	if (!req->reuse)
		curl_easy_setopt(p->easy, CURLOPT_FORBID_REUSE, 1L);
	if (req->tcp)
		curl_easy_setopt(p->easy, CURLOPT_CONNECT_ONLY, 1L);
	if (strncmp(req->url, "https://", 8) == 0)
		curl_easy_setopt(p->easy, CURLOPT_CERTINFO, 1L);
	if (req->method != NULL && strcmp(req->method, "GET") != 0) {
		if (strcmp(req->method, "HEAD") == 0)
			curl_easy_setopt(p->easy, CURLOPT_NOBODY, 1L);
		else
			curl_easy_setopt(p->easy, CURLOPT_CUSTOMREQUEST, req->method);
	}
	if (req->body != NULL) {
		curl_easy_setopt(p->easy, CURLOPT_POSTFIELDSIZE,
		    (long)strlen(req->body));
		/* copied: the caller's string may go before the transfer ends */
		curl_easy_setopt(p->easy, CURLOPT_COPYPOSTFIELDS, req->body);
		if (req->method == NULL || strcmp(req->method, "GET") == 0)
			curl_easy_setopt(p->easy, CURLOPT_CUSTOMREQUEST, "GET");
	}
	for (i = 0; req->headers != NULL && req->headers[i] != NULL; i++)
		p->headers = curl_slist_append(p->headers, req->headers[i]);
	if (p->headers != NULL)
		curl_easy_setopt(p->easy, CURLOPT_HTTPHEADER, p->headers);
	p->next = pr->probes;
	if (pr->probes != NULL)
		pr->probes->prev = p;
	pr->probes = p;
	pr->nprobes++;
	curl_multi_add_handle(pr->multi, p->easy);
	return p;
}

struct probe *
probe_get(struct prober *pr, const char *url, int64_t timeout_ms, probe_cb cb,
    void *arg)
{
	struct probe_req req = { .url = url, .timeout_ms = timeout_ms };

	return probe_start(pr, &req, cb, arg);
}

size_t
probe_running(const struct prober *pr)
{
	return pr->nprobes;
}

void
probe_cancel(struct probe *p)
{
	probe_free(p);
}

void
prober_free(struct prober *pr)
{
	size_t i;

	if (pr == NULL)
		return;
	while (pr->probes != NULL)
		probe_free(pr->probes);
	/* closes the cached connections, through close_socket */
	curl_multi_cleanup(pr->multi);
	/*
	 * A connection of a transfer cut off by the stop can be closed without
	 * close_socket: its handle would stay open, and the loop could not close.
	 */
	for (i = 0; i < pr->nconns; i++)
		if (pr->conns[i] != NULL) {
			sockwatch_close(pr->conns[i]);
			pr->conns[i] = NULL;
		}
	free(pr->conns);
	uv_timer_stop(pr->timer);
	pr->timer->data = NULL;
	uv_close((uv_handle_t *)pr->timer, free_handle);
	curl_global_cleanup();
	free(pr);
}
