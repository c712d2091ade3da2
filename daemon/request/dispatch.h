/*
 * Decoded request -> lease/region calls -> reply. No I/O: conn.c reads and
 * writes the frames, so this is testable and fuzzable on its own.
 */
#ifndef MMIOD_DISPATCH_H
#define MMIOD_DISPATCH_H

#include <stdbool.h>
#include <stdint.h>

#include "core/lease.h"
#include "core/policy.h"
#include "mmio.pb-c.h"
#include "wire.h"

struct ring;

struct service;

/* What one connection is, as far as requests are concerned. */
struct session {
	uint64_t conn_id;
	struct service *svc;
	struct identity who; /* from the kernel at accept; never from a request */
	struct lease_set leases;
	bool hello_done;
	bool refused;      /* over a connection limit: Hello is answered RESOURCE_EXHAUSTED */
	struct ring *ring; /* the shared-memory fast path, once set up */
	/*
	 * How many descriptors the next reply may carry (conn.c sets it before a
	 * request that makes some: their holder may leave them unread), and why
	 * no more. Unlimited unless set.
	 */
	unsigned fd_room;
	char fd_room_why[128];
};

/* What the descriptors of a reply gave the client: taken back if they cannot be delivered. */
struct fd_grant {
	enum {
		FD_GRANT_NONE,
		FD_GRANT_RING, /* the session's ring */
		FD_GRANT_IRQ,  /* the interrupt subscription made through lease */
	} kind;
	uint64_t lease;
};

enum dispatch_result {
	DISPATCH_REPLY, /* send the reply, keep going */
	DISPATCH_DEFER, /* no reply yet: a poll goes on (scratch->poll), later requests wait */
	DISPATCH_REPLY_CLOSE, /* send the reply, then close (version mismatch) */
	DISPATCH_CLOSE,       /* protocol error: close without a reply */
};

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

/* Memory a reply points into; released by dispatch_reply_finish() after packing. */
struct dispatch_scratch {
	void *owned[6];
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
};

void session_init(struct session *s, uint64_t conn_id, struct service *svc,
		  const struct identity *who);

/* The session whose leases set is. */
struct session *session_of_lease_set(const struct lease_set *set);

/* Revokes every lease of s (and the interrupt subscriptions made through them); returns how many.
 */
unsigned session_finish(struct session *s);

/* Releases l and whatever hangs off it (an interrupt subscription). */
void session_release_lease(struct lease *l);

/*
 * Handles one request. reply must be MMIO__REPLY__INIT'd; it may point into
 * scratch, which the caller releases with dispatch_reply_finish() after packing.
 * Never fails on client input other than by status or DISPATCH_CLOSE.
 */
enum dispatch_result dispatch(struct session *s, const Mmio__Request *req, Mmio__Reply *reply,
			      struct dispatch_scratch *scratch);

void dispatch_reply_finish(struct dispatch_scratch *scratch);

/* Descriptors req's reply would carry (RingSetup: 2, IrqSubscribe: 1, else 0). */
unsigned dispatch_fds_needed(const Mmio__Request *req);

/*
 * The descriptors of a reply never reached the client (the kernel refused to
 * pass them): undo what they gave, so that nothing is held that nobody can use.
 */
void dispatch_fds_undelivered(struct session *s, const struct fd_grant *grant);

/*
 * Runs up to max ops waiting on the session's ring, each checked as its socket
 * request would be. Returns how many ran, or -EPROTO when the client broke the
 * ring's protocol (its connection must go).
 */
int dispatch_ring(struct session *s, unsigned max);

/*
 * One further attempt of a deferred poll. DISPATCH_REPLY with reply filled when
 * the poll is over (the condition held, an access failed, the lease is gone, or
 * this was the last_chance and it timed out); DISPATCH_DEFER to try again.
 */
enum dispatch_result dispatch_poll_step(struct session *s, const struct poll_state *p,
					bool last_chance, Mmio__Reply *reply,
					struct dispatch_scratch *scratch);

#endif
