/*
 * A fake device behind the backend_ops seam, for unit tests of region.c and
 * anything above it. It holds len bytes of plain memory and checks the
 * UnsafeMmio contract on every unchecked access it receives:
 *
 * - the access lies inside [0, len) and its absolute address (addr + off) is
 *   aligned to its width;
 * - with FAKE_CHECK_CONCURRENCY, no store overlaps any other access in flight
 *   (per-byte atomic reader/writer counters, in the spirit of the Rust crate's
 *   CheckedRegisters); with FAKE_YIELD each access calls sched_yield() while it
 *   holds its bytes, to widen the window in which an overlap shows.
 *
 * A broken rule sets the violation flag instead of aborting, so a test can
 * assert on it from the main thread. With FAKE_TRACE every call is recorded in
 * order (not thread-safe: use it from one thread only).
 */
#ifndef MMIO_TEST_FAKE_BACKEND_H
#define MMIO_TEST_FAKE_BACKEND_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "device/backend.h"

enum fake_flags {
	FAKE_TRACE = 1u << 0,
	FAKE_CHECK_CONCURRENCY = 1u << 1,
	FAKE_YIELD = 1u << 2,
};

enum fake_op {
	FAKE_LOAD,
	FAKE_STORE,
	FAKE_BARRIER,
};

struct fake_access {
	enum fake_op op;
	unsigned width; /* bytes; 0 for a barrier */
	uint64_t off;   /* backend (absolute region) offset */
	uint64_t value; /* stored, or returned by the load */
};

struct fake_backend {
	struct backend base; /* first: region.c only sees this */
	unsigned flags;
	_Atomic uint8_t *data;
	atomic_uint *readers;
	atomic_uint *writers;
	atomic_uint violations;
	atomic_ulong loads;
	atomic_ulong stores;
	atomic_ulong barriers;
	struct fake_access *trace;
	size_t trace_len;
	size_t trace_cap;
	int *closed; /* if set, close() stores 1 here */
	/*
	 * With FAKE_CHECK_CONCURRENCY, called while an access holds its bytes, so a
	 * test can start an overlapping access deterministically. Cleared before the
	 * call, so it runs once.
	 */
	void (*in_access)(struct fake_backend *f, void *arg);
	void *in_access_arg;
};

/*
 * A zero-filled fake of len bytes whose offset 0 sits at absolute address addr.
 * NULL only for lack of memory. Ownership passes like any backend: region_create()
 * takes it and region_destroy()/backend_close() frees it.
 */
struct fake_backend *fake_backend_create(uint64_t len, uint64_t addr, unsigned flags);

/* Every load, store and barrier call so far. */
unsigned long fake_backend_calls(const struct fake_backend *f);

/* Forgets the trace and the counters (not the data, not violations). */
void fake_backend_reset(struct fake_backend *f);

/* The i-th recorded call (FAKE_TRACE), or NULL past the end. */
const struct fake_access *fake_backend_trace(const struct fake_backend *f, size_t i);

/* Raw little-endian bytes [off, off+width) of the fake memory, unchecked. */
uint64_t fake_backend_peek(const struct fake_backend *f, uint64_t off, unsigned width);

#endif
