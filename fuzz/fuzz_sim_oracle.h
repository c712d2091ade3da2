/*
 * SimDevice, the device side of a sim region, by the rules of mmio.proto: who may (root, the
 * admin group, a device grant on the region; PERMISSION_DENIED for anyone else, whether or not
 * the region exists), which region (NOT_FOUND, INVALID_ARGUMENT for one that is not a sim),
 * which op, and for GET and SET the offset and width as any access's; then what the device
 * does (fuzz_sim.h's reference).
 */
#ifndef MMIO_FUZZ_SIM_ORACLE_H
#define MMIO_FUZZ_SIM_ORACLE_H

#include <stdbool.h>
#include <stdint.h>

#include "fuzz_model.h"
#include "mmio.pb-c.h"
#include "request/session.h"

/*
 * The status SimDevice m from s must get, run on model (the devices before it); irq_count the
 * interrupts dev had raised. *has_value: the reply carries *value (GET: what the device side
 * reads; SET: the raw value before; IRQ: the interrupts raised since start).
 */
Mmio__Status fuzz_sim_device_expect(const struct session *s, const Mmio__SimDevice *m,
				    struct fuzz_snapshot *model, uint32_t irq_count,
				    uint64_t *value, bool *has_value);

#endif
