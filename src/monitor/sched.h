/*
 * Fixed-rate schedules without drift: the k-th run of a check is due at
 * base + phase + k * interval, computed from k and never from when the last run
 * happened, so a late wakeup delays one run and not every run after it. The phase
 * (0 <= phase < interval, from the check's name) spreads checks of one interval
 * across it instead of firing them all at once.
 *
 * Slots lie on a grid of SCHED_GRID_MS (base and phase are multiples of it), so the
 * checks due in one grid step share a wakeup of the loop: 10 000 checks at 10 s
 * wake it 100 times a second, not 1 000, and their answers come back together.
 */
#ifndef OPSDECK_SCHED_H
#define OPSDECK_SCHED_H

#include <stdint.h>
#include <string.h>

#define SCHED_GRID_MS	10

/* A base on the grid, at or before now. */
static inline int64_t
sched_base(int64_t now)
{
	return now - now % SCHED_GRID_MS;
}

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

/* A stable phase for name in [0, interval), on the grid when the interval is a
 * multiple of it: FNV-1a of the name. */
static inline int64_t
sched_phase(const char *name, int64_t interval)
{
	uint64_t h = 1469598103934665603ULL;
	size_t i, n = strlen(name);

	for (i = 0; i < n; i++)
		h = (h ^ (unsigned char)name[i]) * 1099511628211ULL;
	if (interval % SCHED_GRID_MS == 0)
		return (int64_t)(h % (uint64_t)(interval / SCHED_GRID_MS)) *
		    SCHED_GRID_MS;
	return (int64_t)(h % (uint64_t)interval);
}

#endif
