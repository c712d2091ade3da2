#include <errno.h>
#include <inttypes.h>
#include <linux/futex.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "clock.h"
#include "ring_queue.h"
#include "status.h"

/*
 * Spin this long for a completion before sleeping while mmiod is awake on the
 * ring. Had we to ring the doorbell, mmiod was asleep: its wake-up costs more
 * than a sleep of ours, so we sleep at once and leave the CPU alone.
 */
#define RING_SPIN_NS 100000
/* A sleeping client looks this often whether mmiod is still there. */
#define RING_LIVENESS_MS 5

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

uint64_t
client_ring_put(struct mmio_client *c, uint32_t i, const struct mmio_ring_sqe *sqe, bool posted)
{
	struct client_ring *r = c->ring;
	uint32_t slot = (r->sq_tail + i) & (r->entries - 1);
	uint64_t user_data = r->next_user_data++;
	r->sq[slot] = *sqe;
	r->sq[slot].user_data = user_data;
	r->slots[slot] = (struct client_ring_slot){
		.user_data = user_data,
		.lease = sqe->lease,
		.offset = sqe->offset,
		.width = sqe->width,
		.posted = posted,
	};
	r->posted += posted;
	return user_data;
}

int64_t
client_ring_submit(struct mmio_client *c, uint32_t n)
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

/* A posted store failed: the first failure on its lease since the last report is kept. */
static void
keep_posted_error(struct mmio_client *c, const struct client_ring_slot *slot,
		  const struct mmio_ring_cqe *cqe)
{
	struct client_ring *r = c->ring;
	int rc = status_to_errno((Mmio__Status)cqe->status);
	struct mmio_lease *l;
	TAILQ_FOREACH(l, &c->leases, link)
	{
		if (l->id == slot->lease) {
			break;
		}
	}
	if (rc == 0 || !l || l->posted_error) {
		return;
	}
	/* mmiod's detail, if it still explains this one (a later failure replaces it). */
	char why[MMIO_RING_DETAIL];
	memcpy(why, r->hdr->detail, sizeof(why));
	why[sizeof(why) - 1] = '\0';
	if (__atomic_load_n(&r->hdr->detail_user_data, __ATOMIC_ACQUIRE) != cqe->user_data) {
		snprintf(why, sizeof(why), "%s", status_message(rc));
	}
	l->posted_error = rc;
	snprintf(l->posted_detail, sizeof(l->posted_detail),
		 "posted %u-byte store at offset 0x%" PRIx64 " failed: %s", slot->width,
		 slot->offset, why);
}

/* Takes the next completion, waiting for it; *slot says what its entry was. 0 or -errno. */
static int
take(struct mmio_client *c, uint64_t spin_ns, struct mmio_ring_cqe *cqe,
     struct client_ring_slot *slot)
{
	struct client_ring *r = c->ring;
	if (wait_completion(c, spin_ns) < 0) {
		client_log(MMIO_LOG_ERROR, "ring op: daemon closed the connection");
		c->broken = 1;
		return -ECONNRESET;
	}
	uint32_t i = r->cq_head & (r->entries - 1);
	*cqe = r->cq[i];
	*slot = r->slots[i];
	r->slots[i].posted = false;
	r->cq_head++;
	__atomic_store_n(&r->hdr->cq_head, r->cq_head, __ATOMIC_RELEASE);
	if (cqe->user_data != slot->user_data) {
		client_log(MMIO_LOG_ERROR, "ring completion out of step");
		c->broken = 1;
		return -EPROTO;
	}
	if (slot->posted) {
		r->posted--;
		keep_posted_error(c, slot, cqe);
	}
	return 0;
}

int
client_ring_reap(struct mmio_client *c, uint64_t spin_ns, uint64_t user_data,
		 struct mmio_ring_cqe *cqe)
{
	struct client_ring_slot slot;
	do {
		int rc = take(c, spin_ns, cqe, &slot);
		if (rc < 0) {
			return rc;
		}
	} while (slot.posted);
	if (slot.user_data != user_data) {
		client_log(MMIO_LOG_ERROR, "ring completion out of step");
		c->broken = 1;
		return -EPROTO;
	}
	return 0;
}

/* Reaps one posted store's completion: the next one must be. */
static int
reap_posted(struct mmio_client *c)
{
	struct client_ring *r = c->ring;
	uint64_t spin_ns =
		__atomic_load_n(&r->hdr->daemon_sleeping, __ATOMIC_RELAXED) ? 0 : RING_SPIN_NS;
	struct mmio_ring_cqe cqe;
	struct client_ring_slot slot;
	int rc = take(c, spin_ns, &cqe, &slot);
	if (rc == 0 && !slot.posted) {
		client_log(MMIO_LOG_ERROR, "ring completion nobody waits for");
		c->broken = 1;
		rc = -EPROTO;
	}
	return rc;
}

int
client_ring_make_room(struct mmio_client *c, uint32_t n)
{
	struct client_ring *r = c->ring;
	if (r->sq_tail - r->cq_head + n <= r->entries) {
		return 0;
	}
	do {
		int rc = reap_posted(c);
		if (rc < 0) {
			return rc;
		}
	} while (r->sq_tail - r->cq_head + n > r->entries);
	/* Then every completion already there: one look at cq_tail for many, not one each. */
	uint32_t tail = __atomic_load_n(&r->hdr->cq_tail, __ATOMIC_ACQUIRE);
	while (r->cq_head != tail && r->cq_head != r->sq_tail && r->posted > 0) {
		int rc = reap_posted(c);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}

int
client_ring_drain(struct mmio_client *c)
{
	struct client_ring *r = c->ring;
	while (r && r->posted > 0) {
		if (c->broken) {
			return -ECONNRESET;
		}
		int rc = reap_posted(c);
		if (rc < 0) {
			return rc;
		}
	}
	return 0;
}
