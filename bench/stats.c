/* mmio-bench: timing samples and their percentiles. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"

void
samples_init(struct samples *s)
{
	*s = (struct samples){0};
}

void
samples_finish(struct samples *s)
{
	free(s->v);
	*s = (struct samples){0};
}

static int
reserve(struct samples *s, size_t n)
{
	if (n <= s->cap) {
		return 0;
	}
	size_t cap = s->cap ? s->cap : 1024;
	while (cap < n) {
		cap *= 2;
	}
	double *v = realloc(s->v, cap * sizeof(*v));
	if (!v) {
		return -ENOMEM;
	}
	s->v = v;
	s->cap = cap;
	return 0;
}

int
samples_add(struct samples *s, double ns)
{
	int rc = reserve(s, s->n + 1);
	if (rc < 0) {
		return rc;
	}
	s->v[s->n++] = ns;
	return 0;
}

int
samples_merge(struct samples *dst, const struct samples *src)
{
	int rc = reserve(dst, dst->n + src->n);
	if (rc < 0) {
		return rc;
	}
	if (src->n) {
		memcpy(dst->v + dst->n, src->v, src->n * sizeof(*src->v));
	}
	dst->n += src->n;
	return 0;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a;
	double y = *(const double *)b;
	return (x > y) - (x < y);
}

double
samples_quantile(struct samples *s, double q)
{
	if (s->n == 0) {
		return NAN;
	}
	qsort(s->v, s->n, sizeof(*s->v), cmp_double);
	size_t rank = (size_t)ceil(q * (double)s->n);
	if (rank < 1) {
		rank = 1;
	}
	if (rank > s->n) {
		rank = s->n;
	}
	return s->v[rank - 1];
}
