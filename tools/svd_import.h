/*
 * CMSIS-SVD to a register map (core/regmap.h) of one peripheral, by the rules of mmioctl(1),
 * "regmap import": offsets relative to the peripheral, sizes, access kinds, resets, fields,
 * enumerated values, dim arrays, derivedFrom, clusters flattened. What a map cannot hold (an
 * element that breaks its rules, a register overlapping one before it) is left out, each
 * with a warning; the map made always passes regmap_validate().
 */
#ifndef MMIOCTL_SVD_IMPORT_H
#define MMIOCTL_SVD_IMPORT_H

#include <stddef.h>

#include <libxml/tree.h>

#include "core/regmap.h"

/* One peripheral of the file; an array of them (dim) is one per instance. */
struct svd_peripheral {
	char name[REGMAP_MAX_NAME + 1]; /* the instance's name */
	xmlNode *node;
	int line;
};

struct svd_peripherals {
	struct svd_peripheral *items;
	size_t n;
};

/*
 * The peripherals of an SVD document, in file order. 0, -EINVAL with the line and what is
 * wrong in *err (not an SVD file: the root is not <device>, no peripherals, addressUnitBits
 * other than 8, a peripheral without a usable name), -ENOMEM.
 */
int svd_list_peripherals(xmlDoc *doc, struct svd_peripherals *out, struct regmap_error *err);
void svd_peripherals_free(struct svd_peripherals *list);

/* Told of each element left out: its line, and what and why. */
typedef void svd_warn_fn(void *arg, int line, const char *message);

/*
 * The map of peripheral p (of svd_list_peripherals) into *out (free with regmap_free). Warnings
 * through warn. 0, -EINVAL with the line and what is wrong in *err (the peripheral itself is
 * unusable, or nothing of it is left), -ENOMEM.
 */
int svd_import(const struct svd_peripheral *p, svd_warn_fn *warn, void *arg, struct regmap **out,
	       struct regmap_error *err);

#endif
