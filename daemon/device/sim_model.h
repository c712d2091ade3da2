/*
 * A simulated device's behaviour beyond its register map's access kinds: a Lua 5.4 script
 * (mmiod-model(5)) whose hooks run on the driver's loads and stores, on the test harness's
 * changes, on the model's own timers and at reset, and which changes the device's state and
 * raises its interrupt through a host (the sim backend).
 *
 * The script runs in a sandbox: only the base (without dofile, loadfile, load, collectgarbage,
 * warn), string (without dump), table, math and utf8 libraries; source text only, never
 * bytecode; no finalizers (__gc); every hook call under an instruction budget and the whole
 * state under a memory cap. A hook that raises an error or runs out of either faults the model:
 * that hook returns -EIO (the backend fails that access with IO_ERROR) and so does every later
 * one until sim_model_reset(); the rest of mmiod carries on. Every call into Lua is protected,
 * so a model never aborts the process.
 *
 * Offsets are region-relative bytes; widths are access widths in bytes (1, 2, 4 or 8), as
 * everywhere in device/. Register values travel as uint64_t, in Lua as 64-bit integers (2^63
 * and above as negative ones).
 *
 * Not thread-safe, and not reentrant: the host's callbacks must not call back into the model.
 */
#ifndef MMIOD_SIM_MODEL_H
#define MMIOD_SIM_MODEL_H

#include <stddef.h>
#include <stdint.h>

#include "core/regmap.h"

/* Lua VM instructions one hook call (or the chunk's top level) may run. */
#define SIM_MODEL_MAX_INSTRUCTIONS 1000000
/* Bytes one model's Lua state may hold. */
#define SIM_MODEL_MAX_MEMORY (16u << 20)
/* A model file's size. */
#define SIM_MODEL_MAX_FILE_BYTES (1u << 20)
/* Timers (device.after) one model may have pending, and their longest delay (a day). */
#define SIM_MODEL_MAX_TIMERS   256
#define SIM_MODEL_MAX_DELAY_MS 86400000u
/* Bytes of one log message (device.log, print); longer ones are cut. */
#define SIM_MODEL_MAX_LOG 1024

struct sim_model;

/*
 * What a model may do to its device; the sim backend implements it. Every callback is required
 * and none may call a sim_model_* function.
 */
struct sim_model_host {
	void *ctx;
	/* The state's width bytes at off, as a load of that width would see them. */
	uint64_t (*get)(void *ctx, uint64_t off, unsigned width);
	/* Sets the bits of mask at off (width bytes) to those of value, leaves the others. */
	void (*set)(void *ctx, uint64_t off, unsigned width, uint64_t mask, uint64_t value);
	/* Raises the region's interrupt. */
	void (*irq)(void *ctx);
	/*
	 * Arms a one-shot timer: ms milliseconds from now (0..SIM_MODEL_MAX_DELAY_MS), call
	 * sim_model_timer(m, token). 0, or a negative errno (the model's device.after fails).
	 * Tokens are never reused by a model; the host need not cancel any at a reset (stale
	 * tokens are ignored), but must cancel them all before sim_model_close().
	 */
	int (*after)(void *ctx, uint64_t ms, uint64_t token);
	/* A line the model logged: printable ASCII, at most SIM_MODEL_MAX_LOG bytes. The host
	 * rate-limits if it must: a model may log on every access. */
	void (*log)(void *ctx, const char *message);
};

/*
 * Reads the model file at path (at most SIM_MODEL_MAX_FILE_BYTES) and compiles it, as source
 * text only, into a sandboxed Lua state; runs nothing, so it may run as root before the
 * privilege drop, and open + close is a syntax check (--check-config). map (may be NULL: then
 * no hook runs and no name resolves) must be valid for the region (regmap_validate with its
 * size) and outlive the model; host is copied. 0 with *out, or a negative errno with a message
 * in err: -EINVAL for a syntax error ("path:line: message"), a bytecode file or a file too big,
 * -ENOMEM, or open(2)'s error ("path: why").
 */
int sim_model_open(const char *path, const struct regmap *map, const struct sim_model_host *host,
		   struct sim_model **out, char *err, size_t errlen);

/*
 * Runs the chunk compiled by sim_model_open() (its top level defines the hooks), then its
 * on_reset(): the device comes out of reset for the first time, its state at the map's reset
 * values. Called once, after the privilege drop. 0, or -EIO with the reason in err (the model
 * is faulted), -EALREADY if it ran already, -EBUSY from inside a host callback.
 */
int sim_model_start(struct sim_model *m, char *err, size_t errlen);

/*
 * The hooks, one call per register instance the access touches (none for an access that
 * touches no register), in increasing offset. Each returns 0; -EIO if the model is faulted,
 * or faults now (a hook raised an error, ran past its budget or the memory cap: the access
 * fails); -EINVAL for a width other than 1, 2, 4, 8 or an access past 2^64; -EBUSY from inside
 * a host callback.
 */

/*
 * A load of width bytes at off. *value: on entry what the driver would read (the state after
 * the access rules); on return what it reads, as on_load changed it.
 */
int sim_model_load(struct sim_model *m, uint64_t off, unsigned width, uint64_t *value);

/*
 * After a store of width bytes at off: written is what the driver stored, old what those bytes
 * held before; the state already holds the result of the access rules (w1c, w1s, ...).
 */
int sim_model_store(struct sim_model *m, uint64_t off, unsigned width, uint64_t written,
		    uint64_t old);

/*
 * After the test harness, playing the hardware, changed width bytes at off directly (no access
 * rules): old is what they held before; the state holds the new value.
 */
int sim_model_device_set(struct sim_model *m, uint64_t off, unsigned width, uint64_t old);

/*
 * The test harness, playing the hardware, reads width bytes at off directly (no access rules):
 * *value, on entry the raw state, on return what on_device_get made of it (a device's transmit
 * FIFO that the harness drains, say). The state is left as the hook leaves it.
 */
int sim_model_device_get(struct sim_model *m, uint64_t off, unsigned width, uint64_t *value);

/*
 * A timer the model armed through host->after() is due. A token the model no longer knows
 * (armed before a reset, or while it is faulted) is ignored: 0. -EIO if the model faults now.
 */
int sim_model_timer(struct sim_model *m, uint64_t token);

/*
 * The device was reset (the backend put the reset values back): discards the Lua state and its
 * pending timers, compiles the kept text into a fresh state, runs the chunk and on_reset().
 * Clears a fault. 0, or -EIO (faulted again, the reason in err), -ENOMEM, -EBUSY.
 */
int sim_model_reset(struct sim_model *m, char *err, size_t errlen);

/* NULL, or why the model is faulted (printable): "not started" before sim_model_start(). */
const char *sim_model_faulted(const struct sim_model *m);

/* Frees the model; accepts NULL. The host cancels its pending timers first. */
void sim_model_close(struct sim_model *m);

#endif
