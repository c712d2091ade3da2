/* Every limit mmiod and libmmio-client enforce, in one place. */
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

#define MMIO_MAX_REGIONS         64
#define MMIO_MAX_LEASES_PER_CONN 1024
#define MMIO_MAX_CONNS           1024
#define MMIO_MAX_CONNS_PER_UID   256
/* Connections root (and the user who started mmiod) may have beyond max_connections. */
#define MMIO_SUPERUSER_CONNS 16
/* Connections over their uid's limit kept only to be told so at Hello, and how long for. */
#define MMIO_MAX_REFUSED_PENDING 16
#define MMIO_REFUSED_HELLO_MS    200
/* fds mmiod needs besides connections and rings: listener, log, per region an irq fd and a pipe,
 * slack. */
#define MMIO_FD_RESERVE (2 * MMIO_MAX_REGIONS + 32)

/*
 * Descriptors in replies (IrqSubscribe's pipe, RingSetup's memfd and doorbell)
 * that a client has not read yet, queued in mmiod or in its socket: at most
 * this many per connection, per uid and in all. Over that, such requests are
 * answered RESOURCE_EXHAUSTED. A connection of libmmio-client has one request
 * out at a time; a uid's threads setting up 64 rings at once stay under its
 * limit. In flight they count against mmiod's fd limit, which is raised to
 * cover them (fit_fd_limit) or the cap in all is lowered.
 */
#define MMIO_MAX_UNREAD_FDS_PER_CONN 8
#define MMIO_MAX_UNREAD_FDS_PER_UID  192
#define MMIO_MAX_UNREAD_FDS          1024
/* What is left of MMIO_MAX_UNREAD_FDS at least when the fd limit cannot cover it. */
#define MMIO_MIN_UNREAD_FDS 64

/* A connection that has not said Hello by then is closed. */
#define MMIO_HANDSHAKE_TIMEOUT_MS 5000

/* Reply bytes queued for a client that does not read (4 frames); past this we stop reading it. */
#define MMIO_MAX_QUEUED_BYTES 524288

/* Poll: the default interval between loads, and the longest a poll may last. */
#define MMIO_POLL_INTERVAL_US     100
#define MMIO_POLL_MIN_INTERVAL_US 50
#define MMIO_POLL_MAX_MS          60000

/* Shared-memory rings open at once (each holds one fd, its doorbell end, and about 23 KiB). */
#define MMIO_MAX_RINGS 256

/* Default socket path when neither an argument nor $MMIOD_SOCKET names one. */
#define MMIO_DEFAULT_SOCKET "/run/mmiod/mmiod.sock"

#endif
