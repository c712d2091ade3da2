/*
 * What a lease or a region has done: accesses by kind, errors by status and a histogram of
 * the time mmiod spent on each socket request, for Stats. Counters only: bumping them is the
 * access path's cost, a few increments, no branch.
 */
#ifndef MMIOD_FIGURES_H
#define MMIOD_FIGURES_H

#include <stdint.h>

/* Wire statuses are small numbers: errors[] is indexed by one (proto/mmio.proto Status). */
#define FIGURES_STATUSES 16

/* Bucket i counts requests of [2^i, 2^(i+1)) ns (bucket 0 also 0 ns), the last all longer. */
#define FIGURES_LATENCY_BUCKETS 32

struct access_figures {
	uint64_t loads;
	uint64_t stores;
	uint64_t modifies;
	uint64_t polls;
	uint64_t block_bytes;
	uint64_t errors[FIGURES_STATUSES];
	uint64_t latency[FIGURES_LATENCY_BUCKETS];
	uint64_t latency_sum_ns;
};

/* The latency bucket of ns. */
static inline unsigned
figures_bucket(uint64_t ns)
{
	unsigned b = ns ? 63u - (unsigned)__builtin_clzll(ns) : 0;
	return b < FIGURES_LATENCY_BUCKETS ? b : FIGURES_LATENCY_BUCKETS - 1;
}

static inline void
figures_add_latency(struct access_figures *f, uint64_t ns)
{
	f->latency[figures_bucket(ns)]++;
	f->latency_sum_ns += ns;
}

static inline void
figures_add_error(struct access_figures *f, unsigned status)
{
	f->errors[status < FIGURES_STATUSES ? status : 0]++;
}

#endif
