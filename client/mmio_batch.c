/*
 * mmio_batch(): many operations in one request: fixed-width columns where mmiod reads them
 * (MMIO_FEATURE_BATCH_FIXED), else packed varint arrays (mmio.proto, Batch).
 */
#include <endian.h>
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "client_internal.h"
#include "mmio_ring.h"
#include "status.h"
#include "transport.h"

/*
 * How long a batch's reply is looked for before the caller sleeps: mmiod takes 10-20 ns an op
 * and a wake-up, so most replies come within this, and a wake-up of the caller (an interrupt
 * from mmiod's CPU to its own, tens of us on a VM) is saved. Bounded: 200 us.
 */
#define BATCH_DUE_PER_OP_NS 30
#define BATCH_DUE_MAX_NS    200000

static int
op_kind_to_wire(enum mmio_op_kind kind, Mmio__BatchOp *op)
{
	switch (kind) {
	case MMIO_OP_LOAD:
		*op = MMIO__BATCH_OP__BATCH_OP_LOAD;
		return 0;
	case MMIO_OP_STORE:
		*op = MMIO__BATCH_OP__BATCH_OP_STORE;
		return 0;
	case MMIO_OP_BARRIER:
		*op = MMIO__BATCH_OP__BATCH_OP_BARRIER;
		return 0;
	}
	return -EINVAL;
}

/* The fields every encoding sends the same way: what an op stores, and at which width. */
static uint64_t
op_value(const struct mmio_op *op)
{
	return op->kind == MMIO_OP_STORE ? op->value : 0;
}

static unsigned
op_width(const struct mmio_op *op)
{
	return op->kind == MMIO_OP_BARRIER ? 0 : op->width;
}

/*
 * The varint encoding: five packed arrays, for an mmiod without MMIO_FEATURE_BATCH_FIXED.
 * Returns the block holding them (the caller frees it), or NULL with *rc set.
 */
static void *
encode_varint(Mmio__Batch *body, const struct mmio_op *ops, size_t n, int *rc)
{
	char *block = malloc(n * (3 * sizeof(uint64_t) + sizeof(uint32_t) + sizeof(Mmio__BatchOp)));
	if (!block) {
		*rc = -ENOMEM;
		return NULL;
	}
	body->lease = (uint64_t *)block;
	body->offset = body->lease + n;
	body->value = body->offset + n;
	body->width = (uint32_t *)(body->value + n);
	body->op = (Mmio__BatchOp *)(body->width + n);
	for (size_t i = 0; i < n; i++) {
		if (op_kind_to_wire(ops[i].kind, &body->op[i]) < 0) {
			free(block);
			*rc = -EINVAL;
			return NULL;
		}
		body->lease[i] = ops[i].lease->id;
		body->offset[i] = ops[i].offset;
		body->value[i] = op_value(&ops[i]);
		body->width[i] = op_width(&ops[i]);
	}
	body->n_lease = body->n_offset = body->n_value = body->n_width = body->n_op = n;
	return block;
}

/* The smallest element size, 1, 2, 4 or 8 bytes, that holds every bit of any. */
static unsigned
element_size(uint64_t any)
{
	return any <= UINT8_MAX ? 1 : any <= UINT16_MAX ? 2 : any <= UINT32_MAX ? 4 : 8;
}

/*
 * Element i of a little-endian column of size-byte elements, written and read at the width
 * itself: a memcpy of a variable size goes through bytes on the stack, which the CPU cannot
 * forward to the wider load after it (measured: a third of a batch's client time).
 */
static inline void
put_le(uint8_t *column, unsigned size, size_t i, uint64_t v)
{
	uint8_t *p = column + i * size;
	switch (size) {
	case 1:
		*p = (uint8_t)v;
		break;
	case 2: {
		uint16_t le = htole16((uint16_t)v);
		memcpy(p, &le, sizeof(le));
		break;
	}
	case 4: {
		uint32_t le = htole32((uint32_t)v);
		memcpy(p, &le, sizeof(le));
		break;
	}
	default: {
		uint64_t le = htole64(v);
		memcpy(p, &le, sizeof(le));
		break;
	}
	}
}

/* A little-endian value of size (1, 2, 4 or 8) bytes at p. */
static inline uint64_t
get_le(const uint8_t *p, unsigned size)
{
	switch (size) {
	case 1:
		return *p;
	case 2: {
		uint16_t le;
		memcpy(&le, p, sizeof(le));
		return le16toh(le);
	}
	case 4: {
		uint32_t le;
		memcpy(&le, p, sizeof(le));
		return le32toh(le);
	}
	default: {
		uint64_t le;
		memcpy(&le, p, sizeof(le));
		return le64toh(le);
	}
	}
}

/* Every bit set in any op's lease id, offset and value: what the fixed columns must hold. */
struct column_bits {
	uint64_t leases;
	uint64_t offsets;
	uint64_t values;
};

/*
 * The fixed encoding: little-endian columns, no varints, each of the smallest element size
 * that holds it (bits, gathered as the ops were checked: one pass less over them).
 * As encode_varint.
 */
static void *
encode_fixed(Mmio__Batch *body, const struct mmio_op *ops, size_t n, const struct column_bits *bits,
	     int *rc)
{
	unsigned lease_size = element_size(bits->leases);
	unsigned offset_size = element_size(bits->offsets);
	unsigned value_size = bits->values ? element_size(bits->values) : 0; /* empty: all 0 */
	uint8_t *block = malloc(n * (lease_size + offset_size + value_size + 2));
	if (!block) {
		*rc = -ENOMEM;
		return NULL;
	}
	uint8_t *lease = block;
	uint8_t *offset = lease + n * lease_size;
	uint8_t *value = offset + n * offset_size;
	uint8_t *kind = value + n * value_size;
	uint8_t *width = kind + n;
	const struct mmio_lease *last = NULL;
	uint64_t id = 0;
	for (size_t i = 0; i < n; i++) {
		Mmio__BatchOp op;
		if (op_kind_to_wire(ops[i].kind, &op) < 0) {
			free(block);
			*rc = -EINVAL;
			return NULL;
		}
		if (ops[i].lease != last) {
			last = ops[i].lease;
			id = last->id;
		}
		put_le(lease, lease_size, i, id);
		put_le(offset, offset_size, i, ops[i].offset);
		if (value_size) {
			put_le(value, value_size, i, op_value(&ops[i]));
		}
		kind[i] = (uint8_t)op;
		/* A width that does not fit a byte must still fail: 0 is no width. */
		unsigned w = op_width(&ops[i]);
		width[i] = w > UINT8_MAX ? 0 : (uint8_t)w;
	}
	body->fixed_lease = (ProtobufCBinaryData){.len = n * lease_size, .data = lease};
	body->fixed_offset = (ProtobufCBinaryData){.len = n * offset_size, .data = offset};
	body->fixed_value = (ProtobufCBinaryData){.len = n * value_size, .data = value};
	body->fixed_op = (ProtobufCBinaryData){.len = n, .data = kind};
	body->fixed_width = (ProtobufCBinaryData){.len = n, .data = width};
	return block;
}

/* The varint encoding's results into ops: the number of ops that failed, or -EPROTO. */
static int
decode_varint(const Mmio__BatchResult *res, struct mmio_op *ops, size_t n)
{
	if (res->n_status != n || res->n_value != n) {
		client_log(MMIO_LOG_ERROR, "batch reply has %zu results for %zu ops", res->n_status,
			   n);
		return -EPROTO;
	}
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		ops[i].status = status_to_errno(res->status[i]);
		if (ops[i].status < 0) {
			failed++;
		} else if (ops[i].kind == MMIO_OP_LOAD) {
			ops[i].value = res->value[i];
		}
	}
	return failed;
}

/*
 * The fixed encoding's results into ops: statuses (none: all OK), then each successful
 * load's value in its width. The number of ops that failed, or -EPROTO if the reply does not
 * hold exactly that.
 */
static int
decode_fixed(const Mmio__BatchResult *res, struct mmio_op *ops, size_t n)
{
	const ProtobufCBinaryData *st = &res->fixed_status;
	const ProtobufCBinaryData *val = &res->fixed_value;
	if ((st->len != 0 && st->len != n) || res->n_status || res->n_value) {
		client_log(MMIO_LOG_ERROR, "batch reply has %zu results for %zu ops", st->len, n);
		return -EPROTO;
	}
	int failed = 0;
	size_t at = 0;
	for (size_t i = 0; i < n; i++) {
		ops[i].status = st->len ? status_to_errno((Mmio__Status)st->data[i]) : 0;
		if (ops[i].status < 0) {
			failed++;
			continue;
		}
		if (ops[i].kind != MMIO_OP_LOAD) {
			continue;
		}
		unsigned w = ops[i].width;
		if ((w != 1 && w != 2 && w != 4 && w != 8) || val->len - at < w) {
			client_log(MMIO_LOG_ERROR, "batch reply's values end before op %zu's", i);
			return -EPROTO;
		}
		ops[i].value = get_le(val->data + at, w);
		at += w;
	}
	if (at != val->len) {
		client_log(MMIO_LOG_ERROR, "batch reply has %zu bytes of values after the last",
			   val->len - at);
		return -EPROTO;
	}
	return failed;
}

int
mmio_batch(struct mmio_client *c, struct mmio_op *ops, size_t n, unsigned flags)
{
	if (!c || (n && !ops) ||
	    (flags & ~(MMIO_BATCH_STOP_ON_ERROR | MMIO_BATCH_ALL_OR_NOTHING))) {
		return -EINVAL;
	}
	if (n > MMIO_MAX_BATCH_OPS) {
		return -EMSGSIZE;
	}
	if (n == 0) {
		return 0;
	}
	struct column_bits bits = {0};
	/* A batch mostly names one lease over and over: checked once per run of it. */
	const struct mmio_lease *checked = NULL;
	for (size_t i = 0; i < n; i++) {
		if (ops[i].lease != checked) {
			if (!ops[i].lease || ops[i].lease->client != c) {
				return -EINVAL;
			}
			checked = ops[i].lease;
			bits.leases |= checked->id;
		}
		bits.offsets |= ops[i].offset;
		bits.values |= op_value(&ops[i]);
	}
	/* Small batches through the ring when it is open: no socket round trip. */
	pthread_mutex_lock(&c->lock);
	if (client_ring_takes_batch(c, ops, n, flags)) {
		int rc = client_ring_batch(c, ops, n, flags);
		pthread_mutex_unlock(&c->lock);
		return rc;
	}
	pthread_mutex_unlock(&c->lock);
	Mmio__Batch body = MMIO__BATCH__INIT;
	int rc = 0;
	/* c->features is set once, at connect. */
	bool fixed = (c->features & MMIO_FEATURE_BATCH_FIXED) != 0;
	void *block =
		fixed ? encode_fixed(&body, ops, n, &bits, &rc) : encode_varint(&body, ops, n, &rc);
	if (!block) {
		return rc;
	}
	body.stop_on_error = (flags & MMIO_BATCH_STOP_ON_ERROR) != 0;
	body.all_or_nothing = (flags & MMIO_BATCH_ALL_OR_NOTHING) != 0;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_BATCH;
	req.batch = &body;
	Mmio__Reply *reply;

	uint64_t due_ns = n * BATCH_DUE_PER_OP_NS;
	rc = client_call_due(c, &req, &reply, MMIO__REPLY__BODY_BATCH,
			     due_ns < BATCH_DUE_MAX_NS ? due_ns : BATCH_DUE_MAX_NS);
	free(block);
	if (rc < 0) {
		client_free_reply(reply);
		return rc;
	}
	rc = fixed ? decode_fixed(reply->batch, ops, n) : decode_varint(reply->batch, ops, n);
	client_free_reply(reply);
	return rc;
}
