/*
 * HTTP probes on the daemon's loop: libcurl's multi interface driven by libuv
 * (curl_multi_socket_action with uv_poll and one uv_timer), so thousands of checks
 * share one thread and nothing blocks the loop.
 */
#ifndef OPSDECK_PROBE_H
#define OPSDECK_PROBE_H

#include <stdint.h>

#include <uv.h>

struct prober;

struct probe_result {
	long		 status;	/* HTTP status, 0 when no answer */
	int64_t		 elapsed_ms;
	const char	*error;		/* curl's message when status is 0 */
	const char	*body;		/* the first bytes of the answer */
};

typedef void (*probe_cb)(void *arg, const struct probe_result *);

struct prober *prober_new(uv_loop_t *);
/* Closes every handle on the loop; pending probes are dropped, callbacks not called. */
void	prober_free(struct prober *);
/* GETs url within timeout_ms; cb runs later on the loop. Returns a handle to cancel. */
struct probe *probe_get(struct prober *, const char *url, int64_t timeout_ms,
	    probe_cb, void *arg);
/* Drops a pending probe: its callback will not run. */
void	probe_cancel(struct probe *);

#endif
