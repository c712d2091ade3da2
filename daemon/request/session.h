/*
 * What one connection is, as far as requests are concerned: who it is (from
 * the kernel), the leases it holds, and its ring. Ending a session revokes
 * everything it holds.
 */
#ifndef MMIOD_SESSION_H
#define MMIOD_SESSION_H

#include <stdbool.h>
#include <stdint.h>

#include "core/lease.h"
#include "core/policy.h"
#include "request/park.h"

struct ring;
struct service;

/* Leases of a session taken from it that later requests are told of (REVOKED): the latest. */
#define SESSION_REVOKED_MEMORY 64

struct revoked_lease {
	uint64_t id;
	enum lease_end why;
};

struct session {
	uint64_t conn_id;
	struct service *svc;
	struct identity who; /* from the kernel at accept; never from a request */
	struct lease_set leases;
	bool hello_done;
	bool refused;      /* over a connection limit: Hello is answered RESOURCE_EXHAUSTED */
	struct ring *ring; /* the shared-memory fast path, once set up */
	/*
	 * How many descriptors the next reply may carry (net/conn_fds.c sets it
	 * before a request that makes some: their holder may leave them unread),
	 * and why no more. Unlimited unless set.
	 */
	unsigned fd_room;
	char fd_room_why[128];
	/* A ring of the last SESSION_REVOKED_MEMORY leases revoked (not released, not lost
	 * with the connection): n_revoked of them, the next written at revoked_next. */
	struct revoked_lease revoked[SESSION_REVOKED_MEMORY];
	unsigned n_revoked;
	unsigned revoked_next;
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

void session_init(struct session *s, uint64_t conn_id, struct service *svc,
		  const struct identity *who);

/* The session whose leases set is. */
struct session *session_of_lease_set(const struct lease_set *set);

/*
 * Revokes every lease of s (and the interrupt subscriptions made through them), each parked
 * (request/park.h) as why says, and closes its ring; returns how many leases.
 */
unsigned session_finish(struct session *s, enum lease_end why);

/* Releases l and whatever hangs off it (an interrupt subscription): the holder's Release. */
void session_release_lease(struct lease *l);

/*
 * Ends l other than by its holder's Release: parks it, then releases it as above. Unless the
 * holder is gone (LEASE_END_DISCONNECT), tells it first (a RevokeNotice) and remembers the
 * lease, so that its later requests naming it answer REVOKED.
 */
void session_end_lease(struct lease *l, enum lease_end why);

/*
 * Lease id of s ended without ever being restored (a restart that could not keep it): its
 * holder is told and remembered, as session_end_lease() does; nothing was held to park.
 */
void session_lost_lease(struct session *s, uint64_t id, enum lease_end why);

/*
 * A lease's deadlines, on the loop's timers: its TTL (LEASE_END_TTL, renewed by setting it again)
 * and an admin's grace (LEASE_END_ADMIN); at the deadline session_end_lease(l, why). Setting one
 * replaces the one of that kind. 0, -ENOMEM, or -ENOTSUP without an event loop (the fuzzers).
 * Every end of the lease drops them.
 */
int session_set_deadline(struct service *svc, const struct lease *l, enum lease_end why,
			 uint32_t ms);

/* Milliseconds until l's deadline of kind why (at least 1); 0 if it has none. */
uint64_t session_deadline_left(const struct lease *l, enum lease_end why);

/*
 * Asks l's holder to release l within grace_ms (a RevokeNotice with grace) and sets the deadline
 * by which mmiod ends it (reason admin). Without a timer, ends it at once. 0 or -ENOMEM.
 */
int session_ask_release(struct service *svc, struct lease *l, uint32_t grace_ms);

/* Was lease id taken from s? true with *why, for the latest SESSION_REVOKED_MEMORY. */
bool session_was_revoked(const struct session *s, uint64_t id, enum lease_end *why);

/* Why s has no lease id: -EKEYREVOKED if mmiod took it (session_was_revoked), else -ENOENT. */
int session_missing_lease(const struct session *s, uint64_t id);

/* Closes s's ring, if it has one. */
void session_close_ring(struct session *s);

/*
 * The descriptors of a reply never reached the client (the kernel refused to
 * pass them): undo what they gave, so that nothing is held that nobody can use.
 */
void session_fds_undelivered(struct session *s, const struct fd_grant *grant);

#endif
