/*
 * Fixed-rate schedules without drift: the k-th run of a check is due at
 * base + phase + k * interval, computed from k and never from when the last run
 * happened, so a late wakeup delays one run and not every run after it. The phase
 * (0 <= phase < interval, from the check's name) spreads checks of one interval
 * across it instead of firing them all at once.
 */
#ifndef OPSDECK_SCHED_H
#define OPSDECK_SCHED_H

#include <stdint.h>
#include <string.h>

/* The first slot strictly after now. */
static inline int64_t
sched_next(int64_t base, int64_t phase, int64_t interval, int64_t now)
{
	int64_t first = base + phase, k;

	if (now < first)
		return first;
	k = (now - first) / interval + 1;
	return first + k * interval;
}

/* A stable phase for name in [0, interval): FNV-1a of the name. */
static inline int64_t
sched_phase(const char *name, int64_t interval)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i, n = strlen(name);

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)name[i]) * 1099511628211ULL;
	return (int64_t)(h % (uint64_t)interval);
}

#endif
