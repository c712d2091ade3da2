/*
 * A simulated device (type = "sim"): registers in memory that behave as the region's register
 * map says (core/regsim.h) on every access of every path, through backend_ops.access. Its
 * interrupt fd behaves as UIO's: each raise makes it readable with a 4-byte running count.
 *
 * The device side, for a test harness acting as the hardware (request/handle_sim.c): raw
 * register bits read and set past the access rules, the interrupt raised, a reset.
 */
#ifndef MMIOD_BACKEND_SIM_H
#define MMIOD_BACKEND_SIM_H

#include <stdbool.h>
#include <stdint.h>

struct backend;

/* Whether b is a sim backend: only those take the calls below. */
bool backend_is_sim(const struct backend *b);

/*
 * Whether the device side may make a width-byte access at off: 0, -EINVAL (width not 1, 2, 4
 * or 8), -EFAULT (off not a multiple of width) or -ERANGE (not inside the region).
 */
int sim_device_check(const struct backend *b, uint64_t off, unsigned width);

/* The raw bits at off (checked: sim_device_check), no rule applied, no read side effect. */
uint64_t sim_device_get(struct backend *b, uint64_t off, unsigned width);

/* Sets the raw bits of mask to value's at off (checked); returns the old raw value. */
uint64_t sim_device_set(struct backend *b, uint64_t off, unsigned width, uint64_t mask,
			uint64_t value);

/* Every register back to its reset value. */
void sim_device_reset(struct backend *b);

/*
 * Raises the interrupt: the running count goes up by one and b->irq_fd reads it (one record
 * pending at most, as UIO's fd reads the latest count). 0 or -EIO.
 */
int sim_device_irq(struct backend *b);

/* Interrupts raised since start. */
uint32_t sim_device_irq_count(const struct backend *b);

#endif
