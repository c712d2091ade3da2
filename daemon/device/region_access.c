/*
 * A region's checked accesses, one at a time: each under a fault guard of its own
 * (device/region_armed.h has the checks, and the armed accesses of a batch).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdint.h>

#include "device/fault.h"
#include "device/region.h"
#include "device/region_armed.h"

int
region_view_load(const struct region_view *v, uint64_t off, unsigned width, uint64_t *value)
{
	uint64_t abs;
	bool done;
	int rc = region_view_begin(v, off, width, false, value, &abs, &done);
	if (done) {
		return rc;
	}
	uint64_t got = 0;
	FAULT_GUARD(rc, got = region_backend_load(v, abs, width));
	if (rc < 0) {
		return region_fault(v->l, off, width, false);
	}
	*value = got;
	return 0;
}

int
region_view_store(const struct region_view *v, uint64_t off, unsigned width, uint64_t value)
{
	uint64_t abs;
	bool done;
	int rc = region_view_begin(v, off, width, true, &value, &abs, &done);
	if (done) {
		return rc;
	}
	FAULT_GUARD(rc, region_backend_store(v, abs, width, value));
	return rc < 0 ? region_fault(v->l, off, width, true) : 0;
}

int
region_load(const struct lease *l, uint64_t off, unsigned width, uint64_t *value)
{
	struct region_view v;
	region_view_of(l, &v);
	return region_view_load(&v, off, width, value);
}

int
region_store(const struct lease *l, uint64_t off, unsigned width, uint64_t value)
{
	struct region_view v;
	region_view_of(l, &v);
	return region_view_store(&v, off, width, value);
}
