/* mmio-bench: timing samples and their percentiles. */
#ifndef BENCH_STATS_H
#define BENCH_STATS_H

#include <stddef.h>

/* A growable array of durations in nanoseconds. */
struct samples {
	double *v;
	size_t n;
	size_t cap;
};

void samples_init(struct samples *s);
void samples_finish(struct samples *s);

/* Appends one sample. 0 or -ENOMEM. */
int samples_add(struct samples *s, double ns);

/* Appends every sample of src to dst. 0 or -ENOMEM. */
int samples_merge(struct samples *dst, const struct samples *src);

/*
 * The q-quantile (0 < q <= 1) by nearest rank: the smallest sample that at
 * least q of all samples are at or below. Sorts s in place. NAN when empty.
 */
double samples_quantile(struct samples *s, double q);

#endif
