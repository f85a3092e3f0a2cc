/*
 * The live request metrics: per app, release and route, counts by status class and
 * latency histograms in rolling windows (1 s slots for the last minute, 10 s slots
 * for five, 1 min slots for the hour), plus lifetime counters for Prometheus. Memory
 * is bounded: at most METRICS_ROUTES_MAX routes per app (more count as "(other)") and
 * METRICS_KEYS_MAX keys in all. Single-threaded; time is passed in (wall ms).
 */
#ifndef OPSDECK_METRICS_H
#define OPSDECK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "core/buf.h"
#include "core/err.h"

#define METRICS_ROUTES_MAX	256
#define METRICS_KEYS_MAX	4096

struct metrics;

/* What a window holds: classes 1..5 are 1xx..5xx, 0 everything else. */
struct metrics_sum {
	uint64_t	 requests;
	uint64_t	 by_class[6];
	double		 rate_5xx;	/* 0..1 */
	double		 rps;
	double		 p50, p95, p99, max;	/* µs */
};

struct metrics *metrics_new(void);
void	 metrics_free(struct metrics *);
/* The app's route templates (replacing earlier ones); -1 names a bad one. */
int	 metrics_set_routes(struct metrics *, const char *app,
	    const char *const *templates, size_t n, struct err *);
/* One request of app's release (0: not a release) on path. */
void	 metrics_add(struct metrics *, const char *app, int release,
	    const char *path, size_t pathlen, int status, int64_t latency_us,
	    int64_t now_ms);
/* Sums the window_ms before now_ms of app's release (0: all) and route (NULL: all). */
int	 metrics_query(struct metrics *, const char *app, int release,
	    const char *route, int64_t window_ms, int64_t now_ms,
	    struct metrics_sum *);
/* Rows {app, release, route, requests, rps, status, error_rate, p50_ms, ...}. */
json_t	*metrics_json(struct metrics *, const char *app, int64_t window_ms,
	    int64_t now_ms);
/* Lifetime counters and histogram buckets in Prometheus text format. */
void	 metrics_prometheus(struct metrics *, struct buf *);
/* A Prometheus label value: backslash, double quote and newline escaped. */
void	 metrics_prom_label(struct buf *, const char *value);
void	 metrics_forget_release(struct metrics *, const char *app, int release);

#endif
