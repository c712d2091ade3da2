/*
 * lease.c across aliases: two spaces linked because their regions map the same
 * device bytes. Tables for lease_ranges_overlap() (adjacent, one byte, inside,
 * empty, ends at and past 2^64) and lease_space_alias() (its refusals), then
 * acquire across a link: one byte of overlap conflicts, adjacent does not,
 * windows that cover part of either space, links at the extremes of 64 bits,
 * split and release. Last, a seeded random walk checked against a model that
 * owns bytes of the device, not of a region.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "core/lease.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))
#define BIG          UINT64_MAX

typedef unsigned __int128 u128;

/* ---- lease_ranges_overlap ---- */

/* The answer in 128 bits, ends computed: where [a, a+al) and [b, b+bl) meet. */
static bool
model_overlap(uint64_t a, uint64_t al, uint64_t b, uint64_t bl, struct lease_overlap *out)
{
	u128 lo = a > b ? a : b;
	u128 a_end = (u128)a + al;
	u128 b_end = (u128)b + bl;
	u128 hi = a_end < b_end ? a_end : b_end;
	if (lo >= hi) {
		return false;
	}
	*out = (struct lease_overlap){.a_off = (uint64_t)(lo - a),
				      .b_off = (uint64_t)(lo - b),
				      .len = (uint64_t)(hi - lo)};
	return true;
}

/* Checks one case both ways round, against the literal answer and the model. */
static void
check_overlap(uint64_t a, uint64_t al, uint64_t b, uint64_t bl, bool want,
	      const struct lease_overlap *want_o)
{
	struct lease_overlap got = {0xdead, 0xdead, 0xdead};
	struct lease_overlap model = {0};
	bool rc = lease_ranges_overlap(a, al, b, bl, &got);
	bool model_rc = model_overlap(a, al, b, bl, &model);
	if (rc != want || model_rc != want ||
	    (want && (memcmp(&got, want_o, sizeof(got)) != 0 ||
		      memcmp(&model, want_o, sizeof(got)) != 0))) {
		fail_msg("[%#" PRIx64 " +%#" PRIx64 ") vs [%#" PRIx64 " +%#" PRIx64
			 "): want %d (%#" PRIx64 ", %#" PRIx64 ", %#" PRIx64 "), got %d (%#" PRIx64
			 ", %#" PRIx64 ", %#" PRIx64 "), model %d",
			 a, al, b, bl, want, want_o->a_off, want_o->b_off, want_o->len, rc,
			 got.a_off, got.b_off, got.len, model_rc);
	}
	if (!want) {
		/* A miss leaves *out alone. */
		assert_int_equal(got.len, 0xdead);
	}
	/* Swapped, the same bytes with the offsets swapped. */
	struct lease_overlap swapped;
	assert_int_equal(lease_ranges_overlap(b, bl, a, al, &swapped), want);
	if (want) {
		assert_int_equal(swapped.a_off, want_o->b_off);
		assert_int_equal(swapped.b_off, want_o->a_off);
		assert_int_equal(swapped.len, want_o->len);
	}
}

static void
test_ranges_overlap_table(void **state)
{
	(void)state;
	static const struct {
		uint64_t a, al, b, bl;
		bool want;
		struct lease_overlap o;
	} cases[] = {
		/* The issue's pair: file bytes 0x800.. of a are bytes 0.. of b. */
		{0x800, 0x10, 0x800, 0x1000, true, {0, 0, 0x10}},
		/* Adjacent either way: no byte shared. */
		{0, 0x10, 0x10, 0x10, false, {0}},
		{0x10, 0x10, 0, 0x10, false, {0}},
		/* One byte, at either end. */
		{0, 0x11, 0x10, 0x10, true, {0x10, 0, 1}},
		{0x10, 0x10, 0, 0x11, true, {0, 0x10, 1}},
		/* One inside the other. */
		{0, 0x100, 0x40, 0x10, true, {0x40, 0, 0x10}},
		{0x40, 0x10, 0, 0x100, true, {0, 0x40, 0x10}},
		/* Identical. */
		{0x1000, 0x1000, 0x1000, 0x1000, true, {0, 0, 0x1000}},
		/* Partial. */
		{0x100, 0x100, 0x180, 0x100, true, {0x80, 0, 0x80}},
		/* Empty ranges share nothing, even inside another. */
		{0x40, 0, 0, 0x100, false, {0}},
		{0, 0, 0, 0, false, {0}},
		{0, 0x100, 0x100, 0, false, {0}},
		/* Far apart, and apart by all of 2^64. */
		{0, 1, BIG, 1, false, {0}},
		{0, BIG, BIG, 1, false, {0}},
		/* Ends at 2^64 exactly. */
		{BIG - 0xf, 0x10, BIG, 1, true, {0xf, 0, 1}},
		{0, BIG, BIG - 1, 2, true, {BIG - 1, 0, 1}},
		/* Reaching past 2^64: judged on the unbounded line, never wrapped onto 0. */
		{BIG, BIG, 0, 0x10, false, {0}},
		{BIG, 2, BIG, 2, true, {0, 0, 2}},
		{BIG - 1, BIG, BIG, BIG, true, {1, 0, BIG - 1}},
		{1, BIG, BIG, 0x10, true, {BIG - 1, 0, 1}},
		{1, BIG, BIG - 1, 0x10, true, {BIG - 2, 0, 2}},
		{0, BIG, 0, BIG, true, {0, 0, BIG}},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		check_overlap(cases[i].a, cases[i].al, cases[i].b, cases[i].bl, cases[i].want,
			      &cases[i].o);
	}
}

/* splitmix64: seedable, good enough to spread the cases. */
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

/* Small, near 2^64, near ref, or anything. */
static uint64_t
pick(uint64_t *s, uint64_t ref)
{
	switch (rng_below(s, 4)) {
	case 0:
		return rng_below(s, 32);
	case 1:
		return BIG - rng_below(s, 32);
	case 2:
		return ref + rng_below(s, 32) - 16;
	default:
		return rng_next(s);
	}
}

static void
test_ranges_overlap_random(void **state)
{
	(void)state;
	uint64_t s = 0x616c696173ULL; /* "alias" */
	unsigned hits = 0;
	for (unsigned i = 0; i < 200000; i++) {
		uint64_t a = pick(&s, 0);
		uint64_t al = pick(&s, 0);
		uint64_t b = pick(&s, a);
		uint64_t bl = pick(&s, a + al - b);
		struct lease_overlap model;
		bool want = model_overlap(a, al, b, bl, &model);
		hits += want;
		check_overlap(a, al, b, bl, want, &model);
	}
	/* Both verdicts must be reached often, or the walk tests one of them only. */
	assert_true(hits > 20000 && hits < 180000);
}

/* ---- lease_space_alias ---- */

struct fixture {
	struct lease_space a;
	struct lease_space b;
	struct lease_space c;
	struct lease_set one;
	struct lease_set two;
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	lease_space_init(&f->a, 0x1000, 0);
	lease_space_init(&f->b, 0x100, 0);
	lease_space_init(&f->c, 0x100, 0);
	lease_set_init(&f->one, 64, 100, 1000);
	lease_set_init(&f->two, 64, 200, 2000);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	lease_revoke_all(&f->one);
	lease_revoke_all(&f->two);
	lease_space_finish(&f->a);
	lease_space_finish(&f->b);
	lease_space_finish(&f->c);
	test_free(f);
	return 0;
}

static void
test_alias_arguments(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint64_t a_len, b_len, a_off, b_off, len;
		int same; /* link a to itself */
		int rc;
	} cases[] = {
		{0x1000, 0x100, 0x800, 0, 0x100, 0, 0},
		{0x1000, 0x100, 0xf00, 0, 0x100, 0, 0},
		{0x1000, 0x100, 0, 0, 1, 0, 0},
		{0x1000, 0x100, 0xfff, 0xff, 1, 0, 0},
		{0x1000, 0x100, 0x800, 0, 0, 0, -EINVAL},
		{0x1000, 0x100, 0, 0, 0x10, 1, -EINVAL},
		/* A window not inside its space: by one byte, at the end, past 2^64. */
		{0x1000, 0x100, 0xf01, 0, 0x100, 0, -ERANGE},
		{0x1000, 0x100, 0x800, 1, 0x100, 0, -ERANGE},
		{0x1000, 0x100, 0x1000, 0, 1, 0, -ERANGE},
		{0x1000, 0x100, 0x1001, 0, 1, 0, -ERANGE},
		{0x1000, 0x100, BIG, 0, 2, 0, -ERANGE},
		{0x1000, 0x100, 0, BIG, 2, 0, -ERANGE},
		{0x1000, 0x100, 1, 1, BIG, 0, -ERANGE},
		/* Spaces as large as 64 bits allow, linked at their far ends. */
		{BIG, BIG, BIG - 1, 0, 1, 0, 0},
		{BIG, BIG, 0, BIG - 0x10, 0x10, 0, 0},
		{BIG, BIG, 0, 0, BIG, 0, 0},
		{BIG, BIG, 1, 0, BIG, 0, -ERANGE},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		lease_space_init(&f->a, cases[i].a_len, 0);
		lease_space_init(&f->b, cases[i].b_len, 0);
		struct lease_space *other = cases[i].same ? &f->a : &f->b;
		int rc = lease_space_alias(&f->a, cases[i].a_off, other, cases[i].b_off,
					   cases[i].len);
		if (rc != cases[i].rc) {
			fail_msg("case %zu: got %d, want %d", i, rc, cases[i].rc);
		}
		unsigned links = rc == 0 ? 1 : 0;
		assert_int_equal(f->a.n_aliases, links);
		assert_int_equal(f->b.n_aliases, links);
		if (rc == 0) {
			/* Both ways, each in its own offsets. */
			assert_ptr_equal(f->a.aliases[0].other, &f->b);
			assert_int_equal(f->a.aliases[0].here, cases[i].a_off);
			assert_int_equal(f->a.aliases[0].there, cases[i].b_off);
			assert_int_equal(f->a.aliases[0].len, cases[i].len);
			assert_ptr_equal(f->b.aliases[0].other, &f->a);
			assert_int_equal(f->b.aliases[0].here, cases[i].b_off);
			assert_int_equal(f->b.aliases[0].there, cases[i].a_off);
			assert_int_equal(f->b.aliases[0].len, cases[i].len);
		}
		lease_space_finish(&f->a);
		lease_space_finish(&f->b);
		assert_int_equal(f->b.n_aliases, 0);
	}
}

/* ---- acquire across a link ---- */

struct conflict_case {
	uint64_t held_start, held_len; /* a lease of set one on the first space */
	uint64_t want_start, want_len; /* then set two asks the second */
	int rc;
};

/* Runs cases: held on x, then wanted on y; a refusal names the held lease as the conflict. */
static void
run_conflicts(struct fixture *f, struct lease_space *x, struct lease_space *y,
	      const struct conflict_case *cases, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct lease *held;
		struct lease *got = NULL;
		assert_int_equal(
			lease_acquire(x, &f->one, cases[i].held_start, cases[i].held_len, &held),
			0);
		/* Asked before: once granted, the lease would be its own conflict. */
		struct lease *conflict =
			lease_find_conflict(y, cases[i].want_start, cases[i].want_len);
		int rc = lease_acquire(y, &f->two, cases[i].want_start, cases[i].want_len, &got);
		if (rc != cases[i].rc) {
			fail_msg("case %zu: held [%#" PRIx64 " +%#" PRIx64 "), wanted [%#" PRIx64
				 " +%#" PRIx64 "): got %d, want %d",
				 i, cases[i].held_start, cases[i].held_len, cases[i].want_start,
				 cases[i].want_len, rc, cases[i].rc);
		}
		if (rc == -EBUSY) {
			assert_ptr_equal(conflict, held);
			assert_int_equal(f->two.count, 0);
		} else if (rc == 0) {
			assert_null(conflict);
			lease_release(got);
		}
		lease_release(held);
		/* Freed, the same range is free for the asker. */
		if (rc == -EBUSY) {
			assert_int_equal(lease_acquire(y, &f->two, cases[i].want_start,
						       cases[i].want_len, &got),
					 0);
			lease_release(got);
		}
	}
}

/* The issue's case: a [0x800, 0x900) is b [0, 0x100). */
static void
test_alias_conflicts(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(lease_space_alias(&f->a, 0x800, &f->b, 0, 0x100), 0);
	static const struct conflict_case a_then_b[] = {
		{0x800, 0x10, 0x0, 0x10, -EBUSY},
		/* Adjacent on the device: free. */
		{0x800, 0x10, 0x10, 0x10, 0},
		{0x810, 0x10, 0x0, 0x10, 0},
		/* One byte in common, at either end. */
		{0x800, 0x10, 0xf, 0x1, -EBUSY},
		{0x80f, 0x10, 0x0, 0x10, -EBUSY},
		/* A lease of a around the window, and just outside it. */
		{0x0, 0x1000, 0x40, 0x1, -EBUSY},
		{0x7f0, 0x10, 0x0, 0x100, 0},
		{0x900, 0x10, 0x0, 0x100, 0},
		{0x8ff, 0x2, 0xff, 0x1, -EBUSY},
		{0x8ff, 0x2, 0x0, 0xff, 0},
		/* Empty leases own nothing, either side. */
		{0x840, 0x0, 0x0, 0x100, 0},
		{0x800, 0x100, 0x40, 0x0, 0},
		{0x800, 0x100, 0x100, 0x0, 0},
		/* Out of range is still OUT_OF_RANGE, not CONFLICT. */
		{0x800, 0x100, 0x0, 0x101, -ERANGE},
	};
	run_conflicts(f, &f->a, &f->b, a_then_b, ARRAY_LEN(a_then_b));
	static const struct conflict_case b_then_a[] = {
		{0x0, 0x10, 0x800, 0x10, -EBUSY}, {0x0, 0x10, 0x810, 0x10, 0},
		{0x0, 0x10, 0x7f0, 0x10, 0},      {0x0, 0x10, 0x7f0, 0x11, -EBUSY},
		{0xff, 0x1, 0x0, 0x1000, -EBUSY}, {0xff, 0x1, 0x0, 0x8ff, 0},
		{0xff, 0x1, 0x900, 0x700, 0},
	};
	run_conflicts(f, &f->b, &f->a, b_then_a, ARRAY_LEN(b_then_a));
	/*
	 * Within one space nothing changed, and the space's own lease is named first:
	 * a [0x808, 0x828) meets x in a and y through b (b 0x20 is a 0x820).
	 */
	struct lease *x, *y, *tmp;
	assert_int_equal(lease_acquire(&f->a, &f->one, 0x800, 0x10, &x), 0);
	assert_int_equal(lease_acquire(&f->b, &f->one, 0x20, 0x10, &y), 0);
	assert_int_equal(lease_acquire(&f->a, &f->two, 0x808, 0x20, &tmp), -EBUSY);
	assert_ptr_equal(lease_find_conflict(&f->a, 0x808, 0x20), x);
	assert_ptr_equal(lease_find_conflict(&f->a, 0x810, 0x20), y);
	assert_int_equal(lease_acquire(&f->b, &f->two, 0x28, 0x1, &tmp), -EBUSY);
	assert_ptr_equal(lease_find_conflict(&f->b, 0x28, 0x1), y);
	/* The holder itself is refused too: a lease owns its bytes, whoever asks. */
	assert_int_equal(lease_acquire(&f->b, &f->one, 0x0, 0x1, &tmp), -EBUSY);
	assert_ptr_equal(lease_find_conflict(&f->b, 0x0, 0x1), x);
}

/* A window that covers part of each space: a [0x100, 0x200) is c [0x80, 0x180), c is 0x200. */
static void
test_alias_partial_window(void **state)
{
	struct fixture *f = *state;
	lease_space_init(&f->c, 0x200, 0);
	assert_int_equal(lease_space_alias(&f->a, 0x100, &f->c, 0x80, 0x100), 0);
	static const struct conflict_case cases[] = {
		{0x0, 0x1000, 0x0, 0x80, 0},      {0x0, 0x1000, 0x7f, 0x2, -EBUSY},
		{0x0, 0x1000, 0x180, 0x80, 0},    {0x0, 0x1000, 0x17f, 0x1, -EBUSY},
		{0x1ff, 0x1, 0x17f, 0x1, -EBUSY}, {0x1ff, 0x1, 0x180, 0x1, 0},
		{0x100, 0x1, 0x80, 0x1, -EBUSY},  {0x100, 0x1, 0x7f, 0x1, 0},
	};
	run_conflicts(f, &f->a, &f->c, cases, ARRAY_LEN(cases));
	/* c's window [0x80, 0x180) ends inside c; a's [0x100, 0x200) inside a. */
	static const struct conflict_case back[] = {
		{0x0, 0x200, 0x0, 0x100, 0},      {0x0, 0x200, 0x200, 0xe00, 0},
		{0x0, 0x200, 0x1ff, 0x2, -EBUSY}, {0x0, 0x80, 0x0, 0x1000, 0},
		{0x180, 0x80, 0x0, 0x1000, 0},    {0x17f, 0x81, 0x1ff, 0x1, -EBUSY},
		{0x17f, 0x81, 0x200, 0x1, 0},
	};
	run_conflicts(f, &f->c, &f->a, back, ARRAY_LEN(back));
}

/* Links at the far ends of 64 bits: offsets near 2^64 map to offsets near 0 and back. */
static void
test_alias_extremes(void **state)
{
	struct fixture *f = *state;
	lease_space_init(&f->a, BIG, 0);
	lease_space_init(&f->b, BIG, 0);
	/* a's last 0x10 bytes are b's first; b's last 0x10 are a's first. */
	assert_int_equal(lease_space_alias(&f->a, BIG - 0x10, &f->b, 0, 0x10), 0);
	assert_int_equal(lease_space_alias(&f->a, 0, &f->b, BIG - 0x10, 0x10), 0);
	static const struct conflict_case cases[] = {
		{BIG - 0x10, 0x10, 0x0, 0x10, -EBUSY},
		{BIG - 1, 1, 0xf, 1, -EBUSY},
		{BIG - 1, 1, 0xe, 1, 0},
		{BIG - 1, 1, 0x10, BIG - 0x10, 0},
		{BIG - 0x10, 1, 0x1, BIG - 1, 0},
		{BIG - 0x10, 1, 0x0, BIG, -EBUSY},
		{0x0, 0x1, BIG - 0x10, 0x10, -EBUSY},
		{0x0, 0x1, BIG - 0xf, 0xf, 0},
		{0xf, 0x1, BIG - 1, 0x1, -EBUSY},
		{0x10, BIG - 0x20, 0x0, BIG, 0},
		{0x0, BIG, 0x10, BIG - 0x20, 0},
		{0x0, BIG, 0x0, 1, -EBUSY},
		{0x0, BIG, BIG - 1, 1, -EBUSY},
	};
	run_conflicts(f, &f->a, &f->b, cases, ARRAY_LEN(cases));
	run_conflicts(f, &f->b, &f->a, cases, ARRAY_LEN(cases));
}

/*
 * a covers b and c, which are adjacent on the device and not linked to each
 * other: leases on b and c never meet, a lease on a meets both.
 */
static void
test_alias_chain(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(lease_space_alias(&f->a, 0x0, &f->b, 0, 0x100), 0);
	assert_int_equal(lease_space_alias(&f->a, 0x100, &f->c, 0, 0x100), 0);
	assert_int_equal(f->a.n_aliases, 2);
	struct lease *lb, *lc, *x;
	assert_int_equal(lease_acquire(&f->b, &f->one, 0x0, 0x100, &lb), 0);
	assert_int_equal(lease_acquire(&f->c, &f->two, 0x0, 0x100, &lc), 0);
	assert_int_equal(lease_acquire(&f->a, &f->two, 0xff, 0x2, &x), -EBUSY);
	assert_ptr_equal(lease_find_conflict(&f->a, 0xff, 0x2), lb);
	assert_ptr_equal(lease_find_conflict(&f->a, 0x100, 0x2), lc);
	assert_int_equal(lease_acquire(&f->a, &f->two, 0x200, 0xe00, &x), 0);
	lease_release(lb);
	assert_ptr_equal(lease_find_conflict(&f->a, 0xff, 0x2), lc);
	assert_int_equal(lease_acquire(&f->a, &f->two, 0x0, 0x100, &x), 0);
	/* Finishing c unlinks it from a; b stays linked. */
	lease_release(lc);
	lease_space_finish(&f->c);
	assert_int_equal(f->a.n_aliases, 1);
	assert_ptr_equal(f->a.aliases[0].other, &f->b);
	assert_int_equal(lease_acquire(&f->c, &f->one, 0x0, 0x100, &lc), 0);
	assert_int_equal(lease_acquire(&f->b, &f->one, 0x0, 1, &lb), -EBUSY);
}

/* A split keeps the bytes covered; releasing one part frees exactly its bytes on the alias. */
static void
test_alias_split_release(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(lease_space_alias(&f->a, 0x800, &f->b, 0, 0x100), 0);
	struct lease *l, *low, *x;
	assert_int_equal(lease_acquire(&f->a, &f->one, 0x800, 0x100, &l), 0);
	assert_int_equal(lease_split(l, 0x40, &low), 0);
	assert_int_equal(lease_acquire(&f->b, &f->two, 0x3f, 0x2, &x), -EBUSY);
	assert_ptr_equal(lease_find_conflict(&f->b, 0x3f, 0x1), low);
	assert_ptr_equal(lease_find_conflict(&f->b, 0x40, 0x1), l);
	lease_release(low);
	assert_int_equal(lease_acquire(&f->b, &f->two, 0x3f, 0x2, &x), -EBUSY);
	assert_int_equal(lease_acquire(&f->b, &f->two, 0x0, 0x40, &x), 0);
	assert_int_equal(lease_acquire(&f->a, &f->one, 0x800, 0x1, &l), -EBUSY);
	assert_ptr_equal(lease_find_conflict(&f->a, 0x800, 0x1), x);
	lease_revoke_all(&f->one);
	assert_int_equal(lease_acquire(&f->b, &f->two, 0x40, 0xc0, &x), 0);
	assert_int_equal(lease_acquire(&f->a, &f->one, 0x7ff, 0x2, &l), -EBUSY);
	assert_int_equal(lease_acquire(&f->a, &f->one, 0x0, 0x800, &l), 0);
	assert_int_equal(lease_acquire(&f->a, &f->one, 0x900, 0x700, &l), 0);
}

/* ---- A random walk against a model of the device's bytes ---- */

#define DEVICE_BYTES 96
#define N_SPACES     6
#define MAX_LEASES   48

/* One space's window on the device: its offset 0 is device byte at; or none (mem). */
struct window {
	bool on_device;
	uint64_t at;
	uint64_t len;
};

struct walk {
	struct lease_space spaces[N_SPACES];
	struct window win[N_SPACES];
	struct lease_set sets[2];
	struct lease *leases[MAX_LEASES];
	unsigned n;
	/* Who owns each device byte: the lease, or NULL. Bytes of spaces off the device are their
	 * own. */
	struct lease *owner[DEVICE_BYTES];
	struct lease *own_bytes[N_SPACES][DEVICE_BYTES];
};

/* The owner slot of byte i of space k. */
static struct lease **
owner_of(struct walk *w, unsigned k, uint64_t i)
{
	return w->win[k].on_device ? &w->owner[w->win[k].at + i] : &w->own_bytes[k][i];
}

static void
mark(struct walk *w, const struct lease *l, struct lease *as)
{
	unsigned k = (unsigned)(l->space - w->spaces);
	for (uint64_t i = 0; i < l->len; i++) {
		*owner_of(w, k, l->start + i) = as;
	}
}

/* What lease_acquire must answer: ERANGE, EBUSY if a device byte is owned, else 0. */
static int
model_acquire(struct walk *w, unsigned k, uint64_t start, uint64_t len)
{
	if (start > w->win[k].len || w->win[k].len - start < len) {
		return -ERANGE;
	}
	for (uint64_t i = 0; i < len; i++) {
		if (*owner_of(w, k, start + i)) {
			return -EBUSY;
		}
	}
	return 0;
}

/* Links every pair of spaces whose windows meet, as region_table_open does. */
static void
link_spaces(struct walk *w, uint64_t *s)
{
	for (unsigned k = 0; k < N_SPACES; k++) {
		w->win[k].on_device = rng_below(s, 6) != 0;
		w->win[k].len = 1 + rng_below(s, DEVICE_BYTES / 2);
		w->win[k].at = rng_below(s, DEVICE_BYTES - w->win[k].len + 1);
		lease_space_init(&w->spaces[k], w->win[k].len, rng_below(s, 8));
	}
	for (unsigned i = 0; i < N_SPACES; i++) {
		for (unsigned j = i + 1; j < N_SPACES; j++) {
			struct lease_overlap o;
			if (w->win[i].on_device && w->win[j].on_device &&
			    lease_ranges_overlap(w->win[i].at, w->win[i].len, w->win[j].at,
						 w->win[j].len, &o)) {
				assert_int_equal(lease_space_alias(&w->spaces[i], o.a_off,
								   &w->spaces[j], o.b_off, o.len),
						 0);
			}
		}
	}
}

static void
forget(struct walk *w, unsigned idx)
{
	w->leases[idx] = w->leases[--w->n];
}

static void
test_alias_model_walk(void **state)
{
	(void)state;
	uint64_t s = 0x776b6c6b;    /* fixed: a failure prints its round and step */
	unsigned verdicts[3] = {0}; /* ok, EBUSY, ERANGE */
	for (unsigned round = 0; round < 300; round++) {
		struct walk *w = test_calloc(1, sizeof(*w));
		link_spaces(w, &s);
		lease_set_init(&w->sets[0], MAX_LEASES, 1, 1);
		lease_set_init(&w->sets[1], MAX_LEASES, 2, 2);
		for (unsigned step = 0; step < 400; step++) {
			unsigned what = (unsigned)rng_below(&s, 10);
			if (what < 6 && w->n < MAX_LEASES) {
				unsigned k = (unsigned)rng_below(&s, N_SPACES);
				uint64_t start = rng_below(&s, w->win[k].len + 2);
				uint64_t len = rng_below(&s, 12);
				int want = model_acquire(w, k, start, len);
				struct lease *c = lease_find_conflict(&w->spaces[k], start, len);
				struct lease *l = NULL;
				int rc = lease_acquire(&w->spaces[k], &w->sets[rng_below(&s, 2)],
						       start, len, &l);
				if (rc != want) {
					fail_msg("round %u step %u: space %u [%#" PRIx64
						 " +%#" PRIx64 "): got %d, model %d",
						 round, step, k, start, len, rc, want);
				}
				verdicts[rc == 0 ? 0 : rc == -EBUSY ? 1 : 2]++;
				if (rc == 0) {
					assert_null(c);
					mark(w, l, l);
					w->leases[w->n++] = l;
				} else if (rc == -EBUSY) {
					/* The conflict named owns one of the bytes asked for. */
					bool owns = false;
					for (uint64_t i = 0; i < len; i++) {
						owns |= *owner_of(w, k, start + i) == c;
					}
					assert_true(c && owns);
				}
			} else if (what < 8 && w->n > 0) {
				unsigned idx = (unsigned)rng_below(&s, w->n);
				mark(w, w->leases[idx], NULL);
				lease_release(w->leases[idx]);
				forget(w, idx);
			} else if (w->n > 0 && w->n < MAX_LEASES) {
				struct lease *l = w->leases[rng_below(&s, w->n)];
				struct lease *low;
				if (lease_split(l, rng_below(&s, l->len + 1), &low) == 0) {
					mark(w, low, low);
					mark(w, l, l);
					w->leases[w->n++] = low;
				}
			}
		}
		lease_revoke_all(&w->sets[0]);
		lease_revoke_all(&w->sets[1]);
		for (unsigned k = 0; k < N_SPACES; k++) {
			lease_space_finish(&w->spaces[k]);
		}
		test_free(w);
	}
	printf("alias walk: ok %u, EBUSY %u, ERANGE %u\n", verdicts[0], verdicts[1], verdicts[2]);
	for (size_t k = 0; k < ARRAY_LEN(verdicts); k++) {
		assert_true(verdicts[k] > 1000);
	}
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ranges_overlap_table),
		cmocka_unit_test(test_ranges_overlap_random),
		T(test_alias_arguments),
		T(test_alias_conflicts),
		T(test_alias_partial_window),
		T(test_alias_extremes),
		T(test_alias_chain),
		T(test_alias_split_release),
		cmocka_unit_test(test_alias_model_walk),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
