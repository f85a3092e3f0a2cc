#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "core/buf.h"
#include "core/log.h"
#include "core/xmalloc.h"
#include "monitor/probe.h"

#define BODY_KEEP 4096

struct prober {
	uv_loop_t	*loop;
	CURLM		*multi;
	uv_timer_t	*timer;
	struct probe	*probes;
};

struct probe {
	struct prober	*pr;
	CURL		*easy;
	probe_cb	 cb;
	void		*arg;
	struct buf	 body;
	char		 errbuf[CURL_ERROR_SIZE];
	struct probe	*next;
};

/* One per socket curl watches; closed when curl says CURL_POLL_REMOVE. */
struct sockwatch {
	uv_poll_t	 poll;
	curl_socket_t	 fd;
	struct prober	*pr;
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

static int
curl_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp,
    void *socketp)
{
	struct prober *pr = userp;
	struct sockwatch *w = socketp;
	int events = 0;

	(void)easy;
	if (what == CURL_POLL_REMOVE) {
		if (w != NULL) {
			uv_poll_stop(&w->poll);
			/* The fd number can be reused at once: forget it now. */
			curl_multi_assign(pr->multi, fd, NULL);
			uv_close((uv_handle_t *)&w->poll, free_handle);
		}
		return 0;
	}
	if (w == NULL) {
		w = xcalloc(1, sizeof(*w));
		w->fd = fd;
		w->pr = pr;
		uv_poll_init_socket(pr->loop, &w->poll, fd);
		w->poll.data = w;
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
	return pr;
}

static void
probe_free(struct probe *p)
{
	struct probe **pp;

	for (pp = &p->pr->probes; *pp != NULL; pp = &(*pp)->next)
		if (*pp == p) {
			*pp = p->next;
			break;
		}
	curl_multi_remove_handle(p->pr->multi, p->easy);
	curl_easy_cleanup(p->easy);
	buf_release(&p->body);
	free(p);
}

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct probe *p = arg;

	/* Keep the start of the body for conditions; read and drop the rest. */
	if (p->body.len < BODY_KEEP)
		buf_add(&p->body, data, size * n < BODY_KEEP - p->body.len ?
		    size * n : BODY_KEEP - p->body.len);
	return size * n;
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

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, &p);
		memset(&r, 0, sizeof(r));
		if (msg->data.result == CURLE_OK)
			curl_easy_getinfo(p->easy, CURLINFO_RESPONSE_CODE,
			    &r.status);
		else
			r.error = p->errbuf[0] ? p->errbuf :
			    curl_easy_strerror(msg->data.result);
		curl_easy_getinfo(p->easy, CURLINFO_TOTAL_TIME_T, &t);
		r.elapsed_ms = (int64_t)(t / 1000);
		r.body = buf_str(&p->body);
		p->cb(p->arg, &r);
		probe_free(p);
	}
}

struct probe *
probe_get(struct prober *pr, const char *url, int64_t timeout_ms, probe_cb cb,
    void *arg)
{
	struct probe *p = xcalloc(1, sizeof(*p));

	p->pr = pr;
	p->cb = cb;
	p->arg = arg;
	buf_init(&p->body, 0);
	p->easy = curl_easy_init();
	curl_easy_setopt(p->easy, CURLOPT_URL, url);
	curl_easy_setopt(p->easy, CURLOPT_PRIVATE, p);
	curl_easy_setopt(p->easy, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(p->easy, CURLOPT_TIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(p->easy, CURLOPT_CONNECTTIMEOUT_MS, (long)timeout_ms);
	curl_easy_setopt(p->easy, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(p->easy, CURLOPT_WRITEDATA, p);
	curl_easy_setopt(p->easy, CURLOPT_ERRORBUFFER, p->errbuf);
	curl_easy_setopt(p->easy, CURLOPT_USERAGENT, "opsdeck-health/"
	    OPSDECK_VERSION);
	curl_easy_setopt(p->easy, CURLOPT_FORBID_REUSE, 1L);
	p->next = pr->probes;
	pr->probes = p;
	curl_multi_add_handle(pr->multi, p->easy);
	return p;
}

void
probe_cancel(struct probe *p)
{
	probe_free(p);
}

void
prober_free(struct prober *pr)
{
	if (pr == NULL)
		return;
	while (pr->probes != NULL)
		probe_free(pr->probes);
	curl_multi_cleanup(pr->multi);
	uv_timer_stop(pr->timer);
	pr->timer->data = NULL;
	uv_close((uv_handle_t *)pr->timer, free_handle);
	curl_global_cleanup();
	free(pr);
}
