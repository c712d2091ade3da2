/*
 * lease.c: acquire, split, release, revoke, find, and the access check that
 * every load/store goes through. Expected verdicts come from a reference model
 * computed in 128-bit arithmetic, so no wrap in the code under test can hide.
 */
#include <errno.h>
#include <inttypes.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "core/lease.h"

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

typedef unsigned __int128 u128;

struct fixture {
	struct lease_space space;
	struct lease_set set;
	struct lease_set other;
};

static int
setup(void **state)
{
	struct fixture *f = test_calloc(1, sizeof(*f));
	lease_space_init(&f->space, 64, 0);
	lease_set_init(&f->set, 64, 100, 1000);
	lease_set_init(&f->other, 64, 200, 2000);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	lease_revoke_all(&f->set);
	lease_revoke_all(&f->other);
	test_free(f);
	return 0;
}

/* What lease_check_access must answer, from lease.h and docs/SEMANTICS.md (alignment, order). */
static int
model_check(uint64_t addr, uint64_t start, uint64_t len, uint64_t off, unsigned width)
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

static uint64_t
model_align_offset(uint64_t addr, uint64_t start, uint64_t align)
{
	return (uint64_t)((align - ((u128)addr + start) % align) % align);
}

static void
check_against_model(const struct lease *l, uint64_t off, unsigned width)
{
	int want = model_check(l->space->addr, l->start, l->len, off, width);
	int got = lease_check_access(l, off, width);
	if (got != want) {
		print_error("addr %#" PRIx64 " lease [%#" PRIx64 " +%#" PRIx64 ") off %#" PRIx64
			    " width %u\n",
			    l->space->addr, l->start, l->len, off, width);
	}
	assert_int_equal(got, want);
}

/* The space's lease list is sorted by start and its non-empty leases are disjoint. */
static void
assert_space_consistent(const struct lease_space *space)
{
	const struct lease *prev = NULL;
	uint64_t end = 0;
	const struct lease *l;
	TAILQ_FOREACH(l, &space->leases, space_link)
	{
		assert_true(l->start <= space->len && space->len - l->start >= l->len);
		if (prev && prev->start > l->start) {
			print_error("space list not sorted by start: %#" PRIx64 " before %#" PRIx64
				    "\n",
				    prev->start, l->start);
			fail();
		}
		if (l->len != 0) {
			assert_true(l->start >= end);
			end = l->start + l->len;
		}
		prev = l;
	}
}

static void
test_lease_acquire_edges(void **state)
{
	struct fixture *f = *state;
	static const struct {
		uint64_t start, len;
		int rc;
	} cases[] = {
		{0, 64, 0},
		{0, 0, 0},
		{8, 16, 0},
		{63, 1, 0},
		{64, 0, 0},
		{65, 0, -ERANGE},
		{64, 1, -ERANGE},
		{60, 5, -ERANGE},
		{0, 65, -ERANGE},
		{1, 64, -ERANGE},
		{1, UINT64_MAX, -ERANGE},
		{UINT64_MAX, 0, -ERANGE},
		{UINT64_MAX, 1, -ERANGE},
		{UINT64_MAX, UINT64_MAX, -ERANGE},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct lease *l = NULL;
		int rc = lease_acquire(&f->space, &f->set, cases[i].start, cases[i].len, &l);
		if (rc != cases[i].rc) {
			print_error("case %zu: [%#" PRIx64 " +%#" PRIx64 ")\n", i, cases[i].start,
				    cases[i].len);
		}
		assert_int_equal(rc, cases[i].rc);
		assert_int_equal(f->set.count, rc == 0 ? 1 : 0);
		if (rc == 0) {
			assert_int_equal(l->start, cases[i].start);
			assert_int_equal(l->len, cases[i].len);
			assert_ptr_equal(l->space, &f->space);
			assert_ptr_equal(l->set, &f->set);
			assert_ptr_equal(lease_find(&f->set, l->id), l);
			lease_release(l);
		}
		assert_true(TAILQ_EMPTY(&f->space.leases));
	}
}

static void
test_lease_acquire_conflict(void **state)
{
	struct fixture *f = *state;
	struct lease *held, *l;

	assert_int_equal(lease_acquire(&f->space, &f->set, 16, 16, &held), 0);
	static const struct {
		uint64_t start, len;
		int rc;
	} cases[] = {
		{8, 9, -EBUSY},   /* overlaps the low end */
		{31, 8, -EBUSY},  /* overlaps the high end */
		{16, 16, -EBUSY}, /* identical */
		{20, 2, -EBUSY},  /* contained */
		{0, 64, -EBUSY},  /* containing */
		{8, 8, 0},        /* adjacent below */
		{32, 8, 0},       /* adjacent above */
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		/* The holder's own set and another set conflict alike. */
		struct lease_set *sets[] = {&f->set, &f->other};
		for (size_t s = 0; s < ARRAY_LEN(sets); s++) {
			unsigned before = sets[s]->count;
			int rc =
				lease_acquire(&f->space, sets[s], cases[i].start, cases[i].len, &l);
			assert_int_equal(rc, cases[i].rc);
			if (rc == 0) {
				lease_release(l);
			}
			assert_int_equal(sets[s]->count, before);
		}
	}
	/* Once released, the range is free for anyone. */
	lease_release(held);
	assert_int_equal(lease_acquire(&f->space, &f->other, 0, 64, &l), 0);
	assert_space_consistent(&f->space);
}

static void
test_lease_zero_length_never_conflicts(void **state)
{
	struct fixture *f = *state;
	struct lease *a, *z1, *z2, *z3, *b;

	assert_int_equal(lease_acquire(&f->space, &f->set, 16, 16, &a), 0);
	/* Empty leases inside, at either edge of, and outside a live lease. */
	assert_int_equal(lease_acquire(&f->space, &f->other, 20, 0, &z1), 0);
	assert_int_equal(lease_acquire(&f->space, &f->other, 16, 0, &z2), 0);
	assert_int_equal(lease_acquire(&f->space, &f->set, 40, 0, &z3), 0);
	/* A live range over an empty lease is not blocked by it. */
	assert_int_equal(lease_acquire(&f->space, &f->other, 36, 8, &b), 0);
	assert_int_equal(lease_acquire(&f->space, &f->other, 40, 0, &b), 0);
	assert_int_equal(f->other.count, 4);
	assert_space_consistent(&f->space);
	/* Every access to an empty lease is out of range, never a crash. */
	assert_int_equal(lease_check_access(z3, 0, 1), -ERANGE);
	assert_int_equal(lease_check_access(z3, 0, 8), -ERANGE);
}

static void
test_lease_split_semantics(void **state)
{
	struct fixture *f = *state;
	struct lease *l, *low;

	assert_int_equal(lease_acquire(&f->space, &f->set, 16, 32, &l), 0);
	uint64_t parent_id = l->id;
	assert_int_equal(lease_split(l, 8, &low), 0);
	/* The new lease is the LOW part; the parent keeps the high part and its id. */
	assert_int_equal(low->start, 16);
	assert_int_equal(low->len, 8);
	assert_int_equal(l->start, 24);
	assert_int_equal(l->len, 24);
	assert_int_equal(l->id, parent_id);
	assert_true(low->id != parent_id);
	assert_ptr_equal(low->set, &f->set);
	assert_ptr_equal(low->space, &f->space);
	assert_int_equal(f->set.count, 2);
	assert_ptr_equal(lease_find(&f->set, low->id), low);
	assert_ptr_equal(lease_find(&f->set, parent_id), l);
	/* mid is relative: the parent's offset 0 is the old offset 8. */
	assert_int_equal(lease_split(l, 8, &low), 0);
	assert_int_equal(low->start, 24);
	assert_int_equal(low->len, 8);
	assert_int_equal(l->start, 32);
	assert_int_equal(l->len, 16);
	/* The halves stay owned: neither range can be acquired again. */
	struct lease *x;
	assert_int_equal(lease_acquire(&f->space, &f->other, 16, 1, &x), -EBUSY);
	assert_int_equal(lease_acquire(&f->space, &f->other, 47, 1, &x), -EBUSY);
	assert_space_consistent(&f->space);
}

static void
test_lease_split_zero_and_full(void **state)
{
	struct fixture *f = *state;
	struct lease *l, *low;

	assert_int_equal(lease_acquire(&f->space, &f->set, 8, 16, &l), 0);
	assert_int_equal(lease_split(l, 0, &low), 0);
	assert_int_equal(low->start, 8);
	assert_int_equal(low->len, 0);
	assert_int_equal(l->start, 8);
	assert_int_equal(l->len, 16);

	assert_int_equal(lease_split(l, 16, &low), 0);
	assert_int_equal(low->start, 8);
	assert_int_equal(low->len, 16);
	assert_int_equal(l->start, 24);
	assert_int_equal(l->len, 0);
	assert_int_equal(lease_check_access(l, 0, 1), -ERANGE);

	/* An empty lease splits at 0 only. */
	assert_int_equal(lease_split(l, 0, &low), 0);
	assert_int_equal(low->len, 0);
	assert_int_equal(lease_split(l, 1, &low), -ERANGE);
	assert_int_equal(f->set.count, 4);
	assert_space_consistent(&f->space);
}

static void
test_lease_split_past_end_rejected(void **state)
{
	struct fixture *f = *state;
	struct lease *l, *low = NULL;

	assert_int_equal(lease_acquire(&f->space, &f->set, 8, 16, &l), 0);
	uint64_t mids[] = {17, 32, 64, UINT64_MAX - 7, UINT64_MAX};
	for (size_t i = 0; i < ARRAY_LEN(mids); i++) {
		assert_int_equal(lease_split(l, mids[i], &low), -ERANGE);
		assert_null(low);
		assert_int_equal(l->start, 8);
		assert_int_equal(l->len, 16);
		assert_int_equal(f->set.count, 1);
		assert_ptr_equal(TAILQ_FIRST(&f->space.leases), l);
		assert_null(TAILQ_NEXT(l, space_link));
	}
}

static void
test_lease_ids_unique_and_increasing(void **state)
{
	struct fixture *f = *state;
	struct lease *l, *low;
	uint64_t last = 0;

	for (uint64_t i = 0; i < 8; i++) {
		assert_int_equal(
			lease_acquire(&f->space, i % 2 ? &f->other : &f->set, i * 8, 8, &l), 0);
		assert_true(l->id > last);
		last = l->id;
		assert_int_equal(lease_split(l, 4, &low), 0);
		assert_true(low->id > last);
		last = low->id;
	}
}

static void
test_lease_released_id_never_found(void **state)
{
	struct fixture *f = *state;
	struct lease *l, *low;

	assert_int_equal(lease_acquire(&f->space, &f->set, 0, 16, &l), 0);
	assert_int_equal(lease_split(l, 8, &low), 0);
	uint64_t gone = low->id;
	lease_release(low);
	assert_null(lease_find(&f->set, gone));
	assert_int_equal(f->set.count, 1);
	/* The same bytes leased again get a fresh id; the old one stays dead. */
	for (int i = 0; i < 16; i++) {
		assert_int_equal(lease_acquire(&f->space, &f->set, 0, 8, &low), 0);
		assert_true(low->id != gone);
		assert_null(lease_find(&f->set, gone));
		gone = low->id;
		lease_release(low);
		assert_null(lease_find(&f->set, gone));
	}
	lease_release(NULL);
}

static void
test_lease_find_own_set_only(void **state)
{
	struct fixture *f = *state;
	struct lease *mine, *theirs;

	assert_int_equal(lease_acquire(&f->space, &f->set, 0, 8, &mine), 0);
	assert_int_equal(lease_acquire(&f->space, &f->other, 8, 8, &theirs), 0);
	assert_ptr_equal(lease_find(&f->set, mine->id), mine);
	assert_ptr_equal(lease_find(&f->other, theirs->id), theirs);
	assert_null(lease_find(&f->set, theirs->id));
	assert_null(lease_find(&f->other, mine->id));
	assert_null(lease_find(&f->set, 0));
	assert_null(lease_find(&f->set, UINT64_MAX));
}

static void
test_lease_revoke_all(void **state)
{
	struct fixture *f = *state;
	struct lease *l, *low, *keep;

	assert_int_equal(lease_acquire(&f->space, &f->other, 56, 8, &keep), 0);
	assert_int_equal(lease_acquire(&f->space, &f->set, 0, 32, &l), 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(lease_split(l, 4, &low), 0);
	}
	assert_int_equal(lease_acquire(&f->space, &f->set, 40, 0, &low), 0);
	assert_int_equal(lease_revoke_all(&f->set), 5);
	assert_int_equal(f->set.count, 0);
	assert_true(TAILQ_EMPTY(&f->set.leases));
	assert_ptr_equal(TAILQ_FIRST(&f->space.leases), keep);
	assert_null(TAILQ_NEXT(keep, space_link));
	assert_int_equal(lease_revoke_all(&f->set), 0);
	/* The freed range is acquirable again, by anyone. */
	assert_int_equal(lease_acquire(&f->space, &f->other, 0, 56, &l), 0);
	assert_int_equal(f->other.count, 2);
}

static void
test_lease_set_max_enospc(void **state)
{
	struct fixture *f = *state;
	struct lease *l[3], *x = NULL;

	lease_set_init(&f->set, 3, 100, 1000);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(lease_acquire(&f->space, &f->set, (uint64_t)i * 8, 8, &l[i]), 0);
	}
	assert_int_equal(lease_acquire(&f->space, &f->set, 32, 8, &x), -ENOSPC);
	assert_int_equal(lease_split(l[0], 4, &x), -ENOSPC);
	assert_null(x);
	assert_int_equal(l[0]->start, 0);
	assert_int_equal(l[0]->len, 8);
	assert_int_equal(f->set.count, 3);
	/* Another holder is not limited by this one. */
	assert_int_equal(lease_acquire(&f->space, &f->other, 32, 8, &x), 0);
	/* Releasing one makes room again. */
	lease_release(l[2]);
	assert_int_equal(lease_split(l[0], 4, &x), 0);
	assert_int_equal(lease_acquire(&f->space, &f->set, 16, 8, &x), -ENOSPC);
	assert_space_consistent(&f->space);
}

static void
test_lease_width_valid(void **state)
{
	(void)state;
	for (unsigned w = 0; w <= 64; w++) {
		assert_int_equal(lease_width_valid(w) != 0, w == 1 || w == 2 || w == 4 || w == 8);
	}
	assert_false(lease_width_valid(UINT32_MAX));
	assert_false(lease_width_valid(1u << 31));
}

/* offsets {0, len-w, len-w+1, len, UINT64_MAX-w+1, UINT64_MAX} (and neighbours) x widths. */
static void
check_offsets_near_end(const struct lease *l)
{
	static const unsigned widths[] = {0, 1, 2, 3, 4, 5, 8, 16};

	for (size_t wi = 0; wi < ARRAY_LEN(widths); wi++) {
		uint64_t w = widths[wi];
		uint64_t offs[] = {0,         l->len - w - 1, l->len - w,     l->len - w + 1,
				   l->len,    l->len + 1,     UINT64_MAX - w, UINT64_MAX - w + 1,
				   UINT64_MAX};
		for (size_t o = 0; o < ARRAY_LEN(offs); o++) {
			check_against_model(l, offs[o], widths[wi]);
		}
	}
}

static void
test_lease_bounds_near_2_64(void **state)
{
	struct fixture *f = *state;
	static const uint64_t space_lens[] = {UINT64_MAX, UINT64_MAX - 1, UINT64_MAX - 7,
					      UINT64_MAX - 8, UINT64_MAX - 15};
	static const uint64_t addrs[] = {0, 1, 7, 0x1000, UINT64_MAX - 7, UINT64_MAX};

	for (size_t s = 0; s < ARRAY_LEN(space_lens); s++) {
		for (size_t a = 0; a < ARRAY_LEN(addrs); a++) {
			lease_space_init(&f->space, space_lens[s], addrs[a]);
			struct lease *tail, *head;
			assert_int_equal(lease_acquire(&f->space, &f->set, 0, space_lens[s], &tail),
					 0);
			check_offsets_near_end(tail);
			/* Then a huge lease from 0 and a short one ending at the end of the space.
			 */
			assert_int_equal(lease_split(tail, space_lens[s] - 21, &head), 0);
			assert_int_equal(tail->len, 21);
			check_offsets_near_end(head);
			check_offsets_near_end(tail);
			lease_revoke_all(&f->set);
		}
	}
}

/* Every width x offsets around the lease end x every residue of base and start mod 8. */
static void
test_lease_residues_around_end(void **state)
{
	struct fixture *f = *state;
	static const uint64_t bases[] = {0, 0x10000, UINT64_MAX - 7};
	static const uint64_t lens[] = {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 24};

	for (size_t b = 0; b < ARRAY_LEN(bases); b++) {
		for (uint64_t addr_res = 0; addr_res < 8; addr_res++) {
			lease_space_init(&f->space, 64, bases[b] + addr_res);
			for (uint64_t start = 0; start < 8; start++) {
				for (size_t li = 0; li < ARRAY_LEN(lens); li++) {
					struct lease *l;
					assert_int_equal(lease_acquire(&f->space, &f->set, start,
								       lens[li], &l),
							 0);
					for (uint64_t a = 1; a <= 8; a *= 2) {
						assert_int_equal(lease_align_offset(l, a),
								 model_align_offset(f->space.addr,
										    start, a));
					}
					for (uint64_t d = 0; d <= 20; d++) {
						/* lens[li] - 10 .. lens[li] + 10, wrapping below 0.
						 */
						uint64_t off = lens[li] - 10 + d;
						for (unsigned w = 0; w <= 9; w++) {
							check_against_model(l, off, w);
						}
						check_against_model(l, off, 16);
					}
					lease_release(l);
				}
			}
		}
	}
}

static void
test_lease_unaligned_beats_out_of_range(void **state)
{
	struct fixture *f = *state;
	struct lease *l;

	assert_int_equal(lease_acquire(&f->space, &f->set, 16, 16, &l), 0);
	assert_int_equal(lease_check_access(l, 16, 4), -ERANGE);
	assert_int_equal(lease_check_access(l, 18, 4), -EFAULT);
	assert_int_equal(lease_check_access(l, 17, 2), -EFAULT);
	assert_int_equal(lease_check_access(l, 20, 8), -EFAULT);
	assert_int_equal(lease_check_access(l, UINT64_MAX, 2), -EFAULT);
	assert_int_equal(lease_check_access(l, UINT64_MAX - 3, 8), -EFAULT);
	assert_int_equal(lease_check_access(l, UINT64_MAX - 7, 8), -ERANGE);
	assert_int_equal(lease_check_access(l, UINT64_MAX - 15, 8), -ERANGE);
	/* A bad width beats both. */
	assert_int_equal(lease_check_access(l, 17, 3), -EINVAL);
	assert_int_equal(lease_check_access(l, 16, 0), -EINVAL);
}

/* Port of region.rs test_alignment: alignment follows the absolute address across splits. */
static void
test_lease_alignment(void **state)
{
	struct fixture *f = *state;
	struct lease *l, *low;
	static const unsigned widths[] = {1, 2, 4, 8};

	assert_int_equal(lease_acquire(&f->space, &f->set, 0, 64, &l), 0);
	for (uint64_t region_offset = 0; region_offset < 8; region_offset++) {
		assert_int_equal(l->start, region_offset);
		for (uint64_t rel = 0; rel < 16; rel++) {
			for (size_t i = 0; i < ARRAY_LEN(widths); i++) {
				int want = (rel + region_offset) % widths[i] == 0 ? 0 : -EFAULT;
				assert_int_equal(lease_check_access(l, rel, widths[i]), want);
			}
		}
		/* Throw away the first byte to advance the lease's bounds. */
		assert_int_equal(lease_split(l, 1, &low), 0);
		lease_release(low);
	}
	/* The pitfall docs/SEMANTICS.md names: after split(1), offset 0 is odd. */
	assert_int_equal(lease_align_offset(l, 2), 0);
	assert_int_equal(lease_align_offset(l, 8), 0);
	assert_int_equal(lease_split(l, 1, &low), 0);
	assert_int_equal(lease_align_offset(l, 2), 1);
	assert_int_equal(lease_align_offset(l, 8), 7);
	assert_int_equal(lease_check_access(l, 0, 2), -EFAULT);
}

/* Port of region.rs test_wrapped_alignment: a base address that is itself unaligned. */
static void
test_lease_wrapped_alignment(void **state)
{
	struct fixture *f = *state;
	static const unsigned widths[] = {1, 2, 4, 8};

	for (uint64_t w = 0; w < 16; w++) {
		lease_space_init(&f->space, INT64_MAX, w);
		struct lease *l, *low;
		assert_int_equal(lease_acquire(&f->space, &f->set, 0, INT64_MAX, &l), 0);
		for (uint64_t start = 0; start < 16; start++) {
			assert_int_equal(l->start, start);
			for (uint64_t a = 1; a <= 8; a *= 2) {
				assert_int_equal(lease_align_offset(l, a),
						 (a - (w + start) % a) % a);
			}
			for (uint64_t rel = 0; rel < 16; rel++) {
				for (size_t i = 0; i < ARRAY_LEN(widths); i++) {
					int want = (w + start + rel) % widths[i] == 0 ? 0 : -EFAULT;
					assert_int_equal(lease_check_access(l, rel, widths[i]),
							 want);
				}
			}
			assert_int_equal(lease_split(l, 1, &low), 0);
			lease_release(low);
		}
		lease_release(l);
	}
}

/*
 * Regression: a split moves the parent's start past any empty lease inside the
 * range it gives away; the space's list must stay sorted by start (ListLeases
 * reports it in that order). Before the fix: 0, 12, 8.
 */
static void
test_lease_split_keeps_space_sorted(void **state)
{
	struct fixture *f = *state;
	struct lease *l, *empty, *low;
	static const uint64_t empty_at[] = {8, 0};

	for (size_t i = 0; i < ARRAY_LEN(empty_at); i++) {
		assert_int_equal(lease_acquire(&f->space, &f->set, 0, 16, &l), 0);
		assert_int_equal(lease_acquire(&f->space, &f->other, empty_at[i], 0, &empty), 0);
		assert_space_consistent(&f->space);
		assert_int_equal(lease_split(l, 12, &low), 0);
		assert_space_consistent(&f->space);
		lease_revoke_all(&f->set);
		lease_revoke_all(&f->other);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)
		T(test_lease_acquire_edges),
		T(test_lease_acquire_conflict),
		T(test_lease_zero_length_never_conflicts),
		T(test_lease_split_semantics),
		T(test_lease_split_zero_and_full),
		T(test_lease_split_past_end_rejected),
		T(test_lease_ids_unique_and_increasing),
		T(test_lease_released_id_never_found),
		T(test_lease_find_own_set_only),
		T(test_lease_revoke_all),
		T(test_lease_set_max_enospc),
		T(test_lease_width_valid),
		T(test_lease_bounds_near_2_64),
		T(test_lease_residues_around_end),
		T(test_lease_unaligned_beats_out_of_range),
		T(test_lease_alignment),
		T(test_lease_wrapped_alignment),
		T(test_lease_split_keeps_space_sorted),
#undef T
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
