/*
 * The register maps of the fuzz world, built in code (core/regmap.h's model): what the oracles
 * expect. mmiod gets each as the YAML text fuzz_map_yaml() writes, parsed by
 * config/regmap_yaml.c, so anything the parse loses or changes shows as a mismatch.
 *
 * "dev" (the sim region, FUZZ_DEV_SIZE bytes): every access kind on registers and on fields
 * that override them, widths 8 to 64, arrays with gaps between instances, bytes outside every
 * register, TICK, TRAP and SEEN (the registers its Lua model acts on, fuzz_sim.c), three 64-bit
 * registers of 64 one-bit fields of every access kind, with long descriptions, so that
 * ListRegisters takes three pages.
 *
 * "regs" (a mem region: a map is not only for sims): a small register, one too big for any
 * reply (8 fields of 256 values with long names: RESOURCE_EXHAUSTED), a small one.
 */
#ifndef MMIO_FUZZ_MAPS_H
#define MMIO_FUZZ_MAPS_H

#include <stddef.h>
#include <stdint.h>

#include "core/regmap.h"

#define FUZZ_DEV_SIZE 0x80
/* The user's grants on dev: [0, FUZZ_DEV_RW) read-write (the interrupt too), the rest read-only. */
#define FUZZ_DEV_RW 0x60

/* The registers of dev's map that its model acts on. */
#define FUZZ_DEV_HALF 0x18 /* 16 bits: the device side's GET reads it plus 1 */
#define FUZZ_DEV_WIDE 0x40 /* 64 bits: a load reads it xor 0x0f0f0f0f0f0f0f0f */
#define FUZZ_DEV_TICK 0x48 /* 8 bits: a load counts here and reads the new count */
#define FUZZ_DEV_TRAP 0x49 /* 8 bits: some values fault the model */
#define FUZZ_DEV_SEEN 0x78 /* 32 bits: every hook call folds its register's name in */

/* Built once; never freed. */
const struct regmap *fuzz_map_dev(void);
const struct regmap *fuzz_map_regs(void);

/* map as mmiod-regmap(5) YAML: malloc'd text of *len bytes. */
char *fuzz_map_yaml(const struct regmap *map, size_t *len);

/* "rw", "ro", ... as mmiod-regmap(5) spells them (not regmap.c's table: the oracle's own). */
const char *fuzz_access_name(enum regmap_access access);

#endif
