/*
 * A region's checked accesses, inline: the checks every access makes, and the armed accesses a
 * batch makes by the thousand under one fault guard (a call per check and per access cost it
 * as much as the accesses themselves). region_access.c builds region_load/region_store on the
 * same checks, so the two cannot drift apart.
 */
#ifndef MMIOD_REGION_ARMED_H
#define MMIOD_REGION_ARMED_H

#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/lease.h"
#include "core/width.h"
#include "device/backend.h"
#include "device/fault.h"
#include "device/region.h"

/*
 * What a lease's accesses need, looked up once for many accesses on it (a batch's run of ops on
 * one lease): each is then checked and made without walking from the lease to its region, its
 * backend and that backend's accessors again.
 */
struct region_view {
	const struct lease *l;
	const struct backend *b;
	const struct backend_ops *ops;
	uint64_t addr;  /* lease_addr(l): alignment is judged on the absolute address */
	uint64_t start; /* l's start in the region: the backend's offset is start + off */
	uint64_t len;
};

static inline void
region_view_of(const struct lease *l, struct region_view *v)
{
	const struct backend *b = region_of_lease(l)->backend;
	*v = (struct region_view){.l = l,
				  .b = b,
				  .ops = b->ops,
				  .addr = lease_addr(l),
				  .start = l->start,
				  .len = l->len};
}

/*
 * Whether an access may go to the device: lease_check_access's answer, then -EINVAL for a
 * 64-bit access on a CPU without them (a 32-bit build would split it in two, which a device
 * register may not tolerate) or a stored value wider than width (truncating it silently would
 * write a value nobody asked for).
 */
static inline int
region_view_check(const struct region_view *v, uint64_t off, unsigned width, bool is_store,
		  uint64_t value)
{
	int rc = lease_check_span(v->addr, v->len, off, width);
	if (rc < 0) {
		return rc;
	}
	if ((width == 8 && UINTPTR_MAX != UINT64_MAX) ||
	    (is_store && !width_value_fits(width, value))) {
		return -EINVAL;
	}
	return 0;
}

/* One unchecked load of exactly width bytes at absolute offset abs. */
static inline uint64_t
region_backend_load(const struct region_view *v, uint64_t abs, unsigned width)
{
	switch (width) {
	case 1:
		return v->ops->load8(v->b, abs);
	case 2:
		return v->ops->load16(v->b, abs);
	case 4:
		return v->ops->load32(v->b, abs);
	default:
		return v->ops->load64(v->b, abs);
	}
}

static inline void
region_backend_store(const struct region_view *v, uint64_t abs, unsigned width, uint64_t value)
{
	switch (width) {
	case 1:
		v->ops->store8(v->b, abs, (uint8_t)value);
		break;
	case 2:
		v->ops->store16(v->b, abs, (uint16_t)value);
		break;
	case 4:
		v->ops->store32(v->b, abs, (uint32_t)value);
		break;
	default:
		v->ops->store64(v->b, abs, value);
		break;
	}
}

/*
 * What every access through v does first: the checks, then, on a device with its own access,
 * that access. *done: the access is over (refused, or made by the device), its result returned;
 * else 0, and the caller makes it at *abs. A store's value is *value.
 */
static inline int
region_view_begin(const struct region_view *v, uint64_t off, unsigned width, bool is_store,
		  uint64_t *value, uint64_t *abs, bool *done)
{
	int rc = region_view_check(v, off, width, is_store, is_store ? *value : 0);
	*abs = v->start + off;
	*done = rc < 0 || v->ops->access;
	if (rc == 0 && v->ops->access) {
		rc = region_device_access(v->l, *abs, width, is_store, value);
	}
	return rc;
}

/* region_load and region_store through view v, each under a fault guard of its own. */
int region_view_load(const struct region_view *v, uint64_t off, unsigned width, uint64_t *value);
int region_view_store(const struct region_view *v, uint64_t off, unsigned width, uint64_t value);

/*
 * region_load and region_store through view v, every check the same, under a fault guard the
 * caller set up once for many accesses (sigsetjmp(*env, FAULT_SAVE_SIGMASK): a batch;
 * FAULT_GUARD costs a sigsetjmp per access). env is armed around the device access alone, so a
 * SIGBUS anywhere else still kills. An access that faults does not return: it jumps to env
 * (fault_jump cleared), and the caller ends it with region_fault(), as region_load/region_store
 * would have ended it.
 */
static inline int
region_view_load_armed(const struct region_view *v, uint64_t off, unsigned width, uint64_t *value,
		       sigjmp_buf *env)
{
	uint64_t abs;
	bool done;
	int rc = region_view_begin(v, off, width, false, value, &abs, &done);
	if (done) {
		return rc;
	}
	fault_jump = env;
	uint64_t got = region_backend_load(v, abs, width);
	fault_jump = NULL;
	*value = got;
	return 0;
}

static inline int
region_view_store_armed(const struct region_view *v, uint64_t off, unsigned width, uint64_t value,
			sigjmp_buf *env)
{
	uint64_t abs;
	bool done;
	int rc = region_view_begin(v, off, width, true, &value, &abs, &done);
	if (done) {
		return rc;
	}
	fault_jump = env;
	region_backend_store(v, abs, width, value);
	fault_jump = NULL;
	return 0;
}

/* The same through lease l, for one access. */
static inline int
region_load_armed(const struct lease *l, uint64_t off, unsigned width, uint64_t *value,
		  sigjmp_buf *env)
{
	struct region_view v;
	region_view_of(l, &v);
	return region_view_load_armed(&v, off, width, value, env);
}

static inline int
region_store_armed(const struct lease *l, uint64_t off, unsigned width, uint64_t value,
		   sigjmp_buf *env)
{
	struct region_view v;
	region_view_of(l, &v);
	return region_view_store_armed(&v, off, width, value, env);
}

#endif
