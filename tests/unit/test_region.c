/*
 * device/region.c: checked accesses through a lease, and request/access.c's
 * read-modify-write on top of them (the one every path of mmiod runs). The
 * memory.rs tests of the Rust crate run over a real backend_mem; the seam
 * tests (no backend call on a failed check, exactly one call of the exact
 * width, thread isolation) run over tests/helpers/fake_backend.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/lease.h"
#include "core/width.h"
#include "device/backend.h"
#include "device/region.h"
#include "fake_backend.h"
#include "request/access.h"
#include "request/session.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

static const unsigned widths[] = {1, 2, 4, 8};

struct fixture {
	struct region *r;
	struct fake_backend *fake; /* NULL over backend_mem */
	struct lease_set set;
	struct lease *l;  /* the whole region */
	struct session s; /* who modifies (only read if the region were audited) */
};

static int
setup_region(void **state, struct backend *b, struct fake_backend *fake)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	f->r = region_create("test", b);
	assert_non_null(f->r);
	f->fake = fake;
	lease_set_init(&f->set, 128, 1, 1000);
	assert_int_equal(lease_acquire(&f->r->space, &f->set, 0, b->len, &f->l), 0);
	assert_ptr_equal(region_of_lease(f->l), f->r);
	*state = f;
	return 0;
}

static int
setup_mem(void **state)
{
	struct backend *b;
	char err[256] = "";
	assert_int_equal(backend_open(&(struct region_spec){.type = "mem", .size = 256}, &b, err,
				      sizeof(err)),
			 0);
	return setup_region(state, b, NULL);
}

static int
setup_fake(void **state)
{
	struct fake_backend *fake = fake_backend_create(0x2000, 0, FAKE_TRACE);
	assert_non_null(fake);
	return setup_region(state, &fake->base, fake);
}

static int
setup_checked(void **state)
{
	struct fake_backend *fake =
		fake_backend_create(512, 0, FAKE_CHECK_CONCURRENCY | FAKE_YIELD);
	assert_non_null(fake);
	return setup_region(state, &fake->base, fake);
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	if (f->fake) {
		/* Whatever the test did, the backend never saw a bad unchecked access. */
		assert_int_equal(atomic_load(&f->fake->violations), 0);
	}
	lease_revoke_all(&f->set);
	region_destroy(f->r);
	test_free(f);
	return 0;
}

static void
test_region_aligned_access(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	assert_int_equal(f->l->len, 256);
	assert_int_equal(f->r->backend->len, 256);
	for (uint64_t i = 0; i < 32; i++) {
		assert_int_equal(region_load(f->l, i * 8, 8, &v), 0);
		assert_int_equal(v, 0);
	}
	for (uint64_t i = 0; i < 32; i++) {
		assert_int_equal(region_store(f->l, i * 8, 8, i), 0);
		assert_int_equal(region_load(f->l, i * 8, 8, &v), 0);
		assert_int_equal(v, i);
	}
	/* The stores reached the memory itself. */
	for (uint64_t i = 0; i < 32; i++) {
		uint64_t raw;
		memcpy(&raw, f->r->backend->base + i * 8, sizeof(raw));
		assert_int_equal(raw, i);
	}
}

static void
test_region_alignment_checking(void **state)
{
	struct fixture *f = *state;

	for (uint64_t off = 0; off < 32; off++) {
		for (size_t i = 0; i < ARRAY_LEN(widths); i++) {
			int want = off % widths[i] == 0 ? 0 : -EFAULT;
			uint64_t v = 0;
			assert_int_equal(region_load(f->l, off, widths[i], &v), want);
			assert_int_equal(region_store(f->l, off, widths[i], 0), want);
		}
	}
}

static void
test_region_bounds_checking(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	for (size_t i = 0; i < ARRAY_LEN(widths); i++) {
		assert_int_equal(region_load(f->l, 256, widths[i], &v), -ERANGE);
		assert_int_equal(region_store(f->l, 256, widths[i], 0), -ERANGE);
		assert_int_equal(region_load(f->l, 256 - widths[i], widths[i], &v), 0);
		assert_int_equal(region_store(f->l, 256 - widths[i], widths[i], 1), 0);
		assert_int_equal(region_load(f->l, UINT64_MAX - widths[i] + 1, widths[i], &v),
				 -ERANGE);
		assert_int_equal(region_store(f->l, UINT64_MAX - widths[i] + 1, widths[i], 1),
				 -ERANGE);
	}
	/* Unaligned and out of range is UNALIGNED. */
	assert_int_equal(region_load(f->l, 258, 4, &v), -EFAULT);
	assert_int_equal(region_store(f->l, 252, 8, 0), -EFAULT);
}

static uint8_t
aliased_byte(uint64_t reg, unsigned byte)
{
	static const uint8_t primes[] = {1, 3, 5, 7, 11, 13, 17, 19};
	return (uint8_t)(reg * primes[byte]);
}

static void
test_region_aliased_access(void **state)
{
	struct fixture *f = *state;

	/* Write register i as 1 x u64, 2 x u32, 4 x u16 or 8 x u8 in turn. */
	for (uint64_t reg = 0; reg < 32; reg++) {
		unsigned w = 8u >> (reg % 4);
		for (unsigned part = 0; part < 8 / w; part++) {
			uint64_t v = 0;
			for (unsigned b = 0; b < w; b++) {
				v |= (uint64_t)aliased_byte(reg, part * w + b) << (8 * b);
			}
			assert_int_equal(region_store(f->l, reg * 8 + part * w, w, v), 0);
		}
	}
	/* Every width reads the same bytes, little-endian. */
	for (uint64_t reg = 0; reg < 32; reg++) {
		for (size_t i = 0; i < ARRAY_LEN(widths); i++) {
			unsigned w = widths[i];
			for (unsigned part = 0; part < 8 / w; part++) {
				uint64_t want = 0, got;
				for (unsigned b = 0; b < w; b++) {
					want |= (uint64_t)aliased_byte(reg, part * w + b)
						<< (8 * b);
				}
				assert_int_equal(region_load(f->l, reg * 8 + part * w, w, &got), 0);
				assert_int_equal(got, want);
			}
		}
	}
}

static void
test_region_masked_access(void **state)
{
	struct fixture *f = *state;
	const uint64_t v = 0xfedcba9876543210;
	uint64_t got;
	uint64_t old;

	assert_int_equal(region_store(f->l, 0, 8, v), 0);
	assert_int_equal(access_modify(&f->s, f->l, 0, 8, 0xff00000000000000, 0, &old), 0);
	assert_int_equal(old, v);
	assert_int_equal(region_load(f->l, 0, 8, &got), 0);
	assert_int_equal(got, 0x00dcba9876543210);
	/* Bits of value outside the mask are ignored; narrower widths keep their neighbours. */
	assert_int_equal(access_modify(&f->s, f->l, 0, 8, 0xf0, UINT64_MAX, &old), 0);
	assert_int_equal(region_load(f->l, 0, 8, &got), 0);
	assert_int_equal(got, 0x00dcba98765432f0);
	assert_int_equal(access_modify(&f->s, f->l, 2, 2, UINT64_MAX, UINT64_MAX, &old), 0);
	assert_int_equal(old, 0x7654);
	assert_int_equal(region_load(f->l, 0, 8, &got), 0);
	assert_int_equal(got, 0x00dcba98ffff32f0);
	/* A failed check fails a modify the same way, before its load. */
	assert_int_equal(access_modify(&f->s, f->l, 1, 2, UINT64_MAX, 0, &old), -EFAULT);
	assert_int_equal(access_modify(&f->s, f->l, 256, 1, UINT64_MAX, 0, &old), -ERANGE);
	/* A read-only lease refuses a modify before its load: a read can have side effects. */
	f->l->read_only = true;
	assert_int_equal(access_modify(&f->s, f->l, 0, 8, 1, 1, &old), -EACCES);
	f->l->read_only = false;
}

/* Port of region.rs test_alignment, with stores and loads reaching real memory. */
static void
test_region_alignment_across_splits(void **state)
{
	struct fixture *f = *state;
	unsigned seed = 1;

	for (uint64_t region_offset = 0; region_offset < 8; region_offset++) {
		for (uint64_t rel = 0; rel < 16; rel++) {
			uint64_t v = ((uint64_t)rand_r(&seed) << 32) ^ (uint64_t)rand_r(&seed);
			for (size_t i = 0; i < ARRAY_LEN(widths); i++) {
				unsigned w = widths[i];
				int want = (rel + region_offset) % w == 0 ? 0 : -EFAULT;
				uint64_t got = 0;
				assert_int_equal(region_store(f->l, rel, w, v & width_mask(w)),
						 want);
				assert_int_equal(region_load(f->l, rel, w, &got), want);
				if (want == 0) {
					assert_int_equal(got, v & width_mask(w));
				}
			}
		}
		struct lease *low;
		assert_int_equal(lease_split(f->l, 1, &low), 0);
		lease_release(low);
	}
}

static void
test_region_store_value_too_wide(void **state)
{
	struct fixture *f = *state;
	uint8_t before[256];

	for (unsigned i = 0; i < 256; i++) {
		f->r->backend->base[i] = (uint8_t)(i ^ 0x5a);
	}
	memcpy(before, f->r->backend->base, sizeof(before));
	for (size_t i = 0; i < 3; i++) {
		unsigned w = widths[i];
		assert_int_equal(region_store(f->l, 0, w, width_mask(w) + 1), -EINVAL);
		assert_int_equal(region_store(f->l, 8, w, UINT64_MAX), -EINVAL);
		assert_int_equal(region_store(f->l, 16, w, UINT64_C(1) << 63), -EINVAL);
	}
	assert_memory_equal(f->r->backend->base, before, sizeof(before));
	/* The widest value that fits is fine. */
	for (size_t i = 0; i < ARRAY_LEN(widths); i++) {
		assert_int_equal(region_store(f->l, 32, widths[i], width_mask(widths[i])), 0);
	}
}

static void
test_region_mem_backend_errors(void **state)
{
	(void)state;
	static const uint64_t sizes[] = {0, (uint64_t)SIZE_MAX / 2 + 1, UINT64_MAX};
	for (size_t i = 0; i < ARRAY_LEN(sizes); i++) {
		struct backend *b = NULL;
		char err[256] = "";
		assert_int_equal(
			backend_open(&(struct region_spec){.type = "mem", .size = sizes[i]}, &b,
				     err, sizeof(err)),
			-EINVAL);
		assert_null(b);
		assert_true(err[0] != '\0');
	}
}

/* Every failing request, for every entry point: none may reach the backend. */
static void
test_region_failed_checks_do_not_call_backend(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint64_t off;
		unsigned width;
		int rc;
	} bad[] = {
		{1, 2, -EFAULT},
		{2, 4, -EFAULT},
		{4, 8, -EFAULT},
		{0x2000, 1, -ERANGE},
		{0x2000, 8, -ERANGE},
		{UINT64_MAX, 1, -ERANGE},
		{0, 0, -EINVAL},
		{0, 3, -EINVAL},
		{0, 16, -EINVAL},
		{0x2001, 2, -EFAULT},
		{UINT64_MAX - 7, 8, -ERANGE},
	};
	uint64_t v;

	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		assert_int_equal(region_load(f->l, bad[i].off, bad[i].width, &v), bad[i].rc);
		assert_int_equal(region_store(f->l, bad[i].off, bad[i].width, 0), bad[i].rc);
		assert_int_equal(access_modify(&f->s, f->l, bad[i].off, bad[i].width, 1, 1, &v),
				 bad[i].rc);
	}
	assert_int_equal(region_store(f->l, 0, 1, 0x100), -EINVAL);
	assert_int_equal(region_store(f->l, 0, 4, UINT64_C(1) << 32), -EINVAL);
	assert_int_equal(fake_backend_calls(f->fake), 0);
	assert_null(fake_backend_trace(f->fake, 0));
}

static void
test_region_write_barrier_empty_lease(void **state)
{
	struct fixture *f = *state;
	struct lease *low;

	assert_int_equal(lease_split(f->l, 0, &low), 0);
	assert_int_equal(low->len, 0);
	region_write_barrier(low);
	assert_int_equal(atomic_load(&f->fake->barriers), 1);
	assert_int_equal(fake_backend_calls(f->fake), 1);
	assert_int_equal(fake_backend_trace(f->fake, 0)->op, FAKE_BARRIER);
	/* An empty lease at the very end of the region, too. */
	assert_int_equal(lease_split(f->l, f->l->len, &low), 0);
	assert_int_equal(f->l->len, 0);
	region_write_barrier(f->l);
	assert_int_equal(atomic_load(&f->fake->barriers), 2);
	assert_int_equal(fake_backend_calls(f->fake), 2);
}

/* The scoreboard of the mock crate: exactly one call of the exact width per access, in order. */
static void
test_region_exact_width_trace(void **state)
{
	struct fixture *f = *state;
	static const struct fake_access want[] = {
		{FAKE_STORE, 1, 0x0, 0x12},
		{FAKE_STORE, 2, 0x2, 0x3456},
		{FAKE_STORE, 4, 0x4, 0x789abcde},
		{FAKE_STORE, 8, 0x8, 0x0123456789abcdef},
		{FAKE_LOAD, 1, 0x10, 0},
		{FAKE_LOAD, 2, 0x12, 0},
		{FAKE_LOAD, 4, 0x14, 0},
		{FAKE_LOAD, 8, 0x18, 0},
		{FAKE_LOAD, 8, 0x8, 0x0123456789abcdef},
		{FAKE_LOAD, 4, 0x4, 0x789abcde},
		{FAKE_LOAD, 1, 0x3, 0x34},
		{FAKE_BARRIER, 0, 0, 0},
	};
	uint64_t v;

	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		if (want[i].op == FAKE_STORE) {
			assert_int_equal(
				region_store(f->l, want[i].off, want[i].width, want[i].value), 0);
		} else if (want[i].op == FAKE_LOAD) {
			assert_int_equal(region_load(f->l, want[i].off, want[i].width, &v), 0);
			assert_int_equal(v, want[i].value);
		} else {
			region_write_barrier(f->l);
		}
	}
	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		const struct fake_access *got = fake_backend_trace(f->fake, i);
		assert_non_null(got);
		assert_int_equal(got->op, want[i].op);
		assert_int_equal(got->width, want[i].width);
		assert_int_equal(got->off, want[i].off);
		assert_int_equal(got->value, want[i].value);
	}
	assert_null(fake_backend_trace(f->fake, ARRAY_LEN(want)));
}

static void
test_region_modify_is_one_load_one_store(void **state)
{
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_LEN(widths); i++) {
		unsigned w = widths[i];
		uint64_t off = 0x40 + 8 * i;
		uint64_t cur = 0x8877665544332211 & width_mask(w);
		uint64_t mask = 0xf0f0f0f0f0f0f0f0, value = 0x0f5a0f5a0f5a0f5a;
		assert_int_equal(region_store(f->l, off, w, cur), 0);
		fake_backend_reset(f->fake);
		uint64_t old;
		assert_int_equal(access_modify(&f->s, f->l, off, w, mask, value, &old), 0);
		assert_int_equal(old, cur);
		assert_int_equal(f->fake->trace_len, 2);
		const struct fake_access *ld = fake_backend_trace(f->fake, 0);
		const struct fake_access *st = fake_backend_trace(f->fake, 1);
		assert_int_equal(ld->op, FAKE_LOAD);
		assert_int_equal(ld->width, w);
		assert_int_equal(ld->off, off);
		assert_int_equal(st->op, FAKE_STORE);
		assert_int_equal(st->width, w);
		assert_int_equal(st->off, off);
		assert_int_equal(st->value, ((cur & ~mask) | (value & mask)) & width_mask(w));
	}
}

/*
 * The mock crate's split test. Split at 0x100, the halves are 0x100 and len - 0x100
 * long (0xf00 for a 0x1000 lease, 0x1f00 for the whole 0x2000 region), and each
 * one's offset 0 lands on its own absolute offset.
 */
static void
test_region_split_scoreboard(void **state)
{
	struct fixture *f = *state;
	struct lease *low, *l;

	assert_int_equal(f->l->len, 0x2000);
	assert_int_equal(lease_split(f->l, 0x100, &low), 0);
	assert_int_equal(low->len, 0x100);
	assert_int_equal(f->l->len, 0x1f00);
	lease_revoke_all(&f->set);

	assert_int_equal(lease_acquire(&f->r->space, &f->set, 0, 0x1000, &l), 0);
	assert_int_equal(lease_split(l, 0x100, &low), 0);
	assert_int_equal(low->len, 0x100);
	assert_int_equal(l->len, 0xf00);
	assert_int_equal(region_store(low, 0, 4, 0), 0);
	assert_int_equal(region_store(l, 0, 4, 0), 0);
	assert_int_equal(f->fake->trace_len, 2);
	assert_int_equal(fake_backend_trace(f->fake, 0)->off, 0x0);
	assert_int_equal(fake_backend_trace(f->fake, 1)->off, 0x100);
	/* Each half ends where it should. */
	assert_int_equal(region_store(low, 0x100, 1, 0), -ERANGE);
	assert_int_equal(region_store(l, 0xf00, 1, 0), -ERANGE);
	assert_int_equal(region_store(l, 0xefc, 4, 0), 0);
	assert_int_equal(fake_backend_trace(f->fake, 2)->off, 0xffc);
	assert_int_equal(f->fake->trace_len, 3);
}

struct overlap {
	const struct lease *l;
	uint64_t off;
	unsigned width;
	int store;
};

static void
overlap_hook(struct fake_backend *fake, void *arg)
{
	const struct overlap *o = arg;
	uint64_t v = 0;
	(void)fake;
	if (o->store) {
		assert_int_equal(region_store(o->l, o->off, o->width, 0), 0);
	} else {
		assert_int_equal(region_load(o->l, o->off, o->width, &v), 0);
	}
}

/* Run one access with another one started inside it; return the violations seen. */
static unsigned
run_overlapped(struct fixture *f, struct overlap *inner, uint64_t off, unsigned width, int store)
{
	uint64_t v;
	atomic_store(&f->fake->violations, 0);
	f->fake->in_access = overlap_hook;
	f->fake->in_access_arg = inner;
	if (store) {
		assert_int_equal(region_store(f->l, off, width, 0), 0);
	} else {
		assert_int_equal(region_load(f->l, off, width, &v), 0);
	}
	assert_null(f->fake->in_access);
	return atomic_exchange(&f->fake->violations, 0);
}

/* The checker the thread-safety test relies on does catch what it must. */
static void
test_region_fake_backend_detects_misuse(void **state)
{
	struct fixture *f = *state;
	const struct backend *b = &f->fake->base;

	/* Unchecked accesses region.c must never issue: unaligned, past the end. */
	(void)b->ops->load16(b, 1);
	b->ops->store32(b, 512, 0);
	(void)b->ops->load64(b, UINT64_MAX - 7);
	assert_int_equal(atomic_exchange(&f->fake->violations, 0), 3);

	/* Loads may overlap loads; stores overlap nothing; neighbours never clash. */
	struct overlap load8_at0 = {f->l, 0, 8, 0};
	assert_int_equal(run_overlapped(f, &load8_at0, 0, 4, 0), 0);
	struct overlap store2_at2 = {f->l, 2, 2, 1};
	assert_int_equal(run_overlapped(f, &store2_at2, 0, 4, 0), 2);
	struct overlap load1_at3 = {f->l, 3, 1, 0};
	assert_int_equal(run_overlapped(f, &load1_at3, 0, 4, 1), 1);
	struct overlap store4_at4 = {f->l, 4, 4, 1};
	assert_int_equal(run_overlapped(f, &store4_at4, 0, 4, 1), 0);
}

#define THREADS         64
#define BYTES_PER_LEASE 8
#define OPS_PER_THREAD  5000

struct worker {
	pthread_t thread;
	pthread_barrier_t *start;
	struct lease *l;
	unsigned seed;
	unsigned long ok;
	unsigned long wrong; /* results other than the exact expected one */
};

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	pthread_barrier_wait(w->start);
	for (int i = 0; i < OPS_PER_THREAD; i++) {
		unsigned op = (unsigned)rand_r(&w->seed) % 8;
		unsigned width = 1u << (op % 4);
		uint64_t off = (uint64_t)rand_r(&w->seed) % BYTES_PER_LEASE;
		/* Rounded up to the width, so some offsets are exactly the lease end. */
		off = (off + width - 1) / width * width % (2 * BYTES_PER_LEASE);
		uint64_t v = ((uint64_t)rand_r(&w->seed) << 32 ^ (uint64_t)rand_r(&w->seed)) &
			     width_mask(width);
		int rc = op < 4 ? region_load(w->l, off, width, &v)
				: region_store(w->l, off, width, v);
		int want = off + width <= BYTES_PER_LEASE ? 0 : -ERANGE;
		if (rc == 0) {
			w->ok++;
		}
		if (rc != want) {
			w->wrong++;
		}
	}
	return NULL;
}

/* Port of region.rs test_memory_region_thread_safety. */
static void
test_region_thread_safety(void **state)
{
	struct fixture *f = *state;
	pthread_barrier_t start;
	struct worker *workers = test_calloc(THREADS, sizeof(*workers));

	assert_int_equal(f->l->len, THREADS * BYTES_PER_LEASE);
	for (unsigned i = 0; i < THREADS; i++) {
		assert_int_equal(lease_split(f->l, BYTES_PER_LEASE, &workers[i].l), 0);
		workers[i].seed = 0x9e3779b9u * (i + 1);
	}
	assert_int_equal(f->l->len, 0);
	assert_int_equal(pthread_barrier_init(&start, NULL, THREADS), 0);
	for (unsigned i = 0; i < THREADS; i++) {
		workers[i].start = &start;
		assert_int_equal(pthread_create(&workers[i].thread, NULL, worker_main, &workers[i]),
				 0);
	}
	unsigned long ok = 0;
	for (unsigned i = 0; i < THREADS; i++) {
		assert_int_equal(pthread_join(workers[i].thread, NULL), 0);
		assert_int_equal(workers[i].wrong, 0);
		ok += workers[i].ok;
	}
	pthread_barrier_destroy(&start);
	test_free(workers);
	assert_int_equal(atomic_load(&f->fake->violations), 0);
	/* Every access that passed its check reached the backend, once. */
	assert_int_equal(atomic_load(&f->fake->loads) + atomic_load(&f->fake->stores), ok);
	assert_true(ok > 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define MEM(name)  cmocka_unit_test_setup_teardown(name, setup_mem, teardown)
#define FAKE(name) cmocka_unit_test_setup_teardown(name, setup_fake, teardown)
		MEM(test_region_aligned_access),
		MEM(test_region_alignment_checking),
		MEM(test_region_bounds_checking),
		MEM(test_region_aliased_access),
		MEM(test_region_masked_access),
		MEM(test_region_alignment_across_splits),
		MEM(test_region_store_value_too_wide),
		cmocka_unit_test(test_region_mem_backend_errors),
		FAKE(test_region_failed_checks_do_not_call_backend),
		FAKE(test_region_write_barrier_empty_lease),
		FAKE(test_region_exact_width_trace),
		FAKE(test_region_modify_is_one_load_one_store),
		FAKE(test_region_split_scoreboard),
		cmocka_unit_test_setup_teardown(test_region_fake_backend_detects_misuse,
						setup_checked, teardown),
		cmocka_unit_test_setup_teardown(test_region_thread_safety, setup_checked, teardown),
#undef MEM
#undef FAKE
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
