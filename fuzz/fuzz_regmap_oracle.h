/*
 * ListRegisters, by the rules of mmio.proto: which regions' maps a caller may see (those it may
 * lease something of, admins every one, a device grant its region's), the map's registers from
 * index first on exactly as fuzz_maps.c built them (names, offsets, widths, access, reset,
 * arrays, fields, values, descriptions), and the pages: consecutive, more and next right, never
 * cut where the next register surely fits, never past a frame, and a register that cannot fit a
 * frame on its own refused (RESOURCE_EXHAUSTED).
 */
#ifndef MMIO_FUZZ_REGMAP_ORACLE_H
#define MMIO_FUZZ_REGMAP_ORACLE_H

#include "mmio.pb-c.h"
#include "request/session.h"

void fuzz_check_register_map(const struct session *s, const Mmio__ListRegisters *req,
			     const Mmio__Reply *reply);

#endif
