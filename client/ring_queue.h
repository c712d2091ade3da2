/*
 * The client's side of the ring's queues (proto/mmio_ring.h): writing and publishing entries,
 * waiting for and reaping completions, and the completions of posted stores, which whatever
 * the client does next on the ring reaps first, keeping their errors for their leases. Under
 * transport_ring.c (which opens the ring and runs ops on it), access.c and call.c (which drain
 * posted stores before anything that must come after them): it calls none of them.
 */
#ifndef MMIO_CLIENT_RING_QUEUE_H
#define MMIO_CLIENT_RING_QUEUE_H

#include <stdbool.h>
#include <stdint.h>

#include "client_internal.h"
#include "mmio_ring.h"

/* What an entry in flight was, for its completion: one per SQ slot. */
struct client_ring_slot {
	uint64_t user_data;
	uint64_t lease; /* its id: a posted store's lease may be gone by its completion */
	uint64_t offset;
	uint8_t width;
	bool posted; /* nobody waits for it: its completion is reaped by whatever comes next */
};

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
	struct client_ring_slot *slots; /* entries of them */
	uint32_t posted;                /* posted stores not reaped yet */
};

/*
 * Writes sqe as the i-th entry after r->sq_tail (not published yet), its user_data set here
 * and returned. c->lock held.
 */
uint64_t client_ring_put(struct mmio_client *c, uint32_t i, const struct mmio_ring_sqe *sqe,
			 bool posted);

/*
 * Publishes the n entries written after r->sq_tail and rings the doorbell if mmiod sleeps.
 * Returns how long to spin for the first completion, or -ECONNRESET. c->lock held.
 */
int64_t client_ring_submit(struct mmio_client *c, uint32_t n);

/*
 * Waits for the completion of user_data into *cqe, reaping the posted stores' before it.
 * 0 or -errno (the ring broke). c->lock held.
 */
int client_ring_reap(struct mmio_client *c, uint64_t spin_ns, uint64_t user_data,
		     struct mmio_ring_cqe *cqe);

/*
 * Makes room for n more entries in flight (n <= entries), reaping posted stores' completions:
 * the back-pressure of posted stores. 0 or -errno. c->lock held.
 */
int client_ring_make_room(struct mmio_client *c, uint32_t n);

/*
 * Reaps every posted store's completion (there are none without a ring): after it they have
 * all run and their errors are with their leases. 0 or -errno. c->lock held.
 */
int client_ring_drain(struct mmio_client *c);

#endif
