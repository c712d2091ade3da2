/* A region: its backend, its lease space and policy, and the checked accesses on it. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/regmap.h"
#include "core/regrules.h"
#include "core/width.h"
#include "device/backend.h"
#include "device/fault.h"
#include "device/region.h"

struct region *
region_create(const char *name, struct backend *b)
{
	struct region *r = calloc(1, sizeof(*r));
	if (!r) {
		backend_close(b);
		return NULL;
	}
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->backend = b;
	lease_space_init(&r->space, b->len, b->addr);
	return r;
}

void
region_destroy(struct region *r)
{
	if (!r) {
		return;
	}
	lease_space_finish(&r->space);
	backend_close(r->backend);
	policy_finish(&r->policy);
	regrules_free(r->map_rules);
	regmap_free(r->regmap);
	park_seq_finish(&r->park);
	free(r);
}

/* One unchecked load of exactly width bytes at absolute offset abs. */
static uint64_t
backend_load(const struct backend *b, uint64_t abs, unsigned width)
{
	switch (width) {
	case 1:
		return b->ops->load8(b, abs);
	case 2:
		return b->ops->load16(b, abs);
	case 4:
		return b->ops->load32(b, abs);
	default:
		return b->ops->load64(b, abs);
	}
}

static void
backend_store(const struct backend *b, uint64_t abs, unsigned width, uint64_t value)
{
	switch (width) {
	case 1:
		b->ops->store8(b, abs, (uint8_t)value);
		break;
	case 2:
		b->ops->store16(b, abs, (uint16_t)value);
		break;
	case 4:
		b->ops->store32(b, abs, (uint32_t)value);
		break;
	default:
		b->ops->store64(b, abs, value);
		break;
	}
}

/*
 * Counts a device fault (a SIGBUS, or a failure of the backend's own access); logs the first and
 * then every power of two, not a flood.
 */
static void
note_fault(struct region *r, uint64_t abs, unsigned width, const char *op)
{
	r->faults++;
	if ((r->faults & (r->faults - 1)) == 0) {
		log_event(MSGID_DEVICE_FAULT, LOG_LEVEL_WARN,
			  "region %s: device fault (%s) on %s%u at offset 0x%" PRIx64 "; %" PRIu64
			  " fault%s so far",
			  r->name, r->backend->ops->access ? "the device failed it" : "SIGBUS", op,
			  width * 8, abs, r->faults, r->faults == 1 ? "" : "s");
	}
}

/*
 * 64-bit accesses need a CPU that has them: a 32-bit build would split them
 * into two, which a device register may not tolerate, so refuse instead.
 */
static int
width_supported(unsigned width)
{
	return width != 8 || UINTPTR_MAX == UINT64_MAX;
}

/*
 * region_load's and region_load_armed's access: the device access under the caller's guard
 * env (armed around the access alone), or its own (env NULL).
 */
static inline int
load_guarded(const struct lease *l, uint64_t off, unsigned width, uint64_t *value, sigjmp_buf *env)
{
	int rc = lease_check_access(l, off, width);
	if (rc < 0) {
		return rc;
	}
	if (!width_supported(width)) {
		return -EINVAL;
	}
	struct region *r = region_of_lease(l);
	const struct backend *b = r->backend;
	uint64_t abs = l->start + off;
	uint64_t v = 0;
	if (b->ops->access) {
		rc = b->ops->access(b, abs, width, false, &v);
	} else if (env) {
		fault_jump = env;
		v = backend_load(b, abs, width);
		fault_jump = NULL;
	} else {
		FAULT_GUARD(rc, v = backend_load(b, abs, width));
	}
	if (rc < 0) {
		note_fault(r, abs, width, "load");
		return rc;
	}
	*value = v;
	return 0;
}

static inline int
store_guarded(const struct lease *l, uint64_t off, unsigned width, uint64_t value, sigjmp_buf *env)
{
	int rc = lease_check_access(l, off, width);
	if (rc < 0) {
		return rc;
	}
	/* Truncating silently would write a register value the caller did not ask for. */
	if (!width_value_fits(width, value) || !width_supported(width)) {
		return -EINVAL;
	}
	struct region *r = region_of_lease(l);
	const struct backend *b = r->backend;
	uint64_t abs = l->start + off;
	if (b->ops->access) {
		rc = b->ops->access(b, abs, width, true, &value);
	} else if (env) {
		fault_jump = env;
		backend_store(b, abs, width, value);
		fault_jump = NULL;
	} else {
		FAULT_GUARD(rc, backend_store(b, abs, width, value));
	}
	if (rc < 0) {
		note_fault(r, abs, width, "store");
	}
	return rc;
}

int
region_load(const struct lease *l, uint64_t off, unsigned width, uint64_t *value)
{
	return load_guarded(l, off, width, value, NULL);
}

int
region_store(const struct lease *l, uint64_t off, unsigned width, uint64_t value)
{
	return store_guarded(l, off, width, value, NULL);
}

int
region_load_armed(const struct lease *l, uint64_t off, unsigned width, uint64_t *value,
		  sigjmp_buf *env)
{
	return load_guarded(l, off, width, value, env);
}

int
region_store_armed(const struct lease *l, uint64_t off, unsigned width, uint64_t value,
		   sigjmp_buf *env)
{
	return store_guarded(l, off, width, value, env);
}

int
region_fault(const struct lease *l, uint64_t off, unsigned width, bool is_store)
{
	note_fault(region_of_lease(l), l->start + off, width, is_store ? "store" : "load");
	return -EIO;
}

void
region_write_barrier(const struct lease *l)
{
	const struct backend *b = region_of_lease(l)->backend;
	b->ops->write_barrier(b);
}

/* Copies g with its rules, and compiles them against map. */
static int
copy_grant(const struct grant *g, const struct regmap *map, struct grant *out, char *why,
	   size_t why_len)
{
	*out = *g;
	out->rules = NULL;
	out->table = NULL;
	out->park = (struct park_seq){0};
	if (g->rules && !(out->rules = grant_rules_dup(g->rules))) {
		return -ENOMEM;
	}
	if (g->park.n) {
		if (!(out->park.steps = calloc(g->park.n, sizeof(*out->park.steps)))) {
			return -ENOMEM;
		}
		memcpy(out->park.steps, g->park.steps, g->park.n * sizeof(*out->park.steps));
		out->park.n = g->park.n;
	}
	if (g->device) {
		return 0;
	}
	struct regrules_error err = {0};
	int rc = regrules_compile(map, out->rules, false, &out->table, &err);
	if (rc == -EINVAL) {
		snprintf(why, why_len, "line %d: %s", err.line, err.message);
	}
	if (rc == 0 && out->table && out->table->exact) {
		out->offset = out->table->span_start;
		out->length = out->table->span_len;
	}
	return rc;
}

int
region_set_policy(struct region *r, const struct region_policy *p, struct region_policy *retired,
		  char *why, size_t why_len)
{
	struct region_policy next = {.audit = p->audit, .revoke_on_fault = p->revoke_on_fault};
	next.grants = calloc(p->n_grants ? p->n_grants : 1, sizeof(*next.grants));
	if (!next.grants) {
		return -ENOMEM;
	}
	int rc = 0;
	for (unsigned i = 0; i < p->n_grants && rc == 0; i++) {
		rc = copy_grant(&p->grants[i], r->regmap, &next.grants[i], why, why_len);
		next.n_grants = i + 1;
	}
	struct regrules *map_rules = NULL;
	struct regrules_error err = {0};
	if (rc == 0) {
		rc = regrules_compile(r->regmap, NULL, true, &map_rules, &err);
	}
	if (rc < 0) {
		policy_finish(&next);
		return rc;
	}
	if (retired) {
		*retired = r->policy;
	} else {
		policy_finish(&r->policy);
	}
	regrules_free(r->map_rules);
	r->policy = next;
	r->map_rules = map_rules;
	return 0;
}

const struct park_seq *
region_park_for(const struct grant *by)
{
	return by && by->park.n ? &by->park : NULL;
}

const struct regrules *
region_rules_for(const struct region *r, const struct grant *by)
{
	return by ? by->table : r->map_rules;
}
