/*
 * mmiod's tuning: what one connection, one uid and the whole daemon may hold,
 * the defaults of the config file's limits and what they are fitted to.
 * The wire protocol's own limits are in proto/mmio_limits.h.
 */
#ifndef MMIOD_LIMITS_H
#define MMIOD_LIMITS_H

#include <stddef.h>

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

/* Shared-memory rings open at once (each holds one fd, its doorbell end, and about 23 KiB). */
#define MMIO_MAX_RINGS 256

/*
 * Register maps (core/regmap.h, mmiod-regmap(5)): a map file is small and comes from root, but is
 * read as anything else is: bounded. Names of registers, fields and values, descriptions, the
 * file's size, registers in a map, fields in a register, values in a field, the instances of one
 * array and of all arrays of a map.
 */
#define REGMAP_MAX_NAME        63
#define REGMAP_MAX_DESCRIPTION 1024
#define REGMAP_MAX_FILE_BYTES  (1u << 20)
#define REGMAP_MAX_REGISTERS   4096
#define REGMAP_MAX_FIELDS      64
#define REGMAP_MAX_VALUES      256
#define REGMAP_MAX_INSTANCES   65536

/*
 * A simulated device (type = "sim", core/regsim.h) keeps its register state and rules as several
 * bytes per byte of the region: its size is capped.
 */
#define MMIO_SIM_MAX_SIZE (16u << 20)

/* What the config file may set (the defaults above, fitted by service_init). */
struct limits {
	unsigned max_connections;
	unsigned max_connections_per_uid;
	unsigned max_leases_per_connection;
	size_t max_frame;              /* <= MMIO_MAX_FRAME (proto/mmio_limits.h) */
	size_t max_queued_bytes;       /* unread reply bytes before we stop reading a client */
	unsigned handshake_timeout_ms; /* a connection must say Hello within this */
	unsigned max_rings;            /* shared-memory fast paths open at once; 0: none offered */
	unsigned max_unread_fds; /* descriptors in replies not read, of all clients (fitted to the
				    fd limit) */
};

#endif
