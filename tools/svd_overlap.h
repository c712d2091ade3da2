/*
 * Registers of one SVD peripheral that share bytes (a read-only and a write-only register at
 * one address, alternateRegister views of the same bytes): a map holds one register per byte,
 * so of two that overlap the one SVD marks as alternate (alternateRegister, alternateGroup)
 * is left out, else the later in the file, each with a warning.
 */
#ifndef MMIOCTL_SVD_OVERLAP_H
#define MMIOCTL_SVD_OVERLAP_H

#include <stdbool.h>
#include <stddef.h>

#include "core/regmap.h"

/* Whether each register of the map, by index, is an alternate. */
struct svd_overlap {
	bool *alternate;
	size_t n, cap;
};

/* Notes the register just added to the map. 0 or -ENOMEM. */
int svd_overlap_add(struct svd_overlap *o, bool alternate);

/* Leaves out registers of map until none overlap, telling warn of each. 0 or -ENOMEM. */
int svd_overlap_resolve(struct svd_overlap *o, struct regmap *map,
			void (*warn)(void *arg, int line, const char *message), void *arg);

void svd_overlap_free(struct svd_overlap *o);

#endif
