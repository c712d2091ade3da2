/*
 * The oracles of the harnesses: what a request must do by the rules of
 * docs/PROTOCOL.md, mmio.proto and lease.h, worked out independently of the
 * daemon's code. Each check traps (FUZZ_CHECK) when the daemon disagrees.
 */
#ifndef MMIO_FUZZ_ORACLE_H
#define MMIO_FUZZ_ORACLE_H

#include <stdbool.h>
#include <stdint.h>

#include "fuzz_common.h"
#include "mmio.pb-c.h"
#include "request/dispatch.h"

/* What things looked like before a request ran, and what it must answer. */
struct fuzz_before {
	struct fuzz_snapshot mem;
	bool check_status; /* want holds (all but Poll) */
	Mmio__Status want; /* the status the rules give */
	bool lease_found;  /* the lease a split, load, store or modify names */
	uint64_t start;
	uint64_t len;
	bool read_only;     /* of that lease; acquire: of the lease it must grant */
	uint64_t old_value; /* modify: the register before */
};

void fuzz_capture(struct fuzz_before *b, const struct session *s, const Mmio__Request *req);

/*
 * The outcome of a request that got a reply: exactly the status the rules
 * give; device bytes change only through writes that succeed, by exactly the
 * bytes named (a batch against a model of the device); loads, listings,
 * acquire and split return what is there; release and revoke leave no lease by
 * that id.
 */
void fuzz_check_outcome(const struct session *s, const Mmio__Request *req, const Mmio__Reply *reply,
			const struct fuzz_before *b);

/*
 * An attempt of poll p (the first comes from dispatch()): an error if the
 * access is refused; else the value if the condition holds, TIMEOUT on the
 * last chance, and otherwise DISPATCH_DEFER.
 */
void fuzz_check_poll(const struct session *s, const struct poll_state *p, bool last_chance,
		     enum dispatch_result res, const Mmio__Reply *reply);

#endif
