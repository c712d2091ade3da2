/*
 * The checked, audited access every path runs (socket requests, batches,
 * blocks, polls and the ring): the lease's access mode, then the region's
 * bounds and alignment check and the device access, then an audit record
 * where the region's policy asks for one.
 */
#ifndef MMIOD_ACCESS_H
#define MMIOD_ACCESS_H

#include <stdbool.h>
#include <stdint.h>

#include "mmio.pb-c.h"
#include "request/reply.h"

struct lease;
struct session;

/* 0 or a negative errno; stores on a read-only lease: -EACCES, touching nothing. */
int access_load(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
		uint64_t *value);
int access_store(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
		 uint64_t value);

/*
 * Masked read-modify-write: one load, then one store of (old & ~mask) |
 * (value & mask) at the same width; *old gets the value read. Bits of value
 * outside mask are ignored. Not atomic against the device itself.
 */
int access_modify(const struct session *s, const struct lease *l, uint64_t off, unsigned width,
		  uint64_t mask, uint64_t value, uint64_t *old);

/* Orders earlier stores before later ones. Never fails. */
void access_barrier(const struct lease *l);

/* What access_load/access_store would refuse before touching the device: 0 or its errno. */
int access_check(const struct lease *l, bool is_store, uint64_t off, unsigned width,
		 uint64_t value);

/* The reply status (with a detail naming the offset, width or lease) for an access's rc. */
void access_reply_status(Mmio__Reply *reply, struct reply_scratch *scratch, int rc,
			 const struct lease *l, uint64_t off, unsigned width);

#endif
