/*
 * One connection's shared-memory ring (proto/mmio_ring.h), as mmiod sees it:
 * the mapping, its own copies of the indices it owns, and the doorbell. Only
 * the queue mechanics live here; handle_ring.c runs the ops.
 */
#ifndef MMIOD_RING_H
#define MMIOD_RING_H

#include <stdbool.h>
#include <stdint.h>

#include "mmio_ring.h"

struct ring {
	struct mmio_ring_header *hdr; /* shared with a client that may write anything into it */
	struct mmio_ring_sqe *sq;
	struct mmio_ring_cqe *cq;
	uint32_t entries;
	uint32_t size;
	uint32_t sq_head; /* ours; the shared copies are only published */
	uint32_t cq_tail;
	int doorbell_fd; /* our end of the doorbell socket pair; the client writes the other */
	int memfd;       /* our own open of the memory, for a successor; -1 if none */
	bool groups;     /* MMIO_RING_FEATURE_GROUPS granted: entries' flags mean something */
	uint32_t cq_published; /* cq_tail as last published (ring_publish) */
};

/*
 * A ring of entries (rounded up to a power of two, clamped to
 * 1..MMIO_RING_MAX_ENTRIES; 0: the default) per queue. On success *memfd is the
 * sealed memfd and *doorbell the client's end of the doorbell, both to pass to the
 * client (the caller closes them); the mapping and the read end stay.
 * 0 or a negative errno.
 */
int ring_create(uint32_t entries, struct ring **out, int *memfd, int *doorbell);

/*
 * The ring a predecessor served (a restart): its memory (memfd, the size of entries) mapped
 * again, our end of its doorbell, the indices mmiod owns and the features granted (groups),
 * as they were. Takes neither fd
 * on error. 0, -EINVAL (not such a ring), -ENOMEM, or mmap's error.
 */
int ring_adopt(int memfd, int doorbell, uint32_t entries, uint32_t sq_head, uint32_t cq_tail,
	       bool groups, struct ring **out);

/*
 * After a crash: mmiod's indices are the ones its predecessor last published in the header
 * (it published after every pass). The client can write them too, which only ever confuses
 * its own ring: every entry is checked as ever.
 */
void ring_take_published_indices(struct ring *r);

/* Unmaps and closes everything; r may be NULL. */
void ring_destroy(struct ring *r);

/*
 * Copies the next submission out of shared memory into *sqe. 1: one taken;
 * 0: none, or no room for its completion yet; -EPROTO: the client's indices
 * are out of step (it broke the protocol).
 */
int ring_next(struct ring *r, struct mmio_ring_sqe *sqe);

/*
 * Copies up to max of the submissions waiting, from the next one, out of shared memory into
 * sqes without taking them: how many (0..max), or -EPROTO when the client's
 * indices are out of step (it broke the protocol).
 */
int ring_peek(struct ring *r, struct mmio_ring_sqe *sqes, uint32_t max);

/* Takes the next n submissions, which ring_peek copied. */
void ring_consume(struct ring *r, uint32_t n);

/* Completions there is room for now (0 when the client's cq_head is out of step). */
uint32_t ring_cq_room(const struct ring *r);

/*
 * Writes a completion (and detail, if not NULL) without publishing it: ring_publish() does,
 * once for all written since (one fence and one look at client_waiting, not one per entry).
 */
void ring_put_completion(struct ring *r, const struct mmio_ring_cqe *cqe, const char *detail);

/* Publishes the completions written so far and wakes the client if it waits. */
void ring_publish(struct ring *r);

/* Publishes a completion (and detail, if not NULL) and wakes the client if it waits. */
void ring_complete(struct ring *r, const struct mmio_ring_cqe *cqe, const char *detail);

/*
 * True when a submission waits and its completion has room (or the indices are
 * out of step, which ring_next will report).
 */
bool ring_pending(const struct ring *r);

/*
 * Tells the client we go to sleep on the doorbell. False if a submission
 * slipped in meanwhile: stay awake and serve it.
 */
bool ring_prepare_sleep(struct ring *r);

/*
 * Back from sleep: the client need not ring any more; empties the doorbell
 * (never blocking). 0, or -EPIPE when the client closed its end: it can ring
 * no more, so stop watching.
 */
int ring_wake(struct ring *r);

#endif
