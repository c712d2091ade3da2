/*
 * SVD's access, modifiedWriteValues and readAction of a register or field, as one access kind
 * of a map (core/regmap.h): read-only ro, write-only and writeOnce wo, read-write and
 * read-writeOnce rw; oneToClear w1c, oneToSet w1s; readAction clear rc, any other readAction
 * side effects. A readAction decides over modifiedWriteValues, which decides over access.
 */
#ifndef MMIOCTL_SVD_ACCESS_H
#define MMIOCTL_SVD_ACCESS_H

#include <stdbool.h>

#include "core/regmap.h"
#include "svd_derive.h"

enum svd_access {
	SVD_READ_WRITE,
	SVD_READ_ONLY,
	SVD_WRITE_ONLY,
	SVD_WRITE_ONCE,
	SVD_READ_WRITE_ONCE,
};

/* "read-only", ... -> the access; -1 for anything else. */
int svd_access_parse(const char *text);

/* What a register or field is in a map. */
struct svd_kind {
	enum regmap_access access;
	bool side_effects; /* a readAction other than clear */
	char warning[160]; /* set when something had no kind in a map: taken as access */
};

/*
 * The kind of the element of view v: its own access (else inherited), modifiedWriteValues and
 * readAction. 0, or -EINVAL with the line and what is wrong in *err.
 */
int svd_kind_read(const struct svd_view *v, enum svd_access inherited, struct svd_kind *out,
		  struct regmap_error *err);

/* Whether the element of view v says anything of its access (a field that does not inherits). */
bool svd_kind_given(const struct svd_view *v);

#endif
