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
	space->aliases = NULL;
	space->n_aliases = 0;
}

bool
lease_ranges_overlap(uint64_t a_start, uint64_t a_len, uint64_t b_start, uint64_t b_len,
		     struct lease_overlap *out)
{
	/* The first shared byte can only be the later start, so neither difference wraps. */
	uint64_t lo = a_start > b_start ? a_start : b_start;
	uint64_t a_off = lo - a_start;
	uint64_t b_off = lo - b_start;
	if (a_off >= a_len || b_off >= b_len) {
		return false;
	}
	uint64_t a_rest = a_len - a_off;
	uint64_t b_rest = b_len - b_off;
	*out = (struct lease_overlap){
		.a_off = a_off, .b_off = b_off, .len = a_rest < b_rest ? a_rest : b_rest};
	return true;
}

/* Appends a link to space's list. 0 or -ENOMEM (the list unchanged). */
static int
add_alias(struct lease_space *space, const struct lease_alias *link)
{
	struct lease_alias *grown =
		realloc(space->aliases, (space->n_aliases + 1) * sizeof(*space->aliases));
	if (!grown) {
		return -ENOMEM;
	}
	space->aliases = grown;
	space->aliases[space->n_aliases++] = *link;
	return 0;
}

/* Removes every link of space that leads to other. */
static void
drop_aliases_to(struct lease_space *space, const struct lease_space *other)
{
	unsigned kept = 0;
	for (unsigned i = 0; i < space->n_aliases; i++) {
		if (space->aliases[i].other != other) {
			space->aliases[kept++] = space->aliases[i];
		}
	}
	space->n_aliases = kept;
}

int
lease_space_alias(struct lease_space *a, uint64_t a_off, struct lease_space *b, uint64_t b_off,
		  uint64_t len)
{
	if (a == b || len == 0) {
		return -EINVAL;
	}
	/* The len - off form cannot wrap, unlike off + len. */
	if (a_off > a->len || a->len - a_off < len || b_off > b->len || b->len - b_off < len) {
		return -ERANGE;
	}
	int rc = add_alias(
		a, &(struct lease_alias){.other = b, .here = a_off, .there = b_off, .len = len});
	if (rc < 0) {
		return rc;
	}
	rc = add_alias(
		b, &(struct lease_alias){.other = a, .here = b_off, .there = a_off, .len = len});
	if (rc < 0) {
		a->n_aliases--;
	}
	return rc;
}

void
lease_space_finish(struct lease_space *space)
{
	for (unsigned i = 0; i < space->n_aliases; i++) {
		drop_aliases_to(space->aliases[i].other, space);
	}
	free(space->aliases);
	space->aliases = NULL;
	space->n_aliases = 0;
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

/*
 * The first live lease of space that owns a byte of [start, start+len), or NULL.
 * Both ranges lie inside the space, so the sums cannot wrap.
 */
static struct lease *
overlapping_lease(const struct lease_space *space, uint64_t start, uint64_t len)
{
	struct lease *it;

	TAILQ_FOREACH(it, &space->leases, space_link)
	{
		/* Empty ranges own no bytes: they never conflict. */
		if (len != 0 && it->len != 0 && it->start < start + len &&
		    start < it->start + it->len) {
			return it;
		}
	}
	return NULL;
}

/*
 * The first live lease of a space that space aliases which owns one of the
 * bytes [start, start+len) of space (inside it), or NULL.
 */
static struct lease *
alias_conflict(const struct lease_space *space, uint64_t start, uint64_t len)
{
	for (unsigned i = 0; i < space->n_aliases; i++) {
		const struct lease_alias *link = &space->aliases[i];
		struct lease_overlap o;
		if (!lease_ranges_overlap(start, len, link->here, link->len, &o)) {
			continue;
		}
		/* Byte here + o.b_off of this space is byte there + o.b_off of the other. */
		struct lease *l = overlapping_lease(link->other, link->there + o.b_off, o.len);
		if (l) {
			return l;
		}
	}
	return NULL;
}

struct lease *
lease_find_conflict(const struct lease_space *space, uint64_t start, uint64_t len)
{
	if (start > space->len || space->len - start < len) {
		return NULL;
	}
	struct lease *l = overlapping_lease(space, start, len);
	return l ? l : alias_conflict(space, start, len);
}

/* The first lease of space starting after start: where a lease at start goes in the sorted list. */
static struct lease *
insert_point(const struct lease_space *space, uint64_t start)
{
	struct lease *it;

	TAILQ_FOREACH(it, &space->leases, space_link)
	{
		if (it->start > start) {
			return it;
		}
	}
	return NULL;
}

/* Keeps leases_by_id in id order: a new id is the largest, a restored one (lease_restore) may not
 * be. */
static void
insert_by_id(struct lease *l)
{
	struct lease *it = TAILQ_LAST(&leases_by_id, lease_list);
	while (it && it->id > l->id) {
		it = TAILQ_PREV(it, lease_list, id_link);
	}
	if (it) {
		TAILQ_INSERT_AFTER(&leases_by_id, it, l, id_link);
	} else {
		TAILQ_INSERT_HEAD(&leases_by_id, l, id_link);
	}
}

/* id 0: the next new one. */
static struct lease *
create_lease(struct lease_space *space, struct lease_set *set, uint64_t id, uint64_t start,
	     uint64_t len)
{
	if (set->count >= set->max) {
		errno = ENOSPC;
		return NULL;
	}
	struct lease *l = calloc(1, sizeof(*l));
	if (!l) {
		return NULL;
	}
	l->id = id ? id : next_lease_id++;
	l->start = start;
	l->len = len;
	l->space = space;
	l->set = set;
	TAILQ_INSERT_TAIL(&set->leases, l, set_link);
	insert_by_id(l);
	set->count++;
	space->count++;
	return l;
}

static int
acquire(struct lease_space *space, struct lease_set *set, uint64_t id, uint64_t start, uint64_t len,
	struct lease **out)
{
	/* The len - start form cannot wrap, unlike start + len. */
	if (start > space->len || space->len - start < len) {
		return -ERANGE;
	}
	if (lease_find_conflict(space, start, len)) {
		return -EBUSY;
	}
	struct lease *next = insert_point(space, start);
	struct lease *l = create_lease(space, set, id, start, len);
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
lease_acquire(struct lease_space *space, struct lease_set *set, uint64_t start, uint64_t len,
	      struct lease **out)
{
	return acquire(space, set, 0, start, len, out);
}

int
lease_restore(struct lease_space *space, struct lease_set *set, uint64_t id, uint64_t start,
	      uint64_t len, struct lease **out)
{
	if (id == 0 || id >= next_lease_id) {
		return -EINVAL;
	}
	struct lease *it;
	TAILQ_FOREACH(it, &leases_by_id, id_link)
	{
		if (it->id == id) {
			return -EEXIST;
		}
	}
	return acquire(space, set, id, start, len, out);
}

uint64_t
lease_next_id(void)
{
	return next_lease_id;
}

void
lease_continue_ids(uint64_t next)
{
	if (next > next_lease_id) {
		next_lease_id = next;
	}
}

int
lease_split(struct lease *l, uint64_t mid, struct lease **low)
{
	if (mid > l->len) {
		return -ERANGE;
	}
	struct lease *lo = create_lease(l->space, l->set, 0, l->start, mid);
	if (!lo) {
		return -errno;
	}
	lo->read_only = l->read_only;
	lo->rules = l->rules;
	lo->park = l->park;
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
