/*
 * The oracles of the harnesses: what a request must do by the rules of
 * STYLE.md §2-3, mmio.proto and lease.h, worked out independently of the
 * daemon's code. Each check traps (FUZZ_CHECK) when the daemon disagrees.
 */
#ifndef MMIO_FUZZ_ORACLE_H
#define MMIO_FUZZ_ORACLE_H

#include <stdbool.h>
#include <stdint.h>

#include "dispatch.h"
#include "fuzz_common.h"
#include "mmio.pb-c.h"

/*
 * What conn.c must do with req in s's state: close (before Hello, a second
 * Hello, no known body), reply then close (Hello of another version, or over a
 * limit), reply, or for a Poll DISPATCH_DEFER (it may also reply at once).
 */
enum dispatch_result fuzz_expected_result(const struct session *s, const Mmio__Request *req);

/* A reply as the client receives it: a known status, the request's id, one frame, decodable. */
void fuzz_check_reply(const Mmio__Reply *reply, uint64_t request_id);

/* What a request looked like before it ran, for the checks after. */
struct fuzz_before {
	struct fuzz_snapshot mem;
	bool lease_found; /* the lease a split or modify names */
	uint64_t start, len;
	uint64_t old_value; /* modify: the register before */
};

void fuzz_capture(struct fuzz_before *b, const struct session *s, const Mmio__Request *req);

/*
 * The outcome of a request that got a reply: device bytes change only through
 * a write that succeeded; loads, stores and modifies get exactly the status
 * the lease rules give and read or write exactly the bytes named; acquire and
 * split make the leases asked for; release and revoke leave none by that id.
 */
void fuzz_check_outcome(const struct session *s, const Mmio__Request *req, const Mmio__Reply *reply,
			const struct fuzz_before *b);

#endif
