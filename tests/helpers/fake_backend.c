#include <sched.h>
#include <stdlib.h>
#include <string.h>

#include "fake_backend.h"

static struct fake_backend *
fake_of(const struct backend *b)
{
	return (struct fake_backend *)b;
}

static void
record(struct fake_backend *f, enum fake_op op, unsigned width, uint64_t off, uint64_t value)
{
	if (!(f->flags & FAKE_TRACE)) {
		return;
	}
	if (f->trace_len == f->trace_cap) {
		size_t cap = f->trace_cap ? 2 * f->trace_cap : 64;
		struct fake_access *t = realloc(f->trace, cap * sizeof(*t));
		if (!t) {
			/* A lost record must not pass as a clean trace. */
			atomic_fetch_add(&f->violations, 1);
			return;
		}
		f->trace = t;
		f->trace_cap = cap;
	}
	f->trace[f->trace_len++] = (struct fake_access){op, width, off, value};
}

/*
 * The contract every unchecked access must meet: inside the fake and aligned on
 * the absolute address. Returns 0 (and flags a violation) if not, so the caller
 * skips touching memory that does not exist.
 */
static int
access_valid(struct fake_backend *f, uint64_t off, unsigned width)
{
	if (off > f->base.len || f->base.len - off < width ||
	    ((f->base.addr + off) & (width - 1)) != 0) {
		atomic_fetch_add(&f->violations, 1);
		return 0;
	}
	return 1;
}

/*
 * Claims [off, off+width) as a reader or writer. Each side publishes itself
 * before looking at the other (seq_cst), so of two overlapping accesses at
 * least one sees the other.
 */
static void
claim(struct fake_backend *f, uint64_t off, unsigned width, int store)
{
	if (!(f->flags & FAKE_CHECK_CONCURRENCY)) {
		return;
	}
	for (unsigned i = 0; i < width; i++) {
		if (store) {
			unsigned w = atomic_fetch_add(&f->writers[off + i], 1);
			if (w != 0 || atomic_load(&f->readers[off + i]) != 0) {
				atomic_fetch_add(&f->violations, 1);
			}
		} else {
			atomic_fetch_add(&f->readers[off + i], 1);
			if (atomic_load(&f->writers[off + i]) != 0) {
				atomic_fetch_add(&f->violations, 1);
			}
		}
	}
	if (f->flags & FAKE_YIELD) {
		sched_yield();
	}
	if (f->in_access) {
		void (*hook)(struct fake_backend *, void *) = f->in_access;
		f->in_access = NULL;
		hook(f, f->in_access_arg);
	}
}

static void
unclaim(struct fake_backend *f, uint64_t off, unsigned width, int store)
{
	if (!(f->flags & FAKE_CHECK_CONCURRENCY)) {
		return;
	}
	if (f->flags & FAKE_YIELD) {
		sched_yield();
	}
	for (unsigned i = 0; i < width; i++) {
		atomic_fetch_sub(store ? &f->writers[off + i] : &f->readers[off + i], 1);
	}
}

static uint64_t
fake_load(const struct backend *b, uint64_t off, unsigned width)
{
	struct fake_backend *f = fake_of(b);
	atomic_fetch_add(&f->loads, 1);
	uint64_t v = 0;
	if (access_valid(f, off, width)) {
		claim(f, off, width, 0);
		v = fake_backend_peek(f, off, width);
		unclaim(f, off, width, 0);
	}
	record(f, FAKE_LOAD, width, off, v);
	return v;
}

static void
fake_store(const struct backend *b, uint64_t off, unsigned width, uint64_t v)
{
	struct fake_backend *f = fake_of(b);
	atomic_fetch_add(&f->stores, 1);
	if (access_valid(f, off, width)) {
		claim(f, off, width, 1);
		for (unsigned i = 0; i < width; i++) {
			atomic_store_explicit(&f->data[off + i], (uint8_t)(v >> (8 * i)),
					      memory_order_relaxed);
		}
		unclaim(f, off, width, 1);
	}
	record(f, FAKE_STORE, width, off, v);
}

#define FAKE_ACCESSORS(bits)                                                                       \
	static uint##bits##_t fake_load##bits(const struct backend *b, uint64_t off)               \
	{                                                                                          \
		return (uint##bits##_t)fake_load(b, off, bits / 8);                                \
	}                                                                                          \
	static void fake_store##bits(const struct backend *b, uint64_t off, uint##bits##_t v)      \
	{                                                                                          \
		fake_store(b, off, bits / 8, v);                                                   \
	}
FAKE_ACCESSORS(8)
FAKE_ACCESSORS(16)
FAKE_ACCESSORS(32)
FAKE_ACCESSORS(64)

static void
fake_write_barrier(const struct backend *b)
{
	struct fake_backend *f = fake_of(b);
	atomic_fetch_add(&f->barriers, 1);
	record(f, FAKE_BARRIER, 0, 0, 0);
}

static void
fake_close(struct backend *b)
{
	struct fake_backend *f = fake_of(b);
	if (f->closed) {
		*f->closed = 1;
	}
	free(f->trace);
	free(f->readers);
	free(f->writers);
	free((void *)f->data);
	free(f);
}

static const struct backend_ops fake_ops = {
	.load8 = fake_load8,
	.load16 = fake_load16,
	.load32 = fake_load32,
	.load64 = fake_load64,
	.store8 = fake_store8,
	.store16 = fake_store16,
	.store32 = fake_store32,
	.store64 = fake_store64,
	.write_barrier = fake_write_barrier,
	.close = fake_close,
};

struct fake_backend *
fake_backend_create(uint64_t len, uint64_t addr, unsigned flags)
{
	struct fake_backend *f = calloc(1, sizeof(*f));
	if (!f) {
		return NULL;
	}
	f->base.ops = &fake_ops;
	f->base.irq_fd = -1;
	f->base.type = "fake";
	f->base.len = len;
	f->base.addr = addr;
	f->flags = flags;
	f->data = calloc(len ? len : 1, sizeof(*f->data));
	f->readers = calloc(len ? len : 1, sizeof(*f->readers));
	f->writers = calloc(len ? len : 1, sizeof(*f->writers));
	if (!f->data || !f->readers || !f->writers) {
		fake_close(&f->base);
		return NULL;
	}
	return f;
}

unsigned long
fake_backend_calls(const struct fake_backend *f)
{
	return atomic_load(&f->loads) + atomic_load(&f->stores) + atomic_load(&f->barriers);
}

void
fake_backend_reset(struct fake_backend *f)
{
	f->trace_len = 0;
	atomic_store(&f->loads, 0);
	atomic_store(&f->stores, 0);
	atomic_store(&f->barriers, 0);
}

const struct fake_access *
fake_backend_trace(const struct fake_backend *f, size_t i)
{
	return i < f->trace_len ? &f->trace[i] : NULL;
}

uint64_t
fake_backend_peek(const struct fake_backend *f, uint64_t off, unsigned width)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < width; i++) {
		uint64_t byte = atomic_load_explicit(&f->data[off + i], memory_order_relaxed);
		v |= byte << (8 * i);
	}
	return v;
}
