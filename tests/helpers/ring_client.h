/*
 * The client's side of the shared-memory ring (proto/mmio_ring.h), by hand,
 * for tests that play the client without libmmio-client. A test maps the
 * memfd itself, as a client process would: every index and slot it writes goes
 * through that mapping, never through mmiod's.
 *
 * The client's indices (sq_tail, cq_head) are kept in the header only, so a
 * test may move them by hand and the next submit or reap carries on from
 * there. ring_client_map(), ring_client_wait*() and ring_client_reap() end the
 * test on failure (cmocka assertions); ring_client_submit(), ring_client_kick(),
 * ring_client_doorbell() and ring_client_spin() never assert, so that a client
 * in a thread of its own can use them.
 */
#ifndef MMIO_TEST_RING_CLIENT_H
#define MMIO_TEST_RING_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include "mmio_ring.h"

struct ring_client {
	struct mmio_ring_header *hdr;
	struct mmio_ring_sqe *sq;
	struct mmio_ring_cqe *cq;
	uint32_t entries; /* as mapped: a test may scribble over the header's copy */
	size_t size;      /* of the mapping */
	int doorbell;     /* borrowed, never closed here; -1: nobody is ever rung */
};

/*
 * Maps memfd and checks its header against proto/mmio_ring.h before trusting
 * any offset in it. The caller keeps memfd and doorbell (or -1) and closes them.
 */
void ring_client_map(struct ring_client *c, int memfd, int doorbell);

/* munmap()'s result, for the tests that assert it. */
int ring_client_unmap(struct ring_client *c);

/* A submission; mask only matters to MODIFY. */
struct mmio_ring_sqe ring_client_sqe(uint8_t op, uint64_t lease, uint64_t offset, uint8_t width,
				     uint64_t value, uint64_t mask, uint64_t user_data);

/*
 * Writes sqe in the next slot and publishes sq_tail, then ring_client_kick():
 * 1 if it rang the doorbell, 0 if not, -errno if ringing failed.
 */
int ring_client_submit(struct ring_client *c, struct mmio_ring_sqe sqe);

/*
 * Rings the doorbell if mmiod sleeps (and c has one), after a full fence: what
 * a client owes after publishing sq_tail, or after making room in a full CQ.
 * 1 if it rang, 0 if not, -errno if ringing failed.
 */
int ring_client_kick(const struct ring_client *c);

/* Rings whether or not mmiod sleeps: 0 or -errno. */
int ring_client_doorbell(const struct ring_client *c);

/*
 * Waits for a completion by spinning with sched_yield(), as a busy client does:
 * no syscall mmiod would notice, and no time limit.
 */
void ring_client_spin(const struct ring_client *c);

/*
 * Sleeps on the cq_tail futex until n completions wait unread; fails the test
 * after guard_ms, so that a broken mmiod cannot hang it.
 */
void ring_client_wait(struct ring_client *c, uint32_t n, int guard_ms);

/* Sleeps until mmiod has gone idle on this ring (it wakes daemon_sleeping's waiters). */
void ring_client_wait_sleeping(struct ring_client *c, int guard_ms);

/*
 * Consumes the next completion, which must be there. In a thread other than the
 * test's, call it only after ring_client_spin(): cmocka fails tests from the main one.
 */
struct mmio_ring_cqe ring_client_reap(struct ring_client *c);

#endif
