/*
 * Single loads, stores, modifies and barriers: each picks its transport
 * (transport.h) and runs on it under one hold of the client lock, so the
 * choice and the op see the same ring.
 */
#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "client_internal.h"
#include "ring_queue.h"
#include "status.h"
#include "transport.h"

int
mmio_set_fast_path(struct mmio_client *c, enum mmio_fast_path mode)
{
	if (mode != MMIO_FAST_PATH_AUTO && mode != MMIO_FAST_PATH_OFF &&
	    mode != MMIO_FAST_PATH_ON) {
		return -EINVAL;
	}
	int rc = 0;
	pthread_mutex_lock(&c->lock);
	if (mode == MMIO_FAST_PATH_ON && !c->ring) {
		rc = c->broken ? -ECONNRESET : c->ring_failed;
		if (rc == 0) {
			rc = client_ring_open(c);
		}
		if (rc < 0) {
			c->ring_failed = rc;
		}
	}
	if (rc == 0) {
		c->fast_path = mode;
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
mmio_fast_path_active(struct mmio_client *c)
{
	pthread_mutex_lock(&c->lock);
	int active = c->ring && c->fast_path != MMIO_FAST_PATH_OFF;
	pthread_mutex_unlock(&c->lock);
	return active;
}

int
client_check_width(struct mmio_client *c, unsigned width)
{
	if (width == 1 || width == 2 || width == 4 || width == 8) {
		return 0;
	}
	/* The daemon's words (request/access.c), which the same op would get over the socket. */
	char detail[64];
	snprintf(detail, sizeof(detail), "width %u is not 1, 2, 4 or 8 bytes", width);
	client_detail_clear(c);
	client_detail_set(c, detail);
	return -EINVAL;
}

/* The ring if it is open, or opens now as the mode says; else the socket. c->lock held. */
static const struct client_transport_ops *
pick_transport(struct mmio_client *c)
{
	if (c->fast_path == MMIO_FAST_PATH_OFF || c->broken) {
		return &client_socket_transport;
	}
	if (c->ring) {
		return &client_ring_transport;
	}
	if (c->ring_failed ||
	    (c->fast_path == MMIO_FAST_PATH_AUTO && ++c->socket_ops < MMIO_FAST_PATH_AUTO_OPS)) {
		return &client_socket_transport;
	}
	int rc = client_ring_open(c);
	if (rc < 0) {
		c->ring_failed = rc;
		client_log(MMIO_LOG_DEBUG, "no fast path: %s", status_message(rc));
		return &client_socket_transport;
	}
	return &client_ring_transport;
}

/*
 * Waits for the client's posted stores, then hands over the error of the first that failed on
 * lease, if any, as the calling thread's error and detail. c->lock held.
 */
static int
take_posted_error(struct mmio_client *c, struct mmio_lease *lease)
{
	int rc = client_ring_drain(c);
	if (rc == 0 && lease->posted_error) {
		rc = lease->posted_error;
		lease->posted_error = 0;
		client_detail_clear(c);
		client_detail_set(c, lease->posted_detail);
	}
	return rc;
}

static int
run_op(struct mmio_lease *lease, const struct client_op *op, uint64_t *out)
{
	struct mmio_client *c = lease->client;
	pthread_mutex_lock(&c->lock);
	/* A width mmiod would refuse fails here, on either transport: a ring entry's u8 would
	 * truncate it. */
	int rc = op->kind == CLIENT_OP_BARRIER ? 0 : client_check_width(c, op->width);
	/* Anything that reads (or orders) reports a posted store's failure first, and does not run.
	 */
	if (rc == 0 && op->kind != CLIENT_OP_STORE) {
		rc = take_posted_error(c, lease);
	}
	if (rc == 0) {
		const struct client_transport_ops *t = pick_transport(c);
		if (lease->posted && op->kind == CLIENT_OP_STORE && t == &client_ring_transport) {
			rc = client_ring_post(c, op);
		} else {
			rc = t->op(c, op, out);
		}
	}
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
mmio_set_posted(struct mmio_lease *lease, int posted)
{
	if (!lease) {
		return -EINVAL;
	}
	pthread_mutex_lock(&lease->client->lock);
	lease->posted = posted != 0;
	pthread_mutex_unlock(&lease->client->lock);
	return 0;
}

int
mmio_sync(struct mmio_lease *lease)
{
	if (!lease) {
		return -EINVAL;
	}
	struct mmio_client *c = lease->client;
	pthread_mutex_lock(&c->lock);
	client_detail_clear(c);
	int rc = take_posted_error(c, lease);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

int
mmio_load(struct mmio_lease *lease, uint64_t offset, unsigned width, uint64_t *value)
{
	struct client_op op = {
		.kind = CLIENT_OP_LOAD,
		.lease = lease->id,
		.offset = offset,
		.width = width,
	};
	return run_op(lease, &op, value);
}

int
mmio_store(struct mmio_lease *lease, uint64_t offset, unsigned width, uint64_t value)
{
	struct client_op op = {
		.kind = CLIENT_OP_STORE,
		.lease = lease->id,
		.offset = offset,
		.width = width,
		.value = value,
	};
	return run_op(lease, &op, NULL);
}

#define LOAD_N(bits)                                                                               \
	int mmio_load##bits(struct mmio_lease *lease, uint64_t offset, uint##bits##_t *value)      \
	{                                                                                          \
		uint64_t v;                                                                        \
		int rc = mmio_load(lease, offset, (bits) / 8, &v);                                 \
		if (rc == 0) {                                                                     \
			*value = (uint##bits##_t)v;                                                \
		}                                                                                  \
		return rc;                                                                         \
	}                                                                                          \
	int mmio_store##bits(struct mmio_lease *lease, uint64_t offset, uint##bits##_t value)      \
	{                                                                                          \
		return mmio_store(lease, offset, (bits) / 8, value);                               \
	}
LOAD_N(8)
LOAD_N(16)
LOAD_N(32)
LOAD_N(64)

int
mmio_modify(struct mmio_lease *lease, uint64_t offset, unsigned width, uint64_t mask,
	    uint64_t value, uint64_t *old)
{
	struct client_op op = {
		.kind = CLIENT_OP_MODIFY,
		.lease = lease->id,
		.offset = offset,
		.width = width,
		.value = value,
		.mask = mask,
	};
	return run_op(lease, &op, old);
}

int
mmio_barrier(struct mmio_lease *lease)
{
	struct client_op op = {.kind = CLIENT_OP_BARRIER, .lease = lease->id};
	return run_op(lease, &op, NULL);
}
