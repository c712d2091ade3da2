/*
 * SVD's dim arrays: an element with dim N stands for N elements, dimIncrement apart, named by
 * putting an index into its name's %s. The indices are dimIndex's ("0,1,2", "3-6", "A-D", or
 * names "RX,TX"), else 0..N-1. A name with "[%s]" is an array that keeps one name; the callers
 * decide what that becomes.
 */
#ifndef MMIOCTL_SVD_DIM_H
#define MMIOCTL_SVD_DIM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/regmap.h"
#include "svd_derive.h"

struct svd_dim {
	uint64_t count;     /* dim; 0: the element is no array */
	uint64_t increment; /* dimIncrement: bytes (bits for a field) */
	bool bracket;       /* the name has "[%s]" */
	char *index;        /* dimIndex, split in place into count names; NULL: 0..count-1 */
	char **names;       /* the count names, pointing into index */
};

/*
 * The dim of an element: its view v and its name (with %s). At most max instances. 0 (count
 * 0 without dim), -EINVAL with the line and what is wrong in *err, or -ENOMEM.
 */
int svd_dim_read(const struct svd_view *v, const char *name, uint64_t max, struct svd_dim *out,
		 struct regmap_error *err);
void svd_dim_free(struct svd_dim *dim);

/* The name of instance i: tmpl with its "[%s]" (else its %s) made the index. 0 or -E2BIG. */
int svd_dim_name(const struct svd_dim *dim, const char *tmpl, uint64_t i, char *out, size_t len);

/*
 * tmpl with its "[%s]" (else its "%s") replaced by with; tmpl itself without either. 0 or
 * -E2BIG when it does not fit len bytes.
 */
int svd_dim_subst(const char *tmpl, const char *with, char *out, size_t len);

#endif
