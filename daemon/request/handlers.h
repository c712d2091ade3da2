/* The handlers dispatch.c switches to: one per request kind, each filling reply (and scratch). */
#ifndef MMIOD_HANDLERS_H
#define MMIOD_HANDLERS_H

#include "mmio.pb-c.h"
#include "request/reply.h"
#include "request/session.h"

struct region;

/*
 * How many lease grants of r apply to the caller (root and the starting uid: one, the whole
 * region). A region with none is not listed to the caller (handle_list_regions).
 */
unsigned count_grants(const struct session *s, const struct region *r);

/* Each never fails other than by the reply's status. */
void handle_list_regions(struct session *s, Mmio__Reply *reply, struct reply_scratch *scratch);
void handle_acquire(struct session *s, const Mmio__Acquire *req, Mmio__Reply *reply,
		    struct reply_scratch *scratch);
void handle_split(struct session *s, const Mmio__Split *req, Mmio__Reply *reply,
		  struct reply_scratch *scratch);
void handle_release(struct session *s, const Mmio__Release *req, Mmio__Reply *reply,
		    struct reply_scratch *scratch);
void handle_list_leases(struct session *s, const Mmio__ListLeases *req, Mmio__Reply *reply,
			struct reply_scratch *scratch);
/* Figures of the daemon; regions listed as for handle_list_regions (all for admins). */
void handle_stats(struct session *s, Mmio__Reply *reply, struct reply_scratch *scratch);
void handle_revoke(struct session *s, const Mmio__Revoke *req, Mmio__Reply *reply,
		   struct reply_scratch *scratch);
/* A lease's TTL started again (its grant's max_lease_ms, as the policy says now). */
void handle_renew(struct session *s, const Mmio__Renew *req, Mmio__Reply *reply,
		  struct reply_scratch *scratch);
void handle_irq(struct session *s, Mmio__Request__BodyCase kind, uint64_t lease_id,
		Mmio__Reply *reply, struct reply_scratch *scratch);
void handle_load(struct session *s, const Mmio__Load *req, Mmio__Reply *reply,
		 struct reply_scratch *scratch);
void handle_store(struct session *s, const Mmio__Store *req, Mmio__Reply *reply,
		  struct reply_scratch *scratch);
void handle_barrier(struct session *s, const Mmio__Barrier *req, Mmio__Reply *reply,
		    struct reply_scratch *scratch);
/* A Batch in either encoding (handle_batch.c). */
void handle_batch(struct session *s, const Mmio__Batch *req, Mmio__Reply *reply,
		  struct reply_scratch *scratch);
/* The lease of a Batch's first op, in either encoding; 0 if it has none. */
uint64_t batch_first_lease(const Mmio__Batch *req);
void handle_modify(struct session *s, const Mmio__Modify *req, Mmio__Reply *reply,
		   struct reply_scratch *scratch);
void handle_block_read(struct session *s, const Mmio__BlockRead *req, Mmio__Reply *reply,
		       struct reply_scratch *scratch);
void handle_block_write(struct session *s, const Mmio__BlockWrite *req, Mmio__Reply *reply,
			struct reply_scratch *scratch);
/* Opens the session's ring (handle_ring.c); the memfd and doorbell go in scratch->pass_fds. */
void handle_ring_setup(struct session *s, const Mmio__RingSetup *req, Mmio__Reply *reply,
		       struct reply_scratch *scratch);
/* A page of a region's register map (handle_regmap.c). */
void handle_list_registers(struct session *s, const Mmio__ListRegisters *req, Mmio__Reply *reply,
			   struct reply_scratch *scratch);
/* The device side of a sim region (handle_sim.c). */
void handle_sim_device(struct session *s, const Mmio__SimDevice *req, Mmio__Reply *reply,
		       struct reply_scratch *scratch);
/* Adds the caller as a tracer of a region (handle_trace.c); the pipe goes in scratch->pass_fds. */
void handle_trace_subscribe(struct session *s, const Mmio__TraceSubscribe *req, Mmio__Reply *reply,
			    struct reply_scratch *scratch);
/* The first attempt; leaves scratch->poll.pending set when the poll must go on. */
void handle_poll(struct session *s, const Mmio__Poll *req, Mmio__Reply *reply,
		 struct reply_scratch *scratch);

#endif
