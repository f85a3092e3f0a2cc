/*
 * A mergeable log-linear histogram of latencies in microseconds. Values below 64 are
 * exact; above, each power of two [2^p, 2^(p+1)) is cut into 64 equal buckets, so a
 * bucket is at most 1/64 of its lower bound wide and its midpoint is within 1/128
 * (0.8 %) of any value in it: every quantile is within 1 % of the true order
 * statistic. Values up to 2^32 µs (71 minutes); larger ones count in the last bucket.
 *
 * Sparse: only the buckets that hold values take room (6 bytes each, at most
 * HIST_BUCKETS of them, 10 KB), so the many small histograms of rolling windows stay
 * small when latencies cluster, as they do.
 */
#ifndef OPSDECK_HIST_H
#define OPSDECK_HIST_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB	64
#define HIST_BUCKETS	(HIST_SUB + 26 * HIST_SUB)	/* 1728 */

struct hist_bin {
	uint16_t	idx;
	uint32_t	count;
};

struct hist {
	struct hist_bin	*bins;		/* sorted by idx */
	uint16_t	 nbins, cap;
	uint64_t	 count;
	uint64_t	 sum;		/* µs */
	uint64_t	 min, max;
};

void	 hist_init(struct hist *);
void	 hist_release(struct hist *);
void	 hist_reset(struct hist *);
void	 hist_add(struct hist *, uint64_t value_us);
void	 hist_add_n(struct hist *, uint64_t value_us, uint32_t n);
/* Adds every value of src to dst. */
void	 hist_merge(struct hist *dst, const struct hist *src);
/* The q-quantile (0..1) within 1 %; 0 when empty. The max and min are exact. */
double	 hist_quantile(const struct hist *, double q);
/* How many values are <= bound (exact at bucket edges, else within the bucket). */
uint64_t hist_count_le(const struct hist *, uint64_t bound_us);
/* The bucket of a value and the value a bucket stands for (its midpoint). */
unsigned hist_bucket(uint64_t value_us);
double	 hist_bucket_mid(unsigned idx);
uint64_t hist_bucket_high(unsigned idx);	/* the largest value in it */

#endif
