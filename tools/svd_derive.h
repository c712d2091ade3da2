/*
 * SVD's derivedFrom: an element (peripheral, cluster, register, field, enumeratedValues) is a
 * copy of another of its kind with its own children laid over it. A view is the element and
 * the chain of elements it derives from; a child is the nearest one in the chain, and a
 * collection (registers, fields, enumerated values) is the base's with the derived levels'
 * items replacing those of the same name and adding the rest.
 *
 * A reference is a name ("BASE1") or a dotted path ("TEST1.BASE1", "CR.EN"): the element of
 * that tag and name nearest to the one deriving (its siblings first, then ever wider), whose
 * enclosing peripheral, clusters, register and field bear the leading names of the path.
 */
#ifndef MMIOCTL_SVD_DERIVE_H
#define MMIOCTL_SVD_DERIVE_H

#include <stdbool.h>
#include <stddef.h>

#include <libxml/tree.h>

#include "core/regmap.h"

/* The longest chain of derivedFrom followed; longer is taken for a loop. */
#define SVD_MAX_DERIVE 8

struct svd_view {
	xmlNode *chain[SVD_MAX_DERIVE]; /* the element, then what it derives from, ... */
	unsigned n;
};

/*
 * The view of node, following derivedFrom through elements of node's own tag. 0, or -EINVAL
 * with the line and what is wrong in *err (no such element, a loop).
 */
int svd_view(xmlNode *node, struct svd_view *out, struct regmap_error *err);

/* The nearest child element named tag along the chain, or NULL. */
xmlNode *svd_view_child(const struct svd_view *view, const char *tag);

/*
 * The text of svd_view_child(view, tag) as svd_text() reads it: 0, -ENOENT (no such child)
 * or -E2BIG.
 */
int svd_view_text(const struct svd_view *view, const char *tag, char *buf, size_t len);

/*
 * The items of a collection: the child elements named one of item_tags (NULL-terminated) of
 * the chain's elements' child named container (container NULL: of the elements themselves),
 * merged by name from the base up. If nearest, only the nearest element that has any counts,
 * unmerged (a field's enumeratedValues blocks). *items is malloc'ed (NULL when *n is 0). 0 or
 * -ENOMEM.
 */
int svd_view_items(const struct svd_view *view, const char *container, const char *const *item_tags,
		   bool nearest, xmlNode ***items, size_t *n);

#endif
