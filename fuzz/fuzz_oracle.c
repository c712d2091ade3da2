/* What the rules say a request must do: the checks fuzz_exchange_run() applies. */
#include <stdlib.h>
#include <string.h>

#include "fuzz_common.h"
#include "fuzz_oracle.h"
#include "mmio_limits.h"

/* What conn.c must do with req in s's state, by the rules of STYLE.md §2-3 and mmio.proto. */
enum dispatch_result
fuzz_expected_result(const struct session *s, const Mmio__Request *req)
{
	if (req->body_case == MMIO__REQUEST__BODY_HELLO) {
		if (s->hello_done) {
			return DISPATCH_CLOSE;
		}
		if (req->hello->version != MMIO_PROTOCOL_VERSION || s->refused) {
			return DISPATCH_REPLY_CLOSE;
		}
		return DISPATCH_REPLY;
	}
	if (!s->hello_done) {
		return DISPATCH_CLOSE;
	}
	switch (req->body_case) {
	case MMIO__REQUEST__BODY_LIST_REGIONS:
	case MMIO__REQUEST__BODY_ACQUIRE:
	case MMIO__REQUEST__BODY_SPLIT:
	case MMIO__REQUEST__BODY_RELEASE:
	case MMIO__REQUEST__BODY_LOAD:
	case MMIO__REQUEST__BODY_STORE:
	case MMIO__REQUEST__BODY_BARRIER:
	case MMIO__REQUEST__BODY_LIST_LEASES:
	case MMIO__REQUEST__BODY_BATCH:
	case MMIO__REQUEST__BODY_REVOKE:
	case MMIO__REQUEST__BODY_IRQ_SUBSCRIBE:
	case MMIO__REQUEST__BODY_IRQ_ACK:
	case MMIO__REQUEST__BODY_IRQ_UNSUBSCRIBE:
	case MMIO__REQUEST__BODY_MODIFY:
	case MMIO__REQUEST__BODY_BLOCK_READ:
	case MMIO__REQUEST__BODY_BLOCK_WRITE:
		return DISPATCH_REPLY;
	case MMIO__REQUEST__BODY_POLL:
		return DISPATCH_DEFER; /* or DISPATCH_REPLY */
	default:
		return DISPATCH_CLOSE;
	}
}

/* A reply as the client receives it: a status, the request's id, one frame, decodable. */
void
fuzz_check_reply(const Mmio__Reply *reply, uint64_t request_id)
{
	static uint8_t frame[MMIO_MAX_FRAME];

	FUZZ_CHECK(reply->id == request_id);
	FUZZ_CHECK(reply->status != MMIO__STATUS__STATUS_UNSPECIFIED);
	FUZZ_CHECK(protobuf_c_enum_descriptor_get_value(&mmio__status__descriptor,
							(int)reply->status) != NULL);
	size_t len = mmio__reply__get_packed_size(reply);
	FUZZ_CHECK(len <= MMIO_MAX_FRAME);
	FUZZ_CHECK(mmio__reply__pack(reply, frame) == len);
	Mmio__Reply *back = mmio__reply__unpack(NULL, len, frame);
	FUZZ_CHECK(back != NULL);
	FUZZ_CHECK(back->id == reply->id && back->status == reply->status &&
		   back->body_case == reply->body_case);
	mmio__reply__free_unpacked(back, NULL);
}

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

void
fuzz_capture(struct fuzz_before *b, const struct session *s, const Mmio__Request *req)
{
	*b = (struct fuzz_before){.lease_found = false};
	fuzz_snapshot_take(&b->mem);
	const struct lease *l = NULL;
	if (req->body_case == MMIO__REQUEST__BODY_SPLIT) {
		l = find(s, req->split->lease);
	} else if (req->body_case == MMIO__REQUEST__BODY_MODIFY) {
		l = find(s, req->modify->lease);
		const Mmio__Modify *m = req->modify;
		if (l && access_status(l, m->offset, m->width, false, 0) == MMIO__STATUS__OK) {
			b->old_value = fuzz_peek(l, m->offset, m->width);
		}
	}
	b->lease_found = l != NULL;
	if (l) {
		b->start = l->start;
		b->len = l->len;
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
		return reply->status == MMIO__STATUS__OK;
	case MMIO__REQUEST__BODY_BATCH:
		if (reply->status != MMIO__STATUS__OK) {
			return false;
		}
		if (req->batch->all_or_nothing) {
			for (size_t i = 0; i < reply->batch->n_status; i++) {
				if (reply->batch->status[i] != MMIO__STATUS__OK) {
					return false;
				}
			}
		}
		return true;
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
	FUZZ_CHECK(l && count >= 1 && count <= MMIO_MAX_BATCH_OPS);
	FUZZ_CHECK(access_status(l, off, width, !is_read, 0) == MMIO__STATUS__OK);
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

/* The outcome of req against what the rules say, given what things looked like before. */
void
fuzz_check_outcome(const struct session *s, const Mmio__Request *req, const Mmio__Reply *reply,
		   const struct fuzz_before *b)
{
	if (!may_write(req, reply)) {
		FUZZ_CHECK(fuzz_snapshot_same(&b->mem));
	}
	const struct lease *l;
	switch (req->body_case) {
	case MMIO__REQUEST__BODY_LOAD: {
		const Mmio__Load *m = req->load;
		l = find(s, m->lease);
		FUZZ_CHECK(reply->status == access_status(l, m->offset, m->width, false, 0));
		if (reply->status == MMIO__STATUS__OK) {
			FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_LOAD);
			FUZZ_CHECK(reply->load->value == fuzz_peek(l, m->offset, m->width));
		}
		break;
	}
	case MMIO__REQUEST__BODY_STORE: {
		const Mmio__Store *m = req->store;
		l = find(s, m->lease);
		FUZZ_CHECK(reply->status == access_status(l, m->offset, m->width, true, m->value));
		if (reply->status == MMIO__STATUS__OK) {
			FUZZ_CHECK(fuzz_peek(l, m->offset, m->width) == m->value);
		}
		break;
	}
	case MMIO__REQUEST__BODY_MODIFY: {
		const Mmio__Modify *m = req->modify;
		l = find(s, m->lease);
		Mmio__Status want = l && l->read_only
					    ? MMIO__STATUS__PERMISSION_DENIED
					    : access_status(l, m->offset, m->width, false, 0);
		FUZZ_CHECK(reply->status == want);
		if (reply->status == MMIO__STATUS__OK) {
			uint64_t next = ((b->old_value & ~m->mask) | (m->value & m->mask)) &
					width_mask(m->width);
			FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_LOAD &&
				   reply->load->value == b->old_value);
			FUZZ_CHECK(fuzz_peek(l, m->offset, m->width) == next);
		}
		break;
	}
	case MMIO__REQUEST__BODY_BLOCK_READ:
	case MMIO__REQUEST__BODY_BLOCK_WRITE:
		check_block(s, req, reply);
		break;
	case MMIO__REQUEST__BODY_ACQUIRE:
		if (reply->status == MMIO__STATUS__OK) {
			FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_LEASE);
			l = find(s, reply->lease->id);
			FUZZ_CHECK(l && l->start == req->acquire->offset &&
				   l->len == req->acquire->length);
			FUZZ_CHECK(strcmp(region_of_lease(l)->name, req->acquire->region) == 0);
		}
		break;
	case MMIO__REQUEST__BODY_SPLIT:
		if (reply->status == MMIO__STATUS__OK) {
			FUZZ_CHECK(b->lease_found && req->split->mid <= b->len);
			FUZZ_CHECK(reply->body_case == MMIO__REPLY__BODY_LEASE);
			const struct lease *low = find(s, reply->lease->id);
			const struct lease *high = find(s, req->split->lease);
			FUZZ_CHECK(low && high && low != high && low->space == high->space);
			FUZZ_CHECK(low->start == b->start && low->len == req->split->mid);
			FUZZ_CHECK(high->start == b->start + req->split->mid &&
				   high->len == b->len - req->split->mid);
			FUZZ_CHECK(low->read_only == high->read_only);
		}
		if (b->lease_found) {
			FUZZ_CHECK((reply->status == MMIO__STATUS__OUT_OF_RANGE) ==
				   (req->split->mid > b->len));
		}
		break;
	case MMIO__REQUEST__BODY_RELEASE:
		FUZZ_CHECK(find(s, req->release->lease) == NULL);
		break;
	case MMIO__REQUEST__BODY_REVOKE:
		if (reply->status == MMIO__STATUS__OK) {
			FUZZ_CHECK(service_find_lease(s->svc, req->revoke->lease) == NULL);
		}
		break;
	default:
		break;
	}
}
