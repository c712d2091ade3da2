#include <errno.h>
#include <stdlib.h>

#include "core/lease.h"

/* Ids are global and never reused, so a stale id can never name a newer lease. */
static uint64_t next_lease_id = 1;
/* Every live lease; ids only grow, so appending at creation keeps it in id order. */
static struct lease_list leases_by_id = TAILQ_HEAD_INITIALIZER(leases_by_id);
/* Where lease_first_after() last stopped, so that page after page costs no rescan from the head. */
static struct lease *by_id_hint;

void
lease_space_init(struct lease_space *space, uint64_t len, uint64_t addr)
{
	space->len = len;
	space->addr = addr;
	TAILQ_INIT(&space->leases);
	space->count = 0;
}

void
lease_set_init(struct lease_set *set, unsigned max, pid_t pid, uid_t uid)
{
	TAILQ_INIT(&set->leases);
	set->count = 0;
	set->max = max;
	set->pid = pid;
	set->uid = uid;
}

int
lease_width_valid(unsigned width)
{
	return width == 1 || width == 2 || width == 4 || width == 8;
}

/*
 * Checks [start, start+len) against every live lease of space (both ranges lie
 * inside the space, so the sums cannot wrap). Returns -EBUSY on an overlap, else
 * 0 with *next set to the first lease starting after start (the sorted insert point).
 */
static int
find_insert_point(struct lease_space *space, uint64_t start, uint64_t len, struct lease **next)
{
	struct lease *it;

	*next = NULL;
	TAILQ_FOREACH(it, &space->leases, space_link)
	{
		/* Empty ranges own no bytes: they never conflict. */
		if (len != 0 && it->len != 0 && it->start < start + len &&
		    start < it->start + it->len) {
			return -EBUSY;
		}
		if (!*next && it->start > start) {
			*next = it;
		}
	}
	return 0;
}

static struct lease *
create_lease(struct lease_space *space, struct lease_set *set, uint64_t start, uint64_t len)
{
	if (set->count >= set->max) {
		errno = ENOSPC;
		return NULL;
	}
	struct lease *l = calloc(1, sizeof(*l));
	if (!l) {
		return NULL;
	}
	l->id = next_lease_id++;
	l->start = start;
	l->len = len;
	l->space = space;
	l->set = set;
	TAILQ_INSERT_TAIL(&set->leases, l, set_link);
	TAILQ_INSERT_TAIL(&leases_by_id, l, id_link);
	set->count++;
	space->count++;
	return l;
}

int
lease_acquire(struct lease_space *space, struct lease_set *set, uint64_t start, uint64_t len,
	      struct lease **out)
{
	/* The len - start form cannot wrap, unlike start + len. */
	if (start > space->len || space->len - start < len) {
		return -ERANGE;
	}
	struct lease *next;
	int rc = find_insert_point(space, start, len, &next);
	if (rc < 0) {
		return rc;
	}
	struct lease *l = create_lease(space, set, start, len);
	if (!l) {
		return -errno;
	}
	if (next) {
		TAILQ_INSERT_BEFORE(next, l, space_link);
	} else {
		TAILQ_INSERT_TAIL(&space->leases, l, space_link);
	}
	*out = l;
	return 0;
}

int
lease_split(struct lease *l, uint64_t mid, struct lease **low)
{
	if (mid > l->len) {
		return -ERANGE;
	}
	struct lease *lo = create_lease(l->space, l->set, l->start, mid);
	if (!lo) {
		return -errno;
	}
	lo->read_only = l->read_only;
	/* lo sorts just before l: it takes the bytes l gives up, which no other lease owns. */
	TAILQ_INSERT_BEFORE(l, lo, space_link);
	l->start += mid;
	l->len -= mid;
	/* Empty leases inside the old range may now start before l: keep the list sorted. */
	struct lease *next;
	while ((next = TAILQ_NEXT(l, space_link)) && next->start < l->start) {
		TAILQ_REMOVE(&l->space->leases, l, space_link);
		TAILQ_INSERT_AFTER(&l->space->leases, next, l, space_link);
	}
	*low = lo;
	return 0;
}

void
lease_release(struct lease *l)
{
	if (!l) {
		return;
	}
	TAILQ_REMOVE(&l->space->leases, l, space_link);
	TAILQ_REMOVE(&l->set->leases, l, set_link);
	if (by_id_hint == l) {
		by_id_hint = TAILQ_NEXT(l, id_link);
	}
	TAILQ_REMOVE(&leases_by_id, l, id_link);
	l->set->count--;
	l->space->count--;
	free(l);
}

unsigned
lease_revoke_all(struct lease_set *set)
{
	unsigned n = 0;
	struct lease *l;

	while ((l = TAILQ_FIRST(&set->leases))) {
		/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): TAILQ_REMOVE did move the head */
		lease_release(l);
		n++;
	}
	return n;
}

struct lease *
lease_find(const struct lease_set *set, uint64_t id)
{
	struct lease *l;

	TAILQ_FOREACH(l, &set->leases, set_link)
	{
		if (l->id == id) {
			return l;
		}
	}
	return NULL;
}

struct lease *
lease_first_after(uint64_t after)
{
	struct lease *l = by_id_hint ? by_id_hint : TAILQ_FIRST(&leases_by_id);
	struct lease *prev;

	/* From the hint: back while the one before also lies above after, else forward. */
	while (l && (prev = TAILQ_PREV(l, lease_list, id_link)) && prev->id > after) {
		l = prev;
	}
	while (l && l->id <= after) {
		l = TAILQ_NEXT(l, id_link);
	}
	by_id_hint = l;
	return l;
}

struct lease *
lease_next_by_id(const struct lease *l)
{
	return TAILQ_NEXT(l, id_link);
}

uint64_t
lease_align_offset(const struct lease *l, uint64_t align)
{
	/* Region's first aligned offset, then rebased on the lease start, all mod 2^64. */
	uint64_t space_first = (0 - l->space->addr) & (align - 1);
	return (space_first - l->start) & (align - 1);
}

int
lease_check_access(const struct lease *l, uint64_t off, unsigned width)
{
	if (!lease_width_valid(width)) {
		return -EINVAL;
	}
	/* Alignment first: an access both unaligned and out of range is UNALIGNED. */
	if (((off - lease_align_offset(l, width)) & (width - 1)) != 0) {
		return -EFAULT;
	}
	if (off > l->len || l->len - off < width) {
		return -ERANGE;
	}
	return 0;
}
