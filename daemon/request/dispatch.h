/*
 * The request layer's entry points for net/: a decoded request to its handler
 * and a reply (dispatch.c), a deferred poll's next attempt (handle_ops.c), and
 * the ops waiting on a ring (handle_ring.c). No I/O: net/conn.c reads and
 * writes the frames, so this is testable and fuzzable on its own.
 */
#ifndef MMIOD_DISPATCH_H
#define MMIOD_DISPATCH_H

#include <stdbool.h>

#include "mmio.pb-c.h"
#include "request/reply.h"
#include "request/session.h"

enum dispatch_result {
	DISPATCH_REPLY, /* send the reply, keep going */
	DISPATCH_DEFER, /* no reply yet: a poll goes on (scratch->poll), later requests wait */
	DISPATCH_REPLY_CLOSE, /* send the reply, then close (version mismatch) */
	DISPATCH_CLOSE,       /* protocol error: close without a reply */
};

/*
 * Handles one request. reply must be MMIO__REPLY__INIT'd; it may point into
 * scratch, which the caller releases with reply_finish() after packing.
 * Never fails on client input other than by status or DISPATCH_CLOSE.
 */
enum dispatch_result dispatch(struct session *s, const Mmio__Request *req, Mmio__Reply *reply,
			      struct reply_scratch *scratch);

/*
 * Whether req may change what a restart hands over (leases, the handshake, a ring, a
 * subscription, a poll): everything but accesses and queries. When unsure, true.
 */
bool dispatch_changes_state(const Mmio__Request *req);

/* Descriptors req's reply would carry (RingSetup: 2, IrqSubscribe: 1, else 0). */
unsigned dispatch_fds_needed(const Mmio__Request *req);

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
					struct reply_scratch *scratch);

#endif
