#include <stdlib.h>
#include <string.h>

#include "core/xmalloc.h"
#include "stats/hist.h"

#define VALUE_MAX ((1ULL << 32) - 1)

void
hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
}

void
hist_release(struct hist *h)
{
	free(h->bins);
	memset(h, 0, sizeof(*h));
}

void
hist_reset(struct hist *h)
{
	h->nbins = 0;
	h->count = h->sum = h->min = h->max = 0;
}

unsigned
hist_bucket(uint64_t v)
{
	unsigned p;

	if (v > VALUE_MAX)
		v = VALUE_MAX;
	if (v < HIST_SUB)
		return (unsigned)v;
	p = 63 - (unsigned)__builtin_clzll(v);		/* 6..31 */
	return HIST_SUB + (p - 6) * HIST_SUB +
	    (unsigned)((v >> (p - 6)) & (HIST_SUB - 1));
}

static uint64_t
bucket_low(unsigned idx)
{
	unsigned p, sub;

	if (idx < HIST_SUB)
		return idx;
	p = (idx - HIST_SUB) / HIST_SUB + 6;
	sub = (idx - HIST_SUB) % HIST_SUB;
	return (1ULL << p) + ((uint64_t)sub << (p - 6));
}

uint64_t
hist_bucket_high(unsigned idx)
{
	unsigned p;

	if (idx < HIST_SUB)
		return idx;
	p = (idx - HIST_SUB) / HIST_SUB + 6;
	return bucket_low(idx) + (1ULL << (p - 6)) - 1;
}

double
hist_bucket_mid(unsigned idx)
{
	return ((double)bucket_low(idx) + (double)hist_bucket_high(idx)) / 2;
}

static void
bin_add(struct hist *h, unsigned idx, uint64_t n)
{
	size_t lo = 0, hi = h->nbins;

	while (lo < hi) {
		size_t mid = (lo + hi) / 2;

		if (h->bins[mid].idx < idx)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < h->nbins && h->bins[lo].idx == idx) {
		h->bins[lo].count += (uint32_t)n;
		return;
	}
	if (h->nbins == h->cap) {
		h->cap = h->cap == 0 ? 8 : h->cap * 2 > HIST_BUCKETS ?
		    HIST_BUCKETS : (uint16_t)(h->cap * 2);
		h->bins = xreallocarray(h->bins, h->cap, sizeof(*h->bins));
	}
	memmove(&h->bins[lo + 1], &h->bins[lo], (h->nbins - lo) *
	    sizeof(*h->bins));
	h->bins[lo].idx = (uint16_t)idx;
	h->bins[lo].count = (uint32_t)n;
	h->nbins++;
}

void
hist_add_n(struct hist *h, uint64_t v, uint32_t n)
{
	if (n == 0)
		return;
	if (v > VALUE_MAX)
		v = VALUE_MAX;
	bin_add(h, hist_bucket(v), n);
	if (h->count == 0 || v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
	h->count += n;
	h->sum += v * n;
}

void
hist_add(struct hist *h, uint64_t v)
{
	hist_add_n(h, v, 1);
}

void
hist_merge(struct hist *dst, const struct hist *src)
{
	uint16_t i;

	if (src->count == 0)
		return;
	for (i = 0; i < src->nbins; i++)
		bin_add(dst, src->bins[i].idx, src->bins[i].count);
	if (dst->count == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->count += src->count;
	dst->sum += src->sum;
}

double
hist_quantile(const struct hist *h, double q)
{
	uint64_t rank, seen = 0;
	uint16_t i;

	if (h->count == 0)
		return 0;
	if (q <= 0)
		return (double)h->min;
	if (q >= 1)
		return (double)h->max;
	/* The order statistic of rank ceil(q * count), 1-based. */
	rank = (uint64_t)(q * (double)h->count);
	if ((double)rank < q * (double)h->count)
		rank++;
	if (rank == 0)
		rank = 1;
	for (i = 0; i < h->nbins; i++) {
		seen += h->bins[i].count;
		if (seen >= rank) {
			double v = hist_bucket_mid(h->bins[i].idx);

			/* Never outside what was seen. */
			if (v > (double)h->max)
				v = (double)h->max;
			if (v < (double)h->min)
				v = (double)h->min;
			return v;
		}
	}
	return (double)h->max;
}

uint64_t
hist_count_le(const struct hist *h, uint64_t bound)
{
	uint64_t n = 0;
	uint16_t i;

	for (i = 0; i < h->nbins; i++) {
		if (hist_bucket_high(h->bins[i].idx) > bound &&
		    bucket_low(h->bins[i].idx) > bound)
			break;
		if (hist_bucket_high(h->bins[i].idx) <= bound)
			n += h->bins[i].count;
		else
			break;	/* the bucket across the bound: not counted */
	}
	return n;
}
