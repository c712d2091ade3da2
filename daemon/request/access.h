/*
 * The checked, audited access every path runs (socket requests, batches,
 * blocks, polls and the ring): the lease's access mode, then the region's
 * bounds and alignment check and the device access, then an audit record
 * where the region's policy asks for one and a trace record where someone
 * traces the region.
 */
#ifndef MMIOD_ACCESS_H
#define MMIOD_ACCESS_H

#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/lease.h"
#include "device/region.h"
#include "device/region_armed.h"
#include "mmio.pb-c.h"
#include "request/reply.h"

struct session;

/*
 * One audit record of an access through l, whatever its outcome rc. Out of
 * line: only regions whose policy audits that kind of access pay for it.
 */
void access_audit(const struct session *s, const struct lease *l, bool is_store, unsigned width,
		  uint64_t off, uint64_t value, int rc);

/*
 * One trace record of an access through l to r's tracers. Out of line: a
 * region nobody traces costs access_load/access_store one untaken branch.
 */
void access_trace(const struct session *s, const struct lease *l, bool is_store, unsigned width,
		  uint64_t off, uint64_t value, int rc);

static inline bool
access_traced(const struct lease *l)
{
	return region_of_lease(l)->trace != NULL;
}

/* A failed access in the figures of l and its region. Out of line: failures are rare. */
void access_count_error(const struct lease *l, int rc);

/* The figures of l: counters, bumped through the const lease every access path holds. */
static inline struct access_figures *
access_figures_of(const struct lease *l)
{
	return (struct access_figures *)&l->figures;
}

static inline bool
access_audited(const struct lease *l, bool is_store)
{
	enum audit_mode audit = region_of_lease(l)->policy.audit;
	return audit == AUDIT_ALL || (is_store && audit == AUDIT_STORES);
}

/*
 * The same accesses through a lease with register rules (core/regrules.h): a refused access is
 * -EACCES with the rule in the detail, touching nothing. Out of line: a lease without rules pays
 * one branch.
 */
int access_load_ruled(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
		      uint64_t *value);
int access_store_ruled(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
		       uint64_t value);

/*
 * An access through a lease without register rules (v: region_view_of it), but for its loads and
 * stores counters, which the caller adds: a batch adds them once per run of ops on one lease,
 * and keeps the view for the run. Every check, the error figures, audit and trace as
 * access_load/access_store. With env, under the caller's fault guard (region_view_load_armed):
 * a fault jumps there, to be ended by access_armed_fault().
 */
static inline int
access_load_uncounted(const struct session *s, const struct region_view *v, uint64_t off,
		      unsigned width, uint64_t *value, sigjmp_buf *env)
{
	const struct lease *l = v->l;
	int rc = env ? region_view_load_armed(v, off, width, value, env)
		     : region_view_load(v, off, width, value);
	if (rc != 0) {
		access_count_error(l, rc);
	}
	if (access_audited(l, false)) {
		access_audit(s, l, false, width, off, rc == 0 ? *value : 0, rc);
	}
	if (access_traced(l)) {
		access_trace(s, l, false, width, off, rc == 0 ? *value : 0, rc);
	}
	return rc;
}

static inline int
access_store_uncounted(const struct session *s, const struct region_view *v, uint64_t off,
		       unsigned width, uint64_t value, sigjmp_buf *env)
{
	const struct lease *l = v->l;
	/* Refused before any check: the lease was granted read-only. */
	int rc = l->read_only ? -EACCES
		 : env        ? region_view_store_armed(v, off, width, value, env)
			      : region_view_store(v, off, width, value);
	if (rc != 0) {
		access_count_error(l, rc);
	}
	if (access_audited(l, true)) {
		access_audit(s, l, true, width, off, value, rc);
	}
	if (access_traced(l)) {
		access_trace(s, l, true, width, off, value, rc);
	}
	return rc;
}

/*
 * The end of an access of access_*_uncounted with env that faulted (the jump to env): the
 * fault, the error figures, audit and trace as the access would have had them. -EIO.
 */
int access_armed_fault(const struct session *s, const struct lease *l, bool is_store,
		       unsigned width, uint64_t off, uint64_t value);

/*
 * 0 or a negative errno; stores on a read-only lease: -EACCES, touching
 * nothing. Inline, as batches run thousands of them.
 */
static inline int
access_load(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
	    uint64_t *value)
{
	if (__builtin_expect(l->rules != NULL, 0)) {
		return access_load_ruled(s, l, off, width, value);
	}
	access_figures_of(l)->loads++;
	region_of_lease(l)->figures.loads++;
	struct region_view v;
	region_view_of(l, &v);
	return access_load_uncounted(s, &v, off, width, value, NULL);
}

static inline int
access_store(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
	     uint64_t value)
{
	if (__builtin_expect(l->rules != NULL, 0)) {
		return access_store_ruled(s, l, off, width, value);
	}
	access_figures_of(l)->stores++;
	region_of_lease(l)->figures.stores++;
	struct region_view v;
	region_view_of(l, &v);
	return access_store_uncounted(s, &v, off, width, value, NULL);
}

/*
 * Masked read-modify-write: one load, then one store of (old & ~mask) |
 * (value & mask) at the same width; *old gets the value read. Bits of value
 * outside mask are ignored. Not atomic against the device itself. Register rules judge the
 * store on the bits it would change.
 */
int access_modify(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
		  uint64_t mask, uint64_t value, uint64_t *old);

/* Orders earlier stores before later ones. Never fails. */
void access_barrier(const struct lease *l);

/* What access_load/access_store would refuse before touching the device: 0 or its errno. */
int access_check(const struct lease *l, bool is_store, uint64_t off, unsigned width,
		 uint64_t value);

/* The reply status (with a detail naming the offset, width or lease) for an access's rc. */
void access_reply_status(Mmio__Reply *reply, struct reply_scratch *scratch, int rc,
			 const struct lease *l, uint64_t off, unsigned width);

#endif
