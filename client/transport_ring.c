/*
 * The ring transport, the shared-memory fast path (proto/mmio_ring.h): single
 * ops go through a ring mmiod maps too, instead of a socket round trip. mmiod
 * checks every op exactly as over the socket.
 */
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "client_internal.h"
#include "clock.h"
#include "mmio_ring.h"
#include "status.h"
#include "transport.h"
#include "wire.h"

/*
 * Spin this long for a completion before sleeping while mmiod is awake on the
 * ring. Had we to ring the doorbell, mmiod was asleep: its wake-up costs more
 * than a sleep of ours, so we sleep at once and leave the CPU alone.
 */
#define RING_SPIN_NS 100000
/* A sleeping client looks this often whether mmiod is still there. */
#define RING_LIVENESS_MS 5

struct client_ring {
	struct mmio_ring_header *hdr;
	struct mmio_ring_sqe *sq;
	struct mmio_ring_cqe *cq;
	uint32_t entries;
	uint32_t size;
	uint32_t sq_tail; /* ours; published to hdr */
	uint32_t cq_head;
	uint64_t next_user_data;
	int doorbell_fd;
	bool groups; /* mmiod granted MMIO_RING_FEATURE_GROUPS: batches with flags go as a group */
};

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
	if (!r || hdr->magic != MMIO_RING_MAGIC || hdr->version != MMIO_RING_VERSION ||
	    hdr->entries != n || hdr->size != info->size || hdr->sq_offset != MMIO_RING_SQ_OFFSET ||
	    hdr->cq_offset != MMIO_RING_CQ_OFFSET(n)) {
		munmap(map, info->size);
		free(r);
		return r ? -EPROTO : -ENOMEM;
	}
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

/* mmiod hung up (or broke down): what a sleeping client checks now and then. */
static bool
daemon_gone(const struct mmio_client *c)
{
	struct pollfd pfd = {.fd = c->fd, .events = POLLRDHUP};
	return poll(&pfd, 1, 0) == 1 && (pfd.revents & (POLLRDHUP | POLLHUP | POLLERR));
}

/*
 * Waits for the completion after r->cq_head, spinning up to spin_ns first. 0,
 * or -ECONNRESET if mmiod went away.
 */
static int
wait_completion(struct mmio_client *c, uint64_t spin_ns)
{
	struct client_ring *r = c->ring;
	uint32_t *tail = &r->hdr->cq_tail;
	uint64_t start = spin_ns ? now_ns() : 0;
	while (__atomic_load_n(tail, __ATOMIC_ACQUIRE) == r->cq_head) {
		if (spin_ns && now_ns() - start < spin_ns) {
			/* Let mmiod run if it shares our CPU; costs little if it does not. */
			sched_yield();
			continue;
		}
		__atomic_store_n(&r->hdr->client_waiting, 1, __ATOMIC_SEQ_CST);
		/* Pairs with mmiod's publishing of cq_tail before it reads client_waiting. */
		__atomic_thread_fence(__ATOMIC_SEQ_CST);
		if (__atomic_load_n(tail, __ATOMIC_ACQUIRE) != r->cq_head) {
			break;
		}
		struct timespec timeout = {.tv_nsec = RING_LIVENESS_MS * 1000000L};
		long woke = syscall(SYS_futex, tail, FUTEX_WAIT, r->cq_head, &timeout, NULL, 0);
		if (woke < 0 && errno == ETIMEDOUT && daemon_gone(c)) {
			__atomic_store_n(&r->hdr->client_waiting, 0, __ATOMIC_RELAXED);
			return -ECONNRESET;
		}
	}
	__atomic_store_n(&r->hdr->client_waiting, 0, __ATOMIC_RELAXED);
	return 0;
}

/*
 * Publishes the n entries written after r->sq_tail and rings the doorbell if mmiod sleeps.
 * Returns how long to spin for the first completion, or -ECONNRESET. Lock held.
 */
static int64_t
ring_submit(struct mmio_client *c, uint32_t n)
{
	struct client_ring *r = c->ring;
	r->sq_tail += n;
	__atomic_store_n(&r->hdr->sq_tail, r->sq_tail, __ATOMIC_SEQ_CST);
	/* Pairs with mmiod's setting of daemon_sleeping before it re-reads sq_tail. */
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!__atomic_load_n(&r->hdr->daemon_sleeping, __ATOMIC_RELAXED)) {
		return RING_SPIN_NS;
	}
	uint64_t one = 1;
	/* Full (EAGAIN) is fine: a ring is pending. No SIGPIPE if mmiod is gone. */
	if (send(r->doorbell_fd, &one, sizeof(one), MSG_NOSIGNAL | MSG_DONTWAIT) < 0 &&
	    errno != EAGAIN) {
		c->broken = 1;
		return -ECONNRESET;
	}
	return 0;
}

/* Waits for the next completion, which must be user_data's, into *cqe. 0 or -errno. */
static int
ring_reap(struct mmio_client *c, uint64_t spin_ns, uint64_t user_data, struct mmio_ring_cqe *cqe)
{
	struct client_ring *r = c->ring;
	if (wait_completion(c, spin_ns) < 0) {
		client_log(MMIO_LOG_ERROR, "ring op: daemon closed the connection");
		c->broken = 1;
		return -ECONNRESET;
	}
	*cqe = r->cq[r->cq_head & (r->entries - 1)];
	r->cq_head++;
	__atomic_store_n(&r->hdr->cq_head, r->cq_head, __ATOMIC_RELEASE);
	if (cqe->user_data != user_data) {
		client_log(MMIO_LOG_ERROR, "ring completion out of step");
		c->broken = 1;
		return -EPROTO;
	}
	return 0;
}

/* Submits one op and waits for it. Lock held. */
static int
ring_call(struct mmio_client *c, const struct mmio_ring_sqe *op, uint64_t *value)
{
	struct client_ring *r = c->ring;
	client_detail_clear(c);
	wire_close_fd(&c->passed_fds[0]);
	struct mmio_ring_sqe *sqe = &r->sq[r->sq_tail & (r->entries - 1)];
	*sqe = *op;
	sqe->user_data = r->next_user_data++;
	uint64_t user_data = sqe->user_data;
	int64_t spin_ns = ring_submit(c, 1);
	if (spin_ns < 0) {
		return (int)spin_ns;
	}
	struct mmio_ring_cqe cqe;
	int rc = ring_reap(c, (uint64_t)spin_ns, user_data, &cqe);
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

static int
ring_op(struct mmio_client *c, const struct client_op *op, uint64_t *out)
{
	struct mmio_ring_sqe sqe = {
		.lease = op->lease,
		.offset = op->offset,
		.value = op->value,
		.mask = op->mask,
		.op = ring_op_code[op->kind],
		.width = (uint8_t)op->width,
	};
	return ring_call(c, &sqe, out);
}

static void
ring_close(struct mmio_client *c)
{
	struct client_ring *r = c->ring;
	if (r) {
		munmap(r->hdr, r->size);
		wire_close_fd(&r->doorbell_fd);
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
	struct client_ring *r = c->ring;
	client_detail_clear(c);
	wire_close_fd(&c->passed_fds[0]);
	uint64_t first = r->next_user_data;
	/* With flags, one group: each entry but the last linked to the next, the flags on all. */
	uint8_t group = (flags & MMIO_BATCH_STOP_ON_ERROR ? MMIO_RING_F_STOP_ON_ERROR : 0) |
			(flags & MMIO_BATCH_ALL_OR_NOTHING ? MMIO_RING_F_ALL_OR_NOTHING : 0);
	for (size_t i = 0; i < n; i++) {
		const struct mmio_op *op = &ops[i];
		uint8_t link = group && i + 1 < n ? MMIO_RING_F_LINK : 0;
		r->sq[(r->sq_tail + (uint32_t)i) & (r->entries - 1)] = (struct mmio_ring_sqe){
			.user_data = r->next_user_data++,
			.lease = op->lease->id,
			.offset = op->offset,
			.value = op->kind == MMIO_OP_STORE ? op->value : 0,
			.op = op->kind == MMIO_OP_LOAD    ? MMIO_RING_OP_LOAD
			      : op->kind == MMIO_OP_STORE ? MMIO_RING_OP_STORE
							  : MMIO_RING_OP_BARRIER,
			.width = op->kind == MMIO_OP_BARRIER ? 0 : (uint8_t)op->width,
			.flags = (uint8_t)(group | link),
		};
	}
	/* One store of the tail: mmiod runs them all in one pass (MMIO_RING_ATOMIC_OPS). */
	int64_t spin_ns = ring_submit(c, (uint32_t)n);
	if (spin_ns < 0) {
		return (int)spin_ns;
	}
	int failed = 0;
	for (size_t i = 0; i < n; i++) {
		struct mmio_ring_cqe cqe;
		int rc = ring_reap(c, (uint64_t)spin_ns, first + i, &cqe);
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
