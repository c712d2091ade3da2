/*
 * The server's side of a restart: pausing, and the connections, the listener and the tracers
 * as the state hands them to the successor (request/session_state.h does each session).
 */
#ifndef MMIOD_SERVER_STATE_H
#define MMIOD_SERVER_STATE_H

#include <stdbool.h>
#include <stdint.h>

#include "mmiod_state.pb-c.h"
#include "request/session_state.h"

struct named_fds;
struct pool;
struct server;

/*
 * Stops serving, for a restart: no accepts, no requests read, no ring served. Everything a
 * client has sent since waits in its socket or ring for whoever serves next. resume undoes it.
 */
void server_pause(struct server *srv);
void server_resume(struct server *srv);

/*
 * Fills st's listener, connections, tracers and next_conn_id from a paused srv; their
 * descriptors into fds. 0, -EAGAIN (a reply with descriptors is still queued), -ENOTSUP (a
 * ring cannot be handed over), -ENOMEM. live: srv serves on (the copy kept for a crash): a
 * connection that cannot be handed over, or is owed replies, is left out instead.
 */
int server_state_export(const struct server *srv, MmiodState__State *st, struct pool *p,
			struct named_fds *fds, bool live);

/* What a successor restored, for its log line and figures. */
struct restore_counts {
	unsigned conns;
	unsigned leases;
	unsigned leases_lost; /* not restored: their holders were told */
	unsigned conns_lost;  /* their descriptor was missing or dead */
};

struct import_args {
	uint64_t elapsed_ms; /* since st was written */
	region_kept_fn kept; /* does a lease's region still hold the same bytes? */
	void *arg;
	uint64_t drop_conn; /* a crash's: the connection whose request died (0: none) */
};

/*
 * Restores st's connections (with their sessions), then its tracers, into srv, which serves
 * the listener already; descriptors are taken from fds.
 */
void server_state_import(struct server *srv, const MmiodState__State *st, struct named_fds *fds,
			 const struct import_args *a, struct restore_counts *counts);

#endif
