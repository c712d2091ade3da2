/*
 * The devices as the oracles model them: a snapshot of every region (the bytes of the mem
 * regions, the raw state of the sim region and its model's health) and one access on it, by
 * the lease rules and then by the device's own (plain memory, or fuzz_sim.c's reference).
 * An oracle copies the snapshot taken before a request, runs the request's accesses on the
 * copy in the order mmiod makes them, and then the devices must equal the copy.
 */
#ifndef MMIO_FUZZ_MODEL_H
#define MMIO_FUZZ_MODEL_H

#include <stdbool.h>
#include <stdint.h>

#include "core/lease.h"
#include "fuzz_common.h"
#include "fuzz_sim.h"
#include "mmio.pb-c.h"

struct fuzz_snapshot {
	uint8_t bytes[FUZZ_RAM_SIZE + FUZZ_REGS_SIZE]; /* ram, then regs */
	struct fuzz_dev_state dev;
};

/* The devices now, read around mmiod (dev's without disturbing it). */
void fuzz_snapshot_take(struct fuzz_snapshot *snap);

/* Do the devices now equal snap? */
bool fuzz_snapshot_same(const struct fuzz_snapshot *snap);

uint64_t fuzz_width_mask(unsigned width);

/*
 * The status an access through l (NULL: none by that id) must get by the lease rules of
 * mmio.proto and lease.h, worked out independently of lease.c: read-only first (stores), then
 * width, alignment on the absolute address, range, and the value's width.
 */
Mmio__Status fuzz_lease_status(const struct lease *l, uint64_t off, unsigned width, bool is_store,
			       uint64_t value);

/*
 * Then the register rules binding l (mmiod.conf(5)), worked out from the maps as built,
 * independently of core/regrules.c: no fuzzed grant names registers or has rules and no map
 * has widths, so a lease taken under a grant (not root's) may not load any byte of a
 * read-sensitive register (rc, an rc field, side_effects): PERMISSION_DENIED. Stores are not
 * reads. l must pass fuzz_lease_status().
 */
Mmio__Status fuzz_rules_status(const struct lease *l, uint64_t off, bool is_store, unsigned width);

/* Both: what every single access (and each access of a block) is judged by. */
Mmio__Status fuzz_access_status(const struct lease *l, uint64_t off, unsigned width, bool is_store,
				uint64_t value);

/*
 * One access through l that passed those checks, on m: a load sets *value. OK, or IO_ERROR
 * where the device fails it (dev's model), its effects on m made all the same.
 */
Mmio__Status fuzz_model_access(struct fuzz_snapshot *m, const struct lease *l, uint64_t off,
			       unsigned width, bool is_store, uint64_t *value);

/* Both: the checks, then (if they pass) the access. */
Mmio__Status fuzz_model_checked(struct fuzz_snapshot *m, const struct lease *l, uint64_t off,
				unsigned width, bool is_store, uint64_t *value);

#endif
