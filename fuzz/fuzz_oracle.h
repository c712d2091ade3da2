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
#include "fuzz_model.h"
#include "mmio.pb-c.h"
#include "request/dispatch.h"

/* What things looked like before a request ran, and what it must answer. */
struct fuzz_before {
	struct fuzz_snapshot mem; /* the devices */
	bool check_status;        /* want holds (all but Poll) */
	Mmio__Status want;        /* the status the rules give, before any device answers */
	bool lease_found;         /* the lease a split, load, store or modify names */
	uint64_t start;
	uint64_t len;
	bool read_only;     /* of that lease; acquire: of the lease it must grant */
	uint32_t irq_count; /* interrupts dev has raised */
};

void fuzz_capture(struct fuzz_before *b, const struct session *s, const Mmio__Request *req);

/*
 * The outcome of a request that got a reply: exactly the status the rules
 * give; the devices change exactly as the request's accesses, run in order on a
 * model of them (fuzz_model.h), change it, and otherwise not at all; loads,
 * listings, acquire and split return what is there; release and revoke leave no
 * lease by that id.
 */
void fuzz_check_outcome(const struct session *s, const Mmio__Request *req, const Mmio__Reply *reply,
			const struct fuzz_before *b);

/*
 * An attempt of poll p (the first comes from dispatch()), the devices before it
 * in before: an error if the access is refused or fails; else the value if the
 * condition holds, TIMEOUT on the last chance, and otherwise DISPATCH_DEFER. The
 * devices change as its one load changes them (a sim's read side effects).
 */
void fuzz_check_poll(const struct session *s, const struct poll_state *p, bool last_chance,
		     enum dispatch_result res, const Mmio__Reply *reply,
		     const struct fuzz_snapshot *before);

/*
 * dev's interrupt subscription lives exactly as long as the lease it was made
 * through (until IrqUnsubscribe): no other region has one. After every frame.
 */
void fuzz_check_irq(void);

/* A new input: no subscription. */
void fuzz_oracle_reset(void);

#endif
