/*
 * Parking a device when a lease on it ends in any way other than an orderly release: the
 * region's park sequence (core/park.h) run on the registers the lease covers, before the lease
 * is freed, and audited.
 */
#ifndef MMIOD_REQUEST_PARK_H
#define MMIOD_REQUEST_PARK_H

struct lease;

/* How a lease ended, when not by its holder's Release. */
enum lease_end {
	LEASE_END_DISCONNECT, /* the holder's connection closed (it exited, died or hung up) */
	LEASE_END_ADMIN,      /* an admin revoked it */
	LEASE_END_TTL,        /* it was not renewed in time */
	LEASE_END_POLICY,     /* a reload withdrew the grant */
	LEASE_END_FAULT,      /* the device failed */
	LEASE_END_SHUTDOWN,   /* mmiod stopped */
};

/* "disconnect", "admin", "ttl", "policy", "fault", "shutdown". */
const char *lease_end_name(enum lease_end why);

/*
 * Runs the park sequence of l's region on l, whose end why is, and audits it (a region without
 * one, or a read-only lease, which changed nothing, parks nothing and is not audited). Steps on
 * registers outside l are skipped; a failed step does not stop the rest. Delays stall the loop
 * (at most PARK_MAX_DELAY_US in all). Call once, right before l is freed.
 */
void park_lease(const struct lease *l, enum lease_end why);

#endif
