/*
 * A mapped device region and the checked accesses on it: the MmioRegion of the
 * design. Every access names a lease, is checked against it (core/lease.c),
 * and then runs exactly one backend access of exactly the requested width,
 * under the fault guard. Access modes, audit and read-modify-write are the
 * request layer's (request/access.c).
 */
#ifndef MMIOD_REGION_H
#define MMIOD_REGION_H

#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/lease.h"
#include "core/park.h"
#include "core/policy.h"
#include "mmio_limits.h"

struct backend;
struct irq_sub;
struct region_trace;
struct regmap;

struct region {
	char name[MMIO_MAX_NAME + 1];
	struct backend *backend;
	struct lease_space space;
	struct region_policy policy;   /* owned; replaced on reload */
	uint64_t faults;               /* accesses the device failed (SIGBUS; a sim's -EIO) */
	struct access_figures figures; /* what its leases did (Stats) */
	struct irq_sub *irq;           /* the interrupt subscriber, if any (irq.c) */
	struct region_trace *trace;    /* its tracers; NULL while nobody traces (trace.c) */
	/* Its register map (map = "PATH"), or NULL. Owned; taken from the region config at
	 * start: a reload (SIGHUP) does not change it, as it does not reopen the region. */
	struct regmap *regmap;
	/* What a lease's non-orderly end writes (park = ( ... )); kept from start as the map is. */
	struct park_seq park;
	/* What binds every lease, the superuser's too: the map's widths (NULL: none). Owned;
	 * compiled with the policy, which the map must be set before. */
	struct regrules *map_rules;
};

/* Wraps backend b (takes it, even on error) as region name. NULL only for lack of memory. */
struct region *region_create(const char *name, struct backend *b);

/* Frees r and closes its backend. The caller has released every lease on it. Accepts NULL. */
void region_destroy(struct region *r);

/* The region a lease lives in. Inline: every access of every path asks. */
static inline struct region *
region_of_lease(const struct lease *l)
{
	return (struct region *)((char *)l->space - offsetof(struct region, space));
}

/*
 * Checked accesses through lease l at relative offset off. Return 0, or the
 * negative errno of lease_check_access(); stores also -EINVAL for a value
 * wider than width; -EIO if the device faulted (SIGBUS, needs fault_init(); or the
 * backend's own access failed).
 * A failed check touches nothing.
 */
int region_load(const struct lease *l, uint64_t off, unsigned width, uint64_t *value);
int region_store(const struct lease *l, uint64_t off, unsigned width, uint64_t value);

/* The same accesses under a fault guard set up once for many: device/region_armed.h. */

/* An armed access of l at off that faulted: counted and logged as a fault; -EIO. */
int region_fault(const struct lease *l, uint64_t off, unsigned width, bool is_store);

/*
 * A checked access through a backend with its own (sim: b->ops->access), outside any fault
 * guard; its failure counted and logged as a fault. 0 or -EIO; a load sets *value only when
 * it succeeds. Out of line: not the hot path.
 */
int region_device_access(const struct lease *l, uint64_t abs, unsigned width, bool is_store,
			 uint64_t *value);

/* Orders earlier stores before later ones. Never fails; no bounds (empty leases too). */
void region_write_barrier(const struct lease *l);

/*
 * Replaces r's policy with a copy of p, its grants' register rules compiled against r's map
 * (set it first). 0, -EINVAL (a rule that does not fit the map, the reason in why) or -ENOMEM;
 * r unchanged on error. Leases keep pointing at the old tables: re-point them all
 * (region_rules_for, region_park_for) before the next access. With retired, the old policy
 * goes there, for the caller to policy_finish() once no lease points into it (a lease that
 * the new policy revokes still parks with its old grant's sequence); else it is freed.
 */
int region_set_policy(struct region *r, const struct region_policy *p,
		      struct region_policy *retired, char *why, size_t why_len);

/* The park sequence of grant by (NULL: the superuser's lease): NULL for none. */
const struct park_seq *region_park_for(const struct grant *by);

/* The rules of a lease that grant by (NULL: the superuser) allowed. */
const struct regrules *region_rules_for(const struct region *r, const struct grant *by);

#endif
