/* What the rules say a request must do: the checks fuzz_exchange_run() applies. */
#include <stdlib.h>
#include <string.h>

#include "device/region.h"
#include "fuzz_common.h"
#include "fuzz_oracle.h"
#include "mmio_limits.h"

/*
 * The status a load (or, with is_store, a store of value) through l must get,
 * by the rules of mmio.proto and lease.h, worked out independently of lease.c:
 * read-only first (stores), then width, alignment on the absolute address, range,
 * and the value's width.
 */
static Mmio__Status
access_status(const struct lease *l, uint64_t off, unsigned width, bool is_store, uint64_t value)
{
	if (!l) {
		return MMIO__STATUS__NOT_FOUND;
	}
	if (is_store && l->read_only) {
		return MMIO__STATUS__PERMISSION_DENIED;
	}
	if (width != 1 && width != 2 && width != 4 && width != 8) {
		return MMIO__STATUS__INVALID_ARGUMENT;
	}
	if ((l->space->addr + l->start + off) % width != 0) {
		return MMIO__STATUS__UNALIGNED;
	}
	if (off > l->len || l->len - off < width) {
		return MMIO__STATUS__OUT_OF_RANGE;
	}
	if (is_store && width < 8 && value >> (8 * width) != 0) {
		return MMIO__STATUS__INVALID_ARGUMENT;
	}
	return MMIO__STATUS__OK;
}

static uint64_t
width_mask(unsigned width)
{
	return width >= 8 ? UINT64_MAX : (UINT64_C(1) << (8 * width)) - 1;
}

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

/* Independent of policy.c: does g name who (its uid, or its gid or a supplementary group)? */
static bool
grant_names(const struct grant *g, const struct identity *who)
{
	if (g->subject == GRANT_USER) {
		return g->id == who->uid;
	}
	bool in = g->id == who->gid;
	for (unsigned i = 0; i < who->n_groups; i++) {
		in |= g->id == who->groups[i];
	}
	return in;
}

/* fuzz_world has no extra uid and admin group 50. */
static bool
is_root(const struct identity *who)
{
	return who->uid == 0;
}

static bool
is_admin(const struct identity *who)
{
	struct grant admin = {.subject = GRANT_GROUP, .id = 50};
	return is_root(who) || grant_names(&admin, who);
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
find_region(const char *name)
{
	for (unsigned i = 0; i < fuzz_world.table.count; i++) {
		if (strcmp(fuzz_world.table.regions[i]->name, name) == 0) {
			return fuzz_world.table.regions[i];
		}
	}
	return NULL;
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
	const struct region *r = find_region(a->region);
	if (!r) {
		return MMIO__STATUS__NOT_FOUND;
	}
	bool named = is_root(&s->who), covered = is_root(&s->who);
	*read_only = !is_root(&s->who);
	for (unsigned i = 0; i < r->policy.n_grants && !is_root(&s->who); i++) {
		const struct grant *g = &r->policy.grants[i];
		if (!grant_names(g, &s->who)) {
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
	Mmio__Status st = access_status(l, off, width, false, 0);
	if (st != MMIO__STATUS__OK) {
		return st;
	}
	unsigned __int128 last = (unsigned __int128)off + (unsigned __int128)(count - 1) * width;
	if (!repeat && last > UINT64_MAX) {
		return MMIO__STATUS__OUT_OF_RANGE;
	}
	if (!repeat &&
	    (st = access_status(l, (uint64_t)last, width, false, 0)) != MMIO__STATUS__OK) {
		return st;
	}
	if (values && l->read_only) {
		return MMIO__STATUS__PERMISSION_DENIED;
	}
	for (size_t i = 0; values && i < count; i++) {
		if (values[i] & ~width_mask(width)) {
			return MMIO__STATUS__INVALID_ARGUMENT;
		}
	}
	return MMIO__STATUS__OK;
}

void
fuzz_capture(struct fuzz_before *b, const struct session *s, const Mmio__Request *req)
{
	*b = (struct fuzz_before){.check_status = true, .want = MMIO__STATUS__OK};
	fuzz_snapshot_take(&b->mem);
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
		b->want = access_status(l, req->load->offset, req->load->width, false, 0);
		break;
	case MMIO__REQUEST__BODY_STORE:
		l = find(s, req->store->lease);
		b->want = access_status(l, req->store->offset, req->store->width, true,
					req->store->value);
		break;
	case MMIO__REQUEST__BODY_MODIFY: {
		const Mmio__Modify *m = req->modify;
		l = find(s, m->lease);
		b->want = l && l->read_only ? MMIO__STATUS__PERMISSION_DENIED
					    : access_status(l, m->offset, m->width, false, 0);
		if (b->want == MMIO__STATUS__OK) {
			b->old_value = fuzz_peek(l, m->offset, m->width);
		}
		break;
	}
	case MMIO__REQUEST__BODY_BATCH: {
		const Mmio__Batch *m = req->batch;
		size_t n = m->n_lease;
		b->want = m->n_op != n || m->n_width != n || m->n_offset != n || m->n_value != n
				  ? MMIO__STATUS__INVALID_ARGUMENT
			  : n > MMIO_MAX_BATCH_OPS ? MMIO__STATUS__RESOURCE_EXHAUSTED
						   : MMIO__STATUS__OK;
		break;
	}
	case MMIO__REQUEST__BODY_REVOKE:
		b->want = !is_admin(&s->who) ? MMIO__STATUS__PERMISSION_DENIED
			  : req->revoke->grace_ms > MMIO_MAX_GRACE_MS
				  ? MMIO__STATUS__INVALID_ARGUMENT
			  : find_any(req->revoke->lease) ? MMIO__STATUS__OK
							 : MMIO__STATUS__NOT_FOUND;
		break;
	/* No fuzzed grant has max_lease_ms: renewing one's own lease changes nothing. */
	case MMIO__REQUEST__BODY_RENEW:
		b->want = find(s, req->renew->lease) ? MMIO__STATUS__OK : MMIO__STATUS__NOT_FOUND;
		break;
	/* No region has an interrupt, so nobody is subscribed either. */
	case MMIO__REQUEST__BODY_IRQ_SUBSCRIBE:
		l = find(s, req->irq_subscribe->lease);
		b->want = l ? MMIO__STATUS__INVALID_ARGUMENT : MMIO__STATUS__NOT_FOUND;
		break;
	case MMIO__REQUEST__BODY_IRQ_ACK:
		l = find(s, req->irq_ack->lease);
		b->want = l ? MMIO__STATUS__INVALID_ARGUMENT : MMIO__STATUS__NOT_FOUND;
		break;
	case MMIO__REQUEST__BODY_IRQ_UNSUBSCRIBE:
		l = find(s, req->irq_unsubscribe->lease);
		b->want = l ? MMIO__STATUS__INVALID_ARGUMENT : MMIO__STATUS__NOT_FOUND;
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
		/* The fuzzed regions have no register map: known or not, the same NOT_FOUND. */
		b->want = MMIO__STATUS__NOT_FOUND;
		break;
	case MMIO__REQUEST__BODY_SIM_DEVICE:
		/*
		 * No device grant anywhere: only admins get past the permission check, and no
		 * fuzzed region is a sim, so a known one is INVALID_ARGUMENT.
		 */
		b->want = !is_admin(&s->who)                     ? MMIO__STATUS__PERMISSION_DENIED
			  : find_region(req->sim_device->region) ? MMIO__STATUS__INVALID_ARGUMENT
								 : MMIO__STATUS__NOT_FOUND;
		break;
	case MMIO__REQUEST__BODY_TRACE_SUBSCRIBE:
		/*
		 * Admins only, before the lookup. A known region: OK, or RESOURCE_EXHAUSTED with
		 * MMIO_TRACE_MAX_TRACERS whose closed pipes no access has noticed yet.
		 */
		b->want = !is_admin(&s->who) ? MMIO__STATUS__PERMISSION_DENIED
			  : find_region(req->trace_subscribe->region) ? MMIO__STATUS__OK
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

/* May the device bytes have changed? Only through a write that succeeded, at least in part. */
static bool
may_write(const Mmio__Request *req, const Mmio__Reply *reply)
{
	switch (req->body_case) {
	case MMIO__REQUEST__BODY_STORE:
	case MMIO__REQUEST__BODY_MODIFY:
	case MMIO__REQUEST__BODY_BLOCK_WRITE:
	case MMIO__REQUEST__BODY_BATCH:
		return reply->status == MMIO__STATUS__OK;
	default:
		return false;
	}
}

static void
check_block(const struct session *s, const Mmio__Request *req, const Mmio__Reply *reply)
{
	bool is_read = req->body_case == MMIO__REQUEST__BODY_BLOCK_READ;
	uint64_t id = is_read ? req->block_read->lease : req->block_write->lease;
	uint64_t off = is_read ? req->block_read->offset : req->block_write->offset;
	unsigned width = is_read ? req->block_read->width : req->block_write->width;
	bool repeat = is_read ? req->block_read->repeat : req->block_write->repeat;
	size_t count = is_read ? req->block_read->count : req->block_write->n_values;
	const struct lease *l = find(s, id);
	if (reply->status != MMIO__STATUS__OK) {
		return;
	}
	if (is_read) {
		FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_VALUES &&
			   reply->values->n_values == count);
	}
	for (size_t i = 0; i < count; i++) {
		uint64_t at = repeat ? off : off + i * width;
		if (is_read) {
			FUZZ_CHECK(reply->values->values[i] == fuzz_peek(l, at, width));
		} else if (!repeat || i == count - 1) {
			FUZZ_CHECK(fuzz_peek(l, at, width) == req->block_write->values[i]);
		}
	}
}

/* Where byte off of lease l sits in a fuzz_snapshot. */
static size_t
snapshot_index(const struct lease *l, uint64_t off)
{
	const struct region *r = region_of_lease(l);
	size_t base = r == fuzz_world.table.regions[FUZZ_REGION_RAM] ? 0 : FUZZ_RAM_SIZE;
	return base + l->start + off;
}

/*
 * A batch, run against a model of the device bytes: each op gets the status
 * the lease rules give, in order (after the first failure with stop_on_error:
 * CANCELLED); with all_or_nothing and any op failing its checks, none runs
 * (the failing ones get their error, the others CANCELLED). Loads return the
 * model's value, other ops 0; at the end the device must equal the model.
 */
static void
check_batch(const struct session *s, const Mmio__Batch *m, const Mmio__Reply *reply,
	    const struct fuzz_before *b)
{
	static struct fuzz_snapshot model;
	static Mmio__Status want[MMIO_MAX_BATCH_OPS];
	size_t n = m->n_lease;
	FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_BATCH && reply->batch->n_status == n &&
		   reply->batch->n_value == n);
	bool any_fails = false;
	for (size_t i = 0; i < n; i++) {
		const struct lease *l = find(s, m->lease[i]);
		switch (m->op[i]) {
		case MMIO__BATCH_OP__BATCH_OP_LOAD:
			want[i] = access_status(l, m->offset[i], m->width[i], false, 0);
			break;
		case MMIO__BATCH_OP__BATCH_OP_STORE:
			want[i] = access_status(l, m->offset[i], m->width[i], true, m->value[i]);
			break;
		case MMIO__BATCH_OP__BATCH_OP_BARRIER:
			want[i] = l ? MMIO__STATUS__OK : MMIO__STATUS__NOT_FOUND;
			break;
		default:
			want[i] = l ? MMIO__STATUS__INVALID_ARGUMENT : MMIO__STATUS__NOT_FOUND;
			break;
		}
		if (!l) {
			want[i] = missing(s, m->lease[i]);
		}
		any_fails |= want[i] != MMIO__STATUS__OK;
	}
	model = b->mem;
	bool none_runs = m->all_or_nothing && any_fails, failed = false;
	for (size_t i = 0; i < n; i++) {
		Mmio__Status st = want[i];
		if (none_runs) {
			st = st == MMIO__STATUS__OK ? MMIO__STATUS__CANCELLED : st;
		} else if (failed && m->stop_on_error) {
			st = MMIO__STATUS__CANCELLED;
		}
		failed |= st != MMIO__STATUS__OK;
		FUZZ_CHECK(reply->batch->status[i] == st);
		uint64_t value = 0;
		if (st == MMIO__STATUS__OK && m->op[i] != MMIO__BATCH_OP__BATCH_OP_BARRIER) {
			const struct lease *l = find(s, m->lease[i]);
			size_t at = snapshot_index(l, m->offset[i]);
			for (unsigned k = 0; k < m->width[i]; k++) {
				if (m->op[i] == MMIO__BATCH_OP__BATCH_OP_LOAD) {
					value |= (uint64_t)model.bytes[at + k] << (8 * k);
				} else {
					model.bytes[at + k] = (uint8_t)(m->value[i] >> (8 * k));
				}
			}
		}
		FUZZ_CHECK(reply->batch->value[i] == value);
	}
	FUZZ_CHECK(fuzz_snapshot_same(&model));
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
	if (is_root(&s->who)) {
		FUZZ_CHECK(info && info->n_grants == 1);
		check_grant(info->grants[g++], r, NULL);
	}
	for (unsigned j = 0; j < r->policy.n_grants && !is_root(&s->who); j++) {
		const struct grant *pg = &r->policy.grants[j];
		if (grant_names(pg, &s->who)) {
			FUZZ_CHECK(info && g < info->n_grants);
			check_grant(info->grants[g++], r, pg);
		}
	}
	if (g == 0) {
		return false;
	}
	FUZZ_CHECK(g == info->n_grants && strcmp(info->name, r->name) == 0);
	FUZZ_CHECK(strcmp(info->type, "mem") == 0 && info->size == r->space.len &&
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
	return is_admin(&s->who) || l->set->uid == s->who.uid;
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
		bool listed = is_admin(&s->who);
		for (unsigned j = 0; j < r->policy.n_grants; j++) {
			listed |= grant_names(&r->policy.grants[j], &s->who);
		}
		if (!listed) {
			continue;
		}
		FUZZ_CHECK(k < st->n_regions);
		const Mmio__RegionStats *rs = st->regions[k++];
		FUZZ_CHECK(strcmp(rs->name, r->name) == 0 && rs->leases == here &&
			   rs->faults == r->faults);
	}
	FUZZ_CHECK(k == st->n_regions && st->leases == leases && st->faults == faults);
}

/* Load, store, modify: the value read, the bytes written. */
static void
check_access(const struct session *s, const Mmio__Request *req, const Mmio__Reply *reply,
	     const struct fuzz_before *b)
{
	if (reply->status != MMIO__STATUS__OK) {
		return;
	}
	if (req->body_case == MMIO__REQUEST__BODY_LOAD) {
		const Mmio__Load *m = req->load;
		FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_LOAD);
		FUZZ_CHECK(reply->load->value == fuzz_peek(find(s, m->lease), m->offset, m->width));
	} else if (req->body_case == MMIO__REQUEST__BODY_STORE) {
		const Mmio__Store *m = req->store;
		FUZZ_CHECK(fuzz_peek(find(s, m->lease), m->offset, m->width) == m->value);
	} else {
		const Mmio__Modify *m = req->modify;
		uint64_t next =
			((b->old_value & ~m->mask) | (m->value & m->mask)) & width_mask(m->width);
		FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_LOAD &&
			   reply->load->value == b->old_value);
		FUZZ_CHECK(fuzz_peek(find(s, m->lease), m->offset, m->width) == next);
	}
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
	if (!may_write(req, reply)) {
		FUZZ_CHECK(fuzz_snapshot_same(&b->mem));
	}
	if (b->check_status) {
		FUZZ_CHECK(reply->status == b->want);
	}
	bool ok = reply->status == MMIO__STATUS__OK;
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
		/* The fuzzed regions have no register map: known or not, the same NOT_FOUND. */
		FUZZ_CHECK(reply->status == MMIO__STATUS__NOT_FOUND &&
			   reply->body_case == MMIO__REPLY__BODY__NOT_SET);
		break;
	case MMIO__REQUEST__BODY_SIM_DEVICE:
		/* Refused whatever the op: no body, and (may_write) no device byte changed. */
		FUZZ_CHECK(reply->status != MMIO__STATUS__OK &&
			   reply->body_case == MMIO__REPLY__BODY__NOT_SET);
		break;
	case MMIO__REQUEST__BODY_TRACE_SUBSCRIBE:
		FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY__NOT_SET);
		FUZZ_CHECK(b->check_status || reply->status == MMIO__STATUS__OK ||
			   reply->status == MMIO__STATUS__RESOURCE_EXHAUSTED);
		break;
	case MMIO__REQUEST__BODY_LOAD:
	case MMIO__REQUEST__BODY_STORE:
	case MMIO__REQUEST__BODY_MODIFY:
		check_access(s, req, reply, b);
		break;
	case MMIO__REQUEST__BODY_BLOCK_READ:
	case MMIO__REQUEST__BODY_BLOCK_WRITE:
		check_block(s, req, reply);
		break;
	case MMIO__REQUEST__BODY_BATCH:
		if (ok) {
			check_batch(s, req->batch, reply, b);
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
	case MMIO__REQUEST__BODY_REVOKE:
		FUZZ_CHECK(!ok || find_any(req->revoke->lease) == NULL);
		break;
	default:
		break;
	}
}

void
fuzz_check_poll(const struct session *s, const struct poll_state *p, bool last_chance,
		enum dispatch_result res, const Mmio__Reply *reply)
{
	const struct lease *l = find(s, p->lease_id);
	Mmio__Status want =
		l ? access_status(l, p->offset, p->width, false, 0) : missing(s, p->lease_id);
	if (want != MMIO__STATUS__OK) {
		FUZZ_CHECK(res == DISPATCH_REPLY && reply->status == want);
		return;
	}
	uint64_t v = fuzz_peek(l, p->offset, p->width);
	bool holds = (v & p->mask) == (p->value & p->mask);
	if (!holds && !last_chance) {
		FUZZ_CHECK(res == DISPATCH_DEFER);
		return;
	}
	FUZZ_CHECK(res == DISPATCH_REPLY);
	FUZZ_CHECK(reply->status == (holds ? MMIO__STATUS__OK : MMIO__STATUS__TIMEOUT));
	FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_LOAD && reply->load->value == v);
}
