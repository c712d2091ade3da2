/*
 * The shared-memory fast path (RingSetup in mmio.proto; docs/PROTOCOL.md).
 *
 * mmiod creates a sealed memfd holding this header, a submission queue (SQ) of
 * mmio_ring_sqe and a completion queue (CQ) of mmio_ring_cqe, and passes it with
 * the doorbell: the client's end of an AF_UNIX socket pair, an object of its
 * own. Ringing it is a send(MSG_NOSIGNAL | MSG_DONTWAIT) of any bytes; EAGAIN
 * means a wake-up is pending already. Indices run freely and wrap at 2^32;
 * slot i of a queue of n entries (a power of two) is i & (n - 1). The client owns sq_tail,
 * cq_head and client_waiting; mmiod owns sq_head, cq_tail, daemon_sleeping and
 * the detail. mmiod trusts nothing it reads here: it copies each entry out
 * before checking it, and a queue index out of step closes the connection.
 *
 * Wake-ups (each side stores its flag, then a full fence, then re-reads):
 * - after publishing sq_tail, a client that sees daemon_sleeping rings the
 *   doorbell;
 * - a client waiting for a completion sets client_waiting and waits on the
 *   cq_tail futex; mmiod wakes it after publishing cq_tail;
 * - a client that consumed completions from a full CQ while daemon_sleeping
 *   rings the doorbell: mmiod stops taking submissions while the CQ is full;
 * - mmiod wakes futex waiters on daemon_sleeping when it sets it, for whoever
 *   wants to see it go idle.
 * The futexes are shared (not FUTEX_PRIVATE): the memfd is mapped in two processes.
 */
#ifndef MMIO_RING_H
#define MMIO_RING_H

#include <stdint.h>

#define MMIO_RING_MAGIC   0x4d4d5251u /* "MMRQ" */
#define MMIO_RING_VERSION 1

/* Entries per queue: a power of two, at most this many; the default a client asks for. */
#define MMIO_RING_MAX_ENTRIES     256
#define MMIO_RING_DEFAULT_ENTRIES 64

/*
 * Entries published by one store of sq_tail, up to this many, run in order one after another
 * without another connection's request in between: mmio_batch() puts small batches on the ring.
 */
#define MMIO_RING_ATOMIC_OPS 32

/* Hello.features bit: this mmiod accepts RingSetup. */
#define MMIO_FEATURE_RING 1u
/* Hello.features bit: this mmiod reads Batch's fixed-width columns (mmio.proto). */
#define MMIO_FEATURE_BATCH_FIXED 2u

/*
 * RingSetup.features a client may ask for and RingInfo.features mmiod grants (an older mmiod
 * grants none: it leaves the field 0). Without GROUPS, mmiod ignores mmio_ring_sqe.flags.
 */
#define MMIO_RING_FEATURE_GROUPS 1u

/*
 * mmio_ring_sqe.flags, with MMIO_RING_FEATURE_GROUPS. A group is a run of entries each but the
 * last flagged LINK, of at most MMIO_RING_ATOMIC_OPS: mmiod runs it as a Batch with the flags
 * of its first entry (STOP_ON_ERROR, ALL_OR_NOTHING; the later entries' are ignored), in one
 * pass. The client publishes a group with one store of sq_tail; a group whose last entry is not
 * published when mmiod reads its first, or that is longer, is refused whole: each published
 * entry of it completes INVALID_ARGUMENT and none runs. A single entry with batch flags and no
 * LINK is a group of one. A MODIFY is refused (INVALID_ARGUMENT) in an ALL_OR_NOTHING group: it
 * cannot be judged before it reads.
 */
enum mmio_ring_flag {
	MMIO_RING_F_LINK = 1u << 0,
	MMIO_RING_F_STOP_ON_ERROR = 1u << 1,
	MMIO_RING_F_ALL_OR_NOTHING = 1u << 2,
};

enum mmio_ring_op {
	MMIO_RING_OP_LOAD = 1,
	MMIO_RING_OP_STORE = 2,
	MMIO_RING_OP_MODIFY = 3, /* masked read-modify-write, as Modify; value: the old value */
	MMIO_RING_OP_BARRIER = 4,
};

struct mmio_ring_sqe {
	uint64_t user_data; /* echoed in the completion */
	uint64_t lease;
	uint64_t offset;
	uint64_t value;
	uint64_t mask; /* MODIFY only */
	uint8_t op;    /* enum mmio_ring_op */
	uint8_t width; /* bytes: 1, 2, 4 or 8 */
	uint8_t flags; /* enum mmio_ring_flag, with MMIO_RING_FEATURE_GROUPS; else ignored */
	uint8_t reserved[5];
};

struct mmio_ring_cqe {
	uint64_t user_data;
	uint64_t value;  /* LOAD, MODIFY: the value read */
	uint32_t status; /* mmio.Status */
	uint32_t reserved;
};

#define MMIO_RING_CACHELINE 64
#define MMIO_RING_DETAIL    192

/* At offset 0 of the memfd. The two sides' words sit on separate cache lines. */
struct mmio_ring_header {
	/* Written once by mmiod before the memfd is passed. */
	uint32_t magic;
	uint32_t version;
	uint32_t entries; /* of each queue */
	uint32_t sq_offset;
	uint32_t cq_offset;
	uint32_t size; /* of the whole memfd */
	uint8_t pad0[MMIO_RING_CACHELINE - 6 * sizeof(uint32_t)];
	/* The client's. */
	uint32_t sq_tail;
	uint32_t cq_head;
	uint32_t client_waiting;
	uint8_t pad1[MMIO_RING_CACHELINE - 3 * sizeof(uint32_t)];
	/* mmiod's. cq_tail is also the futex a waiting client sleeps on. */
	uint32_t sq_head;
	uint32_t cq_tail;
	uint32_t daemon_sleeping;
	uint32_t pad2;
	uint64_t detail_user_data; /* the completion detail explains */
	uint8_t pad3[MMIO_RING_CACHELINE - 3 * sizeof(uint32_t) - sizeof(uint32_t) -
		     sizeof(uint64_t)];
	/* Why the last failed op failed, NUL-terminated printable ASCII (as Reply.detail). */
	char detail[MMIO_RING_DETAIL];
};

/* Queue offsets and the memfd size for entries per queue. */
#define MMIO_RING_SQ_OFFSET ((uint32_t)sizeof(struct mmio_ring_header))
#define MMIO_RING_CQ_OFFSET(entries)                                                               \
	(MMIO_RING_SQ_OFFSET + (uint32_t)(entries) * (uint32_t)sizeof(struct mmio_ring_sqe))
#define MMIO_RING_SIZE(entries)                                                                    \
	(MMIO_RING_CQ_OFFSET(entries) +                                                            \
	 (uint32_t)(entries) * (uint32_t)sizeof(struct mmio_ring_cqe))

#endif
