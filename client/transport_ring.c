/*
 * The ring transport, the shared-memory fast path (proto/mmio_ring.h): single
 * ops, small batches and posted stores go through a ring mmiod maps too, instead
 * of a socket round trip. mmiod checks every op exactly as over the socket. The
 * queues themselves are ring_queue.c's.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "client_internal.h"
#include "mmio_ring.h"
#include "ring_queue.h"
#include "status.h"
#include "transport.h"
#include "wire.h"

/* Maps what RingSetup passed, checking mmiod's header against its reply. Lock held. */
static int
map_ring(struct mmio_client *c, const Mmio__RingInfo *info, int memfd, int doorbell)
{
	uint32_t n = info->entries;
	if (n == 0 || n > MMIO_RING_MAX_ENTRIES || (n & (n - 1)) ||
	    info->size != MMIO_RING_SIZE(n)) {
		return -EPROTO;
	}
	void *map = mmap(NULL, info->size, PROT_READ | PROT_WRITE, MAP_SHARED, memfd, 0);
	if (map == MAP_FAILED) {
		return -errno;
	}
	struct mmio_ring_header *hdr = map;
	struct client_ring *r = calloc(1, sizeof(*r));
	struct client_ring_slot *slots = calloc(n, sizeof(*slots));
	if (!r || !slots || hdr->magic != MMIO_RING_MAGIC || hdr->version != MMIO_RING_VERSION ||
	    hdr->entries != n || hdr->size != info->size || hdr->sq_offset != MMIO_RING_SQ_OFFSET ||
	    hdr->cq_offset != MMIO_RING_CQ_OFFSET(n)) {
		munmap(map, info->size);
		int rc = r && slots ? -EPROTO : -ENOMEM;
		free(slots);
		free(r);
		return rc;
	}
	r->slots = slots;
	r->hdr = hdr;
	r->sq = (struct mmio_ring_sqe *)((char *)map + hdr->sq_offset);
	r->cq = (struct mmio_ring_cqe *)((char *)map + hdr->cq_offset);
	r->entries = n;
	r->size = info->size;
	r->sq_tail = hdr->sq_tail;
	r->cq_head = hdr->cq_head;
	r->next_user_data = 1;
	r->doorbell_fd = doorbell;
	r->groups = (info->features & MMIO_RING_FEATURE_GROUPS) != 0;
	c->ring = r;
	return 0;
}

int
client_ring_open(struct mmio_client *c)
{
	if (!(c->features & MMIO_FEATURE_RING)) {
		return -EOPNOTSUPP;
	}
	Mmio__RingSetup body = MMIO__RING_SETUP__INIT;
	body.entries = MMIO_RING_DEFAULT_ENTRIES;
	body.features = MMIO_RING_FEATURE_GROUPS;
	Mmio__Request req = MMIO__REQUEST__INIT;
	req.body_case = MMIO__REQUEST__BODY_RING_SETUP;
	req.ring_setup = &body;
	Mmio__Reply *reply;
	int rc = client_call(c, &req, &reply, MMIO__REPLY__BODY_RING);
	if (rc == 0) {
		if (c->passed_fds[0] < 0 || c->passed_fds[1] < 0) {
			rc = -EPROTO;
		} else {
			rc = map_ring(c, reply->ring, c->passed_fds[0], c->passed_fds[1]);
			if (rc == 0) {
				c->passed_fds[1] = -1; /* the ring keeps the doorbell */
			}
		}
		/* mmiod holds the ring on this connection: without it here, no use trying again. */
		wire_close_fd(&c->passed_fds[0]);
		wire_close_fd(&c->passed_fds[1]);
		if (rc < 0) {
			client_log(MMIO_LOG_ERROR, "cannot map the ring mmiod passed: %s",
				   status_message(rc));
		}
	}
	client_free_reply(reply);
	return rc;
}

/* Submits one op and waits for it. Lock held. */
static int
ring_call(struct mmio_client *c, const struct mmio_ring_sqe *op, uint64_t *value)
{
	struct client_ring *r = c->ring;
	client_detail_clear(c);
	wire_close_fd(&c->passed_fds[0]);
	int rc = client_ring_make_room(c, 1);
	if (rc < 0) {
		return rc;
	}
	uint64_t user_data = client_ring_put(c, 0, op, false);
	int64_t spin_ns = client_ring_submit(c, 1);
	if (spin_ns < 0) {
		return (int)spin_ns;
	}
	struct mmio_ring_cqe cqe;
	rc = client_ring_reap(c, (uint64_t)spin_ns, user_data, &cqe);
	if (rc < 0) {
		return rc;
	}
	rc = status_to_errno((Mmio__Status)cqe.status);
	if (rc < 0 && r->hdr->detail_user_data == cqe.user_data) {
		char detail[MMIO_RING_DETAIL];
		memcpy(detail, r->hdr->detail, sizeof(detail));
		detail[sizeof(detail) - 1] = '\0';
		client_detail_set(c, detail);
	}
	if (rc == 0 && value) {
		*value = cqe.value;
	}
	return rc;
}

/* A ring entry carries proto/mmio_ring.h's op codes. */
static const uint8_t ring_op_code[] = {
	[CLIENT_OP_LOAD] = MMIO_RING_OP_LOAD,
	[CLIENT_OP_STORE] = MMIO_RING_OP_STORE,
	[CLIENT_OP_MODIFY] = MMIO_RING_OP_MODIFY,
	[CLIENT_OP_BARRIER] = MMIO_RING_OP_BARRIER,
};

static struct mmio_ring_sqe
sqe_of(const struct client_op *op)
{
	return (struct mmio_ring_sqe){
		.lease = op->lease,
		.offset = op->offset,
		.value = op->value,
		.mask = op->mask,
		.op = ring_op_code[op->kind],
		.width = (uint8_t)op->width,
	};
}

static int
ring_op(struct mmio_client *c, const struct client_op *op, uint64_t *out)
{
	struct mmio_ring_sqe sqe = sqe_of(op);
	return ring_call(c, &sqe, out);
}

int
client_ring_post(struct mmio_client *c, const struct client_op *op)
{
	client_detail_clear(c);
	wire_close_fd(&c->passed_fds[0]);
	int rc = client_ring_make_room(c, 1);
	if (rc < 0) {
		return rc;
	}
	struct mmio_ring_sqe sqe = sqe_of(op);
	client_ring_put(c, 0, &sqe, true);
	int64_t spin_ns = client_ring_submit(c, 1);
	return spin_ns < 0 ? (int)spin_ns : 0;
}

static void
ring_close(struct mmio_client *c)
{
	struct client_ring *r = c->ring;
	if (r) {
		/* Posted stores still in flight run before we go. */
		(void)client_ring_drain(c);
		munmap(r->hdr, r->size);
		wire_close_fd(&r->doorbell_fd);
		free(r->slots);
		free(r);
		c->ring = NULL;
	}
}

bool
client_ring_takes_batch(const struct mmio_client *c, const struct mmio_op *ops, size_t n,
			unsigned flags)
{
	if (!c->ring || c->broken || c->fast_path == MMIO_FAST_PATH_OFF ||
	    (flags != 0 && !c->ring->groups) || n > MMIO_RING_ATOMIC_OPS || n > c->ring->entries) {
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		/* What the socket's batch refuses op by op (a bad width, a kind) stays its job:
		 * a ring entry's u8 width would truncate. */
		unsigned w = ops[i].width;
		bool access = ops[i].kind == MMIO_OP_LOAD || ops[i].kind == MMIO_OP_STORE;
		bool width_ok = w == 1 || w == 2 || w == 4 || w == 8;
		if (ops[i].kind != MMIO_OP_BARRIER && !(access && width_ok)) {
			return false;
		}
	}
	return true;
}

int
client_ring_batch(struct mmio_client *c, struct mmio_op *ops, size_t n, unsigned flags)
{
	client_detail_clear(c);
	wire_close_fd(&c->passed_fds[0]);
	int rc = client_ring_make_room(c, (uint32_t)n);
	if (rc < 0) {
		return rc;
	}
	/* With flags, one group: each entry but the last linked to the next, the flags on all. */
	uint8_t group = (flags & MMIO_BATCH_STOP_ON_ERROR ? MMIO_RING_F_STOP_ON_ERROR : 0) |
			(flags & MMIO_BATCH_ALL_OR_NOTHING ? MMIO_RING_F_ALL_OR_NOTHING : 0);
	uint64_t first = 0;
	for (size_t i = 0; i < n; i++) {
		const struct mmio_op *op = &ops[i];
		uint8_t link = group && i + 1 < n ? MMIO_RING_F_LINK : 0;
		struct mmio_ring_sqe sqe = {
			.lease = op->lease->id,
			.offset = op->offset,
			.value = op->kind == MMIO_OP_STORE ? op->value : 0,
			.op = op->kind == MMIO_OP_LOAD    ? MMIO_RING_OP_LOAD
			      : op->kind == MMIO_OP_STORE ? MMIO_RING_OP_STORE
							  : MMIO_RING_OP_BARRIER,
			.width = op->kind == MMIO_OP_BARRIER ? 0 : (uint8_t)op->width,
			.flags = (uint8_t)(group | link),
		};
		uint64_t user_data = client_ring_put(c, (uint32_t)i, &sqe, false);
		first = i == 0 ? user_data : first;
	}
	/* One store of the tail: mmiod runs them all in one pass (MMIO_RING_ATOMIC_OPS). */
	int64_t spin_ns = client_ring_submit(c, (uint32_t)n);
	if (spin_ns < 0) {
		return (int)spin_ns;
	}
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		struct mmio_ring_cqe cqe;
		rc = client_ring_reap(c, (uint64_t)spin_ns, first + i, &cqe);
		if (rc < 0) {
			return rc;
		}
		ops[i].status = status_to_errno((Mmio__Status)cqe.status);
		if (ops[i].status < 0) {
			failed++;
		} else if (ops[i].kind == MMIO_OP_LOAD) {
			ops[i].value = cqe.value;
		}
	}
	return failed;
}

const struct client_transport_ops client_ring_transport = {
	.op = ring_op,
	.close = ring_close,
};
