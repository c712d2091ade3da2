/* What the rules say a request must do: the checks fuzz_exchange_run() applies. */
#include <stdlib.h>
#include <string.h>

#include "device/backend_sim.h"
#include "device/region.h"
#include "fuzz_common.h"
#include "fuzz_model.h"
#include "fuzz_oracle.h"
#include "fuzz_policy.h"
#include "fuzz_regmap_oracle.h"
#include "fuzz_sim_oracle.h"
#include "mmio_limits.h"

/* dev's interrupt subscription: the lease it was made through, 0 for none. */
static uint64_t irq_lease;

static const struct lease *
find(const struct session *s, uint64_t id)
{
	return lease_find(&s->leases, id);
}

/*
 * A lease the caller does not hold: REVOKED if mmiod took it from this session (an admin's
 * Revoke, the only way in the fuzzed world; the session keeps the last ones), else NOT_FOUND.
 */
static Mmio__Status
missing(const struct session *s, uint64_t id)
{
	enum lease_end why;
	return session_was_revoked(s, id, &why) ? MMIO__STATUS__REVOKED : MMIO__STATUS__NOT_FOUND;
}

/* The lease a request names, for requests that name one of the caller's; 0 for others. */
static bool
names_lease(const Mmio__Request *req, uint64_t *id)
{
	switch (req->body_case) {
	case MMIO__REQUEST__BODY_SPLIT:
		*id = req->split->lease;
		return true;
	case MMIO__REQUEST__BODY_RELEASE:
		*id = req->release->lease;
		return true;
	case MMIO__REQUEST__BODY_BARRIER:
		*id = req->barrier->lease;
		return true;
	case MMIO__REQUEST__BODY_LOAD:
		*id = req->load->lease;
		return true;
	case MMIO__REQUEST__BODY_STORE:
		*id = req->store->lease;
		return true;
	case MMIO__REQUEST__BODY_MODIFY:
		*id = req->modify->lease;
		return true;
	case MMIO__REQUEST__BODY_IRQ_SUBSCRIBE:
		*id = req->irq_subscribe->lease;
		return true;
	case MMIO__REQUEST__BODY_IRQ_ACK:
		*id = req->irq_ack->lease;
		return true;
	case MMIO__REQUEST__BODY_IRQ_UNSUBSCRIBE:
		*id = req->irq_unsubscribe->lease;
		return true;
	case MMIO__REQUEST__BODY_BLOCK_READ:
		*id = req->block_read->lease;
		return true;
	case MMIO__REQUEST__BODY_BLOCK_WRITE:
		*id = req->block_write->lease;
		return true;
	case MMIO__REQUEST__BODY_RENEW:
		*id = req->renew->lease;
		return true;
	default:
		return false;
	}
}

/* The live lease with this id, whoever holds it. */
static const struct lease *
find_any(uint64_t id)
{
	for (unsigned i = 0; i < fuzz_world.table.count; i++) {
		const struct lease *l;
		TAILQ_FOREACH(l, &fuzz_world.table.regions[i]->space.leases, space_link)
		{
			if (l->id == id) {
				return l;
			}
		}
	}
	return NULL;
}

static const struct region *
dev_region(void)
{
	return fuzz_world.table.regions[FUZZ_REGION_DEV];
}

/*
 * Acquire: a region the caller has no grant on does not exist for it; the
 * range must lie inside one grant that names it (rw wins over ro; root may
 * lease anything rw), inside the region, overlap no non-empty live lease, and
 * the connection must have room.
 */
static Mmio__Status
acquire_status(const struct session *s, const Mmio__Acquire *a, bool *read_only)
{
	const struct region *r = fuzz_find_region(a->region);
	if (!r) {
		return MMIO__STATUS__NOT_FOUND;
	}
	bool root = fuzz_is_root(&s->who);
	bool named = root, covered = root;
	*read_only = !root;
	for (unsigned i = 0; i < r->policy.n_grants && !root; i++) {
		const struct grant *g = &r->policy.grants[i];
		/* A device grant leases nothing: as if it were not there. */
		if (g->device || !fuzz_grant_names(g, &s->who)) {
			continue;
		}
		named = true;
		if (a->offset >= g->offset && (unsigned __int128)a->offset + a->length <=
						      (unsigned __int128)g->offset + g->length) {
			covered = true;
			*read_only = *read_only && g->read_only;
		}
	}
	if (!named) {
		return MMIO__STATUS__NOT_FOUND;
	}
	if (!covered) {
		return MMIO__STATUS__PERMISSION_DENIED;
	}
	if ((unsigned __int128)a->offset + a->length > r->space.len) {
		return MMIO__STATUS__OUT_OF_RANGE;
	}
	const struct lease *l;
	TAILQ_FOREACH(l, &r->space.leases, space_link)
	{
		if (a->length != 0 && l->len != 0 && l->start < a->offset + a->length &&
		    a->offset < l->start + l->len) {
			return MMIO__STATUS__CONFLICT;
		}
	}
	if (s->leases.count >= s->leases.max) {
		return MMIO__STATUS__RESOURCE_EXHAUSTED;
	}
	return MMIO__STATUS__OK;
}

/*
 * Block read and write: count 1..MMIO_MAX_BATCH_OPS, every address checked
 * (the first, and unless repeat the last), then for writes read-only and every
 * value's width, all before the first access.
 */
static Mmio__Status
block_status(const struct lease *l, uint64_t off, unsigned width, size_t count, bool repeat,
	     const uint64_t *values)
{
	if (!l) {
		return MMIO__STATUS__NOT_FOUND;
	}
	if (count == 0 || count > MMIO_MAX_BATCH_OPS) {
		return MMIO__STATUS__INVALID_ARGUMENT;
	}
	/* The rules are judged as each access runs (the block read) or before the first store
	 * (the block write), after these. */
	Mmio__Status st = fuzz_lease_status(l, off, width, false, 0);
	if (st != MMIO__STATUS__OK) {
		return st;
	}
	unsigned __int128 last = (unsigned __int128)off + (unsigned __int128)(count - 1) * width;
	if (!repeat && last > UINT64_MAX) {
		return MMIO__STATUS__OUT_OF_RANGE;
	}
	if (!repeat &&
	    (st = fuzz_lease_status(l, (uint64_t)last, width, false, 0)) != MMIO__STATUS__OK) {
		return st;
	}
	if (values && l->read_only) {
		return MMIO__STATUS__PERMISSION_DENIED;
	}
	for (size_t i = 0; values && i < count; i++) {
		if (values[i] & ~fuzz_width_mask(width)) {
			return MMIO__STATUS__INVALID_ARGUMENT;
		}
	}
	return MMIO__STATUS__OK;
}

/* dev's subscription, if its lease is still there (a lease that went must have ended it). */
static uint64_t
irq_holder(void)
{
	return irq_lease && find_any(irq_lease) ? irq_lease : 0;
}

/*
 * A batch's ops in either encoding (mmio.proto), read here on their own, from the protocol's
 * words, not from mmiod's reader.
 */
struct oracle_batch {
	const Mmio__Batch *m;
	size_t n;
	bool fixed;
	size_t lease_size, offset_size, value_size;
};

struct oracle_op {
	uint64_t lease, offset, value;
	unsigned kind, width;
};

static uint64_t
oracle_le(const uint8_t *p, size_t size)
{
	uint64_t v = 0;
	for (size_t i = 0; i < size; i++) {
		v |= (uint64_t)p[i] << (8 * i);
	}
	return v;
}

static struct oracle_op
oracle_op_at(const struct oracle_batch *ob, size_t i)
{
	const Mmio__Batch *m = ob->m;
	if (!ob->fixed) {
		return (struct oracle_op){m->lease[i], m->offset[i], m->value[i],
					  (unsigned)m->op[i], m->width[i]};
	}
	return (struct oracle_op){
		oracle_le(m->fixed_lease.data + i * ob->lease_size, ob->lease_size),
		oracle_le(m->fixed_offset.data + i * ob->offset_size, ob->offset_size),
		/* An empty value column: every value 0 (and its data may be NULL). */
		ob->value_size ? oracle_le(m->fixed_value.data + i * ob->value_size, ob->value_size)
			       : 0,
		m->fixed_op.data[i],
		m->fixed_width.data[i],
	};
}

/* A column's element size, len / n if that is 1, 2, 4 or 8; else 0. */
static size_t
oracle_element(size_t len, size_t n)
{
	if (n == 0 || len % n) {
		return 0;
	}
	size_t s = len / n;
	return s == 1 || s == 2 || s == 4 || s == 8 ? s : 0;
}

/* The status of the batch as a whole (OK: its ops run), ob filled to read them. */
static Mmio__Status
oracle_batch_shape(const Mmio__Batch *m, struct oracle_batch *ob)
{
	*ob = (struct oracle_batch){.m = m};
	bool varint = m->n_lease || m->n_op || m->n_width || m->n_offset || m->n_value;
	ob->fixed = m->fixed_lease.len || m->fixed_offset.len || m->fixed_value.len ||
		    m->fixed_op.len || m->fixed_width.len;
	if (varint && ob->fixed) {
		return MMIO__STATUS__INVALID_ARGUMENT;
	}
	if (ob->fixed) {
		ob->n = m->fixed_op.len;
		ob->lease_size = oracle_element(m->fixed_lease.len, ob->n);
		ob->offset_size = oracle_element(m->fixed_offset.len, ob->n);
		ob->value_size = oracle_element(m->fixed_value.len, ob->n);
		if (m->fixed_width.len != ob->n || !ob->lease_size || !ob->offset_size ||
		    (m->fixed_value.len && !ob->value_size)) {
			return MMIO__STATUS__INVALID_ARGUMENT;
		}
	} else {
		ob->n = m->n_lease;
		if (m->n_op != ob->n || m->n_width != ob->n || m->n_offset != ob->n ||
		    m->n_value != ob->n) {
			return MMIO__STATUS__INVALID_ARGUMENT;
		}
	}
	return ob->n > MMIO_MAX_BATCH_OPS ? MMIO__STATUS__RESOURCE_EXHAUSTED : MMIO__STATUS__OK;
}

/*
 * The reply's result i, from whichever encoding it must be in (the request's): fixed results
 * are read in order, *at the bytes of values read so far.
 */
static void
oracle_result(const struct oracle_batch *ob, const Mmio__BatchResult *res, size_t i,
	      const struct oracle_op *op, Mmio__Status *st, uint64_t *value, size_t *at)
{
	if (!ob->fixed) {
		*st = res->status[i];
		*value = res->value[i];
		return;
	}
	*st = res->fixed_status.len ? (Mmio__Status)res->fixed_status.data[i] : MMIO__STATUS__OK;
	*value = 0;
	if (*st == MMIO__STATUS__OK && op->kind == MMIO__BATCH_OP__BATCH_OP_LOAD) {
		FUZZ_CHECK(res->fixed_value.len - *at >= op->width);
		*value = oracle_le(res->fixed_value.data + *at, op->width);
		*at += op->width;
	}
}

/*
 * The interrupt requests through l: only dev has an interrupt; one subscriber, through a
 * lease that may own it (fuzz_may_own_irq); ack and unsubscribe through that lease only.
 */
static Mmio__Status
irq_status(const struct session *s, Mmio__Request__BodyCase kind, const struct lease *l)
{
	if (!l) {
		return MMIO__STATUS__NOT_FOUND;
	}
	if (kind != MMIO__REQUEST__BODY_IRQ_SUBSCRIBE) {
		return irq_holder() == l->id ? MMIO__STATUS__OK : MMIO__STATUS__INVALID_ARGUMENT;
	}
	return region_of_lease(l) != dev_region() ? MMIO__STATUS__INVALID_ARGUMENT
	       : !fuzz_may_own_irq(l, &s->who)    ? MMIO__STATUS__PERMISSION_DENIED
	       : irq_holder()                     ? MMIO__STATUS__CONFLICT
						  : MMIO__STATUS__OK;
}

void
fuzz_capture(struct fuzz_before *b, const struct session *s, const Mmio__Request *req)
{
	*b = (struct fuzz_before){.check_status = true, .want = MMIO__STATUS__OK};
	fuzz_snapshot_take(&b->mem);
	b->irq_count = sim_device_irq_count(dev_region()->backend);
	const struct lease *l = NULL;
	switch (req->body_case) {
	case MMIO__REQUEST__BODY_ACQUIRE:
		b->want = acquire_status(s, req->acquire, &b->read_only);
		break;
	case MMIO__REQUEST__BODY_SPLIT:
		l = find(s, req->split->lease);
		b->want = !l                                 ? MMIO__STATUS__NOT_FOUND
			  : req->split->mid > l->len         ? MMIO__STATUS__OUT_OF_RANGE
			  : s->leases.count >= s->leases.max ? MMIO__STATUS__RESOURCE_EXHAUSTED
							     : MMIO__STATUS__OK;
		break;
	case MMIO__REQUEST__BODY_RELEASE:
		b->want = find(s, req->release->lease) ? MMIO__STATUS__OK : MMIO__STATUS__NOT_FOUND;
		break;
	case MMIO__REQUEST__BODY_BARRIER:
		b->want = find(s, req->barrier->lease) ? MMIO__STATUS__OK : MMIO__STATUS__NOT_FOUND;
		break;
	case MMIO__REQUEST__BODY_LOAD:
		l = find(s, req->load->lease);
		b->want = fuzz_access_status(l, req->load->offset, req->load->width, false, 0);
		break;
	case MMIO__REQUEST__BODY_STORE:
		l = find(s, req->store->lease);
		b->want = fuzz_access_status(l, req->store->offset, req->store->width, true,
					     req->store->value);
		break;
	case MMIO__REQUEST__BODY_MODIFY: {
		const Mmio__Modify *m = req->modify;
		l = find(s, m->lease);
		/* Refused before the load, which may have side effects. */
		b->want = l && l->read_only ? MMIO__STATUS__PERMISSION_DENIED
					    : fuzz_access_status(l, m->offset, m->width, false, 0);
		break;
	}
	case MMIO__REQUEST__BODY_BATCH: {
		struct oracle_batch ob;
		b->want = oracle_batch_shape(req->batch, &ob);
		break;
	}
	case MMIO__REQUEST__BODY_REVOKE:
		b->want = !fuzz_is_admin(&s->who) ? MMIO__STATUS__PERMISSION_DENIED
			  : req->revoke->grace_ms > MMIO_MAX_GRACE_MS
				  ? MMIO__STATUS__INVALID_ARGUMENT
			  : find_any(req->revoke->lease) ? MMIO__STATUS__OK
							 : MMIO__STATUS__NOT_FOUND;
		break;
	/* No fuzzed grant has max_lease_ms: renewing one's own lease changes nothing. */
	case MMIO__REQUEST__BODY_RENEW:
		b->want = find(s, req->renew->lease) ? MMIO__STATUS__OK : MMIO__STATUS__NOT_FOUND;
		break;
	case MMIO__REQUEST__BODY_IRQ_SUBSCRIBE:
		b->want = irq_status(s, req->body_case, find(s, req->irq_subscribe->lease));
		break;
	case MMIO__REQUEST__BODY_IRQ_ACK:
		b->want = irq_status(s, req->body_case, find(s, req->irq_ack->lease));
		break;
	case MMIO__REQUEST__BODY_IRQ_UNSUBSCRIBE:
		b->want = irq_status(s, req->body_case, find(s, req->irq_unsubscribe->lease));
		break;
	case MMIO__REQUEST__BODY_BLOCK_READ: {
		const Mmio__BlockRead *m = req->block_read;
		b->want = block_status(find(s, m->lease), m->offset, m->width, m->count, m->repeat,
				       NULL);
		break;
	}
	case MMIO__REQUEST__BODY_BLOCK_WRITE: {
		const Mmio__BlockWrite *m = req->block_write;
		static const uint64_t none[1];
		b->want = block_status(find(s, m->lease), m->offset, m->width, m->n_values,
				       m->repeat, m->values ? m->values : none);
		break;
	}
	case MMIO__REQUEST__BODY_LIST_REGISTERS:
	case MMIO__REQUEST__BODY_SIM_DEVICE:
		/* Worked out with the outcome: fuzz_regmap_oracle.c, fuzz_sim_oracle.c. */
		b->check_status = false;
		break;
	case MMIO__REQUEST__BODY_TRACE_SUBSCRIBE:
		/*
		 * Admins only, before the lookup. A known region: OK, or RESOURCE_EXHAUSTED with
		 * MMIO_TRACE_MAX_TRACERS whose closed pipes no access has noticed yet.
		 */
		b->want = !fuzz_is_admin(&s->who) ? MMIO__STATUS__PERMISSION_DENIED
			  : fuzz_find_region(req->trace_subscribe->region)
				  ? MMIO__STATUS__OK
				  : MMIO__STATUS__NOT_FOUND;
		b->check_status = b->want != MMIO__STATUS__OK;
		break;
	case MMIO__REQUEST__BODY_POLL:
		/* Over the limit: refused before anything else; otherwise fuzz_check_poll(). */
		b->check_status = req->poll->timeout_ms > MMIO_POLL_MAX_MS;
		b->want = MMIO__STATUS__INVALID_ARGUMENT;
		break;
	default:
		break;
	}
	uint64_t named;
	if (b->want == MMIO__STATUS__NOT_FOUND && names_lease(req, &named) && !find(s, named)) {
		b->want = missing(s, named);
	}
	b->lease_found = l != NULL;
	if (l) {
		b->start = l->start;
		b->len = l->len;
		b->read_only = l->read_only;
	}
}

/* The model every check runs the request on: the devices before it. */
static struct fuzz_snapshot model;

/*
 * Block read and write, their checks passed: one access after another on the
 * model, the first failure (a device's) ends it; a read returns every value.
 */
static Mmio__Status
run_block(const struct session *s, const Mmio__Request *req, const Mmio__Reply *reply)
{
	bool is_read = req->body_case == MMIO__REQUEST__BODY_BLOCK_READ;
	uint64_t id = is_read ? req->block_read->lease : req->block_write->lease;
	uint64_t off = is_read ? req->block_read->offset : req->block_write->offset;
	unsigned width = is_read ? req->block_read->width : req->block_write->width;
	bool repeat = is_read ? req->block_read->repeat : req->block_write->repeat;
	size_t count = is_read ? req->block_read->count : req->block_write->n_values;
	const struct lease *l = find(s, id);
	bool ok = reply->status == MMIO__STATUS__OK;
	if (is_read && ok) {
		FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_VALUES &&
			   reply->values->n_values == count);
	}
	for (size_t i = 0; i < count; i++) {
		uint64_t at = repeat ? off : off + i * width;
		uint64_t v = is_read ? 0 : req->block_write->values[i];
		Mmio__Status st = fuzz_rules_status(l, at, !is_read, width);
		if (st == MMIO__STATUS__OK) {
			st = fuzz_model_access(&model, l, at, width, !is_read, &v);
		}
		if (st != MMIO__STATUS__OK) {
			return st;
		}
		if (is_read && ok) {
			FUZZ_CHECK(reply->values->values[i] == v);
		}
	}
	return MMIO__STATUS__OK;
}

/*
 * A batch, run on the model: each op gets the status the lease rules give, in
 * order (after the first failure with stop_on_error: CANCELLED), or the
 * device's failure; with all_or_nothing and any op failing the lease rules, none
 * runs (the failing ones get their error, the others CANCELLED). Loads return
 * the model's value, other ops 0.
 */
static void
check_batch(const struct session *s, const Mmio__Batch *m, const Mmio__Reply *reply)
{
	static Mmio__Status want[MMIO_MAX_BATCH_OPS];
	struct oracle_batch ob;
	FUZZ_CHECK(oracle_batch_shape(m, &ob) == MMIO__STATUS__OK);
	size_t n = ob.n;
	FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_BATCH);
	const Mmio__BatchResult *res = reply->batch;
	if (ob.fixed) {
		FUZZ_CHECK(res->n_status == 0 && res->n_value == 0);
		FUZZ_CHECK(res->fixed_status.len == n || res->fixed_status.len == 0);
	} else {
		FUZZ_CHECK(res->n_status == n && res->n_value == n && res->fixed_status.len == 0 &&
			   res->fixed_value.len == 0);
	}
	bool any_fails = false;
	for (size_t i = 0; i < n; i++) {
		struct oracle_op op = oracle_op_at(&ob, i);
		const struct lease *l = find(s, op.lease);
		switch (op.kind) {
		case MMIO__BATCH_OP__BATCH_OP_LOAD:
			want[i] = fuzz_access_status(l, op.offset, op.width, false, 0);
			break;
		case MMIO__BATCH_OP__BATCH_OP_STORE:
			want[i] = fuzz_access_status(l, op.offset, op.width, true, op.value);
			break;
		case MMIO__BATCH_OP__BATCH_OP_BARRIER:
			want[i] = l ? MMIO__STATUS__OK : MMIO__STATUS__NOT_FOUND;
			break;
		default:
			want[i] = l ? MMIO__STATUS__INVALID_ARGUMENT : MMIO__STATUS__NOT_FOUND;
			break;
		}
		if (!l) {
			want[i] = missing(s, op.lease);
		}
		any_fails |= want[i] != MMIO__STATUS__OK;
	}
	bool none_runs = m->all_or_nothing && any_fails, failed = false;
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		struct oracle_op op = oracle_op_at(&ob, i);
		Mmio__Status st = want[i];
		bool access = op.kind == MMIO__BATCH_OP__BATCH_OP_LOAD ||
			      op.kind == MMIO__BATCH_OP__BATCH_OP_STORE;
		uint64_t value = 0;
		if (none_runs) {
			st = st == MMIO__STATUS__OK ? MMIO__STATUS__CANCELLED : st;
		} else if (failed && m->stop_on_error) {
			st = MMIO__STATUS__CANCELLED;
		} else if (st == MMIO__STATUS__OK && access) {
			bool store = op.kind == MMIO__BATCH_OP__BATCH_OP_STORE;
			uint64_t v = store ? op.value : 0;
			st = fuzz_model_access(&model, find(s, op.lease), op.offset, op.width,
					       store, &v);
			value = st == MMIO__STATUS__OK && !store ? v : 0;
		}
		failed |= st != MMIO__STATUS__OK;
		Mmio__Status got_st;
		uint64_t got_value;
		oracle_result(&ob, res, i, &op, &got_st, &got_value, &at);
		FUZZ_CHECK(got_st == st);
		FUZZ_CHECK(got_value == value);
	}
	if (ob.fixed) {
		/* Every value carried belongs to a load, and all OK goes as no statuses. */
		FUZZ_CHECK(at == res->fixed_value.len);
		FUZZ_CHECK(res->fixed_status.len == 0 || failed || none_runs);
	}
}

/* The grant g (NULL: root's, all of r) as listed in mg. */
static void
check_grant(const Mmio__Grant *mg, const struct region *r, const struct grant *g)
{
	FUZZ_CHECK(mg->offset == (g ? g->offset : 0));
	FUZZ_CHECK(mg->length == (g ? g->length : r->space.len));
	FUZZ_CHECK(mg->access ==
		   (g && g->read_only ? MMIO__ACCESS__ACCESS_RO : MMIO__ACCESS__ACCESS_RW));
}

/*
 * Region r as info lists it (info NULL: not listed): with exactly the grants
 * of r that name the caller, or for root one for the whole region. Returns
 * whether r must be listed.
 */
static bool
check_region_info(const struct session *s, const struct region *r, const Mmio__RegionInfo *info)
{
	size_t g = 0;
	bool root = fuzz_is_root(&s->who);
	if (root) {
		FUZZ_CHECK(info && info->n_grants == 1);
		check_grant(info->grants[g++], r, NULL);
	}
	for (unsigned j = 0; j < r->policy.n_grants && !root; j++) {
		const struct grant *pg = &r->policy.grants[j];
		/* Device grants lease nothing: not listed. */
		if (!pg->device && fuzz_grant_names(pg, &s->who)) {
			FUZZ_CHECK(info && g < info->n_grants);
			check_grant(info->grants[g++], r, pg);
		}
	}
	if (g == 0) {
		return false;
	}
	FUZZ_CHECK(g == info->n_grants && strcmp(info->name, r->name) == 0);
	const char *type = r == dev_region() ? "sim" : "mem";
	FUZZ_CHECK(strcmp(info->type, type) == 0 && info->size == r->space.len &&
		   info->address == r->space.addr && info->faults == r->faults);
	return true;
}

/* Every region the caller has a grant on, in table order, and no other. */
static void
check_region_list(const struct session *s, const Mmio__RegionList *list)
{
	size_t k = 0;
	for (unsigned i = 0; i < fuzz_world.table.count; i++) {
		const Mmio__RegionInfo *info = k < list->n_regions ? list->regions[k] : NULL;
		k += check_region_info(s, fuzz_world.table.regions[i], info);
	}
	FUZZ_CHECK(k == list->n_regions);
}

static void
check_lease_info(const Mmio__LeaseInfo *info, const struct lease *l)
{
	const struct session *holder = session_of_lease_set(l->set);
	FUZZ_CHECK(info->id == l->id && info->start == l->start && info->length == l->len);
	FUZZ_CHECK(strcmp(info->region, region_of_lease(l)->name) == 0);
	FUZZ_CHECK(info->pid == holder->who.pid && info->uid == holder->who.uid);
	FUZZ_CHECK(info->access ==
		   (l->read_only ? MMIO__ACCESS__ACCESS_RO : MMIO__ACCESS__ACCESS_RW));
}

/* Admins see every lease, others every lease of their uid (any of its connections). */
static bool
lease_visible(const struct session *s, const struct lease *l)
{
	return fuzz_is_admin(&s->who) || l->set->uid == s->who.uid;
}

/* The visible live lease with the least id above after, or NULL. */
static const struct lease *
next_visible(const struct session *s, uint64_t after)
{
	const struct lease *next = NULL;
	for (unsigned i = 0; i < fuzz_world.table.count; i++) {
		const struct lease *l;
		TAILQ_FOREACH(l, &fuzz_world.table.regions[i]->space.leases, space_link)
		{
			if (l->id > after && lease_visible(s, l) && (!next || l->id < next->id)) {
				next = l;
			}
		}
	}
	return next;
}

/*
 * One page: the visible leases with id > after_id in ascending id order, each
 * as it is, at most max (0: no limit), and more set iff visible leases remain
 * past the page. Every lease of the fuzz world fits one frame, so a page is
 * never cut short of max: with max = 0, more is false.
 */
static void
check_lease_list(const struct session *s, const Mmio__ListLeases *req, const Mmio__LeaseList *list)
{
	size_t k = 0;
	const struct lease *l = next_visible(s, req->after_id);
	for (; l && (req->max == 0 || k < req->max); l = next_visible(s, l->id)) {
		FUZZ_CHECK(k < list->n_leases);
		check_lease_info(list->leases[k], l);
		k++;
	}
	FUZZ_CHECK(list->n_leases == k);
	FUZZ_CHECK(list->more == (l != NULL));
	FUZZ_CHECK(req->max != 0 || !list->more);
}

/*
 * Stats: the lease and fault totals of every region, and per region those
 * the caller may lease something of (every region for admins and root).
 */
static void
check_stats(const struct session *s, const Mmio__StatsReply *st)
{
	uint64_t leases = 0;
	uint64_t faults = 0;
	size_t k = 0;
	for (unsigned i = 0; i < fuzz_world.table.count; i++) {
		const struct region *r = fuzz_world.table.regions[i];
		uint64_t here = 0;
		const struct lease *l;
		TAILQ_FOREACH(l, &r->space.leases, space_link)
		{
			here++;
		}
		leases += here;
		faults += r->faults;
		if (!fuzz_is_admin(&s->who) && !fuzz_leases_some(r, &s->who)) {
			continue;
		}
		FUZZ_CHECK(k < st->n_regions);
		const Mmio__RegionStats *rs = st->regions[k++];
		FUZZ_CHECK(strcmp(rs->name, r->name) == 0 && rs->leases == here &&
			   rs->faults == r->faults);
	}
	FUZZ_CHECK(k == st->n_regions && st->leases == leases && st->faults == faults);
}

/* Load, store, modify: the accesses on the model, the value read; the status they end with. */
static Mmio__Status
run_access(const struct session *s, const Mmio__Request *req, const Mmio__Reply *reply)
{
	uint64_t v = 0;
	Mmio__Status st;
	if (req->body_case == MMIO__REQUEST__BODY_LOAD) {
		const Mmio__Load *m = req->load;
		st = fuzz_model_access(&model, find(s, m->lease), m->offset, m->width, false, &v);
	} else if (req->body_case == MMIO__REQUEST__BODY_STORE) {
		const Mmio__Store *m = req->store;
		v = m->value;
		st = fuzz_model_access(&model, find(s, m->lease), m->offset, m->width, true, &v);
		return st;
	} else {
		/* One load, then one store of the masked value at the same width. */
		const Mmio__Modify *m = req->modify;
		const struct lease *l = find(s, m->lease);
		st = fuzz_model_access(&model, l, m->offset, m->width, false, &v);
		uint64_t next = ((v & ~m->mask) | (m->value & m->mask)) & fuzz_width_mask(m->width);
		if (st == MMIO__STATUS__OK) {
			st = fuzz_model_access(&model, l, m->offset, m->width, true, &next);
		}
	}
	if (st == MMIO__STATUS__OK && reply->status == MMIO__STATUS__OK) {
		FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_LOAD && reply->load->value == v);
	}
	return st;
}

/* SimDevice: the status, value and device state fuzz_sim_oracle.c works out. */
static void
check_sim_device(const struct session *s, const Mmio__SimDevice *m, const Mmio__Reply *reply,
		 const struct fuzz_before *b)
{
	uint64_t value = 0;
	bool has_value = false;
	Mmio__Status want = fuzz_sim_device_expect(s, m, &model, b->irq_count, &value, &has_value);
	FUZZ_CHECK(reply->status == want);
	if (has_value) {
		FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_LOAD &&
			   reply->load->value == value);
	} else {
		FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY__NOT_SET);
	}
	bool raised = want == MMIO__STATUS__OK && m->op == MMIO__SIM_OP__SIM_OP_IRQ;
	FUZZ_CHECK(sim_device_irq_count(dev_region()->backend) == b->irq_count + raised);
}

/* The lease an acquire granted: what was asked, under the access the grants give. */
static void
check_acquired(const struct session *s, const Mmio__Acquire *m, const Mmio__Reply *reply,
	       const struct fuzz_before *b)
{
	FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_LEASE);
	const struct lease *l = find(s, reply->lease->id);
	FUZZ_CHECK(l && l->start == m->offset && l->len == m->length &&
		   l->read_only == b->read_only);
	FUZZ_CHECK(strcmp(region_of_lease(l)->name, m->region) == 0);
	check_lease_info(reply->lease, l);
}

/* A split: the new lease is the low part, the old one keeps the rest, both as before. */
static void
check_split(const struct session *s, const Mmio__Split *m, const Mmio__Reply *reply,
	    const struct fuzz_before *b)
{
	FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_LEASE);
	const struct lease *low = find(s, reply->lease->id);
	const struct lease *high = find(s, m->lease);
	FUZZ_CHECK(low && high && low != high && low->space == high->space);
	FUZZ_CHECK(low->start == b->start && low->len == m->mid);
	FUZZ_CHECK(high->start == b->start + m->mid && high->len == b->len - m->mid);
	FUZZ_CHECK(low->read_only == b->read_only && high->read_only == b->read_only);
	check_lease_info(reply->lease, low);
}

void
fuzz_check_outcome(const struct session *s, const Mmio__Request *req, const Mmio__Reply *reply,
		   const struct fuzz_before *b)
{
	model = b->mem;
	Mmio__Status want = b->want;
	bool ok = reply->status == MMIO__STATUS__OK;
	/* A poll's attempt changes the devices as fuzz_check_poll() says. */
	bool polled = req->body_case == MMIO__REQUEST__BODY_POLL && !b->check_status;
	switch (req->body_case) {
	case MMIO__REQUEST__BODY_LIST_REGIONS:
		FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_REGIONS);
		check_region_list(s, reply->regions);
		break;
	case MMIO__REQUEST__BODY_LIST_LEASES:
		FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_LEASES);
		check_lease_list(s, req->list_leases, reply->leases);
		break;
	case MMIO__REQUEST__BODY_STATS:
		FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_STATS);
		check_stats(s, reply->stats);
		break;
	case MMIO__REQUEST__BODY_LIST_REGISTERS:
		fuzz_check_register_map(s, req->list_registers, reply);
		break;
	case MMIO__REQUEST__BODY_SIM_DEVICE:
		check_sim_device(s, req->sim_device, reply, b);
		break;
	case MMIO__REQUEST__BODY_TRACE_SUBSCRIBE:
		FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY__NOT_SET);
		FUZZ_CHECK(b->check_status || reply->status == MMIO__STATUS__OK ||
			   reply->status == MMIO__STATUS__RESOURCE_EXHAUSTED);
		break;
	case MMIO__REQUEST__BODY_LOAD:
	case MMIO__REQUEST__BODY_STORE:
	case MMIO__REQUEST__BODY_MODIFY:
		if (want == MMIO__STATUS__OK) {
			want = run_access(s, req, reply);
		}
		break;
	case MMIO__REQUEST__BODY_BLOCK_READ:
	case MMIO__REQUEST__BODY_BLOCK_WRITE:
		if (want == MMIO__STATUS__OK) {
			want = run_block(s, req, reply);
		}
		break;
	case MMIO__REQUEST__BODY_BATCH:
		if (ok) {
			check_batch(s, req->batch, reply);
		}
		break;
	case MMIO__REQUEST__BODY_ACQUIRE:
		if (ok) {
			check_acquired(s, req->acquire, reply, b);
		}
		break;
	case MMIO__REQUEST__BODY_SPLIT:
		if (ok) {
			check_split(s, req->split, reply, b);
		}
		break;
	case MMIO__REQUEST__BODY_RELEASE:
		FUZZ_CHECK(find(s, req->release->lease) == NULL);
		break;
	case MMIO__REQUEST__BODY_RENEW:
		/* The lease as it is now (no fuzzed grant gives leases a time). */
		if (ok) {
			const struct lease *l = find(s, req->renew->lease);
			FUZZ_CHECK(l && reply->body_case == MMIO__REPLY__BODY_LEASE);
			check_lease_info(reply->lease, l);
		}
		break;
	case MMIO__REQUEST__BODY_REVOKE:
		/*
		 * With grace the holder is asked to release, and the lease stays until it does or
		 * the timer fires; the world has a loop (dev's model and interrupt), which nothing
		 * runs, so it stays. Without, it is gone.
		 */
		FUZZ_CHECK(!ok ||
			   (find_any(req->revoke->lease) == NULL) == (req->revoke->grace_ms == 0));
		break;
	case MMIO__REQUEST__BODY_IRQ_SUBSCRIBE:
		if (ok) {
			irq_lease = req->irq_subscribe->lease;
		}
		break;
	case MMIO__REQUEST__BODY_IRQ_UNSUBSCRIBE:
		if (ok) {
			irq_lease = 0;
		}
		break;
	default:
		break;
	}
	if (b->check_status) {
		FUZZ_CHECK(reply->status == want);
	}
	if (!polled) {
		FUZZ_CHECK(fuzz_snapshot_same(&model));
	}
}

void
fuzz_check_poll(const struct session *s, const struct poll_state *p, bool last_chance,
		enum dispatch_result res, const Mmio__Reply *reply,
		const struct fuzz_snapshot *before)
{
	const struct lease *l = find(s, p->lease_id);
	static struct fuzz_snapshot m;
	m = *before;
	uint64_t v = 0;
	Mmio__Status want = l ? fuzz_model_checked(&m, l, p->offset, p->width, false, &v)
			      : missing(s, p->lease_id);
	FUZZ_CHECK(fuzz_snapshot_same(&m));
	if (want != MMIO__STATUS__OK) {
		FUZZ_CHECK(res == DISPATCH_REPLY && reply->status == want);
		return;
	}
	bool holds = (v & p->mask) == (p->value & p->mask);
	if (!holds && !last_chance) {
		FUZZ_CHECK(res == DISPATCH_DEFER);
		return;
	}
	FUZZ_CHECK(res == DISPATCH_REPLY);
	FUZZ_CHECK(reply->status == (holds ? MMIO__STATUS__OK : MMIO__STATUS__TIMEOUT));
	FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_LOAD && reply->load->value == v);
}

void
fuzz_check_irq(void)
{
	irq_lease = irq_holder();
	for (unsigned i = 0; i < fuzz_world.table.count; i++) {
		const struct region *r = fuzz_world.table.regions[i];
		FUZZ_CHECK((r->irq != NULL) == (r == dev_region() && irq_lease != 0));
	}
}

void
fuzz_oracle_reset(void)
{
	irq_lease = 0;
}
