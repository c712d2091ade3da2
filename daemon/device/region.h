/*
 * A mapped device region and the checked accesses on it: the MmioRegion of the
 * design. Every access names a lease, is checked against it (lease.c), and then
 * runs exactly one backend access of exactly the requested width.
 */
#ifndef MMIOD_REGION_H
#define MMIOD_REGION_H

#include <stddef.h>
#include <stdint.h>

#include "core/lease.h"
#include "core/limits.h"
#include "core/policy.h"
#include "mmio_limits.h"

struct backend;
struct irq_sub;
struct region_config;

struct region {
	char name[MMIO_MAX_NAME + 1];
	struct backend *backend;
	struct lease_space space;
	struct region_policy policy; /* owned; replaced on reload */
	uint64_t faults;             /* accesses the device answered with SIGBUS */
	struct irq_sub *irq;         /* the interrupt subscriber, if any (irq.c) */
};

struct region_table {
	struct region *regions[MMIO_MAX_REGIONS];
	unsigned count;
};

/* Wraps backend b (takes it, even on error) as region name. NULL only for lack of memory. */
struct region *region_create(const char *name, struct backend *b);

/* Frees r and closes its backend. The caller has released every lease on it. Accepts NULL. */
void region_destroy(struct region *r);

/* The region a lease lives in. */
struct region *region_of_lease(const struct lease *l);

/*
 * Checked accesses through lease l at relative offset off. Return 0, or the
 * negative errno of lease_check_access(); stores also -EINVAL for a value
 * wider than width; -EIO if the device faulted (SIGBUS; needs fault_init()).
 * A failed check touches nothing.
 */
int region_load(const struct lease *l, uint64_t off, unsigned width, uint64_t *value);
int region_store(const struct lease *l, uint64_t off, unsigned width, uint64_t value);

/* Loads and returns value & mask. */
int region_masked_load(const struct lease *l, uint64_t off, unsigned width, uint64_t mask,
		       uint64_t *value);

/*
 * One load, then one store of (cur & ~mask) | (value & mask) at the same width.
 * Bits of value outside mask are ignored. Not atomic against the device itself.
 */
int region_modify(const struct lease *l, uint64_t off, unsigned width, uint64_t mask,
		  uint64_t value);

/* Orders earlier stores before later ones. Never fails; no bounds (empty leases too). */
void region_write_barrier(const struct lease *l);

/*
 * Opens every configured region into table, with a copy of its policy. On
 * failure closes what it opened and returns a negative errno with the reason in err.
 */
int region_table_open(struct region_table *table, const struct region_config *configs, unsigned n,
		      char *err, size_t errlen);

/* Replaces r's policy with a copy of p. 0 or -ENOMEM (r unchanged). */
int region_set_policy(struct region *r, const struct region_policy *p);
void region_table_close(struct region_table *table);
struct region *region_table_find(const struct region_table *table, const char *name);

#endif
