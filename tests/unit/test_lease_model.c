/*
 * lease_check_access and lease_align_offset against a reference model in
 * 128-bit arithmetic: a million seeded random (region base, lease start,
 * length, offset, width) cases, and the edge table {0, len-w, len-w+1, len,
 * 2^64-w, 2^64-1} x widths {0, 1, 2, 3, 4, 5, 8, 16} exactly, first as
 * literal verdicts worked out by hand (so a wrong model cannot hide a wrong
 * lease.c), then against the model over many leases.
 *
 * The seed is fixed and printed; MMIO_MODEL_SEED and MMIO_MODEL_CASES
 * override it and the case count, to explore (a failure prints its case).
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include <cmocka.h>

#include "core/lease.h"

#define ARRAY_LEN(a)  (sizeof(a) / sizeof((a)[0]))
#define DEFAULT_SEED  0x6d6d696f64ULL /* "mmiod" */
#define DEFAULT_CASES 1000000u
#define MAX_REPORTED  10

typedef unsigned __int128 u128;

/* What lease_check_access must answer (lease.h, docs/SEMANTICS.md), without a 64-bit sum. */
static int
model_check(uint64_t addr, uint64_t start, uint64_t len, uint64_t off, uint64_t width)
{
	if (width != 1 && width != 2 && width != 4 && width != 8) {
		return -EINVAL;
	}
	if (((u128)addr + start + off) % width != 0) {
		return -EFAULT;
	}
	if ((u128)off + width > len) {
		return -ERANGE;
	}
	return 0;
}

/* The first offset of the lease whose absolute address is a multiple of align. */
static uint64_t
model_align_offset(uint64_t addr, uint64_t start, uint64_t align)
{
	return (uint64_t)((align - ((u128)addr + start) % align) % align);
}

/* splitmix64: tiny, seedable with any value, and good enough to spread the cases. */
static uint64_t
rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static uint64_t
rng_below(uint64_t *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
}

/*
 * A value where the bugs live: small, just below 2^64, near a power of two,
 * near ref (a length, so offsets land around the lease end), or anything.
 */
static uint64_t
pick_u64(uint64_t *s, uint64_t ref)
{
	uint64_t small = rng_below(s, 24);
	switch (rng_below(s, 6)) {
	case 0:
		return small;
	case 1:
		return UINT64_MAX - small;
	case 2:
		return (1ULL << rng_below(s, 64)) + small - 12;
	case 3:
		return ref + small - 12;
	case 4:
		/* Bytes-sized values, as real regions are. */
		return rng_below(s, 1ULL << rng_below(s, 33));
	default:
		return rng_next(s);
	}
}

/* Mostly a valid width; the rest is what a hostile client may send in a uint32 field. */
static unsigned
pick_width(uint64_t *s)
{
	static const unsigned odd[] = {0, 3, 5, 6, 7, 9, 16, 32, 64, 1u << 31, UINT32_MAX};
	if (rng_below(s, 10) < 7) {
		return 1u << rng_below(s, 4);
	}
	return odd[rng_below(s, ARRAY_LEN(odd))];
}

struct fixture {
	struct lease_space space;
	struct lease_set set;
	unsigned mismatches;
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	lease_set_init(&f->set, 4, 100, 1000);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	lease_revoke_all(&f->set);
	test_free(f);
	return 0;
}

/* Compares one access check with the model; prints the first few differences. */
static void
check_case(struct fixture *f, const struct lease *l, uint64_t off, unsigned width)
{
	int want = model_check(l->space->addr, l->start, l->len, off, width);
	int got = lease_check_access(l, off, width);
	if (got == want) {
		return;
	}
	if (f->mismatches++ < MAX_REPORTED) {
		print_error("addr %#" PRIx64 " lease [%#" PRIx64 " +%#" PRIx64 ") off %#" PRIx64
			    " width %u: got %d, model %d\n",
			    l->space->addr, l->start, l->len, off, width, got, want);
	}
}

static void
check_align(struct fixture *f, const struct lease *l, uint64_t align)
{
	uint64_t want = model_align_offset(l->space->addr, l->start, align);
	uint64_t got = lease_align_offset(l, align);
	if (got == want) {
		return;
	}
	if (f->mismatches++ < MAX_REPORTED) {
		print_error("addr %#" PRIx64 " lease start %#" PRIx64 " align %" PRIu64
			    ": got %" PRIu64 ", model %" PRIu64 "\n",
			    l->space->addr, l->start, align, got, want);
	}
}

static uint64_t
env_u64(const char *name, uint64_t fallback)
{
	const char *v = getenv(name);
	return v && v[0] ? strtoull(v, NULL, 0) : fallback;
}

/*
 * Leases [start, start+len) of a fresh space at addr: directly, or (one case
 * in four) as the high part of a split, so the start moved by a split is
 * what alignment is judged on.
 */
static struct lease *
make_lease(struct fixture *f, uint64_t *s, uint64_t addr, uint64_t start, uint64_t len)
{
	/* The space must hold the lease: clamp so start + len cannot wrap. */
	if (start > UINT64_MAX - len) {
		start = UINT64_MAX - len;
	}
	uint64_t room = UINT64_MAX - start - len;
	lease_space_init(&f->space, start + len + rng_below(s, room < 64 ? room + 1 : 64), addr);
	struct lease *l;
	if (start > 0 && rng_below(s, 4) == 0) {
		uint64_t mid = 1 + rng_below(s, start);
		struct lease *low;
		assert_int_equal(lease_acquire(&f->space, &f->set, start - mid, len + mid, &l), 0);
		assert_int_equal(lease_split(l, mid, &low), 0);
		lease_release(low);
	} else {
		assert_int_equal(lease_acquire(&f->space, &f->set, start, len, &l), 0);
	}
	assert_int_equal(l->start, start);
	assert_int_equal(l->len, len);
	return l;
}

static void
test_lease_model_random_cases(void **state)
{
	struct fixture *f = *state;
	uint64_t seed = env_u64("MMIO_MODEL_SEED", DEFAULT_SEED);
	uint64_t cases = env_u64("MMIO_MODEL_CASES", DEFAULT_CASES);
	uint64_t s = seed;
	unsigned verdicts[4] = {0}; /* ok, EINVAL, EFAULT, ERANGE: the cases must hit all four */

	for (uint64_t i = 0; i < cases; i++) {
		uint64_t addr = pick_u64(&s, 0);
		uint64_t len = pick_u64(&s, 0);
		uint64_t start = pick_u64(&s, len);
		struct lease *l = make_lease(f, &s, addr, start, len);
		unsigned width = pick_width(&s);
		/* Around the end, around 2^64 - width, or anywhere. */
		uint64_t off = rng_below(&s, 3) == 0
				       ? UINT64_MAX - width + 1 + rng_below(&s, 16) - 8
				       : pick_u64(&s, l->len - width);
		check_case(f, l, off, width);
		check_align(f, l, 1ULL << rng_below(&s, 64));
		int v = lease_check_access(l, off, width);
		verdicts[v == 0 ? 0 : v == -EINVAL ? 1 : v == -EFAULT ? 2 : 3]++;
		lease_release(l);
	}
	printf("lease model: seed %#" PRIx64 ", %" PRIu64 " random cases (ok %u, EINVAL %u, "
	       "EFAULT %u, ERANGE %u), %u mismatches: %s\n",
	       seed, cases, verdicts[0], verdicts[1], verdicts[2], verdicts[3], f->mismatches,
	       f->mismatches ? "FAIL" : "PASS");
	assert_int_equal(f->mismatches, 0);
	assert_true(cases >= DEFAULT_CASES || getenv("MMIO_MODEL_CASES"));
	/* A generator that stopped reaching a verdict would pass without testing it. */
	for (size_t k = 0; k < ARRAY_LEN(verdicts); k++) {
		assert_true(verdicts[k] >= cases / 50);
	}
}

static const unsigned edge_widths[] = {0, 1, 2, 3, 4, 5, 8, 16};
#define N_EDGE_OFFSETS 6

/* {0, len-w, len-w+1, len, 2^64-w, 2^64-1}, all mod 2^64. */
static void
edge_offsets(uint64_t len, uint64_t w, uint64_t out[N_EDGE_OFFSETS])
{
	out[0] = 0;
	out[1] = len - w;
	out[2] = len - w + 1;
	out[3] = len;
	out[4] = 0 - w;
	out[5] = UINT64_MAX;
}

#define OK 0
#define IV (-EINVAL)
#define UA (-EFAULT)
#define OR (-ERANGE)

struct literal_lease {
	uint64_t addr, space_len, start, len;
	/* One row per edge width, one column per edge offset. */
	int want[ARRAY_LEN(edge_widths)][N_EDGE_OFFSETS];
};

/*
 * Worked out by hand from the absolute address addr + start + off, not from
 * model_check. Widths 0, 3, 5, 16 are INVALID_ARGUMENT whatever the offset.
 */
static const struct literal_lease literal_leases[] = {
	/* Absolute start 0x1010: 16-aligned, so off % w decides. */
	{0x1000,
	 0x10000,
	 0x10,
	 16,
	 {
		 {IV, IV, IV, IV, IV, IV},
		 {OK, OK, OR, OR, OR, OR}, /* w1: 0 15 16 16 2^64-1 2^64-1 */
		 {OK, OK, UA, OR, OR, UA}, /* w2: 0 14 15 16 2^64-2 2^64-1 */
		 {IV, IV, IV, IV, IV, IV},
		 {OK, OK, UA, OR, OR, UA}, /* w4: 0 12 13 16 2^64-4 2^64-1 */
		 {IV, IV, IV, IV, IV, IV},
		 {OK, OK, UA, OR, OR, UA}, /* w8: 0 8 9 16 2^64-8 2^64-1 */
		 {IV, IV, IV, IV, IV, IV},
	 }},
	/* Absolute start 0x1012: 2-aligned only. */
	{0x1000,
	 0x10000,
	 0x12,
	 16,
	 {
		 {IV, IV, IV, IV, IV, IV},
		 {OK, OK, OR, OR, OR, OR},
		 {OK, OK, UA, OR, OR, UA}, /* 0x1012 0x1020 0x1021 0x1022 0x1010 0x1011 */
		 {IV, IV, IV, IV, IV, IV},
		 {UA, UA, UA, UA, UA, UA}, /* 0x1012 0x101e 0x101f 0x1022 0x100e 0x1011 */
		 {IV, IV, IV, IV, IV, IV},
		 {UA, UA, UA, UA, UA, UA}, /* 0x1012 0x101a 0x101b 0x1022 0x100a 0x1011 */
		 {IV, IV, IV, IV, IV, IV},
	 }},
	/* An odd base: absolute start 0x1001. */
	{0x1001,
	 0x10000,
	 0,
	 16,
	 {
		 {IV, IV, IV, IV, IV, IV},
		 {OK, OK, OR, OR, OR, OR},
		 {UA, UA, OR, UA, UA, OR}, /* 0x1001 0x100f 0x1010 0x1011 0x0fff 0x1000 */
		 {IV, IV, IV, IV, IV, IV},
		 {UA, UA, UA, UA, UA, OR}, /* 0x1001 0x100d 0x100e 0x1011 0x0ffd 0x1000 */
		 {IV, IV, IV, IV, IV, IV},
		 {UA, UA, UA, UA, UA, OR}, /* 0x1001 0x1009 0x100a 0x1011 0x0ff9 0x1000 */
		 {IV, IV, IV, IV, IV, IV},
	 }},
	/* The last 16 bytes of a 2^64 - 1 space at 0: absolute start 2^64 - 17 (odd). */
	{0,
	 UINT64_MAX,
	 UINT64_MAX - 16,
	 16,
	 {
		 {IV, IV, IV, IV, IV, IV},
		 {OK, OK, OR, OR, OR, OR},
		 {UA, UA, OR, UA, UA, OR}, /* aligned iff off is odd */
		 {IV, IV, IV, IV, IV, IV},
		 {UA, UA, OR, UA, UA, UA}, /* aligned iff off % 4 == 1 */
		 {IV, IV, IV, IV, IV, IV},
		 {UA, UA, OR, UA, UA, UA}, /* aligned iff off % 8 == 1 */
		 {IV, IV, IV, IV, IV, IV},
	 }},
	/* Empty: nothing is in range, alignment still comes first. */
	{0x2000,
	 0x10000,
	 0x8,
	 0,
	 {
		 {IV, IV, IV, IV, IV, IV},
		 {OR, OR, OR, OR, OR, OR}, /* 0 2^64-1 0 0 2^64-1 2^64-1 */
		 {OR, OR, UA, OR, OR, UA}, /* 0 2^64-2 2^64-1 0 2^64-2 2^64-1 */
		 {IV, IV, IV, IV, IV, IV},
		 {OR, OR, UA, OR, OR, UA},
		 {IV, IV, IV, IV, IV, IV},
		 {OR, OR, UA, OR, OR, UA},
		 {IV, IV, IV, IV, IV, IV},
	 }},
};

static void
test_lease_model_edge_table_literal(void **state)
{
	struct fixture *f = *state;
	unsigned checked = 0;
	for (size_t i = 0; i < ARRAY_LEN(literal_leases); i++) {
		const struct literal_lease *t = &literal_leases[i];
		lease_space_init(&f->space, t->space_len, t->addr);
		struct lease *l;
		assert_int_equal(lease_acquire(&f->space, &f->set, t->start, t->len, &l), 0);
		for (size_t wi = 0; wi < ARRAY_LEN(edge_widths); wi++) {
			uint64_t offs[N_EDGE_OFFSETS];
			edge_offsets(t->len, edge_widths[wi], offs);
			for (size_t o = 0; o < N_EDGE_OFFSETS; o++) {
				int got = lease_check_access(l, offs[o], edge_widths[wi]);
				int model = model_check(t->addr, t->start, t->len, offs[o],
							edge_widths[wi]);
				if (got != t->want[wi][o] || model != t->want[wi][o]) {
					print_error("lease %zu width %u off %#" PRIx64
						    ": got %d, model %d, table %d\n",
						    i, edge_widths[wi], offs[o], got, model,
						    t->want[wi][o]);
					f->mismatches++;
				}
				checked++;
			}
		}
		lease_release(l);
	}
	printf("lease model: literal edge table, %u cells: %s\n", checked,
	       f->mismatches ? "FAIL" : "PASS");
	assert_int_equal(f->mismatches, 0);
}

/*
 * The same edge offsets and widths over lengths from 0 to 2^64 - 1, every
 * residue mod 8 of the base and of the start, and bases near 0 and 2^64.
 */
static void
test_lease_model_edge_table_all_leases(void **state)
{
	struct fixture *f = *state;
	static const uint64_t lens[] = {0,
					1,
					2,
					3,
					4,
					5,
					7,
					8,
					9,
					15,
					16,
					17,
					64,
					0x1000,
					1ULL << 63,
					(1ULL << 63) + 1,
					UINT64_MAX - 16,
					UINT64_MAX - 8,
					UINT64_MAX - 1,
					UINT64_MAX};
	static const uint64_t bases[] = {0, 0x10000, 1ULL << 63, UINT64_MAX - 7};
	unsigned checked = 0;

	for (size_t b = 0; b < ARRAY_LEN(bases); b++) {
		for (uint64_t addr_res = 0; addr_res < 8; addr_res++) {
			uint64_t addr = bases[b] + addr_res;
			for (size_t li = 0; li < ARRAY_LEN(lens); li++) {
				for (uint64_t start_res = 0; start_res < 8; start_res++) {
					uint64_t len = lens[li];
					/* Starts 0..7, or the last ones of a 2^64 - 1 space. */
					uint64_t start = len > UINT64_MAX - 8
								 ? (UINT64_MAX - len) & start_res
								 : start_res;
					lease_space_init(&f->space, UINT64_MAX, addr);
					struct lease *l;
					assert_int_equal(
						lease_acquire(&f->space, &f->set, start, len, &l),
						0);
					for (uint64_t a = 1; a <= 16; a *= 2) {
						check_align(f, l, a);
					}
					for (size_t wi = 0; wi < ARRAY_LEN(edge_widths); wi++) {
						uint64_t offs[N_EDGE_OFFSETS];
						edge_offsets(len, edge_widths[wi], offs);
						for (size_t o = 0; o < N_EDGE_OFFSETS; o++) {
							check_case(f, l, offs[o], edge_widths[wi]);
							checked++;
						}
					}
					lease_release(l);
				}
			}
		}
	}
	printf("lease model: edge table over %zu leases, %u cells: %s\n",
	       ARRAY_LEN(bases) * 8 * ARRAY_LEN(lens) * 8, checked,
	       f->mismatches ? "FAIL" : "PASS");
	assert_int_equal(f->mismatches, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_lease_model_edge_table_literal),
		T(test_lease_model_edge_table_all_leases),
		T(test_lease_model_random_cases),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
