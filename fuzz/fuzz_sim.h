/*
 * The fuzz world's simulated device "dev" (type sim, fuzz_maps.h's map, a Lua model) and the
 * oracle's reference of it: the map's access rules worked out bit by bit from the map built in
 * code, deliberately apart from core/regsim.c's masks per byte, plus what the model does. A
 * bug in either shows as a mismatch with the device's raw state, read after every request.
 *
 * The model (MODEL_TEXT in fuzz_sim.c): its hooks run once per register (or array instance) an
 * access touches, in increasing offset, after the access rules; each first folds the name it
 * is called with ("CTRL", "CH[2]") into SEEN (32 bits: h = h * 31 + byte), so that which hooks
 * ran, in what order, under which names, shows in the state. Then:
 *   TICK  a load counts: TICK = (TICK + 1) & 0xff, and reads the new count there; the device
 *         side's GET reads TICK + 0x10 (mod 256).
 *   WIDE  a load reads it xor 0x0f0f0f0f0f0f0f0f, HALF the device side's GET plus 1 (mod 2^16):
 *         a hook gets the whole register (the bytes the access does not cover from the state,
 *         after the access rules) and what it returns goes back to the bytes the access covers.
 *   TRAP  faults the model (every access of dev then fails with IO_ERROR, until a RESET): a store
 *         of 0xa5 to it, a load of it while it holds 0xee, a device-side SET that leaves 0x5a;
 *         the hooks after it do not run.
 */
#ifndef MMIO_FUZZ_SIM_H
#define MMIO_FUZZ_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include "fuzz_maps.h"
#include "mmio.pb-c.h"

struct event_base;
struct region;

/* The device as the oracle sees it: the registers' raw state and whether the model failed. */
struct fuzz_dev_state {
	uint8_t bytes[FUZZ_DEV_SIZE];
	bool faulted;
};

/*
 * Opens "dev": its map given to mmiod as YAML, its model from a temporary file (removed once
 * read), started on base, which the model's timers and interrupt subscriptions use. Also the
 * oracle's rules, from the map built in code.
 */
struct region *fuzz_sim_open(struct event_base *base);

/* Every register to its reset value, the model restarted (a fault cleared), as RESET does. */
void fuzz_sim_reset(struct region *dev);

/*
 * Whether dev is as fuzz_sim_reset() leaves it: its registers at their reset values, its model
 * not failed.
 */
bool fuzz_sim_pristine(const struct region *dev);

/*
 * Whether the reference ran anything on dev since the last fuzz_sim_reset(): only then can
 * mmiod have called its model (whose Lua state allocates as it runs).
 */
bool fuzz_sim_used(void);

/* The state of dev now, read without disturbing it. */
void fuzz_dev_take(const struct region *dev, struct fuzz_dev_state *s);

/*
 * The reference, on s: one access of width bytes at off (1, 2, 4, 8; checked by the caller).
 * OK, or IO_ERROR: the model failed (before, or now); the access rules applied either way.
 */
Mmio__Status fuzz_dev_load(struct fuzz_dev_state *s, uint64_t off, unsigned width, uint64_t *value);
Mmio__Status fuzz_dev_store(struct fuzz_dev_state *s, uint64_t off, unsigned width, uint64_t value);

/* The device side (SimDevice): raw GET and SET (*old the raw value before), RESET. */
Mmio__Status fuzz_dev_get(struct fuzz_dev_state *s, uint64_t off, unsigned width, uint64_t *value);
Mmio__Status fuzz_dev_set(struct fuzz_dev_state *s, uint64_t off, unsigned width, uint64_t mask,
			  uint64_t value, uint64_t *old);
void fuzz_dev_reset(struct fuzz_dev_state *s);

#endif
