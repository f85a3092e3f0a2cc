#include "runtime/policy.h"

int64_t
backoff_delay(const struct cfg_restart *r, int consecutive)
{
	int64_t d = r->backoff_min_ms;
	int i;

	for (i = 1; i < consecutive && d < r->backoff_max_ms; i++)
		d *= 2;
	return d < r->backoff_max_ms ? d : r->backoff_max_ms;
}

int
crashloop_count(const struct crashloop *c, const struct cfg_restart *r,
    int64_t now)
{
	int i, n = 0;

	for (i = 0; i < c->n; i++)
		if (now - c->restarts[i] < r->crashloop_window_ms)
			n++;
	return n;
}

bool
crashloop_should_fail(struct crashloop *c, const struct cfg_restart *r,
    int64_t now)
{
	if (crashloop_count(c, r, now) >= r->crashloop_limit)
		return true;
	c->restarts[c->head] = now;
	c->head = (c->head + 1) % CRASHLOOP_MAX;
	if (c->n < CRASHLOOP_MAX)
		c->n++;
	return false;
}

int64_t
backoff_reset_after(const struct cfg_restart *r)
{
	return r->backoff_max_ms;
}
