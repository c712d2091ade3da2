/*
 * The copy of mmiod's state kept for a crash (docs/RESTART.md, "Crash"), under systemd's file
 * descriptor store (--fd-store): every descriptor a successor needs is in the store from the
 * moment it exists until it is closed, and an unsealed memfd in the store ("mmiod-live")
 * holds the state as of its last change (net/journal.h says when), in two slots so that a
 * write cut short by the crash leaves the previous one whole; each slot checks itself
 * (restart_state.h). A successor started by Restart=on-failure restores from it.
 */
#ifndef MMIOD_LIVE_STATE_H
#define MMIOD_LIVE_STATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "mmiod_state.pb-c.h"

#define LIVE_STATE_FDNAME "mmiod-live"

#define LIVE_NONE 2u /* current before the first write */

/* The memfd's first page; the slots (each a state as restart_state.h packs it) follow. */
struct live_header {
	char magic[8];
	uint32_t format;
	uint32_t current; /* the slot with the newest whole state, or LIVE_NONE */
	uint64_t slot_off[2];
	uint64_t slot_len[2];
	uint64_t generation; /* states written so far, for the log */
	uint64_t serving;    /* the connection being served (net/journal.h), 0 between */
};

struct event;
struct named_fds;
struct region_table;
struct server;
struct stored_fd;

struct live_state {
	int fd;
	struct live_header *hdr; /* mapped: serving is written on every request */
	struct server *srv;
	const struct region_table *regions;
	struct stored_fd *stored; /* what systemd's store holds for us, by name */
	size_t n_stored;
	size_t cap_stored;
	size_t cursor;       /* where the next lookup by name starts: exports keep their order */
	struct event *retry; /* systemd's queue has room again: store what it refused */
	bool failed;         /* a write failed: logged once, until one succeeds again */
};

/*
 * The names fds carries are in systemd's store already (a re-exec's predecessor put them
 * there): the first write removes those no longer named. Before they are taken.
 */
void live_state_seed(struct live_state *ls, const struct named_fds *fds);

/*
 * Creates the memfd, hands it to the store and installs the writer on srv (the first write
 * follows on the loop). 0 or a negative errno (logged; mmiod then serves without it).
 */
int live_state_start(struct live_state *ls, struct server *srv, const struct region_table *regions);

/*
 * Uninstalls the writer and lets go of the memfd; forget: empties the store too (a stop:
 * should systemd start mmiod again anyway, nothing revoked comes back).
 */
void live_state_stop(struct live_state *ls, bool forget);

/*
 * The successor's side: the newest whole state in fd, and the connection being served when
 * the writer died (0: none). 0, or a negative errno with the reason in err.
 */
int live_state_read(int fd, MmiodState__State **out, uint64_t *serving, char *err, size_t errlen);

#endif
