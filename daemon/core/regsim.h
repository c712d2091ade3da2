/*
 * A simulated device's registers: state in memory that behaves as its register map says
 * (core/regmap.h, mmiod-regmap(5)) on every load and store, of any width at any offset. Pure.
 *
 * The map's rules are precomputed per byte of the region (masks of which bits are readable,
 * which a store takes, which a 1 clears or sets, which a read clears; fields override their
 * register's access, array instances are expanded), so that an access narrower or wider than a
 * register, or straddling two, applies them bit-exactly. Values are little-endian: byte i of a
 * value is the byte at offset + i.
 *
 *   load:  state & readable (wo and absent bits read 0), then the rc bits of the bytes read clear.
 *   store: rw and wo bits take the new bit; ro, rc and absent bits keep the old; w1c bits clear
 *          where a 1 is written, w1s bits set where a 1 is written.
 *   reset: every register its reset value (0 without one).
 *
 * The device side (raw) bypasses the rules: it reads and sets any register bit; bytes outside
 * every register stay 0 whoever writes them.
 */
#ifndef MMIOD_REGSIM_H
#define MMIOD_REGSIM_H

#include <stdint.h>

#include "core/regmap.h"

struct regsim;

/*
 * The registers of valid map (regmap_validate against size) over a region of size bytes
 * (1..MMIO_SIM_MAX_SIZE), at their reset values. 0 with *out, -EINVAL (size out of range, or a
 * register instance outside it) or -ENOMEM.
 */
int regsim_new(const struct regmap *map, uint64_t size, struct regsim **out);
void regsim_free(struct regsim *sim);

uint64_t regsim_size(const struct regsim *sim);

/*
 * The accesses of a driver, under the map's rules. The caller checked that width is 1, 2, 4
 * or 8, that [off, off + width) lies inside the region and (store) that value fits width.
 */
uint64_t regsim_load(struct regsim *sim, uint64_t off, unsigned width);
void regsim_store(struct regsim *sim, uint64_t off, unsigned width, uint64_t value);

/* The device side, checked as above: the raw bits, no rule applied, no read side effect. */
uint64_t regsim_peek(const struct regsim *sim, uint64_t off, unsigned width);
/* Sets the raw bits of mask to those of value (only register bits: the rest stay 0). The old
 * raw value. */
uint64_t regsim_poke(struct regsim *sim, uint64_t off, unsigned width, uint64_t mask,
		     uint64_t value);

/* Every register back to its reset value. */
void regsim_reset(struct regsim *sim);

#endif
