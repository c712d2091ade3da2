/*
 * Server-side operations that save round trips: masked modify, poll, block
 * and repeated reads and writes. Each runs without any other client's request
 * in between (one event loop), except that a poll lets others run between its
 * loads.
 */
#include <errno.h>
#include <inttypes.h>

#include "core/lease.h"
#include "core/width.h"
#include "mmio_limits.h"
#include "request/access.h"
#include "request/dispatch.h"
#include "request/handlers.h"
#include "request/reply.h"

void
handle_modify(struct session *s, const Mmio__Modify *req, Mmio__Reply *reply,
	      struct reply_scratch *scratch)
{
	struct lease *l = reply_find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	uint64_t cur;
	int rc = access_modify(s, l, req->offset, req->width, req->mask, req->value, &cur);
	access_reply_status(reply, scratch, rc, l, req->offset, req->width);
	if (rc == 0) {
		reply_value(reply, scratch, cur);
	}
}

/*
 * Checks every address a block access of count widths from off (or, with
 * repeat, count times at off) would touch: 0 or the first access's error.
 */
static int
check_block(const struct lease *l, uint64_t off, unsigned width, size_t count, bool repeat,
	    Mmio__Reply *reply, struct reply_scratch *scratch)
{
	if (count == 0 || count > MMIO_MAX_BATCH_OPS) {
		reply_status(reply, scratch, -EINVAL, "count must be 1..%d", MMIO_MAX_BATCH_OPS);
		return -EINVAL;
	}
	int rc = lease_check_access(l, off, width);
	if (rc == 0 && !repeat) {
		/* The last access; aligned if the first is. The span cannot wrap: count <= 4096. */
		uint64_t span = (uint64_t)(count - 1) * width;
		rc = off > UINT64_MAX - span ? -ERANGE : lease_check_access(l, off + span, width);
		if (rc < 0) {
			reply_status(reply, scratch, rc,
				     "%zu accesses of %u bytes from offset 0x%" PRIx64
				     " do not fit lease %" PRIu64 " of length 0x%" PRIx64,
				     count, width, off, l->id, l->len);
			return rc;
		}
	}
	if (rc < 0) {
		access_reply_status(reply, scratch, rc, l, off, width);
	}
	return rc;
}

void
handle_block_read(struct session *s, const Mmio__BlockRead *req, Mmio__Reply *reply,
		  struct reply_scratch *scratch)
{
	struct lease *l = reply_find_lease(s, req->lease, reply, scratch);
	if (!l ||
	    check_block(l, req->offset, req->width, req->count, req->repeat, reply, scratch) < 0) {
		return;
	}
	uint64_t *values = reply_alloc(scratch, req->count, sizeof(*values));
	if (!values) {
		reply_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	for (uint32_t i = 0; i < req->count; i++) {
		uint64_t off = req->repeat ? req->offset : req->offset + (uint64_t)i * req->width;
		int rc = access_load(s, l, off, req->width, &values[i]);
		if (rc < 0) {
			access_reply_status(reply, scratch, rc, l, off, req->width);
			return;
		}
	}
	access_figures_of(l)->block_bytes += (uint64_t)req->count * req->width;
	region_of_lease(l)->figures.block_bytes += (uint64_t)req->count * req->width;
	mmio__values__init(&scratch->values);
	scratch->values.n_values = req->count;
	scratch->values.values = values;
	reply->body_case = MMIO__REPLY__BODY_VALUES;
	reply->values = &scratch->values;
	reply_status(reply, scratch, 0, NULL);
}

void
handle_block_write(struct session *s, const Mmio__BlockWrite *req, Mmio__Reply *reply,
		   struct reply_scratch *scratch)
{
	struct lease *l = reply_find_lease(s, req->lease, reply, scratch);
	if (!l || check_block(l, req->offset, req->width, req->n_values, req->repeat, reply,
			      scratch) < 0) {
		return;
	}
	if (l->read_only) {
		access_reply_status(reply, scratch, -EACCES, l, req->offset, req->width);
		return;
	}
	/* Every value is checked before the first store: a bad one writes nothing (register
	 * rules too, except what needs the register's value: judged as each store runs). */
	for (size_t i = 0; i < req->n_values; i++) {
		if (req->values[i] & ~width_mask(req->width)) {
			reply_status(reply, scratch, -EINVAL, "value %zu is wider than %u bits", i,
				     req->width * 8);
			return;
		}
		uint64_t off = req->repeat ? req->offset : req->offset + (uint64_t)i * req->width;
		int rc = l->rules ? access_check(l, true, off, req->width, req->values[i]) : 0;
		if (rc < 0) {
			access_reply_status(reply, scratch, rc, l, off, req->width);
			return;
		}
	}
	for (size_t i = 0; i < req->n_values; i++) {
		uint64_t off = req->repeat ? req->offset : req->offset + (uint64_t)i * req->width;
		int rc = access_store(s, l, off, req->width, req->values[i]);
		if (rc < 0) {
			access_reply_status(reply, scratch, rc, l, off, req->width);
			return;
		}
	}
	access_figures_of(l)->block_bytes += (uint64_t)req->n_values * req->width;
	region_of_lease(l)->figures.block_bytes += (uint64_t)req->n_values * req->width;
	reply_status(reply, scratch, 0, NULL);
}

enum dispatch_result
dispatch_poll_step(struct session *s, const struct poll_state *p, bool last_chance,
		   Mmio__Reply *reply, struct reply_scratch *scratch)
{
	reply->id = p->request_id;
	/* Looked up afresh each time: an admin may have revoked it meanwhile. */
	struct lease *l = reply_find_lease(s, p->lease_id, reply, scratch);
	if (!l) {
		return DISPATCH_REPLY;
	}
	uint64_t v;
	int rc = access_load(s, l, p->offset, p->width, &v);
	if (rc < 0) {
		access_reply_status(reply, scratch, rc, l, p->offset, p->width);
		return DISPATCH_REPLY;
	}
	if ((v & p->mask) == (p->value & p->mask)) {
		reply_status(reply, scratch, 0, NULL);
		reply_value(reply, scratch, v);
		return DISPATCH_REPLY;
	}
	if (!last_chance) {
		return DISPATCH_DEFER;
	}
	reply_status(reply, scratch, -ETIMEDOUT,
		     "(value & 0x%" PRIx64 ") != 0x%" PRIx64 " after %" PRIu32
		     " ms; last 0x%" PRIx64,
		     p->mask, p->value & p->mask, p->timeout_ms, v);
	reply_value(reply, scratch, v);
	return DISPATCH_REPLY;
}

void
handle_poll(struct session *s, const Mmio__Poll *req, Mmio__Reply *reply,
	    struct reply_scratch *scratch)
{
	if (req->timeout_ms > MMIO_POLL_MAX_MS) {
		reply_status(reply, scratch, -EINVAL, "a poll lasts at most %d ms",
			     MMIO_POLL_MAX_MS);
		return;
	}
	struct poll_state p = {
		.pending = true,
		.request_id = reply->id,
		.lease_id = req->lease,
		.offset = req->offset,
		.width = req->width,
		.mask = req->mask,
		.value = req->value,
		.timeout_ms = req->timeout_ms,
		.interval_us = req->interval_us,
	};
	const struct lease *l = lease_find(&s->leases, req->lease);
	if (l) {
		access_figures_of(l)->polls++;
		region_of_lease(l)->figures.polls++;
	}
	if (dispatch_poll_step(s, &p, req->timeout_ms == 0, reply, scratch) == DISPATCH_DEFER) {
		scratch->poll = p;
	}
}
