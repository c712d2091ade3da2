/*
 * The limits of the wire protocol, which mmiod and libmmio-client both
 * enforce. mmiod's own tuning (connections, leases, descriptors, rings) is in
 * daemon/core/limits.h.
 */
#ifndef MMIO_LIMITS_H
#define MMIO_LIMITS_H

/* Bumped on any incompatible wire change; Hello carries it. */
#define MMIO_PROTOCOL_VERSION 1

/*
 * Largest packet either side sends or accepts, 128 KiB. A SOCK_SEQPACKET message
 * must fit the sender's SO_SNDBUF (208 KiB by default), so stay well below it.
 * Written out, like MMIO_MAX_QUEUED_BYTES: a product would be an int multiplication
 * widened at every size_t use.
 */
#define MMIO_MAX_FRAME 131072

/* Batch size cap: the worst-case request (23 bytes/op) stays under MMIO_MAX_FRAME. */
#define MMIO_MAX_BATCH_OPS 4096

/* A region name longer than this is rejected at startup and on the wire. */
#define MMIO_MAX_NAME 64

/* Poll: the default interval between loads, and the longest a poll may last. */
#define MMIO_POLL_INTERVAL_US     100
#define MMIO_POLL_MIN_INTERVAL_US 50
#define MMIO_POLL_MAX_MS          60000

/* Revoke.grace_ms: at most this long. */
#define MMIO_MAX_GRACE_MS 60000

#endif
