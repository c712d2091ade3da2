/*
 * The seam under single loads, stores, modifies and barriers: the socket and
 * the shared-memory ring carry them alike, and access.c picks one per op.
 */
#ifndef MMIO_CLIENT_TRANSPORT_H
#define MMIO_CLIENT_TRANSPORT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "client_internal.h"

enum client_op_kind {
	CLIENT_OP_LOAD,
	CLIENT_OP_STORE,
	CLIENT_OP_MODIFY, /* masked read-modify-write; reads the old value */
	CLIENT_OP_BARRIER,
};

/* One single op on a lease, as the caller gave it. */
struct client_op {
	enum client_op_kind kind;
	uint64_t lease; /* its id */
	uint64_t offset;
	unsigned width; /* bytes; 0 for a barrier */
	uint64_t value; /* STORE, MODIFY */
	uint64_t mask;  /* MODIFY */
};

struct client_transport_ops {
	/*
	 * Runs op with c->lock held: 0 or a negative errno (the calling thread's
	 * error detail cleared first, set if mmiod gave one). For loads and
	 * modifies *out (unless NULL) is the value read.
	 */
	int (*op)(struct mmio_client *c, const struct client_op *op, uint64_t *out);
	/* Releases what the transport holds on c; c is no longer shared. */
	void (*close)(struct mmio_client *c);
};

/* The connection's socket: every op, and every request besides. */
extern const struct client_transport_ops client_socket_transport;
/* The ring: ops of width 1, 2, 4 or 8 (and barriers) once client_ring_open() succeeded. */
extern const struct client_transport_ops client_ring_transport;

/*
 * Opens c->fd connected to mmiod's socket at path. On failure c->fd may be
 * open too: the socket transport's close closes it either way.
 */
int client_socket_open(struct mmio_client *c, const char *path);

/*
 * Whether mmio_batch(ops, n, flags) may go through c's open ring: flags only if mmiod takes
 * groups (MMIO_RING_FEATURE_GROUPS; an older one needs the socket's Batch for them), at most
 * MMIO_RING_ATOMIC_OPS ops (so that mmiod runs them without another client in between, as a Batch),
 * loads, stores and barriers of valid widths only (the socket refuses the others op by op). c->lock
 * held.
 */
bool client_ring_takes_batch(const struct mmio_client *c, const struct mmio_op *ops, size_t n,
			     unsigned flags);

/*
 * Runs ops through the ring as mmio_batch does (with flags, as one group of entries): statuses and
 * loaded values filled in; the number of failed ops, or a negative errno (the ring broke: the
 * statuses mean nothing, as mmio_batch says). c->lock held.
 */
int client_ring_batch(struct mmio_client *c, struct mmio_op *ops, size_t n, unsigned flags);

/*
 * A posted store (mmio_set_posted): op is in the ring when this returns, its completion is
 * reaped by whatever comes next (ring_queue.h). 0 or a negative errno of the ring itself.
 * c->lock held.
 */
int client_ring_post(struct mmio_client *c, const struct client_op *op);

/* Asks mmiod for a ring over the socket and maps it (c->ring). c->lock held. */
int client_ring_open(struct mmio_client *c);

#endif
