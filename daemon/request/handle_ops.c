/*
 * Server-side operations that save round trips: masked modify, poll, block
 * and repeated reads and writes. Each runs without any other client's request
 * in between (one event loop), except that a poll lets others run between its
 * loads.
 */
#include <errno.h>
#include <inttypes.h>

#include "core/lease.h"
#include "device/region.h"
#include "mmio_limits.h"
#include "request/dispatch.h"
#include "request/dispatch_internal.h"

static uint64_t
width_mask(unsigned width)
{
	return width >= 8 ? UINT64_MAX : (UINT64_C(1) << (width * 8)) - 1;
}

static void
reply_value(Mmio__Reply *reply, struct dispatch_scratch *scratch, uint64_t value)
{
	mmio__load_result__init(&scratch->load);
	scratch->load.value = value;
	reply->body_case = MMIO__REPLY__BODY_LOAD;
	reply->load = &scratch->load;
}

int
dispatch_checked_modify(const struct session *s, const struct lease *l, uint64_t off,
			unsigned width, uint64_t mask, uint64_t value, uint64_t *old)
{
	/* Refuse before the load: reading a register can have side effects. */
	if (l->read_only) {
		return -EACCES;
	}
	int rc = dispatch_checked_load(s, l, off, width, old);
	if (rc == 0) {
		uint64_t next = ((*old & ~mask) | (value & mask)) & width_mask(width);
		rc = dispatch_checked_store(s, l, off, width, next);
	}
	return rc;
}

void
handle_modify(struct session *s, const Mmio__Modify *req, Mmio__Reply *reply,
	      struct dispatch_scratch *scratch)
{
	struct lease *l = dispatch_find_lease(s, req->lease, reply, scratch);
	if (!l) {
		return;
	}
	uint64_t cur;
	int rc =
		dispatch_checked_modify(s, l, req->offset, req->width, req->mask, req->value, &cur);
	dispatch_access_status(reply, scratch, rc, l, req->offset, req->width);
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
	    Mmio__Reply *reply, struct dispatch_scratch *scratch)
{
	if (count == 0 || count > MMIO_MAX_BATCH_OPS) {
		dispatch_status(reply, scratch, -EINVAL, "count must be 1..%d", MMIO_MAX_BATCH_OPS);
		return -EINVAL;
	}
	int rc = lease_check_access(l, off, width);
	if (rc == 0 && !repeat) {
		/* The last access; aligned if the first is. The span cannot wrap: count <= 4096. */
		uint64_t span = (uint64_t)(count - 1) * width;
		rc = off > UINT64_MAX - span ? -ERANGE : lease_check_access(l, off + span, width);
		if (rc < 0) {
			dispatch_status(reply, scratch, rc,
					"%zu accesses of %u bytes from offset 0x%" PRIx64
					" do not fit lease %" PRIu64 " of length 0x%" PRIx64,
					count, width, off, l->id, l->len);
			return rc;
		}
	}
	if (rc < 0) {
		dispatch_access_status(reply, scratch, rc, l, off, width);
	}
	return rc;
}

void
handle_block_read(struct session *s, const Mmio__BlockRead *req, Mmio__Reply *reply,
		  struct dispatch_scratch *scratch)
{
	struct lease *l = dispatch_find_lease(s, req->lease, reply, scratch);
	if (!l ||
	    check_block(l, req->offset, req->width, req->count, req->repeat, reply, scratch) < 0) {
		return;
	}
	uint64_t *values = dispatch_alloc(scratch, req->count, sizeof(*values));
	if (!values) {
		dispatch_status(reply, scratch, -ENOMEM, NULL);
		return;
	}
	for (uint32_t i = 0; i < req->count; i++) {
		uint64_t off = req->repeat ? req->offset : req->offset + (uint64_t)i * req->width;
		int rc = dispatch_checked_load(s, l, off, req->width, &values[i]);
		if (rc < 0) {
			dispatch_access_status(reply, scratch, rc, l, off, req->width);
			return;
		}
	}
	mmio__values__init(&scratch->values);
	scratch->values.n_values = req->count;
	scratch->values.values = values;
	reply->body_case = MMIO__REPLY__BODY_VALUES;
	reply->values = &scratch->values;
	dispatch_status(reply, scratch, 0, NULL);
}

void
handle_block_write(struct session *s, const Mmio__BlockWrite *req, Mmio__Reply *reply,
		   struct dispatch_scratch *scratch)
{
	struct lease *l = dispatch_find_lease(s, req->lease, reply, scratch);
	if (!l || check_block(l, req->offset, req->width, req->n_values, req->repeat, reply,
			      scratch) < 0) {
		return;
	}
	if (l->read_only) {
		dispatch_access_status(reply, scratch, -EACCES, l, req->offset, req->width);
		return;
	}
	/* Every value is checked before the first store: a bad one writes nothing. */
	for (size_t i = 0; i < req->n_values; i++) {
		if (req->values[i] & ~width_mask(req->width)) {
			dispatch_status(reply, scratch, -EINVAL, "value %zu is wider than %u bits",
					i, req->width * 8);
			return;
		}
	}
	for (size_t i = 0; i < req->n_values; i++) {
		uint64_t off = req->repeat ? req->offset : req->offset + (uint64_t)i * req->width;
		int rc = dispatch_checked_store(s, l, off, req->width, req->values[i]);
		if (rc < 0) {
			dispatch_access_status(reply, scratch, rc, l, off, req->width);
			return;
		}
	}
	dispatch_status(reply, scratch, 0, NULL);
}

enum dispatch_result
dispatch_poll_step(struct session *s, const struct poll_state *p, bool last_chance,
		   Mmio__Reply *reply, struct dispatch_scratch *scratch)
{
	reply->id = p->request_id;
	/* Looked up afresh each time: an admin may have revoked it meanwhile. */
	struct lease *l = dispatch_find_lease(s, p->lease_id, reply, scratch);
	if (!l) {
		return DISPATCH_REPLY;
	}
	uint64_t v;
	int rc = dispatch_checked_load(s, l, p->offset, p->width, &v);
	if (rc < 0) {
		dispatch_access_status(reply, scratch, rc, l, p->offset, p->width);
		return DISPATCH_REPLY;
	}
	if ((v & p->mask) == (p->value & p->mask)) {
		dispatch_status(reply, scratch, 0, NULL);
		reply_value(reply, scratch, v);
		return DISPATCH_REPLY;
	}
	if (!last_chance) {
		return DISPATCH_DEFER;
	}
	dispatch_status(reply, scratch, -ETIMEDOUT,
			"(value & 0x%" PRIx64 ") != 0x%" PRIx64 " after %" PRIu32
			" ms; last 0x%" PRIx64,
			p->mask, p->value & p->mask, p->timeout_ms, v);
	reply_value(reply, scratch, v);
	return DISPATCH_REPLY;
}

void
handle_poll(struct session *s, const Mmio__Poll *req, Mmio__Reply *reply,
	    struct dispatch_scratch *scratch)
{
	if (req->timeout_ms > MMIO_POLL_MAX_MS) {
		dispatch_status(reply, scratch, -EINVAL, "a poll lasts at most %d ms",
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
	if (dispatch_poll_step(s, &p, req->timeout_ms == 0, reply, scratch) == DISPATCH_DEFER) {
		scratch->poll = p;
	}
}
