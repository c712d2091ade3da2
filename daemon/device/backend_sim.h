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
struct event_base;
struct regsim;

/* Whether b is a sim backend: only those take the calls below. */
bool backend_is_sim(const struct backend *b);

/*
 * Whether the device side may make a width-byte access at off: 0, -EINVAL (width not 1, 2, 4
 * or 8), -EFAULT (off not a multiple of width) or -ERANGE (not inside the region).
 */
int sim_device_check(const struct backend *b, uint64_t off, unsigned width);

/*
 * The raw bits at off into *value (checked: sim_device_check), no rule applied, no read side
 * effect; then the model's on_device_get, which may answer instead. 0, or -EIO: the model
 * failed (sim_device_fault says why).
 */
int sim_device_get(struct backend *b, uint64_t off, unsigned width, uint64_t *value);

/*
 * Sets the raw bits of mask to value's at off (checked), *old the raw value before; then the
 * model's on_device_set. 0, or -EIO: the model failed (the bits are set all the same).
 */
int sim_device_set(struct backend *b, uint64_t off, unsigned width, uint64_t mask, uint64_t value,
		   uint64_t *old);

/*
 * Every register back to its reset value, and the model (if any) restarted from its text in a
 * fresh state, which clears a fault. 0, or -EIO: the model failed again.
 */
int sim_device_reset(struct backend *b);

/* Why the region's model failed (every access then fails with -EIO until a reset), or NULL. */
const char *sim_device_fault(const struct backend *b);

/*
 * After the privilege drop: the model's timers run on base from now on, and the model (if
 * any) runs its top level and on_reset. 0, or -EIO with the reason in err (then mmiod does not
 * start: a model that fails at once is a broken config).
 */
int sim_device_start(struct backend *b, struct event_base *base, char *err, size_t errlen);

/*
 * Raises the interrupt: the running count goes up by one and b->irq_fd reads it (one record
 * pending at most, as UIO's fd reads the latest count). 0 or -EIO.
 */
int sim_device_irq(struct backend *b);

/*
 * Every byte of the registers as they are (b->len of them), raw: no rule, no model, no side
 * effect; and the same written back. A restart carries a sim's registers over with these; the
 * model's own Lua state starts afresh.
 */
void sim_registers_save(const struct backend *b, uint8_t *out);
void sim_registers_restore(struct backend *b, const uint8_t *in);

/* Interrupts raised since start. */
uint32_t sim_device_irq_count(const struct backend *b);

/*
 * The registers' state, to read raw (regsim_peek) without disturbing the device: no rule, no
 * read side effect, no hook of the model. For an oracle that checks the device from outside
 * (fuzz/); mmiod itself reads them through the calls above.
 */
const struct regsim *sim_device_registers(const struct backend *b);

/* The loop is going: cancels the model's pending timers; none are armed after this. */
void sim_device_stop(struct backend *b);

#endif
