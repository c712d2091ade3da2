/*
 * The lease table: who owns which bytes of which region. Pure logic, no I/O.
 *
 * Semantics follow Fuchsia's MmioRegion (docs/SEMANTICS.md spells them out):
 * leases are pairwise disjoint, a split hands the LOW part to a new lease and
 * the old lease keeps the high part, and alignment is judged on the absolute
 * device address (space->addr + lease start + offset), before capacity.
 *
 * Two regions may map the same device bytes (two file regions on one file,
 * two devmem windows over one physical range): their spaces are then linked
 * as aliases, and a lease on either conflicts with live leases on the same
 * bytes of the other, so leases stay disjoint on the device, not only within
 * one region.
 */
#ifndef MMIOD_LEASE_H
#define MMIOD_LEASE_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

#include "core/figures.h"

struct lease;
TAILQ_HEAD(lease_list, lease);

struct lease_space;
struct park_seq;
struct regrules;

/* Bytes a space shares with another: its [here, here+len) are other's [there, there+len). */
struct lease_alias {
	struct lease_space *other;
	uint64_t here;
	uint64_t there;
	uint64_t len; /* >= 1; both windows lie inside their spaces */
};

/* The leasable bytes of one region. */
struct lease_space {
	uint64_t len;
	uint64_t addr; /* absolute device address of offset 0; only its residues matter */
	struct lease_list leases;    /* sorted by start */
	unsigned count;              /* live leases in the list */
	struct lease_alias *aliases; /* owned; each link is in both spaces' lists */
	unsigned n_aliases;
};

/* Where two ranges meet: the first shared byte as an offset into each, and how many there are. */
struct lease_overlap {
	uint64_t a_off;
	uint64_t b_off;
	uint64_t len;
};

/* The leases one holder (a connection) owns. */
struct lease_set {
	struct lease_list leases;
	unsigned count;
	unsigned max; /* acquire/split fail with -ENOSPC past this */
	pid_t pid;
	uid_t uid;
};

struct lease {
	uint64_t id;
	uint64_t start;
	uint64_t len;
	bool read_only; /* granted under an ro grant: stores are refused */
	/* The register rules of the grant that allowed it (core/regrules.h); NULL: none. Not
	 * owned: the region's policy owns it, and a reload re-points it. */
	const struct regrules *rules;
	/* The park sequence of that grant (core/park.h); NULL: none. Not owned, as rules. */
	const struct park_seq *park;
	struct lease_space *space;
	struct lease_set *set;
	TAILQ_ENTRY(lease) space_link;
	TAILQ_ENTRY(lease) set_link;
	TAILQ_ENTRY(lease) id_link;
	/* What was done through it (Stats). Counters, not state: bumped through const leases. */
	struct access_figures figures;
};

/* An empty space of len bytes, aliasing nothing. */
void lease_space_init(struct lease_space *space, uint64_t len, uint64_t addr);

/*
 * Records that a's [a_off, a_off+len) are the same bytes as b's [b_off, b_off+len),
 * in both spaces: from then on lease_acquire() on either refuses a range that
 * overlaps a live lease on those bytes of the other. Link spaces before leasing
 * them (live leases are not checked here). 0, -EINVAL (a == b, or len 0),
 * -ERANGE (a window not inside its space), -ENOMEM (nothing recorded).
 */
int lease_space_alias(struct lease_space *a, uint64_t a_off, struct lease_space *b, uint64_t b_off,
		      uint64_t len);

/*
 * Frees what space owns and unlinks it from every space it aliases (they need
 * not be finished with it). Its leases must be gone. space may be initialised again.
 */
void lease_space_finish(struct lease_space *space);

/*
 * Do [a_start, a_start+a_len) and [b_start, b_start+b_len), ranges on one line
 * of addresses, share a byte? True, with where and how many in *out; false if
 * not (an empty range shares none, nor do adjacent ones). No end is computed:
 * ranges reaching past 2^64 are judged as if the line went on.
 */
bool lease_ranges_overlap(uint64_t a_start, uint64_t a_len, uint64_t b_start, uint64_t b_len,
			  struct lease_overlap *out);

void lease_set_init(struct lease_set *set, unsigned max, pid_t pid, uid_t uid);

/*
 * Lease [start, start+len) of space for set. Returns 0 and *out, or
 * -ERANGE (not inside the space), -EBUSY (overlaps a live lease of the space,
 * or of a space it aliases on the same bytes), -ENOSPC (set is full), -ENOMEM.
 * Zero-length leases are legal and overlap nothing.
 */
int lease_acquire(struct lease_space *space, struct lease_set *set, uint64_t start, uint64_t len,
		  struct lease **out);

/*
 * A lease a predecessor granted (a restart): lease_acquire() under the given id, which must be
 * below lease_next_id() and not live. The same errors, and -EINVAL, -EEXIST for the id.
 */
int lease_restore(struct lease_space *space, struct lease_set *set, uint64_t id, uint64_t start,
		  uint64_t len, struct lease **out);

/* The id the next new lease gets; after a restart, ids go on from the predecessor's. */
uint64_t lease_next_id(void);
void lease_continue_ids(uint64_t next);

/*
 * The live lease that [start, start+len) of space overlaps, the space's own
 * first, then those on aliased bytes (its space says which region); NULL if
 * none, or if the range is empty or not inside the space. For CONFLICT's detail.
 */
struct lease *lease_find_conflict(const struct lease_space *space, uint64_t start, uint64_t len);

/*
 * Split at relative mid: *low gets [start, start+mid) under a new id and the
 * same access; l keeps
 * [start+mid, end) and its offset 0 moves to the old mid. -ERANGE iff mid > len
 * (nothing changes); -ENOSPC, -ENOMEM.
 */
int lease_split(struct lease *l, uint64_t mid, struct lease **low);

/* Frees l; its id is never valid again. */
void lease_release(struct lease *l);

/* Releases every lease of set; returns how many. */
unsigned lease_revoke_all(struct lease_set *set);

/* The lease of set with this id, or NULL: a holder can name only its own leases. */
struct lease *lease_find(const struct lease_set *set, uint64_t id);

/*
 * Every live lease of the process, whatever its space or set, in ascending id
 * order (for paged listings): the first with an id above after, or NULL; then
 * the one after l, or NULL. The first costs O(leases between it and where the
 * previous call stopped): paging through all leases is O(leases) in total.
 */
struct lease *lease_first_after(uint64_t after);
struct lease *lease_next_by_id(const struct lease *l);

/* First offset in l aligned to align (a power of two) on the absolute address. */
static inline uint64_t
lease_align_offset(const struct lease *l, uint64_t align)
{
	/* Region's first aligned offset, then rebased on the lease start, all mod 2^64. */
	uint64_t space_first = (0 - l->space->addr) & (align - 1);
	return (space_first - l->start) & (align - 1);
}

/* True if width is 1, 2, 4 or 8. */
static inline int
lease_width_valid(unsigned width)
{
	return width == 1 || width == 2 || width == 4 || width == 8;
}

/*
 * May a width-byte access at offset off of a lease of len bytes whose offset 0 lies at absolute
 * device address addr run? 0, or -EINVAL (width not 1/2/4/8), -EFAULT (unaligned on the
 * absolute address; checked before capacity), -ERANGE (not inside the lease). Inline: a batch
 * asks once per op.
 */
static inline int
lease_check_span(uint64_t addr, uint64_t len, uint64_t off, unsigned width)
{
	if (!lease_width_valid(width)) {
		return -EINVAL;
	}
	/* Alignment first: an access both unaligned and out of range is UNALIGNED. */
	if (((addr + off) & (width - 1)) != 0) {
		return -EFAULT;
	}
	if (off > len || len - off < width) {
		return -ERANGE;
	}
	return 0;
}

/* The absolute device address of l's offset 0, mod 2^64: only its residues matter. */
static inline uint64_t
lease_addr(const struct lease *l)
{
	return l->space->addr + l->start;
}

/* lease_check_span for lease l. */
static inline int
lease_check_access(const struct lease *l, uint64_t off, unsigned width)
{
	return lease_check_span(lease_addr(l), l->len, off, width);
}

#endif
