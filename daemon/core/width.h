/* Access widths in bytes (1, 2, 4 or 8) and the values that fit them. */
#ifndef MMIOD_WIDTH_H
#define MMIOD_WIDTH_H

#include <stdbool.h>
#include <stdint.h>

/* The bits a width-byte access carries; all 64 for 8 (and for anything wider). */
static inline uint64_t
width_mask(unsigned width)
{
	return width >= 8 ? UINT64_MAX : (UINT64_C(1) << (width * 8)) - 1;
}

/* Whether value fits a width-byte access: truncating it would store what nobody asked for. */
static inline bool
width_value_fits(unsigned width, uint64_t value)
{
	return (value & ~width_mask(width)) == 0;
}

#endif
