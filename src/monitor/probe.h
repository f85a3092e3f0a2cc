/*
 * HTTP probes on the daemon's loop: libcurl's multi interface driven by libuv
 * (curl_multi_socket_action with uv_poll and one uv_timer), so thousands of checks
 * share one thread and nothing blocks the loop.
 */
#ifndef OPSDECK_PROBE_H
#define OPSDECK_PROBE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <uv.h>

struct prober;

struct probe_result {
	long		 status;	/* HTTP status, 0 when no answer */
	int64_t		 elapsed_ms;
	const char	*error;		/* curl's message when the transfer failed */
	const char	*body;		/* the first bytes of the answer */
	size_t		 body_len;
	bool		 truncated;	/* the answer was longer than max_body */
	bool		 connected;	/* a connection was made */
	const char	*ip;		/* the address connected to, or NULL */
	int64_t		 cert_expiry_ms; /* from now, -1 when no certificate */
};

/* A check's request: HTTP(S) with method, headers and body, or a TCP connect. */
struct probe_req {
	bool		 tcp;		/* connect only, to url's host and port */
	const char	*url;
	const char	*method;	/* NULL: GET */
	const char *const *headers;	/* "Name: value", NULL-terminated, or NULL */
	const char	*body;		/* or NULL */
	int64_t		 timeout_ms;
	size_t		 max_body;	/* bytes kept; the rest is read and dropped */
	bool		 reuse;		/* keep the connection for the next run */
	/* SMTP (an smtp:// url): the envelope, and the message uploaded */
	const char	*mail_from;
	const char *const *mail_rcpt;	/* NULL-terminated */
	const char	*upload;
};

typedef void (*probe_cb)(void *arg, const struct probe_result *);

struct prober *prober_new(uv_loop_t *);
/* Closes every handle on the loop; pending probes are dropped, callbacks not called. */
void	prober_free(struct prober *);
/* GETs url within timeout_ms; cb runs later on the loop. Returns a handle to cancel. */
struct probe *probe_get(struct prober *, const char *url, int64_t timeout_ms,
	    probe_cb, void *arg);
/* Runs req; cb runs later on the loop with what was seen. */
struct probe *probe_start(struct prober *, const struct probe_req *, probe_cb,
	    void *arg);
/* Probes running now. */
size_t	probe_running(const struct prober *);
/* Drops a pending probe: its callback will not run. */
void	probe_cancel(struct probe *);

#endif
