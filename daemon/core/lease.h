/*
 * The lease table: who owns which bytes of which region. Pure logic, no I/O.
 *
 * Semantics follow Fuchsia's MmioRegion (docs/SEMANTICS.md spells them out):
 * leases are pairwise disjoint, a split hands the LOW part to a new lease and
 * the old lease keeps the high part, and alignment is judged on the absolute
 * device address (space->addr + lease start + offset), before capacity.
 */
#ifndef MMIOD_LEASE_H
#define MMIOD_LEASE_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/queue.h>
#include <sys/types.h>

struct lease;
TAILQ_HEAD(lease_list, lease);

/* The leasable bytes of one region. */
struct lease_space {
	uint64_t len;
	uint64_t addr; /* absolute device address of offset 0; only its residues matter */
	struct lease_list leases; /* sorted by start */
	unsigned count;           /* live leases in the list */
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
	struct lease_space *space;
	struct lease_set *set;
	TAILQ_ENTRY(lease) space_link;
	TAILQ_ENTRY(lease) set_link;
	TAILQ_ENTRY(lease) id_link;
};

void lease_space_init(struct lease_space *space, uint64_t len, uint64_t addr);
void lease_set_init(struct lease_set *set, unsigned max, pid_t pid, uid_t uid);

/*
 * Lease [start, start+len) of space for set. Returns 0 and *out, or
 * -ERANGE (not inside the space), -EBUSY (overlaps a live lease),
 * -ENOSPC (set is full), -ENOMEM. Zero-length leases are legal and overlap nothing.
 */
int lease_acquire(struct lease_space *space, struct lease_set *set, uint64_t start, uint64_t len,
		  struct lease **out);

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
uint64_t lease_align_offset(const struct lease *l, uint64_t align);

/*
 * May a width-byte access at offset off run? 0, or -EINVAL (width not 1/2/4/8),
 * -EFAULT (unaligned; checked before capacity), -ERANGE (not inside the lease).
 */
int lease_check_access(const struct lease *l, uint64_t off, unsigned width);

/* True if width is 1, 2, 4 or 8. */
int lease_width_valid(unsigned width);

#endif
