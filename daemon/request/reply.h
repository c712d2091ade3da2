/*
 * Building a reply: the memory it points into until it is packed, its status
 * and detail, and the pieces several handlers fill the same way.
 */
#ifndef MMIOD_REPLY_H
#define MMIOD_REPLY_H

#include <stddef.h>
#include <stdint.h>

#include "mmio.pb-c.h"
#include "request/session.h"
#include "wire.h"

/* A Poll request still waiting for its condition. */
struct poll_state {
	bool pending;
	uint64_t request_id;
	uint64_t lease_id;
	uint64_t offset;
	unsigned width;
	uint64_t mask;
	uint64_t value;
	uint32_t timeout_ms;
	uint32_t interval_us;
};

/* Memory a reply points into; released by reply_finish() after packing. */
struct reply_scratch {
	void *owned[10];
	unsigned n_owned;
	char detail[192];
	/* fds to send with the reply, -1 where unused; the sender closes them. */
	int pass_fds[WIRE_MAX_PASS_FDS];
	struct fd_grant grant; /* what they give */
	struct poll_state poll;
	Mmio__Hello hello;
	Mmio__RegionList regions;
	Mmio__LeaseInfo lease;
	Mmio__LoadResult load;
	Mmio__LeaseList leases;
	Mmio__BatchResult batch;
	Mmio__Values values;
	Mmio__StatsReply stats;
	Mmio__RingInfo ring;
	Mmio__RegisterMap register_map;
};

/* n zeroed elements of size bytes, freed by reply_finish(); NULL if out of memory. */
void *reply_alloc(struct reply_scratch *scratch, size_t n, size_t size);

/* Frees what reply_alloc() gave, once the reply is packed. */
void reply_finish(struct reply_scratch *scratch);

/* Sets the reply's status from err (0 or a negative errno) and, when fmt is given, its detail. */
void reply_status(Mmio__Reply *reply, struct reply_scratch *scratch, int err, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

/* A reply's value of a load (Load, Modify, Poll). */
void reply_value(Mmio__Reply *reply, struct reply_scratch *scratch, uint64_t value);

void reply_fill_lease_info(Mmio__LeaseInfo *info, const struct lease *l);

/* The caller's lease with this id, or NULL with NOT_FOUND set on the reply. */
struct lease *reply_find_lease(struct session *s, uint64_t id, Mmio__Reply *reply,
			       struct reply_scratch *scratch);

#endif
