/* A region: its backend, its lease space and policy, and its device faults counted. */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/log.h"
#include "core/regmap.h"
#include "core/regrules.h"
#include "device/backend.h"
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

int
region_device_access(const struct lease *l, uint64_t abs, unsigned width, bool is_store,
		     uint64_t *value)
{
	struct region *r = region_of_lease(l);
	const struct backend *b = r->backend;
	/* A failed load leaves *value alone: a batch answers 0 for it. */
	uint64_t v = is_store ? *value : 0;
	int rc = b->ops->access(b, abs, width, is_store, &v);
	if (rc < 0) {
		note_fault(r, abs, width, is_store ? "store" : "load");
		return rc;
	}
	if (!is_store) {
		*value = v;
	}
	return 0;
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
